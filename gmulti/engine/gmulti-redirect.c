/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-error.h"
#include "gmulti-http1-request.h"
#include "gmulti-i18n-private.h"
#include "gmulti-redirect.h"

/* The URI flags of every parse here: path and query stay exactly as escaped. */
#define PARSE_FLAGS (G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE)

/* Host and target end up on the wire (and the host in the pool key): both pass the
 * request head's own check. GLib decodes %-escapes in the host, so "a%0D%0Ab" arrives
 * as "a\r\nb" and is refused there. */
static gboolean
host_is_valid (const char *host)
{
  return host != NULL &&
         gmulti_http1_check_part (GMULTI_HTTP1_PART_HOST, host, NULL, NULL);
}

static gboolean
target_is_valid (const char *target)
{
  return gmulti_http1_check_part (GMULTI_HTTP1_PART_TARGET, target, NULL, NULL);
}

/* The port to connect to: the URI's, or the scheme's default. 0 when invalid. GUri
 * lower-cases the scheme, so the comparisons here need no case folding. */
static guint16
effective_port (GUri *uri)
{
  int port = g_uri_get_port (uri);

  if (port < 0)
    return strcmp (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
  if (port == 0 || port > 65535)
    return 0;
  return (guint16) port;
}

static char *
build_target (GUri *uri)
{
  const char *path = g_uri_get_path (uri);
  const char *query = g_uri_get_query (uri);

  return g_strconcat (*path != '\0' ? path : "/", query != NULL ? "?" : "",
                      query != NULL ? query : "", NULL);
}

/* Appends @n bytes of @s to @p and returns the end. */
static inline char *
put (char       *p,
     const char *s,
     gsize       n)
{
  memcpy (p, s, n);
  return p + n;
}

void
gmulti_request_target_clear (GMultiRequestTarget *target)
{
  g_clear_pointer (&target->host, g_free);
  target->target = NULL;
  target->host_header = NULL;
  target->port = 0;
  target->tls = FALSE;
}

gboolean
gmulti_request_target_parse (const char           *uri,
                             GMultiRequestTarget  *out,
                             GError              **error)
{
  g_autoptr(GUri) parsed = uri != NULL ? g_uri_parse (uri, PARSE_FLAGS, NULL) : NULL;

  return gmulti_request_target_from_uri (parsed, uri, out, error);
}

gboolean
gmulti_request_target_from_uri (GUri                 *parsed,
                                const char           *uri,
                                GMultiRequestTarget  *out,
                                GError              **error)
{
  const char *scheme, *host, *path, *query;
  gsize host_len, path_len, query_len, port_len = 0;
  gboolean bracket, default_port;
  char port_text[8];
  char *block, *p;
  gboolean tls = FALSE;
  guint16 port;

  memset (out, 0, sizeof *out);

  if (parsed == NULL || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                   _("Invalid URI “%s”"), uri != NULL ? uri : "");
      return FALSE;
    }

  scheme = g_uri_get_scheme (parsed);
  if (strcmp (scheme, "https") == 0)
    tls = TRUE;
  else if (strcmp (scheme, "http") != 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_UNSUPPORTED_SCHEME,
                   _("Unsupported URI scheme “%s”"), scheme);
      return FALSE;
    }

  host = g_uri_get_host (parsed);
  if (!host_is_valid (host))
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                   _("Invalid host in URI “%s”"), uri);
      return FALSE;
    }

  port = effective_port (parsed);
  if (port == 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                   _("Invalid port in URI “%s”"), uri);
      return FALSE;
    }

  /* Every request passes here: one allocation for the three strings, no printf.
   * The block is "host\0[host]:port\0/path?query\0". */
  path = g_uri_get_path (parsed);
  if (*path == '\0')
    path = "/";
  query = g_uri_get_query (parsed);
  host_len = strlen (host);
  path_len = strlen (path);
  query_len = query != NULL ? strlen (query) + 1 : 0;
  bracket = memchr (host, ':', host_len) != NULL;
  default_port = port == (tls ? 443 : 80);
  if (!default_port)
    {
      char *digits = port_text + sizeof port_text;
      guint rest = port;

      do
        *--digits = (char) ('0' + rest % 10);
      while ((rest /= 10) != 0);
      *--digits = ':';
      port_len = (gsize) (port_text + sizeof port_text - digits);
      memmove (port_text, digits, port_len);
    }

  block = g_malloc ((host_len + 1) + (host_len + 2 * bracket + port_len + 1) +
                    (path_len + query_len + 1));
  p = put (block, host, host_len + 1);
  out->host_header = p;
  if (bracket)
    *p++ = '[';
  p = put (p, host, host_len);
  if (bracket)
    *p++ = ']';
  p = put (p, port_text, port_len);
  *p++ = '\0';
  out->target = p;
  p = put (p, path, path_len);
  if (query != NULL)
    {
      *p++ = '?';
      p = put (p, query, query_len - 1);
    }
  *p = '\0';
  out->host = block;
  out->port = port;
  out->tls = tls;

  if (!target_is_valid (out->target))
    {
      gmulti_request_target_clear (out);
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                   _("Invalid characters in URI “%s”"), uri);
      return FALSE;
    }
  return TRUE;
}

