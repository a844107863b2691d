/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti.h"
#include "test-certs.h"
#include "test-daemons.h"
#include "test-server.h"
#include "test-wait.h"

/* Authentication to HTTP proxies: Debian's squid asking for Basic (basic_ncsa_auth)
 * or Digest (digest_file_auth), for forwarded http:// requests and for the CONNECT
 * of https:// ones (to nginx, or the scripted TLS origin); credentials from the proxy
 * URI, the transfer's and the session's properties, a proxy resolver's URI, and the
 * authenticate signals. Squid's access log counts the 407s it sent. */

#define WAIT_MS 15000
#define USER "alice"
#define PASSWORD "s3cret"

static char *certs_dir;

/* ------------------------------------------------------------------ helpers */

static gboolean
origin_handler (TestServer  *server,
                TestConn    *conn,
                TestRequest *req,
                gpointer     user_data)
{
  /* What the origin saw of the proxy's credentials: never any. */
  g_autofree char *body = g_strdup_printf ("%s %s%s", req->method, req->target,
                                           test_request_get_header (req, "Proxy-Authorization")
                                           != NULL ? " with proxy credentials" : "");

  return test_conn_respond (conn, 200, "text/plain", body, strlen (body));
}

static TestServer *
origin_new (gboolean tls)
{
  g_autofree char *cert = g_build_filename (certs_dir, "server.pem", NULL);
  g_autofree char *key = g_build_filename (certs_dir, "server-key.pem", NULL);
  TestTlsOptions options = { .cert_file = cert, .key_file = key };

  if (tls)
    return test_server_new_tls (TEST_SERVER_IPV4, &options, origin_handler, NULL);
  return test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
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

/* Came through with status 200 and a body ending in @path, the proxy's credentials
 * kept from the origin. */
static void
assert_ok (GMultiTransfer *transfer,
           const char     *path)
{
  g_autoptr(GBytes) body = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  body = gmulti_transfer_get_response_body (transfer);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  if (!g_str_has_suffix (text, path))
    g_error ("\"%s\" does not end in %s", text, path);
}

static void
assert_proxy_error (GMultiTransfer *transfer,
                    const char     *needle)
{
  const GError *error = gmulti_transfer_get_error (transfer);

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("\"%s\" not in the message \"%s\"", needle, error->message);
  g_assert_null (strstr (error->message, PASSWORD));
}

/* Squid logs a transaction when it ends: waits until @n lines have @needle. */
static guint
wait_log (Squid      *squid,
          const char *needle,
          guint       n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (squid_count_log (squid, needle) < n && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  return squid_count_log (squid, needle);
}

static guint
denied (Squid *squid)
{
  return squid_count_log (squid, "TCP_DENIED/407");
}

static char *
https_uri (guint16     port,
           const char *path)
{
  return g_strdup_printf ("https://127.0.0.1:%u%s", port, path);
}

/* ------------------------------------------------- credentials of our own */

/* Basic from the transfer's proxy-username and proxy-password: forwarded, then through
 * CONNECT to nginx. The first transfer pays one 407; the session keeps what worked
 * for the proxy, so the next ones (another path, another origin) send it at once. */
static void
test_basic_properties (void)
{
  Squid *squid = squid_start (USER, PASSWORD);
  Nginx *nginx = NULL;
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestServer) tls_origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autofree char *proxy = NULL;

  if (squid == NULL)
    return;
  nginx = nginx_start (certs_dir);
  if (nginx == NULL)
    {
      squid_stop (squid);
      return;
    }
  origin = origin_new (FALSE);
  tls_origin = origin_new (TRUE);
  proxy = squid_uri (squid, NULL);

  /* Forwarded. */
  session = gmulti_session_new ();
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = g_strdup_printf ("/plain/%u", i);
      g_autofree char *uri = test_server_uri (origin, path);
      g_autoptr(GMultiTransfer) transfer = transfer_new (uri, proxy);

      gmulti_transfer_set_proxy_username (transfer, USER);
      gmulti_transfer_set_proxy_password (transfer, PASSWORD);
      run (session, transfer);
      assert_ok (transfer, path);
      g_assert_cmpuint (wait_log (squid, "TCP_MISS/200", i + 1), ==, i + 1);
      g_assert_cmpuint (denied (squid), ==, 1);
    }
  g_clear_object (&session);

  /* Through CONNECT, in a session that knows nothing yet. */
  session = gmulti_session_new ();
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *uri = i == 0 ? https_uri (nginx->port, "/tunnel/0")
                                    : test_server_uri (tls_origin, "/tunnel/1");
      g_autoptr(GMultiTransfer) transfer = transfer_new (uri, proxy);

      gmulti_transfer_set_proxy_username (transfer, USER);
      gmulti_transfer_set_proxy_password (transfer, PASSWORD);
      run (session, transfer);
      assert_ok (transfer, i == 0 ? "/tunnel/0" : "/tunnel/1");
    }
  /* A tunnel is logged when it closes. */
  g_clear_object (&session);
  g_assert_cmpuint (wait_log (squid, "TCP_TUNNEL/200", 2), ==, 2);
  g_assert_cmpuint (denied (squid), ==, 2);
  g_assert_cmpuint (test_server_get_n_requests (tls_origin), ==, 1);

  nginx_stop (nginx);
  squid_stop (squid);
}

