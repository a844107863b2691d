/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "gmulti.h"
#include "engine-loop.h"

/* HTTP/2 against hostile servers: tests/support/h2-hostile-server.py (Python's h2 for
 * the well-behaved parts, hand-made frames for the rest) runs one scenario on
 * 127.0.0.1 per test, started and stopped here. Each ends with a clear error (or the
 * documented outcome), never a crash, a hang or memory without bound. The same server
 * also does what none of the real servers of test-http2.c does: it echoes
 * request bodies, sends trailers and 1xx responses, and answers 100-continue. */

typedef struct {
  GPid pid;
  int in;                       /* its standard input: closing it stops the server */
  FILE *out;                    /* its standard output */
  guint16 port;
  /* The server's counts, once stopped. */
  guint connections, requests, responses, pings;
  int client_enable_push;       /* the client's SETTINGS_ENABLE_PUSH, where the scenario saw it */
  guint continues, early_data;  /* 100s sent; DATA that did not wait for them */
} H2Server;

/* A server must not outlive a test that aborts (it also stops when its input closes). */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static H2Server *
h2_server_start (const char *scenario)
{
  const char *python = g_getenv ("GMULTI_TEST_PYTHON");
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "support",
                                                   "h2-hostile-server.py", NULL);
  const char *argv[] = { python != NULL ? python : "python3", script, scenario, NULL };
  H2Server *server = g_new0 (H2Server, 1);
  g_autoptr(GError) error = NULL;
  char line[64];
  int out = -1;

  g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                            G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, child_setup,
                            NULL, &server->pid, &server->in, &out, NULL, &error);
  g_assert_no_error (error);
  server->out = fdopen (out, "r");
  g_assert_nonnull (server->out);
  g_assert_nonnull (fgets (line, sizeof line, server->out));
  server->port = (guint16) atoi (line);
  g_assert_cmpuint (server->port, >, 0);
  return server;
}

static int
count_of (const char *json,
          const char *key)
{
  g_autofree char *quoted = g_strdup_printf ("\"%s\": ", key);
  const char *at = strstr (json, quoted);

  g_assert_nonnull (at);
  return atoi (at + strlen (quoted));
}

/* Stops the server (its standard input closes) and reads its counts. */
static void
h2_server_stop (H2Server *server)
{
  char line[256];

  close (server->in);
  server->in = -1;
  g_assert_nonnull (fgets (line, sizeof line, server->out));
  server->connections = count_of (line, "connections");
  server->requests = count_of (line, "requests");
  server->responses = count_of (line, "responses");
  server->pings = count_of (line, "pings");
  server->client_enable_push = count_of (line, "client_enable_push");
  server->continues = count_of (line, "continues");
  server->early_data = count_of (line, "early_data");
  g_assert_cmpint (waitpid (server->pid, NULL, 0), ==, server->pid);
  g_spawn_close_pid (server->pid);
  server->pid = 0;
}

static void
h2_server_free (H2Server *server)
{
  if (server->in >= 0)
    close (server->in);
  if (server->pid != 0)
    {
      kill (server->pid, SIGKILL);
      waitpid (server->pid, NULL, 0);
      g_spawn_close_pid (server->pid);
    }
  fclose (server->out);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (H2Server, h2_server_free)

static GMultiTransfer *
h2_transfer (H2Server   *server,
             const char *path)
{
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u%s", server->port, path);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  gmulti_transfer_set_http_version (transfer, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
  gmulti_transfer_set_collect_body (transfer, TRUE);
  /* A safety net only: every scenario must end well before it. */
  gmulti_transfer_set_timeout (transfer, 30000);
  return transfer;
}

static void
run_all (EngineLoop *loop)
{
  g_assert_true (engine_loop_run (loop, 60000));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static guint64
connection_of (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (transfer));
}

/* One GET against @scenario; returns the transfer, ended. */
static GMultiTransfer *
fetch_one (const char *scenario,
           H2Server  **server_out,
           EngineLoop *loop)
{
  H2Server *server = h2_server_start (scenario);
  GMultiTransfer *transfer = h2_transfer (server, "/one");

  gmulti_engine_add (loop->engine, transfer);
  run_all (loop);
  *server_out = server;
  return transfer;
}

static void
assert_body (GMultiTransfer *transfer,
             const char     *expected)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   expected, strlen (expected));
}

