/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti.h"
#include "test-server.h"
#include "test-certs.h"

/* GIO's face of the TLS layer, through a session on the main context: the server's
 * certificate as a GTlsCertificate with its errors, and accept-certificate. */

/* Every wait is bounded by this; generous for valgrind, under which decrypting the
 * password-protected key (PBKDF2) alone takes seconds. */
#define WAIT_MS 60000

static char *certs_dir;

static char *
cert (const char *name)
{
  return g_build_filename (certs_dir, name, NULL);
}

static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  if (g_str_equal (req->target, "/small"))
    return test_conn_respond (conn, 200, "text/plain", "secure", 6);
  return test_conn_respond (conn, 404, NULL, NULL, 0);
}

static TestServer *
start_server (const char *cert_name)
{
  g_autofree char *cert_file = cert (cert_name);
  g_autofree char *key_file = cert ("server-key.pem");
  TestTlsOptions options = {
    .cert_file = cert_file,
    .key_file = key_file,
  };

  return test_server_new_tls (TEST_SERVER_IPV4, &options, handler, NULL);
}

static GMultiTransfer *
new_transfer (TestServer *server,
              const char *host)
{
  g_autofree char *uri = g_strdup_printf ("https://%s:%u/small", host,
                                          test_server_get_port (server));
  g_autofree char *ca = cert ("ca.pem");
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  gmulti_transfer_set_tls_ca_file (transfer, ca);
  return transfer;
}

static void
wait_done (GMultiTransfer *transfer)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (gmulti_transfer_get_state (transfer) != GMULTI_TRANSFER_DONE)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
run_in_session (GMultiSession  *session,
                GMultiTransfer *transfer)
{
  GError *error = NULL;

  g_assert_true (gmulti_session_add (session, transfer, &error));
  g_assert_no_error (error);
  wait_done (transfer);
}

/* Whether @certificate is the one in @file (by its DER). */
static gboolean
is_certificate_of (GTlsCertificate *certificate,
                   const char      *name)
{
  g_autofree char *file = cert (name);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) expected = g_tls_certificate_new_from_file (file, &error);
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GByteArray) expected_der = NULL;

  g_assert_no_error (error);
  g_object_get (certificate, "certificate", &der, NULL);
  g_object_get (expected, "certificate", &expected_der, NULL);
  return der != NULL && der->len == expected_der->len &&
         memcmp (der->data, expected_der->data, der->len) == 0;
}

static void
check_head_cb (GMultiTransfer *transfer,
               guint           status,
               GMultiHeaders  *headers,
               gpointer        user_data)
{
  gboolean *seen = user_data;

  /* Already there when the head is. */
  g_assert_nonnull (gmulti_transfer_get_tls_peer_certificate (transfer));
  *seen = TRUE;
}

static void
test_peer_certificate (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  GTlsCertificate *peer;
  gboolean seen = FALSE;

  g_assert_true (g_tls_backend_supports_tls (g_tls_backend_get_default ()));
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost");

      g_assert_null (gmulti_transfer_get_tls_peer_certificate (transfer));
      g_signal_connect (transfer, "response-headers", G_CALLBACK (check_head_cb), &seen);
      run_in_session (session, transfer);
      g_assert_no_error (gmulti_transfer_get_error (transfer));
      g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
      g_assert_true (seen);

      peer = gmulti_transfer_get_tls_peer_certificate (transfer);
      g_assert_nonnull (peer);
      g_assert_true (is_certificate_of (peer, "server.pem"));
      /* Built once, then the same object. */
      g_assert_true (gmulti_transfer_get_tls_peer_certificate (transfer) == peer);
      g_assert_cmpint (gmulti_transfer_get_tls_peer_certificate_errors (transfer), ==, 0);
    }
  /* The second one on the pooled connection, which kept the chain. */
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);

  /* Plain http has none. */
  {
    g_autoptr(GMultiTransfer) plain = gmulti_transfer_new ("http://127.0.0.1:1/");

    g_assert_null (gmulti_transfer_get_tls_peer_certificate (plain));
    g_assert_cmpint (gmulti_transfer_get_tls_peer_certificate_errors (plain), ==, 0);
  }
}

