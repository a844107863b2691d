/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-metrics-private.h"

/* The engine fills the struct in place inside each transfer; applications only ever see
 * it through the getters below, so its layout can change without breaking them. */

G_DEFINE_BOXED_TYPE (GMultiMetrics, gmulti_metrics, gmulti_metrics_copy, gmulti_metrics_free)

/**
 * gmulti_metrics_copy:
 * @self: the metrics to copy
 *
 * Makes an independent copy of @self, for keeping figures after the transfer they
 * describe has been reused or freed.
 *
 * Returns: (transfer full): a copy of @self, to free with [method@Metrics.free]
 *
 * Since: 0.1
 */
GMultiMetrics *
gmulti_metrics_copy (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_memdup2 (self, sizeof *self);
}

/**
 * gmulti_metrics_free:
 * @self: (transfer full): metrics returned by [method@Metrics.copy]
 *
 * Frees a copy made with [method@Metrics.copy]. Never call it on the metrics returned by
 * [method@Transfer.get_metrics], which belong to the transfer.
 *
 * Since: 0.1
 */
void
gmulti_metrics_free (GMultiMetrics *self)
{
  g_free (self);
}

/**
 * gmulti_metrics_get_name_lookup_time:
 * @self: the metrics
 *
 * Gets when the host name was resolved.
 *
 * Returns: microseconds from the start of the transfer until the name lookup finished,
 *   or 0 when no lookup was needed
 *
 * Since: 0.1
 */
gint64
gmulti_metrics_get_name_lookup_time (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->name_lookup_time;
}

/**
 * gmulti_metrics_get_connect_time:
 * @self: the metrics
 *
 * Gets when the TCP connection was established.
 *
 * Returns: microseconds from the start of the transfer until the connection was
 *   established, or 0 when an existing connection was reused
 *
 * Since: 0.1
 */
gint64
gmulti_metrics_get_connect_time (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->connect_time;
}

/**
 * gmulti_metrics_get_tls_time:
 * @self: the metrics
 *
 * Gets when the TLS handshake completed.
 *
 * Returns: microseconds from the start of the transfer until the TLS handshake
 *   completed, or 0 for plain HTTP and reused connections
 *
 * Since: 0.1
 */
gint64
gmulti_metrics_get_tls_time (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->tls_time;
}

/**
 * gmulti_metrics_get_proxy_time:
 * @self: the metrics
 *
 * Gets when the way through the proxy was open: for a tunnel (`CONNECT`, SOCKS) when
 * the proxy's answer opened it, for a forwarding HTTP proxy when the connection to it
 * (with TLS to an `https://` proxy) was established.
 *
 * Returns: microseconds from the start of the transfer until the connection through
 *   the proxy was ready, or 0 without a proxy and for reused connections
 *
 * Since: 0.1
 */
gint64
gmulti_metrics_get_proxy_time (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->proxy_time;
}

/**
 * gmulti_metrics_get_request_sent_time:
 * @self: the metrics
 *
 * Gets when the last byte of the request was written to the connection.
 *
 * Returns: microseconds from the start of the transfer until the whole request was
 *   sent, or 0 if it never was
 *
 * Since: 0.1
 */
gint64
gmulti_metrics_get_request_sent_time (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->request_sent_time;
}

/**
 * gmulti_metrics_get_first_byte_time:
 * @self: the metrics
 *
 * Gets when the first byte of the response arrived.
 *
 * Returns: microseconds from the start of the transfer until the first response byte
 *   was read, or 0 if none arrived
 *
 * Since: 0.1
 */
gint64
gmulti_metrics_get_first_byte_time (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->first_byte_time;
}

/**
 * gmulti_metrics_get_redirect_time:
 * @self: the metrics
 *
 * Gets how long the followed redirects took, before the final request started.
 *
 * Returns: microseconds spent on redirects, or 0 when none was followed
 *
 * Since: 0.1
 */
gint64
gmulti_metrics_get_redirect_time (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->redirect_time;
}

