/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-transfer-object-private.h"

/* The options that shape a run: timeouts, the low-speed limit and redirects. */

void
gmulti_transfer_set_low_speed_limit (GMultiTransfer *self,
                                     guint           bytes_per_sec)
{
  if (self->low_speed_limit == bytes_per_sec)
    return;

  self->low_speed_limit = bytes_per_sec;
  gmulti_transfer_sync_run_options (self);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_LOW_SPEED_LIMIT]);
}

void
gmulti_transfer_set_low_speed_time (GMultiTransfer *self,
                                    guint           seconds)
{
  if (self->low_speed_time == seconds)
    return;

  self->low_speed_time = seconds;
  gmulti_transfer_sync_run_options (self);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_LOW_SPEED_TIME]);
}

/**
 * gmulti_transfer_set_connect_timeout: (set-property connect-timeout)
 * @self: a transfer
 * @msec: the limit in milliseconds, or 0 for none
 *
 * Sets how long establishing a connection may take, name lookup and TLS handshake
 * included. The default is 30 seconds; in a session, the session's
 * [property@Session:connect-timeout] unless the transfer sets its own, which this
 * does (0 included).
 *
 * It is read whenever the transfer opens a connection: a change takes effect until
 * the transfer starts, also after it was added, and while it runs for the connections
 * it opens later (redirects, retries).
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_connect_timeout (GMultiTransfer *self,
                                     guint           msec)
{
  gboolean changed;

  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  changed = self->connect_timeout_ms != msec;
  self->connect_timeout_set = TRUE;
  self->connect_timeout_ms = msec;
  gmulti_transfer_sync_run_options (self);
  if (!changed)
    return;

  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_CONNECT_TIMEOUT]);
}

/**
 * gmulti_transfer_get_connect_timeout: (get-property connect-timeout)
 * @self: a transfer
 *
 * Gets how long establishing a connection may take.
 *
 * Returns: the limit in milliseconds, or 0 for none
 *
 * Since: 0.1
 */
guint
gmulti_transfer_get_connect_timeout (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->connect_timeout_ms;
}

/**
 * gmulti_transfer_set_timeout: (set-property timeout)
 * @self: a transfer
 * @msec: the limit in milliseconds, or 0 for none
 *
 * Sets how long the whole transfer may take, redirects included. When it runs out the
 * transfer fails with %GMULTI_ERROR_TIMED_OUT. There is no limit by default; in a
 * session, the session's [property@Session:timeout] unless the transfer sets its own,
 * which this does (0 included).
 *
 * It is read when the transfer starts: a change takes effect until then, also after
 * the transfer was added; one made while it runs applies to its next run.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_timeout (GMultiTransfer *self,
                             guint           msec)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  self->timeout_set = TRUE;
  if (self->timeout_ms == msec)
    return;

  self->timeout_ms = msec;
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_TIMEOUT]);
}

/**
 * gmulti_transfer_get_timeout: (get-property timeout)
 * @self: a transfer
 *
 * Gets how long the whole transfer may take.
 *
 * Returns: the limit in milliseconds, or 0 for none
 *
 * Since: 0.1
 */
guint
gmulti_transfer_get_timeout (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->timeout_ms;
}

