/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>

#include "gmulti.h"
#include "auth/gmulti-auth-private.h"
#include "test-server.h"

/* HTTP authentication: the challenge parser against a table, the Digest computation
 * against RFC 7616's examples, the engine's REPEAT and WAIT against scripted servers
 * (SHA-256, stale nonces, auth-int, wrong passwords, redirects, cleartext, the
 * authenticate signal answered later, the session's cache), and real servers: Apache
 * httpd's mod_auth_digest and nginx's auth_basic and a Bearer check. */

#define WAIT_MS 10000
#define USER "alice"
#define PASSWORD "s3cret \"quoted\""
#define REALM "gmulti tests"

/* ------------------------------------------------------------ the parser table */

/* A challenge list as text: Scheme[name=value,...] or Scheme{token68}, ";" between. */
static char *
describe (GPtrArray *challenges)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < challenges->len; i++)
    {
      GMultiAuthChallenge *c = challenges->pdata[i];

      if (i > 0)
        g_string_append_c (out, ';');
      g_string_append (out, c->scheme);
      if (c->token68 != NULL)
        g_string_append_printf (out, "{%s}", c->token68);
      else
        {
          g_string_append_c (out, '[');
          for (guint j = 0; j < c->names->len; j++)
            g_string_append_printf (out, "%s%s=%s", j > 0 ? "," : "",
                                    (char *) c->names->pdata[j], (char *) c->values->pdata[j]);
          g_string_append_c (out, ']');
        }
    }
  return g_string_free (out, FALSE);
}

static void
test_parse_table (void)
{
  static const struct {
    const char *value;
    const char *expected;
  } cases[] = {
    { "Basic", "Basic[]" },
    { "Basic realm=\"x\"", "Basic[realm=x]" },
    { "basic   realm = \"x\" ,charset=\"UTF-8\"", "basic[realm=x,charset=UTF-8]" },
    { "Basic realm=token", "Basic[realm=token]" },
    /* Several challenges in one field. */
    { "Digest realm=\"a\", nonce=\"n\", Basic realm=\"b\"", "Digest[realm=a,nonce=n];Basic[realm=b]" },
    { "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
      "Newauth[realm=apps,type=1,title=Login to \"apps\"];Basic[realm=simple]" },
    { "Bearer, Basic realm=\"x\"", "Bearer[];Basic[realm=x]" },
    /* token68. */
    { "Negotiate abc+/==", "Negotiate{abc+/==}" },
    { "Negotiate abc==, Basic realm=\"r\"", "Negotiate{abc==};Basic[realm=r]" },
    /* Quoted strings: escapes, commas and equals inside. */
    { "Basic realm=\"a\\\\b\\\"c, d=e\"", "Basic[realm=a\\b\"c, d=e]" },
    { "Digest realm=\"\", nonce=\"x\"", "Digest[realm=,nonce=x]" },
    /* Empty items and stray commas. */
    { ", ,Basic realm=\"x\",, ", "Basic[realm=x]" },
    { "", "" },
    { "   ", "" },
    /* Bad input: the bad challenge is left out, the rest stays. */
    { "Basic realm=\"unterminated", "" },
    { "Basic realm=\"unterminated, Digest nonce=\"n\"", "" },
    { "Basic realm=\"x\"junk, Digest nonce=\"n\"", "Digest[nonce=n]" },
    { "\"quoted\" realm=x, Basic realm=\"y\"", "Basic[realm=y]" },
    { "Basic/1 realm=x, Digest nonce=n", "Digest[nonce=n]" },
    /* "realm=" is a token68 (RFC 9110 11.2), "realm=\"" a broken parameter. */
    { "Basic realm=, Digest nonce=n", "Basic{realm=};Digest[nonce=n]" },
    { "Basic realm=\", Digest nonce=n", "" },
    { "Basic realm=\"a\x01\", Digest nonce=n", "Digest[nonce=n]" },
    { "=, ==, =x, Basic", "Basic[]" },
    { "Digest nonce=\"\\", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_auth_challenge_free);
      g_autofree char *got = NULL;

      gmulti_auth_challenges_parse (cases[i].value, out);
      got = describe (out);
      if (strcmp (got, cases[i].expected) != 0)
        g_error ("case %u <%s>: got <%s>, expected <%s>", i, cases[i].value, got,
                 cases[i].expected);
    }
}

static void
test_parse_fields (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  g_autoptr(GPtrArray) all = NULL;
  g_autofree char *got = NULL;
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_auth_challenge_free);
  g_autoptr(GString) long_value = g_string_new (NULL);

  gmulti_headers_append (headers, "WWW-Authenticate", "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256", NULL);
  gmulti_headers_append (headers, "Content-Type", "text/plain", NULL);
  gmulti_headers_append (headers, "www-authenticate", "Basic realm=\"r\", Bearer", NULL);
  all = gmulti_auth_challenges_from_headers (headers, "WWW-Authenticate");
  got = describe (all);
  g_assert_cmpstr (got, ==, "Digest[realm=r,nonce=n,algorithm=SHA-256];Basic[realm=r];Bearer[]");
  g_assert_cmpstr (gmulti_auth_challenge_get_param (all->pdata[0], "ALGORITHM"), ==, "SHA-256");
  g_assert_null (gmulti_auth_challenge_get_param (all->pdata[1], "nonce"));

  /* Beyond the limits: left out, not a crash. */
  for (guint i = 0; i < 100; i++)
    g_string_append_printf (long_value, "S%u a=1, b=2, ", i);
  gmulti_auth_challenges_parse (long_value->str, many);
  g_assert_cmpuint (many->len, ==, GMULTI_AUTH_MAX_CHALLENGES);
}