typedef struct {
  const char *cert;
  const char *host;
  GTlsCertificateFlags errors;
  int code;
} FailureCase;

static void
test_peer_certificate_failure (void)
{
  static const FailureCase cases[] = {
    { "untrusted.pem", "localhost", G_TLS_CERTIFICATE_UNKNOWN_CA, GMULTI_ERROR_TLS_UNTRUSTED },
    { "wronghost.pem", "127.0.0.1", G_TLS_CERTIFICATE_BAD_IDENTITY,
      GMULTI_ERROR_TLS_HOSTNAME_MISMATCH },
    { "expired.pem", "localhost", G_TLS_CERTIFICATE_EXPIRED, GMULTI_ERROR_TLS_EXPIRED },
    { "notyet.pem", "localhost", G_TLS_CERTIFICATE_NOT_ACTIVATED,
      GMULTI_ERROR_TLS_NOT_YET_VALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TestServer) server = start_server (cases[i].cert);
      g_autoptr(GMultiSession) session = gmulti_session_new ();
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, cases[i].host);
      GTlsCertificate *peer;

      run_in_session (session, transfer);
      g_assert_error (gmulti_transfer_get_error (transfer), GMULTI_ERROR, cases[i].code);
      /* The certificate that failed is there to show. */
      peer = gmulti_transfer_get_tls_peer_certificate (transfer);
      g_assert_nonnull (peer);
      g_assert_true (is_certificate_of (peer, cases[i].cert));
      g_assert_cmpint (gmulti_transfer_get_tls_peer_certificate_errors (transfer), ==,
                       cases[i].errors);
    }
}

typedef struct {
  guint n_asked;
  gboolean answer;
  GTlsCertificateFlags errors;
  const char *cert;
} Acceptor;

static gboolean
accept_cb (GMultiTransfer       *transfer,
           GTlsCertificate      *peer,
           GTlsCertificateFlags  errors,
           gpointer              user_data)
{
  Acceptor *acceptor = user_data;

  acceptor->n_asked++;
  g_assert_cmpint (errors, ==, acceptor->errors);
  g_assert_true (is_certificate_of (peer, acceptor->cert));
  return acceptor->answer;
}

static GMultiTransfer *
new_asking_transfer (TestServer *server,
                     const char *host,
                     Acceptor   *acceptor)
{
  GMultiTransfer *transfer = new_transfer (server, host);

  g_signal_connect (transfer, "accept-certificate", G_CALLBACK (accept_cb), acceptor);
  return transfer;
}

/* An accepted certificate is good for its one connection: the next transfer to the
 * server gets a connection of its own (not pooled, not resumed) and is asked again. */
static void
test_accept_certificate (void)
{
  g_autoptr(TestServer) server = start_server ("untrusted.pem");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  Acceptor acceptor = { 0, TRUE, G_TLS_CERTIFICATE_UNKNOWN_CA, "untrusted.pem" };
  g_autoptr(GMultiTransfer) first = new_asking_transfer (server, "localhost", &acceptor);
  g_autoptr(GMultiTransfer) second = new_asking_transfer (server, "localhost", &acceptor);
  g_autoptr(GMultiTransfer) third = new_asking_transfer (server, "localhost", &acceptor);
  g_autoptr(GMultiTransfer) silent = new_transfer (server, "localhost");
  g_autoptr(GBytes) body = NULL;

  run_in_session (session, first);
  g_assert_no_error (gmulti_transfer_get_error (first));
  g_assert_cmpuint (gmulti_transfer_get_status (first), ==, 200);
  body = gmulti_transfer_get_response_body (first);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "secure", 6);
  g_assert_cmpuint (acceptor.n_asked, ==, 1);
  /* Accepted, the errors stay what they were. */
  g_assert_cmpint (gmulti_transfer_get_tls_peer_certificate_errors (first), ==,
                   G_TLS_CERTIFICATE_UNKNOWN_CA);

  acceptor.answer = FALSE;
  run_in_session (session, second);
  g_assert_error (gmulti_transfer_get_error (second), GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED);
  g_assert_cmpuint (acceptor.n_asked, ==, 2);

  acceptor.answer = TRUE;
  run_in_session (session, third);
  g_assert_no_error (gmulti_transfer_get_error (third));
  g_assert_cmpuint (acceptor.n_asked, ==, 3);

  /* Without a handler it fails as it always did. */
  run_in_session (session, silent);
  g_assert_error (gmulti_transfer_get_error (silent), GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED);

  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 4);
  g_assert_cmpuint (test_server_get_n_tls_resumed (server), ==, 0);
}

