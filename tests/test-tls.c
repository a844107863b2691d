/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TLS layer (gmulti/tls/) driven directly over loopback TCP, with plain
 * non-blocking sockets and poll(), against the TLS mode of the test server. The
 * certificates are made by gen-test-certs.sh when the program starts.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gnutls/x509.h>
#include <glib/gstdio.h>

#include "gmulti-transfer-private.h"
#include "gmulti-error.h"
#include "tls/gmulti-tls.h"
#include "transport/gmulti-tcp-link.h"
#include "test-server.h"
#include "test-certs.h"

/* Every wait is bounded by this; generous for valgrind. */
#define WAIT_MS 15000
#define BIG_BODY (100 * 1024 * 1024)

static char *certs_dir;

static char *
cert (const char *name)
{
  return g_build_filename (certs_dir, name, NULL);
}

/* ------------------------------------------------------------ body pattern */

/* Deterministic and without a short period, so a dropped or repeated record shows. */
static inline guint8
pattern_byte (guint64 i)
{
  return (guint8) (i ^ (i >> 8) ^ (i >> 16) ^ (i >> 24) ^ (i * 0x9e3779b1u >> 27));
}

static void
fill_pattern (guint8  *buffer,
              guint64  offset,
              gsize    length)
{
  for (gsize i = 0; i < length; i++)
    buffer[i] = pattern_byte (offset + i);
}

/* ------------------------------------------------------------------ server */

/* Routes, by target:
 *   /hello              "hello"
 *   /big/N              N pattern bytes with a Content-Length
 *   /upload             answers "ok N" if the body is N pattern bytes, else "bad"
 *   /slow-upload        the same, after leaving the body unread for a while
 *   /cut/N/M            Content-Length N, M pattern bytes, TCP close w/o close_notify
 *   /eof-cut/M          no Content-Length, M bytes, TCP close without close_notify
 *   /eof-clean/M        no Content-Length, M bytes, close_notify then TCP close */
static void
serve_body (TestConn *conn,
            guint64   length)
{
  g_autofree guint8 *chunk = g_malloc (256 * 1024);
  guint64 offset = 0;

  while (offset < length)
    {
      gsize n = (gsize) MIN (length - offset, 256 * 1024);

      fill_pattern (chunk, offset, n);
      if (!test_conn_write (conn, chunk, n))
        return;
      offset += n;
    }
}

static gboolean
body_is_pattern (GBytes *body)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (body, &size);

  for (gsize i = 0; i < size; i++)
    if (data[i] != pattern_byte (i))
      return FALSE;
  return TRUE;
}

static void
server_cb (TestServer *server,
           TestConn   *conn,
           gpointer    user_data)
{
  for (;;)
    {
      g_autoptr(TestRequest) req = test_conn_read_request_head (conn, WAIT_MS);
      guint64 n = 0, m = 0;

      if (req == NULL)
        return;
      if (strcmp (req->target, "/slow-upload") == 0)
        test_conn_sleep (conn, 300);
      if (!test_conn_read_request_body (conn, req, WAIT_MS))
        return;

      if (strcmp (req->target, "/hello") == 0)
        {
          test_conn_respond (conn, 200, "text/plain", "hello", 5);
        }
      else if (sscanf (req->target, "/big/%" G_GUINT64_FORMAT, &n) == 1)
        {
          test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GUINT64_FORMAT
                            "\r\n\r\n", n);
          serve_body (conn, n);
        }
      else if (g_str_has_suffix (req->target, "upload"))
        {
          g_autofree char *reply = NULL;

          if (body_is_pattern (req->body))
            reply = g_strdup_printf ("ok %" G_GSIZE_FORMAT, g_bytes_get_size (req->body));
          else
            reply = g_strdup ("bad");
          test_conn_respond (conn, 200, "text/plain", reply, strlen (reply));
        }
      else if (sscanf (req->target, "/cut/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                       &n, &m) == 2)
        {
          test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GUINT64_FORMAT
                            "\r\n\r\n", n);
          serve_body (conn, m);
          test_conn_close_without_notify (conn);
          return;
        }
      else if (sscanf (req->target, "/eof-cut/%" G_GUINT64_FORMAT, &m) == 1 ||
               sscanf (req->target, "/eof-clean/%" G_GUINT64_FORMAT, &m) == 1)
        {
          test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
          serve_body (conn, m);
          if (g_str_has_prefix (req->target, "/eof-cut/"))
            test_conn_close_without_notify (conn);
          else
            test_conn_close (conn);
          return;
        }
      else
        {
          test_conn_respond (conn, 404, NULL, NULL, 0);
        }
    }
}

static TestServer *
start_server (const char *cert_name,
              const char *client_ca,
              const char *priority,
              gboolean    one_byte_records)
{
  g_autofree char *cert_file = cert (cert_name);
  g_autofree char *key_file = cert ("server-key.pem");
  g_autofree char *ca_file = client_ca != NULL ? cert (client_ca) : NULL;
  TestTlsOptions options = {
    .cert_file = cert_file,
    .key_file = key_file,
    .client_ca_file = ca_file,
    .priority = priority,
    .one_byte_records = one_byte_records,
  };

  return test_server_new_tls_raw (TEST_SERVER_IPV4 | TEST_SERVER_IPV6, &options,
                                  server_cb, NULL);
}

/* ------------------------------------------------------------------ config */

typedef struct {
  gboolean no_verify;
  const char *ca;               /* file name in certs_dir; NULL: system trust */
  const char *pins;
  const char *client_cert;
  const char *client_key;
  const char *priority;
  GMultiTlsVersion min_version;
} Options;

static GMultiTlsConfig *
make_config (const Options *o)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("https://localhost/");
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = o->ca != NULL ? cert (o->ca) : NULL;
  g_autofree char *client_cert = o->client_cert != NULL ? cert (o->client_cert) : NULL;
  g_autofree char *client_key = o->client_key != NULL ? cert (o->client_key) : NULL;
  GMultiTlsConfig *config;

  gmulti_transfer_set_tls_verify (transfer, !o->no_verify);
  gmulti_transfer_set_tls_ca_file (transfer, ca);
  gmulti_transfer_set_tls_pinned_public_key (transfer, o->pins);
  gmulti_transfer_set_tls_client_certificate (transfer, client_cert, client_key);
  gmulti_transfer_set_tls_priority (transfer, o->priority);
  gmulti_transfer_set_tls_min_version (transfer, o->min_version);

  config = gmulti_tls_config_new_from_transfer (transfer, &error);
  g_assert_no_error (error);
  g_assert_nonnull (config);
  return config;
}

