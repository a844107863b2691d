/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti.h"
#include "engine/gmulti-proxy-env.h"
#include "support/test-server.h"
#include "support/test-wait.h"

/* Which proxy a hop takes when the application names none: the `*_proxy` variables
 * and the `no_proxy` list, read as curl reads them. */

static void
test_no_proxy (void)
{
  static const struct {
    const char *no_proxy;
    const char *host;
    gboolean exempt;
  } cases[] = {
    { "*", "example.com", TRUE },
    { " * ", "10.0.0.1", TRUE },
    { "*.example.com", "www.example.com", FALSE },  /* no wildcard but the whole list */
    { "example.com", "example.com", TRUE },
    { "example.com", "EXAMPLE.com", TRUE },
    { "example.com", "www.example.com", TRUE },
    { "example.com", "a.b.example.com", TRUE },
    { "example.com", "notexample.com", FALSE },
    { "example.com", "example.com.evil", FALSE },
    { ".example.com", "example.com", TRUE },
    { ".example.com", "www.example.com", TRUE },
    { "example.com.", "www.example.com", TRUE },
    { "example.com", "example.com.", TRUE },
    { "www.example.com", "example.com", FALSE },
    { "foo,example.com", "example.com", TRUE },
    { "foo example.com", "example.com", TRUE },
    { " foo ,, example.com ,", "example.com", TRUE },
    { "foo, bar", "example.com", FALSE },
    { "", "example.com", FALSE },
    { ",", "example.com", FALSE },
    { "example.com:8080", "example.com", TRUE },     /* the port is ignored */
    { "localhost", "localhost", TRUE },
    { "127.0.0.1", "127.0.0.1", TRUE },
    { "127.0.0.1", "127.0.0.2", FALSE },
    { "127.0.0.1:3128", "127.0.0.1", TRUE },
    { "127.0.0.0/8", "127.1.2.3", TRUE },
    { "192.168.0.0/16", "192.168.77.1", TRUE },
    { "192.168.0.0/16", "192.169.0.1", FALSE },
    { "10.0.0.0/9", "10.127.0.1", TRUE },
    { "10.0.0.0/9", "10.128.0.1", FALSE },
    { "10.1.2.3/0", "10.1.2.3", TRUE },              /* /0: the whole address */
    { "10.1.2.3/0", "10.1.2.4", FALSE },
    { "10.0.0.0/33", "10.0.0.0", FALSE },
    { "127.0.0.1", "localhost", FALSE },             /* names are not resolved */
    { "1", "127.0.0.1", FALSE },                     /* no suffix match on addresses */
    { "0.0.1", "127.0.0.1", FALSE },
    { "::1", "::1", TRUE },
    { "::1", "[::1]", TRUE },
    { "[::1]", "::1", TRUE },
    { "[::1]:8080", "::1", TRUE },
    { "::1", "::2", FALSE },
    { "fe80::/10", "fe80::1234", TRUE },
    { "fe80::/10", "fec0::1", FALSE },
    { "2001:db8::/32", "2001:db8:1::1", TRUE },
    { "2001:db8::/32", "2001:db9::1", FALSE },
    { "127.0.0.1", "::ffff:127.0.0.1", FALSE },      /* families are apart */
    { "::1", "127.0.0.1", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("no_proxy=\"%s\" host=%s", cases[i].no_proxy, cases[i].host);
      g_assert_cmpint (gmulti_no_proxy_match (cases[i].no_proxy, cases[i].host), ==,
                       cases[i].exempt);
    }
}

/* Each case with an environment of its own, not the process's. */
static void
test_environment (void)
{
  static const struct {
    const char *env[6];
    gboolean tls;
    const char *host;
    const char *proxy;   /* the key chosen; NULL: direct; "!": an error */
  } cases[] = {
    { { NULL }, FALSE, "example.com", NULL },
    { { NULL }, TRUE, "example.com", NULL },
    { { "http_proxy=http://p:3128" }, FALSE, "example.com", "http://p:3128" },
    { { "http_proxy=http://p:3128" }, TRUE, "example.com", NULL },
    { { "https_proxy=http://s:3129" }, TRUE, "example.com", "http://s:3129" },
    { { "https_proxy=http://s:3129" }, FALSE, "example.com", NULL },
    { { "HTTPS_PROXY=http://s:3129" }, TRUE, "example.com", "http://s:3129" },
    /* HTTP_PROXY can come from a request's Proxy: header under CGI: ignored. */
    { { "HTTP_PROXY=http://evil:1" }, FALSE, "example.com", NULL },
    { { "all_proxy=socks5h://a:1080" }, FALSE, "example.com", "socks5h://a:1080" },
    { { "ALL_PROXY=socks5h://a:1080" }, TRUE, "example.com", "socks5h://a:1080" },
    { { "all_proxy=socks5h://a:1080", "http_proxy=http://p:3128" }, FALSE, "x", "http://p:3128" },
    { { "all_proxy=socks5h://a:1080", "http_proxy=http://p:3128" }, TRUE, "x", "socks5h://a:1080" },
    /* Lower case first. */
    { { "https_proxy=http://low:1", "HTTPS_PROXY=http://up:2" }, TRUE, "x", "http://low:1" },
    { { "all_proxy=http://low:1", "ALL_PROXY=http://up:2" }, FALSE, "x", "http://low:1" },
    { { "http_proxy=", "all_proxy=http://a:1" }, FALSE, "x", "http://a:1" },
    /* No scheme: an HTTP proxy, as curl takes it. */
    { { "http_proxy=p:3128" }, FALSE, "x", "http://p:3128" },
    { { "http_proxy=direct://" }, FALSE, "x", NULL },
    { { "http_proxy=http://p:3128", "no_proxy=example.com" }, FALSE, "www.example.com", NULL },
    { { "http_proxy=http://p:3128", "no_proxy=example.com" }, FALSE, "example.org", "http://p:3128" },
    { { "http_proxy=http://p:3128", "NO_PROXY=*" }, FALSE, "x", NULL },
    { { "http_proxy=http://p:3128", "no_proxy=other", "NO_PROXY=*" }, FALSE, "x", "http://p:3128" },
    { { "http_proxy=http://p:3128", "no_proxy=127.0.0.0/8" }, FALSE, "127.0.0.1", NULL },
    /* A variable that is no usable proxy fails the transfers it applies to, unless
     * no_proxy exempts them. */
    { { "http_proxy=gopher://p:70" }, FALSE, "x", "!" },
    { { "http_proxy=gopher://p:70" }, TRUE, "x", NULL },
    { { "http_proxy=gopher://p:70", "no_proxy=x" }, FALSE, "x", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GMultiProxyEnv) env = gmulti_proxy_env_new (cases[i].env);
      g_autoptr(GError) error = NULL;
      GMultiProxy *proxy = (GMultiProxy *) 0x1;
      gboolean ok;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s %s", i, cases[i].tls ? "https" : "http",
                      cases[i].host);
      ok = gmulti_proxy_env_select (env, cases[i].tls, cases[i].host, &proxy, &error);
      if (g_strcmp0 (cases[i].proxy, "!") == 0)
        {
          g_assert_false (ok);
          g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID);
          g_assert_null (proxy);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      if (cases[i].proxy == NULL)
        g_assert_null (proxy);
      else
        {
          g_assert_nonnull (proxy);
          g_assert_cmpstr (proxy->key, ==, cases[i].proxy);
        }
    }
}

