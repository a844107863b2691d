/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>

#include "gmulti-auth-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-transfer-private.h"
#include "engine/gmulti-engine-private.h"

/* The authenticator as the engine's hop hook (engine/gmulti-hop-hook.h): the
 * Authorization field of each hop, and the verdict on each 401. It keeps the session's
 * credential cache; each run's state (what it answered with, whether that was
 * refused) lives with its transfer.
 *
 * One answer per challenge: credentials refused once end the transfer with
 * GMULTI_ERROR_AUTH_FAILED, except a Digest nonce the server calls stale, answered
 * once more with the same credentials, and credentials from the cache, after which
 * the transfer's own (or the application, asked) get their one try. An HTTP proxy's
 * 407 is answered by the same rules, with the proxy's own credentials and cache
 * (gmulti-auth-proxy.c). */

struct _GMultiAuthManager
{
  GObject parent_instance;

  GMultiHopHook hook;
  GMultiAuthCache *cache;
  GMultiAuthCache *proxy_cache;   /* by proxy, not by origin */
};

G_DEFINE_FINAL_TYPE (GMultiAuthManager, gmulti_auth_manager, G_TYPE_OBJECT)

struct _GMultiAuthRunState {
  GMultiRun *run;
  GMultiAuthCredentials credentials; /* what the run answered with (kind NONE: none) */
  char *cache_origin;         /* the cache entry sent on this hop, with from_cache */
  char *cache_prefix;
  GMultiAuth *pending;        /* the application's answer the run waits for */
  gboolean sent;              /* this hop carries credentials of ours */
  gboolean from_cache;        /* ... from the session's cache */
  gboolean stale_retried;
  gboolean asked;             /* the application was asked in this run */
  gboolean stored;            /* the credentials are in the cache */
  GMultiAuthProxyState proxy; /* towards the hop's HTTP proxy */
};

static void
gmulti_auth_manager_finalize (GObject *object)
{
  GMultiAuthManager *self = GMULTI_AUTH_MANAGER (object);

  gmulti_auth_cache_free (self->cache);
  gmulti_auth_cache_free (self->proxy_cache);
  G_OBJECT_CLASS (gmulti_auth_manager_parent_class)->finalize (object);
}

static void
gmulti_auth_manager_class_init (GMultiAuthManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gmulti_auth_manager_finalize;
}

void
gmulti_auth_run_state_free (GMultiAuthRunState *self)
{
  if (self == NULL)
    return;
  if (self->pending != NULL)
    {
      gmulti_auth_detach (self->pending);
      g_object_unref (self->pending);
    }
  gmulti_auth_credentials_clear (&self->credentials);
  gmulti_auth_proxy_state_clear (&self->proxy);
  g_free (self->cache_origin);
  g_free (self->cache_prefix);
  g_free (self);
}

static GMultiAuthRunState *
state_of (GMultiRun *run,
          gboolean   create)
{
  GMultiAuthRunState **state = gmulti_transfer_auth_state (run->owner);

  if (*state == NULL && create)
    {
      *state = g_new0 (GMultiAuthRunState, 1);
      (*state)->run = run;
    }
  return *state;
}

/* "https://host:443" of the hop. */
static char *
hop_origin (GMultiRun *run)
{
  g_autofree char *host = g_ascii_strdown (run->host, -1);

  return g_strdup_printf ("%s://%s:%u", run->tls ? "https" : "http", host, run->port);
}

/* The path of the hop's target (a new string, without the query). */
static char *
hop_path (GMultiRun *run)
{
  const char *target = run->target;

  if (target == NULL || target[0] != '/')
    return g_strdup ("/");
  return g_strndup (target, strcspn (target, "?#"));
}

/* The space a login at @path covers: its directory (RFC 7617 2.2). */
static char *
path_prefix (const char *path)
{
  const char *slash = strrchr (path, '/');

  return g_strndup (path, slash != NULL ? (gsize) (slash - path) + 1 : 0);
}

/* Basic and Bearer show the secret itself: only over TLS unless allowed. */
static gboolean
cleartext_refused (GMultiRun      *run,
                   GMultiAuthKind  kind)
{
  return !run->tls && (kind == GMULTI_AUTH_KIND_BASIC || kind == GMULTI_AUTH_KIND_BEARER) &&
         !gmulti_transfer_get_allow_cleartext_auth (run->owner);
}

