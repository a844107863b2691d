/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-transfer-object-private.h"
#include "tls/gmulti-tls-config.h"

/* The TLS options of a transfer (https:// only): each setter and getter is the shared
 * one of gmulti-tls-options.c on the transfer's own options. */

/**
 * GMultiTransfer:tls-verify: (getter get_tls_verify) (setter set_tls_verify)
 *
 * Whether the server's certificate is verified for `https` URIs: its chain must
 * lead to a trusted certificate authority, be valid now, and name the host.
 *
 * Turning it off is dangerous: anyone on the path can then read and change the
 * traffic. See [method@Transfer.set_tls_verify].
 *
 * Since: 0.1
 */

/**
 * GMultiTransfer:tls-ca-file: (getter get_tls_ca_file) (setter set_tls_ca_file)
 *
 * A PEM file of trusted certificate authorities that replaces the system's trust
 * store, or %NULL for the system's.
 *
 * Since: 0.1
 */

/**
 * GMultiTransfer:tls-ca-directory: (getter get_tls_ca_directory) (setter set_tls_ca_directory)
 *
 * A directory of PEM files of trusted certificate authorities that replaces the
 * system's trust store, or %NULL for the system's.
 *
 * Since: 0.1
 */

/**
 * GMultiTransfer:tls-pinned-public-key: (getter get_tls_pinned_public_key) (setter set_tls_pinned_public_key)
 *
 * The public keys the server's certificate must have, as
 * `sha256//` followed by the base64 SHA-256 digest of the DER SubjectPublicKeyInfo,
 * several joined with `;`; %NULL for no pinning.
 *
 * Since: 0.1
 */

/**
 * GMultiTransfer:tls-client-certificate: (getter get_tls_client_certificate)
 *
 * A PEM file with the certificate (and, unless [property@Transfer:tls-client-key] is
 * set, the private key) presented when a server asks for one; %NULL for none. Set it
 * with [method@Transfer.set_tls_client_certificate].
 *
 * Since: 0.1
 */

/**
 * GMultiTransfer:tls-client-key: (getter get_tls_client_key)
 *
 * A PEM file with the private key of [property@Transfer:tls-client-certificate],
 * or %NULL when the key is in the certificate's file. Set it with
 * [method@Transfer.set_tls_client_certificate].
 *
 * Since: 0.1
 */

/**
 * GMultiTransfer:tls-priority: (getter get_tls_priority) (setter set_tls_priority)
 *
 * A GnuTLS priority string choosing the protocol versions, ciphers and key
 * exchanges, or %NULL for the default (see
 * [method@GMulti.Transfer.set_tls_priority]).
 *
 * Since: 0.1
 */

/**
 * GMultiTransfer:tls-min-version: (getter get_tls_min_version) (setter set_tls_min_version)
 *
 * The oldest TLS protocol version accepted.
 *
 * Since: 0.1
 */

void
gmulti_transfer_tls_changed (GMultiTransfer *self,
                             guint           changed)
{
  gmulti_tls_options_notify (G_OBJECT (self), gmulti_transfer_pspecs + PROP_TLS_FIRST, changed);
}

/* The transfer's options alone, as a bare engine uses them (tests use it too). */
GMultiTlsConfig *
gmulti_tls_config_new_from_transfer (GMultiTransfer  *transfer,
                                     GError         **error)
{
  return gmulti_tls_config_new (&transfer->tls, NULL, error);
}

