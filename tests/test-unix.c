/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gmulti.h"
#include "test-certs.h"
#include "test-server.h"
#include "test-wait.h"

/* HTTP over Unix-domain sockets through a session: the URI gives Host and path, the
 * socket path where to connect; a path and a Linux abstract name; connections pooled
 * per socket; TLS over the socket; a missing socket. The servers are the scripted
 * one, listening on a socket in a temporary directory. */

#define WAIT_MS 10000

static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  g_autofree char *body = g_strdup_printf ("%s %s via %s", req->method, req->target,
                                           (const char *) user_data);

  return test_conn_respond (conn, 200, "text/plain", body, strlen (body));
}

typedef struct {
  char *dir;
  GMultiSession *session;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = g_dir_make_tmp ("gmulti-unix-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->session = gmulti_session_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->session);
  g_rmdir (f->dir);
  g_free (f->dir);
}

static char *
socket_path (Fixture    *f,
             const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

static void
run (Fixture        *f,
     GMultiTransfer *transfer)
{
  g_assert_true (gmulti_session_add (f->session, transfer, NULL));
  RUN_UNTIL (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE, WAIT_MS);
}

static void
assert_body (GMultiTransfer *transfer,
             const char     *expected)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);
  g_autofree char *text = NULL;

  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_assert_cmpstr (text, ==, expected);
}

/* The request goes to the socket; Host and the target come from the URI. */
static void
test_path (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *path = socket_path (f, "docker.sock");
  TestServer *server = test_server_new_unix (path, handler, "docker");
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://localhost/containers/json?all=1");
  g_autoptr(TestRequest) req = NULL;

  gmulti_transfer_set_unix_socket_path (transfer, path);
  g_assert_cmpstr (gmulti_transfer_get_unix_socket_path (transfer), ==, path);
  run (f, transfer);
  assert_body (transfer, "GET /containers/json?all=1 via docker");
  req = test_server_get_last_request (server);
  g_assert_cmpstr (test_request_get_header (req, "Host"), ==, "localhost");

  test_server_free (server);
  g_unlink (path);
}

/* "@name": the abstract namespace, no file anywhere. */
static void
test_abstract (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *name = g_strdup_printf ("@gmulti-test-%d-%u", (int) getpid (),
                                           g_random_int ());
  TestServer *server = test_server_new_unix (name, handler, "abstract");
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://service.local/ping");
  g_autoptr(GMultiTransfer) missing = gmulti_transfer_new ("http://service.local/ping");
  g_autofree char *other = g_strconcat (name, "-none", NULL);
  const GError *error;

  gmulti_transfer_set_unix_socket_path (transfer, name);
  run (f, transfer);
  assert_body (transfer, "GET /ping via abstract");

  gmulti_transfer_set_unix_socket_path (missing, other);
  run (f, missing);
  error = gmulti_transfer_get_error (missing);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  g_assert_nonnull (strstr (error->message, other));

  test_server_free (server);
}

/* Two sockets, two connections, though the URI is the same; the same socket, the
 * same connection again. The session's default applies to transfers naming none. */
static void
test_pooling (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *path_a = socket_path (f, "a.sock");
  g_autofree char *path_b = socket_path (f, "b.sock");
  TestServer *a = test_server_new_unix (path_a, handler, "a");
  TestServer *b = test_server_new_unix (path_b, handler, "b");

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GMultiTransfer) to_a = gmulti_transfer_new ("http://localhost/x");
      g_autoptr(GMultiTransfer) to_b = gmulti_transfer_new ("http://localhost/x");

      gmulti_transfer_set_unix_socket_path (to_a, path_a);
      gmulti_transfer_set_unix_socket_path (to_b, path_b);
      run (f, to_a);
      assert_body (to_a, "GET /x via a");
      run (f, to_b);
      assert_body (to_b, "GET /x via b");
    }
  g_assert_cmpuint (test_server_get_n_accepted (a), ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (a), ==, 3);
  g_assert_cmpuint (test_server_get_n_accepted (b), ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (b), ==, 3);

  /* The session's socket, and a transfer's own beating it. */
  gmulti_session_set_unix_socket_path (f->session, path_b);
  g_assert_cmpstr (gmulti_session_get_unix_socket_path (f->session), ==, path_b);
  {
    g_autoptr(GMultiTransfer) by_session = gmulti_transfer_new ("http://localhost/s");
    g_autoptr(GMultiTransfer) own = gmulti_transfer_new ("http://localhost/s");

    run (f, by_session);
    assert_body (by_session, "GET /s via b");
    gmulti_transfer_set_unix_socket_path (own, path_a);
    run (f, own);
    assert_body (own, "GET /s via a");
  }
  g_assert_cmpuint (test_server_get_n_accepted (a), ==, 1);
  g_assert_cmpuint (test_server_get_n_accepted (b), ==, 1);

  test_server_free (a);
  test_server_free (b);
  g_unlink (path_a);
  g_unlink (path_b);
}

/* No socket at the path: CONNECT_FAILED, naming it; no name was looked up. */
static void
test_missing (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *path = socket_path (f, "none.sock");
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://no-such-host.invalid/");
  const GError *error;

  gmulti_transfer_set_unix_socket_path (transfer, path);
  run (f, transfer);
  error = gmulti_transfer_get_error (transfer);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  g_assert_nonnull (strstr (error->message, path));
}

/* https: TLS over the socket, the certificate checked against the URI's host. */
static void
test_https (Fixture       *f,
            gconstpointer  data)
{
  char *certs = test_certs_make ();
  g_autofree char *cert = g_build_filename (certs, "server.pem", NULL);
  g_autofree char *key = g_build_filename (certs, "server-key.pem", NULL);
  g_autofree char *ca = g_build_filename (certs, "ca.pem", NULL);
  g_autofree char *path = socket_path (f, "tls.sock");
  TestTlsOptions tls = { .cert_file = cert, .key_file = key };
  TestServer *server = test_server_new_unix_tls (path, &tls, handler, "tls");

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("https://localhost/secret");

      gmulti_transfer_set_unix_socket_path (transfer, path);
      gmulti_transfer_set_tls_ca_file (transfer, ca);
      run (f, transfer);
      assert_body (transfer, "GET /secret via tls");
    }
  /* Pooled over TLS too. */
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (test_server_get_n_tls_handshakes (server), ==, 1);

  /* The name checked is the URI's: another one fails. */
  {
    g_autoptr(GMultiTransfer) wrong = gmulti_transfer_new ("https://other.example/");

    gmulti_transfer_set_unix_socket_path (wrong, path);
    gmulti_transfer_set_tls_ca_file (wrong, ca);
    run (f, wrong);
    g_assert_error (gmulti_transfer_get_error (wrong), GMULTI_ERROR,
                    GMULTI_ERROR_TLS_HOSTNAME_MISMATCH);
  }

  test_server_free (server);
  g_unlink (path);
  test_certs_remove (certs);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/GMulti/Unix/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("path", test_path);
  ADD ("abstract", test_abstract);
  ADD ("pooling", test_pooling);
  ADD ("missing", test_missing);
  ADD ("https", test_https);
#undef ADD
  return g_test_run ();
}
