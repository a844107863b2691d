/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared only between the files of GMultiSession itself (gmulti-session.c, its options
 * in gmulti-session-options.c): the instance struct and the property table. */

#include "gmulti-session-private.h"
#include "gmulti-engine.h"

G_BEGIN_DECLS

struct _GMultiSession
{
  GObject parent_instance;

  GMainContext *context;
  GMultiEngine *engine;
  GSource *source;
  GError *source_error;          /* why the source could not be created */
  GMultiMainLoopSource main_loop_source;  /* as asked for at construction */

  GHashTable *entries;           /* GMultiTransfer -> Entry, while added */
  GQueue deferred;               /* Deferred, in call order */
  GQueue ready_ops;              /* GMultiAsyncOp references whose task can complete */
  guint engine_depth;            /* > 0 while the engine is inside a call we made */
  gboolean draining;             /* after_engine() is running further up the stack */

  /* The session's settings for what its transfers leave unset (timeouts, User-Agent,
   * HTTP version, TLS options), shared with the engine: never changed, replaced as a whole. */
  GMultiDefaults *defaults;
  /* Its proxy-resolver, and the proxy lookups its defaults' hook makes with it
   * (gmulti-session-proxy.c). */
  struct _GMultiSessionProxy *proxy;
  /* Its resolver, and the name lookups the engine's delegate makes through GIO
   * (gmulti-session-resolver.c). */
  struct _GMultiSessionResolver *names;
};

enum {
  PROP_0,
  PROP_MAX_CONNECTIONS,
  PROP_MAX_HOST_CONNECTIONS,
  PROP_MAX_IDLE_CONNECTIONS,
  PROP_USER_AGENT,
  PROP_TIMEOUT,
  PROP_CONNECT_TIMEOUT,
  PROP_MAIN_LOOP_SOURCE,
  PROP_HTTP_VERSION,
  PROP_MAX_STREAMS_PER_CONNECTION,
  PROP_DECODE_CONTENT,
  PROP_MAX_DECODED_SIZE,
  PROP_MAX_DECODE_RATIO,
  PROP_UNIX_SOCKET_PATH,
  PROP_PROXY_URI,
  PROP_COOKIE_JAR,
  PROP_HSTS_ENFORCER,
  PROP_PROXY_RESOLVER,
  PROP_RESOLVER,
  PROP_PROXY_USERNAME,
  PROP_PROXY_PASSWORD,
  PROP_TLS_FIRST,            /* GMULTI_TLS_N_OPTIONS ids, in GMultiTlsOption order */
  GMULTI_SESSION_N_PROPS = PROP_TLS_FIRST + GMULTI_TLS_N_OPTIONS
};

/* The most streams per multiplexed connection a session accepts (docs/limits.md):
 * far above what servers allow (nginx 128, nghttpd 100), low enough that one
 * connection's stream table stays small. */
#define GMULTI_SESSION_MAX_STREAMS_LIMIT 1000

extern GParamSpec *gmulti_session_properties[GMULTI_SESSION_N_PROPS];

/* Publishes @edited (from gmulti_session_edit_defaults()) as the session's defaults. */
void gmulti_session_commit_defaults (GMultiSession  *self,
                                     GMultiDefaults *edited);

/* gmulti-session-content.c: its properties, dispatched from gmulti-session.c. */
void     gmulti_session_install_content_properties (void);
gboolean gmulti_session_content_get_property (GMultiSession *self,
                                              guint          prop_id,
                                              GValue        *value);
gboolean gmulti_session_content_set_property (GMultiSession *self,
                                              guint          prop_id,
                                              const GValue  *value);

/* The defaults of a new session, with its own authenticator (gmulti-session-auth.c). */
GMultiDefaults *gmulti_session_new_defaults (void);
/* The cookie-jar property (gmulti-session-cookies.c). */
void gmulti_session_install_cookie_properties (GParamSpec **pspecs);
/* The hsts-enforcer property (gmulti-session-hsts.c). */
void gmulti_session_install_hsts_properties (GParamSpec **pspecs);
/* The proxy-resolver property (gmulti-session-proxy.c). */
void gmulti_session_install_proxy_properties (GParamSpec **pspecs);
/* The resolver property (gmulti-session-resolver.c). */
void gmulti_session_install_resolver_properties (GParamSpec **pspecs);

/* Stores @user_agent as given, for the property and the setter (gmulti-session-options.c). */
void gmulti_session_store_user_agent (GMultiSession *self,
                                      const char    *user_agent);

/* Connection limits of a new session (docs/limits.md says why these). */
#define DEFAULT_MAX_CONNECTIONS 256
#define DEFAULT_MAX_HOST_CONNECTIONS 6

/* gmulti-session-properties.c */
void gmulti_session_install_properties (GObjectClass *object_class);
void gmulti_session_get_property       (GObject      *object,
                                        guint         prop_id,
                                        GValue       *value,
                                        GParamSpec   *pspec);
void gmulti_session_set_property       (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec);

G_END_DECLS
