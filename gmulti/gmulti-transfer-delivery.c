/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-transfer-object-private.h"
#include "gmulti-error.h"
#include "gmulti-error-private.h"
#include "gmulti-i18n-private.h"
#include "engine/gmulti-splice.h"

/* The response as it arrives: where its body goes (an output stream, a write
 * function or memory), the "data" signal, the counters and "progress". */

/* Do not let a server's Content-Length make us reserve more than this up front. */
#define BODY_PREALLOC_MAX (1024 * 1024)

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
 * Since: 0.1
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
 * file by the kernel, without being copied through the process (splice(2), on Linux);
 * the body of an `https` or HTTP/2 response is written to the same descriptor with
 * write(2). Those bytes go to the descriptor directly, not through the stream's own
 * write method. If a handler is connected to [signal@Transfer::data], every byte goes
 * through the stream instead, after the handler saw it.
 *
 * Setting an output stream removes the write function, and setting a write function
 * removes the output stream. [method@Session.send_async] and
 * [method@Session.download_async] set sinks of their own and replace it.
 *
 * Since: 0.1
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
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_OUTPUT_STREAM]);
}

/**
 * gmulti_transfer_get_output_stream: (get-property output-stream)
 * @self: a transfer
 *
 * Gets the stream the response body is written to.
 *
 * Returns: (nullable) (transfer none): the output stream, or %NULL
 *
 * Since: 0.1
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
 * Since: 0.1
 */
void
gmulti_transfer_set_collect_body (GMultiTransfer *self,
                                  gboolean        collect)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  collect = !!collect;
  if (self->collect_body == collect)
    return;

  self->collect_body = !!collect;
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_COLLECT_BODY]);
}

/**
 * gmulti_transfer_get_collect_body: (get-property collect-body)
 * @self: a transfer
 *
 * Gets whether the response body is kept in memory.
 *
 * Returns: %TRUE if the body is collected (the default)
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_get_collect_body (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  return self->collect_body;
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
 * Since: 0.1
 */
guint
gmulti_transfer_get_status (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->run.status;
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
 * Since: 0.1
 */
const char *
gmulti_transfer_get_reason_phrase (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  /* An HTTP/2 response (no reason phrase on the wire) stores none. */
  if (self->run.reason == NULL && self->run.status != 0)
    return "";
  return self->run.reason;
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
 * Since: 0.1
 */
GMultiHeaders *
gmulti_transfer_get_response_headers (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->run.response_headers;
}

/**
 * gmulti_transfer_get_response_trailers:
 * @self: a transfer
 *
 * Gets the trailer fields sent after a chunked response body.
 *
 * Returns: (transfer none) (nullable): the trailers, or %NULL if the response had none
 *
 * Since: 0.1
 */
GMultiHeaders *
gmulti_transfer_get_response_trailers (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->run.response_trailers;
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
 * Since: 0.1
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
 * gmulti_transfer_get_bytes_received: (get-property bytes-received)
 * @self: a transfer
 *
 * Gets the number of response body bytes received so far, after removing chunked
 * framing and undoing the transfer and content codings: the bytes handed to the
 * application.
 *
 * Returns: the number of body bytes received
 *
 * Since: 0.1
 */
guint64
gmulti_transfer_get_bytes_received (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->run.bytes_received;
}

/**
 * gmulti_transfer_get_bytes_expected: (get-property bytes-expected)
 * @self: a transfer
 *
 * Gets the announced length of the response body.
 *
 * Returns: the `Content-Length` of the response (coded bytes, for a content-coded
 *   body), or -1 when it is not known
 *
 * Since: 0.1
 */
gint64
gmulti_transfer_get_bytes_expected (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), -1);

  return self->run.bytes_expected;
}

/**
 * gmulti_transfer_get_bytes_sent: (get-property bytes-sent)
 * @self: a transfer
 *
 * Gets the number of request body bytes sent so far.
 *
 * Returns: the number of body bytes sent
 *
 * Since: 0.1
 */
guint64
gmulti_transfer_get_bytes_sent (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->run.bytes_sent;
}

void
gmulti_transfer_count_body (GMultiTransfer *self,
                            gsize           length)
{
  self->run.bytes_received += length;
  self->run.metrics.body_bytes_decoded += length;
  /* A content-coding stage counts the wire bytes itself. */
  if (!self->run.content_decoded)
    self->run.metrics.body_bytes_received += length;
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
          gmulti_error_set_cause (error != NULL ? *error : NULL, local_error);
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

          if (self->run.bytes_expected > 0)
            reserve = MAX (reserve, (gsize) MIN (self->run.bytes_expected, BODY_PREALLOC_MAX));
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

      g_signal_emit (self, gmulti_transfer_signals[SIGNAL_DATA], 0, chunk);
      g_bytes_unref (chunk);
    }

  return TRUE;
}

gboolean
gmulti_transfer_wants_data_signal (GMultiTransfer *self)
{
  return !self->signals_blocked &&
         g_signal_has_handler_pending (self, gmulti_transfer_signals[SIGNAL_DATA], 0, FALSE);
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
  gmulti_transfer_notify_response_changes (self);
  g_signal_emit (self, gmulti_transfer_signals[SIGNAL_PROGRESS], 0);
}