/* Digest, with the credentials of the proxy URI, for both ways through the proxy
 * (digest-uri: the absolute URI, and the authority for CONNECT); squid checks the
 * response, so a wrong digest-uri would be refused. */
static void
test_digest_uri_credentials (void)
{
  Squid *squid = squid_start_full (SQUID_DIGEST, USER, PASSWORD, NULL);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestServer) tls_origin = NULL;
  g_autofree char *proxy = NULL;

  if (squid == NULL)
    return;
  origin = origin_new (FALSE);
  tls_origin = origin_new (TRUE);
  proxy = squid_uri (squid, USER ":" PASSWORD);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiSession) session = gmulti_session_new ();
      g_autofree char *uri = test_server_uri (i == 0 ? origin : tls_origin, "/digest");
      g_autoptr(GMultiTransfer) transfer = transfer_new (uri, proxy);
      g_autoptr(GMultiTransfer) again = transfer_new (uri, proxy);

      run (session, transfer);
      assert_ok (transfer, "GET /digest");
      g_assert_cmpuint (wait_log (squid, "TCP_DENIED/407", i + 1), ==, i + 1);
      /* The next through the same proxy answers before it is asked, with the next
       * count of the nonce (here on the pooled connection or tunnel). */
      run (session, again);
      assert_ok (again, "GET /digest");
    }
  g_assert_cmpuint (denied (squid), ==, 2);
  squid_stop (squid);
}

/* TLS to the proxy itself: Digest to an https:// proxy, forwarded and through
 * CONNECT (the new connection for the answer takes a TLS handshake of its own). */
static void
test_digest_https_proxy (void)
{
  Squid *squid = squid_start_full (SQUID_DIGEST, USER, PASSWORD, certs_dir);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestServer) tls_origin = NULL;
  g_autofree char *proxy = NULL;

  if (squid == NULL)
    return;
  origin = origin_new (FALSE);
  tls_origin = origin_new (TRUE);
  proxy = g_strdup_printf ("https://" USER ":" PASSWORD "@127.0.0.1:%u", squid->tls_port);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiSession) session = gmulti_session_new ();
      g_autofree char *uri = test_server_uri (i == 0 ? origin : tls_origin, "/over-tls");
      g_autoptr(GMultiTransfer) transfer = transfer_new (uri, proxy);

      run (session, transfer);
      assert_ok (transfer, "GET /over-tls");
      g_assert_cmpuint (wait_log (squid, "TCP_DENIED/407", i + 1), ==, i + 1);
    }
  squid_stop (squid);
}

