/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-headers.h"

G_BEGIN_DECLS

typedef struct _GMultiRun GMultiRun;
typedef struct _GMultiHopHook GMultiHopHook;

/* What the engine does with a hop after a hook saw its final response head. */
typedef enum {
  GMULTI_HOP_GO_ON,   /* deliver the response as it is */
  GMULTI_HOP_REPEAT,  /* send the hop again (its request_headers called again first),
                         on the same connection where it stays open */
  GMULTI_HOP_WAIT,    /* hold the run until the hook says REPEAT or GO_ON later (an
                         application answering a challenge from a dialog) */
  GMULTI_HOP_FAIL,    /* end the transfer with the error the hook set */
} GMultiHopVerdict;

/* What a per-hop hook may do, called by the engine only through this table: cookies
 * (gmulti/cookies/), HSTS (gmulti/hsts/) and authentication (gmulti/auth/). A hook
 * reads the run (its effective URI, first-party URI, method, the response head) and
 * never touches the run's connection or phase; authentication holds and resumes a run
 * only through its verdicts and gmulti_engine_resume_hop().
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
 *   end, the session's defaults another.
 *
 * Optional operations (NULL when a hook has none):
 * - rewrite_uri: before a hop's URI is parsed (the first hop and every redirect);
 *   returns the URI to use instead, newly allocated (HSTS: http:// to https://), or
 *   NULL to keep @uri. No byte has been sent for the hop yet.
 * - challenge: a final response head (not followed as a redirect) arrived; the
 *   verdict says what happens to the hop (authentication: a 401 or 407 answered by
 *   sending the hop again with credentials). With run->proxy_challenge set, the head
 *   is an HTTP proxy's 407: to a forwarded request, or to the CONNECT of a tunnel
 *   (then run->status and run->response_headers are the proxy's answer, and the hop
 *   is sent again on a new connection).
 * - proxy_authorization: the hop goes through an HTTP proxy (run->proxy): forwarded
 *   (asked once the proxy is chosen), or through a CONNECT tunnel (asked when a new
 *   one opens); returns the value of the Proxy-Authorization field for it (newly
 *   allocated), or NULL for none. A hook
 *   without it leaves the proxy URI's user and password to the engine, sent as Basic.
 *
 * Each kind of hook has its own slot in a run (cookies, hsts, auth), called in a fixed
 * order: hsts's rewrite_uri first, then every request_headers (cookies, then auth),
 * every response_head, and auth's challenge last. */
typedef struct {
  void (*request_headers) (GMultiHopHook *hook,
                           GMultiRun     *run,
                           GMultiHeaders *out);
  void (*response_head)   (GMultiHopHook *hook,
                           GMultiRun     *run);
  void (*ref)             (GMultiHopHook *hook);
  void (*unref)           (GMultiHopHook *hook);
  char *(*rewrite_uri)    (GMultiHopHook *hook,
                           GMultiRun     *run,
                           const char    *uri);
  GMultiHopVerdict (*challenge) (GMultiHopHook *hook,
                                 GMultiRun     *run,
                                 GError       **error);
  char *(*proxy_authorization) (GMultiHopHook *hook,
                                GMultiRun     *run);
} GMultiHopHookOps;

/* Embedded in its owner (the cookie jar, the HSTS enforcer, the authenticator), which
 * implements the table. */
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