/* ------------------------------------------------------------ RFC 7616 3.9.1 */

static void
test_digest_rfc_examples (void)
{
  static const struct {
    const char *algorithm;
    const char *response;
  } cases[] = {
    { "MD5", "8ca523f5e9506fed4657c9700eebdbec" },
    { "SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *challenge_text = g_strdup_printf (
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
        "algorithm=%s, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
        "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"", cases[i].algorithm);
      g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_auth_challenge_free);
      g_autoptr(GMultiAuthDigest) digest = NULL;
      g_autofree char *value = NULL, *expected = NULL;
      GError *error = NULL;

      gmulti_auth_challenges_parse (challenge_text, out);
      g_assert_cmpuint (out->len, ==, 1);
      digest = gmulti_auth_digest_new (out->pdata[0], &error);
      g_assert_no_error (error);
      digest->cnonce = g_strdup ("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
      /* No body known: qop=auth, as in the RFC's example. */
      value = gmulti_auth_digest_encode (digest, "Mufasa", "Circle of Life", "GET",
                                         "/dir/index.html", NULL);
      expected = g_strdup_printf ("response=\"%s\"", cases[i].response);
      g_assert_nonnull (strstr (value, expected));
      g_assert_nonnull (strstr (value, "qop=auth, nc=00000001"));
      g_clear_pointer (&value, g_free);
      value = gmulti_auth_digest_encode (digest, "Mufasa", "Circle of Life", "GET",
                                         "/dir/index.html", NULL);
      g_assert_nonnull (strstr (value, "nc=00000002"));
    }
}

static void
test_digest_refused_challenges (void)
{
  static const char *const refused[] = {
    "Digest realm=\"r\"",                          /* no nonce */
    "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
    "Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_auth_challenge_free);
      GError *error = NULL;

      gmulti_auth_challenges_parse (refused[i], out);
      g_assert_cmpuint (out->len, ==, 1);
      g_assert_null (gmulti_auth_digest_new (out->pdata[0], &error));
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED);
      g_clear_error (&error);
    }
}

static void
test_basic_bearer_encoding (void)
{
  g_autofree char *basic = gmulti_auth_basic_encode ("Aladdin", "open sesame");
  g_autofree char *bearer = gmulti_auth_bearer_encode ("mF_9.B5f-4.1JqM");
  g_autofree char *bad = gmulti_auth_bearer_encode ("two words");

  g_assert_cmpstr (basic, ==, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  g_assert_cmpstr (bearer, ==, "Bearer mF_9.B5f-4.1JqM");
  g_assert_null (bad);
}

/* ------------------------------------------------------------ a scripted server */

/* The server side, written apart from the library's: a Digest checker with its own
 * parsing, Basic, Bearer, and a log of what arrived. */
typedef struct {
  const char *mode;           /* "basic", "digest-sha256", "digest-stale", "auth-int",
                                 "bearer", "redirect", "open" */
  const char *redirect_to;    /* for "redirect": after a login */
  const char *password;       /* the one the server accepts */
  gint n_401;                 /* atomic */
  gint n_stale_sent;
  gint n_authorized;
  char *nonce;                /* the current one (set from handlers, one at a time) */
  GMutex lock;
} Site;

/* name=value pairs of an Authorization field, unquoted (the test's own parser). */
static GHashTable *
parse_authorization (const char *value)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *p = strchr (value, ' ');

  while (p != NULL && *p != '\0')
    {
      const char *eq;
      GString *v = g_string_new (NULL);
      char *name;

      while (*p == ' ' || *p == ',')
        p++;
      eq = strchr (p, '=');
      if (eq == NULL)
        {
          g_string_free (v, TRUE);
          break;
        }
      name = g_strstrip (g_strndup (p, eq - p));
      p = eq + 1;
      if (*p == '"')
        {
          for (p++; *p != '\0' && *p != '"'; p++)
            {
              if (*p == '\\' && p[1] != '\0')
                p++;
              g_string_append_c (v, *p);
            }
          if (*p == '"')
            p++;
        }
      else
        while (*p != '\0' && *p != ',')
          g_string_append_c (v, *p++);
      g_hash_table_replace (params, name, g_string_free (v, FALSE));
    }
  return params;
}

static char *
h (GChecksumType type,
   const char   *text)
{
  return g_compute_checksum_for_string (type, text, -1);
}

/* Checks a Digest answer as a server would. */
static gboolean
digest_ok (Site          *site,
           TestRequest   *req,
           GChecksumType  type,
           const char    *nonce)
{
  const char *value = test_request_get_header (req, "Authorization");
  g_autoptr(GHashTable) p = NULL;
  g_autofree char *a1 = NULL, *ha1 = NULL, *a2 = NULL, *ha2 = NULL, *all = NULL, *expected = NULL;
  const char *qop;

  if (value == NULL || !g_str_has_prefix (value, "Digest "))
    return FALSE;
  p = parse_authorization (value);
  if (g_strcmp0 (g_hash_table_lookup (p, "nonce"), nonce) != 0 ||
      g_strcmp0 (g_hash_table_lookup (p, "uri"), req->target) != 0 ||
      g_strcmp0 (g_hash_table_lookup (p, "username"), USER) != 0)
    return FALSE;
  qop = g_hash_table_lookup (p, "qop");
  a1 = g_strdup_printf ("%s:%s:%s", USER, REALM, site->password);
  ha1 = h (type, a1);
  if (g_strcmp0 (qop, "auth-int") == 0)
    {
      gsize size = 0;
      const guint8 *data = req->body != NULL ? g_bytes_get_data (req->body, &size) : NULL;
      g_autofree char *hb = g_compute_checksum_for_data (type, data != NULL ? data : (const guint8 *) "", size);

      a2 = g_strdup_printf ("%s:%s:%s", req->method, req->target, hb);
    }
  else
    a2 = g_strdup_printf ("%s:%s", req->method, req->target);
  ha2 = h (type, a2);
  all = g_strdup_printf ("%s:%s:%s:%s:%s:%s", ha1, nonce,
                         (char *) g_hash_table_lookup (p, "nc"),
                         (char *) g_hash_table_lookup (p, "cnonce"), qop, ha2);
  expected = h (type, all);
  return g_strcmp0 (expected, g_hash_table_lookup (p, "response")) == 0;
}

