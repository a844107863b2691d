/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The transport link chain (gmulti/transport/) on its own: the TLS link over an
 * in-memory link, talking to a GnuTLS server session in the same thread over the
 * same memory; the TCP link's connection attempts over loopback; and the pool key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <glib/gstdio.h>

#include "gmulti-transfer-private.h"
#include "gmulti-error.h"
#include "gmulti-pool-key.h"
#include "tls/gmulti-tls-context.h"
#include "transport/gmulti-tcp-link.h"
#include "transport/gmulti-tls-link.h"
#include "transport/gmulti-unix-link.h"
#include "test-certs.h"

#define WAIT_MS 15000

static char *certs_dir;

static char *
cert (const char *name)
{
  return g_build_filename (certs_dir, name, NULL);
}

/* ------------------------------------------------------------- memory link */

/* One direction of an in-memory stream. @capacity 0: no limit. */
typedef struct {
  GByteArray *data;
  gsize capacity;
  gboolean closed;             /* the writer ended it: reads return 0 once empty */
} Pipe;

static Pipe *
pipe_new (void)
{
  Pipe *pipe = g_new0 (Pipe, 1);

  pipe->data = g_byte_array_new ();
  return pipe;
}

static void
pipe_free (Pipe *pipe)
{
  g_byte_array_unref (pipe->data);
  g_free (pipe);
}

static gssize
pipe_read (Pipe   *pipe,
           guint8 *buffer,
           gsize   length)
{
  gsize n = MIN (length, pipe->data->len);

  if (n == 0)
    {
      if (pipe->closed)
        return 0;
      errno = EAGAIN;
      return -1;
    }
  memcpy (buffer, pipe->data->data, n);
  g_byte_array_remove_range (pipe->data, 0, (guint) n);
  return (gssize) n;
}

static gssize
pipe_write (Pipe               *pipe,
            const struct iovec *iov,
            int                 n_iov)
{
  gsize total = 0;

  for (int i = 0; i < n_iov; i++)
    {
      gsize room = pipe->capacity == 0 ? G_MAXSIZE : pipe->capacity - pipe->data->len;
      gsize n = MIN (room, iov[i].iov_len);

      g_byte_array_append (pipe->data, iov[i].iov_base, (guint) n);
      total += n;
      if (n < iov[i].iov_len)
        break;
    }
  if (total == 0)
    {
      errno = EAGAIN;
      return -1;
    }
  return (gssize) total;
}

/* The bottom of a chain, over two pipes. */
typedef struct {
  GMultiLink link;
  Pipe *in;
  Pipe *out;
  gboolean fail_recv;          /* the next recv fails */
  guint n_recv;
  guint n_send;
} MemLink;

static GMultiLinkStatus
mem_open (GMultiLink      *link,
          GMultiLinkOpen  *io,
          GError         **error)
{
  return GMULTI_LINK_DONE;
}

static gssize
mem_recv (GMultiLink  *link,
          guint8      *buffer,
          gsize        length,
          GError     **error)
{
  MemLink *self = (MemLink *) link;

  self->n_recv++;
  if (self->fail_recv)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_RECEIVE_FAILED, "reset");
      errno = ECONNRESET;
      return -1;
    }
  return pipe_read (self->in, buffer, length);
}

static gssize
mem_send (GMultiLink          *link,
          const struct iovec  *iov,
          int                  n_iov,
          GError             **error)
{
  MemLink *self = (MemLink *) link;

  self->n_send++;
  return pipe_write (self->out, iov, n_iov);
}

/* Only the required ops: the rest are the defaults under test. */
static const GMultiLinkOps mem_ops = {
  .name = "memory",
  .open = mem_open,
  .recv = mem_recv,
  .send = mem_send,
};

static MemLink *
mem_link_new (Pipe *in,
              Pipe *out)
{
  MemLink *self = g_new0 (MemLink, 1);

  self->link.ops = &mem_ops;
  self->in = in;
  self->out = out;
  return self;
}

/* ------------------------------------------------------------- TLS fixture */

/* A client chain (TLS link over a memory link) and a GnuTLS server session over the
 * other ends of the same pipes. */
