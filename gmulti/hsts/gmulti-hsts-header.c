/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-hsts-private.h"

/* The Strict-Transport-Security field value of RFC 6797 section 6.1:
 *
 *   [ directive ] *( ";" [ directive ] )
 *   directive = name [ "=" ( token / quoted-string ) ]
 *
 * with optional white space around every part. Names are case-insensitive; max-age
 * (delta-seconds, possibly quoted) is required, includeSubDomains takes no value,
 * other directives are skipped. A field that does not parse, or names max-age or
 * includeSubDomains twice, is ignored whole. */

static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *
skip_space (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Reads a quoted-string after its opening quote into @out; NULL if it is not one. */
static const char *
read_quoted (const char *p,
             GString    *out)
{
  for (;;)
    {
      guchar c = *p;

      if (c == '\0')
        return NULL;
      if (c == '"')
        return p + 1;
      if (c == '\\')
        {
          c = *++p;
          if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7f)
            return NULL;
        }
      else if ((c < 0x20 && c != '\t') || c == 0x7f)
        return NULL;
      g_string_append_c (out, c);
      p++;
    }
}

/* delta-seconds: digits only; a value too large for the store is clamped. */
static gboolean
parse_delta_seconds (const GString *value,
                     gint64        *out)
{
  gint64 n = 0;

  if (value->len == 0)
    return FALSE;
  for (gsize i = 0; i < value->len; i++)
    {
      if (!g_ascii_isdigit (value->str[i]))
        return FALSE;
      if (n < GMULTI_HSTS_MAX_AGE_LIMIT)
        n = n * 10 + (value->str[i] - '0');
    }
  *out = MIN (n, GMULTI_HSTS_MAX_AGE_LIMIT);
  return TRUE;
}

gboolean
gmulti_hsts_parse_header (const char *value,
                          gint64     *max_age,
                          gboolean   *include_subdomains)
{
  g_autoptr(GString) directive_value = g_string_new (NULL);
  gboolean seen_max_age = FALSE, seen_subdomains = FALSE;
  gint64 age = 0;
  const char *p = value;

  if (value == NULL)
    return FALSE;

  for (;;)
    {
      const char *name;
      gsize name_length;
      gboolean has_value = FALSE;

      p = skip_space (p);
      if (*p == ';')
        {
          p++;
          continue;
        }
      if (*p == '\0')
        break;

      name = p;
      while (is_tchar (*p))
        p++;
      name_length = p - name;
      if (name_length == 0)
        return FALSE;
      p = skip_space (p);

      g_string_truncate (directive_value, 0);
      if (*p == '=')
        {
          has_value = TRUE;
          p = skip_space (p + 1);
          if (*p == '"')
            {
              p = read_quoted (p + 1, directive_value);
              if (p == NULL)
                return FALSE;
            }
          else
            {
              while (is_tchar (*p))
                g_string_append_c (directive_value, *p++);
              if (directive_value->len == 0)
                return FALSE;
            }
          p = skip_space (p);
        }
      if (*p != ';' && *p != '\0')
        return FALSE;

      if (name_length == strlen ("max-age") &&
          g_ascii_strncasecmp (name, "max-age", name_length) == 0)
        {
          if (seen_max_age || !has_value || !parse_delta_seconds (directive_value, &age))
            return FALSE;
          seen_max_age = TRUE;
        }
      else if (name_length == strlen ("includeSubDomains") &&
               g_ascii_strncasecmp (name, "includeSubDomains", name_length) == 0)
        {
          if (seen_subdomains || has_value)
            return FALSE;
          seen_subdomains = TRUE;
        }
      /* Any other directive is for a later extension: skipped. */
    }

  if (!seen_max_age)
    return FALSE;
  *max_age = age;
  *include_subdomains = seen_subdomains;
  return TRUE;
}
