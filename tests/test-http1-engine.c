/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gmulti.h"
#include "gmulti-engine-private.h"
#include "gmulti-headers-private.h"
#include "engine-loop.h"
#include "fake-resolver.h"
#include "test-coding-util.h"
#include "test-server.h"

/* The engine's HTTP/1.1 features end to end, each against the scripted loopback server
 * and checked byte for byte on the side that did not produce the bytes. */

#define WAIT_MS 20000
#define BIG_SIZE (256 * 1024)
#define HOLD_MS 300

static GBytes *big_body;
/* For the transfer-coding routes: a text that compresses well (a few KiB of coded
 * bytes become many decoder buffers), and the coded forms served. */
#define TEXT_SIZE (4 * 1024 * 1024)
static GBytes *text_body;
static GBytes *big_gzip;          /* big_body, gzip */
static GBytes *big_deflate_gzip;  /* big_body, deflate then gzip */
static GBytes *text_gzip;         /* text_body, gzip */

static const guint8 *
big_data (void)
{
  return g_bytes_get_data (big_body, NULL);
}

static GBytes *
pattern_bytes (gsize size,
               guint seed)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 31 + i / 257 + seed);
  return g_bytes_new_take (data, size);
}

static GBytes *
text_bytes (gsize size)
{
  GString *text = g_string_sized_new (size + 64);

  for (guint i = 0; text->len < size; i++)
    g_string_append_printf (text, "line %07u: transfer codings are undone in order\n", i);
  g_string_truncate (text, size);
  return g_string_free_to_bytes (text);
}

/* ------------------------------------------------------------------ server */

/* A coded body framed in chunks of @piece bytes, or up to the close. */
static gboolean
coded_route (TestConn   *conn,
             const char *codings,
             GBytes     *coded,
             gboolean    chunked,
             gsize       piece)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (coded, &size);

  if (!test_conn_printf (conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: %s%s\r\n\r\n", codings,
                         chunked ? ", chunked" : ""))
    return FALSE;
  if (!chunked)
    {
      test_conn_write (conn, data, size);
      return FALSE;
    }
  for (gsize offset = 0; offset < size; offset += piece)
    if (!test_conn_write_chunk (conn, data + offset, MIN (piece, size - offset)))
      return FALSE;
  return test_conn_write_chunk (conn, NULL, 0);
}

/* What the handlers saw, for the limits tests. */
typedef struct {
  GMutex lock;
  guint in_handler;         /* /hold requests being served right now */
  guint max_in_handler;
  guint max_open;           /* most connections the server had open during a /hold */
} ServerStats;

static void
hold_route (TestServer  *server,
            TestConn    *conn,
            ServerStats *stats)
{
  guint open = test_server_get_n_open (server);

  if (stats != NULL)
    {
      g_mutex_lock (&stats->lock);
      stats->in_handler++;
      stats->max_in_handler = MAX (stats->max_in_handler, stats->in_handler);
      stats->max_open = MAX (stats->max_open, open);
      g_mutex_unlock (&stats->lock);
    }
  test_conn_sleep (conn, HOLD_MS);
  if (stats != NULL)
    {
      g_mutex_lock (&stats->lock);
      stats->in_handler--;
      g_mutex_unlock (&stats->lock);
    }
}

/* /redirect?code=N&to=LOCATION (LOCATION percent-encoded). */
static gboolean
redirect_route (TestConn    *conn,
                TestRequest *req)
{
  const char *query = strchr (req->target, '?');
  g_autoptr(GHashTable) params = NULL;
  g_autofree char *headers = NULL;
  const char *code, *to;

  params = g_uri_parse_params (query + 1, -1, "&", G_URI_PARAMS_NONE, NULL);
  g_assert_nonnull (params);
  code = g_hash_table_lookup (params, "code");
  to = g_hash_table_lookup (params, "to");
  headers = g_strdup_printf ("Location: %s\r\n", to);
  return test_conn_respond_with_headers (conn, (guint) atoi (code), headers, "moved", 5);
}

#define METRICS_HEAD "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\n"
#define METRICS_BODY "metrics"

static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  ServerStats *stats = user_data;
  const char *path = req->target;

  if (g_str_has_prefix (path, "/hello"))
    return test_conn_respond (conn, 200, "text/plain", "hello", 5);

  if (g_str_equal (path, "/method"))
    {
      /* The method as body; HEAD gets the same head and no body. */
      if (g_str_equal (req->method, "HEAD"))
        return test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
                                 (guint) strlen (req->method));
      return test_conn_respond (conn, 200, "text/plain", req->method, strlen (req->method));
    }

  if (g_str_equal (path, "/upload"))
    {
      g_autofree char *answer = g_strdup_printf ("%" G_GSIZE_FORMAT,
                                                 g_bytes_get_size (req->body));

      return test_conn_respond (conn, 200, "text/plain", answer, strlen (answer));
    }

  if (g_str_equal (path, "/big"))
    return test_conn_respond (conn, 200, "application/octet-stream", big_data (), BIG_SIZE);

  if (g_str_equal (path, "/slow"))
    {
      /* BIG_SIZE bytes in 20 pieces over about a second. */
      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG_SIZE);
      for (guint i = 0; i < 20; i++)
        {
          gsize piece = BIG_SIZE / 20;
          gsize length = i == 19 ? BIG_SIZE - 19 * piece : piece;

          if (!test_conn_write (conn, big_data () + i * piece, length))
            return FALSE;
          test_conn_sleep (conn, 50);
        }
      return TRUE;
    }

  if (g_str_equal (path, "/chunked"))
    {
      test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                 "Trailer: X-Checksum, X-Count\r\n\r\n");
      test_conn_write_chunk (conn, "Hello, ", 7);
      test_conn_write_chunk (conn, "chunked ", 8);
      test_conn_write_chunk (conn, "world!", 6);
      return test_conn_write_str (conn, "0\r\nX-Checksum: 5d41\r\nX-Count: 3\r\n\r\n");
    }

  if (g_str_equal (path, "/gzip-chunked"))
    return coded_route (conn, "gzip", big_gzip, TRUE, 1000);
  if (g_str_equal (path, "/deflate-gzip-chunked"))
    return coded_route (conn, "deflate, gzip", big_deflate_gzip, TRUE, 70000);
  if (g_str_equal (path, "/text-gzip-close"))
    return coded_route (conn, "gzip", text_gzip, FALSE, 0);
  if (g_str_equal (path, "/text-gzip-chunked"))
    return coded_route (conn, "x-gzip", text_gzip, TRUE, 16384);

  if (g_str_equal (path, "/http10") || g_str_equal (path, "/eof11"))
    {
      /* No length: the body ends where the server closes. */
      test_conn_write_str (conn, g_str_equal (path, "/http10")
                                 ? "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                                 : "HTTP/1.1 200 OK\r\n\r\n");
      test_conn_write (conn, big_data (), BIG_SIZE);
      return FALSE;
    }

  /* Bodiless responses that still announce a length. */
  if (g_str_equal (path, "/head-length"))
    return test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  if (g_str_equal (path, "/204"))
    return test_conn_write_str (conn, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n");
  if (g_str_equal (path, "/304"))
    return test_conn_write_str (conn, "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n"
                                      "Content-Length: 5\r\n\r\n");

  if (g_str_equal (path, "/interim"))
    {
      test_conn_write_str (conn, "HTTP/1.1 102 Processing\r\n\r\n"
                                 "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n");
      return test_conn_respond (conn, 200, "text/plain", "final", 5);
    }

  if (g_str_equal (path, "/repeat"))
    return test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Mixed: one\r\n"
                                      "set-cookie: b=2\r\nSET-COOKIE: c=3\r\nX-Mixed: two\r\n"
                                      "Content-Length: 2\r\n\r\nok");

  if (g_str_equal (path, "/close"))
    {
      test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye");
      return FALSE;
    }

  if (g_str_has_prefix (path, "/hold"))
    {
      hold_route (server, conn, stats);
      return test_conn_respond (conn, 200, "text/plain", "held", 4);
    }

  if (strstr (path, "/redirect?") != NULL)
    return redirect_route (conn, req);

  if (g_str_has_suffix (path, "/target") || strstr (path, "/target?") != NULL)
    {
      g_autofree char *answer = g_strdup_printf ("%s %" G_GSIZE_FORMAT, req->method,
                                                 g_bytes_get_size (req->body));

      return test_conn_respond (conn, 200, "text/plain", answer, strlen (answer));
    }

  if (g_str_has_prefix (path, "/chain/"))
    {
      guint n = (guint) atoi (path + strlen ("/chain/"));
      g_autofree char *headers = g_strdup_printf ("Location: /chain/%u\r\n", n - 1);

      if (n == 0)
        return test_conn_respond (conn, 200, "text/plain", "end", 3);
      return test_conn_respond_with_headers (conn, 302, headers, NULL, 0);
    }

  if (g_str_equal (path, "/loop"))
    return test_conn_respond_with_headers (conn, 302, "Location: /loop\r\n", NULL, 0);

  if (g_str_equal (path, "/stall"))
    {
      test_conn_sleep (conn, 5000);
      return test_conn_respond (conn, 200, "text/plain", "late", 4);
    }

  if (g_str_equal (path, "/trickle"))
    {
      test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
      return test_conn_trickle (conn, big_data (), 100, 100);
    }

  if (g_str_equal (path, "/family"))
    return test_conn_respond (conn, 200, "text/plain",
                              test_conn_get_family (conn) == AF_INET6 ? "6" : "4", 1);

  if (g_str_equal (path, "/metrics"))
    return test_conn_write_str (conn, METRICS_HEAD METRICS_BODY);

  return test_conn_respond (conn, 404, "text/plain", "nope", 4);
}

static TestServer *
new_server (ServerStats *stats)
{
  return test_server_new (TEST_SERVER_IPV4, handler, stats);
}

/* ----------------------------------------------------------------- helpers */

static GMultiTransfer *
new_transfer (TestServer *server,
              const char *path)
{
  g_autofree char *uri = test_server_uri (server, path);

  return gmulti_transfer_new (uri);
}

static void
run_transfer (EngineLoop     *loop,
              GMultiTransfer *transfer)
{
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_DONE);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static void
assert_body (GMultiTransfer *transfer,
             const void     *expected,
             gsize           length)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), expected, length);
}

static void
assert_success (GMultiTransfer *transfer,
                guint           status,
                const char     *body)
{
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, status);
  if (body != NULL)
    assert_body (transfer, body, strlen (body));
}

static void
assert_request_body (TestRequest *req,
                     GBytes      *expected)
{
  g_assert_nonnull (req->body);
  g_assert_cmpmem (g_bytes_get_data (req->body, NULL), g_bytes_get_size (req->body),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

static gint64
elapsed_ms (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000;
}

/* A request body handed out in pieces of at most max_piece bytes. */
typedef struct {
  GBytes *bytes;
  gsize offset;
  gsize max_piece;
  guint calls;
} ReadSource;

static gssize
read_source_cb (GMultiTransfer *transfer,
                guint8         *buffer,
                gsize           length,
                gpointer        user_data,
                GError        **error)
{
  ReadSource *source = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (source->bytes, &size);
  gsize n = MIN (MIN (length, source->max_piece), size - source->offset);

  if (n > 0)
    memcpy (buffer, data + source->offset, n);
  source->offset += n;
  source->calls++;
  return (gssize) n;
}

/* ----------------------------------------------------------------- requests */

static gboolean
method_sends_length (const char *method)
{
  return g_str_equal (method, "POST") || g_str_equal (method, "PUT") ||
         g_str_equal (method, "PATCH");
}

static void
test_methods (void)
{
  static const char *const methods[] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW",
  };
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/method");
      g_autoptr(TestRequest) req = NULL;
      g_autofree char *line = g_strdup_printf ("%s /method HTTP/1.1\r\n", methods[i]);
      gboolean head = g_str_equal (methods[i], "HEAD");

      g_assert_true (gmulti_transfer_set_method (transfer, methods[i], NULL));
      run_transfer (loop, transfer);
      assert_success (transfer, 200, head ? "" : methods[i]);

      req = test_server_get_request (server, i);
      g_assert_nonnull (req);
      g_assert_cmpstr (req->method, ==, methods[i]);
      g_assert_true (g_str_has_prefix (req->raw_head, line));
      /* Methods that usually carry a body say it is empty; the others send no framing. */
      g_assert_cmpstr (test_request_get_header (req, "Content-Length"), ==,
                       method_sends_length (methods[i]) ? "0" : NULL);
      g_assert_null (test_request_get_header (req, "Transfer-Encoding"));
      g_assert_cmpuint (g_bytes_get_size (req->body), ==, 0);
    }

  /* The bodiless HEAD answer left the connection in step: everything used one. */
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, G_N_ELEMENTS (methods));
}

