/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-error.h"
#include "gmulti-headers-private.h"
#include "gmulti-http1-parser.h"
#include "gmulti-i18n-private.h"

/* Line-based states (status line, header and trailer fields, chunk sizes) need a whole
 * line; the body states hand out whatever bytes there are. */
enum {
  STATE_STATUS_LINE,
  STATE_HEADERS,
  STATE_BODY_LENGTH,
  STATE_BODY_CLOSE,
  STATE_CHUNK_SIZE,
  STATE_CHUNK_DATA,
  STATE_CHUNK_END,
  STATE_TRAILERS,
  STATE_DONE,
  STATE_ERROR,
};

#define STATUS_PREFIX "HTTP/1."
#define STATUS_PREFIX_LEN (sizeof STATUS_PREFIX - 1)

/* Outcome of handling one complete line. */
typedef enum {
  LINE_CONTINUE,
  LINE_EVENT,
  LINE_ERROR,
} LineResult;

static GMultiHttp1Event
fail (GMultiHttp1Parser *self)
{
  self->state = STATE_ERROR;
  return GMULTI_HTTP1_ERROR;
}

static void
set_protocol_error (GError     **error,
                    const char  *message)
{
  g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL, message);
}

/* Names what is wrong with a byte that may not appear in a head line. */
static void
set_bad_byte_error (GError     **error,
                    guint8       c,
                    const char  *where)
{
  if (c == '\0')
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                 _("NUL byte in the %s"), where);
  else if (c == '\r')
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                 _("Bare CR (not followed by LF) in the %s"), where);
  else
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                 _("Invalid byte 0x%02X in the %s"), (guint) c, where);
}

gboolean
gmulti_http1_parser_raw_body_left (const GMultiHttp1Parser *self,
                                   guint64                 *left)
{
  if (self->state == STATE_BODY_LENGTH)
    *left = self->remaining;
  else if (self->state == STATE_BODY_CLOSE)
    *left = G_MAXUINT64;
  else
    return FALSE;
  return TRUE;
}

void
gmulti_http1_parser_skip_body (GMultiHttp1Parser *self,
                               guint64            length)
{
  if (self->state != STATE_BODY_LENGTH)
    return;
  g_return_if_fail (length <= self->remaining);
  self->remaining -= length;
  if (self->remaining == 0)
    self->state = STATE_DONE;
}

void
gmulti_http1_parser_init (GMultiHttp1Parser *self)
{
  memset (self, 0, sizeof *self);
  gmulti_http1_parser_reset (self, FALSE);
}

void
gmulti_http1_parser_clear (GMultiHttp1Parser *self)
{
  g_clear_pointer (&self->reason, g_free);
  g_clear_pointer (&self->headers, gmulti_headers_unref);
  g_clear_pointer (&self->trailers, gmulti_headers_unref);
  g_clear_pointer (&self->unknown_coding, g_free);
  self->n_codings = 0;
}

void
gmulti_http1_parser_reset (GMultiHttp1Parser *self,
                           gboolean           head_request)
{
  gmulti_http1_parser_clear (self);

  self->status = 0;
  self->version_minor = 0;
  self->body_mode = GMULTI_HTTP1_BODY_NONE;
  self->content_length = -1;
  self->keep_alive = FALSE;
  self->state = STATE_STATUS_LINE;
  self->head_request = !!head_request;
  self->remaining = 0;
  self->header_bytes = 0;
  self->header_fields = 0;
  self->line_scanned = 0;
  self->fresh = TRUE;
  self->final_head = FALSE;
  self->seen_content_length = FALSE;
  self->seen_transfer_encoding = FALSE;
  self->chunked_last = FALSE;
  self->connection_close = FALSE;
  self->connection_keep_alive = FALSE;
}

gboolean
gmulti_http1_parser_has_final_head (GMultiHttp1Parser *self)
{
  return self->final_head;
}

gboolean
gmulti_http1_parser_is_fresh (GMultiHttp1Parser *self)
{
  return self->fresh;
}