static gboolean
challenge (TestConn   *conn,
           Site       *site,
           const char *www_authenticate)
{
  g_autofree char *headers = g_strdup_printf ("WWW-Authenticate: %s\r\n"
                                              "Content-Type: text/plain\r\n",
                                              www_authenticate);

  g_atomic_int_inc (&site->n_401);
  return test_conn_respond_with_headers (conn, 401, headers, "log in first", 12);
}

static gboolean
site_handler (TestServer  *server,
              TestConn    *conn,
              TestRequest *req,
              gpointer     user_data)
{
  Site *site = user_data;
  const char *authorization = test_request_get_header (req, "Authorization");
  g_autofree char *nonce = NULL;
  gboolean ok = FALSE;

  g_mutex_lock (&site->lock);
  if (site->nonce == NULL)
    site->nonce = g_strdup_printf ("nonce-%u", g_random_int ());
  nonce = g_strdup (site->nonce);
  g_mutex_unlock (&site->lock);

  if (strcmp (site->mode, "open") == 0 || g_str_has_prefix (req->target, "/open"))
    return test_conn_respond (conn, 200, "text/plain", "open", 4);

  if (strcmp (site->mode, "basic") == 0 || strcmp (site->mode, "redirect") == 0)
    {
      g_autofree char *pair = g_strdup_printf ("%s:%s", USER, site->password);
      g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
      g_autofree char *expected = g_strconcat ("Basic ", encoded, NULL);

      ok = g_strcmp0 (authorization, expected) == 0;
      if (!ok)
        return challenge (conn, site, "Basic realm=\"" REALM "\", charset=\"UTF-8\"");
    }
  else if (strcmp (site->mode, "bearer") == 0)
    {
      ok = g_strcmp0 (authorization, "Bearer tok-123") == 0;
      if (!ok)
        return challenge (conn, site, "Bearer realm=\"" REALM "\"");
    }
  else
    {
      gboolean sha = strcmp (site->mode, "digest-sha256") == 0 ||
                     strcmp (site->mode, "digest-stale") == 0;
      gboolean integrity = strcmp (site->mode, "auth-int") == 0;
      g_autofree char *offer = NULL;

      ok = digest_ok (site, req, sha ? G_CHECKSUM_SHA256 : G_CHECKSUM_MD5, nonce);
      /* The first good answer of "digest-stale" is told its nonce went stale. */
      if (ok && strcmp (site->mode, "digest-stale") == 0 &&
          g_atomic_int_add (&site->n_stale_sent, 1) == 0)
        {
          g_mutex_lock (&site->lock);
          g_free (site->nonce);
          site->nonce = g_strdup_printf ("fresh-%u", g_random_int ());
          offer = g_strdup_printf ("Digest realm=\"" REALM "\", qop=\"auth\", "
                                   "algorithm=SHA-256, nonce=\"%s\", stale=true", site->nonce);
          g_mutex_unlock (&site->lock);
          return challenge (conn, site, offer);
        }
      if (!ok)
        {
          if (sha)
            offer = g_strdup_printf ("Digest realm=\"" REALM "\", qop=\"auth\", algorithm=MD5, "
                                     "nonce=\"%s\", Digest realm=\"" REALM "\", qop=\"auth\", "
                                     "algorithm=SHA-256, nonce=\"%s\", opaque=\"o\"", nonce, nonce);
          else
            offer = g_strdup_printf ("Digest realm=\"" REALM "\", qop=\"%s\", nonce=\"%s\"",
                                     integrity ? "auth-int" : "auth", nonce);
          return challenge (conn, site, offer);
        }
    }

  g_atomic_int_inc (&site->n_authorized);
  if (site->redirect_to != NULL)
    {
      g_autofree char *headers = g_strdup_printf ("Location: %s\r\n", site->redirect_to);

      return test_conn_respond_with_headers (conn, 302, headers, "", 0);
    }
  return test_conn_respond (conn, 200, "text/plain", "welcome", 7);
}

static void
site_clear (Site *site)
{
  g_free (site->nonce);
  g_mutex_clear (&site->lock);
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
wait_done (GMultiTransfer *transfer)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  g_autoptr(GSource) tick = g_timeout_source_new (100);

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, NULL);
  while (gmulti_transfer_get_state (transfer) != GMULTI_TRANSFER_DONE)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_destroy (tick);
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

static char *
body_text (GMultiTransfer *transfer)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);
  gsize size = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &size) : NULL;

  return g_strndup (data != NULL ? data : "", size);
}

static GMultiTransfer *
new_transfer (TestServer *server,
              const char *path,
              const char *user,
              const char *password)
{
  g_autofree char *uri = test_server_uri (server, path);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  gmulti_transfer_set_username (transfer, user);
  gmulti_transfer_set_password (transfer, password);
  return transfer;
}

static gboolean
never_asked_cb (GMultiTransfer *transfer,
                GMultiAuth     *auth,
                gboolean        retrying,
                gpointer        user_data)
{
  g_error ("the application was asked for credentials");
  return FALSE;
}