/* A wrong password is tried once, in answer to the 407, and then the transfer ends
 * with PROXY_AUTH_REQUIRED naming the user; no credentials at all end it at the first
 * 407. Forwarded and through CONNECT; Basic and Digest. */
static void
check_refused (SquidAuth auth)
{
  Squid *squid = squid_start_full (auth, USER, PASSWORD, NULL);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestServer) tls_origin = NULL;
  g_autofree char *wrong = NULL;
  g_autofree char *none = NULL;
  guint expected = 0;

  if (squid == NULL)
    return;
  origin = origin_new (FALSE);
  tls_origin = origin_new (TRUE);
  wrong = squid_uri (squid, USER ":wrong-pw");
  none = squid_uri (squid, NULL);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiSession) session = gmulti_session_new ();
      g_autofree char *uri = test_server_uri (i == 0 ? origin : tls_origin, "/x");
      g_autoptr(GMultiTransfer) refused = transfer_new (uri, wrong);
      g_autoptr(GMultiTransfer) anonymous = transfer_new (uri, none);

      run (session, refused);
      assert_proxy_error (refused, "refused the credentials of the user " USER);
      expected += 2;
      g_assert_cmpuint (wait_log (squid, "TCP_DENIED/407", expected), ==, expected);

      run (session, anonymous);
      assert_proxy_error (anonymous, "no credentials");
      expected += 1;
      g_assert_cmpuint (wait_log (squid, "TCP_DENIED/407", expected), ==, expected);
    }
  /* Give squid a moment: nothing more may come. */
  g_usleep (200000);
  g_assert_cmpuint (denied (squid), ==, expected);
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 0);
  g_assert_cmpuint (test_server_get_n_requests (tls_origin), ==, 0);
  squid_stop (squid);
}

static void
test_basic_refused (void)
{
  check_refused (SQUID_BASIC);
}

static void
test_digest_refused (void)
{
  check_refused (SQUID_DIGEST);
}

/* The session's proxy-username and proxy-password, for its proxy-uri; a transfer's
 * own win over them. */
static void
test_session_properties (void)
{
  Squid *squid = squid_start (USER, PASSWORD);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autofree char *proxy = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autoptr(GMultiTransfer) own = NULL;

  if (squid == NULL)
    return;
  origin = origin_new (FALSE);
  proxy = squid_uri (squid, NULL);
  uri = test_server_uri (origin, "/session");

  session = gmulti_session_new ();
  gmulti_session_set_proxy_uri (session, proxy);
  g_object_set (session, "proxy-username", USER, "proxy-password", PASSWORD, NULL);
  g_assert_cmpstr (gmulti_session_get_proxy_username (session), ==, USER);
  g_assert_cmpstr (gmulti_session_get_proxy_password (session), ==, PASSWORD);

  /* Its own, wrong, come first (and are refused). */
  own = transfer_new (uri, NULL);
  g_object_set (own, "proxy-username", "mallory", "proxy-password", "wrong-pw", NULL);
  run (session, own);
  assert_proxy_error (own, "mallory");

  transfer = transfer_new (uri, NULL);
  run (session, transfer);
  assert_ok (transfer, "GET /session");
  squid_stop (squid);
}

/* A proxy a GProxyResolver chose, with credentials in its URI, gets the same
 * treatment as a proxy-uri: Digest answered. */
static void
test_resolver_credentials (void)
{
  Squid *squid = squid_start_full (SQUID_DIGEST, USER, PASSWORD, NULL);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GProxyResolver) resolver = NULL;
  g_autofree char *proxy = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;

  if (squid == NULL)
    return;
  origin = origin_new (FALSE);
  proxy = squid_uri (squid, USER ":" PASSWORD);
  resolver = g_simple_proxy_resolver_new (proxy, NULL);
  uri = test_server_uri (origin, "/resolved");

  session = gmulti_session_new ();
  gmulti_session_set_proxy_resolver (session, resolver);
  transfer = transfer_new (uri, NULL);
  run (session, transfer);
  assert_ok (transfer, "GET /resolved");
  g_assert_cmpuint (wait_log (squid, "TCP_DENIED/407", 1), ==, 1);
  squid_stop (squid);
}

