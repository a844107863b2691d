/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-engine-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-protocol.h"
#include "http1/gmulti-http1-protocol.h"
#include "http2/gmulti-http2-protocol.h"

/* The connection pool: open connections grouped by origin, the limits on them, and the
 * FIFO of transfers waiting for a slot.
 *
 * Waiters start in the order they began to wait, as far as the limits allow: one
 * blocked only by its own origin's limit does not hold back those of other origins
 * behind it, and one the total limit blocks gets the oldest idle connection closed for
 * it. Starting happens in gmulti_pool_dispatch(), never while an exchange is on the
 * stack, so a freed connection cannot be taken by a newer transfer in between.
 *
 * The limits count connections, not streams: a connection whose protocol multiplexes
 * and has room for another stream (its host's room queue) is handed to the next
 * transfer of its origin before an idle one. While an origin has a connection that
 * multiplexes, or may (being opened with "h2" offered, or for HTTP/2 with prior
 * knowledge), its other transfers wait for room on it rather than open connections of
 * their own (libcurl's PIPEWAIT); one that turns out to speak HTTP/1.1 lets them go on
 * as usual. The protocol's operations say what became of the connection; settle()
 * acts on that. */

static void
host_free (gpointer data)
{
  GMultiHost *host = data;

  gmulti_pool_key_free (host->key);
  g_free (host);
}

GMultiHost *
gmulti_pool_get_host (GMultiEngine        *self,
                      const GMultiPoolKey *key)
{
  GMultiHost *host;

  if (self->hosts == NULL)
    self->hosts = g_hash_table_new_full (gmulti_pool_key_hash, gmulti_pool_key_equal,
                                         NULL, host_free);

  host = g_hash_table_lookup (self->hosts, key);
  if (host == NULL)
    {
      host = g_new0 (GMultiHost, 1);
      host->key = gmulti_pool_key_copy (key);
      host->waiting_link.data = host;
      g_hash_table_insert (self->hosts, host->key, host);
    }
  return host;
}

static void
forget_host_if_unused (GMultiEngine *self,
                       GMultiHost   *host)
{
  if (host->n_connections == 0 && host->waiters.head == NULL)
    g_hash_table_remove (self->hosts, host->key);
}

/* Transfers wait, and a turn has to look at them again. */
static void
note_room (GMultiEngine *self)
{
  if (self->pending.head != NULL)
    self->pool_changed = TRUE;
}

/* The connection to reuse: one in use with room for another stream, or else the most
 * recently used idle one, as the least likely to have been closed by the server
 * meanwhile. The host's key holds the TLS settings, so each of its connections was
 * made with the transfer's. */
static GMultiConnection *
usable_idle (GMultiHost *host)
{
  if (G_UNLIKELY (host->room.head != NULL))
    return host->room.head->data;
  return host->idle.tail != NULL ? host->idle.tail->data : NULL;
}

static gboolean
total_is_full (GMultiEngine *self)
{
  return self->max_connections > 0 && self->connections.length >= self->max_connections;
}

gboolean
gmulti_pool_can_start (GMultiEngine   *self,
                       GMultiHost     *host,
                       GMultiRun      *run)
{
  /* A stale connection's retry goes out on a fresh connection: another idle one may be
   * stale just the same (a server closing idle connections closes more than one). */
  gboolean fresh = run->retry_fresh;

  if (!fresh && usable_idle (host) != NULL)
    return TRUE;
  if (!fresh && host->n_multiplexing > 0)
    return FALSE;
  if (self->max_host_connections > 0 && host->n_connections >= self->max_host_connections)
    /* A retry's own origin may give up an idle connection for it. */
    return fresh && host->idle.head != NULL;
  return !total_is_full (self) || self->idle_lru.head != NULL;
}