GMultiHeaders *
gmulti_http1_parser_steal_headers (GMultiHttp1Parser *self)
{
  return g_steal_pointer (&self->headers);
}

GMultiHeaders *
gmulti_http1_parser_steal_trailers (GMultiHttp1Parser *self)
{
  return g_steal_pointer (&self->trailers);
}

/* Walks a comma-separated list, skipping empty elements and trimming OWS. Returns
 * FALSE when there is no element left. */
static gboolean
next_list_element (const char **p,
                   const char  *end,
                   const char **element,
                   gsize       *element_len)
{
  const char *s = *p;

  while (s < end)
    {
      const char *comma = memchr (s, ',', end - s);
      const char *stop = comma != NULL ? comma : end;
      const char *a = s, *b = stop;

      s = comma != NULL ? comma + 1 : end;

      while (a < b && gmulti_headers_is_ows (*a))
        a++;
      while (b > a && gmulti_headers_is_ows (b[-1]))
        b--;

      if (a < b)
        {
          *p = s;
          *element = a;
          *element_len = b - a;
          return TRUE;
        }
    }

  *p = end;
  return FALSE;
}

static inline gboolean
token_equal (const char *token,
             gsize       token_len,
             const char *lower)
{
  gsize len = strlen (lower);

  return token_len == len && g_ascii_strncasecmp (token, lower, len) == 0;
}

/* A transfer coding other than chunked, for the exchange to undo (or to refuse). */
static gboolean
note_coding (GMultiHttp1Parser  *self,
             const char         *element,
             gsize               element_len,
             GError            **error)
{
  GMultiCoding coding;

  /* "identity" meant no coding in RFC 2616; some servers still send it. */
  if (token_equal (element, element_len, "identity"))
    return TRUE;

  if (self->n_codings == GMULTI_HTTP1_MAX_TRANSFER_CODINGS)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING,
                   _("The response has more than %u transfer codings besides chunked, "
                     "the limit"), (guint) GMULTI_HTTP1_MAX_TRANSFER_CODINGS);
      return FALSE;
    }
  if (gmulti_coding_from_name (element, element_len, &coding))
    self->codings[self->n_codings++] = coding;
  else if (self->unknown_coding == NULL)
    self->unknown_coding = g_strndup (element, element_len);
  return TRUE;
}

/* Records what the framing and connection fields of a final response's head say.
 * Returns FALSE with @error set when a field makes the framing ambiguous. */
static gboolean
note_head_field (GMultiHttp1Parser  *self,
                 const char         *name,
                 gsize               name_len,
                 const char         *value,
                 gsize               value_len,
                 GError            **error)
{
  const char *end = value + value_len;
  const char *element;
  gsize element_len;

  if (token_equal (name, name_len, "content-length"))
    {
      /* One field with one plain number: duplicates and lists are how framing
       * disagreements between proxies start, so they are refused. */
      if (self->seen_content_length)
        {
          set_protocol_error (error, _("The response has more than one Content-Length field"));
          return FALSE;
        }
      self->seen_content_length = TRUE;

      switch (gmulti_headers_read_content_length (value, value_len, &self->content_length))
        {
        case GMULTI_CONTENT_LENGTH_OK:
          break;
        case GMULTI_CONTENT_LENGTH_EMPTY:
          set_protocol_error (error, _("The response’s Content-Length is empty"));
          return FALSE;
        case GMULTI_CONTENT_LENGTH_NOT_A_NUMBER:
          set_protocol_error (error, _("The response’s Content-Length is not a number"));
          return FALSE;
        case GMULTI_CONTENT_LENGTH_TOO_LARGE:
        default:
          set_protocol_error (error, _("The response’s Content-Length is too large"));
          return FALSE;
        }
    }
  else if (token_equal (name, name_len, "transfer-encoding"))
    {
      const char *p = value;

      /* Repeated fields continue one list. chunked is the framing: applied once, and
       * last (RFC 9112 6.1); anything else makes the framing a guess. */
      self->seen_transfer_encoding = TRUE;
      while (next_list_element (&p, end, &element, &element_len))
        {
          gboolean chunked = token_equal (element, element_len, "chunked");

          if (self->chunked_last)
            {
              set_protocol_error (error, chunked
                                  ? _("The response applies the chunked transfer coding more than once")
                                  : _("The response’s chunked transfer coding is not the final one"));
              return FALSE;
            }
          if (chunked)
            self->chunked_last = TRUE;
          else if (!note_coding (self, element, element_len, error))
            return FALSE;
        }
    }
  else if (token_equal (name, name_len, "connection"))
    {
      const char *p = value;

      while (next_list_element (&p, end, &element, &element_len))
        {
          if (token_equal (element, element_len, "close"))
            self->connection_close = TRUE;
          else if (token_equal (element, element_len, "keep-alive"))
            self->connection_keep_alive = TRUE;
        }
    }

  return TRUE;
}

