/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib-object.h>
#include <gmulti/gmulti-version.h>
#include <gmulti/gmulti-enums.h>
#include <gmulti/gmulti-cookie.h>

G_BEGIN_DECLS

/**
 * GMULTI_COOKIE_JAR_MAX_PER_DOMAIN:
 *
 * The most cookies a [class@CookieJar] keeps for one domain; beyond it, an expired
 * cookie of that domain is evicted, else the one set longest ago.
 *
 * Since: 0.1
 */
#define GMULTI_COOKIE_JAR_MAX_PER_DOMAIN 180

/**
 * GMULTI_COOKIE_JAR_MAX_COOKIES:
 *
 * The most cookies a [class@CookieJar] keeps in all; beyond it, an expired cookie is
 * evicted, else the one set longest ago.
 *
 * Since: 0.1
 */
#define GMULTI_COOKIE_JAR_MAX_COOKIES 3000

#define GMULTI_TYPE_COOKIE_JAR (gmulti_cookie_jar_get_type ())

GMULTI_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GMultiCookieJar, gmulti_cookie_jar, GMULTI, COOKIE_JAR, GObject)

GMULTI_AVAILABLE_IN_ALL
GMultiCookieJar *gmulti_cookie_jar_new            (void);
GMULTI_AVAILABLE_IN_ALL
GMultiCookieJar *gmulti_cookie_jar_new_for_file   (const char       *file_name,
                                                   GError          **error);
GMULTI_AVAILABLE_IN_ALL
GMultiCookieJar *gmulti_cookie_jar_new_for_sqlite (const char       *file_name,
                                                   GError          **error);
GMULTI_AVAILABLE_IN_ALL
const char      *gmulti_cookie_jar_get_file_name  (GMultiCookieJar  *self);
GMULTI_AVAILABLE_IN_ALL
gboolean         gmulti_cookie_jar_save           (GMultiCookieJar  *self,
                                                   GError          **error);
GMULTI_AVAILABLE_IN_ALL
gboolean         gmulti_cookie_jar_save_to_file   (GMultiCookieJar  *self,
                                                   const char       *file_name,
                                                   GError          **error);
GMULTI_AVAILABLE_IN_ALL
gboolean         gmulti_cookie_jar_load_from_file (GMultiCookieJar  *self,
                                                   const char       *file_name,
                                                   GError          **error);
GMULTI_AVAILABLE_IN_ALL
GMultiCookieAcceptPolicy gmulti_cookie_jar_get_accept_policy (GMultiCookieJar *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_cookie_jar_set_accept_policy (GMultiCookieJar         *self,
                                                      GMultiCookieAcceptPolicy policy);
GMULTI_AVAILABLE_IN_ALL
gboolean         gmulti_cookie_jar_set_cookie     (GMultiCookieJar  *self,
                                                   const char       *uri,
                                                   const char       *set_cookie,
                                                   const char       *first_party_uri);
GMULTI_AVAILABLE_IN_ALL
char            *gmulti_cookie_jar_get_cookie_header (GMultiCookieJar *self,
                                                      const char      *uri);
GMULTI_AVAILABLE_IN_ALL
GPtrArray       *gmulti_cookie_jar_list           (GMultiCookieJar  *self,
                                                   const char       *uri);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_cookie_jar_add            (GMultiCookieJar  *self,
                                                   GMultiCookie     *cookie);
GMULTI_AVAILABLE_IN_ALL
gboolean         gmulti_cookie_jar_delete         (GMultiCookieJar  *self,
                                                   GMultiCookie     *cookie);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_cookie_jar_clear          (GMultiCookieJar  *self);

G_END_DECLS