static void
test_digest_sha256 (void)
{
  Site site = { .mode = "digest-sha256", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/dir/page", USER, PASSWORD);
  g_autoptr(TestRequest) first = NULL, second = NULL;
  g_autofree char *body = NULL;

  g_signal_connect (transfer, "authenticate", G_CALLBACK (never_asked_cb), NULL);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  body = body_text (transfer);
  g_assert_cmpstr (body, ==, "welcome");
  g_assert_cmpint (site.n_401, ==, 1);
  /* SHA-256 chosen over MD5, on the same connection, the 401's body not delivered. */
  second = test_server_get_request (server, 1);
  g_assert_nonnull (strstr (test_request_get_header (second, "Authorization"), "algorithm=SHA-256"));
  g_assert_nonnull (strstr (test_request_get_header (second, "Authorization"), "opaque=\"o\""));
  first = test_server_get_request (server, 0);
  g_assert_null (test_request_get_header (first, "Authorization"));
  g_assert_cmpuint (second->conn_id, ==, first->conn_id);
  site_clear (&site);
}

static void
test_digest_stale (void)
{
  Site site = { .mode = "digest-stale", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/", USER, PASSWORD);

  g_signal_connect (transfer, "authenticate", G_CALLBACK (never_asked_cb), NULL);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  /* The first challenge, the stale one, then the answer with the new nonce. */
  g_assert_cmpint (site.n_401, ==, 2);
  g_assert_cmpint (site.n_stale_sent, ==, 2);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 3);
  site_clear (&site);
}

static void
test_digest_auth_int (void)
{
  Site site = { .mode = "auth-int", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/form", USER, PASSWORD);
  g_autoptr(GBytes) form = g_bytes_new_static ("a=1&b=2", 7);
  g_autoptr(TestRequest) last = NULL;
  GError *error = NULL;

  gmulti_transfer_set_method (transfer, "POST", &error);
  g_assert_no_error (error);
  gmulti_transfer_set_request_body (transfer, form);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  last = test_server_get_last_request (server);
  g_assert_nonnull (strstr (test_request_get_header (last, "Authorization"), "qop=auth-int"));
  g_assert_cmpuint (g_bytes_get_size (last->body), ==, 7);
  site_clear (&site);
}

static void
test_wrong_password (void)
{
  Site site = { .mode = "basic", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/", USER, "wrong");
  g_autoptr(GMultiTransfer) digest = NULL;

  gmulti_transfer_set_allow_cleartext_auth (transfer, TRUE);
  run_in_session (session, transfer);
  g_assert_error (gmulti_transfer_get_error (transfer), GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED);
  /* Exactly one retry: the first request and the one with credentials. */
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 2);
  g_assert_cmpint (site.n_401, ==, 2);

  /* The same with Digest. */
  site.mode = "digest-sha256";
  digest = new_transfer (server, "/", USER, "wrong");
  run_in_session (session, digest);
  g_assert_error (gmulti_transfer_get_error (digest), GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 4);
  site_clear (&site);
}

static void
test_no_credentials (void)
{
  Site site = { .mode = "digest-sha256", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/", NULL, NULL);
  g_autofree char *body = NULL;

  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 401);
  body = body_text (transfer);
  g_assert_cmpstr (body, ==, "log in first");
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
  site_clear (&site);
}

static void
test_userinfo (void)
{
  Site site = { .mode = "digest-sha256", .password = "pw" };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autofree char *uri = g_strdup_printf ("http://" USER ":pw@127.0.0.1:%u/x",
                                          test_server_get_port (server));
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);

  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  site_clear (&site);
}

static void
test_cleartext_basic (void)
{
  Site site = { .mode = "basic", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) refused = new_transfer (server, "/", USER, PASSWORD);
  g_autoptr(GMultiTransfer) allowed = new_transfer (server, "/", USER, PASSWORD);
  g_autoptr(GMultiTransfer) asked = new_transfer (server, "/", NULL, NULL);

  run_in_session (session, refused);
  g_assert_error (gmulti_transfer_get_error (refused), GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);

  /* Without credentials, the application is not even asked over http. */
  g_signal_connect (asked, "authenticate", G_CALLBACK (never_asked_cb), NULL);
  run_in_session (session, asked);
  g_assert_no_error (gmulti_transfer_get_error (asked));
  g_assert_cmpuint (gmulti_transfer_get_status (asked), ==, 401);

  gmulti_transfer_set_allow_cleartext_auth (allowed, TRUE);
  run_in_session (session, allowed);
  g_assert_no_error (gmulti_transfer_get_error (allowed));
  g_assert_cmpuint (gmulti_transfer_get_status (allowed), ==, 200);
  site_clear (&site);
}

static gboolean
record_authority_cb (GMultiTransfer *transfer,
                     GMultiAuth     *auth,
                     gboolean        retrying,
                     gpointer        user_data)
{
  char **authority = user_data;

  g_assert_null (*authority);
  *authority = g_strdup (gmulti_auth_get_authority (auth));
  gmulti_auth_cancel (auth);
  return TRUE;
}

static void
test_redirect_other_origin (void)
{
  Site other_site = { .mode = "basic", .password = PASSWORD };
  g_autoptr(TestServer) other = test_server_new (TEST_SERVER_IPV4, site_handler, &other_site);
  g_autofree char *other_uri = test_server_uri (other, "/landing");
  Site site = { .mode = "redirect", .password = PASSWORD, .redirect_to = other_uri };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/", USER, PASSWORD);
  g_autoptr(TestRequest) landed = NULL;
  g_autofree char *asked_for = NULL, *other_authority = NULL;

  gmulti_transfer_set_allow_cleartext_auth (transfer, TRUE);
  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  g_signal_connect (transfer, "authenticate", G_CALLBACK (record_authority_cb), &asked_for);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  /* Logged in at the first origin, redirected: the other one gets nothing, and its
   * 401 is delivered. */
  g_assert_cmpint (site.n_authorized, ==, 1);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 401);
  g_assert_cmpuint (test_server_get_n_requests (other), ==, 1);
  landed = test_server_get_last_request (other);
  g_assert_null (test_request_get_header (landed, "Authorization"));
  /* The application may answer for the other origin: it is asked, naming it. */
  other_authority = g_strdup_printf ("127.0.0.1:%u", test_server_get_port (other));
  g_assert_cmpstr (asked_for, ==, other_authority);
  site_clear (&site);
  site_clear (&other_site);
}

