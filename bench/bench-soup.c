/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libsoup 3: one SoupSession allowing C connections (in all and per host), with C
 * soup_session_send_and_read_async() calls in flight; each completion starts the next.
 * send_and_read collects every body in memory: libsoup has no cheaper way to read a
 * whole body asynchronously short of driving the input stream by hand. With
 * --sink null, soup_session_send_async() and g_output_stream_splice_async() into
 * /dev/null instead, the way libsoup downloads to a file. */
#include <libsoup/soup.h>
#include <gio/gunixoutputstream.h>

#include "bench-common.h"

typedef struct
{
  BenchRun run;
  SoupSession *session;
  GMainLoop *loop;
} Bench;

typedef struct
{
  Bench *bench;
  SoupMessage *msg;
  GOutputStream *sink;
} Download;

static void start_one (Bench *bench);

/* libsoup 3.2 offers h2 and http/1.1 over TLS whatever --http-version says (it has no
 * way to refuse h2); the report gives what the message used. */
static void
note_http_version (Bench       *bench,
                   SoupMessage *msg)
{
  bench_note_http_version (&bench->run,
                           soup_message_get_http_version (msg) == SOUP_HTTP_2_0 ? "2" : "1.1");
}

static void
sent_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Bench *bench = user_data;
  SoupSession *session = SOUP_SESSION (object);
  SoupMessage *msg = soup_session_get_async_result_message (session, result);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;

  body = soup_session_send_and_read_finish (session, result, &error);
  if (error == NULL)
    note_http_version (bench, msg);
  bench_transfer_done (&bench->run, error != NULL ? error->message : NULL,
                       soup_message_get_status (msg),
                       body != NULL ? g_bytes_get_size (body) : 0);

  if (bench_want_more (&bench->run))
    start_one (bench);
  if (bench_all_done (&bench->run))
    g_main_loop_quit (bench->loop);
}

static void
finish_one (Bench      *bench,
            const char *error,
            guint       status,
            guint64     bytes)
{
  bench_transfer_done (&bench->run, error, status, bytes);
  if (bench_want_more (&bench->run))
    start_one (bench);
  if (bench_all_done (&bench->run))
    g_main_loop_quit (bench->loop);
}

static void
spliced_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Download *download = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_output_stream_splice_finish (G_OUTPUT_STREAM (object), result, &error);

  finish_one (download->bench, error != NULL ? error->message : NULL,
              soup_message_get_status (download->msg), n > 0 ? (guint64) n : 0);
  g_object_unref (download->sink);
  g_object_unref (download->msg);
  g_free (download);
}

static void
sent_to_sink_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Download *download = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) body = soup_session_send_finish (SOUP_SESSION (object), result,
                                                           &error);

  if (body == NULL)
    {
      finish_one (download->bench, error->message, 0, 0);
      g_object_unref (download->msg);
      g_free (download);
      return;
    }
  /* A stream per download (a stream takes one operation at a time) on the shared
   * /dev/null descriptor, which stays open. */
  note_http_version (download->bench, download->msg);
  download->sink = g_unix_output_stream_new (download->bench->run.sink_fd, FALSE);
  g_output_stream_splice_async (download->sink, body,
                                G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, G_PRIORITY_DEFAULT,
                                NULL, spliced_cb, download);
}

static void
start_one (Bench *bench)
{
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, bench->run.url);

  if (msg == NULL)
    g_error ("cannot parse URL %s", bench->run.url);
  bench->run.started++;
  if (bench->run.sink_fd >= 0)
    {
      Download *download = g_new0 (Download, 1);

      download->bench = bench;
      download->msg = g_object_ref (msg);
      soup_session_send_async (bench->session, msg, G_PRIORITY_DEFAULT, NULL,
                               sent_to_sink_cb, download);
      return;
    }
  /* The session keeps the message alive until the callback has run. */
  soup_session_send_and_read_async (bench->session, msg, G_PRIORITY_DEFAULT, NULL,
                                    sent_cb, bench);
}

int
main (int    argc,
      char **argv)
{
  Bench bench = { 0 };
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  bench_parse_args (&bench.run, "soup", argc, argv);
  bench_raise_fd_limit ();

  if (bench.run.cafile != NULL)
    {
      /* GTlsFileDatabase insists on an absolute path. */
      g_autofree char *path = g_canonicalize_filename (bench.run.cafile, NULL);

      database = g_tls_file_database_new (path, &error);
      if (database == NULL)
        g_error ("%s: %s", bench.run.cafile, error->message);
    }

  bench.loop = g_main_loop_new (NULL, FALSE);
  bench.session = soup_session_new_with_options ("max-conns",
                                                 (int) bench_connections (&bench.run),
                                                 "max-conns-per-host",
                                                 (int) bench_connections (&bench.run),
                                                 NULL);
  if (database != NULL)
    soup_session_set_tls_database (bench.session, database);
  /* libsoup decodes by default; as the other clients, only with --decode. */
  if (!bench.run.decode)
    soup_session_remove_feature_by_type (bench.session, SOUP_TYPE_CONTENT_DECODER);

  bench_start_clock (&bench.run);
  while (bench.run.started < bench.run.concurrency && bench_want_more (&bench.run))
    start_one (&bench);
  if (!bench_all_done (&bench.run))
    g_main_loop_run (bench.loop);

  status = bench_finish (&bench.run);
  g_object_unref (bench.session);
  g_main_loop_unref (bench.loop);
  return status;
}
