/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-headers-private.h"
#include "gmulti-http1-request.h"

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
  const char *host = host_header;
  gboolean has_user_agent = FALSE;
  gboolean has_accept = FALSE;
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
    }

  g_string_append (out, method);
  g_string_append_c (out, ' ');
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

gboolean
gmulti_http1_method_is_valid (const char *method)
{
  gsize len;

  g_return_val_if_fail (method != NULL, FALSE);

  len = strlen (method);
  return len > 0 && gmulti_headers_find_non_tchar (method, len) == len;
}

gboolean
gmulti_http1_header_name_is_valid (const char *name)
{
  return gmulti_http1_method_is_valid (name);
}

gboolean
gmulti_http1_header_value_is_valid (const char *value)
{
  gsize len;

  g_return_val_if_fail (value != NULL, FALSE);

  len = strlen (value);
  return gmulti_headers_find_bad_value_char (value, len) == len;
}
