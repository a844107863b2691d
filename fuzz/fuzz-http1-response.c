/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmulti-headers.h"
#include "gmulti-http1-parser.h"

/* The first input byte picks how the rest is cut into reads and whether the request
 * was HEAD; the rest is what the server sent. The response is parsed twice, once in
 * one read and once cut up, and both must tell the same story: fragmentation must
 * never change the result. Keep-alive responses are followed by the next one on the
 * same connection, as the engine does. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
  uint8_t mode;
  uint32_t rng;
} Cutter;

/* How many bytes the next read delivers. */
static size_t
next_read (Cutter *cutter,
           size_t  left)
{
  size_t step = cutter->mode >> 2;

  if (step == 0)
    return left;

  if (cutter->mode & 1)
    {
      cutter->rng = cutter->rng * 1103515245u + 12345u;
      step = ((cutter->rng >> 16) % (step * 2)) + 1;
    }

  return step < left ? step : left;
}

static void
log_headers (GString       *log,
             GMultiHeaders *headers)
{
  guint i;

  if (headers == NULL)
    return;

  for (i = 0; i < gmulti_headers_get_length (headers); i++)
    g_string_append_printf (log, "%s:%s\n", gmulti_headers_get_name (headers, i),
                            gmulti_headers_get_value (headers, i));
}

static void
log_error (GString      *log,
           const char   *what,
           const GError *error)
{
  if (error == NULL)
    abort ();
  g_string_append_printf (log, "%s %d %s\n", what, error->code, error->message);
}

static void
run (const uint8_t *input,
     size_t         size,
     uint8_t        mode,
     gboolean       head_request,
     GString       *log)
{
  GMultiHttp1Parser parser;
  GByteArray *pending = g_byte_array_new ();
  Cutter cutter = { mode, mode };
  size_t delivered = 0;
  gboolean over = FALSE;

  gmulti_http1_parser_init (&parser);
  gmulti_http1_parser_reset (&parser, head_request);

  while (!over)
    {
      size_t n = next_read (&cutter, size - delivered);
      size_t off = 0;

      g_byte_array_append (pending, input + delivered, n);
      delivered += n;

      for (;;)
        {
          GError *error = NULL;
          const guint8 *body = NULL;
          gsize body_length = 0, consumed = 0;
          gsize avail = pending->len - off;
          /* An empty GByteArray may have no storage; NULL + 0 is undefined. */
          const guint8 *base = pending->data != NULL ? pending->data : (const guint8 *) "";
          GMultiHttp1Event event;

          event = gmulti_http1_parser_feed (&parser, base + off, avail, &consumed,
                                            &body, &body_length, &error);
          if (consumed > avail)
            abort ();
          if (event != GMULTI_HTTP1_ERROR && error != NULL)
            abort ();

          if (event == GMULTI_HTTP1_NEED_MORE)
            {
              off += consumed;
              break;
            }

          if (event == GMULTI_HTTP1_HEADERS)
            {
              if (consumed == 0 || parser.headers == NULL)
                abort ();
              g_string_append_printf (log, "H %u %u %s mode=%d cl=%" G_GINT64_FORMAT " ka=%d\n",
                                      parser.status, parser.version_minor, parser.reason,
                                      parser.body_mode, parser.content_length, parser.keep_alive);
              log_headers (log, parser.headers);
            }
          else if (event == GMULTI_HTTP1_BODY)
            {
              if (body_length == 0 || body == NULL ||
                  body < base + off || body + body_length != base + off + consumed)
                abort ();
              g_string_append_len (log, (const char *) body, body_length);
            }
          else if (event == GMULTI_HTTP1_DONE)
            {
              g_string_append (log, "\nDONE\n");
              log_headers (log, parser.trailers);
              off += consumed;
              if (!parser.keep_alive)
                {
                  over = TRUE;
                  break;
                }
              /* The next response on the same connection, from the leftovers. */
              gmulti_http1_parser_reset (&parser, head_request);
              continue;
            }
          else
            {
              log_error (log, "ERROR", error);
              g_error_free (error);
              over = TRUE;
              break;
            }

          off += consumed;
        }

      g_byte_array_remove_range (pending, 0, off);

      if (!over && delivered == size)
        {
          GError *error = NULL;

          if (gmulti_http1_parser_eof (&parser, &error) == GMULTI_HTTP1_DONE)
            {
              if (error != NULL)
                abort ();
              g_string_append (log, "\nEOF DONE\n");
            }
          else
            {
              log_error (log, "EOF", error);
              g_error_free (error);
            }
          over = TRUE;
        }
    }

  g_string_append_printf (log, "total=%" G_GUINT64_FORMAT "\n", parser.header_bytes_total);

  gmulti_http1_parser_clear (&parser);
  g_byte_array_unref (pending);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  GString *whole, *cut;
  gboolean head_request;
  uint8_t mode;

  if (size < 1)
    return 0;

  mode = data[0];
  head_request = (mode & 2) != 0;

  whole = g_string_new (NULL);
  cut = g_string_new (NULL);

  run (data + 1, size - 1, 0, head_request, whole);
  run (data + 1, size - 1, mode, head_request, cut);

  if (!g_string_equal (whole, cut))
    {
      g_printerr ("fragmentation changed the result:\n--- whole\n%s\n--- cut\n%s\n",
                  whole->str, cut->str);
      abort ();
    }

  g_string_free (whole, TRUE);
  g_string_free (cut, TRUE);

  return 0;
}
