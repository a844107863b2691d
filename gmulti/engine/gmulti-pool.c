/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-engine-private.h"
#include "gmulti-h1-exchange.h"

/* The connection pool: open connections grouped by origin, the limits on them, and the
 * FIFO of transfers waiting for a slot. A slot that frees wakes exactly one waiter. */

static void
host_free (gpointer data)
{
  GMultiHost *host = data;

  g_free (host->origin);
  g_free (host);
}

GMultiHost *
gmulti_pool_get_host (GMultiEngine *self,
                      const char   *origin)
{
  GMultiHost *host;

  if (self->hosts == NULL)
    self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, host_free);

  host = g_hash_table_lookup (self->hosts, origin);
  if (host == NULL)
    {
      host = g_new0 (GMultiHost, 1);
      host->origin = g_strdup (origin);
      g_hash_table_insert (self->hosts, host->origin, host);
    }
  return host;
}

static void
forget_host_if_unused (GMultiEngine *self,
                       GMultiHost   *host)
{
  if (host->n_connections == 0)
    g_hash_table_remove (self->hosts, host->origin);
}

GMultiConnection *
gmulti_pool_take_idle (GMultiEngine    *self,
                       GMultiHost      *host,
                       GMultiTlsConfig *tls_config)
{
  GMultiConnection *conn;

  /* The most recently used connection is the least likely to have been closed by the
   * server meanwhile. */
  if (host->idle.tail == NULL)
    return NULL;

  conn = host->idle.tail->data;
  /* The origin key carries a hash of the TLS settings; a collision must not hand out a
   * connection made with other settings. */
  if (conn->tls_config != NULL && tls_config != NULL &&
      !gmulti_tls_config_equal (conn->tls_config, tls_config))
    return NULL;
  g_queue_unlink (&host->idle, &conn->idle_link);
  g_queue_unlink (&self->idle_lru, &conn->lru_link);
  conn->state = GMULTI_CONNECTION_ACTIVE;
  return conn;
}

/* Making room may close @host's last connection, and free @host with it: callers look
 * the host up again. */
gboolean
gmulti_pool_has_room (GMultiEngine *self,
                      GMultiHost   *host)
{
  if (self->max_host_connections > 0 && host->n_connections >= self->max_host_connections)
    return FALSE;
  if (self->max_connections > 0 && self->connections.length >= self->max_connections)
    {
      /* An idle connection, of any origin, can make room. */
      if (self->idle_lru.head == NULL)
        return FALSE;
      gmulti_pool_close (self, self->idle_lru.head->data);
    }
  return TRUE;
}

GMultiConnection *
gmulti_pool_open (GMultiEngine *self,
                  GMultiHost   *host)
{
  GMultiConnection *conn = gmulti_connection_new (self, host, ++self->next_connection_id);

  host->n_connections++;
  g_queue_push_tail_link (&self->connections, &conn->link);
  return conn;
}

static guint
max_idle (GMultiEngine *self)
{
  if (self->max_idle_connections > 0)
    return self->max_idle_connections;
  return MAX (GMULTI_DEFAULT_MIN_IDLE_CONNECTIONS, 4 * self->transfers.length);
}

static gboolean
below_host_limit (GMultiEngine *self,
                  const char   *origin)
{
  GMultiHost *host;

  if (self->max_host_connections == 0)
    return TRUE;
  host = self->hosts != NULL ? g_hash_table_lookup (self->hosts, origin) : NULL;
  return host == NULL || host->n_connections < self->max_host_connections;
}

static void
wake (GMultiEngine   *self,
      GMultiTransfer *transfer)
{
  g_queue_unlink (&self->pending, &transfer->run.pending_link);
  transfer->run.in_pending = FALSE;
  gmulti_engine_schedule (self, transfer);
}

/* Hands a free slot or idle connection to the first waiter that can use it: of
 * @origin, or if NULL of any origin still below its own limit (one at its limit would
 * only queue again, behind those that came after it). Returns FALSE if none. */
static gboolean
wake_pending (GMultiEngine *self,
              const char   *origin)
{
  for (GList *l = self->pending.head; l != NULL; l = l->next)
    {
      GMultiTransfer *transfer = l->data;

      if (origin != NULL ? g_strcmp0 (transfer->run.origin, origin) != 0
                         : !below_host_limit (self, transfer->run.origin))
        continue;

      wake (self, transfer);
      return TRUE;
    }
  return FALSE;
}

/* A limit went up: every waiter tries again, in order; those still without room go
 * back to the queue in the same order. */
void
gmulti_pool_wake_all_pending (GMultiEngine *self)
{
  while (self->pending.head != NULL)
    wake (self, self->pending.head->data);
}

/* Wakes a waiter for a slot or an idle connection of @origin: one of that origin
 * first, else the oldest (which can close an idle connection to make room). */
void
gmulti_pool_pass_wake (GMultiEngine *self,
                       const char   *origin)
{
  if (!wake_pending (self, origin))
    wake_pending (self, NULL);
}

void
gmulti_pool_close (GMultiEngine     *self,
                   GMultiConnection *conn)
{
  GMultiHost *host = conn->host;

  if (conn->state == GMULTI_CONNECTION_IDLE)
    {
      g_queue_unlink (&host->idle, &conn->idle_link);
      g_queue_unlink (&self->idle_lru, &conn->lru_link);
    }
  conn->state = GMULTI_CONNECTION_CLOSED;
  g_queue_unlink (&self->connections, &conn->link);
  host->n_connections--;
  gmulti_connection_free (conn);
  forget_host_if_unused (self, host);

  /* A slot freed: the oldest waiter of any origin may now open a connection. */
  wake_pending (self, NULL);
}

