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
#include "gmulti-headers-private.h"
#include "engine-loop.h"
#include "fake-resolver.h"
#include "test-coding-util.h"
#include "test-fds.h"
#include "test-server.h"

/* Hostile servers and bad input. Every failure must end as a GMULTI_ERROR with the
 * right code and a message saying what happened, on that transfer alone: each case runs
 * next to a healthy transfer whose body is checked byte for byte, and afterwards the
 * engine holds only idle connections and the process has no more descriptors open than
 * before the case. */

#define WAIT_MS 20000
/* A case that hangs ends at this total timeout, which no case expects. */
#define SAFETY_TIMEOUT_MS 15000
/* Failures caused by bytes, not by waiting, must end within this. */
#define PROMPT_MS 3000
#define HEALTHY_SIZE (64 * 1024)
#define HEALTHY_PIECES 8

static GBytes *healthy_body;

static GBytes *
pattern_bytes (gsize size,
               guint seed)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7 + i / 251 + seed);
  return g_bytes_new_take (data, size);
}

/* ------------------------------------------------------------ name lookups */

/* A port bound on 127.0.0.1 (and ::1 when @both) but not listening: connects are
 * refused. The sockets keep the port ours until they are closed. */
static guint16
refusing_port (gboolean  both,
               int      *fd4,
               int      *fd6)
{
  for (guint attempt = 0; attempt < 20; attempt++)
    {
      struct sockaddr_in addr = { 0, };
      struct sockaddr_in6 addr6 = { 0, };
      socklen_t len = sizeof addr;
      int one = 1;

      *fd4 = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      *fd6 = -1;
      g_assert_cmpint (*fd4, >=, 0);
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      g_assert_cmpint (bind (*fd4, (struct sockaddr *) &addr, sizeof addr), ==, 0);
      g_assert_cmpint (getsockname (*fd4, (struct sockaddr *) &addr, &len), ==, 0);
      if (!both)
        return ntohs (addr.sin_port);

      *fd6 = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
      g_assert_cmpint (*fd6, >=, 0);
      setsockopt (*fd6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      addr6.sin6_family = AF_INET6;
      addr6.sin6_addr = in6addr_loopback;
      addr6.sin6_port = addr.sin_port;
      if (bind (*fd6, (struct sockaddr *) &addr6, sizeof addr6) == 0)
        return ntohs (addr.sin_port);
      close (*fd6);
      close (*fd4);
    }
  g_assert_not_reached ();
  return 0;
}

/* ------------------------------------------------------------ bookkeeping */

/* The server's threads close their sockets a moment after they stop counting them. */
static void
assert_fds_back_to (TestServer *server,
                    guint       baseline)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  guint n;

  if (server != NULL)
    g_assert_true (test_server_wait_open (server, 0, 5000));
  while ((n = test_count_fds ()) != baseline && g_get_monotonic_time () < end)
    g_usleep (5000);
  g_assert_cmpuint (n, ==, baseline);
}

static gboolean
message_contains (const char *message,
                  const char *part)
{
  if (strstr (message, part) != NULL)
    return TRUE;
  g_test_message ("message “%s” does not contain “%s”", message, part);
  return FALSE;
}

static void
assert_failed (GMultiTransfer *transfer,
               int             code,
               const char     *part)
{
  const GError *error = gmulti_transfer_get_error (transfer);

  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_DONE);
  g_assert_nonnull (error);
  g_test_message ("  error %d: %s", error->code, error->message);
  g_assert_error ((GError *) error, GMULTI_ERROR, code);
  g_assert_true (message_contains (error->message, part));
}

static void
assert_body (GMultiTransfer *transfer,
             GBytes         *expected)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

static void
assert_healthy (GMultiTransfer *transfer)
{
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_DONE);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  assert_body (transfer, healthy_body);
}

/* Only idle connections may be left once nothing runs, and the loop saw the socket
 * callback contract kept. */
