/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The raw GMultiEngine on an epoll loop of its own, no GMainLoop: the socket function
 * turns interest into epoll_ctl(), the timer function sets one deadline, and finished
 * transfers are read with info_read after every engine call and replaced by new ones. */
#include <gmulti/gmulti.h>
#include <gio/gunixoutputstream.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench-common.h"

#define MAX_EVENTS 256

typedef struct
{
  BenchRun run;
  GMultiEngine *engine;
  int epfd;
  gint64 deadline_us;            /* -1: no timer */
  GOutputStream *sink;           /* --sink null; NULL: count in a write function */
  const char *tls_priority;      /* GMULTI_BENCH_TLS_PRIORITY, read once */
  guint64 delivered;
} Bench;

/* The engine hands the socket_data set with assign() back to us: a non-NULL pointer
 * means the fd is in the epoll set already, so ADD and MOD need no table of ours. */
static gboolean
socket_cb (GMultiEngine *engine,
           int           fd,
           GMultiPoll    what,
           gpointer      socket_data,
           gpointer      user_data)
{
  Bench *bench = user_data;
  struct epoll_event ev = { 0 };

  if (what == GMULTI_POLL_REMOVE)
    {
      if (epoll_ctl (bench->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != ENOENT)
        return FALSE;
      return TRUE;
    }

  ev.events = ((what & GMULTI_POLL_IN) ? EPOLLIN : 0) | ((what & GMULTI_POLL_OUT) ? EPOLLOUT : 0);
  ev.data.fd = fd;
  if (socket_data != NULL)
    return epoll_ctl (bench->epfd, EPOLL_CTL_MOD, fd, &ev) == 0;
  if (epoll_ctl (bench->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return FALSE;
  gmulti_engine_assign (engine, fd, GINT_TO_POINTER (1));
  return TRUE;
}

static gboolean
timer_cb (GMultiEngine *engine,
          gint64        timeout_ms,
          gpointer      user_data)
{
  Bench *bench = user_data;

  bench->deadline_us = timeout_ms < 0 ? -1 : bench_now_us () + timeout_ms * 1000;
  return TRUE;
}

static gboolean
count_cb (GMultiTransfer *transfer,
          const guint8   *data,
          gsize           length,
          gpointer        user_data)
{
  Bench *bench = user_data;

  bench->delivered += length;
  return TRUE;
}

static void
start_one (Bench *bench)
{
  GMultiTransfer *transfer = gmulti_transfer_new (bench->run.url);
  GMultiEngineResult result;

  /* --sink null: the output stream takes the body (spliced into the file over http). */
  if (bench->sink != NULL)
    gmulti_transfer_set_output_stream (transfer, bench->sink);
  else
    gmulti_transfer_set_write_func (transfer, count_cb, bench, NULL);
  if (bench->run.cafile != NULL)
    gmulti_transfer_set_tls_ca_file (transfer, bench->run.cafile);
  if (bench->run.proxy != NULL)
    gmulti_transfer_set_proxy_uri (transfer, bench->run.proxy);
  /* As the other clients: Accept-Encoding only with --decode. */
  gmulti_transfer_set_decode_content (transfer, bench->run.decode);
  /* To compare at one cipher: GMULTI_BENCH_TLS_PRIORITY=NORMAL is GnuTLS's order. */
  gmulti_transfer_set_tls_priority (transfer, bench->tls_priority);
  bench->run.started++;
  result = gmulti_engine_add (bench->engine, transfer);
  if (result != GMULTI_ENGINE_OK)
    {
      fprintf (stderr, "gmulti_engine_add: result %d\n", result);
      exit (1);
    }
  /* The engine holds its own reference until the transfer is removed. */
  g_object_unref (transfer);
}

static void
check_result (Bench             *bench,
              const char        *what,
              GMultiEngineResult result)
{
  if (result == GMULTI_ENGINE_OK)
    return;
  fprintf (stderr, "%s: result %d\n", what, result);
  exit (1);
}

static void
read_messages (Bench *bench)
{
  GMultiMessage *msg;
  guint queued;

  while ((msg = gmulti_engine_info_read (bench->engine, &queued)) != NULL)
    {
      GMultiTransfer *transfer = msg->transfer;

      if (msg->error != NULL &&
          g_error_matches (msg->error, GMULTI_ERROR, GMULTI_ERROR_UNSUPPORTED_SCHEME))
        bench->run.unsupported = TRUE;
      bench_transfer_done (&bench->run, msg->error != NULL ? msg->error->message : NULL,
                           gmulti_transfer_get_status (transfer),
                           gmulti_transfer_get_bytes_received (transfer));
      /* The message lives in the transfer: done with it before the remove. */
      check_result (bench, "gmulti_engine_remove", gmulti_engine_remove (bench->engine, transfer));
    }

  if (bench->run.unsupported)
    bench->run.count = bench->run.finished;
  while (bench->run.started - bench->run.finished < bench->run.concurrency &&
         bench_want_more (&bench->run))
    start_one (bench);
}

int
main (int    argc,
      char **argv)
{
  Bench bench = { 0 };

  /* Read once: the environment is not part of what a request costs. */
  bench.tls_priority = g_getenv ("GMULTI_BENCH_TLS_PRIORITY");
  struct epoll_event events[MAX_EVENTS];
  guint running;
  int status;

  bench_parse_args (&bench.run, "gmulti-engine", argc, argv);
  if (bench.run.http_version != BENCH_HTTP_1_1)
    {
      /* The public engine API has no HTTP version setting; only sessions and
       * transfers choose one. */
      fprintf (stderr, "gmulti-engine: --http-version: the engine client speaks HTTP/1.1 only\n");
      return BENCH_EXIT_UNSUPPORTED;
    }
  bench_raise_fd_limit ();
  if (bench.run.sink_fd >= 0)
    bench.sink = g_unix_output_stream_new (bench.run.sink_fd, TRUE);

  bench.deadline_us = -1;
  bench.epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (bench.epfd < 0)
    {
      perror ("epoll_create1");
      return 1;
    }
  bench.engine = gmulti_engine_new ();
  gmulti_engine_set_socket_func (bench.engine, socket_cb, &bench, NULL);
  gmulti_engine_set_timer_func (bench.engine, timer_cb, &bench, NULL);
  gmulti_engine_set_max_connections (bench.engine, bench_connections (&bench.run));
  gmulti_engine_set_max_host_connections (bench.engine, bench_connections (&bench.run));
  gmulti_engine_set_max_idle_connections (bench.engine, bench_connections (&bench.run));

  bench_start_clock (&bench.run);
  read_messages (&bench);

  while (!bench_all_done (&bench.run))
    {
      int timeout_ms = -1;
      int n;

      if (bench.deadline_us >= 0)
        {
          gint64 left = bench.deadline_us - bench_now_us ();

          /* Round up: waking early would only mean another wait. */
          timeout_ms = left <= 0 ? 0 : (int) ((left + 999) / 1000);
        }

      n = epoll_wait (bench.epfd, events, MAX_EVENTS, timeout_ms);
      if (n < 0 && errno != EINTR)
        {
          perror ("epoll_wait");
          return 1;
        }

      for (int i = 0; i < n; i++)
        {
          GMultiEvent what = 0;

          if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
            what |= GMULTI_EVENT_IN;
          if (events[i].events & EPOLLOUT)
            what |= GMULTI_EVENT_OUT;
          if (events[i].events & EPOLLERR)
            what |= GMULTI_EVENT_ERR;
          check_result (&bench, "gmulti_engine_socket_action",
                        gmulti_engine_socket_action (bench.engine, events[i].data.fd, what,
                                                     &running));
        }

      if (bench.deadline_us >= 0 && bench_now_us () >= bench.deadline_us)
        {
          bench.deadline_us = -1;
          check_result (&bench, "gmulti_engine_socket_action",
                        gmulti_engine_socket_action (bench.engine, GMULTI_SOCKET_TIMEOUT, 0,
                                                     &running));
        }
      read_messages (&bench);
    }

  /* With an output stream, each transfer's own count was checked. */
  if (bench.sink == NULL)
    bench_check_delivered (&bench.run, bench.delivered);
  g_clear_object (&bench.sink);
  status = bench_finish (&bench.run);
  gmulti_engine_unref (bench.engine);
  close (bench.epfd);
  return status;
}