static void
assert_error (GMultiTransfer *transfer,
              int             code)
{
  const GError *error = gmulti_transfer_get_error (transfer);

  if (g_test_verbose () && error != NULL)
    g_printerr ("# %s\n", error->message);
  g_assert_error ((GError *) error, GMULTI_ERROR, code);
}

/* Header continuations without end: nghttp2 stops after 8 CONTINUATION frames. */
static void
test_continuation_flood (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = NULL;
  g_autoptr(GMultiTransfer) transfer = fetch_one ("continuation-flood", &server, loop);

  assert_error (transfer, GMULTI_ERROR_HTTP2_CONNECTION_ERROR);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 0);
  h2_server_stop (server);
}

/* A small header block that HPACK indexing makes 400 KB: the stream fails at 256 KiB,
 * the fields are not all kept. */
static void
test_header_list_too_large (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = NULL;
  g_autoptr(GMultiTransfer) transfer = fetch_one ("big-header", &server, loop);

  assert_error (transfer, GMULTI_ERROR_HEADERS_TOO_LARGE);
  g_assert_null (gmulti_transfer_get_response_headers (transfer));
  h2_server_stop (server);
}

/* PINGs (and SETTINGS) without end while the server never reads the answers: the
 * acknowledgements queued for it are bounded (1000), then the connection ends. */
static void
test_ack_flood (gconstpointer data)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = NULL;
  g_autoptr(GMultiTransfer) transfer = fetch_one (data, &server, loop);

  assert_error (transfer, GMULTI_ERROR_HTTP2_CONNECTION_ERROR);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 0);
  h2_server_stop (server);
}

/* Every stream reset: each transfer fails alone, with the server's code. */
static void
test_reset_every_stream (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("reset-all");
  GMultiTransfer *transfers[40];

  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      transfers[i] = h2_transfer (server, "/r");
      gmulti_engine_add (loop->engine, transfers[i]);
    }
  run_all (loop);
  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      assert_error (transfers[i], GMULTI_ERROR_HTTP2_STREAM_RESET);
      g_assert_nonnull (strstr (gmulti_transfer_get_error (transfers[i])->message,
                                "INTERNAL_ERROR"));
      g_object_unref (transfers[i]);
    }
  h2_server_stop (server);
  g_assert_cmpuint (server->requests, ==, G_N_ELEMENTS (transfers));
  g_assert_cmpuint (server->connections, ==, 1);
}

/* An upload whose window never opens: the low-speed limit ends it. */
static void
test_window_never_opens (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("no-window");
  g_autoptr(GMultiTransfer) transfer = h2_transfer (server, "/up");
  g_autoptr(GBytes) body = g_bytes_new_take (g_malloc0 (100000), 100000);
  gint64 start = g_get_monotonic_time ();

  g_assert_true (gmulti_transfer_set_method (transfer, "POST", NULL));
  gmulti_transfer_set_request_body (transfer, body);
  gmulti_transfer_set_low_speed (transfer, 1, 2);
  gmulti_engine_add (loop->engine, transfer);
  run_all (loop);
  assert_error (transfer, GMULTI_ERROR_TOO_SLOW);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
  /* At most the window of the default SETTINGS, sent before the server's arrived. */
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), <=, 65535);
  h2_server_stop (server);
}

/* More DATA than the Content-Length said: nghttp2 resets the stream. */
static void
test_data_past_length (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = NULL;
  g_autoptr(GMultiTransfer) transfer = fetch_one ("data-past-length", &server, loop);

  assert_error (transfer, GMULTI_ERROR_PROTOCOL);
  h2_server_stop (server);
}

