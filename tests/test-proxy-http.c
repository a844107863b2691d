/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gmulti.h"
#include "engine/gmulti-proxy.h"
#include "transport/gmulti-http-tunnel-link.h"
#include "transport/gmulti-tcp-link.h"
#include "test-certs.h"
#include "test-daemons.h"
#include "test-server.h"
#include "test-wait.h"

/* Transfers through HTTP proxies: Debian's squid, started here on loopback with a
 * minimal configuration in a temporary directory (test-daemons.c), forwarding
 * http:// requests and tunnelling https:// ones (CONNECT), with and without Basic
 * authentication (test-proxy-auth.c has the rest of proxy authentication); and
 * scripted proxies (tests/support) for answers squid never gives. The origins are
 * the scripted server, plain and over TLS. */

#define WAIT_MS 15000

static char *certs_dir;

/* ------------------------------------------------------------------ origins */

static gboolean
origin_handler (TestServer  *server,
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

  return test_server_new_tls (TEST_SERVER_IPV4, &tls, origin_handler, (gpointer) name);
}

static GMultiTransfer *
transfer_new (const char *uri,
              const char *proxy)
{
  GMultiTransfer *transfer = gmulti_transfer_new (uri);
  g_autofree char *ca = g_build_filename (certs_dir, "ca.pem", NULL);

  gmulti_transfer_set_tls_ca_file (transfer, ca);
  if (proxy != NULL)
    gmulti_transfer_set_proxy_uri (transfer, proxy);
  return transfer;
}

static void
run (GMultiSession  *session,
     GMultiTransfer *transfer)
{
  g_assert_true (gmulti_session_add (session, transfer, NULL));
  RUN_UNTIL (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE, WAIT_MS);
}

static void
assert_body (GMultiTransfer *transfer,
             const char     *expected)
{
  g_autoptr(GBytes) body = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  body = gmulti_transfer_get_response_body (transfer);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_assert_cmpstr (text, ==, expected);
}

/* ------------------------------------------------------------ through squid */

/* http:// goes to squid in absolute form and squid passes it on; the origin sees the
 * origin-form target and its own Host. */
