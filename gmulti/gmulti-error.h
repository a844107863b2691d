/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib.h>
#include <gmulti/gmulti-version.h>
#include <gmulti/gmulti-enums.h>

G_BEGIN_DECLS

/**
 * GMULTI_ERROR:
 *
 * The error domain of gmulti. Errors in this domain carry a [enum@Error] code.
 *
 * Since: 0.1
 */
#define GMULTI_ERROR (gmulti_error_quark ())

GMULTI_AVAILABLE_IN_ALL
GQuark gmulti_error_quark (void);

GMULTI_AVAILABLE_IN_ALL
gboolean    gmulti_error_matches           (const GError      *error,
                                            GQuark             domain,
                                            gint               code);
GMULTI_AVAILABLE_IN_ALL
GError     *gmulti_error_to_gio            (const GError      *error);

GMULTI_AVAILABLE_IN_ALL
const char *gmulti_engine_result_to_string (GMultiEngineResult result);

G_END_DECLS
