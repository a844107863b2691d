/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-session-private.h"
#include "gmulti-body-stream-private.h"
#include "gmulti-cancel-source-private.h"
#include "gmulti-transfer-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* The asynchronous calls of GMultiSession: send_and_read (body in memory), send (body
 * as a GInputStream) and download (body to a file), named as libsoup names the same
 * calls. Each is one GMultiAsyncOp waiting on
 * a transfer the session runs; the session tells it when the transfer completed or was
 * removed. The three share the operation's life (references, cancellation, the
 * session's calls), which is why they stay in one file of about a thousand lines; half
 * of it is their documentation. */

/* Bound of the body stream's buffer: the transfer pauses when it is full. */
#define STREAM_BUFFER_SIZE (1024 * 1024)
/* A download's temporary file: names tried before giving up, and how much of the
 * destination's name goes into it (".NAME.XXXXXX" must fit 255 bytes). */
#define TEMP_ATTEMPTS_MAX 100
#define TEMP_BASENAME_MAX 200

typedef enum
{
  OP_SEND,
  OP_STREAM,
  OP_DOWNLOAD,
} OpKind;

struct _GMultiAsyncOp
{
  OpKind kind;
  GMultiSession *session;        /* not a reference; NULL once detached */
  GMultiTransfer *transfer;
  GTask *task;                   /* NULL once completed */
  GSource *cancel_source;
  int io_priority;

  /* send */
  GBytes *body;

  /* send: owned until the task hands it out, then only watched (the stream's
   * close function clears it). */
  GMultiBodyStream *stream;
  gboolean stream_owned;
  gulong headers_handler;
  gboolean headers_queued;

  /* download: the body goes to a temporary file beside the destination, renamed over
   * it once complete and removed on failure. */
  GFile *destination;
  GFile *temp;                   /* the temporary file; NULL until one is chosen */
  guint temp_attempts;           /* names tried that existed already */
  gboolean temp_created;         /* @temp exists on the disk and is ours to remove */
  GOutputStream *out;
  GCancellable *io_cancellable;  /* cancelled to abandon pending file operations */
  GByteArray *incoming;          /* body bytes not handed to a write yet */
  GBytes *writing;               /* the bytes of the write in flight */
  gboolean opening;
  gboolean write_pending;
  gboolean closing;
  gboolean moving;
  gboolean deleting;
  gboolean paused_transfer;
  gboolean transfer_done;
  GError *failure;
};

static void
clear_cancel_source (GMultiAsyncOp *self)
{
  if (self->cancel_source == NULL)
    return;

  gmulti_cancel_source_free (g_steal_pointer (&self->cancel_source));
}

static void
op_free (gpointer data)
{
  GMultiAsyncOp *self = data;

  clear_cancel_source (self);
  g_clear_object (&self->task);
  g_clear_object (&self->transfer);
  g_clear_pointer (&self->body, g_bytes_unref);
  if (self->stream_owned)
    g_clear_object (&self->stream);
  g_clear_object (&self->destination);
  g_clear_object (&self->temp);
  g_clear_object (&self->out);
  g_clear_object (&self->io_cancellable);
  g_clear_pointer (&self->incoming, g_byte_array_unref);
  g_clear_pointer (&self->writing, g_bytes_unref);
  g_clear_error (&self->failure);
}

GMultiAsyncOp *
gmulti_async_op_ref (GMultiAsyncOp *self)
{
  return g_rc_box_acquire (self);
}

void
gmulti_async_op_unref (GMultiAsyncOp *self)
{
  g_rc_box_release_full (self, op_free);
}

/* Releases the hold the operation put on the transfer (never seen by the application,
 * so also safe on a transfer that was removed). */
static void
release_pause (GMultiAsyncOp *self)
{
  if (!self->paused_transfer)
    return;

  self->paused_transfer = FALSE;
  gmulti_transfer_release (self->transfer);
}

static GTask *
take_task (GMultiAsyncOp *self)
{
  clear_cancel_source (self);
  return g_steal_pointer (&self->task);
}

