/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-transfer-object-private.h"
#include "engine/gmulti-engine-private.h"
#include "gmulti-enum-types.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/**
 * GMultiTransfer:
 *
 * One HTTP request and its response.
 *
 * A transfer holds everything about the request (URI, method, headers, body and
 * options) and, once it ran, the response (status, headers, body, error and
 * [struct@Metrics]).
 *
 * It can be added to a [struct@Engine] or a [class@Session], or performed on its own
 * with [method@Transfer.perform]. After it completed, or was removed, it can be changed
 * and run again: each run starts with a fresh response.
 *
 * The response body is collected in memory unless [property@Transfer:collect-body] is
 * %FALSE or a [callback@WriteFunc] is set; the [signal@Transfer::data] signal sees every
 * piece either way.
 *
 * Since: 0.1
 */

G_DEFINE_FINAL_TYPE_WITH_PRIVATE (GMultiTransfer, gmulti_transfer, G_TYPE_OBJECT)

GParamSpec *gmulti_transfer_pspecs[N_PROPS];
guint gmulti_transfer_signals[N_SIGNALS];

GMultiTransferPrivate *
gmulti_transfer_get_priv (GMultiTransfer *self)
{
  return gmulti_transfer_get_instance_private (self);
}

static double
compute_progress (GMultiTransfer *self)
{
  if (self->run.bytes_expected < 0)
    return -1.0;

  if (self->run.bytes_expected == 0)
    return 1.0;

  /* Content-Length counts the coded bytes. */
  return MIN (1.0, (double) gmulti_transfer_get_wire_bytes_received (self) /
                   (double) self->run.bytes_expected);
}

/* Notifies the response properties whose values differ from what was last announced.
 * The engine writes most of these fields directly, so the comparison is the only way
 * to know what changed. */
void
gmulti_transfer_notify_response_changes (GMultiTransfer *self)
{
  GMultiTransferPrivate *priv = gmulti_transfer_get_priv (self);
  double progress;

  if (self->signals_blocked)
    return;

  if (self->run.status != priv->notified_status)
    {
      priv->notified_status = self->run.status;
      g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_STATUS]);
    }

  if (g_strcmp0 (self->run.effective_uri, priv->notified_effective_uri) != 0)
    {
      g_free (priv->notified_effective_uri);
      priv->notified_effective_uri = g_strdup (self->run.effective_uri);
      g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_EFFECTIVE_URI]);
    }

  if (self->run.bytes_expected != priv->notified_expected)
    {
      priv->notified_expected = self->run.bytes_expected;
      g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_BYTES_EXPECTED]);
    }

  if (self->run.bytes_received != priv->notified_received)
    {
      priv->notified_received = self->run.bytes_received;
      g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_BYTES_RECEIVED]);
    }

  if (self->run.bytes_sent != priv->notified_sent)
    {
      priv->notified_sent = self->run.bytes_sent;
      g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_BYTES_SENT]);
    }

  progress = compute_progress (self);
  if (progress != priv->notified_progress)
    {
      priv->notified_progress = progress;
      g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_PROGRESS]);
    }
}

/* The same for the properties, which cannot report an error. */
static gboolean
property_refused_while_running (GMultiTransfer *self,
                                GParamSpec     *pspec)
{
  if (!gmulti_transfer_is_running (self))
    return FALSE;

  g_critical ("GMultiTransfer:%s cannot change while the transfer runs", pspec->name);
  return TRUE;
}

static void
gmulti_transfer_finalize (GObject *object)
{
  GMultiTransfer *self = (GMultiTransfer *) object;
  GMultiTransferPrivate *priv = gmulti_transfer_get_priv (self);

  gmulti_run_clear (&self->run);

  gmulti_transfer_clear_read_func (self);
  if (self->write_destroy != NULL)
    self->write_destroy (self->write_data);
  g_clear_object (&self->output_stream);

  g_free (self->uri);
  g_clear_pointer (&self->parsed_uri, g_uri_unref);
  g_free (self->method);
  g_free (self->unix_socket_path);
  g_free (self->proxy_uri);
  g_clear_pointer (&self->request_headers, gmulti_headers_unref);
  g_clear_pointer (&self->request_body, g_bytes_unref);

  gmulti_run_free_response (&self->run);
  g_clear_pointer (&self->body_buffer, g_byte_array_unref);

  gmulti_tls_options_clear (&self->tls);
  gmulti_transfer_tls_clear (self);
  g_clear_object (&self->cookie_jar);
  g_clear_object (&self->hsts_enforcer);
  g_clear_object (&self->proxy_resolver);
  g_clear_object (&self->run_proxy_resolver);
  g_free (self->first_party_uri);
  gmulti_transfer_auth_clear (self);

  g_free (priv->notified_effective_uri);

  G_OBJECT_CLASS (gmulti_transfer_parent_class)->finalize (object);
}

