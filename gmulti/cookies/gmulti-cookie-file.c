/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gmulti-cookie-jar-private.h"

/* The Netscape cookie file that curl (-b, -c), wget (--load-cookies, --save-cookies)
 * and old Mozilla read and write: one cookie per line, seven fields separated by tabs
 * (domain, whether subdomains match, path, secure, expiry in seconds since 1970 with 0
 * for a session cookie, name, value), "#HttpOnly_" before the domain of an HttpOnly
 * cookie, other lines starting with '#' are comments. SameSite has no field: it is not
 * saved. */

#define FILE_HEADER "# Netscape HTTP Cookie File\n" \
                    "# Written by gmulti; lines are domain, subdomains, path, secure, " \
                    "expiry, name, value.\n\n"

static gboolean
is_field (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
fits_a_line (const GMultiCookie *cookie)
{
  return is_field (cookie->name) && is_field (cookie->value) && is_field (cookie->domain) &&
         is_field (cookie->path);
}

static GMultiCookie *
parse_line (char  *line,
            gint64 now)
{
  char *fields[7];
  guint n = 0;
  gboolean http_only = FALSE, include_subdomains;
  char *end;
  gint64 expires;
  const char *domain;

  if (g_str_has_prefix (line, "#HttpOnly_"))
    {
      http_only = TRUE;
      line += strlen ("#HttpOnly_");
    }
  else if (line[0] == '#' || line[0] == '\0')
    return NULL;

  fields[n++] = line;
  for (char *p = line; *p != '\0' && n < 7; p++)
    if (*p == '\t')
      {
        *p = '\0';
        fields[n++] = p + 1;
      }
  /* curl writes an empty value as nothing after the last tab; some writers drop it. */
  if (n == 6)
    fields[n++] = (char *) "";
  if (n != 7 || *fields[0] == '\0' || *fields[5] == '\0' || fields[2][0] != '/')
    return NULL;

  errno = 0;
  expires = g_ascii_strtoll (fields[4], &end, 10);
  if (errno != 0 || *end != '\0' || end == fields[4] || expires < 0)
    return NULL;
  if (expires != 0 && expires <= now)
    return NULL;

  domain = fields[0];
  include_subdomains = g_ascii_strcasecmp (fields[1], "TRUE") == 0;
  if (!is_field (fields[5]) || !is_field (fields[6]))
    return NULL;

  return gmulti_cookie_new_internal (fields[5], fields[6], domain, fields[2], expires,
                                     g_ascii_strcasecmp (fields[3], "TRUE") == 0,
                                     http_only, GMULTI_COOKIE_SAME_SITE_UNSET,
                                     !include_subdomains && domain[0] != '.',
                                     g_get_real_time ());
}

/**
 * gmulti_cookie_jar_load_from_file:
 * @self: a jar
 * @file_name: (type filename): a cookie file in the Netscape format
 * @error: return location for an error
 *
 * Adds the cookies of a cookie file as curl (`-c`) and wget (`--save-cookies`) write
 * it. Lines that are not cookies, and expired cookies, are skipped; a cookie of the
 * same name, domain and path as one in the jar replaces it.
 *
 * Returns: %TRUE if the file was read (a `G_FILE_ERROR` otherwise)
 *
 * Since: 0.1
 */
gboolean
gmulti_cookie_jar_load_from_file (GMultiCookieJar *self,
                                  const char      *file_name,
                                  GError         **error)
{
  g_autofree char *contents = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  char *line, *next;
  gboolean was_loading;

  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), FALSE);
  g_return_val_if_fail (file_name != NULL, FALSE);

  if (!g_file_get_contents (file_name, &contents, NULL, error))
    return FALSE;

  /* Reading the jar's own file changes nothing to save. */
  was_loading = self->loading;
  self->loading = g_strcmp0 (file_name, self->file_name) == 0;
  for (line = contents; line != NULL; line = next)
    {
      GMultiCookie *cookie;
      gsize length;

      next = strchr (line, '\n');
      if (next != NULL)
        *next++ = '\0';
      length = strlen (line);
      if (length > 0 && line[length - 1] == '\r')
        line[length - 1] = '\0';
      cookie = parse_line (line, now);
      if (cookie != NULL)
        gmulti_cookie_jar_store (self, cookie, now);
    }
  self->loading = was_loading;
  return TRUE;
}

/**
 * gmulti_cookie_jar_save_to_file:
 * @self: a jar
 * @file_name: (type filename): where to write
 * @error: return location for an error
 *
 * Writes every cookie of the jar, session cookies with expiry 0 as curl does, in the
 * Netscape format curl (`-b`) and wget (`--load-cookies`) read. The file is written
 * under another name and renamed over @file_name: a crash leaves the old file or the
 * new one, whole.
 *
 * Returns: %TRUE if the file was written
 *
 * Since: 0.1
 */
gboolean
gmulti_cookie_jar_save_to_file (GMultiCookieJar *self,
                                const char      *file_name,
                                GError         **error)
{
  g_autoptr (GPtrArray) cookies = NULL;
  g_autoptr (GString) out = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), FALSE);
  g_return_val_if_fail (file_name != NULL, FALSE);

  cookies = gmulti_cookie_jar_list (self, NULL);
  out = g_string_new (FILE_HEADER);
  for (guint i = 0; i < cookies->len; i++)
    {
      GMultiCookie *cookie = g_ptr_array_index (cookies, i);

      /* Cookies added by the application may hold anything: no field may break a
       * line or add one. */
      if (gmulti_cookie_is_expired (cookie, now) || !fits_a_line (cookie))
        continue;
      g_string_append_printf (out, "%s%s%s\t%s\t%s\t%s\t%" G_GINT64_FORMAT "\t%s\t%s\n",
                              cookie->http_only ? "#HttpOnly_" : "",
                              cookie->host_only ? "" : ".", cookie->domain,
                              cookie->host_only ? "FALSE" : "TRUE", cookie->path,
                              cookie->secure ? "TRUE" : "FALSE", cookie->expires,
                              cookie->name, cookie->value);
    }
  return g_file_set_contents_full (file_name, out->str, out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/**
 * gmulti_cookie_jar_save:
 * @self: a jar made with [ctor@CookieJar.new_for_file] or [ctor@CookieJar.new_for_sqlite]
 * @error: return location for an error
 *
 * Saves the jar to its file now: as [method@CookieJar.save_to_file] does, or into
 * its database, every cookie but session cookies, in one transaction. A jar without
 * a file has nothing to do.
 *
 * Returns: %TRUE if the file was written or there is none
 *
 * Since: 0.1
 */
gboolean
gmulti_cookie_jar_save (GMultiCookieJar *self,
                        GError         **error)
{
  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), FALSE);

  gmulti_idle_save_cancel (&self->save);
  if (self->file_name == NULL)
    return TRUE;
  if (self->sqlite)
    return gmulti_cookie_jar_save_sqlite (self, self->file_name, error);
  return gmulti_cookie_jar_save_to_file (self, self->file_name, error);
}
