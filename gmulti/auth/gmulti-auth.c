/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>

#include "gmulti-auth-private.h"

/**
 * GMultiAuth:
 *
 * A server's or a proxy's request for credentials, as [signal@Transfer::authenticate]
 * hands it to the application: the scheme, the realm and the server (or proxy) it
 * came from, and whether credentials for it were already refused.
 *
 * The handler answers with [method@Auth.authenticate], at once or later: a handler
 * that returns %TRUE keeps a reference and answers from a dialog or an idle callback,
 * while the transfer waits (only its [property@Transfer:timeout] runs) and the other
 * transfers go on. [method@Auth.cancel], or returning %FALSE without answering,
 * delivers the `401` response as it is; for a proxy's `407`
 * ([method@Auth.is_for_proxy]), the transfer ends with
 * %GMULTI_ERROR_PROXY_AUTH_REQUIRED instead.
 *
 * Since: 0.1
 */
struct _GMultiAuth
{
  GObject parent_instance;

  GMultiAuthKind kind;
  GMultiAuthDigest *digest;   /* Digest: the challenge answered */
  char *realm;
  char *authority;
  char *username;
  char *password;
  gboolean retrying;
  gboolean for_proxy;
  gboolean authenticated;
  gboolean cancelled;
  GMultiAuthRunState *state;  /* the run waiting for the answer; NULL once it is gone */
};

G_DEFINE_FINAL_TYPE (GMultiAuth, gmulti_auth, G_TYPE_OBJECT)

static void
gmulti_auth_finalize (GObject *object)
{
  GMultiAuth *self = GMULTI_AUTH (object);

  g_clear_pointer (&self->digest, gmulti_auth_digest_free);
  g_free (self->realm);
  g_free (self->authority);
  g_free (self->username);
  if (self->password != NULL)
    explicit_bzero (self->password, strlen (self->password));
  g_free (self->password);
  G_OBJECT_CLASS (gmulti_auth_parent_class)->finalize (object);
}

static void
gmulti_auth_class_init (GMultiAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gmulti_auth_finalize;
}

static void
gmulti_auth_init (GMultiAuth *self)
{
}

GMultiAuth *
gmulti_auth_new_for_challenge (GMultiAuthKind      kind,
                               GMultiAuthDigest   *digest,
                               const char         *realm,
                               const char         *authority,
                               gboolean            for_proxy,
                               gboolean            retrying,
                               GMultiAuthRunState *state)
{
  GMultiAuth *self = g_object_new (GMULTI_TYPE_AUTH, NULL);

  self->for_proxy = for_proxy;
  self->kind = kind;
  self->digest = digest;
  self->realm = g_strdup (realm != NULL ? realm : "");
  self->authority = g_strdup (authority);
  self->retrying = retrying;
  self->state = state;
  return self;
}

GMultiAuthKind
gmulti_auth_get_kind (GMultiAuth *self)
{
  return self->kind;
}

GMultiAuthDigest *
gmulti_auth_steal_digest (GMultiAuth *self)
{
  return g_steal_pointer (&self->digest);
}

const char *
gmulti_auth_get_username (GMultiAuth *self)
{
  return self->username;
}

const char *
gmulti_auth_get_password (GMultiAuth *self)
{
  return self->password;
}

void
gmulti_auth_detach (GMultiAuth *self)
{
  self->state = NULL;
}

/**
 * gmulti_auth_get_scheme_name:
 * @self: an auth
 *
 * Gets the name of the scheme the server asked for.
 *
 * Returns: `"Basic"` or `"Digest"`
 *
 * Since: 0.1
 */
const char *
gmulti_auth_get_scheme_name (GMultiAuth *self)
{
  g_return_val_if_fail (GMULTI_IS_AUTH (self), NULL);
  return self->kind == GMULTI_AUTH_KIND_DIGEST ? "Digest" : "Basic";
}

/**
 * gmulti_auth_get_realm:
 * @self: an auth
 *
 * Gets the realm of the challenge: the name the server gives the space the
 * credentials are for, to show the user.
 *
 * Returns: the realm (empty if the server named none)
 *
 * Since: 0.1
 */