/* The pin of a certificate's key, computed through GnuTLS's key ID (SHA-256 of the
 * DER SubjectPublicKeyInfo) rather than the code under test. */
static char *
pin_of (const char *cert_name)
{
  g_autofree char *path = cert (cert_name);
  g_autofree char *pem = NULL;
  gsize pem_len = 0;
  gnutls_x509_crt_t crt;
  gnutls_datum_t datum;
  guint8 id[32];
  size_t id_len = sizeof id;

  g_assert_true (g_file_get_contents (path, &pem, &pem_len, NULL));
  datum.data = (unsigned char *) pem;
  datum.size = (unsigned int) pem_len;
  g_assert_cmpint (gnutls_x509_crt_init (&crt), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_PEM), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_get_key_id (crt, GNUTLS_KEYID_USE_SHA256, id, &id_len),
                   ==, 0);
  gnutls_x509_crt_deinit (crt);
  g_assert_cmpuint (id_len, ==, 32);
  {
    g_autofree char *b64 = g_base64_encode (id, id_len);

    return g_strconcat ("sha256//", b64, NULL);
  }
}

/* ------------------------------------------------------------------ client */

typedef struct {
  int fd;
  GMultiLink *tcp;             /* the link GMultiTls reads and writes through */
  GMultiTls *tls;
} Client;

static gboolean
wait_fd (int   fd,
         short events)
{
  struct pollfd pfd = { .fd = fd, .events = events };
  int r;

  do
    r = poll (&pfd, 1, WAIT_MS);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

static int
connect_fd (int     family,
            guint16 port)
{
  struct sockaddr_storage addr = { 0 };
  socklen_t len;
  int fd, err = 0;
  socklen_t err_len = sizeof err;

  if (family == AF_INET6)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &addr;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_loopback;
      sin6->sin6_port = htons (port);
      len = sizeof *sin6;
    }
  else
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &addr;

      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      sin->sin_port = htons (port);
      len = sizeof *sin;
    }

  fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  if (connect (fd, (struct sockaddr *) &addr, len) < 0)
    g_assert_cmpint (errno, ==, EINPROGRESS);
  g_assert_true (wait_fd (fd, POLLOUT));
  g_assert_no_errno (getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &err_len));
  g_assert_cmpint (err, ==, 0);
  return fd;
}

static Client *
client_new (GMultiTlsContext *context,
            GMultiTlsConfig  *config,
            TestServer       *server,
            int               family,
            const char       *host,
            GError          **error)
{
  Client *client = g_new0 (Client, 1);

  client->fd = connect_fd (family, test_server_get_port (server));
  client->tcp = gmulti_tcp_link_new_for_fd (client->fd);
  client->tls = gmulti_tls_new (context, config, client->tcp, host,
                                test_server_get_port (server), error);
  if (client->tls == NULL)
    {
      gmulti_link_free_chain (client->tcp);
      close (client->fd);
      g_free (client);
      return NULL;
    }
  return client;
}

