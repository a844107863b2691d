/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-auth.h"
#include "gmulti-auth-scheme.h"
#include "engine/gmulti-hop-hook.h"

G_BEGIN_DECLS

typedef struct _GMultiTransfer GMultiTransfer;

typedef enum {
  GMULTI_AUTH_KIND_NONE,
  GMULTI_AUTH_KIND_BASIC,
  GMULTI_AUTH_KIND_DIGEST,
  GMULTI_AUTH_KIND_BEARER,
} GMultiAuthKind;

/* Credentials for one protection space: an origin ("https://host:443") and the paths
 * under a prefix; what a run answers with, and what the session's cache keeps. */
typedef struct {
  GMultiAuthKind kind;
  char *origin;
  char *prefix;               /* "/dir/": the paths at or below it */
  char *user;
  char *password;
  char *token;                /* Bearer */
  GMultiAuthDigest *digest;   /* Digest: the nonce and its count */
} GMultiAuthCredentials;

void gmulti_auth_credentials_clear (GMultiAuthCredentials *self);

/* ------------------------------------------------ the per-session cache
 * (gmulti-auth-cache.c): after a login succeeded, later requests to the same space
 * send the credentials at once. */
typedef struct _GMultiAuthCache GMultiAuthCache;

GMultiAuthCache       *gmulti_auth_cache_new    (void);
void                   gmulti_auth_cache_free   (GMultiAuthCache *self);
guint                  gmulti_auth_cache_get_size (GMultiAuthCache *self);
/* The entry of the longest prefix of @path at @origin, or NULL (owned by the cache). */
GMultiAuthCredentials *gmulti_auth_cache_lookup (GMultiAuthCache *self,
                                                 const char      *origin,
                                                 const char      *path);
/* Takes a copy of @credentials, replacing an entry of the same space. */
void                   gmulti_auth_cache_store  (GMultiAuthCache             *self,
                                                 const GMultiAuthCredentials *credentials);
void                   gmulti_auth_cache_forget (GMultiAuthCache *self,
                                                 const char      *origin,
                                                 const char      *prefix);

/* ------------------------------------------------ a run's state (gmulti-auth-manager.c),
 * kept by its transfer from the first hop to the end of the run. */
typedef struct _GMultiAuthRunState GMultiAuthRunState;

void gmulti_auth_run_state_free (GMultiAuthRunState *self);

/* The challenges gmulti can answer in one response, the strongest of each scheme. */
typedef struct {
  const GMultiAuthChallenge *basic;
  const GMultiAuthChallenge *bearer;
  const GMultiAuthChallenge *digest;
  int digest_rank;
} GMultiAuthOffered;

void     gmulti_auth_offered_read (GPtrArray         *challenges,
                                   GMultiAuthOffered *offered);
/* A Digest challenge (or NULL) that says stale=true. */
gboolean gmulti_auth_is_stale     (const GMultiAuthChallenge *digest);

/* ------------------------------------------------ answers to an HTTP proxy
 * (gmulti-auth-proxy.c): one run's, and the session's cache of what worked, by proxy
 * ("http://host:port"), kept apart from the origins'. */
typedef struct {
  GMultiAuthCredentials credentials; /* what the run answered with; origin: the proxy */
  GMultiAuth *pending;        /* the application's answer the run waits for */
  gboolean sent;              /* this hop carries credentials of ours for the proxy */
  gboolean from_cache;
  gboolean stale_retried;
  gboolean asked;
  gboolean stored;
} GMultiAuthProxyState;

void             gmulti_auth_proxy_state_clear   (GMultiAuthProxyState *self);
/* The Proxy-Authorization value of the hop through run->proxy, or NULL. */
char            *gmulti_auth_proxy_authorization (GMultiAuthCache      *cache,
                                                  GMultiAuthProxyState *self,
                                                  GMultiRun            *run);
/* The verdict on the proxy's 407 on run (run->proxy_challenge); @owner is the run
 * state an application's answer goes back to. */
GMultiHopVerdict gmulti_auth_proxy_challenge     (GMultiAuthCache      *cache,
                                                  GMultiAuthProxyState *self,
                                                  GMultiAuthRunState   *owner,
                                                  GMultiRun            *run,
                                                  GError              **error);
/* A head that is not the proxy's challenge came: what it was sent went through. */
void             gmulti_auth_proxy_passed        (GMultiAuthCache      *cache,
                                                  GMultiAuthProxyState *self);
/* The application answered @auth, pending for the proxy: the verdict for the run. */
GMultiHopVerdict gmulti_auth_proxy_answered      (GMultiAuthProxyState *self,
                                                  GMultiRun            *run,
                                                  GMultiAuth           *auth);

/* ------------------------------------------------ the authenticator: a hop hook */
#define GMULTI_TYPE_AUTH_MANAGER (gmulti_auth_manager_get_type ())
G_DECLARE_FINAL_TYPE (GMultiAuthManager, gmulti_auth_manager, GMULTI, AUTH_MANAGER, GObject)

GMultiAuthManager *gmulti_auth_manager_new      (void);
GMultiHopHook     *gmulti_auth_manager_get_hook (GMultiAuthManager *self);
GMultiAuthManager *gmulti_auth_manager_from_hook (GMultiHopHook    *hook);
/* Whether the manager may have to do with a run of @transfer: credentials cached, or
 * the transfer has its own (or a way to ask). Cheap: called once per run. */
gboolean           gmulti_auth_manager_concerns (GMultiAuthManager *self,
                                                 GMultiTransfer    *transfer);

/* ------------------------------------------------ GMultiAuth (gmulti-auth.c) */
GMultiAuth *gmulti_auth_new_for_challenge (GMultiAuthKind          kind,
                                           GMultiAuthDigest       *digest,
                                           const char             *realm,
                                           const char             *authority,
                                           gboolean                for_proxy,
                                           gboolean                retrying,
                                           GMultiAuthRunState     *state);
GMultiAuthKind     gmulti_auth_get_kind       (GMultiAuth *self);
GMultiAuthDigest  *gmulti_auth_steal_digest   (GMultiAuth *self);
const char        *gmulti_auth_get_username   (GMultiAuth *self);
const char        *gmulti_auth_get_password   (GMultiAuth *self);
/* The run state waiting for this answer is gone (the run ended). */
void               gmulti_auth_detach         (GMultiAuth *self);
/* Called by gmulti-auth.c when the application answered or cancelled a pending
 * auth (gmulti-auth-manager.c). */
void               gmulti_auth_run_state_answered (GMultiAuthRunState *state,
                                                   GMultiAuth         *auth);

G_END_DECLS