/**
 * gmulti_transfer_set_tls_verify: (set-property tls-verify)
 * @self: a transfer
 * @verify: whether to verify the server's certificate
 *
 * Sets whether the server's certificate is verified for `https` URIs. It is by
 * default: the chain must lead to a trusted certificate authority (see
 * [method@Transfer.set_tls_ca_file]), every certificate must be valid now, and the
 * server's certificate must name the host of the URI. A failure makes the transfer
 * fail with %GMULTI_ERROR_TLS_UNTRUSTED, %GMULTI_ERROR_TLS_HOSTNAME_MISMATCH,
 * %GMULTI_ERROR_TLS_EXPIRED or %GMULTI_ERROR_TLS_NOT_YET_VALID.
 *
 * Turning verification off is dangerous: the transfer then talks to whoever answers,
 * and anyone on the path can read and change the traffic. Use it only for tests or
 * with [method@Transfer.set_tls_pinned_public_key], which is checked either way.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_verify (GMultiTransfer *self,
                                gboolean        verify)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_verify (&self->tls, verify));
}

/**
 * gmulti_transfer_get_tls_verify: (get-property tls-verify)
 * @self: a transfer
 *
 * Gets whether the server's certificate is verified.
 *
 * Returns: %TRUE if it is (the default)
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_get_tls_verify (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), TRUE);

  return self->tls.verify;
}

/**
 * gmulti_transfer_set_tls_ca_file: (set-property tls-ca-file)
 * @self: a transfer
 * @path: (nullable) (type filename): a PEM file of certificate authorities, or %NULL
 *
 * Sets the certificate authorities the server's chain must lead to. When a file or a
 * directory (see [method@Transfer.set_tls_ca_directory]) is set, the system's trust
 * store is not used. A file that cannot be loaded, or holds no certificate, makes
 * `https` transfers fail with %GMULTI_ERROR_TLS_BAD_CERTIFICATE.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_ca_file (GMultiTransfer *self,
                                 const char     *path)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_ca_file (&self->tls, path));
}

/**
 * gmulti_transfer_get_tls_ca_file: (get-property tls-ca-file)
 * @self: a transfer
 *
 * Gets the file of trusted certificate authorities.
 *
 * Returns: (nullable) (type filename): the path, or %NULL if none was set
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_tls_ca_file (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls.ca_file;
}

/**
 * gmulti_transfer_set_tls_ca_directory: (set-property tls-ca-directory)
 * @self: a transfer
 * @path: (nullable) (type filename): a directory of PEM files, or %NULL
 *
 * Sets a directory whose PEM files hold the certificate authorities the server's
 * chain must lead to, in addition to [property@Transfer:tls-ca-file]. When either is
 * set, the system's trust store is not used.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_ca_directory (GMultiTransfer *self,
                                      const char     *path)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_ca_directory (&self->tls, path));
}

/**
 * gmulti_transfer_get_tls_ca_directory: (get-property tls-ca-directory)
 * @self: a transfer
 *
 * Gets the directory of trusted certificate authorities.
 *
 * Returns: (nullable) (type filename): the path, or %NULL if none was set
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_tls_ca_directory (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls.ca_directory;
}

/**
 * gmulti_transfer_set_tls_pinned_public_key: (set-property tls-pinned-public-key)
 * @self: a transfer
 * @pins: (nullable): the accepted keys, or %NULL to pin none
 *
 * Pins the server's public key: the transfer fails with
 * %GMULTI_ERROR_TLS_PIN_MISMATCH unless the public key of the server's certificate
 * is one of @pins. Each pin is `sha256//` followed by the base64 SHA-256 digest of the
 * DER-encoded SubjectPublicKeyInfo (the format curl uses); several are joined with
 * `;`. One can be computed with
 * `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`.
 *
 * The pin is checked even when [property@Transfer:tls-verify] is %FALSE. A malformed
 * value makes `https` transfers fail with %GMULTI_ERROR_INVALID_ARGUMENT.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_pinned_public_key (GMultiTransfer *self,
                                           const char     *pins)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_pinned_public_key (&self->tls, pins));
}

/**
 * gmulti_transfer_get_tls_pinned_public_key: (get-property tls-pinned-public-key)
 * @self: a transfer
 *
 * Gets the pinned public keys.
 *
 * Returns: (nullable): the pins as set, or %NULL if none were
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_tls_pinned_public_key (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls.pinned_public_key;
}

/**
 * gmulti_transfer_set_tls_client_certificate:
 * @self: a transfer
 * @cert_path: (nullable) (type filename): a PEM file with the client certificate
 *   (and its chain), or %NULL for none
 * @key_path: (nullable) (type filename): a PEM file with its private key, or %NULL
 *   when the key is in @cert_path
 *
 * Sets the certificate presented to servers that ask for one. A file that cannot be
 * loaded, or a key that does not belong to the certificate, makes `https` transfers
 * fail with %GMULTI_ERROR_TLS_BAD_CERTIFICATE. A server that requires a certificate
 * and gets none, or refuses this one, makes the transfer fail with
 * %GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_client_certificate (GMultiTransfer *self,
                                            const char     *cert_path,
                                            const char     *key_path)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_client_certificate (&self->tls,
                                                                              cert_path,
                                                                              key_path));
}

/**
 * gmulti_transfer_get_tls_client_certificate: (get-property tls-client-certificate)
 * @self: a transfer
 *
 * Gets the file of the client certificate.
 *
 * Returns: (nullable) (type filename): the path, or %NULL if none was set
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_tls_client_certificate (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls.client_certificate;
}

/**
 * gmulti_transfer_get_tls_client_key: (get-property tls-client-key)
 * @self: a transfer
 *
 * Gets the file of the client certificate's private key.
 *
 * Returns: (nullable) (type filename): the path, or %NULL when the key is in the
 *   certificate's file or no certificate was set
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_tls_client_key (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls.client_key;
}

/**
 * gmulti_transfer_set_tls_priority: (set-property tls-priority)
 * @self: a transfer
 * @priority: (nullable): a GnuTLS priority string, or %NULL for the default
 *
 * Sets the GnuTLS priority string that chooses the protocol versions, ciphers and
 * key exchanges offered, such as `NORMAL:-VERS-TLS1.2`. See the GnuTLS manual for
 * the syntax. An invalid string makes `https` transfers fail with
 * %GMULTI_ERROR_INVALID_ARGUMENT.
 *
 * Versions older than [property@Transfer:tls-min-version] (TLS 1.2 by default) are
 * removed from the string, as RFC 8996 asks: a string can leave out newer versions,
 * but only a lower minimum version allows TLS 1.0 or 1.1. A string left with no
 * version fails with %GMULTI_ERROR_INVALID_ARGUMENT.
 *
 * The default is GnuTLS's `NORMAL` with the same ciphers in another order:
 * AES-128-GCM first, then AES-256-GCM and ChaCha20-Poly1305 (ChaCha20-Poly1305
 * first on x86 processors without AES instructions), the order browsers offer.
 * AES-128-GCM decrypts bulk data faster than AES-256-GCM; pass `NORMAL` for
 * GnuTLS's own order, which puts AES-256-GCM first.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_priority (GMultiTransfer *self,
                                  const char     *priority)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_priority (&self->tls, priority));
}

/**
 * gmulti_transfer_get_tls_priority: (get-property tls-priority)
 * @self: a transfer
 *
 * Gets the GnuTLS priority string.
 *
 * Returns: (nullable): the priority string, or %NULL for the default
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_tls_priority (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls.priority;
}

/**
 * gmulti_transfer_set_tls_min_version: (set-property tls-min-version)
 * @self: a transfer
 * @version: the oldest protocol version to accept
 *
 * Sets the oldest TLS protocol version accepted, on top of what
 * [property@Transfer:tls-priority] allows. The default,
 * %GMULTI_TLS_VERSION_DEFAULT, is TLS 1.2 (or the session's minimum for transfers
 * added to a [class@Session]); TLS 1.0 and 1.1 are deprecated (RFC 8996) and only
 * offered when this is lowered to them.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_min_version (GMultiTransfer   *self,
                                     GMultiTlsVersion  version)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_min_version (&self->tls, version));
}

/**
 * gmulti_transfer_get_tls_min_version: (get-property tls-min-version)
 * @self: a transfer
 *
 * Gets the oldest TLS protocol version accepted.
 *
 * Returns: the version; %GMULTI_TLS_VERSION_DEFAULT unless another was set
 *
 * Since: 0.1
 */