void
gmulti_pool_release (GMultiEngine     *self,
                     GMultiConnection *conn,
                     gboolean          reusable)
{
  GMultiHost *host = conn->host;

  conn->transfer = NULL;
  /* Bytes already taken from the socket (TLS reads ahead) never make it readable again,
   * so look now at what an idle connection's event would find: a second response
   * nobody asked for must not answer the next request. */
  if (reusable && conn->reusable && gmulti_connection_has_pending (conn) &&
      !gmulti_h1_idle_is_clean (conn))
    reusable = FALSE;
  if (!reusable || !conn->reusable || self->stopped || conn->socket == NULL)
    {
      gmulti_pool_close (self, conn);
      return;
    }

  conn->state = GMULTI_CONNECTION_IDLE;
  gmulti_connection_set_low_water (conn, 0);
  if (conn->tls != NULL)
    gmulti_tls_trim (conn->tls, FALSE);
  g_queue_push_tail_link (&host->idle, &conn->idle_link);
  g_queue_push_tail_link (&self->idle_lru, &conn->lru_link);
  /* Idle connections stay watched for reading so a server's close is seen at once;
   * keeping the interest also spares a REMOVE/ADD pair per request. */
  gmulti_connection_want (conn, GMULTI_POLL_IN);

  while (self->idle_lru.length > max_idle (self))
    gmulti_pool_close (self, self->idle_lru.head->data);

  /* A waiter of another origin can use it too, under a total limit: it is closed to
   * make room. */
  if (conn->state == GMULTI_CONNECTION_IDLE)
    gmulti_pool_pass_wake (self, host->origin);
}

void
gmulti_pool_close_all (GMultiEngine *self,
                       gboolean      idle_only)
{
  if (idle_only)
    {
      while (self->idle_lru.head != NULL)
        gmulti_pool_close (self, self->idle_lru.head->data);
      return;
    }

  while (self->connections.head != NULL)
    {
      GMultiConnection *conn = self->connections.head->data;

      g_assert (conn->transfer == NULL);
      gmulti_pool_close (self, conn);
    }
}

/* After a handshake step: begin the exchange when done, fail the transfer on error. */
static void
tls_progress (GMultiEngine     *self,
              GMultiConnection *conn,
              int               r,
              GError           *error)
{
  GMultiTransfer *transfer = conn->transfer;

  if (r < 0)
    {
      gmulti_engine_abort_transfer (self, transfer, error);
      return;
    }
  if (r == 0)
    return;

  transfer->metrics.tls_time = g_get_monotonic_time () - transfer->run.start_us;
  gmulti_engine_begin_exchange (self, transfer, conn);
}

void
gmulti_pool_connection_event (GMultiEngine     *self,
                              GMultiConnection *conn,
                              GMultiSocket     *sock,
                              GMultiEvent       events)
{
  if (conn->state == GMULTI_CONNECTION_CONNECTING)
    {
      GMultiTransfer *transfer = conn->transfer;
      GError *error = NULL;
      int r = gmulti_connection_connect_step (conn, sock, &error);

      if (r == 0)
        return;
      if (r < 0)
        {
          gmulti_engine_abort_transfer (self, transfer, error);
          return;
        }
      transfer->metrics.connect_time = self->now - transfer->run.start_us;
      if (!transfer->run.tls)
        {
          gmulti_engine_begin_exchange (self, transfer, conn);
          return;
        }

      if (self->tls_context == NULL)
        self->tls_context = gmulti_tls_context_new ();
      r = gmulti_connection_start_tls (conn, self->tls_context, transfer->run.tls_config,
                                       transfer->run.host, transfer->run.port, &error);
      tls_progress (self, conn, r, error);
      return;
    }

  if (conn->state == GMULTI_CONNECTION_HANDSHAKING)
    {
      GError *error = NULL;
      int r = gmulti_connection_handshake (conn, &error);

      tls_progress (self, conn, r, error);
      return;
    }

  /* TLS records that did not fit in the socket earlier go first. */
  if ((events & GMULTI_EVENT_OUT) && conn->tls != NULL)
    {
      GError *error = NULL;

      if (!gmulti_connection_flush (conn, &error))
        {
          GMultiTransfer *transfer = conn->transfer;

          if (transfer != NULL)
            gmulti_engine_abort_transfer (self, transfer, error);
          else
            {
              g_error_free (error);
              gmulti_pool_close (self, conn);
            }
          return;
        }
    }

  gmulti_h1_on_event (conn, events);
}

void
gmulti_pool_connection_timer (GMultiEngine     *self,
                              GMultiConnection *conn)
{
  GError *error = NULL;

  /* Once connected, the timer keeps the low-water deadline (see gmulti-connection.h). */
  if (conn->low_water > 0)
    {
      gmulti_connection_low_water_timer (conn);
      return;
    }
  if (gmulti_connection_connect_timer (conn, &error) < 0)
    gmulti_engine_abort_transfer (self, conn->transfer, error);
}

void
gmulti_pool_free_hosts (GMultiEngine *self)
{
  g_clear_pointer (&self->hosts, g_hash_table_unref);
}
