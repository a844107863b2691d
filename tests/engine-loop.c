/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <poll.h>

#include "engine-loop.h"

static gboolean
socket_cb (GMultiEngine *engine,
           int           fd,
           GMultiPoll    what,
           gpointer      socket_data,
           gpointer      user_data)
{
  EngineLoop *loop = user_data;
  gpointer old;
  gboolean known = g_hash_table_lookup_extended (loop->watched, GINT_TO_POINTER (fd), NULL, &old);

  loop->n_socket_calls++;
  if (fcntl (fd, F_GETFD) < 0)
    {
      g_test_message ("socket %d announced (%d) after it was closed", fd, what);
      loop->n_contract_violations++;
    }
  if (what == GMULTI_POLL_REMOVE)
    {
      if (!known)
        {
          g_test_message ("REMOVE for socket %d that was never announced", fd);
          loop->n_contract_violations++;
        }
      g_hash_table_remove (loop->watched, GINT_TO_POINTER (fd));
    }
  else
    {
      if (known && GPOINTER_TO_INT (old) == (int) what)
        {
          g_test_message ("socket %d announced %d twice in a row", fd, what);
          loop->n_contract_violations++;
        }
      g_hash_table_insert (loop->watched, GINT_TO_POINTER (fd), GINT_TO_POINTER (what));
    }

  if (loop->in_socket_func != NULL)
    loop->in_socket_func (loop->in_socket_func_data);
  return !loop->fail_socket_func;
}

static gboolean
timer_cb (GMultiEngine *engine,
          gint64        timeout_ms,
          gpointer      user_data)
{
  EngineLoop *loop = user_data;

  /* Told only when the deadline changes: -1 twice deletes nothing, and 0 twice is news
   * only after the timer fired and was gone. */
  if (loop->timer_values->len > 0)
    {
      gint64 previous = g_array_index (loop->timer_values, gint64, loop->timer_values->len - 1);

      if (timeout_ms == previous && (timeout_ms < 0 || (timeout_ms == 0 && !loop->timer_fired)))
        {
          g_test_message ("timer told %" G_GINT64_FORMAT " twice in a row", timeout_ms);
          loop->n_contract_violations++;
        }
    }
  loop->timer_fired = FALSE;
  loop->n_timer_calls++;
  g_array_append_val (loop->timer_values, timeout_ms);
  loop->timer_deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time () + timeout_ms * 1000;
  return !loop->fail_timer_func;
}

EngineLoop *
engine_loop_new (void)
{
  EngineLoop *loop = g_new0 (EngineLoop, 1);

  loop->engine = gmulti_engine_new ();
  loop->watched = g_hash_table_new (NULL, NULL);
  loop->timer_deadline = -1;
  loop->timer_values = g_array_new (FALSE, FALSE, sizeof (gint64));
  loop->messages = g_ptr_array_new_with_free_func (g_object_unref);
  gmulti_engine_set_socket_func (loop->engine, socket_cb, loop, NULL);
  gmulti_engine_set_timer_func (loop->engine, timer_cb, loop, NULL);
  return loop;
}

void
engine_loop_free (EngineLoop *loop)
{
  gmulti_engine_unref (loop->engine);
  /* Freeing the engine announced REMOVE for everything. */
  g_assert_cmpuint (g_hash_table_size (loop->watched), ==, 0);
  g_hash_table_unref (loop->watched);
  g_array_unref (loop->timer_values);
  g_ptr_array_unref (loop->messages);
  g_free (loop);
}

void
engine_loop_drain (EngineLoop *loop)
{
  GMultiMessage *msg;

  while ((msg = gmulti_engine_info_read (loop->engine, NULL)) != NULL)
    g_ptr_array_add (loop->messages, g_object_ref (msg->transfer));
}

void
engine_loop_iterate (EngineLoop *loop,
                     int         max_wait_ms)
{
  g_autofree struct pollfd *pfds = g_new0 (struct pollfd, g_hash_table_size (loop->watched) + 1);
  GHashTableIter iter;
  gpointer key, value;
  guint n = 0;
  int wait = max_wait_ms;

  g_hash_table_iter_init (&iter, loop->watched);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GMultiPoll what = GPOINTER_TO_INT (value);

      pfds[n].fd = GPOINTER_TO_INT (key);
      pfds[n].events = ((what & GMULTI_POLL_IN) ? POLLIN : 0) | ((what & GMULTI_POLL_OUT) ? POLLOUT : 0);
      n++;
    }

  if (loop->timer_deadline >= 0)
    {
      gint64 left = (loop->timer_deadline - g_get_monotonic_time () + 999) / 1000;

      wait = (int) CLAMP (left, 0, max_wait_ms);
    }

  if (loop->drive == ENGINE_LOOP_SOCKET_ALL)
    {
      /* The deadline last told stays in force until the engine replaces it. */
      if (poll (pfds, n, wait) > 0 ||
          (loop->timer_deadline >= 0 && g_get_monotonic_time () >= loop->timer_deadline))
        loop->last_result = gmulti_engine_socket_all (loop->engine, &loop->running);
      engine_loop_drain (loop);
      return;
    }

  if (poll (pfds, n, wait) > 0)
    {
      for (guint i = 0; i < n; i++)
        {
          GMultiEvent events = 0;

          if (pfds[i].revents == 0)
            continue;
          if (pfds[i].revents & (POLLIN | POLLHUP))
            events |= GMULTI_EVENT_IN;
          if (pfds[i].revents & POLLOUT)
            events |= GMULTI_EVENT_OUT;
          if (pfds[i].revents & POLLERR)
            events |= GMULTI_EVENT_ERR;
          if (loop->drive == ENGINE_LOOP_CHECK_FD)
            events = GMULTI_EVENT_NONE;
          loop->last_result = gmulti_engine_socket_action (loop->engine, pfds[i].fd, events,
                                                           &loop->running);
        }
    }

  if (loop->timer_deadline >= 0 && g_get_monotonic_time () >= loop->timer_deadline)
    {
      /* A fired timer is gone; the engine sets a new one if it still needs one. */
      loop->timer_deadline = -1;
      loop->timer_fired = TRUE;
      loop->last_result = gmulti_engine_socket_action (loop->engine, GMULTI_SOCKET_TIMEOUT, 0,
                                                       &loop->running);
    }
  engine_loop_drain (loop);
}

gboolean
engine_loop_run (EngineLoop *loop,
                 guint       timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (gmulti_engine_get_n_running (loop->engine) > 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 50);
  engine_loop_drain (loop);
  return gmulti_engine_get_n_running (loop->engine) == 0;
}

gboolean
engine_loop_run_until_done (EngineLoop     *loop,
                            GMultiTransfer *transfer,
                            guint           timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      for (guint i = 0; i < loop->messages->len; i++)
        if (loop->messages->pdata[i] == transfer)
          return TRUE;
      engine_loop_iterate (loop, 50);
    }
  return FALSE;
}