static void
gmulti_transfer_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  GMultiTransfer *self = GMULTI_TRANSFER (object);

  switch (prop_id)
    {
    case PROP_URI:
      g_value_set_string (value, self->uri);
      break;
    case PROP_COOKIE_JAR:
      g_value_set_object (value, self->cookie_jar);
      break;
    case PROP_HSTS_ENFORCER:
      g_value_set_object (value, self->hsts_enforcer);
      break;
    case PROP_PROXY_RESOLVER:
      g_value_set_object (value, self->proxy_resolver);
      break;
    case PROP_FIRST_PARTY_URI:
      g_value_set_string (value, self->first_party_uri);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_PASSWORD:
      g_value_set_string (value, self->password);
      break;
    case PROP_BEARER_TOKEN:
      g_value_set_string (value, self->bearer_token);
      break;
    case PROP_PROXY_USERNAME:
      g_value_set_string (value, self->proxy_username);
      break;
    case PROP_PROXY_PASSWORD:
      g_value_set_string (value, self->proxy_password);
      break;
    case PROP_ALLOW_CLEARTEXT_AUTH:
      g_value_set_boolean (value, self->allow_cleartext_auth);
      break;
    case PROP_METHOD:
      g_value_set_string (value, gmulti_transfer_request_method (self));
      break;
    case PROP_FOLLOW_REDIRECTS:
      g_value_set_boolean (value, self->follow_redirects);
      break;
    case PROP_MAX_REDIRECTS:
      g_value_set_uint (value, self->max_redirects);
      break;
    case PROP_HTTP_VERSION:
      g_value_set_enum (value, self->http_version);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout_ms);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout_ms);
      break;
    case PROP_LOW_SPEED_LIMIT:
      g_value_set_uint (value, self->low_speed_limit);
      break;
    case PROP_LOW_SPEED_TIME:
      g_value_set_uint (value, self->low_speed_time);
      break;
    case PROP_COLLECT_BODY:
      g_value_set_boolean (value, self->collect_body);
      break;
    case PROP_OUTPUT_STREAM:
      g_value_set_object (value, self->output_stream);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_STATUS:
      g_value_set_uint (value, self->run.status);
      break;
    case PROP_EFFECTIVE_URI:
      g_value_set_string (value, self->run.effective_uri);
      break;
    case PROP_BYTES_RECEIVED:
      g_value_set_uint64 (value, self->run.bytes_received);
      break;
    case PROP_BYTES_EXPECTED:
      g_value_set_int64 (value, self->run.bytes_expected);
      break;
    case PROP_BYTES_SENT:
      g_value_set_uint64 (value, self->run.bytes_sent);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, compute_progress (self));
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, self->user_paused);
      break;
    case PROP_DECODE_CONTENT:
      g_value_set_boolean (value, gmulti_transfer_get_decode_content (self));
      break;
    case PROP_UNIX_SOCKET_PATH:
      g_value_set_string (value, self->unix_socket_path);
      break;
    case PROP_PROXY_URI:
      g_value_set_string (value, self->proxy_uri);
      break;
    default:
      if (prop_id >= PROP_TLS_FIRST && prop_id < N_PROPS)
        gmulti_tls_options_get_property (&self->tls, prop_id - PROP_TLS_FIRST, value);
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gmulti_transfer_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  GMultiTransfer *self = GMULTI_TRANSFER (object);

  switch (prop_id)
    {
    case PROP_URI:
      if (!property_refused_while_running (self, pspec))
        gmulti_transfer_store_uri (self, g_value_get_string (value));
      break;
    case PROP_COOKIE_JAR:
      gmulti_transfer_set_cookie_jar (self, g_value_get_object (value));
      break;
    case PROP_HSTS_ENFORCER:
      gmulti_transfer_set_hsts_enforcer (self, g_value_get_object (value));
      break;
    case PROP_PROXY_RESOLVER:
      gmulti_transfer_set_proxy_resolver (self, g_value_get_object (value));
      break;
    case PROP_FIRST_PARTY_URI:
      gmulti_transfer_set_first_party_uri (self, g_value_get_string (value));
      break;
    case PROP_USERNAME:
      gmulti_transfer_set_username (self, g_value_get_string (value));
      break;
    case PROP_PASSWORD:
      gmulti_transfer_set_password (self, g_value_get_string (value));
      break;
    case PROP_BEARER_TOKEN:
      gmulti_transfer_set_bearer_token (self, g_value_get_string (value));
      break;
    case PROP_PROXY_USERNAME:
      gmulti_transfer_set_proxy_username (self, g_value_get_string (value));
      break;
    case PROP_PROXY_PASSWORD:
      gmulti_transfer_set_proxy_password (self, g_value_get_string (value));
      break;
    case PROP_ALLOW_CLEARTEXT_AUTH:
      gmulti_transfer_set_allow_cleartext_auth (self, g_value_get_boolean (value));
      break;
    case PROP_METHOD:
      if (!property_refused_while_running (self, pspec))
        gmulti_transfer_store_method (self, g_value_get_string (value));
      break;
    case PROP_FOLLOW_REDIRECTS:
      gmulti_transfer_set_follow_redirects (self, g_value_get_boolean (value));
      break;
    case PROP_MAX_REDIRECTS:
      gmulti_transfer_set_max_redirects (self, g_value_get_uint (value));
      break;
    case PROP_HTTP_VERSION:
      gmulti_transfer_set_http_version (self, g_value_get_enum (value));
      break;
    case PROP_TIMEOUT:
      gmulti_transfer_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_CONNECT_TIMEOUT:
      gmulti_transfer_set_connect_timeout (self, g_value_get_uint (value));
      break;
    case PROP_LOW_SPEED_LIMIT:
      gmulti_transfer_set_low_speed_limit (self, g_value_get_uint (value));
      break;
    case PROP_LOW_SPEED_TIME:
      gmulti_transfer_set_low_speed_time (self, g_value_get_uint (value));
      break;
    case PROP_COLLECT_BODY:
      gmulti_transfer_set_collect_body (self, g_value_get_boolean (value));
      break;
    case PROP_OUTPUT_STREAM:
      gmulti_transfer_set_output_stream (self, g_value_get_object (value));
      break;
    case PROP_DECODE_CONTENT:
      gmulti_transfer_set_decode_content (self, g_value_get_boolean (value));
      break;
    case PROP_UNIX_SOCKET_PATH:
      gmulti_transfer_set_unix_socket_path (self, g_value_get_string (value));
      break;
    case PROP_PROXY_URI:
      gmulti_transfer_set_proxy_uri (self, g_value_get_string (value));
      break;
    default:
      if (prop_id >= PROP_TLS_FIRST && prop_id < N_PROPS)
        gmulti_transfer_tls_changed (self,
                                     gmulti_tls_options_set_property (&self->tls,
                                                                      prop_id - PROP_TLS_FIRST,
                                                                      value));
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gmulti_transfer_class_init (GMultiTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gmulti_transfer_finalize;
  object_class->get_property = gmulti_transfer_get_property;
  object_class->set_property = gmulti_transfer_set_property;

  /**
   * GMultiTransfer:uri:
   *
   * The URI to request, an absolute `http` or `https` URI.
   *
   * Unlike [method@Transfer.set_uri], setting the property stores any string: an
   * invalid URI makes the transfer fail with %GMULTI_ERROR_INVALID_URI or
   * %GMULTI_ERROR_UNSUPPORTED_SCHEME when it starts (one check for every road, run
   * when the road can report it: see the [Overview](overview.html)). Like the
   * setter, it takes effect until the transfer starts; while it runs, setting it is a
   * programming error and is ignored.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_URI] =
    g_param_spec_string ("uri", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:method:
   *
   * The request method, sent exactly as given (methods are case-sensitive).
   *
   * Unlike [method@Transfer.set_method], setting the property stores any string: an
   * invalid method makes the transfer fail with %GMULTI_ERROR_INVALID_HEADER when it
   * starts. Setting %NULL restores the default: `GET`, or `POST` for a transfer with a
   * request body. Like the setter, it takes effect until the transfer starts; while it
   * runs, setting it is a programming error and is ignored.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_METHOD] =
    g_param_spec_string ("method", NULL, NULL,
                         "GET",
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:follow-redirects: (getter get_follow_redirects) (setter set_follow_redirects)
   *
   * Whether 3xx responses with a `Location` are followed.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_FOLLOW_REDIRECTS] =
    g_param_spec_boolean ("follow-redirects", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:max-redirects: (getter get_max_redirects) (setter set_max_redirects)
   *
   * How many redirects are followed at most before the transfer fails with
   * %GMULTI_ERROR_TOO_MANY_REDIRECTS. Values above 1000 are refused with
   * %GMULTI_ERROR_INVALID_ARGUMENT when the transfer starts.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_MAX_REDIRECTS] =
    g_param_spec_uint ("max-redirects", NULL, NULL,
                       0, G_MAXUINT, GMULTI_DEFAULT_MAX_REDIRECTS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:http-version: (getter get_http_version) (setter set_http_version)
   *
   * The HTTP version the transfer asks for. %GMULTI_HTTP_VERSION_AUTO (the default)
   * takes the session's default, which is itself HTTP/2 where an https server offers
   * it and HTTP/1.1 otherwise. After a response,
   * [method@Transfer.get_http_version_used] says which version carried it.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_HTTP_VERSION] =
    g_param_spec_enum ("http-version", NULL, NULL,
                       GMULTI_TYPE_HTTP_VERSION, GMULTI_HTTP_VERSION_AUTO,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:timeout: (getter get_timeout) (setter set_timeout)
   *
   * The longest time the whole transfer may take, redirects included, in
   * milliseconds; 0 means no limit. A transfer that never set it gets the session's
   * [property@Session:timeout] for its runs in one; the property keeps reading its
   * own value.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:connect-timeout: (getter get_connect_timeout) (setter set_connect_timeout)
   *
   * The longest time establishing a connection may take, name lookup and TLS handshake
   * included, in milliseconds; 0 means no limit. A transfer that never set it gets
   * the session's [property@Session:connect-timeout] for its runs in one; the
   * property keeps reading its own value.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_CONNECT_TIMEOUT] =
    g_param_spec_uint ("connect-timeout", NULL, NULL,
                       0, G_MAXUINT, GMULTI_DEFAULT_CONNECT_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:low-speed-limit:
   *
   * The speed, in bytes per second, below which the transfer counts as stalled; 0
   * turns the check off. See [method@Transfer.set_low_speed].
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_LOW_SPEED_LIMIT] =
    g_param_spec_uint ("low-speed-limit", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:low-speed-time:
   *
   * How many seconds the transfer may stay below
   * [property@Transfer:low-speed-limit] before it fails with %GMULTI_ERROR_TOO_SLOW.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_LOW_SPEED_TIME] =
    g_param_spec_uint ("low-speed-time", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:collect-body: (getter get_collect_body) (setter set_collect_body)
   *
   * Whether the response body is kept in memory, for
   * [method@Transfer.get_response_body]. It is never kept while a
   * [callback@WriteFunc] or an [property@Transfer:output-stream] is set.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_COLLECT_BODY] =
    g_param_spec_boolean ("collect-body", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:output-stream: (getter get_output_stream) (setter set_output_stream)
   *
   * The stream the response body is written to, or %NULL. See
   * [method@Transfer.set_output_stream].
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_OUTPUT_STREAM] =
    g_param_spec_object ("output-stream", NULL, NULL,
                         G_TYPE_OUTPUT_STREAM,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:state: (getter get_state)
   *
   * Where the transfer is in its life.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       GMULTI_TYPE_TRANSFER_STATE, GMULTI_TRANSFER_IDLE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:status: (getter get_status)
   *
   * The HTTP status code of the final response, or 0 before it arrived.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_STATUS] =
    g_param_spec_uint ("status", NULL, NULL,
                       0, 999, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:effective-uri: (getter get_effective_uri)
   *
   * The URI of the current request, which differs from [property@Transfer:uri] after
   * a redirect was followed; %NULL until the transfer started.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_EFFECTIVE_URI] =
    g_param_spec_string ("effective-uri", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:bytes-received: (getter get_bytes_received)
   *
   * The number of response body bytes received so far, after undoing the codings
   * (see [method@Transfer.get_wire_bytes_received] for the coded count).
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_BYTES_RECEIVED] =
    g_param_spec_uint64 ("bytes-received", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:bytes-expected: (getter get_bytes_expected)
   *
   * The announced length of the response body (as sent: coded, for a content-coded
   * body), or -1 when it is not known.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_BYTES_EXPECTED] =
    g_param_spec_int64 ("bytes-expected", NULL, NULL,
                        -1, G_MAXINT64, -1,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:bytes-sent: (getter get_bytes_sent)
   *
   * The number of request body bytes sent so far.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_BYTES_SENT] =
    g_param_spec_uint64 ("bytes-sent", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:progress:
   *
   * The fraction of the response body received, from 0 to 1, or -1 when the body's
   * length is not known. For a content-coded body it counts the coded bytes, as
   * `Content-Length` does.
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL,
                         -1.0, 1.0, -1.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:paused:
   *
   * Whether the transfer is paused. Change it with [method@Transfer.pause] and
   * [method@Transfer.resume].
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /* The TLS options: the same specs as the session's (gmulti-tls-options.c),
   * documented in gmulti-transfer-tls.c. */
  gmulti_transfer_install_cookie_properties (gmulti_transfer_pspecs);
  gmulti_transfer_install_auth_properties (gmulti_transfer_pspecs);
  gmulti_transfer_install_hsts_properties (gmulti_transfer_pspecs);
  gmulti_transfer_install_proxy_properties (gmulti_transfer_pspecs);
  gmulti_tls_options_create_pspecs (gmulti_transfer_pspecs + PROP_TLS_FIRST);

  gmulti_transfer_install_content_properties (object_class);
  g_object_class_install_properties (object_class, N_PROPS, gmulti_transfer_pspecs);

  /**
   * GMultiTransfer::response-headers:
   * @self: the transfer
   * @status: the HTTP status code
   * @headers: (nullable): the response's header fields
   *
   * Emitted when the head of the final response arrived, before any of its body.
   * Interim (1xx) responses and redirects that are followed do not emit it.
   *
   * Since: 0.1
   */
  gmulti_transfer_signals[SIGNAL_RESPONSE_HEADERS] =
    g_signal_new ("response-headers",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_UINT,
                  GMULTI_TYPE_HEADERS | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * GMultiTransfer::data:
   * @self: the transfer
   * @chunk: the response body bytes that arrived
   *
   * Emitted for each piece of the response body, after the [callback@WriteFunc] (if
   * any) accepted it and it was collected (if collecting). The pieces are only
   * copied into a [struct@GLib.Bytes] when a handler is connected.
   *
   * Since: 0.1
   */
  gmulti_transfer_signals[SIGNAL_DATA] =
    g_signal_new ("data",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__BOXED,
                  G_TYPE_NONE, 1,
                  G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (gmulti_transfer_signals[SIGNAL_DATA],
                              G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__BOXEDv);

  /**
   * GMultiTransfer::progress:
   * @self: the transfer
   *
   * Emitted while data moves, at most ten times a second, and once more when the
   * transfer completed. Read the byte counters and [property@Transfer:progress] from
   * the handler.
   *
   * Since: 0.1
   */
  gmulti_transfer_signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__VOID,
                  G_TYPE_NONE, 0);

  /**
   * GMultiTransfer::finished:
   * @self: the transfer
   * @error: (nullable): why the transfer failed, or %NULL if it succeeded
   *
   * Emitted once when the transfer completed, successfully or not. The transfer can be
   * changed and run again from the handler on.
   *
   * Since: 0.1
   */
  gmulti_transfer_signals[SIGNAL_FINISHED] =
    g_signal_new ("finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__BOXED,
                  G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (gmulti_transfer_signals[SIGNAL_FINISHED],
                              G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__BOXEDv);

  gmulti_transfer_install_auth_signal (G_OBJECT_CLASS (klass));
  gmulti_transfer_install_tls_signal (G_OBJECT_CLASS (klass));
}

static void
gmulti_transfer_init (GMultiTransfer *self)
{
  GMultiTransferPrivate *priv = gmulti_transfer_get_priv (self);

  self->method = g_strdup ("GET");
  self->request_headers = gmulti_headers_new ();
  self->request_body_length = -1;
  self->collect_body = TRUE;
  self->connect_timeout_ms = GMULTI_DEFAULT_CONNECT_TIMEOUT_MS;
  self->max_redirects = GMULTI_DEFAULT_MAX_REDIRECTS;
  gmulti_tls_options_init (&self->tls);
  self->state = GMULTI_TRANSFER_IDLE;

  priv->notified_expected = -1;
  priv->notified_progress = -1.0;

  gmulti_run_init (&self->run, self, &gmulti_transfer_run_observer, &gmulti_transfer_run_io);
}

/**
 * gmulti_transfer_new:
 * @uri: (nullable): the URI to request
 *
 * Creates a transfer that requests @uri with `GET`.
 *
 * @uri is stored as given; if it is not a valid `http` or `https` URI the transfer
 * fails when it starts, with the error [method@Transfer.set_uri] would have returned
 * (the rule for every request field is in the [Overview](overview.html)). Pass %NULL
 * and call [method@Transfer.set_uri] to be told at once.
 *
 * Returns: (transfer full): a new transfer
 *
 * Since: 0.1
 */
GMultiTransfer *
gmulti_transfer_new (const char *uri)
{
  GMultiTransfer *self = g_object_new (GMULTI_TYPE_TRANSFER, NULL);

  /* Stored directly rather than as a construct argument: nothing can watch a
   * transfer that is not built yet, and GObject's property path (name lookup,
   * GValue copy, notify queue) would be paid again on every request. */
  if (uri != NULL)
    gmulti_transfer_store_uri (self, uri);
  return self;
}

/**
 * gmulti_transfer_get_state: (get-property state)
 * @self: a transfer
 *
 * Gets where the transfer is in its life.
 *
 * Returns: the transfer's state
 *
 * Since: 0.1
 */
GMultiTransferState
gmulti_transfer_get_state (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), GMULTI_TRANSFER_IDLE);

  return self->state;
}

/**
 * gmulti_transfer_get_error:
 * @self: a transfer
 *
 * Gets why the transfer failed.
 *
 * A transfer removed from its session or engine before it completed, or whose
 * asynchronous call was cancelled, reads %G_IO_ERROR_CANCELLED (and status 0), even
 * if part of the response had arrived.
 *
 * Returns: (transfer none) (nullable): the error, or %NULL if the transfer succeeded or
 *   has not completed
 *
 * Since: 0.1
 */
const GError *
gmulti_transfer_get_error (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->run.error;
}

/**
 * gmulti_transfer_get_gio_error:
 * @self: a transfer
 *
 * Gets why the transfer failed, in GIO's terms: [func@GMulti.Error.to_gio] of
 * [method@Transfer.get_error]. Language bindings rebuild an error from its domain,
 * code and message, which loses what gmulti knows beyond the code (whether a
 * connection was refused or the host unreachable); this call asks the transfer's
 * own error, so a Python or JavaScript caller can match, say,
 * %G_IO_ERROR_CONNECTION_REFUSED.
 *
 * Returns: (transfer full) (nullable): the error in GIO's domain where it has one,
 *   or %NULL if the transfer succeeded or has not completed
 *
 * Since: 0.1
 */
GError *
gmulti_transfer_get_gio_error (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->run.error != NULL ? gmulti_error_to_gio (self->run.error) : NULL;
}

/**
 * gmulti_transfer_get_metrics:
 * @self: a transfer
 *
 * Gets the timing and size figures of the transfer. They are updated in place while it
 * runs; use [method@Metrics.copy] to keep them.
 *
 * Returns: (transfer none): the transfer's metrics
 *
 * Since: 0.1
 */
GMultiMetrics *
gmulti_transfer_get_metrics (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return &self->run.metrics;
}

/**
 * gmulti_transfer_pause:
 * @self: a transfer
 *
 * Pauses the transfer: no more body is delivered or sent until
 * [method@Transfer.resume] is called. Timeouts keep running. It may be called from a
 * [callback@WriteFunc] or a signal handler.
 *
 * Since: 0.1
 */
/* The run is paused while the application or the library wants it. */
static void
update_run_pause (GMultiTransfer *self)
{
  gboolean paused = self->user_paused || self->n_holds > 0;

  /* Held by its authenticator: paused until it answers, then as set here. */
  if (G_UNLIKELY (self->run.hop_held))
    {
      self->run.held_paused = paused;
      return;
    }
  if (self->run.paused == paused)
    return;
  self->run.paused = paused;
  if (!paused)
    gmulti_engine_run_resumed (&self->run);
}

void
gmulti_transfer_pause (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->user_paused)
    return;

  self->user_paused = TRUE;
  update_run_pause (self);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_PAUSED]);
}