static void
return_error (GMultiAsyncOp *self,
              GError        *error)
{
  GTask *task = take_task (self);

  if (task == NULL)
    {
      g_error_free (error);
      return;
    }

  g_task_return_error (task, error);
  g_object_unref (task);
}

/* send */

static GBytes *
take_body (GMultiTransfer *transfer)
{
  GByteArray *array = transfer->body_buffer;

  if (array == NULL)
    return g_bytes_new (NULL, 0);

  /* Shared, not copied: a completed run's buffer never changes again (a new run starts
   * a new one), so the bytes can keep it alive. */
  return g_bytes_new_with_free_func (array->data, array->len,
                                     (GDestroyNotify) g_byte_array_unref,
                                     g_byte_array_ref (array));
}

/* send */

static void
drop_stream (GMultiAsyncOp *self,
             const GError  *error)
{
  GMultiBodyStream *stream = self->stream;

  if (stream == NULL)
    return;

  self->stream = NULL;
  gmulti_body_stream_end (stream, error);
  if (self->stream_owned)
    {
      self->stream_owned = FALSE;
      g_object_unref (stream);
    }
}

static void
return_stream (GMultiAsyncOp *self)
{
  GTask *task = take_task (self);

  if (task == NULL || self->stream == NULL)
    {
      g_clear_object (&task);
      return;
    }

  /* The task takes the operation's reference; the pointer stays for pushing bytes until
   * the stream ends or is closed. */
  self->stream_owned = FALSE;
  g_task_return_pointer (task, self->stream, g_object_unref);
  g_object_unref (task);
}

static void
stream_closed_cb (GMultiBodyStream *stream,
                  gpointer          user_data)
{
  GMultiAsyncOp *self = user_data;

  /* Closed by the reader before the body ended: the transfer is of no use any more. */
  self->stream = NULL;
  if (self->session != NULL)
    gmulti_session_remove (self->session, self->transfer);
}

static void
headers_cb (GMultiTransfer *transfer,
            guint           status,
            GMultiHeaders  *headers,
            gpointer        user_data)
{
  GMultiAsyncOp *self = user_data;

  /* Completed once the engine returned: the callback must not run inside it. */
  if (self->session != NULL && self->task != NULL && !self->headers_queued)
    {
      self->headers_queued = TRUE;
      gmulti_session_queue_ready_op (self->session, self);
    }
}

/* download */

static void download_pump (GMultiAsyncOp *self);
static void download_finish_failed (GMultiAsyncOp *self);

static void
download_fail (GMultiAsyncOp *self,
               GError        *error)
{
  if (self->failure == NULL && self->task != NULL)
    {
      self->failure = g_steal_pointer (&error);
      g_cancellable_cancel (self->io_cancellable);
      if (self->session != NULL)
        gmulti_session_remove (self->session, self->transfer);
      release_pause (self);
    }

  g_clear_error (&error);
  download_finish_failed (self);
}

static void
moved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GMultiAsyncOp *self = user_data;
  GError *error = NULL;

  self->moving = FALSE;
  if (g_file_move_finish (G_FILE (source), result, &error))
    {
      /* The destination is complete now, whatever happened meanwhile. */
      GTask *task = take_task (self);

      self->temp_created = FALSE;
      if (task != NULL)
        {
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
        }
    }
  else
    download_fail (self, error);

  gmulti_async_op_unref (self);
}

static void
closed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GMultiAsyncOp *self = user_data;
  GError *error = NULL;
  gboolean ok;

  self->closing = FALSE;
  ok = g_output_stream_close_finish (G_OUTPUT_STREAM (source), result, &error);

  if (self->failure != NULL)
    {
      /* The close was only to abandon the file: its own result does not matter. */
      g_clear_error (&error);
      download_finish_failed (self);
    }
  else if (!ok)
    download_fail (self, error);
  else
    {
      /* A rename within the directory: the destination is either untouched or
       * complete, never partly written. Not cancellable: a cancelled task hides
       * whether the rename happened. */
      self->moving = TRUE;
      g_file_move_async (self->temp, self->destination,
                         G_FILE_COPY_OVERWRITE | G_FILE_COPY_NOFOLLOW_SYMLINKS,
                         self->io_priority, NULL, NULL, NULL, moved_cb,
                         gmulti_async_op_ref (self));
    }

  gmulti_async_op_unref (self);
}