/* Closes without close_notify unless gmulti_tls_close() was called. */
static void
client_free (Client *client)
{
  if (client == NULL)
    return;
  gmulti_tls_free (client->tls);
  gmulti_link_free_chain (client->tcp);
  close (client->fd);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

static gboolean
client_handshake (Client  *client,
                  GError **error)
{
  for (;;)
    {
      GMultiTlsStatus status = gmulti_tls_handshake_step (client->tls, error);

      switch (status)
        {
        case GMULTI_TLS_DONE:
          return TRUE;
        case GMULTI_TLS_ERROR:
          g_assert (error == NULL || *error != NULL);
          return FALSE;
        case GMULTI_TLS_WANT_READ:
          g_assert_true (wait_fd (client->fd, POLLIN));
          break;
        case GMULTI_TLS_WANT_WRITE:
          g_assert_true (wait_fd (client->fd, POLLOUT));
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

/* Connects and completes the handshake, which must succeed. */
static Client *
client_open (GMultiTlsContext *context,
             GMultiTlsConfig  *config,
             TestServer       *server,
             const char       *host)
{
  g_autoptr(GError) error = NULL;
  Client *client = client_new (context, config, server,
                               strchr (host, ':') != NULL ? AF_INET6 : AF_INET, host,
                               &error);

  g_assert_no_error (error);
  client_handshake (client, &error);
  g_assert_no_error (error);
  return client;
}

/* Sends everything: what gmulti_tls_send() takes is GnuTLS's, then flushed. Returns
 * how many times the socket was full. */
static guint
client_send_all (Client       *client,
                 const guint8 *data,
                 gsize         len)
{
  guint full = 0;

  while (len > 0)
    {
      g_autoptr(GError) error = NULL;
      struct iovec iov = { (void *) data, len };
      gssize n = gmulti_tls_send (client->tls, &iov, 1, &error);

      if (n > 0)
        {
          g_assert_cmpint (n, <=, MIN (len, GMULTI_TLS_SEND_MAX));
          data += n;
          len -= (gsize) n;
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, -1);
      g_assert_cmpint (errno, ==, EAGAIN);
      g_assert_true (gmulti_tls_wants_write (client->tls));
      full++;
      g_assert_true (wait_fd (client->fd, POLLOUT));
    }

  while (gmulti_tls_wants_write (client->tls))
    {
      g_autoptr(GError) error = NULL;
      GMultiTlsStatus status = gmulti_tls_flush (client->tls, &error);

      g_assert_no_error (error);
      if (status == GMULTI_TLS_WANT_WRITE)
        {
          full++;
          g_assert_true (wait_fd (client->fd, POLLOUT));
        }
      else
        g_assert_cmpint (status, ==, GMULTI_TLS_DONE);
    }
  return full;
}

static void
client_send_str (Client     *client,
                 const char *str)
{
  client_send_all (client, (const guint8 *) str, strlen (str));
}

/* A response as it arrives: the head, then the body checked against the pattern (or
 * kept, when small) as it comes. */
typedef struct {
  GString *head;
  gboolean head_done;
  gint64 content_length;        /* -1: until EOF */
  guint64 body_received;
  GByteArray *body;             /* kept up to 64 KiB */
  gboolean check_pattern;
  gint64 first_mismatch;        /* -1: none */
} Response;

static void
response_init (Response *r,
               gboolean  check_pattern)
{
  memset (r, 0, sizeof *r);
  r->head = g_string_new (NULL);
  r->content_length = -1;
  r->body = g_byte_array_new ();
  r->check_pattern = check_pattern;
  r->first_mismatch = -1;
}

static void
response_clear (Response *r)
{
  g_string_free (r->head, TRUE);
  g_byte_array_unref (r->body);
}

static void
response_feed (Response     *r,
               const guint8 *data,
               gsize         len)
{
  while (!r->head_done && len > 0)
    {
      g_string_append_c (r->head, (char) *data);
      data++;
      len--;
      if (g_str_has_suffix (r->head->str, "\r\n\r\n"))
        {
          const char *cl = strstr (r->head->str, "Content-Length: ");

          r->head_done = TRUE;
          if (cl != NULL)
            r->content_length = g_ascii_strtoll (cl + 16, NULL, 10);
        }
    }

  if (len == 0)
    return;
  if (r->check_pattern && r->first_mismatch < 0)
    {
      for (gsize i = 0; i < len; i++)
        if (data[i] != pattern_byte (r->body_received + i))
          {
            r->first_mismatch = (gint64) (r->body_received + i);
            break;
          }
    }
  if (r->body->len + len <= 64 * 1024)
    g_byte_array_append (r->body, data, (guint) len);
  r->body_received += len;
}

static gboolean
response_complete (Response *r)
{
  return r->head_done && r->content_length >= 0 &&
         r->body_received >= (guint64) r->content_length;
}

typedef struct {
  guint polls;                  /* readable events waited for */
  guint pending_reads;          /* reads made only because pending() said so */
  gboolean eof;
} ReadStats;

/* Reads like the engine does: one read per readable event, then, without waiting,
 * everything GnuTLS already decrypted (pending()). A layer that leaves bytes inside
 * GnuTLS while the socket is quiet makes the poll time out: the stall this catches.
 * Stops when the response is complete, at EOF, or on an error (returned). */
static gboolean
read_response (Client     *client,
               Response   *r,
               gsize       buffer_size,
               ReadStats  *stats,
               GError    **error)
{
  g_autofree guint8 *buffer = g_malloc (buffer_size);

  memset (stats, 0, sizeof *stats);

  while (!response_complete (r))
    {
      gssize n;
      short events = POLLIN;

      if (gmulti_tls_wants_write (client->tls))
        events |= POLLOUT;
      stats->polls++;
      if (!wait_fd (client->fd, events))
        g_error ("the read stalled: poll timed out with %" G_GSIZE_FORMAT
                 " bytes pending in GnuTLS, %" G_GUINT64_FORMAT " body bytes read",
                 gmulti_tls_pending (client->tls), r->body_received);

      n = gmulti_tls_recv (client->tls, buffer, buffer_size, error);
      if (n < 0 && errno == EAGAIN)
        {
          g_assert (error == NULL || *error == NULL);
          continue;
        }
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          stats->eof = TRUE;
          return TRUE;
        }
      response_feed (r, buffer, (gsize) n);

      while (!response_complete (r) && gmulti_tls_pending (client->tls) > 0)
        {
          n = gmulti_tls_recv (client->tls, buffer, buffer_size, error);
          stats->pending_reads++;
          /* Ciphertext read ahead may end inside a record: then the rest is still on
           * its way and the socket signals it. */
          if (n < 0 && errno == EAGAIN)
            {
              g_assert (error == NULL || *error == NULL);
              break;
            }
          if (n < 0)
            return FALSE;
          if (n == 0)
            {
              stats->eof = TRUE;
              return TRUE;
            }
          response_feed (r, buffer, (gsize) n);
        }
    }
  return TRUE;
}

/* GET @target and the whole response, which must succeed. */
static void
fetch (Client     *client,
       const char *target,
       Response   *r)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *request =
    g_strdup_printf ("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", target);
  ReadStats stats;

  response_init (r, FALSE);
  client_send_str (client, request);
  g_assert_true (read_response (client, r, 64 * 1024, &stats, &error));
  g_assert_no_error (error);
  g_assert_true (response_complete (r));
}

static void
assert_hello (Client *client)
{
  Response r;

  fetch (client, "/hello", &r);
  g_assert_true (g_str_has_prefix (r.head->str, "HTTP/1.1 200 "));
  g_assert_cmpmem (r.body->data, r.body->len, "hello", 5);
  response_clear (&r);
}

/* Connects to @server's @host and returns the handshake's error (NULL if none). */
static GError *
handshake_error (TestServer    *server,
                 const Options *o,
                 const char    *host)
{
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  g_autoptr(GMultiTlsConfig) config = make_config (o);
  g_autoptr(Client) client = NULL;
  GError *error = NULL;

  client = client_new (context, config, server,
                       strchr (host, ':') != NULL ? AF_INET6 : AF_INET, host, &error);
  g_assert_no_error (error);
  if (!client_handshake (client, &error))
    {
      g_assert_nonnull (error);
      g_assert_cmpuint (gmulti_tls_context_get_n_full_handshakes (context), ==, 0);
      return error;
    }
  assert_hello (client);
  return NULL;
}

/* ------------------------------------------------------------------- tests */

static void
test_valid_chain (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  Options o = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);
  g_autofree char *sni = NULL;

  {
    g_autoptr(Client) client = client_open (context, config, server, "localhost");

    g_assert_cmpstr (gmulti_tls_get_alpn_protocol (client->tls), ==, "http/1.1");
    g_assert_false (gmulti_tls_is_resumed (client->tls));
    g_assert_nonnull (gmulti_tls_get_version_name (client->tls));
    assert_hello (client);
    sni = test_server_get_last_sni (server);
    g_assert_cmpstr (sni, ==, "localhost");
    g_clear_pointer (&sni, g_free);
  }

  /* An address literal is checked against the certificate's IP addresses and never
   * sent as SNI. */
  {
    g_autoptr(GMultiTlsContext) context2 = gmulti_tls_context_new ();
    g_autoptr(Client) client = client_open (context2, config, server, "127.0.0.1");

    assert_hello (client);
    g_assert_cmpuint (test_server_get_n_tls_handshakes (server), ==, 2);
    sni = test_server_get_last_sni (server);
    g_assert_null (sni);
  }

  if (test_server_has_ipv6 (server))
    {
      g_autoptr(GMultiTlsContext) context3 = gmulti_tls_context_new ();
      g_autoptr(Client) client = client_open (context3, config, server, "[::1]");

      assert_hello (client);
      sni = test_server_get_last_sni (server);
      g_assert_null (sni);
    }
}

static void
assert_verify_error (const char *cert_name,
                     const char *host,
                     GMultiError code,
                     const char *gnutls_says)
{
  g_autoptr(TestServer) server = start_server (cert_name, NULL, NULL, FALSE);
  Options o = { .ca = "ca.pem" };
  g_autoptr(GError) error = handshake_error (server, &o, host);

  g_assert_error (error, GMULTI_ERROR, (gint) code);
  g_test_message ("%s: %s", cert_name, error->message);
  /* GnuTLS's own reason is part of the message. */
  g_assert_nonnull (strstr (error->message, gnutls_says));
  /* The server saw the handshake fail (the client's alert, or the closed socket). */
  g_assert_true (test_server_wait_tls_failed (server, 1, WAIT_MS));
}

static void
test_untrusted (void)
{
  assert_verify_error ("untrusted.pem", "localhost", GMULTI_ERROR_TLS_UNTRUSTED,
                       "issuer is unknown");
}

static void
test_system_trust_untrusted (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  Options o = { 0 };            /* the system's trust store knows nothing of our CA */
  g_autoptr(GError) error = handshake_error (server, &o, "localhost");

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED);
}