/* The same decisions as gmulti_pool_can_start(), taken. */
GMultiConnection *
gmulti_pool_acquire (GMultiEngine   *self,
                     GMultiHost     *host,
                     GMultiRun      *run,
                     gboolean       *is_new)
{
  const GMultiPoolKey *key = &run->pool_key;
  gboolean fresh = run->retry_fresh;
  GMultiConnection *conn;

  if (!fresh && (conn = usable_idle (host)) != NULL)
    {
      if (conn->state == GMULTI_CONNECTION_IDLE)
        {
          g_queue_unlink (&host->idle, &conn->idle_link);
          g_queue_unlink (&self->idle_lru, &conn->lru_link);
          conn->state = GMULTI_CONNECTION_ACTIVE;
        }
      *is_new = FALSE;
      return conn;
    }
  if (!fresh && host->n_multiplexing > 0)
    return NULL;

  /* Nothing is closed unless the transfer gets its connection. Closing one may forget
   * its host: look it up again after each. */
  if (self->max_host_connections > 0 && host->n_connections >= self->max_host_connections)
    {
      if (!fresh || host->idle.head == NULL)
        return NULL;
      gmulti_pool_close (self, host->idle.head->data);
      host = gmulti_pool_get_host (self, key);
    }
  if (total_is_full (self))
    {
      if (self->idle_lru.head == NULL)
        return NULL;
      gmulti_pool_close (self, self->idle_lru.head->data);
      host = gmulti_pool_get_host (self, key);
    }

  conn = gmulti_connection_new (self, host, ++self->next_connection_id);
  host->n_connections++;
  /* It may carry the origin's next transfers: they wait to see (connected()). */
  if (self->protocol == NULL &&
      ((key->secure && key->http == GMULTI_POOL_HTTP_ANY) || key->http == GMULTI_POOL_HTTP_2_PRIOR))
    {
      conn->multiplexing = TRUE;
      host->n_multiplexing++;
    }
  g_queue_push_tail_link (&self->connections, &conn->link);
  /* Opened for it: the run's later hops (redirects) may reuse pooled ones again. */
  run->retry_fresh = FALSE;
  *is_new = TRUE;
  return conn;
}

void
gmulti_pool_wait (GMultiEngine   *self,
                  GMultiHost     *host,
                  GMultiRun      *run)
{
  g_assert (!run->in_pending);
  run->pending_link.data = run;
  run->host_wait_link.data = run;
  run->wait_host = host;
  run->wait_seq = self->next_wait_seq++;
  g_queue_push_tail_link (&self->pending, &run->pending_link);
  if (host->waiters.head == NULL)
    g_queue_push_tail_link (&self->waiting_hosts, &host->waiting_link);
  g_queue_push_tail_link (&host->waiters, &run->host_wait_link);
  run->in_pending = TRUE;
}

void
gmulti_pool_unwait (GMultiEngine   *self,
                    GMultiRun      *run)
{
  GMultiHost *host = run->wait_host;

  g_queue_unlink (&self->pending, &run->pending_link);
  g_queue_unlink (&host->waiters, &run->host_wait_link);
  if (host->waiters.head == NULL)
    g_queue_unlink (&self->waiting_hosts, &host->waiting_link);
  run->in_pending = FALSE;
  run->wait_host = NULL;
  forget_host_if_unused (self, host);
}

/* The oldest waiter that can start now, or NULL. */
static GMultiRun *
next_to_start (GMultiEngine *self)
{
  GMultiRun      *head, *best = NULL;

  if (self->pending.head == NULL)
    return NULL;
  head = self->pending.head->data;
  if (gmulti_pool_can_start (self, head->wait_host, head))
    return head;
  /* Every connection is in use, none may be opened and none takes another stream:
   * nobody can start. */
  if (total_is_full (self) && self->idle_lru.head == NULL && self->n_room == 0)
    return NULL;

  /* The head waits for its origin's limit. Within one origin the first waiter is the
   * one to ask, so looking at each waiting origin once finds the oldest that can go. */
  for (GList *l = self->waiting_hosts.head; l != NULL; l = l->next)
    {
      GMultiHost *host = l->data;
      GMultiRun      *first = host->waiters.head->data;

      if (host == head->wait_host ||
          (best != NULL && first->wait_seq > best->wait_seq))
        continue;
      if (gmulti_pool_can_start (self, host, first))
        best = first;
    }
  return best;
}

void
gmulti_pool_dispatch (GMultiEngine *self)
{
  /* Each round starts a waiter or ends: the bound only guards against a waiter the
   * pool says may start that then waits again. */
  guint budget = self->pending.length;
  GMultiRun *run;

  if (!self->pool_changed)
    return;

  while (budget-- > 0 && (run = next_to_start (self)) != NULL)
    gmulti_engine_start_waiter (self, run, run->wait_host);
  self->pool_changed = FALSE;
}

void
gmulti_pool_limits_changed (GMultiEngine *self)
{
  note_room (self);
}

static void
set_room (GMultiEngine     *self,
          GMultiConnection *conn,
          gboolean          room)
{
  GMultiHost *host = conn->host;

  /* An accepted certificate is its own run's only. */
  if (room == conn->in_room || (room && conn->exclusive))
    return;
  conn->in_room = room;
  if (room)
    {
      g_queue_push_tail_link (&host->room, &conn->room_link);
      self->n_room++;
      note_room (self);
    }
  else
    {
      g_queue_unlink (&host->room, &conn->room_link);
      self->n_room--;
    }
}

/* @conn carries one stream at a time after all: the transfers waiting to see may open
 * connections of their own. */
static void
not_multiplexing (GMultiEngine     *self,
                  GMultiConnection *conn)
{
  if (!conn->multiplexing)
    return;
  conn->multiplexing = FALSE;
  ((GMultiHost *) conn->host)->n_multiplexing--;
  note_room (self);
}

