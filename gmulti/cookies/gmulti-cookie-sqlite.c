/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <sqlite3.h>

#include "gmulti-cookie-jar-private.h"
#include "gmulti-i18n-private.h"

/* The cookie database of Firefox and libsoup: a SQLite file with a moz_cookies table,
 * one row per cookie; host starts with '.' for a cookie that goes to subdomains,
 * expiry is in seconds since 1970, sameSite 0 none, 1 lax, 2 strict (Firefox's
 * values). A save replaces every row in one transaction, so a crash leaves the
 * previous set or the new one. Session cookies are not saved, as libsoup does. */

#define CREATE_TABLE \
  "CREATE TABLE IF NOT EXISTS moz_cookies (id INTEGER PRIMARY KEY, name TEXT, " \
  "value TEXT, host TEXT, path TEXT, expiry INTEGER, lastAccessed INTEGER, " \
  "isSecure INTEGER, isHttpOnly INTEGER, sameSite INTEGER)"

static gboolean
failed (sqlite3    *db,
        const char *file_name,
        GError    **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               _("Could not use the cookie database %s: %s"), file_name,
               db != NULL ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

static sqlite3 *
open_database (const char *file_name,
               GError    **error)
{
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (file_name, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK ||
      sqlite3_exec (db, CREATE_TABLE, NULL, NULL, NULL) != SQLITE_OK)
    {
      failed (db, file_name, error);
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

static GMultiCookieSameSite
same_site_from_moz (int value)
{
  switch (value)
    {
    case 0: return GMULTI_COOKIE_SAME_SITE_NONE;
    case 1: return GMULTI_COOKIE_SAME_SITE_LAX;
    case 2: return GMULTI_COOKIE_SAME_SITE_STRICT;
    default: return GMULTI_COOKIE_SAME_SITE_UNSET;
    }
}

static int
same_site_to_moz (GMultiCookieSameSite same_site)
{
  switch (same_site)
    {
    case GMULTI_COOKIE_SAME_SITE_NONE: return 0;
    case GMULTI_COOKIE_SAME_SITE_LAX: return 1;
    case GMULTI_COOKIE_SAME_SITE_STRICT: return 2;
    case GMULTI_COOKIE_SAME_SITE_UNSET:
    default: return 256;
    }
}

static gboolean
is_field (const unsigned char *text)
{
  if (text == NULL)
    return FALSE;
  for (const unsigned char *p = text; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

gboolean
gmulti_cookie_jar_load_sqlite (GMultiCookieJar *self,
                               const char      *file_name,
                               GError         **error)
{
  sqlite3 *db = open_database (file_name, error);
  sqlite3_stmt *stmt = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gboolean was_loading = self->loading;
  int rc;

  if (db == NULL)
    return FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT name, value, host, path, expiry, isSecure, "
                          "isHttpOnly, sameSite FROM moz_cookies ORDER BY id", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      failed (db, file_name, error);
      sqlite3_close (db);
      return FALSE;
    }
  self->loading = TRUE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const unsigned char *name = sqlite3_column_text (stmt, 0);
      const unsigned char *value = sqlite3_column_text (stmt, 1);
      const unsigned char *host = sqlite3_column_text (stmt, 2);
      const unsigned char *path = sqlite3_column_text (stmt, 3);
      gint64 expiry = sqlite3_column_int64 (stmt, 4);

      if (!is_field (name) || *name == '\0' || !is_field (value) || !is_field (host) ||
          *host == '\0' || !is_field (path) || path[0] != '/' || expiry <= now)
        continue;
      gmulti_cookie_jar_store (self,
                               gmulti_cookie_new_internal ((const char *) name,
                                                           (const char *) value,
                                                           (const char *) host,
                                                           (const char *) path, expiry,
                                                           sqlite3_column_int (stmt, 5) != 0,
                                                           sqlite3_column_int (stmt, 6) != 0,
                                                           same_site_from_moz (sqlite3_column_int (stmt, 7)),
                                                           host[0] != '.',
                                                           g_get_real_time ()),
                               now);
    }
  self->loading = was_loading;
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      failed (db, file_name, error);
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_close (db);
  return TRUE;
}

gboolean
gmulti_cookie_jar_save_sqlite (GMultiCookieJar *self,
                               const char      *file_name,
                               GError         **error)
{
  g_autoptr (GPtrArray) cookies = gmulti_cookie_jar_list (self, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  sqlite3 *db = open_database (file_name, error);
  sqlite3_stmt *stmt = NULL;

  if (db == NULL)
    return FALSE;
  if (sqlite3_exec (db, "BEGIN; DELETE FROM moz_cookies", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "INSERT INTO moz_cookies (name, value, host, path, expiry, "
                          "lastAccessed, isSecure, isHttpOnly, sameSite) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &stmt, NULL) != SQLITE_OK)
    goto fail;
  for (guint i = 0; i < cookies->len; i++)
    {
      GMultiCookie *cookie = g_ptr_array_index (cookies, i);
      g_autofree char *host = NULL;

      if (cookie->expires == 0 || gmulti_cookie_is_expired (cookie, now))
        continue;
      host = g_strconcat (cookie->host_only ? "" : ".", cookie->domain, NULL);
      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, cookie->name, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, cookie->value, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, host, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, cookie->path, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 5, cookie->expires);
      sqlite3_bind_int64 (stmt, 6, cookie->creation);
      sqlite3_bind_int (stmt, 7, cookie->secure);
      sqlite3_bind_int (stmt, 8, cookie->http_only);
      sqlite3_bind_int (stmt, 9, same_site_to_moz (cookie->same_site));
      if (sqlite3_step (stmt) != SQLITE_DONE)
        goto fail;
    }
  sqlite3_finalize (stmt);
  stmt = NULL;
  if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_close (db);
  return TRUE;

fail:
  failed (db, file_name, error);
  sqlite3_finalize (stmt);
  sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close (db);
  return FALSE;
}