static void
test_wrong_host (void)
{
  assert_verify_error ("wronghost.pem", "localhost", GMULTI_ERROR_TLS_HOSTNAME_MISMATCH,
                       "does not match");
  /* The right certificate, the wrong name. */
  {
    g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
    Options o = { .ca = "ca.pem" };
    g_autoptr(GError) error = handshake_error (server, &o, "127.0.0.2");

    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HOSTNAME_MISMATCH);
  }
}

static void
test_expired (void)
{
  assert_verify_error ("expired.pem", "localhost", GMULTI_ERROR_TLS_EXPIRED, "expired");
}

static void
test_not_yet_valid (void)
{
  assert_verify_error ("notyet.pem", "localhost", GMULTI_ERROR_TLS_NOT_YET_VALID,
                       "not yet valid");
}

static void
test_verify_opt_out (void)
{
  const char *certs[] = { "untrusted.pem", "expired.pem", "wronghost.pem" };

  for (guint i = 0; i < G_N_ELEMENTS (certs); i++)
    {
      g_autoptr(TestServer) server = start_server (certs[i], NULL, NULL, FALSE);
      Options o = { .no_verify = TRUE };
      g_autoptr(GError) error = handshake_error (server, &o, "localhost");

      g_assert_no_error (error);
    }
}

static void
test_pin (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(TestServer) untrusted = start_server ("untrusted.pem", NULL, NULL, FALSE);
  g_autofree char *right = pin_of ("server.pem");
  /* The client CA's key: well-formed, but not the server's. */
  g_autofree char *wrong = pin_of ("client-ca.pem");
  g_autofree char *several = g_strconcat (wrong, " ; ", right, NULL);

  {
    Options o = { .ca = "ca.pem", .pins = right };
    g_autoptr(GError) error = handshake_error (server, &o, "localhost");

    g_assert_no_error (error);
  }
  {
    Options o = { .ca = "ca.pem", .pins = several };
    g_autoptr(GError) error = handshake_error (server, &o, "localhost");

    g_assert_no_error (error);
  }
  {
    Options o = { .ca = "ca.pem", .pins = wrong };
    g_autoptr(GError) error = handshake_error (server, &o, "localhost");

    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_PIN_MISMATCH);
    /* The message names the key the server has. */
    g_assert_nonnull (strstr (error->message, right));
  }
  /* The pin holds without verification too; the untrusted server has the same key. */
  {
    Options o = { .no_verify = TRUE, .pins = right };
    g_autoptr(GError) error = handshake_error (untrusted, &o, "localhost");

    g_assert_no_error (error);
  }
  {
    Options o = { .no_verify = TRUE, .pins = wrong };
    g_autoptr(GError) error = handshake_error (untrusted, &o, "localhost");

    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_PIN_MISMATCH);
  }
}

static void
test_pin_syntax (void)
{
  const char *bad[] = {
    "",
    "sha256//",
    "sha1//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "sha256//AAAA",
    "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=",
    "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;",
  };
  guint n = 0;
  g_autofree guint8 *pins =
    gmulti_tls_parse_pins ("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;"
                           "sha256//AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", &n, NULL);

  g_assert_nonnull (pins);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (pins[0], ==, 0);
  g_assert_cmpuint (pins[GMULTI_TLS_PIN_SIZE], ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("https://localhost/");
      g_autoptr(GError) error = NULL;
      GMultiTlsConfig *config;

      gmulti_transfer_set_tls_pinned_public_key (transfer, bad[i]);
      config = gmulti_tls_config_new_from_transfer (transfer, &error);
      g_assert_null (config);
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_client_certificate (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", "client-ca.pem", NULL, FALSE);
  g_autoptr(TestServer) server12 = start_server ("server.pem", "client-ca.pem",
                                                 "NORMAL:-VERS-TLS1.3", FALSE);
  TestServer *servers[] = { server, server12 };

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      /* None given: with TLS 1.3 the client finishes its handshake before the server
       * refuses, so the error may only come with the first read. */
      {
        g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
        Options o = { .ca = "ca.pem" };
        g_autoptr(GMultiTlsConfig) config = make_config (&o);
        g_autoptr(GError) error = NULL;
        g_autoptr(Client) client = client_new (context, config, servers[i], AF_INET,
                                               "localhost", &error);

        g_assert_no_error (error);
        if (client_handshake (client, &error))
          {
            Response r;
            ReadStats stats;

            response_init (&r, FALSE);
            g_assert_false (read_response (client, &r, 4096, &stats, &error));
            response_clear (&r);
          }
        g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED);
        g_test_message ("%s", error->message);
      }
      /* Given and signed by the CA the server trusts. */
      {
        Options o = { .ca = "ca.pem", .client_cert = "client.pem",
                      .client_key = "client-key.pem" };
        g_autoptr(GError) error = handshake_error (servers[i], &o, "localhost");

        g_assert_no_error (error);
      }
    }
}

static void
test_bad_files (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  const Options cases[] = {
    { .ca = "missing.pem" },
    { .ca = "server-key.pem" },   /* no certificate in it */
    { .ca = "ca.pem", .client_cert = "missing.pem", .client_key = "client-key.pem" },
    /* A key that is not the certificate's. */
    { .ca = "ca.pem", .client_cert = "client.pem", .client_key = "server-key.pem" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GMultiTlsConfig) config = make_config (&cases[i]);
      g_autoptr(GError) error = NULL;
      Client *client = client_new (context, config, server, AF_INET, "localhost", &error);

      g_assert_null (client);
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE);
      g_test_message ("%s", error->message);
    }

  /* A failure is not cached: the same context loads good files after. */
  {
    Options o = { .ca = "ca.pem" };
    g_autoptr(GMultiTlsConfig) config = make_config (&o);
    g_autoptr(Client) client = client_open (context, config, server, "localhost");

    assert_hello (client);
  }
}

