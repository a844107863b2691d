/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib-object.h>
#include <gmulti/gmulti-version.h>

G_BEGIN_DECLS

#define GMULTI_TYPE_AUTH (gmulti_auth_get_type ())

GMULTI_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GMultiAuth, gmulti_auth, GMULTI, AUTH, GObject)

GMULTI_AVAILABLE_IN_ALL
const char *gmulti_auth_get_scheme_name (GMultiAuth *self);
GMULTI_AVAILABLE_IN_ALL
const char *gmulti_auth_get_realm       (GMultiAuth *self);
GMULTI_AVAILABLE_IN_ALL
const char *gmulti_auth_get_authority   (GMultiAuth *self);
GMULTI_AVAILABLE_IN_ALL
gboolean    gmulti_auth_is_for_proxy    (GMultiAuth *self);
GMULTI_AVAILABLE_IN_ALL
gboolean    gmulti_auth_is_retrying     (GMultiAuth *self);
GMULTI_AVAILABLE_IN_ALL
gboolean    gmulti_auth_is_authenticated (GMultiAuth *self);
GMULTI_AVAILABLE_IN_ALL
gboolean    gmulti_auth_is_cancelled    (GMultiAuth *self);

GMULTI_AVAILABLE_IN_ALL
void        gmulti_auth_authenticate    (GMultiAuth *self,
                                         const char *username,
                                         const char *password);
GMULTI_AVAILABLE_IN_ALL
void        gmulti_auth_cancel          (GMultiAuth *self);

G_END_DECLS