/**
 * gmulti_metrics_get_total_time:
 * @self: the metrics
 *
 * Gets how long the whole transfer took, redirects included.
 *
 * Returns: microseconds from the start of the transfer until it completed, or 0 while
 *   it is running
 *
 * Since: 0.1
 */
gint64
gmulti_metrics_get_total_time (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->total_time;
}

/**
 * gmulti_metrics_get_header_bytes_sent:
 * @self: the metrics
 *
 * Gets the size of the request heads written, over all hops.
 *
 * Returns: the number of request head bytes sent
 *
 * Since: 0.1
 */
guint64
gmulti_metrics_get_header_bytes_sent (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->header_bytes_sent;
}

/**
 * gmulti_metrics_get_body_bytes_sent:
 * @self: the metrics
 *
 * Gets the number of request body bytes written, over all hops.
 *
 * Returns: the number of request body bytes sent, without chunked framing
 *
 * Since: 0.1
 */
guint64
gmulti_metrics_get_body_bytes_sent (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->body_bytes_sent;
}

/**
 * gmulti_metrics_get_header_bytes_received:
 * @self: the metrics
 *
 * Gets the size of the response heads read, interim responses and redirects included.
 *
 * Returns: the number of response head bytes received
 *
 * Since: 0.1
 */
guint64
gmulti_metrics_get_header_bytes_received (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->header_bytes_received;
}

/**
 * gmulti_metrics_get_body_bytes_received:
 * @self: the metrics
 *
 * Gets the number of response body bytes received, as they came: after removing the
 * transfer codings (chunked framing, `Transfer-Encoding: gzip`), before undoing the
 * content codings. For a body that was not content-decoded, it equals
 * [method@Metrics.get_body_bytes_decoded].
 *
 * Returns: the number of response body bytes received
 *
 * Since: 0.1
 */
guint64
gmulti_metrics_get_body_bytes_received (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->body_bytes_received;
}

/**
 * gmulti_metrics_get_body_bytes_decoded:
 * @self: the metrics
 *
 * Gets the number of response body bytes handed to the application, after undoing
 * the content codings (see [method@Transfer.set_decode_content]).
 *
 * Returns: the number of decoded response body bytes
 *
 * Since: 0.1
 */
guint64
gmulti_metrics_get_body_bytes_decoded (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->body_bytes_decoded;
}

/**
 * gmulti_metrics_get_connection_reused:
 * @self: the metrics
 *
 * Tells whether the final request went over a connection that an earlier request had
 * already used.
 *
 * Returns: %TRUE if the connection came from the pool
 *
 * Since: 0.1
 */
gboolean
gmulti_metrics_get_connection_reused (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->connection_reused;
}

/**
 * gmulti_metrics_get_connection_id:
 * @self: the metrics
 *
 * Gets the identifier of the connection that carried the final request. Identifiers
 * are unique within one engine, so equal values mean the same connection.
 *
 * Returns: the connection's identifier, or 0 if no connection was used
 *
 * Since: 0.1
 */
guint64
gmulti_metrics_get_connection_id (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->connection_id;
}

/**
 * gmulti_metrics_get_redirect_count:
 * @self: the metrics
 *
 * Gets how many redirects the transfer followed.
 *
 * Returns: the number of redirects followed
 *
 * Since: 0.1
 */
guint
gmulti_metrics_get_redirect_count (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->redirect_count;
}

/**
 * gmulti_metrics_get_http_version:
 * @self: the metrics
 *
 * Gets the HTTP version that carried the final request, as
 * [method@Transfer.get_http_version_used] does.
 *
 * Returns: %GMULTI_HTTP_VERSION_HTTP_1_1 or %GMULTI_HTTP_VERSION_HTTP_2, or
 *   %GMULTI_HTTP_VERSION_AUTO if no request was sent
 *
 * Since: 0.1
 */
GMultiHttpVersion
gmulti_metrics_get_http_version (GMultiMetrics *self)
{
  g_return_val_if_fail (self != NULL, GMULTI_HTTP_VERSION_AUTO);

  return self->http_version;
}
