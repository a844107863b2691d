/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scripted loopback HTTP/1.1 server for tests: see test-server.h.
 *
 * Sockets are non-blocking and every wait is a poll() on the socket plus a
 * wake-up pipe that becomes readable, and stays readable, once the server is
 * stopping; so no thread can outlive test_server_free() by more than a poll.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "test-server.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_HEAD_BYTES   (256 * 1024)
#define MAX_LINE_BYTES   (16 * 1024)
#define MAX_BODY_BYTES   (256 * 1024 * 1024)
#define MAX_DRAIN_BYTES  (1024 * 1024)
#define DEFAULT_IO_TIMEOUT_MS 10000
#define LISTEN_TRIES     32
#define BYE_TIMEOUT_MS   1000

/* Server-wide TLS state, read-only once the server runs. */
typedef struct
{
  gnutls_certificate_credentials_t credentials;
  gnutls_priority_t priority;
  gnutls_datum_t ticket_key;
  gboolean require_client_cert;
  gboolean one_byte_records;
} ServerTls;

struct _TestServer
{
  TestHandler handler;
  TestRawHandler raw_handler;
  gpointer user_data;

  int listen_fd[2];             /* [0] 127.0.0.1 (or the Unix socket), [1] ::1; -1 if
                                   unused */
  guint16 port;
  const char *unix_path;        /* while listening: a Unix socket instead ('@': abstract) */
  int wake_pipe[2];
  gint stopping;                /* atomic */
  gint ignore_expect;           /* atomic */
  gint io_timeout_ms;           /* atomic */
  GThread *accept_thread;
  ServerTls *tls;               /* NULL: plain TCP */

  GMutex lock;                  /* guards everything below and every conn->fd change */
  GCond cond;
  GPtrArray *conns;             /* (element-type TestConn) owned */
  GPtrArray *requests;          /* (element-type TestRequest) copies, in arrival order */
  guint n_accepted;
  guint n_open;
  guint n_tls_handshakes;
  guint n_tls_resumed;
  guint n_tls_failed;
  guint n_close_notify;
  char *last_sni;
};

struct _TestConn
{
  TestServer *server;
  GThread *thread;
  int fd;                       /* changed only by the owning thread, under server->lock */
  int family;
  guint id;
  guint n_requests;
  guint last_stored;            /* index in server->requests of this conn's last request */
  gboolean finished;            /* under server->lock */
  GByteArray *inbuf;            /* received but not yet consumed */
  gnutls_session_t tls;         /* NULL for plain TCP, or before the handshake */
  gboolean tls_eof;             /* the client's close_notify or TCP EOF was read */
};

/* ---------------------------------------------------------------- requests */

static void
free_str_array (GPtrArray *array)
{
  if (array != NULL)
    g_ptr_array_unref (array);
}

static TestRequest *
request_new (void)
{
  TestRequest *req = g_new0 (TestRequest, 1);

  req->header_names = g_ptr_array_new_with_free_func (g_free);
  req->header_values = g_ptr_array_new_with_free_func (g_free);
  req->trailer_names = g_ptr_array_new_with_free_func (g_free);
  req->trailer_values = g_ptr_array_new_with_free_func (g_free);
  return req;
}

void
test_request_free (TestRequest *req)
{
  if (req == NULL)
    return;
  g_free (req->method);
  g_free (req->target);
  g_free (req->version);
  free_str_array (req->header_names);
  free_str_array (req->header_values);
  free_str_array (req->trailer_names);
  free_str_array (req->trailer_values);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_free (req->raw_head);
  g_free (req);
}

static void
copy_str_array (GPtrArray *dst,
                GPtrArray *src)
{
  for (guint i = 0; i < src->len; i++)
    g_ptr_array_add (dst, g_strdup (g_ptr_array_index (src, i)));
}

TestRequest *
test_request_copy (TestRequest *req)
{
  TestRequest *copy;

  g_return_val_if_fail (req != NULL, NULL);

  copy = request_new ();
  copy->method = g_strdup (req->method);
  copy->target = g_strdup (req->target);
  copy->version = g_strdup (req->version);
  copy_str_array (copy->header_names, req->header_names);
  copy_str_array (copy->header_values, req->header_values);
  copy_str_array (copy->trailer_names, req->trailer_names);
  copy_str_array (copy->trailer_values, req->trailer_values);
  copy->body = req->body != NULL ? g_bytes_ref (req->body) : NULL;
  copy->conn_id = req->conn_id;
  copy->seq_on_conn = req->seq_on_conn;
  copy->body_was_chunked = req->body_was_chunked;
  copy->raw_head = g_strdup (req->raw_head);
  return copy;
}

static const char *
lookup_field (GPtrArray  *names,
              GPtrArray  *values,
              const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (names, i), name) == 0)
      return g_ptr_array_index (values, i);
  return NULL;
}

const char *
test_request_get_header (TestRequest *req,
                         const char  *name)
{
  g_return_val_if_fail (req != NULL && name != NULL, NULL);
  return lookup_field (req->header_names, req->header_values, name);
}

const char *
test_request_get_trailer (TestRequest *req,
                          const char  *name)
{
  g_return_val_if_fail (req != NULL && name != NULL, NULL);
  return lookup_field (req->trailer_names, req->trailer_values, name);
}

/* ------------------------------------------------------------- low-level I/O */

static gboolean
server_stopping (TestServer *server)
{
  return g_atomic_int_get (&server->stopping) != 0;
}

static gint64
deadline_after (guint ms)
{
  return g_get_monotonic_time () + (gint64) ms * 1000;
}

static int
ms_until (gint64 deadline)
{
  gint64 left = deadline - g_get_monotonic_time ();

  if (left <= 0)
    return 0;
  /* Round up so a poll never wakes a hair before the deadline and spins. */
  return (int) MIN ((left + 999) / 1000, G_MAXINT);
}

/* Waits for @events on @fd (or only for the stop signal if @fd < 0).
 * Returns 1 when ready, 0 on timeout, -1 when the server is stopping. */