static void
test_squid_forward (void)
{
  Squid *squid = squid_start (NULL, NULL);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autoptr(TestRequest) req = NULL;
  g_autofree char *proxy = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *host = NULL;
  GMultiMetrics *metrics;

  if (squid == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, "origin");
  proxy = squid_uri (squid, NULL);
  uri = test_server_uri (origin, "/a?b=c");
  session = gmulti_session_new ();
  transfer = transfer_new (uri, proxy);
  g_assert_cmpstr (gmulti_transfer_get_proxy_uri (transfer), ==, proxy);
  run (session, transfer);
  assert_body (transfer, "GET /a?b=c from origin");
  req = test_server_get_last_request (origin);
  host = g_strdup_printf ("127.0.0.1:%u", test_server_get_port (origin));
  g_assert_cmpstr (test_request_get_header (req, "Host"), ==, host);
  g_assert_nonnull (test_request_get_header (req, "Via"));
  metrics = gmulti_transfer_get_metrics (transfer);
  g_assert_cmpint (gmulti_metrics_get_proxy_time (metrics), >, 0);
  g_assert_cmpint (gmulti_metrics_get_tls_time (metrics), ==, 0);

  /* Prior knowledge is about the origin: the proxy is spoken to in HTTP/1.1. */
  {
    g_autoptr(GMultiTransfer) prior = transfer_new (uri, proxy);

    gmulti_transfer_set_http_version (prior, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
    run (session, prior);
    assert_body (prior, "GET /a?b=c from origin");
    g_assert_cmpint (gmulti_transfer_get_http_version_used (prior), ==, GMULTI_HTTP_VERSION_HTTP_1_1);
  }
  g_clear_object (&session);
  squid_stop (squid);
}

/* https:// goes through a CONNECT tunnel, TLS to the origin inside it checked against
 * the origin's name. */
static void
test_squid_connect (void)
{
  Squid *squid = squid_start (NULL, NULL);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *proxy = NULL;
  g_autofree char *uri = NULL;

  GMultiMetrics *metrics;

  if (squid == NULL)
    return;
  origin = origin_tls_new ("tls-origin");
  proxy = squid_uri (squid, NULL);
  uri = test_server_uri (origin, "/secret");
  session = gmulti_session_new ();
  gmulti_session_set_proxy_uri (session, proxy);
  transfer = transfer_new (uri, NULL);
  run (session, transfer);
  assert_body (transfer, "GET /secret from tls-origin");
  g_assert_cmpuint (test_server_get_n_tls_handshakes (origin), ==, 1);
  metrics = gmulti_transfer_get_metrics (transfer);
  g_assert_cmpint (gmulti_metrics_get_proxy_time (metrics), >=,
                   gmulti_metrics_get_connect_time (metrics));
  g_assert_cmpint (gmulti_metrics_get_tls_time (metrics), >=,
                   gmulti_metrics_get_proxy_time (metrics));

  g_clear_object (&session);
  squid_stop (squid);
}


static void
assert_proxy_error (GMultiTransfer *transfer,
                    int             code,
                    const char     *needle)
{
  const GError *error = gmulti_transfer_get_error (transfer);

  g_assert_error (error, GMULTI_ERROR, code);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("\"%s\" not in the message \"%s\"", needle, error->message);
  /* The password never shows. */
  g_assert_null (strstr (error->message, "s3cret"));
  g_assert_null (strstr (error->message, "wrong-pw"));
}

/* A squid asking for Basic credentials: the right ones pass, for absolute-form
 * requests (Proxy-Authorization with each) and for CONNECT; none, or wrong ones,
 * end the transfer with PROXY_AUTH_REQUIRED, saying which. The origin never sees
 * the credentials. */
static void
test_squid_auth (void)
{
  Squid *squid = squid_start ("alice", "s3cret");
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestServer) tls_origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *none = NULL;
  g_autofree char *http_uri = NULL;
  g_autofree char *https_uri = NULL;

  if (squid == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, "origin");
  tls_origin = origin_tls_new ("tls-origin");
  good = squid_uri (squid, "alice:s3cret");
  bad = squid_uri (squid, "alice:wrong-pw");
  none = squid_uri (squid, NULL);
  http_uri = test_server_uri (origin, "/plain");
  https_uri = test_server_uri (tls_origin, "/secure");
  session = gmulti_session_new ();

  for (guint i = 0; i < 2; i++)
    {
      const char *uri = i == 0 ? http_uri : https_uri;
      g_autoptr(GMultiTransfer) ok = transfer_new (uri, good);
      g_autoptr(GMultiTransfer) refused = transfer_new (uri, bad);
      g_autoptr(GMultiTransfer) anonymous = transfer_new (uri, none);
      g_autoptr(TestRequest) req = NULL;

      run (session, ok);
      assert_body (ok, i == 0 ? "GET /plain from origin" : "GET /secure from tls-origin");
      req = test_server_get_last_request (i == 0 ? origin : tls_origin);
      g_assert_null (test_request_get_header (req, "Proxy-Authorization"));

      /* Connections are pooled per proxy user, not per password: a new session. */
      g_clear_object (&session);
      session = gmulti_session_new ();
      run (session, refused);
      assert_proxy_error (refused, GMULTI_ERROR_PROXY_AUTH_REQUIRED, "alice");
      run (session, anonymous);
      assert_proxy_error (anonymous, GMULTI_ERROR_PROXY_AUTH_REQUIRED, "no credentials");
    }
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (tls_origin), ==, 1);

  g_clear_object (&session);
  squid_stop (squid);
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

/* Pool keys: two http:// origins through one proxy share its connection; two
 * https:// origins get a tunnel each; a tunnel is reused for its own origin. Squid's
 * log shows one CONNECT per tunnel. */
