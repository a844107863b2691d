/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* GMultiSession's settings: connection limits, and the defaults it hands its transfers
 * (timeouts, User-Agent, TLS options) as one GMultiDefaults value. */

#include "gmulti-session.h"
#include "gmulti-session-object-private.h"
#include "gmulti-engine-private.h"
#include "gmulti-http1-request.h"


/* The session's settings change by copy: the engine and the runs under way may hold
 * the current ones. */
GMultiDefaults *
gmulti_session_edit_defaults (GMultiSession *self)
{
  return gmulti_defaults_copy (self->defaults);
}

/* Publishes @edited when @changed, drops it otherwise. */
static gboolean
commit_defaults (GMultiSession  *self,
                 GMultiDefaults *edited,
                 gboolean        changed)
{
  if (!changed)
    {
      gmulti_defaults_unref (edited);
      return FALSE;
    }

  gmulti_defaults_unref (self->defaults);
  self->defaults = edited;
  if (self->engine != NULL)
    gmulti_engine_set_defaults (self->engine, edited);
  return TRUE;
}

void
gmulti_session_commit_defaults (GMultiSession  *self,
                                GMultiDefaults *edited)
{
  commit_defaults (self, edited, TRUE);
}

void
gmulti_session_commit_tls (GMultiSession  *self,
                           GMultiDefaults *edited,
                           guint           changed)
{
  /* Published first, so that a notify handler reads the new value. */
  if (commit_defaults (self, edited, changed != 0))
    gmulti_tls_options_notify (G_OBJECT (self), gmulti_session_properties + PROP_TLS_FIRST,
                               changed);
}

const GMultiTlsOptions *
gmulti_session_get_tls_options (GMultiSession *self)
{
  return &self->defaults->tls;
}

/**
 * gmulti_session_get_max_connections: (get-property max-connections)
 * @self: a session
 *
 * Gets the limit on open connections.
 *
 * Returns: the most connections open at once, 0 for no limit
 *
 * Since: 1.0
 */
guint
gmulti_session_get_max_connections (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), 0);

  return self->engine != NULL ? gmulti_engine_get_max_connections (self->engine) : 0;
}

/**
 * gmulti_session_set_max_connections: (set-property max-connections)
 * @self: a session
 * @max: the most connections open at once, 0 for no limit
 *
 * Limits the connections the session keeps open, in use or idle. Transfers beyond the
 * limit wait for a free connection.
 *
 * Since: 1.0
 */
void
gmulti_session_set_max_connections (GMultiSession *self,
                                    guint          max)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (self->engine == NULL || gmulti_engine_get_max_connections (self->engine) == max)
    return;

  gmulti_engine_set_max_connections (self->engine, max);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_MAX_CONNECTIONS]);
}

/**
 * gmulti_session_get_max_host_connections: (get-property max-host-connections)
 * @self: a session
 *
 * Gets the limit on open connections to one origin.
 *
 * Returns: the most connections open at once to one origin, 0 for no limit
 *
 * Since: 1.0
 */
guint
gmulti_session_get_max_host_connections (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), 0);

  return self->engine != NULL ? gmulti_engine_get_max_host_connections (self->engine) : 0;
}

/**
 * gmulti_session_set_max_host_connections: (set-property max-host-connections)
 * @self: a session
 * @max: the most connections open at once to one origin, 0 for no limit
 *
 * Limits the connections to each origin (scheme, host and port).
 *
 * Since: 1.0
 */
void
gmulti_session_set_max_host_connections (GMultiSession *self,
                                         guint          max)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (self->engine == NULL || gmulti_engine_get_max_host_connections (self->engine) == max)
    return;

  gmulti_engine_set_max_host_connections (self->engine, max);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_MAX_HOST_CONNECTIONS]);
}

/**
 * gmulti_session_get_max_idle_connections: (get-property max-idle-connections)
 * @self: a session
 *
 * Gets the limit on idle connections kept for reuse.
 *
 * Returns: the most idle connections kept, 0 for automatic
 *
 * Since: 1.0
 */
guint
gmulti_session_get_max_idle_connections (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), 0);

  return self->engine != NULL ? gmulti_engine_get_max_idle_connections (self->engine) : 0;
}

/**
 * gmulti_session_set_max_idle_connections: (set-property max-idle-connections)
 * @self: a session
 * @max: the most idle connections kept, 0 for automatic
 *
 * Limits the idle connections kept open for reuse. Automatic keeps 16, or four per
 * added transfer if that is more.
 *
 * Since: 1.0
 */
void
gmulti_session_set_max_idle_connections (GMultiSession *self,
                                         guint          max)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (self->engine == NULL || gmulti_engine_get_max_idle_connections (self->engine) == max)
    return;

  gmulti_engine_set_max_idle_connections (self->engine, max);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_MAX_IDLE_CONNECTIONS]);
}

/* Stores @user_agent as given, for the property and the setter. The engine refuses a
 * value that cannot be sent, and fails every transfer started while it is set. */
void
gmulti_session_store_user_agent (GMultiSession *self,
                                 const char    *user_agent)
{
  GMultiDefaults *edit;

  if (g_strcmp0 (self->defaults->user_agent, user_agent) == 0)
    return;

  edit = gmulti_session_edit_defaults (self);
  gmulti_defaults_set_user_agent (edit, user_agent, NULL);
  commit_defaults (self, edit, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_USER_AGENT]);
}

/**
 * gmulti_session_get_user_agent: (get-property user-agent)
 * @self: a session
 *
 * Gets the `User-Agent` sent with requests that set none.
 *
 * Returns: (nullable): the user agent, or %NULL if none is sent
 *
 * Since: 1.0
 */
const char *
gmulti_session_get_user_agent (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);

  return self->defaults->user_agent;
}

