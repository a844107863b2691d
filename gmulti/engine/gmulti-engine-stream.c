/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-engine-private.h"
#include "gmulti-protocol.h"
#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-i18n-private.h"

/* What a protocol reports about a stream, and what it means for the transfer: its
 * phases, whether a redirect is followed, a retry on a new connection, the end. The
 * protocol tells the pool about the connection itself, by the return value of its
 * operations; none of these calls touch the connection. */

/* How long a request with "Expect: 100-continue" waits before sending its body anyway. */
#define GMULTI_EXPECT_CONTINUE_WAIT_US (1000 * G_TIME_SPAN_MILLISECOND)

void
gmulti_stream_wait_continue (GMultiTransfer *transfer)
{
  GMultiEngine *engine = transfer->run.engine;

  transfer->run.continue_deadline = engine->now + GMULTI_EXPECT_CONTINUE_WAIT_US;
  gmulti_engine_set_phase (engine, transfer, GMULTI_RUN_WAIT_CONTINUE);
}

void
gmulti_stream_continue (GMultiTransfer *transfer)
{
  transfer->run.continue_deadline = 0;
  gmulti_engine_set_phase (transfer->run.engine, transfer, GMULTI_RUN_SENDING);
}

void
gmulti_stream_request_sent (GMultiTransfer *transfer)
{
  /* Still waiting for "100 Continue" means the body was dropped: an early answer. */
  if (transfer->run.phase == GMULTI_RUN_SENDING)
    gmulti_engine_set_phase (transfer->run.engine, transfer, GMULTI_RUN_RECEIVING);
}

/* The response head says redirect and the transfer follows redirects. */
static gboolean
wants_redirect (GMultiTransfer *transfer)
{
  guint status = transfer->status;

  if (!transfer->follow_redirects)
    return FALSE;
  if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
    return FALSE;
  return transfer->response_headers != NULL &&
         gmulti_headers_get_one (transfer->response_headers, "Location") != NULL;
}

GMultiStreamVerdict
gmulti_stream_headers (GMultiTransfer *transfer,
                       GError         *body_error)
{
  GMultiTransferRun *run = &transfer->run;

  gmulti_engine_set_phase (run->engine, transfer, GMULTI_RUN_RECEIVING);
  run->following = wants_redirect (transfer);
  if (run->following)
    {
      g_clear_error (&body_error);
      return GMULTI_STREAM_DISCARD;
    }
  if (G_UNLIKELY (body_error != NULL))
    {
      gmulti_stream_failed (transfer, body_error, FALSE);
      return GMULTI_STREAM_FAILED;
    }
  gmulti_transfer_emit_response_headers (transfer);
  return GMULTI_STREAM_DELIVER;
}

void
gmulti_stream_done (GMultiTransfer *transfer)
{
  GMultiEngine *engine = transfer->run.engine;

  transfer->run.conn = NULL;
  gmulti_transfer_report_progress (transfer, TRUE);
  gmulti_engine_finish_transfer (engine, transfer, NULL);
}

static gboolean
method_is_idempotent (const char *method)
{
  static const char *const idempotent[] = {
    "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE",
  };

  for (guint i = 0; i < G_N_ELEMENTS (idempotent); i++)
    if (strcmp (method, idempotent[i]) == 0)
      return TRUE;
  return FALSE;
}

/* A stale pooled connection failed the request: try again once, on a new connection.
 * Returns TRUE when the transfer was retried (*@error is freed then), FALSE when it may
 * not be (*@error may get a prefix saying why). */
static gboolean
retry (GMultiEngine   *engine,
       GMultiTransfer *transfer,
       GError        **error)
{
  GMultiTransferRun *run = &transfer->run;

  if (run->retried_stale || run->conn_is_new)
    return FALSE;
  if (!method_is_idempotent (run->method))
    {
      /* Say why this one failed where a GET would have been sent again. */
      g_prefix_error (error, _("The %s request was not sent again on a new connection, as "
                               "the server may have acted on it: "), run->method);
      return FALSE;
    }
  if (gmulti_transfer_has_request_body (transfer) && !run->body_dropped &&
      !gmulti_transfer_rewind_request_body (transfer))
    {
      g_prefix_error (error, _("The %s request was not sent again on a new connection, as "
                               "its body cannot be sent again: "), run->method);
      return FALSE;
    }

  g_debug ("Retrying %s on a fresh connection: %s", transfer->effective_uri, (*error)->message);
  g_clear_error (error);
  run->retried_stale = TRUE;
  g_clear_pointer (&run->unsent, g_byte_array_unref);
  gmulti_transfer_begin_hop (transfer);
  gmulti_engine_set_phase (engine, transfer, GMULTI_RUN_INIT);
  gmulti_engine_schedule (engine, transfer);
  return TRUE;
}

void
gmulti_stream_failed (GMultiTransfer *transfer,
                      GError         *error,
                      gboolean        retry_safe)
{
  GMultiEngine *engine = transfer->run.engine;

  transfer->run.conn = NULL;
  if (retry_safe && retry (engine, transfer, &error))
    return;
  gmulti_engine_abort_transfer (engine, transfer, error);
}

void
gmulti_stream_yield (GMultiTransfer *transfer)
{
  gmulti_engine_yield (transfer->run.engine, transfer);
}
