/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-metrics.h"

G_BEGIN_DECLS

/* Plain data: the engine fills it in place inside the transfer, no allocation. Times are
 * microseconds since the transfer started; 0 means the step did not happen. */
struct _GMultiMetrics {
  gint64 name_lookup_time;
  gint64 connect_time;
  gint64 tls_time;
  gint64 proxy_time;            /* the connection through the proxy was ready */
  gint64 request_sent_time;
  gint64 first_byte_time;
  gint64 redirect_time;
  gint64 total_time;
  guint64 header_bytes_sent;
  guint64 body_bytes_sent;
  guint64 header_bytes_received;
  guint64 body_bytes_received;  /* as they came: before content decoding */
  guint64 body_bytes_decoded;   /* as delivered */
  guint64 connection_id;
  guint redirect_count;
  gboolean connection_reused;
  GMultiHttpVersion http_version;
};

G_END_DECLS
