/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SOCKS link (gmulti/transport/gmulti-socks-link.c) on its own, over a TCP link:
 * against scripted SOCKS servers for each answer a proxy can give, and against real
 * ones (danted for SOCKS5 and SOCKS5h, microsocks for RFC 1929) when installed; then
 * whole transfers through them with the proxy-uri property. danted speaks SOCKS4 but
 * not SOCKS4a: that one is scripted.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "gmulti.h"
#include "gmulti-proxy.h"
#include "transport/gmulti-socks-link.h"
#include "transport/gmulti-tcp-link.h"
#include "test-certs.h"
#include "test-daemons.h"
#include "test-server.h"
#include "test-wait.h"

#define WAIT_MS 10000

static char *certs_dir;

/* ------------------------------------------------------------ driving a link */

static int
connect_loopback (guint16 port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (fcntl (fd, F_SETFL, O_NONBLOCK), ==, 0);
  return fd;
}

static GMultiAddress
loopback_address (guint16 port)
{
  GMultiAddress address = { 0 };
  struct sockaddr_in *sin = (struct sockaddr_in *) &address.addr;

  sin->sin_family = AF_INET;
  sin->sin_port = htons (port);
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  address.addrlen = sizeof *sin;
  return address;
}

typedef struct {
  int fd;
  GMultiLink *link;
  guint n_waits;               /* how often open() asked to wait */
} Tunnel;

/* A SOCKS link of @uri's proxy (its PORT replaced) over a TCP connection to @proxy_port, to @host:@port
 * (by address for socks5://, by name otherwise). */
static Tunnel
tunnel_new (const char *uri,
            guint16     proxy_port,
            const char *host,
            guint16     port)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *port_text = g_strdup_printf ("%u", proxy_port);
  g_auto(GStrv) parts = g_strsplit (uri, "PORT", -1);
  g_autofree char *full = g_strjoinv (port_text, parts);
  g_autoptr(GMultiProxy) proxy = gmulti_proxy_new_from_uri (full, &error);
  Tunnel tunnel = { 0 };
  GMultiAddress address = loopback_address (port);

  g_assert_no_error (error);
  tunnel.fd = connect_loopback (proxy_port);
  tunnel.link = gmulti_socks_link_new (gmulti_tcp_link_new_for_fd (tunnel.fd), proxy,
                                       host, port,
                                       proxy->kind == GMULTI_PROXY_SOCKS5 ? &address : NULL);
  g_assert_nonnull (tunnel.link);
  return tunnel;
}

static void
tunnel_free (Tunnel *tunnel)
{
  gmulti_link_free_chain (tunnel->link);
  close (tunnel->fd);
}

/* Opens @tunnel as an engine would: poll for what open() asks for, bounded. */
static GMultiLinkStatus
tunnel_open (Tunnel  *tunnel,
             GError **error)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  for (;;)
    {
      GMultiLinkOpen io = { .now = g_get_monotonic_time (), .ready_fd = tunnel->fd };
      GMultiLinkStatus status = gmulti_link_open (tunnel->link, &io, error);
      struct pollfd pfd = { .fd = tunnel->fd };

      if (status == GMULTI_LINK_DONE || status == GMULTI_LINK_ERROR)
        return status;
      tunnel->n_waits++;
      pfd.events = status == GMULTI_LINK_WANT_READ ? POLLIN : POLLOUT;
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_assert_cmpint (poll (&pfd, 1, WAIT_MS), ==, 1);
    }
}

static void
tunnel_send_all (Tunnel     *tunnel,
                 const char *text)
{
  gsize done = 0, length = strlen (text);

  while (done < length)
    {
      struct iovec iov = { (void *) (text + done), length - done };
      g_autoptr(GError) error = NULL;
      gssize n = gmulti_link_send (tunnel->link, &iov, 1, &error);
      struct pollfd pfd = { .fd = tunnel->fd, .events = POLLOUT };

      g_assert_no_error (error);
      if (n > 0)
        done += (gsize) n;
      else
        g_assert_cmpint (poll (&pfd, 1, WAIT_MS), ==, 1);
    }
}

/* Everything until the end of the stream, or @until is seen. */
static char *
tunnel_read (Tunnel     *tunnel,
             const char *until)
{
  GString *text = g_string_new (NULL);

  for (;;)
    {
      guint8 buffer[4096];
      g_autoptr(GError) error = NULL;
      gssize n = gmulti_link_recv (tunnel->link, buffer, sizeof buffer, &error);
      struct pollfd pfd = { .fd = tunnel->fd, .events = POLLIN };

      g_assert_no_error (error);
      if (n == 0)
        break;
      if (n > 0)
        {
          g_string_append_len (text, (const char *) buffer, n);
          if (until != NULL && strstr (text->str, until) != NULL)
            break;
          continue;
        }
      g_assert_cmpint (errno, ==, EAGAIN);
      g_assert_cmpint (poll (&pfd, 1, WAIT_MS), ==, 1);
    }
  return g_string_free (text, FALSE);
}