/* ---------------------------------------------------- whole transfers */

/* Answers with what it was asked: the target shows whether it came as a proxy's
 * (absolute-form) or an origin's request. */
static gboolean
echo_handler (TestServer  *server,
              TestConn    *conn,
              TestRequest *req,
              gpointer     user_data)
{
  g_autofree char *body = g_strdup_printf ("%s %s via %s", req->method, req->target,
                                           (const char *) user_data);

  return test_conn_respond (conn, 200, "text/plain", body, strlen (body));
}

static char *
body_of (GMultiTransfer *transfer)
{
  g_autoptr(GBytes) bytes = gmulti_transfer_get_response_body (transfer);

  g_assert_nonnull (bytes);
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}


/* One transfer in a process of its own whose environment the parent set (setenv() is
 * not safe once server threads run): TEST_PROXY_SELECT_EXPECT says "proxy" or
 * "origin", TEST_PROXY_SELECT_SESSION whether a session runs it rather than
 * gmulti_transfer_perform(). Both servers echo; the proxy's URI is in http_proxy. */
static void
test_env_transfer_child (void)
{
  const char *expect = g_getenv ("TEST_PROXY_SELECT_EXPECT");
  const char *proxy_port = g_getenv ("TEST_PROXY_SELECT_PORT");
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *body = NULL;
  g_autofree char *expected = NULL;

  if (expect == NULL)
    {
      g_test_skip ("run by /GMulti/ProxySelect/env-transfer");
      return;
    }
  origin = test_server_new (TEST_SERVER_IPV4, echo_handler, "origin");
  uri = test_server_uri (origin, "/x");
  transfer = gmulti_transfer_new (uri);
  if (g_getenv ("TEST_PROXY_SELECT_DIRECT") != NULL)
    gmulti_transfer_set_proxy_uri (transfer, "direct://");
  if (g_getenv ("TEST_PROXY_SELECT_SESSION") == NULL)
    gmulti_transfer_perform (transfer, NULL, &error);
  else
    {
      g_autoptr(GMultiSession) session = gmulti_session_new ();

      g_assert_true (gmulti_session_add (session, transfer, NULL));
      RUN_UNTIL (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE, 10000);
      if (gmulti_transfer_get_error (transfer) != NULL)
        error = g_error_copy (gmulti_transfer_get_error (transfer));
    }
  if (g_str_equal (expect, "invalid"))
    {
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID);
      g_assert_cmpuint (test_server_get_n_requests (origin), ==, 0);
      return;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  body = body_of (transfer);
  if (g_str_equal (expect, "origin"))
    expected = g_strdup ("GET /x via origin");
  else
    expected = g_strdup_printf ("GET http://127.0.0.1:%u/x via proxy %s",
                                test_server_get_port (origin), proxy_port);
  g_assert_cmpstr (body, ==, expected);
}