static void
deleted_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GMultiAsyncOp *self = user_data;

  /* Nothing more can be done about a temporary file that cannot be removed; the
   * download's own failure is what the caller needs to hear. */
  self->deleting = FALSE;
  self->temp_created = FALSE;
  g_file_delete_finish (G_FILE (source), result, NULL);
  download_finish_failed (self);
  gmulti_async_op_unref (self);
}

static void
download_finish_failed (GMultiAsyncOp *self)
{
  /* Pending file operations come back here once they saw the cancellation. */
  if (self->task == NULL || self->opening || self->write_pending || self->closing ||
      self->moving || self->deleting)
    return;

  if (self->out != NULL && !g_output_stream_is_closed (self->out))
    {
      /* Not with the cancelled cancellable: the descriptor must be closed for good
       * before the file is removed. */
      self->closing = TRUE;
      g_output_stream_close_async (self->out, self->io_priority, NULL, closed_cb,
                                   gmulti_async_op_ref (self));
      return;
    }

  if (self->temp_created)
    {
      self->deleting = TRUE;
      g_file_delete_async (self->temp, self->io_priority, NULL, deleted_cb,
                           gmulti_async_op_ref (self));
      return;
    }

  return_error (self, g_error_copy (self->failure));
}

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GMultiAsyncOp *self = user_data;
  GError *error = NULL;

  self->write_pending = FALSE;
  g_clear_pointer (&self->writing, g_bytes_unref);

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    download_fail (self, error);
  else
    download_pump (self);

  gmulti_async_op_unref (self);
}

static void
start_write (GMultiAsyncOp *self)
{
  const guint8 *data;
  gsize size;

  self->writing = g_byte_array_free_to_bytes (self->incoming);
  self->incoming = g_byte_array_new ();
  self->write_pending = TRUE;

  data = g_bytes_get_data (self->writing, &size);
  g_output_stream_write_all_async (self->out, data, size, self->io_priority, self->io_cancellable,
                                   written_cb, gmulti_async_op_ref (self));
}

/* Moves the download on: write what came, let the transfer go on, close at the end. */
static void
download_pump (GMultiAsyncOp *self)
{
  if (self->failure != NULL)
    {
      download_finish_failed (self);
      return;
    }

  if (self->task == NULL || self->out == NULL || self->write_pending || self->closing)
    return;

  if (self->incoming->len > 0)
    start_write (self);

  /* Everything received is in a write now: the transfer may deliver the next piece,
   * which waits in memory until this write completed. */
  release_pause (self);

  if (self->transfer_done && !self->write_pending)
    {
      self->closing = TRUE;
      g_output_stream_close_async (self->out, self->io_priority, NULL, closed_cb,
                                   gmulti_async_op_ref (self));
    }
}

static void
download_take (GMultiAsyncOp *self,
               const guint8  *data,
               gsize          length)
{
  if (self->failure != NULL)
    return;

  g_byte_array_append (self->incoming, data, length);

  if (self->out == NULL || self->write_pending)
    {
      /* Backpressure: no more bytes until the file caught up. Not on the last bytes of
       * a body of known length: that gains nothing, and the engine would only see the
       * end of the body at the connection's next event after the resume. */
      if (!self->paused_transfer &&
          !(self->transfer->run.bytes_expected >= 0 && !self->transfer->run.content_decoded &&
            self->transfer->run.bytes_received + length >= (guint64) self->transfer->run.bytes_expected))
        {
          self->paused_transfer = TRUE;
          gmulti_transfer_hold (self->transfer);
        }
      return;
    }

  start_write (self);
}

static void download_open (GMultiAsyncOp *self);