GMultiTlsVersion
gmulti_transfer_get_tls_min_version (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), GMULTI_TLS_VERSION_DEFAULT);

  return self->tls.min_version;
}

/**
 * GMultiTransfer:tls-database: (getter get_tls_database) (setter set_tls_database)
 *
 * The database the server's certificate chain is verified with, instead of GnuTLS's
 * trust list, as libsoup's `SoupSession:tls-database`; %NULL for the CA options.
 * See [method@Transfer.set_tls_database].
 *
 * Since: 0.1
 */

/**
 * GMultiTransfer:tls-interaction: (getter get_tls_interaction) (setter set_tls_interaction)
 *
 * Asked for the password of an encrypted client key, as libsoup's
 * `SoupSession:tls-interaction`. See [method@Transfer.set_tls_interaction].
 *
 * Since: 0.1
 */

/**
 * gmulti_transfer_set_tls_database: (set-property tls-database)
 * @self: a transfer
 * @database: (nullable): a database, or %NULL for GnuTLS's own verification
 *
 * Sets the database the server's certificate chain is verified with, instead of
 * [property@Transfer:tls-ca-file], [property@Transfer:tls-ca-directory] and the
 * system's store: g_tls_database_verify_chain() for the chain the server sent, for
 * authenticating a server, with the URI's host and port as the identity. What it
 * finds is what [method@Transfer.get_tls_peer_certificate_errors] returns and
 * [signal@Transfer::accept-certificate] is asked about; without a handler, errors
 * fail the transfer with the TLS error codes of [method@Transfer.set_tls_verify].
 * Nothing is verified while [property@Transfer:tls-verify] is off.
 *
 * The chain is verified inside the TLS handshake, synchronously, since GnuTLS cannot
 * wait there: a file database (g_tls_file_database_new()) answers at once, but one
 * that asks a token or the network holds the session's loop meanwhile. A connection
 * is shared only between transfers with the same database.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_database (GMultiTransfer *self,
                                  GTlsDatabase   *database)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_database (&self->tls, database));
}

/**
 * gmulti_transfer_get_tls_database: (get-property tls-database)
 * @self: a transfer
 *
 * Gets the database set with [method@Transfer.set_tls_database].
 *
 * Returns: (nullable) (transfer none): the database, or %NULL
 *
 * Since: 0.1
 */
