/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-headers.h"

G_BEGIN_DECLS

/* RFC 9110 tchar: the characters of a token such as a field name or a method. */
static inline gboolean
gmulti_headers_is_tchar (guint8 c)
{
  if (g_ascii_isalnum (c))
    return TRUE;

  switch (c)
    {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
      return TRUE;
    default:
      return FALSE;
    }
}

/* A byte allowed in a field value: HTAB, SP, VCHAR and obs-text; no other control. */
static inline gboolean
gmulti_headers_is_value_char (guint8 c)
{
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline gboolean
gmulti_headers_is_ows (guint8 c)
{
  return c == ' ' || c == '\t';
}

/* How a Content-Length value reads: one plain number (RFC 9110 8.6), no sign, space
 * or list, at most G_MAXINT64. */
typedef enum {
  GMULTI_CONTENT_LENGTH_OK,
  GMULTI_CONTENT_LENGTH_EMPTY,
  GMULTI_CONTENT_LENGTH_NOT_A_NUMBER,
  GMULTI_CONTENT_LENGTH_TOO_LARGE,
} GMultiContentLengthReading;

/* Reads @value (@len bytes, not NUL-terminated) into *@length when it is OK. */
static inline GMultiContentLengthReading
gmulti_headers_read_content_length (const char *value,
                                    gsize       len,
                                    gint64     *length)
{
  guint64 n = 0;

  if (len == 0)
    return GMULTI_CONTENT_LENGTH_EMPTY;
  for (gsize i = 0; i < len; i++)
    {
      guint digit = (guint8) value[i] - '0';

      if (digit > 9)
        return GMULTI_CONTENT_LENGTH_NOT_A_NUMBER;
      if (n > ((guint64) G_MAXINT64 - digit) / 10)
        return GMULTI_CONTENT_LENGTH_TOO_LARGE;
      n = n * 10 + digit;
    }
  *length = (gint64) n;
  return GMULTI_CONTENT_LENGTH_OK;
}

/* Index of the first byte of @name (of @len bytes) that is not a tchar, @len when all
 * are; an empty name is not a token, which callers check separately. */
gsize gmulti_headers_find_non_tchar   (const char *name,
                                       gsize       len);
/* Index of the first forbidden byte of the value, @len when there is none. */
gsize gmulti_headers_find_bad_value_char (const char *value,
                                          gsize       len);

/* Appends a field without validation or trimming. For the HTTP/1 parser, which has
 * checked the bytes already; the strings need not be NUL-terminated. */
void gmulti_headers_append_unchecked (GMultiHeaders *self,
                                      const char    *name,
                                      gsize          name_len,
                                      const char    *value,
                                      gsize          value_len);

G_END_DECLS
