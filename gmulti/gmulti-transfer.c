/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-transfer-private.h"
#include "gmulti-engine-private.h"
#include "gmulti-enum-types.h"
#include "gmulti-error.h"
#include "gmulti-http1-request.h"
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
 * Since: 1.0
 */

/* Values above this are refused by gmulti_transfer_validate(); a loop that long is
 * a misconfigured server, not a useful limit. */
#define MAX_REDIRECTS_LIMIT 1000
/* Do not let a server's Content-Length make us reserve more than this up front. */
#define BODY_PREALLOC_MAX (1024 * 1024)

/* File-local state the engine never reads. */
typedef struct
{
  gsize body_offset;          /* next byte of request_body to hand out */
  guint64 read_total;         /* bytes the read function supplied since its last rewind */
  gboolean read_started;      /* the read function has been called */
  GInputStream *body_stream;  /* set by set_request_body_stream (owned by read_data) */
  goffset body_stream_start;  /* where a seekable body stream starts, for a rewind */

  /* What the last notifications announced, so that only real changes are notified. */
  guint notified_status;
  char *notified_effective_uri;
  gint64 notified_expected;
  guint64 notified_received;
  guint64 notified_sent;
  double notified_progress;
} GMultiTransferPrivate;

G_DEFINE_FINAL_TYPE_WITH_PRIVATE (GMultiTransfer, gmulti_transfer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_URI,
  PROP_METHOD,
  PROP_FOLLOW_REDIRECTS,
  PROP_MAX_REDIRECTS,
  PROP_TIMEOUT,
  PROP_CONNECT_TIMEOUT,
  PROP_LOW_SPEED_LIMIT,
  PROP_LOW_SPEED_TIME,
  PROP_COLLECT_BODY,
  PROP_OUTPUT_STREAM,
  PROP_STATE,
  PROP_STATUS,
  PROP_EFFECTIVE_URI,
  PROP_BYTES_RECEIVED,
  PROP_BYTES_EXPECTED,
  PROP_BYTES_SENT,
  PROP_PROGRESS,
  PROP_PAUSED,
  PROP_TLS_VERIFY,
  PROP_TLS_CA_FILE,
  PROP_TLS_CA_DIRECTORY,
  PROP_TLS_PINNED_PUBLIC_KEY,
  PROP_TLS_CLIENT_CERTIFICATE,
  PROP_TLS_CLIENT_KEY,
  PROP_TLS_PRIORITY,
  PROP_TLS_MIN_VERSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_RESPONSE_HEADERS,
  SIGNAL_DATA,
  SIGNAL_PROGRESS,
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static inline GMultiTransferPrivate *
get_priv (GMultiTransfer *self)
{
  return gmulti_transfer_get_instance_private (self);
}

static gboolean
has_control_or_space (const char *s)
{
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    {
      if (*p <= 0x20 || *p == 0x7f)
        return TRUE;
    }

  return FALSE;
}

/* Parses an absolute http or https URI. Spaces and control characters are refused
 * before parsing because GLib would quietly percent-encode them; the host is checked
 * again after parsing because GLib decodes %-escapes in it (%0D%0A would reach the
 * Host header). */
static GUri *
parse_http_uri (const char  *uri,
                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GUri) parsed = NULL;
  const char *scheme;
  const char *host;

  if (uri == NULL || *uri == '\0')
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                           _("No URI was set"));
      return NULL;
    }

  if (has_control_or_space (uri))
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                           _("The URI contains a space or a control character"));
      return NULL;
    }

  /* ENCODED keeps the path and query exactly as escaped by the application;
   * SCHEME_NORMALIZE fills in the default port and turns an empty path into "/". */
  parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE,
                        &local_error);
  if (parsed == NULL)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                   _("Invalid URI: %s"), local_error->message);
      return NULL;
    }

  scheme = g_uri_get_scheme (parsed);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_UNSUPPORTED_SCHEME,
                   _("Unsupported URI scheme “%s”"), scheme);
      return NULL;
    }

  host = g_uri_get_host (parsed);
  if (host == NULL || *host == '\0')
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                           _("The URI has no host"));
      return NULL;
    }

  /* Host and port as the engine will check them before writing a request. The path
   * and query are kept encoded, so they hold no space or control character either. */
  if (!gmulti_http1_check_part (GMULTI_HTTP1_PART_HOST, host, NULL, error))
    return NULL;
  if (g_uri_get_port (parsed) == 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI,
                   _("Invalid port in URI “%s”"), uri);
      return NULL;
    }

  return g_steal_pointer (&parsed);
}

static gboolean
check_method (const char  *method,
              GError     **error)
{
  return gmulti_http1_check_part (GMULTI_HTTP1_PART_METHOD, method != NULL ? method : "",
                                  NULL, error);
}

static gboolean
check_header (const char  *name,
              const char  *value,
              GError     **error)
{
  return gmulti_http1_check_part (GMULTI_HTTP1_PART_FIELD_NAME, name, NULL, error) &&
         gmulti_http1_check_part (GMULTI_HTTP1_PART_FIELD_VALUE, value, name, error);
}

static double
compute_progress (GMultiTransfer *self)
{
  if (self->bytes_expected < 0)
    return -1.0;

  if (self->bytes_expected == 0)
    return 1.0;

  return MIN (1.0, (double) self->bytes_received / (double) self->bytes_expected);
}

/* Notifies the response properties whose values differ from what was last announced.
 * The engine writes most of these fields directly, so the comparison is the only way
 * to know what changed. */
static void
notify_response_changes (GMultiTransfer *self)
{
  GMultiTransferPrivate *priv = get_priv (self);
  double progress;

  if (self->signals_blocked)
    return;

  if (self->status != priv->notified_status)
    {
      priv->notified_status = self->status;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }

  if (g_strcmp0 (self->effective_uri, priv->notified_effective_uri) != 0)
    {
      g_free (priv->notified_effective_uri);
      priv->notified_effective_uri = g_strdup (self->effective_uri);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EFFECTIVE_URI]);
    }

  if (self->bytes_expected != priv->notified_expected)
    {
      priv->notified_expected = self->bytes_expected;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_EXPECTED]);
    }

  if (self->bytes_received != priv->notified_received)
    {
      priv->notified_received = self->bytes_received;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_RECEIVED]);
    }

  if (self->bytes_sent != priv->notified_sent)
    {
      priv->notified_sent = self->bytes_sent;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_SENT]);
    }

  progress = compute_progress (self);
  if (progress != priv->notified_progress)
    {
      priv->notified_progress = progress;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
    }
}

/* Stores @uri as given, for the constructor and the property: an invalid URI is
 * reported by gmulti_transfer_validate() when the transfer starts. */
static void
store_uri (GMultiTransfer *self,
           const char     *uri)
{
  if (g_strcmp0 (self->uri, uri) == 0)
    return;

  g_free (self->uri);
  self->uri = g_strdup (uri);
  g_clear_pointer (&self->parsed_uri, g_uri_unref);
  if (uri != NULL)
    self->parsed_uri = parse_http_uri (uri, NULL);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URI]);
}

/* Stores @method without checking it, for the property; see store_uri(). %NULL goes
 * back to the default (GET, or POST with a body). Notifies when the method that
 * would be sent changed. */
static void
store_method (GMultiTransfer *self,
              const char     *method)
{
  g_autofree char *before = g_strdup (gmulti_transfer_request_method (self));

  g_free (self->method);
  self->method = g_strdup (method != NULL ? method : "GET");
  self->method_set = method != NULL;

  if (strcmp (before, gmulti_transfer_request_method (self)) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METHOD]);
}

/* A body set or cleared changes the default method: notifies if it did. */
static void
notify_body_changed (GMultiTransfer *self,
                     gboolean        had_body)
{
  if (!self->method_set && had_body != gmulti_transfer_has_request_body (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METHOD]);
}

/* The request a running transfer is sending is fixed: URI, method and body are read
 * again for redirects and retries, and a body swapped while it is on the wire would
 * no longer match the Content-Length already sent. */
