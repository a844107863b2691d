/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-session.h"
#include "gmulti-session-private.h"
#include "gmulti-session-object-private.h"
#include "gmulti-engine-private.h"
#include "gmulti-enum-types.h"

/* The session's properties: their specifications with their documentation, and the
 * GObject get and set functions, which go through the public accessors
 * (gmulti-session-options.c, -tls.c, -content.c). */

GParamSpec *gmulti_session_properties[GMULTI_SESSION_N_PROPS];

void
gmulti_session_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  GMultiSession *self = GMULTI_SESSION (object);

  switch (prop_id)
    {
    case PROP_MAX_CONNECTIONS:
      g_value_set_uint (value, gmulti_session_get_max_connections (self));
      break;
    case PROP_MAX_HOST_CONNECTIONS:
      g_value_set_uint (value, gmulti_session_get_max_host_connections (self));
      break;
    case PROP_MAX_IDLE_CONNECTIONS:
      g_value_set_uint (value, gmulti_session_get_max_idle_connections (self));
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, self->defaults->user_agent);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->defaults->timeout_ms);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->defaults->connect_timeout_ms);
      break;
    case PROP_MAIN_LOOP_SOURCE:
      g_value_set_enum (value, gmulti_session_get_main_loop_source (self));
      break;
    case PROP_HTTP_VERSION:
      g_value_set_enum (value, self->defaults->http_version);
      break;
    case PROP_MAX_STREAMS_PER_CONNECTION:
      g_value_set_uint (value, self->defaults->max_streams_per_connection);
      break;
    case PROP_COOKIE_JAR:
      g_value_set_object (value, gmulti_session_get_cookie_jar (self));
      break;
    case PROP_HSTS_ENFORCER:
      g_value_set_object (value, gmulti_session_get_hsts_enforcer (self));
      break;
    case PROP_PROXY_RESOLVER:
      g_value_set_object (value, gmulti_session_get_proxy_resolver (self));
      break;
    case PROP_RESOLVER:
      g_value_set_object (value, gmulti_session_get_resolver (self));
      break;
    default:
      if (prop_id >= PROP_TLS_FIRST && prop_id < GMULTI_SESSION_N_PROPS)
        gmulti_tls_options_get_property (&self->defaults->tls, prop_id - PROP_TLS_FIRST,
                                         value);
      else if (gmulti_session_content_get_property (self, prop_id, value))
        ;
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

