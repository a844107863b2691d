/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "gmulti.h"
#include "engine-loop.h"
#include "test-server.h"
#include "test-certs.h"

/* https:// through the engine and the session: verification outcomes as error codes,
 * pooled and resumed connections, bulk data, one-byte records, and an unclean close. */

/* 100 MiB; less under valgrind, where it would take minutes (the same code runs). */
static guint64 bulk_size = 100 * 1024 * 1024;

static char *certs_dir;

static char *
cert (const char *name)
{
  return g_build_filename (certs_dir, name, NULL);
}

static guint8
pattern_byte (guint64 i)
{
  return (guint8) ((i * 2654435761u) >> 13);
}

/* /small: "secure"; /bulk: bulk_size pattern bytes; /cut: promises 1000 bytes and
 * closes the TCP connection without close_notify after 10; /eof-cut and /eof-clean:
 * a body delimited by the close, "0123456789", then a TCP close without or with
 * close_notify. */
static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  if (g_str_equal (req->target, "/small"))
    return test_conn_respond (conn, 200, "text/plain", "secure", 6);
  if (g_str_equal (req->target, "/bulk"))
    {
      g_autofree guint8 *piece = g_malloc (1024 * 1024);

      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GUINT64_FORMAT "\r\n\r\n",
                        bulk_size);
      for (guint64 off = 0; off < bulk_size; off += 1024 * 1024)
        {
          for (guint i = 0; i < 1024 * 1024; i++)
            piece[i] = pattern_byte (off + i);
          if (!test_conn_write (conn, piece, 1024 * 1024))
            return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (req->target, "/cut"))
    {
      test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
      test_conn_sleep (conn, 100);
      test_conn_close_without_notify (conn);
      return FALSE;
    }
  if (g_str_equal (req->target, "/eof-cut") || g_str_equal (req->target, "/eof-clean"))
    {
      test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789");
      test_conn_sleep (conn, 100);
      if (g_str_equal (req->target, "/eof-cut"))
        test_conn_close_without_notify (conn);
      else
        test_conn_close (conn);
      return FALSE;
    }
  return test_conn_respond (conn, 404, NULL, NULL, 0);
}

static TestServer *
start_server (const char *cert_name,
              gboolean    one_byte_records)
{
  g_autofree char *cert_file = cert (cert_name);
  g_autofree char *key_file = cert ("server-key.pem");
  TestTlsOptions options = {
    .cert_file = cert_file,
    .key_file = key_file,
    .one_byte_records = one_byte_records,
  };

  return test_server_new_tls (TEST_SERVER_IPV4, &options, handler, NULL);
}

static GMultiTransfer *
new_transfer (TestServer *server,
              const char *host,
              const char *path)
{
  g_autofree char *uri = g_strdup_printf ("https://%s:%u%s", host,
                                          test_server_get_port (server), path);
  g_autofree char *ca = cert ("ca.pem");
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  gmulti_transfer_set_tls_ca_file (transfer, ca);
  return transfer;
}

static void
run_one (GMultiTransfer *transfer)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();

  gmulti_engine_add (loop->engine, transfer);
  g_assert_true (engine_loop_run (loop, 120000));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static void
test_valid_and_pooled (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  GMultiTransfer *transfers[6];

  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      transfers[i] = new_transfer (server, "localhost", "/small");
      gmulti_engine_add (loop->engine, transfers[i]);
      /* One after the other: the connection is pooled and reused. */
      g_assert_true (engine_loop_run (loop, 10000));
      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfers[i]));
      g_assert_cmpuint (gmulti_transfer_get_status (transfers[i]), ==, 200);
      {
        g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfers[i]);

        g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "secure", 6);
      }
    }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (test_server_get_n_tls_handshakes (server), ==, 1);
  g_assert_cmpint (gmulti_metrics_get_tls_time (gmulti_transfer_get_metrics (transfers[0])), >, 0);
  g_assert_true (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (transfers[5])));
  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    g_object_unref (transfers[i]);

  /* Closing the engine sends close_notify on the pooled connection. */
  gmulti_engine_close_idle_connections (loop->engine);
  g_assert_true (test_server_wait_open (server, 0, 5000));
  g_assert_cmpuint (test_server_get_n_close_notify (server), >=, 1);
}

