/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "engine/gmulti-proxy-lookup.h"

G_BEGIN_DECLS

/* Reading a GProxyResolver's answer, for the session's lookups and
 * gmulti_transfer_perform()'s (gmulti-proxy-answer.c). */

/* What a resolver is asked for an origin: `SCHEME://HOST:PORT/`, never a path. */
char        *gmulti_proxy_answer_origin_uri (gboolean     tls,
                                             const char  *host,
                                             guint16      port);
/* The entries of @uris gmulti can use, in order (a GMultiProxy, or NULL for direct,
 * which is kept once; an empty list is direct), or NULL with
 * GMULTI_ERROR_PROXY_INVALID when none is usable. */
GPtrArray   *gmulti_proxy_answer_read       (const char  *host,
                                             char       **uris,
                                             GError     **error);
/* The entry to try after @failed, for the proxy lookup hook's next (@tries: entries
 * failed so far in the hop), in the list's order and around its end, until each was
 * tried once. *@start (if not NULL), where later lookups begin, moves past @failed if
 * it pointed at it. */
gboolean     gmulti_proxy_answer_next       (GPtrArray    *entries,
                                             guint        *start,
                                             GMultiProxy  *failed,
                                             guint         tries,
                                             GMultiProxy **next);
/* The transfer's error for a lookup that failed with @error. */
GError      *gmulti_proxy_answer_failed     (const char   *host,
                                             const GError *error);
/* A hook that asks the transfer's own proxy-resolver and blocks until it answers,
 * for gmulti_transfer_perform(); the *_proxy variables decide for other transfers.
 * One reference, for the defaults. */
GMultiProxyLookup *gmulti_proxy_answer_blocking_hook_new (void);

G_END_DECLS