static void
created_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GMultiAsyncOp *self = user_data;
  GFileOutputStream *out;
  GError *error = NULL;

  self->opening = FALSE;
  out = g_file_create_finish (G_FILE (source), result, &error);
  if (out != NULL)
    {
      self->temp_created = TRUE;
      self->out = G_OUTPUT_STREAM (out);
      download_pump (self);
    }
  else if (self->failure == NULL && self->temp_attempts < TEMP_ATTEMPTS_MAX &&
           g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_clear_error (&error);
      self->temp_attempts++;
      download_open (self);
    }
  else
    download_fail (self, error);

  gmulti_async_op_unref (self);
}

/* Creates a new file under an unused name in the destination's directory: created
 * exclusively, with the permissions of any new file (the umask applies). */
static void
download_open (GMultiAsyncOp *self)
{
  static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  g_autoptr(GFile) parent = g_file_get_parent (self->destination);
  g_autofree char *base = g_file_get_basename (self->destination);
  char suffix[7];
  g_autofree char *name = NULL;

  for (gsize i = 0; i < sizeof suffix - 1; i++)
    suffix[i] = chars[g_random_int_range (0, sizeof chars - 1)];
  suffix[sizeof suffix - 1] = '\0';

  /* A long name is cut so that the temporary one still fits NAME_MAX. */
  name = g_strdup_printf (".%.*s.%s", TEMP_BASENAME_MAX, base != NULL ? base : "", suffix);
  g_clear_object (&self->temp);
  self->temp = g_file_get_child (parent, name);

  /* Not cancellable: a cancelled task would hide a file that was created all the
   * same, and it could not be removed. */
  self->opening = TRUE;
  g_file_create_async (self->temp, G_FILE_CREATE_NONE, self->io_priority, NULL,
                       created_cb, gmulti_async_op_ref (self));
}

/* Common */

static gboolean
op_write_cb (GMultiTransfer *transfer,
             const guint8   *data,
             gsize           length,
             gpointer        user_data)
{
  GMultiAsyncOp *self = user_data;

  /* Removed while the engine was still delivering: the bytes go nowhere. */
  if (self->session == NULL)
    return TRUE;

  if (self->kind == OP_STREAM && self->stream != NULL)
    gmulti_body_stream_push (self->stream, data, length);
  else if (self->kind == OP_DOWNLOAD)
    download_take (self, data, length);

  return TRUE;
}

void
gmulti_async_op_install (GMultiAsyncOp *self)
{
  if (self->kind == OP_SEND)
    return;

  gmulti_transfer_set_write_func (self->transfer, op_write_cb, gmulti_async_op_ref (self),
                                  (GDestroyNotify) gmulti_async_op_unref);
}

void
gmulti_async_op_detach (GMultiAsyncOp *self)
{
  self->session = NULL;
  if (self->headers_handler != 0)
    {
      g_signal_handler_disconnect (self->transfer, self->headers_handler);
      self->headers_handler = 0;
    }
}

void
gmulti_async_op_release_write_func (GMultiTransfer *transfer)
{
  if (transfer->write_func == op_write_cb &&
      ((GMultiAsyncOp *) transfer->write_data)->session == NULL)
    gmulti_transfer_set_write_func (transfer, NULL, NULL, NULL);
}

void
gmulti_async_op_transfer_completed (GMultiAsyncOp *self)
{
  if (self->kind == OP_SEND)
    self->body = take_body (self->transfer);
}

void
gmulti_async_op_transfer_done (GMultiAsyncOp *self,
                               const GError  *error)
{
  switch (self->kind)
    {
    case OP_SEND:
      if (error != NULL)
        return_error (self, g_error_copy (error));
      else
        {
          GTask *task = take_task (self);

          if (task != NULL)
            {
              g_task_return_pointer (task, g_steal_pointer (&self->body),
                                     (GDestroyNotify) g_bytes_unref);
              g_object_unref (task);
            }
        }
      break;

    case OP_STREAM:
      if (self->task != NULL && error != NULL)
        {
          drop_stream (self, error);
          return_error (self, g_error_copy (error));
        }
      else
        {
          GMultiBodyStream *stream = self->stream;

          /* The reader gets what is buffered, then the end of the body. */
          if (stream != NULL)
            gmulti_body_stream_end (stream, error);
          if (self->task != NULL)
            return_stream (self);
          self->stream = NULL;
        }
      break;

    case OP_DOWNLOAD:
      self->transfer_done = TRUE;
      if (error != NULL)
        download_fail (self, g_error_copy (error));
      else
        download_pump (self);
      break;

    default:
      g_assert_not_reached ();
    }
}