/* The engine's default User-Agent, as a session sets it: in its defaults. */
static gboolean
set_engine_user_agent (GMultiEngine *engine,
                       const char   *user_agent,
                       GError      **error)
{
  g_autoptr(GMultiDefaults) defaults = gmulti_defaults_copy (engine->defaults);
  gboolean ok = gmulti_defaults_set_user_agent (defaults, user_agent, error);

  gmulti_engine_set_defaults (engine, defaults);
  return ok;
}

static void
test_request_headers (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) plain = new_transfer (server, "/hello?a=1&b=%20x");
  g_autoptr(GMultiTransfer) with_agent = new_transfer (server, "/hello");
  g_autoptr(GMultiTransfer) virtual_host = new_transfer (server, "/hello");
  g_autoptr(GMultiTransfer) engine_agent = new_transfer (server, "/hello");
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *expected = NULL;
  guint port = test_server_get_port (server);

  g_assert_true (gmulti_transfer_add_request_header (plain, "X-First", "1", NULL));
  g_assert_true (gmulti_transfer_add_request_header (plain, "X-Second", "two", NULL));
  g_assert_true (gmulti_transfer_add_request_header (plain, "x-first", "3", NULL));
  g_assert_true (gmulti_transfer_add_request_header (plain, "Accept", "text/plain", NULL));
  run_transfer (loop, plain);
  assert_success (plain, 200, "hello");
  req = test_server_get_last_request (server);
  expected = g_strdup_printf ("GET /hello?a=1&b=%%20x HTTP/1.1\r\n"
                              "Host: 127.0.0.1:%u\r\n"
                              "X-First: 1\r\n"
                              "X-Second: two\r\n"
                              "x-first: 3\r\n"
                              "Accept: text/plain\r\n"
                              "\r\n", port);
  g_assert_cmpstr (req->raw_head, ==, expected);
  /* The engine sets no User-Agent of its own. */
  g_assert_null (test_request_get_header (req, "User-Agent"));
  g_clear_pointer (&req, test_request_free);
  g_clear_pointer (&expected, g_free);

  g_assert_true (gmulti_transfer_add_request_header (with_agent, "User-Agent", "probe/1.0", NULL));
  run_transfer (loop, with_agent);
  req = test_server_get_last_request (server);
  expected = g_strdup_printf ("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                              "User-Agent: probe/1.0\r\n\r\n", port);
  g_assert_cmpstr (req->raw_head, ==, expected);
  g_clear_pointer (&req, test_request_free);
  g_clear_pointer (&expected, g_free);

  /* The application's Host replaces the engine's, and is still sent once, first. */
  g_assert_true (gmulti_transfer_add_request_header (virtual_host, "X-Before", "b", NULL));
  g_assert_true (gmulti_transfer_add_request_header (virtual_host, "Host", "virtual.example", NULL));
  run_transfer (loop, virtual_host);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (req->raw_head, ==, "GET /hello HTTP/1.1\r\nHost: virtual.example\r\n"
                                      "X-Before: b\r\n\r\n");
  g_clear_pointer (&req, test_request_free);

  /* A default User-Agent set on the engine (as the session does) comes with Accept. */
  g_assert_true (set_engine_user_agent (loop->engine, "gmulti-test/1", NULL));
  run_transfer (loop, engine_agent);
  req = test_server_get_last_request (server);
  expected = g_strdup_printf ("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                              "User-Agent: gmulti-test/1\r\nAccept: */*\r\n\r\n", port);
  g_assert_cmpstr (req->raw_head, ==, expected);

  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
}

static void
test_body_bytes (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/upload");
  g_autoptr(GBytes) body = g_bytes_new_static ("name=value&other=\xff\x00z", 20);
  g_autoptr(TestRequest) req = NULL;

  g_assert_true (gmulti_transfer_set_method (transfer, "POST", NULL));
  g_assert_true (gmulti_transfer_add_request_header (transfer, "Content-Type",
                                                     "application/x-www-form-urlencoded",
                                                     NULL));
  gmulti_transfer_set_request_body (transfer, body);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "20");
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, 20);

  req = test_server_get_last_request (server);
  g_assert_cmpstr (test_request_get_header (req, "Content-Length"), ==, "20");
  g_assert_null (test_request_get_header (req, "Transfer-Encoding"));
  g_assert_false (req->body_was_chunked);
  assert_request_body (req, body);
}

static void
check_read_func_body (gboolean known_length)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/upload");
  g_autoptr(GBytes) body = pattern_bytes (300 * 1000 + 17, 3);
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *answer = g_strdup_printf ("%" G_GSIZE_FORMAT, g_bytes_get_size (body));
  ReadSource source = { body, 0, 7777, 0 };

  g_assert_true (gmulti_transfer_set_method (transfer, "PUT", NULL));
  gmulti_transfer_set_request_body_func (transfer, read_source_cb,
                                         known_length ? (gint64) g_bytes_get_size (body) : -1,
                                         &source, NULL);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, answer);
  g_assert_cmpuint (source.offset, ==, g_bytes_get_size (body));
  g_assert_cmpuint (source.calls, >, 1);
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, g_bytes_get_size (body));

  req = test_server_get_last_request (server);
  assert_request_body (req, body);
  if (!known_length)
    {
      g_assert_cmpstr (test_request_get_header (req, "Transfer-Encoding"), ==, "chunked");
      g_assert_null (test_request_get_header (req, "Content-Length"));
      g_assert_true (req->body_was_chunked);
    }
  else
    {
      g_assert_cmpstr (test_request_get_header (req, "Content-Length"), ==, answer);
      g_assert_null (test_request_get_header (req, "Transfer-Encoding"));
      g_assert_false (req->body_was_chunked);
    }
}

static void
test_body_read_func_length (void)
{
  check_read_func_body (TRUE);
}

static void
test_body_read_func_chunked (void)
{
  check_read_func_body (FALSE);
}

static void
test_body_large (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/upload");
  g_autoptr(GBytes) body = pattern_bytes (5 * 1024 * 1024, 11);
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *answer = g_strdup_printf ("%" G_GSIZE_FORMAT, g_bytes_get_size (body));

  g_assert_true (gmulti_transfer_set_method (transfer, "PUT", NULL));
  gmulti_transfer_set_request_body (transfer, body);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, answer);
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, g_bytes_get_size (body));
  g_assert_cmpuint (gmulti_metrics_get_body_bytes_sent (gmulti_transfer_get_metrics (transfer)),
                    ==, g_bytes_get_size (body));

  req = test_server_get_last_request (server);
  g_assert_cmpstr (test_request_get_header (req, "Content-Length"), ==, answer);
  assert_request_body (req, body);
}

static void
test_body_empty (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) none = new_transfer (server, "/upload");
  g_autoptr(GMultiTransfer) empty = new_transfer (server, "/upload");
  g_autoptr(GMultiTransfer) chunked = new_transfer (server, "/upload");
  g_autoptr(GBytes) nothing = g_bytes_new (NULL, 0);
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *expected = NULL;
  ReadSource source = { nothing, 0, 100, 0 };

  /* A POST without a body, and one with an empty body: both say Content-Length: 0. */
  g_assert_true (gmulti_transfer_set_method (none, "POST", NULL));
  run_transfer (loop, none);
  assert_success (none, 200, "0");
  req = test_server_get_last_request (server);
  expected = g_strdup_printf ("POST /upload HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                              "Content-Length: 0\r\n\r\n", test_server_get_port (server));
  g_assert_cmpstr (req->raw_head, ==, expected);
  g_clear_pointer (&req, test_request_free);

  g_assert_true (gmulti_transfer_set_method (empty, "POST", NULL));
  gmulti_transfer_set_request_body (empty, nothing);
  run_transfer (loop, empty);
  assert_success (empty, 200, "0");
  req = test_server_get_last_request (server);
  g_assert_cmpstr (req->raw_head, ==, expected);
  g_clear_pointer (&req, test_request_free);

  /* A body of unknown length that turns out empty: just the last chunk. */
  g_assert_true (gmulti_transfer_set_method (chunked, "POST", NULL));
  gmulti_transfer_set_request_body_func (chunked, read_source_cb, -1, &source, NULL);
  run_transfer (loop, chunked);
  assert_success (chunked, 200, "0");
  g_assert_cmpuint (source.calls, ==, 1);
  req = test_server_get_last_request (server);
  g_assert_true (req->body_was_chunked);
  g_assert_cmpuint (g_bytes_get_size (req->body), ==, 0);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
}

/* ---------------------------------------------------------------- responses */

static void
test_response_content_length (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/big");
  GMultiHeaders *headers;

  run_transfer (loop, transfer);
  assert_success (transfer, 200, NULL);
  assert_body (transfer, big_data (), BIG_SIZE);
  g_assert_cmpstr (gmulti_transfer_get_reason_phrase (transfer), ==, "OK");
  headers = gmulti_transfer_get_response_headers (transfer);
  g_assert_cmpstr (gmulti_headers_get_one (headers, "Content-Length"), ==, "262144");
  g_assert_cmpstr (gmulti_headers_get_one (headers, "content-type"), ==,
                   "application/octet-stream");
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (transfer), ==, BIG_SIZE);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, BIG_SIZE);
  g_assert_null (gmulti_transfer_get_response_trailers (transfer));
}

static void
test_response_chunked_trailers (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/chunked");
  g_autoptr(GMultiTransfer) next = new_transfer (server, "/hello");
  GMultiHeaders *trailers;

  run_transfer (loop, transfer);
  assert_success (transfer, 200, "Hello, chunked world!");
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (transfer), ==, -1);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 21);
  trailers = gmulti_transfer_get_response_trailers (transfer);
  g_assert_nonnull (trailers);
  g_assert_cmpuint (gmulti_headers_get_length (trailers), ==, 2);
  g_assert_cmpstr (gmulti_headers_get_name (trailers, 0), ==, "X-Checksum");
  g_assert_cmpstr (gmulti_headers_get_value (trailers, 0), ==, "5d41");
  g_assert_cmpstr (gmulti_headers_get_one (trailers, "x-count"), ==, "3");
  /* Trailers are not mixed into the head's fields. */
  g_assert_null (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                         "X-Checksum"));

  /* The connection is reusable after the last chunk. */
  run_transfer (loop, next);
  assert_success (next, 200, "hello");
  g_assert_null (gmulti_transfer_get_response_trailers (next));
  g_assert_true (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (next)));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
}

static void
test_response_close_delimited (void)
{
  static const char *const paths[] = { "/http10", "/eof11" };
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, paths[i]);

      run_transfer (loop, transfer);
      assert_success (transfer, 200, NULL);
      assert_body (transfer, big_data (), BIG_SIZE);
      g_assert_cmpint (gmulti_transfer_get_bytes_expected (transfer), ==, -1);
      g_assert_false (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (transfer)));
      /* A body delimited by the close leaves no connection to pool. */
      g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
    }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
}

/* Bodies with transfer codings besides chunked arrive decoded, whatever the framing,
 * and much larger than a decoder buffer. */
static void
test_response_transfer_codings (void)
{
  static const struct {
    const char *path;
    gboolean text;
    gboolean pooled;
  } cases[] = {
    { "/gzip-chunked", FALSE, TRUE },
    { "/deflate-gzip-chunked", FALSE, TRUE },
    { "/text-gzip-chunked", TRUE, TRUE },
    { "/text-gzip-close", TRUE, FALSE },
  };
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, cases[i].path);
      g_autoptr(GMultiTransfer) next = new_transfer (server, "/hello");
      GBytes *expected = cases[i].text ? text_body : big_body;

      g_test_message ("%s", cases[i].path);
      run_transfer (loop, transfer);
      assert_success (transfer, 200, NULL);
      assert_body (transfer, g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
      g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==,
                        g_bytes_get_size (expected));
      g_assert_cmpint (gmulti_transfer_get_bytes_expected (transfer), ==, -1);
      g_assert_cmpstr (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                               "Transfer-Encoding"), !=, NULL);

      /* A chunked coded body ends cleanly: the connection is reused. */
      run_transfer (loop, next);
      assert_success (next, 200, "hello");
      g_assert_true (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (next)) ==
                     cases[i].pooled);
    }
}

/* A coded body bound for a file is decoded on the copying road: splice() would put the
 * coded bytes in the file. */
static void
test_response_transfer_codings_file (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/text-gzip-close");
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileIOStream) io = NULL;
  g_autoptr(GFile) file = g_file_new_tmp ("gmulti-coded-XXXXXX", &io, &error);
  g_autoptr(GFileOutputStream) out = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_no_error (error);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  g_assert_no_error (error);
  gmulti_transfer_set_output_stream (transfer, G_OUTPUT_STREAM (out));
  run_transfer (loop, transfer);
  assert_success (transfer, 200, NULL);
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_load_contents (file, NULL, &contents, &length, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (contents, length, g_bytes_get_data (text_body, NULL),
                   g_bytes_get_size (text_body));
  g_file_delete (file, NULL, NULL);
}