static gboolean
check_not_running (GMultiTransfer  *self,
                   GError         **error)
{
  if (!gmulti_transfer_is_running (self))
    return TRUE;

  g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_BUSY,
                       _("The transfer is running: its request cannot change until it "
                         "completed or was removed"));
  return FALSE;
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
set_low_speed_limit (GMultiTransfer *self,
                     guint           bytes_per_sec)
{
  if (self->low_speed_limit == bytes_per_sec)
    return;

  self->low_speed_limit = bytes_per_sec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOW_SPEED_LIMIT]);
}

static void
set_low_speed_time (GMultiTransfer *self,
                    guint           seconds)
{
  if (self->low_speed_time == seconds)
    return;

  self->low_speed_time = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOW_SPEED_TIME]);
}

/* Replaces the string option at @field and notifies @prop_id if it changed. */
static void
set_string_option (GMultiTransfer  *self,
                   char           **field,
                   const char      *value,
                   guint            prop_id)
{
  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
clear_read_func (GMultiTransfer *self)
{
  GDestroyNotify destroy = self->read_destroy;
  gpointer data = self->read_data;

  self->read_func = NULL;
  self->read_data = NULL;
  self->read_destroy = NULL;
  get_priv (self)->body_stream = NULL;

  /* Last, so that a destroy notify that looks at the transfer sees it consistent. */
  if (destroy != NULL)
    destroy (data);
}

static void
gmulti_transfer_finalize (GObject *object)
{
  GMultiTransfer *self = (GMultiTransfer *) object;
  GMultiTransferPrivate *priv = get_priv (self);

  gmulti_transfer_run_clear (&self->run);

  clear_read_func (self);
  if (self->write_destroy != NULL)
    self->write_destroy (self->write_data);
  g_clear_object (&self->output_stream);

  g_free (self->uri);
  g_clear_pointer (&self->parsed_uri, g_uri_unref);
  g_free (self->method);
  g_clear_pointer (&self->request_headers, gmulti_headers_unref);
  g_clear_pointer (&self->request_body, g_bytes_unref);

  g_free (self->reason);
  g_clear_pointer (&self->response_headers, gmulti_headers_unref);
  g_clear_pointer (&self->response_trailers, gmulti_headers_unref);
  g_clear_pointer (&self->body_buffer, g_byte_array_unref);
  g_free (self->effective_uri);
  g_clear_error (&self->error);

  g_free (self->tls_ca_file);
  g_free (self->tls_ca_directory);
  g_free (self->tls_pinned_public_key);
  g_free (self->tls_client_certificate);
  g_free (self->tls_client_key);
  g_free (self->tls_priority);

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
    case PROP_METHOD:
      g_value_set_string (value, gmulti_transfer_request_method (self));
      break;
    case PROP_FOLLOW_REDIRECTS:
      g_value_set_boolean (value, self->follow_redirects);
      break;
    case PROP_MAX_REDIRECTS:
      g_value_set_uint (value, self->max_redirects);
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
      g_value_set_uint (value, self->status);
      break;
    case PROP_EFFECTIVE_URI:
      g_value_set_string (value, self->effective_uri);
      break;
    case PROP_BYTES_RECEIVED:
      g_value_set_uint64 (value, self->bytes_received);
      break;
    case PROP_BYTES_EXPECTED:
      g_value_set_int64 (value, self->bytes_expected);
      break;
    case PROP_BYTES_SENT:
      g_value_set_uint64 (value, self->bytes_sent);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, compute_progress (self));
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, self->paused);
      break;
    case PROP_TLS_VERIFY:
      g_value_set_boolean (value, self->tls_verify);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, self->tls_ca_file);
      break;
    case PROP_TLS_CA_DIRECTORY:
      g_value_set_string (value, self->tls_ca_directory);
      break;
    case PROP_TLS_PINNED_PUBLIC_KEY:
      g_value_set_string (value, self->tls_pinned_public_key);
      break;
    case PROP_TLS_CLIENT_CERTIFICATE:
      g_value_set_string (value, self->tls_client_certificate);
      break;
    case PROP_TLS_CLIENT_KEY:
      g_value_set_string (value, self->tls_client_key);
      break;
    case PROP_TLS_PRIORITY:
      g_value_set_string (value, self->tls_priority);
      break;
    case PROP_TLS_MIN_VERSION:
      g_value_set_enum (value, self->tls_min_version);
      break;
    default:
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
        store_uri (self, g_value_get_string (value));
      break;
    case PROP_METHOD:
      if (!property_refused_while_running (self, pspec))
        store_method (self, g_value_get_string (value));
      break;
    case PROP_FOLLOW_REDIRECTS:
      gmulti_transfer_set_follow_redirects (self, g_value_get_boolean (value));
      break;
    case PROP_MAX_REDIRECTS:
      gmulti_transfer_set_max_redirects (self, g_value_get_uint (value));
      break;
    case PROP_TIMEOUT:
      gmulti_transfer_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_CONNECT_TIMEOUT:
      gmulti_transfer_set_connect_timeout (self, g_value_get_uint (value));
      break;
    case PROP_LOW_SPEED_LIMIT:
      set_low_speed_limit (self, g_value_get_uint (value));
      break;
    case PROP_LOW_SPEED_TIME:
      set_low_speed_time (self, g_value_get_uint (value));
      break;
    case PROP_COLLECT_BODY:
      gmulti_transfer_set_collect_body (self, g_value_get_boolean (value));
      break;
    case PROP_OUTPUT_STREAM:
      gmulti_transfer_set_output_stream (self, g_value_get_object (value));
      break;
    case PROP_TLS_VERIFY:
      gmulti_transfer_set_tls_verify (self, g_value_get_boolean (value));
      break;
    case PROP_TLS_CA_FILE:
      gmulti_transfer_set_tls_ca_file (self, g_value_get_string (value));
      break;
    case PROP_TLS_CA_DIRECTORY:
      gmulti_transfer_set_tls_ca_directory (self, g_value_get_string (value));
      break;
    case PROP_TLS_PINNED_PUBLIC_KEY:
      gmulti_transfer_set_tls_pinned_public_key (self, g_value_get_string (value));
      break;
    case PROP_TLS_PRIORITY:
      gmulti_transfer_set_tls_priority (self, g_value_get_string (value));
      break;
    case PROP_TLS_MIN_VERSION:
      gmulti_transfer_set_tls_min_version (self, g_value_get_enum (value));
      break;
    default:
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
   * %GMULTI_ERROR_UNSUPPORTED_SCHEME when it starts. Like the setter, it takes effect
   * until the transfer starts; while it runs, setting it is a programming error and
   * is ignored.
   *
   * Since: 1.0
   */
  properties[PROP_URI] =
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
   * Since: 1.0
   */
  properties[PROP_METHOD] =
    g_param_spec_string ("method", NULL, NULL,
                         "GET",
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:follow-redirects: (getter get_follow_redirects) (setter set_follow_redirects)
   *
   * Whether 3xx responses with a `Location` are followed.
   *
   * Since: 1.0
   */
  properties[PROP_FOLLOW_REDIRECTS] =
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
   * Since: 1.0
   */
  properties[PROP_MAX_REDIRECTS] =
    g_param_spec_uint ("max-redirects", NULL, NULL,
                       0, G_MAXUINT, GMULTI_DEFAULT_MAX_REDIRECTS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:timeout: (getter get_timeout) (setter set_timeout)
   *
   * The longest time the whole transfer may take, redirects included, in
   * milliseconds; 0 means no limit. A transfer that never set it gets the session's
   * [property@Session:timeout] while added to one.
   *
   * Since: 1.0
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:connect-timeout: (getter get_connect_timeout) (setter set_connect_timeout)
   *
   * The longest time establishing a connection may take, name lookup and TLS handshake
   * included, in milliseconds; 0 means no limit. A transfer that never set it gets
   * the session's [property@Session:connect-timeout] while added to one.
   *
   * Since: 1.0
   */
  properties[PROP_CONNECT_TIMEOUT] =
    g_param_spec_uint ("connect-timeout", NULL, NULL,
                       0, G_MAXUINT, GMULTI_DEFAULT_CONNECT_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:low-speed-limit:
   *
   * The speed, in bytes per second, below which the transfer counts as stalled; 0
   * turns the check off. See [method@Transfer.set_low_speed].
   *
   * Since: 1.0
   */
  properties[PROP_LOW_SPEED_LIMIT] =
    g_param_spec_uint ("low-speed-limit", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:low-speed-time:
   *
   * How many seconds the transfer may stay below
   * [property@Transfer:low-speed-limit] before it fails with %GMULTI_ERROR_TOO_SLOW.
   *
   * Since: 1.0
   */
  properties[PROP_LOW_SPEED_TIME] =
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
   * Since: 1.0
   */
  properties[PROP_COLLECT_BODY] =
    g_param_spec_boolean ("collect-body", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:output-stream: (getter get_output_stream) (setter set_output_stream)
   *
   * The stream the response body is written to, or %NULL. See
   * [method@Transfer.set_output_stream].
   *
   * Since: 1.0
   */
  properties[PROP_OUTPUT_STREAM] =
    g_param_spec_object ("output-stream", NULL, NULL,
                         G_TYPE_OUTPUT_STREAM,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:state: (getter get_state)
   *
   * Where the transfer is in its life.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       GMULTI_TYPE_TRANSFER_STATE, GMULTI_TRANSFER_IDLE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:status: (getter get_status)
   *
   * The HTTP status code of the final response, or 0 before it arrived.
   *
   * Since: 1.0
   */
  properties[PROP_STATUS] =
    g_param_spec_uint ("status", NULL, NULL,
                       0, 999, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:effective-uri: (getter get_effective_uri)
   *
   * The URI of the current request, which differs from [property@Transfer:uri] after
   * a redirect was followed; %NULL until the transfer started.
   *
   * Since: 1.0
   */
  properties[PROP_EFFECTIVE_URI] =
    g_param_spec_string ("effective-uri", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:bytes-received: (getter get_bytes_received)
   *
   * The number of response body bytes received so far.
   *
   * Since: 1.0
   */
  properties[PROP_BYTES_RECEIVED] =
    g_param_spec_uint64 ("bytes-received", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:bytes-expected: (getter get_bytes_expected)
   *
   * The announced length of the response body, or -1 when it is not known.
   *
   * Since: 1.0
   */
  properties[PROP_BYTES_EXPECTED] =
    g_param_spec_int64 ("bytes-expected", NULL, NULL,
                        -1, G_MAXINT64, -1,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:bytes-sent: (getter get_bytes_sent)
   *
   * The number of request body bytes sent so far.
   *
   * Since: 1.0
   */
  properties[PROP_BYTES_SENT] =
    g_param_spec_uint64 ("bytes-sent", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:progress:
   *
   * The fraction of the response body received, from 0 to 1, or -1 when the body's
   * length is not known.
   *
   * Since: 1.0
   */
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL,
                         -1.0, 1.0, -1.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:paused:
   *
   * Whether the transfer is paused. Change it with [method@Transfer.pause] and
   * [method@Transfer.resume].
   *
   * Since: 1.0
   */
  properties[PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:tls-verify: (getter get_tls_verify) (setter set_tls_verify)
   *
   * Whether the server's certificate is verified for `https` URIs: its chain must
   * lead to a trusted certificate authority, be valid now, and name the host.
   *
   * Turning it off is dangerous: anyone on the path can then read and change the
   * traffic. See [method@Transfer.set_tls_verify].
   *
   * Since: 1.0
   */
  properties[PROP_TLS_VERIFY] =
    g_param_spec_boolean ("tls-verify", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:tls-ca-file: (getter get_tls_ca_file) (setter set_tls_ca_file)
   *
   * A PEM file of trusted certificate authorities that replaces the system's trust
   * store, or %NULL for the system's.
   *
   * Since: 1.0
   */
  properties[PROP_TLS_CA_FILE] =
    g_param_spec_string ("tls-ca-file", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:tls-ca-directory: (getter get_tls_ca_directory) (setter set_tls_ca_directory)
   *
   * A directory of PEM files of trusted certificate authorities that replaces the
   * system's trust store, or %NULL for the system's.
   *
   * Since: 1.0
   */
  properties[PROP_TLS_CA_DIRECTORY] =
    g_param_spec_string ("tls-ca-directory", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:tls-pinned-public-key: (getter get_tls_pinned_public_key) (setter set_tls_pinned_public_key)
   *
   * The public keys the server's certificate must have, as
   * `sha256//` followed by the base64 SHA-256 digest of the DER SubjectPublicKeyInfo,
   * several joined with `;`; %NULL for no pinning.
   *
   * Since: 1.0
   */
  properties[PROP_TLS_PINNED_PUBLIC_KEY] =
    g_param_spec_string ("tls-pinned-public-key", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:tls-client-certificate: (getter get_tls_client_certificate)
   *
   * A PEM file with the certificate (and, unless [property@Transfer:tls-client-key] is
   * set, the private key) presented when a server asks for one; %NULL for none. Set it
   * with [method@Transfer.set_tls_client_certificate].
   *
   * Since: 1.0
   */
  properties[PROP_TLS_CLIENT_CERTIFICATE] =
    g_param_spec_string ("tls-client-certificate", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:tls-client-key: (getter get_tls_client_key)
   *
   * A PEM file with the private key of [property@Transfer:tls-client-certificate],
   * or %NULL when the key is in the certificate's file. Set it with
   * [method@Transfer.set_tls_client_certificate].
   *
   * Since: 1.0
   */
  properties[PROP_TLS_CLIENT_KEY] =
    g_param_spec_string ("tls-client-key", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:tls-priority: (getter get_tls_priority) (setter set_tls_priority)
   *
   * A GnuTLS priority string choosing the protocol versions, ciphers and key
   * exchanges, or %NULL for the default (see
   * [method@GMulti.Transfer.set_tls_priority]).
   *
   * Since: 1.0
   */
  properties[PROP_TLS_PRIORITY] =
    g_param_spec_string ("tls-priority", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:tls-min-version: (getter get_tls_min_version) (setter set_tls_min_version)
   *
   * The oldest TLS protocol version accepted.
   *
   * Since: 1.0
   */
  properties[PROP_TLS_MIN_VERSION] =
    g_param_spec_enum ("tls-min-version", NULL, NULL,
                       GMULTI_TYPE_TLS_VERSION, GMULTI_TLS_VERSION_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GMultiTransfer::response-headers:
   * @self: the transfer
   * @status: the HTTP status code
   * @headers: (nullable): the response's header fields
   *
   * Emitted when the head of the final response arrived, before any of its body.
   * Interim (1xx) responses and redirects that are followed do not emit it.
   *
   * Since: 1.0
   */
  signals[SIGNAL_RESPONSE_HEADERS] =
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
   * Since: 1.0
   */
  signals[SIGNAL_DATA] =
    g_signal_new ("data",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__BOXED,
                  G_TYPE_NONE, 1,
                  G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[SIGNAL_DATA],
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
   * Since: 1.0
   */
  signals[SIGNAL_PROGRESS] =
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
   * Since: 1.0
   */
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__BOXED,
                  G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[SIGNAL_FINISHED],
                              G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__BOXEDv);
}

static void
gmulti_transfer_init (GMultiTransfer *self)
{
  GMultiTransferPrivate *priv = get_priv (self);

  self->method = g_strdup ("GET");
  self->request_headers = gmulti_headers_new ();
  self->request_body_length = -1;
  self->collect_body = TRUE;
  self->connect_timeout_ms = GMULTI_DEFAULT_CONNECT_TIMEOUT_MS;
  self->max_redirects = GMULTI_DEFAULT_MAX_REDIRECTS;
  self->tls_verify = TRUE;
  self->bytes_expected = -1;
  self->state = GMULTI_TRANSFER_IDLE;

  priv->notified_expected = -1;
  priv->notified_progress = -1.0;

  gmulti_transfer_run_init (&self->run);
}

/**
 * gmulti_transfer_new:
 * @uri: (nullable): the URI to request
 *
 * Creates a transfer that requests @uri with `GET`.
 *
 * @uri is stored as given; if it is not a valid `http` or `https` URI the transfer
 * fails when it starts. Use [method@Transfer.set_uri] to be told at once.
 *
 * Returns: (transfer full): a new transfer
 *
 * Since: 1.0
 */
GMultiTransfer *
gmulti_transfer_new (const char *uri)
{
  return g_object_new (GMULTI_TYPE_TRANSFER, "uri", uri, NULL);
}

/**
 * gmulti_transfer_set_uri:
 * @self: a transfer
 * @uri: an absolute `http` or `https` URI
 *
 * Sets the URI to request.
 *
 * The path and query are sent as given, so reserved characters in them must already be
 * percent-encoded. URIs with spaces or control characters, without a host, with a host
 * or port that cannot be sent, or with another scheme are refused, and the previous
 * URI is kept.
 *
 * The URI can be changed until the transfer starts, also after it was added to a
 * session or an engine: the first request goes to the URI set last. While the
 * transfer runs it is refused with %GMULTI_ERROR_BUSY.
 *
 * Returns: %TRUE if @uri was accepted; %FALSE with @error set to
 *   %GMULTI_ERROR_INVALID_URI, %GMULTI_ERROR_UNSUPPORTED_SCHEME or %GMULTI_ERROR_BUSY
 *   otherwise
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_set_uri (GMultiTransfer  *self,
                         const char      *uri,
                         GError         **error)
{
  GUri *parsed;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_not_running (self, error))
    return FALSE;

  parsed = parse_http_uri (uri, error);
  if (parsed == NULL)
    return FALSE;

  g_clear_pointer (&self->parsed_uri, g_uri_unref);
  self->parsed_uri = parsed;

  if (g_strcmp0 (self->uri, uri) != 0)
    {
      g_free (self->uri);
      self->uri = g_strdup (uri);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URI]);
    }

  return TRUE;
}

/**
 * gmulti_transfer_get_uri:
 * @self: a transfer
 *
 * Gets the URI to request, as it was set.
 *
 * Returns: (nullable): the URI, or %NULL if none was set
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_uri (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->uri;
}

/**
 * gmulti_transfer_get_effective_uri:
 * @self: a transfer
 *
 * Gets the URI of the current request: the one set, or the target of the last
 * redirect followed.
 *
 * Returns: (nullable): the effective URI, or %NULL before the transfer started
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_effective_uri (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->effective_uri;
}

/**
 * gmulti_transfer_set_method:
 * @self: a transfer
 * @method: the request method, such as `GET`, `POST` or `PROPFIND`
 *
 * Sets the request method. It is sent exactly as given: methods are case-sensitive,
 * so `get` is not `GET`.
 *
 * Without a method set, a transfer sends `GET`, or `POST` when it has a request body
 * (as curl does). The method can be changed until the transfer starts, also after it
 * was added; while it runs it is refused with %GMULTI_ERROR_BUSY.
 *
 * Returns: %TRUE if @method was set; otherwise the previous method is kept and @error
 *   is set to %GMULTI_ERROR_INVALID_HEADER (not a valid token) or %GMULTI_ERROR_BUSY
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_set_method (GMultiTransfer  *self,
                            const char      *method,
                            GError         **error)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);
  g_return_val_if_fail (method != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_not_running (self, error) || !check_method (method, error))
    return FALSE;

  store_method (self, method);

  return TRUE;
}

/**
 * gmulti_transfer_get_method:
 * @self: a transfer
 *
 * Gets the request method, as it will be sent.
 *
 * Returns: the method set; without one, `POST` if a request body is set and `GET`
 *   otherwise
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_method (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return gmulti_transfer_request_method (self);
}

/**
 * gmulti_transfer_get_request_headers:
 * @self: a transfer
 *
 * Gets the header fields sent with the request, to change them in place.
 *
 * [struct@Headers] refuses names and values that cannot be sent, as
 * [method@Transfer.add_request_header] does. A `Host` field replaces the one gmulti
 * would send; `Content-Length` and `Transfer-Encoding` are ignored, since gmulti frames
 * the body itself.
 *
 * The fields are read each time a request is written: changes take effect for the
 * next request, also after the transfer was added, and while it runs for the requests
 * of redirects and retries that follow.
 *
 * Returns: (transfer none): the request headers
 *
 * Since: 1.0
 */
GMultiHeaders *
gmulti_transfer_get_request_headers (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->request_headers;
}

/**
 * gmulti_transfer_add_request_header:
 * @self: a transfer
 * @name: the field name
 * @value: the field value
 *
 * Appends a header field to the request, after checking that @name is a valid token
 * and @value has no CR, LF, NUL or other control character except tab. Like any change
 * of [method@Transfer.get_request_headers], it takes effect for the next request
 * written, redirects and retries included.
 *
 * Returns: %TRUE if the field was added; otherwise @error is set to
 *   %GMULTI_ERROR_INVALID_HEADER
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_add_request_header (GMultiTransfer  *self,
                                    const char      *name,
                                    const char      *value,
                                    GError         **error)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_header (name, value, error))
    return FALSE;

  return gmulti_headers_append (self->request_headers, name, value, error);
}

/**
 * gmulti_transfer_set_request_body:
 * @self: a transfer
 * @body: (nullable): the request body, or %NULL for none
 *
 * Sets the request body, sent with a `Content-Length`. It replaces a
 * [callback@ReadFunc] set before. The body is sent again from its first byte when a
 * redirect keeps the method. A transfer whose method was never set sends its body
 * with `POST` (see [method@Transfer.set_method]).
 *
 * The body can be changed until the transfer starts, also after it was added; while
 * it runs it is refused, since part of it may already be on the wire.
 *
 * Returns: %TRUE if the body was set, %FALSE if the transfer is running
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_set_request_body (GMultiTransfer *self,
                                  GBytes         *body)
{
  GMultiTransferPrivate *priv;
  gboolean had_body;
  GBytes *old;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  if (gmulti_transfer_is_running (self))
    return FALSE;

  priv = get_priv (self);
  had_body = gmulti_transfer_has_request_body (self);

  /* Take the new reference first: @body may be the current one. */
  old = self->request_body;
  self->request_body = body != NULL ? g_bytes_ref (body) : NULL;
  self->request_body_length = body != NULL ? (gint64) g_bytes_get_size (body) : -1;
  priv->body_offset = 0;
  priv->read_total = 0;
  priv->read_started = FALSE;
  g_clear_pointer (&old, g_bytes_unref);

  clear_read_func (self);
  notify_body_changed (self, had_body);
  return TRUE;
}

/**
 * gmulti_transfer_set_request_body_func:
 * @self: a transfer
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy): the function
 *   that supplies the body, or %NULL for no body
 * @length: the body's length in bytes, or -1 if not known (it is then sent with chunked
 *   encoding)
 * @user_data: data for @func
 * @destroy: (nullable): called with @user_data when @func is no longer needed
 *
 * Sets a function that supplies the request body piece by piece while it is sent. It
 * replaces a body set with [method@Transfer.set_request_body].
 *
 * If @length is given, @func must supply exactly that many bytes. A body from a
 * function cannot be sent twice, so redirects that keep the method fail with
 * %GMULTI_ERROR_BAD_REDIRECT once it has been read. A transfer whose method was never
 * set sends its body with `POST`.
 *
 * The function can be changed until the transfer starts, also after it was added;
 * while it runs it is refused (and @destroy, if any, is called at once).
 *
 * Returns: %TRUE if the function was set, %FALSE if the transfer is running
 *
 * Language bindings see [method@Transfer.set_request_body_bytes_func] under this
 * name.
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_set_request_body_func (GMultiTransfer *self,
                                       GMultiReadFunc  func,
                                       gint64          length,
                                       gpointer        user_data,
                                       GDestroyNotify  destroy)
{
  GMultiTransferPrivate *priv;
  GDestroyNotify old_destroy;
  gboolean had_body;
  gpointer old_data;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);
  g_return_val_if_fail (length >= -1, FALSE);

  if (gmulti_transfer_is_running (self))
    {
      if (func != NULL && destroy != NULL)
        destroy (user_data);
      return FALSE;
    }

  priv = get_priv (self);
  had_body = gmulti_transfer_has_request_body (self);

  g_clear_pointer (&self->request_body, g_bytes_unref);

  old_destroy = self->read_destroy;
  old_data = self->read_data;

  self->read_func = func;
  self->read_data = func != NULL ? user_data : NULL;
  self->read_destroy = func != NULL ? destroy : NULL;
  self->request_body_length = func != NULL ? length : -1;
  priv->body_offset = 0;
  priv->read_total = 0;
  priv->read_started = FALSE;
  priv->body_stream = NULL;
  priv->body_stream_start = -1;

  if (old_destroy != NULL)
    old_destroy (old_data);
  notify_body_changed (self, had_body);
  return TRUE;
}

static gssize
read_body_stream_cb (GMultiTransfer *transfer,
                     guint8         *buffer,
                     gsize           length,
                     gpointer        user_data,
                     GError        **error)
{
  return g_input_stream_read (G_INPUT_STREAM (user_data), buffer, length, NULL, error);
}

/**
 * gmulti_transfer_set_request_body_stream:
 * @self: a transfer
 * @stream: (nullable): the stream to read the request body from, or %NULL for no body
 * @length: the body's length in bytes, or -1 if not known (it is then sent with chunked
 *   encoding)
 *
 * Sets a stream that supplies the request body while it is sent. It replaces a body
 * set before.
 *
 * The stream is read with plain, blocking [method@Gio.InputStream.read] calls from
 * inside the engine, so it must be one that never waits for long: a memory stream or
 * a local file's stream. Data that arrives from the network should be supplied with
 * [method@Transfer.set_request_body_func] instead. A seekable stream is sent again
 * from its starting position when a redirect keeps the method, or when a request is
 * retried; another stream cannot be sent twice. A transfer whose method was never set
 * sends its body with `POST`.
 *
 * The stream can be changed until the transfer starts, also after it was added; while
 * it runs it is refused.
 *
 * Returns: %TRUE if the stream was set, %FALSE if the transfer is running
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_set_request_body_stream (GMultiTransfer *self,
                                         GInputStream   *stream,
                                         gint64          length)
{
  GMultiTransferPrivate *priv;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);
  g_return_val_if_fail (stream == NULL || G_IS_INPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (length >= -1, FALSE);

  if (stream == NULL)
    return gmulti_transfer_set_request_body_func (self, NULL, -1, NULL, NULL);

  if (!gmulti_transfer_set_request_body_func (self, read_body_stream_cb, length,
                                              g_object_ref (stream), g_object_unref))
    return FALSE;
  priv = get_priv (self);
  priv->body_stream = stream;
  priv->body_stream_start = G_IS_SEEKABLE (stream) && g_seekable_can_seek (G_SEEKABLE (stream))
                            ? g_seekable_tell (G_SEEKABLE (stream)) : -1;
  return TRUE;
}

/**
 * gmulti_transfer_set_write_func:
 * @self: a transfer
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy): the function
 *   that receives the body, or %NULL to collect it again
 * @user_data: data for @func
 * @destroy: (nullable): called with @user_data when @func is no longer needed
 *
 * Sets a function that receives the response body as it arrives. While it is set, the
 * body is not collected in memory, whatever [property@Transfer:collect-body] says.
 * Setting a function removes the [property@Transfer:output-stream].
 *
 * Setting another function, or %NULL, calls the previous @destroy.
 *
 * The function can be changed at any time, also while the transfer runs: the next
 * body bytes go to the new one.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_write_func (GMultiTransfer  *self,
                                GMultiWriteFunc  func,
                                gpointer         user_data,
                                GDestroyNotify   destroy)
{
  GDestroyNotify old_destroy;
  gpointer old_data;

  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  old_destroy = self->write_destroy;
  old_data = self->write_data;

  self->write_func = func;
  self->write_data = func != NULL ? user_data : NULL;
  self->write_destroy = func != NULL ? destroy : NULL;
  if (func != NULL)
    gmulti_transfer_set_output_stream (self, NULL);

  if (old_destroy != NULL)
    old_destroy (old_data);
}

/**
 * gmulti_transfer_set_output_stream: (set-property output-stream)
 * @self: a transfer
 * @stream: (nullable): where the response body goes, or %NULL
 *
 * Sends the response body to @stream as it arrives, instead of to a write function or
 * into memory. The transfer keeps a reference to @stream and never closes it; the
 * stream must stay open until the transfer is done, and closing it earlier fails the
 * transfer. Another stream may be set while the body arrives (from a signal handler,
 * say): the rest of the body goes there.
 *
 * Writes are synchronous, from the thread that runs the transfer: use a stream that
 * does not block for long, such as a local file (g_file_replace()), a pipe or a
 * memory stream, and start no other operation on it meanwhile. If a write fails, the
 * transfer fails with %GMULTI_ERROR_OUTPUT_FAILED; whatever was written stays
 * written.
 *
 * Only the final response's body is written, whatever its status; the bodies of
 * redirects that are followed are not.
 *
 * When @stream has a file descriptor on a regular file or a device, open for
 * blocking, non-appending writes (a #GFileOutputStream of a local file, a
 * #GUnixOutputStream), the body of an `http` response is moved from the socket to the
 * file by the kernel, without being copied through the process (splice(2), on Linux).
 * Those bytes are written to the descriptor directly, not through the stream's own
 * write method. [signal@Transfer::data] is still emitted if a handler is connected:
 * the bytes then take the copying path.
 *
 * Setting an output stream removes the write function, and setting a write function
 * removes the output stream. [method@Session.send_stream_async] and
 * [method@Session.download_async] set sinks of their own and replace it.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_output_stream (GMultiTransfer *self,
                                   GOutputStream  *stream)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  g_return_if_fail (stream == NULL || G_IS_OUTPUT_STREAM (stream));

  if (stream == self->output_stream)
    return;
  if (stream != NULL)
    gmulti_transfer_set_write_func (self, NULL, NULL, NULL);
  g_set_object (&self->output_stream, stream);
  self->output_stream_serial++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTPUT_STREAM]);
}

/**
 * gmulti_transfer_get_output_stream: (get-property output-stream)
 * @self: a transfer
 *
 * Gets the stream the response body is written to.
 *
 * Returns: (nullable) (transfer none): the output stream, or %NULL
 *
 * Since: 1.0
 */
GOutputStream *
gmulti_transfer_get_output_stream (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->output_stream;
}

/**
 * gmulti_transfer_set_collect_body: (set-property collect-body)
 * @self: a transfer
 * @collect: whether to keep the response body in memory
 *
 * Sets whether the response body is kept in memory for
 * [method@Transfer.get_response_body]. Turn it off for large bodies handled in
 * [signal@Transfer::data].
 *
 * It can be changed at any time, also while the transfer runs: it applies to the next
 * body bytes.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_collect_body (GMultiTransfer *self,
                                  gboolean        collect)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  collect = !!collect;
  if (self->collect_body == collect)
    return;

  self->collect_body = collect;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLLECT_BODY]);
}

/**
 * gmulti_transfer_get_collect_body: (get-property collect-body)
 * @self: a transfer
 *
 * Gets whether the response body is kept in memory.
 *
 * Returns: %TRUE if the body is collected (the default)
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_get_collect_body (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  return self->collect_body;
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
 * Since: 1.0
 */
void
gmulti_transfer_set_connect_timeout (GMultiTransfer *self,
                                     guint           msec)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  self->connect_timeout_set = TRUE;
  if (self->connect_timeout_ms == msec)
    return;

  self->connect_timeout_ms = msec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECT_TIMEOUT]);
}

/**
 * gmulti_transfer_get_connect_timeout: (get-property connect-timeout)
 * @self: a transfer
 *
 * Gets how long establishing a connection may take.
 *
 * Returns: the limit in milliseconds, or 0 for none
 *
 * Since: 1.0
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
 * Since: 1.0
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/**
 * gmulti_transfer_get_timeout: (get-property timeout)
 * @self: a transfer
 *
 * Gets how long the whole transfer may take.
 *
 * Returns: the limit in milliseconds, or 0 for none
 *
 * Since: 1.0
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
 * Since: 1.0
 */
void
gmulti_transfer_set_low_speed (GMultiTransfer *self,
                               guint           bytes_per_sec,
                               guint           seconds)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  g_object_freeze_notify (G_OBJECT (self));
  set_low_speed_limit (self, bytes_per_sec);
  set_low_speed_time (self, seconds);
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
 * Since: 1.0
 */
void
gmulti_transfer_set_follow_redirects (GMultiTransfer *self,
                                      gboolean        follow)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  follow = !!follow;
  if (self->follow_redirects == follow)
    return;

  self->follow_redirects = follow;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW_REDIRECTS]);
}

/**
 * gmulti_transfer_get_follow_redirects: (get-property follow-redirects)
 * @self: a transfer
 *
 * Gets whether redirects are followed.
 *
 * Returns: %TRUE if redirects are followed
 *
 * Since: 1.0
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
 * Since: 1.0
 */
void
gmulti_transfer_set_max_redirects (GMultiTransfer *self,
                                   guint           max)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->max_redirects == max)
    return;

  self->max_redirects = max;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_REDIRECTS]);
}

/**
 * gmulti_transfer_get_max_redirects: (get-property max-redirects)
 * @self: a transfer
 *
 * Gets how many redirects are followed at most.
 *
 * Returns: the most redirects to follow
 *
 * Since: 1.0
 */
guint
gmulti_transfer_get_max_redirects (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->max_redirects;
}

/**
 * gmulti_transfer_set_tls_verify: (set-property tls-verify)
 * @self: a transfer
 * @verify: whether to verify the server's certificate
 *
 * Sets whether the server's certificate is verified for `https` URIs. It is by
 * default: the chain must lead to a trusted certificate authority (see
 * [method@Transfer.set_tls_ca_file]), every certificate must be valid now, and the
 * server's certificate must name the host of the URI. A failure makes the transfer
 * fail with %GMULTI_ERROR_TLS_UNTRUSTED, %GMULTI_ERROR_TLS_HOSTNAME_MISMATCH,
 * %GMULTI_ERROR_TLS_EXPIRED or %GMULTI_ERROR_TLS_NOT_YET_VALID.
 *
 * Turning verification off is dangerous: the transfer then talks to whoever answers,
 * and anyone on the path can read and change the traffic. Use it only for tests or
 * with [method@Transfer.set_tls_pinned_public_key], which is checked either way.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_tls_verify (GMultiTransfer *self,
                                gboolean        verify)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  verify = !!verify;
  if (self->tls_verify == verify)
    return;

  self->tls_verify = verify;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_VERIFY]);
}

/**
 * gmulti_transfer_get_tls_verify: (get-property tls-verify)
 * @self: a transfer
 *
 * Gets whether the server's certificate is verified.
 *
 * Returns: %TRUE if it is (the default)
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_get_tls_verify (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), TRUE);

  return self->tls_verify;
}

/**
 * gmulti_transfer_set_tls_ca_file: (set-property tls-ca-file)
 * @self: a transfer
 * @path: (nullable) (type filename): a PEM file of certificate authorities, or %NULL
 *
 * Sets the certificate authorities the server's chain must lead to. When a file or a
 * directory (see [method@Transfer.set_tls_ca_directory]) is set, the system's trust
 * store is not used. A file that cannot be loaded, or holds no certificate, makes
 * `https` transfers fail with %GMULTI_ERROR_TLS_BAD_CERTIFICATE.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_tls_ca_file (GMultiTransfer *self,
                                 const char     *path)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  set_string_option (self, &self->tls_ca_file, path, PROP_TLS_CA_FILE);
}

/**
 * gmulti_transfer_get_tls_ca_file: (get-property tls-ca-file)
 * @self: a transfer
 *
 * Gets the file of trusted certificate authorities.
 *
 * Returns: (nullable) (type filename): the path, or %NULL if none was set
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_tls_ca_file (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls_ca_file;
}

/**
 * gmulti_transfer_set_tls_ca_directory: (set-property tls-ca-directory)
 * @self: a transfer
 * @path: (nullable) (type filename): a directory of PEM files, or %NULL
 *
 * Sets a directory whose PEM files hold the certificate authorities the server's
 * chain must lead to, in addition to [property@Transfer:tls-ca-file]. When either is
 * set, the system's trust store is not used.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_tls_ca_directory (GMultiTransfer *self,
                                      const char     *path)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  set_string_option (self, &self->tls_ca_directory, path, PROP_TLS_CA_DIRECTORY);
}

/**
 * gmulti_transfer_get_tls_ca_directory: (get-property tls-ca-directory)
 * @self: a transfer
 *
 * Gets the directory of trusted certificate authorities.
 *
 * Returns: (nullable) (type filename): the path, or %NULL if none was set
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_tls_ca_directory (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls_ca_directory;
}

/**
 * gmulti_transfer_set_tls_pinned_public_key: (set-property tls-pinned-public-key)
 * @self: a transfer
 * @pins: (nullable): the accepted keys, or %NULL to pin none
 *
 * Pins the server's public key: the transfer fails with
 * %GMULTI_ERROR_TLS_PIN_MISMATCH unless the public key of the server's certificate
 * is one of @pins. Each pin is `sha256//` followed by the base64 SHA-256 digest of the
 * DER-encoded SubjectPublicKeyInfo (the format curl uses); several are joined with
 * `;`. One can be computed with
 * `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`.
 *
 * The pin is checked even when [property@Transfer:tls-verify] is %FALSE. A malformed
 * value makes `https` transfers fail with %GMULTI_ERROR_INVALID_ARGUMENT.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_tls_pinned_public_key (GMultiTransfer *self,
                                           const char     *pins)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  set_string_option (self, &self->tls_pinned_public_key, pins,
                     PROP_TLS_PINNED_PUBLIC_KEY);
}

/**
 * gmulti_transfer_get_tls_pinned_public_key: (get-property tls-pinned-public-key)
 * @self: a transfer
 *
 * Gets the pinned public keys.
 *
 * Returns: (nullable): the pins as set, or %NULL if none were
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_tls_pinned_public_key (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls_pinned_public_key;
}

/**
 * gmulti_transfer_set_tls_client_certificate:
 * @self: a transfer
 * @cert_path: (nullable) (type filename): a PEM file with the client certificate
 *   (and its chain), or %NULL for none
 * @key_path: (nullable) (type filename): a PEM file with its private key, or %NULL
 *   when the key is in @cert_path
 *
 * Sets the certificate presented to servers that ask for one. A file that cannot be
 * loaded, or a key that does not belong to the certificate, makes `https` transfers
 * fail with %GMULTI_ERROR_TLS_BAD_CERTIFICATE. A server that requires a certificate
 * and gets none, or refuses this one, makes the transfer fail with
 * %GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_tls_client_certificate (GMultiTransfer *self,
                                            const char     *cert_path,
                                            const char     *key_path)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  g_object_freeze_notify (G_OBJECT (self));
  set_string_option (self, &self->tls_client_certificate, cert_path,
                     PROP_TLS_CLIENT_CERTIFICATE);
  set_string_option (self, &self->tls_client_key, cert_path != NULL ? key_path : NULL,
                     PROP_TLS_CLIENT_KEY);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * gmulti_transfer_get_tls_client_certificate: (get-property tls-client-certificate)
 * @self: a transfer
 *
 * Gets the file of the client certificate.
 *
 * Returns: (nullable) (type filename): the path, or %NULL if none was set
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_tls_client_certificate (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls_client_certificate;
}

/**
 * gmulti_transfer_get_tls_client_key: (get-property tls-client-key)
 * @self: a transfer
 *
 * Gets the file of the client certificate's private key.
 *
 * Returns: (nullable) (type filename): the path, or %NULL when the key is in the
 *   certificate's file or no certificate was set
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_tls_client_key (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls_client_key;
}

/**
 * gmulti_transfer_set_tls_priority: (set-property tls-priority)
 * @self: a transfer
 * @priority: (nullable): a GnuTLS priority string, or %NULL for the default
 *
 * Sets the GnuTLS priority string that chooses the protocol versions, ciphers and
 * key exchanges offered, such as `NORMAL:-VERS-TLS1.2`. See the GnuTLS manual for
 * the syntax. An invalid string makes `https` transfers fail with
 * %GMULTI_ERROR_INVALID_ARGUMENT.
 *
 * Versions older than [property@Transfer:tls-min-version] (TLS 1.2 by default) are
 * removed from the string, as RFC 8996 asks: a string can leave out newer versions,
 * but only a lower minimum version allows TLS 1.0 or 1.1. A string left with no
 * version fails with %GMULTI_ERROR_INVALID_ARGUMENT.
 *
 * The default is GnuTLS's `NORMAL` with the same ciphers in another order:
 * AES-128-GCM first, then AES-256-GCM and ChaCha20-Poly1305 (ChaCha20-Poly1305
 * first on x86 processors without AES instructions), the order browsers offer.
 * AES-128-GCM decrypts bulk data faster than AES-256-GCM; pass `NORMAL` for
 * GnuTLS's own order, which puts AES-256-GCM first.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_tls_priority (GMultiTransfer *self,
                                  const char     *priority)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  set_string_option (self, &self->tls_priority, priority, PROP_TLS_PRIORITY);
}

/**
 * gmulti_transfer_get_tls_priority: (get-property tls-priority)
 * @self: a transfer
 *
 * Gets the GnuTLS priority string.
 *
 * Returns: (nullable): the priority string, or %NULL for the default
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_tls_priority (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->tls_priority;
}

/**
 * gmulti_transfer_set_tls_min_version: (set-property tls-min-version)
 * @self: a transfer
 * @version: the oldest protocol version to accept
 *
 * Sets the oldest TLS protocol version accepted, on top of what
 * [property@Transfer:tls-priority] allows. The default,
 * %GMULTI_TLS_VERSION_DEFAULT, is TLS 1.2 (or the session's minimum for transfers
 * added to a [class@Session]); TLS 1.0 and 1.1 are deprecated (RFC 8996) and only
 * offered when this is lowered to them.
 *
 * Like every TLS option, it is read when the transfer's first `https` request is
 * prepared: a change takes effect until the transfer starts, also after it was added;
 * one made while it runs applies to its next run.
 *
 * Since: 1.0
 */
void
gmulti_transfer_set_tls_min_version (GMultiTransfer   *self,
                                     GMultiTlsVersion  version)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  g_return_if_fail (version >= GMULTI_TLS_VERSION_DEFAULT &&
                    version <= GMULTI_TLS_VERSION_TLS_1_3);

  if (self->tls_min_version == version)
    return;

  self->tls_min_version = version;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_MIN_VERSION]);
}

/**
 * gmulti_transfer_get_tls_min_version: (get-property tls-min-version)
 * @self: a transfer
 *
 * Gets the oldest TLS protocol version accepted.
 *
 * Returns: the version; %GMULTI_TLS_VERSION_DEFAULT unless another was set
 *
 * Since: 1.0
 */
GMultiTlsVersion
gmulti_transfer_get_tls_min_version (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), GMULTI_TLS_VERSION_DEFAULT);

  return self->tls_min_version;
}

/**
 * gmulti_transfer_get_state: (get-property state)
 * @self: a transfer
 *
 * Gets where the transfer is in its life.
 *
 * Returns: the transfer's state
 *
 * Since: 1.0
 */
GMultiTransferState
gmulti_transfer_get_state (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), GMULTI_TRANSFER_IDLE);

  return self->state;
}

/**
 * gmulti_transfer_get_status: (get-property status)
 * @self: a transfer
 *
 * Gets the HTTP status code of the final response.
 *
 * Returns: the status code, or 0 before the response head arrived and for a transfer
 *   removed or cancelled before it completed (see [method@Transfer.get_error])
 *
 * Since: 1.0
 */
guint
gmulti_transfer_get_status (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->status;
}

/**
 * gmulti_transfer_get_reason_phrase:
 * @self: a transfer
 *
 * Gets the reason phrase of the final response's status line, such as `Not Found`.
 * Servers may send any text, or none.
 *
 * Returns: (nullable): the reason phrase, or %NULL before the response head arrived
 *
 * Since: 1.0
 */
const char *
gmulti_transfer_get_reason_phrase (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->reason;
}

/**
 * gmulti_transfer_get_response_headers:
 * @self: a transfer
 *
 * Gets the header fields of the final response.
 *
 * Returns: (transfer none) (nullable): the response headers, or %NULL before they
 *   arrived
 *
 * Since: 1.0
 */
GMultiHeaders *
gmulti_transfer_get_response_headers (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->response_headers;
}

/**
 * gmulti_transfer_get_response_trailers:
 * @self: a transfer
 *
 * Gets the trailer fields sent after a chunked response body.
 *
 * Returns: (transfer none) (nullable): the trailers, or %NULL if the response had none
 *
 * Since: 1.0
 */
GMultiHeaders *
gmulti_transfer_get_response_trailers (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->response_trailers;
}

/**
 * gmulti_transfer_get_response_body:
 * @self: a transfer
 *
 * Gets a copy of the response body collected so far.
 *
 * Returns: (transfer full) (nullable): the body (empty if nothing arrived yet), or
 *   %NULL when the body is not collected (see [property@Transfer:collect-body])
 *
 * Since: 1.0
 */
GBytes *
gmulti_transfer_get_response_body (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  if (self->body_buffer != NULL)
    return g_bytes_new (self->body_buffer->data, self->body_buffer->len);

  if (self->collect_body && self->write_func == NULL && self->output_stream == NULL)
    return g_bytes_new (NULL, 0);

  return NULL;
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
 * Since: 1.0
 */
const GError *
gmulti_transfer_get_error (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->error;
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
 * Since: 1.0
 */
GMultiMetrics *
gmulti_transfer_get_metrics (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return &self->metrics;
}

/**
 * gmulti_transfer_get_bytes_received: (get-property bytes-received)
 * @self: a transfer
 *
 * Gets the number of response body bytes received so far, after removing chunked
 * framing.
 *
 * Returns: the number of body bytes received
 *
 * Since: 1.0
 */
guint64
gmulti_transfer_get_bytes_received (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->bytes_received;
}

/**
 * gmulti_transfer_get_bytes_expected: (get-property bytes-expected)
 * @self: a transfer
 *
 * Gets the announced length of the response body.
 *
 * Returns: the `Content-Length` of the response, or -1 when it is not known
 *
 * Since: 1.0
 */
gint64
gmulti_transfer_get_bytes_expected (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), -1);

  return self->bytes_expected;
}

/**
 * gmulti_transfer_get_bytes_sent: (get-property bytes-sent)
 * @self: a transfer
 *
 * Gets the number of request body bytes sent so far.
 *
 * Returns: the number of body bytes sent
 *
 * Since: 1.0
 */
guint64
gmulti_transfer_get_bytes_sent (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->bytes_sent;
}

/**
 * gmulti_transfer_get_upload_size:
 * @self: a transfer
 *
 * Gets the length of the request body.
 *
 * Returns: the body's length in bytes, or -1 if there is no body or its length is
 *   not known
 *
 * Since: 1.0
 */
gint64
gmulti_transfer_get_upload_size (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), -1);

  if (self->request_body != NULL)
    return (gint64) g_bytes_get_size (self->request_body);

  if (self->read_func != NULL)
    return self->request_body_length;

  return -1;
}

