/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Self-test of the scripted test server, driven by plain blocking sockets so
 * that it does not depend on the code the server exists to test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "test-server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CLIENT_TIMEOUT_S 5

/* ------------------------------------------------------------ test client */

typedef struct
{
  int fd;
  GByteArray *buf;              /* received, not yet consumed */
} Client;

static socklen_t
make_loopback (int                      family,
               guint16                  port,
               struct sockaddr_storage *addr)
{
  memset (addr, 0, sizeof *addr);
  if (family == AF_INET6)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) addr;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_loopback;
      sin6->sin6_port = htons (port);
      return sizeof *sin6;
    }
  else
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) addr;

      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      sin->sin_port = htons (port);
      return sizeof *sin;
    }
}

static Client *
client_connect (int     family,
                guint16 port)
{
  struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S };
  struct sockaddr_storage addr;
  socklen_t len = make_loopback (family, port, &addr);
  Client *client = g_new0 (Client, 1);

  client->fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (client->fd, >=, 0);
  /* Bounded: a broken server fails the test instead of hanging it. */
  setsockopt (client->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (client->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  g_assert_no_errno (connect (client->fd, (struct sockaddr *) &addr, len));
  client->buf = g_byte_array_new ();
  return client;
}

static void
client_free (Client *client)
{
  if (client->fd >= 0)
    close (client->fd);
  g_byte_array_unref (client->buf);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

static void
client_send (Client     *client,
             const char *data)
{
  gsize len = strlen (data);

  while (len > 0)
    {
      gssize n = send (client->fd, data, len, MSG_NOSIGNAL);

      g_assert_cmpint (n, >, 0);
      data += n;
      len -= (gsize) n;
    }
}

/* One recv() into client->buf: bytes read, 0 at EOF, -errno on error. */
static gssize
client_fill (Client *client)
{
  guint8 tmp[8192];
  gssize n = recv (client->fd, tmp, sizeof tmp, 0);

  if (n < 0)
    return -errno;
  g_byte_array_append (client->buf, tmp, (guint) n);
  return n;
}

static char *
client_take (Client *client,
             gsize   n)
{
  char *s = n > 0 ? g_strndup ((const char *) client->buf->data, n) : g_strdup ("");

  g_byte_array_remove_range (client->buf, 0, (guint) n);
  return s;
}

/* Reads one response with a Content-Length body; returns the head and
 * stores the body in *body. */
static char *
client_read_response (Client  *client,
                      char   **body)
{
  g_autofree char *head = NULL;
  const char *cl;
  char *end_num = NULL;
  guint64 length = 0;

  for (;;)
    {
      const guint8 *end = client->buf->len >= 4
        ? memmem (client->buf->data, client->buf->len, "\r\n\r\n", 4) : NULL;

      if (end != NULL)
        {
          head = client_take (client, (gsize) (end - client->buf->data) + 4);
          break;
        }
      g_assert_cmpint (client_fill (client), >, 0);
    }

  cl = strstr (head, "Content-Length: ");
  g_assert_nonnull (cl);
  length = g_ascii_strtoull (cl + 16, &end_num, 10);
  g_assert_true (end_num != cl + 16 && *end_num == '\r');
  while (client->buf->len < length)
    g_assert_cmpint (client_fill (client), >, 0);
  *body = client_take (client, (gsize) length);
  return g_steal_pointer (&head);
}

/* Everything until EOF; fails on a reset or timeout. */
static char *
client_read_to_eof (Client *client)
{
  gssize n;

  while ((n = client_fill (client)) > 0)
    ;
  g_assert_cmpint (n, ==, 0);
  return client_take (client, client->buf->len);
}

static gboolean
client_readable_within (Client *client,
                        int     ms)
{
  struct pollfd pfd = { .fd = client->fd, .events = POLLIN };

  return poll (&pfd, 1, ms) > 0;
}

/* --------------------------------------------------------------- handlers */

/* Replies with "<method> <target> <body length>[ chunked]" and keeps the
 * connection open unless the target says otherwise. */
static gboolean
echo_handler (TestServer  *server,
              TestConn    *conn,
              TestRequest *req,
              gpointer     user_data)
{
  g_autofree char *reply =
    g_strdup_printf ("%s %s %" G_GSIZE_FORMAT "%s", req->method, req->target,
                     g_bytes_get_size (req->body),
                     req->body_was_chunked ? " chunked" : "");

  test_conn_respond (conn, 200, "text/plain", reply, strlen (reply));
  return strcmp (req->target, "/close") != 0;
}

/* ------------------------------------------------------------------ tests */

static void
test_uri (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autofree char *expected = g_strdup_printf ("http://127.0.0.1:%u/a?b",
                                               test_server_get_port (server));
  g_autofree char *uri = test_server_uri (server, "/a?b");
  g_autofree char *uri_noslash = test_server_uri (server, "a?b");
  g_autofree char *expected6 = g_strdup_printf ("http://[::1]:%u/",
                                                test_server_get_port (server));
  g_autofree char *uri6 = test_server_uri6 (server, NULL);

  g_assert_cmpuint (test_server_get_port (server), >, 0);
  g_assert_cmpstr (uri, ==, expected);
  g_assert_cmpstr (uri_noslash, ==, expected);
  g_assert_cmpstr (uri6, ==, expected6);
  g_assert_true (test_server_has_ipv4 (server));
  g_assert_false (test_server_has_ipv6 (server));
}

static void
test_keep_alive (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  g_autoptr(TestRequest) last = NULL;
  g_autoptr(TestRequest) first = NULL;
  g_autofree char *head1 = NULL, *body1 = NULL, *head2 = NULL, *body2 = NULL;

  client_send (client, "GET /one?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  v1 \r\n\r\n");
  head1 = client_read_response (client, &body1);
  g_assert_true (g_str_has_prefix (head1, "HTTP/1.1 200 OK\r\n"));
  g_assert_cmpstr (body1, ==, "GET /one?x=1 0");

  client_send (client, "HEAD /two HTTP/1.1\r\nHost: a\r\n\r\n");
  head2 = client_read_response (client, &body2);
  g_assert_cmpstr (body2, ==, "HEAD /two 0");

  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 2);
  g_assert_cmpuint (test_server_get_n_open (server), ==, 1);

  first = test_server_get_request (server, 0);
  g_assert_nonnull (first);
  g_assert_cmpstr (first->method, ==, "GET");
  g_assert_cmpstr (first->target, ==, "/one?x=1");
  g_assert_cmpstr (first->version, ==, "HTTP/1.1");
  g_assert_cmpstr (test_request_get_header (first, "x-thing"), ==, "v1");
  g_assert_cmpstr (test_request_get_header (first, "HOST"), ==, "a");
  g_assert_null (test_request_get_header (first, "Missing"));
  g_assert_cmpuint (first->header_names->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (first->header_names, 1), ==, "X-Thing");
  g_assert_cmpstr (first->raw_head, ==,
                   "GET /one?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  v1 \r\n\r\n");
  g_assert_cmpuint (first->seq_on_conn, ==, 1);

  last = test_server_get_last_request (server);
  g_assert_cmpstr (last->method, ==, "HEAD");
  g_assert_cmpuint (last->conn_id, ==, 1);
  g_assert_cmpuint (last->seq_on_conn, ==, 2);
  g_assert_null (test_server_get_request (server, 2));
}

static void
test_close_on_false (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  g_autoptr(Client) client2 = NULL;
  g_autofree char *head = NULL, *body = NULL, *rest = NULL;
  g_autoptr(TestRequest) last = NULL;

  client_send (client, "GET /close HTTP/1.1\r\n\r\n");
  head = client_read_response (client, &body);
  g_assert_cmpstr (body, ==, "GET /close 0");
  rest = client_read_to_eof (client);
  g_assert_cmpstr (rest, ==, "");
  g_assert_true (test_server_wait_open (server, 0, 2000));

  client2 = client_connect (AF_INET, test_server_get_port (server));
  client_send (client2, "GET /x HTTP/1.1\r\n\r\n");
  g_assert_true (test_server_wait_requests (server, 2, 2000));
  last = test_server_get_last_request (server);
  g_assert_cmpuint (last->conn_id, ==, 2);
  g_assert_cmpuint (last->seq_on_conn, ==, 1);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
}

static void
test_pipelined (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  g_autofree char *h1 = NULL, *b1 = NULL, *h2 = NULL, *b2 = NULL;

  /* Leading empty lines before a request line are allowed. */
  client_send (client,
               "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
               "\r\nGET /b HTTP/1.1\r\n\r\n");
  h1 = client_read_response (client, &b1);
  h2 = client_read_response (client, &b2);
  g_assert_cmpstr (b1, ==, "POST /a 3");
  g_assert_cmpstr (b2, ==, "GET /b 0");
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 2);
}