/* DATA on a stream the server had ended: the response that was complete stands.
 * nghttp2 ignores a frame on a stream closed moments ago (RFC 9113 5.1 allows either
 * that or a stream error), so the connection stays pooled and serves the next one. */
static void
test_data_on_closed_stream (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = NULL;
  g_autoptr(GMultiTransfer) transfer = fetch_one ("data-closed", &server, loop);
  g_autoptr(GMultiTransfer) next = NULL;
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;

  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  assert_body (transfer, "abc");
  /* The stray DATA arrives while the connection is idle. */
  while (g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);

  next = h2_transfer (server, "/two");
  gmulti_engine_add (loop->engine, next);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (next));
  assert_body (next, "ok:/two");
  g_assert_cmpuint (connection_of (next), ==, connection_of (transfer));
  h2_server_stop (server);
  g_assert_cmpuint (server->connections, ==, 1);
}

/* GOAWAY naming stream 9 of 10 streams: 1-9 complete there, 11-19 go again together on
 * one new connection (the server refused them, so they need no connection each) and
 * complete; the server answered each request once. */
static void
test_goaway_middle (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("goaway-middle");
  GMultiTransfer *transfers[10];
  guint64 first_conn, second_conn;

  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      g_autofree char *path = g_strdup_printf ("/g%u", i);

      transfers[i] = h2_transfer (server, path);
      gmulti_engine_add (loop->engine, transfers[i]);
    }
  run_all (loop);
  first_conn = connection_of (transfers[0]);
  second_conn = connection_of (transfers[5]);
  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      g_autofree char *expected = g_strdup_printf ("ok:/g%u", i);

      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfers[i]));
      assert_body (transfers[i], expected);
      /* Streams 1, 3, ... 9 are the first five. */
      if (i < 5)
        g_assert_cmpuint (connection_of (transfers[i]), ==, first_conn);
      else
        g_assert_cmpuint (connection_of (transfers[i]), ==, second_conn);
      g_object_unref (transfers[i]);
    }
  h2_server_stop (server);
  g_assert_cmpuint (first_conn, !=, second_conn);
  g_assert_cmpuint (server->connections, ==, 2);
  g_assert_cmpuint (server->responses, ==, 10);
  g_assert_cmpuint (server->requests, ==, 15);
}

/* A server that never sends SETTINGS: the connection fails at the transfer's connect
 * timeout (10 s without one), not at its overall timeout. */
static void
test_settings_deadline (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("no-settings");
  g_autoptr(GMultiTransfer) transfer = h2_transfer (server, "/s");
  gint64 start = g_get_monotonic_time ();

  gmulti_transfer_set_connect_timeout (transfer, 1000);
  gmulti_engine_add (loop->engine, transfer);
  run_all (loop);
  assert_error (transfer, GMULTI_ERROR_HTTP2_CONNECTION_ERROR);
  g_assert_nonnull (strstr (gmulti_transfer_get_error (transfer)->message, "SETTINGS"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  h2_server_stop (server);
}

/* Lets a pooled connection sit quiet past the idle time that calls for a PING. */
static void
idle_for (EngineLoop *loop,
          guint       ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 50);
}

/* A connection quiet for more than 5 s is asked for a PING before it is reused; a live
 * server answers and the request goes on the same connection. */
static void
test_ping_before_reuse (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("serve");
  g_autoptr(GMultiTransfer) first = h2_transfer (server, "/1");
  g_autoptr(GMultiTransfer) second = h2_transfer (server, "/2");

  gmulti_engine_add (loop->engine, first);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (first));
  idle_for (loop, 5500);
  gmulti_engine_add (loop->engine, second);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (second));
  g_assert_cmpuint (connection_of (second), ==, connection_of (first));
  h2_server_stop (server);
  g_assert_cmpuint (server->connections, ==, 1);
  g_assert_cmpuint (server->pings, ==, 1);
}