/**
 * gmulti_transfer_pause:
 * @self: a transfer
 *
 * Pauses the transfer: no more body is delivered or sent until
 * [method@Transfer.resume] is called. Timeouts keep running. It may be called from a
 * [callback@WriteFunc] or a signal handler.
 *
 * Since: 1.0
 */
void
gmulti_transfer_pause (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->paused)
    return;

  self->paused = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

/**
 * gmulti_transfer_resume:
 * @self: a transfer
 *
 * Resumes a transfer paused with [method@Transfer.pause]. Does nothing if it is not
 * paused.
 *
 * Since: 1.0
 */
void
gmulti_transfer_resume (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (!self->paused)
    return;

  self->paused = FALSE;
  /* The engine first, so a notify handler that pauses again is seen after the wake-up. */
  gmulti_engine_transfer_resumed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

/**
 * gmulti_transfer_is_paused:
 * @self: a transfer
 *
 * Tells whether the transfer is paused.
 *
 * Returns: %TRUE if [method@Transfer.pause] was called and not undone
 *
 * Since: 1.0
 */
gboolean
gmulti_transfer_is_paused (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  return self->paused;
}

/* Internal API for the engine and the session. */

gboolean
gmulti_transfer_validate (GMultiTransfer  *self,
                          GError         **error)
{
  guint n_headers;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  if (self->parsed_uri == NULL)
    {
      self->parsed_uri = parse_http_uri (self->uri, error);
      if (self->parsed_uri == NULL)
        return FALSE;
    }

  if (!check_method (gmulti_transfer_request_method (self), error))
    return FALSE;

  /* Fields appended with add_request_header() were checked already, but the
   * application can reach the headers object directly. */
  n_headers = gmulti_headers_get_length (self->request_headers);
  for (guint i = 0; i < n_headers; i++)
    {
      if (!check_header (gmulti_headers_get_name (self->request_headers, i),
                         gmulti_headers_get_value (self->request_headers, i),
                         error))
        return FALSE;
    }

  if (self->low_speed_limit > 0 && self->low_speed_time == 0)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT,
                           _("A low-speed limit needs a low-speed time above zero"));
      return FALSE;
    }

  if (self->max_redirects > MAX_REDIRECTS_LIMIT)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT,
                   _("At most %u redirects can be allowed"), (guint) MAX_REDIRECTS_LIMIT);
      return FALSE;
    }

  return TRUE;
}

