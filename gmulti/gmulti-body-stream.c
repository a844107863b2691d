/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-body-stream-private.h"
#include "gmulti-cancel-source-private.h"
#include "gmulti-transfer-private.h"
#include "gmulti-i18n-private.h"

struct _GMultiBodyStream
{
  GInputStream parent_instance;

  GMultiTransfer *transfer;
  GMainContext *context;

  GQueue chunks;                 /* GBytes, oldest first */
  gsize head_offset;             /* bytes of the oldest chunk already read */
  gsize buffered;
  gsize max_buffered;
  gboolean paused_transfer;      /* the stream paused the transfer and owes a resume */
  gboolean ended;
  gboolean closed;
  GError *error;

  /* An asynchronous read waiting for data. */
  GTask *read_task;
  guint8 *read_buffer;
  gsize read_count;
  GSource *read_wake;            /* idle source that completes read_task */
  GSource *read_cancel;

  GMultiBodyStreamCloseFunc close_func;
  gpointer close_data;
  GDestroyNotify close_destroy;
};

G_DEFINE_FINAL_TYPE (GMultiBodyStream, gmulti_body_stream, G_TYPE_INPUT_STREAM)

static void
resume_if_drained (GMultiBodyStream *self)
{
  /* Half the limit, not empty: the transfer refills while the reader works through the
   * rest, and a reader that takes little at a time does not flip it on every read. */
  if (self->paused_transfer && self->buffered <= self->max_buffered / 2)
    {
      self->paused_transfer = FALSE;
      gmulti_transfer_release (self->transfer);
    }
}

/* Releases the stream's hold on the transfer, if any (it notifies nothing, so also on a
 * transfer that was removed). */
static void
release_pause (GMultiBodyStream *self)
{
  if (!self->paused_transfer)
    return;

  self->paused_transfer = FALSE;
  gmulti_transfer_release (self->transfer);
}

static void
clear_close_func (GMultiBodyStream *self)
{
  GDestroyNotify destroy = self->close_destroy;
  gpointer data = self->close_data;

  self->close_func = NULL;
  self->close_data = NULL;
  self->close_destroy = NULL;
  if (destroy != NULL)
    destroy (data);
}

/* The bytes being delivered complete a body of known length. Pausing then gains
 * nothing, and the engine would only see the end of the body at the connection's next
 * event after the resume. */
static gboolean
is_last_piece (GMultiTransfer *transfer,
               gsize           length)
{
  /* Content-Length counts coded bytes: a decoded body's end cannot be told here. */
  return transfer->run.bytes_expected >= 0 && !transfer->run.content_decoded &&
         transfer->run.bytes_received + length >= (guint64) transfer->run.bytes_expected;
}

static void
clear_chunks (GMultiBodyStream *self)
{
  g_queue_clear_full (&self->chunks, (GDestroyNotify) g_bytes_unref);
  self->head_offset = 0;
  self->buffered = 0;
}

/* Copies up to @count buffered bytes to @buffer. */
static gsize
take (GMultiBodyStream *self,
      guint8           *buffer,
      gsize             count)
{
  gsize done = 0;

  while (done < count && self->chunks.head != NULL)
    {
      GBytes *chunk = self->chunks.head->data;
      gsize size;
      const guint8 *data = g_bytes_get_data (chunk, &size);
      gsize n = MIN (count - done, size - self->head_offset);

      memcpy (buffer + done, data + self->head_offset, n);
      done += n;
      self->head_offset += n;
      if (self->head_offset == size)
        {
          g_bytes_unref (g_queue_pop_head (&self->chunks));
          self->head_offset = 0;
        }
    }

  self->buffered -= done;
  resume_if_drained (self);
  return done;
}

static void
clear_read_sources (GMultiBodyStream *self)
{
  if (self->read_wake != NULL)
    {
      g_source_destroy (self->read_wake);
      g_clear_pointer (&self->read_wake, g_source_unref);
    }
  if (self->read_cancel != NULL)
    gmulti_cancel_source_free (g_steal_pointer (&self->read_cancel));
}

