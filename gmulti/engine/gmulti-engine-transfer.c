/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-engine-private.h"
#include "tls/gmulti-tls-config.h"
#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-i18n-private.h"
#include "gmulti-protocol.h"
#include "gmulti-redirect.h"

/* The life of a transfer inside the engine: start (validate, resolve, get a
 * connection), the deadlines, redirects and retries, and the end (message queued). */

void
gmulti_transfer_run_init (GMultiTransferRun *run)
{
  memset (run, 0, sizeof *run);
  run->timer.kind = GMULTI_TIMER_TRANSFER;
}

static void
clear_hop (GMultiTransferRun *run)
{
  memset (&run->pool_key, 0, sizeof run->pool_key);
  g_clear_pointer (&run->host, g_free);
  g_clear_pointer (&run->target, g_free);
  g_clear_pointer (&run->host_header, g_free);
  g_clear_pointer (&run->unsent, g_byte_array_unref);
  g_clear_pointer (&run->hop_headers, gmulti_headers_unref);
}

void
gmulti_transfer_run_clear (GMultiTransferRun *run)
{
  clear_hop (run);
  g_clear_pointer (&run->tls_config, gmulti_tls_config_unref);
  g_clear_pointer (&run->redirect_method, g_free);
  g_clear_pointer (&run->defaults, gmulti_defaults_unref);
}

/* Fills in origin, host, target and Host header of the hop from the effective URI. */
static gboolean
prepare_hop (GMultiTransfer *transfer,
             GError        **error)
{
  GMultiTransferRun *run = &transfer->run;
  GMultiRequestTarget target;

  clear_hop (run);
  /* The first hop reuses the URI the transfer parsed when it was set. */
  if (transfer->parsed_uri != NULL && g_strcmp0 (transfer->effective_uri, transfer->uri) == 0)
    {
      if (!gmulti_request_target_from_uri (transfer->parsed_uri, transfer->uri, &target, error))
        return FALSE;
    }
  else if (!gmulti_request_target_parse (transfer->effective_uri, &target, error))
    return FALSE;

  run->tls = target.tls;
  if (run->tls && run->tls_config == NULL)
    {
      run->tls_config = gmulti_tls_config_new (&transfer->tls, &run->defaults->tls, error);
      if (run->tls_config == NULL)
        {
          gmulti_request_target_clear (&target);
          return FALSE;
        }
    }
  g_free (target.origin);
  run->host = g_steal_pointer (&target.host);
  run->port = target.port;
  /* Connections are shared only between identical TLS settings. */
  gmulti_pool_key_init (&run->pool_key, run->tls, run->host, run->port, "",
                        run->tls_config);
  run->target = g_steal_pointer (&target.target);
  run->host_header = g_steal_pointer (&target.host_header);
  run->method = run->redirect_method != NULL ? run->redirect_method
                                              : gmulti_transfer_request_method (transfer);
  run->head_request = strcmp (run->method, "HEAD") == 0;
  /* Read for every hop, as the transfer's own value may change while it runs. */
  run->connect_timeout_ms = transfer->connect_timeout_set ? transfer->connect_timeout_ms
                                                          : run->defaults->connect_timeout_ms;
  return TRUE;
}

void
gmulti_engine_update_transfer_timer (GMultiEngine   *self,
                                     GMultiTransfer *transfer)
{
  GMultiTransferRun *run = &transfer->run;
  gint64 next = 0;

#define CONSIDER(d) if ((d) > 0 && (next == 0 || (d) < next)) next = (d)
  CONSIDER (run->total_deadline);
  if (run->phase == GMULTI_RUN_RESOLVING || run->phase == GMULTI_RUN_CONNECTING)
    CONSIDER (run->connect_deadline);
  if (run->phase == GMULTI_RUN_WAIT_CONTINUE)
    CONSIDER (run->continue_deadline);
  if (run->phase >= GMULTI_RUN_SENDING && run->phase < GMULTI_RUN_DONE)
    CONSIDER (run->low_speed_check);
#undef CONSIDER

  if (next == 0)
    gmulti_timer_heap_remove (&self->timers, &run->timer.node);
  else if (run->timer.node.deadline != next || !gmulti_timer_node_is_armed (&run->timer.node))
    gmulti_timer_heap_set (&self->timers, &run->timer.node, next);
}