typedef struct {
  Pipe *to_server;
  Pipe *to_client;
  MemLink *mem;
  GMultiLink *tls;
  GMultiTlsContext *context;
  gnutls_certificate_credentials_t server_credentials;
  gnutls_session_t server;
} Fixture;

static ssize_t
server_pull_cb (gnutls_transport_ptr_t  ptr,
                void                   *data,
                size_t                  size)
{
  Fixture *fixture = ptr;
  gssize n = pipe_read (fixture->to_server, data, size);

  if (n < 0)
    gnutls_transport_set_errno (fixture->server, EAGAIN);
  return n;
}

static ssize_t
server_push_cb (gnutls_transport_ptr_t  ptr,
                const void             *data,
                size_t                  size)
{
  Fixture *fixture = ptr;
  struct iovec iov = { (void *) data, size };
  gssize n = pipe_write (fixture->to_client, &iov, 1);

  if (n < 0)
    gnutls_transport_set_errno (fixture->server, EAGAIN);
  return n;
}

static GMultiTlsConfig *
client_config (void)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("https://localhost/");
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = cert ("ca.pem");
  GMultiTlsConfig *config;

  gmulti_transfer_set_tls_ca_file (transfer, ca);
  config = gmulti_tls_config_new_from_transfer (transfer, &error);
  g_assert_no_error (error);
  return config;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GMultiTlsConfig) config = client_config ();
  g_autoptr(GError) error = NULL;
  g_autofree char *server_cert = cert ("server.pem");
  g_autofree char *server_key = cert ("server-key.pem");

  fixture->to_server = pipe_new ();
  fixture->to_client = pipe_new ();
  fixture->mem = mem_link_new (fixture->to_client, fixture->to_server);
  fixture->context = gmulti_tls_context_new ();
  fixture->tls = gmulti_tls_link_new (&fixture->mem->link, fixture->context, config,
                                      "localhost", 443, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->tls);

  g_assert_cmpint (gnutls_certificate_allocate_credentials (&fixture->server_credentials),
                   ==, 0);
  g_assert_cmpint (gnutls_certificate_set_x509_key_file (fixture->server_credentials,
                                                         server_cert, server_key,
                                                         GNUTLS_X509_FMT_PEM), ==, 0);
  g_assert_cmpint (gnutls_init (&fixture->server, GNUTLS_SERVER | GNUTLS_NONBLOCK), ==, 0);
  g_assert_cmpint (gnutls_set_default_priority (fixture->server), ==, 0);
  g_assert_cmpint (gnutls_credentials_set (fixture->server, GNUTLS_CRD_CERTIFICATE,
                                           fixture->server_credentials), ==, 0);
  gnutls_transport_set_ptr (fixture->server, fixture);
  gnutls_transport_set_pull_function (fixture->server, server_pull_cb);
  gnutls_transport_set_push_function (fixture->server, server_push_cb);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_pointer (&fixture->tls, gmulti_link_free_chain);
  gnutls_deinit (fixture->server);
  gnutls_certificate_free_credentials (fixture->server_credentials);
  gmulti_tls_context_unref (fixture->context);
  pipe_free (fixture->to_server);
  pipe_free (fixture->to_client);
}

/* Steps both sides in turn until both finished the handshake. */
static void
handshake (Fixture *fixture)
{
  gboolean client_done = FALSE, server_done = FALSE;

  for (guint i = 0; i < 100 && !(client_done && server_done); i++)
    {
      if (!client_done)
        {
          g_autoptr(GError) error = NULL;
          GMultiLinkOpen io = { .ready_fd = -1 };
          GMultiLinkStatus status = gmulti_link_open (fixture->tls, &io, &error);

          g_assert_no_error (error);
          g_assert_cmpint (status, !=, GMULTI_LINK_ERROR);
          /* The TLS link makes no sockets and sets no deadline. */
          g_assert_cmpuint (io.n_opened, ==, 0);
          g_assert_cmpuint (io.n_given_up, ==, 0);
          g_assert_cmpint (io.deadline, ==, -1);
          client_done = status == GMULTI_LINK_DONE;
        }
      if (!server_done)
        {
          int ret = gnutls_handshake (fixture->server);

          g_assert_true (ret == 0 || ret == GNUTLS_E_AGAIN);
          server_done = ret == 0;
        }
    }
  g_assert_true (client_done);
  g_assert_true (server_done);
  /* Every byte of it went through the link below. */
  g_assert_cmpuint (fixture->mem->n_send, >, 0);
  g_assert_cmpuint (fixture->mem->n_recv, >, 0);
}

