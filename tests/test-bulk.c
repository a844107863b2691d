/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gio/gunixoutputstream.h>

#include "gmulti.h"
#include "gmulti-transfer-private.h"
#include "engine-loop.h"
#include "test-server.h"
#include "test-certs.h"

/* Long bodies over http:// and https://: a socket low-water mark that must never
 * outlast the body (the tail arrives in small, slow pieces, then a small response on
 * the same connection), and bodies written to an output stream (spliced from the
 * socket into a file, or copied), checked byte for byte. */

#define WAIT_MS 60000
/* Larger than the engine's low-water range, so the mark is set, then lowered. */
#define FAST_PART (700 * 1024)
#define TAIL_PIECES 6
#define TAIL_PIECE 9001
#define STALL_TAIL (300 * 1024)
#define STALL_MS 1500
/* Several pipe-fulls, and not a multiple of anything. */
#define FILE_BODY (3 * 1024 * 1024 + 4321)


/* More than @more bytes went socket -> file through splice(); where the build has no
 * splice() (-Dlinux_calls=disabled, other systems) they were all copied. */
static void
assert_spliced (guint64 spliced,
                guint64 more)
{
#if GMULTI_USE_SPLICE
  g_assert_cmpuint (spliced, >, more);
#else
  g_assert_cmpuint (spliced, ==, 0);
#endif
}

static char *certs_dir;

static guint8
pattern_byte (guint64 i)
{
  return (guint8) ((i * 2654435761u) >> 13);
}

static guint8 *
pattern (gsize length)
{
  guint8 *data = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    data[i] = pattern_byte (i);
  return data;
}

/* /stall: FAST_PART bytes at once, a pause of STALL_MS, then STALL_TAIL bytes;
 * /slow-tail: FAST_PART bytes at once, then TAIL_PIECES pieces 80 ms apart;
 * /small: "small". Keep-alive throughout. */
static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  if (g_str_equal (req->target, "/slow-tail"))
    {
      gsize total = FAST_PART + TAIL_PIECES * TAIL_PIECE;
      g_autofree guint8 *body = pattern (total);

      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                        total);
      if (!test_conn_write (conn, body, FAST_PART))
        return FALSE;
      for (guint i = 0; i < TAIL_PIECES; i++)
        {
          test_conn_sleep (conn, 80);
          if (!test_conn_write (conn, body + FAST_PART + i * TAIL_PIECE, TAIL_PIECE))
            return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (req->target, "/stall"))
    {
      gsize total = FAST_PART + STALL_TAIL;
      g_autofree guint8 *body = pattern (total);

      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                        total);
      if (!test_conn_write (conn, body, FAST_PART))
        return FALSE;
      test_conn_sleep (conn, STALL_MS);
      return test_conn_write (conn, body + FAST_PART, STALL_TAIL);
    }
  if (g_str_equal (req->target, "/file") || g_str_equal (req->target, "/cut") ||
      g_str_equal (req->target, "/until-close"))
    {
      g_autofree guint8 *body = pattern (FILE_BODY);
      gboolean cut = g_str_equal (req->target, "/cut");

      if (g_str_equal (req->target, "/until-close"))
        test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
      else
        test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", FILE_BODY);
      if (!test_conn_write (conn, body, cut ? FILE_BODY / 2 : FILE_BODY))
        return FALSE;
      return g_str_equal (req->target, "/file");
    }
  if (g_str_equal (req->target, "/file-then-junk"))
    {
      /* Part of the body, a pause (the client splices it and waits), then the rest
       * with a response nobody asked for in the same write. */
      g_autofree guint8 *body = pattern (FILE_BODY);
      static const char junk[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!";
      g_autofree guint8 *tail = g_malloc (FILE_BODY / 2 + sizeof junk - 1);

      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", FILE_BODY);
      if (!test_conn_write (conn, body, FILE_BODY - FILE_BODY / 2))
        return FALSE;
      test_conn_sleep (conn, 100);
      memcpy (tail, body + FILE_BODY - FILE_BODY / 2, FILE_BODY / 2);
      memcpy (tail + FILE_BODY / 2, junk, sizeof junk - 1);
      if (!test_conn_write (conn, tail, FILE_BODY / 2 + sizeof junk - 1))
        return FALSE;
      test_conn_sleep (conn, 300);
      return FALSE;
    }
  if (g_str_equal (req->target, "/trailing-response"))
    {
      /* A response, then at once (in records of its own over TLS) a second one nobody
       * asked for: it must never answer the next request on this connection. */
      if (!test_conn_respond (conn, 200, "text/plain", "small", 5))
        return FALSE;
      test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!");
      test_conn_sleep (conn, 300);
      return FALSE;
    }
  if (g_str_equal (req->target, "/small"))
    return test_conn_respond (conn, 200, "text/plain", "small", 5);
  return test_conn_respond (conn, 404, NULL, NULL, 0);
}