/* Completes the waiting read if there is data or an end to report. */
static void
complete_read (GMultiBodyStream *self)
{
  GTask *task;

  if (self->read_task == NULL || (self->buffered == 0 && !self->ended))
    return;

  task = g_steal_pointer (&self->read_task);
  clear_read_sources (self);

  if (self->buffered > 0)
    g_task_return_int (task, (gssize) take (self, self->read_buffer, self->read_count));
  else if (self->error != NULL)
    g_task_return_error (task, g_error_copy (self->error));
  else
    g_task_return_int (task, 0);

  g_object_unref (task);
}

static gboolean
read_wake_cb (gpointer user_data)
{
  GMultiBodyStream *self = user_data;

  g_clear_pointer (&self->read_wake, g_source_unref);
  complete_read (self);
  return G_SOURCE_REMOVE;
}

/* Completes the waiting read from the context's next iteration rather than from the
 * caller, which is usually the engine delivering body bytes. */
static void
wake_reader (GMultiBodyStream *self)
{
  if (self->read_task == NULL || self->read_wake != NULL)
    return;

  self->read_wake = g_idle_source_new ();
  g_source_set_priority (self->read_wake, g_task_get_priority (self->read_task));
  g_source_set_static_name (self->read_wake, "GMultiBodyStream read");
  g_source_set_callback (self->read_wake, read_wake_cb, self, NULL);
  g_source_attach (self->read_wake, self->context);
}

static gboolean
read_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  GMultiBodyStream *self = user_data;
  GTask *task = g_steal_pointer (&self->read_task);

  clear_read_sources (self);
  if (task != NULL)
    {
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
    }

  return G_SOURCE_REMOVE;
}

static gssize
gmulti_body_stream_read_fn (GInputStream  *stream,
                            void          *buffer,
                            gsize          count,
                            GCancellable  *cancellable,
                            GError       **error)
{
  GMultiBodyStream *self = GMULTI_BODY_STREAM (stream);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;

  if (self->buffered > 0)
    return (gssize) take (self, buffer, count);

  if (self->ended)
    {
      if (self->error != NULL)
        {
          g_propagate_error (error, g_error_copy (self->error));
          return -1;
        }
      return 0;
    }

  /* Blocking would wait for the main loop this thread is probably running. */
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                       _("No response body data has arrived yet; read the stream "
                         "asynchronously"));
  return -1;
}

static void
gmulti_body_stream_read_async (GInputStream        *stream,
                               void                *buffer,
                               gsize                count,
                               int                  io_priority,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GMultiBodyStream *self = GMULTI_BODY_STREAM (stream);
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gmulti_body_stream_read_async);
  g_task_set_priority (task, io_priority);

  if (g_task_return_error_if_cancelled (task))
    return;

  if (count == 0)
    {
      g_task_return_int (task, 0);
      return;
    }

  g_assert (self->read_task == NULL);
  self->read_task = g_steal_pointer (&task);
  self->read_buffer = buffer;
  self->read_count = count;

  if (self->buffered > 0 || self->ended)
    {
      complete_read (self);
      return;
    }

  if (cancellable != NULL)
    {
      self->read_cancel = gmulti_cancel_source_new (cancellable);
      g_source_set_priority (self->read_cancel, io_priority);
      g_source_set_callback (self->read_cancel, G_SOURCE_FUNC (read_cancelled_cb), self, NULL);
      g_source_attach (self->read_cancel, self->context);
    }
}

static gssize
gmulti_body_stream_read_finish (GInputStream  *stream,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), -1);

  return g_task_propagate_int (G_TASK (result), error);
}

static gboolean
gmulti_body_stream_close_fn (GInputStream  *stream,
                             GCancellable  *cancellable,
                             GError       **error)
{
  GMultiBodyStream *self = GMULTI_BODY_STREAM (stream);

  self->closed = TRUE;
  clear_chunks (self);

  if (!self->ended)
    {
      /* Bytes still on their way are dropped from now on. */
      self->ended = TRUE;
      if (self->close_func != NULL)
        self->close_func (self, self->close_data);
    }
  clear_close_func (self);

  /* A transfer left paused would stay paused when it is added again. */
  release_pause (self);
  return TRUE;
}