static void
test_resumption (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost", "/small");

      gmulti_engine_add (loop->engine, transfer);
      g_assert_true (engine_loop_run (loop, 10000));
      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
      gmulti_engine_remove (loop->engine, transfer);
      /* A new connection each time: only the TLS session can be reused. */
      gmulti_engine_close_idle_connections (loop->engine);
    }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 4);
  g_assert_cmpuint (test_server_get_n_tls_handshakes (server), ==, 4);
  /* One full handshake, then resumed ones. */
  g_assert_cmpuint (test_server_get_n_tls_resumed (server), ==, 3);
}

typedef struct {
  const char *cert;
  const char *host;
  gboolean use_ca;
  gboolean verify;
  int expected;       /* -1: success */
} VerifyCase;

static void
test_verification (void)
{
  static const VerifyCase cases[] = {
    { "untrusted.pem", "localhost", TRUE, TRUE, GMULTI_ERROR_TLS_UNTRUSTED },
    { "server.pem", "localhost", FALSE, TRUE, GMULTI_ERROR_TLS_UNTRUSTED },
    { "wronghost.pem", "127.0.0.1", TRUE, TRUE, GMULTI_ERROR_TLS_HOSTNAME_MISMATCH },
    { "expired.pem", "localhost", TRUE, TRUE, GMULTI_ERROR_TLS_EXPIRED },
    { "notyet.pem", "localhost", TRUE, TRUE, GMULTI_ERROR_TLS_NOT_YET_VALID },
    { "untrusted.pem", "localhost", TRUE, FALSE, -1 },
    { "server.pem", "127.0.0.1", TRUE, TRUE, -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TestServer) server = start_server (cases[i].cert, FALSE);
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, cases[i].host, "/small");
      const GError *error;

      if (!cases[i].use_ca)
        gmulti_transfer_set_tls_ca_file (transfer, NULL);
      gmulti_transfer_set_tls_verify (transfer, cases[i].verify);
      run_one (transfer);
      error = gmulti_transfer_get_error (transfer);
      if (cases[i].expected < 0)
        {
          g_assert_no_error ((GError *) error);
          g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
        }
      else
        {
          g_test_message ("%s: %s", cases[i].cert, error != NULL ? error->message : "no error");
          g_assert_error ((GError *) error, GMULTI_ERROR, cases[i].expected);
          /* The request never left: the server saw no HTTP request. */
          g_assert_cmpuint (test_server_get_n_requests (server), ==, 0);
        }
    }
}

static guint64 bulk_checked;
static gboolean bulk_ok;

static gboolean
check_bulk_cb (GMultiTransfer *transfer,
               const guint8   *data,
               gsize           length,
               gpointer        user_data)
{
  for (gsize i = 0; i < length && bulk_ok; i++)
    if (data[i] != pattern_byte (bulk_checked + i))
      bulk_ok = FALSE;
  bulk_checked += length;
  return TRUE;
}

static void
test_bulk (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost", "/bulk");

  bulk_checked = 0;
  bulk_ok = TRUE;
  gmulti_transfer_set_write_func (transfer, check_bulk_cb, NULL, NULL);
  run_one (transfer);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (bulk_checked, ==, bulk_size);
  g_assert_true (bulk_ok);
}

/* Every byte in its own record: records buffered inside GnuTLS must be read without
 * waiting for the socket (which will not become readable for them). */