const char *
gmulti_auth_get_realm (GMultiAuth *self)
{
  g_return_val_if_fail (GMULTI_IS_AUTH (self), NULL);
  return self->realm;
}

/**
 * gmulti_auth_get_authority:
 * @self: an auth
 *
 * Gets the server that asks: its host and port, as `host:port`; for a proxy's
 * challenge, the proxy's.
 *
 * Returns: the authority
 *
 * Since: 0.1
 */
const char *
gmulti_auth_get_authority (GMultiAuth *self)
{
  g_return_val_if_fail (GMULTI_IS_AUTH (self), NULL);
  return self->authority;
}

/**
 * gmulti_auth_is_for_proxy:
 * @self: an auth
 *
 * Whether the challenge came from an HTTP proxy (`407`, to a forwarded request or
 * to the `CONNECT` of a tunnel) rather than the server (`401`): the credentials asked
 * for are the proxy's, and [method@Auth.get_authority] names the proxy.
 *
 * Returns: %TRUE for a proxy
 *
 * Since: 0.1
 */
gboolean
gmulti_auth_is_for_proxy (GMultiAuth *self)
{
  g_return_val_if_fail (GMULTI_IS_AUTH (self), FALSE);
  return self->for_proxy;
}

/**
 * gmulti_auth_is_retrying:
 * @self: an auth
 *
 * Whether credentials for this space were sent and refused already (from the
 * session's cache, after a password changed).
 *
 * Returns: %TRUE when asking again
 *
 * Since: 0.1
 */
gboolean
gmulti_auth_is_retrying (GMultiAuth *self)
{
  g_return_val_if_fail (GMULTI_IS_AUTH (self), FALSE);
  return self->retrying;
}

/**
 * gmulti_auth_is_authenticated:
 * @self: an auth
 *
 * Whether [method@Auth.authenticate] was called.
 *
 * Returns: %TRUE once answered
 *
 * Since: 0.1
 */
gboolean
gmulti_auth_is_authenticated (GMultiAuth *self)
{
  g_return_val_if_fail (GMULTI_IS_AUTH (self), FALSE);
  return self->authenticated;
}

/**
 * gmulti_auth_is_cancelled:
 * @self: an auth
 *
 * Whether [method@Auth.cancel] was called.
 *
 * Returns: %TRUE once cancelled
 *
 * Since: 0.1
 */
gboolean
gmulti_auth_is_cancelled (GMultiAuth *self)
{
  g_return_val_if_fail (GMULTI_IS_AUTH (self), FALSE);
  return self->cancelled;
}

/**
 * gmulti_auth_authenticate:
 * @self: an auth
 * @username: the user name
 * @password: the password
 *
 * Answers the challenge: the request is sent again with these credentials. Called
 * from the handler of [signal@Transfer::authenticate] or later (the handler returned
 * %TRUE); after the transfer was removed, or a second time, it does nothing. A wrong
 * password ends the transfer with %GMULTI_ERROR_AUTH_FAILED (a proxy's:
 * %GMULTI_ERROR_PROXY_AUTH_REQUIRED).
 *
 * Since: 0.1
 */
void
gmulti_auth_authenticate (GMultiAuth *self,
                          const char *username,
                          const char *password)
{
  g_return_if_fail (GMULTI_IS_AUTH (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  if (self->authenticated || self->cancelled)
    return;
  self->authenticated = TRUE;
  self->username = g_strdup (username);
  self->password = g_strdup (password);
  if (self->state != NULL)
    gmulti_auth_run_state_answered (self->state, self);
}

/**
 * gmulti_auth_cancel:
 * @self: an auth
 *
 * Gives no credentials: the transfer goes on with the `401` response as it is (a
 * proxy's `407` ends it with %GMULTI_ERROR_PROXY_AUTH_REQUIRED).
 *
 * Since: 0.1
 */
void
gmulti_auth_cancel (GMultiAuth *self)
{
  g_return_if_fail (GMULTI_IS_AUTH (self));

  if (self->authenticated || self->cancelled)
    return;
  self->cancelled = TRUE;
  if (self->state != NULL)
    gmulti_auth_run_state_answered (self->state, self);
}