static void
test_chunked_body (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *head = NULL, *body = NULL;

  client_send (client,
               "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n");
  client_send (client, "1;ext=1\r\n \r\nA\r\n0123456789\r\n");
  client_send (client, "0\r\nX-Sum: 42\r\n\r\n");
  head = client_read_response (client, &body);
  g_assert_cmpstr (body, ==, "POST /up 16 chunked");

  req = test_server_get_last_request (server);
  g_assert_true (req->body_was_chunked);
  g_assert_cmpmem (g_bytes_get_data (req->body, NULL), g_bytes_get_size (req->body),
                   "hello 0123456789", 16);
  g_assert_cmpstr (test_request_get_trailer (req, "x-sum"), ==, "42");
  g_assert_null (test_request_get_header (req, "X-Sum"));
}

static void
test_content_length_body (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *head = NULL, *body = NULL;

  client_send (client, "PUT /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello");
  client_send (client, " world");
  head = client_read_response (client, &body);
  g_assert_cmpstr (body, ==, "PUT /p 11");
  req = test_server_get_last_request (server);
  g_assert_false (req->body_was_chunked);
  g_assert_cmpmem (g_bytes_get_data (req->body, NULL), g_bytes_get_size (req->body),
                   "hello world", 11);
}

static void
test_expect_continue (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  const char *interim = "HTTP/1.1 100 Continue\r\n\r\n";
  g_autofree char *got = NULL, *head = NULL, *body = NULL;

  client_send (client, "POST /e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  while (client->buf->len < strlen (interim))
    g_assert_cmpint (client_fill (client), >, 0);
  got = client_take (client, strlen (interim));
  g_assert_cmpstr (got, ==, interim);
  g_assert_cmpuint (client->buf->len, ==, 0);

  client_send (client, "hello");
  head = client_read_response (client, &body);
  g_assert_cmpstr (body, ==, "POST /e 5");
}

static void
test_ignore_expect (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = NULL;
  g_autofree char *head = NULL, *body = NULL;

  test_server_set_ignore_expect (server, TRUE);
  client = client_connect (AF_INET, test_server_get_port (server));
  client_send (client, "POST /e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  g_assert_false (client_readable_within (client, 200));

  client_send (client, "hello");
  head = client_read_response (client, &body);
  g_assert_true (g_str_has_prefix (head, "HTTP/1.1 200 "));
  g_assert_cmpstr (body, ==, "POST /e 5");
}

static void
test_malformed (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  g_autofree char *rest = NULL;

  client_send (client, "GARBAGE\r\n\r\n");
  rest = client_read_to_eof (client);
  g_assert_cmpstr (rest, ==, "");
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 0);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_true (test_server_wait_open (server, 0, 2000));
}

/* Raw mode: a short body, then close, to script a truncated response. */
typedef struct
{
  gint got_request;             /* atomic */
  gint second_was_null;         /* atomic */
  gint64 second_wait_us;
} RawData;

static void
raw_truncating_handler (TestServer *server,
                        TestConn   *conn,
                        gpointer    user_data)
{
  RawData *data = user_data;
  g_autoptr(TestRequest) req = test_conn_read_request (conn, 2000);
  TestRequest *second;
  gint64 start;

  if (req == NULL || strcmp (req->target, "/raw") != 0 || req->seq_on_conn != 1)
    return;
  g_atomic_int_set (&data->got_request, 1);
  test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");

  start = g_get_monotonic_time ();
  second = test_conn_read_request (conn, 150);
  data->second_wait_us = g_get_monotonic_time () - start;
  g_atomic_int_set (&data->second_was_null, second == NULL);
  test_request_free (second);
  test_conn_close (conn);
  test_conn_write_str (conn, "after close");
}

static void
test_raw (void)
{
  RawData data = { 0 };
  g_autoptr(TestServer) server = test_server_new_raw (TEST_SERVER_IPV4,
                                                      raw_truncating_handler, &data);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  g_autofree char *all = NULL;

  client_send (client, "GET /raw HTTP/1.1\r\nHost: h\r\n\r\n");
  all = client_read_to_eof (client);
  g_assert_cmpstr (all, ==, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  g_assert_true (test_server_wait_open (server, 0, 2000));
  g_assert_true (g_atomic_int_get (&data.got_request));
  g_assert_true (g_atomic_int_get (&data.second_was_null));
  g_assert_cmpint (data.second_wait_us, >=, 140 * 1000);
  g_assert_cmpint (data.second_wait_us, <, 2000 * 1000);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
}

/* Raw mode, byte level: the head alone, then what the client sends next. */
typedef struct
{
  GMutex lock;
  char *method;
  char *extra;
} RawHeadData;

static void
raw_head_handler (TestServer *server,
                  TestConn   *conn,
                  gpointer    user_data)
{
  RawHeadData *data = user_data;
  g_autoptr(TestRequest) req = test_conn_read_request_head (conn, 2000);
  g_autoptr(GBytes) extra = NULL;

  if (req == NULL)
    return;
  g_assert_null (req->body);
  test_conn_respond (conn, 417, NULL, NULL, 0);
  extra = test_conn_read_some (conn, 2000);

  g_mutex_lock (&data->lock);
  data->method = g_strdup (req->method);
  if (extra != NULL)
    data->extra = g_strndup (g_bytes_get_data (extra, NULL), g_bytes_get_size (extra));
  g_mutex_unlock (&data->lock);
}

static void
test_raw_head_only (void)
{
  RawHeadData data = { 0 };
  g_autoptr(TestServer) server = NULL;
  g_autoptr(Client) client = NULL;
  g_autofree char *head = NULL, *body = NULL, *rest = NULL;

  g_mutex_init (&data.lock);
  server = test_server_new_raw (TEST_SERVER_IPV4, raw_head_handler, &data);
  client = client_connect (AF_INET, test_server_get_port (server));
  client_send (client, "PUT /x HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  head = client_read_response (client, &body);
  g_assert_true (g_str_has_prefix (head, "HTTP/1.1 417 Expectation Failed\r\n"));
  client_send (client, "body");
  rest = client_read_to_eof (client);
  g_assert_cmpstr (rest, ==, "");
  g_clear_pointer (&server, test_server_free);

  g_assert_cmpstr (data.method, ==, "PUT");
  g_assert_cmpstr (data.extra, ==, "body");
  g_free (data.method);
  g_free (data.extra);
  g_mutex_clear (&data.lock);
}

static gboolean
reset_handler (TestServer  *server,
               TestConn    *conn,
               TestRequest *req,
               gpointer     user_data)
{
  test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
  /* Let the bytes arrive before the RST overtakes nothing. */
  test_conn_sleep (conn, 50);
  test_conn_reset (conn);
  g_assert_false (test_conn_is_open (conn));
  return TRUE;
}

static void
test_reset (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, reset_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  gssize n;

  client_send (client, "GET / HTTP/1.1\r\n\r\n");
  g_assert_true (test_server_wait_open (server, 0, 2000));
  do
    n = client_fill (client);
  while (n > 0);
  g_assert_cmpint (n, ==, -ECONNRESET);
}

static const char trickled[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static gboolean
trickle_handler (TestServer  *server,
                 TestConn    *conn,
                 TestRequest *req,
                 gpointer     user_data)
{
  test_conn_trickle (conn, trickled, strlen (trickled), 10);
  return FALSE;
}

static void
test_trickle (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, trickle_handler, NULL);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  guint reads = 0;
  gint64 start, elapsed;
  gssize n;

  client_send (client, "GET / HTTP/1.1\r\n\r\n");
  start = g_get_monotonic_time ();
  while ((n = client_fill (client)) > 0)
    reads++;
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (n, ==, 0);
  g_assert_cmpmem (client->buf->data, client->buf->len, trickled, strlen (trickled));
  /* 42 gaps of 10 ms; allow for coarse timers but not for one burst. */
  g_assert_cmpint (elapsed, >=, 300 * 1000);
  g_assert_cmpuint (reads, >, strlen (trickled) / 2);
}

static void
test_wait_open (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  guint16 port = test_server_get_port (server);
  Client *c1 = client_connect (AF_INET, port);
  Client *c2 = client_connect (AF_INET, port);
  Client *c3 = client_connect (AF_INET, port);

  g_assert_true (test_server_wait_open (server, 3, 2000));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 3);
  g_assert_false (test_server_wait_open (server, 4, 100));

  client_free (c1);
  client_free (c2);
  g_assert_true (test_server_wait_open (server, 1, 2000));
  g_assert_cmpuint (test_server_get_n_open (server), ==, 1);
  client_free (c3);
  g_assert_true (test_server_wait_open (server, 0, 2000));
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 0);
}

typedef struct
{
  guint wait_ms;
  gint result;                  /* atomic: -1 unset, else the boolean */
} CloseWaitData;

static gboolean
client_close_handler (TestServer  *server,
                      TestConn    *conn,
                      TestRequest *req,
                      gpointer     user_data)
{
  CloseWaitData *data = user_data;

  test_conn_respond (conn, 200, NULL, "ok", 2);
  g_atomic_int_set (&data->result, test_conn_wait_client_close (conn, data->wait_ms));
  return FALSE;
}

static void
test_wait_client_close (void)
{
  CloseWaitData data = { .wait_ms = 3000, .result = -1 };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, client_close_handler, &data);
  Client *client = client_connect (AF_INET, test_server_get_port (server));
  g_autofree char *head = NULL, *body = NULL;

  client_send (client, "GET / HTTP/1.1\r\n\r\n");
  head = client_read_response (client, &body);
  g_assert_cmpstr (body, ==, "ok");
  client_free (client);
  g_assert_true (test_server_wait_open (server, 0, 4000));
  g_assert_cmpint (g_atomic_int_get (&data.result), ==, TRUE);
}