GTlsDatabase *
gmulti_transfer_get_tls_database (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls.database;
}

/**
 * gmulti_transfer_set_tls_interaction: (set-property tls-interaction)
 * @self: a transfer
 * @interaction: (nullable): an interaction, or %NULL for none
 *
 * Sets what is asked for the password when the key of
 * [property@Transfer:tls-client-certificate] is encrypted (PKCS #8 with a password):
 * g_tls_interaction_ask_password() is called when the key is loaded, once per set of
 * TLS options (the loaded key is kept for the connections that follow), and
 * synchronously, from inside the step that opens the connection. A key that cannot
 * be decrypted with the answer, or an interaction that does not answer, makes the
 * transfer fail with %GMULTI_ERROR_TLS_BAD_CERTIFICATE. It is also passed to
 * [property@Transfer:tls-database].
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_tls_interaction (GMultiTransfer  *self,
                                     GTlsInteraction *interaction)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  g_return_if_fail (interaction == NULL || G_IS_TLS_INTERACTION (interaction));

  gmulti_transfer_tls_changed (self, gmulti_tls_options_set_interaction (&self->tls,
                                                                       interaction));
}

/**
 * gmulti_transfer_get_tls_interaction: (get-property tls-interaction)
 * @self: a transfer
 *
 * Gets the interaction set with [method@Transfer.set_tls_interaction].
 *
 * Returns: (nullable) (transfer none): the interaction, or %NULL
 *
 * Since: 0.1
 */
GTlsInteraction *
gmulti_transfer_get_tls_interaction (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls.interaction;
}

/* ------------------------------------------- the server's certificate */

/**
 * gmulti_transfer_get_tls_peer_certificate:
 * @self: a transfer
 *
 * Gets the certificate the server of the current hop presented, with its chain
 * linked through [property@Gio.TlsCertificate:issuer], as libsoup's
 * `soup_message_get_tls_peer_certificate()`.
 *
 * It is there once the response head arrived (from
 * [signal@Transfer::response-headers] on), and also after the transfer failed on
 * the certificate itself (%GMULTI_ERROR_TLS_UNTRUSTED and the like), until the
 * transfer is added again. A session resumed from an earlier connection may not
 * carry the certificate: then, as for `http` URIs, it is %NULL.
 *
 * The object is built when first asked for, with GLib's TLS backend
 * (glib-networking); without one (see g_tls_backend_supports_tls()) this returns
 * %NULL. GnuTLS, not GIO, does the TLS itself either way.
 *
 * Returns: (transfer none) (nullable): the server's certificate, or %NULL
 *
 * Since: 0.1
 */
GTlsCertificate *
gmulti_transfer_get_tls_peer_certificate (GMultiTransfer *self)
{
  GMultiTlsPeer *peer;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  peer = self->run.tls_peer;
  if (peer == NULL)
    return NULL;
  if (peer != self->peer_certificate_of)
    {
      gmulti_transfer_tls_clear (self);
      self->peer_certificate = gmulti_tls_peer_to_certificate (peer, NULL);
      self->peer_certificate_of = gmulti_tls_peer_ref (peer);
    }
  return self->peer_certificate;
}