static void
test_priority (void)
{
  g_autoptr(TestServer) server12 = start_server ("server.pem", NULL, "NORMAL:-VERS-TLS1.3",
                                                 FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();

  {
    Options o = { .ca = "ca.pem" };
    g_autoptr(GMultiTlsConfig) config = make_config (&o);
    g_autoptr(Client) client = client_open (context, config, server12, "localhost");

    g_assert_cmpstr (gmulti_tls_get_version_name (client->tls), ==, "TLS1.2");
    assert_hello (client);
  }
  {
    Options o = { .ca = "ca.pem", .min_version = GMULTI_TLS_VERSION_TLS_1_3 };
    g_autoptr(GError) error = handshake_error (server12, &o, "localhost");

    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED);
    g_test_message ("%s", error->message);
  }
  {
    Options o = { .ca = "ca.pem", .priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3" };
    g_autoptr(GError) error = handshake_error (server12, &o, "localhost");

    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED);
  }
  {
    Options o = { .ca = "ca.pem", .priority = "NORMAL:+NO-SUCH-THING" };
    g_autoptr(GMultiTlsConfig) config = make_config (&o);
    g_autoptr(GError) error = NULL;
    Client *client = client_new (context, config, server12, AF_INET, "localhost", &error);

    g_assert_null (client);
    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT);
  }
}

/* A server that speaks only TLS 1.0 or 1.1 (RFC 8996 deprecates both): refused unless
 * the minimum version is lowered to it, whatever the priority string says. */
static void
test_old_versions (void)
{
  static const struct {
    const char *server_priority;
    const char *name;
    GMultiTlsVersion version;
  } servers[] = {
    { "NORMAL:-VERS-ALL:+VERS-TLS1.0", "TLS1.0", GMULTI_TLS_VERSION_TLS_1_0 },
    { "NORMAL:-VERS-ALL:+VERS-TLS1.1", "TLS1.1", GMULTI_TLS_VERSION_TLS_1_1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      g_autoptr(TestServer) server = start_server ("server.pem", NULL,
                                                   servers[i].server_priority, FALSE);
      g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
      /* Refused: the defaults, TLS 1.2 asked for, or GnuTLS's own NORMAL (which
       * allows TLS 1.0 on this GnuTLS). */
      const Options refused[] = {
        { .ca = "ca.pem" },
        { .ca = "ca.pem", .min_version = GMULTI_TLS_VERSION_TLS_1_2 },
        { .ca = "ca.pem", .priority = "NORMAL" },
      };

      g_test_message ("server limited to %s", servers[i].name);
      for (guint j = 0; j < G_N_ELEMENTS (refused); j++)
        {
          g_autoptr(GError) error = handshake_error (server, &refused[j], "localhost");

          g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED);
          g_test_message ("  %s", error->message);
        }

      /* A priority string allowing only the old version leaves nothing to offer
       * above the default minimum: an error before anything is sent. */
      {
        Options o = { .ca = "ca.pem", .priority = servers[i].server_priority };
        g_autoptr(GMultiTlsConfig) config = make_config (&o);
        g_autoptr(GError) error = NULL;
        Client *client = client_new (context, config, server, AF_INET, "localhost",
                                     &error);

        g_assert_null (client);
        g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT);
        g_test_message ("  %s", error->message);
        g_assert_nonnull (strstr (error->message, "minimum"));
      }

      /* Allowed once the minimum goes down to the server's version, with the default
       * priority or an explicit one. */
      {
        Options o = { .ca = "ca.pem", .min_version = servers[i].version };
        g_autoptr(GMultiTlsConfig) config = make_config (&o);
        g_autoptr(Client) client = client_open (context, config, server, "localhost");

        g_assert_cmpstr (gmulti_tls_get_version_name (client->tls), ==, servers[i].name);
        assert_hello (client);
      }
      {
        Options o = { .ca = "ca.pem", .min_version = GMULTI_TLS_VERSION_TLS_1_0,
                      .priority = "NORMAL" };
        g_autoptr(GMultiTlsConfig) config = make_config (&o);
        g_autoptr(Client) client = client_open (context, config, server, "localhost");

        g_assert_cmpstr (gmulti_tls_get_version_name (client->tls), ==, servers[i].name);
        assert_hello (client);
      }
    }

  /* TLS 1.1 as the minimum still refuses a TLS 1.0 server. */
  {
    g_autoptr(TestServer) server = start_server ("server.pem", NULL, servers[0].server_priority,
                                                 FALSE);
    Options o = { .ca = "ca.pem", .min_version = GMULTI_TLS_VERSION_TLS_1_1 };
    g_autoptr(GError) error = handshake_error (server, &o, "localhost");

    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED);
  }
}

static void
check_resumption (const char *server_priority,
                  const char *expected_version)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, server_priority, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  g_autofree char *pin = pin_of ("server.pem");
  Options o = { .ca = "ca.pem", .pins = pin };
  Options other = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);
  g_autoptr(GMultiTlsConfig) config2 = make_config (&o);
  g_autoptr(GMultiTlsConfig) other_config = make_config (&other);

  /* The first connection does the full handshake; reading the response takes in the
   * TLS 1.3 ticket. */
  {
    g_autoptr(Client) client = client_open (context, config, server, "localhost");

    g_assert_cmpstr (gmulti_tls_get_version_name (client->tls), ==, expected_version);
    assert_hello (client);
    g_assert_false (gmulti_tls_is_resumed (client->tls));
    gmulti_tls_close (client->tls);
  }
  g_assert_cmpuint (gmulti_tls_context_get_n_sessions (context), ==, 1);

  /* The same origin with an equal config resumes, twice. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(Client) client = client_open (context, config2, server, "localhost");

      g_assert_true (gmulti_tls_is_resumed (client->tls));
      assert_hello (client);
      gmulti_tls_close (client->tls);
    }
  g_assert_cmpuint (gmulti_tls_context_get_n_full_handshakes (context), ==, 1);
  g_assert_cmpuint (gmulti_tls_context_get_n_resumed_handshakes (context), ==, 2);
  g_assert_cmpuint (test_server_get_n_tls_resumed (server), ==, 2);

  /* Another config, or another origin, does not get the session. */
  {
    g_autoptr(Client) client = client_open (context, other_config, server, "localhost");

    g_assert_false (gmulti_tls_is_resumed (client->tls));
    assert_hello (client);
  }
  {
    g_autoptr(Client) client = client_open (context, config, server, "127.0.0.1");

    g_assert_false (gmulti_tls_is_resumed (client->tls));
    assert_hello (client);
  }
  g_assert_cmpuint (gmulti_tls_context_get_n_full_handshakes (context), ==, 3);

  gmulti_tls_context_clear_sessions (context);
  {
    g_autoptr(Client) client = client_open (context, config, server, "localhost");

    g_assert_false (gmulti_tls_is_resumed (client->tls));
  }
}