static gboolean
same_origin (GUri *a,
             GUri *b)
{
  return g_ascii_strcasecmp (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (a), g_uri_get_host (b)) == 0 &&
         effective_port (a) == effective_port (b);
}

const char *
gmulti_redirect_get_location (GMultiHeaders  *headers,
                              GError        **error)
{
  const char *location = NULL;
  guint n = gmulti_headers_get_length (headers);

  for (guint i = 0; i < n; i++)
    {
      const char *value;

      if (g_ascii_strcasecmp (gmulti_headers_get_name (headers, i), "Location") != 0)
        continue;
      value = gmulti_headers_get_value (headers, i);
      if (location == NULL)
        location = value;
      else if (strcmp (location, value) != 0)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                       _("The redirect response has more than one Location field, "
                         "with different values (“%s” and “%s”)"), location, value);
          return NULL;
        }
    }
  return location;
}

char *
gmulti_redirect_resolve (const char  *base_uri,
                         const char  *location,
                         gboolean    *cross_origin,
                         GError     **error)
{
  g_autoptr(GUri) base = NULL;
  g_autoptr(GUri) next = NULL;
  g_autoptr(GUri) check = NULL;
  g_autofree char *result = NULL;
  g_autofree char *target = NULL;
  const char *scheme;

  *cross_origin = FALSE;

  base = g_uri_parse (base_uri, G_URI_FLAGS_ENCODED, NULL);
  next = base != NULL && strpbrk (location, "\r\n") == NULL
         ? g_uri_parse_relative (base, location, G_URI_FLAGS_ENCODED, NULL) : NULL;
  if (next == NULL)
    goto invalid;

  scheme = g_uri_get_scheme (next);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_BAD_REDIRECT,
                   _("The server redirected to the unsupported scheme “%s”"), scheme);
      return NULL;
    }
  if (g_uri_get_host (next) == NULL || *g_uri_get_host (next) == '\0')
    goto invalid;

  /* What is followed is the URI as text, parsed again for the next hop: it must read
   * back with the same host, and host, port and target must be fit for the wire. */
  result = g_uri_to_string (next);
  check = g_uri_parse (result, PARSE_FLAGS, NULL);
  if (check == NULL || g_uri_get_host (check) == NULL ||
      !host_is_valid (g_uri_get_host (next)) ||
      g_ascii_strcasecmp (g_uri_get_host (check), g_uri_get_host (next)) != 0 ||
      effective_port (check) == 0)
    goto invalid;
  target = build_target (check);
  if (!target_is_valid (target))
    goto invalid;

  *cross_origin = !same_origin (base, check);
  return g_steal_pointer (&result);

invalid:
  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_BAD_REDIRECT,
               _("The server redirected to an invalid URI “%s”"), location);
  return NULL;
}