/* Parses "name: value" into @into, checking every byte. */
/* Only translated when an error needs it: a lookup per header line would cost more
 * than parsing it. */
static const char *
section_name (gboolean trailer)
{
  return trailer ? _("trailer section") : _("header section");
}

static LineResult
handle_field_line (GMultiHttp1Parser  *self,
                   const guint8       *line,
                   gsize               len,
                   gboolean            trailer,
                   GError            **error)
{
  const guint8 *colon;
  const char *name = (const char *) line;
  const char *value;
  gsize name_len, value_len, bad;
  GMultiHeaders **into = trailer ? &self->trailers : &self->headers;

  if (gmulti_headers_is_ows (line[0]))
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                   _("Obsolete line folding (a line starting with whitespace) in the %s"),
                   section_name (trailer));
      return LINE_ERROR;
    }

  colon = memchr (line, ':', len);
  if (colon == NULL)
    {
      /* A stray CR or NUL says more about what went wrong than the missing colon. */
      bad = gmulti_headers_find_bad_value_char (name, len);
      if (bad != len)
        {
          set_bad_byte_error (error, line[bad], section_name (trailer));
          return LINE_ERROR;
        }
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                   _("A line in the %s has no colon"), section_name (trailer));
      return LINE_ERROR;
    }

  name_len = colon - line;
  if (name_len == 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                   _("Empty field name in the %s"), section_name (trailer));
      return LINE_ERROR;
    }
  if (gmulti_headers_is_ows (line[name_len - 1]))
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                   _("Whitespace between a field name and the colon in the %s"),
                   section_name (trailer));
      return LINE_ERROR;
    }

  bad = gmulti_headers_find_non_tchar (name, name_len);
  if (bad != name_len)
    {
      set_bad_byte_error (error, line[bad], section_name (trailer));
      return LINE_ERROR;
    }

  value = (const char *) colon + 1;
  value_len = len - name_len - 1;
  bad = gmulti_headers_find_bad_value_char (value, value_len);
  if (bad != value_len)
    {
      set_bad_byte_error (error, value[bad], section_name (trailer));
      return LINE_ERROR;
    }

  while (value_len > 0 && gmulti_headers_is_ows (value[0]))
    {
      value++;
      value_len--;
    }
  while (value_len > 0 && gmulti_headers_is_ows (value[value_len - 1]))
    value_len--;

  if (++self->header_fields > GMULTI_HTTP1_MAX_HEADER_FIELDS)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_HEADERS_TOO_LARGE,
                   _("The response’s %s has more than %u fields, the limit"),
                   section_name (trailer), (guint) GMULTI_HTTP1_MAX_HEADER_FIELDS);
      return LINE_ERROR;
    }

  /* Interim responses have no body, so their framing fields mean nothing. */
  if (!trailer && self->status >= 200 &&
      !note_head_field (self, name, name_len, value, value_len, error))
    return LINE_ERROR;

  if (*into == NULL)
    *into = gmulti_headers_new ();
  gmulti_headers_append_unchecked (*into, name, name_len, value, value_len);

  return LINE_CONTINUE;
}