static void set_phase (GMultiEngine *self, GMultiTransfer *transfer, GMultiRunPhase phase);

static void
set_phase (GMultiEngine   *self,
           GMultiTransfer *transfer,
           GMultiRunPhase  phase)
{
  static const GMultiTransferState public_state[] = {
    [GMULTI_RUN_NONE] = GMULTI_TRANSFER_IDLE,
    [GMULTI_RUN_INIT] = GMULTI_TRANSFER_PENDING,
    [GMULTI_RUN_RESOLVING] = GMULTI_TRANSFER_PENDING,
    [GMULTI_RUN_WAIT_SLOT] = GMULTI_TRANSFER_PENDING,
    [GMULTI_RUN_CONNECTING] = GMULTI_TRANSFER_CONNECTING,
    [GMULTI_RUN_SENDING] = GMULTI_TRANSFER_SENDING,
    [GMULTI_RUN_WAIT_CONTINUE] = GMULTI_TRANSFER_SENDING,
    [GMULTI_RUN_RECEIVING] = GMULTI_TRANSFER_RECEIVING,
    [GMULTI_RUN_DONE] = GMULTI_TRANSFER_DONE,
  };

  if (transfer->run.phase == phase)
    return;
  transfer->run.phase = phase;
  if (phase != GMULTI_RUN_DONE)
    gmulti_transfer_set_state (transfer, public_state[phase]);
  gmulti_engine_update_transfer_timer (self, transfer);
}

void
gmulti_engine_set_phase (GMultiEngine   *self,
                         GMultiTransfer *transfer,
                         GMultiRunPhase  phase)
{
  set_phase (self, transfer, phase);
}

void
gmulti_engine_begin_exchange (GMultiEngine     *self,
                              GMultiTransfer   *transfer,
                              GMultiConnection *conn)
{
  transfer->run.conn = conn;
  transfer->metrics.connection_id = conn->id;
  transfer->metrics.connection_reused = !transfer->run.conn_is_new;
  if (transfer->run.low_speed_check == 0 && transfer->low_speed_limit > 0)
    {
      transfer->run.low_speed_check = self->now + G_USEC_PER_SEC;
      transfer->run.low_speed_bytes = 0;
      transfer->run.low_speed_since = 0;
    }
  set_phase (self, transfer, GMULTI_RUN_SENDING);
  gmulti_pool_start_stream (self, conn, transfer);
}

static void
resolved_cb (const GMultiAddress *addresses,
             guint                n_addresses,
             const GError        *resolve_error,
             gpointer             user_data)
{
  GMultiTransfer *transfer = user_data;
  GMultiEngine *self = transfer->run.engine;
  GMultiConnection *conn = transfer->run.conn;
  GError *error = NULL;

  transfer->run.resolve = NULL;
  transfer->metrics.name_lookup_time = self->now - transfer->run.start_us;

  if (resolve_error != NULL)
    {
      gmulti_engine_abort_transfer (self, transfer, g_error_copy (resolve_error));
      return;
    }

  if (!gmulti_connection_connect (conn, addresses, n_addresses, &error))
    {
      gmulti_engine_abort_transfer (self, transfer, error);
      return;
    }
  set_phase (self, transfer, GMULTI_RUN_CONNECTING);
}

static void
ensure_resolver (GMultiEngine *self)
{
  if (self->resolver != NULL)
    return;
  self->resolver = gmulti_resolver_new ();
  if (self->resolver == NULL)
    return;
  self->resolver_socket = gmulti_socket_table_add (&self->sockets,
                                                   gmulti_resolver_get_fd (self->resolver),
                                                   GMULTI_SOCKET_RESOLVER, self);
  self->resolver_socket->borrowed = TRUE;
}

void
gmulti_engine_update_resolver_interest (GMultiEngine *self)
{
  if (self->resolver_socket == NULL)
    return;
  gmulti_engine_want_socket (self, self->resolver_socket,
                             gmulti_resolver_get_n_pending (self->resolver) > 0
                             ? GMULTI_POLL_IN : GMULTI_POLL_NONE);
}