static void
test_resumption (void)
{
  check_resumption (NULL, "TLS1.3");
}

static void
test_resumption_tls12 (void)
{
  check_resumption ("NORMAL:-VERS-TLS1.3", "TLS1.2");
}

static void
test_big_body (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  Options o = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);
  g_autoptr(Client) client = client_open (context, config, server, "localhost");
  g_autoptr(GError) error = NULL;
  g_autofree char *request =
    g_strdup_printf ("GET /big/%u HTTP/1.1\r\nHost: localhost\r\n\r\n", BIG_BODY);
  Response r;
  ReadStats stats;

  response_init (&r, TRUE);
  client_send_str (client, request);
  g_assert_true (read_response (client, &r, 64 * 1024, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.content_length, ==, BIG_BODY);
  g_assert_cmpuint (r.body_received, ==, BIG_BODY);
  g_assert_cmpint (r.first_mismatch, ==, -1);
  response_clear (&r);

  /* The connection still works after it. */
  assert_hello (client);
}

static void
test_upload (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  Options o = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);
  g_autoptr(Client) client = client_open (context, config, server, "localhost");
  g_autoptr(GError) error = NULL;
  const gsize size = 16 * 1024 * 1024;
  g_autofree guint8 *body = g_malloc (size);
  g_autofree char *head =
    g_strdup_printf ("POST /slow-upload HTTP/1.1\r\nHost: localhost\r\n"
                     "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n", size);
  g_autofree char *expected = g_strdup_printf ("ok %" G_GSIZE_FORMAT, size);
  int sndbuf = 4096;
  Response r;
  ReadStats stats;
  guint full;

  g_assert_no_errno (setsockopt (client->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
                                 sizeof sndbuf));
  fill_pattern (body, 0, size);
  client_send_str (client, head);
  /* The server leaves the body unread for a while: far more than the socket buffers
   * hold, so the records taken must wait for the socket, and be flushed. */
  full = client_send_all (client, body, size);
  g_assert_cmpuint (full, >, 0);
  g_assert_false (gmulti_tls_wants_write (client->tls));

  response_init (&r, FALSE);
  g_assert_true (read_response (client, &r, 64 * 1024, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (r.body->data, r.body->len, expected, strlen (expected));
  response_clear (&r);
}

/* The server puts every byte in a record of its own. One read per readable event
 * must not leave bytes (decrypted or not) inside GnuTLS with the socket quiet. */
static void
test_one_byte_records (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, TRUE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  Options o = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);
  g_autoptr(Client) client = client_open (context, config, server, "localhost");
  g_autoptr(GError) error = NULL;
  Response r;
  ReadStats stats;

  response_init (&r, TRUE);
  client_send_str (client, "GET /big/30000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
  /* The server keeps the connection open after the body, so a stall is a timeout. */
  g_assert_true (read_response (client, &r, 64 * 1024, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r.body_received, ==, 30000);
  g_assert_cmpint (r.first_mismatch, ==, -1);
  g_test_message ("%u readable events, %u reads from pending", stats.polls,
                  stats.pending_reads);
  response_clear (&r);
}

/* Full records read through a small buffer: the rest of each record waits inside
 * GnuTLS, invisible to poll(). */
static void
test_pending (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  Options o = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);
  g_autoptr(Client) client = client_open (context, config, server, "localhost");
  g_autoptr(GError) error = NULL;
  Response r;
  ReadStats stats;

  response_init (&r, TRUE);
  client_send_str (client, "GET /big/1000000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
  g_assert_true (read_response (client, &r, 1000, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r.body_received, ==, 1000000);
  g_assert_cmpint (r.first_mismatch, ==, -1);
  /* The case this is about did happen. */
  g_assert_cmpuint (stats.pending_reads, >, 0);
  response_clear (&r);

  /* Afterwards nothing is left over. */
  g_assert_cmpuint (gmulti_tls_pending (client->tls), ==, 0);
}

static void
check_close (const char *target,
             gboolean    expect_clean,
             guint64     body_bytes)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  Options o = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);
  g_autoptr(Client) client = client_open (context, config, server, "localhost");
  g_autoptr(GError) error = NULL;
  g_autofree char *request =
    g_strdup_printf ("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", target);
  Response r;
  ReadStats stats;

  response_init (&r, TRUE);
  client_send_str (client, request);
  g_assert_true (read_response (client, &r, 64 * 1024, &stats, &error));
  g_assert_no_error (error);
  g_assert_true (stats.eof);
  g_assert_cmpuint (r.body_received, ==, body_bytes);
  g_assert_cmpint (r.first_mismatch, ==, -1);
  g_assert_false (response_complete (&r));
  g_assert_cmpint (gmulti_tls_was_clean_close (client->tls), ==, expect_clean);
  /* The end stays the end. */
  {
    guint8 byte;

    g_assert_cmpint (gmulti_tls_recv (client->tls, &byte, 1, &error), ==, 0);
    g_assert_no_error (error);
  }
  response_clear (&r);

  if (!expect_clean)
    {
      gmulti_tls_set_unclean_close_error (&error);
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_FAILED);
    }
}

static void
test_close_without_notify (void)
{
  /* Cut inside a length-delimited body, and a body that ends at the close. */
  check_close ("/cut/100000/50000", FALSE, 50000);
  check_close ("/eof-cut/70000", FALSE, 70000);
  /* The same, ended properly. */
  check_close ("/eof-clean/70000", TRUE, 70000);
}

/* Everything, end included, has arrived before the read: the end must be announced
 * through pending(), since a socket need not signal it again. */
