/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib-object.h>
#include <gmulti/gmulti-version.h>
#include <gmulti/gmulti-enums.h>
#include <gmulti/gmulti-transfer.h>

G_BEGIN_DECLS

#define GMULTI_TYPE_ENGINE (gmulti_engine_get_type ())
#define GMULTI_TYPE_MESSAGE (gmulti_message_get_type ())

/**
 * GMULTI_SOCKET_TIMEOUT:
 *
 * The socket value to pass to [method@Engine.socket_action] when the engine's timer
 * has expired.
 *
 * Since: 0.1
 */
#define GMULTI_SOCKET_TIMEOUT (-1)

/**
 * GMultiEngine:
 *
 * The multi engine: runs any number of [class@Transfer]s at once over a shared pool of
 * connections, without an event loop of its own.
 *
 * The application watches the sockets the engine announces through its
 * [callback@SocketFunc], arms a timer as the [callback@TimerFunc] asks, and calls
 * [method@Engine.socket_action] when a socket is ready or the timer fires. Completed
 * transfers are read from a queue with [method@Engine.info_read].
 *
 * Applications on a GLib main loop use [class@Session] instead, which does all of this.
 *
 * An engine is not locked: make all calls on it from one thread at a time, and its
 * callbacks run on that thread. Only [method@Engine.wakeup] may be called from another
 * thread at any moment; the last reference must be dropped on the engine's thread. Name
 * lookups run on worker threads, but their results come back through a descriptor the
 * engine watches, so callbacks never run there. See [Threads](threads.html).
 *
 * Since: 0.1
 */
typedef struct _GMultiEngine GMultiEngine;

/**
 * GMultiMessage:
 * @transfer: (transfer none): the transfer that completed
 * @error: (nullable) (transfer none): why it failed, or %NULL if it succeeded
 *
 * A completion message: one per transfer that completed, read with
 * [method@Engine.info_read]. It stays valid until the transfer is removed from the
 * engine or added again.
 *
 * Since: 0.1
 */
typedef struct {
  GMultiTransfer *transfer;
  GError *error;
} GMultiMessage;

/**
 * GMultiSocketFunc:
 * @engine: the engine
 * @fd: the socket
 * @what: what to watch on @fd from now on, or %GMULTI_POLL_REMOVE
 * @socket_data: (nullable): the pointer set with [method@Engine.assign] for @fd
 * @user_data: the data passed to [method@Engine.set_socket_func]
 *
 * Told what to watch on a socket. It is called only with changes since the previous
 * call for the same socket, from inside any engine call (freeing the engine included).
 * It must not call back into the engine except for [method@Engine.assign].
 *
 * Returns: %TRUE on success; %FALSE stops the engine (every transfer completes with
 *   %GMULTI_ERROR_ENGINE_STOPPED)
 *
 * Since: 0.1
 */
typedef gboolean (*GMultiSocketFunc) (GMultiEngine *engine,
                                      int           fd,
                                      GMultiPoll    what,
                                      gpointer      socket_data,
                                      gpointer      user_data);

/**
 * GMultiTimerFunc:
 * @engine: the engine
 * @timeout_ms: call [method@Engine.socket_action] with %GMULTI_SOCKET_TIMEOUT after
 *   this many milliseconds; 0 means as soon as possible (but not from inside this
 *   function), -1 deletes the timer
 * @user_data: the data passed to [method@Engine.set_timer_func]
 *
 * Told when the engine's single, non-repeating timer is due. Each call replaces the
 * previous one; it is called only when the deadline changes, whichever engine call
 * changed it. The one exception: after [method@Engine.socket_action] with
 * %GMULTI_SOCKET_TIMEOUT the timer counts as fired, and a deadline still pending is
 * told again even if it did not move (-1 is never told twice in a row).
 *
 * Returns: %TRUE on success; %FALSE stops the engine
 *
 * Since: 0.1
 */
typedef gboolean (*GMultiTimerFunc) (GMultiEngine *engine,
                                     gint64        timeout_ms,
                                     gpointer      user_data);

GMULTI_AVAILABLE_IN_ALL
GType               gmulti_engine_get_type      (void) G_GNUC_CONST;
GMULTI_AVAILABLE_IN_ALL
GType               gmulti_message_get_type     (void) G_GNUC_CONST;

GMULTI_AVAILABLE_IN_ALL
GMultiEngine       *gmulti_engine_new           (void);
GMULTI_AVAILABLE_IN_ALL
GMultiEngine       *gmulti_engine_ref           (GMultiEngine *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_engine_unref         (GMultiEngine *self);

GMULTI_AVAILABLE_IN_ALL
void                gmulti_engine_set_socket_func (GMultiEngine    *self,
                                                   GMultiSocketFunc func,
                                                   gpointer         user_data,
                                                   GDestroyNotify   destroy);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_engine_set_timer_func  (GMultiEngine    *self,
                                                   GMultiTimerFunc  func,
                                                   gpointer         user_data,
                                                   GDestroyNotify   destroy);

GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_add           (GMultiEngine   *self,
                                                 GMultiTransfer *transfer);
GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_remove        (GMultiEngine   *self,
                                                 GMultiTransfer *transfer);
GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_socket_action (GMultiEngine *self,
                                                 int           fd,
                                                 GMultiEvent   events,
                                                 guint        *running);
GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_socket_all    (GMultiEngine *self,
                                                 guint        *running);
GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_timeout       (GMultiEngine *self,
                                                 gint64       *timeout_ms);
GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_assign        (GMultiEngine *self,
                                                 int           fd,
                                                 gpointer      socket_data);
GMULTI_AVAILABLE_IN_ALL
GMultiMessage      *gmulti_engine_info_read     (GMultiEngine *self,
                                                 guint        *queued);

GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_perform       (GMultiEngine *self,
                                                 guint        *running);
GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_poll          (GMultiEngine *self,
                                                 int           timeout_ms,
                                                 guint        *n_ready);
GMULTI_AVAILABLE_IN_ALL
GMultiEngineResult  gmulti_engine_wakeup        (GMultiEngine *self);

GMULTI_AVAILABLE_IN_ALL
guint               gmulti_engine_get_n_running (GMultiEngine *self);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_engine_get_n_transfers (GMultiEngine *self);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_engine_get_n_connections (GMultiEngine *self);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_engine_get_n_idle_connections (GMultiEngine *self);

GMULTI_AVAILABLE_IN_ALL
void                gmulti_engine_set_max_connections (GMultiEngine *self,
                                                       guint         max);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_engine_get_max_connections (GMultiEngine *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_engine_set_max_host_connections (GMultiEngine *self,
                                                            guint         max);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_engine_get_max_host_connections (GMultiEngine *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_engine_set_max_idle_connections (GMultiEngine *self,
                                                            guint         max);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_engine_get_max_idle_connections (GMultiEngine *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_engine_close_idle_connections (GMultiEngine *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiEngine, gmulti_engine_unref)

G_END_DECLS
