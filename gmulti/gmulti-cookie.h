/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib-object.h>
#include <gmulti/gmulti-version.h>
#include <gmulti/gmulti-enums.h>

G_BEGIN_DECLS

#define GMULTI_TYPE_COOKIE (gmulti_cookie_get_type ())

/**
 * GMultiCookie:
 *
 * One HTTP cookie (RFC 6265): a name and a value, the domain and path it is sent to,
 * when it expires and its flags. A cookie never changes once made; a jar replaces a
 * cookie with a new one when a server sets it again.
 *
 * Since: 0.1
 */
typedef struct _GMultiCookie GMultiCookie;

GMULTI_AVAILABLE_IN_ALL
GType          gmulti_cookie_get_type      (void) G_GNUC_CONST;
GMULTI_AVAILABLE_IN_ALL
GMultiCookie  *gmulti_cookie_new           (const char          *name,
                                            const char          *value,
                                            const char          *domain,
                                            const char          *path,
                                            gint64               expires,
                                            gboolean             secure,
                                            gboolean             http_only,
                                            GMultiCookieSameSite same_site,
                                            gboolean             host_only);
GMULTI_AVAILABLE_IN_ALL
GMultiCookie  *gmulti_cookie_parse         (const char          *set_cookie,
                                            const char          *uri);
GMULTI_AVAILABLE_IN_ALL
GMultiCookie  *gmulti_cookie_ref           (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_cookie_unref         (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_cookie_get_name      (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_cookie_get_value     (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_cookie_get_domain    (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_cookie_get_path      (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_cookie_get_expires   (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_cookie_get_secure    (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_cookie_get_http_only (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
GMultiCookieSameSite gmulti_cookie_get_same_site (GMultiCookie  *self);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_cookie_get_host_only (GMultiCookie        *self);
GMULTI_AVAILABLE_IN_ALL
char          *gmulti_cookie_to_string     (GMultiCookie        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiCookie, gmulti_cookie_unref)

G_END_DECLS
