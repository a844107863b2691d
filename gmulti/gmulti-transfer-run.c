/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-transfer-object-private.h"
#include "engine/gmulti-defaults.h"

/* The transfer and its run: the request the run takes when it starts, and what the
 * run tells the transfer, where every signal and property notification of a running
 * transfer begins. */

static GMultiTransfer *
owner_of (GMultiRun *run)
{
  return run->owner;
}

GMultiRun *
gmulti_transfer_get_run (GMultiTransfer *self)
{
  return &self->run;
}

gboolean
gmulti_transfer_prepare_run (GMultiTransfer *self,
                             GError        **error)
{
  GMultiRun *run = &self->run;
  GMultiRunRequest *request = &run->request;
  const GMultiDefaults *defaults = run->defaults;

  gmulti_transfer_begin_run (self);
  if (!gmulti_transfer_validate (self, error))
    return FALSE;

  /* The request cannot be replaced while the transfer runs (check_not_running()), and
   * the transfer outlives its run: borrowed pointers, nothing copied or referenced. */
  request->uri = self->uri;
  request->parsed_uri = self->parsed_uri;
  request->method = gmulti_transfer_request_method (self);
  request->headers = self->request_headers;
  request->body = self->request_body;
  request->has_body = gmulti_transfer_has_request_body (self);
  request->body_length = self->request_body_length;
  request->tls = &self->tls;
  request->cookies = gmulti_transfer_cookie_hook (self);
  request->auth = gmulti_transfer_auth_hook (self, defaults);
  request->tls_verifier = gmulti_transfer_tls_verifier (self);
  request->hsts = gmulti_transfer_hsts_hook (self);
  request->first_party_uri = self->first_party_uri;
  request->timeout_ms = self->timeout_set ? self->timeout_ms : defaults->timeout_ms;
  request->http_version = self->http_version != GMULTI_HTTP_VERSION_AUTO
                          ? self->http_version : defaults->http_version;
  request->decode_content = self->decode_content_set ? self->decode_content
                                                     : defaults->decode_content;
  request->unix_socket_path = self->unix_socket_path != NULL ? self->unix_socket_path
                                                             : defaults->unix_socket_path;
  request->proxy_uri = self->proxy_uri;
  request->own_proxy_resolver = gmulti_transfer_proxy_resolver_for_run (self);
  gmulti_transfer_sync_run_options (self);
  return TRUE;
}

void
gmulti_transfer_sync_run_options (GMultiTransfer *self)
{
  GMultiRun *run = &self->run;
  GMultiRunRequest *request = &run->request;

  /* Not started: the run takes them when it does. */
  if (run->defaults == NULL)
    return;
  request->connect_timeout_ms = self->connect_timeout_set ? self->connect_timeout_ms
                                                          : run->defaults->connect_timeout_ms;
  request->low_speed_limit = self->low_speed_limit;
  request->low_speed_time = self->low_speed_time;
  request->follow_redirects = self->follow_redirects;
  request->max_redirects = self->max_redirects;
}

/* ------------------------------------------------------------ the observer */

static void
run_added (GMultiRun *run)
{
  GMultiTransfer *self = owner_of (run);

  gmulti_transfer_reset_response (self);
  gmulti_transfer_set_state (self, GMULTI_TRANSFER_PENDING);
}

static gboolean
run_prepare (GMultiRun *run,
             GError   **error)
{
  return gmulti_transfer_prepare_run (owner_of (run), error);
}

static void
run_phase_changed (GMultiRun *run)
{
  static const GMultiTransferState public_state[] = {
    [GMULTI_RUN_NONE] = GMULTI_TRANSFER_IDLE,
    [GMULTI_RUN_INIT] = GMULTI_TRANSFER_PENDING,
    [GMULTI_RUN_PROXY_LOOKUP] = GMULTI_TRANSFER_PENDING,
    [GMULTI_RUN_RESOLVING] = GMULTI_TRANSFER_PENDING,
    [GMULTI_RUN_WAIT_SLOT] = GMULTI_TRANSFER_PENDING,
    [GMULTI_RUN_CONNECTING] = GMULTI_TRANSFER_CONNECTING,
    [GMULTI_RUN_SENDING] = GMULTI_TRANSFER_SENDING,
    [GMULTI_RUN_WAIT_CONTINUE] = GMULTI_TRANSFER_SENDING,
    [GMULTI_RUN_RECEIVING] = GMULTI_TRANSFER_RECEIVING,
    [GMULTI_RUN_DONE] = GMULTI_TRANSFER_DONE,
  };

  gmulti_transfer_set_state (owner_of (run), public_state[run->phase]);
}

static void
run_new_hop (GMultiRun *run)
{
  gmulti_transfer_begin_hop (owner_of (run));
}

static void
run_response_head (GMultiRun *run)
{
  gmulti_transfer_emit_response_headers (owner_of (run));
}

static void
run_progress (GMultiRun *run,
              gboolean   force)
{
  gmulti_transfer_report_progress (owner_of (run), force);
}

static void
run_finished (GMultiRun *run)
{
  GMultiTransfer *self = owner_of (run);

  gmulti_transfer_auth_run_ended (self);
  gmulti_transfer_set_state (self, GMULTI_TRANSFER_DONE);
  gmulti_transfer_report_progress (self, TRUE);
}

static void
run_cancelled (GMultiRun *run,
               gboolean   never_started)
{
  /* An application answer still awaited goes nowhere now. */
  gmulti_transfer_auth_run_ended (owner_of (run));
  gmulti_transfer_cancelled (owner_of (run), never_started);
}

static void
run_released (GMultiRun *run)
{
  GMultiTransfer *self = owner_of (run);

  if (self->state != GMULTI_TRANSFER_DONE)
    gmulti_transfer_set_state (self, GMULTI_TRANSFER_IDLE);
}

const GMultiRunObserver gmulti_transfer_run_observer = {
  .added = run_added,
  .prepare = run_prepare,
  .phase_changed = run_phase_changed,
  .new_hop = run_new_hop,
  .response_head = run_response_head,
  .progress = run_progress,
  .finished = run_finished,
  .cancelled = run_cancelled,
  .released = run_released,
};

/* -------------------------------------------------- the body source and sink */

static gssize
io_read_body (GMultiRun *run,
              guint8    *buffer,
              gsize      length,
              GError   **error)
{
  return gmulti_transfer_read_request_body (owner_of (run), buffer, length, error);
}

static gboolean
io_rewind_body (GMultiRun *run)
{
  return gmulti_transfer_rewind_request_body (owner_of (run));
}

static GMultiBodyWriter *
io_body_sink (GMultiRun *run)
{
  GMultiTransfer *self = owner_of (run);

  return gmulti_transfer_body_init (&self->body, self);
}

const GMultiRunIo gmulti_transfer_run_io = {
  .read_body = io_read_body,
  .rewind_body = io_rewind_body,
  .body_sink = io_body_sink,
};
