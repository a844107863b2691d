/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gmulti.h"
#include "gmulti-error-private.h"
#include "test-server.h"
#include "test-certs.h"

/* GMULTI_ERROR in GIO's terms (gmulti_error_matches(), gmulti_error_to_gio()): the
 * table over every code, and real failures whose GIO equivalent only the place that
 * failed knows (a refused connect, a resolver that does not answer, a full output
 * stream). */

static char *certs_dir;

/* Every code of the enum has a row, and each row names a real GIO code. */
static void
test_table_names_every_code (void)
{
  g_autoptr(GEnumClass) codes = g_type_class_ref (GMULTI_TYPE_ERROR);
  g_autoptr(GEnumClass) io = g_type_class_ref (G_TYPE_IO_ERROR_ENUM);
  g_autoptr(GEnumClass) resolver = g_type_class_ref (G_TYPE_RESOLVER_ERROR);
  g_autoptr(GEnumClass) tls = g_type_class_ref (G_TYPE_TLS_ERROR);
  guint n_mapped = 0;

  for (guint i = 0; i < codes->n_values; i++)
    {
      gint code = codes->values[i].value;
      g_autoptr(GError) error = g_error_new_literal (GMULTI_ERROR, code, "the message");
      g_autoptr(GError) gio = NULL;

      if (!gmulti_error_has_gio_row (code))
        g_error ("%s has no row in the table of GIO equivalents",
                 codes->values[i].value_name);
      g_assert_true (gmulti_error_matches (error, GMULTI_ERROR, code));
      gio = gmulti_error_to_gio (error);
      g_assert_cmpstr (gio->message, ==, "the message");
      if (gio->domain == GMULTI_ERROR)
        {
          /* "none": a plain copy, and nothing in GIO matches it. */
          g_assert_cmpint (gio->code, ==, code);
          continue;
        }
      n_mapped++;
      if (gio->domain == G_IO_ERROR)
        g_assert_nonnull (g_enum_get_value (io, gio->code));
      else if (gio->domain == G_RESOLVER_ERROR)
        g_assert_nonnull (g_enum_get_value (resolver, gio->code));
      else if (gio->domain == G_TLS_ERROR)
        g_assert_nonnull (g_enum_get_value (tls, gio->code));
      else
        g_error ("%s maps to the domain %s", codes->values[i].value_name,
                 g_quark_to_string (gio->domain));
      g_assert_true (gmulti_error_matches (error, gio->domain, gio->code));
      g_assert_false (gmulti_error_matches (error, gio->domain, gio->code + 1000));
    }
  g_assert_cmpuint (n_mapped, >, codes->n_values / 2);
  g_assert_false (gmulti_error_has_gio_row ((gint) codes->n_values + 10));
  g_assert_false (gmulti_error_matches (NULL, G_IO_ERROR, G_IO_ERROR_FAILED));
}

/* The equivalents a GIO programmer reaches for first. */
static void
test_table_rows (void)
{
  static const struct {
    GMultiError code;
    const char *domain;
    gint gio_code;
  } rows[] = {
    { GMULTI_ERROR_CONNECT_TIMEOUT, "g-io-error-quark", G_IO_ERROR_TIMED_OUT },
    { GMULTI_ERROR_TIMED_OUT, "g-io-error-quark", G_IO_ERROR_TIMED_OUT },
    { GMULTI_ERROR_RESOLVE_FAILED, "g-resolver-error-quark", G_RESOLVER_ERROR_NOT_FOUND },
    { GMULTI_ERROR_TLS_UNTRUSTED, "g-tls-error-quark", G_TLS_ERROR_BAD_CERTIFICATE },
    { GMULTI_ERROR_TLS_HOSTNAME_MISMATCH, "g-tls-error-quark", G_TLS_ERROR_BAD_CERTIFICATE },
    { GMULTI_ERROR_TLS_HANDSHAKE_FAILED, "g-tls-error-quark", G_TLS_ERROR_HANDSHAKE },
    { GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED, "g-tls-error-quark",
      G_TLS_ERROR_CERTIFICATE_REQUIRED },
    { GMULTI_ERROR_CONNECTION_CLOSED, "g-io-error-quark", G_IO_ERROR_CONNECTION_CLOSED },
    { GMULTI_ERROR_PROXY_AUTH_REQUIRED, "g-io-error-quark", G_IO_ERROR_PROXY_NEED_AUTH },
    { GMULTI_ERROR_CALLBACK_ABORTED, "g-io-error-quark", G_IO_ERROR_CANCELLED },
    { GMULTI_ERROR_TOO_MANY_REDIRECTS, NULL, 0 },
    { GMULTI_ERROR_AUTH_FAILED, NULL, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (GMULTI_ERROR, rows[i].code, "m");
      g_autoptr(GError) gio = gmulti_error_to_gio (error);

      if (rows[i].domain == NULL)
        {
          g_assert_error (gio, GMULTI_ERROR, (gint) rows[i].code);
          continue;
        }
      g_assert_cmpstr (g_quark_to_string (gio->domain), ==, rows[i].domain);
      g_assert_cmpint (gio->code, ==, rows[i].gio_code);
    }
}

/* A port nothing listens on (bound, then closed again). */
static guint16
closed_port (void)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  close (fd);
  return ntohs (addr.sin_port);
}

/* Runs @uri to its end and returns the error it failed with. */
static GError *
fail_with (GMultiTransfer *transfer,
           GCancellable   *cancellable)
{
  GError *error = NULL;

  g_assert_false (gmulti_transfer_perform (transfer, cancellable, &error));
  g_assert_nonnull (error);
  return error;
}