static void
test_response_no_body (void)
{
  static const struct {
    const char *method;
    const char *path;
    guint status;
  } cases[] = {
    { "HEAD", "/head-length", 200 },
    { "GET", "/204", 204 },
    { "GET", "/304", 304 },
  };
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) last = new_transfer (server, "/hello");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, cases[i].path);

      g_assert_true (gmulti_transfer_set_method (transfer, cases[i].method, NULL));
      /* Waiting for the announced body would run into this. */
      gmulti_transfer_set_timeout (transfer, 5000);
      run_transfer (loop, transfer);
      assert_success (transfer, cases[i].status, "");
      g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 0);
      g_assert_nonnull (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                                "Content-Length"));
    }

  /* Nothing of the announced bodies was waited for or left over. */
  run_transfer (loop, last);
  assert_success (last, 200, "hello");
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
}

static void
count_cb (gpointer data)
{
  (*(guint *) data)++;
}

static void
test_response_informational (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/interim");
  g_autoptr(GMultiTransfer) next = new_transfer (server, "/hello");
  GMultiHeaders *headers;
  guint n_heads = 0;

  g_signal_connect_swapped (transfer, "response-headers", G_CALLBACK (count_cb), &n_heads);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "final");
  g_assert_cmpstr (gmulti_transfer_get_reason_phrase (transfer), ==, "OK");
  g_assert_cmpuint (n_heads, ==, 1);
  /* Only the final response's fields. */
  headers = gmulti_transfer_get_response_headers (transfer);
  g_assert_null (gmulti_headers_get_one (headers, "Link"));
  g_assert_cmpstr (gmulti_headers_get_one (headers, "Content-Type"), ==, "text/plain");

  run_transfer (loop, next);
  assert_success (next, 200, "hello");
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
}

static void
test_response_repeated_headers (void)
{
  static const char *const expected[][2] = {
    { "Set-Cookie", "a=1" },
    { "X-Mixed", "one" },
    { "set-cookie", "b=2" },
    { "SET-COOKIE", "c=3" },
    { "X-Mixed", "two" },
    { "Content-Length", "2" },
  };
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/repeat");
  g_autofree char *mixed = NULL;
  GMultiHeaders *headers;

  run_transfer (loop, transfer);
  assert_success (transfer, 200, "ok");
  headers = gmulti_transfer_get_response_headers (transfer);
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpstr (gmulti_headers_get_name (headers, i), ==, expected[i][0]);
      g_assert_cmpstr (gmulti_headers_get_value (headers, i), ==, expected[i][1]);
    }
  g_assert_cmpstr (gmulti_headers_get_one (headers, "SET-cookie"), ==, "a=1");
  g_assert_true (gmulti_headers_contains (headers, "x-mixed"));
  mixed = gmulti_headers_get_list (headers, "x-MIXED");
  g_assert_cmpstr (mixed, ==, "one, two");
}

/* ------------------------------------------------------------ 100-continue */

typedef enum {
  EXPECT_CONTINUE,   /* answer 100 after a pause, then read the body */
  EXPECT_REJECT,     /* answer 417 at once and never read a body */
} ExpectMode;

typedef struct {
  ExpectMode mode;
  /* Results, read after the server was freed (its threads joined). */
  gboolean saw_expect;
  gsize early_bytes;        /* body bytes that came before any interim answer */
  gsize late_bytes;         /* body bytes that came after the 417 */
  gboolean client_closed;
  GBytes *body;
  gint64 head_us, continue_us, body_us;
} ExpectScript;

static void
expect_raw_cb (TestServer *server,
               TestConn   *conn,
               gpointer    user_data)
{
  ExpectScript *script = user_data;
  g_autoptr(TestRequest) req = NULL;
  g_autoptr(GBytes) early = NULL;

  req = test_conn_read_request_head (conn, 5000);
  if (req == NULL)
    return;
  if (test_conn_get_id (conn) > 1)
    {
      /* Later connections: plain requests. */
      if (test_conn_read_request_body (conn, req, 5000))
        test_conn_respond (conn, 200, "text/plain", "plain", 5);
      return;
    }

  script->head_us = g_get_monotonic_time ();
  script->saw_expect = g_strcmp0 (test_request_get_header (req, "Expect"), "100-continue") == 0;
  early = test_conn_read_some (conn, 200);
  script->early_bytes = early != NULL ? g_bytes_get_size (early) : 0;

  if (script->mode == EXPECT_CONTINUE)
    {
      test_conn_write_str (conn, "HTTP/1.1 100 Continue\r\n\r\n");
      script->continue_us = g_get_monotonic_time ();
      if (!test_conn_read_request_body (conn, req, 5000))
        return;
      script->body_us = g_get_monotonic_time ();
      script->body = g_bytes_ref (req->body);
      test_conn_respond (conn, 200, "text/plain", "continued", 9);
      test_conn_wait_client_close (conn, 5000);
    }
  else
    {
      g_autoptr(GBytes) late = NULL;

      test_conn_write_str (conn, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 6\r\n\r\nnope!\n");
      script->client_closed = test_conn_wait_client_close (conn, 5000);
      late = test_conn_read_some (conn, 0);
      script->late_bytes = late != NULL ? g_bytes_get_size (late) : 0;
    }
}

static GMultiTransfer *
new_expect_transfer (TestServer *server,
                     GBytes     *body)
{
  GMultiTransfer *transfer = new_transfer (server, "/upload");

  g_assert_true (gmulti_transfer_set_method (transfer, "POST", NULL));
  g_assert_true (gmulti_transfer_add_request_header (transfer, "Expect", "100-continue", NULL));
  gmulti_transfer_set_request_body (transfer, body);
  return transfer;
}

static void
test_expect_continue (void)
{
  ExpectScript script = { .mode = EXPECT_CONTINUE };
  g_autoptr(GBytes) body = pattern_bytes (3000, 5);
  TestServer *server = test_server_new_raw (TEST_SERVER_IPV4, expect_raw_cb, &script);
  EngineLoop *loop = engine_loop_new ();
  GMultiTransfer *transfer = new_expect_transfer (server, body);

  run_transfer (loop, transfer);
  assert_success (transfer, 200, "continued");
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, g_bytes_get_size (body));
  g_object_unref (transfer);
  engine_loop_free (loop);
  test_server_free (server);

  g_assert_true (script.saw_expect);
  /* Nothing of the body before the 100 ... */
  g_assert_cmpuint (script.early_bytes, ==, 0);
  g_assert_nonnull (script.body);
  g_assert_cmpmem (g_bytes_get_data (script.body, NULL), g_bytes_get_size (script.body),
                   g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  /* ... and then at once, not after the engine's one-second wait. */
  g_assert_cmpint (script.body_us, >=, script.continue_us);
  g_assert_cmpint ((script.body_us - script.head_us) / 1000, <, 900);
  g_bytes_unref (script.body);
}

static void
test_expect_continue_read_func (void)
{
  ExpectScript script = { .mode = EXPECT_CONTINUE };
  g_autoptr(GBytes) body = pattern_bytes (40000, 8);
  ReadSource source = { body, 0, 5000, 0 };
  TestServer *server = test_server_new_raw (TEST_SERVER_IPV4, expect_raw_cb, &script);
  EngineLoop *loop = engine_loop_new ();
  GMultiTransfer *transfer = new_transfer (server, "/upload");

  g_assert_true (gmulti_transfer_set_method (transfer, "POST", NULL));
  g_assert_true (gmulti_transfer_add_request_header (transfer, "Expect", "100-continue", NULL));
  gmulti_transfer_set_request_body_func (transfer, read_source_cb, -1, &source, NULL);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "continued");
  g_object_unref (transfer);
  engine_loop_free (loop);
  test_server_free (server);

  g_assert_true (script.saw_expect);
  g_assert_cmpuint (script.early_bytes, ==, 0);
  g_assert_nonnull (script.body);
  g_assert_cmpmem (g_bytes_get_data (script.body, NULL), g_bytes_get_size (script.body),
                   g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_assert_cmpint ((script.body_us - script.head_us) / 1000, <, 900);
  g_bytes_unref (script.body);
}

static void
test_expect_rejected (void)
{
  ExpectScript script = { .mode = EXPECT_REJECT };
  g_autoptr(GBytes) body = pattern_bytes (3000, 6);
  TestServer *server = test_server_new_raw (TEST_SERVER_IPV4, expect_raw_cb, &script);
  EngineLoop *loop = engine_loop_new ();
  GMultiTransfer *transfer = new_expect_transfer (server, body);
  GMultiTransfer *next = new_transfer (server, "/upload");

  run_transfer (loop, transfer);
  assert_success (transfer, 417, "nope!\n");
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, 0);
  /* The connection is not in step any more (the server may still expect the body). */
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);

  run_transfer (loop, next);
  assert_success (next, 200, "plain");
  g_assert_false (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (next)));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);

  g_object_unref (transfer);
  g_object_unref (next);
  engine_loop_free (loop);
  test_server_free (server);

  g_assert_true (script.saw_expect);
  g_assert_cmpuint (script.early_bytes, ==, 0);
  g_assert_true (script.client_closed);
  g_assert_cmpuint (script.late_bytes, ==, 0);
}

static void
test_expect_ignored (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GBytes) body = pattern_bytes (3000, 7);
  g_autoptr(GMultiTransfer) transfer = new_expect_transfer (server, body);
  g_autoptr(TestRequest) req = NULL;
  gint64 start;

  /* A server that does not know Expect waits for the body without answering. */
  test_server_set_ignore_expect (server, TRUE);
  start = g_get_monotonic_time ();
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "3000");
  /* The body went out after the engine's one-second wait. */
  g_assert_cmpint (elapsed_ms (start), >=, 950);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (test_request_get_header (req, "Expect"), ==, "100-continue");
  assert_request_body (req, body);
}

/* -------------------------------------------------------- body delivery */

typedef struct {
  GByteArray *data;
  guint calls;
  gboolean pause_on_first;
  guint abort_after;        /* 0: never */
} Sink;

static gboolean
sink_write_cb (GMultiTransfer *transfer,
               const guint8   *data,
               gsize           length,
               gpointer        user_data)
{
  Sink *sink = user_data;

  sink->calls++;
  g_assert_cmpuint (length, >, 0);
  g_byte_array_append (sink->data, data, length);
  if (sink->pause_on_first && sink->calls == 1)
    gmulti_transfer_pause (transfer);
  return sink->abort_after == 0 || sink->calls < sink->abort_after;
}

static void
test_write_func (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/slow");
  g_autoptr(GBytes) collected = NULL;
  Sink sink = { .data = g_byte_array_new () };

  gmulti_transfer_set_write_func (transfer, sink_write_cb, &sink, NULL);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, NULL);
  /* Arrived in many pieces that add up to the body. */
  g_assert_cmpuint (sink.calls, >, 1);
  g_assert_cmpmem (sink.data->data, sink.data->len, big_data (), BIG_SIZE);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, BIG_SIZE);
  collected = gmulti_transfer_get_response_body (transfer);
  g_assert_true (collected == NULL || g_bytes_get_size (collected) == 0);
  g_byte_array_unref (sink.data);
}

static void
test_write_func_abort (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/slow");
  Sink sink = { g_byte_array_new (), 0, FALSE, 2 };

  gmulti_transfer_set_write_func (transfer, sink_write_cb, &sink, NULL);
  run_transfer (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_CALLBACK_ABORTED);
  g_assert_cmpuint (sink.calls, ==, 2);
  /* The rest of the body is still on its way: the connection cannot be reused. */
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  g_assert_true (test_server_wait_open (server, 0, 5000));
  g_byte_array_unref (sink.data);
}

static void
append_data_cb (GMultiTransfer *transfer,
                GBytes         *chunk,
                gpointer        user_data)
{
  GByteArray *data = user_data;

  g_byte_array_append (data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
}

static void
test_collect_off (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/big");
  g_autoptr(GByteArray) seen = g_byte_array_new ();

  gmulti_transfer_set_collect_body (transfer, FALSE);
  g_signal_connect (transfer, "data", G_CALLBACK (append_data_cb), seen);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, NULL);
  g_assert_null (gmulti_transfer_get_response_body (transfer));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, BIG_SIZE);
  g_assert_cmpmem (seen->data, seen->len, big_data (), BIG_SIZE);
}

/* --------------------------------------------------------------------- pool */