static int
wait_fd (TestServer *server,
         int         fd,
         short       events,
         gint64      deadline)
{
  for (;;)
    {
      struct pollfd pfd[2] = {
        { .fd = server->wake_pipe[0], .events = POLLIN },
        { .fd = fd, .events = events },
      };
      int timeout = ms_until (deadline);
      int r;

      if (server_stopping (server))
        return -1;

      r = poll (pfd, fd >= 0 ? 2 : 1, timeout);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      if (pfd[0].revents != 0)
        return -1;
      if (fd >= 0 && pfd[1].revents != 0)
        return 1;
      if (timeout == 0)
        return 0;
    }
}

/* Waits until the socket allows what the interrupted GnuTLS call needs. */
static int
tls_wait (TestConn *conn,
          gint64    deadline)
{
  short events = gnutls_record_get_direction (conn->tls) == 1 ? POLLOUT : POLLIN;

  return wait_fd (conn->server, conn->fd, events, deadline);
}

static void
count_close_notify (TestConn *conn)
{
  TestServer *server = conn->server;

  g_mutex_lock (&server->lock);
  server->n_close_notify++;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
}

/* One gnutls_record_recv() that waits as needed: > 0 bytes, 0 at the end of the
 * stream (close_notify counted), -1 on a TLS or socket error, -2 on timeout/stop. */
static gssize
tls_recv (TestConn *conn,
          guint8   *buffer,
          gsize     size,
          gint64    deadline)
{
  for (;;)
    {
      ssize_t n;

      if (conn->fd < 0)
        return -1;
      if (conn->tls_eof)
        return 0;
      n = gnutls_record_recv (conn->tls, buffer, size);
      if (n > 0)
        return n;
      if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
        {
          conn->tls_eof = TRUE;
          if (n == 0)
            count_close_notify (conn);
          return 0;
        }
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        {
          if (tls_wait (conn, deadline) <= 0)
            return -2;
          continue;
        }
      if (!gnutls_error_is_fatal ((int) n))
        continue;
      return -1;
    }
}

/* Appends whatever arrives to conn->inbuf.
 * Returns the number of bytes added, 0 at EOF, -1 on error/timeout/stop. */
static gssize
conn_fill (TestConn *conn,
           gint64    deadline)
{
  guint8 tmp[16384];

  if (conn->tls != NULL)
    {
      gssize n = tls_recv (conn, tmp, sizeof tmp, deadline);

      if (n > 0)
        g_byte_array_append (conn->inbuf, tmp, (guint) n);
      return MAX (n, -1);
    }

  for (;;)
    {
      gssize n;

      if (conn->fd < 0)
        return -1;
      n = recv (conn->fd, tmp, sizeof tmp, MSG_DONTWAIT);
      if (n > 0)
        {
          g_byte_array_append (conn->inbuf, tmp, (guint) n);
          return n;
        }
      if (n == 0)
        return 0;
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -1;
      if (wait_fd (conn->server, conn->fd, POLLIN, deadline) <= 0)
        return -1;
    }
}

/* GnuTLS wants an interrupted record_send repeated with the same arguments, which
 * the loop does by only moving on after progress. */
