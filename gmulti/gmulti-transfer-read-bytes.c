/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request body from a function that returns GBytes, the form language bindings can
 * implement, adapted to the buffer-filling GMultiReadFunc the engine calls. */
#include "config.h"

#include <string.h>

#include "gmulti-transfer.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

typedef struct
{
  GMultiReadBytesFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  GBytes *pending;   /* what is left of the last piece, which did not fit */
  gsize offset;      /* the next byte of @pending to send */
} ReadBytes;

static void
read_bytes_free (gpointer data)
{
  ReadBytes *self = data;

  g_clear_pointer (&self->pending, g_bytes_unref);
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_free (self);
}

static gssize
read_bytes_cb (GMultiTransfer *transfer,
               guint8         *buffer,
               gsize           length,
               gpointer        user_data,
               GError        **error)
{
  ReadBytes *self = user_data;
  const guint8 *data;
  gsize size;
  gsize n;

  if (self->pending == NULL)
    {
      GError *local_error = NULL;

      self->pending = self->func (transfer, length, self->user_data, &local_error);
      self->offset = 0;

      if (local_error != NULL)
        {
          /* An error wins over any bytes returned with it. */
          g_clear_pointer (&self->pending, g_bytes_unref);
          g_propagate_error (error, local_error);
          return -1;
        }

      if (self->pending == NULL)
        {
          /* A binding returns NULL when its function raised an exception it could not
           * turn into a GError: never take that for the end of the body. */
          g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED,
                               _("The request body function returned no data"));
          return -1;
        }
    }

  data = g_bytes_get_data (self->pending, &size);
  n = MIN (length, size - self->offset);
  if (n > 0)
    memcpy (buffer, data + self->offset, n);
  self->offset += n;

  /* An empty piece lands here at once and ends the body with a count of 0. */
  if (self->offset == size)
    g_clear_pointer (&self->pending, g_bytes_unref);

  return (gssize) n;
}

/**
 * gmulti_transfer_set_request_body_bytes_func: (rename-to gmulti_transfer_set_request_body_func)
 * @self: a transfer
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy): the function
 *   that supplies the body, or %NULL for no body
 * @length: the body's length in bytes, or -1 if not known (it is then sent with chunked
 *   encoding)
 * @user_data: data for @func
 * @destroy: (nullable): called with @user_data when @func is no longer needed
 *
 * Sets a function that supplies the request body piece by piece while it is sent, each
 * piece as a [struct@GLib.Bytes]. It replaces a body set before.
 *
 * This is the form of [method@Transfer.set_request_body_func] for language bindings,
 * where it has that name; it works like it, with one copy more per piece. A piece may
 * be longer than the `max_length` @func is given: the rest is sent before @func is
 * called again. An empty piece ends the body.
 *
 * Like the other body setters, it is refused while the transfer runs (and @destroy,
 * if any, is called at once).
 *
 * Returns: %TRUE if the function was set, %FALSE if the transfer is running
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_set_request_body_bytes_func (GMultiTransfer      *self,
                                             GMultiReadBytesFunc  func,
                                             gint64               length,
                                             gpointer             user_data,
                                             GDestroyNotify       destroy)
{
  ReadBytes *adapter;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);
  g_return_val_if_fail (length >= -1, FALSE);

  if (func == NULL)
    return gmulti_transfer_set_request_body_func (self, NULL, -1, NULL, NULL);

  adapter = g_new0 (ReadBytes, 1);
  adapter->func = func;
  adapter->user_data = user_data;
  adapter->destroy = destroy;
  /* A refused adapter is freed at once, which calls @destroy. */
  return gmulti_transfer_set_request_body_func (self, read_bytes_cb, length, adapter,
                                                read_bytes_free);
}
