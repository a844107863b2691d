/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>

#include "gmulti-transfer-object-private.h"
#include "auth/gmulti-auth-private.h"
#include "engine/gmulti-defaults.h"
#include "gmulti-session-auth-private.h"

/* The transfer's credentials (user name and password, a Bearer token, the proxy's
 * user name and password), whether Basic may go over plain http, the authenticate
 * signal, and the authenticator its run uses: the session's (with its cache), or a
 * transfer's own without a session. */

void
gmulti_transfer_install_auth_properties (GParamSpec **pspecs)
{
  /**
   * GMultiTransfer:username: (getter get_username) (setter set_username)
   *
   * The user name to answer a server's `401` with (Basic or Digest), as libcurl's
   * `CURLOPT_USERNAME`; %NULL, the default, takes the user information of the URI
   * (`https://user:password@host/`), else asks [signal@Transfer::authenticate]. It
   * is sent only to the origin of [property@Transfer:uri], never after a redirect to
   * another one, and only once asked for (or from the session's cache, once a login
   * to the same space worked).
   *
   * Since: 0.1
   */
  pspecs[PROP_USERNAME] =
    g_param_spec_string ("username", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:password: (getter get_password) (setter set_password)
   *
   * The password that goes with [property@Transfer:username] (`CURLOPT_PASSWORD`).
   *
   * Since: 0.1
   */
  pspecs[PROP_PASSWORD] =
    g_param_spec_string ("password", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:bearer-token: (getter get_bearer_token) (setter set_bearer_token)
   *
   * An OAuth 2.0 token (RFC 6750) to answer a `WWW-Authenticate: Bearer` challenge
   * with, as libcurl's `CURLOPT_XOAUTH2_BEARER`; it wins over a user name when the
   * server offers both.
   *
   * Since: 0.1
   */
  pspecs[PROP_BEARER_TOKEN] =
    g_param_spec_string ("bearer-token", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:allow-cleartext-auth: (getter get_allow_cleartext_auth) (setter set_allow_cleartext_auth)
   *
   * Whether Basic credentials and Bearer tokens may be sent over plain `http://`,
   * where anyone on the path reads them. %FALSE, the default: such a challenge ends
   * the transfer with %GMULTI_ERROR_AUTH_FAILED when the transfer has credentials,
   * and is delivered as it is when it has none. Digest never sends the password and
   * is answered either way.
   *
   * Since: 0.1
   */
  pspecs[PROP_ALLOW_CLEARTEXT_AUTH] =
    g_param_spec_boolean ("allow-cleartext-auth", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:proxy-username: (getter get_proxy_username) (setter set_proxy_username)
   *
   * The user name to answer an HTTP proxy's `407` with (Basic or Digest, the
   * strongest it offers), as libcurl's `CURLOPT_PROXYUSERNAME`, for whichever proxy
   * the transfer goes through (its [property@Transfer:proxy-uri], its session's, or
   * one a proxy resolver chose). It wins over the user information of the proxy's
   * URI and over [property@Session:proxy-username]; without any of them the
   * application is asked with [signal@Transfer::authenticate]
   * ([method@Auth.is_for_proxy] is %TRUE). Sent only once the proxy asks, or at once
   * when the session's transfers logged in to the same proxy before. Basic goes to an
   * `http://` proxy in the clear, as curl and libsoup send it:
   * [property@Transfer:allow-cleartext-auth] concerns origins only. SOCKS proxies
   * take the user and password of their URI only.
   *
   * Since: 0.1
   */
  pspecs[PROP_PROXY_USERNAME] =
    g_param_spec_string ("proxy-username", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:proxy-password: (getter get_proxy_password) (setter set_proxy_password)
   *
   * The password that goes with [property@Transfer:proxy-username]
   * (`CURLOPT_PROXYPASSWORD`).
   *
   * Since: 0.1
   */
  pspecs[PROP_PROXY_PASSWORD] =
    g_param_spec_string ("proxy-password", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

void
gmulti_transfer_install_auth_signal (GObjectClass *klass)
{
  /**
   * GMultiTransfer::authenticate:
   * @self: the transfer
   * @auth: the challenge
   * @retrying: whether credentials for this space were refused before
   *
   * Emitted when the server asks for credentials (`401`) and the transfer has none of
   * its own ([property@Transfer:username], the URI's user information), at most once
   * per run; and likewise when an HTTP proxy asks (`407`) and the transfer has no
   * proxy credentials ([property@Transfer:proxy-username], the proxy URI's, the
   * session's): then [method@Auth.is_for_proxy] is %TRUE, and an answer left out ends
   * the transfer with %GMULTI_ERROR_PROXY_AUTH_REQUIRED. Answer with [method@Auth.authenticate] in the handler, or return %TRUE,
   * keep a reference to @auth and answer later (from a dialog or an idle callback):
   * the transfer waits meanwhile, the others go on. Returning %FALSE without an
   * answer, or [method@Auth.cancel], delivers the `401` response as it is. Like
   * libsoup's `SoupMessage::authenticate`.
   *
   * Returns: %TRUE if the handler answers @auth later (or did already)
   *
   * Since: 0.1
   */
  gmulti_transfer_signals[SIGNAL_AUTHENTICATE] =
    g_signal_new ("authenticate",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  g_signal_accumulator_true_handled, NULL,
                  NULL,
                  G_TYPE_BOOLEAN, 2,
                  GMULTI_TYPE_AUTH, G_TYPE_BOOLEAN);
}

GMultiAuthRunState **
gmulti_transfer_auth_state (GMultiTransfer *self)
{
  return &self->auth_state;
}

void
gmulti_transfer_auth_run_ended (GMultiTransfer *self)
{
  g_clear_pointer (&self->auth_state, gmulti_auth_run_state_free);
}

void
gmulti_transfer_auth_clear (GMultiTransfer *self)
{
  gmulti_transfer_auth_run_ended (self);
  g_clear_object (&self->auth_manager);
  g_free (self->username);
  if (self->password != NULL)
    explicit_bzero (self->password, strlen (self->password));
  g_free (self->password);
  if (self->bearer_token != NULL)
    explicit_bzero (self->bearer_token, strlen (self->bearer_token));
  g_free (self->bearer_token);
  g_free (self->proxy_username);
  if (self->proxy_password != NULL)
    explicit_bzero (self->proxy_password, strlen (self->proxy_password));
  g_free (self->proxy_password);
}

gboolean
gmulti_transfer_emit_authenticate (GMultiTransfer *self,
                                   GMultiAuth     *auth,
                                   gboolean        retrying)
{
  gboolean handled = FALSE;

  if (self->signals_blocked)
    return FALSE;
  g_signal_emit (self, gmulti_transfer_signals[SIGNAL_AUTHENTICATE], 0, auth, retrying,
                 &handled);
  /* Then the session's, for applications that answer every login in one place (unless
   * a handler removed the transfer from it meanwhile). */
  if (!handled && self->session != NULL && !self->signals_blocked)
    handled = gmulti_session_emit_authenticate (self->session, self, auth, retrying);
  return handled;
}

gboolean
gmulti_transfer_has_authenticate_handler (GMultiTransfer *self)
{
  return !self->signals_blocked &&
         (g_signal_has_handler_pending (self, gmulti_transfer_signals[SIGNAL_AUTHENTICATE],
                                        0, TRUE) ||
          (self->session != NULL &&
           gmulti_session_has_authenticate_handler (self->session)));
}

gboolean
gmulti_transfer_has_own_credentials (GMultiTransfer *self)
{
  return self->username != NULL || self->bearer_token != NULL ||
         (self->parsed_uri != NULL && g_uri_get_userinfo (self->parsed_uri) != NULL);
}

/* Credentials for a proxy the run may take: the properties, or a proxy URI with a
 * user (a resolver's is seen when it is chosen, engine/gmulti-engine-transfer.c). */
static gboolean
has_proxy_credentials (GMultiTransfer       *self,
                       const GMultiDefaults *defaults)
{
  return self->proxy_username != NULL || defaults->proxy_username != NULL ||
         (self->proxy_uri != NULL ? strchr (self->proxy_uri, '@') != NULL
                                  : defaults->proxy != NULL && defaults->proxy->user != NULL);
}

GMultiHopHook *
gmulti_transfer_auth_hook (GMultiTransfer       *self,
                           const GMultiDefaults *defaults)
{
  gmulti_transfer_auth_run_ended (self);
  if (defaults->auth != NULL)
    {
      GMultiAuthManager *manager = gmulti_auth_manager_from_hook (defaults->auth);

      /* Most runs have nothing to do with authentication: no hook, no cost. */
      return gmulti_auth_manager_concerns (manager, self) ||
             has_proxy_credentials (self, defaults) ? defaults->auth : NULL;
    }
  /* Without a session (gmulti_transfer_perform(), a bare engine): its own, from the
   * second run on with what the first one logged in with. */
  if (!gmulti_transfer_has_own_credentials (self) &&
      !gmulti_transfer_has_authenticate_handler (self) &&
      !has_proxy_credentials (self, defaults))
    return NULL;
  if (self->auth_manager == NULL)
    self->auth_manager = gmulti_auth_manager_new ();
  return gmulti_auth_manager_get_hook (self->auth_manager);
}

static void
set_secret (GMultiTransfer *self,
            char          **field,
            const char     *value,
            guint           prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  if (*field != NULL)
    explicit_bzero (*field, strlen (*field));
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[prop]);
}

/**
 * gmulti_transfer_get_username: (get-property username)
 * @self: a transfer
 *
 * Gets the user name the transfer answers a challenge with.
 *
 * Returns: (nullable): the user name, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_username (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);
  return self->username;
}

/**
 * gmulti_transfer_set_username: (set-property username)
 * @self: a transfer
 * @username: (nullable): a user name, or %NULL for none
 *
 * Sets the user name to answer a server's challenge with (see
 * [property@Transfer:username]); a run under way keeps the one it started with.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_username (GMultiTransfer *self,
                              const char     *username)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  set_secret (self, &self->username, username, PROP_USERNAME);
}

/**
 * gmulti_transfer_get_password: (get-property password)
 * @self: a transfer
 *
 * Gets the password that goes with [property@Transfer:username].
 *
 * Returns: (nullable): the password, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_password (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);
  return self->password;
}

/**
 * gmulti_transfer_set_password: (set-property password)
 * @self: a transfer
 * @password: (nullable): a password, or %NULL for an empty one
 *
 * Sets the password that goes with [property@Transfer:username].
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_password (GMultiTransfer *self,
                              const char     *password)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  set_secret (self, &self->password, password, PROP_PASSWORD);
}

/**
 * gmulti_transfer_get_bearer_token: (get-property bearer-token)
 * @self: a transfer
 *
 * Gets the Bearer token the transfer answers a challenge with.
 *
 * Returns: (nullable): the token, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_bearer_token (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);
  return self->bearer_token;
}

/**
 * gmulti_transfer_set_bearer_token: (set-property bearer-token)
 * @self: a transfer
 * @token: (nullable): an OAuth 2.0 access token, or %NULL for none
 *
 * Sets the token to answer a `Bearer` challenge with (see
 * [property@Transfer:bearer-token]).
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_bearer_token (GMultiTransfer *self,
                                  const char     *token)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  set_secret (self, &self->bearer_token, token, PROP_BEARER_TOKEN);
}

/**
 * gmulti_transfer_get_allow_cleartext_auth: (get-property allow-cleartext-auth)
 * @self: a transfer
 *
 * Gets whether Basic credentials may go over plain http.
 *
 * Returns: %TRUE if allowed
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_get_allow_cleartext_auth (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);
  return self->allow_cleartext_auth;
}

/**
 * gmulti_transfer_set_allow_cleartext_auth: (set-property allow-cleartext-auth)
 * @self: a transfer
 * @allow: whether Basic credentials and Bearer tokens may go over plain http
 *
 * Allows credentials in the clear over `http://` (see
 * [property@Transfer:allow-cleartext-auth]).
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_allow_cleartext_auth (GMultiTransfer *self,
                                          gboolean        allow)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  allow = !!allow;
  if (self->allow_cleartext_auth == (guint) allow)
    return;
  self->allow_cleartext_auth = allow;
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_ALLOW_CLEARTEXT_AUTH]);
}

/**
 * gmulti_transfer_get_proxy_username: (get-property proxy-username)
 * @self: a transfer
 *
 * Gets the user name the transfer answers an HTTP proxy's challenge with.
 *
 * Returns: (nullable): the user name, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_proxy_username (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);
  return self->proxy_username;
}

/**
 * gmulti_transfer_set_proxy_username: (set-property proxy-username)
 * @self: a transfer
 * @username: (nullable): a user name, or %NULL for none
 *
 * Sets the user name to answer an HTTP proxy's challenge with (see
 * [property@Transfer:proxy-username]); a run under way keeps the one it started with.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_proxy_username (GMultiTransfer *self,
                                    const char     *username)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  set_secret (self, &self->proxy_username, username, PROP_PROXY_USERNAME);
}

/**
 * gmulti_transfer_get_proxy_password: (get-property proxy-password)
 * @self: a transfer
 *
 * Gets the password that goes with [property@Transfer:proxy-username].
 *
 * Returns: (nullable): the password, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_proxy_password (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);
  return self->proxy_password;
}

/**
 * gmulti_transfer_set_proxy_password: (set-property proxy-password)
 * @self: a transfer
 * @password: (nullable): a password, or %NULL for an empty one
 *
 * Sets the password that goes with [property@Transfer:proxy-username].
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_proxy_password (GMultiTransfer *self,
                                    const char     *password)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  set_secret (self, &self->proxy_password, password, PROP_PROXY_PASSWORD);
}