/* The Authorization value for this hop, counting a Digest nonce's use. */
static char *
encode (GMultiAuthCredentials *credentials,
        GMultiRun             *run)
{
  switch (credentials->kind)
    {
    case GMULTI_AUTH_KIND_BASIC:
      return gmulti_auth_basic_encode (credentials->user, credentials->password);
    case GMULTI_AUTH_KIND_BEARER:
      return gmulti_auth_bearer_encode (credentials->token);
    case GMULTI_AUTH_KIND_DIGEST:
      {
        static const guint8 nothing[1];
        g_autoptr(GBytes) empty = NULL;
        GBytes *body = NULL;

        /* auth-int hashes the body: known without one, or as bytes; not from a read
         * function. */
        if (!run->request.has_body || run->body_dropped)
          body = empty = g_bytes_new_static (nothing, 0);
        else if (run->request.body != NULL)
          body = run->request.body;
        return gmulti_auth_digest_encode (credentials->digest, credentials->user,
                                          credentials->password, run->method,
                                          run->target, body);
      }
    case GMULTI_AUTH_KIND_NONE:
    default:
      return NULL;
    }
}

static void
hook_request_headers (GMultiHopHook *hook,
                      GMultiRun     *run,
                      GMultiHeaders *out)
{
  GMultiAuthManager *self = hook->data;
  GMultiAuthRunState *state = state_of (run, TRUE);
  GMultiAuthCredentials *credentials = NULL;
  g_autofree char *origin = NULL, *value = NULL;

  state->sent = FALSE;
  state->from_cache = FALSE;
  /* The application's own field wins. */
  if (run->host == NULL || gmulti_headers_contains (out, "Authorization"))
    return;
  origin = hop_origin (run);
  if (state->credentials.kind != GMULTI_AUTH_KIND_NONE &&
      strcmp (state->credentials.origin, origin) == 0)
    credentials = &state->credentials;
  else if (gmulti_auth_cache_get_size (self->cache) > 0)
    {
      g_autofree char *path = hop_path (run);

      credentials = gmulti_auth_cache_lookup (self->cache, origin, path);
      if (credentials != NULL)
        {
          state->from_cache = TRUE;
          g_free (state->cache_origin);
          state->cache_origin = g_strdup (credentials->origin);
          g_free (state->cache_prefix);
          state->cache_prefix = g_strdup (credentials->prefix);
        }
    }
  if (credentials == NULL || cleartext_refused (run, credentials->kind))
    {
      state->from_cache = FALSE;
      return;
    }
  value = encode (credentials, run);
  if (value == NULL)
    {
      state->from_cache = FALSE;
      return;
    }
  gmulti_headers_append (out, "Authorization", value, NULL);
  explicit_bzero (value, strlen (value));
  state->sent = TRUE;
}

static void
hook_response_head (GMultiHopHook *hook,
                    GMultiRun     *run)
{
  /* Everything happens in challenge(), on the final head. */
}

/* The credentials of the transfer for its first origin: its properties, else the
 * user information of its URI. */
static gboolean
own_credentials (GMultiRun  *run,
                 char      **user,
                 char      **password)
{
  GMultiTransfer *transfer = run->owner;
  const char *own_user = gmulti_transfer_get_username (transfer);

  /* Never to another origin after a redirect. */
  if (run->cross_origin)
    return FALSE;
  if (own_user != NULL)
    {
      const char *own_password = gmulti_transfer_get_password (transfer);

      *user = g_strdup (own_user);
      *password = g_strdup (own_password != NULL ? own_password : "");
      return TRUE;
    }
  if (run->request.uri != NULL)
    {
      g_autofree char *uri_user = NULL, *uri_password = NULL;

      if (g_uri_split_with_user (run->request.uri, G_URI_FLAGS_HAS_PASSWORD, NULL,
                                 &uri_user, &uri_password, NULL, NULL, NULL, NULL, NULL,
                                 NULL, NULL) && uri_user != NULL && uri_user[0] != '\0')
        {
          *user = g_steal_pointer (&uri_user);
          *password = uri_password != NULL ? g_steal_pointer (&uri_password) : g_strdup ("");
          return TRUE;
        }
    }
  return FALSE;
}

