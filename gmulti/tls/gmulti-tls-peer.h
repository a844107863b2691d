/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <gnutls/gnutls.h>

G_BEGIN_DECLS

/* What a server showed of itself in a TLS handshake: its certificate chain as DER,
 * the server's own first, and what verification found (GIO's flags; 0 when it passed
 * or nothing was verified). Taken once per connection and shared by reference with
 * every run it carries, so that a request pays no copy; a GTlsCertificate is built
 * from it only when someone asks. Immutable; refcounted, not thread-safe. */
typedef struct _GMultiTlsPeer GMultiTlsPeer;
struct _GMultiTlsPeer {
  guint ref_count;
  GTlsCertificateFlags errors;
  guint n_certificates;
  GBytes *certificates[];
};

GMultiTlsPeer       *gmulti_tls_peer_new   (const gnutls_datum_t *chain,
                                            guint                 n_certificates,
                                            GTlsCertificateFlags  errors);
GMultiTlsPeer       *gmulti_tls_peer_ref   (GMultiTlsPeer        *self);
void                 gmulti_tls_peer_unref (GMultiTlsPeer        *self);

/* The chain as GIO certificates linked through their issuer (a new reference to the
 * server's), with the default GTlsBackend; NULL with @error when no backend does TLS
 * (glib-networking missing) or a certificate does not parse. */
GTlsCertificate     *gmulti_tls_peer_to_certificate (GMultiTlsPeer  *self,
                                                     GError        **error);

/* GnuTLS's verification status bits as GIO's flags (GENERIC_ERROR for any bit GIO has
 * no name for). */
GTlsCertificateFlags gmulti_tls_flags_from_status   (unsigned int    status);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiTlsPeer, gmulti_tls_peer_unref)

G_END_DECLS
