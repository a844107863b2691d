/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GMultiSession on a GMainLoop: keeps C transfers in flight by adding a new transfer
 * from the session's transfer-finished handler. Bodies go to a write function that
 * only counts them. */
#include <gmulti/gmulti.h>
#include <gio/gunixoutputstream.h>

#include "bench-common.h"

typedef struct
{
  BenchRun run;
  GMultiSession *session;
  GMainLoop *loop;
  GOutputStream *sink;           /* --sink null; NULL: count in a write function */
  const char *tls_priority;      /* GMULTI_BENCH_TLS_PRIORITY, read once */
  guint64 delivered;             /* body bytes the write function was handed */
} Bench;

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
  g_autoptr(GError) error = NULL;

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
  /* The session keeps its own reference while the transfer is added; ours is dropped
   * in the finished handler. */
  if (!gmulti_session_add (bench->session, transfer, &error))
    g_error ("gmulti_session_add: %s", error->message);
}

static void
transfer_finished_cb (GMultiSession  *session,
                      GMultiTransfer *transfer,
                      const GError   *error,
                      Bench          *bench)
{
  guint64 received = gmulti_transfer_get_bytes_received (transfer);

  if (error != NULL && g_error_matches (error, GMULTI_ERROR, GMULTI_ERROR_UNSUPPORTED_SCHEME))
    bench->run.unsupported = TRUE;
  bench_transfer_done (&bench->run, error != NULL ? error->message : NULL,
                       gmulti_transfer_get_status (transfer), received);
  g_object_unref (transfer);

  if (bench->run.unsupported)
    bench->run.count = bench->run.started;
  else if (bench_want_more (&bench->run))
    start_one (bench);
  if (bench_all_done (&bench->run))
    g_main_loop_quit (bench->loop);
}

static const GMultiHttpVersion http_versions[] = {
  [BENCH_HTTP_1_1] = GMULTI_HTTP_VERSION_HTTP_1_1,
  [BENCH_HTTP_2] = GMULTI_HTTP_VERSION_HTTP_2,
  [BENCH_HTTP_AUTO] = GMULTI_HTTP_VERSION_AUTO,
};

int
main (int    argc,
      char **argv)
{
  Bench bench = { 0 };

  /* Read once: the environment is not part of what a request costs. */
  bench.tls_priority = g_getenv ("GMULTI_BENCH_TLS_PRIORITY");
  int status;

  bench_parse_args (&bench.run, "gmulti-session", argc, argv);
  bench_raise_fd_limit ();
  if (bench.run.sink_fd >= 0)
    bench.sink = g_unix_output_stream_new (bench.run.sink_fd, TRUE);

  bench.loop = g_main_loop_new (NULL, FALSE);
  /* GMULTI_MAIN_LOOP_SOURCE picks the main-loop source (bench/run's -unix-fd label). */
  bench.session = gmulti_session_new ();
  g_printerr ("main-loop-source=%s\n",
              gmulti_session_get_main_loop_source (bench.session) ==
              GMULTI_MAIN_LOOP_SOURCE_UNIX_FD ? "unix-fd" : "epoll");
  gmulti_session_set_max_connections (bench.session, bench_connections (&bench.run));
  gmulti_session_set_max_host_connections (bench.session, bench_connections (&bench.run));
  gmulti_session_set_max_idle_connections (bench.session, bench_connections (&bench.run));
  gmulti_session_set_max_streams_per_connection (bench.session,
                                                 CLAMP (bench_streams_per_connection (&bench.run),
                                                        1, 1000));
  /* The session's version: the transfers leave theirs at AUTO. Which version carried
   * them the session cannot tell; bench/run asks the server. */
  gmulti_session_set_http_version (bench.session, http_versions[bench.run.http_version]);
  g_signal_connect (bench.session, "transfer-finished", G_CALLBACK (transfer_finished_cb),
                    &bench);

  bench_start_clock (&bench.run);
  while (bench.run.started < bench.run.concurrency && bench_want_more (&bench.run))
    start_one (&bench);
  if (!bench_all_done (&bench.run))
    g_main_loop_run (bench.loop);

  /* With an output stream, each transfer's own count was checked. */
  if (bench.sink == NULL)
    bench_check_delivered (&bench.run, bench.delivered);
  g_clear_object (&bench.sink);
  status = bench_finish (&bench.run);
  g_object_unref (bench.session);
  g_main_loop_unref (bench.loop);
  return status;
}