static LineResult
handle_status_line (GMultiHttp1Parser  *self,
                    const guint8       *line,
                    gsize               len,
                    GError            **error)
{
  const char *reason;
  gsize reason_len, bad;
  guint status;

  /* Tolerate stray empty lines between responses; the byte limit still counts them. */
  if (len == 0)
    return LINE_CONTINUE;

  if (len < 12 || memcmp (line, STATUS_PREFIX, STATUS_PREFIX_LEN) != 0)
    {
      set_protocol_error (error, _("The response does not start with an HTTP/1.x status line"));
      return LINE_ERROR;
    }

  if ((line[7] != '0' && line[7] != '1') || line[8] != ' ')
    {
      set_protocol_error (error, _("The response has an unsupported HTTP version"));
      return LINE_ERROR;
    }

  if (!g_ascii_isdigit (line[9]) || !g_ascii_isdigit (line[10]) ||
      !g_ascii_isdigit (line[11]) || (len > 12 && line[12] != ' '))
    {
      set_protocol_error (error, _("The response’s status code is not a three-digit number"));
      return LINE_ERROR;
    }

  status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status < 100 || status > 599)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                   _("The response’s status code %u is outside 100 to 599"), status);
      return LINE_ERROR;
    }
  if (status == 101)
    {
      set_protocol_error (error, _("The server switched protocols (status 101) although no upgrade was requested"));
      return LINE_ERROR;
    }

  /* "HTTP/1.1 200" without the space before an empty reason is common enough. */
  reason = len > 12 ? (const char *) line + 13 : "";
  reason_len = len > 12 ? len - 13 : 0;
  bad = gmulti_headers_find_bad_value_char (reason, reason_len);
  if (bad != reason_len)
    {
      set_bad_byte_error (error, reason[bad], _("status line"));
      return LINE_ERROR;
    }

  self->status = status;
  self->version_minor = line[7] - '0';
  g_free (self->reason);
  self->reason = g_strndup (reason, reason_len);

  /* A new head: the previous one was an interim response, its fields are done. */
  g_clear_pointer (&self->headers, gmulti_headers_unref);
  self->headers = gmulti_headers_new ();
  self->header_fields = 0;
  self->seen_content_length = FALSE;
  self->seen_transfer_encoding = FALSE;
  self->chunked_last = FALSE;
  self->n_codings = 0;
  g_clear_pointer (&self->unknown_coding, g_free);
  self->connection_close = FALSE;
  self->connection_keep_alive = FALSE;
  self->content_length = -1;
  self->state = STATE_HEADERS;

  return LINE_CONTINUE;
}

/* The empty line after the fields: decide the framing per RFC 9112 section 6.3. */
static LineResult
finish_head (GMultiHttp1Parser  *self,
             GError            **error)
{
  GMultiHttp1BodyMode mode;

  if (self->status < 200)
    {
      /* 100 Continue, 102, 103 Early Hints: report it, then expect the next head. */
      self->body_mode = GMULTI_HTTP1_BODY_NONE;
      self->content_length = -1;
      self->keep_alive = TRUE;
      self->state = STATE_STATUS_LINE;
      return LINE_EVENT;
    }

  if (self->seen_transfer_encoding && self->seen_content_length)
    {
      set_protocol_error (error, _("The response has both Transfer-Encoding and Content-Length"));
      return LINE_ERROR;
    }

  if (self->head_request || self->status == 204 || self->status == 304)
    mode = GMULTI_HTTP1_BODY_NONE;
  else if (self->seen_transfer_encoding)
    mode = self->chunked_last ? GMULTI_HTTP1_BODY_CHUNKED : GMULTI_HTTP1_BODY_CLOSE;
  else if (self->seen_content_length)
    mode = GMULTI_HTTP1_BODY_LENGTH;
  else
    mode = GMULTI_HTTP1_BODY_CLOSE;

  self->body_mode = mode;
  if (mode != GMULTI_HTTP1_BODY_LENGTH)
    self->content_length = -1;

  if (self->version_minor >= 1)
    self->keep_alive = !self->connection_close;
  else
    self->keep_alive = self->connection_keep_alive && !self->connection_close;

  /* RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means the framing cannot
   * be trusted; decode it, but never reuse the connection. */
  if (mode == GMULTI_HTTP1_BODY_CLOSE ||
      (self->version_minor == 0 && self->seen_transfer_encoding))
    self->keep_alive = FALSE;

  self->final_head = TRUE;

  switch (mode)
    {
    case GMULTI_HTTP1_BODY_NONE:
      self->state = STATE_DONE;
      break;
    case GMULTI_HTTP1_BODY_LENGTH:
      self->remaining = (guint64) self->content_length;
      self->state = self->remaining > 0 ? STATE_BODY_LENGTH : STATE_DONE;
      break;
    case GMULTI_HTTP1_BODY_CHUNKED:
      self->state = STATE_CHUNK_SIZE;
      break;
    case GMULTI_HTTP1_BODY_CLOSE:
    default:
      self->state = STATE_BODY_CLOSE;
      break;
    }

  return LINE_EVENT;
}