static void
test_one_byte_records (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", TRUE);
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost", "/small");
  gint64 start = g_get_monotonic_time ();

  run_one (transfer);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  {
    g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

    g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "secure", 6);
  }
  /* A stall would wait for the server's 10 s idle timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

static void
test_unclean_close (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost", "/cut");

  run_one (transfer);
  g_assert_nonnull (gmulti_transfer_get_error (transfer));
  g_assert_true (gmulti_transfer_get_error (transfer)->domain == GMULTI_ERROR);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 10);
}

/* A body that the close delimits: without close_notify it may have been cut short by
 * an attacker, and fails; with it, it is complete. */
static void
test_unclean_close_delimited (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(GMultiTransfer) cut = new_transfer (server, "localhost", "/eof-cut");
  g_autoptr(GMultiTransfer) clean = new_transfer (server, "localhost", "/eof-clean");

  run_one (cut);
  g_assert_error ((GError *) gmulti_transfer_get_error (cut), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_FAILED);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (cut), ==, 10);

  run_one (clean);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (clean));
  g_assert_cmpuint (gmulti_transfer_get_status (clean), ==, 200);
  {
    g_autoptr(GBytes) body = gmulti_transfer_get_response_body (clean);

    g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                     "0123456789", 10);
  }
}

static void
finished_cb (GMultiSession  *session,
             GMultiTransfer *transfer,
             const GError   *error,
             guint          *left)
{
  (*left)--;
}

