/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcurl's multi interface driven from a GMainLoop with curl_multi_socket_action, in
 * the way that costs least:
 *
 * - one GSource per socket, created when libcurl first announces the socket, changed
 *   in place with g_source_modify_unix_fd() on IN <-> OUT, destroyed on REMOVE;
 * - one timer GSource for the whole run whose ready time is moved: -1 disarms it, 0
 *   makes it dispatch on the next iteration (what an idle would do), N ms arms it; on
 *   expiry it calls socket_action with CURL_SOCKET_TIMEOUT;
 * - the sources may recurse (g_source_set_can_recurse): their callbacks never iterate
 *   the context, and it spares GLib removing and re-adding each fd around every
 *   dispatch;
 * - the fd watch never returns G_SOURCE_REMOVE by itself, since libcurl keeps
 *   expecting events until it says REMOVE.
 *
 * Each transfer gets a new easy handle, as in the other clients. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-curl-common.h"

typedef struct
{
  BenchRun run;
  CURLM *multi;
  GMainLoop *loop;
  GSource *timer;
} Bench;

/* The watch of one socket: libcurl's per-socket pointer (curl_multi_assign). */
typedef struct
{
  GSource source;
  Bench *bench;
  curl_socket_t fd;
  gpointer tag;
} SocketSource;

static void
after_action (Bench    *bench,
              CURLMcode code)
{
  if (code != CURLM_OK)
    {
      fprintf (stderr, "curl_multi_socket_action: %s\n", curl_multi_strerror (code));
      exit (1);
    }
  bench_curl_read_messages (&bench->run, bench->multi);
  if (bench_all_done (&bench->run))
    g_main_loop_quit (bench->loop);
}

static gboolean
socket_dispatch (GSource    *source,
                 GSourceFunc callback,
                 gpointer    user_data)
{
  SocketSource *self = (SocketSource *) source;
  GIOCondition cond = g_source_query_unix_fd (source, self->tag);
  Bench *bench = self->bench;
  int mask = 0;
  int running;

  if (cond & (G_IO_IN | G_IO_HUP))
    mask |= CURL_CSELECT_IN;
  if (cond & G_IO_OUT)
    mask |= CURL_CSELECT_OUT;
  if (cond & G_IO_ERR)
    mask |= CURL_CSELECT_ERR;
  /* This may destroy this very source (REMOVE): touch nothing of it afterwards. */
  after_action (bench, curl_multi_socket_action (bench->multi, self->fd, mask, &running));
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs socket_source_funcs = {
  .dispatch = socket_dispatch,
};

/* The one timer: its ready time is libcurl's deadline. */
typedef struct
{
  GSource source;
  Bench *bench;
} TimerSource;

static gboolean
timer_dispatch (GSource    *source,
                GSourceFunc callback,
                gpointer    user_data)
{
  Bench *bench = ((TimerSource *) source)->bench;
  int running;

  /* Disarm first: libcurl arms it again from inside the call if it has to. */
  g_source_set_ready_time (source, -1);
  after_action (bench, curl_multi_socket_action (bench->multi, CURL_SOCKET_TIMEOUT, 0,
                                                 &running));
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
  .dispatch = timer_dispatch,
};

static GIOCondition
condition_for (int what)
{
  GIOCondition cond = G_IO_HUP | G_IO_ERR;

  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
    cond |= G_IO_IN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
    cond |= G_IO_OUT;
  return cond;
}

static int
socket_cb (CURL          *easy,
           curl_socket_t  fd,
           int            what,
           void          *user_data,
           void          *socket_data)
{
  Bench *bench = user_data;
  SocketSource *watch = socket_data;

  if (what == CURL_POLL_REMOVE)
    {
      if (watch != NULL)
        {
          curl_multi_assign (bench->multi, fd, NULL);
          g_source_destroy (&watch->source);
          g_source_unref (&watch->source);
        }
      return 0;
    }

  if (watch == NULL)
    {
      watch = (SocketSource *) g_source_new (&socket_source_funcs, sizeof *watch);
      watch->bench = bench;
      watch->fd = fd;
      watch->tag = g_source_add_unix_fd (&watch->source, fd, condition_for (what));
      g_source_set_can_recurse (&watch->source, TRUE);
      g_source_attach (&watch->source, NULL);
      curl_multi_assign (bench->multi, fd, watch);
    }
  else
    {
      g_source_modify_unix_fd (&watch->source, watch->tag, condition_for (what));
    }
  return 0;
}

static int
timer_cb (CURLM *multi,
          long   timeout_ms,
          void  *user_data)
{
  Bench *bench = user_data;

  if (timeout_ms < 0)
    g_source_set_ready_time (bench->timer, -1);
  else if (timeout_ms == 0)
    g_source_set_ready_time (bench->timer, 0);
  else
    g_source_set_ready_time (bench->timer, g_get_monotonic_time () + timeout_ms * 1000);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  Bench bench = { 0 };
  int status;

  bench_parse_args (&bench.run, "curl-glib", argc, argv);
  bench_raise_fd_limit ();

  bench.loop = g_main_loop_new (NULL, FALSE);
  bench.timer = g_source_new (&timer_source_funcs, sizeof (TimerSource));
  ((TimerSource *) bench.timer)->bench = &bench;
  g_source_set_can_recurse (bench.timer, TRUE);
  g_source_set_ready_time (bench.timer, -1);
  g_source_attach (bench.timer, NULL);

  bench.multi = bench_curl_multi_new (&bench.run);
  curl_multi_setopt (bench.multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt (bench.multi, CURLMOPT_SOCKETDATA, &bench);
  curl_multi_setopt (bench.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt (bench.multi, CURLMOPT_TIMERDATA, &bench);

  bench_start_clock (&bench.run);
  bench_curl_read_messages (&bench.run, bench.multi);
  if (!bench_all_done (&bench.run))
    g_main_loop_run (bench.loop);

  status = bench_finish (&bench.run);
  /* Cleanup may still announce REMOVE for open sockets: the sources go then. */
  curl_multi_cleanup (bench.multi);
  curl_global_cleanup ();
  g_source_destroy (bench.timer);
  g_source_unref (bench.timer);
  g_main_loop_unref (bench.loop);
  return status;
}