static LineResult
handle_chunk_size_line (GMultiHttp1Parser  *self,
                        const guint8       *line,
                        gsize               len,
                        GError            **error)
{
  guint64 size = 0;
  gsize i = 0;

  for (i = 0; i < len && g_ascii_isxdigit (line[i]); i++)
    {
      if (i == GMULTI_HTTP1_MAX_CHUNK_SIZE_DIGITS)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                       _("A chunk size has more than %u hex digits, the limit"),
                       (guint) GMULTI_HTTP1_MAX_CHUNK_SIZE_DIGITS);
          return LINE_ERROR;
        }
      if (size > G_MAXUINT64 >> 4)
        {
          set_protocol_error (error, _("A chunk size does not fit in 64 bits"));
          return LINE_ERROR;
        }
      size = (size << 4) | (guint64) g_ascii_xdigit_value (line[i]);
    }

  if (i == 0)
    {
      set_protocol_error (error, _("A chunk does not start with a hexadecimal size"));
      return LINE_ERROR;
    }

  /* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): checked for stray
   * bytes, otherwise ignored. */
  while (i < len && gmulti_headers_is_ows (line[i]))
    i++;
  if (i < len)
    {
      gsize bad;

      if (line[i] != ';')
        {
          set_protocol_error (error, _("A chunk size is followed by unexpected bytes"));
          return LINE_ERROR;
        }

      bad = gmulti_headers_find_bad_value_char ((const char *) line + i, len - i);
      if (bad != len - i)
        {
          set_bad_byte_error (error, line[i + bad], _("chunk extension"));
          return LINE_ERROR;
        }
    }

  if (size == 0)
    {
      /* The trailer section has limits of its own, like a head. */
      self->header_bytes = 0;
      self->header_fields = 0;
      self->state = STATE_TRAILERS;
    }
  else
    {
      self->remaining = size;
      self->state = STATE_CHUNK_DATA;
    }

  return LINE_CONTINUE;
}

static void
set_line_too_long_error (GMultiHttp1Parser  *self,
                         GError            **error)
{
  switch (self->state)
    {
    case STATE_CHUNK_SIZE:
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                   _("A chunk size line is longer than %u bytes, the limit"),
                   (guint) GMULTI_HTTP1_MAX_HEADER_BYTES);
      break;
    case STATE_TRAILERS:
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_HEADERS_TOO_LARGE,
                   _("The response’s trailer section is larger than %u bytes, the limit"),
                   (guint) GMULTI_HTTP1_MAX_HEADER_BYTES);
      break;
    default:
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_HEADERS_TOO_LARGE,
                   _("The response’s header section is larger than %u bytes, the limit"),
                   (guint) GMULTI_HTTP1_MAX_HEADER_BYTES);
      break;
    }
}

/* Rejects bytes that cannot start a status line as soon as they are seen, so an
 * HTTP/0.9 reply or garbage without a newline fails at once instead of at the limit. */