static gboolean
tls_send_all (TestConn     *conn,
              const guint8 *p,
              gsize         len)
{
  guint timeout = (guint) g_atomic_int_get (&conn->server->io_timeout_ms);
  gint64 deadline = deadline_after (timeout);
  gboolean one_byte = conn->server->tls->one_byte_records;

  while (len > 0)
    {
      ssize_t n;

      if (conn->fd < 0)
        return FALSE;
      n = gnutls_record_send (conn->tls, p, one_byte ? 1 : len);
      if (n > 0)
        {
          p += n;
          len -= (gsize) n;
          deadline = deadline_after (timeout);
          continue;
        }
      if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
        return FALSE;
      if (tls_wait (conn, deadline) <= 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
conn_send_all (TestConn   *conn,
               const void *data,
               gsize       len)
{
  const guint8 *p = data;
  guint timeout = (guint) g_atomic_int_get (&conn->server->io_timeout_ms);
  gint64 deadline = deadline_after (timeout);

  if (conn->tls != NULL)
    return tls_send_all (conn, p, len);

  while (len > 0)
    {
      gssize n;

      if (conn->fd < 0)
        return FALSE;
      n = send (conn->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        {
          p += n;
          len -= (gsize) n;
          deadline = deadline_after (timeout);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return FALSE;
      if (wait_fd (conn->server, conn->fd, POLLOUT, deadline) <= 0)
        return FALSE;
    }
  return TRUE;
}

/* Gives up the fd. An orderly close first drains what is already queued,
 * because closing with unread input makes the kernel send RST, which can
 * destroy a response the client has not read yet. Over TLS an orderly close sends
 * close_notify first, unless @notify is FALSE. */
static void
conn_close_fd (TestConn *conn,
               gboolean  reset,
               gboolean  notify)
{
  TestServer *server = conn->server;
  int fd = conn->fd;

  if (fd < 0)
    return;

  if (!reset && notify && conn->tls != NULL)
    {
      gint64 deadline = deadline_after (BYE_TIMEOUT_MS);
      int ret;

      while ((ret = gnutls_bye (conn->tls, GNUTLS_SHUT_WR)) == GNUTLS_E_AGAIN ||
             ret == GNUTLS_E_INTERRUPTED)
        if (tls_wait (conn, deadline) <= 0)
          break;
    }

  if (reset)
    {
      struct linger lg = { .l_onoff = 1, .l_linger = 0 };

      setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
  else
    {
      guint8 tmp[4096];
      gsize drained = 0;
      gssize n;

      while (drained < MAX_DRAIN_BYTES &&
             (n = recv (fd, tmp, sizeof tmp, MSG_DONTWAIT)) > 0)
        drained += (gsize) n;
      shutdown (fd, SHUT_WR);
    }

  g_mutex_lock (&server->lock);
  conn->fd = -1;
  server->n_open--;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);

  close (fd);
}

/* ------------------------------------------------------------------ parsing */

/* Offset just past the blank line ending the head, or 0 if not there yet. */
static gsize
find_head_end (const guint8 *data,
               gsize         len)
{
  gsize line_start = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] != '\n')
        continue;
      if (i == line_start || (i == line_start + 1 && data[line_start] == '\r'))
        return i + 1;
      line_start = i + 1;
    }
  return 0;
}

static void
consume (TestConn *conn,
         gsize     n)
{
  g_byte_array_remove_range (conn->inbuf, 0, (guint) n);
}

static gboolean
is_token (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if ((guchar) *s <= ' ' || *s == ':' || (guchar) *s >= 0x7f)
      return FALSE;
  return TRUE;
}

/* Parses "name: value" into the arrays; folded lines (obs-fold) extend the
 * previous value. */
static gboolean
parse_field_line (const char *line,
                  GPtrArray  *names,
                  GPtrArray  *values)
{
  const char *colon;
  char *name, *value;

  if (line[0] == ' ' || line[0] == '\t')
    {
      char *prev, *extra;

      if (values->len == 0)
        return FALSE;
      prev = g_ptr_array_index (values, values->len - 1);
      extra = g_strstrip (g_strdup (line));
      values->pdata[values->len - 1] = g_strconcat (prev, " ", extra, NULL);
      g_free (prev);
      g_free (extra);
      return TRUE;
    }

  colon = strchr (line, ':');
  if (colon == NULL)
    return FALSE;
  name = g_strndup (line, (gsize) (colon - line));
  if (!is_token (name))
    {
      g_free (name);
      return FALSE;
    }
  value = g_strstrip (g_strdup (colon + 1));
  g_ptr_array_add (names, name);
  g_ptr_array_add (values, value);
  return TRUE;
}

static gboolean
parse_head (TestRequest *req,
            const char  *head)
{
  g_auto(GStrv) lines = g_strsplit (head, "\n", -1);
  const char *first_sp, *last_sp;
  char *line;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize l = strlen (lines[i]);

      if (l > 0 && lines[i][l - 1] == '\r')
        lines[i][l - 1] = '\0';
    }

  line = lines[0];
  first_sp = strchr (line, ' ');
  last_sp = strrchr (line, ' ');
  if (first_sp == NULL || first_sp == last_sp || first_sp == line)
    return FALSE;
  req->method = g_strndup (line, (gsize) (first_sp - line));
  req->target = g_strndup (first_sp + 1, (gsize) (last_sp - first_sp - 1));
  req->version = g_strdup (last_sp + 1);
  if (!g_str_has_prefix (req->version, "HTTP/") || req->target[0] == '\0' ||
      !is_token (req->method))
    return FALSE;

  for (guint i = 1; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0')
        break;
      if (!parse_field_line (lines[i], req->header_names, req->header_values))
        return FALSE;
    }
  return TRUE;
}

/* Reads one line (without its CR LF) into a new string. */
static char *
conn_read_line (TestConn *conn,
                gint64    deadline)
{
  for (;;)
    {
      guint8 *nl = conn->inbuf->len > 0
        ? memchr (conn->inbuf->data, '\n', conn->inbuf->len) : NULL;

      if (nl != NULL)
        {
          gsize n = (gsize) (nl - conn->inbuf->data);
          char *line = g_strndup ((const char *) conn->inbuf->data, n);

          if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
          consume (conn, n + 1);
          return line;
        }
      if (conn->inbuf->len > MAX_LINE_BYTES || conn_fill (conn, deadline) <= 0)
        return NULL;
    }
}

static gboolean
conn_read_exact (TestConn   *conn,
                 gsize       n,
                 GByteArray *out,
                 gint64      deadline)
{
  while (n > 0)
    {
      gsize take;

      if (conn->inbuf->len == 0 && conn_fill (conn, deadline) <= 0)
        return FALSE;
      take = MIN (n, conn->inbuf->len);
      g_byte_array_append (out, conn->inbuf->data, (guint) take);
      consume (conn, take);
      n -= take;
    }
  return TRUE;
}

static gboolean
read_chunked_body (TestConn    *conn,
                   TestRequest *req,
                   GByteArray  *out,
                   gint64       deadline)
{
  for (;;)
    {
      g_autofree char *line = conn_read_line (conn, deadline);
      g_autofree char *crlf = NULL;
      guint64 size = 0;
      const char *p;
      int digits = 0;

      if (line == NULL)
        return FALSE;
      for (p = line; g_ascii_isxdigit (*p); p++, digits++)
        {
          if (digits >= 15)
            return FALSE;
          size = size * 16 + (guint64) g_ascii_xdigit_value (*p);
        }
      if (digits == 0 || (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t'))
        return FALSE;
      if (size == 0)
        break;
      if (out->len + size > MAX_BODY_BYTES ||
          !conn_read_exact (conn, (gsize) size, out, deadline))
        return FALSE;
      crlf = conn_read_line (conn, deadline);
      if (crlf == NULL || crlf[0] != '\0')
        return FALSE;
    }

  for (;;)
    {
      g_autofree char *line = conn_read_line (conn, deadline);

      if (line == NULL)
        return FALSE;
      if (line[0] == '\0')
        return TRUE;
      if (!parse_field_line (line, req->trailer_names, req->trailer_values))
        return FALSE;
    }
}

static gboolean
is_chunked (TestRequest *req)
{
  for (guint i = 0; i < req->header_names->len; i++)
    {
      g_autofree char *lower = NULL;

      if (g_ascii_strcasecmp (g_ptr_array_index (req->header_names, i),
                              "Transfer-Encoding") != 0)
        continue;
      lower = g_ascii_strdown (g_ptr_array_index (req->header_values, i), -1);
      if (strstr (lower, "chunked") != NULL)
        return TRUE;
    }
  return FALSE;
}

static void
store_request (TestConn    *conn,
               TestRequest *req)
{
  TestServer *server = conn->server;

  g_mutex_lock (&server->lock);
  conn->last_stored = server->requests->len;
  g_ptr_array_add (server->requests, test_request_copy (req));
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
}

TestRequest *
test_conn_read_request_head (TestConn *conn,
                             guint     timeout_ms)
{
  gint64 deadline = deadline_after (timeout_ms);
  TestRequest *req;
  gsize end;

  g_return_val_if_fail (conn != NULL, NULL);

  for (;;)
    {
      /* Tolerate empty lines before a request line (RFC 9112, 2.2). */
      while (conn->inbuf->len > 0 &&
             (conn->inbuf->data[0] == '\r' || conn->inbuf->data[0] == '\n'))
        consume (conn, 1);
      end = find_head_end (conn->inbuf->data, conn->inbuf->len);
      if (end != 0)
        break;
      if (conn->inbuf->len > MAX_HEAD_BYTES || conn_fill (conn, deadline) <= 0)
        return NULL;
    }

  req = request_new ();
  req->raw_head = g_strndup ((const char *) conn->inbuf->data, end);
  consume (conn, end);
  if (!parse_head (req, req->raw_head))
    {
      test_request_free (req);
      return NULL;
    }
  req->conn_id = conn->id;
  req->seq_on_conn = ++conn->n_requests;
  store_request (conn, req);
  return req;
}

gboolean
test_conn_read_request_body (TestConn    *conn,
                             TestRequest *req,
                             guint        timeout_ms)
{
  TestServer *server;
  gint64 deadline = deadline_after (timeout_ms);
  g_autoptr(GByteArray) body = g_byte_array_new ();
  const char *cl = NULL;
  guint64 length = 0;
  gboolean chunked, ok;

  g_return_val_if_fail (conn != NULL && req != NULL, FALSE);
  server = conn->server;

  chunked = is_chunked (req);
  if (!chunked)
    {
      cl = test_request_get_header (req, "Content-Length");
      if (cl != NULL &&
          !g_ascii_string_to_unsigned (cl, 10, 0, MAX_BODY_BYTES, &length, NULL))
        return FALSE;
    }

  if ((chunked || length > 0) && conn->inbuf->len == 0 &&
      !g_atomic_int_get (&server->ignore_expect))
    {
      const char *expect = test_request_get_header (req, "Expect");

      if (expect != NULL && g_ascii_strcasecmp (expect, "100-continue") == 0 &&
          !test_conn_write_str (conn, "HTTP/1.1 100 Continue\r\n\r\n"))
        return FALSE;
    }

  if (chunked)
    ok = read_chunked_body (conn, req, body, deadline);
  else
    ok = conn_read_exact (conn, (gsize) length, body, deadline);
  if (!ok)
    return FALSE;

  g_clear_pointer (&req->body, g_bytes_unref);
  req->body = g_byte_array_free_to_bytes (g_steal_pointer (&body));
  req->body_was_chunked = chunked;

  g_mutex_lock (&server->lock);
  if (conn->last_stored < server->requests->len)
    {
      TestRequest *stored = g_ptr_array_index (server->requests, conn->last_stored);

      g_clear_pointer (&stored->body, g_bytes_unref);
      stored->body = g_bytes_ref (req->body);
      stored->body_was_chunked = chunked;
      copy_str_array (stored->trailer_names, req->trailer_names);
      copy_str_array (stored->trailer_values, req->trailer_values);
    }
  g_mutex_unlock (&server->lock);
  return TRUE;
}

TestRequest *
test_conn_read_request (TestConn *conn,
                        guint     timeout_ms)
{
  gint64 deadline = deadline_after (timeout_ms);
  TestRequest *req = test_conn_read_request_head (conn, timeout_ms);

  if (req == NULL)
    return NULL;
  if (!test_conn_read_request_body (conn, req, (guint) ms_until (deadline)))
    {
      test_request_free (req);
      return NULL;
    }
  return req;
}

GBytes *
test_conn_read_some (TestConn *conn,
                     guint     timeout_ms)
{
  GBytes *bytes;

  g_return_val_if_fail (conn != NULL, NULL);

  if (conn->inbuf->len == 0 && conn_fill (conn, deadline_after (timeout_ms)) <= 0)
    return NULL;
  bytes = g_bytes_new (conn->inbuf->data, conn->inbuf->len);
  consume (conn, conn->inbuf->len);
  return bytes;
}

/* -------------------------------------------------------------- responding */

TestServer *
test_conn_get_server (TestConn *conn)
{
  return conn->server;
}

guint
test_conn_get_id (TestConn *conn)
{
  return conn->id;
}

int
test_conn_get_family (TestConn *conn)
{
  return conn->family;
}

gboolean
test_conn_is_open (TestConn *conn)
{
  return conn->fd >= 0;
}

gboolean
test_conn_write (TestConn   *conn,
                 const void *data,
                 gsize       len)
{
  g_return_val_if_fail (conn != NULL, FALSE);
  return conn_send_all (conn, data, len);
}

gboolean
test_conn_write_str (TestConn   *conn,
                     const char *str)
{
  return test_conn_write (conn, str, strlen (str));
}

gboolean
test_conn_printf (TestConn   *conn,
                  const char *fmt,
                  ...)
{
  g_autofree char *str = NULL;
  va_list args;

  va_start (args, fmt);
  str = g_strdup_vprintf (fmt, args);
  va_end (args);
  return test_conn_write_str (conn, str);
}

gboolean
test_conn_write_chunk (TestConn   *conn,
                       const void *data,
                       gsize       len)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_string_append_printf (out, "%" G_GSIZE_MODIFIER "x\r\n", len);
  if (len > 0)
    g_string_append_len (out, data, (gssize) len);
  g_string_append (out, "\r\n");
  return test_conn_write (conn, out->str, out->len);
}

static const char *
reason_phrase (guint status)
{
  switch (status)
    {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default:  return "Status";
    }
}

gboolean
test_conn_respond_with_headers (TestConn   *conn,
                                guint       status,
                                const char *headers,
                                const void *body,
                                gsize       len)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_string_append_printf (out, "HTTP/1.1 %u %s\r\n", status, reason_phrase (status));
  if (headers != NULL)
    g_string_append (out, headers);
  g_string_append_printf (out, "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n", len);
  if (len > 0)
    g_string_append_len (out, body, (gssize) len);
  return test_conn_write (conn, out->str, out->len);
}

gboolean
test_conn_respond (TestConn   *conn,
                   guint       status,
                   const char *content_type,
                   const void *body,
                   gsize       len)
{
  g_autofree char *headers = NULL;

  if (content_type != NULL)
    headers = g_strdup_printf ("Content-Type: %s\r\n", content_type);
  return test_conn_respond_with_headers (conn, status, headers, body, len);
}

void
test_conn_sleep (TestConn *conn,
                 guint     ms)
{
  g_return_if_fail (conn != NULL);
  wait_fd (conn->server, -1, 0, deadline_after (ms));
}

gboolean
test_conn_trickle (TestConn   *conn,
                   const void *data,
                   gsize       len,
                   guint       delay_ms)
{
  const guint8 *p = data;

  g_return_val_if_fail (conn != NULL, FALSE);

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0)
        {
          test_conn_sleep (conn, delay_ms);
          if (server_stopping (conn->server))
            return FALSE;
        }
      if (!conn_send_all (conn, p + i, 1))
        return FALSE;
    }
  return TRUE;
}

