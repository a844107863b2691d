/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib-object.h>
#include <gmulti/gmulti-version.h>
#include <gmulti/gmulti-enums.h>

G_BEGIN_DECLS

#define GMULTI_TYPE_METRICS (gmulti_metrics_get_type ())

/**
 * GMultiMetrics:
 *
 * Timing and size figures of one transfer. Times are in microseconds, counted from the
 * moment the transfer started (was added to an engine); a step that did not happen
 * (a reused connection needs no name lookup or connect) reads 0.
 *
 * Since: 0.1
 */
typedef struct _GMultiMetrics GMultiMetrics;

GMULTI_AVAILABLE_IN_ALL
GType          gmulti_metrics_get_type             (void) G_GNUC_CONST;
GMULTI_AVAILABLE_IN_ALL
GMultiMetrics *gmulti_metrics_copy                 (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_metrics_free                 (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_metrics_get_name_lookup_time (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_metrics_get_connect_time     (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_metrics_get_tls_time         (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_metrics_get_proxy_time       (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_metrics_get_request_sent_time (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_metrics_get_first_byte_time  (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_metrics_get_redirect_time    (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gint64         gmulti_metrics_get_total_time       (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
guint64        gmulti_metrics_get_header_bytes_sent (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
guint64        gmulti_metrics_get_body_bytes_sent  (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
guint64        gmulti_metrics_get_header_bytes_received (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
guint64        gmulti_metrics_get_body_bytes_received (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
guint64        gmulti_metrics_get_body_bytes_decoded (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_metrics_get_connection_reused (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
guint64        gmulti_metrics_get_connection_id    (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
guint          gmulti_metrics_get_redirect_count   (GMultiMetrics *self);
GMULTI_AVAILABLE_IN_ALL
GMultiHttpVersion gmulti_metrics_get_http_version  (GMultiMetrics *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiMetrics, gmulti_metrics_free)

G_END_DECLS
