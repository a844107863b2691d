/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti.h"
#include "engine/gmulti-proxy.h"

/* Proxy URIs as GLib's resolvers and the environment give them, to what a hop uses. */

static void
test_kinds (void)
{
  static const struct {
    const char *uri;
    GMultiProxyKind kind;
    const char *host;
    guint16 port;
    const char *key;
  } cases[] = {
    { "http://proxy.example:3128", GMULTI_PROXY_HTTP, "proxy.example", 3128, "http://proxy.example:3128" },
    { "http://proxy.example", GMULTI_PROXY_HTTP, "proxy.example", 80, "http://proxy.example:80" },
    { "HTTPS://Proxy.Example/", GMULTI_PROXY_HTTPS, "proxy.example", 443, "https://proxy.example:443" },
    { "socks5://127.0.0.1:1081", GMULTI_PROXY_SOCKS5, "127.0.0.1", 1081, "socks5://127.0.0.1:1081" },
    { "socks5h://[::1]", GMULTI_PROXY_SOCKS5H, "::1", 1080, "socks5h://[::1]:1080" },
    { "socks://host", GMULTI_PROXY_SOCKS5H, "host", 1080, "socks5h://host:1080" },
    { "socks4://host:9", GMULTI_PROXY_SOCKS4A, "host", 9, "socks4a://host:9" },
    { "socks4a://host:9", GMULTI_PROXY_SOCKS4A, "host", 9, "socks4a://host:9" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GMultiProxy) proxy = gmulti_proxy_new_from_uri (cases[i].uri, &error);
      g_autofree char *host = NULL;
      g_autofree char *key = NULL;

      g_test_message ("%s", cases[i].uri);
      g_assert_no_error (error);
      g_assert_nonnull (proxy);
      g_assert_cmpint (proxy->kind, ==, cases[i].kind);
      host = g_ascii_strdown (proxy->host, -1);
      key = g_ascii_strdown (proxy->key, -1);
      g_assert_cmpstr (host, ==, cases[i].host);
      g_assert_cmpuint (proxy->port, ==, cases[i].port);
      g_assert_cmpstr (key, ==, cases[i].key);
      g_assert_null (proxy->user);
      g_assert_null (proxy->password);
    }
}

static void
test_credentials (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMultiProxy) proxy =
    gmulti_proxy_new_from_uri ("http://al%40ice:p%3Ass@proxy:8080", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (proxy->user, ==, "al@ice");
  g_assert_cmpstr (proxy->password, ==, "p:ss");
  /* The key tells users apart, but never holds the password. */
  g_assert_cmpstr (proxy->key, ==, "http://al@ice@proxy:8080");
  g_assert_null (strstr (proxy->key, "p:ss"));
}

static void
test_direct_and_invalid (void)
{
  static const char *invalid[] = {
    "ftp://proxy:21", "proxy:3128", "http://", "http://proxy:3128/path",
    "http://user:secret@proxy:99999", "gopher://user:secret@proxy",
  };
  GError *error = NULL;

  g_assert_null (gmulti_proxy_new_from_uri ("direct://", &error));
  g_assert_no_error (error);
  g_assert_null (gmulti_proxy_new_from_uri ("", &error));
  g_assert_no_error (error);
  g_assert_null (gmulti_proxy_new_from_uri (NULL, &error));
  g_assert_no_error (error);

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_test_message ("%s", invalid[i]);
      g_assert_null (gmulti_proxy_new_from_uri (invalid[i], &error));
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID);
      /* A message never shows the password. */
      g_assert_null (strstr (error->message, "secret"));
      g_clear_error (&error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/GMulti/ProxyUri/kinds", test_kinds);
  g_test_add_func ("/GMulti/ProxyUri/credentials", test_credentials);
  g_test_add_func ("/GMulti/ProxyUri/direct-and-invalid", test_direct_and_invalid);
  return g_test_run ();
}