static TestServer *
start_server (gboolean tls)
{
  g_autofree char *cert_file = NULL;
  g_autofree char *key_file = NULL;
  TestTlsOptions options = { 0 };

  if (!tls)
    return test_server_new (TEST_SERVER_IPV4, handler, NULL);

  cert_file = g_build_filename (certs_dir, "server.pem", NULL);
  key_file = g_build_filename (certs_dir, "server-key.pem", NULL);
  options.cert_file = cert_file;
  options.key_file = key_file;
  return test_server_new_tls (TEST_SERVER_IPV4, &options, handler, NULL);
}

static GMultiTransfer *
new_transfer (TestServer *server,
              const char *path)
{
  g_autofree char *uri = test_server_uri (server, path);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  if (test_server_is_tls (server))
    {
      g_autofree char *ca = g_build_filename (certs_dir, "ca.pem", NULL);

      gmulti_transfer_set_tls_ca_file (transfer, ca);
    }
  return transfer;
}

static void
run_transfer (EngineLoop     *loop,
              GMultiTransfer *transfer)
{
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static void
check_slow_tail (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  g_autoptr(TestServer) server = start_server (tls);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/slow-tail");
  g_autoptr(GMultiTransfer) second = new_transfer (server, "/small");
  gsize total = FAST_PART + TAIL_PIECES * TAIL_PIECE;
  g_autofree guint8 *expected = pattern (total);
  gint64 start = g_get_monotonic_time ();

  gmulti_transfer_set_collect_body (first, TRUE);
  gmulti_transfer_set_collect_body (second, TRUE);

  run_transfer (loop, first);
  {
    g_autoptr(GBytes) body = gmulti_transfer_get_response_body (first);

    g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), expected, total);
  }

  /* The same connection: a mark left behind would hold back this short answer. */
  run_transfer (loop, second);
  {
    g_autoptr(GBytes) body = gmulti_transfer_get_response_body (second);

    g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "small", 5);
  }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);

  /* A mark above what is left would wait for the server's idle timeout (10 s). */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* The server pauses in the middle of a fast body: what arrived before the pause is
 * handed out during it, not held back by a low-water mark until more comes. */
static void
check_stall (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  g_autoptr(TestServer) server = start_server (tls);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/stall");
  gint64 start = g_get_monotonic_time ();
  gint64 during = start + (STALL_MS - 300) * 1000;

  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  while (gmulti_transfer_get_bytes_received (transfer) < FAST_PART &&
         g_get_monotonic_time () < during)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, FAST_PART);

  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, FAST_PART + STALL_TAIL);
}

/* Bytes after a complete response are never taken as the answer to the next request:
 * the connection is not reused (over TLS they may already sit in the read-ahead
 * buffer, where the socket will not signal them). */
static void
check_trailing_response (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  g_autoptr(TestServer) server = start_server (tls);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/trailing-response");
  g_autoptr(GMultiTransfer) second = new_transfer (server, "/small");

  gmulti_transfer_set_collect_body (first, TRUE);
  gmulti_transfer_set_collect_body (second, TRUE);
  run_transfer (loop, first);
  /* Let the unasked-for bytes arrive, as they would between two requests. */
  for (guint i = 0; i < 10; i++)
    engine_loop_iterate (loop, 10);

  run_transfer (loop, second);
  {
    g_autoptr(GBytes) body = gmulti_transfer_get_response_body (second);

    g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "small", 5);
  }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
}

/* ------------------------------------------------------------- output streams */

typedef enum {
  SINK_FILE,                    /* g_file_replace(): splice over http */
  SINK_APPEND,                  /* g_file_append_to(): O_APPEND, copied */
  SINK_MEMORY,                  /* GMemoryOutputStream: copied */
  SINK_FILE_WITH_DATA_SIGNAL,   /* a "data" handler: copied, and the signal sees all */
} SinkKind;

