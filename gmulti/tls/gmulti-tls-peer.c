/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-tls-peer.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

GMultiTlsPeer *
gmulti_tls_peer_new (const gnutls_datum_t *chain,
                     guint                 n_certificates,
                     GTlsCertificateFlags  errors)
{
  GMultiTlsPeer *self = g_malloc0 (sizeof *self + n_certificates * sizeof (GBytes *));

  self->ref_count = 1;
  self->errors = errors;
  self->n_certificates = n_certificates;
  for (guint i = 0; i < n_certificates; i++)
    self->certificates[i] = g_bytes_new (chain[i].data, chain[i].size);
  return self;
}

GMultiTlsPeer *
gmulti_tls_peer_ref (GMultiTlsPeer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  self->ref_count++;
  return self;
}

void
gmulti_tls_peer_unref (GMultiTlsPeer *self)
{
  g_return_if_fail (self != NULL);

  if (--self->ref_count > 0)
    return;
  for (guint i = 0; i < self->n_certificates; i++)
    g_bytes_unref (self->certificates[i]);
  g_free (self);
}

GTlsCertificate *
gmulti_tls_peer_to_certificate (GMultiTlsPeer  *self,
                                GError        **error)
{
  GTlsBackend *backend = g_tls_backend_get_default ();
  GTlsCertificate *issuer = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  /* GIO's certificates come from its backend (glib-networking); without one, the
   * dummy backend makes objects that cannot hold a certificate. */
  if (!g_tls_backend_supports_tls (backend) || self->n_certificates == 0)
    {
      g_set_error_literal (error, G_TLS_ERROR, G_TLS_ERROR_UNAVAILABLE,
                           self->n_certificates == 0
                           ? _("The server sent no certificate")
                           : _("GLib has no TLS backend (glib-networking) to represent "
                               "certificates"));
      return NULL;
    }

  /* The issuer is a construct property: build from the top of the chain down. */
  for (guint i = self->n_certificates; i-- > 0;)
    {
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (self->certificates[i], &size);
      g_autoptr(GByteArray) der = g_byte_array_sized_new (size);
      GTlsCertificate *certificate;

      g_byte_array_append (der, data, size);
      certificate = g_initable_new (g_tls_backend_get_certificate_type (backend), NULL,
                                    error, "certificate", der, "issuer", issuer, NULL);
      g_clear_object (&issuer);
      if (certificate == NULL)
        return NULL;
      issuer = certificate;
    }
  return issuer;
}

GTlsCertificateFlags
gmulti_tls_flags_from_status (unsigned int status)
{
  GTlsCertificateFlags flags = 0;

  if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
                GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE))
    flags |= G_TLS_CERTIFICATE_UNKNOWN_CA;
  if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
    flags |= G_TLS_CERTIFICATE_BAD_IDENTITY;
  if (status & GNUTLS_CERT_NOT_ACTIVATED)
    flags |= G_TLS_CERTIFICATE_NOT_ACTIVATED;
  if (status & GNUTLS_CERT_EXPIRED)
    flags |= G_TLS_CERTIFICATE_EXPIRED;
  if (status & GNUTLS_CERT_REVOKED)
    flags |= G_TLS_CERTIFICATE_REVOKED;
  if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
    flags |= G_TLS_CERTIFICATE_INSECURE;
  /* INVALID accompanies every other reason; alone, or with one GIO cannot name (a bad
   * signature, a revocation list that could not be checked), it is generic. */
  if (status & ~(GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND |
                 GNUTLS_CERT_SIGNER_NOT_CA | GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE |
                 GNUTLS_CERT_UNEXPECTED_OWNER | GNUTLS_CERT_NOT_ACTIVATED |
                 GNUTLS_CERT_EXPIRED | GNUTLS_CERT_REVOKED |
                 GNUTLS_CERT_INSECURE_ALGORITHM))
    flags |= G_TLS_CERTIFICATE_GENERIC_ERROR;
  if (status != 0 && flags == 0)
    flags = G_TLS_CERTIFICATE_GENERIC_ERROR;
  return flags;
}