static void
test_keep_alive (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  guint64 first_id = 0;

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, i % 2 ? "/hello" : "/big");
      GMultiMetrics *metrics;

      run_transfer (loop, transfer);
      assert_success (transfer, 200, i % 2 ? "hello" : NULL);
      metrics = gmulti_transfer_get_metrics (transfer);
      if (i == 0)
        {
          first_id = gmulti_metrics_get_connection_id (metrics);
          g_assert_cmpuint (first_id, >, 0);
          g_assert_false (gmulti_metrics_get_connection_reused (metrics));
        }
      else
        {
          g_assert_cmpuint (gmulti_metrics_get_connection_id (metrics), ==, first_id);
          g_assert_true (gmulti_metrics_get_connection_reused (metrics));
        }
      g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);
    }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 10);
}

static void
test_connection_close (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) closing = new_transfer (server, "/close");
  g_autoptr(GMultiTransfer) next = new_transfer (server, "/hello");
  g_autoptr(TestRequest) req = NULL;

  run_transfer (loop, closing);
  assert_success (closing, 200, "bye");
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);

  run_transfer (loop, next);
  assert_success (next, 200, "hello");
  g_assert_false (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (next)));
  g_assert_cmpuint (gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (next)), !=,
                    gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (closing)));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
  req = test_server_get_last_request (server);
  g_assert_cmpuint (req->conn_id, ==, 2);
  g_assert_cmpuint (req->seq_on_conn, ==, 1);
}

static void
record_start_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  GPtrArray *order = user_data;
  GMultiTransferState state = gmulti_transfer_get_state (GMULTI_TRANSFER (object));

  if ((state == GMULTI_TRANSFER_CONNECTING || state == GMULTI_TRANSFER_SENDING) &&
      !g_ptr_array_find (order, object, NULL))
    g_ptr_array_add (order, object);
}

/* Runs every added transfer, returning the most connections the engine had at once. */
static guint
run_all_sampling (EngineLoop *loop)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
  guint most = 0;

  while (gmulti_engine_get_n_running (loop->engine) > 0 && g_get_monotonic_time () < end)
    {
      engine_loop_iterate (loop, 20);
      most = MAX (most, gmulti_engine_get_n_connections (loop->engine));
    }
  g_assert_cmpuint (gmulti_engine_get_n_running (loop->engine), ==, 0);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
  return most;
}

static void
test_max_connections (void)
{
  ServerStats stats = { 0, };
  TestServer *server = (g_mutex_init (&stats.lock), new_server (&stats));
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  guint most;

  gmulti_engine_set_max_connections (loop->engine, 2);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *path = g_strdup_printf ("/hold?%u", i);
      GMultiTransfer *transfer = new_transfer (server, path);

      g_signal_connect (transfer, "notify::state", G_CALLBACK (record_start_cb), order);
      g_ptr_array_add (transfers, transfer);
      g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
    }

  most = run_all_sampling (loop);
  g_assert_cmpuint (most, ==, 2);
  for (guint i = 0; i < transfers->len; i++)
    assert_success (transfers->pdata[i], 200, "held");

  /* Started in the order they were added. */
  g_assert_cmpuint (order->len, ==, transfers->len);
  for (guint i = 0; i < order->len; i++)
    g_assert_true (order->pdata[i] == transfers->pdata[i]);

  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
  test_server_free (server);
  g_assert_cmpuint (stats.max_open, <=, 2);
  g_assert_cmpuint (stats.max_in_handler, ==, 2);
  g_mutex_clear (&stats.lock);
}

static void
test_max_host_connections (void)
{
  ServerStats stats_a = { 0, }, stats_b = { 0, };
  TestServer *a = (g_mutex_init (&stats_a.lock), new_server (&stats_a));
  TestServer *b = (g_mutex_init (&stats_b.lock), new_server (&stats_b));
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  guint most;

  gmulti_engine_set_max_host_connections (loop->engine, 1);
  for (guint i = 0; i < 6; i++)
    {
      GMultiTransfer *transfer = new_transfer (i % 2 ? b : a, "/hold");

      g_ptr_array_add (transfers, transfer);
      gmulti_engine_add (loop->engine, transfer);
    }

  most = run_all_sampling (loop);
  for (guint i = 0; i < transfers->len; i++)
    assert_success (transfers->pdata[i], 200, "held");
  /* One per origin, the origins side by side. */
  g_assert_cmpuint (most, ==, 2);
  g_assert_cmpuint (test_server_get_n_accepted (a), ==, 1);
  g_assert_cmpuint (test_server_get_n_accepted (b), ==, 1);
  test_server_free (a);
  test_server_free (b);
  g_assert_cmpuint (stats_a.max_in_handler, ==, 1);
  g_assert_cmpuint (stats_b.max_in_handler, ==, 1);
  g_mutex_clear (&stats_a.lock);
  g_mutex_clear (&stats_b.lock);
}

static void
test_max_idle_connections (void)
{
  ServerStats stats = { 0, };
  TestServer *server = (g_mutex_init (&stats.lock), new_server (&stats));
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);

  gmulti_engine_set_max_idle_connections (loop->engine, 1);
  for (guint i = 0; i < 3; i++)
    {
      GMultiTransfer *transfer = new_transfer (server, "/hold");

      g_ptr_array_add (transfers, transfer);
      gmulti_engine_add (loop->engine, transfer);
    }

  g_assert_cmpuint (run_all_sampling (loop), ==, 3);
  for (guint i = 0; i < transfers->len; i++)
    assert_success (transfers->pdata[i], 200, "held");
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  /* The server sees the two others closed. */
  g_assert_true (test_server_wait_open (server, 1, 5000));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 3);
  test_server_free (server);
  g_assert_cmpuint (stats.max_in_handler, ==, 3);
  g_mutex_clear (&stats.lock);
}

static void
test_max_connections_close (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);

  /* Each slot frees when the server closes: the next waiter gets it. */
  gmulti_engine_set_max_connections (loop->engine, 1);
  for (guint i = 0; i < 3; i++)
    {
      GMultiTransfer *transfer = new_transfer (server, "/close");

      g_ptr_array_add (transfers, transfer);
      gmulti_engine_add (loop->engine, transfer);
    }
  g_assert_cmpuint (run_all_sampling (loop), ==, 1);
  for (guint i = 0; i < transfers->len; i++)
    assert_success (transfers->pdata[i], 200, "bye");
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 3);
}

static void
test_max_connections_evicts_idle (void)
{
  g_autoptr(TestServer) a = new_server (NULL);
  g_autoptr(TestServer) b = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (a, "/hello");
  g_autoptr(GMultiTransfer) second = new_transfer (b, "/hello");

  /* An idle connection to another origin makes room rather than blocking. */
  gmulti_engine_set_max_connections (loop->engine, 1);
  run_transfer (loop, first);
  assert_success (first, 200, "hello");
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);
  run_transfer (loop, second);
  assert_success (second, 200, "hello");
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  g_assert_true (test_server_wait_open (a, 0, 5000));
}

static void
test_timeout_while_waiting (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) holder = new_transfer (server, "/hold");
  g_autoptr(GMultiTransfer) waiter = new_transfer (server, "/hello");

  /* The wait for a slot counts toward the total timeout. */
  gmulti_engine_set_max_connections (loop->engine, 1);
  gmulti_transfer_set_timeout (waiter, 100);
  gmulti_engine_add (loop->engine, holder);
  gmulti_engine_add (loop->engine, waiter);
  run_all_sampling (loop);
  assert_success (holder, 200, "held");
  g_assert_error ((GError *) gmulti_transfer_get_error (waiter), GMULTI_ERROR,
                  GMULTI_ERROR_TIMED_OUT);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
}

/* --------------------------------------------------------- stale connection */

/* Answers one request per connection, then closes without having said so. */
static void
answer_once_cb (TestServer *server,
                TestConn   *conn,
                gpointer    user_data)
{
  g_autoptr(TestRequest) req = test_conn_read_request (conn, 5000);

  if (req != NULL)
    test_conn_respond (conn, 200, "text/plain", "fresh", 5);
}

/* Runs @second on the connection @first left in the pool after the server closed it:
 * the request goes out before the engine has looked at the idle socket again, as when
 * the close and the application's next request cross. */
static void
run_on_stale_connection (EngineLoop     *loop,
                         TestServer     *server,
                         GMultiTransfer *first,
                         GMultiTransfer *second)
{
  guint running = 0;

  run_transfer (loop, first);
  assert_success (first, 200, "fresh");
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);
  g_assert_true (test_server_wait_open (server, 0, 5000));

  g_assert_cmpint (gmulti_engine_add (loop->engine, second), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_socket_action (loop->engine, GMULTI_SOCKET_TIMEOUT, 0,
                                                &running), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_transfer_get_state (second), >=, GMULTI_TRANSFER_SENDING);
  g_assert_true (engine_loop_run_until_done (loop, second, WAIT_MS));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static void
test_stale_retry_get (void)
{
  g_autoptr(TestServer) server = test_server_new_raw (TEST_SERVER_IPV4, answer_once_cb, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/one");
  g_autoptr(GMultiTransfer) second = new_transfer (server, "/two");
  g_autoptr(TestRequest) req = NULL;

  run_on_stale_connection (loop, server, first, second);
  assert_success (second, 200, "fresh");
  /* Retried once, on a new connection. */
  g_assert_false (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (second)));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 2);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (req->target, ==, "/two");
  g_assert_cmpuint (req->conn_id, ==, 2);
}

static void
test_stale_no_retry_post (void)
{
  g_autoptr(TestServer) server = test_server_new_raw (TEST_SERVER_IPV4, answer_once_cb, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/one");
  g_autoptr(GMultiTransfer) post = new_transfer (server, "/two");
  g_autoptr(GBytes) body = g_bytes_new_static ("order=1", 7);
  const GError *error;

  g_assert_true (gmulti_transfer_set_method (post, "POST", NULL));
  gmulti_transfer_set_request_body (post, body);
  run_on_stale_connection (loop, server, first, post);

  /* The server may have acted on it: a POST is never sent twice on its own. */
  error = gmulti_transfer_get_error (post);
  g_assert_nonnull (error);
  g_test_message ("stale POST: %s", error->message);
  g_assert_true (error->domain == GMULTI_ERROR);
  g_assert_true (error->code == GMULTI_ERROR_CONNECTION_CLOSED ||
                 error->code == GMULTI_ERROR_RECEIVE_FAILED ||
                 error->code == GMULTI_ERROR_SEND_FAILED);
  g_assert_nonnull (strstr (error->message, "POST request was not sent again"));
  g_assert_cmpuint (gmulti_transfer_get_status (post), ==, 0);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
}

/* ---------------------------------------------------------------- redirects */

static char *
redirect_path (guint       code,
               const char *to)
{
  g_autofree char *escaped = g_uri_escape_string (to, NULL, FALSE);

  return g_strdup_printf ("/redirect?code=%u&to=%s", code, escaped);
}

static GMultiTransfer *
new_redirect (TestServer *server,
              guint       code,
              const char *to)
{
  g_autofree char *path = redirect_path (code, to);
  GMultiTransfer *transfer = new_transfer (server, path);

  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  return transfer;
}

static void
check_method_change (guint       code,
                     const char *method,
                     const char *expected_method,
                     gboolean    body_kept)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_redirect (server, code, "/target");
  g_autoptr(GBytes) body = pattern_bytes (1234, code);
  g_autoptr(TestRequest) first = NULL;
  g_autoptr(TestRequest) second = NULL;
  g_autofree char *answer = g_strdup_printf ("%s %u", expected_method, body_kept ? 1234 : 0);
  g_autofree char *target_uri = test_server_uri (server, "/target");

  g_assert_true (gmulti_transfer_set_method (transfer, method, NULL));
  gmulti_transfer_set_request_body (transfer, body);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, answer);
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, target_uri);
  g_assert_cmpuint (gmulti_metrics_get_redirect_count (gmulti_transfer_get_metrics (transfer)), ==, 1);

  first = test_server_get_request (server, 0);
  second = test_server_get_request (server, 1);
  g_assert_cmpstr (first->method, ==, method);
  assert_request_body (first, body);
  g_assert_cmpstr (second->method, ==, expected_method);
  g_assert_cmpstr (second->target, ==, "/target");
  if (body_kept)
    {
      assert_request_body (second, body);
      g_assert_cmpstr (test_request_get_header (second, "Content-Length"), ==, "1234");
    }
  else
    {
      g_assert_cmpuint (g_bytes_get_size (second->body), ==, 0);
      g_assert_null (test_request_get_header (second, "Content-Length"));
      g_assert_null (test_request_get_header (second, "Transfer-Encoding"));
    }
  /* Same origin: the connection carried both. */
  g_assert_cmpuint (second->conn_id, ==, 1);
}