void
gmulti_async_op_abort (GMultiAsyncOp *self,
                       const GError  *error)
{
  switch (self->kind)
    {
    case OP_SEND:
      return_error (self, g_error_copy (error));
      break;

    case OP_STREAM:
      drop_stream (self, error);
      return_error (self, g_error_copy (error));
      break;

    case OP_DOWNLOAD:
      download_fail (self, g_error_copy (error));
      break;

    default:
      g_assert_not_reached ();
    }
}

void
gmulti_async_op_ready (GMultiAsyncOp *self)
{
  if (self->kind == OP_STREAM && self->session != NULL)
    return_stream (self);
}

static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  GMultiAsyncOp *self = user_data;
  GError *error = NULL;

  if (self->task == NULL)
    return G_SOURCE_REMOVE;

  /* Removing the transfer aborts the operation with G_IO_ERROR_CANCELLED. */
  if (self->session != NULL)
    gmulti_session_remove (self->session, self->transfer);
  else
    {
      g_cancellable_set_error_if_cancelled (cancellable, &error);
      gmulti_async_op_abort (self, error);
      g_error_free (error);
    }

  return G_SOURCE_REMOVE;
}

static GMultiAsyncOp *
op_new (GMultiSession       *session,
        OpKind               kind,
        GMultiTransfer      *transfer,
        int                  io_priority,
        GCancellable        *cancellable,
        GAsyncReadyCallback  callback,
        gpointer             user_data,
        gpointer             source_tag,
        const char          *name)
{
  GMultiAsyncOp *self = g_rc_box_new0 (GMultiAsyncOp);

  self->kind = kind;
  self->session = session;
  self->transfer = g_object_ref (transfer);
  self->io_priority = io_priority;
  self->task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, source_tag);
  g_task_set_name (self->task, name);
  g_task_set_priority (self->task, io_priority);
  return self;
}

/* Adds the operation's transfer; everything that can go wrong is reported through the
 * task. */
static void
op_start (GMultiAsyncOp *self,
          GFile         *destination,
          GCancellable  *cancellable)
{
  GMultiSession *session = self->session;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (self->task))
    {
      /* Never started: the previous run's result must not read as this one's. A
       * transfer running elsewhere is not ours to touch. */
      if (self->transfer->session == NULL && self->transfer->run.engine == NULL)
        gmulti_transfer_cancelled (self->transfer, TRUE);
      g_clear_object (&self->task);
      return;
    }

  if (!gmulti_session_check_addable (session, self->transfer, &error))
    {
      return_error (self, error);
      return;
    }

  if (self->kind == OP_STREAM)
    {
      self->stream = gmulti_body_stream_new (self->transfer, STREAM_BUFFER_SIZE);
      self->stream_owned = TRUE;
      gmulti_body_stream_set_close_func (self->stream, stream_closed_cb,
                                         gmulti_async_op_ref (self),
                                         (GDestroyNotify) gmulti_async_op_unref);
      self->headers_handler = g_signal_connect (self->transfer, "response-headers",
                                              G_CALLBACK (headers_cb), self);
    }
  else if (self->kind == OP_DOWNLOAD)
    {
      g_autoptr(GFile) parent = g_file_get_parent (destination);

      if (parent == NULL)
        {
          return_error (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                                                   _("The destination is a directory")));
          return;
        }

      self->destination = g_object_ref (destination);
      self->io_cancellable = g_cancellable_new ();
      self->incoming = g_byte_array_new ();
      download_open (self);
    }

  if (cancellable != NULL)
    {
      self->cancel_source = gmulti_cancel_source_new (cancellable);
      g_source_set_priority (self->cancel_source, self->io_priority);
      g_source_set_static_name (self->cancel_source, "GMultiSession cancel");
      g_source_set_callback (self->cancel_source, G_SOURCE_FUNC (cancelled_cb),
                             gmulti_async_op_ref (self), (GDestroyNotify) gmulti_async_op_unref);
      g_source_attach (self->cancel_source, gmulti_session_get_context (session));
    }

  if (!gmulti_session_attach (session, self->transfer, self, &error))
    {
      gmulti_async_op_abort (self, error);
      g_error_free (error);
    }
}

