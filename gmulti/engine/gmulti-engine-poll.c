/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "gmulti-engine-private.h"
#include "gmulti-wakeup-fd.h"

/* The calls by which an application without an event loop of its own drives the
 * engine: act on every ready socket (perform, socket_all), wait for one (poll), and
 * end that wait from another thread (wakeup, on a descriptor made on first use:
 * gmulti-wakeup-fd.c). */

/* Polls every watched socket without waiting and acts on the ready ones. */
static void
act_on_all (GMultiEngine *self)
{
  g_autofree struct pollfd *pfds = NULL;
  guint n = 0;

  if (self->sockets.count == 0)
    return;

  pfds = g_new (struct pollfd, self->sockets.count);
  for (guint i = 0; i < self->sockets.size; i++)
    {
      GMultiSocket *sock = self->sockets.by_fd[i];

      if (sock == NULL || sock->closing || sock->wanted == GMULTI_POLL_NONE)
        continue;
      pfds[n].fd = sock->fd;
      pfds[n].events = ((sock->wanted & GMULTI_POLL_IN) ? POLLIN : 0) |
                       ((sock->wanted & GMULTI_POLL_OUT) ? POLLOUT : 0);
      pfds[n].revents = 0;
      n++;
    }

  if (n == 0 || poll (pfds, n, 0) <= 0)
    return;

  for (guint i = 0; i < n; i++)
    {
      GMultiEvent events = GMULTI_EVENT_NONE;
      GMultiSocket *sock;

      if (pfds[i].revents == 0)
        continue;
      if (pfds[i].revents & (POLLIN | POLLHUP))
        events |= GMULTI_EVENT_IN;
      if (pfds[i].revents & POLLOUT)
        events |= GMULTI_EVENT_OUT;
      if (pfds[i].revents & (POLLERR | POLLNVAL))
        events |= GMULTI_EVENT_ERR;

      /* Handling one socket may have closed another meanwhile. */
      sock = gmulti_socket_table_lookup (&self->sockets, pfds[i].fd);
      if (sock != NULL)
        gmulti_engine_handle_socket (self, sock, events);
    }
}

/**
 * gmulti_engine_socket_all:
 * @self: an engine
 * @running: (out) (optional): the number of transfers not yet complete
 *
 * Checks every socket and every transfer, as if each socket had been passed to
 * [method@Engine.socket_action]. There should be no need to call this in an
 * application that reports every event.
 *
 * Returns: as [method@Engine.socket_action]
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_socket_all (GMultiEngine *self,
                          guint        *running)
{
  if (self == NULL)
    return GMULTI_ENGINE_BAD_ARGUMENT;
  if (!gmulti_engine_begin_turn (self))
    return GMULTI_ENGINE_RECURSIVE_CALL;

  /* Every socket gets its turn here: what yielded in an earlier one goes on after. The
   * timer is not the application's to re-arm here: it hears only of changes. */
  gmulti_engine_release_yielded (self);
  act_on_all (self);
  gmulti_engine_finish_turn (self, running);
  return gmulti_engine_end_turn (self);
}

/**
 * gmulti_engine_perform:
 * @self: an engine
 * @running: (out) (optional): the number of transfers not yet complete
 *
 * Does, without waiting, everything that can be done now on every transfer. For
 * applications without an event loop: call it, then [method@Engine.poll] to wait for
 * something to do, in a loop, until @running is 0.
 *
 * Returns: as [method@Engine.socket_action]
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_perform (GMultiEngine *self,
                       guint        *running)
{
  /* The same turn: every socket acted on, what yielded goes on after. */
  return gmulti_engine_socket_all (self, running);
}

/* The wake-up descriptor, made on first use. A poll on the engine's thread and a
 * wake-up from another may both be first: one descriptor wins, the other is closed,
 * so the wake-up is never written where the poll does not look. */
