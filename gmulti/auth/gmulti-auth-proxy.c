/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-auth-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-transfer-private.h"
#include "engine/gmulti-defaults.h"
#include "engine/gmulti-engine-private.h"

/* The authenticator's answers to an HTTP proxy's 407, for forwarded requests and for
 * the CONNECT of a tunnel: Basic or Digest, the strongest offered, with the
 * transfer's proxy credentials, the proxy URI's, the session's, or the application's
 * (asked with an auth whose is_for_proxy is TRUE). The rules are the origin's: one
 * answer per challenge, a stale Digest nonce answered once more, cached credentials
 * refused forgotten. What worked is kept per proxy, for every origin behind it, and
 * sent at once from then on.
 *
 * Basic goes to an http:// proxy in the clear, as curl and libsoup send it:
 * allow-cleartext-auth concerns origins only. */

/* "http://host:port" of the hop's proxy: the space its credentials are kept for. */
static char *
proxy_space (const GMultiProxy *proxy)
{
  gboolean ipv6 = strchr (proxy->host, ':') != NULL;
  g_autofree char *host = g_ascii_strdown (proxy->host, -1);

  return g_strdup_printf ("%s://%s%s%s:%u", proxy->kind == GMULTI_PROXY_HTTPS ? "https" : "http",
                          ipv6 ? "[" : "", host, ipv6 ? "]" : "", proxy->port);
}

void
gmulti_auth_proxy_state_clear (GMultiAuthProxyState *self)
{
  if (self->pending != NULL)
    {
      gmulti_auth_detach (self->pending);
      g_clear_object (&self->pending);
    }
  gmulti_auth_credentials_clear (&self->credentials);
}

/* The value for this hop: Digest's digest-uri and method are the request line's, the
 * absolute URI of a forwarded request or the authority of CONNECT. */
static char *
encode (GMultiAuthCredentials *credentials,
        GMultiRun             *run)
{
  static const guint8 nothing[1];
  g_autoptr(GBytes) empty = NULL;
  g_autofree char *uri = NULL;
  GBytes *body = NULL;

  if (credentials->kind == GMULTI_AUTH_KIND_BASIC)
    return gmulti_auth_basic_encode (credentials->user, credentials->password);
  if (credentials->kind != GMULTI_AUTH_KIND_DIGEST)
    return NULL;
  if (run->target_prefix == NULL)
    {
      gboolean ipv6 = strchr (run->host, ':') != NULL;

      uri = g_strdup_printf (ipv6 ? "[%s]:%u" : "%s:%u", run->host, run->port);
      body = empty = g_bytes_new_static (nothing, 0);
      return gmulti_auth_digest_encode (credentials->digest, credentials->user,
                                        credentials->password, "CONNECT", uri, body);
    }
  uri = g_strconcat (run->target_prefix, run->target, NULL);
  /* auth-int hashes the body: known without one, or as bytes. */
  if (!run->request.has_body || run->body_dropped)
    body = empty = g_bytes_new_static (nothing, 0);
  else if (run->request.body != NULL)
    body = run->request.body;
  return gmulti_auth_digest_encode (credentials->digest, credentials->user,
                                    credentials->password, run->method, uri, body);
}

char *
gmulti_auth_proxy_authorization (GMultiAuthCache      *cache,
                                 GMultiAuthProxyState *self,
                                 GMultiRun            *run)
{
  g_autofree char *space = proxy_space (run->proxy);
  GMultiAuthCredentials *credentials = NULL;
  char *value;

  self->sent = FALSE;
  self->from_cache = FALSE;
  if (self->credentials.kind != GMULTI_AUTH_KIND_NONE &&
      strcmp (self->credentials.origin, space) == 0)
    credentials = &self->credentials;
  else if (gmulti_auth_cache_get_size (cache) > 0)
    {
      credentials = gmulti_auth_cache_lookup (cache, space, "");
      self->from_cache = credentials != NULL;
    }
  if (credentials == NULL)
    return NULL;
  value = encode (credentials, run);
  if (value == NULL)
    {
      self->from_cache = FALSE;
      return NULL;
    }
  self->sent = TRUE;
  return value;
}

