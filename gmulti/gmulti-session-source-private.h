/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-engine.h"
#include "gmulti-enums.h"

G_BEGIN_DECLS

/* The GSource that carries one engine's sockets and timer on a GMainContext.
 *
 * GLib polls every fd of every source on each loop iteration. Two backends watch the
 * sockets (gmulti-session-source-backend-private.h): where epoll exists the source
 * holds a single epoll fd, the engine's socket function edits the epoll set, and
 * dispatch asks epoll which sockets are ready, so a loop turn costs O(ready sockets)
 * whatever the number watched. The portable one hands every socket to GLib with
 * g_source_add_unix_fd(): a turn costs O(sockets watched). Idle pooled connections stay
 * registered with either and cause no wake-up until the server sends or closes. The
 * engine's timer is the source's ready time.
 *
 * The action function is called from dispatch for each ready socket and, with
 * GMULTI_SOCKET_TIMEOUT, when the timer is due. It returns FALSE when the engine refused
 * the call because it is busy (a nested main loop run from one of its callbacks): the
 * source then stops watching until gmulti_session_source_unblock() and keeps the event
 * for later, instead of spinning. */
typedef gboolean (*GMultiSessionActionFunc) (int         fd,
                                             GMultiEvent events,
                                             gpointer    user_data);

/* The backend a session asking for @requested gets: AUTO resolves through the
 * GMULTI_MAIN_LOOP_SOURCE environment variable, then to epoll where it was built;
 * epoll where it was not becomes unix-fd. Never AUTO. */
GMultiMainLoopSource gmulti_session_source_choose (GMultiMainLoopSource requested);

/* Creates the source with the backend chosen for @kind and installs its socket and
 * timer functions on @engine, which must outlive neither the source nor the action
 * data. Returns NULL with @error set when no epoll fd can be created. */
GSource *gmulti_session_source_new            (GMultiEngine           *engine,
                                               GMultiMainLoopSource    kind,
                                               GMultiSessionActionFunc action,
                                               gpointer                user_data,
                                               GError                **error);
/* Watches again after the action function reported a busy engine. Cheap when not
 * blocked: call it whenever the engine has returned. */
void     gmulti_session_source_unblock        (GSource *source);

/* The backend in use (EPOLL or UNIX_FD). */
GMultiMainLoopSource gmulti_session_source_get_kind (GSource *source);

/* For tests and debugging. */
guint    gmulti_session_source_get_n_watched  (GSource *source);
guint64  gmulti_session_source_get_n_dispatch (GSource *source);

G_END_DECLS
