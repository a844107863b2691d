/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-error.h"
#include "gmulti-headers-private.h"
#include "gmulti-http1-request.h"
#include "gmulti-i18n-private.h"

static gboolean
name_is (const char *name,
         const char *lower)
{
  return g_ascii_strcasecmp (name, lower) == 0;
}

/* Methods whose requests carry a body by convention: servers may wait for one unless
 * told it is empty. */
static gboolean
method_expects_body (const char *method)
{
  return strcmp (method, "POST") == 0 ||
         strcmp (method, "PUT") == 0 ||
         strcmp (method, "PATCH") == 0;
}

static void
append_field (GString    *out,
              const char *name,
              const char *value)
{
  g_string_append (out, name);
  g_string_append_len (out, ": ", 2);
  g_string_append (out, value);
  g_string_append_len (out, "\r\n", 2);
}

void
gmulti_http1_write_request_head (GString       *out,
                                 const char    *method,
                                 const char    *target,
                                 const char    *host_header,
                                 GMultiHeaders *headers,
                                 gint64         body_length,
                                 const char    *default_user_agent)
{
  gmulti_http1_write_request_head_full (out, method, target, host_header, headers,
                                        body_length, default_user_agent, NULL, NULL, NULL);
}

void
gmulti_http1_write_request_head_full (GString       *out,
                                      const char    *method,
                                      const char    *target,
                                      const char    *host_header,
                                      GMultiHeaders *headers,
                                      gint64         body_length,
                                      const char    *default_user_agent,
                                      const char    *accept_encoding,
                                      const char    *target_prefix,
                                      const char    *proxy_authorization)
{
  const char *host = host_header;
  gboolean has_user_agent = FALSE;
  gboolean has_accept = FALSE;
  gboolean has_accept_encoding = FALSE;
  guint n_fields = headers != NULL ? gmulti_headers_get_length (headers) : 0;
  guint i;

  g_return_if_fail (out != NULL);
  g_return_if_fail (method != NULL);
  g_return_if_fail (target != NULL);
  g_return_if_fail (host_header != NULL);
  g_return_if_fail (body_length >= GMULTI_HTTP1_CHUNKED);

  /* One pass to learn which defaults the application overrides. */
  for (i = 0; i < n_fields; i++)
    {
      const char *name = gmulti_headers_get_name (headers, i);

      if (name_is (name, "host"))
        {
          if (host == host_header)
            host = gmulti_headers_get_value (headers, i);
        }
      else if (name_is (name, "user-agent"))
        has_user_agent = TRUE;
      else if (name_is (name, "accept"))
        has_accept = TRUE;
      else if (name_is (name, "accept-encoding"))
        has_accept_encoding = TRUE;
    }

  g_string_append (out, method);
  g_string_append_c (out, ' ');
  if (target_prefix != NULL)
    g_string_append (out, target_prefix);
  g_string_append (out, target);
  g_string_append_len (out, " HTTP/1.1\r\n", 11);

  /* RFC 9112 3.2: Host comes first, and exactly once. */
  append_field (out, "Host", host);

  if (default_user_agent != NULL)
    {
      if (!has_user_agent)
        append_field (out, "User-Agent", default_user_agent);
      if (!has_accept)
        append_field (out, "Accept", "*/*");
    }
  /* The application's own list wins (docs/architecture.md, "Content codings"). */
  if (accept_encoding != NULL && !has_accept_encoding)
    append_field (out, "Accept-Encoding", accept_encoding);

  if (target_prefix != NULL && proxy_authorization != NULL)
    append_field (out, "Proxy-Authorization", proxy_authorization);

  if (body_length >= 0)
    g_string_append_printf (out, "Content-Length: %" G_GINT64_FORMAT "\r\n", body_length);
  else if (body_length == GMULTI_HTTP1_CHUNKED)
    g_string_append_len (out, "Transfer-Encoding: chunked\r\n", 28);
  else if (method_expects_body (method))
    g_string_append_len (out, "Content-Length: 0\r\n", 19);

  /* HTTP/1.1 connections persist by default, so no Connection field is needed unless
   * the application sets one, which is passed on. Framing fields of the application
   * are dropped: only the engine knows how it will send the body. */
  for (i = 0; i < n_fields; i++)
    {
      const char *name = gmulti_headers_get_name (headers, i);

      if (name_is (name, "host") ||
          (proxy_authorization != NULL && target_prefix != NULL &&
           name_is (name, "proxy-authorization")) ||
          name_is (name, "content-length") ||
          name_is (name, "transfer-encoding"))
        continue;

      append_field (out, name, gmulti_headers_get_value (headers, i));
    }

  g_string_append_len (out, "\r\n", 2);
}