static void
test_redirect_301_post (void)
{
  check_method_change (301, "POST", "GET", FALSE);
}

static void
test_redirect_302_post (void)
{
  check_method_change (302, "POST", "GET", FALSE);
}

static void
test_redirect_303 (void)
{
  check_method_change (303, "PUT", "GET", FALSE);
}

static void
test_redirect_307 (void)
{
  check_method_change (307, "POST", "POST", TRUE);
}

static void
test_redirect_308 (void)
{
  check_method_change (308, "PUT", "PUT", TRUE);
}

static void
test_redirect_301_put_kept (void)
{
  /* Only POST turns into GET on 301/302. */
  check_method_change (301, "PUT", "PUT", TRUE);
}

static void
test_redirect_unrepeatable_body (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_redirect (server, 307, "/target");
  g_autoptr(GBytes) body = pattern_bytes (100, 1);
  ReadSource source = { body, 0, 100, 0 };

  g_assert_true (gmulti_transfer_set_method (transfer, "POST", NULL));
  gmulti_transfer_set_request_body_func (transfer, read_source_cb, 100, &source, NULL);
  run_transfer (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_BAD_REDIRECT);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
}

static void
test_redirect_relative (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *redirect = redirect_path (302, "../c/target?x=1");
  g_autofree char *path = g_strconcat ("/a/b", redirect, NULL);
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *expected_uri = test_server_uri (server, "/a/c/target?x=1");
  g_autoptr(TestRequest) req = NULL;

  transfer = new_transfer (server, path);
  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "GET 0");
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, expected_uri);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (req->target, ==, "/a/c/target?x=1");
}

static void
test_redirect_limit (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) within = new_transfer (server, "/chain/3");
  g_autoptr(GMultiTransfer) beyond = new_transfer (server, "/chain/4");
  g_autofree char *end_uri = test_server_uri (server, "/chain/0");

  gmulti_transfer_set_follow_redirects (within, TRUE);
  gmulti_transfer_set_max_redirects (within, 3);
  run_transfer (loop, within);
  assert_success (within, 200, "end");
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (within), ==, end_uri);
  g_assert_cmpuint (gmulti_metrics_get_redirect_count (gmulti_transfer_get_metrics (within)), ==, 3);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 4);

  gmulti_transfer_set_follow_redirects (beyond, TRUE);
  gmulti_transfer_set_max_redirects (beyond, 3);
  run_transfer (loop, beyond);
  g_assert_error ((GError *) gmulti_transfer_get_error (beyond), GMULTI_ERROR,
                  GMULTI_ERROR_TOO_MANY_REDIRECTS);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 8);

  /* No redirects allowed at all. */
  {
    g_autoptr(GMultiTransfer) none = new_transfer (server, "/chain/1");

    gmulti_transfer_set_follow_redirects (none, TRUE);
    gmulti_transfer_set_max_redirects (none, 0);
    run_transfer (loop, none);
    g_assert_error ((GError *) gmulti_transfer_get_error (none), GMULTI_ERROR,
                    GMULTI_ERROR_TOO_MANY_REDIRECTS);
  }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
}

static void
test_redirect_loop (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/loop");

  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  run_transfer (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_TOO_MANY_REDIRECTS);
  /* The first request and the default twenty redirects, all on one connection. */
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 21);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
}

static void
test_redirect_bad_scheme (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_redirect (server, 301, "ftp://127.0.0.1/file");

  run_transfer (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_BAD_REDIRECT);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
}

static void
test_redirect_not_followed (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_redirect (server, 302, "/target");
  g_autofree char *uri = g_strdup (gmulti_transfer_get_uri (transfer));

  gmulti_transfer_set_follow_redirects (transfer, FALSE);
  run_transfer (loop, transfer);
  assert_success (transfer, 302, "moved");
  g_assert_cmpstr (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                           "Location"), ==, "/target");
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, uri);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
}

/* Changes its redirect options once it is sending: the documented "read when a
 * response arrives, so a change takes effect at once, also while it runs". */
static void
change_redirects_cb (GMultiTransfer *transfer,
                     GParamSpec     *pspec,
                     gpointer        user_data)
{
  guint *max = user_data;

  if (gmulti_transfer_get_state (transfer) != GMULTI_TRANSFER_SENDING)
    return;
  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  gmulti_transfer_set_max_redirects (transfer, *max);
}

static void
test_redirect_options_while_running (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) turned_on = new_redirect (server, 302, "/target");
  g_autoptr(GMultiTransfer) limited = new_redirect (server, 302, "/target");
  g_autofree char *target_uri = test_server_uri (server, "/target");
  guint twenty = 20, none = 0;

  gmulti_transfer_set_follow_redirects (turned_on, FALSE);
  g_signal_connect (turned_on, "notify::state", G_CALLBACK (change_redirects_cb), &twenty);
  run_transfer (loop, turned_on);
  assert_success (turned_on, 200, "GET 0");
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (turned_on), ==, target_uri);

  g_signal_connect (limited, "notify::state", G_CALLBACK (change_redirects_cb), &none);
  run_transfer (loop, limited);
  g_assert_error ((GError *) gmulti_transfer_get_error (limited), GMULTI_ERROR,
                  GMULTI_ERROR_TOO_MANY_REDIRECTS);
}

/* Everything the engine tells a transfer passes through its run's observer table, in
 * the order of the run's life: recorded by a table that forwards to the real one. */
static const GMultiRunObserver *real_observer;
static GString *observed;

static void
observe (const char *what)
{
  /* Progress reports are rate-limited: only where they come in the order counts. */
  if (strcmp (what, "progress") == 0 && g_str_has_suffix (observed->str, " progress"))
    return;
  g_string_append_printf (observed, " %s", what);
}

static void
rec_added (GMultiRun *run)
{
  observe ("added");
  real_observer->added (run);
}

static gboolean
rec_prepare (GMultiRun *run,
             GError   **error)
{
  observe ("prepare");
  return real_observer->prepare (run, error);
}

static void
rec_phase_changed (GMultiRun *run)
{
  static const char *const names[] = {
    [GMULTI_RUN_NONE] = "none", [GMULTI_RUN_INIT] = "init",
    [GMULTI_RUN_PROXY_LOOKUP] = "proxy-lookup", [GMULTI_RUN_RESOLVING] = "resolving",
    [GMULTI_RUN_WAIT_SLOT] = "wait-slot", [GMULTI_RUN_CONNECTING] = "connecting",
    [GMULTI_RUN_SENDING] = "sending", [GMULTI_RUN_WAIT_CONTINUE] = "wait-continue",
    [GMULTI_RUN_RECEIVING] = "receiving", [GMULTI_RUN_DONE] = "done",
  };

  observe (names[run->phase]);
  real_observer->phase_changed (run);
}

static void
rec_new_hop (GMultiRun *run)
{
  observe ("new-hop");
  real_observer->new_hop (run);
}

static void
rec_response_head (GMultiRun *run)
{
  g_autofree char *what = g_strdup_printf ("head:%u", run->status);

  observe (what);
  real_observer->response_head (run);
}

static void
rec_progress (GMultiRun *run,
              gboolean   force)
{
  observe ("progress");
  real_observer->progress (run, force);
}

static void
rec_finished (GMultiRun *run)
{
  observe (run->error == NULL ? "finished" : "failed");
  real_observer->finished (run);
}

static void
rec_cancelled (GMultiRun *run,
               gboolean   never_started)
{
  observe ("cancelled");
  real_observer->cancelled (run, never_started);
}

static void
rec_released (GMultiRun *run)
{
  observe ("released");
  real_observer->released (run);
}

static const GMultiRunObserver recording_observer = {
  rec_added, rec_prepare, rec_phase_changed, rec_new_hop, rec_response_head,
  rec_progress, rec_finished, rec_cancelled, rec_released,
};

static void
record_run (GMultiTransfer *transfer)
{
  GMultiRun *run = gmulti_transfer_get_run (transfer);

  real_observer = run->observer;
  run->observer = &recording_observer;
  g_string_truncate (observed, 0);
}

static void
headers_seen_cb (GMultiTransfer *transfer,
                 guint           status,
                 GMultiHeaders  *headers,
                 gpointer        user_data)
{
  observe ("signal:response-headers");
}

static void
test_run_notifications (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) redirected = new_redirect (server, 302, "/target");
  g_autoptr(GMultiTransfer) removed = new_transfer (server, "/hold");

  observed = g_string_new (NULL);

  /* A redirect on the same connection: the first hop's head is not the application's. */
  record_run (redirected);
  g_signal_connect (redirected, "response-headers", G_CALLBACK (headers_seen_cb), NULL);
  run_transfer (loop, redirected);
  assert_success (redirected, 200, "GET 0");
  g_assert_cmpint (gmulti_engine_remove (loop->engine, redirected), ==, GMULTI_ENGINE_OK);
  g_assert_cmpstr (observed->str, ==,
                   " added prepare resolving connecting sending receiving progress new-hop"
                   " sending receiving head:200 signal:response-headers progress finished"
                   " released");

  /* Removed before it completed: cancelled, then released, and nothing after. */
  record_run (removed);
  g_assert_cmpint (gmulti_engine_add (loop->engine, removed), ==, GMULTI_ENGINE_OK);
  {
    gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

    while (gmulti_transfer_get_state (removed) != GMULTI_TRANSFER_RECEIVING &&
           g_get_monotonic_time () < deadline)
      engine_loop_iterate (loop, 50);
  }
  g_assert_cmpint (gmulti_transfer_get_state (removed), ==, GMULTI_TRANSFER_RECEIVING);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, removed), ==, GMULTI_ENGINE_OK);
  g_assert_true (g_str_has_suffix (observed->str, " receiving cancelled released"));
  g_assert_true (g_str_has_prefix (observed->str, " added prepare "));

  g_string_free (observed, TRUE);
  observed = NULL;
}

static void
test_redirect_credentials (void)
{
  g_autoptr(TestServer) a = new_server (NULL);
  g_autoptr(TestServer) b = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *b_uri = test_server_uri (b, "/target");
  g_autoptr(GMultiTransfer) cross = new_redirect (a, 302, b_uri);
  g_autoptr(GMultiTransfer) same = new_redirect (a, 302, "/target");
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *a_uri = test_server_uri (a, "/target");
  GMultiTransfer *transfers[] = { cross, same };

  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      gmulti_transfer_add_request_header (transfers[i], "Authorization", "Bearer secret", NULL);
      gmulti_transfer_add_request_header (transfers[i], "Cookie", "session=1", NULL);
      gmulti_transfer_add_request_header (transfers[i], "X-Keep", "yes", NULL);
    }

  run_transfer (loop, cross);
  assert_success (cross, 200, "GET 0");
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (cross), ==, b_uri);
  req = test_server_get_request (a, 0);
  g_assert_cmpstr (test_request_get_header (req, "Authorization"), ==, "Bearer secret");
  g_clear_pointer (&req, test_request_free);
  req = test_server_get_last_request (b);
  g_assert_null (test_request_get_header (req, "Authorization"));
  g_assert_null (test_request_get_header (req, "Cookie"));
  g_assert_cmpstr (test_request_get_header (req, "X-Keep"), ==, "yes");
  g_clear_pointer (&req, test_request_free);
  /* The application's own headers are untouched. */
  g_assert_cmpstr (gmulti_headers_get_one (gmulti_transfer_get_request_headers (cross),
                                           "Authorization"), ==, "Bearer secret");

  run_transfer (loop, same);
  assert_success (same, 200, "GET 0");
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (same), ==, a_uri);
  req = test_server_get_last_request (a);
  g_assert_cmpstr (req->target, ==, "/target");
  g_assert_cmpstr (test_request_get_header (req, "Authorization"), ==, "Bearer secret");
  g_assert_cmpstr (test_request_get_header (req, "Cookie"), ==, "session=1");
}

/* ----------------------------------------------------------------- timeouts */

static void
test_connect_timeout (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *uri = NULL;
  guint16 port = 0;
  int hole = test_blackhole_listener (AF_INET, &port);
  gint64 start, took;

  if (hole < 0)
    {
      g_test_skip ("cannot set up a listener that never answers");
      return;
    }
  uri = g_strdup_printf ("http://127.0.0.1:%u/", port);
  transfer = gmulti_transfer_new (uri);
  gmulti_transfer_set_connect_timeout (transfer, 500);
  start = g_get_monotonic_time ();
  run_transfer (loop, transfer);
  took = elapsed_ms (start);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_CONNECT_TIMEOUT);
  g_assert_cmpint (took, >=, 490);
  g_assert_cmpint (took, <, 1500);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  close (hole);
}

static void
test_connect_timeout_ends (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/hold");

  /* Once connected, a slow answer is no connect timeout. */
  gmulti_transfer_set_connect_timeout (transfer, 100);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "held");
}

