/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-headers.h"

G_BEGIN_DECLS

typedef struct _GMultiRun GMultiRun;
typedef struct _GMultiHopHook GMultiHopHook;

/* What a per-hop hook may do, called by the engine only through this table: cookies
 * now (gmulti/cookies/), later HSTS and authentication. A hook reads the run (its
 * effective URI, first-party URI, method, the response head) and never touches the
 * run's connection or phase.
 *
 * - request_headers: the head of a hop is being prepared (its URI resolved, redirects
 *   followed), before it is sent; the hook adds fields to @out, which starts as the
 *   application's fields of this hop (credentials already dropped after a
 *   cross-origin redirect). Once per hop, so a cookie set on a 302 goes with the next
 *   hop.
 * - response_head: a response head arrived on the run (run->status,
 *   run->response_headers), redirects included, before the engine decides whether to
 *   follow it.
 * - ref, unref: the hook's life; each run holds one reference from its start to its
 *   end, the session's defaults another. */
typedef struct {
  void (*request_headers) (GMultiHopHook *hook,
                           GMultiRun     *run,
                           GMultiHeaders *out);
  void (*response_head)   (GMultiHopHook *hook,
                           GMultiRun     *run);
  void (*ref)             (GMultiHopHook *hook);
  void (*unref)           (GMultiHopHook *hook);
} GMultiHopHookOps;

/* Embedded in its owner (the cookie jar), which implements the table. */
struct _GMultiHopHook {
  const GMultiHopHookOps *ops;
  gpointer data;
};

static inline GMultiHopHook *
gmulti_hop_hook_ref (GMultiHopHook *hook)
{
  hook->ops->ref (hook);
  return hook;
}

static inline void
gmulti_hop_hook_unref (GMultiHopHook *hook)
{
  hook->ops->unref (hook);
}

G_END_DECLS