/* The transfer has its connection from the pool: begins the exchange on an idle one,
 * or resolves the name for a new one. */
static void
use_connection (GMultiEngine     *self,
                GMultiTransfer   *transfer,
                GMultiConnection *conn,
                gboolean          is_new)
{
  transfer->run.conn_is_new = is_new;
  if (!is_new)
    {
      gmulti_engine_begin_exchange (self, transfer, conn);
      return;
    }

  conn->connecting = transfer;
  transfer->run.conn = conn;
  if (transfer->run.connect_timeout_ms > 0)
    transfer->run.connect_deadline = self->now +
                                     (gint64) transfer->run.connect_timeout_ms * 1000;
  set_phase (self, transfer, GMULTI_RUN_RESOLVING);

  ensure_resolver (self);
  if (self->resolver == NULL)
    {
      gmulti_engine_abort_transfer (self, transfer,
                                    g_error_new (GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED,
                                                 _("Could not start name resolution: %s"),
                                                 g_strerror (errno)));
      return;
    }
  transfer->run.resolve = gmulti_resolver_lookup (self->resolver, transfer->run.host,
                                                  transfer->run.port, resolved_cb, transfer);
  gmulti_engine_update_resolver_interest (self);
}

void
gmulti_engine_start_waiter (GMultiEngine   *self,
                            GMultiTransfer *transfer,
                            GMultiHost     *host)
{
  gboolean is_new;
  GMultiConnection *conn = gmulti_pool_acquire (self, host, transfer, &is_new);

  /* The pool picked it because it can start; if it cannot after all, it keeps its
   * place. */
  if (conn == NULL)
    return;
  gmulti_pool_unwait (self, transfer);
  use_connection (self, transfer, conn, is_new);
}

/* Gets the transfer a connection, or a place at the end of the queue. */
static void
acquire_connection (GMultiEngine   *self,
                    GMultiTransfer *transfer)
{
  GMultiHost *host;
  GMultiConnection *conn;
  gboolean is_new;

  /* Those already waiting go first: a slot freed in this turn is theirs. */
  if (self->pool_changed)
    gmulti_pool_dispatch (self);

  host = gmulti_pool_get_host (self, &transfer->run.pool_key);
  conn = gmulti_pool_acquire (self, host, transfer, &is_new);
  if (conn == NULL)
    {
      set_phase (self, transfer, GMULTI_RUN_WAIT_SLOT);
      gmulti_pool_wait (self, host, transfer);
      return;
    }
  use_connection (self, transfer, conn, is_new);
}

/* Steps a transfer taken from the ready queue. */
void
gmulti_engine_step_transfer (GMultiEngine   *self,
                             GMultiTransfer *transfer)
{
  GMultiTransferRun *run = &transfer->run;
  GError *error = NULL;

  switch (run->phase)
    {
    case GMULTI_RUN_INIT:
      if (run->start_us == 0)
        {
          run->start_us = self->now;
          /* The defaults in effect now hold for the whole run. */
          g_clear_pointer (&run->defaults, gmulti_defaults_unref);
          run->defaults = gmulti_defaults_ref (self->defaults);
          gmulti_transfer_begin_run (transfer);
          if (!gmulti_transfer_validate (transfer, &error))
            {
              gmulti_engine_abort_transfer (self, transfer, error);
              return;
            }
          /* A default User-Agent that could not be set must not leave out silently
           * either: nothing goes out until a valid one is set. */
          if (run->defaults->user_agent_error != NULL)
            {
              gmulti_engine_abort_transfer (self, transfer,
                                            g_error_copy (run->defaults->user_agent_error));
              return;
            }
          run->timeout_ms = transfer->timeout_set ? transfer->timeout_ms
                                                  : run->defaults->timeout_ms;
          if (run->timeout_ms > 0)
            run->total_deadline = run->start_us + (gint64) run->timeout_ms * 1000;
        }
      if (!prepare_hop (transfer, &error))
        {
          gmulti_engine_abort_transfer (self, transfer, error);
          return;
        }
      acquire_connection (self, transfer);
      break;

    case GMULTI_RUN_WAIT_SLOT:
      /* Resumed while waiting: the pool starts it when its turn comes. */
      break;

    case GMULTI_RUN_SENDING:
    case GMULTI_RUN_WAIT_CONTINUE:
    case GMULTI_RUN_RECEIVING:
      /* Resumed after a pause. */
      if (run->conn != NULL)
        gmulti_pool_resume_stream (self, run->conn, transfer);
      break;

    default:
      break;
    }
}

