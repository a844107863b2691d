/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>

#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-proxy.h"

static gboolean
kind_from_scheme (const char      *scheme,
                  GMultiProxyKind *kind,
                  guint16         *default_port)
{
  static const struct {
    const char *scheme;
    GMultiProxyKind kind;
    guint16 port;
  } kinds[] = {
    { "http", GMULTI_PROXY_HTTP, 80 },
    { "https", GMULTI_PROXY_HTTPS, 443 },
    { "socks4a", GMULTI_PROXY_SOCKS4A, 1080 },
    { "socks4", GMULTI_PROXY_SOCKS4A, 1080 },
    { "socks5", GMULTI_PROXY_SOCKS5, 1080 },
    { "socks5h", GMULTI_PROXY_SOCKS5H, 1080 },
    { "socks", GMULTI_PROXY_SOCKS5H, 1080 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (g_ascii_strcasecmp (scheme, kinds[i].scheme) == 0)
      {
        *kind = kinds[i].kind;
        *default_port = kinds[i].port;
        return TRUE;
      }
  return FALSE;
}

static const char *
kind_name (GMultiProxyKind kind)
{
  switch (kind)
    {
    case GMULTI_PROXY_HTTP: return "http";
    case GMULTI_PROXY_HTTPS: return "https";
    case GMULTI_PROXY_SOCKS4A: return "socks4a";
    case GMULTI_PROXY_SOCKS5: return "socks5";
    case GMULTI_PROXY_SOCKS5H: return "socks5h";
    default: g_assert_not_reached ();
    }
}

/* The URI as it may appear in a message: never with its password. */
static char *
uri_for_message (GUri *uri)
{
  return g_uri_to_string_partial (uri, G_URI_HIDE_PASSWORD | G_URI_HIDE_AUTH_PARAMS);
}

GMultiProxy *
gmulti_proxy_new_from_uri (const char  *text,
                           GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *shown = NULL;
  GMultiProxyKind kind;
  guint16 default_port;
  const char *host;
  int port;
  GMultiProxy *self;

  if (text == NULL || *text == '\0' || g_ascii_strcasecmp (text, "direct://") == 0)
    return NULL;

  uri = g_uri_parse (text, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_PATH, NULL);
  if (uri == NULL)
    {
      /* Not shown: an unparsable URI may hold a password nobody can hide. */
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID,
                           _("The proxy URI is not valid"));
      return NULL;
    }
  if (!kind_from_scheme (g_uri_get_scheme (uri), &kind, &default_port))
    {
      shown = uri_for_message (uri);
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID,
                   _("The proxy %s is of a kind gmulti does not support"), shown);
      return NULL;
    }
  host = g_uri_get_host (uri);
  port = g_uri_get_port (uri);
  if (host == NULL || *host == '\0' || port == 0
      || (g_uri_get_path (uri)[0] != '\0' && strcmp (g_uri_get_path (uri), "/") != 0))
    {
      shown = uri_for_message (uri);
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID,
                   _("The proxy URI %s must name a host and at most a port"), shown);
      return NULL;
    }

  self = g_new0 (GMultiProxy, 1);
  self->ref_count = 1;
  self->kind = kind;
  self->host = g_strdup (host);
  self->port = port > 0 ? (guint16) port : default_port;
  if (g_uri_get_user (uri) != NULL)
    self->user = g_uri_unescape_string (g_uri_get_user (uri), NULL);
  if (g_uri_get_password (uri) != NULL)
    self->password = g_uri_unescape_string (g_uri_get_password (uri), NULL);
  {
    gboolean ipv6 = strchr (self->host, ':') != NULL;

    self->key = g_strdup_printf ("%s://%s%s%s%s%s:%u", kind_name (kind),
                                 self->user != NULL ? self->user : "",
                                 self->user != NULL ? "@" : "",
                                 ipv6 ? "[" : "", self->host, ipv6 ? "]" : "", self->port);
  }
  return self;
}

GMultiProxy *
gmulti_proxy_ref (GMultiProxy *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
gmulti_proxy_unref (GMultiProxy *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->host);
  g_free (self->user);
  if (self->password != NULL)
    explicit_bzero (self->password, strlen (self->password));
  g_free (self->password);
  g_free (self->key);
  g_free (self);
}

gboolean
gmulti_proxy_resolves_name (const GMultiProxy *self)
{
  return self->kind != GMULTI_PROXY_SOCKS5;
}
