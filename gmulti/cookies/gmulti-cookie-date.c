/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-cookie-private.h"

/* The cookie-date algorithm of RFC 6265 section 5.1.1: tokens between delimiters,
 * each taken as the first of time, day of month, month and year it can be, whatever
 * their order; so RFC 1123, RFC 850 ("Sunday, 06-Nov-94") and asctime() dates all
 * parse, and so do the variants servers send. */

static gboolean
is_delimiter (guchar c)
{
  return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
         (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* 1 to @max digits at @p, then anything but a digit: the value, or -1. */
static int
leading_digits (const char *p,
                gsize       length,
                gsize       min,
                gsize       max,
                gsize      *used)
{
  gsize n = 0;
  int value = 0;

  while (n < length && g_ascii_isdigit (p[n]))
    {
      if (n == max)
        return -1;
      value = value * 10 + (p[n] - '0');
      n++;
    }
  if (n < min)
    return -1;
  *used = n;
  return value;
}

/* hms-time: 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT ( non-digit *OCTET ) */
static gboolean
parse_time (const char *p,
            gsize       length,
            int        *hour,
            int        *minute,
            int        *second)
{
  int parts[3];
  gsize at = 0;

  for (int i = 0; i < 3; i++)
    {
      gsize used;

      parts[i] = leading_digits (p + at, length - at, 1, 2, &used);
      if (parts[i] < 0)
        return FALSE;
      at += used;
      if (i < 2)
        {
          if (at >= length || p[at] != ':')
            return FALSE;
          at++;
        }
    }
  *hour = parts[0];
  *minute = parts[1];
  *second = parts[2];
  return TRUE;
}

static int
parse_month (const char *p,
             gsize       length)
{
  static const char months[12][4] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
  };

  if (length < 3)
    return -1;
  for (int i = 0; i < 12; i++)
    if (g_ascii_strncasecmp (p, months[i], 3) == 0)
      return i + 1;
  return -1;
}

gboolean
gmulti_cookie_parse_date (const char *text,
                          gsize       length,
                          gint64     *out)
{
  gboolean have_time = FALSE, have_day = FALSE, have_month = FALSE, have_year = FALSE;
  int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
  gsize i = 0;
  GDateTime *date;

  while (i < length)
    {
      gsize start, token_length, used;
      const char *token;
      int value;

      while (i < length && is_delimiter (text[i]))
        i++;
      start = i;
      while (i < length && !is_delimiter (text[i]))
        i++;
      token = text + start;
      token_length = i - start;
      if (token_length == 0)
        continue;

      if (!have_time && parse_time (token, token_length, &hour, &minute, &second))
        have_time = TRUE;
      else if (!have_day && (value = leading_digits (token, token_length, 1, 2, &used)) >= 0)
        {
          have_day = TRUE;
          day = value;
        }
      else if (!have_month && (value = parse_month (token, token_length)) > 0)
        {
          have_month = TRUE;
          month = value;
        }
      else if (!have_year && (value = leading_digits (token, token_length, 2, 4, &used)) >= 0)
        {
          have_year = TRUE;
          year = value;
        }
    }

  if (!have_time || !have_day || !have_month || !have_year)
    return FALSE;
  if (year >= 70 && year <= 99)
    year += 1900;
  else if (year >= 0 && year <= 69)
    year += 2000;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59)
    return FALSE;

  /* NULL for a day the month does not have (30 February). */
  date = g_date_time_new_utc (year, month, day, hour, minute, second);
  if (date == NULL)
    return FALSE;
  *out = g_date_time_to_unix (date);
  g_date_time_unref (date);
  return TRUE;
}