static const GMultiWakeupFd *
get_wakeup (GMultiEngine *self)
{
  GMultiWakeupFd *wakeup = g_atomic_pointer_get (&self->wakeup);

  if (wakeup == NULL)
    {
      GMultiWakeupFd *made = g_new (GMultiWakeupFd, 1);

      if (!gmulti_wakeup_fd_open (made))
        {
          g_free (made);
          return NULL;
        }
      if (!g_atomic_pointer_compare_and_exchange (&self->wakeup, NULL, made))
        {
          gmulti_wakeup_fd_close (made);
          g_free (made);
        }
      wakeup = g_atomic_pointer_get (&self->wakeup);
    }
  return wakeup;
}

/**
 * gmulti_engine_poll:
 * @self: an engine
 * @timeout_ms: the longest wait in milliseconds; the engine's own deadline shortens
 *   it. It waits even when the engine has no sockets.
 * @n_ready: (out) (optional): the number of sockets ready when it returned
 *
 * Waits until a socket of the engine is ready, a deadline passes, the timeout ends,
 * or another thread calls [method@Engine.wakeup].
 *
 * Returns: %GMULTI_ENGINE_OK, %GMULTI_ENGINE_RECURSIVE_CALL from inside a callback,
 *   %GMULTI_ENGINE_OUT_OF_RESOURCES if the wake-up descriptor cannot be created
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_poll (GMultiEngine *self,
                    int           timeout_ms,
                    guint        *n_ready)
{
  g_autofree struct pollfd *pfds = NULL;
  gint64 deadline;
  guint n = 0;
  const GMultiWakeupFd *wakeup;
  int ready;

  if (n_ready != NULL)
    *n_ready = 0;
  if (self == NULL)
    return GMULTI_ENGINE_BAD_ARGUMENT;
  if (self->busy)
    return GMULTI_ENGINE_RECURSIVE_CALL;
  wakeup = get_wakeup (self);
  if (wakeup == NULL)
    return GMULTI_ENGINE_OUT_OF_RESOURCES;

  pfds = g_new (struct pollfd, self->sockets.count + 1);
  pfds[n].fd = wakeup->read_fd;
  pfds[n].events = POLLIN;
  n++;
  for (guint i = 0; i < self->sockets.size; i++)
    {
      GMultiSocket *sock = self->sockets.by_fd[i];

      if (sock == NULL || sock->closing || sock->wanted == GMULTI_POLL_NONE)
        continue;
      pfds[n].fd = sock->fd;
      pfds[n].events = ((sock->wanted & GMULTI_POLL_IN) ? POLLIN : 0) |
                       ((sock->wanted & GMULTI_POLL_OUT) ? POLLOUT : 0);
      n++;
    }

  deadline = gmulti_engine_current_deadline (self);
  if (deadline == 0)
    timeout_ms = 0;
  else if (deadline > 0)
    {
      gint64 left = (deadline - g_get_monotonic_time () + 999) / 1000;

      timeout_ms = (int) CLAMP (left, 0, timeout_ms < 0 ? G_MAXINT : timeout_ms);
    }

  do
    ready = poll (pfds, n, timeout_ms);
  while (ready < 0 && errno == EINTR);

  if (ready > 0 && pfds[0].revents != 0)
    {
      gmulti_wakeup_fd_drain (wakeup);
      ready--;
    }
  if (n_ready != NULL)
    *n_ready = MAX (ready, 0);
  return GMULTI_ENGINE_OK;
}

/**
 * gmulti_engine_wakeup:
 * @self: an engine
 *
 * Makes a [method@Engine.poll] that is waiting, or the next one, return at once. Safe
 * to call from any thread that holds a reference, at any moment (the one engine call
 * that is); several wake-ups before the poll returns count as one.
 *
 * Returns: %GMULTI_ENGINE_OK or %GMULTI_ENGINE_OUT_OF_RESOURCES
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_wakeup (GMultiEngine *self)
{
  const GMultiWakeupFd *wakeup;

  if (self == NULL)
    return GMULTI_ENGINE_BAD_ARGUMENT;

  wakeup = get_wakeup (self);
  if (wakeup == NULL || !gmulti_wakeup_fd_signal (wakeup))
    return GMULTI_ENGINE_OUT_OF_RESOURCES;
  return GMULTI_ENGINE_OK;
}