/* The server went silent: without the PING's answer within 2 s the connection is
 * closed, and the request (a POST: nothing of it was sent) goes on a new one. */
static void
test_ping_unanswered (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("silent-after-first");
  g_autoptr(GMultiTransfer) first = h2_transfer (server, "/1");
  g_autoptr(GMultiTransfer) second = h2_transfer (server, "/2");
  g_autoptr(GBytes) body = g_bytes_new_static ("x=1", 3);
  gint64 start;

  gmulti_engine_add (loop->engine, first);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (first));
  idle_for (loop, 5500);
  g_assert_true (gmulti_transfer_set_method (second, "POST", NULL));
  gmulti_transfer_set_request_body (second, body);
  start = g_get_monotonic_time ();
  gmulti_engine_add (loop->engine, second);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (second));
  assert_body (second, "ok:/2");
  g_assert_cmpuint (connection_of (second), !=, connection_of (first));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1900 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  h2_server_stop (server);
  g_assert_cmpuint (server->connections, ==, 2);
  g_assert_cmpuint (server->responses, ==, 2);
}

/* Push is off: the client's first SETTINGS say ENABLE_PUSH 0, and a server that
 * promises a stream anyway breaks the protocol (RFC 9113 8.4), so the connection
 * fails and is not pooled. */
static void
test_push_refused (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = NULL;
  g_autoptr(GMultiTransfer) transfer = fetch_one ("push-promise", &server, loop);

  assert_error (transfer, GMULTI_ERROR_HTTP2_CONNECTION_ERROR);
  /* With nghttp2's reason. */
  g_assert_nonnull (strstr (gmulti_transfer_get_error (transfer)->message, "PUSH_PROMISE"));
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  h2_server_stop (server);
  g_assert_cmpint (server->client_enable_push, ==, 0);
}

/* A request body from a GInputStream, of known length and of unknown length (HTTP/2
 * has no chunked coding: the stream's end is the body's), arrives whole and in order,
 * also past the 64 KiB of the default window. The transfers run one after the other,
 * on one connection. */
static void
test_echo_stream_body (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("serve");
  const gint64 lengths[] = { 300 * 1024 + 7, -1 };
  gsize size = 300 * 1024 + 7;
  guint8 *data = g_malloc (size);
  g_autoptr(GBytes) content = NULL;
  guint64 first_connection = 0;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) ((i * 7919) >> 5);
  content = g_bytes_new_take (data, size);

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr(GMultiTransfer) transfer = h2_transfer (server, "/echo");
      g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (content);
      g_autoptr(GBytes) body = NULL;

      g_assert_true (gmulti_transfer_set_method (transfer, "PUT", NULL));
      g_assert_true (gmulti_transfer_set_request_body_stream (transfer, stream, lengths[i]));
      gmulti_engine_add (loop->engine, transfer);
      run_all (loop);

      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
      g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
      g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, size);
      body = gmulti_transfer_get_response_body (transfer);
      g_assert_nonnull (body);
      g_assert_true (g_bytes_equal (body, content));
      if (i == 0)
        first_connection = connection_of (transfer);
      else
        g_assert_cmpuint (connection_of (transfer), ==, first_connection);
    }
  h2_server_stop (server);
  g_assert_cmpuint (server->requests, ==, G_N_ELEMENTS (lengths));
  g_assert_cmpuint (server->connections, ==, 1);
}

/* Trailers after the body: kept apart from the head's fields. */
static void
test_serve_trailers (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("serve");
  g_autoptr(GMultiTransfer) transfer = h2_transfer (server, "/trailers");
  GMultiHeaders *trailers;

  gmulti_engine_add (loop->engine, transfer);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  assert_body (transfer, "body");
  trailers = gmulti_transfer_get_response_trailers (transfer);
  g_assert_nonnull (trailers);
  g_assert_cmpstr (gmulti_headers_get_one (trailers, "X-Checksum"), ==, "c0ffee");
  g_assert_null (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                         "X-Checksum"));
  h2_server_stop (server);
}