static gboolean
check_status_prefix (GMultiHttp1Parser  *self,
                     const guint8       *p,
                     gsize               avail,
                     GError            **error)
{
  if (avail == 0)
    return TRUE;

  if (p[0] == '\n')
    return TRUE;
  if (p[0] == '\r')
    {
      if (avail >= 2 && p[1] != '\n')
        {
          set_bad_byte_error (error, '\r', _("status line"));
          return FALSE;
        }
      return TRUE;
    }

  self->fresh = FALSE;
  if (memcmp (p, STATUS_PREFIX, MIN (avail, STATUS_PREFIX_LEN)) != 0)
    {
      set_protocol_error (error, _("The response does not start with an HTTP/1.x status line"));
      return FALSE;
    }

  return TRUE;
}

static GMultiHttp1Event
feed_line (GMultiHttp1Parser  *self,
           const guint8       *p,
           gsize               avail,
           gsize              *used,
           GError            **error)
{
  gboolean counted = self->state != STATE_CHUNK_SIZE;
  gsize budget, from, total, len;
  const guint8 *lf = NULL;
  LineResult result;

  *used = 0;

  if (self->state == STATE_STATUS_LINE && !check_status_prefix (self, p, avail, error))
    return fail (self);

  /* Head and trailer lines share one byte budget per section; a chunk size line has
   * the same limit on its own. */
  budget = GMULTI_HTTP1_MAX_HEADER_BYTES - (counted ? self->header_bytes : 0);

  /* Resume the search where the previous call stopped: the caller feeds the pending
   * line again, and scanning it from the start each time would be quadratic. */
  from = MIN (self->line_scanned, avail);
  if (from < avail)
    lf = memchr (p + from, '\n', avail - from);

  if (lf == NULL)
    {
      /* The line needs at least one more byte, so this already crosses the limit. */
      if (avail >= budget)
        {
          set_line_too_long_error (self, error);
          return fail (self);
        }
      self->line_scanned = avail;
      return GMULTI_HTTP1_NEED_MORE;
    }

  self->line_scanned = 0;
  total = lf - p + 1;
  if (total > budget)
    {
      set_line_too_long_error (self, error);
      return fail (self);
    }

  *used = total;
  if (counted)
    {
      self->header_bytes += total;
      self->header_bytes_total += total;
    }

  len = total - 1;
  if (len > 0 && p[len - 1] == '\r')
    len--;

  switch (self->state)
    {
    case STATE_STATUS_LINE:
      result = handle_status_line (self, p, len, error);
      break;
    case STATE_HEADERS:
      result = len == 0 ? finish_head (self, error)
                        : handle_field_line (self, p, len, FALSE, error);
      break;
    case STATE_TRAILERS:
      if (len == 0)
        {
          self->state = STATE_DONE;
          return GMULTI_HTTP1_DONE;
        }
      result = handle_field_line (self, p, len, TRUE, error);
      break;
    case STATE_CHUNK_SIZE:
    default:
      result = handle_chunk_size_line (self, p, len, error);
      break;
    }

  switch (result)
    {
    case LINE_CONTINUE:
      return GMULTI_HTTP1_NEED_MORE;
    case LINE_EVENT:
      return GMULTI_HTTP1_HEADERS;
    case LINE_ERROR:
    default:
      return fail (self);
    }
}