/* What the server decrypts of what the client sent so far. */
static GString *
server_read (Fixture *fixture)
{
  GString *got = g_string_new (NULL);

  for (;;)
    {
      char buffer[4096];
      ssize_t n = gnutls_record_recv (fixture->server, buffer, sizeof buffer);

      if (n > 0)
        {
          g_string_append_len (got, buffer, n);
          continue;
        }
      g_assert_cmpint (n, ==, GNUTLS_E_AGAIN);
      return got;
    }
}

static void
server_send (Fixture    *fixture,
             const char *text)
{
  g_assert_cmpint (gnutls_record_send (fixture->server, text, strlen (text)), ==,
                   (gssize) strlen (text));
}

/* Reads through the chain until @length bytes came or it would wait. */
static GString *
client_read (Fixture *fixture,
             gsize    length)
{
  GString *got = g_string_new (NULL);

  while (got->len < length)
    {
      g_autoptr(GError) error = NULL;
      guint8 buffer[4096];
      gssize n = gmulti_link_recv (fixture->tls, buffer, sizeof buffer, &error);

      if (n > 0)
        {
          g_string_append_len (got, (const char *) buffer, n);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, -1);
      g_assert_cmpint (errno, ==, EAGAIN);
      break;
    }
  return got;
}

static void
test_tls_send_recv (Fixture       *fixture,
                    gconstpointer  data)
{
  struct iovec iov[2] = { { (void *) "pi", 2 }, { (void *) "ng", 2 } };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) to_server = NULL;
  g_autoptr(GString) to_client = NULL;
  guint n_send;

  handshake (fixture);
  g_assert_false (gmulti_link_has_records (&fixture->mem->link));
  g_assert_true (gmulti_link_has_records (fixture->tls));
  g_assert_true (gmulti_link_bottom (fixture->tls) == &fixture->mem->link);

  n_send = fixture->mem->n_send;
  g_assert_cmpint (gmulti_link_send (fixture->tls, iov, 2, &error), ==, 4);
  g_assert_no_error (error);
  /* Corked: both pieces leave in one write of the link below, encrypted. */
  g_assert_cmpuint (fixture->mem->n_send, ==, n_send + 1);
  g_assert_null (memmem (fixture->to_server->data->data, fixture->to_server->data->len,
                         "ping", 4));
  to_server = server_read (fixture);
  g_assert_cmpstr (to_server->str, ==, "ping");

  /* Nothing there yet: EAGAIN, no error. */
  to_client = client_read (fixture, 1);
  g_assert_cmpuint (to_client->len, ==, 0);
  g_string_free (g_steal_pointer (&to_client), TRUE);

  server_send (fixture, "pong");
  to_client = client_read (fixture, 4);
  g_assert_cmpstr (to_client->str, ==, "pong");
  g_assert_cmpuint (gmulti_link_pending (fixture->tls), ==, 0);
  g_assert_cmpuint (gmulti_link_interest (fixture->tls), ==, GMULTI_LINK_INTEREST_NONE);
}

/* The zero-copy road: one record, left in GnuTLS's packet. */
static void
test_tls_record (Fixture       *fixture,
                 gconstpointer  data)
{
  GMultiTlsRecord record = { NULL, NULL };
  g_autoptr(GError) error = NULL;
  gssize n;

  handshake (fixture);
  server_send (fixture, "first");
  server_send (fixture, "second");

  /* Session tickets may come first: they are taken in silently. */
  n = gmulti_link_recv_record (fixture->tls, &record, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 5);
  g_assert_cmpmem (record.data, 5, "first", 5);
  gmulti_tls_record_clear (&record);
  /* The second record waits inside, where no socket would say so. */
  g_assert_cmpuint (gmulti_link_pending (fixture->tls), >, 0);
  g_assert_cmpuint (gmulti_link_buffered (fixture->tls), >, 0);

  n = gmulti_link_recv_record (fixture->tls, &record, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 6);
  g_assert_cmpmem (record.data, 6, "second", 6);
  gmulti_tls_record_clear (&record);
  g_assert_cmpuint (gmulti_link_pending (fixture->tls), ==, 0);
}