/* ------------------------------------------------------- scripted servers */

/* One answer of a script: written after each message the client sends. A NULL
 * @data closes the connection instead; @trickle sends it a byte at a time. */
typedef struct {
  const char *data;
  gsize length;
  gboolean trickle;
  gboolean then_close;         /* close right after writing it */
} Answer;

#define ANSWER(literal) { literal, sizeof literal - 1, FALSE, FALSE }
#define TRICKLE(literal) { literal, sizeof literal - 1, TRUE, FALSE }
#define ANSWER_THEN_CLOSE(literal) { literal, sizeof literal - 1, FALSE, TRUE }
#define CLOSE { NULL, 0, FALSE, FALSE }

typedef struct {
  const Answer *answers;
  guint n_answers;
  GMutex lock;
  GByteArray *received;        /* every message the client sent, in order */
  GPtrArray *messages;         /* each one, as GBytes */
} Script;

static void
script_server_cb (TestServer *server,
                  TestConn   *conn,
                  gpointer    user_data)
{
  Script *script = user_data;

  for (guint i = 0; i < script->n_answers; i++)
    {
      g_autoptr(GBytes) message = test_conn_read_some (conn, WAIT_MS);
      const Answer *answer = &script->answers[i];

      if (message == NULL)
        return;
      g_mutex_lock (&script->lock);
      g_ptr_array_add (script->messages, g_bytes_ref (message));
      g_mutex_unlock (&script->lock);
      if (answer->data == NULL)
        {
          test_conn_close (conn);
          return;
        }
      if (answer->trickle)
        test_conn_trickle (conn, answer->data, answer->length, 2);
      else
        test_conn_write (conn, answer->data, answer->length);
      if (answer->then_close)
        {
          test_conn_close (conn);
          return;
        }
    }
  /* Then echo one message back, as an origin would answer. */
  {
    g_autoptr(GBytes) message = test_conn_read_some (conn, WAIT_MS);

    if (message != NULL)
      test_conn_write (conn, g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  }
}

typedef struct {
  Script script;
  TestServer *server;
  Tunnel tunnel;
} Scripted;

static void
scripted_start (Scripted     *run,
                const Answer *answers,
                guint         n_answers,
                const char   *uri,
                const char   *host)
{
  memset (run, 0, sizeof *run);
  run->script.answers = answers;
  run->script.n_answers = n_answers;
  g_mutex_init (&run->script.lock);
  run->script.messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  run->server = test_server_new_raw (TEST_SERVER_IPV4, script_server_cb, &run->script);
  run->tunnel = tunnel_new (uri, test_server_get_port (run->server), host, 8080);
}

/* How many messages the server got. */
static guint
scripted_finish (Scripted *run)
{
  guint n;

  tunnel_free (&run->tunnel);
  test_server_free (run->server);
  n = run->script.messages->len;
  g_ptr_array_unref (run->script.messages);
  g_mutex_clear (&run->script.lock);
  return n;
}

static void
assert_message (Scripted   *run,
                guint       index,
                const void *expected,
                gsize       length)
{
  GBytes *message;

  g_assert_cmpuint (run->script.messages->len, >, index);
  message = run->script.messages->pdata[index];
  g_assert_cmpmem (g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                   expected, length);
}

#define ASSERT_MESSAGE(run, index, literal) \
  assert_message (run, index, literal, sizeof literal - 1)

/* The script's answers; the tunnel must fail with @code and a message holding
 * @needle. */
static void
expect_failure (const Answer *answers,
                guint         n_answers,
                const char   *uri,
                gint          code,
                const char   *needle)
{
  Scripted run;
  g_autoptr(GError) error = NULL;

  scripted_start (&run, answers, n_answers, uri, "origin.test");
  g_assert_cmpint (tunnel_open (&run.tunnel, &error), ==, GMULTI_LINK_ERROR);
  g_assert_error (error, GMULTI_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
  /* The proxy is named, its password never. */
  g_assert_nonnull (strstr (error->message, "127.0.0.1:"));
  g_assert_null (strstr (error->message, "s3cret"));
  scripted_finish (&run);
}

/* SOCKS5 without authentication to an address resolved here; the reply is followed
 * at once by the origin's first bytes, which must reach the caller. */
static void
test_socks5_address (void)
{
  static const Answer answers[] = {
    ANSWER ("\x05\x00"),
    ANSWER ("\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38" "HELLO"),
  };
  Scripted run;
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *echo = NULL;

  scripted_start (&run, answers, G_N_ELEMENTS (answers), "socks5://127.0.0.1:PORT",
                  "origin.test");
  g_assert_cmpint (tunnel_open (&run.tunnel, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  ASSERT_MESSAGE (&run, 0, "\x05\x01\x00");
  /* CONNECT 127.0.0.1:8080 by address. */
  ASSERT_MESSAGE (&run, 1, "\x05\x01\x00\x01\x7f\x00\x00\x01\x1f\x90");
  first = tunnel_read (&run.tunnel, "HELLO");
  g_assert_cmpstr (first, ==, "HELLO");
  tunnel_send_all (&run.tunnel, "ping");
  echo = tunnel_read (&run.tunnel, "ping");
  g_assert_cmpstr (echo, ==, "ping");
  scripted_finish (&run);
}

/* SOCKS5h sends the name; a bound address given as a name is read to its end, and
 * answers that come a byte at a time are waited for. */
static void
test_socks5h_name (void)
{
  static const Answer answers[] = {
    TRICKLE ("\x05\x00"),
    TRICKLE ("\x05\x00\x00\x03\x05proxy\x00\x50" "HI"),
  };
  Scripted run;
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;

  scripted_start (&run, answers, G_N_ELEMENTS (answers), "socks5h://127.0.0.1:PORT",
                  "origin.test");
  g_assert_cmpint (tunnel_open (&run.tunnel, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  g_assert_cmpuint (run.tunnel.n_waits, >, 4);
  ASSERT_MESSAGE (&run, 1, "\x05\x01\x00\x03\x0borigin.test\x1f\x90");
  first = tunnel_read (&run.tunnel, "HI");
  g_assert_cmpstr (first, ==, "HI");
  scripted_finish (&run);
}

/* A bound IPv6 address. */
static void
test_socks5_bound_ipv6 (void)
{
  static const Answer answers[] = {
    ANSWER ("\x05\x00"),
    ANSWER ("\x05\x00\x00\x04" "0123456789abcdef" "\x00\x50" "X"),
  };
  Scripted run;
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;

  scripted_start (&run, answers, G_N_ELEMENTS (answers), "socks5h://127.0.0.1:PORT",
                  "origin.test");
  g_assert_cmpint (tunnel_open (&run.tunnel, &error), ==, GMULTI_LINK_DONE);
  first = tunnel_read (&run.tunnel, "X");
  g_assert_cmpstr (first, ==, "X");
  scripted_finish (&run);
}

/* RFC 1929: the user and password go out as given, and the proxy's yes is taken. */
static void
test_socks5_password (void)
{
  static const Answer answers[] = {
    ANSWER ("\x05\x02"),
    ANSWER ("\x01\x00"),
    ANSWER ("\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"),
  };
  Scripted run;
  g_autoptr(GError) error = NULL;

  scripted_start (&run, answers, G_N_ELEMENTS (answers),
                  "socks5h://al%40ice:s3cret@127.0.0.1:PORT", "origin.test");
  g_assert_cmpint (tunnel_open (&run.tunnel, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  ASSERT_MESSAGE (&run, 0, "\x05\x02\x00\x02");
  ASSERT_MESSAGE (&run, 1, "\x01\x06" "al@ice" "\x06" "s3cret");
  ASSERT_MESSAGE (&run, 2, "\x05\x01\x00\x03\x0borigin.test\x1f\x90");
  scripted_finish (&run);
}

static void
test_socks5_password_refused (void)
{
  static const Answer answers[] = {
    ANSWER ("\x05\x02"),
    ANSWER ("\x01\x01"),
  };

  expect_failure (answers, G_N_ELEMENTS (answers), "socks5h://alice:s3cret@127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_AUTH_REQUIRED, "refused the user name and password");
}

/* 0xFF: no method acceptable, with or without a user to offer. */
static void
test_socks5_no_method (void)
{
  static const Answer answers[] = { ANSWER ("\x05\xff") };

  expect_failure (answers, G_N_ELEMENTS (answers), "socks5h://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_AUTH_REQUIRED, "requires a user name and password");
  expect_failure (answers, G_N_ELEMENTS (answers), "socks5h://alice:s3cret@127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_AUTH_REQUIRED, "none of the authentication methods");
}

/* Each reply code of RFC 1928, and one it does not define, named in the message. */
static void
test_socks5_reply_codes (void)
{
  static const char *const names[] = {
    NULL, "general SOCKS server failure", "connection not allowed",
    "network unreachable", "host unreachable",
    "connection refused by the destination host (5)", "TTL expired",
    "command not supported", "address type not supported", "unknown reply code (9)",
  };

  for (guint code = 1; code <= 9; code++)
    {
      char reply[] = "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38";
      Answer answers[] = { ANSWER ("\x05\x00"), { reply, sizeof reply - 1, FALSE, FALSE } };

      reply[1] = (char) code;
      expect_failure (answers, G_N_ELEMENTS (answers), "socks5://127.0.0.1:PORT",
                      GMULTI_ERROR_PROXY_SOCKS_FAILED, names[code]);
    }
  {
    /* A refusal cut short after its code still says why. */
    static const Answer answers[] = { ANSWER ("\x05\x00"), ANSWER_THEN_CLOSE ("\x05\x05") };

    expect_failure (answers, G_N_ELEMENTS (answers), "socks5://127.0.0.1:PORT",
                    GMULTI_ERROR_PROXY_SOCKS_FAILED, "(5)");
  }
}

static void
test_socks5_malformed (void)
{
  static const Answer bad_version[] = { ANSWER ("\x04\x00") };
  static const Answer bad_method[] = { ANSWER ("\x05\x03") };
  static const Answer bad_reply_version[] = {
    ANSWER ("\x05\x00"), ANSWER ("\x04\x00\x00\x01\x7f\x00\x00\x01\x04\x38"),
  };
  static const Answer bad_address_type[] = {
    ANSWER ("\x05\x00"), ANSWER ("\x05\x00\x00\x07\x7f\x00\x00\x01\x04\x38"),
  };
  static const Answer bad_auth_version[] = { ANSWER ("\x05\x02"), ANSWER ("\x05\x00") };

  expect_failure (bad_version, G_N_ELEMENTS (bad_version), "socks5h://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_PROTOCOL, "version 4");
  expect_failure (bad_method, G_N_ELEMENTS (bad_method), "socks5h://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_PROTOCOL, "not offered (3)");
  expect_failure (bad_reply_version, G_N_ELEMENTS (bad_reply_version),
                  "socks5h://127.0.0.1:PORT", GMULTI_ERROR_PROXY_PROTOCOL, "version 4");
  expect_failure (bad_address_type, G_N_ELEMENTS (bad_address_type),
                  "socks5h://127.0.0.1:PORT", GMULTI_ERROR_PROXY_PROTOCOL,
                  "unknown address type (7)");
  expect_failure (bad_auth_version, G_N_ELEMENTS (bad_auth_version),
                  "socks5h://u:s3cret@127.0.0.1:PORT", GMULTI_ERROR_PROXY_PROTOCOL,
                  "version 5");
}

/* The proxy closes in the middle of each answer. */
static void
test_closed_mid_handshake (void)
{
  static const Answer at_greeting[] = { CLOSE };
  static const Answer in_reply[] = { ANSWER ("\x05\x00"), ANSWER_THEN_CLOSE ("\x05\x00\x00") };
  static const Answer in_address[] = {
    ANSWER ("\x05\x00"), ANSWER_THEN_CLOSE ("\x05\x00\x00\x01\x7f\x00"),
  };
  static const Answer socks4[] = { ANSWER_THEN_CLOSE ("\x00\x5a\x00") };

  expect_failure (at_greeting, G_N_ELEMENTS (at_greeting), "socks5h://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_CONNECT_FAILED, "closed the connection");
  expect_failure (in_reply, G_N_ELEMENTS (in_reply), "socks5h://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_CONNECT_FAILED, "closed the connection");
  expect_failure (in_address, G_N_ELEMENTS (in_address), "socks5h://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_CONNECT_FAILED, "closed the connection");
  expect_failure (socks4, G_N_ELEMENTS (socks4), "socks4a://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_CONNECT_FAILED, "closed the connection");
}

/* SOCKS4a: the name after the user id, which is the proxy's user; the 8-byte reply
 * is all that is read. */
static void
test_socks4a (void)
{
  static const Answer answers[] = { ANSWER ("\x00\x5a\x00\x00\x00\x00\x00\x00" "DATA") };
  Scripted run;
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;

  scripted_start (&run, answers, G_N_ELEMENTS (answers), "socks4a://bob@127.0.0.1:PORT",
                  "origin.test");
  g_assert_cmpint (tunnel_open (&run.tunnel, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  assert_message (&run, 0, "\x04\x01\x1f\x90\x00\x00\x00\x01" "bob\0" "origin.test",
                  8 + 4 + 12);
  first = tunnel_read (&run.tunnel, "DATA");
  g_assert_cmpstr (first, ==, "DATA");
  scripted_finish (&run);
}

static void
test_socks4a_refused (void)
{
  static const Answer rejected[] = { ANSWER ("\x00\x5b\x00\x00\x00\x00\x00\x00") };
  static const Answer identd[] = { ANSWER ("\x00\x5d\x00\x00\x00\x00\x00\x00") };
  static const Answer bad_version[] = { ANSWER ("\x05\x5a\x00\x00\x00\x00\x00\x00") };
  static const Answer bad_code[] = { ANSWER ("\x00\x01\x00\x00\x00\x00\x00\x00") };

  expect_failure (rejected, G_N_ELEMENTS (rejected), "socks4a://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_SOCKS_FAILED, "rejected or failed (91)");
  expect_failure (identd, G_N_ELEMENTS (identd), "socks4a://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_AUTH_REQUIRED, "user id (93)");
  expect_failure (bad_version, G_N_ELEMENTS (bad_version), "socks4a://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_PROTOCOL, "version 5");
  expect_failure (bad_code, G_N_ELEMENTS (bad_code), "socks4a://127.0.0.1:PORT",
                  GMULTI_ERROR_PROXY_PROTOCOL, "unknown code (1)");
}

/* Over 255 bytes, a name, user or password cannot be sent: the first open() says so
 * and nothing reaches the proxy. */
static void
test_too_long (void)
{
  g_autofree char *long_host = g_strnfill (256, 'h');
  g_autofree char *long_user = g_strnfill (256, 'u');
  g_autofree char *user_uri = g_strdup_printf ("socks5h://%s:pw@127.0.0.1:PORT", long_user);
  g_autofree char *password_uri = g_strdup_printf ("socks5h://u:%s@127.0.0.1:PORT",
                                                   long_user);
  struct {
    const char *uri;
    const char *host;
    const char *needle;
  } cases[] = {
    { "socks5h://127.0.0.1:PORT", long_host, "host name is too long" },
    { "socks4a://127.0.0.1:PORT", long_host, "host name is too long" },
    { user_uri, "origin.test", "user name is too long" },
    { password_uri, "origin.test", "password is too long" },
  };
  static const Answer answers[] = { CLOSE };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Scripted run;
      g_autoptr(GError) error = NULL;

      scripted_start (&run, answers, G_N_ELEMENTS (answers), cases[i].uri, cases[i].host);
      g_assert_cmpint (tunnel_open (&run.tunnel, &error), ==, GMULTI_LINK_ERROR);
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      g_assert_null (strstr (error->message, long_user));
      g_assert_cmpuint (scripted_finish (&run), ==, 0);
    }
  {
    /* 255 bytes still go. */
    g_autofree char *host = g_strnfill (255, 'h');
    static const Answer ok[] = {
      ANSWER ("\x05\x00"), ANSWER ("\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"),
    };
    Scripted run;
    g_autoptr(GError) error = NULL;

    scripted_start (&run, ok, G_N_ELEMENTS (ok), "socks5h://127.0.0.1:PORT", host);
    g_assert_cmpint (tunnel_open (&run.tunnel, &error), ==, GMULTI_LINK_DONE);
    g_assert_no_error (error);
    scripted_finish (&run);
  }
}

/* --------------------------------------------------------- real servers */

static const char danted_config[] =
  "logoutput: stderr\n"
  "internal: 127.0.0.1 port = PORT\n"
  "external: 127.0.0.1\n"
  "clientmethod: none\n"
  "socksmethod: none\n"
  "user.unprivileged: nobody\n"
  "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
  "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n";

static gboolean
danted_start (Daemon *daemon)
{
  static const char *const args[] = { "-f", "CONF", "-N", "1", NULL };

  return daemon_start (daemon, "danted", danted_config, args);
}

static gboolean
origin_cb (TestServer  *server,
           TestConn    *conn,
           TestRequest *req,
           gpointer     user_data)
{
  g_autofree char *body = g_strdup_printf ("origin saw %s", req->target);

  test_conn_respond (conn, 200, "text/plain", body, strlen (body));
  return FALSE;
}

/* One HTTP/1.1 exchange through the tunnel to the origin. */
static void
assert_exchange (Tunnel     *tunnel,
                 const char *host)
{
  g_autofree char *request = g_strdup_printf ("GET /through HTTP/1.1\r\nHost: %s\r\n"
                                              "Connection: close\r\n\r\n", host);
  g_autofree char *response = NULL;

  tunnel_send_all (tunnel, request);
  response = tunnel_read (tunnel, NULL);
  g_assert_true (g_str_has_prefix (response, "HTTP/1.1 200"));
  g_assert_nonnull (strstr (response, "origin saw /through"));
}

static void
run_real (guint16     proxy_port,
          const char *uri,
          const char *host)
{
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_cb, NULL);
  Tunnel tunnel = tunnel_new (uri, proxy_port, host, test_server_get_port (origin));
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (tunnel_open (&tunnel, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  assert_exchange (&tunnel, host);
  tunnel_free (&tunnel);
}

static void
test_danted_socks5 (void)
{
  Daemon daemon;

  if (!danted_start (&daemon))
    return;
  run_real (daemon.port, "socks5://127.0.0.1:PORT", "127.0.0.1");
  daemon_stop (&daemon);
}

/* The name goes to the proxy: "localhost", the one name it resolves on loopback. */
static void
test_danted_socks5h (void)
{
  Daemon daemon;

  if (!danted_start (&daemon))
    return;
  run_real (daemon.port, "socks5h://127.0.0.1:PORT", "localhost");
  daemon_stop (&daemon);
}

/* danted refuses what it cannot reach, with a SOCKS reply code. */
static void
test_danted_refused (void)
{
  Daemon daemon;
  g_autoptr(GError) error = NULL;
  Tunnel tunnel;

  if (!danted_start (&daemon))
    return;
  tunnel = tunnel_new ("socks5://127.0.0.1:PORT", daemon.port, "127.0.0.1", free_port ());
  g_assert_cmpint (tunnel_open (&tunnel, &error), ==, GMULTI_LINK_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_SOCKS_FAILED);
  g_test_message ("%s", error->message);
  tunnel_free (&tunnel);
  daemon_stop (&daemon);
}

/* RFC 1929 against microsocks: the right password opens, a wrong one is refused. */
static void
test_microsocks_password (void)
{
  static const char *const args[] = {
    "-i", "127.0.0.1", "-p", "PORT", "-u", "alice", "-P", "s3cret", NULL,
  };
  g_autoptr(GError) error = NULL;
  Daemon daemon;
  Tunnel tunnel;

  if (!daemon_start (&daemon, "microsocks", NULL, args))
    return;
  run_real (daemon.port, "socks5://alice:s3cret@127.0.0.1:PORT", "127.0.0.1");
  run_real (daemon.port, "socks5h://alice:s3cret@127.0.0.1:PORT", "localhost");

  tunnel = tunnel_new ("socks5h://alice:wrong@127.0.0.1:PORT", daemon.port, "localhost", 80);
  g_assert_cmpint (tunnel_open (&tunnel, &error), ==, GMULTI_LINK_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED);
  g_assert_null (strstr (error->message, "wrong"));
  tunnel_free (&tunnel);
  g_clear_error (&error);

  tunnel = tunnel_new ("socks5h://127.0.0.1:PORT", daemon.port, "localhost", 80);
  g_assert_cmpint (tunnel_open (&tunnel, &error), ==, GMULTI_LINK_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED);
  tunnel_free (&tunnel);
  daemon_stop (&daemon);
}

/* ---------------------------------------------------- whole transfers */

static gboolean
origin_named_cb (TestServer  *server,
                 TestConn    *conn,
                 TestRequest *req,
                 gpointer     user_data)
{
  g_autofree char *body = g_strdup_printf ("%s %s from %s", req->method, req->target,
                                           (const char *) user_data);

  return test_conn_respond (conn, 200, "text/plain", body, strlen (body));
}

static TestServer *
origin_tls_new (const char *name)
{
  g_autofree char *cert = g_build_filename (certs_dir, "server.pem", NULL);
  g_autofree char *key = g_build_filename (certs_dir, "server-key.pem", NULL);
  TestTlsOptions tls = { .cert_file = cert, .key_file = key };

  return test_server_new_tls (TEST_SERVER_IPV4, &tls, origin_named_cb, (gpointer) name);
}

/* @origin's @path, by @host (with its port). */
static char *
origin_uri (TestServer *origin,
            const char *host,
            const char *path)
{
  return g_strdup_printf ("%s://%s:%u%s", test_server_is_tls (origin) ? "https" : "http",
                          host, test_server_get_port (origin), path);
}

/* Runs @uri through @proxy (its PORT replaced by @proxy_port) to the end. */
static GMultiTransfer *
fetch (GMultiSession *session,
       const char    *proxy,
       guint16        proxy_port,
       const char    *uri)
{
  g_autofree char *port_text = g_strdup_printf ("%u", proxy_port);
  g_auto(GStrv) parts = g_strsplit (proxy, "PORT", -1);
  g_autofree char *proxy_uri = g_strjoinv (port_text, parts);
  g_autofree char *ca = g_build_filename (certs_dir, "ca.pem", NULL);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  gmulti_transfer_set_tls_ca_file (transfer, ca);
  g_object_set (transfer, "proxy-uri", proxy_uri, NULL);
  g_assert_true (gmulti_session_add (session, transfer, NULL));
  RUN_UNTIL (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE, WAIT_MS);
  return transfer;
}

static void
assert_body (GMultiTransfer *transfer,
             const char     *expected)
{
  g_autoptr(GBytes) body = NULL;

  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  body = gmulti_transfer_get_response_body (transfer);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   expected, strlen (expected));
}

static guint64
connection_of (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (transfer));
}

static gboolean
reused (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (transfer));
}

/* http:// and https:// through danted, the origin's name resolved here (socks5://)
 * and by the proxy (socks5h://): TLS runs over the tunnel and is checked against
 * the origin's name. */
static void
test_session_danted (void)
{
  g_autoptr(TestServer) plain = test_server_new (TEST_SERVER_IPV4, origin_named_cb, "plain");
  g_autoptr(TestServer) secure = origin_tls_new ("secure");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  struct {
    const char *proxy;
    TestServer *origin;
    const char *host;
    const char *body;
  } cases[] = {
    { "socks5://127.0.0.1:PORT", plain, "127.0.0.1", "GET /a from plain" },
    { "socks5://127.0.0.1:PORT", secure, "127.0.0.1", "GET /a from secure" },
    { "socks5h://127.0.0.1:PORT", plain, "localhost", "GET /a from plain" },
    { "socks5h://127.0.0.1:PORT", secure, "localhost", "GET /a from secure" },
    { "socks://127.0.0.1:PORT", plain, "localhost", "GET /a from plain" },
  };
  Daemon daemon;

  if (!danted_start (&daemon))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *uri = origin_uri (cases[i].origin, cases[i].host, "/a");
      g_autoptr(GMultiTransfer) transfer = fetch (session, cases[i].proxy, daemon.port, uri);

      g_test_message ("%s through %s", uri, cases[i].proxy);
      assert_body (transfer, cases[i].body);
    }
  {
    g_autofree char *sni = test_server_get_last_sni (secure);

    g_assert_cmpstr (sni, ==, "localhost");
  }
  g_clear_object (&session);
  daemon_stop (&daemon);
}

/* A tunnel is the origin's: the same origin reuses it, another one gets its own. */
static void
test_session_reuse (void)
{
  g_autoptr(TestServer) a = origin_tls_new ("a");
  g_autoptr(TestServer) b = test_server_new (TEST_SERVER_IPV4, origin_named_cb, "b");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) first = NULL;
  g_autoptr(GMultiTransfer) again = NULL;
  g_autoptr(GMultiTransfer) other = NULL;
  g_autofree char *uri_a = NULL;
  g_autofree char *uri_b = NULL;
  Daemon daemon;

  if (!danted_start (&daemon))
    return;
  uri_a = origin_uri (a, "localhost", "/1");
  uri_b = origin_uri (b, "localhost", "/2");
  first = fetch (session, "socks5h://127.0.0.1:PORT", daemon.port, uri_a);
  assert_body (first, "GET /1 from a");
  again = fetch (session, "socks5h://127.0.0.1:PORT", daemon.port, uri_a);
  assert_body (again, "GET /1 from a");
  g_assert_true (reused (again));
  g_assert_cmpuint (connection_of (again), ==, connection_of (first));
  g_assert_cmpuint (test_server_get_n_tls_handshakes (a), ==, 1);
  other = fetch (session, "socks5h://127.0.0.1:PORT", daemon.port, uri_b);
  assert_body (other, "GET /2 from b");
  g_assert_false (reused (other));
  g_assert_cmpuint (connection_of (other), !=, connection_of (first));
  g_clear_object (&session);
  daemon_stop (&daemon);
}

/* RFC 1929 from the URI's user and password, through microsocks. */
static void
test_session_password (void)
{
  static const char *const args[] = {
    "-i", "127.0.0.1", "-p", "PORT", "-u", "alice", "-P", "s3cret", NULL,
  };
  g_autoptr(TestServer) secure = origin_tls_new ("secure");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) ok = NULL;
  g_autoptr(GMultiTransfer) refused = NULL;
  g_autofree char *uri = NULL;
  Daemon daemon;

  if (!daemon_start (&daemon, "microsocks", NULL, args))
    return;
  uri = origin_uri (secure, "localhost", "/p");
  ok = fetch (session, "socks5h://alice:s3cret@127.0.0.1:PORT", daemon.port, uri);
  assert_body (ok, "GET /p from secure");
  /* A new session: the pool key holds no password, so the same one would reuse the
   * tunnel opened above. */
  g_clear_object (&session);
  session = gmulti_session_new ();
  refused = fetch (session, "socks5h://alice:wrong@127.0.0.1:PORT", daemon.port, uri);
  g_assert_error (gmulti_transfer_get_error (refused), GMULTI_ERROR,
                  GMULTI_ERROR_PROXY_AUTH_REQUIRED);
  g_clear_object (&session);
  daemon_stop (&daemon);
}

/* SOCKS4a, scripted (danted does not speak it): the proxy answers, then serves the
 * request itself as the origin would. */
static void
socks4a_origin_cb (TestServer *server,
                   TestConn   *conn,
                   gpointer    user_data)
{
  GString *seen = user_data;
  g_autoptr(GBytes) request = test_conn_read_some (conn, WAIT_MS);
  g_autoptr(TestRequest) req = NULL;

  if (request == NULL)
    return;
  g_string_append_len (seen, g_bytes_get_data (request, NULL), g_bytes_get_size (request));
  test_conn_write (conn, "\x00\x5a\x00\x00\x00\x00\x00\x00", 8);
  req = test_conn_read_request (conn, WAIT_MS);
  if (req != NULL)
    test_conn_respond (conn, 200, "text/plain", "four-a", 6);
}

static void
test_session_socks4a (void)
{
  GString *seen = g_string_new (NULL);
  TestServer *proxy = test_server_new_raw (TEST_SERVER_IPV4, socks4a_origin_cb, seen);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;

  transfer = fetch (session, "socks4a://bob@127.0.0.1:PORT", test_server_get_port (proxy),
                    "http://origin.test:8080/x");
  assert_body (transfer, "four-a");
  g_clear_object (&session);
  test_server_free (proxy);
  /* The name went to the proxy, after the user id. */
  g_assert_cmpmem (seen->str, seen->len,
                   "\x04\x01\x1f\x90\x00\x00\x00\x01" "bob\0" "origin.test", 8 + 4 + 12);
  g_string_free (seen, TRUE);
}

/* What a transfer says when the proxy refuses or is not there. */
static void
test_session_errors (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) refused = NULL;
  g_autoptr(GMultiTransfer) no_proxy = NULL;
  g_autofree char *closed = g_strdup_printf ("http://127.0.0.1:%u/", free_port ());
  Daemon daemon;

  no_proxy = fetch (session, "socks5h://127.0.0.1:PORT", free_port (), "http://localhost/");
  g_assert_error (gmulti_transfer_get_error (no_proxy), GMULTI_ERROR,
                  GMULTI_ERROR_PROXY_CONNECT_FAILED);
  if (!danted_start (&daemon))
    return;
  refused = fetch (session, "socks5://127.0.0.1:PORT", daemon.port, closed);
  g_assert_error (gmulti_transfer_get_error (refused), GMULTI_ERROR,
                  GMULTI_ERROR_PROXY_SOCKS_FAILED);
  g_test_message ("%s", gmulti_transfer_get_error (refused)->message);
  g_clear_object (&session);
  daemon_stop (&daemon);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

  g_test_add_func ("/GMulti/Socks/socks5-address", test_socks5_address);
  g_test_add_func ("/GMulti/Socks/socks5h-name", test_socks5h_name);
  g_test_add_func ("/GMulti/Socks/socks5-bound-ipv6", test_socks5_bound_ipv6);
  g_test_add_func ("/GMulti/Socks/socks5-password", test_socks5_password);
  g_test_add_func ("/GMulti/Socks/socks5-password-refused", test_socks5_password_refused);
  g_test_add_func ("/GMulti/Socks/socks5-no-method", test_socks5_no_method);
  g_test_add_func ("/GMulti/Socks/socks5-reply-codes", test_socks5_reply_codes);
  g_test_add_func ("/GMulti/Socks/socks5-malformed", test_socks5_malformed);
  g_test_add_func ("/GMulti/Socks/closed-mid-handshake", test_closed_mid_handshake);
  g_test_add_func ("/GMulti/Socks/socks4a", test_socks4a);
  g_test_add_func ("/GMulti/Socks/socks4a-refused", test_socks4a_refused);
  g_test_add_func ("/GMulti/Socks/too-long", test_too_long);
  g_test_add_func ("/GMulti/Socks/danted-socks5", test_danted_socks5);
  g_test_add_func ("/GMulti/Socks/danted-socks5h", test_danted_socks5h);
  g_test_add_func ("/GMulti/Socks/danted-refused", test_danted_refused);
  g_test_add_func ("/GMulti/Socks/microsocks-password", test_microsocks_password);
  g_test_add_func ("/GMulti/Socks/Session/danted", test_session_danted);
  g_test_add_func ("/GMulti/Socks/Session/reuse", test_session_reuse);
  g_test_add_func ("/GMulti/Socks/Session/password", test_session_password);
  g_test_add_func ("/GMulti/Socks/Session/socks4a", test_session_socks4a);
  g_test_add_func ("/GMulti/Socks/Session/errors", test_session_errors);

  ret = g_test_run ();
  test_certs_remove (g_steal_pointer (&certs_dir));
  return ret;
}