static void
count_heads_cb (GMultiTransfer *transfer,
                guint           status,
                GMultiHeaders  *headers,
                guint          *count)
{
  g_assert_cmpuint (status, ==, 200);
  (*count)++;
}

/* A 103 before the response: not the response, and its fields are not the response's. */
static void
test_serve_interim (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("serve");
  g_autoptr(GMultiTransfer) transfer = h2_transfer (server, "/early-hints");
  guint heads = 0;

  g_signal_connect (transfer, "response-headers", G_CALLBACK (count_heads_cb), &heads);
  gmulti_engine_add (loop->engine, transfer);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  assert_body (transfer, "ok:/early-hints");
  g_assert_cmpuint (heads, ==, 1);
  g_assert_null (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                         "Link"));
  h2_server_stop (server);
}

/* "Expect: 100-continue": the body waits for the server's 100, or, from a server that
 * never sends one, for the wait to run out; it arrives whole either way. */
static void
test_serve_continue (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(H2Server) server = h2_server_start ("serve");
  g_autoptr(GBytes) content = g_bytes_new_take (g_malloc0 (200000), 200000);
  const char *paths[] = { "/echo", "/silent" };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GMultiTransfer) transfer = h2_transfer (server, paths[i]);
      g_autoptr(GBytes) body = NULL;

      g_assert_true (gmulti_transfer_set_method (transfer, "POST", NULL));
      gmulti_transfer_set_request_body (transfer, content);
      g_assert_true (gmulti_transfer_add_request_header (transfer, "Expect", "100-continue",
                                                         NULL));
      gmulti_engine_add (loop->engine, transfer);
      run_all (loop);
      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
      g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
      body = gmulti_transfer_get_response_body (transfer);
      g_assert_true (g_bytes_equal (body, content));
    }
  h2_server_stop (server);
  g_assert_cmpuint (server->continues, ==, 1);
  g_assert_cmpuint (server->early_data, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/GMulti/Http2/hostile/continuation-flood", test_continuation_flood);
  g_test_add_func ("/GMulti/Http2/hostile/header-list-too-large", test_header_list_too_large);
  g_test_add_data_func ("/GMulti/Http2/hostile/ping-flood", "ping-flood", test_ack_flood);
  g_test_add_data_func ("/GMulti/Http2/hostile/settings-flood", "settings-flood",
                        test_ack_flood);
  g_test_add_func ("/GMulti/Http2/hostile/reset-every-stream", test_reset_every_stream);
  g_test_add_func ("/GMulti/Http2/hostile/window-never-opens", test_window_never_opens);
  g_test_add_func ("/GMulti/Http2/hostile/data-past-length", test_data_past_length);
  g_test_add_func ("/GMulti/Http2/hostile/data-on-closed-stream", test_data_on_closed_stream);
  g_test_add_func ("/GMulti/Http2/hostile/goaway-middle", test_goaway_middle);
  g_test_add_func ("/GMulti/Http2/hostile/settings-deadline", test_settings_deadline);
  g_test_add_func ("/GMulti/Http2/hostile/ping-before-reuse", test_ping_before_reuse);
  g_test_add_func ("/GMulti/Http2/hostile/ping-unanswered", test_ping_unanswered);
  g_test_add_func ("/GMulti/Http2/hostile/push-refused", test_push_refused);
  g_test_add_func ("/GMulti/Http2/serve/stream-body", test_echo_stream_body);
  g_test_add_func ("/GMulti/Http2/serve/trailers", test_serve_trailers);
  g_test_add_func ("/GMulti/Http2/serve/interim", test_serve_interim);
  g_test_add_func ("/GMulti/Http2/serve/continue", test_serve_continue);
  return g_test_run ();
}