/**
 * gmulti_session_send_and_read_async:
 * @self: a session
 * @transfer: a transfer not added to any session or engine
 * @io_priority: the I/O priority of the request, such as %G_PRIORITY_DEFAULT
 * @cancellable: (nullable): a cancellable; cancelling it removes @transfer from the
 *   session
 * @callback: (scope async): called when the transfer completed
 * @user_data: data for @callback
 *
 * Adds @transfer to the session and calls @callback once it completed, with the
 * whole response body collected in memory. Get the result with
 * [method@Session.send_and_read_finish].
 *
 * The transfer's signals are emitted as with [method@Session.add]. Removing the
 * transfer with [method@Session.remove] completes the call with
 * %G_IO_ERROR_CANCELLED.
 *
 * Since: 0.1
 */
void
gmulti_session_send_and_read_async (GMultiSession       *self,
                                    GMultiTransfer      *transfer,
                                    int                  io_priority,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GMultiAsyncOp *op;

  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (GMULTI_IS_TRANSFER (transfer));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (self, OP_SEND, transfer, io_priority, cancellable, callback, user_data,
               gmulti_session_send_and_read_async, "[gmulti] send_and_read");
  op_start (op, NULL, cancellable);
  gmulti_async_op_unref (op);
}

/**
 * gmulti_session_send_and_read_finish:
 * @self: a session
 * @result: the result passed to the callback of [method@Session.send_and_read_async]
 * @error: return location for an error
 *
 * Gets the response body of a transfer run with [method@Session.send_and_read_async].
 *
 * An HTTP error status such as 404 is not an error here: the transfer succeeded, and
 * its [property@Transfer:status] tells what the server answered. Errors are failures
 * to get a response at all (no connection, a timeout, a malformed response...).
 *
 * If the transfer does not collect its body (see [property@Transfer:collect-body], or
 * a [callback@WriteFunc] or an [property@Transfer:output-stream] is set), the bytes
 * returned are empty.
 *
 * Returns: (transfer full): the response body, or %NULL with @error set
 *   (%G_IO_ERROR_CANCELLED if the call was cancelled or the transfer removed)
 *
 * Since: 0.1
 */
GBytes *
gmulti_session_send_and_read_finish (GMultiSession  *self,
                                     GAsyncResult   *result,
                                     GError        **error)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gmulti_session_send_and_read_async,
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * gmulti_session_send_async:
 * @self: a session
 * @transfer: a transfer not added to any session or engine
 * @io_priority: the I/O priority of the request, such as %G_PRIORITY_DEFAULT
 * @cancellable: (nullable): a cancellable; cancelling it before the response headers
 *   arrived removes @transfer from the session
 * @callback: (scope async): called when the response headers arrived or the transfer
 *   failed
 * @user_data: data for @callback
 *
 * Adds @transfer to the session and calls @callback as soon as the response headers
 * arrived; [method@Session.send_finish] then gives an input stream that
 * delivers the response body as it comes.
 *
 * The stream holds at most about a megabyte: while it is full the transfer is held
 * back, and it goes on as the stream is read. This is not a pause: the transfer's
 * [property@Transfer:paused] stays as the application set it, and its own pause and
 * resume keep their meaning. Read it with
 * [method@Gio.InputStream.read_async] (or its variants); a synchronous read returns
 * the bytes already buffered and fails with %G_IO_ERROR_WOULD_BLOCK instead of
 * blocking when there are none. The read after the last byte returns 0; if the
 * transfer failed, that read fails with the transfer's error. Closing the stream
 * before the end removes the transfer from the session.
 *
 * This replaces the transfer's [callback@WriteFunc] or
 * [property@Transfer:output-stream], if any, and the body is not
 * collected in memory; the write function is unset when the transfer completed.
 *
 * Since: 0.1
 */