void
gmulti_session_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  GMultiSession *self = GMULTI_SESSION (object);

  switch (prop_id)
    {
    case PROP_MAX_CONNECTIONS:
      gmulti_session_set_max_connections (self, g_value_get_uint (value));
      break;
    case PROP_MAX_HOST_CONNECTIONS:
      gmulti_session_set_max_host_connections (self, g_value_get_uint (value));
      break;
    case PROP_MAX_IDLE_CONNECTIONS:
      gmulti_session_set_max_idle_connections (self, g_value_get_uint (value));
      break;
    case PROP_USER_AGENT:
      gmulti_session_store_user_agent (self, g_value_get_string (value));
      break;
    case PROP_TIMEOUT:
      gmulti_session_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_CONNECT_TIMEOUT:
      gmulti_session_set_connect_timeout (self, g_value_get_uint (value));
      break;
    case PROP_MAIN_LOOP_SOURCE:
      self->main_loop_source = g_value_get_enum (value);
      break;
    case PROP_HTTP_VERSION:
      gmulti_session_set_http_version (self, g_value_get_enum (value));
      break;
    case PROP_MAX_STREAMS_PER_CONNECTION:
      gmulti_session_set_max_streams_per_connection (self, g_value_get_uint (value));
      break;
    case PROP_COOKIE_JAR:
      gmulti_session_set_cookie_jar (self, g_value_get_object (value));
      break;
    case PROP_HSTS_ENFORCER:
      gmulti_session_set_hsts_enforcer (self, g_value_get_object (value));
      break;
    case PROP_PROXY_RESOLVER:
      gmulti_session_set_proxy_resolver (self, g_value_get_object (value));
      break;
    case PROP_RESOLVER:
      gmulti_session_set_resolver (self, g_value_get_object (value));
      break;
    default:
      if (prop_id >= PROP_TLS_FIRST && prop_id < GMULTI_SESSION_N_PROPS)
        {
          GMultiDefaults *edit = gmulti_session_edit_defaults (self);

          gmulti_session_commit_tls (self, edit,
                                     gmulti_tls_options_set_property (&edit->tls,
                                                                      prop_id - PROP_TLS_FIRST,
                                                                      value));
        }
      else if (gmulti_session_content_set_property (self, prop_id, value))
        ;
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

void
gmulti_session_install_properties (GObjectClass *object_class)
{
  /**
   * GMultiSession:max-connections: (getter get_max_connections) (setter set_max_connections)
   *
   * The most connections the session keeps open at once, in use or idle; 0 means no
   * limit. The default, 256, keeps many origins going at once well within the usual
   * limit of 1024 open files. A transfer beyond the limit gets the least recently used
   * idle connection closed for it, or waits; waiting transfers start in the order
   * they were added, as far as [property@Session:max-host-connections] allows. The
   * time they wait counts toward their timeout.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_MAX_CONNECTIONS] =
    g_param_spec_uint ("max-connections", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_MAX_CONNECTIONS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:max-host-connections: (getter get_max_host_connections) (setter set_max_host_connections)
   *
   * The most connections open at once to one origin (scheme, host and port); 0 means
   * no limit. The default, 6, is what browsers open: parallel enough for most uses,
   * and gentle with servers that do not expect more from one client. Transfers beyond
   * it wait, in order, for a connection of their origin.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_MAX_HOST_CONNECTIONS] =
    g_param_spec_uint ("max-host-connections", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_MAX_HOST_CONNECTIONS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:max-idle-connections: (getter get_max_idle_connections) (setter set_max_idle_connections)
   *
   * The most idle connections kept open for reuse; the least recently used is closed
   * first. The default, 0, keeps 16, or four per added transfer if that is more.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_MAX_IDLE_CONNECTIONS] =
    g_param_spec_uint ("max-idle-connections", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:user-agent: (getter get_user_agent)
   *
   * The `User-Agent` sent with requests that do not set their own; %NULL sends none.
   * The default is `gmulti/` followed by the library's version, as for
   * [method@Transfer.perform].
   *
   * Unlike [method@Session.set_user_agent], setting the property stores any string,
   * since a property cannot report an error. A value that cannot be sent (one with
   * CR, LF, NUL or another control character except tab) is never sent: every
   * transfer started while it is set fails with %GMULTI_ERROR_INVALID_HEADER.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_USER_AGENT] =
    g_param_spec_string ("user-agent", NULL, NULL,
                         GMULTI_DEFAULT_USER_AGENT,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:timeout: (getter get_timeout) (setter set_timeout)
   *
   * The total timeout, in milliseconds, of transfers that set no
   * [property@Transfer:timeout] of their own; 0, the default, leaves them without a
   * limit. A change applies to the runs that start after it, not to those under way;
   * the transfers' own [property@Transfer:timeout] is not changed.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:connect-timeout: (getter get_connect_timeout) (setter set_connect_timeout)
   *
   * The connect timeout, in milliseconds, of transfers that set no
   * [property@Transfer:connect-timeout] of their own; 0 means no limit. The default
   * is 30 seconds, the transfers' own default. A change applies to the runs that
   * start after it, not to those under way; the transfers' own
   * [property@Transfer:connect-timeout] is not changed.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_CONNECT_TIMEOUT] =
    g_param_spec_uint ("connect-timeout", NULL, NULL,
                       0, G_MAXUINT, GMULTI_DEFAULT_CONNECT_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:main-loop-source: (getter get_main_loop_source)
   *
   * How the session watches its sockets on its main context; set at construction.
   * The default, %GMULTI_MAIN_LOOP_SOURCE_AUTO, takes what the
   * `GMULTI_MAIN_LOOP_SOURCE` environment variable names (`epoll` or `unix-fd`; an
   * unknown value warns and is ignored), otherwise epoll where gmulti was built with
   * it and unix-fd elsewhere. Asking for epoll where it is not built gives unix-fd.
   *
   * Reading the property gives the source in use, never
   * %GMULTI_MAIN_LOOP_SOURCE_AUTO. Transfers behave the same with either; they differ
   * in the cost of a main-loop iteration with many connections.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_MAIN_LOOP_SOURCE] =
    g_param_spec_enum ("main-loop-source", NULL, NULL,
                       GMULTI_TYPE_MAIN_LOOP_SOURCE, GMULTI_MAIN_LOOP_SOURCE_AUTO,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * GMultiSession:http-version: (getter get_http_version) (setter set_http_version)
   *
   * The HTTP version of transfers whose own `GMultiTransfer:http-version` is
   * %GMULTI_HTTP_VERSION_AUTO. The default, %GMULTI_HTTP_VERSION_AUTO, takes HTTP/2
   * where a TLS server offers it and HTTP/1.1 otherwise; %GMULTI_HTTP_VERSION_HTTP_1_1
   * keeps every transfer on HTTP/1.1, %GMULTI_HTTP_VERSION_HTTP_2 fails those whose server
   * does not choose HTTP/2. A change applies to the runs that start after it, not to
   * those under way; the transfers' own property is not changed.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_HTTP_VERSION] =
    g_param_spec_enum ("http-version", NULL, NULL,
                       GMULTI_TYPE_HTTP_VERSION, GMULTI_HTTP_VERSION_AUTO,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:max-streams-per-connection: (getter get_max_streams_per_connection) (setter set_max_streams_per_connection)
   *
   * The most transfers one multiplexed (HTTP/2) connection carries at once, from 1 to
   * 1000, even when its server allows more (its `SETTINGS_MAX_CONCURRENT_STREAMS`); a
   * server that allows fewer sets the limit of its connections. Transfers beyond it
   * are not sent on that connection. The default is 100, what RFC 9113 advises a server
   * to allow at least. HTTP/1.1 connections carry one transfer at a time whatever the
   * value.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_MAX_STREAMS_PER_CONNECTION] =
    g_param_spec_uint ("max-streams-per-connection", NULL, NULL,
                       1, GMULTI_SESSION_MAX_STREAMS_LIMIT,
                       GMULTI_DEFAULT_MAX_STREAMS_PER_CONNECTION,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /* The TLS options: the same specs as the transfer's (gmulti-tls-options.c),
   * documented in gmulti-session-tls.c. */
  gmulti_tls_options_create_pspecs (gmulti_session_properties + PROP_TLS_FIRST);
  /* Content decoding and the Unix socket, documented in gmulti-session-content.c. */
  gmulti_session_install_content_properties ();
  /* The cookie jar, documented in gmulti-session-cookies.c. */
  gmulti_session_install_cookie_properties (gmulti_session_properties);
  gmulti_session_install_hsts_properties (gmulti_session_properties);
  gmulti_session_install_proxy_properties (gmulti_session_properties);
  gmulti_session_install_resolver_properties (gmulti_session_properties);

  g_object_class_install_properties (object_class, GMULTI_SESSION_N_PROPS,
                                     gmulti_session_properties);
}