void
gmulti_pool_close (GMultiEngine     *self,
                   GMultiConnection *conn)
{
  GMultiHost *host = conn->host;

  not_multiplexing (self, conn);
  set_room (self, conn, FALSE);
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
  /* A slot freed: a waiter of any origin may now open a connection. */
  note_room (self);
}

static guint
max_idle (GMultiEngine *self)
{
  if (self->max_idle_connections > 0)
    return self->max_idle_connections;
  return MAX (GMULTI_DEFAULT_MIN_IDLE_CONNECTIONS, 4 * self->transfers.length);
}

/* The last stream on @conn ended and left it clean: pooled, unless it cannot be. */
static void
release (GMultiEngine     *self,
         GMultiConnection *conn)
{
  GMultiHost *host = conn->host;

  /* Bytes already taken from the socket (TLS reads ahead) never make it readable again,
   * so look now at what an idle connection's event would find: a second response
   * nobody asked for must not answer the next request. */
  if ((gmulti_connection_has_pending (conn) && !conn->protocol->is_clean (conn)) ||
      self->stopped || conn->socket == NULL || conn->exclusive)
    {
      gmulti_pool_close (self, conn);
      return;
    }

  set_room (self, conn, FALSE);
  conn->state = GMULTI_CONNECTION_IDLE;
  gmulti_connection_set_low_water (conn, 0);
  gmulti_connection_trim (conn, FALSE);
  g_queue_push_tail_link (&host->idle, &conn->idle_link);
  g_queue_push_tail_link (&self->idle_lru, &conn->lru_link);
  /* Idle connections stay watched for reading so a server's close is seen at once;
   * keeping the interest also spares a REMOVE/ADD pair per request. */
  gmulti_connection_want (conn, GMULTI_POLL_IN);

  while (self->idle_lru.length > max_idle (self))
    gmulti_pool_close (self, self->idle_lru.head->data);
  note_room (self);
}

/* Acts on what a protocol operation says of @conn. */
static void
settle (GMultiEngine         *self,
        GMultiConnection     *conn,
        GMultiProtocolResult  result)
{
  switch (result)
    {
    case GMULTI_PROTOCOL_CLOSE:
      gmulti_pool_close (self, conn);
      break;
    case GMULTI_PROTOCOL_IDLE:
      if (conn->state == GMULTI_CONNECTION_ACTIVE)
        release (self, conn);
      break;
    case GMULTI_PROTOCOL_DRAIN:
      /* The origin's waiters must not wait for room on it any longer. */
      not_multiplexing (self, conn);
      set_room (self, conn, FALSE);
      break;
    case GMULTI_PROTOCOL_OK:
    default:
      /* Streams go on; a multiplexing connection may take another one now. */
      if (conn->state == GMULTI_CONNECTION_ACTIVE)
        set_room (self, conn, conn->protocol->capacity (conn) > 0);
      break;
    }
}

void
gmulti_pool_start_stream (GMultiEngine     *self,
                          GMultiConnection *conn,
                          GMultiRun        *run)
{
  settle (self, conn, conn->protocol->start_stream (conn, run));
}

void
gmulti_pool_resume_stream (GMultiEngine     *self,
                           GMultiConnection *conn,
                           GMultiRun        *run)
{
  settle (self, conn, conn->protocol->resume (conn, run));
}

void
gmulti_pool_stream_timeout (GMultiEngine     *self,
                            GMultiConnection *conn,
                            GMultiRun        *run)
{
  settle (self, conn, conn->protocol->timeout (conn, run));
}

void
gmulti_pool_reset_stream (GMultiEngine     *self,
                          GMultiConnection *conn,
                          GMultiRun        *run)
{
  settle (self, conn, conn->protocol->reset_stream (conn, run));
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

      g_assert (conn->connecting == NULL);
      gmulti_pool_close (self, conn);
    }
}

/* What a connection ready for requests speaks: over TLS what ALPN chose ("h2", else
 * HTTP/1.1), over plain TCP HTTP/2 only with prior knowledge. */
static const GMultiProtocol *
choose_protocol (GMultiEngine     *self,
                 GMultiConnection *conn)
{
  const GMultiPoolKey *key = ((GMultiHost *) conn->host)->key;

  if (self->protocol != NULL)
    return self->protocol;
  if (key->secure)
    return g_strcmp0 (gmulti_connection_get_alpn (conn), "h2") == 0 ? &gmulti_http2_protocol
                                                                      : &gmulti_http1_protocol;
  return key->http == GMULTI_POOL_HTTP_2_PRIOR ? &gmulti_http2_protocol : &gmulti_http1_protocol;
}

