/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-link.h"
#include "tls/gmulti-tls.h"

G_BEGIN_DECLS

/* TLS (GMultiTls) over @lower, which must be open; the new link owns it (once this
 * returned it; on failure @lower stays the caller's). Opening it is
 * the handshake. recv_record is the zero-copy path (gmulti_tls_recv_record()); an end
 * of stream without close_notify reads as 0 like any other, and eof_was_clean() then
 * says FALSE: whether that is a failure is the protocol's call (a body delimited by
 * the close may have been cut short). Freeing it sends close_notify when it can. NULL
 * with @error as gmulti_tls_new(). */
GMultiLink *gmulti_tls_link_new     (GMultiLink       *lower,
                                     GMultiTlsContext *context,
                                     GMultiTlsConfig  *config,
                                     const char       *host,
                                     guint16           port,
                                     GError          **error);
/* The session, for its ALPN protocol, version and the like. */
GMultiTls  *gmulti_tls_link_get_tls (GMultiLink       *self);

G_END_DECLS