void
test_conn_close (TestConn *conn)
{
  g_return_if_fail (conn != NULL);
  conn_close_fd (conn, FALSE, TRUE);
}

void
test_conn_close_without_notify (TestConn *conn)
{
  g_return_if_fail (conn != NULL);
  conn_close_fd (conn, FALSE, FALSE);
}

void
test_conn_reset (TestConn *conn)
{
  g_return_if_fail (conn != NULL);
  conn_close_fd (conn, TRUE, FALSE);
}

gboolean
test_conn_wait_client_close (TestConn *conn,
                             guint     ms)
{
  gint64 deadline = deadline_after (ms);

  g_return_val_if_fail (conn != NULL, FALSE);

  /* Anything the client still sends is kept for a later read. */
  for (;;)
    {
      guint8 tmp[4096];
      gssize n;

      if (conn->tls != NULL)
        {
          if (conn->fd < 0)
            return FALSE;
          n = tls_recv (conn, tmp, sizeof tmp, deadline);
          if (n > 0 && conn->inbuf->len < MAX_HEAD_BYTES)
            g_byte_array_append (conn->inbuf, tmp, (guint) n);
          if (n > 0)
            continue;
          /* A reset or broken TLS stream counts as closed too; a timeout does not. */
          return n != -2;
        }

      if (conn->fd < 0)
        return FALSE;
      n = recv (conn->fd, tmp, sizeof tmp, MSG_DONTWAIT);
      if (n == 0)
        return TRUE;
      if (n > 0)
        {
          if (conn->inbuf->len < MAX_HEAD_BYTES)
            g_byte_array_append (conn->inbuf, tmp, (guint) n);
          continue;
        }
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return TRUE;            /* reset by the client counts as closed */
      if (wait_fd (conn->server, conn->fd, POLLIN, deadline) <= 0)
        return FALSE;
    }
}