static void
assert_gio_error (GMultiTransfer *transfer,
                  GError         *error,
                  GQuark          domain,
                  gint            code)
{
  g_autoptr(GError) gio = gmulti_error_to_gio (error);
  g_autoptr(GError) copy = g_error_copy (error);
  g_autoptr(GError) from_transfer = gmulti_transfer_get_gio_error (transfer);

  g_assert_true (gmulti_error_matches (error, domain, code));
  g_assert_error (gio, domain, code);
  g_assert_cmpstr (gio->message, ==, error->message);
  /* A copy keeps what the failure knew. */
  g_assert_true (gmulti_error_matches (copy, domain, code));
  g_assert_error (from_transfer, domain, code);
}

static void
test_connection_refused (void)
{
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u/", closed_port ());
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);
  g_autoptr(GError) error = fail_with (transfer, NULL);
  g_autoptr(GError) rebuilt = NULL;

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  assert_gio_error (transfer, error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_false (gmulti_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE));

  /* Rebuilt from domain, code and message, as a binding passes it back: only the
   * code's own equivalent is left. */
  rebuilt = g_error_new_literal (error->domain, error->code, error->message);
  g_assert_false (gmulti_error_matches (rebuilt, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED));
  g_assert_true (gmulti_error_matches (rebuilt, G_IO_ERROR, G_IO_ERROR_FAILED));
}

/* A listening socket that never accepts: the connection is made by the kernel and the
 * request is never answered. */
static void
test_timed_out (void)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  g_autofree char *uri = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autoptr(GError) error = NULL;

  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (fd, 4), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  uri = g_strdup_printf ("http://127.0.0.1:%u/", ntohs (addr.sin_port));

  transfer = gmulti_transfer_new (uri);
  gmulti_transfer_set_timeout (transfer, 300);
  error = fail_with (transfer, NULL);
  close (fd);

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  assert_gio_error (transfer, error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* Names under .test are answered by tests/fake-resolver.c. */
static void
test_unknown_host (void)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://nothing-here.test/");
  g_autoptr(GError) error = fail_with (transfer, NULL);

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  assert_gio_error (transfer, error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
}

static void
test_resolver_temporary_failure (void)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://again.test/");
  g_autoptr(GError) error = fail_with (transfer, NULL);

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  assert_gio_error (transfer, error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE);
  g_assert_false (gmulti_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND));
}

static gboolean
small_handler (TestServer  *server,
               TestConn    *conn,
               TestRequest *req,
               gpointer     user_data)
{
  static const char body[] = "forty bytes of body: more than ten fit in";

  return test_conn_respond (conn, 200, "text/plain", body, sizeof body - 1);
}

static void
test_untrusted_certificate (void)
{
  g_autofree char *cert_file = g_build_filename (certs_dir, "untrusted.pem", NULL);
  g_autofree char *key_file = g_build_filename (certs_dir, "server-key.pem", NULL);
  TestTlsOptions options = { .cert_file = cert_file, .key_file = key_file };
  g_autoptr(TestServer) server = test_server_new_tls (TEST_SERVER_IPV4, &options,
                                                      small_handler, NULL);
  g_autofree char *uri = g_strdup_printf ("https://localhost:%u/",
                                          test_server_get_port (server));
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);
  g_autoptr(GError) error = fail_with (transfer, NULL);

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED);
  assert_gio_error (transfer, error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
}

/* The output stream's own error (a full fixed-size buffer) is what GIO sees. */
static void
test_output_no_space (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, small_handler, NULL);
  g_autofree char *uri = test_server_uri (server, "/");
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);
  guint8 buffer[10];
  g_autoptr(GOutputStream) output = g_memory_output_stream_new (buffer, sizeof buffer,
                                                                NULL, NULL);
  g_autoptr(GError) error = NULL;

  gmulti_transfer_set_output_stream (transfer, output);
  error = fail_with (transfer, NULL);

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED);
  assert_gio_error (transfer, error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
}

/* Cancellation is GIO's own error already. */
static void
test_cancelled (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, small_handler, NULL);
  g_autofree char *uri = test_server_uri (server, "/");
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) gio = NULL;

  g_cancellable_cancel (cancellable);
  error = fail_with (transfer, cancellable);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (gmulti_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  gio = gmulti_error_to_gio (error);
  g_assert_error (gio, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

  g_test_add_func ("/GMulti/ErrorGio/table/every-code", test_table_names_every_code);
  g_test_add_func ("/GMulti/ErrorGio/table/rows", test_table_rows);
  g_test_add_func ("/GMulti/ErrorGio/connection-refused", test_connection_refused);
  g_test_add_func ("/GMulti/ErrorGio/timed-out", test_timed_out);
  g_test_add_func ("/GMulti/ErrorGio/unknown-host", test_unknown_host);
  g_test_add_func ("/GMulti/ErrorGio/resolver-temporary-failure",
                   test_resolver_temporary_failure);
  g_test_add_func ("/GMulti/ErrorGio/untrusted-certificate", test_untrusted_certificate);
  g_test_add_func ("/GMulti/ErrorGio/output-no-space", test_output_no_space);
  g_test_add_func ("/GMulti/ErrorGio/cancelled", test_cancelled);

  ret = g_test_run ();
  test_certs_remove (certs_dir);
  return ret;
}