void
gmulti_auth_offered_read (GPtrArray         *challenges,
                          GMultiAuthOffered *offered)
{
  memset (offered, 0, sizeof *offered);
  for (guint i = 0; i < challenges->len; i++)
    {
      const GMultiAuthChallenge *challenge = challenges->pdata[i];

      if (gmulti_auth_challenge_is_scheme (challenge, "Basic") && offered->basic == NULL)
        offered->basic = challenge;
      else if (gmulti_auth_challenge_is_scheme (challenge, "Bearer") && offered->bearer == NULL)
        offered->bearer = challenge;
      else if (gmulti_auth_challenge_is_scheme (challenge, "Digest"))
        {
          g_autoptr(GMultiAuthDigest) digest = gmulti_auth_digest_new (challenge, NULL);

          if (digest != NULL && gmulti_auth_digest_rank (digest) > offered->digest_rank)
            {
              offered->digest = challenge;
              offered->digest_rank = gmulti_auth_digest_rank (digest);
            }
        }
    }
}

gboolean
gmulti_auth_is_stale (const GMultiAuthChallenge *digest)
{
  const char *stale = digest != NULL ? gmulti_auth_challenge_get_param (digest, "stale") : NULL;

  return stale != NULL && g_ascii_strcasecmp (stale, "true") == 0;
}

static void
set_credentials (GMultiAuthRunState *state,
                 GMultiRun          *run,
                 GMultiAuthKind      kind,
                 char               *user,
                 char               *password,
                 char               *token,
                 GMultiAuthDigest   *digest)
{
  g_autofree char *path = hop_path (run);

  gmulti_auth_credentials_clear (&state->credentials);
  state->credentials.kind = kind;
  state->credentials.origin = hop_origin (run);
  state->credentials.prefix = path_prefix (path);
  state->credentials.user = user;
  state->credentials.password = password;
  state->credentials.token = token;
  state->credentials.digest = digest;
  state->stale_retried = FALSE;
  state->stored = FALSE;
}

static GMultiHopVerdict
refused (GMultiAuthRunState *state,
         GMultiRun          *run,
         GError            **error)
{
  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED,
               _("The server at %s refused the credentials"), run->host);
  gmulti_auth_credentials_clear (&state->credentials);
  return GMULTI_HOP_FAIL;
}

/* Asks the application (GMultiTransfer::authenticate) for credentials of @challenge:
 * REPEAT when it answered at once, WAIT when it will later, GO_ON when it did not. */
static GMultiHopVerdict
ask (GMultiAuthRunState        *state,
     GMultiRun                 *run,
     const GMultiAuthChallenge *challenge,
     gboolean                   retrying)
{
  gboolean digest = gmulti_auth_challenge_is_scheme (challenge, "Digest");
  g_autofree char *authority = g_strdup_printf ("%s:%u", run->host, run->port);
  GMultiAuth *auth;
  gboolean handled;

  state->asked = TRUE;
  auth = gmulti_auth_new_for_challenge (digest ? GMULTI_AUTH_KIND_DIGEST : GMULTI_AUTH_KIND_BASIC,
                                        digest ? gmulti_auth_digest_new (challenge, NULL) : NULL,
                                        gmulti_auth_challenge_get_param (challenge, "realm"),
                                        authority, FALSE, retrying, state);
  handled = gmulti_transfer_emit_authenticate (run->owner, auth, retrying);
  if (gmulti_auth_is_authenticated (auth))
    {
      set_credentials (state, run, gmulti_auth_get_kind (auth),
                       g_strdup (gmulti_auth_get_username (auth)),
                       g_strdup (gmulti_auth_get_password (auth)), NULL,
                       gmulti_auth_steal_digest (auth));
      gmulti_auth_detach (auth);
      g_object_unref (auth);
      return GMULTI_HOP_REPEAT;
    }
  if (handled && !gmulti_auth_is_cancelled (auth))
    {
      state->pending = auth;
      return GMULTI_HOP_WAIT;
    }
  gmulti_auth_detach (auth);
  g_object_unref (auth);
  return GMULTI_HOP_GO_ON;
}

