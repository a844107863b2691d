/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-session.h"
#include "gmulti-session-private.h"

/* The session's TLS options: part of the defaults the session hands its engine
 * (gmulti/engine/gmulti-defaults.h), set with the same code as a transfer's own
 * (gmulti-tls-options.c). A run takes them when it starts for what its transfer left
 * unset. */

/* Applies @setter, a gmulti_tls_options_set_*(), to a copy of the session's defaults,
 * which replaces them if anything changed. */
#define CHANGE_TLS(self, setter, ...) \
  G_STMT_START { \
    GMultiDefaults *edit_ = gmulti_session_edit_defaults (self); \
    gmulti_session_commit_tls (self, edit_, setter (&edit_->tls, __VA_ARGS__)); \
  } G_STMT_END

/**
 * GMultiSession:tls-verify: (getter get_tls_verify) (setter set_tls_verify)
 *
 * Whether servers' certificates are verified for the session's transfers. %FALSE
 * turns verification off for every transfer of the session: only for tests and
 * closed networks, as anyone on the path can then read and change the traffic.
 *
 * Since: 0.1
 */

/**
 * GMultiSession:tls-ca-file: (getter get_tls_ca_file) (setter set_tls_ca_file)
 *
 * A PEM file of trusted certificate authorities for transfers that set neither a CA
 * file nor a CA directory; %NULL trusts the system's store.
 *
 * Since: 0.1
 */

/**
 * GMultiSession:tls-ca-directory: (getter get_tls_ca_directory) (setter set_tls_ca_directory)
 *
 * A directory of trusted certificate authorities (PEM files) for transfers that set
 * neither a CA file nor a CA directory.
 *
 * Since: 0.1
 */

/**
 * GMultiSession:tls-pinned-public-key: (getter get_tls_pinned_public_key) (setter set_tls_pinned_public_key)
 *
 * Public key pins (`sha256//BASE64`, several joined with `;`) for transfers that set
 * none.
 *
 * Since: 0.1
 */

/**
 * GMultiSession:tls-priority: (getter get_tls_priority) (setter set_tls_priority)
 *
 * A GnuTLS priority string for transfers that set none; %NULL means the default (see [method@GMulti.Transfer.set_tls_priority]).
 *
 * Since: 0.1
 */

/**
 * GMultiSession:tls-min-version: (getter get_tls_min_version) (setter set_tls_min_version)
 *
 * The lowest TLS version for transfers that leave theirs at the default.
 *
 * Since: 0.1
 */

/**
 * GMultiSession:tls-client-certificate: (getter get_tls_client_certificate)
 *
 * The client certificate (PEM file) for transfers that set none; set it with
 * [method@Session.set_tls_client_certificate].
 *
 * Since: 0.1
 */

/**
 * GMultiSession:tls-client-key: (getter get_tls_client_key)
 *
 * The key of [property@Session:tls-client-certificate]; %NULL when it is in the
 * certificate file.
 *
 * Since: 0.1
 */

/**
 * gmulti_session_set_tls_verify: (set-property tls-verify)
 * @self: a session
 * @verify: %FALSE to accept any certificate
 *
 * Sets whether servers' certificates are verified for the session's transfers. %FALSE turns verification off for all of them: only for tests and closed networks.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_verify (GMultiSession *self,
                               gboolean verify)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  CHANGE_TLS (self, gmulti_tls_options_set_verify, verify);
}

/**
 * gmulti_session_get_tls_verify: (get-property tls-verify)
 * @self: a session
 *
 * Reads [property@Session:tls-verify].
 *
 * Returns: whether certificates are verified
 *
 * Since: 0.1
 */
gboolean
gmulti_session_get_tls_verify (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), FALSE);
  return gmulti_session_get_tls_options (self)->verify;
}

/**
 * gmulti_session_set_tls_ca_file: (set-property tls-ca-file)
 * @self: a session
 * @path: (nullable) (type filename): a PEM file, or %NULL for the system's store
 *
 * Sets the PEM file of trusted certificate authorities for transfers that set neither a CA file nor a CA directory.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_ca_file (GMultiSession *self,
                                const char *path)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  CHANGE_TLS (self, gmulti_tls_options_set_ca_file, path);
}

/**
 * gmulti_session_get_tls_ca_file: (get-property tls-ca-file)
 * @self: a session
 *
 * Reads [property@Session:tls-ca-file].
 *
 * Returns: (nullable) (type filename): the file, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_tls_ca_file (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return gmulti_session_get_tls_options (self)->ca_file;
}

/**
 * gmulti_session_set_tls_ca_directory: (set-property tls-ca-directory)
 * @self: a session
 * @path: (nullable) (type filename): a directory of PEM files, or %NULL
 *
 * Sets the directory of trusted certificate authorities for transfers that set neither a CA file nor a CA directory.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_ca_directory (GMultiSession *self,
                                     const char *path)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  CHANGE_TLS (self, gmulti_tls_options_set_ca_directory, path);
}

/**
 * gmulti_session_get_tls_ca_directory: (get-property tls-ca-directory)
 * @self: a session
 *
 * Reads [property@Session:tls-ca-directory].
 *
 * Returns: (nullable) (type filename): the directory, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_tls_ca_directory (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return gmulti_session_get_tls_options (self)->ca_directory;
}

/**
 * gmulti_session_set_tls_pinned_public_key: (set-property tls-pinned-public-key)
 * @self: a session
 * @pins: (nullable): `sha256//BASE64` pins joined with `;`, or %NULL
 *
 * Sets the public key pins for transfers that set none.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_pinned_public_key (GMultiSession *self,
                                          const char *pins)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  CHANGE_TLS (self, gmulti_tls_options_set_pinned_public_key, pins);
}

/**
 * gmulti_session_get_tls_pinned_public_key: (get-property tls-pinned-public-key)
 * @self: a session
 *
 * Reads [property@Session:tls-pinned-public-key].
 *
 * Returns: (nullable): the pins, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_tls_pinned_public_key (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return gmulti_session_get_tls_options (self)->pinned_public_key;
}

/**
 * gmulti_session_set_tls_priority: (set-property tls-priority)
 * @self: a session
 * @priority: (nullable): a GnuTLS priority string, or %NULL for the default (see [method@GMulti.Transfer.set_tls_priority])
 *
 * Sets the GnuTLS priority string for transfers that set none.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_priority (GMultiSession *self,
                                 const char *priority)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  CHANGE_TLS (self, gmulti_tls_options_set_priority, priority);
}

/**
 * gmulti_session_get_tls_priority: (get-property tls-priority)
 * @self: a session
 *
 * Reads [property@Session:tls-priority].
 *
 * Returns: (nullable): the priority string, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_tls_priority (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return gmulti_session_get_tls_options (self)->priority;
}

/**
 * gmulti_session_set_tls_min_version: (set-property tls-min-version)
 * @self: a session
 * @version: the lowest version to accept
 *
 * Sets the lowest TLS version for transfers that leave theirs at the default.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_min_version (GMultiSession *self,
                                    GMultiTlsVersion version)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  CHANGE_TLS (self, gmulti_tls_options_set_min_version, version);
}

/**
 * gmulti_session_get_tls_min_version: (get-property tls-min-version)
 * @self: a session
 *
 * Reads [property@Session:tls-min-version].
 *
 * Returns: the lowest version accepted
 *
 * Since: 0.1
 */