/* Many at once through the session, over a few TLS connections. */
static void
test_session_concurrent (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  guint left = 40;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  gmulti_session_set_max_host_connections (session, 4);
  g_signal_connect (session, "transfer-finished", G_CALLBACK (finished_cb), &left);
  for (guint i = 0; i < 40; i++)
    {
      GMultiTransfer *transfer = new_transfer (server, "localhost", "/small");

      g_ptr_array_add (transfers, transfer);
      g_assert_true (gmulti_session_add (session, transfer, NULL));
    }
  while (left > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (left, ==, 0);
  for (guint i = 0; i < transfers->len; i++)
    g_assert_no_error ((GError *) gmulti_transfer_get_error (transfers->pdata[i]));
  g_assert_cmpuint (test_server_get_n_accepted (server), <=, 4);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

/* The session's TLS options reach transfers that leave theirs unset. */
static void
test_session_defaults (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(TestServer) untrusted = start_server ("untrusted.pem", FALSE);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autofree char *ca = cert ("ca.pem");
  g_autofree char *uri = g_strdup_printf ("https://localhost:%u/small",
                                          test_server_get_port (server));
  g_autofree char *untrusted_uri = g_strdup_printf ("https://localhost:%u/small",
                                                    test_server_get_port (untrusted));
  g_autoptr(GMultiTransfer) plain = gmulti_transfer_new (uri);
  g_autoptr(GMultiTransfer) unverified = gmulti_transfer_new (untrusted_uri);
  g_autoptr(GMultiTransfer) refused = gmulti_transfer_new (untrusted_uri);
  guint notifies = 0, left = 1;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_signal_connect (session, "notify::tls-ca-file", G_CALLBACK (count_notify_cb), &notifies);
  g_signal_connect (session, "transfer-finished", G_CALLBACK (finished_cb), &left);
  gmulti_session_set_tls_ca_file (session, ca);
  gmulti_session_set_tls_ca_file (session, ca);
  g_assert_cmpuint (notifies, ==, 1);
  g_assert_cmpstr (gmulti_session_get_tls_ca_file (session), ==, ca);
  g_assert_null (gmulti_transfer_get_tls_ca_file (plain));

  /* The session's CA file makes the server trusted. */
  g_assert_true (gmulti_session_add (session, plain, NULL));
  while (left > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (plain));
  g_assert_cmpuint (gmulti_transfer_get_status (plain), ==, 200);

  /* Still refused by the session's CA... */
  left = 1;
  g_assert_true (gmulti_session_add (session, refused, NULL));
  while (left > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error ((GError *) gmulti_transfer_get_error (refused), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_UNTRUSTED);

  /* ...until the session turns verification off. */
  g_object_set (session, "tls-verify", FALSE, NULL);
  g_assert_false (gmulti_session_get_tls_verify (session));
  left = 1;
  g_assert_true (gmulti_session_add (session, unverified, NULL));
  while (left > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (unverified));
}

/* A plain server whose /go redirects to /small on the https server at *@user_data's
 * port. */
static gboolean
redirect_handler (TestServer  *server,
                  TestConn    *conn,
                  TestRequest *req,
                  gpointer     user_data)
{
  guint16 port = *(guint16 *) user_data;

  if (!g_str_equal (req->target, "/go"))
    return test_conn_respond (conn, 404, NULL, NULL, 0);
  return test_conn_printf (conn, "HTTP/1.1 302 Found\r\n"
                           "Location: https://localhost:%u/small\r\n"
                           "Content-Length: 0\r\n\r\n", port);
}

static void
drop_session_ca_cb (GMultiTransfer *transfer,
                    GParamSpec     *pspec,
                    GMultiSession  *session)
{
  /* The https hop is about to be prepared. */
  if (g_str_has_prefix (gmulti_transfer_get_effective_uri (transfer), "https:"))
    gmulti_session_set_tls_ca_file (session, NULL);
}

static void
run_in_session (GMultiSession  *session,
                GMultiTransfer *transfer)
{
  guint left = 1;
  gulong id = g_signal_connect (session, "transfer-finished", G_CALLBACK (finished_cb), &left);
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_assert_true (gmulti_session_add (session, transfer, NULL));
  while (left > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (left, ==, 0);
  g_signal_handler_disconnect (session, id);
}

/* The session's TLS options a run started with hold for its https hop even when they
 * change before it; the next run has the new ones. */
static void
test_session_tls_per_run (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  guint16 port = test_server_get_port (server);
  g_autoptr(TestServer) plain = test_server_new (TEST_SERVER_IPV4, redirect_handler, &port);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autofree char *ca = cert ("ca.pem");
  g_autofree char *uri = test_server_uri (plain, "/go");
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);
  g_autoptr(GBytes) body = NULL;

  gmulti_session_set_tls_ca_file (session, ca);
  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  g_signal_connect (transfer, "notify::effective-uri", G_CALLBACK (drop_session_ca_cb), session);

  run_in_session (session, transfer);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  body = gmulti_transfer_get_response_body (transfer);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "secure", 6);
  g_assert_null (gmulti_session_get_tls_ca_file (session));
  g_assert_null (gmulti_transfer_get_tls_ca_file (transfer));

  /* Without the CA the next run trusts only the system's store. */
  run_in_session (session, transfer);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_UNTRUSTED);
}

/* Servers limited to TLS 1.0 or 1.1 are refused by default (RFC 8996), by the engine
 * and by the session, and reached once the application lowers the minimum version. */
static void
test_old_versions (void)
{
  static const struct {
    const char *priority;
    GMultiTlsVersion version;
  } servers[] = {
    { "NORMAL:-VERS-ALL:+VERS-TLS1.0", GMULTI_TLS_VERSION_TLS_1_0 },
    { "NORMAL:-VERS-ALL:+VERS-TLS1.1", GMULTI_TLS_VERSION_TLS_1_1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      g_autofree char *cert_file = cert ("server.pem");
      g_autofree char *key_file = cert ("server-key.pem");
      TestTlsOptions options = {
        .cert_file = cert_file,
        .key_file = key_file,
        .priority = servers[i].priority,
      };
      g_autoptr(TestServer) server = test_server_new_tls (TEST_SERVER_IPV4, &options,
                                                          handler, NULL);
      g_autoptr(GMultiTransfer) refused = new_transfer (server, "localhost", "/small");
      g_autoptr(GMultiTransfer) allowed = new_transfer (server, "localhost", "/small");
      g_autoptr(GMultiSession) session = gmulti_session_new ();
      g_autoptr(GMultiTransfer) by_session = new_transfer (server, "localhost", "/small");
      g_autoptr(GMultiTransfer) refused_by_session = new_transfer (server, "localhost",
                                                                   "/small");
      const GError *error;
      guint left;
      gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

      g_test_message ("server priority %s", servers[i].priority);
      run_one (refused);
      error = gmulti_transfer_get_error (refused);
      g_assert_error ((GError *) error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED);
      g_test_message ("  %s", error->message);
      g_assert_cmpuint (gmulti_transfer_get_bytes_received (refused), ==, 0);
      g_assert_true (test_server_wait_tls_failed (server, 1, 5000));
      g_assert_cmpuint (test_server_get_n_requests (server), ==, 0);

      gmulti_transfer_set_tls_min_version (allowed, servers[i].version);
      run_one (allowed);
      g_assert_no_error ((GError *) gmulti_transfer_get_error (allowed));
      g_assert_cmpuint (gmulti_transfer_get_status (allowed), ==, 200);

      /* The session: refused by default, allowed with its minimum lowered. */
      g_signal_connect (session, "transfer-finished", G_CALLBACK (finished_cb), &left);
      left = 1;
      g_assert_true (gmulti_session_add (session, refused_by_session, NULL));
      while (left > 0 && g_get_monotonic_time () < end)
        g_main_context_iteration (NULL, TRUE);
      g_assert_error ((GError *) gmulti_transfer_get_error (refused_by_session), GMULTI_ERROR,
                      GMULTI_ERROR_TLS_HANDSHAKE_FAILED);

      gmulti_session_set_tls_min_version (session, GMULTI_TLS_VERSION_TLS_1_0);
      left = 1;
      g_assert_true (gmulti_session_add (session, by_session, NULL));
      while (left > 0 && g_get_monotonic_time () < end)
        g_main_context_iteration (NULL, TRUE);
      g_assert_no_error ((GError *) gmulti_transfer_get_error (by_session));
      g_assert_cmpuint (gmulti_transfer_get_status (by_session), ==, 200);
      g_assert_cmpuint (test_server_get_n_requests (server), ==, 2);
    }
}

static void
reset_when_idle (TestServer *server,
                 TestConn   *conn,
                 gpointer    user_data)
{
  g_autoptr(TestRequest) request = test_conn_read_request (conn, 5000);

  if (request == NULL)
    return;
  test_conn_respond (conn, 200, "text/plain", "secure", 6);
  test_conn_sleep (conn, 100);
  test_conn_reset (conn);
}

/* A pooled TLS connection whose socket fails (reset while idle) is closed, not left
 * readable and polled for ever. */
static void
test_idle_reset (void)
{
  g_autofree char *cert_file = cert ("server.pem");
  g_autofree char *key_file = cert ("server-key.pem");
  TestTlsOptions options = { .cert_file = cert_file, .key_file = key_file };
  g_autoptr(TestServer) server = test_server_new_tls_raw (TEST_SERVER_IPV4, &options,
                                                          reset_when_idle, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost", "/small");
  gint64 end;

  gmulti_engine_add (loop->engine, transfer);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);

  end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (gmulti_engine_get_n_connections (loop->engine) > 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 50);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  g_assert_cmpuint (g_hash_table_size (loop->watched), ==, 0);
}

/* A server that asks for a client certificate. */
static void
test_client_certificate (void)
{
  g_autofree char *cert_file = cert ("server.pem");
  g_autofree char *key_file = cert ("server-key.pem");
  g_autofree char *client_ca = cert ("client-ca.pem");
  g_autofree char *client_cert = cert ("client.pem");
  g_autofree char *client_key = cert ("client-key.pem");
  TestTlsOptions options = {
    .cert_file = cert_file,
    .key_file = key_file,
    .client_ca_file = client_ca,
  };
  g_autoptr(TestServer) server = test_server_new_tls (TEST_SERVER_IPV4, &options, handler, NULL);
  g_autoptr(GMultiTransfer) without = new_transfer (server, "localhost", "/small");
  g_autoptr(GMultiTransfer) with = new_transfer (server, "localhost", "/small");

  run_one (without);
  g_assert_error ((GError *) gmulti_transfer_get_error (without), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED);

  gmulti_transfer_set_tls_client_certificate (with, client_cert, client_key);
  run_one (with);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (with));
  g_assert_cmpuint (gmulti_transfer_get_status (with), ==, 200);
}

/* A TLS session that cannot even be set up (a CA file that is not there) fails the
 * transfer, and its TCP connection is closed: pooled, it would carry the next request
 * to the same origin with the same options in plain text. */
static void
test_setup_failure_not_pooled (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *missing = cert ("missing-ca.pem");

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost", "/small");

      gmulti_transfer_set_tls_ca_file (transfer, missing);
      g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
      g_assert_true (engine_loop_run (loop, 10000));
      g_assert_nonnull (gmulti_transfer_get_error (transfer));
      g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 0);
      g_assert_false (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (transfer)));
      g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
      g_assert_cmpuint (gmulti_engine_remove (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
    }
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

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

/* TLS options set after the add, before the engine started the transfer, apply. */
static void
test_options_after_add (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem", FALSE);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *uri = g_strdup_printf ("https://localhost:%u/small",
                                          test_server_get_port (server));
  g_autofree char *ca = cert ("ca.pem");
  g_autoptr(GMultiTransfer) trusting = gmulti_transfer_new (uri);
  g_autoptr(GMultiTransfer) pinned = new_transfer (server, "localhost", "/small");

  /* Without it the system store would not know the test CA. */
  g_assert_cmpint (gmulti_engine_add (loop->engine, trusting), ==, GMULTI_ENGINE_OK);
  gmulti_transfer_set_tls_ca_file (trusting, ca);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (trusting));
  g_assert_cmpuint (gmulti_transfer_get_status (trusting), ==, 200);

  g_assert_cmpint (gmulti_engine_add (loop->engine, pinned), ==, GMULTI_ENGINE_OK);
  gmulti_transfer_set_tls_pinned_public_key (pinned,
                                             "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_error ((GError *) gmulti_transfer_get_error (pinned), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_PIN_MISMATCH);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("GMULTI_TEST_UNDER_VALGRIND") != NULL)
    bulk_size = 8 * 1024 * 1024;
  make_certs ();

  g_test_add_func ("/GMulti/Https/valid-and-pooled", test_valid_and_pooled);
  g_test_add_func ("/GMulti/Https/resumption", test_resumption);
  g_test_add_func ("/GMulti/Https/verification", test_verification);
  g_test_add_func ("/GMulti/Https/bulk", test_bulk);
  g_test_add_func ("/GMulti/Https/one-byte-records", test_one_byte_records);
  g_test_add_func ("/GMulti/Https/unclean-close", test_unclean_close);
  g_test_add_func ("/GMulti/Https/unclean-close-delimited", test_unclean_close_delimited);
  g_test_add_func ("/GMulti/Https/session-concurrent", test_session_concurrent);
  g_test_add_func ("/GMulti/Https/session-defaults", test_session_defaults);
  g_test_add_func ("/GMulti/Https/session-tls-per-run", test_session_tls_per_run);
  g_test_add_func ("/GMulti/Https/old-versions", test_old_versions);
  g_test_add_func ("/GMulti/Https/client-certificate", test_client_certificate);
  g_test_add_func ("/GMulti/Https/idle-reset", test_idle_reset);
  g_test_add_func ("/GMulti/Https/options-after-add", test_options_after_add);
  g_test_add_func ("/GMulti/Https/setup-failure-not-pooled", test_setup_failure_not_pooled);

  status = g_test_run ();
  remove_certs ();
  return status;
}