void
gmulti_auth_proxy_passed (GMultiAuthCache      *cache,
                          GMultiAuthProxyState *self)
{
  if (!self->sent || self->from_cache || self->stored ||
      self->credentials.kind == GMULTI_AUTH_KIND_NONE)
    return;
  gmulti_auth_cache_store (cache, &self->credentials);
  self->stored = TRUE;
}

static void
set_credentials (GMultiAuthProxyState *self,
                 GMultiRun            *run,
                 GMultiAuthKind        kind,
                 char                 *user,
                 char                 *password,
                 GMultiAuthDigest     *digest)
{
  gmulti_auth_credentials_clear (&self->credentials);
  self->credentials.kind = kind;
  self->credentials.origin = proxy_space (run->proxy);
  self->credentials.prefix = g_strdup ("");
  self->credentials.user = user;
  self->credentials.password = password;
  self->credentials.digest = digest;
  self->stale_retried = FALSE;
  self->stored = FALSE;
}

/* The proxy credentials of the run: the transfer's properties, the proxy URI's user
 * information, the session's properties. */
static gboolean
own_credentials (GMultiRun  *run,
                 char      **user,
                 char      **password)
{
  const char *own_user = gmulti_transfer_get_proxy_username (run->owner);
  const char *own_password = gmulti_transfer_get_proxy_password (run->owner);

  if (own_user == NULL && run->proxy->user != NULL)
    {
      own_user = run->proxy->user;
      own_password = run->proxy->password;
    }
  if (own_user == NULL && run->defaults->proxy_username != NULL)
    {
      own_user = run->defaults->proxy_username;
      own_password = run->defaults->proxy_password;
    }
  if (own_user == NULL)
    return FALSE;
  *user = g_strdup (own_user);
  *password = g_strdup (own_password != NULL ? own_password : "");
  return TRUE;
}

/* Asks the application, as for an origin (the transfer's signal, then the
 * session's): REPEAT when it answered at once, WAIT when it will later. */
static GMultiHopVerdict
ask (GMultiAuthProxyState      *self,
     GMultiAuthRunState        *owner,
     GMultiRun                 *run,
     const GMultiAuthChallenge *challenge,
     gboolean                   retrying)
{
  gboolean digest = gmulti_auth_challenge_is_scheme (challenge, "Digest");
  gboolean ipv6 = strchr (run->proxy->host, ':') != NULL;
  g_autofree char *authority = g_strdup_printf (ipv6 ? "[%s]:%u" : "%s:%u",
                                                run->proxy->host, run->proxy->port);
  GMultiAuth *auth;
  gboolean handled;

  self->asked = TRUE;
  auth = gmulti_auth_new_for_challenge (digest ? GMULTI_AUTH_KIND_DIGEST : GMULTI_AUTH_KIND_BASIC,
                                        digest ? gmulti_auth_digest_new (challenge, NULL) : NULL,
                                        gmulti_auth_challenge_get_param (challenge, "realm"),
                                        authority, TRUE, retrying, owner);
  handled = gmulti_transfer_emit_authenticate (run->owner, auth, retrying);
  if (gmulti_auth_is_authenticated (auth))
    {
      set_credentials (self, run, gmulti_auth_get_kind (auth),
                       g_strdup (gmulti_auth_get_username (auth)),
                       g_strdup (gmulti_auth_get_password (auth)),
                       gmulti_auth_steal_digest (auth));
      gmulti_auth_detach (auth);
      g_object_unref (auth);
      return GMULTI_HOP_REPEAT;
    }
  if (handled && !gmulti_auth_is_cancelled (auth))
    {
      self->pending = auth;
      return GMULTI_HOP_WAIT;
    }
  gmulti_auth_detach (auth);
  g_object_unref (auth);
  return GMULTI_HOP_GO_ON;
}

GMultiHopVerdict
gmulti_auth_proxy_answered (GMultiAuthProxyState *self,
                            GMultiRun            *run,
                            GMultiAuth           *auth)
{
  GMultiHopVerdict verdict = GMULTI_HOP_GO_ON;

  self->pending = NULL;
  if (gmulti_auth_is_authenticated (auth))
    {
      set_credentials (self, run, gmulti_auth_get_kind (auth),
                       g_strdup (gmulti_auth_get_username (auth)),
                       g_strdup (gmulti_auth_get_password (auth)),
                       gmulti_auth_steal_digest (auth));
      verdict = GMULTI_HOP_REPEAT;
    }
  gmulti_auth_detach (auth);
  g_object_unref (auth);
  return verdict;
}

