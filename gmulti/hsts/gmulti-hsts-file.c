/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gmulti-hsts-private.h"

/* curl's HSTS cache file (`curl --hsts FILE`, CURLOPT_HSTS): one host per line,
 *
 *   [.]host "YYYYMMDD HH:MM:SS"
 *
 * a leading dot when the policy covers the subdomains, the stamp in UTC when it
 * expires, or "unlimited" for never; lines starting with '#' are comments. curl
 * quotes the stamp; a stamp without quotes is read too. */

#define FILE_HEADER "# HSTS cache, in the format of curl --hsts. Written by gmulti; lines are\n" \
                    "# [.]host \"YYYYMMDD HH:MM:SS\" (UTC expiry) or \"unlimited\".\n"

static gboolean
parse_stamp (const char *text,
             gsize       length,
             gint64     *out)
{
  g_autoptr(GDateTime) time = NULL;
  int year, month, day, hour, minute, second;
  char tail;

  if (length == strlen ("unlimited") && strncmp (text, "unlimited", length) == 0)
    {
      *out = GMULTI_HSTS_NEVER;
      return TRUE;
    }
  if (length != strlen ("YYYYMMDD HH:MM:SS"))
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      gboolean digit_here = i != 8 && i != 11 && i != 14;

      if (digit_here != !!g_ascii_isdigit (text[i]))
        return FALSE;
    }
  if (text[8] != ' ' || text[11] != ':' || text[14] != ':')
    return FALSE;
  if (sscanf (text, "%4d%2d%2d %2d:%2d:%2d%c", &year, &month, &day, &hour, &minute,
              &second, &tail) < 6)
    return FALSE;
  time = g_date_time_new_utc (year, month, day, hour, minute, second);
  if (time == NULL)
    return FALSE;
  *out = g_date_time_to_unix (time);
  return TRUE;
}

gboolean
gmulti_hsts_parse_line (const char *line,
                        char      **host,
                        gint64     *expires,
                        gboolean   *include_subdomains,
                        gboolean   *is_blank)
{
  const char *p = line, *name, *stamp, *end;
  gsize name_length, stamp_length;
  g_autofree char *raw = NULL;

  *is_blank = FALSE;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0' || *p == '#')
    {
      *is_blank = TRUE;
      return FALSE;
    }

  name = p;
  while (*p != '\0' && *p != ' ' && *p != '\t')
    p++;
  name_length = p - name;
  while (*p == ' ' || *p == '\t')
    p++;

  end = p + strlen (p);
  while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  stamp = p;
  stamp_length = end - p;
  if (stamp_length >= 2 && stamp[0] == '"' && stamp[stamp_length - 1] == '"')
    {
      stamp++;
      stamp_length -= 2;
    }
  if (name_length == 0 || !parse_stamp (stamp, stamp_length, expires))
    return FALSE;

  *include_subdomains = name[0] == '.';
  if (*include_subdomains)
    {
      name++;
      name_length--;
    }
  raw = g_strndup (name, name_length);
  if (!g_str_is_ascii (raw))
    return FALSE;
  *host = gmulti_hsts_normalize_host (raw);
  return *host != NULL;
}

/**
 * gmulti_hsts_enforcer_load_from_file:
 * @self: an enforcer
 * @file_name: (type filename): an HSTS cache file in curl's format
 * @n_skipped: (out) (optional): where to store how many lines were not entries
 * @error: return location for an error
 *
 * Adds the hosts of an HSTS cache file as curl (`--hsts`) writes it. Lines that are
 * not entries are skipped and counted (comments and blank lines are not counted);
 * expired entries are skipped too. An entry replaces the policy of the same host.
 *
 * Returns: %TRUE if the file was read (a `G_FILE_ERROR` otherwise)
 *
 * Since: 0.1
 */
gboolean
gmulti_hsts_enforcer_load_from_file (GMultiHstsEnforcer *self,
                                     const char         *file_name,
                                     guint              *n_skipped,
                                     GError            **error)
{
  g_autofree char *contents = NULL;
  char *line, *next;
  gboolean was_loading;
  guint bad = 0;

  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), FALSE);
  g_return_val_if_fail (file_name != NULL, FALSE);

  if (!g_file_get_contents (file_name, &contents, NULL, error))
    return FALSE;

  /* Reading the enforcer's own file changes nothing to save. */
  was_loading = self->loading;
  self->loading = g_strcmp0 (file_name, self->file_name) == 0;
  for (line = contents; line != NULL; line = next)
    {
      g_autofree char *host = NULL;
      gboolean include_subdomains, blank;
      gint64 expires;
      gsize length;

      next = strchr (line, '\n');
      if (next != NULL)
        *next++ = '\0';
      length = strlen (line);
      if (length > 0 && line[length - 1] == '\r')
        line[length - 1] = '\0';
      if (gmulti_hsts_parse_line (line, &host, &expires, &include_subdomains, &blank))
        gmulti_hsts_enforcer_store (self, host, expires, include_subdomains);
      else if (!blank)
        bad++;
    }
  self->loading = was_loading;
  if (bad > 0)
    g_debug ("%s: %u lines are not HSTS entries, skipped", file_name, bad);
  if (n_skipped != NULL)
    *n_skipped = bad;
  return TRUE;
}

/**
 * gmulti_hsts_enforcer_save_to_file:
 * @self: an enforcer
 * @file_name: (type filename): where to write
 * @error: return location for an error
 *
 * Writes every policy that has not expired, preloaded ones excepted, in curl's HSTS
 * cache format (`curl --hsts` reads it). The file is written under another name and
 * renamed over @file_name: a crash leaves the old file or the new one, whole.
 *
 * Returns: %TRUE if the file was written
 *
 * Since: 0.1
 */
gboolean
gmulti_hsts_enforcer_save_to_file (GMultiHstsEnforcer *self,
                                   const char         *file_name,
                                   GError            **error)
{
  g_autoptr(GString) out = NULL;
  GList *policies;

  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), FALSE);
  g_return_val_if_fail (file_name != NULL, FALSE);

  out = g_string_new (FILE_HEADER);
  policies = gmulti_hsts_enforcer_list (self);
  for (GList *l = policies; l != NULL; l = l->next)
    {
      GMultiHstsPolicy *policy = l->data;

      if (policy->preloaded)
        continue;
      g_string_append_printf (out, "%s%s \"", policy->include_subdomains ? "." : "",
                              policy->host);
      if (policy->expires == GMULTI_HSTS_NEVER)
        g_string_append (out, "unlimited");
      else
        {
          g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (policy->expires);
          g_autofree char *stamp = time != NULL
                                   ? g_date_time_format (time, "%Y%m%d %H:%M:%S") : NULL;

          g_string_append (out, stamp != NULL ? stamp : "unlimited");
        }
      g_string_append (out, "\"\n");
    }
  g_list_free_full (policies, (GDestroyNotify) gmulti_hsts_policy_free);
  return g_file_set_contents_full (file_name, out->str, out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}