static void
test_wait_client_close_timeout (void)
{
  CloseWaitData data = { .wait_ms = 200, .result = -1 };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, client_close_handler, &data);
  g_autoptr(Client) client = client_connect (AF_INET, test_server_get_port (server));
  g_autofree char *head = NULL, *body = NULL, *rest = NULL;

  client_send (client, "GET / HTTP/1.1\r\n\r\n");
  head = client_read_response (client, &body);
  /* The client stays; the server gives up waiting and closes. */
  rest = client_read_to_eof (client);
  g_assert_cmpstr (rest, ==, "");
  g_assert_true (test_server_wait_open (server, 0, 2000));
  g_assert_cmpint (g_atomic_int_get (&data.result), ==, FALSE);
}

static gint big_write_result = -1;

static gboolean
big_write_handler (TestServer  *server,
                   TestConn    *conn,
                   TestRequest *req,
                   gpointer     user_data)
{
  gsize len = 32 * 1024 * 1024;
  g_autofree guint8 *junk = g_malloc0 (len);
  gboolean ok = test_conn_write (conn, junk, len);

  /* Handlers often ignore a failed write and keep going: once the socket
   * is dead, sending again would raise SIGPIPE unless suppressed. */
  ok = test_conn_write_str (conn, "more") || ok;
  ok = test_conn_printf (conn, "%d", 1) || ok;
  g_atomic_int_set (&big_write_result, ok);
  return TRUE;
}

