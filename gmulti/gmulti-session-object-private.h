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
  PROP_COOKIE_JAR,
  PROP_TLS_FIRST,            /* GMULTI_TLS_N_OPTIONS ids, in GMultiTlsOption order */
  GMULTI_SESSION_N_PROPS = PROP_TLS_FIRST + GMULTI_TLS_N_OPTIONS
};

/* The most streams per multiplexed connection a session accepts (docs/limits.md):
 * far above what servers allow (nginx 128, nghttpd 100), low enough that one
 * connection's stream table stays small. */
#define GMULTI_SESSION_MAX_STREAMS_LIMIT 1000

extern GParamSpec *gmulti_session_properties[GMULTI_SESSION_N_PROPS];

/* The cookie-jar property (gmulti-session-cookies.c). */
void gmulti_session_install_cookie_properties (GParamSpec **pspecs);

/* Publishes @edited as the session's defaults (gmulti-session-options.c). */
void gmulti_session_commit_defaults (GMultiSession  *self,
                                     GMultiDefaults *edited);

/* Stores @user_agent as given, for the property and the setter (gmulti-session-options.c). */
void gmulti_session_store_user_agent (GMultiSession *self,
                                      const char    *user_agent);

G_END_DECLS