/* The TCP connection ends without close_notify: an end of stream like any other, told
 * apart only by eof_was_clean(). */
static void
test_tls_eof_unclean (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GString) got = NULL;
  g_autoptr(GError) error = NULL;
  guint8 byte;

  handshake (fixture);
  server_send (fixture, "partial");
  fixture->to_client->closed = TRUE;

  got = client_read (fixture, 7);
  g_assert_cmpstr (got->str, ==, "partial");
  g_assert_cmpint (gmulti_link_recv (fixture->tls, &byte, 1, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_false (gmulti_link_eof_was_clean (fixture->tls));
}

static void
test_tls_eof_clean (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GString) got = NULL;
  g_autoptr(GError) error = NULL;
  guint8 byte;

  handshake (fixture);
  server_send (fixture, "whole");
  g_assert_cmpint (gnutls_bye (fixture->server, GNUTLS_SHUT_WR), ==, 0);
  fixture->to_client->closed = TRUE;

  got = client_read (fixture, 5);
  g_assert_cmpstr (got->str, ==, "whole");
  g_assert_cmpint (gmulti_link_recv (fixture->tls, &byte, 1, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_true (gmulti_link_eof_was_clean (fixture->tls));
}

/* The link below is full: the records wait, interest() asks for writability whatever
 * the protocol waits for, and flush() sends them once there is room. */
static void
test_tls_write_blocked (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *payload = g_strnfill (20000, 'x');
  struct iovec iov = { payload, 20000 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) got = g_string_new (NULL);

  handshake (fixture);
  fixture->to_server->capacity = fixture->to_server->data->len + 1000;

  g_assert_cmpint (gmulti_link_send (fixture->tls, &iov, 1, &error), ==, 20000);
  g_assert_no_error (error);
  g_assert_cmpuint (gmulti_link_interest (fixture->tls), ==, GMULTI_LINK_INTEREST_WRITE);
  g_assert_cmpint (gmulti_link_flush (fixture->tls, &error), ==, GMULTI_LINK_WANT_WRITE);
  g_assert_no_error (error);
  /* More is refused until those are out. */
  g_assert_cmpint (gmulti_link_send (fixture->tls, &iov, 1, &error), ==, -1);
  g_assert_no_error (error);
  g_assert_cmpint (errno, ==, EAGAIN);

  fixture->to_server->capacity = 0;
  g_assert_cmpint (gmulti_link_flush (fixture->tls, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  g_assert_cmpuint (gmulti_link_interest (fixture->tls), ==, GMULTI_LINK_INTEREST_NONE);

  while (got->len < 20000)
    {
      g_autoptr(GString) more = server_read (fixture);

      g_assert_cmpuint (more->len, >, 0);
      g_string_append_len (got, more->str, more->len);
    }
  g_assert_cmpstr (got->str, ==, payload);
}

/* A failure of the link below is the TLS link's failure, with its reason. */
static void
test_tls_lower_failure (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint8 byte;

  handshake (fixture);
  fixture->mem->fail_recv = TRUE;
  g_assert_cmpint (gmulti_link_recv (fixture->tls, &byte, 1, &error), ==, -1);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_RECEIVE_FAILED);
  g_assert_cmpint (errno, ==, ECONNRESET);
  g_assert_nonnull (strstr (error->message, g_strerror (ECONNRESET)));
}

/* ---------------------------------------------------------------- defaults */

static void
test_defaults (void)
{
  Pipe *in = pipe_new (), *out = pipe_new ();
  MemLink *mem = mem_link_new (in, out);
  g_autoptr(GError) error = NULL;
  guint8 byte;

  g_assert_cmpuint (gmulti_link_pending (&mem->link), ==, 0);
  g_assert_cmpuint (gmulti_link_buffered (&mem->link), ==, 0);
  g_assert_cmpuint (gmulti_link_unseen_max (&mem->link), ==, 0);
  g_assert_cmpuint (gmulti_link_interest (&mem->link), ==, GMULTI_LINK_INTEREST_NONE);
  g_assert_cmpint (gmulti_link_flush (&mem->link, &error), ==, GMULTI_LINK_DONE);
  g_assert_false (gmulti_link_has_records (&mem->link));
  g_assert_true (gmulti_link_bottom (&mem->link) == &mem->link);
  gmulti_link_trim (&mem->link, FALSE);

  /* A plain stream that ends has ended cleanly. */
  in->closed = TRUE;
  g_assert_cmpint (gmulti_link_recv (&mem->link, &byte, 1, &error), ==, 0);
  g_assert_true (gmulti_link_eof_was_clean (&mem->link));
  g_assert_no_error (error);

  gmulti_link_free_chain (&mem->link);
  pipe_free (in);
  pipe_free (out);
}

/* --------------------------------------------------------------- TCP link */

static void
loopback (GMultiAddress *address,
          guint16        port)
{
  struct sockaddr_in *sin = (struct sockaddr_in *) &address->addr;

  memset (address, 0, sizeof *address);
  address->family = AF_INET;
  address->addrlen = sizeof *sin;
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sin->sin_port = htons (port);
}

/* A listening socket on 127.0.0.1 and its port. */
static int
listen_loopback (guint16 *port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_no_errno (bind (fd, (struct sockaddr *) &sin, sizeof sin));
  g_assert_no_errno (listen (fd, 8));
  g_assert_no_errno (getsockname (fd, (struct sockaddr *) &sin, &len));
  *port = ntohs (sin.sin_port);
  return fd;
}

/* A port nobody listens on (connecting is refused). */
static guint16
refused_port (void)
{
  guint16 port;
  int fd = listen_loopback (&port);

  close (fd);
  return port;
}

static void
wait_writable (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLOUT };

  g_assert_cmpint (poll (&pfd, 1, WAIT_MS), ==, 1);
}

/* A refused address, then one that answers: the first attempt is given up, the next
 * address started at once, and the winner is the link's socket. */
static void
test_tcp_next_address (void)
{
  guint16 port;
  int listener = listen_loopback (&port);
  GMultiAddress addresses[2];
  GMultiLink *tcp;
  GMultiLinkOpen io = { .now = 1000, .ready_fd = -1 };
  g_autoptr(GError) error = NULL;
  int first, second, server;
  guint8 buffer[16];

  loopback (&addresses[0], refused_port ());
  loopback (&addresses[1], port);
  tcp = gmulti_tcp_link_new_connect (addresses, 2);
  g_assert_cmpint (gmulti_tcp_link_get_fd (tcp), ==, -1);

  g_assert_cmpint (gmulti_link_open (tcp, &io, &error), ==, GMULTI_LINK_WANT_WRITE);
  g_assert_no_error (error);
  g_assert_cmpuint (io.n_opened, ==, 1);
  g_assert_cmpuint (io.n_given_up, ==, 0);
  /* Another address is left: the next attempt is due in 250 ms. */
  g_assert_cmpint (io.deadline, ==, 1000 + GMULTI_TCP_LINK_ATTEMPT_DELAY_US);
  first = io.opened[0];

  wait_writable (first);
  io.ready_fd = first;
  g_assert_cmpint (gmulti_link_open (tcp, &io, &error), ==, GMULTI_LINK_WANT_WRITE);
  g_assert_no_error (error);
  g_assert_cmpuint (io.n_given_up, ==, 1);
  g_assert_cmpint (io.given_up[0], ==, first);
  g_assert_cmpuint (io.n_opened, ==, 1);
  /* The last address: no deadline any more. */
  g_assert_cmpint (io.deadline, ==, 0);
  second = io.opened[0];
  close (first);

  wait_writable (second);
  io.ready_fd = second;
  g_assert_cmpint (gmulti_link_open (tcp, &io, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  g_assert_cmpint (gmulti_tcp_link_get_fd (tcp), ==, second);
  g_assert_cmpint (io.deadline, ==, 0);

  /* Bytes both ways, EAGAIN when there are none, and a clean end. */
  server = accept (listener, NULL, NULL);
  g_assert_cmpint (server, >=, 0);
  g_assert_cmpint (gmulti_link_recv (tcp, buffer, sizeof buffer, &error), ==, -1);
  g_assert_no_error (error);
  g_assert_cmpint (errno, ==, EAGAIN);
  g_assert_cmpint (gmulti_link_send (tcp, &(struct iovec) { (void *) "hi", 2 }, 1, &error),
                   ==, 2);
  g_assert_cmpint (read (server, buffer, sizeof buffer), ==, 2);
  g_assert_cmpint (write (server, "yo", 2), ==, 2);
  close (server);
  {
    struct pollfd pfd = { .fd = second, .events = POLLIN };

    g_assert_cmpint (poll (&pfd, 1, WAIT_MS), ==, 1);
  }
  g_assert_cmpint (gmulti_link_recv (tcp, buffer, sizeof buffer, &error), ==, 2);
  g_assert_cmpmem (buffer, 2, "yo", 2);
  g_assert_cmpint (gmulti_link_recv (tcp, buffer, sizeof buffer, &error), ==, 0);
  g_assert_true (gmulti_link_eof_was_clean (tcp));
  g_assert_true (gmulti_tcp_link_set_low_water (tcp, 4096));

  /* The link never closes a socket: that is the owner's job. */
  gmulti_link_free_chain (tcp);
  g_assert_no_errno (fcntl (second, F_GETFD));
  close (second);
  close (listener);
}

/* The deadline starts the next attempt beside the first; the first to connect wins
 * and the other is given up. */
static void
test_tcp_attempt_delay (void)
{
  guint16 port;
  int listener = listen_loopback (&port);
  GMultiAddress addresses[2];
  GMultiLink *tcp;
  GMultiLinkOpen io = { .now = 1, .ready_fd = -1 };
  g_autoptr(GError) error = NULL;
  int first, second;

  loopback (&addresses[0], port);
  loopback (&addresses[1], port);
  tcp = gmulti_tcp_link_new_connect (addresses, 2);

  g_assert_cmpint (gmulti_link_open (tcp, &io, &error), ==, GMULTI_LINK_WANT_WRITE);
  first = io.opened[0];
  /* The deadline: the second attempt, beside the first. */
  io.ready_fd = -1;
  g_assert_cmpint (gmulti_link_open (tcp, &io, &error), ==, GMULTI_LINK_WANT_WRITE);
  g_assert_cmpuint (io.n_opened, ==, 1);
  g_assert_cmpuint (io.n_given_up, ==, 0);
  second = io.opened[0];
  g_assert_cmpint (second, !=, first);

  wait_writable (first);
  io.ready_fd = first;
  g_assert_cmpint (gmulti_link_open (tcp, &io, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  g_assert_cmpuint (io.n_given_up, ==, 1);
  g_assert_cmpint (io.given_up[0], ==, second);
  g_assert_cmpint (gmulti_tcp_link_get_fd (tcp), ==, first);

  gmulti_link_free_chain (tcp);
  close (first);
  close (second);
  close (listener);
}

static void
test_tcp_all_fail (void)
{
  GMultiAddress address;
  GMultiLink *tcp;
  GMultiLinkOpen io = { .ready_fd = -1 };
  g_autoptr(GError) error = NULL;
  int fd;

  loopback (&address, refused_port ());
  tcp = gmulti_tcp_link_new_connect (&address, 1);
  g_assert_cmpint (gmulti_link_open (tcp, &io, &error), ==, GMULTI_LINK_WANT_WRITE);
  g_assert_cmpint (io.deadline, ==, 0);
  fd = io.opened[0];

  wait_writable (fd);
  io.ready_fd = fd;
  g_assert_cmpint (gmulti_link_open (tcp, &io, &error), ==, GMULTI_LINK_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_cmpuint (io.n_given_up, ==, 1);
  g_assert_cmpint (io.given_up[0], ==, fd);
  close (fd);
  gmulti_link_free_chain (tcp);
}

/* The Unix-socket sibling: the same open steps to a path, and the same I/O. */
static void
test_unix (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gmulti-link-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "socket", NULL);
  g_autofree char *too_long = g_strnfill (200, 'x');
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  GMultiLinkOpen io = { .ready_fd = -1 };
  g_autoptr(GError) error = NULL;
  GMultiLink *link;
  int listener, server, fd;
  guint8 buffer[8];

  g_assert_null (gmulti_unix_link_new (too_long, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Nobody listens yet: refused. */
  link = gmulti_unix_link_new (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gmulti_link_open (link, &io, &error), ==, GMULTI_LINK_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  gmulti_link_free_chain (link);

  listener = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  g_assert_no_errno (bind (listener, (struct sockaddr *) &sun, sizeof sun));
  g_assert_no_errno (listen (listener, 1));

  link = gmulti_unix_link_new (path, &error);
  g_assert_cmpstr (link->ops->name, ==, "unix");
  g_assert_cmpint (gmulti_link_open (link, &io, &error), ==, GMULTI_LINK_WANT_WRITE);
  g_assert_no_error (error);
  g_assert_cmpuint (io.n_opened, ==, 1);
  fd = io.opened[0];
  wait_writable (fd);
  io.ready_fd = fd;
  g_assert_cmpint (gmulti_link_open (link, &io, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  g_assert_cmpint (gmulti_tcp_link_get_fd (link), ==, fd);

  server = accept (listener, NULL, NULL);
  g_assert_cmpint (server, >=, 0);
  g_assert_cmpint (gmulti_link_send (link, &(struct iovec) { (void *) "up", 2 }, 1, &error),
                   ==, 2);
  g_assert_cmpint (read (server, buffer, sizeof buffer), ==, 2);
  g_assert_cmpmem (buffer, 2, "up", 2);
  close (server);
  {
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    g_assert_cmpint (poll (&pfd, 1, WAIT_MS), ==, 1);
  }
  g_assert_cmpint (gmulti_link_recv (link, buffer, sizeof buffer, &error), ==, 0);
  g_assert_no_error (error);

  gmulti_link_free_chain (link);
  close (fd);
  close (listener);
  g_unlink (path);
  g_rmdir (dir);
}

/* ---------------------------------------------------------------- pool key */

static GMultiTlsConfig *
config_with_ca (const char *ca)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("https://localhost/");

  gmulti_transfer_set_tls_ca_file (transfer, ca);
  return gmulti_tls_config_new_from_transfer (transfer, NULL);
}

static void
test_pool_key (void)
{
  g_autoptr(GMultiTlsConfig) a = config_with_ca (NULL);
  g_autoptr(GMultiTlsConfig) b = config_with_ca (NULL);     /* equal, another object */
  g_autoptr(GMultiTlsConfig) other = config_with_ca ("/nonexistent/ca.pem");
  g_autofree char *host = g_strdup ("example.com");
  GMultiPoolKey key, same, k;
  GMultiPoolKey *copy;

  g_assert_true (a != b);
  gmulti_pool_key_init (&key, TRUE, "example.com", 443, "", a);
  gmulti_pool_key_init (&same, TRUE, host, 443, NULL, b);
  g_assert_true (gmulti_pool_key_equal (&key, &same));
  g_assert_cmpuint (gmulti_pool_key_hash (&key), ==, gmulti_pool_key_hash (&same));

  /* Each part counts. */
  gmulti_pool_key_init (&k, TRUE, "example.com", 443, "", other);
  g_assert_false (gmulti_pool_key_equal (&key, &k));
  g_assert_cmpuint (gmulti_pool_key_hash (&key), !=, gmulti_pool_key_hash (&k));
  /* Equal hashes do not make equal settings. */
  {
    guint saved = other->hash;

    other->hash = a->hash;
    gmulti_pool_key_init (&k, TRUE, "example.com", 443, "", other);
    g_assert_cmpuint (gmulti_pool_key_hash (&key), ==, gmulti_pool_key_hash (&k));
    g_assert_false (gmulti_pool_key_equal (&key, &k));
    other->hash = saved;
  }
  gmulti_pool_key_init (&k, TRUE, "example.org", 443, "", a);
  g_assert_false (gmulti_pool_key_equal (&key, &k));
  gmulti_pool_key_init (&k, TRUE, "example.com", 8443, "", a);
  g_assert_false (gmulti_pool_key_equal (&key, &k));
  gmulti_pool_key_init (&k, TRUE, "example.com", 443, "proxy", a);
  g_assert_false (gmulti_pool_key_equal (&key, &k));
  gmulti_pool_key_init (&k, FALSE, "example.com", 443, "", NULL);
  g_assert_false (gmulti_pool_key_equal (&key, &k));

  /* The protocols it may speak: HTTP/1.1 only, or prior knowledge, are apart. */
  gmulti_pool_key_init (&k, TRUE, "example.com", 443, "", a);
  gmulti_pool_key_set_http (&k, GMULTI_POOL_HTTP_1_ONLY);
  g_assert_false (gmulti_pool_key_equal (&key, &k));
  g_assert_cmpuint (gmulti_pool_key_hash (&key), !=, gmulti_pool_key_hash (&k));
  gmulti_pool_key_set_http (&k, GMULTI_POOL_HTTP_ANY);
  g_assert_true (gmulti_pool_key_equal (&key, &k));
  g_assert_cmpuint (gmulti_pool_key_hash (&key), ==, gmulti_pool_key_hash (&k));
  gmulti_pool_key_init (&k, FALSE, "example.com", 80, "", NULL);
  gmulti_pool_key_init (&same, FALSE, "example.com", 80, "", NULL);
  gmulti_pool_key_set_http (&same, GMULTI_POOL_HTTP_2_PRIOR);
  g_assert_false (gmulti_pool_key_equal (&k, &same));
  copy = gmulti_pool_key_copy (&same);
  g_assert_true (gmulti_pool_key_equal (copy, &same));
  gmulti_pool_key_free (copy);

  /* Plain http ignores TLS settings. */
  gmulti_pool_key_init (&k, FALSE, "example.com", 80, "", a);
  gmulti_pool_key_init (&same, FALSE, "example.com", 80, "", NULL);
  g_assert_true (gmulti_pool_key_equal (&k, &same));

  /* A copy owns its parts and stays equal after the original's are gone. */
  gmulti_pool_key_init (&k, TRUE, host, 443, "", b);
  copy = gmulti_pool_key_copy (&k);
  g_clear_pointer (&host, g_free);
  g_clear_pointer (&b, gmulti_tls_config_unref);
  g_assert_true (gmulti_pool_key_equal (copy, &key));
  g_assert_cmpuint (gmulti_pool_key_hash (copy), ==, gmulti_pool_key_hash (&key));

  /* As a hash table key: one entry per key. */
  {
    g_autoptr(GHashTable) table = g_hash_table_new_full (gmulti_pool_key_hash,
                                                         gmulti_pool_key_equal,
                                                         (GDestroyNotify) gmulti_pool_key_free,
                                                         NULL);

    g_hash_table_insert (table, copy, GINT_TO_POINTER (1));
    g_assert_true (g_hash_table_lookup (table, &key) == GINT_TO_POINTER (1));
    gmulti_pool_key_init (&k, TRUE, "example.com", 443, "", other);
    g_assert_null (g_hash_table_lookup (table, &k));
  }
}

/* ----------------------------------------------------------------- main */

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

#define ADD_TLS(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD_TLS ("/GMulti/Link/tls-send-recv", test_tls_send_recv);
  ADD_TLS ("/GMulti/Link/tls-record", test_tls_record);
  ADD_TLS ("/GMulti/Link/tls-eof-unclean", test_tls_eof_unclean);
  ADD_TLS ("/GMulti/Link/tls-eof-clean", test_tls_eof_clean);
  ADD_TLS ("/GMulti/Link/tls-write-blocked", test_tls_write_blocked);
  ADD_TLS ("/GMulti/Link/tls-lower-failure", test_tls_lower_failure);
#undef ADD_TLS
  g_test_add_func ("/GMulti/Link/defaults", test_defaults);
  g_test_add_func ("/GMulti/Link/tcp-next-address", test_tcp_next_address);
  g_test_add_func ("/GMulti/Link/tcp-attempt-delay", test_tcp_attempt_delay);
  g_test_add_func ("/GMulti/Link/tcp-all-fail", test_tcp_all_fail);
  g_test_add_func ("/GMulti/Link/unix", test_unix);
  g_test_add_func ("/GMulti/Link/pool-key", test_pool_key);

  ret = g_test_run ();
  test_certs_remove (g_steal_pointer (&certs_dir));
  return ret;
}
