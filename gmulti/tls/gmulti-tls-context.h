/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>

#include "gmulti-tls-config.h"

G_BEGIN_DECLS

/* Resumption data kept for at most this many origin + config pairs; the least recently
 * stored is dropped first. */
#define GMULTI_TLS_SESSION_CACHE_MAX 256

/* What an engine shares between its TLS connections: the loaded credentials (one set
 * per distinct trust/client-certificate config, since loading the system trust store
 * costs milliseconds), the compiled priority strings, and the session-resumption cache.
 * Refcounted so that connections (which hold a reference) may outlive the engine's own
 * reference. Engine thread only. */
typedef struct _GMultiTlsContext GMultiTlsContext;

GMultiTlsContext *gmulti_tls_context_new   (void);
GMultiTlsContext *gmulti_tls_context_ref   (GMultiTlsContext *self);
void              gmulti_tls_context_unref (GMultiTlsContext *self);

/* (transfer none): valid as long as the context. Loading failures are
 * GMULTI_ERROR_TLS_BAD_CERTIFICATE and are not cached, so a fixed file is picked up
 * by the next connection. */
gnutls_certificate_credentials_t
                  gmulti_tls_context_get_credentials (GMultiTlsContext      *self,
                                                      const GMultiTlsConfig *config,
                                                      GError               **error);
/* (transfer none); GMULTI_ERROR_INVALID_ARGUMENT for an invalid string. */
gnutls_priority_t gmulti_tls_context_get_priority    (GMultiTlsContext      *self,
                                                      const char            *priority,
                                                      GError               **error);

/* Session resumption, keyed by "host:port" and the exact config (a session made
 * without verification must never be resumed by a connection that verifies). The
 * returned datum is borrowed until the next store/forget/clear. */
const gnutls_datum_t *
                  gmulti_tls_context_lookup_session  (GMultiTlsContext      *self,
                                                      const char            *origin,
                                                      GMultiTlsConfig       *config);
void              gmulti_tls_context_store_session   (GMultiTlsContext      *self,
                                                      const char            *origin,
                                                      GMultiTlsConfig       *config,
                                                      const gnutls_datum_t  *data);
void              gmulti_tls_context_forget_session  (GMultiTlsContext      *self,
                                                      const char            *origin,
                                                      GMultiTlsConfig       *config);
void              gmulti_tls_context_clear_sessions  (GMultiTlsContext      *self);
guint             gmulti_tls_context_get_n_sessions  (GMultiTlsContext      *self);

/* Handshakes completed through this context, for tests and metrics. */
void              gmulti_tls_context_count_handshake (GMultiTlsContext      *self,
                                                      gboolean               resumed);
guint             gmulti_tls_context_get_n_full_handshakes    (GMultiTlsContext *self);
guint             gmulti_tls_context_get_n_resumed_handshakes (GMultiTlsContext *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiTlsContext, gmulti_tls_context_unref)

G_END_DECLS