static void
assert_engine_quiet (EngineLoop *loop)
{
  GMultiEngine *engine = loop->engine;

  g_assert_cmpuint (gmulti_engine_get_n_running (engine), ==, 0);
  g_assert_cmpuint (gmulti_engine_get_n_connections (engine), ==,
                    gmulti_engine_get_n_idle_connections (engine));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static gboolean
message_read_for (EngineLoop     *loop,
                  GMultiTransfer *transfer)
{
  for (guint i = 0; i < loop->messages->len; i++)
    if (loop->messages->pdata[i] == transfer)
      return TRUE;
  return FALSE;
}

static gint64
total_ms (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_total_time (gmulti_transfer_get_metrics (transfer)) / 1000;
}

static GMultiTransfer *
new_transfer (TestServer *server,
              const char *path)
{
  g_autofree char *uri = test_server_uri (server, path);

  return gmulti_transfer_new (uri);
}

/* @template with every "{port}" replaced by @port. */
static char *
with_port (const char *template,
           guint       port)
{
  g_autofree char *number = g_strdup_printf ("%u", port);
  g_auto(GStrv) parts = g_strsplit (template, "{port}", -1);

  return g_strjoinv (number, parts);
}

/* ---------------------------------------------------------- scripted server */

typedef enum {
  END_CLOSE,    /* FIN after the script */
  END_RESET,    /* RST after the script */
  END_HOLD,     /* keep the connection open until the client closes it */
  END_SERVE,    /* go on serving requests on the connection */
} FaultEnd;

typedef enum {
  DAMAGE_NONE,
  DAMAGE_FLIP,                  /* a byte of the coded data changed */
  DAMAGE_CUT,                   /* its last 4 bytes left out */
  DAMAGE_JUNK,                  /* bytes after its end */
} CodedDamage;

typedef struct _FaultCase FaultCase;
struct _FaultCase {
  const char *name;
  const char *method;           /* NULL: GET */
  const char *response;         /* written as is */
  gsize response_len;           /* for responses with NUL bytes; 0: strlen */
  void (*script) (TestConn *conn, const FaultCase *fault);  /* instead of response */
  FaultEnd end;
  int code;                     /* expected GMultiError; -1: success with body "ok" */
  const char *message;          /* the error message contains this */
  guint timeout_ms;             /* the faulty transfer's total timeout; 0: safety net */
  guint low_speed;              /* bytes per second over one second; 0: off */
  gint64 min_ms, max_ms;        /* when it must end; max 0: PROMPT_MS */
  gsize upload;                 /* a request body of this size */
  gboolean before_body;         /* answer without reading the request body */
  guint status;                 /* the status of a success; 0: 200 */
  const char *body;             /* the body of a success; NULL: "ok" */
  /* For coded_body(), which sends @response as the head, then the body coded: */
  const char *codings;          /* applied in this order ("deflate,gzip"); NULL: none */
  gboolean chunked;             /* framed in chunks (else up to the close) */
  CodedDamage damage;
};

typedef struct {
  const FaultCase *cases;
  guint n_cases;
} CaseTable;

static gboolean
serve_healthy (TestConn *conn)
{
  const guint8 *data = g_bytes_get_data (healthy_body, NULL);
  gsize piece = HEALTHY_SIZE / HEALTHY_PIECES;

  /* In pieces, so it is still running while the faulty transfer meets its fault. */
  if (!test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n", HEALTHY_SIZE))
    return FALSE;
  for (guint i = 0; i < HEALTHY_PIECES; i++)
    {
      if (!test_conn_write (conn, data + i * piece, piece))
        return FALSE;
      test_conn_sleep (conn, 10);
    }
  return TRUE;
}

static gboolean
redirect_to (TestConn   *conn,
             const char *location)
{
  return test_conn_printf (conn, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
                           location);
}

static const char *
query_param (TestRequest *req,
             const char  *name,
             GHashTable **params)
{
  const char *query = strchr (req->target, '?');

  *params = g_uri_parse_params (query != NULL ? query + 1 : "", -1, "&", G_URI_PARAMS_NONE,
                                NULL);
  return *params != NULL ? g_hash_table_lookup (*params, name) : NULL;
}

/* Returns whether to go on reading requests on the connection. */
static gboolean
run_script (TestConn        *conn,
            const FaultCase *fault)
{
  if (fault->script != NULL)
    fault->script (conn, fault);
  else if (fault->response != NULL)
    test_conn_write (conn, fault->response,
                     fault->response_len > 0 ? fault->response_len : strlen (fault->response));

  switch (fault->end)
    {
    case END_RESET:
      test_conn_reset (conn);
      return FALSE;
    case END_HOLD:
      test_conn_wait_client_close (conn, SAFETY_TIMEOUT_MS);
      return FALSE;
    case END_SERVE:
      return TRUE;
    case END_CLOSE:
    default:
      return FALSE;
    }
}

/* /healthy; /case/N (the table's script); /chain/N; /loop; /redirect?to=L;
 * /locations?to=L&also=M (two Location fields); /coded-redirect?to=L (a body coded
 * with br);
 * /pingpong?other=PORT (to the same path on the other server, and back). */
static void
fault_server_cb (TestServer *server,
                 TestConn   *conn,
                 gpointer    user_data)
{
  const CaseTable *table = user_data;

  for (;;)
    {
      g_autoptr(TestRequest) req = test_conn_read_request_head (conn, SAFETY_TIMEOUT_MS);
      g_autoptr(GHashTable) params = NULL;
      const FaultCase *fault = NULL;
      const char *path;
      gboolean more;

      if (req == NULL)
        return;
      path = req->target;
      if (g_str_has_prefix (path, "/case/") && table != NULL)
        {
          guint index = (guint) atoi (path + strlen ("/case/"));

          g_assert_cmpuint (index, <, table->n_cases);
          fault = &table->cases[index];
        }
      if ((fault == NULL || !fault->before_body) &&
          !test_conn_read_request_body (conn, req, SAFETY_TIMEOUT_MS))
        return;

      /* "/heal%20thy" is where a redirect to "/heal thy" lands. */
      if (g_str_equal (path, "/healthy") || g_str_equal (path, "/heal%20thy"))
        more = serve_healthy (conn);
      else if (fault != NULL)
        more = run_script (conn, fault);
      else if (g_str_has_prefix (path, "/chain/"))
        {
          guint n = (guint) atoi (path + strlen ("/chain/"));
          g_autofree char *next = g_strdup_printf ("/chain/%u", n - 1);

          more = n == 0 ? serve_healthy (conn) : redirect_to (conn, next);
        }
      else if (g_str_equal (path, "/loop"))
        more = redirect_to (conn, "/loop");
      else if (g_str_has_prefix (path, "/redirect?"))
        more = redirect_to (conn, query_param (req, "to", &params));
      else if (g_str_has_prefix (path, "/coded-redirect?"))
        more = test_conn_printf (conn, "HTTP/1.1 302 Found\r\nLocation: %s\r\n"
                                       "Transfer-Encoding: br, chunked\r\n\r\n"
                                       "4\r\n\x0b\x02\x80\x03\r\n0\r\n\r\n",
                                 query_param (req, "to", &params));
      else if (g_str_has_prefix (path, "/locations?"))
        {
          g_autoptr(GHashTable) more_params = NULL;
          const char *to = query_param (req, "to", &params);
          const char *also = query_param (req, "also", &more_params);

          more = test_conn_printf (conn, "HTTP/1.1 302 Found\r\nLocation: %s\r\n"
                                         "Content-Length: 0\r\nLocation: %s\r\n\r\n",
                                   to, also);
        }
      else if (g_str_has_prefix (path, "/pingpong?"))
        {
          const char *other = query_param (req, "other", &params);
          g_autofree char *next = g_strdup_printf ("http://127.0.0.1:%s/pingpong?other=%u", other,
                                                   test_server_get_port (server));

          more = redirect_to (conn, next);
        }
      else
        more = test_conn_respond (conn, 404, "text/plain", "nope", 4);

      if (!more)
        return;
    }
}

/* Runs one case of a table next to a healthy transfer on the same server. */
static void
run_case (TestServer      *server,
          const FaultCase *fault,
          guint            index)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *path = g_strdup_printf ("/case/%u", index);
  g_autoptr(GMultiTransfer) faulty = new_transfer (server, path);
  g_autoptr(GMultiTransfer) healthy = new_transfer (server, "/healthy");
  gint64 took;

  g_test_message ("case “%s”", fault->name);
  if (fault->method != NULL)
    g_assert_true (gmulti_transfer_set_method (faulty, fault->method, NULL));
  gmulti_transfer_set_timeout (faulty, fault->timeout_ms > 0 ? fault->timeout_ms
                                                              : SAFETY_TIMEOUT_MS);
  if (fault->low_speed > 0)
    gmulti_transfer_set_low_speed (faulty, fault->low_speed, 1);
  if (fault->upload > 0)
    {
      g_autoptr(GBytes) body = pattern_bytes (fault->upload, 9);

      gmulti_transfer_set_request_body (faulty, body);
    }

  g_assert_cmpint (gmulti_engine_add (loop->engine, healthy), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_add (loop->engine, faulty), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_true (message_read_for (loop, faulty));
  g_assert_true (message_read_for (loop, healthy));

  took = total_ms (faulty);
  g_test_message ("  ended after %" G_GINT64_FORMAT " ms", took);
  if (fault->code < 0)
    {
      const char *text = fault->body != NULL ? fault->body : "ok";
      g_autoptr(GBytes) expected = g_bytes_new_static (text, strlen (text));

      g_assert_no_error ((GError *) gmulti_transfer_get_error (faulty));
      g_assert_cmpuint (gmulti_transfer_get_status (faulty), ==,
                        fault->status > 0 ? fault->status : 200);
      assert_body (faulty, expected);
    }
  else
    assert_failed (faulty, fault->code, fault->message);
  g_assert_cmpint (took, >=, fault->min_ms);
  g_assert_cmpint (took, <=, fault->max_ms > 0 ? fault->max_ms : PROMPT_MS);

  assert_healthy (healthy);
  assert_engine_quiet (loop);
}

static void
run_table (const FaultCase *cases,
           guint            n_cases)
{
  CaseTable table = { cases, n_cases };
  TestServer *server = test_server_new_raw (TEST_SERVER_IPV4, fault_server_cb, &table);
  guint baseline = test_count_fds ();

  for (guint i = 0; i < n_cases; i++)
    {
      run_case (server, &cases[i], i);
      assert_fds_back_to (server, baseline);
    }
  test_server_free (server);
}

#define RUN_TABLE(cases) run_table (cases, G_N_ELEMENTS (cases))

/* ------------------------------------------------------ cut-off responses */

static void
partial_body_then_reset (TestConn        *conn,
                         const FaultCase *fault)
{
  static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  guint8 part[100];

  memset (part, 'x', sizeof part);
  test_conn_write (conn, head, strlen (head));
  test_conn_write (conn, part, sizeof part);
  /* Let the client read what came, so the reset meets a transfer in its body. */
  test_conn_sleep (conn, 50);
}

static const FaultCase truncated_cases[] = {
  { "closed before the status line", .response = "", .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed before the status line" },
  { "closed in the status line", .response = "HTTP/1.1 20", .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed before the status line" },
  { "closed mid-headers", .response = "HTTP/1.1 200 OK\r\nContent-Le", .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed in the headers" },
  { "closed after a complete header line",
    .response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed in the headers" },
  { "closed mid-body (Content-Length)",
    .response = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
                "0123456789012345678901234567890123456789",
    .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "50 of 100 body bytes" },
  { "closed before the body (Content-Length)",
    .response = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "0 of 10 body bytes" },
  { "closed inside a chunk",
    .response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed inside a chunk" },
  { "closed between chunks",
    .response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed between chunks" },
  { "closed after chunk data, before its CRLF",
    .response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc",
    .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed between chunks" },
  { "closed in a chunk size line",
    .response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1",
    .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed between chunks" },
  { "closed in the trailers",
    .response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n",
    .end = END_CLOSE,
    .code = GMULTI_ERROR_CONNECTION_CLOSED, .message = "closed in the trailer section" },
  { "reset before the status line", .response = "", .end = END_RESET,
    .code = GMULTI_ERROR_RECEIVE_FAILED, .message = "reset by peer" },
  { "reset mid-body", .script = partial_body_then_reset, .end = END_RESET,
    .code = GMULTI_ERROR_RECEIVE_FAILED, .message = "reset by peer" },
  /* The control: the same framing, complete, succeeds. */
  { "complete chunked body",
    .response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    .end = END_HOLD, .code = -1 },
};

static void
test_faults_truncated (void)
{
  RUN_TABLE (truncated_cases);
}

/* ------------------------------------------------------------ bad framing */

#define HEAD_200 "HTTP/1.1 200 OK\r\n"
#define CHUNKED_HEAD HEAD_200 "Transfer-Encoding: chunked\r\n\r\n"

static const FaultCase framing_cases[] = {
  { "invalid chunk size", .response = CHUNKED_HEAD "zz\r\nabc\r\n", .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "does not start with a hexadecimal size" },
  { "negative chunk size", .response = CHUNKED_HEAD "-1\r\nabc\r\n", .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "does not start with a hexadecimal size" },
  { "chunk size overflowing 64 bits",
    .response = CHUNKED_HEAD "10000000000000000\r\nabc\r\n", .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "more than 16 hex digits" },
  { "chunk size with 64 leading zeros",
    .response = CHUNKED_HEAD "0000000000000000000000000000000000000000000000000000000000000003\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "more than 16 hex digits" },
  { "chunk size followed by junk", .response = CHUNKED_HEAD "3 x\r\nabc\r\n", .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "followed by unexpected bytes" },
  { "chunk data not followed by CRLF", .response = CHUNKED_HEAD "3\r\nabcX\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "not followed by CRLF" },
  { "conflicting Content-Length",
    .response = HEAD_200 "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "more than one Content-Length" },
  { "repeated equal Content-Length",
    .response = HEAD_200 "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "more than one Content-Length" },
  { "Content-Length list", .response = HEAD_200 "Content-Length: 5, 5\r\n\r\nhello",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "not a number" },
  { "negative Content-Length", .response = HEAD_200 "Content-Length: -1\r\n\r\nhello",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "not a number" },
  { "empty Content-Length", .response = HEAD_200 "Content-Length: \r\n\r\nhello",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "is empty" },
  { "Content-Length beyond 63 bits",
    .response = HEAD_200 "Content-Length: 9223372036854775808\r\n\r\nhello",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "too large" },
  { "Content-Length with Transfer-Encoding",
    .response = HEAD_200 "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                "3\r\nabc\r\n0\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "both Transfer-Encoding and Content-Length" },
  { "Transfer-Encoding with Content-Length",
    .response = HEAD_200 "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                "3\r\nabc\r\n0\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "both Transfer-Encoding and Content-Length" },
  /* The control: one Content-Length, all of it. */
  { "single Content-Length", .response = HEAD_200 "Content-Length: 2\r\n\r\nok",
    .end = END_HOLD, .code = -1 },
};

static void
test_faults_framing (void)
{
  RUN_TABLE (framing_cases);
}

/* ---------------------------------------------------------- transfer codings */

/* The body ("ok" or the success body) coded with each of @codings in turn. */
static GBytes *
coded (const FaultCase *fault)
{
  const char *text = fault->body != NULL ? fault->body : "ok";
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  g_auto(GStrv) codings = g_strsplit (fault->codings != NULL ? fault->codings : "", ",", -1);

  for (guint i = 0; codings[i] != NULL; i++)
    {
      GBytes *next;

      if (*codings[i] == '\0')
        continue;
      next = test_zlib_encode (body, !g_str_equal (codings[i], "deflate"));
      g_bytes_unref (body);
      body = next;
    }
  return g_steal_pointer (&body);
}

static void
coded_body (TestConn        *conn,
            const FaultCase *fault)
{
  g_autoptr(GBytes) body = coded (fault);
  gsize size = g_bytes_get_size (body);
  g_autofree guint8 *data = g_malloc (size + 4);

  memcpy (data, g_bytes_get_data (body, NULL), size);

  switch (fault->damage)
    {
    case DAMAGE_FLIP:
      g_assert_cmpuint (size, >, 12);
      data[12] ^= 0x55;
      break;
    case DAMAGE_CUT:
      size -= 4;
      break;
    case DAMAGE_JUNK:
      memcpy (data + size, "junk", 4);
      size += 4;
      break;
    case DAMAGE_NONE:
    default:
      break;
    }

  if (!test_conn_write_str (conn, fault->response))
    return;
  if (!fault->chunked)
    {
      test_conn_write (conn, data, size);
      return;
    }
  /* Small chunks, so a coded stream's header and trailer are split across them. */
  for (gsize offset = 0; offset < size; offset += 5)
    if (!test_conn_write_chunk (conn, data + offset, MIN (5, size - offset)))
      return;
  test_conn_write_chunk (conn, NULL, 0);
}

#define CODED_HEAD(te) HEAD_200 "Transfer-Encoding: " te "\r\n\r\n"
#define PLAIN_TEXT "Transfer codings are undone in the order opposite to the one applied."
#define TWO_MEMBERS CODED_HEAD ("gzip, chunked") \
  "f\r\n" "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x07\x00\x44\x93" "\r\n" \
  "1b\r\n" "\x0f\x0f\x01\x00\x00\x00\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x06" \
  "\x00\x5d\x57\x62\x08\x01\x00\x00\x00" "\r\n0\r\n\r\n"

static const FaultCase coding_cases[] = {
  /* The three shapes that used to pass the coded bytes off as the body. */
  { "gzip, chunked", .script = coded_body, .response = CODED_HEAD ("gzip, chunked"),
    .codings = "gzip", .chunked = TRUE, .end = END_HOLD, .code = -1, .body = PLAIN_TEXT },
  { "chunked twice", .script = coded_body, .response = CODED_HEAD ("chunked, chunked"),
    .chunked = TRUE, .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "chunked transfer coding more than once" },
  { "gzip alone, up to the close", .script = coded_body, .response = CODED_HEAD ("gzip"),
    .codings = "gzip", .end = END_CLOSE, .code = -1, .body = PLAIN_TEXT },
  /* The other codings, spelled and listed in the ways HTTP allows. */
  { "x-gzip, chunked", .script = coded_body, .response = CODED_HEAD ("x-gzip, chunked"),
    .codings = "gzip", .chunked = TRUE, .end = END_HOLD, .code = -1, .body = PLAIN_TEXT },
  { "deflate, chunked", .script = coded_body, .response = CODED_HEAD ("DEFLATE , chunked"),
    .codings = "deflate", .chunked = TRUE, .end = END_HOLD, .code = -1, .body = PLAIN_TEXT },
  { "deflate alone, up to the close", .script = coded_body, .response = CODED_HEAD ("deflate"),
    .codings = "deflate", .end = END_CLOSE, .code = -1, .body = PLAIN_TEXT },
  { "deflate then gzip, in two fields", .script = coded_body,
    .response = HEAD_200 "Transfer-Encoding: deflate\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    .codings = "deflate,gzip", .chunked = TRUE, .end = END_HOLD, .code = -1,
    .body = PLAIN_TEXT },
  { "gzip of gzip of gzip", .script = coded_body,
    .response = CODED_HEAD ("gzip,gzip,,gzip,chunked"),
    .codings = "gzip,gzip,gzip", .chunked = TRUE, .end = END_HOLD, .code = -1,
    .body = PLAIN_TEXT },
  { "identity, chunked", .script = coded_body, .response = CODED_HEAD ("identity, chunked"),
    .chunked = TRUE, .end = END_HOLD, .code = -1, .body = PLAIN_TEXT },
  /* "o" and "k" as two gzip members (RFC 1952 2.2), the second starting inside the
   * first chunk. */
  { "two gzip members", .response = TWO_MEMBERS, .response_len = sizeof TWO_MEMBERS - 1,
    .end = END_HOLD, .code = -1, .body = "ok" },
  /* Framing that cannot be trusted. */
  { "chunked not last", .script = coded_body, .response = CODED_HEAD ("chunked, gzip"),
    .codings = "gzip", .chunked = TRUE, .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "chunked transfer coding is not the final one" },
  { "chunked not last, over two fields", .script = coded_body,
    .response = HEAD_200 "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
    .codings = "gzip", .chunked = TRUE, .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "chunked transfer coding is not the final one" },
  /* Codings gmulti does not decode. */
  { "unknown coding", .script = coded_body, .response = CODED_HEAD ("br, chunked"),
    .chunked = TRUE, .end = END_HOLD, .code = GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING,
    .message = "“br”" },
  { "unknown coding up to the close", .script = coded_body, .response = CODED_HEAD ("compress"),
    .end = END_HOLD, .code = GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING,
    .message = "“compress”" },
  { "unknown coding after a known one", .script = coded_body,
    .response = CODED_HEAD ("gzip, zstd, chunked"), .codings = "gzip", .chunked = TRUE,
    .end = END_HOLD, .code = GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING, .message = "“zstd”" },
  { "more codings than the limit", .script = coded_body,
    .response = CODED_HEAD ("gzip, gzip, gzip, gzip, gzip, chunked"),
    .codings = "gzip,gzip,gzip,gzip,gzip", .chunked = TRUE, .end = END_HOLD,
    .code = GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING, .message = "more than 4 transfer codings" },
  /* Coded data that does not decode. */
  { "corrupt gzip", .script = coded_body, .response = CODED_HEAD ("gzip, chunked"),
    .codings = "gzip", .chunked = TRUE, .damage = DAMAGE_FLIP, .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "gzip-coded body is corrupt", .body = PLAIN_TEXT },
  { "corrupt deflate up to the close", .script = coded_body, .response = CODED_HEAD ("deflate"),
    .codings = "deflate", .damage = DAMAGE_FLIP, .end = END_CLOSE,
    .code = GMULTI_ERROR_PROTOCOL, .message = "deflate-coded body is corrupt",
    .body = PLAIN_TEXT },
  { "gzip cut short in complete chunks", .script = coded_body,
    .response = CODED_HEAD ("gzip, chunked"), .codings = "gzip", .chunked = TRUE,
    .damage = DAMAGE_CUT, .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "gzip-coded body is cut short", .body = PLAIN_TEXT },
  { "gzip cut short by the close", .script = coded_body, .response = CODED_HEAD ("gzip"),
    .codings = "gzip", .damage = DAMAGE_CUT, .end = END_CLOSE, .code = GMULTI_ERROR_PROTOCOL,
    .message = "gzip-coded body is cut short", .body = PLAIN_TEXT },
  { "junk after gzip", .script = coded_body, .response = CODED_HEAD ("gzip, chunked"),
    .codings = "gzip", .chunked = TRUE, .damage = DAMAGE_JUNK, .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "gzip-coded body is corrupt", .body = PLAIN_TEXT },
  { "junk after deflate", .script = coded_body, .response = CODED_HEAD ("deflate, chunked"),
    .codings = "deflate", .chunked = TRUE, .damage = DAMAGE_JUNK, .end = END_HOLD,
    .code = GMULTI_ERROR_PROTOCOL, .message = "deflate-coded body has data after its end",
    .body = PLAIN_TEXT },
  { "gzip in the wrong order", .script = coded_body,
    .response = CODED_HEAD ("gzip, deflate, chunked"), .codings = "deflate,gzip",
    .chunked = TRUE, .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "deflate-coded body is corrupt", .body = PLAIN_TEXT },
  /* An empty body needs no coded stream. */
  { "empty gzip body", .response = CODED_HEAD ("gzip, chunked") "0\r\n\r\n", .end = END_HOLD,
    .code = -1, .body = "" },
  /* The control: chunked alone, unchanged. */
  { "chunked alone", .script = coded_body, .response = CODED_HEAD ("chunked"), .chunked = TRUE,
    .end = END_HOLD, .code = -1, .body = PLAIN_TEXT },
};

static void
test_faults_transfer_codings (void)
{
  RUN_TABLE (coding_cases);
}

/* --------------------------------------------------------- malformed heads */

static const FaultCase malformed_cases[] = {
  { "header line without colon", .response = HEAD_200 "X-Broken value\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "has no colon" },
  { "obsolete line folding", .response = HEAD_200 "X-A: one\r\n  two\r\nContent-Length: 0\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "Obsolete line folding" },
  { "folding with a tab", .response = HEAD_200 "X-A: one\r\n\ttwo\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "Obsolete line folding" },
  { "NUL in a header value", .response = HEAD_200 "X-A: o\0ne\r\nContent-Length: 0\r\n\r\n",
    .response_len = sizeof HEAD_200 "X-A: o\0ne\r\nContent-Length: 0\r\n\r\n" - 1,
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "NUL byte in the header section" },
  { "NUL in a header name", .response = HEAD_200 "X-\0A: one\r\n\r\n",
    .response_len = sizeof HEAD_200 "X-\0A: one\r\n\r\n" - 1,
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "NUL byte in the header section" },
  { "bare CR in a header value", .response = HEAD_200 "X-A: o\rne\r\nContent-Length: 0\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "Bare CR" },
  { "bare CR ending a header line", .response = HEAD_200 "X-A: one\rContent-Length: 0\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "Bare CR" },
  { "whitespace before the colon", .response = HEAD_200 "Content-Length : 0\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "Whitespace between a field name" },
  { "empty field name", .response = HEAD_200 ": value\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "Empty field name" },
  { "NUL in the status line", .response = "HTTP/1.1 200 O\0K\r\n\r\n",
    .response_len = sizeof "HTTP/1.1 200 O\0K\r\n\r\n" - 1,
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "NUL byte in the status line" },
  { "garbage status line", .response = "HELLO THERE\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "does not start with an HTTP/1.x status line" },
  { "binary garbage", .response = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "does not start with an HTTP/1.x status line" },
  { "HTTP/0.9 response (body without status line)", .response = "<html>hello</html>\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "does not start with an HTTP/1.x status line" },
  { "HTTP/0.9 response, then close", .response = "hello", .end = END_CLOSE,
    .code = GMULTI_ERROR_PROTOCOL, .message = "does not start with an HTTP/1.x status line" },
  { "HTTP/2 status line", .response = "HTTP/2.0 200 OK\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL,
    .message = "does not start with an HTTP/1.x status line" },
  { "HTTP/1.2 status line", .response = "HTTP/1.2 200 OK\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "unsupported HTTP version" },
  { "status code with letters", .response = "HTTP/1.1 2x0 OK\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "not a three-digit number" },
  { "four-digit status code", .response = "HTTP/1.1 2000 OK\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "not a three-digit number" },
  { "status code out of range", .response = "HTTP/1.1 999 Huh\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "outside 100 to 599" },
  { "unrequested protocol switch",
    .response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "switched protocols" },
  { "bare CR after the status line", .response = "HTTP/1.1 200 OK\rX: y\r\n\r\n",
    .end = END_HOLD, .code = GMULTI_ERROR_PROTOCOL, .message = "Bare CR" },
  /* The control: a well-formed head with tolerated oddities (bare LF line ends, no
   * reason phrase). */
  { "bare LF line ends", .response = "HTTP/1.1 200\nContent-Length: 2\n\nok",
    .end = END_HOLD, .code = -1 },
};

static void
test_faults_malformed (void)
{
  RUN_TABLE (malformed_cases);
}

/* ----------------------------------------------------------------- limits */

/* Writes header lines until the client goes away: long ones, so the byte limit is hit
 * before the field count limit. */
static void
endless_headers (TestConn        *conn,
                 const FaultCase *fault)
{
  char filler[4001];

  memset (filler, 'a', sizeof filler - 1);
  filler[sizeof filler - 1] = '\0';
  if (!test_conn_write_str (conn, HEAD_200))
    return;
  for (guint i = 0; i < 100000; i++)
    if (!test_conn_printf (conn, "X-Filler-%u: %s\r\n", i, filler))
      return;
}

/* One header line that never ends. */
static void
endless_line (TestConn        *conn,
              const FaultCase *fault)
{
  char block[4096];

  memset (block, 'b', sizeof block);
  if (!test_conn_write_str (conn, HEAD_200 "X-Long: "))
    return;
  for (guint i = 0; i < 100000; i++)
    if (!test_conn_write (conn, block, sizeof block))
      return;
}

/* A status line that never ends. */
static void
endless_status_line (TestConn        *conn,
                     const FaultCase *fault)
{
  char block[4096];

  memset (block, 'r', sizeof block);
  if (!test_conn_write_str (conn, "HTTP/1.1 200 "))
    return;
  for (guint i = 0; i < 100000; i++)
    if (!test_conn_write (conn, block, sizeof block))
      return;
}

/* Interim responses, one after the other, never a final one. */
static void
endless_interim (TestConn        *conn,
                 const FaultCase *fault)
{
  for (guint i = 0; i < 1000000; i++)
    if (!test_conn_write_str (conn, "HTTP/1.1 102 Processing\r\nX-Step: going\r\n\r\n"))
      return;
}

/* A complete body, then trailer fields without end. */
static void
endless_trailers (TestConn        *conn,
                  const FaultCase *fault)
{
  if (!test_conn_write_str (conn, CHUNKED_HEAD "2\r\nok\r\n0\r\n"))
    return;
  for (guint i = 0; i < 1000000; i++)
    if (!test_conn_printf (conn, "X-Trailer-%u: %s\r\n", i % 200, "tttttttttttttttttttttttttttt"))
      return;
}

/* @fault->timeout_ms header lines (abused as a count), then an empty body. */
static void
many_headers (TestConn        *conn,
              const FaultCase *fault)
{
  guint n = GPOINTER_TO_UINT (fault->response);
  g_autoptr(GString) head = g_string_new (HEAD_200);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (head, "X-H%u: v\r\n", i);
  g_string_append (head, "Content-Length: 2\r\n\r\nok");
  test_conn_write (conn, head->str, head->len);
}

/* Header lines totalling just under the 256 KiB head limit, then a body. */
static void
large_head (TestConn        *conn,
            const FaultCase *fault)
{
  g_autoptr(GString) head = g_string_new (HEAD_200 "Content-Length: 2\r\n");
  const gsize limit = 256 * 1024;
  const gsize tail = 2; /* the empty line */
  guint i = 0;

  /* Lines of 2000 bytes, well under the field count limit. */
  while (head->len + 2000 + tail <= limit)
    {
      gsize start = head->len;

      g_string_append_printf (head, "X-Pad-%03u: ", i++);
      while (head->len - start < 1998)
        g_string_append_c (head, 'p');
      g_string_append (head, "\r\n");
    }
  /* Top up to exactly the limit with one shorter line. */
  if (limit - head->len - tail > 12)
    {
      gsize want = limit - tail;

      g_string_append (head, "X-Top: ");
      while (head->len < want - 2)
        g_string_append_c (head, 'q');
      g_string_append (head, "\r\n");
    }
  g_assert_cmpuint (head->len + tail, <=, limit);
  g_string_append (head, "\r\nok");
  test_conn_write (conn, head->str, head->len);
}

static const FaultCase limit_cases[] = {
  { "endless header section", .script = endless_headers, .end = END_CLOSE,
    .code = GMULTI_ERROR_HEADERS_TOO_LARGE, .message = "larger than 262144 bytes" },
  { "endless header line", .script = endless_line, .end = END_CLOSE,
    .code = GMULTI_ERROR_HEADERS_TOO_LARGE, .message = "larger than 262144 bytes" },
  { "endless status line", .script = endless_status_line, .end = END_CLOSE,
    .code = GMULTI_ERROR_HEADERS_TOO_LARGE, .message = "larger than 262144 bytes" },
  { "endless interim responses", .script = endless_interim, .end = END_CLOSE,
    .code = GMULTI_ERROR_HEADERS_TOO_LARGE, .message = "larger than 262144 bytes" },
  { "endless trailer section", .script = endless_trailers, .end = END_CLOSE,
    .code = GMULTI_ERROR_HEADERS_TOO_LARGE, .message = "trailer section" },
  { "too many header fields", .script = many_headers, .response = GUINT_TO_POINTER (300),
    .end = END_HOLD, .code = GMULTI_ERROR_HEADERS_TOO_LARGE, .message = "more than 256 fields" },
  /* The controls: right at the limits. */
  { "255 header fields", .script = many_headers, .response = GUINT_TO_POINTER (255),
    .end = END_HOLD, .code = -1 },
  { "a head of exactly 256 KiB", .script = large_head, .end = END_HOLD, .code = -1 },
};

static void
test_faults_limits (void)
{
  RUN_TABLE (limit_cases);
}

/* ------------------------------------------------------------------ stalls */

static void
head_then_trickle (TestConn        *conn,
                   const FaultCase *fault)
{
  if (test_conn_write_str (conn, HEAD_200 "Content-Length: 1000\r\n\r\n"))
    test_conn_trickle (conn, "..........................................", 40, 300);
}

static const FaultCase stall_cases[] = {
  { "no response at all (total timeout)", .end = END_HOLD, .timeout_ms = 500,
    .code = GMULTI_ERROR_TIMED_OUT, .message = "did not complete within 500 ms",
    .min_ms = 450, .max_ms = 3000 },
  { "head, then silence (total timeout)",
    .response = HEAD_200 "Content-Length: 100\r\n\r\n0123456789", .end = END_HOLD,
    .timeout_ms = 700, .code = GMULTI_ERROR_TIMED_OUT, .message = "within 700 ms",
    .min_ms = 650, .max_ms = 3000 },
  { "half a status line, then silence (total timeout)", .response = "HTTP/1.1 2",
    .end = END_HOLD, .timeout_ms = 500, .code = GMULTI_ERROR_TIMED_OUT,
    .message = "within 500 ms", .min_ms = 450, .max_ms = 3000 },
  { "no response at all (low speed)", .end = END_HOLD, .low_speed = 100,
    .code = GMULTI_ERROR_TOO_SLOW, .message = "slower than 100 bytes per second for 1 seconds",
    .min_ms = 900, .max_ms = 5000 },
  { "a body trickling below the low speed", .script = head_then_trickle, .end = END_CLOSE,
    .low_speed = 1000, .code = GMULTI_ERROR_TOO_SLOW, .message = "slower than 1000 bytes",
    .min_ms = 900, .max_ms = 5000 },
};

static void
test_faults_stall (void)
{
  RUN_TABLE (stall_cases);
}

/* ---------------------------------------------------- early answers */

#define UPLOAD_SIZE (16 * 1024 * 1024)
#define ANSWER_413 "HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n" \
                   "Connection: close\r\n\r\nbig!"

/* A server may answer before the request body is in and stop reading: the answer is
 * the result, not the broken pipe the rest of the upload runs into. */
static const FaultCase early_cases[] = {
  { "413 before the upload ended, then close", "PUT", ANSWER_413, .end = END_CLOSE,
    .upload = UPLOAD_SIZE, .before_body = TRUE, .code = -1, .status = 413, .body = "big!" },
  { "413 before the upload ended, then reset", "POST", ANSWER_413, .end = END_RESET,
    .upload = UPLOAD_SIZE, .before_body = TRUE, .code = -1, .status = 413, .body = "big!" },
  { "401 before the upload, connection held", "POST",
    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", .end = END_HOLD,
    .upload = UPLOAD_SIZE, .before_body = TRUE, .code = -1, .status = 401, .body = "" },
  /* The control: the upload read in full, then answered. */
  { "upload read, then answered", "POST", HEAD_200 "Content-Length: 2\r\n\r\nok",
    .end = END_HOLD, .upload = UPLOAD_SIZE, .code = -1 },
};

static void
test_faults_early_answer (void)
{
  RUN_TABLE (early_cases);
}

/* ------------------------------------------- bodies where none may be */

typedef struct {
  const char *name;
  const char *method;
  const char *response;         /* bodiless by its status or the method, then extra bytes */
  guint status;
  gboolean extra;               /* bytes follow the response: the connection must go */
} NoBodyCase;

static const NoBodyCase no_body_cases[] = {
  { "HEAD with body bytes", "HEAD", HEAD_200 "Content-Length: 5\r\n\r\nhello", 200, TRUE },
  { "HEAD with chunked body bytes", "HEAD",
    CHUNKED_HEAD "5\r\nhello\r\n0\r\n\r\n", 200, TRUE },
  { "204 with body bytes", "GET", "HTTP/1.1 204 No Content\r\n\r\nhello", 204, TRUE },
  { "204 with Content-Length and body", "GET",
    "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", 204, TRUE },
  { "304 with body bytes", "GET", "HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\n\r\nhello",
    304, TRUE },
  /* Controls: the same without extra bytes keep the connection. */
  { "HEAD", "HEAD", HEAD_200 "Content-Length: 5\r\n\r\n", 200, FALSE },
  { "204", "GET", "HTTP/1.1 204 No Content\r\n\r\n", 204, FALSE },
  { "304", "GET", "HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\n\r\n", 304, FALSE },
};

/* /case/N answers with the case's bytes in one write and serves on; anything else gets
 * "fine". */
static void
no_body_server_cb (TestServer *server,
                   TestConn   *conn,
                   gpointer    user_data)
{
  for (;;)
    {
      g_autoptr(TestRequest) req = test_conn_read_request (conn, SAFETY_TIMEOUT_MS);
      gboolean more;

      if (req == NULL)
        return;
      if (g_str_has_prefix (req->target, "/case/"))
        {
          const NoBodyCase *c = &no_body_cases[atoi (req->target + strlen ("/case/"))];

          more = test_conn_write_str (conn, c->response);
        }
      else
        more = test_conn_respond (conn, 200, "text/plain", "fine", 4);
      if (!more)
        return;
    }
}

static gboolean
healthy_server_cb (TestServer  *server,
                   TestConn    *conn,
                   TestRequest *req,
                   gpointer     user_data)
{
  return serve_healthy (conn);
}

static void
test_faults_no_body (void)
{
  /* The healthy transfers go to another origin, so the only connection the next request
   * to the case's server could reuse is the one the case used. */
  g_autoptr(TestServer) other = test_server_new (TEST_SERVER_IPV4, healthy_server_cb, NULL);
  guint baseline = test_count_fds ();

  for (guint i = 0; i < G_N_ELEMENTS (no_body_cases); i++)
    {
      const NoBodyCase *c = &no_body_cases[i];
      TestServer *server = test_server_new_raw (TEST_SERVER_IPV4, no_body_server_cb, NULL);
      EngineLoop *loop = engine_loop_new ();
      g_autofree char *path = g_strdup_printf ("/case/%u", i);
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, path);
      g_autoptr(GMultiTransfer) healthy = new_transfer (other, "/healthy");
      g_autoptr(GMultiTransfer) next = new_transfer (server, "/next");
      g_autoptr(GBytes) body = NULL;
      g_autoptr(TestRequest) first_req = NULL;
      g_autoptr(TestRequest) next_req = NULL;

      g_test_message ("case “%s”", c->name);
      g_assert_true (gmulti_transfer_set_method (transfer, c->method, NULL));
      gmulti_engine_add (loop->engine, healthy);
      gmulti_engine_add (loop->engine, transfer);
      g_assert_true (engine_loop_run (loop, WAIT_MS));

      /* The response itself is fine: its status, and no body. */
      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
      g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, c->status);
      body = gmulti_transfer_get_response_body (transfer);
      g_assert_cmpuint (g_bytes_get_size (body), ==, 0);
      g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 0);
      assert_healthy (healthy);
      /* The healthy connection, plus the case's only if it stays usable. */
      g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==,
                        c->extra ? 1 : 2);

      gmulti_engine_add (loop->engine, next);
      g_assert_true (engine_loop_run (loop, WAIT_MS));
      g_assert_no_error ((GError *) gmulti_transfer_get_error (next));
      g_assert_cmpuint (gmulti_transfer_get_status (next), ==, 200);

      first_req = test_server_get_request (server, 0);
      next_req = test_server_get_last_request (server);
      g_assert_cmpstr (next_req->target, ==, "/next");
      g_assert_cmpuint (test_server_get_n_accepted (server), ==, c->extra ? 2 : 1);
      if (c->extra)
        g_assert_cmpuint (next_req->conn_id, !=, first_req->conn_id);
      else
        g_assert_cmpuint (next_req->conn_id, ==, first_req->conn_id);
      g_assert_true (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (next)) ==
                     !c->extra);
      assert_engine_quiet (loop);

      engine_loop_free (loop);
      test_server_free (server);
      assert_fds_back_to (other, baseline);
    }
}

/* ------------------------------------------------- stale pooled connections */

typedef enum {
  STALE_CLOSE_IDLE,             /* close right after the first response */
  STALE_CLOSE_AFTER_REQUEST,    /* read the second request, close without answering */
  STALE_RESET_AFTER_REQUEST,    /* ... reset instead */
  STALE_PARTIAL_AFTER_REQUEST,  /* ... answer with part of a head, then close */
} StaleMode;

typedef enum {
  BODY_NONE,
  BODY_BYTES,
  BODY_FUNC,
} BodyKind;

typedef struct {
  const char *name;
  const char *method;
  BodyKind body;
  StaleMode mode;
  gboolean retry_fails;         /* later connections close without answering too */
  int code;                     /* -1: success with "fresh" */
  const char *message;
  guint requests, accepted;     /* what the server saw in the end */
  guint n_first;                /* connections opened before (0: 1), each stale */
  guint max_host;               /* the engine's per-origin limit; 0: none */
} StaleCase;

static const StaleCase stale_cases[] = {
  { "GET retried after a close", "GET", BODY_NONE, STALE_CLOSE_AFTER_REQUEST, FALSE,
    -1, NULL, 3, 2 },
  { "GET retried after a reset", "GET", BODY_NONE, STALE_RESET_AFTER_REQUEST, FALSE,
    -1, NULL, 3, 2 },
  { "DELETE retried", "DELETE", BODY_NONE, STALE_CLOSE_AFTER_REQUEST, FALSE, -1, NULL, 3, 2 },
  { "PUT with a body in memory retried", "PUT", BODY_BYTES, STALE_CLOSE_AFTER_REQUEST, FALSE,
    -1, NULL, 3, 2 },
  { "retried once only", "GET", BODY_NONE, STALE_CLOSE_AFTER_REQUEST, TRUE,
    GMULTI_ERROR_CONNECTION_CLOSED, "closed before the status line", 3, 2 },
  { "POST not retried", "POST", BODY_BYTES, STALE_CLOSE_AFTER_REQUEST, FALSE,
    GMULTI_ERROR_CONNECTION_CLOSED, "POST request was not sent again", 2, 1 },
  { "PATCH not retried after a reset", "PATCH", BODY_BYTES, STALE_RESET_AFTER_REQUEST, FALSE,
    GMULTI_ERROR_RECEIVE_FAILED, "PATCH request was not sent again", 2, 1 },
  { "PUT with a body that cannot be read again not retried", "PUT", BODY_FUNC,
    STALE_CLOSE_AFTER_REQUEST, FALSE, GMULTI_ERROR_CONNECTION_CLOSED,
    "body cannot be sent again", 2, 1 },
  { "GET not retried once the response started", "GET", BODY_NONE,
    STALE_PARTIAL_AFTER_REQUEST, FALSE, GMULTI_ERROR_CONNECTION_CLOSED,
    "closed in the headers", 2, 1 },
  { "a close seen while idle: a new connection, no retry", "GET", BODY_NONE, STALE_CLOSE_IDLE,
    FALSE, -1, NULL, 2, 2 },
  /* The retry must not take another idle connection, stale just the same. */
  { "retried on a fresh connection, not another idle one", "GET", BODY_NONE,
    STALE_CLOSE_AFTER_REQUEST, FALSE, -1, NULL, 4, 3, 2 },
  { "retried on a fresh connection under a per-origin limit", "GET", BODY_NONE,
    STALE_CLOSE_AFTER_REQUEST, FALSE, -1, NULL, 4, 3, 2, 2 },
};

static void
stale_server_cb (TestServer *server,
                 TestConn   *conn,
                 gpointer    user_data)
{
  const StaleCase *c = user_data;
  g_autoptr(TestRequest) first = test_conn_read_request (conn, SAFETY_TIMEOUT_MS);
  g_autoptr(TestRequest) second = NULL;

  if (first == NULL)
    return;
  if (test_conn_get_id (conn) > MAX (c->n_first, 1))
    {
      /* The retry's connection. */
      if (c->retry_fails)
        return;
      while (first != NULL && test_conn_respond (conn, 200, "text/plain", "fresh", 5))
        {
          g_clear_pointer (&first, test_request_free);
          first = test_conn_read_request (conn, SAFETY_TIMEOUT_MS);
        }
      return;
    }

  if (!test_conn_respond (conn, 200, "text/plain", "fresh", 5) || c->mode == STALE_CLOSE_IDLE)
    return;
  second = test_conn_read_request (conn, SAFETY_TIMEOUT_MS);
  if (second == NULL)
    return;
  if (c->mode == STALE_RESET_AFTER_REQUEST)
    test_conn_reset (conn);
  else if (c->mode == STALE_PARTIAL_AFTER_REQUEST)
    test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Le");
}

typedef struct {
  GBytes *bytes;
  gsize offset;
} BodySource;

static gssize
body_source_cb (GMultiTransfer *transfer,
                guint8         *buffer,
                gsize           length,
                gpointer        user_data,
                GError        **error)
{
  BodySource *source = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (source->bytes, &size);
  gsize n = MIN (length, size - source->offset);

  memcpy (buffer, data + source->offset, n);
  source->offset += n;
  return (gssize) n;
}

static void
test_faults_stale (void)
{
  g_autoptr(TestServer) other = test_server_new (TEST_SERVER_IPV4, healthy_server_cb, NULL);
  g_autoptr(GBytes) body = pattern_bytes (3000, 5);
  guint baseline = test_count_fds ();

  for (guint i = 0; i < G_N_ELEMENTS (stale_cases); i++)
    {
      const StaleCase *c = &stale_cases[i];
      TestServer *server = test_server_new_raw (TEST_SERVER_IPV4, stale_server_cb,
                                                (gpointer) c);
      EngineLoop *loop = engine_loop_new ();
      g_autoptr(GPtrArray) firsts = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GMultiTransfer) second = new_transfer (server, "/two");
      g_autoptr(GMultiTransfer) healthy = new_transfer (other, "/healthy");
      g_autoptr(TestRequest) last = NULL;
      g_autoptr(GBytes) fresh = g_bytes_new_static ("fresh", 5);
      BodySource source = { body, 0 };
      guint n_first = MAX (c->n_first, 1);

      g_test_message ("case “%s”", c->name);
      gmulti_engine_set_max_host_connections (loop->engine, c->max_host);
      /* Started together, they open a connection each. */
      for (guint k = 0; k < n_first; k++)
        {
          g_ptr_array_add (firsts, new_transfer (server, "/one"));
          gmulti_engine_add (loop->engine, firsts->pdata[k]);
        }
      g_assert_true (engine_loop_run (loop, WAIT_MS));
      for (guint k = 0; k < n_first; k++)
        g_assert_no_error ((GError *) gmulti_transfer_get_error (firsts->pdata[k]));
      g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, n_first);

      if (c->mode == STALE_CLOSE_IDLE)
        {
          gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

          /* The idle connection stays watched: the close is noticed without a request. */
          g_assert_true (test_server_wait_open (server, 0, 5000));
          while (gmulti_engine_get_n_idle_connections (loop->engine) > 0 &&
                 g_get_monotonic_time () < end)
            engine_loop_iterate (loop, 50);
          g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
        }

      g_assert_true (gmulti_transfer_set_method (second, c->method, NULL));
      if (c->body == BODY_BYTES)
        gmulti_transfer_set_request_body (second, body);
      else if (c->body == BODY_FUNC)
        gmulti_transfer_set_request_body_func (second, body_source_cb,
                                               g_bytes_get_size (body), &source, NULL);
      gmulti_engine_add (loop->engine, healthy);
      gmulti_engine_add (loop->engine, second);
      g_assert_true (engine_loop_run (loop, WAIT_MS));

      if (c->code < 0)
        {
          GMultiMetrics *metrics = gmulti_transfer_get_metrics (second);

          g_assert_no_error ((GError *) gmulti_transfer_get_error (second));
          assert_body (second, fresh);
          /* Whatever was retried went out on a connection of its own. */
          g_assert_false (gmulti_metrics_get_connection_reused (metrics));
        }
      else
        {
          assert_failed (second, c->code, c->message);
          g_assert_cmpuint (gmulti_transfer_get_status (second), ==, 0);
        }
      g_assert_cmpuint (test_server_get_n_requests (server), ==, c->requests);
      g_assert_cmpuint (test_server_get_n_accepted (server), ==, c->accepted);
      last = test_server_get_last_request (server);
      g_assert_cmpstr (last->target, ==, "/two");
      g_assert_cmpstr (last->method, ==, c->method);
      if (c->body == BODY_BYTES && last->body != NULL)
        g_assert_true (g_bytes_equal (last->body, body));
      assert_healthy (healthy);
      assert_engine_quiet (loop);

      engine_loop_free (loop);
      test_server_free (server);
      assert_fds_back_to (other, baseline);
    }
}

/* The retry of a stale request under a total limit makes room by closing the origin's
 * last idle connection: the pool must not keep using what that freed, and the retry's
 * connection serves the next request. */
static void
test_faults_stale_total_limit (void)
{
  static const StaleCase c = {
    "retried on a fresh connection under a total limit", "GET", BODY_NONE,
    STALE_CLOSE_AFTER_REQUEST, FALSE, -1, NULL, 5, 3, 2,
  };
  g_autoptr(TestServer) server = test_server_new_raw (TEST_SERVER_IPV4, stale_server_cb,
                                                      (gpointer) &c);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/one");
  g_autoptr(GMultiTransfer) other = new_transfer (server, "/one");
  g_autoptr(GMultiTransfer) second = new_transfer (server, "/two");
  g_autoptr(GMultiTransfer) third = new_transfer (server, "/three");
  g_autoptr(GBytes) fresh = g_bytes_new_static ("fresh", 5);

  gmulti_engine_set_max_connections (loop->engine, 0);
  gmulti_engine_set_max_host_connections (loop->engine, 0);
  gmulti_engine_add (loop->engine, first);
  gmulti_engine_add (loop->engine, other);
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 2);

  /* Over the new limit: the stale one is closed, and so is the other idle one. */
  gmulti_engine_set_max_connections (loop->engine, 1);
  gmulti_engine_add (loop->engine, second);
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (second));
  assert_body (second, fresh);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);

  gmulti_engine_add (loop->engine, third);
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (third));
  assert_body (third, fresh);
  g_assert_true (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (third)));
  g_assert_cmpuint (test_server_get_n_requests (server), ==, c.requests);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, c.accepted);
  assert_engine_quiet (loop);
}

/* --------------------------------------------------------------- redirects */

typedef struct {
  const char *name;
  const char *path;             /* on the first server; {port}: the second server's port */
  guint max_redirects;          /* 0: the default */
  int code;
  const char *message;
  guint requests;               /* on the first server; 0: do not check */
} RedirectCase;

static const RedirectCase redirect_cases[] = {
  { "redirect to itself", "/loop", 0, GMULTI_ERROR_TOO_MANY_REDIRECTS, "the limit is 20", 21 },
  { "loop between two servers", "/pingpong?other={port}", 0, GMULTI_ERROR_TOO_MANY_REDIRECTS,
    "the limit is 20", 11 },
  { "chain longer than the default", "/chain/25", 0, GMULTI_ERROR_TOO_MANY_REDIRECTS,
    "the limit is 20", 21 },
  { "chain longer than the limit set", "/chain/6", 5, GMULTI_ERROR_TOO_MANY_REDIRECTS,
    "the limit is 5", 6 },
  { "chain at the limit set", "/chain/5", 5, -1, NULL, 6 },
  { "chain of 1000 at the maximum limit", "/chain/1000", 1000, -1, NULL, 1001 },
  { "to ftp:", "/redirect?to=ftp%3A%2F%2F127.0.0.1%2Ffile", 0, GMULTI_ERROR_BAD_REDIRECT,
    "unsupported scheme “ftp”", 1 },
  { "to file:", "/redirect?to=file%3A%2F%2F%2Fetc%2Fpasswd", 0, GMULTI_ERROR_BAD_REDIRECT,
    "unsupported scheme “file”", 1 },
  { "to javascript:", "/redirect?to=javascript%3Aalert(1)", 0, GMULTI_ERROR_BAD_REDIRECT,
    "unsupported scheme “javascript”", 1 },
  { "to data:", "/redirect?to=data%3Atext%2Fplain%2Chi", 0, GMULTI_ERROR_BAD_REDIRECT,
    "unsupported scheme “data”", 1 },
  { "to a URI without host", "/redirect?to=http%3A%2F%2F%2Fpath", 0, GMULTI_ERROR_BAD_REDIRECT,
    "invalid URI", 1 },
  { "to a port out of range", "/redirect?to=http%3A%2F%2F127.0.0.1%3A99999%2F", 0,
    GMULTI_ERROR_BAD_REDIRECT, "invalid URI", 1 },
  { "to port 0", "/redirect?to=http%3A%2F%2F127.0.0.1%3A0%2Fhealthy", 0,
    GMULTI_ERROR_BAD_REDIRECT, "invalid URI", 1 },
  { "to a host with an invalid %-escape", "/redirect?to=http%3A%2F%2Fa%25zz.v4.test%3A{port}%2F", 0,
    GMULTI_ERROR_BAD_REDIRECT, "invalid URI", 1 },
  /* GLib decodes %-escapes in the host: CR LF there would end up in the Host field. */
  { "to a host with an escaped CR LF",
    "/redirect?to=http%3A%2F%2Fevil%250d%250aX-Injected%253A%25201.v4.test%3A{port}%2Fhealthy", 0,
    GMULTI_ERROR_BAD_REDIRECT, "invalid URI", 1 },
  { "to a host with an escaped space",
    "/redirect?to=http%3A%2F%2Fa%2520b.v4.test%3A{port}%2Fhealthy", 0,
    GMULTI_ERROR_BAD_REDIRECT, "invalid URI", 1 },
  { "to a host with an escaped slash",
    "/redirect?to=http%3A%2F%2Fa%252fb.v4.test%3A{port}%2Fhealthy", 0,
    GMULTI_ERROR_BAD_REDIRECT, "invalid URI", 1 },
  { "to an IPv6 zone", "/redirect?to=http%3A%2F%2F%5Bfe80%3A%3A1%2525lo%5D%3A{port}%2F", 0,
    GMULTI_ERROR_BAD_REDIRECT, "invalid URI", 1 },
  /* Location is a singleton (RFC 9110 10.2.2): two that disagree leave no way to know
   * which one the server meant, and browsers refuse the response. */
  { "two different Location fields", "/locations?to=%2Fhealthy&also=%2Fnope", 0,
    GMULTI_ERROR_PROTOCOL, "more than one Location field", 1 },
  { "two different Location fields, the second valid", "/locations?to=ftp%3A%2F%2Fx%2F&also=%2Fhealthy",
    0, GMULTI_ERROR_PROTOCOL, "more than one Location field", 1 },
  /* Controls: the same kinds of target, valid; one value sent twice. */
  { "the same Location twice", "/locations?to=%2Fhealthy&also=%2Fhealthy", 0, -1, NULL, 2 },
  /* A redirect's body is dropped: a coding nobody needs to undo is no reason to fail. */
  { "with a body in an unknown coding", "/coded-redirect?to=%2Fhealthy", 0, -1, NULL, 2 },
  { "to another server by name", "/redirect?to=http%3A%2F%2Fok.v4.test%3A{port}%2Fhealthy", 0,
    -1, NULL, 1 },
  { "relative, with a space to escape", "/redirect?to=%2Fheal%20thy", 0, -1, NULL, 2 },
};

static void
test_faults_redirect (void)
{
  TestServer *first = test_server_new_raw (TEST_SERVER_IPV4, fault_server_cb, NULL);
  TestServer *second = test_server_new_raw (TEST_SERVER_IPV4, fault_server_cb, NULL);
  guint baseline = test_count_fds ();
  guint seen = 0;

  for (guint i = 0; i < G_N_ELEMENTS (redirect_cases); i++)
    {
      const RedirectCase *c = &redirect_cases[i];
      EngineLoop *loop = engine_loop_new ();
      g_autofree char *path = NULL;
      g_autoptr(GMultiTransfer) transfer = NULL;
      g_autoptr(GMultiTransfer) healthy = new_transfer (first, "/healthy");
      guint requests;

      g_test_message ("case “%s”", c->name);
      path = with_port (c->path, test_server_get_port (second));
      transfer = new_transfer (first, path);
      gmulti_transfer_set_follow_redirects (transfer, TRUE);
      if (c->max_redirects > 0)
        gmulti_transfer_set_max_redirects (transfer, c->max_redirects);
      gmulti_transfer_set_timeout (transfer, SAFETY_TIMEOUT_MS);

      gmulti_engine_add (loop->engine, healthy);
      gmulti_engine_add (loop->engine, transfer);
      g_assert_true (engine_loop_run (loop, WAIT_MS));

      if (c->code < 0)
        {
          g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
          assert_healthy (transfer);
        }
      else
        {
          assert_failed (transfer, c->code, c->message);
          /* No body of a redirect response is passed off as the result. */
          g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 0);
        }
      assert_healthy (healthy);
      assert_engine_quiet (loop);

      /* Count this case's requests, the healthy one aside. */
      requests = test_server_get_n_requests (first) - seen - 1;
      seen = test_server_get_n_requests (first);
      g_assert_cmpuint (requests, ==, c->requests);

      engine_loop_free (loop);
      assert_fds_back_to (first, baseline);
      g_assert_true (test_server_wait_open (second, 0, 5000));
    }

  /* No request carried a smuggled field. */
  for (guint i = 0; i < test_server_get_n_requests (second); i++)
    {
      g_autoptr(TestRequest) req = test_server_get_request (second, i);

      g_assert_null (test_request_get_header (req, "X-Injected"));
      g_assert_null (strpbrk (test_request_get_header (req, "Host"), " %"));
    }
  test_server_free (first);
  test_server_free (second);
}

/* ------------------------------------------------------ names and addresses */

typedef enum {
  NET_NO_SUCH_NAME,
  NET_REFUSED,
  NET_REFUSED_IPV6,
  NET_REFUSED_BOTH_FAMILIES,
  NET_SILENT_IPV4,
  NET_SILENT_IPV6_ONLY,
  NET_SILENT_IPV6_IPV4_ANSWERS,
} NetKind;

typedef struct {
  const char *name;
  NetKind kind;
  gboolean needs_ipv6;
  int code;                     /* -1: success with the healthy body */
  const char *message;          /* {port}: the port */
  gint64 min_ms, max_ms;
} NetCase;

static const NetCase net_cases[] = {
  { "name lookup fails", NET_NO_SUCH_NAME, FALSE, GMULTI_ERROR_RESOLVE_FAILED,
    "nonexistent.test", 0, PROMPT_MS },
  { "connection refused", NET_REFUSED, FALSE, GMULTI_ERROR_CONNECT_FAILED,
    "127.0.0.1:{port}: Connection refused", 0, PROMPT_MS },
  { "connection refused on IPv6", NET_REFUSED_IPV6, TRUE, GMULTI_ERROR_CONNECT_FAILED,
    "[::1]:{port}: Connection refused", 0, PROMPT_MS },
  { "every address refuses", NET_REFUSED_BOTH_FAMILIES, TRUE, GMULTI_ERROR_CONNECT_FAILED,
    "Connection refused", 0, PROMPT_MS },
  { "IPv4 never answers", NET_SILENT_IPV4, FALSE, GMULTI_ERROR_CONNECT_TIMEOUT,
    "within 500 ms", 450, 3000 },
  { "IPv6 never answers, no IPv4", NET_SILENT_IPV6_ONLY, TRUE, GMULTI_ERROR_CONNECT_TIMEOUT,
    "Could not connect to v6.test within 500 ms", 450, 3000 },
  /* Happy Eyeballs: IPv4 after the attempt delay, long before the connect timeout. */
  { "IPv6 never answers while IPv4 does", NET_SILENT_IPV6_IPV4_ANSWERS, TRUE, -1, NULL,
    200, 3000 },
};

static void
test_faults_network (void)
{
  TestServer *server = test_server_new_raw (TEST_SERVER_IPV4, fault_server_cb, NULL);
  guint baseline = test_count_fds ();
  gboolean have_ipv6 = test_ipv6_loopback_available ();

  for (guint i = 0; i < G_N_ELEMENTS (net_cases); i++)
    {
      const NetCase *c = &net_cases[i];
      EngineLoop *loop = NULL;
      g_autoptr(GMultiTransfer) transfer = NULL;
      g_autoptr(GMultiTransfer) healthy = NULL;
      g_autofree char *uri = NULL;
      g_autofree char *message = NULL;
      TestServer *target = NULL;
      int fd4 = -1, fd6 = -1;
      guint16 port = 0;

      g_test_message ("case “%s”", c->name);
      if (c->needs_ipv6 && !have_ipv6)
        {
          g_test_message ("  skipped: no IPv6 loopback");
          continue;
        }

      switch (c->kind)
        {
        case NET_NO_SUCH_NAME:
          port = test_server_get_port (server);
          uri = g_strdup_printf ("http://nonexistent.test:%u/healthy", port);
          break;
        case NET_REFUSED:
          port = refusing_port (FALSE, &fd4, &fd6);
          uri = g_strdup_printf ("http://127.0.0.1:%u/healthy", port);
          break;
        case NET_REFUSED_IPV6:
          port = refusing_port (TRUE, &fd4, &fd6);
          uri = g_strdup_printf ("http://[::1]:%u/healthy", port);
          break;
        case NET_REFUSED_BOTH_FAMILIES:
          port = refusing_port (TRUE, &fd4, &fd6);
          uri = g_strdup_printf ("http://dual.test:%u/healthy", port);
          break;
        case NET_SILENT_IPV4:
          fd4 = test_blackhole_listener (AF_INET, &port);
          g_assert_cmpint (fd4, >=, 0);
          uri = g_strdup_printf ("http://127.0.0.1:%u/healthy", port);
          break;
        case NET_SILENT_IPV6_ONLY:
          fd6 = test_blackhole_listener (AF_INET6, &port);
          g_assert_cmpint (fd6, >=, 0);
          uri = g_strdup_printf ("http://v6.test:%u/healthy", port);
          break;
        case NET_SILENT_IPV6_IPV4_ANSWERS:
        default:
          /* The IPv4 server and a silent IPv6 listener on the same port. */
          for (guint attempt = 0; attempt < 20 && fd6 < 0; attempt++)
            {
              g_clear_pointer (&target, test_server_free);
              target = test_server_new_raw (TEST_SERVER_IPV4, fault_server_cb, NULL);
              fd6 = test_ipv6_blackhole_on (test_server_get_port (target));
            }
          g_assert_cmpint (fd6, >=, 0);
          port = test_server_get_port (target);
          uri = g_strdup_printf ("http://dual.test:%u/healthy", port);
          break;
        }

      loop = engine_loop_new ();
      transfer = gmulti_transfer_new (uri);
      healthy = new_transfer (server, "/healthy");
      gmulti_transfer_set_connect_timeout (transfer, c->code == GMULTI_ERROR_CONNECT_TIMEOUT
                                                     ? 500 : 10000);
      gmulti_engine_add (loop->engine, healthy);
      gmulti_engine_add (loop->engine, transfer);
      g_assert_true (engine_loop_run (loop, WAIT_MS));

      g_test_message ("  ended after %" G_GINT64_FORMAT " ms", total_ms (transfer));
      if (c->code < 0)
        {
          assert_healthy (transfer);
          g_assert_cmpint (gmulti_metrics_get_connect_time (gmulti_transfer_get_metrics (transfer)),
                           >=, 200 * 1000);
        }
      else
        {
          message = with_port (c->message, port);
          assert_failed (transfer, c->code, message);
        }
      g_assert_cmpint (total_ms (transfer), >=, c->min_ms);
      g_assert_cmpint (total_ms (transfer), <=, c->max_ms);
      assert_healthy (healthy);
      assert_engine_quiet (loop);
      engine_loop_free (loop);

      if (fd4 >= 0)
        close (fd4);
      if (fd6 >= 0)
        close (fd6);
      g_clear_pointer (&target, test_server_free);
      assert_fds_back_to (server, baseline);
    }
  test_server_free (server);
}

/* ---------------------------------------------------------------- bad input */

/* A server that must never see a connection, next to one for the healthy transfer. */
typedef struct {
  TestServer *target;
  TestServer *other;
  guint baseline;
} BadInputFixture;

static void
bad_input_setup (BadInputFixture *fixture,
                 gconstpointer    data)
{
  fixture->target = test_server_new_raw (TEST_SERVER_IPV4, fault_server_cb, NULL);
  fixture->other = test_server_new (TEST_SERVER_IPV4, healthy_server_cb, NULL);
  fixture->baseline = test_count_fds ();
}

static void
bad_input_teardown (BadInputFixture *fixture,
                    gconstpointer    data)
{
  assert_fds_back_to (fixture->other, fixture->baseline);
  g_assert_cmpuint (test_server_get_n_accepted (fixture->target), ==, 0);
  test_server_free (fixture->target);
  test_server_free (fixture->other);
}

/* Runs @transfer next to a healthy one: it must fail with @code before a byte is sent. */
static void
assert_refused_before_sending (BadInputFixture *fixture,
                               GMultiTransfer  *transfer,
                               int              code,
                               const char      *part)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) healthy = new_transfer (fixture->other, "/healthy");

  gmulti_engine_add (loop->engine, healthy);
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  assert_failed (transfer, code, part);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 0);
  g_assert_cmpuint (gmulti_metrics_get_header_bytes_sent (gmulti_transfer_get_metrics (transfer)),
                    ==, 0);
  assert_healthy (healthy);
  assert_engine_quiet (loop);
  /* Nothing of it is left in the engine but its message. */
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  gmulti_engine_remove (loop->engine, transfer);
  g_usleep (20 * 1000);
  g_assert_cmpuint (test_server_get_n_accepted (fixture->target), ==, 0);
}

typedef enum {
  IN_HEADER_NAME,
  IN_HEADER_VALUE,
  IN_METHOD,
  IN_URI_PATH,
  IN_URI_HOST,
} Where;

typedef struct {
  const char *name;
  Where where;
  const char *text;             /* the bad part; for URIs, {port} is the target's port */
} CharCase;

static const CharCase char_cases[] = {
  { "CR LF in a header name", IN_HEADER_NAME, "X-A\r\nInjected" },
  { "LF in a header name", IN_HEADER_NAME, "X-A\nB" },
  { "CR in a header name", IN_HEADER_NAME, "X-A\rB" },
  { "space in a header name", IN_HEADER_NAME, "X A" },
  { "colon in a header name", IN_HEADER_NAME, "X:A" },
  { "empty header name", IN_HEADER_NAME, "" },
  { "CR LF in a header value", IN_HEADER_VALUE, "a\r\nInjected: 1" },
  { "LF in a header value", IN_HEADER_VALUE, "a\nb" },
  { "CR in a header value", IN_HEADER_VALUE, "a\rb" },
  { "control character in a header value", IN_HEADER_VALUE, "a\x01z" },
  { "DEL in a header value", IN_HEADER_VALUE, "a\x7fz" },
  { "CR LF in the method", IN_METHOD, "GET\r\nX: y" },
  { "LF in the method", IN_METHOD, "GET\n" },
  { "space in the method", IN_METHOD, "GET /evil" },
  { "empty method", IN_METHOD, "" },
  { "CR LF in the URI", IN_URI_PATH, "http://127.0.0.1:{port}/a\r\nX-Injected: 1" },
  { "LF in the URI", IN_URI_PATH, "http://127.0.0.1:{port}/a\nb" },
  { "space in the URI", IN_URI_PATH, "http://127.0.0.1:{port}/a b" },
  { "tab in the URI", IN_URI_PATH, "http://127.0.0.1:{port}/a\tb" },
  { "escaped CR LF in the host", IN_URI_HOST, "http://a%0d%0aX-Injected:%201.v4.test:{port}/" },
  { "escaped NUL in the host", IN_URI_HOST, "http://a%00b.v4.test:{port}/" },
  { "escaped space in the host", IN_URI_HOST, "http://a%20b.v4.test:{port}/" },
};

static void
test_bad_input_chars (BadInputFixture *fixture,
                      gconstpointer    data)
{
  for (guint i = 0; i < G_N_ELEMENTS (char_cases); i++)
    {
      const CharCase *c = &char_cases[i];
      g_autoptr(GMultiTransfer) transfer = new_transfer (fixture->target, "/healthy");
      GMultiHeaders *headers = gmulti_transfer_get_request_headers (transfer);
      g_autoptr(GError) error = NULL;
      g_autofree char *uri = NULL;
      g_autofree char *old_uri = g_strdup (gmulti_transfer_get_uri (transfer));
      int code = GMULTI_ERROR_INVALID_HEADER;

      g_test_message ("case “%s”", c->name);
      switch (c->where)
        {
        case IN_HEADER_NAME:
        case IN_HEADER_VALUE:
          {
            const char *name = c->where == IN_HEADER_NAME ? c->text : "X-Fine";
            const char *value = c->where == IN_HEADER_VALUE ? c->text : "fine";

            /* Both ways in refuse it at once and keep the headers as they were. */
            g_assert_false (gmulti_transfer_add_request_header (transfer, name, value, &error));
            g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
            g_clear_error (&error);
            g_assert_false (gmulti_headers_append (headers, name, value, &error));
            g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
            g_clear_error (&error);
            g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 0);
            /* Past the checks, the engine refuses it before sending. */
            gmulti_headers_append_unchecked (headers, name, strlen (name), value, strlen (value));
            assert_refused_before_sending (fixture, transfer, code, "header");
          }
          break;

        case IN_METHOD:
          g_assert_false (gmulti_transfer_set_method (transfer, c->text, &error));
          g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
          g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GET");
          /* The property stores it unchecked. */
          g_object_set (transfer, "method", c->text, NULL);
          assert_refused_before_sending (fixture, transfer, code, "method");
          break;

        case IN_URI_PATH:
        case IN_URI_HOST:
        default:
          uri = with_port (c->text, test_server_get_port (fixture->target));
          code = GMULTI_ERROR_INVALID_URI;
          g_assert_false (gmulti_transfer_set_uri (transfer, uri, &error));
          g_assert_error (error, GMULTI_ERROR, code);
          g_test_message ("  set_uri: %s", error->message);
          g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, old_uri);
          g_object_set (transfer, "uri", uri, NULL);
          assert_refused_before_sending (fixture, transfer, code, "URI");
          break;
        }
    }
}

typedef struct {
  const char *uri;              /* {port}: the target's port */
  int setter_code;              /* what set_uri() says; -1: it accepts the URI */
  int code;                     /* what the transfer ends with */
  const char *message;
} UriCase;

static const UriCase uri_cases[] = {
  { "", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "No URI" },
  { "http://", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "no host" },
  { "http:///path", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "no host" },
  { "http://:{port}/", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "no host" },
  { "http://127.0.0.1:{port}x/", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "port" },
  { "http://127.0.0.1:99999/", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "out of range" },
  { "http://127.0.0.1:-{port}/", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "port" },
  /* GLib takes port 0; connecting to it is meaningless (it used to mean port 80), so
   * the setter refuses it as the engine would. */
  { "http://127.0.0.1:0/", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI,
    "Invalid port" },
  { "http://[::1/", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "Invalid URI" },
  { "not a uri", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "space" },
  { "//127.0.0.1:{port}/", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI, "Invalid URI" },
  { "127.0.0.1:{port}/healthy", GMULTI_ERROR_INVALID_URI, GMULTI_ERROR_INVALID_URI,
    "not absolute" },
  /* Without "http://", the name reads as a scheme. */
  { "localhost:{port}/healthy", GMULTI_ERROR_UNSUPPORTED_SCHEME, GMULTI_ERROR_UNSUPPORTED_SCHEME,
    "“localhost”" },
  { "ftp://127.0.0.1:{port}/", GMULTI_ERROR_UNSUPPORTED_SCHEME, GMULTI_ERROR_UNSUPPORTED_SCHEME,
    "“ftp”" },
  { "file:///etc/passwd", GMULTI_ERROR_UNSUPPORTED_SCHEME, GMULTI_ERROR_UNSUPPORTED_SCHEME,
    "“file”" },
  { "ws://127.0.0.1:{port}/", GMULTI_ERROR_UNSUPPORTED_SCHEME, GMULTI_ERROR_UNSUPPORTED_SCHEME,
    "“ws”" },
};

static void
test_bad_input_uris (BadInputFixture *fixture,
                     gconstpointer    data)
{
  for (guint i = 0; i < G_N_ELEMENTS (uri_cases); i++)
    {
      const UriCase *c = &uri_cases[i];
      g_autofree char *uri = NULL;
      g_autofree char *good = test_server_uri (fixture->target, "/healthy");
      g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (good);
      g_autoptr(GMultiTransfer) direct = NULL;
      g_autoptr(GError) error = NULL;

      uri = with_port (c->uri, test_server_get_port (fixture->target));
      g_test_message ("case “%s”", uri);

      if (c->setter_code >= 0)
        {
          g_assert_false (gmulti_transfer_set_uri (transfer, uri, &error));
          g_assert_error (error, GMULTI_ERROR, c->setter_code);
          g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, good);
        }
      else
        g_assert_true (gmulti_transfer_set_uri (transfer, uri, NULL));

      direct = gmulti_transfer_new (uri);
      assert_refused_before_sending (fixture, direct, c->code, c->message);
    }

  /* No URI at all. */
  {
    g_autoptr(GMultiTransfer) none = gmulti_transfer_new (NULL);

    assert_refused_before_sending (fixture, none, GMULTI_ERROR_INVALID_URI, "No URI");
  }
}

typedef struct {
  const char *name;
  guint low_speed_limit, low_speed_time;
  guint max_redirects;          /* G_MAXUINT: leave the default */
  const char *message;
} OptionCase;

static const OptionCase option_cases[] = {
  { "low-speed limit without time", 100, 0, G_MAXUINT - 1, "low-speed time" },
  { "low-speed limit of -1 without time", (guint) -1, 0, G_MAXUINT - 1, "low-speed time" },
  { "max-redirects above 1000", 0, 0, 1001, "At most 1000 redirects" },
  { "max-redirects of -1", 0, 0, (guint) -1, "At most 1000 redirects" },
};

static void
test_bad_input_options (BadInputFixture *fixture,
                        gconstpointer    data)
{
  for (guint i = 0; i < G_N_ELEMENTS (option_cases); i++)
    {
      const OptionCase *c = &option_cases[i];
      g_autoptr(GMultiTransfer) transfer = new_transfer (fixture->target, "/healthy");

      g_test_message ("case “%s”", c->name);
      gmulti_transfer_set_low_speed (transfer, c->low_speed_limit, c->low_speed_time);
      if (c->max_redirects != G_MAXUINT - 1)
        gmulti_transfer_set_max_redirects (transfer, c->max_redirects);
      assert_refused_before_sending (fixture, transfer, GMULTI_ERROR_INVALID_ARGUMENT,
                                     c->message);
    }

  /* A body length below -1 is refused by the setter, which changes nothing. */
  {
    g_autoptr(GMultiTransfer) transfer = new_transfer (fixture->target, "/healthy");
    g_autoptr(GBytes) body = g_bytes_new_static ("abc", 3);

    gmulti_transfer_set_request_body (transfer, body);
    g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*length >= -1*");
    gmulti_transfer_set_request_body_func (transfer, body_source_cb, -2, NULL, NULL);
    g_test_assert_expected_messages ();
    g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, 3);
  }
}

/* Engine calls with the wrong engine, a foreign object, twice, or NULL: each says so and
 * leaves everything as it was. */
static void
test_bad_input_engine_calls (BadInputFixture *fixture,
                             gconstpointer    data)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(EngineLoop) other = engine_loop_new ();
  GMultiEngine *engine = loop->engine;
  g_autoptr(GMultiTransfer) transfer = new_transfer (fixture->other, "/healthy");
  g_autoptr(GObject) not_a_transfer = g_object_new (G_TYPE_OBJECT, NULL);
  GMultiTransfer *foreign = (GMultiTransfer *) not_a_transfer;
  gint64 timeout = 0;
  guint running = 99, queued = 99;

  g_assert_cmpint (gmulti_engine_add (NULL, transfer), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_add (engine, NULL), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_add (engine, foreign), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_remove (NULL, transfer), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_remove (engine, NULL), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_remove (engine, foreign), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_remove (engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (engine), ==, 0);

  g_assert_cmpint (gmulti_engine_add (engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_add (engine, transfer), ==, GMULTI_ENGINE_ADDED_ALREADY);
  g_assert_cmpint (gmulti_engine_add (other->engine, transfer), ==, GMULTI_ENGINE_BAD_TRANSFER);
  g_assert_cmpint (gmulti_engine_remove (other->engine, transfer), ==,
                   GMULTI_ENGINE_BAD_TRANSFER);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (engine), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_running (engine), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (other->engine), ==, 0);
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_PENDING);

  /* Calls without an engine or with sockets it never announced. */
  g_assert_cmpint (gmulti_engine_socket_action (NULL, 0, GMULTI_EVENT_IN, &running), ==,
                   GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_socket_all (NULL, &running), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_perform (NULL, &running), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_poll (NULL, 0, NULL), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_wakeup (NULL), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_timeout (NULL, &timeout), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_timeout (engine, NULL), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_assign (NULL, 0, NULL), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_assign (engine, -3, NULL), ==, GMULTI_ENGINE_UNKNOWN_SOCKET);
  g_assert_cmpint (gmulti_engine_assign (engine, 1 << 20, NULL), ==,
                   GMULTI_ENGINE_UNKNOWN_SOCKET);
  g_assert_null (gmulti_engine_info_read (NULL, &queued));
  g_assert_cmpuint (queued, ==, 0);

  /* Unknown descriptors are ignored, whatever the events say; the turn still runs. */
  g_assert_cmpint (gmulti_engine_socket_action (engine, -7, GMULTI_EVENT_IN, &running), ==,
                   GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_socket_action (engine, 1 << 20, 0xff, &running), ==,
                   GMULTI_ENGINE_OK);
  g_assert_cmpuint (running, ==, 1);

  /* The getters want an engine, and say so. */
  g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  g_assert_cmpuint (gmulti_engine_get_n_running (NULL), ==, 0);
  g_test_assert_expected_messages ();
  g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  gmulti_engine_set_max_connections (NULL, 3);
  g_test_assert_expected_messages ();
  g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  g_assert_null (gmulti_engine_ref (NULL));
  g_test_assert_expected_messages ();

  /* After all that, the transfer runs as if nothing happened. */
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  assert_healthy (transfer);
  g_assert_cmpuint (loop->messages->len, ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (fixture->other), ==, 1);

  /* Completed but still added: adding again is refused, and no second message comes. */
  g_assert_cmpint (gmulti_engine_add (engine, transfer), ==, GMULTI_ENGINE_ADDED_ALREADY);
  engine_loop_iterate (loop, 10);
  g_assert_null (gmulti_engine_info_read (engine, NULL));
  g_assert_cmpuint (loop->messages->len, ==, 1);
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_DONE);
  assert_healthy (transfer);

  g_assert_cmpint (gmulti_engine_remove (engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_remove (engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (engine), ==, 0);

  /* Removed, it belongs to no engine: the other one takes it. */
  g_assert_cmpint (gmulti_engine_add (other->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_remove (engine, transfer), ==, GMULTI_ENGINE_BAD_TRANSFER);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (other->engine), ==, 1);
  g_assert_true (engine_loop_run (other, WAIT_MS));
  assert_healthy (transfer);
  g_assert_cmpuint (test_server_get_n_requests (fixture->other), ==, 2);

  /* An engine freed with the transfer still in it lets go of it. */
  {
    EngineLoop *doomed = engine_loop_new ();
    g_autoptr(GMultiTransfer) orphan = new_transfer (fixture->other, "/healthy");

    g_assert_cmpint (gmulti_engine_add (doomed->engine, orphan), ==, GMULTI_ENGINE_OK);
    engine_loop_iterate (doomed, 10);
    engine_loop_free (doomed);
    g_assert_cmpint (gmulti_engine_add (engine, orphan), ==, GMULTI_ENGINE_OK);
    g_assert_true (engine_loop_run (loop, WAIT_MS));
    assert_healthy (orphan);
  }
  assert_engine_quiet (loop);
  assert_engine_quiet (other);
}

/* -------------------------------------------------------------------- main */

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  healthy_body = pattern_bytes (HEALTHY_SIZE, 3);

  g_test_add_func ("/GMulti/Faults/truncated", test_faults_truncated);
  g_test_add_func ("/GMulti/Faults/framing", test_faults_framing);
  g_test_add_func ("/GMulti/Faults/transfer-codings", test_faults_transfer_codings);
  g_test_add_func ("/GMulti/Faults/malformed-head", test_faults_malformed);
  g_test_add_func ("/GMulti/Faults/limits", test_faults_limits);
  g_test_add_func ("/GMulti/Faults/stall", test_faults_stall);
  g_test_add_func ("/GMulti/Faults/early-answer", test_faults_early_answer);
  g_test_add_func ("/GMulti/Faults/no-body-extra-bytes", test_faults_no_body);
  g_test_add_func ("/GMulti/Faults/stale-connection", test_faults_stale);
  g_test_add_func ("/GMulti/Faults/stale-connection-total-limit",
                   test_faults_stale_total_limit);
  g_test_add_func ("/GMulti/Faults/redirect", test_faults_redirect);
  g_test_add_func ("/GMulti/Faults/network", test_faults_network);
  g_test_add ("/GMulti/BadInput/request-chars", BadInputFixture, NULL,
              bad_input_setup, test_bad_input_chars, bad_input_teardown);
  g_test_add ("/GMulti/BadInput/uris", BadInputFixture, NULL,
              bad_input_setup, test_bad_input_uris, bad_input_teardown);
  g_test_add ("/GMulti/BadInput/options", BadInputFixture, NULL,
              bad_input_setup, test_bad_input_options, bad_input_teardown);
  g_test_add ("/GMulti/BadInput/engine-calls", BadInputFixture, NULL,
              bad_input_setup, test_bad_input_engine_calls, bad_input_teardown);

  ret = g_test_run ();
  g_bytes_unref (healthy_body);
  return ret;
}