/**
 * gmulti_transfer_resume:
 * @self: a transfer
 *
 * Resumes a transfer paused with [method@Transfer.pause]. Does nothing if it is not
 * paused.
 *
 * Since: 0.1
 */
void
gmulti_transfer_resume (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (!self->user_paused)
    return;

  self->user_paused = FALSE;
  /* The engine first, so a notify handler that pauses again is seen after the wake-up. */
  update_run_pause (self);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_PAUSED]);
}

void
gmulti_transfer_hold (GMultiTransfer *self)
{
  self->n_holds++;
  update_run_pause (self);
}

void
gmulti_transfer_release (GMultiTransfer *self)
{
  g_return_if_fail (self->n_holds > 0);

  self->n_holds--;
  update_run_pause (self);
}

/**
 * gmulti_transfer_is_paused:
 * @self: a transfer
 *
 * Tells whether the transfer is paused.
 *
 * Returns: %TRUE if [method@Transfer.pause] was called and not undone
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_is_paused (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  return self->user_paused;
}

static void
clear_hop (GMultiTransfer *self)
{
  gmulti_run_clear_hop_response (&self->run);
  g_clear_pointer (&self->body_buffer, g_byte_array_unref);
  self->last_progress_us = 0;
  gmulti_transfer_rewind_request_body (self);
}

void
gmulti_transfer_reset_response (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  clear_hop (self);
  g_free (self->run.effective_uri);
  self->run.effective_uri = g_strdup (self->uri);
  memset (&self->run.metrics, 0, sizeof self->run.metrics);
  g_clear_error (&self->run.error);

  gmulti_transfer_notify_response_changes (self);
}

void
gmulti_transfer_begin_run (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  /* The add set the effective URI; the application may have changed the URI since. */
  if (g_strcmp0 (self->run.effective_uri, self->uri) != 0)
    {
      g_free (self->run.effective_uri);
      self->run.effective_uri = g_strdup (self->uri);
      gmulti_transfer_notify_response_changes (self);
    }
}