/* The client vanishing mid-response must end the write, not the process
 * (SIGPIPE). */
static void
test_client_gone_mid_write (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, big_write_handler, NULL);
  Client *client = client_connect (AF_INET, test_server_get_port (server));

  g_atomic_int_set (&big_write_result, -1);
  client_send (client, "GET / HTTP/1.1\r\n\r\n");
  g_assert_cmpint (client_fill (client), >, 0);
  client_free (client);
  g_assert_true (test_server_wait_open (server, 0, 5000));
  g_assert_cmpint (g_atomic_int_get (&big_write_result), ==, FALSE);
}

static gboolean
sleepy_handler (TestServer  *server,
                TestConn    *conn,
                TestRequest *req,
                gpointer     user_data)
{
  test_conn_sleep (conn, 60 * 1000);
  return TRUE;
}

static void
test_free_is_bounded (void)
{
  TestServer *server = test_server_new (TEST_SERVER_IPV4, sleepy_handler, NULL);
  guint16 port = test_server_get_port (server);
  g_autoptr(Client) busy = client_connect (AF_INET, port);
  g_autoptr(Client) idle = client_connect (AF_INET, port);
  g_autofree char *rest = NULL;
  gint64 start;

  client_send (busy, "GET / HTTP/1.1\r\n\r\n");
  g_assert_true (test_server_wait_requests (server, 1, 2000));
  g_assert_true (test_server_wait_open (server, 2, 2000));

  start = g_get_monotonic_time ();
  test_server_free (server);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1000 * 1000);
  rest = client_read_to_eof (busy);
  g_assert_cmpstr (rest, ==, "");
  g_clear_pointer (&rest, g_free);
  rest = client_read_to_eof (idle);
  g_assert_cmpstr (rest, ==, "");
}

