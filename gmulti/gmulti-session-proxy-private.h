/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "engine/gmulti-proxy-lookup.h"

G_BEGIN_DECLS

/* A session's proxy lookups (gmulti-session-proxy.c): its proxy-resolver, GLib's
 * default one, the answers cached per origin, and the engine's lookup hook over them.
 * Reference counted: the session holds one, and every GMultiDefaults that holds the
 * hook another. */
typedef struct _GMultiSessionProxy GMultiSessionProxy;

/* Lookups complete on @context, the session's. */
GMultiSessionProxy *gmulti_session_proxy_new          (GMainContext       *context);
void                gmulti_session_proxy_unref        (GMultiSessionProxy *self);
/* The hook for the session's defaults (borrowed: take a reference to keep it). */
GMultiProxyLookup  *gmulti_session_proxy_get_hook     (GMultiSessionProxy *self);
GProxyResolver     *gmulti_session_proxy_get_resolver (GMultiSessionProxy *self);
/* Replaces the session's resolver (NULL: GLib's default); forgets the cached answers. */
void                gmulti_session_proxy_set_resolver (GMultiSessionProxy *self,
                                                       GProxyResolver     *resolver);
/* The session is going away (its engine already freed): lookups in flight are
 * cancelled, and nothing is asked any more. */
void                gmulti_session_proxy_shutdown     (GMultiSessionProxy *self);

G_END_DECLS