static void
test_end_after_data (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  Options o = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);
  g_autoptr(Client) client = client_open (context, config, server, "localhost");
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buffer = g_malloc (64 * 1024);
  Response r;
  gssize n;

  client_send_str (client, "GET /eof-clean/5000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
  g_assert_true (test_server_wait_open (server, 0, WAIT_MS));
  g_assert_true (wait_fd (client->fd, POLLIN));

  response_init (&r, TRUE);
  n = gmulti_tls_recv (client->tls, buffer, 64 * 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, >, 5000);
  response_feed (&r, buffer, (gsize) n);
  g_assert_cmpuint (r.body_received, ==, 5000);
  g_assert_cmpint (r.first_mismatch, ==, -1);
  response_clear (&r);

  g_assert_cmpuint (gmulti_tls_pending (client->tls), ==, 1);
  n = gmulti_tls_recv (client->tls, buffer, 64 * 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  g_assert_true (gmulti_tls_was_clean_close (client->tls));
  g_assert_cmpuint (gmulti_tls_pending (client->tls), ==, 0);
}

static void
test_close_notify_sent (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", NULL, NULL, FALSE);
  g_autoptr(GMultiTlsContext) context = gmulti_tls_context_new ();
  Options o = { .ca = "ca.pem" };
  g_autoptr(GMultiTlsConfig) config = make_config (&o);

  /* Closed without gmulti_tls_close(): the server sees only the TCP close. */
  {
    g_autoptr(Client) client = client_open (context, config, server, "localhost");

    assert_hello (client);
  }
  g_assert_true (test_server_wait_open (server, 0, WAIT_MS));
  g_assert_cmpuint (test_server_get_n_close_notify (server), ==, 0);

  {
    g_autoptr(Client) client = client_open (context, config, server, "localhost");

    assert_hello (client);
    gmulti_tls_close (client->tls);
    /* Once only. */
    gmulti_tls_close (client->tls);
  }
  g_assert_true (test_server_wait_close_notify (server, 1, WAIT_MS));
  g_assert_true (test_server_wait_open (server, 0, WAIT_MS));
  g_assert_cmpuint (test_server_get_n_close_notify (server), ==, 1);
}

static void
test_config (void)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("https://localhost/");
  g_autoptr(GMultiTlsConfig) a = NULL;
  g_autoptr(GMultiTlsConfig) b = NULL;
  g_autoptr(GMultiTlsConfig) c = NULL;
  g_autoptr(GMultiTlsConfig) d = NULL;
  gboolean verify = FALSE;
  GMultiTlsVersion version = GMULTI_TLS_VERSION_DEFAULT;

  /* Defaults. */
  g_assert_true (gmulti_transfer_get_tls_verify (transfer));
  g_assert_null (gmulti_transfer_get_tls_ca_file (transfer));
  g_assert_null (gmulti_transfer_get_tls_ca_directory (transfer));
  g_assert_null (gmulti_transfer_get_tls_pinned_public_key (transfer));
  g_assert_null (gmulti_transfer_get_tls_client_certificate (transfer));
  g_assert_null (gmulti_transfer_get_tls_client_key (transfer));
  g_assert_null (gmulti_transfer_get_tls_priority (transfer));
  g_assert_cmpint (gmulti_transfer_get_tls_min_version (transfer), ==,
                   GMULTI_TLS_VERSION_DEFAULT);

  a = gmulti_tls_config_new_from_transfer (transfer, NULL);
  b = gmulti_tls_config_new_from_transfer (transfer, NULL);
  g_assert_true (a->verify);
  /* NORMAL's ciphers, reordered: AES-128-GCM first where the CPU has AES. */
  g_assert_true (g_str_has_prefix (a->priority, "NORMAL:-CIPHER-ALL:+"));
#if (defined (__x86_64__) || defined (__i386__)) && defined (__GNUC__)
  if (__builtin_cpu_supports ("aes"))
    g_assert_true (g_str_has_prefix (a->priority, "NORMAL:-CIPHER-ALL:+AES-128-GCM:"));
  else
    g_assert_true (g_str_has_prefix (a->priority, "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305:"));
#endif
  /* TLS 1.2 at least by default (RFC 8996). */
  g_assert_true (g_str_has_suffix (a->priority, ":-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"));
  g_assert_true (gmulti_tls_config_equal (a, b));
  g_assert_cmpuint (gmulti_tls_config_hash (a), ==, gmulti_tls_config_hash (b));

  /* The default minimum is TLS 1.2 itself: the configs are equal, and connections
   * shared. Lowering it is a different config. */
  gmulti_transfer_set_tls_min_version (transfer, GMULTI_TLS_VERSION_TLS_1_2);
  {
    g_autoptr(GMultiTlsConfig) tls12 = gmulti_tls_config_new_from_transfer (transfer, NULL);
    g_autoptr(GMultiTlsConfig) tls10 = NULL;
    g_autoptr(GMultiTlsConfig) tls11 = NULL;
    g_autofree char *base = g_strndup (a->priority, strlen (a->priority) -
                                       strlen (":-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"));
    g_autofree char *expected10 = g_strconcat (base, ":-VERS-SSL3.0", NULL);
    g_autofree char *expected11 = g_strconcat (base, ":-VERS-SSL3.0:-VERS-TLS1.0", NULL);

    g_assert_true (gmulti_tls_config_equal (a, tls12));
    gmulti_transfer_set_tls_min_version (transfer, GMULTI_TLS_VERSION_TLS_1_0);
    tls10 = gmulti_tls_config_new_from_transfer (transfer, NULL);
    gmulti_transfer_set_tls_min_version (transfer, GMULTI_TLS_VERSION_TLS_1_1);
    tls11 = gmulti_tls_config_new_from_transfer (transfer, NULL);
    g_assert_cmpstr (tls10->priority, ==, expected10);
    g_assert_cmpstr (tls11->priority, ==, expected11);
    g_assert_false (gmulti_tls_config_equal (a, tls10));
    g_assert_false (gmulti_tls_config_equal (tls10, tls11));
  }
  gmulti_transfer_set_tls_min_version (transfer, GMULTI_TLS_VERSION_DEFAULT);

  /* Properties and setters agree. */
  g_object_set (transfer, "tls-verify", FALSE, "tls-min-version",
                GMULTI_TLS_VERSION_TLS_1_2, "tls-ca-file", "/x/ca.pem", NULL);
  g_object_get (transfer, "tls-verify", &verify, "tls-min-version", &version, NULL);
  g_assert_false (verify);
  g_assert_false (gmulti_transfer_get_tls_verify (transfer));
  g_assert_cmpint (version, ==, GMULTI_TLS_VERSION_TLS_1_2);
  g_assert_cmpstr (gmulti_transfer_get_tls_ca_file (transfer), ==, "/x/ca.pem");
  gmulti_transfer_set_tls_client_certificate (transfer, "/x/c.pem", "/x/k.pem");
  g_assert_cmpstr (gmulti_transfer_get_tls_client_certificate (transfer), ==, "/x/c.pem");
  g_assert_cmpstr (gmulti_transfer_get_tls_client_key (transfer), ==, "/x/k.pem");

  c = gmulti_tls_config_new_from_transfer (transfer, NULL);
  g_assert_false (gmulti_tls_config_equal (a, c));
  g_assert_false (c->verify);
  {
    g_autofree char *expected = g_strdup (a->priority);

    g_assert_cmpstr (c->priority, ==, expected);

    /* A snapshot: later changes to the transfer do not reach it. */
    gmulti_transfer_set_tls_priority (transfer, "SECURE256");
    gmulti_transfer_set_tls_min_version (transfer, GMULTI_TLS_VERSION_TLS_1_3);
    g_assert_cmpstr (c->priority, ==, expected);
  }
  d = gmulti_tls_config_new_from_transfer (transfer, NULL);
  g_assert_cmpstr (d->priority, ==,
                   "SECURE256:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.2");
  g_assert_false (gmulti_tls_config_equal (c, d));

  /* Clearing the certificate clears the key. */
  gmulti_transfer_set_tls_client_certificate (transfer, NULL, "/x/k.pem");
  g_assert_null (gmulti_transfer_get_tls_client_key (transfer));
}

