/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-cookie-jar.h"
#include "gmulti-cookie-private.h"
#include "engine/gmulti-hop-hook.h"
#include "gmulti-idle-save-private.h"

G_BEGIN_DECLS

/* What the files of the jar share: the object (gmulti-cookie-jar.c), its end of the
 * engine's hop hook (gmulti-cookie-jar-hook.c), its cookie file
 * (gmulti-cookie-file.c). */

struct _GMultiCookieJar
{
  GObject parent_instance;

  GMultiHopHook hook;            /* what sessions and transfers hand the engine */
  GHashTable *domains;           /* cookie domain -> GPtrArray of GMultiCookie, owned */
  guint n_cookies;
  GMultiCookieAcceptPolicy accept_policy;

  char *file_name;               /* saved there on change; NULL: kept in memory */
  GMultiIdleSave save;           /* the debounced save */
  gboolean loading;              /* no save while the file itself is read */
  gboolean sqlite;               /* file_name is a moz_cookies database */
};

/* Stores @cookie (taken) as received at @now: replaces the one of the same name,
 * domain and path (keeping its creation time), deletes it when @cookie is expired,
 * evicts the oldest beyond the limits; emits "changed". */
void       gmulti_cookie_jar_store    (GMultiCookieJar *self,
                                       GMultiCookie    *cookie,
                                       gint64           now);
/* The cookies for a request, in sending order (references); expired ones found on the
 * way are dropped. */
GPtrArray *gmulti_cookie_jar_collect  (GMultiCookieJar *self,
                                       const char      *host,
                                       const char      *path,
                                       gsize            path_length,
                                       gboolean         secure);
/* "name=value; name=value" of those cookies, or NULL if there are none. */
char      *gmulti_cookie_jar_header_for (GMultiCookieJar *self,
                                         const char      *host,
                                         const char      *path,
                                         gsize            path_length,
                                         gboolean         secure);
/* Whether the accept policy lets @host (lowercase) set cookies in a transfer whose
 * first party is @first_party_uri. */
gboolean   gmulti_cookie_jar_accepts  (GMultiCookieJar *self,
                                       const char      *host,
                                       const char      *first_party_uri);
/* A change to save: at once in the main context, in one go for a burst of them. */
void       gmulti_cookie_jar_schedule_save (GMultiCookieJar *self);

/* gmulti-cookie-sqlite.c: the moz_cookies database of Firefox and libsoup. */
gboolean   gmulti_cookie_jar_load_sqlite (GMultiCookieJar *self,
                                          const char      *file_name,
                                          GError         **error);
gboolean   gmulti_cookie_jar_save_sqlite (GMultiCookieJar *self,
                                          const char      *file_name,
                                          GError         **error);

/* gmulti-cookie-jar-hook.c */
void       gmulti_cookie_jar_init_hook (GMultiCookieJar *self);
/* The hook a session or transfer hands the engine (the jar's own; NULL for NULL). */
GMultiHopHook *gmulti_cookie_jar_get_hook (GMultiCookieJar *self);
GMultiCookieJar *gmulti_cookie_jar_from_hook (GMultiHopHook *hook);

G_END_DECLS