static void
test_squid_pool (void)
{
  Squid *squid = squid_start (NULL, NULL);
  g_autoptr(TestServer) a = NULL;
  g_autoptr(TestServer) b = NULL;
  g_autoptr(TestServer) ta = NULL;
  g_autoptr(TestServer) tb = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) to_a = NULL;
  g_autoptr(GMultiTransfer) to_b = NULL;
  g_autoptr(GMultiTransfer) to_ta = NULL;
  g_autoptr(GMultiTransfer) to_tb = NULL;
  g_autoptr(GMultiTransfer) to_ta2 = NULL;
  g_autofree char *proxy = NULL;
  g_autofree char *uri_a = NULL, *uri_b = NULL, *uri_ta = NULL, *uri_tb = NULL;

  if (squid == NULL)
    return;
  a = test_server_new (TEST_SERVER_IPV4, origin_handler, "a");
  b = test_server_new (TEST_SERVER_IPV4, origin_handler, "b");
  ta = origin_tls_new ("ta");
  tb = origin_tls_new ("tb");
  proxy = squid_uri (squid, NULL);
  uri_a = test_server_uri (a, "/");
  uri_b = test_server_uri (b, "/");
  uri_ta = test_server_uri (ta, "/");
  uri_tb = test_server_uri (tb, "/");
  session = gmulti_session_new ();
  gmulti_session_set_proxy_uri (session, proxy);

  to_a = transfer_new (uri_a, NULL);
  run (session, to_a);
  assert_body (to_a, "GET / from a");
  to_b = transfer_new (uri_b, NULL);
  run (session, to_b);
  assert_body (to_b, "GET / from b");
  g_assert_true (reused (to_b));
  g_assert_cmpuint (connection_of (to_a), ==, connection_of (to_b));

  to_ta = transfer_new (uri_ta, NULL);
  run (session, to_ta);
  assert_body (to_ta, "GET / from ta");
  g_assert_false (reused (to_ta));
  g_assert_cmpuint (connection_of (to_ta), !=, connection_of (to_a));
  to_tb = transfer_new (uri_tb, NULL);
  run (session, to_tb);
  assert_body (to_tb, "GET / from tb");
  g_assert_false (reused (to_tb));
  g_assert_cmpuint (connection_of (to_tb), !=, connection_of (to_ta));
  to_ta2 = transfer_new (uri_ta, NULL);
  run (session, to_ta2);
  assert_body (to_ta2, "GET / from ta");
  g_assert_true (reused (to_ta2));
  g_assert_cmpuint (connection_of (to_ta2), ==, connection_of (to_ta));
  g_assert_cmpuint (test_server_get_n_tls_handshakes (ta), ==, 1);

  /* Squid logs a tunnel when it ends. */
  g_clear_object (&session);
  {
    gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

    while (squid_count_log (squid, "CONNECT") < 2 && g_get_monotonic_time () < deadline)
      g_usleep (20000);
  }
  g_assert_cmpuint (squid_count_log (squid, "CONNECT"), ==, 2);
  g_assert_cmpuint (squid_count_log (squid, "GET http://"), ==, 2);
  squid_stop (squid);
}

/* TLS to the proxy itself (squid's https_port), checked against the proxy's name,
 * for both ways through it: forwarding (http://) and a tunnel with TLS inside TLS
 * (https://), with the transfer's TLS options: a proxy certificate they do not
 * trust fails. */
static void
test_squid_https_proxy (void)
{
  Squid *squid = squid_start_full (SQUID_OPEN, NULL, NULL, certs_dir);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestServer) tls_origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) plain = NULL;
  g_autoptr(GMultiTransfer) secure = NULL;
  g_autoptr(GMultiTransfer) untrusted = NULL;
  g_autofree char *proxy = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *https_uri = NULL;

  if (squid == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, "origin");
  tls_origin = origin_tls_new ("tls-origin");
  proxy = g_strdup_printf ("https://127.0.0.1:%u", squid->tls_port);
  uri = test_server_uri (origin, "/p");
  https_uri = test_server_uri (tls_origin, "/s");
  session = gmulti_session_new ();

  plain = transfer_new (uri, proxy);
  run (session, plain);
  assert_body (plain, "GET /p from origin");
  g_assert_cmpint (gmulti_metrics_get_tls_time (gmulti_transfer_get_metrics (plain)), >, 0);

  secure = transfer_new (https_uri, proxy);
  run (session, secure);
  assert_body (secure, "GET /s from tls-origin");
  g_assert_cmpuint (test_server_get_n_tls_handshakes (tls_origin), ==, 1);

  /* Without the test CA, the proxy's certificate is not trusted. */
  untrusted = gmulti_transfer_new (uri);
  gmulti_transfer_set_proxy_uri (untrusted, proxy);
  run (session, untrusted);
  g_assert_error (gmulti_transfer_get_error (untrusted), GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED);
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 1);

  g_clear_object (&session);
  squid_stop (squid);
}