/* Runs alike share one config; any option that differs, own or default, builds anew. */
static void
test_config_cache (void)
{
  GMultiTlsConfigCache cache = { 0 };
  GMultiTlsOptions own, defaults;
  GMultiTlsConfig *a, *b, *c, *d, *e;
  GError *error = NULL;

  gmulti_tls_options_init (&own);
  gmulti_tls_options_init (&defaults);
  gmulti_tls_options_set_ca_file (&own, "/x/ca.pem");

  a = gmulti_tls_config_cache_get (&cache, &own, &defaults, &error);
  g_assert_no_error (error);
  b = gmulti_tls_config_cache_get (&cache, &own, &defaults, &error);
  g_assert_true (a == b);
  g_assert_cmpstr (a->ca_file, ==, "/x/ca.pem");

  /* The cache keeps a copy of the options: changing the caller's is a miss. */
  gmulti_tls_options_set_ca_file (&own, "/y/ca.pem");
  c = gmulti_tls_config_cache_get (&cache, &own, &defaults, &error);
  g_assert_true (c != a);
  g_assert_cmpstr (c->ca_file, ==, "/y/ca.pem");
  g_assert_cmpstr (a->ca_file, ==, "/x/ca.pem");

  /* A default that changed, and no defaults at all. */
  gmulti_tls_options_set_min_version (&defaults, GMULTI_TLS_VERSION_TLS_1_3);
  d = gmulti_tls_config_cache_get (&cache, &own, &defaults, &error);
  g_assert_true (d != c);
  g_assert_true (g_str_has_suffix (d->priority, ":-VERS-TLS1.2"));
  e = gmulti_tls_config_cache_get (&cache, &own, NULL, &error);
  g_assert_true (e != d);
  g_assert_false (gmulti_tls_config_equal (d, e));
  gmulti_tls_config_unref (e);
  e = gmulti_tls_config_cache_get (&cache, &own, NULL, &error);
  g_assert_false (gmulti_tls_config_equal (d, e));

  /* A malformed pin still fails every time, and leaves the cache as it was. */
  gmulti_tls_options_set_pinned_public_key (&own, "sha256//nonsense");
  g_assert_null (gmulti_tls_config_cache_get (&cache, &own, NULL, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (gmulti_tls_config_cache_get (&cache, &own, NULL, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (cache.config == e);

  gmulti_tls_config_cache_clear (&cache);
  g_assert_null (cache.config);
  gmulti_tls_config_unref (a);
  gmulti_tls_config_unref (b);
  gmulti_tls_config_unref (c);
  gmulti_tls_config_unref (d);
  gmulti_tls_config_unref (e);
  gmulti_tls_options_clear (&own);
  gmulti_tls_options_clear (&defaults);
}

static guint n_notifies;

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  n_notifies++;
}

static void
test_config_notify (void)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("https://localhost/");

  g_signal_connect (transfer, "notify::tls-verify", G_CALLBACK (notify_cb), NULL);
  g_signal_connect (transfer, "notify::tls-pinned-public-key", G_CALLBACK (notify_cb), NULL);
  n_notifies = 0;
  gmulti_transfer_set_tls_verify (transfer, TRUE);     /* no change */
  g_assert_cmpuint (n_notifies, ==, 0);
  gmulti_transfer_set_tls_verify (transfer, FALSE);
  g_assert_cmpuint (n_notifies, ==, 1);
  gmulti_transfer_set_tls_pinned_public_key (transfer, "sha256//x");
  gmulti_transfer_set_tls_pinned_public_key (transfer, "sha256//x");
  g_assert_cmpuint (n_notifies, ==, 2);
}

/* ---------------------------------------------------------------- fixture */

static void
make_certs (void)
{
  certs_dir = test_certs_make ();
}

static void
remove_certs (void)
{
  test_certs_remove (g_steal_pointer (&certs_dir));
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  make_certs ();

  g_test_add_func ("/GMulti/Tls/valid-chain", test_valid_chain);
  g_test_add_func ("/GMulti/Tls/untrusted", test_untrusted);
  g_test_add_func ("/GMulti/Tls/system-trust-untrusted", test_system_trust_untrusted);
  g_test_add_func ("/GMulti/Tls/wrong-host", test_wrong_host);
  g_test_add_func ("/GMulti/Tls/expired", test_expired);
  g_test_add_func ("/GMulti/Tls/not-yet-valid", test_not_yet_valid);
  g_test_add_func ("/GMulti/Tls/verify-opt-out", test_verify_opt_out);
  g_test_add_func ("/GMulti/Tls/pin", test_pin);
  g_test_add_func ("/GMulti/Tls/pin-syntax", test_pin_syntax);
  g_test_add_func ("/GMulti/Tls/client-certificate", test_client_certificate);
  g_test_add_func ("/GMulti/Tls/bad-files", test_bad_files);
  g_test_add_func ("/GMulti/Tls/priority", test_priority);
  g_test_add_func ("/GMulti/Tls/old-versions", test_old_versions);
  g_test_add_func ("/GMulti/Tls/resumption", test_resumption);
  g_test_add_func ("/GMulti/Tls/resumption-tls12", test_resumption_tls12);
  g_test_add_func ("/GMulti/Tls/big-body", test_big_body);
  g_test_add_func ("/GMulti/Tls/upload", test_upload);
  g_test_add_func ("/GMulti/Tls/one-byte-records", test_one_byte_records);
  g_test_add_func ("/GMulti/Tls/pending", test_pending);
  g_test_add_func ("/GMulti/Tls/close-without-notify", test_close_without_notify);
  g_test_add_func ("/GMulti/Tls/end-after-data", test_end_after_data);
  g_test_add_func ("/GMulti/Tls/close-notify-sent", test_close_notify_sent);
  g_test_add_func ("/GMulti/Tls/config", test_config);
  g_test_add_func ("/GMulti/Tls/config-cache", test_config_cache);
  g_test_add_func ("/GMulti/Tls/config-notify", test_config_notify);

  ret = g_test_run ();
  remove_certs ();
  return ret;
}