/* The proxy is a scripted server that echoes the target it was asked for: absolute
 * form shows the request came as a proxy's. */
static gboolean
proxy_echo_handler (TestServer  *server,
                    TestConn    *conn,
                    TestRequest *req,
                    gpointer     user_data)
{
  g_autofree char *body = g_strdup_printf ("%s %s via proxy %u", req->method, req->target,
                                           test_server_get_port (server));

  return test_conn_respond (conn, 200, "text/plain", body, strlen (body));
}

/* With http_proxy set an http:// origin is asked through the proxy, by
 * gmulti_transfer_perform() and by a session alike; no_proxy sends it direct; an
 * explicit proxy-uri is not needed for any of it. */
static void
test_env_transfer (void)
{
  static const struct {
    const char *no_proxy;
    const char *http_proxy;   /* NULL: the scripted proxy */
    const char *expect;
  } cases[] = {
    { NULL, NULL, "proxy" },
    { "localhost, 127.0.0.0/8", NULL, "origin" },
    { "127.0.0.1:1", NULL, "origin" },
    { "example.com", NULL, "proxy" },
    { NULL, "gopher://127.0.0.1:1", "invalid" },
    /* HTTP_PROXY (upper case) is not honoured. */
    { NULL, "-", "origin" },
    /* A proxy-uri the application set wins over the environment. */
    { NULL, "=", "origin" },
  };
  g_autoptr(TestServer) proxy = test_server_new (TEST_SERVER_IPV4, proxy_echo_handler, NULL);
  g_autofree char *proxy_uri = g_strdup_printf ("http://127.0.0.1:%u",
                                                test_server_get_port (proxy));
  g_autofree char *port = g_strdup_printf ("%u", test_server_get_port (proxy));
  guint through_proxy = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int session = 0; session < 2; session++)
      {
        g_auto(GStrv) envp = g_get_environ ();
        g_autoptr(GPtrArray) argv = g_ptr_array_new ();
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        const char *const names[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                      "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY" };
        int status;

        for (gsize n = 0; n < G_N_ELEMENTS (names); n++)
          envp = g_environ_unsetenv (envp, names[n]);
        if (g_strcmp0 (cases[i].http_proxy, "-") == 0)
          envp = g_environ_setenv (envp, "HTTP_PROXY", proxy_uri, TRUE);
        else
          envp = g_environ_setenv (envp, "http_proxy",
                                   cases[i].http_proxy != NULL && cases[i].http_proxy[0] != '='
                                   ? cases[i].http_proxy : proxy_uri, TRUE);
        if (g_strcmp0 (cases[i].http_proxy, "=") == 0)
          envp = g_environ_setenv (envp, "TEST_PROXY_SELECT_DIRECT", "1", TRUE);
        if (cases[i].no_proxy != NULL)
          envp = g_environ_setenv (envp, "no_proxy", cases[i].no_proxy, TRUE);
        envp = g_environ_setenv (envp, "TEST_PROXY_SELECT_EXPECT", cases[i].expect, TRUE);
        envp = g_environ_setenv (envp, "TEST_PROXY_SELECT_PORT", port, TRUE);
        if (session)
          envp = g_environ_setenv (envp, "TEST_PROXY_SELECT_SESSION", "1", TRUE);
        g_ptr_array_add (argv, g_test_build_filename (G_TEST_BUILT, "test-proxy-select", NULL));
        g_ptr_array_add (argv, "-p");
        g_ptr_array_add (argv, "/GMulti/ProxySelect/env-transfer-child");
        g_ptr_array_add (argv, NULL);
        g_test_message ("case %" G_GSIZE_FORMAT " (%s)", i, session ? "session" : "perform");
        /* The child's TAP output is its own: shown only when it fails. */
        g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT,
                                     NULL, NULL, &out, &err, &status, &error));
        g_free (argv->pdata[0]);
        g_assert_no_error (error);
        if (!g_spawn_check_wait_status (status, &error))
          g_test_message ("child:\n%s%s", out, err);
        g_assert_no_error (error);
        if (g_str_equal (cases[i].expect, "proxy"))
          through_proxy++;
      }
  g_assert_cmpuint (test_server_get_n_requests (proxy), ==, through_proxy);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/GMulti/ProxySelect/no-proxy", test_no_proxy);
  g_test_add_func ("/GMulti/ProxySelect/environment", test_environment);
  g_test_add_func ("/GMulti/ProxySelect/env-transfer", test_env_transfer);
  g_test_add_func ("/GMulti/ProxySelect/env-transfer-child", test_env_transfer_child);
  return g_test_run ();
}
