/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib-object.h>
#include <gmulti/gmulti-version.h>

G_BEGIN_DECLS

#define GMULTI_TYPE_HEADERS (gmulti_headers_get_type ())

/**
 * GMultiHeaders:
 *
 * An ordered list of HTTP header fields. Names compare case-insensitively, repeated
 * names are kept, and the order in which fields were added is preserved.
 *
 * Since: 0.1
 */
typedef struct _GMultiHeaders GMultiHeaders;

/**
 * GMultiHeadersForeachFunc:
 * @name: the field's name, as it was added or received
 * @value: the field's value
 * @user_data: the data passed to [method@Headers.foreach]
 *
 * Called once per header field, in order.
 *
 * Returns: %TRUE to go on, %FALSE to stop
 *
 * Since: 0.1
 */
typedef gboolean (*GMultiHeadersForeachFunc) (const char *name,
                                              const char *value,
                                              gpointer    user_data);

GMULTI_AVAILABLE_IN_ALL
GType          gmulti_headers_get_type     (void) G_GNUC_CONST;
GMULTI_AVAILABLE_IN_ALL
GMultiHeaders *gmulti_headers_new          (void);
GMULTI_AVAILABLE_IN_ALL
GMultiHeaders *gmulti_headers_ref          (GMultiHeaders *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_headers_unref        (GMultiHeaders *self);
GMULTI_AVAILABLE_IN_ALL
GMultiHeaders *gmulti_headers_copy         (GMultiHeaders *self);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_headers_append       (GMultiHeaders *self,
                                            const char    *name,
                                            const char    *value,
                                            GError       **error);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_headers_replace      (GMultiHeaders *self,
                                            const char    *name,
                                            const char    *value,
                                            GError       **error);
GMULTI_AVAILABLE_IN_ALL
guint          gmulti_headers_remove       (GMultiHeaders *self,
                                            const char    *name);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_headers_clear        (GMultiHeaders *self);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_headers_get_one      (GMultiHeaders *self,
                                            const char    *name);
GMULTI_AVAILABLE_IN_ALL
char          *gmulti_headers_get_list     (GMultiHeaders *self,
                                            const char    *name);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_headers_contains     (GMultiHeaders *self,
                                            const char    *name);
GMULTI_AVAILABLE_IN_ALL
guint          gmulti_headers_get_length   (GMultiHeaders *self);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_headers_get_name     (GMultiHeaders *self,
                                            guint          index);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_headers_get_value    (GMultiHeaders *self,
                                            guint          index);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_headers_foreach      (GMultiHeaders           *self,
                                            GMultiHeadersForeachFunc func,
                                            gpointer                 user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiHeaders, gmulti_headers_unref)

G_END_DECLS