GMultiHttp1Event
gmulti_http1_parser_feed (GMultiHttp1Parser  *self,
                          const guint8       *data,
                          gsize               length,
                          gsize              *consumed,
                          const guint8      **body,
                          gsize              *body_length,
                          GError            **error)
{
  gsize pos = 0;

  g_return_val_if_fail (self != NULL, GMULTI_HTTP1_ERROR);
  g_return_val_if_fail (data != NULL || length == 0, GMULTI_HTTP1_ERROR);
  g_return_val_if_fail (consumed != NULL, GMULTI_HTTP1_ERROR);
  g_return_val_if_fail (body != NULL, GMULTI_HTTP1_ERROR);
  g_return_val_if_fail (body_length != NULL, GMULTI_HTTP1_ERROR);

  *consumed = 0;
  *body = NULL;
  *body_length = 0;

  /* Pointer arithmetic on NULL is undefined even with a zero offset. */
  if (data == NULL)
    data = (const guint8 *) "";

  for (;;)
    {
      gsize avail = length - pos;
      gsize n;

      switch (self->state)
        {
        case STATE_STATUS_LINE:
        case STATE_HEADERS:
        case STATE_CHUNK_SIZE:
        case STATE_TRAILERS:
          {
            GMultiHttp1Event event;
            gsize used;

            event = feed_line (self, data + pos, avail, &used, error);
            pos += used;
            if (event != GMULTI_HTTP1_NEED_MORE || used == 0)
              {
                *consumed = pos;
                return event;
              }
          }
          break;

        case STATE_BODY_LENGTH:
        case STATE_CHUNK_DATA:
          if (avail == 0)
            {
              *consumed = pos;
              return GMULTI_HTTP1_NEED_MORE;
            }

          n = (gsize) MIN ((guint64) avail, self->remaining);
          self->remaining -= n;
          if (self->remaining == 0)
            self->state = self->state == STATE_CHUNK_DATA ? STATE_CHUNK_END : STATE_DONE;

          *body = data + pos;
          *body_length = n;
          *consumed = pos + n;
          return GMULTI_HTTP1_BODY;

        case STATE_BODY_CLOSE:
          if (avail == 0)
            {
              *consumed = pos;
              return GMULTI_HTTP1_NEED_MORE;
            }

          *body = data + pos;
          *body_length = avail;
          *consumed = length;
          return GMULTI_HTTP1_BODY;

        case STATE_CHUNK_END:
          /* The CRLF (or bare LF) that closes a chunk's data. */
          if (avail == 0 || (avail == 1 && data[pos] == '\r'))
            {
              *consumed = pos;
              return GMULTI_HTTP1_NEED_MORE;
            }

          if (data[pos] == '\n')
            pos += 1;
          else if (data[pos] == '\r' && data[pos + 1] == '\n')
            pos += 2;
          else
            {
              set_protocol_error (error, _("A chunk’s data is not followed by CRLF"));
              *consumed = pos;
              return fail (self);
            }
          self->state = STATE_CHUNK_SIZE;
          break;

        case STATE_DONE:
          *consumed = pos;
          return GMULTI_HTTP1_DONE;

        case STATE_ERROR:
        default:
          set_protocol_error (error, _("The response was already found invalid"));
          *consumed = pos;
          return GMULTI_HTTP1_ERROR;
        }
    }
}

GMultiHttp1Event
gmulti_http1_parser_eof (GMultiHttp1Parser  *self,
                         GError            **error)
{
  const char *message;

  g_return_val_if_fail (self != NULL, GMULTI_HTTP1_ERROR);

  switch (self->state)
    {
    case STATE_BODY_CLOSE:
    case STATE_DONE:
      self->state = STATE_DONE;
      return GMULTI_HTTP1_DONE;

    case STATE_BODY_LENGTH:
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_CONNECTION_CLOSED,
                   _("The connection was closed with %llu of %llu body bytes received"),
                   (unsigned long long) ((guint64) self->content_length - self->remaining),
                   (unsigned long long) self->content_length);
      return fail (self);

    case STATE_STATUS_LINE:
      message = _("The connection was closed before the status line");
      break;
    case STATE_HEADERS:
      message = _("The connection was closed in the headers");
      break;
    case STATE_CHUNK_DATA:
      message = _("The connection was closed inside a chunk");
      break;
    case STATE_CHUNK_SIZE:
    case STATE_CHUNK_END:
      message = _("The connection was closed between chunks");
      break;
    case STATE_TRAILERS:
      message = _("The connection was closed in the trailer section");
      break;
    case STATE_ERROR:
    default:
      message = _("The response was already found invalid");
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL, message);
      return GMULTI_HTTP1_ERROR;
    }

  g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_CONNECTION_CLOSED, message);
  return fail (self);
}
