/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-session.h"
#include "gmulti-tls-options.h"
#include "engine/gmulti-defaults.h"

G_BEGIN_DECLS

/* An asynchronous call (send_and_read, send, download) waiting on one transfer
 * (gmulti-session-async.c). Reference counted: the session's entry, the transfer's
 * write function and the GIO callbacks in flight each hold one. */
typedef struct _GMultiAsyncOp GMultiAsyncOp;

GMultiAsyncOp *gmulti_async_op_ref     (GMultiAsyncOp *op);
void           gmulti_async_op_unref   (GMultiAsyncOp *op);

/* The transfer is about to be handed to the engine: set the write function. */
void           gmulti_async_op_install (GMultiAsyncOp *op);
/* The transfer left the session (completed or removed); the operation no longer
 * touches it through the session. */
void           gmulti_async_op_detach  (GMultiAsyncOp *op);
/* The engine let go of @transfer: drops the write function of a detached operation. */
void           gmulti_async_op_release_write_func (GMultiTransfer *transfer);
/* The transfer completed and was removed, before its signals: keep the result. */
void           gmulti_async_op_transfer_completed (GMultiAsyncOp *op);
/* ... and after its signals: finish the call with the result (error NULL: success). */
void           gmulti_async_op_transfer_done (GMultiAsyncOp *op,
                                              const GError  *error);
/* The transfer was removed or the session went away: fail with @error. */
void           gmulti_async_op_abort   (GMultiAsyncOp *op,
                                        const GError  *error);
/* Queued with gmulti_session_queue_ready_op(): complete what can be completed now. */
void           gmulti_async_op_ready   (GMultiAsyncOp *op);

/* Session internals for the asynchronous calls (gmulti-session.c). */
gboolean       gmulti_session_check_addable (GMultiSession   *self,
                                             GMultiTransfer  *transfer,
                                             GError         **error);
/* Adds @transfer on behalf of @op (NULL for a plain add). */
gboolean       gmulti_session_attach        (GMultiSession   *self,
                                             GMultiTransfer  *transfer,
                                             GMultiAsyncOp   *op,
                                             GError         **error);
/* Calls gmulti_async_op_ready() once the engine returned. */
void           gmulti_session_queue_ready_op (GMultiSession *self,
                                              GMultiAsyncOp *op);
/* The session's GSource, for tests (see gmulti-session-source-private.h). */
GSource       *gmulti_session_get_source    (GMultiSession *self);
/* The session's TLS options, for gmulti-session-tls.c: read them with
 * gmulti_session_get_tls_options(); change them on a copy of the session's defaults
 * (gmulti_session_edit_defaults()) that gmulti_session_commit_tls() publishes and
 * notifies when @changed (a mask from gmulti-tls-options.h) is not 0, and drops
 * otherwise. */
const GMultiTlsOptions *gmulti_session_get_tls_options (GMultiSession *self);
GMultiDefaults *gmulti_session_edit_defaults (GMultiSession  *self);
void           gmulti_session_commit_tls     (GMultiSession  *self,
                                              GMultiDefaults *edited,
                                              guint           changed);

G_END_DECLS