static void
clear_hop (GMultiTransfer *self)
{
  self->status = 0;
  g_clear_pointer (&self->reason, g_free);
  g_clear_pointer (&self->response_headers, gmulti_headers_unref);
  g_clear_pointer (&self->response_trailers, gmulti_headers_unref);
  g_clear_pointer (&self->body_buffer, g_byte_array_unref);
  self->bytes_expected = -1;
  self->bytes_received = 0;
  self->bytes_sent = 0;
  self->last_progress_us = 0;
  gmulti_transfer_rewind_request_body (self);
}

void
gmulti_transfer_reset_response (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  clear_hop (self);
  g_free (self->effective_uri);
  self->effective_uri = g_strdup (self->uri);
  memset (&self->metrics, 0, sizeof self->metrics);
  g_clear_error (&self->error);

  notify_response_changes (self);
}

void
gmulti_transfer_begin_run (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  /* The add set the effective URI; the application may have changed the URI since. */
  if (g_strcmp0 (self->effective_uri, self->uri) != 0)
    {
      g_free (self->effective_uri);
      self->effective_uri = g_strdup (self->uri);
      notify_response_changes (self);
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
  self->status = 0;
  g_clear_pointer (&self->reason, g_free);
  g_clear_error (&self->error);
  self->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                     never_started
                                     ? _("The transfer was cancelled before it started")
                                     : _("The transfer was removed before it completed"));
  notify_response_changes (self);
}