/* ALPN inside the tunnel: nginx speaks HTTP/2 to gmulti through squid's CONNECT, and
 * the streams of one origin share the tunnel. */
static void
test_squid_http2 (void)
{
  Squid *squid = squid_start (NULL, NULL);
  Nginx *nginx = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autofree char *proxy = NULL;
  GMultiTransfer *transfers[3];

  if (squid == NULL)
    return;
  nginx = nginx_start (certs_dir);
  if (nginx == NULL)
    {
      squid_stop (squid);
      return;
    }
  proxy = squid_uri (squid, NULL);
  session = gmulti_session_new ();
  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      g_autofree char *uri = g_strdup_printf ("https://127.0.0.1:%u/h2/%u", nginx->port, i);

      transfers[i] = transfer_new (uri, proxy);
      gmulti_transfer_set_http_version (transfers[i], GMULTI_HTTP_VERSION_HTTP_2);
      g_assert_true (gmulti_session_add (session, transfers[i], NULL));
    }
  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      g_autofree char *expected = g_strdup_printf ("HTTP/2.0 /h2/%u", i);

      RUN_UNTIL (gmulti_transfer_get_state (transfers[i]) == GMULTI_TRANSFER_DONE, WAIT_MS);
      assert_body (transfers[i], expected);
      g_assert_cmpint (gmulti_transfer_get_http_version_used (transfers[i]), ==,
                       GMULTI_HTTP_VERSION_HTTP_2);
      g_assert_cmpuint (connection_of (transfers[i]), ==, connection_of (transfers[0]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    g_object_unref (transfers[i]);

  g_clear_object (&session);
  nginx_stop (nginx);
  squid_stop (squid);
}

/* -------------------------------------------------------- scripted proxies */

/* What a scripted proxy answers to CONNECT. */
static void
scripted_proxy (TestServer *server,
                TestConn   *conn,
                gpointer    user_data)
{
  const char *answer = user_data;
  g_autoptr(TestRequest) req = test_conn_read_request_head (conn, WAIT_MS);

  if (req == NULL)
    return;
  if (answer == NULL)
    {
      test_conn_close (conn);
      return;
    }
  test_conn_write_str (conn, answer);
  test_conn_wait_client_close (conn, WAIT_MS);
}

static GMultiTransfer *
through_scripted_full (const char          *answer,
                       TestRequest        **connect,
                       guint               *n_connects)
{
  g_autoptr(TestServer) proxy = test_server_new_raw (TEST_SERVER_IPV4, scripted_proxy,
                                                     (gpointer) answer);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autofree char *proxy_uri = g_strdup_printf ("http://bob:s3cret@127.0.0.1:%u",
                                                test_server_get_port (proxy));
  GMultiTransfer *transfer = transfer_new ("https://origin.test:8443/x", proxy_uri);

  gmulti_session_set_user_agent (session, "proxy-test/1", NULL);
  run (session, transfer);
  if (connect != NULL)
    *connect = test_server_get_last_request (proxy);
  if (n_connects != NULL)
    *n_connects = test_server_get_n_requests (proxy);
  return transfer;
}

static GMultiTransfer *
through_scripted (const char          *answer,
                  TestRequest        **connect)
{
  return through_scripted_full (answer, connect, NULL);
}

/* The CONNECT request itself: authority-form, Host, User-Agent, and the credentials
 * once the proxy asked for them (on a new connection: this proxy closes after each
 * answer), then refused: one retry. */
static void
test_scripted_request (void)
{
  g_autoptr(TestRequest) req = NULL;
  guint n_connects = 0;
  g_autoptr(GMultiTransfer) transfer = through_scripted_full ("HTTP/1.1 407 Who\r\n"
                                                              "Proxy-Authenticate: Basic realm=x\r\n"
                                                              "Content-Length: 0\r\n\r\n",
                                                              &req, &n_connects);
  g_autofree char *expected = NULL;
  g_autofree char *encoded = g_base64_encode ((const guchar *) "bob:s3cret", 10);

  g_assert_cmpuint (n_connects, ==, 2);
  assert_proxy_error (transfer, GMULTI_ERROR_PROXY_AUTH_REQUIRED, "refused");
  g_assert_nonnull (req);
  g_assert_cmpstr (req->method, ==, "CONNECT");
  g_assert_cmpstr (req->target, ==, "origin.test:8443");
  g_assert_cmpstr (test_request_get_header (req, "Host"), ==, "origin.test:8443");
  g_assert_cmpstr (test_request_get_header (req, "User-Agent"), ==, "proxy-test/1");
  expected = g_strconcat ("Basic ", encoded, NULL);
  g_assert_cmpstr (test_request_get_header (req, "Proxy-Authorization"), ==, expected);
}

static void
test_scripted_refused (void)
{
  g_autoptr(GMultiTransfer) transfer = through_scripted ("HTTP/1.1 503 Service Unavailable\r\n"
                                                         "Content-Length: 0\r\n\r\n", NULL);

  assert_proxy_error (transfer, GMULTI_ERROR_PROXY_TUNNEL_FAILED, "503 Service Unavailable");
  g_assert_nonnull (strstr (gmulti_transfer_get_error (transfer)->message, "origin.test:8443"));
}

static void
test_scripted_malformed (void)
{
  g_autoptr(GMultiTransfer) transfer = through_scripted ("HTTP/1.1 2OO Fine\r\n\r\n", NULL);

  assert_proxy_error (transfer, GMULTI_ERROR_PROXY_PROTOCOL, "CONNECT");
}

static void
test_scripted_auth (void)
{
  g_autoptr(GMultiTransfer) transfer = through_scripted ("HTTP/1.1 407 Who\r\n"
                                                         "Proxy-Authenticate: Basic realm=x\r\n"
                                                         "Content-Length: 0\r\n\r\n", NULL);

  assert_proxy_error (transfer, GMULTI_ERROR_PROXY_AUTH_REQUIRED, "bob");
}

static void
test_scripted_close (void)
{
  g_autoptr(GMultiTransfer) transfer = through_scripted (NULL, NULL);

  assert_proxy_error (transfer, GMULTI_ERROR_PROXY_CONNECT_FAILED, "127.0.0.1");
}

/* A forwarding proxy's 407 is the proxy's, not the origin's answer. */
static gboolean
answer_407 (TestServer  *server,
            TestConn    *conn,
            TestRequest *req,
            gpointer     user_data)
{
  return test_conn_respond_with_headers (conn, 407, "Proxy-Authenticate: Basic realm=x\r\n",
                                         "", 0);
}

static void
test_scripted_forward_407 (void)
{
  g_autoptr(TestServer) proxy = test_server_new (TEST_SERVER_IPV4, answer_407, NULL);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autofree char *proxy_uri = g_strdup_printf ("http://127.0.0.1:%u",
                                                test_server_get_port (proxy));
  g_autoptr(GMultiTransfer) transfer = transfer_new ("http://origin.test/page", proxy_uri);
  g_autoptr(TestRequest) req = NULL;

  run (session, transfer);
  assert_proxy_error (transfer, GMULTI_ERROR_PROXY_AUTH_REQUIRED, "no credentials");
  req = test_server_get_last_request (proxy);
  g_assert_cmpstr (req->target, ==, "http://origin.test/page");
  g_assert_cmpstr (test_request_get_header (req, "Host"), ==, "origin.test");
  g_assert_null (test_request_get_header (req, "Proxy-Authorization"));
}

/* Nothing listens at the proxy's address. */
static void
test_unreachable (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autofree char *proxy_uri = g_strdup_printf ("http://u:s3cret@127.0.0.1:%u", free_port ());
  g_autoptr(GMultiTransfer) transfer = transfer_new ("http://origin.test/", proxy_uri);

  run (session, transfer);
  assert_proxy_error (transfer, GMULTI_ERROR_PROXY_CONNECT_FAILED, "127.0.0.1");
}

/* An invalid URI fails the transfer rather than going direct; "direct://" on the
 * transfer wins over the session's proxy. */
static void
test_uri_settings (void)
{
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_handler, "origin");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (origin, "/d");
  g_autoptr(GMultiTransfer) invalid = transfer_new (uri, "gopher://proxy.test");
  g_autoptr(GMultiTransfer) session_invalid = transfer_new (uri, NULL);
  g_autoptr(GMultiTransfer) direct = transfer_new (uri, "direct://");
  g_autoptr(GMultiTransfer) unset = transfer_new (uri, NULL);
  g_autofree char *value = NULL;

  run (session, invalid);
  g_assert_error (gmulti_transfer_get_error (invalid), GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID);

  g_object_set (session, "proxy-uri", "::nonsense", NULL);
  g_object_get (session, "proxy-uri", &value, NULL);
  g_assert_cmpstr (value, ==, "::nonsense");
  run (session, session_invalid);
  g_assert_error (gmulti_transfer_get_error (session_invalid), GMULTI_ERROR,
                  GMULTI_ERROR_PROXY_INVALID);
  /* The transfer's own setting wins: no proxy at all. */
  run (session, direct);
  assert_body (direct, "GET /d from origin");

  gmulti_session_set_proxy_uri (session, NULL);
  g_assert_null (gmulti_session_get_proxy_uri (session));
  run (session, unset);
  assert_body (unset, "GET /d from origin");
  g_assert_cmpint (gmulti_metrics_get_proxy_time (gmulti_transfer_get_metrics (unset)), ==, 0);
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 2);
}