typedef struct {
  GFile *file;
  GOutputStream *stream;
  guint64 data_signal_bytes;
} Sink;

static void
sink_open (Sink     *sink,
           SinkKind  kind)
{
  g_autoptr(GFileIOStream) io = NULL;
  GError *error = NULL;

  memset (sink, 0, sizeof *sink);
  if (kind == SINK_MEMORY)
    {
      sink->stream = g_memory_output_stream_new_resizable ();
      return;
    }
  sink->file = g_file_new_tmp ("gmulti-bulk-XXXXXX", &io, &error);
  g_assert_no_error (error);
  if (kind == SINK_APPEND)
    sink->stream = G_OUTPUT_STREAM (g_file_append_to (sink->file, G_FILE_CREATE_NONE, NULL,
                                                      &error));
  else
    sink->stream = G_OUTPUT_STREAM (g_file_replace (sink->file, NULL, FALSE,
                                                    G_FILE_CREATE_NONE, NULL, &error));
  g_assert_no_error (error);
}

static GBytes *
sink_contents (Sink *sink)
{
  GError *error = NULL;
  char *data = NULL;
  gsize length = 0;

  g_assert_true (g_output_stream_close (sink->stream, NULL, &error));
  g_assert_no_error (error);
  if (sink->file == NULL)
    return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (sink->stream));
  g_assert_true (g_file_load_contents (sink->file, NULL, &data, &length, NULL, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, length);
}

static void
sink_clear (Sink *sink)
{
  g_clear_object (&sink->stream);
  if (sink->file != NULL)
    g_file_delete (sink->file, NULL, NULL);
  g_clear_object (&sink->file);
}

static void
count_data_cb (GMultiTransfer *transfer,
               GBytes         *chunk,
               gpointer        user_data)
{
  Sink *sink = user_data;

  sink->data_signal_bytes += g_bytes_get_size (chunk);
}

static void
check_output (gboolean tls,
              SinkKind kind)
{
  g_autoptr(TestServer) server = start_server (tls);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/file");
  g_autoptr(GMultiTransfer) after = new_transfer (server, "/small");
  g_autofree guint8 *expected = pattern (FILE_BODY);
  g_autoptr(GBytes) written = NULL;
  Sink sink;

  sink_open (&sink, kind);
  gmulti_transfer_set_output_stream (transfer, sink.stream);
  g_assert_true (gmulti_transfer_get_output_stream (transfer) == sink.stream);
  if (kind == SINK_FILE_WITH_DATA_SIGNAL)
    g_signal_connect (transfer, "data", G_CALLBACK (count_data_cb), &sink);

  run_transfer (loop, transfer);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, FILE_BODY);
  g_assert_cmpuint (gmulti_metrics_get_body_bytes_received (gmulti_transfer_get_metrics (transfer)),
                    ==, FILE_BODY);
  /* Neither collected nor handed elsewhere. */
  g_assert_null (gmulti_transfer_get_response_body (transfer));
  written = sink_contents (&sink);
  g_assert_cmpmem (g_bytes_get_data (written, NULL), g_bytes_get_size (written),
                   expected, FILE_BODY);

  /* The kernel moved it only where it can: plain TCP into a plain file descriptor. */
  if (!tls && kind == SINK_FILE)
    assert_spliced (transfer->run.bytes_spliced, FILE_BODY / 2);
  else
    g_assert_cmpuint (transfer->run.bytes_spliced, ==, 0);
  if (kind == SINK_FILE_WITH_DATA_SIGNAL)
    g_assert_cmpuint (sink.data_signal_bytes, ==, FILE_BODY);

  /* The connection is in step for the next exchange. */
  gmulti_transfer_set_collect_body (after, TRUE);
  run_transfer (loop, after);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  sink_clear (&sink);
}

static void
test_output_file (gconstpointer data)
{
  check_output (GPOINTER_TO_INT (data), SINK_FILE);
}

static void
test_output_append (void)
{
  check_output (FALSE, SINK_APPEND);
}

static void
test_output_memory (void)
{
  check_output (FALSE, SINK_MEMORY);
}

