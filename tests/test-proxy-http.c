/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gmulti.h"
#include "test-certs.h"
#include "test-server.h"
#include "test-wait.h"

/* Transfers through HTTP proxies: Debian's squid, started here on loopback with a
 * minimal configuration in a temporary directory, forwarding http:// requests and
 * tunnelling https:// ones (CONNECT), with and without Basic authentication; and
 * scripted proxies (tests/support) for answers squid never gives. The origins are
 * the scripted server, plain and over TLS. */

#define WAIT_MS 15000

static char *certs_dir;

typedef struct {
  char *dir;
  guint16 port;
  GPid pid;
} Squid;

static guint16
free_port (void)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  close (fd);
  return ntohs (addr.sin_port);
}

static gboolean
port_accepts (guint16 port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  gboolean ok = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;

  close (fd);
  return ok;
}

static const char *
squid_binary (void)
{
  static const char *const paths[] = { "/usr/sbin/squid", "/usr/local/sbin/squid" };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    if (g_file_test (paths[i], G_FILE_TEST_IS_EXECUTABLE))
      return paths[i];
  return NULL;
}

static char *
squid_path (Squid      *squid,
            const char *name)
{
  return g_build_filename (squid->dir, name, NULL);
}

/* A forward proxy on 127.0.0.1 that keeps nothing; with @user, it asks for Basic
 * credentials (that user, @password). NULL (the test skipped) without squid. */
static Squid *
squid_start (const char *user,
             const char *password)
{
  const char *binary = squid_binary ();
  Squid *squid;
  GString *conf;
  g_autofree char *conf_path = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  if (binary == NULL)
    {
      g_test_skip ("squid is not installed (tools/install-deps test)");
      return NULL;
    }
  squid = g_new0 (Squid, 1);
  squid->dir = g_dir_make_tmp ("gmulti-squid-XXXXXX", &error);
  g_assert_no_error (error);
  /* Squid started as root runs as its own user: it writes its logs here. */
  g_chmod (squid->dir, 0777);
  squid->port = free_port ();

  conf = g_string_new (NULL);
  g_string_append_printf (conf,
                          "http_port 127.0.0.1:%u\n"
                          "pid_filename %s/squid.pid\n"
                          "cache_log %s/cache.log\n"
                          "access_log stdio:%s/access.log\n"
                          "coredump_dir %s\n"
                          "cache deny all\n"
                          "cache_mem 0 MB\n"
                          "shutdown_lifetime 0 seconds\n"
                          "visible_hostname gmulti-test\n"
                          "netdb_filename none\n"
                          "pinger_enable off\n"
                          "dns_nameservers 127.0.0.1\n"
                          "forwarded_for delete\n",
                          squid->port, squid->dir, squid->dir, squid->dir, squid->dir);
  if (user != NULL)
    {
      g_autofree char *passwd = squid_path (squid, "passwd");
      g_autofree char *hash = NULL;
      g_autofree char *line = NULL;
      const char *argv[] = { "openssl", "passwd", "-apr1", password, NULL };
      int status;

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &hash,
                    NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_strstrip (hash);
      line = g_strdup_printf ("%s:%s\n", user, hash);
      g_file_set_contents (passwd, line, -1, &error);
      g_assert_no_error (error);
      g_chmod (passwd, 0644);
      g_string_append_printf (conf,
                              "auth_param basic program /usr/lib/squid/basic_ncsa_auth %s\n"
                              "auth_param basic children 1\n"
                              "auth_param basic realm gmulti-test\n"
                              "acl authed proxy_auth REQUIRED\n"
                              "http_access allow authed\n", passwd);
    }
  else
    g_string_append (conf, "http_access allow localhost\n");
  g_string_append (conf, "http_access deny all\n");
  conf_path = squid_path (squid, "squid.conf");
  g_file_set_contents (conf_path, conf->str, -1, &error);
  g_assert_no_error (error);
  g_string_free (conf, TRUE);
  g_chmod (conf_path, 0644);

  {
    const char *argv[] = { binary, "-N", "-f", conf_path, NULL };

    g_spawn_async (NULL, (char **) argv, NULL,
                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                   G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &squid->pid, &error);
    g_assert_no_error (error);
  }
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!port_accepts (squid->port))
    {
      int status;

      if (waitpid (squid->pid, &status, WNOHANG) == squid->pid)
        g_error ("squid exited at once (see its cache.log in %s)", squid->dir);
      if (g_get_monotonic_time () > deadline)
        g_error ("squid did not listen on port %u within %u ms", squid->port, WAIT_MS);
      g_usleep (20000);
    }
  return squid;
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

static void
squid_stop (Squid *squid)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int status;

  if (squid == NULL)
    return;
  kill (squid->pid, SIGTERM);
  while (waitpid (squid->pid, &status, WNOHANG) != squid->pid)
    {
      if (g_get_monotonic_time () > deadline)
        {
          kill (squid->pid, SIGKILL);
          waitpid (squid->pid, &status, 0);
          break;
        }
      g_usleep (20000);
    }
  g_spawn_close_pid (squid->pid);
  remove_tree (squid->dir);
  g_free (squid->dir);
  g_free (squid);
}

static char *
squid_uri (Squid      *squid,
           const char *credentials)
{
  return g_strdup_printf ("http://%s%s127.0.0.1:%u", credentials != NULL ? credentials : "",
                          credentials != NULL ? "@" : "", squid->port);
}

/* Lines of squid's access log (it writes each when a transaction ends). */
G_GNUC_UNUSED static guint
squid_count_log (Squid      *squid,
                 const char *needle)
{
  g_autofree char *path = squid_path (squid, "access.log");
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], needle) != NULL)
      n++;
  return n;
}

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

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

  g_test_add_func ("/GMulti/Proxy/Squid/Forward", test_squid_forward);
  g_test_add_func ("/GMulti/Proxy/Squid/Connect", test_squid_connect);

  ret = g_test_run ();
  test_certs_remove (certs_dir);
  return ret;
}