static GMultiHopVerdict
refused (GMultiAuthProxyState  *self,
         GMultiRun             *run,
         GError               **error)
{
  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
               _("The proxy %s:%u refused the credentials of the user %s"),
               run->proxy->host, run->proxy->port,
               self->credentials.user != NULL ? self->credentials.user : "");
  gmulti_auth_credentials_clear (&self->credentials);
  return GMULTI_HOP_FAIL;
}

GMultiHopVerdict
gmulti_auth_proxy_challenge (GMultiAuthCache       *cache,
                             GMultiAuthProxyState  *self,
                             GMultiAuthRunState    *owner,
                             GMultiRun             *run,
                             GError               **error)
{
  g_autoptr(GPtrArray) challenges = NULL;
  g_autofree char *space = proxy_space (run->proxy);
  g_autofree char *user = NULL, *password = NULL;
  gboolean retrying = FALSE;
  GMultiAuthOffered offered;

  challenges = gmulti_auth_challenges_from_headers (run->response_headers, "Proxy-Authenticate");
  gmulti_auth_offered_read (challenges, &offered);

  if (self->sent && self->from_cache)
    {
      GMultiAuthCredentials *entry = gmulti_auth_cache_lookup (cache, space, "");

      /* A cached nonce gone stale: the cached credentials with the new one. */
      if (entry != NULL && entry->kind == GMULTI_AUTH_KIND_DIGEST &&
          gmulti_auth_is_stale (offered.digest))
        {
          GMultiAuthDigest *digest = gmulti_auth_digest_new (offered.digest, NULL);

          if (digest != NULL)
            {
              set_credentials (self, run, GMULTI_AUTH_KIND_DIGEST, g_strdup (entry->user),
                               g_strdup (entry->password), digest);
              self->stale_retried = TRUE;
              return GMULTI_HOP_REPEAT;
            }
        }
      /* No longer good: forgotten, and the run's own get their try. */
      gmulti_auth_cache_forget (cache, space, "");
      retrying = TRUE;
    }
  else if (self->sent)
    {
      if (self->credentials.kind == GMULTI_AUTH_KIND_DIGEST && !self->stale_retried &&
          gmulti_auth_is_stale (offered.digest) &&
          gmulti_auth_digest_update (self->credentials.digest, offered.digest, NULL))
        {
          self->stale_retried = TRUE;
          return GMULTI_HOP_REPEAT;
        }
      return refused (self, run, error);
    }
  else if (self->credentials.kind != GMULTI_AUTH_KIND_NONE &&
           strcmp (self->credentials.origin, space) == 0)
    /* Answered before, and the answer could not be sent: not again. */
    return GMULTI_HOP_GO_ON;

  if (offered.digest == NULL && offered.basic == NULL)
    {
      if (challenges->len == 0)
        return GMULTI_HOP_GO_ON;
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                   _("The proxy %s:%u asks for an authentication scheme gmulti does not support"),
                   run->proxy->host, run->proxy->port);
      return GMULTI_HOP_FAIL;
    }

  if (own_credentials (run, &user, &password))
    {
      if (offered.digest != NULL)
        {
          GMultiAuthDigest *digest = gmulti_auth_digest_new (offered.digest, error);

          if (digest == NULL)
            return GMULTI_HOP_FAIL;
          set_credentials (self, run, GMULTI_AUTH_KIND_DIGEST, g_steal_pointer (&user),
                           g_steal_pointer (&password), digest);
          return GMULTI_HOP_REPEAT;
        }
      set_credentials (self, run, GMULTI_AUTH_KIND_BASIC, g_steal_pointer (&user),
                       g_steal_pointer (&password), NULL);
      return GMULTI_HOP_REPEAT;
    }

  /* Nothing of its own: the application may answer, once per run. */
  if (self->asked || !gmulti_transfer_has_authenticate_handler (run->owner))
    return GMULTI_HOP_GO_ON;
  return ask (self, owner, run, offered.digest != NULL ? offered.digest : offered.basic,
              retrying);
}