static void
test_output_data_signal (void)
{
  check_output (FALSE, SINK_FILE_WITH_DATA_SIGNAL);
}

/* Close-delimited: spliced to the end of the stream. Cut short: a clear error. */
static void
test_output_framing (void)
{
  g_autoptr(TestServer) server = start_server (FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) until_close = new_transfer (server, "/until-close");
  g_autoptr(GMultiTransfer) cut = new_transfer (server, "/cut");
  g_autofree guint8 *expected = pattern (FILE_BODY);
  g_autoptr(GBytes) written = NULL;
  Sink sink;

  sink_open (&sink, SINK_FILE);
  gmulti_transfer_set_output_stream (until_close, sink.stream);
  run_transfer (loop, until_close);
  assert_spliced (until_close->run.bytes_spliced, FILE_BODY / 2);
  written = sink_contents (&sink);
  g_assert_cmpmem (g_bytes_get_data (written, NULL), g_bytes_get_size (written),
                   expected, FILE_BODY);
  sink_clear (&sink);

  sink_open (&sink, SINK_FILE);
  gmulti_transfer_set_output_stream (cut, sink.stream);
  g_assert_cmpint (gmulti_engine_add (loop->engine, cut), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run_until_done (loop, cut, WAIT_MS));
  g_assert_error ((GError *) gmulti_transfer_get_error (cut), GMULTI_ERROR,
                  GMULTI_ERROR_CONNECTION_CLOSED);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (cut), ==, FILE_BODY / 2);
  g_clear_pointer (&written, g_bytes_unref);
  written = sink_contents (&sink);
  g_assert_cmpmem (g_bytes_get_data (written, NULL), g_bytes_get_size (written),
                   expected, FILE_BODY / 2);
  sink_clear (&sink);
}

/* A sink that fails (a full device): the transfer fails with OUTPUT_FAILED, over the
 * spliced and the copying path. */
static void
check_output_full (gboolean tls)
{
  g_autoptr(TestServer) server = start_server (tls);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/file");
  g_autoptr(GMultiTransfer) after = new_transfer (server, "/small");
  g_autoptr(GOutputStream) full = NULL;
  int fd = open ("/dev/full", O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    {
      g_test_skip ("no /dev/full");
      return;
    }
  full = g_unix_output_stream_new (fd, TRUE);
  gmulti_transfer_set_output_stream (transfer, full);
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_OUTPUT_FAILED);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);

  /* The engine (and its pipe) serve the next transfer. */
  gmulti_transfer_set_collect_body (after, TRUE);
  run_transfer (loop, after);
}

static void
test_output_full (gconstpointer data)
{
  check_output_full (GPOINTER_TO_INT (data));
}

/* A progress handler pauses in the middle of a spliced body; resumed later, the rest
 * arrives intact. */
static void
pause_once_cb (GMultiTransfer *transfer,
               gpointer        user_data)
{
  gboolean *paused_once = user_data;

  if (!*paused_once && gmulti_transfer_get_bytes_received (transfer) < FILE_BODY)
    {
      *paused_once = TRUE;
      gmulti_transfer_pause (transfer);
    }
}

static void
test_output_pause (void)
{
  g_autoptr(TestServer) server = start_server (FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/file");
  g_autofree guint8 *expected = pattern (FILE_BODY);
  g_autoptr(GBytes) written = NULL;
  gboolean paused_once = FALSE;
  guint64 at_pause;
  Sink sink;

  sink_open (&sink, SINK_FILE);
  gmulti_transfer_set_output_stream (transfer, sink.stream);
  g_signal_connect (transfer, "progress", G_CALLBACK (pause_once_cb), &paused_once);
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  for (guint i = 0; i < 500 && !paused_once; i++)
    engine_loop_iterate (loop, 10);
  g_assert_true (paused_once);
  g_assert_true (gmulti_transfer_is_paused (transfer));
  at_pause = gmulti_transfer_get_bytes_received (transfer);
  for (guint i = 0; i < 10; i++)
    engine_loop_iterate (loop, 10);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, at_pause);

  gmulti_transfer_resume (transfer);
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  assert_spliced (transfer->run.bytes_spliced, 0);
  written = sink_contents (&sink);
  g_assert_cmpmem (g_bytes_get_data (written, NULL), g_bytes_get_size (written),
                   expected, FILE_BODY);
  sink_clear (&sink);
}