static inline GMultiTransferBody *
body_of_progress (GMultiBodyWriter *writer)
{
  return (GMultiTransferBody *) ((char *) writer - G_STRUCT_OFFSET (GMultiTransferBody, progress));
}

static inline GMultiTransferBody *
body_of_sink (GMultiBodyWriter *writer)
{
  return (GMultiTransferBody *) ((char *) writer - G_STRUCT_OFFSET (GMultiTransferBody, sink));
}

/* The hop's progress stage: "progress" after each piece that reached the sink, and a
 * pause asked for by any handler (or the write function) stops the chain after it. */
static GMultiBodyStatus
progress_write (GMultiBodyWriter  *writer,
                const guint8      *data,
                gsize              length,
                GError           **error)
{
  GMultiTransferBody *body = body_of_progress (writer);

  /* Going on after a pause: nothing was kept here. */
  if (length == 0)
    return GMULTI_BODY_OK;
  if (gmulti_body_writer_write (writer->next, data, length, error) == GMULTI_BODY_ERROR)
    return GMULTI_BODY_ERROR;
  gmulti_transfer_report_progress (body->transfer, FALSE);
  return body->transfer->run.paused ? GMULTI_BODY_STOPPED : GMULTI_BODY_OK;
}

static GMultiBodyStatus
progress_finish (GMultiBodyWriter  *writer,
                 GError           **error)
{
  return gmulti_body_writer_finish (writer->next, error);
}

static int
progress_splice_fd (GMultiBodyWriter *writer)
{
  return gmulti_body_writer_splice_fd (writer->next);
}

static GMultiBodyStatus
progress_spliced (GMultiBodyWriter *writer,
                  gsize             length)
{
  GMultiTransferBody *body = body_of_progress (writer);

  writer->next->ops->spliced (writer->next, length);
  gmulti_transfer_report_progress (body->transfer, FALSE);
  return body->transfer->run.paused ? GMULTI_BODY_STOPPED : GMULTI_BODY_OK;
}

static const GMultiBodyWriterOps progress_ops = {
  .write = progress_write,
  .finish = progress_finish,
  .splice_fd = progress_splice_fd,
  .spliced = progress_spliced,
};

static GMultiBodyStatus
sink_finish (GMultiBodyWriter  *writer,
             GError           **error)
{
  return GMULTI_BODY_OK;
}

/* Only an output stream on a file that takes splice(), and only while nobody listens
 * to "data", which must see the bytes. */
static int
sink_splice_fd (GMultiBodyWriter *writer)
{
  GMultiTransferBody *body = body_of_sink (writer);
  GMultiTransfer *transfer = body->transfer;

  if (transfer->output_stream == NULL)
    return -1;
  /* Looked up again for every new sink; and a stream closed meanwhile (its descriptor
   * number may belong to another file by now) takes the copying road, which fails. */
  if (body->splice_fd == -2 || body->splice_serial != transfer->output_stream_serial)
    {
      body->splice_fd = gmulti_splice_sink_fd (transfer->output_stream);
      body->splice_serial = transfer->output_stream_serial;
    }
  if (body->splice_fd < 0 || g_output_stream_is_closed (transfer->output_stream) ||
      gmulti_transfer_wants_data_signal (transfer))
    return -1;
  return body->splice_fd;
}

static GMultiBodyStatus
sink_write (GMultiBodyWriter  *writer,
            const guint8      *data,
            gsize              length,
            GError           **error)
{
  GError *local_error = NULL;
  int fd = length > 0 ? sink_splice_fd (writer) : -1;

  /* A file or a device: straight to its descriptor, as a splice would, sparing the
   * output stream's poll() before each write() (HTTP/2 and TLS bodies come in many
   * small pieces). */
  if (fd >= 0)
    {
      if (!gmulti_splice_write_all (fd, data, length, error))
        return GMULTI_BODY_ERROR;
      gmulti_transfer_count_body (body_of_sink (writer)->transfer, length);
      return GMULTI_BODY_OK;
    }
  if (gmulti_transfer_deliver_body (body_of_sink (writer)->transfer, data, length,
                                    &local_error))
    return GMULTI_BODY_OK;
  if (local_error == NULL)
    local_error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED,
                                       _("The write function aborted the transfer"));
  g_propagate_error (error, local_error);
  return GMULTI_BODY_ERROR;
}

static GMultiBodyStatus
sink_spliced (GMultiBodyWriter *writer,
              gsize             length)
{
  gmulti_transfer_count_body (body_of_sink (writer)->transfer, length);
  return GMULTI_BODY_OK;
}

static const GMultiBodyWriterOps sink_ops = {
  .write = sink_write,
  .finish = sink_finish,
  .splice_fd = sink_splice_fd,
  .spliced = sink_spliced,
};

GMultiBodyWriter *
gmulti_transfer_body_init (GMultiTransferBody *body,
                           GMultiTransfer     *self)
{
  body->progress.ops = &progress_ops;
  body->progress.next = &body->sink;
  body->sink.ops = &sink_ops;
  body->sink.next = NULL;
  body->transfer = self;
  body->splice_fd = -2;
  body->splice_serial = 0;
  return &body->progress;
}