/* ------------------------------------------------------------------ threads */

static void
record_handshake (TestConn *conn,
                  gboolean  ok)
{
  TestServer *server = conn->server;
  char sni[256];
  size_t sni_len = sizeof sni - 1;
  unsigned int type = 0;
  gboolean has_sni = FALSE;

  if (ok)
    {
      memset (sni, 0, sizeof sni);
      has_sni = gnutls_server_name_get (conn->tls, sni, &sni_len, &type, 0) == 0 &&
                type == GNUTLS_NAME_DNS;
    }

  g_mutex_lock (&server->lock);
  if (ok)
    {
      server->n_tls_handshakes++;
      if (gnutls_session_is_resumed (conn->tls))
        server->n_tls_resumed++;
      g_free (server->last_sni);
      server->last_sni = has_sni ? g_strdup (sni) : NULL;
    }
  else
    server->n_tls_failed++;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
}

/* Runs the server side of the handshake on the connection's thread. */
static gboolean
conn_tls_handshake (TestConn *conn)
{
  ServerTls *tls = conn->server->tls;
  guint timeout = (guint) g_atomic_int_get (&conn->server->io_timeout_ms);
  gint64 deadline = deadline_after (timeout);
  gnutls_datum_t alpn = { (unsigned char *) "http/1.1", 8 };
  gnutls_session_t session;
  int ret;

  if (gnutls_init (&session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0)
    return FALSE;
  conn->tls = session;
  gnutls_priority_set (session, tls->priority);
  gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, tls->credentials);
  gnutls_session_ticket_enable_server (session, &tls->ticket_key);
  gnutls_alpn_set_protocols (session, &alpn, 1, 0);
  gnutls_handshake_set_timeout (session, 0);
  if (tls->require_client_cert)
    {
      gnutls_certificate_server_set_request (session, GNUTLS_CERT_REQUIRE);
      gnutls_session_set_verify_cert (session, NULL, 0);
    }
  gnutls_transport_set_int (session, conn->fd);

  for (;;)
    {
      ret = gnutls_handshake (session);
      if (ret == GNUTLS_E_SUCCESS)
        {
          record_handshake (conn, TRUE);
          return TRUE;
        }
      if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
        {
          if (tls_wait (conn, deadline) <= 0)
            break;
          continue;
        }
      if (!gnutls_error_is_fatal (ret))
        continue;
      /* Tell the client why, as real servers do (best-effort: the socket may be full
       * or gone). */
      if (ret != GNUTLS_E_FATAL_ALERT_RECEIVED)
        gnutls_alert_send_appropriate (session, ret);
      break;
    }

  record_handshake (conn, FALSE);
  return FALSE;
}

static gpointer
conn_thread_func (gpointer data)
{
  TestConn *conn = data;
  TestServer *server = conn->server;

  if (server->tls != NULL && !conn_tls_handshake (conn))
    {
      /* The alert, if any, went out with the failed handshake. */
      conn_close_fd (conn, FALSE, FALSE);
    }
  else if (server->raw_handler != NULL)
    {
      server->raw_handler (server, conn, server->user_data);
    }
  else
    {
      while (!server_stopping (server) && conn->fd >= 0)
        {
          guint timeout = (guint) g_atomic_int_get (&server->io_timeout_ms);
          TestRequest *req = test_conn_read_request (conn, timeout);
          gboolean keep;

          if (req == NULL)
            break;
          keep = server->handler (server, conn, req, server->user_data);
          test_request_free (req);
          if (!keep)
            break;
        }
    }

  conn_close_fd (conn, FALSE, TRUE);

  g_mutex_lock (&server->lock);
  conn->finished = TRUE;
  g_mutex_unlock (&server->lock);
  return NULL;
}

static void
conn_free (TestConn *conn)
{
  if (conn->thread != NULL)
    g_thread_join (conn->thread);
  if (conn->tls != NULL)
    gnutls_deinit (conn->tls);
  g_byte_array_unref (conn->inbuf);
  g_free (conn);
}

/* Called with the lock held: moves finished connections to @done so their
 * threads can be joined without holding it. */
static void
collect_finished (TestServer *server,
                  GPtrArray  *done)
{
  for (guint i = 0; i < server->conns->len;)
    {
      TestConn *conn = g_ptr_array_index (server->conns, i);

      if (conn->finished)
        g_ptr_array_add (done, g_ptr_array_steal_index_fast (server->conns, i));
      else
        i++;
    }
}

