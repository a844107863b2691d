/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "gmulti.h"
#include "cookies/gmulti-cookie-private.h"

/* Set-Cookie values as a jar reads them. The input is lines: the first is the request
 * URI (a fixed one when it does not parse), each other line a Set-Cookie value stored
 * from it; a line starting with '>' is a request URI to send to instead, and "~" a
 * round trip of the jar through its cookie file. Every line is also read as a
 * cookie-date.
 *
 * Nothing may crash or leak, and what is sent must be fit for a Cookie field: no
 * control character, a name before each '='; every stored cookie has a domain, a path
 * starting with '/', and a name; a cookie never matches a request its own rules would
 * refuse (Secure over http). */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define DEFAULT_URI "https://www.example.co.uk/dir/page?q"

#define CHECK(cond) \
  G_STMT_START { \
    if (!(cond)) \
      { \
        g_printerr ("check failed: %s\n", #cond); \
        abort (); \
      } \
  } G_STMT_END

static void
check_header (const char *header)
{
  if (header == NULL)
    return;
  CHECK (*header != '\0');
  for (const guchar *p = (const guchar *) header; *p != '\0'; p++)
    CHECK (*p >= 0x20 && *p != 0x7f);
}

static void
check_jar (GMultiCookieJar *jar)
{
  g_autoptr (GPtrArray) all = gmulti_cookie_jar_list (jar, NULL);

  CHECK (all->len <= GMULTI_COOKIE_JAR_MAX_COOKIES);
  for (guint i = 0; i < all->len; i++)
    {
      GMultiCookie *cookie = g_ptr_array_index (all, i);

      CHECK (*gmulti_cookie_get_name (cookie) != '\0');
      CHECK (*gmulti_cookie_get_domain (cookie) != '\0');
      CHECK (gmulti_cookie_get_path (cookie)[0] == '/');
    }
}

static void
send_to (GMultiCookieJar *jar,
         const char      *uri)
{
  g_autofree char *header = gmulti_cookie_jar_get_cookie_header (jar, uri);
  g_autoptr (GPtrArray) list = gmulti_cookie_jar_list (jar, uri);

  check_header (header);
  CHECK ((header == NULL) == (list->len == 0));
  for (guint i = 0; i < list->len; i++)
    if (gmulti_cookie_get_secure (g_ptr_array_index (list, i)))
      CHECK (g_ascii_strncasecmp (uri, "https:", 6) == 0);
}

static void
round_trip (GMultiCookieJar *jar)
{
  g_autofree char *dir = g_dir_make_tmp ("fuzz-set-cookie-XXXXXX", NULL);
  g_autofree char *path = NULL;
  g_autoptr (GMultiCookieJar) again = NULL;
  g_autoptr (GPtrArray) before = NULL, after = NULL;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, "cookies.txt", NULL);
  CHECK (gmulti_cookie_jar_save_to_file (jar, path, NULL));
  again = gmulti_cookie_jar_new ();
  CHECK (gmulti_cookie_jar_load_from_file (again, path, NULL));
  before = gmulti_cookie_jar_list (jar, NULL);
  after = gmulti_cookie_jar_list (again, NULL);
  /* Only a cookie expiring in between may be missing. */
  CHECK (after->len <= before->len);
  g_unlink (path);
  g_rmdir (dir);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto (GStrv) lines = g_strsplit (text, "\n", 64);
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GUri) parsed = NULL;
  const char *uri = DEFAULT_URI, *target;

  if (lines[0] == NULL)
    return 0;
  parsed = g_uri_parse (lines[0], G_URI_FLAGS_ENCODED, NULL);
  if (parsed != NULL && g_uri_get_host (parsed) != NULL && *g_uri_get_host (parsed) != '\0')
    uri = lines[0];
  target = uri;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gint64 when;
      GMultiCookie *cookie;

      (void) gmulti_cookie_parse_date (lines[i], strlen (lines[i]), &when);
      if (i == 0)
        continue;
      if (lines[i][0] == '>')
        {
          target = lines[i] + 1;
          send_to (jar, target);
          continue;
        }
      if (strcmp (lines[i], "~") == 0)
        {
          round_trip (jar);
          continue;
        }
      cookie = gmulti_cookie_parse (lines[i], uri);
      if (cookie != NULL)
        {
          CHECK (*gmulti_cookie_get_name (cookie) != '\0');
          CHECK (gmulti_cookie_get_path (cookie)[0] == '/');
          gmulti_cookie_unref (cookie);
        }
      gmulti_cookie_jar_set_cookie (jar, uri, lines[i], NULL);
    }
  send_to (jar, uri);
  send_to (jar, target);
  check_jar (jar);
  return 0;
}
