/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-engine.h"

G_BEGIN_DECLS

/* The GSource that carries one engine's sockets and timer on a GMainContext.
 *
 * GLib polls every fd of every source on each loop iteration, so the source holds a
 * single epoll fd: the engine's socket function edits the epoll set, and dispatch asks
 * epoll which sockets are ready. A loop turn costs O(ready sockets), whatever the number
 * of sockets watched; idle pooled connections stay registered and cost nothing until the
 * server sends or closes. The engine's timer is the source's ready time.
 *
 * The action function is called from dispatch for each ready socket and, with
 * GMULTI_SOCKET_TIMEOUT, when the timer is due. It returns FALSE when the engine refused
 * the call because it is busy (a nested main loop run from one of its callbacks): the
 * source then stops watching until gmulti_session_source_unblock() and keeps the event
 * for later, instead of spinning. */
typedef gboolean (*GMultiSessionActionFunc) (int         fd,
                                             GMultiEvent events,
                                             gpointer    user_data);

/* Creates the source and installs its socket and timer functions on @engine, which must
 * outlive neither the source nor the action data. Returns NULL with @error set when no
 * epoll fd can be created. */
GSource *gmulti_session_source_new            (GMultiEngine           *engine,
                                               GMultiSessionActionFunc action,
                                               gpointer                user_data,
                                               GError                **error);
/* Watches again after the action function reported a busy engine. Cheap when not
 * blocked: call it whenever the engine has returned. */
void     gmulti_session_source_unblock        (GSource *source);

/* For tests and debugging. */
guint    gmulti_session_source_get_n_watched  (GSource *source);
guint64  gmulti_session_source_get_n_dispatch (GSource *source);

G_END_DECLS