/* The handler removes its own transfer (an application closing the window that owns
 * it): the session puts the removal off until the engine is out of the handshake,
 * and the transfer ends cancelled whatever the handler answers. */
typedef struct {
  GMultiSession *session;
  gboolean answer;
  guint n_asked;
} Remover;

static gboolean
remove_in_accept_cb (GMultiTransfer       *transfer,
                     GTlsCertificate      *peer,
                     GTlsCertificateFlags  errors,
                     gpointer              user_data)
{
  Remover *remover = user_data;

  remover->n_asked++;
  gmulti_session_remove (remover->session, transfer);
  return remover->answer;
}

static void
test_accept_removes (void)
{
  g_autoptr(TestServer) server = start_server ("untrusted.pem");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  Remover remover = { session, TRUE, 0 };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost");
      g_autoptr(GMultiTransfer) after = new_transfer (server, "localhost");
      gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
      GError *error = NULL;

      remover.answer = i == 0;
      g_signal_connect (transfer, "accept-certificate", G_CALLBACK (remove_in_accept_cb),
                        &remover);
      g_assert_true (gmulti_session_add (session, transfer, &error));
      g_assert_no_error (error);
      while (remover.n_asked < i + 1 || gmulti_session_get_n_transfers (session) > 0)
        {
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_main_context_iteration (NULL, TRUE);
        }
      g_assert_error (gmulti_transfer_get_error (transfer), G_IO_ERROR, G_IO_ERROR_CANCELLED);

      /* The session goes on: the next transfer fails verification as usual. */
      run_in_session (session, after);
      g_assert_error (gmulti_transfer_get_error (after), GMULTI_ERROR,
                      GMULTI_ERROR_TLS_UNTRUSTED);
    }
  g_assert_cmpuint (remover.n_asked, ==, 2);
}

static void
test_accept_bad_identity (void)
{
  g_autoptr(TestServer) server = start_server ("wronghost.pem");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  Acceptor acceptor = { 0, FALSE, G_TLS_CERTIFICATE_BAD_IDENTITY, "wronghost.pem" };
  g_autoptr(GMultiTransfer) refused = new_asking_transfer (server, "127.0.0.1", &acceptor);
  g_autoptr(GMultiTransfer) accepted = new_asking_transfer (server, "127.0.0.1", &acceptor);

  run_in_session (session, refused);
  g_assert_error (gmulti_transfer_get_error (refused), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_HOSTNAME_MISMATCH);
  g_assert_cmpuint (acceptor.n_asked, ==, 1);

  acceptor.answer = TRUE;
  run_in_session (session, accepted);
  g_assert_no_error (gmulti_transfer_get_error (accepted));
  g_assert_cmpuint (gmulti_transfer_get_status (accepted), ==, 200);
  g_assert_cmpuint (acceptor.n_asked, ==, 2);
}