/**
 * gmulti_transfer_get_tls_peer_certificate_errors:
 * @self: a transfer
 *
 * Gets what verification found wrong with
 * [method@Transfer.get_tls_peer_certificate], as libsoup's
 * `soup_message_get_tls_peer_certificate_errors()`: 0 when it passed, or when
 * nothing was verified ([property@Transfer:tls-verify] off, or a resumed session).
 * A certificate accepted by a handler of [signal@Transfer::accept-certificate] keeps
 * the errors it was accepted with.
 *
 * Returns: the errors, as for the certificate
 *
 * Since: 0.1
 */
GTlsCertificateFlags
gmulti_transfer_get_tls_peer_certificate_errors (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->run.tls_peer != NULL ? self->run.tls_peer->errors : 0;
}

void
gmulti_transfer_tls_clear (GMultiTransfer *self)
{
  g_clear_object (&self->peer_certificate);
  g_clear_pointer (&self->peer_certificate_of, gmulti_tls_peer_unref);
}

/* ------------------------------------------------ accept-certificate */

static gboolean
accept_cb (const GMultiTlsVerifier *verifier,
           GMultiTlsPeer           *peer)
{
  GMultiTransfer *self = (GMultiTransfer *) ((guint8 *) verifier -
                                             G_STRUCT_OFFSET (GMultiTransfer, tls_verifier));
  g_autoptr(GTlsCertificate) certificate = NULL;
  gboolean accepted = FALSE;

  /* Asked here, once verification failed, rather than for every run. */
  if (self->signals_blocked ||
      !g_signal_has_handler_pending (self, gmulti_transfer_signals[SIGNAL_ACCEPT_CERTIFICATE],
                                     0, TRUE))
    return FALSE;
  certificate = gmulti_tls_peer_to_certificate (peer, NULL);
  if (certificate == NULL)
    return FALSE;
  g_signal_emit (self, gmulti_transfer_signals[SIGNAL_ACCEPT_CERTIFICATE], 0, certificate,
                 peer->errors, &accepted);
  return accepted;
}

const GMultiTlsVerifier *
gmulti_transfer_tls_verifier (GMultiTransfer *self)
{
  /* Whether a handler is connected is asked only when verification fails, so that
   * the transfers that verify (nearly all) pay nothing for the signal. */
  if (self->signals_blocked)
    return NULL;
  self->tls_verifier.accept = accept_cb;
  return &self->tls_verifier;
}

void
gmulti_transfer_install_tls_signal (GObjectClass *klass)
{
  /**
   * GMultiTransfer::accept-certificate:
   * @self: the transfer
   * @peer_cert: the server's certificate, with its chain
   * @errors: what verification found wrong with it
   *
   * Emitted when the server's certificate fails verification, as libsoup's
   * `SoupMessage::accept-certificate`, from inside the TLS handshake: the handler
   * answers at once (a dialog cannot wait for the user; let the transfer fail, ask,
   * and start it again). %TRUE accepts @peer_cert for this connection only: it
   * carries this transfer alone and is closed afterwards, never pooled, and its TLS
   * session is not kept for resumption, so the next transfer to the server verifies
   * (and asks) afresh. %FALSE, or no handler, fails the transfer with
   * %GMULTI_ERROR_TLS_UNTRUSTED and the other TLS error codes, as without a
   * handler. A pinned public key ([property@Transfer:tls-pinned-public-key]) is
   * still checked after an accept.
   *
   * Handlers connected before the handshake are asked; it is not emitted
   * when [property@Transfer:tls-verify] is off. The handler may remove the transfer
   * from its session (the removal takes effect once the handshake step returns, and
   * the transfer then reads %G_IO_ERROR_CANCELLED whatever it answered); it should
   * not run the main loop. Its errors are also those of
   * [method@Transfer.get_tls_peer_certificate_errors].
   *
   * Returns: %TRUE to accept the certificate
   *
   * Since: 0.1
   */
  gmulti_transfer_signals[SIGNAL_ACCEPT_CERTIFICATE] =
    g_signal_new ("accept-certificate",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  g_signal_accumulator_true_handled, NULL,
                  NULL,
                  G_TYPE_BOOLEAN, 2,
                  G_TYPE_TLS_CERTIFICATE,
                  G_TYPE_TLS_CERTIFICATE_FLAGS);
}