void
gmulti_transfer_begin_hop (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  clear_hop (self);
  notify_response_changes (self);
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
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
gmulti_transfer_emit_response_headers (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->signals_blocked)
    return;

  notify_response_changes (self);
  g_signal_emit (self, signals[SIGNAL_RESPONSE_HEADERS], 0,
                 self->status, self->response_headers);
}

void
gmulti_transfer_count_body (GMultiTransfer *self,
                            gsize           length)
{
  self->bytes_received += length;
  self->metrics.body_bytes_received += length;
}

gboolean
gmulti_transfer_deliver_body (GMultiTransfer *self,
                              const guint8   *data,
                              gsize           length,
                              GError        **error)
{
  if (length == 0)
    return TRUE;

  if (self->output_stream != NULL)
    {
      GError *local_error = NULL;

      if (!g_output_stream_write_all (self->output_stream, data, length, NULL, NULL,
                                      &local_error))
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED,
                       _("Could not write the response body: %s"), local_error->message);
          g_error_free (local_error);
          return FALSE;
        }
    }
  else if (self->write_func != NULL)
    {
      if (!self->write_func (self, data, length, self->write_data))
        return FALSE;
    }
  else if (self->collect_body)
    {
      if (self->body_buffer == NULL)
        {
          gsize reserve = length;

          if (self->bytes_expected > 0)
            reserve = MAX (reserve, (gsize) MIN (self->bytes_expected, BODY_PREALLOC_MAX));
          self->body_buffer = g_byte_array_sized_new (reserve);
        }
      g_byte_array_append (self->body_buffer, data, length);
    }

  /* Counted before the signal so its handlers see totals that include @data. */
  gmulti_transfer_count_body (self, length);

  /* Hot path: copy the bytes only for someone who listens. */
  if (gmulti_transfer_wants_data_signal (self))
    {
      GBytes *chunk = g_bytes_new (data, length);

      g_signal_emit (self, signals[SIGNAL_DATA], 0, chunk);
      g_bytes_unref (chunk);
    }

  return TRUE;
}