void
gmulti_auth_run_state_answered (GMultiAuthRunState *state,
                                GMultiAuth         *auth)
{
  GMultiHopVerdict verdict = GMULTI_HOP_GO_ON;

  if (state->proxy.pending == auth)
    {
      gmulti_engine_resume_hop (state->run,
                                gmulti_auth_proxy_answered (&state->proxy, state->run, auth));
      return;
    }
  /* Answered inside the handler: ask() reads the answer itself. */
  if (state->pending != auth)
    return;
  state->pending = NULL;
  if (gmulti_auth_is_authenticated (auth))
    {
      set_credentials (state, state->run, gmulti_auth_get_kind (auth),
                       g_strdup (gmulti_auth_get_username (auth)),
                       g_strdup (gmulti_auth_get_password (auth)), NULL,
                       gmulti_auth_steal_digest (auth));
      verdict = GMULTI_HOP_REPEAT;
    }
  gmulti_auth_detach (auth);
  g_object_unref (auth);
  gmulti_engine_resume_hop (state->run, verdict);
}

static GMultiHopVerdict
hook_challenge (GMultiHopHook *hook,
                GMultiRun     *run,
                GError       **error)
{
  GMultiAuthManager *self = hook->data;
  GMultiAuthRunState *state = state_of (run, FALSE);
  g_autoptr(GPtrArray) challenges = NULL;
  g_autofree char *user = NULL, *password = NULL;
  const char *token;
  gboolean retrying = FALSE;
  GMultiAuthOffered offered;

  if (state == NULL || run->host == NULL)
    return GMULTI_HOP_GO_ON;

  if (G_UNLIKELY (run->proxy_challenge))
    return gmulti_auth_proxy_challenge (self->proxy_cache, &state->proxy, state, run, error);
  /* Through the proxy: what it was sent worked. */
  if (G_UNLIKELY (run->proxy != NULL))
    gmulti_auth_proxy_passed (self->proxy_cache, &state->proxy);

  if (run->status != 401)
    {
      /* A login that worked: later requests in its space send it at once. */
      if (state->sent && !state->from_cache && !state->stored && run->status < 400)
        {
          gmulti_auth_cache_store (self->cache, &state->credentials);
          state->stored = TRUE;
        }
      return GMULTI_HOP_GO_ON;
    }

  challenges = gmulti_auth_challenges_from_headers (run->response_headers, "WWW-Authenticate");
  gmulti_auth_offered_read (challenges, &offered);

  if (state->sent && state->from_cache)
    {
      GMultiAuthCredentials *entry = gmulti_auth_cache_lookup (self->cache, state->cache_origin,
                                                               state->cache_prefix);

      /* A cached nonce gone stale: the cached credentials with the new one. */
      if (entry != NULL && entry->kind == GMULTI_AUTH_KIND_DIGEST && gmulti_auth_is_stale (offered.digest))
        {
          GMultiAuthDigest *digest = gmulti_auth_digest_new (offered.digest, NULL);

          if (digest != NULL)
            {
              set_credentials (state, run, GMULTI_AUTH_KIND_DIGEST, g_strdup (entry->user),
                               g_strdup (entry->password), NULL, digest);
              state->stale_retried = TRUE;
              return GMULTI_HOP_REPEAT;
            }
        }
      /* The cache's credentials no longer work: forget them; the transfer's own or the
       * application get their try. */
      gmulti_auth_cache_forget (self->cache, state->cache_origin, state->cache_prefix);
      retrying = TRUE;
    }
  else if (state->sent)
    {
      if (state->credentials.kind == GMULTI_AUTH_KIND_DIGEST && !state->stale_retried &&
          gmulti_auth_is_stale (offered.digest))
        {
          if (gmulti_auth_digest_update (state->credentials.digest, offered.digest, NULL))
            {
              /* The same credentials with the new nonce, without asking. */
              state->stale_retried = TRUE;
              return GMULTI_HOP_REPEAT;
            }
        }
      return refused (state, run, error);
    }
  else if (state->credentials.kind != GMULTI_AUTH_KIND_NONE)
    {
      g_autofree char *origin = hop_origin (run);

      /* Answered before, and the credentials could not go on this hop: not again.
       * Another origin (a redirect) may still be answered by the application. */
      if (strcmp (origin, state->credentials.origin) == 0)
        return GMULTI_HOP_GO_ON;
    }

  token = run->cross_origin ? NULL : gmulti_transfer_get_bearer_token (run->owner);
  if (offered.bearer != NULL && token != NULL)
    {
      if (cleartext_refused (run, GMULTI_AUTH_KIND_BEARER))
        goto cleartext;
      set_credentials (state, run, GMULTI_AUTH_KIND_BEARER, NULL, NULL, g_strdup (token), NULL);
      return GMULTI_HOP_REPEAT;
    }
  if (offered.digest == NULL && offered.basic == NULL)
    return GMULTI_HOP_GO_ON;

  if (own_credentials (run, &user, &password))
    {
      if (offered.digest != NULL)
        {
          GMultiAuthDigest *digest = gmulti_auth_digest_new (offered.digest, error);

          if (digest == NULL)
            return GMULTI_HOP_FAIL;
          set_credentials (state, run, GMULTI_AUTH_KIND_DIGEST, g_steal_pointer (&user),
                           g_steal_pointer (&password), NULL, digest);
          return GMULTI_HOP_REPEAT;
        }
      if (cleartext_refused (run, GMULTI_AUTH_KIND_BASIC))
        goto cleartext;
      set_credentials (state, run, GMULTI_AUTH_KIND_BASIC, g_steal_pointer (&user),
                       g_steal_pointer (&password), NULL, NULL);
      return GMULTI_HOP_REPEAT;
    }

  /* Nothing of its own: the application may answer, once per run. */
  if (state->asked || !gmulti_transfer_has_authenticate_handler (run->owner))
    return GMULTI_HOP_GO_ON;
  if (offered.digest != NULL)
    return ask (state, run, offered.digest, retrying);
  if (cleartext_refused (run, GMULTI_AUTH_KIND_BASIC))
    return GMULTI_HOP_GO_ON;
  return ask (state, run, offered.basic, retrying);

cleartext:
  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED,
               _("Credentials were not sent to %s: the server asks for them in the clear "
                 "over unencrypted http (see GMultiTransfer:allow-cleartext-auth)"),
               run->host);
  return GMULTI_HOP_FAIL;
}