gsize
gmulti_http1_chunk_prefix (char  *buf,
                           gsize  length)
{
  static const char hex[] = "0123456789abcdef";
  char digits[16];
  gsize n = 0, i;

  if (length == 0)
    {
      memcpy (buf, "0\r\n\r\n", 6);
      return 5;
    }

  while (length > 0)
    {
      digits[n++] = hex[length & 0xf];
      length >>= 4;
    }

  for (i = 0; i < n; i++)
    buf[i] = digits[n - 1 - i];
  buf[n] = '\r';
  buf[n + 1] = '\n';
  buf[n + 2] = '\0';

  return n + 2;
}

/* A host as the engine connects to it and names it in Host: a name or IPv4 address
 * without delimiters, spaces or control characters, or an IPv6 literal (without zone,
 * which means nothing to the server). GLib decodes %-escapes in hosts, so a URI can
 * bring any byte here. */
static gboolean
host_is_valid (const char *host,
               gsize       len)
{
  gboolean colon = FALSE;

  if (len == 0)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      guchar c = host[i];

      if (c <= 0x20 || c == 0x7f)
        return FALSE;
      switch (c)
        {
        case '/': case '?': case '#': case '@': case '[': case ']': case '\\': case '%':
          return FALSE;
        case ':':
          colon = TRUE;
          break;
        default:
          break;
        }
    }

  return !colon || g_hostname_is_ip_address (host);
}

/* Origin-form: a path (and query) starting with '/', with no space or control
 * character that would end the request line early. */
static gboolean
target_is_valid (const char *target,
                 gsize       len)
{
  if (len == 0 || target[0] != '/')
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      guchar c = target[i];

      if (c <= 0x20 || c == 0x7f)
        return FALSE;
    }

  return TRUE;
}

gboolean
gmulti_http1_check_part (GMultiHttp1Part   part,
                         const char       *text,
                         const char       *field_name,
                         GError          **error)
{
  g_autofree char *escaped = NULL;
  gsize len, bad;

  g_return_val_if_fail (text != NULL, FALSE);

  len = strlen (text);
  switch (part)
    {
    case GMULTI_HTTP1_PART_METHOD:
      if (len > 0 && gmulti_headers_find_non_tchar (text, len) == len)
        return TRUE;
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER,
                           _("The request method is not a valid token"));
      return FALSE;

    case GMULTI_HTTP1_PART_FIELD_NAME:
      if (len == 0)
        {
          g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER,
                               _("A header field name is empty"));
          return FALSE;
        }
      if (gmulti_headers_find_non_tchar (text, len) == len)
        return TRUE;
      escaped = g_strescape (text, NULL);
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER,
                   _("Invalid header field name “%s”: only token characters are allowed"),
                   escaped);
      return FALSE;

    case GMULTI_HTTP1_PART_FIELD_VALUE:
      bad = gmulti_headers_find_bad_value_char (text, len);
      if (bad == len)
        return TRUE;
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER,
                   _("The value of header field “%s” contains the forbidden control character 0x%02X"),
                   field_name != NULL ? field_name : "", (guint) (guchar) text[bad]);
      return FALSE;

    case GMULTI_HTTP1_PART_TARGET:
      if (target_is_valid (text, len))
        return TRUE;
      escaped = g_strescape (text, NULL);
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                   _("Invalid request target “%s”: it must be a path without spaces or "
                     "control characters"), escaped);
      return FALSE;

    case GMULTI_HTTP1_PART_HOST:
      if (host_is_valid (text, len))
        return TRUE;
      escaped = g_strescape (text, NULL);
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                   _("Invalid host “%s” in the URI"), escaped);
      return FALSE;

    default:
      g_return_val_if_reached (FALSE);
    }
}
