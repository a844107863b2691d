/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib-object.h>
#include <gmulti/gmulti-version.h>

G_BEGIN_DECLS

/**
 * GMULTI_HSTS_MAX_ENTRIES:
 *
 * The most hosts a [class@HstsEnforcer] keeps from responses and files; beyond it,
 * an expired entry is evicted, else the one stored longest ago. Preloaded entries
 * are not counted and never evicted.
 *
 * Since: 0.1
 */
#define GMULTI_HSTS_MAX_ENTRIES 10000

/**
 * GMULTI_HSTS_NO_EXPIRY:
 *
 * The max-age for [method@HstsEnforcer.add_entry] of an entry that never expires
 * (saved as `unlimited`).
 *
 * Since: 0.1
 */
#define GMULTI_HSTS_NO_EXPIRY ((gint64) -1)

#define GMULTI_TYPE_HSTS_POLICY (gmulti_hsts_policy_get_type ())

/**
 * GMultiHstsPolicy:
 *
 * One known host of a [class@HstsEnforcer]: its name, whether its subdomains are
 * covered too, and when the policy expires.
 *
 * Since: 0.1
 */
typedef struct _GMultiHstsPolicy GMultiHstsPolicy;

GMULTI_AVAILABLE_IN_ALL
GType             gmulti_hsts_policy_get_type               (void) G_GNUC_CONST;
GMULTI_AVAILABLE_IN_ALL
GMultiHstsPolicy *gmulti_hsts_policy_copy                   (const GMultiHstsPolicy *self);
GMULTI_AVAILABLE_IN_ALL
void              gmulti_hsts_policy_free                   (GMultiHstsPolicy *self);
GMULTI_AVAILABLE_IN_ALL
const char       *gmulti_hsts_policy_get_host               (const GMultiHstsPolicy *self);
GMULTI_AVAILABLE_IN_ALL
gboolean          gmulti_hsts_policy_get_include_subdomains (const GMultiHstsPolicy *self);
GMULTI_AVAILABLE_IN_ALL
gint64            gmulti_hsts_policy_get_expires            (const GMultiHstsPolicy *self);
GMULTI_AVAILABLE_IN_ALL
gboolean          gmulti_hsts_policy_is_preloaded           (const GMultiHstsPolicy *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiHstsPolicy, gmulti_hsts_policy_free)

#define GMULTI_TYPE_HSTS_ENFORCER (gmulti_hsts_enforcer_get_type ())

GMULTI_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GMultiHstsEnforcer, gmulti_hsts_enforcer, GMULTI, HSTS_ENFORCER, GObject)

GMULTI_AVAILABLE_IN_ALL
GMultiHstsEnforcer *gmulti_hsts_enforcer_new            (void);
GMULTI_AVAILABLE_IN_ALL
GMultiHstsEnforcer *gmulti_hsts_enforcer_new_for_file   (const char  *file_name,
                                                         GError     **error);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_hsts_enforcer_get_file_name  (GMultiHstsEnforcer *self);

GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_hsts_enforcer_load_from_file (GMultiHstsEnforcer *self,
                                                         const char         *file_name,
                                                         guint              *n_skipped,
                                                         GError            **error);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_hsts_enforcer_save_to_file   (GMultiHstsEnforcer *self,
                                                         const char         *file_name,
                                                         GError            **error);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_hsts_enforcer_save           (GMultiHstsEnforcer *self,
                                                         GError            **error);

GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_hsts_enforcer_add_entry      (GMultiHstsEnforcer *self,
                                                         const char         *host,
                                                         gint64              max_age,
                                                         gboolean            include_subdomains);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_hsts_enforcer_preload        (GMultiHstsEnforcer *self,
                                                         const char * const *hosts);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_hsts_enforcer_remove_entry   (GMultiHstsEnforcer *self,
                                                         const char         *host);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_hsts_enforcer_clear          (GMultiHstsEnforcer *self);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_hsts_enforcer_has_valid_policy (GMultiHstsEnforcer *self,
                                                           const char         *host);
GMULTI_AVAILABLE_IN_ALL
GList              *gmulti_hsts_enforcer_list           (GMultiHstsEnforcer *self);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_hsts_enforcer_get_n_entries  (GMultiHstsEnforcer *self);

G_END_DECLS
