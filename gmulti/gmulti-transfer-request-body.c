/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-transfer-object-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* The request body: where it comes from (bytes, a read function, an input stream),
 * how the engine reads it, and how it starts again for a redirect or a retry. */

/* A body set or cleared changes the default method: notifies if it did. */
static void
notify_body_changed (GMultiTransfer *self,
                     gboolean        had_body)
{
  if (!self->method_set && had_body != gmulti_transfer_has_request_body (self))
    g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_METHOD]);
}

void
gmulti_transfer_clear_read_func (GMultiTransfer *self)
{
  GDestroyNotify destroy = self->read_destroy;
  gpointer data = self->read_data;

  self->read_func = NULL;
  self->read_data = NULL;
  self->read_destroy = NULL;
  gmulti_transfer_get_priv (self)->body_stream = NULL;

  /* Last, so that a destroy notify that looks at the transfer sees it consistent. */
  if (destroy != NULL)
    destroy (data);
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
 * Since: 0.1
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

  priv = gmulti_transfer_get_priv (self);
  had_body = gmulti_transfer_has_request_body (self);

  /* Take the new reference first: @body may be the current one. */
  old = self->request_body;
  self->request_body = body != NULL ? g_bytes_ref (body) : NULL;
  self->request_body_length = body != NULL ? (gint64) g_bytes_get_size (body) : -1;
  priv->body_offset = 0;
  priv->read_total = 0;
  priv->read_started = FALSE;
  g_clear_pointer (&old, g_bytes_unref);

  gmulti_transfer_clear_read_func (self);
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
 * Since: 0.1
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

  priv = gmulti_transfer_get_priv (self);
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
 * Since: 0.1
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
  priv = gmulti_transfer_get_priv (self);
  priv->body_stream = stream;
  priv->body_stream_start = G_IS_SEEKABLE (stream) && g_seekable_can_seek (G_SEEKABLE (stream))
                            ? g_seekable_tell (G_SEEKABLE (stream)) : -1;
  return TRUE;
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
 * Since: 0.1
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
  GMultiTransferPrivate *priv = gmulti_transfer_get_priv (self);
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
  GMultiTransferPrivate *priv = gmulti_transfer_get_priv (self);

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
  GMultiTransferPrivate *priv = gmulti_transfer_get_priv (self);

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