static void
test_io_timeout (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(Client) client = NULL;
  g_autofree char *rest = NULL;
  gint64 start;

  test_server_set_io_timeout (server, 200);
  client = client_connect (AF_INET, test_server_get_port (server));
  start = g_get_monotonic_time ();
  /* An incomplete head: the server must give up and close. */
  client_send (client, "GET / HTTP/1.1\r\n");
  rest = client_read_to_eof (client);
  g_assert_cmpstr (rest, ==, "");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 150 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3000 * 1000);
}

static gboolean
family_handler (TestServer  *server,
                TestConn    *conn,
                TestRequest *req,
                gpointer     user_data)
{
  const char *fam = test_conn_get_family (conn) == AF_INET6 ? "6" : "4";

  test_conn_respond (conn, 200, NULL, fam, 1);
  return TRUE;
}

static void
test_ipv6 (void)
{
  g_autoptr(TestServer) server = NULL;
  g_autoptr(Client) c4 = NULL;
  g_autoptr(Client) c6 = NULL;
  g_autofree char *h4 = NULL, *b4 = NULL, *h6 = NULL, *b6 = NULL;

  if (!test_ipv6_loopback_available ())
    {
      g_test_skip ("no ::1 on this machine");
      return;
    }
  server = test_server_new (TEST_SERVER_IPV4 | TEST_SERVER_IPV6, family_handler, NULL);
  g_assert_true (test_server_has_ipv4 (server));
  g_assert_true (test_server_has_ipv6 (server));

  c4 = client_connect (AF_INET, test_server_get_port (server));
  c6 = client_connect (AF_INET6, test_server_get_port (server));
  client_send (c4, "GET / HTTP/1.1\r\n\r\n");
  client_send (c6, "GET / HTTP/1.1\r\n\r\n");
  h4 = client_read_response (c4, &b4);
  h6 = client_read_response (c6, &b6);
  g_assert_cmpstr (b4, ==, "4");
  g_assert_cmpstr (b6, ==, "6");
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
}

