/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "gmulti-transfer.h"

G_BEGIN_DECLS

/* The GInputStream returned by gmulti_session_send_async(): the transfer's body
 * bytes are pushed in from its write function and read out by the application.
 *
 * The buffer is bounded: when it holds max_buffered bytes or more the stream pauses the
 * transfer, and resumes it once reads have drained it to half of that. Reads are meant
 * to be asynchronous; a synchronous read returns what is buffered and fails with
 * G_IO_ERROR_WOULD_BLOCK rather than block when nothing is. A pending asynchronous read
 * is completed from an idle callback of the stream's context, never from inside the
 * push, so application callbacks do not run inside the engine. */

#define GMULTI_TYPE_BODY_STREAM (gmulti_body_stream_get_type ())
G_DECLARE_FINAL_TYPE (GMultiBodyStream, gmulti_body_stream, GMULTI, BODY_STREAM, GInputStream)

/* Called once, when the stream is closed (or finalized) before the body ended. */
typedef void (*GMultiBodyStreamCloseFunc) (GMultiBodyStream *stream,
                                           gpointer          user_data);

/* The stream is bound to the thread-default context at creation. */
GMultiBodyStream *gmulti_body_stream_new            (GMultiTransfer *transfer,
                                                     gsize           max_buffered);
void              gmulti_body_stream_set_close_func (GMultiBodyStream         *self,
                                                     GMultiBodyStreamCloseFunc func,
                                                     gpointer                  user_data,
                                                     GDestroyNotify            destroy);
/* Appends body bytes; pauses the transfer when the buffer is full. */
void              gmulti_body_stream_push           (GMultiBodyStream *self,
                                                     const guint8     *data,
                                                     gsize             length);
/* The body ended: readers get what is buffered, then 0, or @error (copied) if set. */
void              gmulti_body_stream_end            (GMultiBodyStream *self,
                                                     const GError     *error);
gboolean          gmulti_body_stream_is_ended       (GMultiBodyStream *self);
gsize             gmulti_body_stream_get_buffered   (GMultiBodyStream *self);

G_END_DECLS