void
gmulti_transfer_cancelled (GMultiTransfer *self,
                           gboolean        never_started)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (never_started)
    {
      gmulti_transfer_reset_response (self);
      gmulti_transfer_set_state (self, GMULTI_TRANSFER_IDLE);
    }

  /* A status would read as an answer: there is none, the run was abandoned. */
  self->run.status = 0;
  g_clear_pointer (&self->run.reason, g_free);
  g_clear_error (&self->run.error);
  self->run.error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                     never_started
                                     ? _("The transfer was cancelled before it started")
                                     : _("The transfer was removed before it completed"));
  gmulti_transfer_notify_response_changes (self);
}

void
gmulti_transfer_begin_hop (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  clear_hop (self);
  gmulti_transfer_notify_response_changes (self);
}

void
gmulti_transfer_set_state (GMultiTransfer      *self,
                           GMultiTransferState  state)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->state == state)
    return;

  self->state = state;
  if (!self->signals_blocked)
    g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_STATE]);
}

void
gmulti_transfer_emit_response_headers (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->signals_blocked)
    return;

  gmulti_transfer_notify_response_changes (self);
  g_signal_emit (self, gmulti_transfer_signals[SIGNAL_RESPONSE_HEADERS], 0,
                 self->run.status, self->run.response_headers);
}


void
gmulti_transfer_complete (GMultiTransfer *self,
                          GError         *error)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  g_clear_error (&self->run.error);
  self->run.error = error;
  gmulti_transfer_set_state (self, GMULTI_TRANSFER_DONE);
  gmulti_transfer_report_progress (self, TRUE);
}

void
gmulti_transfer_emit_finished (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->signals_blocked)
    return;

  g_signal_emit (self, gmulti_transfer_signals[SIGNAL_FINISHED], 0, self->run.error);
}
