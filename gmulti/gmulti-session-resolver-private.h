/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "engine/gmulti-resolver.h"

G_BEGIN_DECLS

/* A session's name lookups through GIO (gmulti-session-resolver.c): its resolver
 * property, the rule for GLib's default resolver, and the engine's name delegate over
 * them. Reference counted: the session holds one, and the engine's resolver another. */
typedef struct _GMultiSessionResolver GMultiSessionResolver;

/* Lookups complete on @context, the session's. */
GMultiSessionResolver *gmulti_session_resolver_new          (GMainContext          *context);
void                   gmulti_session_resolver_unref        (GMultiSessionResolver *self);
/* The delegate for the session's engine (borrowed: the engine takes a reference). */
GMultiNameDelegate    *gmulti_session_resolver_get_delegate (GMultiSessionResolver *self);
GResolver             *gmulti_session_resolver_get_resolver (GMultiSessionResolver *self);
/* Replaces the session's resolver (NULL: the rule for GLib's default). */
void                   gmulti_session_resolver_set_resolver (GMultiSessionResolver *self,
                                                             GResolver             *resolver);
/* The session is going away: nothing is asked any more. */
void                   gmulti_session_resolver_shutdown     (GMultiSessionResolver *self);

G_END_DECLS