/**
 * gmulti_session_set_user_agent:
 * @self: a session
 * @user_agent: (nullable): the `User-Agent` value, or %NULL to send none
 * @error: return location for an error
 *
 * Sets the `User-Agent` sent with requests that do not set their own. It applies to
 * transfers that start from now on, including those added that have not started
 * yet; one under way keeps the value it started with, for its redirects too.
 *
 * A value that cannot be sent as a header field value (one with CR, LF, NUL or
 * another control character except tab) is refused, and the previous one is kept:
 * no default of the session can add lines to a request.
 *
 * Returns: %TRUE if the user agent was set; %FALSE with @error set to
 *   %GMULTI_ERROR_INVALID_HEADER otherwise
 *
 * Since: 1.0
 */
gboolean
gmulti_session_set_user_agent (GMultiSession  *self,
                               const char     *user_agent,
                               GError        **error)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (user_agent != NULL &&
      !gmulti_http1_check_part (GMULTI_HTTP1_PART_FIELD_VALUE, user_agent, "User-Agent",
                                error))
    return FALSE;

  gmulti_session_store_user_agent (self, user_agent);
  return TRUE;
}

/**
 * gmulti_session_get_timeout: (get-property timeout)
 * @self: a session
 *
 * Gets the total timeout given to transfers that have none.
 *
 * Returns: the timeout in milliseconds, 0 for none
 *
 * Since: 1.0
 */
guint
gmulti_session_get_timeout (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), 0);

  return self->defaults->timeout_ms;
}

/**
 * gmulti_session_set_timeout: (set-property timeout)
 * @self: a session
 * @msec: the timeout in milliseconds, 0 for none
 *
 * Sets the total timeout of transfers starting from now on that set no
 * [property@Transfer:timeout] of their own.
 *
 * Since: 1.0
 */
void
gmulti_session_set_timeout (GMultiSession *self,
                            guint          msec)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (self->defaults->timeout_ms == msec)
    return;

  edit = gmulti_session_edit_defaults (self);
  edit->timeout_ms = msec;
  commit_defaults (self, edit, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_TIMEOUT]);
}

/**
 * gmulti_session_get_connect_timeout: (get-property connect-timeout)
 * @self: a session
 *
 * Gets the connect timeout given to transfers that have none.
 *
 * Returns: the timeout in milliseconds, 0 for none
 *
 * Since: 1.0
 */
guint
gmulti_session_get_connect_timeout (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), 0);

  return self->defaults->connect_timeout_ms;
}

/**
 * gmulti_session_set_connect_timeout: (set-property connect-timeout)
 * @self: a session
 * @msec: the timeout in milliseconds, 0 for none
 *
 * Sets the connect timeout of transfers starting from now on that set no
 * [property@Transfer:connect-timeout] of their own.
 *
 * Since: 1.0
 */
void
gmulti_session_set_connect_timeout (GMultiSession *self,
                                    guint          msec)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (self->defaults->connect_timeout_ms == msec)
    return;

  edit = gmulti_session_edit_defaults (self);
  edit->connect_timeout_ms = msec;
  commit_defaults (self, edit, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_CONNECT_TIMEOUT]);
}

/**
 * gmulti_session_get_http_version: (get-property http-version)
 * @self: a session
 *
 * Gets the HTTP version given to transfers that ask for none.
 *
 * Returns: the version transfers with %GMULTI_HTTP_VERSION_AUTO use
 *
 * Since: 1.0
 */
GMultiHttpVersion
gmulti_session_get_http_version (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), GMULTI_HTTP_VERSION_AUTO);

  return self->defaults->http_version;
}

/**
 * gmulti_session_set_http_version: (set-property http-version)
 * @self: a session
 * @version: the version for transfers that ask for none
 *
 * Sets the HTTP version of transfers starting from now on whose own
 * `GMultiTransfer:http-version` is %GMULTI_HTTP_VERSION_AUTO. A run under way keeps
 * the version it started with, for its redirects too.
 *
 * Since: 1.0
 */
void
gmulti_session_set_http_version (GMultiSession    *self,
                                 GMultiHttpVersion version)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (version >= GMULTI_HTTP_VERSION_AUTO &&
                    version <= GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);

  if (self->defaults->http_version == version)
    return;

  edit = gmulti_session_edit_defaults (self);
  edit->http_version = version;
  commit_defaults (self, edit, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_HTTP_VERSION]);
}

/**
 * gmulti_session_get_max_streams_per_connection: (get-property max-streams-per-connection)
 * @self: a session
 *
 * Gets the most streams one multiplexed (HTTP/2) connection carries at once.
 *
 * Returns: the limit, from 1 to 1000
 *
 * Since: 1.0
 */
guint
gmulti_session_get_max_streams_per_connection (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), GMULTI_DEFAULT_MAX_STREAMS_PER_CONNECTION);

  return self->defaults->max_streams_per_connection;
}

/**
 * gmulti_session_set_max_streams_per_connection: (set-property max-streams-per-connection)
 * @self: a session
 * @max: the most streams on one connection, from 1 to 1000
 *
 * Limits the transfers one HTTP/2 connection carries at once, even when its server
 * allows more; a server that allows fewer sets the limit for its connections.
 * Connections opened from now on take the new limit.
 *
 * Since: 1.0
 */
void
gmulti_session_set_max_streams_per_connection (GMultiSession *self,
                                               guint          max)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (max >= 1 && max <= GMULTI_SESSION_MAX_STREAMS_LIMIT);

  if (self->defaults->max_streams_per_connection == max)
    return;

  edit = gmulti_session_edit_defaults (self);
  edit->max_streams_per_connection = max;
  commit_defaults (self, edit, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self),
                            gmulti_session_properties[PROP_MAX_STREAMS_PER_CONNECTION]);
}