static void
test_preemptive (void)
{
  Site site = { .mode = "digest-sha256", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) login = new_transfer (server, "/docs/index", USER, PASSWORD);
  g_autoptr(GMultiTransfer) outside = NULL;

  run_in_session (session, login);
  g_assert_cmpuint (gmulti_transfer_get_status (login), ==, 200);
  /* Later transfers, without credentials of their own, in the same space. */
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *path = g_strdup_printf ("/docs/page%u", i);
      g_autoptr(GMultiTransfer) next = new_transfer (server, path, NULL, NULL);

      run_in_session (session, next);
      g_assert_no_error (gmulti_transfer_get_error (next));
      g_assert_cmpuint (gmulti_transfer_get_status (next), ==, 200);
    }
  g_assert_cmpint (site.n_401, ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 7);

  /* Outside the space: nothing is sent, and the 401 is delivered. */
  outside = new_transfer (server, "/elsewhere", NULL, NULL);
  run_in_session (session, outside);
  g_assert_cmpuint (gmulti_transfer_get_status (outside), ==, 401);
  site_clear (&site);
}

/* The authenticate signal answered from an idle callback, once another transfer of
 * the session completed while this one waited. */
typedef struct {
  GMultiAuth *auth;
  gboolean other_done;
  guint n_asked;
  GMultiTransfer *protected;
} AsyncState;

static gboolean
keep_auth_cb (GMultiTransfer *transfer,
              GMultiAuth     *auth,
              gboolean        retrying,
              gpointer        user_data)
{
  AsyncState *state = user_data;

  state->n_asked++;
  g_assert_false (retrying);
  g_assert_false (gmulti_auth_is_for_proxy (auth));
  g_assert_cmpstr (gmulti_auth_get_scheme_name (auth), ==, "Digest");
  g_assert_cmpstr (gmulti_auth_get_realm (auth), ==, REALM);
  g_assert_true (g_str_has_prefix (gmulti_auth_get_authority (auth), "127.0.0.1:"));
  state->auth = g_object_ref (auth);
  return TRUE;
}

static gboolean
answer_cb (gpointer user_data)
{
  AsyncState *state = user_data;

  g_assert_cmpint (gmulti_transfer_get_state (state->protected), !=, GMULTI_TRANSFER_DONE);
  gmulti_auth_authenticate (state->auth, USER, PASSWORD);
  g_clear_object (&state->auth);
  return G_SOURCE_REMOVE;
}

static void
other_finished_cb (GMultiTransfer *transfer,
                   const GError   *error,
                   gpointer        user_data)
{
  AsyncState *state = user_data;

  g_assert_no_error (error);
  state->other_done = TRUE;
  g_idle_add (answer_cb, state);
}