void
gmulti_session_send_async (GMultiSession       *self,
                           GMultiTransfer      *transfer,
                           int                  io_priority,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GMultiAsyncOp *op;

  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (GMULTI_IS_TRANSFER (transfer));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (self, OP_STREAM, transfer, io_priority, cancellable, callback, user_data,
               gmulti_session_send_async, "[gmulti] send");
  op_start (op, NULL, cancellable);
  gmulti_async_op_unref (op);
}

/**
 * gmulti_session_send_finish:
 * @self: a session
 * @result: the result passed to the callback of [method@Session.send_async]
 * @error: return location for an error
 *
 * Gets the stream of the response body of a transfer started with
 * [method@Session.send_async]. The response's status and headers are available
 * from the transfer at this point. An HTTP error status such as 404 is not an error.
 *
 * Returns: (transfer full): the response body as a stream, or %NULL with @error set if
 *   the transfer failed before its response headers arrived (%G_IO_ERROR_CANCELLED if
 *   the call was cancelled or the transfer removed)
 *
 * Since: 0.1
 */
GInputStream *
gmulti_session_send_finish (GMultiSession  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        gmulti_session_send_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * gmulti_session_download_async:
 * @self: a session
 * @transfer: a transfer not added to any session or engine
 * @destination: the file to write the response body to; it is created, or replaced if
 *   it exists, once the whole body is written
 * @io_priority: the I/O priority of the request and of the file operations
 * @cancellable: (nullable): a cancellable; cancelling it removes @transfer from the
 *   session and leaves @destination as it was
 * @callback: (scope async): called when the body is written and the file closed, or
 *   the download failed
 * @user_data: data for @callback
 *
 * Adds @transfer to the session and writes its response body to @destination with
 * asynchronous writes. While a write is in progress the transfer is held back, so a
 * slow disk slows the download down instead of filling memory; this is not a pause
 * ([property@Transfer:paused] stays as the application set it, and its own pause holds
 * until its resume).
 *
 * The body goes to a new file beside @destination, in the same directory under a
 * hidden, unique name (`.NAME.XXXXXX`), which is renamed over @destination once the
 * whole body is written and the file closed. So @destination is never seen partly
 * written: if the download fails or is cancelled, at whatever point, it is left as it
 * was (absent, or with its old contents) and the temporary file is removed. The
 * directory must be writable. The file gets the permissions of any new file (0666
 * less the process's umask), also when it replaces one.
 *
 * As with [method@Session.send_and_read_async], an HTTP error status is not an error: the
 * server's answer (an error page, say) becomes the file; check
 * [property@Transfer:status] before using it.
 *
 * This replaces the transfer's [callback@WriteFunc] or
 * [property@Transfer:output-stream], if any, and the body is not
 * collected in memory; the write function is unset when the transfer completed.
 *
 * Since: 0.1
 */
void
gmulti_session_download_async (GMultiSession       *self,
                               GMultiTransfer      *transfer,
                               GFile               *destination,
                               int                  io_priority,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GMultiAsyncOp *op;

  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (GMULTI_IS_TRANSFER (transfer));
  g_return_if_fail (G_IS_FILE (destination));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (self, OP_DOWNLOAD, transfer, io_priority, cancellable, callback, user_data,
               gmulti_session_download_async, "[gmulti] download");
  op_start (op, destination, cancellable);
  gmulti_async_op_unref (op);
}

/**
 * gmulti_session_download_finish:
 * @self: a session
 * @result: the result passed to the callback of [method@Session.download_async]
 * @error: return location for an error
 *
 * Finishes a download started with [method@Session.download_async].
 *
 * Returns: %TRUE if the whole body was written and the file put in place of the
 *   destination; %FALSE with @error set if the transfer or a file operation failed
 *   (%G_IO_ERROR_CANCELLED if the call was cancelled or the transfer removed), the
 *   destination then being as it was before the call
 *
 * Since: 0.1
 */
gboolean
gmulti_session_download_finish (GMultiSession  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        gmulti_session_download_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