static void
accept_one (TestServer *server,
            int         listen_fd)
{
  struct sockaddr_storage addr;
  socklen_t addr_len = sizeof addr;
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  TestConn *conn;
  int one = 1;
  int fd;

  fd = accept4 (listen_fd, (struct sockaddr *) &addr, &addr_len,
                SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0)
    {
      /* Out of fds or the like: back off instead of spinning on poll(). */
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
        g_usleep (10 * 1000);
      return;
    }
  /* Byte-level scripts (trickle) need each write on the wire at once. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  conn = g_new0 (TestConn, 1);
  conn->server = server;
  conn->fd = fd;
  conn->family = addr.ss_family;
  conn->inbuf = g_byte_array_new ();

  g_mutex_lock (&server->lock);
  collect_finished (server, done);
  conn->id = ++server->n_accepted;
  server->n_open++;
  g_ptr_array_add (server->conns, conn);
  /* Created under the lock so conn->thread is set before anyone can see
   * the connection finished and join it. */
  conn->thread = g_thread_new ("test-conn", conn_thread_func, conn);
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
}

static gpointer
accept_thread_func (gpointer data)
{
  TestServer *server = data;

  while (!server_stopping (server))
    {
      struct pollfd pfd[3];
      int sources[3];
      nfds_t n = 0;

      pfd[n] = (struct pollfd) { .fd = server->wake_pipe[0], .events = POLLIN };
      sources[n++] = -1;
      for (int i = 0; i < 2; i++)
        if (server->listen_fd[i] >= 0)
          {
            pfd[n] = (struct pollfd) { .fd = server->listen_fd[i], .events = POLLIN };
            sources[n++] = server->listen_fd[i];
          }

      if (poll (pfd, n, 1000) <= 0)
        continue;
      if (pfd[0].revents != 0)
        break;
      for (nfds_t i = 1; i < n; i++)
        if (pfd[i].revents != 0)
          accept_one (server, sources[i]);
    }
  return NULL;
}

/* ------------------------------------------------------------------ sockets */

static socklen_t
loopback_addr (int                      family,
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

/* A bound (not yet listening) loopback socket; -1 with errno set on failure.
 * *port is read (0 = ephemeral) and updated. */
static int
bind_loopback (int      family,
               guint16 *port)
{
  struct sockaddr_storage addr;
  socklen_t len = loopback_addr (family, *port, &addr);
  int fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int saved;

  if (fd < 0)
    return -1;
  if (family == AF_INET6)
    {
      int one = 1;

      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
  if (bind (fd, (struct sockaddr *) &addr, len) < 0)
    goto fail;
  len = sizeof addr;
  if (getsockname (fd, (struct sockaddr *) &addr, &len) < 0)
    goto fail;
  *port = ntohs (family == AF_INET6 ? ((struct sockaddr_in6 *) &addr)->sin6_port
                                    : ((struct sockaddr_in *) &addr)->sin_port);
  return fd;

fail:
  saved = errno;
  close (fd);
  errno = saved;
  return -1;
}

gboolean
test_ipv6_loopback_available (void)
{
  guint16 port = 0;
  int fd = bind_loopback (AF_INET6, &port);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

/* Opens the requested listeners on one shared port. Both families must
 * agree on the port, so a clash on ::1 retries with a new one. */
static gboolean
server_listen (TestServer      *server,
               TestServerFlags  flags)
{
  gboolean want4 = (flags & TEST_SERVER_IPV4) != 0 || (flags & TEST_SERVER_IPV6) == 0;
  gboolean want6 = (flags & TEST_SERVER_IPV6) != 0;

  if (server->unix_path != NULL)
    {
      struct sockaddr_un sun = { .sun_family = AF_UNIX };
      gsize len = strlen (server->unix_path);
      socklen_t addr_len;
      int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

      g_assert (len > 0 && len < sizeof sun.sun_path);
      memcpy (sun.sun_path, server->unix_path, len);
      /* "@name": the abstract name, after a NUL byte and with none after it. */
      if (server->unix_path[0] == '@')
        {
          sun.sun_path[0] = '\0';
          addr_len = (socklen_t) (G_STRUCT_OFFSET (struct sockaddr_un, sun_path) + len);
        }
      else
        {
          unlink (server->unix_path);
          addr_len = (socklen_t) sizeof sun;
        }
      if (fd < 0 || bind (fd, (struct sockaddr *) &sun, addr_len) < 0 || listen (fd, 128) < 0)
        g_error ("test server: cannot listen on %s: %s", server->unix_path, g_strerror (errno));
      server->listen_fd[0] = fd;
      server->unix_path = NULL;
      return TRUE;
    }

  for (int attempt = 0; attempt < LISTEN_TRIES; attempt++)
    {
      guint16 port = 0;
      int fd4 = -1, fd6 = -1;

      if (want4)
        {
          fd4 = bind_loopback (AF_INET, &port);
          if (fd4 < 0)
            g_error ("test server: cannot bind 127.0.0.1: %s", g_strerror (errno));
        }
      if (want6)
        {
          fd6 = bind_loopback (AF_INET6, &port);
          if (fd6 < 0 && errno == EADDRINUSE && fd4 >= 0)
            {
              close (fd4);
              continue;
            }
          /* No ::1 here: serve IPv4 alone if that was asked for too. */
          if (fd6 < 0 && fd4 < 0)
            return FALSE;
        }
      if ((fd4 >= 0 && listen (fd4, 128) < 0) || (fd6 >= 0 && listen (fd6, 128) < 0))
        g_error ("test server: listen: %s", g_strerror (errno));
      server->listen_fd[0] = fd4;
      server->listen_fd[1] = fd6;
      server->port = port;
      return TRUE;
    }
  g_error ("test server: no port free on both 127.0.0.1 and ::1");
  return FALSE;
}

/* ------------------------------------------------------------------- server */

static ServerTls *
server_tls_new (const TestTlsOptions *options)
{
  ServerTls *tls = g_new0 (ServerTls, 1);
  const char *error_pos = NULL;
  int ret;

  g_assert (options->cert_file != NULL && options->key_file != NULL);

  if ((ret = gnutls_certificate_allocate_credentials (&tls->credentials)) < 0 ||
      (ret = gnutls_certificate_set_x509_key_file (tls->credentials, options->cert_file,
                                                   options->key_file,
                                                   GNUTLS_X509_FMT_PEM)) < 0)
    g_error ("test server: cannot load %s / %s: %s", options->cert_file,
             options->key_file, gnutls_strerror (ret));
  if (options->client_ca_file != NULL)
    {
      ret = gnutls_certificate_set_x509_trust_file (tls->credentials,
                                                    options->client_ca_file,
                                                    GNUTLS_X509_FMT_PEM);
      if (ret <= 0)
        g_error ("test server: cannot load %s: %s", options->client_ca_file,
                 ret < 0 ? gnutls_strerror (ret) : "no certificate");
      tls->require_client_cert = TRUE;
    }
  ret = gnutls_priority_init (&tls->priority,
                              options->priority != NULL ? options->priority : "NORMAL",
                              &error_pos);
  if (ret < 0)
    g_error ("test server: bad priority string at %s", error_pos ? error_pos : "?");
  if ((ret = gnutls_session_ticket_key_generate (&tls->ticket_key)) < 0)
    g_error ("test server: no ticket key: %s", gnutls_strerror (ret));
  tls->one_byte_records = options->one_byte_records;
  return tls;
}

static void
server_tls_free (ServerTls *tls)
{
  if (tls == NULL)
    return;
  gnutls_certificate_free_credentials (tls->credentials);
  gnutls_priority_deinit (tls->priority);
  gnutls_memset (tls->ticket_key.data, 0, tls->ticket_key.size);
  gnutls_free (tls->ticket_key.data);
  g_free (tls);
}

static TestServer *
server_new_full (TestServerFlags       flags,
                 const char           *unix_path,
                 const TestTlsOptions *tls,
                 TestHandler           handler,
                 TestRawHandler        raw_handler,
                 gpointer              user_data)
{
  TestServer *server = g_new0 (TestServer, 1);

  server->unix_path = unix_path;
  server->handler = handler;
  server->raw_handler = raw_handler;
  server->user_data = user_data;
  server->listen_fd[0] = server->listen_fd[1] = -1;
  server->io_timeout_ms = DEFAULT_IO_TIMEOUT_MS;
  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);
  server->conns = g_ptr_array_new ();
  server->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) test_request_free);
  if (tls != NULL)
    server->tls = server_tls_new (tls);

  if (pipe2 (server->wake_pipe, O_CLOEXEC) < 0)
    g_error ("test server: pipe2: %s", g_strerror (errno));

  if (!server_listen (server, flags))
    {
      close (server->wake_pipe[0]);
      close (server->wake_pipe[1]);
      g_ptr_array_unref (server->conns);
      g_ptr_array_unref (server->requests);
      g_mutex_clear (&server->lock);
      g_cond_clear (&server->cond);
      server_tls_free (server->tls);
      g_free (server);
      return NULL;
    }

  server->accept_thread = g_thread_new ("test-accept", accept_thread_func, server);
  return server;
}