static void
test_total_timeout (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/stall");
  gint64 start, took;

  gmulti_transfer_set_timeout (transfer, 500);
  start = g_get_monotonic_time ();
  run_transfer (loop, transfer);
  took = elapsed_ms (start);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_TIMED_OUT);
  g_assert_cmpint (took, >=, 490);
  g_assert_cmpint (took, <, 1500);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
}

static void
test_low_speed (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/trickle");
  gint64 start, took;

  /* Ten bytes a second against a limit of a hundred, for one second. */
  gmulti_transfer_set_low_speed (transfer, 100, 1);
  start = g_get_monotonic_time ();
  run_transfer (loop, transfer);
  took = elapsed_ms (start);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_TOO_SLOW);
  g_assert_cmpint (took, >=, 900);
  g_assert_cmpint (took, <, 6000);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), <, 100);
}

/* ------------------------------------------------------------- pause/resume */

static gboolean
socket_watched (EngineLoop *loop)
{
  /* Numeric host: no resolver socket, so any watched socket is the connection's. */
  return g_hash_table_size (loop->watched) > 0;
}

static void
test_pause_resume (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/slow");
  Sink sink = { g_byte_array_new (), 0, TRUE, 0 };
  gint64 end;
  guint calls, received;

  gmulti_transfer_set_write_func (transfer, sink_write_cb, &sink, NULL);
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  end = g_get_monotonic_time () + WAIT_MS * 1000;
  while (sink.calls == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (sink.calls, ==, 1);
  g_assert_true (gmulti_transfer_is_paused (transfer));
  calls = sink.calls;
  received = sink.data->len;

  /* Paused: the server goes on sending, nothing is delivered, the socket is not even
   * watched. */
  end = g_get_monotonic_time () + 300 * 1000;
  while (g_get_monotonic_time () < end)
    {
      engine_loop_iterate (loop, 20);
      g_assert_false (socket_watched (loop));
    }
  g_assert_cmpuint (sink.calls, ==, calls);
  g_assert_cmpuint (sink.data->len, ==, received);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, received);
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_RECEIVING);

  gmulti_transfer_resume (transfer);
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  assert_success (transfer, 200, NULL);
  g_assert_cmpuint (sink.calls, >, calls);
  g_assert_cmpmem (sink.data->data, sink.data->len, big_data (), BIG_SIZE);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
  g_byte_array_unref (sink.data);
}

/* Pauses on every fifth piece from inside the write function. */
typedef struct {
  GByteArray *data;
  guint calls;
  guint calls_while_paused;
} PausingSink;

static gboolean
pausing_write_cb (GMultiTransfer *transfer,
                  const guint8   *data,
                  gsize           length,
                  gpointer        user_data)
{
  PausingSink *sink = user_data;

  if (gmulti_transfer_is_paused (transfer))
    sink->calls_while_paused++;
  sink->calls++;
  g_byte_array_append (sink->data, data, length);
  if (sink->calls % 5 == 1)
    gmulti_transfer_pause (transfer);
  return TRUE;
}

/* A pause inside the decoding of a few coded bytes that make megabytes holds at once:
 * nothing more is delivered until the resume, and then the rest, exactly. */
static void
test_pause_decoding (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/text-gzip-close");
  PausingSink sink = { g_byte_array_new (), 0, 0 };
  gint64 end;
  guint resumes = 0;

  gmulti_transfer_set_write_func (transfer, pausing_write_cb, &sink, NULL);
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  end = g_get_monotonic_time () + WAIT_MS * 1000;
  while (sink.calls == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (sink.calls, ==, 1);
  g_assert_true (gmulti_transfer_is_paused (transfer));
  g_assert_cmpuint (sink.data->len, <=, 64 * 1024);

  /* The coded bytes read so far hold megabytes more, and none of it comes out. */
  end = g_get_monotonic_time () + 300 * 1000;
  while (g_get_monotonic_time () < end)
    {
      engine_loop_iterate (loop, 20);
      g_assert_false (socket_watched (loop));
    }
  g_assert_cmpuint (sink.calls, ==, 1);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, sink.data->len);

  end = g_get_monotonic_time () + WAIT_MS * 1000;
  while (gmulti_transfer_get_state (transfer) != GMULTI_TRANSFER_DONE &&
         g_get_monotonic_time () < end)
    {
      if (gmulti_transfer_is_paused (transfer))
        {
          gmulti_transfer_resume (transfer);
          resumes++;
        }
      engine_loop_iterate (loop, 20);
    }
  assert_success (transfer, 200, NULL);
  g_assert_cmpuint (sink.calls_while_paused, ==, 0);
  g_assert_cmpuint (sink.calls, >, 64);
  g_assert_cmpuint (resumes, ==, (sink.calls + 4) / 5);
  g_assert_cmpmem (sink.data->data, sink.data->len, g_bytes_get_data (text_body, NULL),
                   g_bytes_get_size (text_body));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
  g_byte_array_unref (sink.data);
}

static void
pause_cb (GMultiTransfer *transfer,
          guint           status,
          GMultiHeaders  *headers,
          gpointer        user_data)
{
  gmulti_transfer_pause (transfer);
}

static void
test_pause_at_headers (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/big");
  g_autoptr(GMultiTransfer) next = new_transfer (server, "/hello");
  gint64 end;

  /* Paused before any body byte, probably with the whole body already read. */
  g_signal_connect (transfer, "response-headers", G_CALLBACK (pause_cb), NULL);
  gmulti_engine_add (loop->engine, transfer);
  end = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!gmulti_transfer_is_paused (transfer) && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_true (gmulti_transfer_is_paused (transfer));

  end = g_get_monotonic_time () + 200 * 1000;
  while (g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 0);
  g_assert_false (socket_watched (loop));

  gmulti_transfer_resume (transfer);
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  assert_success (transfer, 200, NULL);
  assert_body (transfer, big_data (), BIG_SIZE);

  /* And the connection was left in step. */
  run_transfer (loop, next);
  assert_success (next, 200, "hello");
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
}

/* ----------------------------------------------------------------- progress */

typedef struct {
  gint64 time;
  guint64 received;
  gint64 expected;
} ProgressPoint;

static void
progress_cb (GMultiTransfer *transfer,
             gpointer        user_data)
{
  GArray *points = user_data;
  ProgressPoint point = {
    g_get_monotonic_time (),
    gmulti_transfer_get_bytes_received (transfer),
    gmulti_transfer_get_bytes_expected (transfer),
  };

  g_array_append_val (points, point);
}

static void
test_progress (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/slow");
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (ProgressPoint));
  guint n_data = 0;
  const ProgressPoint *last;

  g_signal_connect (transfer, "progress", G_CALLBACK (progress_cb), points);
  g_signal_connect_swapped (transfer, "data", G_CALLBACK (count_cb), &n_data);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, NULL);

  g_assert_cmpuint (points->len, >=, 3);
  last = &g_array_index (points, ProgressPoint, points->len - 1);
  g_assert_cmpuint (last->received, ==, BIG_SIZE);
  g_assert_cmpint (last->expected, ==, BIG_SIZE);
  for (guint i = 0; i < points->len; i++)
    {
      const ProgressPoint *p = &g_array_index (points, ProgressPoint, i);

      g_assert_cmpint (p->expected, ==, BIG_SIZE);
      if (i > 0)
        g_assert_cmpuint (p->received, >=, g_array_index (points, ProgressPoint, i - 1).received);
      /* Until the body is complete, emissions are the interval (100 ms) apart, less a
       * margin for reaching this handler, which valgrind on a busy machine stretches
       * past 10 ms. */
      if (i > 0 && p->received < BIG_SIZE)
        g_assert_cmpint (p->time - g_array_index (points, ProgressPoint, i - 1).time, >=,
                         50 * 1000);
    }
  /* Rate-limited: fewer signals than pieces of body. */
  g_assert_cmpuint (n_data, >=, 10);
  g_assert_cmpuint (points->len, <, n_data + 2);
}

/* ------------------------------------------------------------------ metrics */

static void
test_metrics (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *uri = g_strdup_printf ("http://v4.test:%u/metrics", test_server_get_port (server));
  g_autoptr(GMultiTransfer) first = gmulti_transfer_new (uri);
  g_autoptr(GMultiTransfer) second = gmulti_transfer_new (uri);
  g_autoptr(GBytes) body = pattern_bytes (5000, 2);
  GMultiTransfer *transfers[] = { first, second };

  g_assert_true (gmulti_transfer_set_method (second, "POST", NULL));
  gmulti_transfer_set_request_body (second, body);

  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      GMultiMetrics *m;
      g_autoptr(TestRequest) req = NULL;

      run_transfer (loop, transfers[i]);
      assert_success (transfers[i], 200, METRICS_BODY);
      m = gmulti_transfer_get_metrics (transfers[i]);
      req = test_server_get_last_request (server);

      g_test_message ("lookup %" G_GINT64_FORMAT " connect %" G_GINT64_FORMAT
                      " sent %" G_GINT64_FORMAT " first byte %" G_GINT64_FORMAT
                      " total %" G_GINT64_FORMAT,
                      gmulti_metrics_get_name_lookup_time (m),
                      gmulti_metrics_get_connect_time (m),
                      gmulti_metrics_get_request_sent_time (m),
                      gmulti_metrics_get_first_byte_time (m),
                      gmulti_metrics_get_total_time (m));
      g_assert_cmpint (gmulti_metrics_get_request_sent_time (m), >, 0);
      g_assert_cmpint (gmulti_metrics_get_first_byte_time (m), >=,
                       gmulti_metrics_get_request_sent_time (m));
      g_assert_cmpint (gmulti_metrics_get_total_time (m), >=,
                       gmulti_metrics_get_first_byte_time (m));
      g_assert_cmpint (gmulti_metrics_get_tls_time (m), ==, 0);
      g_assert_cmpint (gmulti_metrics_get_redirect_time (m), ==, 0);
      g_assert_cmpuint (gmulti_metrics_get_redirect_count (m), ==, 0);

      /* Sizes, against what the other side saw or sent. */
      g_assert_cmpuint (gmulti_metrics_get_header_bytes_sent (m), ==, strlen (req->raw_head));
      g_assert_cmpuint (gmulti_metrics_get_header_bytes_received (m), ==, strlen (METRICS_HEAD));
      g_assert_cmpuint (gmulti_metrics_get_body_bytes_received (m), ==, strlen (METRICS_BODY));
      g_assert_cmpuint (gmulti_metrics_get_body_bytes_sent (m), ==,
                        i == 0 ? 0 : g_bytes_get_size (body));

      if (i == 0)
        {
          /* A name to look up and a connection to open. */
          g_assert_cmpint (gmulti_metrics_get_name_lookup_time (m), >, 0);
          g_assert_cmpint (gmulti_metrics_get_connect_time (m), >=,
                           gmulti_metrics_get_name_lookup_time (m));
          g_assert_cmpint (gmulti_metrics_get_request_sent_time (m), >=,
                           gmulti_metrics_get_connect_time (m));
          g_assert_false (gmulti_metrics_get_connection_reused (m));
        }
      else
        {
          /* Neither on a reused connection. */
          g_assert_cmpint (gmulti_metrics_get_name_lookup_time (m), ==, 0);
          g_assert_cmpint (gmulti_metrics_get_connect_time (m), ==, 0);
          g_assert_true (gmulti_metrics_get_connection_reused (m));
          g_assert_cmpuint (gmulti_metrics_get_connection_id (m), ==,
                            gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (first)));
        }
    }
}

static void
test_metrics_redirect (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_redirect (server, 307, "/target");
  g_autoptr(GBytes) body = pattern_bytes (1000, 9);
  g_autoptr(TestRequest) first = NULL;
  g_autoptr(TestRequest) second = NULL;
  GMultiMetrics *m;
  g_autofree char *redirect_head = g_strdup_printf ("HTTP/1.1 307 Temporary Redirect\r\n"
                                                    "Location: /target\r\n"
                                                    "Content-Length: 5\r\n\r\n");
  g_autofree char *final_head = g_strdup ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                          "Content-Length: 8\r\n\r\n");

  g_assert_true (gmulti_transfer_set_method (transfer, "PUT", NULL));
  gmulti_transfer_set_request_body (transfer, body);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "PUT 1000");
  m = gmulti_transfer_get_metrics (transfer);
  first = test_server_get_request (server, 0);
  second = test_server_get_request (server, 1);

  /* Over both hops. */
  g_assert_cmpuint (gmulti_metrics_get_redirect_count (m), ==, 1);
  g_assert_cmpint (gmulti_metrics_get_redirect_time (m), >, 0);
  g_assert_cmpint (gmulti_metrics_get_total_time (m), >=, gmulti_metrics_get_redirect_time (m));
  g_assert_cmpuint (gmulti_metrics_get_header_bytes_sent (m), ==,
                    strlen (first->raw_head) + strlen (second->raw_head));
  g_assert_cmpuint (gmulti_metrics_get_body_bytes_sent (m), ==, 2 * g_bytes_get_size (body));
  g_assert_cmpuint (gmulti_metrics_get_header_bytes_received (m), ==,
                    strlen (redirect_head) + strlen (final_head));
  g_assert_cmpuint (gmulti_metrics_get_body_bytes_received (m), ==, 8);
}