static char *
hook_proxy_authorization (GMultiHopHook *hook,
                          GMultiRun     *run)
{
  GMultiAuthManager *self = hook->data;

  return gmulti_auth_proxy_authorization (self->proxy_cache, &state_of (run, TRUE)->proxy, run);
}

static void
hook_ref (GMultiHopHook *hook)
{
  g_object_ref (hook->data);
}

static void
hook_unref (GMultiHopHook *hook)
{
  g_object_unref (hook->data);
}

static const GMultiHopHookOps auth_hook_ops = {
  .request_headers = hook_request_headers,
  .response_head = hook_response_head,
  .ref = hook_ref,
  .unref = hook_unref,
  .challenge = hook_challenge,
  .proxy_authorization = hook_proxy_authorization,
};

static void
gmulti_auth_manager_init (GMultiAuthManager *self)
{
  self->hook.ops = &auth_hook_ops;
  self->hook.data = self;
  self->cache = gmulti_auth_cache_new ();
  self->proxy_cache = gmulti_auth_cache_new ();
}

GMultiAuthManager *
gmulti_auth_manager_new (void)
{
  return g_object_new (GMULTI_TYPE_AUTH_MANAGER, NULL);
}

GMultiHopHook *
gmulti_auth_manager_get_hook (GMultiAuthManager *self)
{
  return &self->hook;
}

GMultiAuthManager *
gmulti_auth_manager_from_hook (GMultiHopHook *hook)
{
  return hook != NULL ? hook->data : NULL;
}

gboolean
gmulti_auth_manager_concerns (GMultiAuthManager *self,
                              GMultiTransfer    *transfer)
{
  return gmulti_auth_cache_get_size (self->cache) > 0 ||
         gmulti_auth_cache_get_size (self->proxy_cache) > 0 ||
         gmulti_transfer_has_own_credentials (transfer) ||
         gmulti_transfer_has_authenticate_handler (transfer);
}