/* A progress handler moves the body to another file half-way: the two files hold the
 * body between them, in order. */
static void
switch_sink_cb (GMultiTransfer *transfer,
                gpointer        user_data)
{
  Sink *second = user_data;

  if (gmulti_transfer_get_output_stream (transfer) != second->stream &&
      gmulti_transfer_get_bytes_received (transfer) < FILE_BODY)
    gmulti_transfer_set_output_stream (transfer, second->stream);
}

static void
test_output_switch (void)
{
  g_autoptr(TestServer) server = start_server (FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/file");
  g_autofree guint8 *expected = pattern (FILE_BODY);
  g_autoptr(GBytes) first_part = NULL;
  g_autoptr(GBytes) second_part = NULL;
  g_autoptr(GByteArray) joined = g_byte_array_new ();
  Sink first, second;

  sink_open (&first, SINK_FILE);
  sink_open (&second, SINK_FILE);
  gmulti_transfer_set_output_stream (transfer, first.stream);
  g_signal_connect (transfer, "progress", G_CALLBACK (switch_sink_cb), &second);
  run_transfer (loop, transfer);
  g_assert_true (gmulti_transfer_get_output_stream (transfer) == second.stream);

  first_part = sink_contents (&first);
  second_part = sink_contents (&second);
  g_assert_cmpuint (g_bytes_get_size (first_part), >, 0);
  g_assert_cmpuint (g_bytes_get_size (second_part), >, 0);
  g_byte_array_append (joined, g_bytes_get_data (first_part, NULL),
                       g_bytes_get_size (first_part));
  g_byte_array_append (joined, g_bytes_get_data (second_part, NULL),
                       g_bytes_get_size (second_part));
  g_assert_cmpmem (joined->data, joined->len, expected, FILE_BODY);
  sink_clear (&first);
  sink_clear (&second);
}

/* Bytes past a spliced body stay in the socket (nothing more was read): a transfer
 * queued for the connection must not get them as its response. */
static void
test_output_then_junk (void)
{
  g_autoptr(TestServer) server = start_server (FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/file-then-junk");
  g_autoptr(GMultiTransfer) queued = new_transfer (server, "/small");
  g_autofree guint8 *expected = pattern (FILE_BODY);
  g_autoptr(GBytes) written = NULL;
  Sink sink;

  gmulti_engine_set_max_host_connections (loop->engine, 1);
  sink_open (&sink, SINK_FILE);
  gmulti_transfer_set_output_stream (first, sink.stream);
  gmulti_transfer_set_collect_body (queued, TRUE);
  g_assert_cmpint (gmulti_engine_add (loop->engine, first), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_add (loop->engine, queued), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (first));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (queued));
  assert_spliced (first->run.bytes_spliced, 0);
  {
    g_autoptr(GBytes) body = gmulti_transfer_get_response_body (queued);

    g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "small", 5);
  }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
  written = sink_contents (&sink);
  g_assert_cmpmem (g_bytes_get_data (written, NULL), g_bytes_get_size (written),
                   expected, FILE_BODY);
  sink_clear (&sink);
}

/* A pipe whose reader is slower than the network: the body waits for it (the engine
 * writes synchronously), it is never an error. */
static gpointer
slow_reader_thread (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  GByteArray *got = g_byte_array_new ();
  guint8 buffer[16384];
  gssize n;

  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    {
      g_byte_array_append (got, buffer, n);
      g_usleep (1000);
    }
  close (fd);
  return got;
}

static void
check_output_slow_pipe (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  g_autoptr(TestServer) server = start_server (tls);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/file");
  g_autoptr(GOutputStream) stream = NULL;
  g_autofree guint8 *expected = pattern (FILE_BODY);
  g_autoptr(GByteArray) got = NULL;
  GThread *reader;
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  reader = g_thread_new ("slow-reader", slow_reader_thread, GINT_TO_POINTER (fds[0]));
  stream = g_unix_output_stream_new (fds[1], TRUE);
  gmulti_transfer_set_output_stream (transfer, stream);
  run_transfer (loop, transfer);
  g_assert_true (g_output_stream_close (stream, NULL, NULL));
  got = g_thread_join (reader);
  g_assert_cmpmem (got->data, got->len, expected, FILE_BODY);
}