gboolean
gmulti_transfer_wants_data_signal (GMultiTransfer *self)
{
  return !self->signals_blocked &&
         g_signal_has_handler_pending (self, signals[SIGNAL_DATA], 0, FALSE);
}

void
gmulti_transfer_report_progress (GMultiTransfer *self,
                                 gboolean        force)
{
  gint64 now;

  if (self->signals_blocked)
    return;

  now = g_get_monotonic_time ();
  if (!force && self->last_progress_us != 0 &&
      now - self->last_progress_us < GMULTI_PROGRESS_INTERVAL_US)
    return;

  self->last_progress_us = now;
  notify_response_changes (self);
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0);
}

void
gmulti_transfer_complete (GMultiTransfer *self,
                          GError         *error)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  g_clear_error (&self->error);
  self->error = error;
  gmulti_transfer_set_state (self, GMULTI_TRANSFER_DONE);
  gmulti_transfer_report_progress (self, TRUE);
}

void
gmulti_transfer_emit_finished (GMultiTransfer *self)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (self->signals_blocked)
    return;

  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, self->error);
}

gboolean
gmulti_transfer_has_request_body (GMultiTransfer *self)
{
  return self->request_body != NULL || self->read_func != NULL;
}

static gssize
read_from_func (GMultiTransfer  *self,
                guint8          *buffer,
                gsize            length,
                GError         **error)
{
  GMultiTransferPrivate *priv = get_priv (self);
  GError *local_error = NULL;
  gssize n;

  priv->read_started = TRUE;
  n = self->read_func (self, buffer, length, self->read_data, &local_error);

  if (n == -1 && local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return -1;
    }

  if (n < 0 || (gsize) n > length || local_error != NULL)
    {
      /* -1 without an error, an impossible count, or an error with a count: the
       * function broke its contract, and nothing it returned can be trusted. */
      g_clear_error (&local_error);
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED,
                           _("The request body function returned an invalid result"));
      return -1;
    }

  if (self->request_body_length >= 0)
    {
      guint64 declared = (guint64) self->request_body_length;

      /* The head announced a Content-Length; a different body would desynchronise the
       * connection. */
      if ((guint64) n > declared - priv->read_total)
        {
          g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED,
                               _("The request body function supplied more bytes than "
                                 "the declared length"));
          return -1;
        }

      if (n == 0 && priv->read_total < declared)
        {
          g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED,
                               _("The request body function ended before the declared "
                                 "length"));
          return -1;
        }
    }

  priv->read_total += n;

  return n;
}