static void
test_ipv6_only (void)
{
  g_autoptr(TestServer) server = NULL;

  if (!test_ipv6_loopback_available ())
    {
      g_test_skip ("no ::1 on this machine");
      return;
    }
  server = test_server_new (TEST_SERVER_IPV6, family_handler, NULL);
  g_assert_false (test_server_has_ipv4 (server));
  g_assert_true (test_server_has_ipv6 (server));
}

/* A non-blocking connect to the black hole must still be pending later. */
static void
check_blackhole (int family)
{
  struct sockaddr_storage addr;
  guint16 port = 0;
  int lfd = test_blackhole_listener (family, &port);
  socklen_t len;
  int fd, r;
  struct pollfd pfd;

  g_assert_cmpint (lfd, >=, 0);
  g_assert_cmpuint (port, >, 0);
  len = make_loopback (family, port, &addr);

  for (int round = 0; round < 2; round++)
    {
      fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      g_assert_cmpint (fd, >=, 0);
      r = connect (fd, (struct sockaddr *) &addr, len);
      g_assert_cmpint (r, ==, -1);
      g_assert_cmpint (errno, ==, EINPROGRESS);

      pfd = (struct pollfd) { .fd = fd, .events = POLLOUT };
      g_assert_cmpint (poll (&pfd, 1, 300), ==, 0);
      close (fd);
    }
  close (lfd);
}

