/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-transfer-object-private.h"
#include "gmulti-error.h"
#include "gmulti-http1-request.h"
#include "gmulti-i18n-private.h"

/* The request line and head: the URI, the method and the header fields, and the
 * checks a transfer passes before it starts. */

/* Values above this are refused by gmulti_transfer_validate(); a loop that long is
 * a misconfigured server, not a useful limit. */
#define MAX_REDIRECTS_LIMIT 1000

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

  /* GUri lower-cases the scheme. */
  scheme = g_uri_get_scheme (parsed);
  if (strcmp (scheme, "https") != 0 && strcmp (scheme, "http") != 0)
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

/* Stores @uri as given, for the constructor and the property: an invalid URI is
 * reported by gmulti_transfer_validate() when the transfer starts. */
void
gmulti_transfer_store_uri (GMultiTransfer *self,
                           const char     *uri)
{
  if (g_strcmp0 (self->uri, uri) == 0)
    return;

  g_free (self->uri);
  self->uri = g_strdup (uri);
  g_clear_pointer (&self->parsed_uri, g_uri_unref);
  if (uri != NULL)
    self->parsed_uri = parse_http_uri (uri, NULL);

  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_URI]);
}

/* Stores @method without checking it, for the property; see store_uri(). %NULL goes
 * back to the default (GET, or POST with a body). Notifies when the method that
 * would be sent changed. */
void
gmulti_transfer_store_method (GMultiTransfer *self,
                              const char     *method)
{
  g_autofree char *before = g_strdup (gmulti_transfer_request_method (self));

  g_free (self->method);
  self->method = g_strdup (method != NULL ? method : "GET");
  self->method_set = method != NULL;

  if (strcmp (before, gmulti_transfer_request_method (self)) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_METHOD]);
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
 * Since: 0.1
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
      g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_URI]);
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
 * Since: 0.1
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
 * Since: 0.1
 */
const char *
gmulti_transfer_get_effective_uri (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->run.effective_uri;
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
 * Since: 0.1
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

  gmulti_transfer_store_method (self, method);

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
 * Since: 0.1
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
 * Since: 0.1
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
 * Since: 0.1
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