static TestServer *
server_new (TestServerFlags       flags,
            const TestTlsOptions *tls,
            TestHandler           handler,
            TestRawHandler        raw_handler,
            gpointer              user_data)
{
  return server_new_full (flags, NULL, tls, handler, raw_handler, user_data);
}

TestServer *
test_server_new_unix (const char *path,
                      TestHandler handler,
                      gpointer    user_data)
{
  return server_new_full (0, path, NULL, handler, NULL, user_data);
}

TestServer *
test_server_new_unix_tls (const char           *path,
                          const TestTlsOptions *tls,
                          TestHandler           handler,
                          gpointer              user_data)
{
  return server_new_full (0, path, tls, handler, NULL, user_data);
}

TestServer *
test_server_new (TestServerFlags flags,
                 TestHandler     handler,
                 gpointer        user_data)
{
  g_return_val_if_fail (handler != NULL, NULL);
  return server_new (flags, NULL, handler, NULL, user_data);
}

TestServer *
test_server_new_raw (TestServerFlags flags,
                     TestRawHandler  handler,
                     gpointer        user_data)
{
  g_return_val_if_fail (handler != NULL, NULL);
  return server_new (flags, NULL, NULL, handler, user_data);
}

TestServer *
test_server_new_tls (TestServerFlags       flags,
                     const TestTlsOptions *tls,
                     TestHandler           handler,
                     gpointer              user_data)
{
  g_return_val_if_fail (tls != NULL && handler != NULL, NULL);
  return server_new (flags, tls, handler, NULL, user_data);
}

TestServer *
test_server_new_tls_raw (TestServerFlags       flags,
                         const TestTlsOptions *tls,
                         TestRawHandler        handler,
                         gpointer              user_data)
{
  g_return_val_if_fail (tls != NULL && handler != NULL, NULL);
  return server_new (flags, tls, NULL, handler, user_data);
}

void
test_server_free (TestServer *server)
{
  ssize_t r;

  if (server == NULL)
    return;

  g_atomic_int_set (&server->stopping, 1);
  do
    r = write (server->wake_pipe[1], "x", 1);
  while (r < 0 && errno == EINTR);
  g_thread_join (server->accept_thread);

  /* Belt and braces: every wait also watches the wake pipe. */
  g_mutex_lock (&server->lock);
  for (guint i = 0; i < server->conns->len; i++)
    {
      TestConn *conn = g_ptr_array_index (server->conns, i);

      if (conn->fd >= 0)
        shutdown (conn->fd, SHUT_RDWR);
    }
  g_mutex_unlock (&server->lock);

  /* The accept thread is gone, so the list can no longer grow. */
  for (guint i = 0; i < server->conns->len; i++)
    conn_free (g_ptr_array_index (server->conns, i));
  g_ptr_array_unref (server->conns);
  g_ptr_array_unref (server->requests);

  for (int i = 0; i < 2; i++)
    if (server->listen_fd[i] >= 0)
      close (server->listen_fd[i]);
  close (server->wake_pipe[0]);
  close (server->wake_pipe[1]);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->cond);
  server_tls_free (server->tls);
  g_free (server->last_sni);
  g_free (server);
}

void
test_server_set_ignore_expect (TestServer *server,
                               gboolean    ignore)
{
  g_atomic_int_set (&server->ignore_expect, ignore ? 1 : 0);
}