/* The default would close in a worker thread; closing never blocks here. */
static void
gmulti_body_stream_close_async (GInputStream        *stream,
                                int                  io_priority,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  task = g_task_new (stream, cancellable, callback, user_data);
  g_task_set_source_tag (task, gmulti_body_stream_close_async);
  g_task_set_priority (task, io_priority);

  if (gmulti_body_stream_close_fn (stream, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static gboolean
gmulti_body_stream_close_finish (GInputStream  *stream,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
gmulti_body_stream_finalize (GObject *object)
{
  GMultiBodyStream *self = (GMultiBodyStream *) object;

  clear_read_sources (self);
  clear_chunks (self);
  g_clear_error (&self->error);
  clear_close_func (self);
  g_clear_object (&self->transfer);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (gmulti_body_stream_parent_class)->finalize (object);
}

static void
gmulti_body_stream_class_init (GMultiBodyStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = gmulti_body_stream_finalize;

  stream_class->read_fn = gmulti_body_stream_read_fn;
  stream_class->read_async = gmulti_body_stream_read_async;
  stream_class->read_finish = gmulti_body_stream_read_finish;
  stream_class->close_fn = gmulti_body_stream_close_fn;
  stream_class->close_async = gmulti_body_stream_close_async;
  stream_class->close_finish = gmulti_body_stream_close_finish;
}

static void
gmulti_body_stream_init (GMultiBodyStream *self)
{
  g_queue_init (&self->chunks);
}

GMultiBodyStream *
gmulti_body_stream_new (GMultiTransfer *transfer,
                        gsize           max_buffered)
{
  GMultiBodyStream *self;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (transfer), NULL);
  g_return_val_if_fail (max_buffered > 0, NULL);

  self = g_object_new (GMULTI_TYPE_BODY_STREAM, NULL);
  self->transfer = g_object_ref (transfer);
  self->context = g_main_context_ref_thread_default ();
  self->max_buffered = max_buffered;
  return self;
}

void
gmulti_body_stream_set_close_func (GMultiBodyStream         *self,
                                   GMultiBodyStreamCloseFunc func,
                                   gpointer                  user_data,
                                   GDestroyNotify            destroy)
{
  g_return_if_fail (GMULTI_IS_BODY_STREAM (self));

  clear_close_func (self);
  self->close_func = func;
  self->close_data = user_data;
  self->close_destroy = destroy;
}

void
gmulti_body_stream_push (GMultiBodyStream *self,
                         const guint8     *data,
                         gsize             length)
{
  g_return_if_fail (GMULTI_IS_BODY_STREAM (self));

  if (self->ended || length == 0)
    return;

  g_queue_push_tail (&self->chunks, g_bytes_new (data, length));
  self->buffered += length;

  /* The bytes of this call are accepted even past the limit (the engine counts them as
   * consumed), so the buffer holds at most the limit plus one read's worth. */
  if (self->buffered >= self->max_buffered && !self->paused_transfer &&
      !is_last_piece (self->transfer, length))
    {
      self->paused_transfer = TRUE;
      gmulti_transfer_hold (self->transfer);
    }

  wake_reader (self);
}

void
gmulti_body_stream_end (GMultiBodyStream *self,
                        const GError     *error)
{
  g_return_if_fail (GMULTI_IS_BODY_STREAM (self));

  if (self->ended)
    return;

  self->ended = TRUE;
  if (error != NULL)
    self->error = g_error_copy (error);

  /* Nothing of this transfer can arrive any more. */
  clear_close_func (self);
  release_pause (self);
  wake_reader (self);
}

gboolean
gmulti_body_stream_is_ended (GMultiBodyStream *self)
{
  g_return_val_if_fail (GMULTI_IS_BODY_STREAM (self), TRUE);

  return self->ended;
}

gsize
gmulti_body_stream_get_buffered (GMultiBodyStream *self)
{
  g_return_val_if_fail (GMULTI_IS_BODY_STREAM (self), 0);

  return self->buffered;
}