/* Takes the transfer off everything it is queued on or using. The connection is pooled
 * if its state allows, closed otherwise. */
void
gmulti_engine_detach_transfer (GMultiEngine   *self,
                               GMultiTransfer *transfer)
{
  GMultiTransferRun *run = &transfer->run;

  if (run->resolve != NULL)
    {
      gmulti_resolver_cancel (self->resolver, run->resolve);
      run->resolve = NULL;
      gmulti_engine_update_resolver_interest (self);
    }
  if (run->in_pending)
    gmulti_pool_unwait (self, transfer);
  if (run->in_ready)
    {
      g_queue_unlink (run->in_yielded ? &self->yielded : &self->ready, &run->ready_link);
      run->in_ready = FALSE;
      run->in_yielded = FALSE;
    }
  if (run->conn != NULL)
    {
      GMultiConnection *conn = run->conn;

      run->conn = NULL;
      /* Not ready for requests yet (connecting, in the TLS handshake, or TLS could not
       * even start): nothing it carries is worth keeping. */
      if (conn->protocol == NULL)
        {
          conn->connecting = NULL;
          gmulti_pool_close (self, conn);
        }
      else
        gmulti_pool_reset_stream (self, conn, transfer);
    }
  gmulti_timer_heap_remove (&self->timers, &run->timer.node);
}

static void
queue_message (GMultiEngine   *self,
               GMultiTransfer *transfer,
               GError         *error)
{
  GMultiTransferRun *run = &transfer->run;

  run->phase = GMULTI_RUN_DONE;
  gmulti_timer_heap_remove (&self->timers, &run->timer.node);
  self->n_running--;
  /* The clock, like the exchange's own metrics: the turn's time can be older than a
   * first byte read in this very turn. */
  transfer->metrics.total_time = g_get_monotonic_time () - run->start_us;
  if (run->start_us == 0)
    transfer->metrics.total_time = 0;
  gmulti_transfer_complete (transfer, error);
  run->message.transfer = transfer;
  run->message.error = transfer->error;
  g_queue_push_tail_link (&self->messages, &run->message_link);
  run->in_messages = TRUE;
}

void
gmulti_engine_abort_transfer (GMultiEngine   *self,
                              GMultiTransfer *transfer,
                              GError         *error)
{
  if (transfer->run.phase == GMULTI_RUN_DONE || transfer->run.phase == GMULTI_RUN_NONE)
    {
      g_clear_error (&error);
      return;
    }
  gmulti_engine_detach_transfer (self, transfer);
  queue_message (self, transfer, error);
}

/* Sets the transfer up for the next hop; returns an error if it cannot be followed. */
static GError *
follow_redirect (GMultiEngine   *self,
                 GMultiTransfer *transfer)
{
  GMultiTransferRun *run = &transfer->run;
  const char *location;
  guint status = transfer->status;
  g_autofree char *next = NULL;
  GError *error = NULL;
  gboolean cross_origin;
  gboolean drop_body = FALSE;

  if (run->redirects >= transfer->max_redirects)
    return g_error_new (GMULTI_ERROR, GMULTI_ERROR_TOO_MANY_REDIRECTS,
                        _("Too many redirects: the limit is %u"), transfer->max_redirects);

  location = gmulti_redirect_get_location (transfer->response_headers, &error);
  if (location == NULL)
    return error;
  next = gmulti_redirect_resolve (transfer->effective_uri, location, &cross_origin, &error);
  if (next == NULL)
    return error;

  /* 303 always becomes GET; 301 and 302 turn POST into GET as browsers do; 307 and 308
   * repeat the request as it was. */
  if ((status == 303 && strcmp (run->method, "HEAD") != 0) ||
      ((status == 301 || status == 302) && strcmp (run->method, "POST") == 0))
    {
      g_free (run->redirect_method);
      run->redirect_method = g_strdup ("GET");
      drop_body = TRUE;
    }
  if (drop_body)
    run->body_dropped = TRUE;
  else if (gmulti_transfer_has_request_body (transfer) && !run->body_dropped &&
           !gmulti_transfer_rewind_request_body (transfer))
    return g_error_new (GMULTI_ERROR, GMULTI_ERROR_BAD_REDIRECT,
                        _("Cannot follow the redirect: the request body cannot be sent again"));

  if (cross_origin)
    run->cross_origin = TRUE;

  run->redirects++;
  transfer->metrics.redirect_count = run->redirects;
  transfer->metrics.redirect_time = self->now - run->start_us;
  g_free (transfer->effective_uri);
  transfer->effective_uri = g_steal_pointer (&next);
  gmulti_transfer_begin_hop (transfer);
  return NULL;
}

