/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <poll.h>
#include <stdlib.h>

#include "engine-driver.h"

#define MAX_WATCHED 64

static void
require (gboolean    ok,
         const char *what)
{
  if (G_LIKELY (ok))
    return;
  g_printerr ("engine driver: %s\n", what);
  abort ();
}

static gboolean
socket_cb (GMultiEngine *engine,
           int           fd,
           GMultiPoll    what,
           gpointer      socket_data,
           gpointer      user_data)
{
  EngineDriver *self = user_data;

  if (what == GMULTI_POLL_REMOVE)
    require (g_hash_table_remove (self->watched, GINT_TO_POINTER (fd)),
             "a socket never announced was removed");
  else
    g_hash_table_insert (self->watched, GINT_TO_POINTER (fd), GINT_TO_POINTER (what));
  return TRUE;
}

static gboolean
timer_cb (GMultiEngine *engine,
          gint64        timeout_ms,
          gpointer      user_data)
{
  EngineDriver *self = user_data;

  self->timer_deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time () + timeout_ms * 1000;
  return TRUE;
}

void
engine_driver_init (EngineDriver *self,
                    GMultiEngine *engine,
                    void        (*after_action) (gpointer data),
                    gpointer      data)
{
  self->engine = engine;
  self->watched = g_hash_table_new (NULL, NULL);
  self->timer_deadline = -1;
  self->after_action = after_action;
  self->data = data;
  gmulti_engine_set_socket_func (engine, socket_cb, self, NULL);
  gmulti_engine_set_timer_func (engine, timer_cb, self, NULL);
}

void
engine_driver_clear (EngineDriver *self)
{
  /* Freeing the engine announced REMOVE for every socket it had announced. */
  require (g_hash_table_size (self->watched) == 0, "the engine left sockets announced");
  g_clear_pointer (&self->watched, g_hash_table_unref);
  self->engine = NULL;
}

void
engine_driver_action (EngineDriver *self,
                      int           fd,
                      GMultiEvent   events)
{
  guint running = 0;

  require (gmulti_engine_socket_action (self->engine, fd, events, &running) == GMULTI_ENGINE_OK,
           "a socket action failed");
  self->after_action (self->data);
}

gboolean
engine_driver_step (EngineDriver *self)
{
  struct pollfd pfds[MAX_WATCHED];
  GHashTableIter iter;
  gpointer key, value;
  gboolean progress = FALSE;
  guint n = 0;

  require (g_hash_table_size (self->watched) <= MAX_WATCHED, "too many sockets announced");
  g_hash_table_iter_init (&iter, self->watched);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GMultiPoll what = GPOINTER_TO_INT (value);

      pfds[n].fd = GPOINTER_TO_INT (key);
      pfds[n].events = ((what & GMULTI_POLL_IN) ? POLLIN : 0) |
                       ((what & GMULTI_POLL_OUT) ? POLLOUT : 0);
      pfds[n].revents = 0;
      n++;
    }

  if (n > 0 && poll (pfds, n, 0) > 0)
    for (guint i = 0; i < n; i++)
      {
        GMultiEvent events = 0;

        if (pfds[i].revents & (POLLIN | POLLHUP))
          events |= GMULTI_EVENT_IN;
        if (pfds[i].revents & POLLOUT)
          events |= GMULTI_EVENT_OUT;
        if (pfds[i].revents & POLLERR)
          events |= GMULTI_EVENT_ERR;
        /* Announced interest may have changed during an earlier action of this round. */
        if (events == 0 || !g_hash_table_contains (self->watched, GINT_TO_POINTER (pfds[i].fd)))
          continue;
        engine_driver_action (self, pfds[i].fd, events);
        progress = TRUE;
      }

  if (self->timer_deadline >= 0 && g_get_monotonic_time () >= self->timer_deadline)
    {
      self->timer_deadline = -1;
      engine_driver_action (self, GMULTI_SOCKET_TIMEOUT, 0);
      progress = TRUE;
    }
  return progress;
}