/* A verified certificate asks nobody; an accepted one still has to match the pin. */
static void
test_accept_and_pins (void)
{
  g_autoptr(TestServer) trusted = start_server ("server.pem");
  g_autoptr(TestServer) untrusted = start_server ("untrusted.pem");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  Acceptor acceptor = { 0, TRUE, G_TLS_CERTIFICATE_UNKNOWN_CA, "untrusted.pem" };
  g_autoptr(GMultiTransfer) verified = new_asking_transfer (trusted, "localhost", &acceptor);
  g_autoptr(GMultiTransfer) pinned = new_asking_transfer (untrusted, "localhost", &acceptor);

  run_in_session (session, verified);
  g_assert_no_error (gmulti_transfer_get_error (verified));
  g_assert_cmpuint (acceptor.n_asked, ==, 0);

  gmulti_transfer_set_tls_pinned_public_key (pinned,
                                             "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  run_in_session (session, pinned);
  g_assert_error (gmulti_transfer_get_error (pinned), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_PIN_MISMATCH);
  g_assert_cmpuint (acceptor.n_asked, ==, 1);
}

static GTlsDatabase *
file_database (const char *name)
{
  g_autofree char *file = cert (name);
  g_autoptr(GError) error = NULL;
  GTlsDatabase *database = g_tls_file_database_new (file, &error);

  g_assert_no_error (error);
  return database;
}

/* The database decides, not the CA file, and its findings are the errors. */
static void
test_database (void)
{
  g_autoptr(TestServer) server = start_server ("server.pem");
  g_autoptr(TestServer) wronghost = start_server ("wronghost.pem");
  g_autoptr(GTlsDatabase) trusting = file_database ("ca.pem");
  g_autoptr(GTlsDatabase) other = file_database ("client-ca.pem");
  g_autofree char *wrong_ca = cert ("client-ca.pem");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) trusted = new_transfer (server, "localhost");
  g_autoptr(GMultiTransfer) untrusted = new_transfer (server, "localhost");
  g_autoptr(GMultiTransfer) mismatch = new_transfer (wronghost, "127.0.0.1");
  g_autoptr(GMultiTransfer) from_session = new_transfer (server, "localhost");

  gmulti_transfer_set_tls_ca_file (trusted, wrong_ca);
  gmulti_transfer_set_tls_database (trusted, trusting);
  g_assert_true (gmulti_transfer_get_tls_database (trusted) == trusting);
  run_in_session (session, trusted);
  g_assert_no_error (gmulti_transfer_get_error (trusted));
  g_assert_cmpuint (gmulti_transfer_get_status (trusted), ==, 200);
  g_assert_cmpint (gmulti_transfer_get_tls_peer_certificate_errors (trusted), ==, 0);

  /* The CA file would trust it; the database does not. Not the connection above. */
  gmulti_transfer_set_tls_database (untrusted, other);
  run_in_session (session, untrusted);
  g_assert_error (gmulti_transfer_get_error (untrusted), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_UNTRUSTED);
  g_assert_cmpint (gmulti_transfer_get_tls_peer_certificate_errors (untrusted) &
                   G_TLS_CERTIFICATE_UNKNOWN_CA, !=, 0);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);

  gmulti_transfer_set_tls_database (mismatch, trusting);
  run_in_session (session, mismatch);
  g_assert_error (gmulti_transfer_get_error (mismatch), GMULTI_ERROR,
                  GMULTI_ERROR_TLS_HOSTNAME_MISMATCH);
  g_assert_cmpint (gmulti_transfer_get_tls_peer_certificate_errors (mismatch), ==,
                   G_TLS_CERTIFICATE_BAD_IDENTITY);

  /* The session's, for a transfer without its own. */
  gmulti_transfer_set_tls_ca_file (from_session, wrong_ca);
  gmulti_session_set_tls_database (session, trusting);
  g_assert_true (gmulti_session_get_tls_database (session) == trusting);
  run_in_session (session, from_session);
  g_assert_no_error (gmulti_transfer_get_error (from_session));
  g_assert_cmpuint (gmulti_transfer_get_status (from_session), ==, 200);
}

/* ------------------------------------------------------ an interaction */

#define TEST_TYPE_INTERACTION (test_interaction_get_type ())
G_DECLARE_FINAL_TYPE (TestInteraction, test_interaction, TEST, INTERACTION, GTlsInteraction)

struct _TestInteraction
{
  GTlsInteraction parent_instance;
  const char *password;
  guint n_asked;
};

G_DEFINE_FINAL_TYPE (TestInteraction, test_interaction, G_TYPE_TLS_INTERACTION)

static GTlsInteractionResult
test_interaction_ask_password (GTlsInteraction  *interaction,
                               GTlsPassword     *password,
                               GCancellable     *cancellable,
                               GError          **error)
{
  TestInteraction *self = TEST_INTERACTION (interaction);

  self->n_asked++;
  g_assert_nonnull (strstr (g_tls_password_get_description (password), "client-key-enc.pem"));
  g_tls_password_set_value (password, (const guchar *) self->password, -1);
  return G_TLS_INTERACTION_HANDLED;
}