static void
test_async_signal (void)
{
  Site site = { .mode = "digest-sha256", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) protected = new_transfer (server, "/", NULL, NULL);
  g_autoptr(GMultiTransfer) other = new_transfer (server, "/open", NULL, NULL);
  AsyncState state = { .protected = protected };
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  GError *error = NULL;

  g_signal_connect (protected, "authenticate", G_CALLBACK (keep_auth_cb), &state);
  g_assert_true (gmulti_session_add (session, protected, &error));
  g_assert_no_error (error);
  /* The other starts once the first is held. */
  while (state.n_asked == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_signal_connect (other, "finished", G_CALLBACK (other_finished_cb), &state);
  run_in_session (session, other);
  g_assert_true (state.other_done);
  wait_done (protected);
  g_assert_no_error (gmulti_transfer_get_error (protected));
  g_assert_cmpuint (gmulti_transfer_get_status (protected), ==, 200);
  g_assert_cmpuint (state.n_asked, ==, 1);
  g_assert_null (state.auth);
  site_clear (&site);
}

typedef struct {
  GString *order;
  GMultiTransfer *transfer;
} SessionSignalState;

static gboolean
transfer_declines_cb (GMultiTransfer *transfer,
                      GMultiAuth     *auth,
                      gboolean        retrying,
                      gpointer        user_data)
{
  SessionSignalState *state = user_data;

  g_string_append (state->order, "transfer,");
  return FALSE;
}

static gboolean
session_answers_cb (GMultiSession  *session,
                    GMultiTransfer *transfer,
                    GMultiAuth     *auth,
                    gboolean        retrying,
                    gpointer        user_data)
{
  SessionSignalState *state = user_data;

  g_string_append (state->order, "session,");
  g_assert_true (transfer == state->transfer);
  g_assert_false (retrying);
  g_assert_false (gmulti_auth_is_for_proxy (auth));
  gmulti_auth_authenticate (auth, USER, PASSWORD);
  return TRUE;
}

/* The session's signal answers a login the transfer's own handlers left alone. */
static void
test_session_signal (void)
{
  Site site = { .mode = "digest-sha256", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/", NULL, NULL);
  SessionSignalState state = { g_string_new (NULL), transfer };

  g_signal_connect (transfer, "authenticate", G_CALLBACK (transfer_declines_cb), &state);
  g_signal_connect (session, "authenticate", G_CALLBACK (session_answers_cb), &state);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  g_assert_cmpstr (state.order->str, ==, "transfer,session,");
  g_string_free (state.order, TRUE);
  site_clear (&site);
}

static gboolean
cancel_later_cb (GMultiTransfer *transfer,
                 GMultiAuth     *auth,
                 gboolean        retrying,
                 gpointer        user_data)
{
  g_timeout_add_once (20, (GSourceOnceFunc) gmulti_auth_cancel, auth);
  g_object_set_data_full (G_OBJECT (transfer), "auth", g_object_ref (auth), g_object_unref);
  return TRUE;
}

static void
test_async_cancel (void)
{
  Site site = { .mode = "digest-sha256", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/", NULL, NULL);
  g_autofree char *body = NULL;

  /* Cancelled later: the held 401 is delivered, body and all. */
  g_signal_connect (transfer, "authenticate", G_CALLBACK (cancel_later_cb), NULL);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 401);
  body = body_text (transfer);
  g_assert_cmpstr (body, ==, "log in first");
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
  site_clear (&site);
}

static gboolean
store_auth_cb (GMultiTransfer *transfer,
               GMultiAuth     *auth,
               gboolean        retrying,
               gpointer        user_data)
{
  GMultiAuth **out = user_data;

  *out = g_object_ref (auth);
  return TRUE;
}

static void
test_wait_removed (void)
{
  Site site = { .mode = "digest-sha256", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  GMultiSession *session = gmulti_session_new ();
  GMultiTransfer *removed = new_transfer (server, "/", NULL, NULL);
  GMultiTransfer *disposed = new_transfer (server, "/", NULL, NULL);
  GMultiAuth *removed_auth = NULL, *disposed_auth = NULL;
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  g_signal_connect (removed, "authenticate", G_CALLBACK (store_auth_cb), &removed_auth);
  g_signal_connect (disposed, "authenticate", G_CALLBACK (store_auth_cb), &disposed_auth);
  g_assert_true (gmulti_session_add (session, removed, NULL));
  g_assert_true (gmulti_session_add (session, disposed, NULL));
  while (removed_auth == NULL || disposed_auth == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  /* Held: removing one ends it; answering afterwards does nothing. */
  gmulti_session_remove (session, removed);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_error (gmulti_transfer_get_error (removed), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  gmulti_auth_authenticate (removed_auth, USER, PASSWORD);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 2);

  /* Added again, with credentials: the hold of the removed run is gone with it. */
  g_signal_handlers_disconnect_by_func (removed, store_auth_cb, &removed_auth);
  gmulti_transfer_set_username (removed, USER);
  gmulti_transfer_set_password (removed, PASSWORD);
  g_assert_false (gmulti_transfer_is_paused (removed));
  run_in_session (session, removed);
  g_assert_no_error (gmulti_transfer_get_error (removed));
  g_assert_cmpuint (gmulti_transfer_get_status (removed), ==, 200);

  /* The session goes with one held: the transfer and its auth go too. */
  g_assert_finalize_object (session);
  gmulti_auth_authenticate (disposed_auth, USER, PASSWORD);
  g_assert_finalize_object (removed);
  g_assert_finalize_object (disposed);
  g_assert_finalize_object (removed_auth);
  g_assert_finalize_object (disposed_auth);
  site_clear (&site);
}

static void
test_bearer_scripted (void)
{
  Site site = { .mode = "bearer" };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/api", NULL, NULL);
  g_autoptr(GMultiTransfer) plain = new_transfer (server, "/api", NULL, NULL);

  gmulti_transfer_set_bearer_token (plain, "tok-123");
  run_in_session (session, plain);
  g_assert_error (gmulti_transfer_get_error (plain), GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED);

  gmulti_transfer_set_bearer_token (transfer, "tok-123");
  gmulti_transfer_set_allow_cleartext_auth (transfer, TRUE);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  site_clear (&site);
}

/* Without a session: gmulti_transfer_perform() with the transfer's own credentials. */
static void
test_perform (void)
{
  Site site = { .mode = "digest-sha256", .password = PASSWORD };
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, site_handler, &site);
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/", USER, PASSWORD);
  GError *error = NULL;

  g_assert_true (gmulti_transfer_perform (transfer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  site_clear (&site);
}

/* ------------------------------------------------------------ real servers */

static guint16
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, address, TRUE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Waits (bounded) until something accepts on @port. */
static gboolean
wait_listening (guint16 port)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  /* A plain socket: no proxy resolver (and its threads) for a loopback check. */
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL);

      if (g_socket_connect (socket, address, NULL, NULL))
        return TRUE;
      g_usleep (50 * 1000);
    }
  return FALSE;
}

typedef struct {
  char *dir;
  guint16 port;
  GSubprocess *process;
} RealServer;

/* A server outlives no failed test: it is killed when the test goes. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn_server (const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  GError *error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

static void
real_server_stop (RealServer *server)
{
  g_autofree char *cmd = NULL;

  if (server->process != NULL)
    {
      g_subprocess_send_signal (server->process, SIGTERM);
      g_subprocess_wait (server->process, NULL, NULL);
      g_clear_object (&server->process);
    }
  cmd = g_strdup_printf ("rm -rf '%s'", server->dir);
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  g_free (server->dir);
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  g_chmod (path, 0644);
}

/* Apache httpd with mod_auth_digest (MD5, qop=auth). */
static void
test_apache_digest (void)
{
  const char *apache = g_file_test ("/usr/sbin/apache2", G_FILE_TEST_IS_EXECUTABLE)
                       ? "/usr/sbin/apache2" : NULL;
  const char *modules = "/usr/lib/apache2/modules";
  RealServer httpd = { 0 };
  g_autofree char *conf = NULL, *ha1 = NULL, *line = NULL, *uri = NULL, *root = NULL;
  g_autofree char *conf_path = NULL, *user_line = NULL, *bad_uri = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL, wrong = NULL, again = NULL;
  GError *error = NULL;

  if (apache == NULL)
    {
      g_test_skip ("apache2 is not installed (tools/install-deps test)");
      return;
    }
  httpd.dir = g_dir_make_tmp ("gmulti-apache-XXXXXX", &error);
  g_assert_no_error (error);
  g_chmod (httpd.dir, 0755);
  root = g_build_filename (httpd.dir, "root", "private", NULL);
  g_assert_cmpint (g_mkdir_with_parents (root, 0755), ==, 0);
  {
    g_autofree char *parent = g_path_get_dirname (root);

    g_chmod (parent, 0755);
  }
  write_file (root, "index.html", "apache says hello\n");
  ha1 = g_compute_checksum_for_string (G_CHECKSUM_MD5, USER ":" REALM ":" PASSWORD, -1);
  line = g_strdup_printf (USER ":" REALM ":%s\n", ha1);
  write_file (httpd.dir, "users.htdigest", line);
  httpd.port = free_port ();
  user_line = getuid () == 0 ? g_strdup ("User www-data\nGroup www-data\n") : g_strdup ("");
  conf = g_strdup_printf (
    "ServerRoot %1$s\nServerName 127.0.0.1\nListen 127.0.0.1:%2$u\n"
    "PidFile %1$s/httpd.pid\nErrorLog %1$s/error.log\nDefaultRuntimeDir %1$s\n"
    "LoadModule mpm_event_module %3$s/mod_mpm_event.so\n"
    "LoadModule authn_core_module %3$s/mod_authn_core.so\n"
    "LoadModule authz_core_module %3$s/mod_authz_core.so\n"
    "LoadModule authn_file_module %3$s/mod_authn_file.so\n"
    "LoadModule authz_user_module %3$s/mod_authz_user.so\n"
    "LoadModule auth_digest_module %3$s/mod_auth_digest.so\n"
    "LoadModule auth_basic_module %3$s/mod_auth_basic.so\n"
    "%4$sDocumentRoot %1$s/root\n"
    "<Location /private/>\n  AuthType Digest\n  AuthName \"" REALM "\"\n"
    "  AuthDigestProvider file\n  AuthUserFile %1$s/users.htdigest\n"
    "  Require valid-user\n</Location>\n",
    httpd.dir, httpd.port, modules, user_line);
  write_file (httpd.dir, "httpd.conf", conf);
  conf_path = g_build_filename (httpd.dir, "httpd.conf", NULL);
  {
    const char *argv[] = { apache, "-f", conf_path, "-DFOREGROUND", NULL };

    httpd.process = spawn_server (argv);
  }
  g_assert_true (wait_listening (httpd.port));

  session = gmulti_session_new ();
  uri = g_strdup_printf ("http://127.0.0.1:%u/private/index.html", httpd.port);
  transfer = gmulti_transfer_new (uri);
  gmulti_transfer_set_username (transfer, USER);
  gmulti_transfer_set_password (transfer, PASSWORD);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  {
    g_autofree char *body = body_text (transfer);

    g_assert_cmpstr (body, ==, "apache says hello\n");
  }

  /* Sent at once from the cache (the nonce counted on), and accepted. */
  again = gmulti_transfer_new (uri);
  run_in_session (session, again);
  g_assert_no_error (gmulti_transfer_get_error (again));
  g_assert_cmpuint (gmulti_transfer_get_status (again), ==, 200);

  /* A wrong password: refused once, then the error. */
  bad_uri = g_strdup_printf ("http://127.0.0.1:%u/private/", httpd.port);
  wrong = gmulti_transfer_new (bad_uri);
  gmulti_transfer_set_username (wrong, USER);
  gmulti_transfer_set_password (wrong, "nope");
  {
    g_autoptr(GMultiSession) fresh = gmulti_session_new ();

    run_in_session (fresh, wrong);
  }
  g_assert_error (gmulti_transfer_get_error (wrong), GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED);

  real_server_stop (&httpd);
}

/* nginx: auth_basic with an htpasswd file, and a Bearer check by a map. */
static void
test_nginx_basic_bearer (void)
{
  const char *nginx = g_file_test ("/usr/sbin/nginx", G_FILE_TEST_IS_EXECUTABLE)
                      ? "/usr/sbin/nginx" : NULL;
  RealServer server = { 0 };
  g_autofree char *conf = NULL, *conf_path = NULL, *basic_uri = NULL, *bearer_uri = NULL;
  g_autofree char *user_line = NULL, *tmp = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) basic = NULL, bearer = NULL, no_token = NULL, wrong = NULL;
  GError *error = NULL;

  if (nginx == NULL)
    {
      g_test_skip ("nginx is not installed (tools/install-deps test)");
      return;
    }
  server.dir = g_dir_make_tmp ("gmulti-nginx-auth-XXXXXX", &error);
  g_assert_no_error (error);
  g_chmod (server.dir, 0755);
  tmp = g_build_filename (server.dir, "tmp", NULL);
  g_assert_cmpint (g_mkdir_with_parents (tmp, 0755), ==, 0);
  write_file (server.dir, "htpasswd", USER ":{PLAIN}" PASSWORD "\n");
  {
    g_autofree char *files = g_build_filename (server.dir, "root", "basic", NULL);

    g_assert_cmpint (g_mkdir_with_parents (files, 0755), ==, 0);
    write_file (files, "x", "basic ok\n");
  }
  server.port = free_port ();
  user_line = getuid () == 0 ? g_strdup ("user root;") : g_strdup ("");
  conf = g_strdup_printf (
    "%3$s\nworker_processes 1;\ndaemon off;\npid %1$s/nginx.pid;\n"
    "error_log %1$s/error.log warn;\nevents { worker_connections 64; }\n"
    "http {\n  access_log off;\n  client_body_temp_path %1$s/tmp/body;\n"
    "  proxy_temp_path %1$s/tmp/proxy;\n  fastcgi_temp_path %1$s/tmp/fastcgi;\n"
    "  uwsgi_temp_path %1$s/tmp/uwsgi;\n  scgi_temp_path %1$s/tmp/scgi;\n"
    "  map $http_authorization $token_ok { default 0; \"Bearer tok-123\" 1; }\n"
    "  server {\n    listen 127.0.0.1:%2$u;\n"
    "    root %1$s/root;\n"
    "    location /basic/ { auth_basic \"" REALM "\"; auth_basic_user_file %1$s/htpasswd; }\n"
    "    location /api/ {\n      if ($token_ok = 0) {\n"
    "        add_header WWW-Authenticate 'Bearer realm=\"api\"' always;\n"
    "        return 401 \"token?\\n\"; }\n      return 200 \"bearer ok\\n\"; }\n"
    "  }\n}\n", server.dir, server.port, user_line);
  write_file (server.dir, "nginx.conf", conf);
  conf_path = g_build_filename (server.dir, "nginx.conf", NULL);
  {
    const char *argv[] = { nginx, "-e", "/dev/null", "-p", server.dir, "-c", conf_path, NULL };

    server.process = spawn_server (argv);
  }
  g_assert_true (wait_listening (server.port));

  session = gmulti_session_new ();
  basic_uri = g_strdup_printf ("http://127.0.0.1:%u/basic/x", server.port);
  basic = gmulti_transfer_new (basic_uri);
  gmulti_transfer_set_username (basic, USER);
  gmulti_transfer_set_password (basic, PASSWORD);
  gmulti_transfer_set_allow_cleartext_auth (basic, TRUE);
  run_in_session (session, basic);
  g_assert_no_error (gmulti_transfer_get_error (basic));
  g_assert_cmpuint (gmulti_transfer_get_status (basic), ==, 200);
  {
    g_autofree char *body = body_text (basic);

    g_assert_cmpstr (body, ==, "basic ok\n");
  }

  wrong = gmulti_transfer_new (basic_uri);
  gmulti_transfer_set_username (wrong, USER);
  gmulti_transfer_set_password (wrong, "nope");
  gmulti_transfer_set_allow_cleartext_auth (wrong, TRUE);
  {
    g_autoptr(GMultiSession) fresh = gmulti_session_new ();

    run_in_session (fresh, wrong);
  }
  g_assert_error (gmulti_transfer_get_error (wrong), GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED);

  bearer_uri = g_strdup_printf ("http://127.0.0.1:%u/api/v1", server.port);
  no_token = gmulti_transfer_new (bearer_uri);
  run_in_session (session, no_token);
  g_assert_no_error (gmulti_transfer_get_error (no_token));
  g_assert_cmpuint (gmulti_transfer_get_status (no_token), ==, 401);

  bearer = gmulti_transfer_new (bearer_uri);
  gmulti_transfer_set_bearer_token (bearer, "tok-123");
  gmulti_transfer_set_allow_cleartext_auth (bearer, TRUE);
  run_in_session (session, bearer);
  g_assert_no_error (gmulti_transfer_get_error (bearer));
  g_assert_cmpuint (gmulti_transfer_get_status (bearer), ==, 200);
  {
    g_autofree char *body = body_text (bearer);

    g_assert_cmpstr (body, ==, "bearer ok\n");
  }

  real_server_stop (&server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Auth/parse-table", test_parse_table);
  g_test_add_func ("/GMulti/Auth/parse-fields", test_parse_fields);
  g_test_add_func ("/GMulti/Auth/digest-rfc-examples", test_digest_rfc_examples);
  g_test_add_func ("/GMulti/Auth/digest-refused-challenges", test_digest_refused_challenges);
  g_test_add_func ("/GMulti/Auth/basic-bearer-encoding", test_basic_bearer_encoding);
  g_test_add_func ("/GMulti/Auth/digest-sha256", test_digest_sha256);
  g_test_add_func ("/GMulti/Auth/digest-stale", test_digest_stale);
  g_test_add_func ("/GMulti/Auth/digest-auth-int", test_digest_auth_int);
  g_test_add_func ("/GMulti/Auth/wrong-password", test_wrong_password);
  g_test_add_func ("/GMulti/Auth/no-credentials", test_no_credentials);
  g_test_add_func ("/GMulti/Auth/userinfo", test_userinfo);
  g_test_add_func ("/GMulti/Auth/cleartext-basic", test_cleartext_basic);
  g_test_add_func ("/GMulti/Auth/redirect-other-origin", test_redirect_other_origin);
  g_test_add_func ("/GMulti/Auth/preemptive", test_preemptive);
  g_test_add_func ("/GMulti/Auth/async-signal", test_async_signal);
  g_test_add_func ("/GMulti/Auth/session-signal", test_session_signal);
  g_test_add_func ("/GMulti/Auth/async-cancel", test_async_cancel);
  g_test_add_func ("/GMulti/Auth/wait-removed", test_wait_removed);
  g_test_add_func ("/GMulti/Auth/bearer-scripted", test_bearer_scripted);
  g_test_add_func ("/GMulti/Auth/perform", test_perform);
  g_test_add_func ("/GMulti/Auth/apache-digest", test_apache_digest);
  g_test_add_func ("/GMulti/Auth/nginx-basic-bearer", test_nginx_basic_bearer);

  return g_test_run ();
}