/* ------------------------------------------------------ asking the application */

typedef struct {
  Squid *squid;
  const char *scheme;
  GMultiAuth *auth;           /* kept to answer later */
  guint n_asked;
  const char *password;       /* the answer; NULL: cancel */
  GMultiTransfer *other;      /* runs while the answer waits */
} Asked;

static void
check_auth (Asked      *asked,
            GMultiAuth *auth,
            gboolean    retrying)
{
  g_autofree char *authority = g_strdup_printf ("127.0.0.1:%u", asked->squid->port);

  asked->n_asked++;
  g_assert_false (retrying);
  g_assert_true (gmulti_auth_is_for_proxy (auth));
  g_assert_cmpstr (gmulti_auth_get_scheme_name (auth), ==, asked->scheme);
  g_assert_cmpstr (gmulti_auth_get_realm (auth), ==, "gmulti-test");
  g_assert_cmpstr (gmulti_auth_get_authority (auth), ==, authority);
}

static gboolean
answer_later_cb (gpointer user_data)
{
  Asked *asked = user_data;
  GMultiAuth *auth = g_steal_pointer (&asked->auth);

  /* The other transfer went on meanwhile. */
  g_assert_cmpint (gmulti_transfer_get_state (asked->other), ==, GMULTI_TRANSFER_DONE);
  if (asked->password != NULL)
    gmulti_auth_authenticate (auth, USER, asked->password);
  else
    gmulti_auth_cancel (auth);
  g_object_unref (auth);
  return G_SOURCE_REMOVE;
}

static gboolean
authenticate_later_cb (GMultiTransfer *transfer,
                       GMultiAuth     *auth,
                       gboolean        retrying,
                       gpointer        user_data)
{
  Asked *asked = user_data;

  check_auth (asked, auth, retrying);
  asked->auth = g_object_ref (auth);
  /* Once the other transfer is done. */
  g_timeout_add (50, answer_later_cb, asked);
  return TRUE;
}

/* The transfer's authenticate signal, answered from a timeout after another transfer
 * of the session completed: forwarded and through CONNECT, Basic and Digest; a
 * cancel ends the transfer with PROXY_AUTH_REQUIRED. */
static void
check_authenticate_later (SquidAuth auth)
{
  Squid *squid = squid_start_full (auth, USER, PASSWORD, NULL);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestServer) tls_origin = NULL;
  g_autoptr(TestServer) direct = NULL;
  g_autofree char *proxy = NULL;

  if (squid == NULL)
    return;
  origin = origin_new (FALSE);
  tls_origin = origin_new (TRUE);
  direct = origin_new (FALSE);
  proxy = squid_uri (squid, NULL);

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GMultiSession) session = gmulti_session_new ();
      g_autofree char *uri = test_server_uri (i % 2 == 0 ? origin : tls_origin, "/asked");
      g_autofree char *direct_uri = test_server_uri (direct, "/meanwhile");
      g_autoptr(GMultiTransfer) transfer = transfer_new (uri, proxy);
      g_autoptr(GMultiTransfer) other = transfer_new (direct_uri, "direct://");
      Asked asked = { squid, auth == SQUID_DIGEST ? "Digest" : "Basic", NULL, 0,
                      i < 2 ? PASSWORD : NULL, other };

      g_signal_connect (transfer, "authenticate", G_CALLBACK (authenticate_later_cb), &asked);
      g_assert_true (gmulti_session_add (session, transfer, NULL));
      g_assert_true (gmulti_session_add (session, other, NULL));
      RUN_UNTIL (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE, WAIT_MS);
      g_assert_cmpuint (asked.n_asked, ==, 1);
      g_assert_null (asked.auth);
      if (asked.password != NULL)
        assert_ok (transfer, "GET /asked");
      else
        assert_proxy_error (transfer, "no credentials");
      g_assert_no_error (gmulti_transfer_get_error (other));
    }
  squid_stop (squid);
}

