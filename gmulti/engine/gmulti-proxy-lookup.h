/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-proxy.h"

G_BEGIN_DECLS

typedef struct _GMultiEngine GMultiEngine;
typedef struct _GMultiRun GMultiRun;
typedef struct _GMultiProxyLookup GMultiProxyLookup;

/* Entries of one answer a hop tries at most (GMultiRun.proxy_tries). */
#define GMULTI_PROXY_MAX_TRIES 255

/* How a proxy lookup hook answers when it is asked. */
typedef enum {
  GMULTI_PROXY_LOOKUP_FOUND,        /* *proxy is the answer, borrowed (NULL: direct) */
  GMULTI_PROXY_LOOKUP_ENVIRONMENT,  /* nothing to ask: the *_proxy variables decide */
  GMULTI_PROXY_LOOKUP_PENDING,      /* the answer comes later, through
                                       gmulti_engine_proxy_lookup_done() */
  GMULTI_PROXY_LOOKUP_FAILED,       /* *error is set */
} GMultiProxyLookupAnswer;

/* Which proxy a hop's origin goes through, asked of the engine's owner: the engine
 * never asks GIO itself and does not know who answers (a session asks GLib's
 * GProxyResolver on its main context, gmulti-session-proxy.c). The hook lives in the
 * defaults (GMultiDefaults.proxy_lookup); the engine calls it only through this table.
 *
 * - lookup: the proxy for the origin of @run's hop (run->tls, run->host, run->port),
 *   once per hop whose proxy the application did not name. An answer known at once
 *   (a cached one) must cost no allocation. PENDING: the run waits in
 *   GMULTI_RUN_PROXY_LOOKUP until the owner calls gmulti_engine_proxy_lookup_done()
 *   for it, from its own main context, outside the engine's calls or inside them;
 *   the answer may even come before lookup returns.
 * - cancel: @run no longer waits (removed, timed out, its engine freed): the owner
 *   forgets it and never answers for it.
 * - next (may be NULL: no failover): the proxy @failed (borrowed; NULL: direct) that
 *   @run's hop was given by lookup, or by an earlier next, could not be reached
 *   (resolved, connected, or connected in time) before anything was sent on it;
 *   @tries entries of the answer failed in this hop so far. TRUE with the entry to
 *   try now in *@proxy (borrowed; NULL: direct), FALSE when none is left or the answer
 *   is no longer known. Answered at once, without an allocation; the owner may
 *   remember the failure for later lookups of the origin.
 * - ref, unref: the hook's life; the defaults hold a reference. */
typedef struct {
  GMultiProxyLookupAnswer (*lookup) (GMultiProxyLookup *hook,
                                     GMultiRun         *run,
                                     GMultiProxy      **proxy,
                                     GError           **error);
  void (*cancel) (GMultiProxyLookup *hook,
                  GMultiRun         *run);
  gboolean (*next) (GMultiProxyLookup  *hook,
                    GMultiRun          *run,
                    GMultiProxy        *failed,
                    guint               tries,
                    GMultiProxy       **proxy);
  void (*ref)    (GMultiProxyLookup *hook);
  void (*unref)  (GMultiProxyLookup *hook);
} GMultiProxyLookupOps;

/* Embedded in its owner, which implements the table. */
struct _GMultiProxyLookup {
  const GMultiProxyLookupOps *ops;
  gpointer data;
};

static inline GMultiProxyLookup *
gmulti_proxy_lookup_ref (GMultiProxyLookup *hook)
{
  hook->ops->ref (hook);
  return hook;
}

static inline void
gmulti_proxy_lookup_unref (GMultiProxyLookup *hook)
{
  hook->ops->unref (hook);
}

/* The owner's answer for a run its hook said PENDING for: @proxy (NULL: direct; the
 * run takes its own reference) or @error (taken; a GMULTI_ERROR the transfer ends
 * with). Ignored for a run that no longer waits. */
void gmulti_engine_proxy_lookup_done (GMultiRun   *run,
                                      GMultiProxy *proxy,
                                      GError      *error);

/* For the engine (gmulti-proxy-lookup.c). Asks @hook for the hop of @run; on PENDING
 * the run is marked as waiting (the caller sets its phase). */
GMultiProxyLookupAnswer gmulti_proxy_lookup_ask (GMultiProxyLookup *hook,
                                                 GMultiRun         *run,
                                                 GMultiProxy      **proxy,
                                                 GError           **error);
/* Whether the owner answered the run's pending lookup; if so, takes the answer: a new
 * reference in *@proxy (NULL: direct), or *@error. */
gboolean gmulti_proxy_lookup_take_answer (GMultiRun    *run,
                                          GMultiProxy **proxy,
                                          GError      **error);
/* The run stops waiting (or drops an answer it did not take). */
void     gmulti_proxy_lookup_forget      (GMultiRun    *run);
/* The hop's connection failed before anything was sent on it (error paths only): if
 * its proxy came from the hook and the hook names another entry, the run is detached
 * from the connection and goes on with that entry when stepped; TRUE then, and the
 * caller drops its error. FALSE: the caller ends the run with its error, as without
 * a hook. */
gboolean gmulti_proxy_lookup_fail_over   (GMultiEngine *engine,
                                          GMultiRun    *run);

G_END_DECLS
