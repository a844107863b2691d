/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-engine-private.h"
#include "tls/gmulti-tls-config.h"

/* A run: what the engine keeps of a transfer while it runs, and the one way up from
 * the engine and the protocols to whoever owns the run. Every call upward goes through
 * the helpers here, so the order in which the owner hears of things is the order in
 * which the engine calls them, and nothing else in the engine knows what the owner is. */

void
gmulti_run_init (GMultiRun               *run,
                 GMultiTransfer          *owner,
                 const GMultiRunObserver *observer,
                 const GMultiRunIo       *io)
{
  /* @run is zeroed already: it lives in its owner's instance. */
  run->owner = owner;
  run->observer = observer;
  run->io = io;
  run->timer.kind = GMULTI_TIMER_TRANSFER;
  run->bytes_expected = -1;
}

static void
clear_request (GMultiRunRequest *request)
{
  memset (request, 0, sizeof *request);
}

static void
clear_hop (GMultiRun *run)
{
  memset (&run->pool_key, 0, sizeof run->pool_key);
  g_clear_pointer (&run->chain, g_free);
  g_clear_pointer (&run->proxy, gmulti_proxy_unref);
  g_clear_pointer (&run->target_prefix, g_free);
  g_clear_pointer (&run->proxy_authorization, g_free);
  g_clear_pointer (&run->host, g_free);
  run->target = NULL;
  run->host_header = NULL;
  g_clear_pointer (&run->hop_headers, gmulti_headers_unref);
}

void
gmulti_run_clear_hop (GMultiRun *run)
{
  clear_hop (run);
}

void
gmulti_run_clear (GMultiRun *run)
{
  clear_hop (run);
  clear_request (&run->request);
  g_clear_pointer (&run->tls_config, gmulti_tls_config_unref);
  g_clear_pointer (&run->redirect_method, g_free);
  g_clear_pointer (&run->defaults, gmulti_defaults_unref);
  g_clear_pointer (&run->cookies, gmulti_hop_hook_unref);
  g_clear_pointer (&run->auth, gmulti_hop_hook_unref);
  run->repeating = FALSE;
  /* Held for an answer when it ended (removed, timed out): the pause was the hold's. */
  if (run->hop_held)
    run->paused = run->held_paused;
  run->hop_held = FALSE;
  run->auth_repeats = 0;
  g_clear_pointer (&run->hsts, gmulti_hop_hook_unref);
  g_clear_pointer (&run->own_proxy, gmulti_proxy_unref);
}

void
gmulti_run_clear_hop_response (GMultiRun *run)
{
  run->status = 0;
  g_clear_pointer (&run->reason, g_free);
  g_clear_pointer (&run->response_headers, gmulti_headers_unref);
  g_clear_pointer (&run->response_trailers, gmulti_headers_unref);
  run->bytes_expected = -1;
  run->bytes_received = 0;
  run->wire_bytes_received = 0;
  run->content_decoded = FALSE;
  run->bytes_sent = 0;
  g_clear_pointer (&run->tls_peer, gmulti_tls_peer_unref);
}

void
gmulti_run_free_response (GMultiRun *run)
{
  gmulti_run_clear_hop_response (run);
  g_clear_pointer (&run->effective_uri, g_free);
  g_clear_error (&run->error);
}

void
gmulti_run_notify_added (GMultiRun *run)
{
  run->observer->added (run);
}

gboolean
gmulti_run_notify_prepare (GMultiRun *run,
                           GError   **error)
{
  clear_request (&run->request);
  return run->observer->prepare (run, error);
}

void
gmulti_run_notify_phase (GMultiRun *run)
{
  run->observer->phase_changed (run);
}

void
gmulti_run_notify_new_hop (GMultiRun *run)
{
  /* The owner clears the hop's response with its own state (gmulti_transfer_begin_hop()). */
  run->observer->new_hop (run);
}

void
gmulti_run_notify_response_head (GMultiRun *run)
{
  run->observer->response_head (run);
}

void
gmulti_run_notify_progress (GMultiRun *run,
                            gboolean   force)
{
  run->observer->progress (run, force);
}

void
gmulti_run_notify_finished (GMultiRun *run,
                            GError    *error)
{
  g_clear_error (&run->error);
  run->error = error;
  run->observer->finished (run);
}

void
gmulti_run_notify_cancelled (GMultiRun *run,
                             gboolean   never_started)
{
  run->observer->cancelled (run, never_started);
}

void
gmulti_run_notify_released (GMultiRun *run)
{
  run->observer->released (run);
}

gssize
gmulti_run_read_body (GMultiRun *run,
                      guint8    *buffer,
                      gsize      length,
                      GError   **error)
{
  return run->io->read_body (run, buffer, length, error);
}

gboolean
gmulti_run_rewind_body (GMultiRun *run)
{
  return run->io->rewind_body (run);
}

GMultiBodyWriter *
gmulti_run_body_sink (GMultiRun *run)
{
  return run->io->body_sink (run);
}