static void
test_basic_authenticate_later (void)
{
  check_authenticate_later (SQUID_BASIC);
}

static void
test_digest_authenticate_later (void)
{
  check_authenticate_later (SQUID_DIGEST);
}

static gboolean
keep_auth_cb (GMultiTransfer *transfer,
              GMultiAuth     *auth,
              gboolean        retrying,
              gpointer        user_data)
{
  Asked *asked = user_data;

  check_auth (asked, auth, retrying);
  asked->auth = g_object_ref (auth);
  return TRUE;
}

/* Removed while the application is asked (forwarded: the 407 held on its connection;
 * CONNECT: no connection at all), the transfer ends as any removal does, and a later
 * answer does nothing. */
static void
test_removed_while_asked (void)
{
  Squid *squid = squid_start (USER, PASSWORD);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestServer) tls_origin = NULL;
  g_autofree char *proxy = NULL;

  if (squid == NULL)
    return;
  origin = origin_new (FALSE);
  tls_origin = origin_new (TRUE);
  proxy = squid_uri (squid, NULL);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiSession) session = gmulti_session_new ();
      g_autofree char *uri = test_server_uri (i == 0 ? origin : tls_origin, "/removed");
      g_autoptr(GMultiTransfer) transfer = transfer_new (uri, proxy);
      Asked asked = { squid, "Basic" };

      g_signal_connect (transfer, "authenticate", G_CALLBACK (keep_auth_cb), &asked);
      g_assert_true (gmulti_session_add (session, transfer, NULL));
      RUN_UNTIL (asked.auth != NULL, WAIT_MS);
      gmulti_session_remove (session, transfer);
      gmulti_auth_authenticate (asked.auth, USER, PASSWORD);
      g_clear_object (&asked.auth);
      test_drain_context ();
      g_assert_cmpuint (asked.n_asked, ==, 1);
      g_assert_error (gmulti_transfer_get_error (transfer), G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 0);
  g_assert_cmpuint (test_server_get_n_requests (tls_origin), ==, 0);
  squid_stop (squid);
}

static gboolean
session_authenticate_cb (GMultiSession  *session,
                         GMultiTransfer *transfer,
                         GMultiAuth     *auth,
                         gboolean        retrying,
                         gpointer        user_data)
{
  Asked *asked = user_data;

  check_auth (asked, auth, retrying);
  gmulti_auth_authenticate (auth, USER, asked->password);
  return TRUE;
}

/* The session's authenticate signal hears a proxy's challenge too, when the
 * transfer's own handlers do not answer; a wrong answer is refused after its one
 * try, and the application is not asked again in that run. */
static void
test_session_authenticate (void)
{
  Squid *squid = squid_start (USER, PASSWORD);
  g_autoptr(TestServer) tls_origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autofree char *proxy = NULL;
  g_autofree char *uri = NULL;
  Asked asked = { 0 };

  if (squid == NULL)
    return;
  tls_origin = origin_new (TRUE);
  proxy = squid_uri (squid, NULL);
  uri = test_server_uri (tls_origin, "/by-session");
  asked.squid = squid;
  asked.scheme = "Basic";

  session = gmulti_session_new ();
  g_signal_connect (session, "authenticate", G_CALLBACK (session_authenticate_cb), &asked);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiTransfer) transfer = transfer_new (uri, proxy);

      asked.n_asked = 0;
      asked.password = i == 0 ? "wrong-pw" : PASSWORD;
      run (session, transfer);
      g_assert_cmpuint (asked.n_asked, ==, 1);
      if (i == 0)
        assert_proxy_error (transfer, "refused");
      else
        assert_ok (transfer, "GET /by-session");
    }
  squid_stop (squid);
}

/* ------------------------------------------------------- a scripted proxy */

/* What squid never does: offer Basic and Digest at once, and call a nonce stale. */
typedef struct {
  GMutex lock;
  GPtrArray *sent;            /* the Proxy-Authorization of each request, or "" */
} Scripted;