/* The application closes the stream while the body arrives: the transfer fails with
 * OUTPUT_FAILED, and nothing goes to whatever the old descriptor number means now. */
typedef struct {
  char *decoy_path;
  int decoy_fd;
} Decoy;

static void
close_stream_cb (GMultiTransfer *transfer,
                 gpointer        user_data)
{
  GOutputStream *stream = gmulti_transfer_get_output_stream (transfer);
  Decoy *decoy = user_data;

  if (stream != NULL && !g_output_stream_is_closed (stream))
    {
      g_output_stream_close (stream, NULL, NULL);
      /* Most likely the descriptor number the stream had. */
      decoy->decoy_fd = g_open (decoy->decoy_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                                0600);
    }
}

static void
test_output_closed (void)
{
  g_autoptr(TestServer) server = start_server (FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/file");
  g_autofree char *decoy_dir = g_dir_make_tmp ("gmulti-decoy-XXXXXX", NULL);
  Decoy decoy = { g_build_filename (decoy_dir, "decoy", NULL), -1 };
  GStatBuf st;
  Sink sink;

  sink_open (&sink, SINK_FILE);
  gmulti_transfer_set_output_stream (transfer, sink.stream);
  g_signal_connect (transfer, "progress", G_CALLBACK (close_stream_cb), &decoy);
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_OUTPUT_FAILED);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), <, FILE_BODY);
  g_assert_cmpint (decoy.decoy_fd, >=, 0);
  g_assert_cmpint (g_stat (decoy.decoy_path, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 0);
  close (decoy.decoy_fd);
  g_unlink (decoy.decoy_path);
  g_rmdir (decoy_dir);
  g_free (decoy.decoy_path);
  sink_clear (&sink);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

  g_test_add_data_func ("/GMulti/Bulk/http/slow-tail", GINT_TO_POINTER (FALSE),
                        check_slow_tail);
  g_test_add_data_func ("/GMulti/Bulk/https/slow-tail", GINT_TO_POINTER (TRUE),
                        check_slow_tail);

  g_test_add_data_func ("/GMulti/Bulk/http/stall", GINT_TO_POINTER (FALSE), check_stall);
  g_test_add_data_func ("/GMulti/Bulk/https/stall", GINT_TO_POINTER (TRUE), check_stall);

  g_test_add_data_func ("/GMulti/Bulk/http/trailing-response", GINT_TO_POINTER (FALSE),
                        check_trailing_response);
  g_test_add_data_func ("/GMulti/Bulk/https/trailing-response", GINT_TO_POINTER (TRUE),
                        check_trailing_response);
  g_test_add_data_func ("/GMulti/Bulk/http/output/file", GINT_TO_POINTER (FALSE),
                        test_output_file);
  g_test_add_data_func ("/GMulti/Bulk/https/output/file", GINT_TO_POINTER (TRUE),
                        test_output_file);
  g_test_add_func ("/GMulti/Bulk/http/output/append", test_output_append);
  g_test_add_func ("/GMulti/Bulk/http/output/memory", test_output_memory);
  g_test_add_func ("/GMulti/Bulk/http/output/data-signal", test_output_data_signal);
  g_test_add_func ("/GMulti/Bulk/http/output/framing", test_output_framing);
  g_test_add_data_func ("/GMulti/Bulk/http/output/full", GINT_TO_POINTER (FALSE),
                        test_output_full);
  g_test_add_data_func ("/GMulti/Bulk/https/output/full", GINT_TO_POINTER (TRUE),
                        test_output_full);
  g_test_add_func ("/GMulti/Bulk/http/output/pause", test_output_pause);
  g_test_add_func ("/GMulti/Bulk/http/output/switch", test_output_switch);
  g_test_add_func ("/GMulti/Bulk/http/output/then-junk", test_output_then_junk);
  g_test_add_data_func ("/GMulti/Bulk/http/output/slow-pipe", GINT_TO_POINTER (FALSE),
                        check_output_slow_pipe);
  g_test_add_data_func ("/GMulti/Bulk/https/output/slow-pipe", GINT_TO_POINTER (TRUE),
                        check_output_slow_pipe);
  g_test_add_func ("/GMulti/Bulk/http/output/closed", test_output_closed);

  status = g_test_run ();
  test_certs_remove (g_steal_pointer (&certs_dir));
  return status;
}