/* --------------------------------------------------------- addresses, IPv6 */

static void
test_ipv6 (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4 | TEST_SERVER_IPV6,
                                                  handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *host = NULL;

  if (!test_server_has_ipv6 (server))
    {
      g_test_skip ("no IPv6 loopback");
      return;
    }
  uri = test_server_uri6 (server, "/family");
  transfer = gmulti_transfer_new (uri);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "6");
  req = test_server_get_last_request (server);
  host = g_strdup_printf ("[::1]:%u", test_server_get_port (server));
  g_assert_cmpstr (test_request_get_header (req, "Host"), ==, host);
}

static void
test_happy_eyeballs (void)
{
  TestServer *server = NULL;
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *uri = NULL;
  int hole = -1;
  gint64 start, took;

  if (!test_ipv6_loopback_available ())
    {
      g_test_skip ("no IPv6 loopback");
      return;
    }
  /* The IPv4 server and a silent IPv6 listener on the same port. */
  for (guint attempt = 0; attempt < 10 && hole < 0; attempt++)
    {
      g_clear_pointer (&server, test_server_free);
      server = new_server (NULL);
      hole = test_ipv6_blackhole_on (test_server_get_port (server));
    }
  g_assert_cmpint (hole, >=, 0);

  uri = g_strdup_printf ("http://dual.test:%u/family", test_server_get_port (server));
  transfer = gmulti_transfer_new (uri);
  gmulti_transfer_set_connect_timeout (transfer, 10000);
  start = g_get_monotonic_time ();
  run_transfer (loop, transfer);
  took = elapsed_ms (start);
  assert_success (transfer, 200, "4");
  /* The IPv6 attempt held IPv4 back by the attempt delay only. */
  g_assert_cmpint (gmulti_metrics_get_connect_time (gmulti_transfer_get_metrics (transfer)), >=,
                   200 * 1000);
  g_assert_cmpint (took, <, 3000);
  close (hole);
  test_server_free (server);
}

/* ------------------------------------------------------------------- errors */

static void
test_connection_refused (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *uri = NULL;
  struct sockaddr_in addr = { 0, };
  socklen_t len = sizeof addr;
  int fd;

  /* Bound but not listening: connects are refused, and the port stays ours. */
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);

  uri = g_strdup_printf ("http://127.0.0.1:%u/", ntohs (addr.sin_port));
  transfer = gmulti_transfer_new (uri);
  run_transfer (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_CONNECT_FAILED);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  close (fd);
}

static void
test_resolve_failed (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://nonexistent.invalid/");
  const GError *error;

  run_transfer (loop, transfer);
  error = gmulti_transfer_get_error (transfer);
  g_assert_error ((GError *) error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  g_assert_nonnull (strstr (error->message, "nonexistent.invalid"));
}

static void
check_fails_before_sending (TestServer     *server,
                            GMultiTransfer *transfer,
                            int             code)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();

  run_transfer (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR, code);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 0);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  if (server != NULL)
    {
      g_usleep (50 * 1000);
      g_assert_cmpuint (test_server_get_n_accepted (server), ==, 0);
    }
}

static void
test_unsupported_scheme (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autofree char *uri = g_strdup_printf ("ftp://127.0.0.1:%u/", test_server_get_port (server));
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);

  check_fails_before_sending (server, transfer, GMULTI_ERROR_UNSUPPORTED_SCHEME);
}

static void
test_bad_uri (void)
{
  static const char *const uris[] = {
    "http://", "not a uri", "http://127.0.0.1:99999/", "http:///path",
  };

  for (guint i = 0; i < G_N_ELEMENTS (uris); i++)
    {
      g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uris[i]);

      check_fails_before_sending (NULL, transfer, GMULTI_ERROR_INVALID_URI);
    }
}

static void
test_invalid_header (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(GMultiTransfer) bad_value = new_transfer (server, "/hello");
  g_autoptr(GMultiTransfer) bad_name = new_transfer (server, "/hello");
  g_autoptr(GMultiTransfer) bad_method = new_transfer (server, "/hello");
  static const char injected[] = "a\r\nInjected: 1";

  /* Fields reach the headers object unchecked only through private code, but the
   * engine must refuse them whatever the way in. */
  gmulti_headers_append_unchecked (gmulti_transfer_get_request_headers (bad_value),
                                   "X-Bad", 5, injected, strlen (injected));
  check_fails_before_sending (server, bad_value, GMULTI_ERROR_INVALID_HEADER);

  gmulti_headers_append_unchecked (gmulti_transfer_get_request_headers (bad_name),
                                   "Bad Name", 8, "v", 1);
  check_fails_before_sending (server, bad_name, GMULTI_ERROR_INVALID_HEADER);

  /* The property stores a method without checking it. */
  g_object_set (bad_method, "method", "GET /evil", NULL);
  check_fails_before_sending (server, bad_method, GMULTI_ERROR_INVALID_HEADER);
}

/* ------------------------------------------------------- what reaches the wire */

static void
add_not_started (EngineLoop     *loop,
                 GMultiTransfer *transfer)
{
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_PENDING);
}

static void
finish (EngineLoop     *loop,
        GMultiTransfer *transfer)
{
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_DONE);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  /* Its message is read: forget it, for the next run. */
  while (g_ptr_array_remove (loop->messages, transfer))
    ;
}

/* A whole run of a transfer that runs again afterwards. */
static void
run_again (EngineLoop     *loop,
           GMultiTransfer *transfer)
{
  add_not_started (loop, transfer);
  finish (loop, transfer);
}

#define SMUGGLING "ua/1\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

/* No value set on a transfer or an engine can put a second request on the wire: each is
 * refused when set, or, where a setter cannot report, when the transfer starts. */