static gboolean
stale_proxy_handler (TestServer  *server,
                     TestConn    *conn,
                     TestRequest *req,
                     gpointer     user_data)
{
  Scripted *scripted = user_data;
  const char *value = test_request_get_header (req, "Proxy-Authorization");
  guint n;

  g_mutex_lock (&scripted->lock);
  g_ptr_array_add (scripted->sent, g_strdup (value != NULL ? value : ""));
  n = scripted->sent->len;
  g_mutex_unlock (&scripted->lock);
  if (n == 1)
    return test_conn_respond_with_headers (conn, 407,
                                           "Proxy-Authenticate: Basic realm=\"p\"\r\n"
                                           "Proxy-Authenticate: Digest realm=\"p\", "
                                           "nonce=\"n1\", qop=\"auth\"\r\n", "", 0);
  if (n == 2)
    return test_conn_respond_with_headers (conn, 407,
                                           "Proxy-Authenticate: Digest realm=\"p\", "
                                           "nonce=\"n2\", qop=\"auth\", stale=true\r\n",
                                           "", 0);
  return test_conn_respond (conn, 200, "text/plain", "GET /page", 9);
}

/* Digest wins over Basic offered with it; its digest-uri is the absolute URI of the
 * forwarded request; a stale nonce is answered once more with the new one, without
 * asking, on the connection the proxy kept open. */
static void
test_scripted_stale (void)
{
  Scripted scripted = { .sent = g_ptr_array_new_with_free_func (g_free) };
  g_autoptr(TestServer) proxy = NULL;
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autofree char *proxy_uri = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;

  g_mutex_init (&scripted.lock);
  proxy = test_server_new (TEST_SERVER_IPV4, stale_proxy_handler, &scripted);
  proxy_uri = g_strdup_printf ("http://bob:pw@127.0.0.1:%u", test_server_get_port (proxy));
  transfer = transfer_new ("http://origin.test/page", proxy_uri);
  run (session, transfer);
  assert_ok (transfer, "GET /page");

  g_assert_cmpuint (scripted.sent->len, ==, 3);
  g_assert_cmpstr (scripted.sent->pdata[0], ==, "");
  for (guint i = 1; i < 3; i++)
    {
      const char *value = scripted.sent->pdata[i];

      g_assert_true (g_str_has_prefix (value, "Digest "));
      g_assert_nonnull (strstr (value, "username=\"bob\""));
      g_assert_nonnull (strstr (value, "uri=\"http://origin.test/page\""));
      g_assert_nonnull (strstr (value, i == 1 ? "nonce=\"n1\"" : "nonce=\"n2\""));
    }
  /* One connection for the three. */
  g_assert_cmpuint (test_server_get_n_accepted (proxy), ==, 1);
  g_clear_object (&session);
  g_clear_pointer (&proxy, test_server_free);
  g_ptr_array_unref (scripted.sent);
  g_mutex_clear (&scripted.lock);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

  g_test_add_func ("/GMulti/ProxyAuth/Squid/BasicProperties", test_basic_properties);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/DigestUriCredentials", test_digest_uri_credentials);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/DigestHttpsProxy", test_digest_https_proxy);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/BasicRefused", test_basic_refused);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/DigestRefused", test_digest_refused);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/SessionProperties", test_session_properties);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/ResolverCredentials", test_resolver_credentials);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/BasicAuthenticateLater",
                   test_basic_authenticate_later);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/DigestAuthenticateLater",
                   test_digest_authenticate_later);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/SessionAuthenticate", test_session_authenticate);
  g_test_add_func ("/GMulti/ProxyAuth/Squid/RemovedWhileAsked", test_removed_while_asked);
  g_test_add_func ("/GMulti/ProxyAuth/Scripted/StaleNonce", test_scripted_stale);

  ret = g_test_run ();
  test_certs_remove (certs_dir);
  return ret;
}