static void
test_interaction_class_init (TestInteractionClass *klass)
{
  G_TLS_INTERACTION_CLASS (klass)->ask_password = test_interaction_ask_password;
}

static void
test_interaction_init (TestInteraction *self)
{
}

static void
test_interaction (void)
{
  g_autofree char *cert_file = cert ("server.pem");
  g_autofree char *key_file = cert ("server-key.pem");
  g_autofree char *client_ca = cert ("client-ca.pem");
  g_autofree char *client_cert = cert ("client.pem");
  g_autofree char *client_key = cert ("client-key-enc.pem");
  TestTlsOptions options = {
    .cert_file = cert_file,
    .key_file = key_file,
    .client_ca_file = client_ca,
  };
  g_autoptr(TestServer) server = test_server_new_tls (TEST_SERVER_IPV4, &options, handler,
                                                      NULL);
  g_autoptr(TestInteraction) interaction = g_object_new (TEST_TYPE_INTERACTION, NULL);
  const char *answers[] = { NULL, "wrong", "gmulti-secret" };

  /* The client decrypts the key between connecting and its first handshake byte. */
  test_server_set_io_timeout (server, WAIT_MS);

  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      g_autoptr(GMultiSession) session = gmulti_session_new ();
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, "localhost");
      const GError *error;

      gmulti_transfer_set_tls_client_certificate (transfer, client_cert, client_key);
      interaction->n_asked = 0;
      interaction->password = answers[i];
      if (answers[i] != NULL)
        gmulti_transfer_set_tls_interaction (transfer, G_TLS_INTERACTION (interaction));
      run_in_session (session, transfer);
      error = gmulti_transfer_get_error (transfer);
      g_assert_cmpuint (interaction->n_asked, ==, answers[i] != NULL ? 1 : 0);
      if (i < 2)
        {
          g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE);
          /* Says what is missing, or what went wrong. */
          g_assert_nonnull (strstr (error->message, i == 0 ? "interaction" : "password"));
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
    }

  /* The session's, for transfers without their own: asked once for both connections,
   * which share the config. */
  {
    g_autoptr(GMultiSession) session = gmulti_session_new ();
    g_autoptr(GMultiTransfer) one = new_transfer (server, "localhost");
    g_autoptr(GMultiTransfer) two = new_transfer (server, "localhost");
    guint accepted = test_server_get_n_accepted (server);

    interaction->n_asked = 0;
    gmulti_session_set_tls_interaction (session, G_TLS_INTERACTION (interaction));
    g_assert_true (gmulti_session_get_tls_interaction (session) ==
                   G_TLS_INTERACTION (interaction));
    gmulti_transfer_set_tls_client_certificate (one, client_cert, client_key);
    gmulti_transfer_set_tls_client_certificate (two, client_cert, client_key);
    g_assert_true (gmulti_session_add (session, one, NULL));
    run_in_session (session, two);
    wait_done (one);
    g_assert_no_error (gmulti_transfer_get_error (one));
    g_assert_no_error (gmulti_transfer_get_error (two));
    g_assert_cmpuint (test_server_get_n_accepted (server), ==, accepted + 2);
    g_assert_cmpuint (interaction->n_asked, ==, 1);
  }
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

  g_test_add_func ("/GMulti/TlsGio/peer-certificate", test_peer_certificate);
  g_test_add_func ("/GMulti/TlsGio/peer-certificate-failure", test_peer_certificate_failure);
  g_test_add_func ("/GMulti/TlsGio/accept-certificate", test_accept_certificate);
  g_test_add_func ("/GMulti/TlsGio/accept-removes", test_accept_removes);
  g_test_add_func ("/GMulti/TlsGio/accept-bad-identity", test_accept_bad_identity);
  g_test_add_func ("/GMulti/TlsGio/accept-and-pins", test_accept_and_pins);
  g_test_add_func ("/GMulti/TlsGio/database", test_database);
  g_test_add_func ("/GMulti/TlsGio/interaction", test_interaction);

  ret = g_test_run ();
  test_certs_remove (certs_dir);
  return ret;
}