static void
test_wire_injection (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/hello");
  g_autoptr(GMultiTransfer) by_property = new_transfer (server, "/hello");
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *good = test_server_uri (server, "/hello");
  g_autofree char *bad_host = g_strdup_printf ("http://127.0.0.1%%2F:%u/",
                                               test_server_get_port (server));
  GError *error = NULL;

  /* The engine's default User-Agent (what a session sets). */
  g_assert_false (set_engine_user_agent (loop->engine, SMUGGLING, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  run_again (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_INVALID_HEADER);
  g_assert_true (set_engine_user_agent (loop->engine, NULL, NULL));

  /* A plain transfer: method, header fields, URI. */
  g_assert_false (gmulti_transfer_set_method (transfer, "GET / HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET",
                                              &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (gmulti_transfer_add_request_header (transfer, "User-Agent", SMUGGLING, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (gmulti_headers_append (gmulti_transfer_get_request_headers (transfer),
                                         "Host", "h\r\nX-Injected: 1", &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (gmulti_transfer_set_uri (transfer, bad_host, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI);
  g_clear_error (&error);
  g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, good);

  /* Stored through the properties, refused when it starts. */
  g_object_set (by_property, "method", "GET /smuggled HTTP/1.1\r\nX:", NULL);
  g_assert_false (gmulti_transfer_perform (by_property, NULL, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_object_set (by_property, "method", NULL, "uri", bad_host, NULL);
  g_assert_false (gmulti_transfer_perform (by_property, NULL, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI);
  g_clear_error (&error);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 0);

  /* What is left is one clean request, and nothing after it. */
  g_assert_true (gmulti_transfer_perform (transfer, NULL, &error));
  g_assert_no_error (error);
  assert_success (transfer, 200, "hello");
  g_assert_false (test_server_wait_requests (server, 2, 300));
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (req->target, ==, "/hello");
  g_assert_null (test_request_get_header (req, "X-Injected"));
}

/* gmulti_transfer_perform() sends the same default User-Agent as a session. */
static void
test_perform_user_agent (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/hello");
  g_autoptr(GMultiTransfer) own = new_transfer (server, "/hello");
  g_autoptr(TestRequest) req = NULL;
  GError *error = NULL;

  g_assert_true (gmulti_transfer_perform (transfer, NULL, &error));
  g_assert_no_error (error);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (test_request_get_header (req, "User-Agent"), ==, "gmulti/" GMULTI_VERSION_S);
  g_assert_cmpstr (test_request_get_header (req, "Accept"), ==, "*/*");
  g_clear_pointer (&req, test_request_free);

  /* The transfer's own still wins. */
  g_assert_true (gmulti_transfer_add_request_header (own, "User-Agent", "own/2", NULL));
  g_assert_true (gmulti_transfer_perform (own, NULL, &error));
  g_assert_no_error (error);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (test_request_get_header (req, "User-Agent"), ==, "own/2");
}

/* A body on a transfer whose method was never set goes out with POST, as with curl. */
static void
test_body_default_post (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/target");
  g_autoptr(GBytes) body = g_bytes_new_static ("abc", 3);
  g_autoptr(TestRequest) req = NULL;
  ReadSource source = { body, 0, 2, 0 };
  guint n_notify = 0;

  g_signal_connect_swapped (transfer, "notify::method", G_CALLBACK (g_atomic_int_inc),
                            &n_notify);
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GET");
  g_assert_true (gmulti_transfer_set_request_body (transfer, body));
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "POST");
  g_assert_cmpuint (n_notify, ==, 1);
  run_again (loop, transfer);
  assert_success (transfer, 200, "POST 3");
  req = test_server_get_last_request (server);
  g_assert_cmpstr (req->method, ==, "POST");
  g_assert_cmpstr (test_request_get_header (req, "Content-Length"), ==, "3");
  g_clear_pointer (&req, test_request_free);

  /* Unknown length, from a function: chunked, still POST. */
  g_assert_true (gmulti_transfer_set_request_body_func (transfer, read_source_cb, -1, &source,
                                                        NULL));
  g_assert_cmpuint (n_notify, ==, 1);
  run_again (loop, transfer);
  assert_success (transfer, 200, "POST 3");

  /* No body: GET again. */
  g_assert_true (gmulti_transfer_set_request_body (transfer, NULL));
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GET");
  g_assert_cmpuint (n_notify, ==, 2);
  run_again (loop, transfer);
  assert_success (transfer, 200, "GET 0");

  /* A method set is kept, whatever the body. */
  g_assert_true (gmulti_transfer_set_method (transfer, "GET", NULL));
  g_assert_true (gmulti_transfer_set_request_body (transfer, body));
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GET");
  run_again (loop, transfer);
  assert_success (transfer, 200, "GET 3");

  /* Until the property gives the default back. */
  g_object_set (transfer, "method", NULL, NULL);
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "POST");
}

/* Every setter called after the add, before the engine started the transfer, takes
 * effect in that run. */

static gboolean
collect_write_cb (GMultiTransfer *transfer,
                  const guint8   *data,
                  gsize           length,
                  gpointer        user_data)
{
  g_byte_array_append (user_data, data, length);
  return TRUE;
}

static void
set_path (GMultiTransfer *transfer,
          TestServer     *server,
          const char     *path)
{
  g_autofree char *uri = test_server_uri (server, path);

  g_assert_true (gmulti_transfer_set_uri (transfer, uri, NULL));
}

static void
test_setters_after_add (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/hello");
  g_autoptr(GBytes) body = g_bytes_new_static ("abcde", 5);
  g_autoptr(GByteArray) written = g_byte_array_new ();
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GInputStream) in = NULL;
  g_autofree char *method_uri = test_server_uri (server, "/method");
  g_autofree char *hole_uri = NULL;
  ReadSource source = { body, 0, 2, 0 };
  guint16 port = 0;
  int hole;
  gint64 start;

  /* The URI. */
  add_not_started (loop, transfer);
  g_assert_true (gmulti_transfer_set_uri (transfer, method_uri, NULL));
  finish (loop, transfer);
  assert_success (transfer, 200, "GET");
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, method_uri);

  /* The method, and a header field. */
  add_not_started (loop, transfer);
  g_assert_true (gmulti_transfer_set_method (transfer, "PUT", NULL));
  g_assert_true (gmulti_transfer_add_request_header (transfer, "X-After-Add", "1", NULL));
  finish (loop, transfer);
  assert_success (transfer, 200, "PUT");
  {
    g_autoptr(TestRequest) req = test_server_get_last_request (server);

    g_assert_cmpstr (test_request_get_header (req, "X-After-Add"), ==, "1");
  }

  /* Each kind of body. */
  g_object_set (transfer, "method", NULL, NULL);
  set_path (transfer, server, "/target");
  add_not_started (loop, transfer);
  g_assert_true (gmulti_transfer_set_request_body (transfer, body));
  finish (loop, transfer);
  assert_success (transfer, 200, "POST 5");
  add_not_started (loop, transfer);
  g_assert_true (gmulti_transfer_set_request_body_func (transfer, read_source_cb, 5, &source,
                                                        NULL));
  finish (loop, transfer);
  assert_success (transfer, 200, "POST 5");
  in = g_memory_input_stream_new_from_bytes (body);
  add_not_started (loop, transfer);
  g_assert_true (gmulti_transfer_set_request_body_stream (transfer, in, -1));
  finish (loop, transfer);
  assert_success (transfer, 200, "POST 5");
  g_assert_true (gmulti_transfer_set_request_body (transfer, NULL));

  /* Where the body goes. */
  add_not_started (loop, transfer);
  gmulti_transfer_set_collect_body (transfer, FALSE);
  finish (loop, transfer);
  g_assert_null (gmulti_transfer_get_response_body (transfer));
  gmulti_transfer_set_collect_body (transfer, TRUE);
  add_not_started (loop, transfer);
  gmulti_transfer_set_write_func (transfer, collect_write_cb, written, NULL);
  finish (loop, transfer);
  g_assert_cmpmem (written->data, written->len, "GET 0", 5);
  add_not_started (loop, transfer);
  gmulti_transfer_set_output_stream (transfer, out);
  finish (loop, transfer);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  g_assert_cmpmem (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)),
                   g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)),
                   "GET 0", 5);
  gmulti_transfer_set_output_stream (transfer, NULL);

  /* Redirects. */
  set_path (transfer, server, "/chain/2");
  add_not_started (loop, transfer);
  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  finish (loop, transfer);
  assert_success (transfer, 200, "end");
  add_not_started (loop, transfer);
  gmulti_transfer_set_max_redirects (transfer, 1);
  finish (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_TOO_MANY_REDIRECTS);

  /* The limits. */
  set_path (transfer, server, "/stall");
  add_not_started (loop, transfer);
  gmulti_transfer_set_timeout (transfer, 200);
  start = g_get_monotonic_time ();
  finish (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_TIMED_OUT);
  g_assert_cmpint (elapsed_ms (start), <, 2000);
  gmulti_transfer_set_timeout (transfer, 0);

  set_path (transfer, server, "/trickle");
  add_not_started (loop, transfer);
  gmulti_transfer_set_low_speed (transfer, 1000, 1);
  finish (loop, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_TOO_SLOW);
  gmulti_transfer_set_low_speed (transfer, 0, 0);

  hole = test_blackhole_listener (AF_INET, &port);
  if (hole >= 0)
    {
      hole_uri = g_strdup_printf ("http://127.0.0.1:%u/", port);
      g_assert_true (gmulti_transfer_set_uri (transfer, hole_uri, NULL));
      add_not_started (loop, transfer);
      gmulti_transfer_set_connect_timeout (transfer, 200);
      start = g_get_monotonic_time ();
      finish (loop, transfer);
      g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                      GMULTI_ERROR_CONNECT_TIMEOUT);
      g_assert_cmpint (elapsed_ms (start), <, 2000);
      close (hole);
    }

  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

/* While a transfer runs, the request it is sending cannot change: each setter says so
 * and changes nothing. */

typedef struct {
  guint n_calls;
  guint n_destroyed;
  char *uri;
} WhileRunning;

static void
count_destroy_cb (gpointer data)
{
  ((WhileRunning *) data)->n_destroyed++;
}

static void
change_while_running_cb (GMultiTransfer *transfer,
                         guint           status,
                         GMultiHeaders  *headers,
                         WhileRunning   *state)
{
  g_autoptr(GBytes) body = g_bytes_new_static ("x", 1);
  g_autoptr(GInputStream) in = g_memory_input_stream_new ();
  GError *error = NULL;

  state->n_calls++;
  g_assert_false (gmulti_transfer_set_uri (transfer, "http://127.0.0.1:1/other", &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_false (gmulti_transfer_set_method (transfer, "DELETE", &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_false (gmulti_transfer_set_request_body (transfer, body));
  g_assert_false (gmulti_transfer_set_request_body_func (transfer, read_source_cb, 1, state,
                                                         count_destroy_cb));
  g_assert_false (gmulti_transfer_set_request_body_stream (transfer, in, -1));

  g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*uri cannot change while*");
  g_object_set (transfer, "uri", "http://127.0.0.1:1/other", NULL);
  g_test_assert_expected_messages ();
  g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*method cannot change while*");
  g_object_set (transfer, "method", "DELETE", NULL);
  g_test_assert_expected_messages ();

  g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, state->uri);
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "POST");
}

static void
test_setters_while_running (void)
{
  g_autoptr(TestServer) server = new_server (NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/target");
  g_autoptr(GBytes) body = g_bytes_new_static ("abc", 3);
  WhileRunning state = { 0, 0, test_server_uri (server, "/target") };

  g_assert_true (gmulti_transfer_set_request_body (transfer, body));
  g_signal_connect (transfer, "response-headers", G_CALLBACK (change_while_running_cb), &state);
  run_transfer (loop, transfer);
  assert_success (transfer, 200, "POST 3");
  g_assert_cmpuint (state.n_calls, ==, 1);
  /* The refused function's data was given back at once. */
  g_assert_cmpuint (state.n_destroyed, ==, 1);

  /* Done: everything can change again. */
  g_assert_true (gmulti_transfer_set_method (transfer, "PUT", NULL));
  g_assert_true (gmulti_transfer_set_request_body (transfer, NULL));
  g_free (state.uri);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  big_body = pattern_bytes (BIG_SIZE, 0);
  text_body = text_bytes (TEXT_SIZE);
  big_gzip = test_zlib_encode (big_body, TRUE);
  {
    g_autoptr(GBytes) deflated = test_zlib_encode (big_body, FALSE);

    big_deflate_gzip = test_zlib_encode (deflated, TRUE);
  }
  text_gzip = test_zlib_encode (text_body, TRUE);

  g_test_add_func ("/GMulti/Http1/methods", test_methods);
  g_test_add_func ("/GMulti/Http1/request-headers", test_request_headers);
  g_test_add_func ("/GMulti/Http1/body/bytes", test_body_bytes);
  g_test_add_func ("/GMulti/Http1/body/read-func-length", test_body_read_func_length);
  g_test_add_func ("/GMulti/Http1/body/read-func-chunked", test_body_read_func_chunked);
  g_test_add_func ("/GMulti/Http1/body/large", test_body_large);
  g_test_add_func ("/GMulti/Http1/body/empty", test_body_empty);
  g_test_add_func ("/GMulti/Http1/response/content-length", test_response_content_length);
  g_test_add_func ("/GMulti/Http1/response/chunked-trailers", test_response_chunked_trailers);
  g_test_add_func ("/GMulti/Http1/response/close-delimited", test_response_close_delimited);
  g_test_add_func ("/GMulti/Http1/response/transfer-codings", test_response_transfer_codings);
  g_test_add_func ("/GMulti/Http1/response/transfer-codings-file",
                   test_response_transfer_codings_file);
  g_test_add_func ("/GMulti/Http1/response/no-body", test_response_no_body);
  g_test_add_func ("/GMulti/Http1/response/informational", test_response_informational);
  g_test_add_func ("/GMulti/Http1/response/repeated-headers", test_response_repeated_headers);
  g_test_add_func ("/GMulti/Http1/expect/continue", test_expect_continue);
  g_test_add_func ("/GMulti/Http1/expect/continue-read-func", test_expect_continue_read_func);
  g_test_add_func ("/GMulti/Http1/expect/rejected", test_expect_rejected);
  g_test_add_func ("/GMulti/Http1/expect/ignored", test_expect_ignored);
  g_test_add_func ("/GMulti/Http1/delivery/write-func", test_write_func);
  g_test_add_func ("/GMulti/Http1/delivery/write-func-abort", test_write_func_abort);
  g_test_add_func ("/GMulti/Http1/delivery/collect-off", test_collect_off);
  g_test_add_func ("/GMulti/Http1/pool/keep-alive", test_keep_alive);
  g_test_add_func ("/GMulti/Http1/pool/connection-close", test_connection_close);
  g_test_add_func ("/GMulti/Http1/pool/max-connections", test_max_connections);
  g_test_add_func ("/GMulti/Http1/pool/max-host-connections", test_max_host_connections);
  g_test_add_func ("/GMulti/Http1/pool/max-idle-connections", test_max_idle_connections);
  g_test_add_func ("/GMulti/Http1/pool/max-connections-close", test_max_connections_close);
  g_test_add_func ("/GMulti/Http1/pool/max-connections-evicts-idle",
                   test_max_connections_evicts_idle);
  g_test_add_func ("/GMulti/Http1/pool/timeout-while-waiting", test_timeout_while_waiting);
  g_test_add_func ("/GMulti/Http1/stale/retry-get", test_stale_retry_get);
  g_test_add_func ("/GMulti/Http1/stale/no-retry-post", test_stale_no_retry_post);
  g_test_add_func ("/GMulti/Http1/redirect/301-post", test_redirect_301_post);
  g_test_add_func ("/GMulti/Http1/redirect/302-post", test_redirect_302_post);
  g_test_add_func ("/GMulti/Http1/redirect/303", test_redirect_303);
  g_test_add_func ("/GMulti/Http1/redirect/307", test_redirect_307);
  g_test_add_func ("/GMulti/Http1/redirect/308", test_redirect_308);
  g_test_add_func ("/GMulti/Http1/redirect/301-put-kept", test_redirect_301_put_kept);
  g_test_add_func ("/GMulti/Http1/redirect/unrepeatable-body", test_redirect_unrepeatable_body);
  g_test_add_func ("/GMulti/Http1/redirect/relative", test_redirect_relative);
  g_test_add_func ("/GMulti/Http1/redirect/limit", test_redirect_limit);
  g_test_add_func ("/GMulti/Http1/redirect/loop", test_redirect_loop);
  g_test_add_func ("/GMulti/Http1/redirect/bad-scheme", test_redirect_bad_scheme);
  g_test_add_func ("/GMulti/Http1/redirect/not-followed", test_redirect_not_followed);
  g_test_add_func ("/GMulti/Http1/redirect/credentials", test_redirect_credentials);
  g_test_add_func ("/GMulti/Http1/run/notifications", test_run_notifications);
  g_test_add_func ("/GMulti/Http1/redirect/options-while-running",
                   test_redirect_options_while_running);
  g_test_add_func ("/GMulti/Http1/timeout/connect", test_connect_timeout);
  g_test_add_func ("/GMulti/Http1/timeout/connect-ends", test_connect_timeout_ends);
  g_test_add_func ("/GMulti/Http1/timeout/total", test_total_timeout);
  g_test_add_func ("/GMulti/Http1/timeout/low-speed", test_low_speed);
  g_test_add_func ("/GMulti/Http1/pause/resume", test_pause_resume);
  g_test_add_func ("/GMulti/Http1/pause/at-headers", test_pause_at_headers);
  g_test_add_func ("/GMulti/Http1/pause/decoding", test_pause_decoding);
  g_test_add_func ("/GMulti/Http1/progress", test_progress);
  g_test_add_func ("/GMulti/Http1/metrics", test_metrics);
  g_test_add_func ("/GMulti/Http1/metrics-redirect", test_metrics_redirect);
  g_test_add_func ("/GMulti/Http1/ipv6", test_ipv6);
  g_test_add_func ("/GMulti/Http1/happy-eyeballs", test_happy_eyeballs);
  g_test_add_func ("/GMulti/Http1/error/connection-refused", test_connection_refused);
  g_test_add_func ("/GMulti/Http1/error/resolve-failed", test_resolve_failed);
  g_test_add_func ("/GMulti/Http1/error/unsupported-scheme", test_unsupported_scheme);
  g_test_add_func ("/GMulti/Http1/error/bad-uri", test_bad_uri);
  g_test_add_func ("/GMulti/Http1/error/invalid-header", test_invalid_header);
  g_test_add_func ("/GMulti/Http1/wire/injection", test_wire_injection);
  g_test_add_func ("/GMulti/Http1/wire/perform-user-agent", test_perform_user_agent);
  g_test_add_func ("/GMulti/Http1/body/default-post", test_body_default_post);
  g_test_add_func ("/GMulti/Http1/setters/after-add", test_setters_after_add);
  g_test_add_func ("/GMulti/Http1/setters/while-running", test_setters_while_running);

  return g_test_run ();
}