/**
 * gmulti_transfer_set_low_speed:
 * @self: a transfer
 * @bytes_per_sec: the lowest acceptable speed, or 0 to turn the check off
 * @seconds: how long the transfer may stay below @bytes_per_sec; must be above 0 when
 *   @bytes_per_sec is
 *
 * Makes the transfer fail with %GMULTI_ERROR_TOO_SLOW when it moves fewer than
 * @bytes_per_sec bytes per second for @seconds seconds in a row. Sets
 * [property@Transfer:low-speed-limit] and [property@Transfer:low-speed-time].
 *
 * A change takes effect until the transfer starts, also after it was added. While it
 * runs, the check is armed when each request begins: turning it on then applies from
 * the next request (a redirect or retry), other changes at the next check.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_low_speed (GMultiTransfer *self,
                               guint           bytes_per_sec,
                               guint           seconds)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  g_object_freeze_notify (G_OBJECT (self));
  gmulti_transfer_set_low_speed_limit (self, bytes_per_sec);
  gmulti_transfer_set_low_speed_time (self, seconds);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * gmulti_transfer_set_follow_redirects: (set-property follow-redirects)
 * @self: a transfer
 * @follow: whether to follow redirects
 *
 * Sets whether 3xx responses with a `Location` are followed, up to
 * [property@Transfer:max-redirects] times. Off by default.
 *
 * It is read when a response arrives, so a change takes effect at once, also after
 * the transfer was added and while it runs.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_follow_redirects (GMultiTransfer *self,
                                      gboolean        follow)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  follow = !!follow;
  if (self->follow_redirects == follow)
    return;

  self->follow_redirects = !!follow;
  gmulti_transfer_sync_run_options (self);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_FOLLOW_REDIRECTS]);
}

/**
 * gmulti_transfer_get_follow_redirects: (get-property follow-redirects)
 * @self: a transfer
 *
 * Gets whether redirects are followed.
 *
 * Returns: %TRUE if redirects are followed
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_get_follow_redirects (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  return self->follow_redirects;
}

/**
 * gmulti_transfer_set_max_redirects: (set-property max-redirects)
 * @self: a transfer
 * @max: the most redirects to follow, at most 1000
 *
 * Sets how many redirects are followed at most. The default is 20. Values above 1000
 * make the transfer fail with %GMULTI_ERROR_INVALID_ARGUMENT when it starts.
 *
 * It is read when a response arrives, so a change takes effect at once, also after
 * the transfer was added and while it runs.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_max_redirects (GMultiTransfer *self,
                                   guint           max)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->max_redirects == max)
    return;

  self->max_redirects = max;
  gmulti_transfer_sync_run_options (self);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_MAX_REDIRECTS]);
}

/**
 * gmulti_transfer_get_max_redirects: (get-property max-redirects)
 * @self: a transfer
 *
 * Gets how many redirects are followed at most.
 *
 * Returns: the most redirects to follow
 *
 * Since: 0.1
 */
guint
gmulti_transfer_get_max_redirects (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->max_redirects;
}

/**
 * gmulti_transfer_set_http_version: (set-property http-version)
 * @self: a transfer
 * @version: the HTTP version to ask for
 *
 * Sets the HTTP version the transfer asks for:
 *
 * - %GMULTI_HTTP_VERSION_AUTO (the default): the session's default; by default
 *   HTTP/2 where an https server chooses it in ALPN, else HTTP/1.1;
 * - %GMULTI_HTTP_VERSION_HTTP_1_1: HTTP/1.1 only, also against a server that offers HTTP/2;
 * - %GMULTI_HTTP_VERSION_HTTP_2: HTTP/2 or nothing: an https server that does not choose
 *   `h2` fails the transfer with %GMULTI_ERROR_HTTP2_REQUIRED, and so does an
 *   `http://` URI (HTTP/2 without TLS needs prior knowledge);
 * - %GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE: for `http://`, HTTP/2 from the first byte,
 *   for a server known to speak it; for `https://` the same as
 *   %GMULTI_HTTP_VERSION_HTTP_2.
 *
 * Transfers to one origin share connections only when their versions allow it. It is
 * read when the transfer starts.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_http_version (GMultiTransfer    *self,
                                  GMultiHttpVersion  version)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  g_return_if_fail (version <= GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);

  if (self->http_version == version)
    return;

  self->http_version = version;
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_HTTP_VERSION]);
}

/**
 * gmulti_transfer_get_http_version: (get-property http-version)
 * @self: a transfer
 *
 * Gets the HTTP version the transfer asks for, as set with
 * [method@Transfer.set_http_version].
 *
 * Returns: the HTTP version asked for
 *
 * Since: 0.1
 */
GMultiHttpVersion
gmulti_transfer_get_http_version (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), GMULTI_HTTP_VERSION_AUTO);

  return self->http_version;
}

/**
 * gmulti_transfer_get_http_version_used:
 * @self: a transfer
 *
 * Gets the HTTP version that carried the transfer's last exchange (after a redirect,
 * that of the last hop).
 *
 * Returns: %GMULTI_HTTP_VERSION_HTTP_1_1 or %GMULTI_HTTP_VERSION_HTTP_2, or
 *   %GMULTI_HTTP_VERSION_AUTO before a request was sent
 *
 * Since: 0.1
 */
GMultiHttpVersion
gmulti_transfer_get_http_version_used (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), GMULTI_HTTP_VERSION_AUTO);

  return self->run.http_version;
}
