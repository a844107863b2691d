/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "fetch-text.h"

const char *
fetch_text_ellipsis (void)
{
  /* A terminal that is not UTF-8 would show the three bytes of "…" as garbage. */
  return g_get_charset (NULL) ? "…" : "~";
}

static gsize
char_width (gunichar c)
{
  if (g_unichar_iszerowidth (c))
    return 0;
  return g_unichar_iswide (c) ? 2 : 1;
}

gsize
fetch_text_width (const char *text)
{
  gsize width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    width += char_width (g_utf8_get_char_validated (p, -1) == (gunichar) -1
                         ? '?' : g_utf8_get_char (p));
  return width;
}

/* Appends as much of @text as fits in @columns; returns the columns used. */
static gsize
append_cut (GString    *out,
            const char *text,
            gsize       columns)
{
  gsize used = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      gsize w;

      if (c == (gunichar) -1 || c < 0x20 || c == 0x7f)
        c = '?';    /* No control character reaches the terminal. */
      w = char_width (c);
      if (used + w > columns)
        break;
      g_string_append_unichar (out, c);
      used += w;
    }
  return used;
}

void
fetch_text_fit (GString    *out,
                const char *text,
                gsize       columns)
{
  if (columns == 0)
    return;
  if (fetch_text_width (text) <= columns)
    append_cut (out, text, columns);
  else
    {
      append_cut (out, text, columns - 1);
      g_string_append (out, fetch_text_ellipsis ());
    }
}

void
fetch_text_wrap (GPtrArray  *lines,
                 const char *text,
                 gsize       first,
                 gsize       columns)
{
  const char *p = text;
  gsize room = MAX (first, 1);

  while (*p != '\0')
    {
      GString *line = g_string_new (NULL);
      gsize used = 0;
      /* The last space taken, so that a line breaks between words where it can. */
      gsize space_len = 0;
      const char *after_space = NULL;

      while (*p != '\0')
        {
          gunichar c = g_utf8_get_char_validated (p, -1);
          gsize w;

          if (c == (gunichar) -1 || c < 0x20 || c == 0x7f)
            c = '?';
          w = char_width (c);
          if (used + w > room)
            break;
          if (c == ' ' && used > 0)
            {
              space_len = line->len;
              after_space = g_utf8_next_char (p);
            }
          g_string_append_unichar (line, c);
          used += w;
          p = g_utf8_next_char (p);
        }
      if (used == 0 && *p != '\0')
        p = g_utf8_next_char (p);   /* A character wider than the room. */
      else if (*p != '\0' && *p != ' ' && after_space != NULL)
        {
          /* Cut inside a word: end the line at its last space instead. */
          g_string_truncate (line, space_len);
          p = after_space;
        }
      while (*p == ' ')
        p++;
      g_ptr_array_add (lines, g_string_free (line, FALSE));
      room = MAX (columns, 1);
    }
}

/* The end of @text that fits in @columns. */
static const char *
tail (const char *text,
      gsize       columns)
{
  const char *start = text + strlen (text);
  gsize used = 0;

  while (start > text)
    {
      const char *prev = g_utf8_find_prev_char (text, start);
      gsize w = char_width (g_utf8_get_char (prev));

      if (used + w > columns)
        break;
      used += w;
      start = prev;
    }
  return start;
}

char *
fetch_text_short_uri (const char *uri,
                      gsize       columns)
{
  const char *rest = strstr (uri, "://");
  const char *slash;
  g_autofree char *host = NULL;
  const char *ellipsis = fetch_text_ellipsis ();
  GString *out;

  rest = rest != NULL ? rest + 3 : uri;
  if (!g_utf8_validate (rest, -1, NULL))
    rest = "?";
  out = g_string_new (NULL);
  if (fetch_text_width (rest) <= columns)
    {
      append_cut (out, rest, columns);
      return g_string_free (out, FALSE);
    }

  slash = strchr (rest, '/');
  host = g_strndup (rest, slash != NULL ? (gsize) (slash - rest) : strlen (rest));
  /* The host, if it leaves room for a useful part of the path: the end of the path is
   * what tells URIs of one host apart. */
  if (slash != NULL && fetch_text_width (host) + 1 + 8 <= columns)
    {
      gsize host_width = append_cut (out, host, columns);

      g_string_append (out, ellipsis);
      g_string_append (out, tail (slash, columns - host_width - 1));
    }
  else if (columns > 1)
    {
      g_string_append (out, ellipsis);
      g_string_append (out, tail (rest, columns - 1));
    }
  else
    append_cut (out, rest, columns);
  return g_string_free (out, FALSE);
}

char *
fetch_text_size (guint64 bytes)
{
  if (bytes < 1024)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " B", bytes);
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

char *
fetch_text_rate (double bytes_per_second)
{
  g_autofree char *size = fetch_text_size ((guint64) MAX (bytes_per_second, 0));

  return g_strconcat (size, "/s", NULL);
}

char *
fetch_text_duration (double seconds)
{
  guint64 s;

  if (!isfinite (seconds) || seconds < 0 || seconds > 99 * 3600)
    return g_strdup ("--:--");
  s = (guint64) ceil (seconds);
  if (s >= 3600)
    return g_strdup_printf ("%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600,
                            (guint) (s / 60 % 60), (guint) (s % 60));
  return g_strdup_printf ("%u:%02u", (guint) (s / 60), (guint) (s % 60));
}