static void
test_blackhole_ipv4 (void)
{
  check_blackhole (AF_INET);
}

static void
test_blackhole_ipv6 (void)
{
  if (!test_ipv6_loopback_available ())
    {
      g_test_skip ("no ::1 on this machine");
      return;
    }
  check_blackhole (AF_INET6);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/TestServer/uri", test_uri);
  g_test_add_func ("/GMulti/TestServer/keep-alive", test_keep_alive);
  g_test_add_func ("/GMulti/TestServer/close-on-false", test_close_on_false);
  g_test_add_func ("/GMulti/TestServer/pipelined", test_pipelined);
  g_test_add_func ("/GMulti/TestServer/chunked-body", test_chunked_body);
  g_test_add_func ("/GMulti/TestServer/content-length-body", test_content_length_body);
  g_test_add_func ("/GMulti/TestServer/expect-continue", test_expect_continue);
  g_test_add_func ("/GMulti/TestServer/ignore-expect", test_ignore_expect);
  g_test_add_func ("/GMulti/TestServer/malformed", test_malformed);
  g_test_add_func ("/GMulti/TestServer/raw", test_raw);
  g_test_add_func ("/GMulti/TestServer/raw-head-only", test_raw_head_only);
  g_test_add_func ("/GMulti/TestServer/reset", test_reset);
  g_test_add_func ("/GMulti/TestServer/trickle", test_trickle);
  g_test_add_func ("/GMulti/TestServer/wait-open", test_wait_open);
  g_test_add_func ("/GMulti/TestServer/wait-client-close", test_wait_client_close);
  g_test_add_func ("/GMulti/TestServer/wait-client-close-timeout",
                   test_wait_client_close_timeout);
  g_test_add_func ("/GMulti/TestServer/client-gone-mid-write", test_client_gone_mid_write);
  g_test_add_func ("/GMulti/TestServer/free-is-bounded", test_free_is_bounded);
  g_test_add_func ("/GMulti/TestServer/io-timeout", test_io_timeout);
  g_test_add_func ("/GMulti/TestServer/ipv6", test_ipv6);
  g_test_add_func ("/GMulti/TestServer/ipv6-only", test_ipv6_only);
  g_test_add_func ("/GMulti/TestServer/blackhole-ipv4", test_blackhole_ipv4);
  g_test_add_func ("/GMulti/TestServer/blackhole-ipv6", test_blackhole_ipv6);

  return g_test_run ();
}