GMultiTlsVersion
gmulti_session_get_tls_min_version (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), GMULTI_TLS_VERSION_DEFAULT);
  return gmulti_session_get_tls_options (self)->min_version;
}

/**
 * gmulti_session_set_tls_client_certificate:
 * @self: a session
 * @certificate: (nullable) (type filename): a PEM certificate file, or %NULL for none
 * @key: (nullable) (type filename): its private key, or %NULL when it is in @certificate
 *
 * Sets the client certificate for transfers that set none, for servers that ask for one.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_client_certificate (GMultiSession *self,
                                           const char    *certificate,
                                           const char    *key)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  CHANGE_TLS (self, gmulti_tls_options_set_client_certificate, certificate, key);
}

/**
 * gmulti_session_get_tls_client_certificate: (get-property tls-client-certificate)
 * @self: a session
 *
 * Reads [property@Session:tls-client-certificate].
 *
 * Returns: (nullable) (type filename): the certificate file, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_tls_client_certificate (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return gmulti_session_get_tls_options (self)->client_certificate;
}

/**
 * gmulti_session_get_tls_client_key: (get-property tls-client-key)
 * @self: a session
 *
 * Reads [property@Session:tls-client-key].
 *
 * Returns: (nullable) (type filename): the key file, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_tls_client_key (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return gmulti_session_get_tls_options (self)->client_key;
}

/**
 * GMultiSession:tls-database: (getter get_tls_database) (setter set_tls_database)
 *
 * The database servers' certificates are verified with for transfers that set none,
 * as libsoup's `SoupSession:tls-database`; %NULL lets GnuTLS verify with
 * [property@Session:tls-ca-file] or the system's store. See
 * [method@Transfer.set_tls_database].
 *
 * Since: 0.1
 */

/**
 * GMultiSession:tls-interaction: (getter get_tls_interaction) (setter set_tls_interaction)
 *
 * Asked for the password of an encrypted client key for transfers that set no
 * interaction, as libsoup's `SoupSession:tls-interaction`. See
 * [method@Transfer.set_tls_interaction].
 *
 * Since: 0.1
 */

/**
 * gmulti_session_set_tls_database: (set-property tls-database)
 * @self: a session
 * @database: (nullable): a database, or %NULL for GnuTLS's own verification
 *
 * Sets the database that verifies servers' certificates for transfers that set none.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_database (GMultiSession *self,
                                 GTlsDatabase  *database)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));
  CHANGE_TLS (self, gmulti_tls_options_set_database, database);
}

/**
 * gmulti_session_get_tls_database: (get-property tls-database)
 * @self: a session
 *
 * Reads [property@Session:tls-database].
 *
 * Returns: (nullable) (transfer none): the database, or %NULL
 *
 * Since: 0.1
 */
GTlsDatabase *
gmulti_session_get_tls_database (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return gmulti_session_get_tls_options (self)->database;
}

/**
 * gmulti_session_set_tls_interaction: (set-property tls-interaction)
 * @self: a session
 * @interaction: (nullable): an interaction, or %NULL for none
 *
 * Sets what is asked for the password of an encrypted client key, for transfers that
 * set no interaction.
 *
 * Since: 0.1
 */
void
gmulti_session_set_tls_interaction (GMultiSession   *self,
                                    GTlsInteraction *interaction)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (interaction == NULL || G_IS_TLS_INTERACTION (interaction));
  CHANGE_TLS (self, gmulti_tls_options_set_interaction, interaction);
}

/**
 * gmulti_session_get_tls_interaction: (get-property tls-interaction)
 * @self: a session
 *
 * Reads [property@Session:tls-interaction].
 *
 * Returns: (nullable) (transfer none): the interaction, or %NULL
 *
 * Since: 0.1
 */
GTlsInteraction *
gmulti_session_get_tls_interaction (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return gmulti_session_get_tls_options (self)->interaction;
}