gssize
gmulti_transfer_read_request_body (GMultiTransfer  *self,
                                   guint8          *buffer,
                                   gsize            length,
                                   GError         **error)
{
  GMultiTransferPrivate *priv = get_priv (self);

  g_return_val_if_fail (buffer != NULL || length == 0, 0);

  /* A zero count cannot be told apart from the end of the body. */
  length = MIN (length, (gsize) G_MAXSSIZE);
  if (length == 0)
    return 0;

  if (self->request_body != NULL)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (self->request_body, &size);
      gsize n = MIN (length, size - priv->body_offset);

      if (n > 0)
        memcpy (buffer, data + priv->body_offset, n);
      priv->body_offset += n;

      return (gssize) n;
    }

  if (self->read_func != NULL)
    return read_from_func (self, buffer, length, error);

  return 0;
}

gboolean
gmulti_transfer_rewind_request_body (GMultiTransfer *self)
{
  GMultiTransferPrivate *priv = get_priv (self);

  if (self->request_body != NULL)
    {
      priv->body_offset = 0;
      return TRUE;
    }

  if (self->read_func != NULL && !priv->read_started)
    return TRUE;

  /* A seekable body stream goes back to where it started. */
  if (self->read_func != NULL && priv->body_stream != NULL && priv->body_stream_start >= 0 &&
      g_seekable_seek (G_SEEKABLE (priv->body_stream), priv->body_stream_start, G_SEEK_SET,
                       NULL, NULL))
    {
      priv->read_total = 0;
      priv->read_started = FALSE;
      return TRUE;
    }

  return self->read_func == NULL;
}