/* The connection is ready for requests: its protocol takes over, and the transfer it
 * was opened for begins. */
static void
connected (GMultiEngine     *self,
           GMultiConnection *conn)
{
  GMultiRun *run = conn->connecting;

  conn->connecting = NULL;
  conn->protocol = choose_protocol (self, conn);
  if (conn->protocol != &gmulti_http2_protocol || conn->exclusive)
    not_multiplexing (self, conn);
  conn->protocol_state = conn->protocol->attach (conn);
  gmulti_engine_begin_exchange (self, run, conn);
}

/* After a step of the links above the socket: begin the exchange when done, fail
 * the transfer on error. */
static void
chain_progress (GMultiEngine     *self,
                GMultiConnection *conn,
                int               r,
                GError           *error)
{
  GMultiRun *run = conn->connecting;

  if (r < 0)
    {
      /* The certificate that failed, for the owner to look at. */
      GMultiTlsPeer *peer = gmulti_connection_get_tls_peer (conn);

      if (peer != NULL)
        {
          g_clear_pointer (&run->tls_peer, gmulti_tls_peer_unref);
          run->tls_peer = gmulti_tls_peer_ref (peer);
        }
      /* A proxy's challenge to CONNECT: the run's authenticator may answer it. */
      if (G_UNLIKELY (run->auth != NULL &&
                      g_error_matches (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED)))
        {
          GMultiHeaders *fields = gmulti_connection_take_proxy_challenge (conn);

          if (fields != NULL)
            {
              gmulti_engine_tunnel_challenged (self, run, fields, error);
              return;
            }
        }
      gmulti_engine_abort_transfer (self, run, error);
      return;
    }
  if (r == 0)
    return;
  connected (self, conn);
}

/* The connection failed before it carried anything: through a proxy, it is the
 * proxy that could not be reached. */
static GError *
connect_error (GMultiRun *run,
               GError    *error)
{
  GError *mapped;

  if (run->proxy == NULL)
    return error;
  mapped = g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROXY_CONNECT_FAILED,
                        _("Could not connect to the proxy %s:%u: %s"),
                        run->proxy->host, run->proxy->port, error->message);
  g_error_free (error);
  return mapped;
}

void
gmulti_pool_connection_event (GMultiEngine     *self,
                              GMultiConnection *conn,
                              GMultiSocket     *sock,
                              GMultiEvent       events)
{
  if (conn->state == GMULTI_CONNECTION_CONNECTING)
    {
      GMultiRun *run = conn->connecting;
      GError *error = NULL;
      int r = gmulti_connection_connect_step (conn, sock, &error);

      if (r == 0)
        return;
      if (r < 0)
        {
          /* A resolver's later entry may do. */
          if (G_UNLIKELY (run->proxy_looked_up) && gmulti_proxy_lookup_fail_over (self, run))
            {
              g_error_free (error);
              return;
            }
          gmulti_engine_abort_transfer (self, run, connect_error (run, error));
          return;
        }
      run->metrics.connect_time = self->now - run->start_us;
      if (!run->tls && G_LIKELY (run->proxy == NULL))
        {
          connected (self, conn);
          return;
        }

      if (self->tls_context == NULL)
        self->tls_context = gmulti_tls_context_new ();
      r = gmulti_connection_open_chain (conn, self->tls_context, run, &error);
      chain_progress (self, conn, r, error);
      return;
    }

  if (conn->state == GMULTI_CONNECTION_HANDSHAKING)
    {
      GError *error = NULL;
      int r = gmulti_connection_open_chain (conn, self->tls_context, conn->connecting,
                                            &error);

      chain_progress (self, conn, r, error);
      return;
    }

  /* TLS records that did not fit in the socket earlier go first. */
  if (events & GMULTI_EVENT_OUT)
    {
      GError *error = NULL;

      if (!gmulti_connection_flush (conn, &error))
        {
          conn->protocol->fail (conn, error);
          g_error_free (error);
          gmulti_pool_close (self, conn);
          return;
        }
    }

  settle (self, conn, conn->protocol->event (conn, events));
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
  /* Or the protocol's deadlines. */
  if (conn->protocol != NULL && conn->protocol->timer != NULL)
    {
      settle (self, conn, conn->protocol->timer (conn));
      return;
    }
  if (gmulti_connection_connect_timer (conn, &error) < 0)
    gmulti_engine_abort_transfer (self, conn->connecting,
                                  connect_error (conn->connecting, error));
}

void
gmulti_pool_free_hosts (GMultiEngine *self)
{
  g_clear_pointer (&self->hosts, g_hash_table_unref);
}

void
gmulti_engine_set_protocol_for_testing (GMultiEngine         *engine,
                                        const GMultiProtocol *protocol)
{
  engine->protocol = protocol;
}