/* ------------------------------------------------------------ the link itself */

static GMultiLinkStatus
open_link (GMultiLink *link,
           GError    **error)
{
  GMultiLinkOpen io = { .now = g_get_monotonic_time (), .ready_fd = -1 };

  return gmulti_link_open (link, &io, error);
}

static void
write_all (int         fd,
           const char *text)
{
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
}

/* Over a socket pair: the answer comes in two pieces (the link waits for the rest of
 * the head), and the tunnel's first bytes in the same write as its end: they are the
 * first recv's, before anything the socket brings later. */
static void
test_link_bytes_after_head (void)
{
  int fds[2];
  g_autoptr(GError) error = NULL;
  g_autoptr(GMultiProxy) proxy = gmulti_proxy_new_from_uri ("http://127.0.0.1:3128", &error);
  GMultiLink *link;
  char request[512];
  guint8 buffer[64];
  gssize n;

  g_assert_no_error (error);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  g_assert_cmpint (fcntl (fds[0], F_SETFL, O_NONBLOCK), ==, 0);
  link = gmulti_http_tunnel_link_new (gmulti_tcp_link_new_for_fd (fds[0]), proxy,
                                      "::1", 443, NULL, NULL);

  g_assert_cmpint (open_link (link, &error), ==, GMULTI_LINK_WANT_READ);
  g_assert_no_error (error);
  n = read (fds[1], request, sizeof request - 1);
  g_assert_cmpint (n, >, 0);
  request[n] = '\0';
  g_assert_cmpstr (request, ==, "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n");

  write_all (fds[1], "HTTP/1.1 200 Connection est");
  g_assert_cmpint (open_link (link, &error), ==, GMULTI_LINK_WANT_READ);
  write_all (fds[1], "ablished\r\nVia: test\r\n\r\nFIRST");
  g_assert_cmpint (open_link (link, &error), ==, GMULTI_LINK_DONE);
  g_assert_no_error (error);
  g_assert_cmpuint (gmulti_link_pending (link), ==, 5);
  g_assert_cmpuint (gmulti_link_buffered (link), ==, 5);
  write_all (fds[1], "SECOND");

  n = gmulti_link_recv (link, buffer, 3, &error);
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpmem (buffer, 3, "FIR", 3);
  n = gmulti_link_recv (link, buffer, sizeof buffer, &error);
  g_assert_cmpmem (buffer, n, "ST", 2);
  g_assert_cmpuint (gmulti_link_pending (link), ==, 0);
  n = gmulti_link_recv (link, buffer, sizeof buffer, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (buffer, n, "SECOND", 6);

  {
    struct iovec iov = { (void *) "up", 2 };

    g_assert_cmpint (gmulti_link_send (link, &iov, 1, &error), ==, 2);
    n = read (fds[1], request, sizeof request);
    g_assert_cmpmem (request, n, "up", 2);
  }
  gmulti_link_free_chain (link);
  close (fds[1]);
}

/* A head that never ends is cut off at the limit, as a malformed answer. */
static void
test_link_head_limit (void)
{
  int fds[2];
  g_autoptr(GError) error = NULL;
  g_autoptr(GMultiProxy) proxy = gmulti_proxy_new_from_uri ("http://proxy.test:3128", &error);
  g_autofree char *filler = g_strnfill (1000, 'x');
  GMultiLink *link;
  GMultiLinkStatus status = GMULTI_LINK_WANT_READ;
  char request[512];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  g_assert_cmpint (fcntl (fds[0], F_SETFL, O_NONBLOCK), ==, 0);
  link = gmulti_http_tunnel_link_new (gmulti_tcp_link_new_for_fd (fds[0]), proxy,
                                      "origin.test", 443, NULL, "ua/1");
  g_assert_cmpint (open_link (link, &error), ==, GMULTI_LINK_WANT_READ);
  g_assert_cmpint (read (fds[1], request, sizeof request), >, 0);
  write_all (fds[1], "HTTP/1.1 200 OK\r\n");
  for (guint i = 0; i < 40 && status == GMULTI_LINK_WANT_READ; i++)
    {
      g_autofree char *line = g_strdup_printf ("X-Fill-%u: %s\r\n", i, filler);

      write_all (fds[1], line);
      status = open_link (link, &error);
    }
  g_assert_cmpint (status, ==, GMULTI_LINK_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_PROTOCOL);
  gmulti_link_free_chain (link);
  close (fds[1]);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

  g_test_add_func ("/GMulti/Proxy/Squid/Forward", test_squid_forward);
  g_test_add_func ("/GMulti/Proxy/Squid/Connect", test_squid_connect);
  g_test_add_func ("/GMulti/Proxy/Squid/Auth", test_squid_auth);
  g_test_add_func ("/GMulti/Proxy/Squid/Pool", test_squid_pool);
  g_test_add_func ("/GMulti/Proxy/Squid/HttpsProxy", test_squid_https_proxy);
  g_test_add_func ("/GMulti/Proxy/Squid/Http2", test_squid_http2);
  g_test_add_func ("/GMulti/Proxy/Scripted/Request", test_scripted_request);
  g_test_add_func ("/GMulti/Proxy/Scripted/Refused", test_scripted_refused);
  g_test_add_func ("/GMulti/Proxy/Scripted/Malformed", test_scripted_malformed);
  g_test_add_func ("/GMulti/Proxy/Scripted/AuthRequired", test_scripted_auth);
  g_test_add_func ("/GMulti/Proxy/Scripted/Close", test_scripted_close);
  g_test_add_func ("/GMulti/Proxy/Scripted/Forward407", test_scripted_forward_407);
  g_test_add_func ("/GMulti/Proxy/Link/BytesAfterHead", test_link_bytes_after_head);
  g_test_add_func ("/GMulti/Proxy/Link/HeadLimit", test_link_head_limit);
  g_test_add_func ("/GMulti/Proxy/Unreachable", test_unreachable);
  g_test_add_func ("/GMulti/Proxy/UriSettings", test_uri_settings);

  ret = g_test_run ();
  test_certs_remove (certs_dir);
  return ret;
}