void
test_server_set_io_timeout (TestServer *server,
                            guint       timeout_ms)
{
  g_atomic_int_set (&server->io_timeout_ms, (gint) MIN (timeout_ms, G_MAXINT / 1000));
}

guint16
test_server_get_port (TestServer *server)
{
  return server->port;
}

gboolean
test_server_has_ipv4 (TestServer *server)
{
  return server->listen_fd[0] >= 0;
}

gboolean
test_server_has_ipv6 (TestServer *server)
{
  return server->listen_fd[1] >= 0;
}

static const char *
path_or_root (const char *path)
{
  return path != NULL ? path : "/";
}

char *
test_server_uri (TestServer *server,
                 const char *path)
{
  path = path_or_root (path);
  return g_strdup_printf ("%s://127.0.0.1:%u%s%s", server->tls != NULL ? "https" : "http",
                          server->port, path[0] == '/' ? "" : "/", path);
}

char *
test_server_uri6 (TestServer *server,
                  const char *path)
{
  path = path_or_root (path);
  return g_strdup_printf ("%s://[::1]:%u%s%s", server->tls != NULL ? "https" : "http",
                          server->port, path[0] == '/' ? "" : "/", path);
}

static guint
read_counter (TestServer  *server,
              const guint *counter)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = *counter;
  g_mutex_unlock (&server->lock);
  return n;
}

static gboolean
wait_counter (TestServer  *server,
              const guint *counter,
              guint        n,
              guint        timeout_ms)
{
  gint64 deadline = deadline_after (timeout_ms);
  gboolean reached;

  g_mutex_lock (&server->lock);
  while (*counter < n)
    if (!g_cond_wait_until (&server->cond, &server->lock, deadline))
      break;
  reached = *counter >= n;
  g_mutex_unlock (&server->lock);
  return reached;
}

gboolean
test_server_is_tls (TestServer *server)
{
  return server->tls != NULL;
}

guint
test_server_get_n_tls_handshakes (TestServer *server)
{
  return read_counter (server, &server->n_tls_handshakes);
}

guint
test_server_get_n_tls_resumed (TestServer *server)
{
  return read_counter (server, &server->n_tls_resumed);
}

guint
test_server_get_n_tls_failed (TestServer *server)
{
  return read_counter (server, &server->n_tls_failed);
}

guint
test_server_get_n_close_notify (TestServer *server)
{
  return read_counter (server, &server->n_close_notify);
}

char *
test_server_get_last_sni (TestServer *server)
{
  char *sni;

  g_mutex_lock (&server->lock);
  sni = g_strdup (server->last_sni);
  g_mutex_unlock (&server->lock);
  return sni;
}

gboolean
test_server_wait_close_notify (TestServer *server,
                               guint       n,
                               guint       timeout_ms)
{
  return wait_counter (server, &server->n_close_notify, n, timeout_ms);
}

gboolean
test_server_wait_tls_failed (TestServer *server,
                             guint       n,
                             guint       timeout_ms)
{
  return wait_counter (server, &server->n_tls_failed, n, timeout_ms);
}

guint
test_server_get_n_accepted (TestServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->n_accepted;
  g_mutex_unlock (&server->lock);
  return n;
}

guint
test_server_get_n_requests (TestServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->requests->len;
  g_mutex_unlock (&server->lock);
  return n;
}

guint
test_server_get_n_open (TestServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->n_open;
  g_mutex_unlock (&server->lock);
  return n;
}

guint
test_server_reap (TestServer *server)
{
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  guint held;

  g_mutex_lock (&server->lock);
  collect_finished (server, done);
  held = server->conns->len;
  g_mutex_unlock (&server->lock);
  /* The threads are joined as @done goes, outside the lock. */
  return held;
}

gboolean
test_server_wait_open (TestServer *server,
                       guint       n,
                       guint       timeout_ms)
{
  gint64 deadline = deadline_after (timeout_ms);
  gboolean reached;

  g_mutex_lock (&server->lock);
  while (server->n_open != n)
    if (!g_cond_wait_until (&server->cond, &server->lock, deadline))
      break;
  reached = server->n_open == n;
  g_mutex_unlock (&server->lock);
  return reached;
}

gboolean
test_server_wait_requests (TestServer *server,
                           guint       n,
                           guint       timeout_ms)
{
  gint64 deadline = deadline_after (timeout_ms);
  gboolean reached;

  g_mutex_lock (&server->lock);
  while (server->requests->len < n)
    if (!g_cond_wait_until (&server->cond, &server->lock, deadline))
      break;
  reached = server->requests->len >= n;
  g_mutex_unlock (&server->lock);
  return reached;
}

TestRequest *
test_server_get_request (TestServer *server,
                         guint       index)
{
  TestRequest *req = NULL;

  g_mutex_lock (&server->lock);
  if (index < server->requests->len)
    req = test_request_copy (g_ptr_array_index (server->requests, index));
  g_mutex_unlock (&server->lock);
  return req;
}

TestRequest *
test_server_get_last_request (TestServer *server)
{
  TestRequest *req = NULL;

  g_mutex_lock (&server->lock);
  if (server->requests->len > 0)
    req = test_request_copy (g_ptr_array_index (server->requests,
                                                server->requests->len - 1));
  g_mutex_unlock (&server->lock);
  return req;
}

/* --------------------------------------------------------------- black hole */

int
test_blackhole_listener (int      family,
                         guint16 *port)
{
  struct sockaddr_storage addr;
  socklen_t len;
  guint16 p = 0;
  int fd, filler;

  g_return_val_if_fail (family == AF_INET || family == AF_INET6, -1);

  fd = bind_loopback (family, &p);
  if (fd < 0)
    return -1;
  /* Linux keeps backlog + 1 connections queued, so with a backlog of 0 one
   * never-accepted connection fills the queue and later SYNs are dropped. */
  if (listen (fd, 0) < 0)
    {
      close (fd);
      return -1;
    }

  len = loopback_addr (family, p, &addr);
  filler = socket (family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (filler < 0 || connect (filler, (struct sockaddr *) &addr, len) < 0)
    {
      if (filler >= 0)
        close (filler);
      close (fd);
      return -1;
    }
  /* The queued server side stays in the queue after the filler closes. */
  close (filler);

  if (port != NULL)
    *port = p;
  return fd;
}
