/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-redirect.h"
#include "http1/gmulti-http1-parser.h"
#include "http1/gmulti-http1-request.h"

/* Redirects as the engine follows them: a base URI and a Location value go through the
 * same resolution and checks, and the result through the same target parsing that
 * builds each request. The input is "BASE\nLOCATION"; without a newline it is the
 * Location, against a fixed base, and also parsed as a URI of its own. An input that
 * starts with "HTTP/" is a response head instead: the parser reads it, and the
 * Location the engine would follow (the first field of that name, as stored) is
 * resolved against the fixed base.
 *
 * Nothing may crash, and whatever is accepted must be fit for the wire: a target and a
 * Host value with no control character or space, a request line of exactly three
 * parts, a Host line that stays one line. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define DEFAULT_BASE "http://example.com:8080/dir/page?query"

#define CHECK(cond) \
  G_STMT_START { \
    if (!(cond)) \
      { \
        g_printerr ("check failed: %s\n", #cond); \
        abort (); \
      } \
  } G_STMT_END

static void
check_wire_text (const char *text)
{
  CHECK (text != NULL && *text != '\0');
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    CHECK (*p > 0x20 && *p != 0x7f);
}

/* What the engine would write for this target. */
static void
check_request_head (const GMultiRequestTarget *target)
{
  GString *head = g_string_new (NULL);
  char **lines, **words;
  guint n_lines;

  gmulti_http1_write_request_head (head, "GET", target->target, target->host_header, NULL,
                                   GMULTI_HTTP1_NO_BODY, NULL);
  CHECK (g_str_has_suffix (head->str, "\r\n\r\n"));
  CHECK (strlen (head->str) == head->len);

  /* Request line, Host, the empty line and what follows it. */
  lines = g_strsplit (head->str, "\r\n", -1);
  n_lines = g_strv_length (lines);
  CHECK (n_lines == 4);
  CHECK (*lines[2] == '\0' && *lines[3] == '\0');
  for (guint i = 0; i < n_lines; i++)
    CHECK (strpbrk (lines[i], "\r\n") == NULL);

  words = g_strsplit (lines[0], " ", -1);
  CHECK (g_strv_length (words) == 3);
  CHECK (strcmp (words[1], target->target) == 0);
  CHECK (strcmp (words[2], "HTTP/1.1") == 0);
  CHECK (g_str_has_prefix (lines[1], "Host: "));
  CHECK (strcmp (lines[1] + strlen ("Host: "), target->host_header) == 0);

  g_strfreev (words);
  g_strfreev (lines);
  g_string_free (head, TRUE);
}

/* The scheme and the Host value with the port always spelled out: what the pool keys
 * connections by (tls, host, port). */
static char *
origin_of (const GMultiRequestTarget *target)
{
  if (target->port == (target->tls ? 443 : 80))
    return g_strdup_printf ("%s://%s:%u", target->tls ? "https" : "http",
                            target->host_header, target->port);
  return g_strdup_printf ("%s://%s", target->tls ? "https" : "http", target->host_header);
}

static void
check_target (const GMultiRequestTarget *target)
{
  char *port_suffix = g_strdup_printf (":%u", target->port);

  check_wire_text (target->target);
  check_wire_text (target->host_header);
  check_wire_text (target->host);
  CHECK (target->target[0] == '/');
  CHECK (target->port != 0);
  CHECK (strpbrk (target->host_header, "/?#@\\") == NULL);

  /* The Host value carries the port exactly when it is not the scheme's default. */
  CHECK (g_str_has_suffix (target->host_header, port_suffix) ==
         (target->port != (target->tls ? 443 : 80)));
  g_free (port_suffix);

  check_request_head (target);
}

/* Parses @uri as the engine does before each request. Returns whether it was taken. */
static gboolean
parse_checked (const char          *uri,
               GMultiRequestTarget *target)
{
  GError *error = NULL;

  if (gmulti_request_target_parse (uri, target, &error))
    {
      CHECK (error == NULL);
      check_target (target);
      return TRUE;
    }

  CHECK (error != NULL && error->domain == GMULTI_ERROR);
  CHECK (error->code == GMULTI_ERROR_INVALID_URI ||
         error->code == GMULTI_ERROR_UNSUPPORTED_SCHEME);
  CHECK (target->host == NULL && target->target == NULL &&
         target->host_header == NULL);
  g_error_free (error);
  return FALSE;
}

static void
follow (const char *base,
        const char *location)
{
  GMultiRequestTarget from = { 0, }, to = { 0, };
  GError *error = NULL;
  gboolean cross_origin = TRUE;
  char *next;

  /* The engine only ever redirects from a URI it requested. */
  if (!parse_checked (base, &from))
    {
      gmulti_request_target_clear (&from);
      base = DEFAULT_BASE;
      CHECK (parse_checked (base, &from));
    }

  next = gmulti_redirect_resolve (base, location, &cross_origin, &error);
  if (next == NULL)
    {
      CHECK (error != NULL && error->domain == GMULTI_ERROR);
      CHECK (error->code == GMULTI_ERROR_BAD_REDIRECT);
      CHECK (!cross_origin);
      g_error_free (error);
      gmulti_request_target_clear (&from);
      return;
    }
  CHECK (error == NULL);

  /* A redirect that was accepted can be requested. Host names compare without case;
   * the pool key keeps the case it was given. */
  CHECK (parse_checked (next, &to));
  {
    char *from_origin = origin_of (&from), *to_origin = origin_of (&to);

    CHECK (cross_origin == (g_ascii_strcasecmp (from_origin, to_origin) != 0));
    g_free (from_origin);
    g_free (to_origin);
  }

  gmulti_request_target_clear (&to);
  gmulti_request_target_clear (&from);
  g_free (next);
}

/* The Location of a response head, as the engine takes it from the parsed fields. */
static void
follow_head (const uint8_t *data,
             size_t         size)
{
  GMultiHttp1Parser parser;
  gsize pos = 0;

  gmulti_http1_parser_init (&parser);
  gmulti_http1_parser_reset (&parser, FALSE);
  for (;;)
    {
      GError *error = NULL;
      const guint8 *body = NULL;
      gsize body_length = 0, consumed = 0;
      GMultiHttp1Event event;

      event = gmulti_http1_parser_feed (&parser, data + pos, size - pos, &consumed, &body,
                                        &body_length, &error);
      pos += consumed;
      if (event == GMULTI_HTTP1_HEADERS && parser.status < 200)
        continue;
      if (event == GMULTI_HTTP1_HEADERS)
        {
          const char *location = gmulti_headers_get_one (parser.headers, "Location");

          if (location != NULL)
            follow (DEFAULT_BASE, location);
        }
      g_clear_error (&error);
      break;
    }
  gmulti_http1_parser_clear (&parser);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  char *input, *newline;

  if (size >= 5 && memcmp (data, "HTTP/", 5) == 0)
    {
      follow_head (data, size);
      return 0;
    }

  /* Text ends at a NUL, as it does in a header value or a C string. */
  input = g_strndup ((const char *) data, size);
  newline = strchr (input, '\n');
  if (newline != NULL)
    {
      *newline = '\0';
      follow (input, newline + 1);
    }
  else
    {
      GMultiRequestTarget target = { 0, };

      parse_checked (input, &target);
      gmulti_request_target_clear (&target);
      follow (DEFAULT_BASE, input);
    }

  g_free (input);
  return 0;
}