/* Called when the exchange ended; the connection was released already. */
void
gmulti_engine_finish_transfer (GMultiEngine   *self,
                               GMultiTransfer *transfer,
                               GError         *error)
{
  GMultiTransferRun *run = &transfer->run;

  run->conn = NULL;
  if (error == NULL && run->following)
    {
      run->following = FALSE;
      error = follow_redirect (self, transfer);
      if (error == NULL)
        {
          run->phase = GMULTI_RUN_INIT;
          gmulti_engine_schedule (self, transfer);
          return;
        }
    }
  gmulti_engine_abort_transfer (self, transfer, error);
}

void
gmulti_engine_transfer_deadline (GMultiEngine   *self,
                                 GMultiTransfer *transfer)
{
  GMultiTransferRun *run = &transfer->run;
  gint64 now = self->now;

  if (run->total_deadline > 0 && now >= run->total_deadline)
    {
      gmulti_engine_abort_transfer (self, transfer,
                                    g_error_new (GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT,
                                                 _("The transfer did not complete within %u ms"),
                                                 run->timeout_ms));
      return;
    }

  if ((run->phase == GMULTI_RUN_RESOLVING || run->phase == GMULTI_RUN_CONNECTING) &&
      run->connect_deadline > 0 && now >= run->connect_deadline)
    {
      gmulti_engine_abort_transfer (self, transfer,
                                    g_error_new (GMULTI_ERROR, GMULTI_ERROR_CONNECT_TIMEOUT,
                                                 _("Could not connect to %s within %u ms"),
                                                 run->host, run->connect_timeout_ms));
      return;
    }

  if (run->phase == GMULTI_RUN_WAIT_CONTINUE && run->continue_deadline > 0 &&
      now >= run->continue_deadline)
    {
      gmulti_stream_continue (transfer);
      gmulti_pool_stream_timeout (self, run->conn, transfer);
      if (run->phase == GMULTI_RUN_DONE || run->phase == GMULTI_RUN_NONE)
        return;
    }

  if (run->low_speed_check > 0 && now >= run->low_speed_check &&
      run->phase >= GMULTI_RUN_SENDING && run->phase < GMULTI_RUN_DONE)
    {
      guint64 moved = transfer->bytes_received + transfer->bytes_sent +
                      transfer->metrics.header_bytes_received;
      guint64 delta = moved - run->low_speed_bytes;
      gint64 elapsed = now - (run->low_speed_check - G_USEC_PER_SEC);
      gboolean slow = delta * G_USEC_PER_SEC < (guint64) transfer->low_speed_limit *
                                               (guint64) MAX (elapsed, 1);

      run->low_speed_bytes = moved;
      run->low_speed_check = now + G_USEC_PER_SEC;
      if (!slow || transfer->paused)
        run->low_speed_since = 0;
      else if (run->low_speed_since == 0)
        run->low_speed_since = now - elapsed;

      if (run->low_speed_since > 0 &&
          now - run->low_speed_since >= (gint64) transfer->low_speed_time * G_USEC_PER_SEC)
        {
          gmulti_engine_abort_transfer (self, transfer,
                                        g_error_new (GMULTI_ERROR, GMULTI_ERROR_TOO_SLOW,
                                                     _("The transfer was slower than %u bytes per second for %u seconds"),
                                                     transfer->low_speed_limit,
                                                     transfer->low_speed_time));
          return;
        }
    }

  gmulti_engine_update_transfer_timer (self, transfer);
}
