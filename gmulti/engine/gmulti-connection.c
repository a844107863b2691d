/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-connection.h"
#include "gmulti-engine-private.h"
#include "gmulti-protocol.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "transport/gmulti-http-tunnel-link.h"
#include "transport/gmulti-socks-link.h"
#include "transport/gmulti-tcp-link.h"
#include "transport/gmulti-unix-link.h"
#include "transport/gmulti-tls-link.h"

GMultiConnection *
gmulti_connection_new (GMultiEngine *engine,
                       gpointer      host,
                       guint64       id)
{
  GMultiConnection *self = g_new0 (GMultiConnection, 1);

  self->engine = engine;
  self->host = host;
  self->id = id;
  self->state = GMULTI_CONNECTION_CONNECTING;
  self->timer.kind = GMULTI_TIMER_CONNECTION;
  self->link.data = self;
  self->idle_link.data = self;
  self->room_link.data = self;
  self->lru_link.data = self;
  return self;
}

static void
close_attempt (GMultiConnection *self,
               guint             index)
{
  gmulti_engine_close_socket (self->engine, self->attempts[index]);
  self->n_attempts--;
  self->attempts[index] = self->attempts[self->n_attempts];
  self->attempts[self->n_attempts] = NULL;
}

void
gmulti_connection_free (GMultiConnection *self)
{
  /* The top link says goodbye (TLS close_notify) before the socket goes. */
  g_clear_pointer (&self->top, gmulti_link_free_chain);
  self->tcp = NULL;
  while (self->n_attempts > 0)
    close_attempt (self, 0);
  if (self->socket != NULL)
    gmulti_engine_close_socket (self->engine, self->socket);
  gmulti_engine_arm_connection_timer (self->engine, self, 0);
  if (self->protocol_state != NULL)
    self->protocol->free (self->protocol_state);
  g_free (self->leftover);
  g_free (self);
}

static guint
find_attempt (GMultiConnection *self,
              int               fd)
{
  guint i;

  for (i = 0; i < self->n_attempts; i++)
    if (self->attempts[i]->fd == fd)
      break;
  return i;
}

/* Does what the top link's open step asked for: sockets to watch or close, the
 * deadline, and the interest it waits for. Returns 1 done, 0 under way, -1 failed. */
static int
open_step (GMultiConnection *self,
           int               ready_fd,
           GError          **error)
{
  GMultiLinkOpen io;
  GMultiLinkStatus status;

  io.now = self->engine->now;
  io.ready_fd = ready_fd;
  status = gmulti_link_open (self->top, &io, error);

  for (guint i = 0; i < io.n_given_up; i++)
    {
      guint index = find_attempt (self, io.given_up[i]);

      g_assert (index < self->n_attempts);
      close_attempt (self, index);
    }
  for (guint i = 0; i < io.n_opened; i++)
    {
      GMultiSocket *sock = gmulti_socket_table_add (&self->engine->sockets, io.opened[i],
                                                    GMULTI_SOCKET_CONNECTION, self);

      g_assert (self->n_attempts < GMULTI_LINK_MAX_SOCKETS);
      self->attempts[self->n_attempts++] = sock;
      gmulti_engine_want_socket (self->engine, sock, GMULTI_POLL_OUT);
    }
  if (io.deadline >= 0)
    gmulti_engine_arm_connection_timer (self->engine, self, io.deadline);

  switch (status)
    {
    case GMULTI_LINK_DONE:
      return 1;
    case GMULTI_LINK_WANT_READ:
      if (self->socket != NULL)
        gmulti_engine_want_socket (self->engine, self->socket, GMULTI_POLL_IN);
      return 0;
    case GMULTI_LINK_WANT_WRITE:
      if (self->socket != NULL)
        gmulti_engine_want_socket (self->engine, self->socket, GMULTI_POLL_OUT);
      return 0;
    case GMULTI_LINK_ERROR:
    default:
      return -1;
    }
}

/* The TCP link connected: its socket, one of the attempts, is the connection's now. */
static void
connected (GMultiConnection *self)
{
  guint index = find_attempt (self, gmulti_tcp_link_get_fd (self->tcp));

  g_assert (index < self->n_attempts);
  self->socket = self->attempts[index];
  self->n_attempts--;
  self->attempts[index] = self->attempts[self->n_attempts];
  self->attempts[self->n_attempts] = NULL;
  self->state = GMULTI_CONNECTION_ACTIVE;
}

gboolean
gmulti_connection_connect (GMultiConnection    *self,
                           const GMultiAddress *addresses,
                           guint                n_addresses,
                           GError             **error)
{
  g_return_val_if_fail (n_addresses > 0, FALSE);
  g_return_val_if_fail (self->top == NULL, FALSE);

  self->tcp = self->top = gmulti_tcp_link_new_connect (addresses, n_addresses);
  /* Even an immediate success is reported through writability. */
  return open_step (self, -1, error) >= 0;
}

gboolean
gmulti_connection_connect_unix (GMultiConnection *self,
                                const char       *path,
                                GError          **error)
{
  g_return_val_if_fail (self->top == NULL, FALSE);

  self->tcp = self->top = gmulti_unix_link_new (path, error);
  if (self->top == NULL)
    return FALSE;
  return open_step (self, -1, error) >= 0;
}

int
gmulti_connection_connect_step (GMultiConnection *self,
                                GMultiSocket     *sock,
                                GError          **error)
{
  int r = open_step (self, sock->fd, error);

  if (r > 0)
    connected (self);
  return r;
}

int
gmulti_connection_connect_timer (GMultiConnection *self,
                                 GError          **error)
{
  int r;

  if (self->state != GMULTI_CONNECTION_CONNECTING)
    return 1;
  r = open_step (self, -1, error);
  if (r > 0)
    connected (self);
  return r;
}

gssize
gmulti_connection_recv_record (GMultiConnection  *self,
                               GMultiTlsRecord   *record,
                               GError           **error)
{
  return gmulti_link_recv_record (self->top, record, error);
}

gssize
gmulti_connection_recv (GMultiConnection *self,
                        guint8           *buffer,
                        gsize             length,
                        GError          **error)
{
  return gmulti_link_recv (self->top, buffer, length, error);
}

gssize
gmulti_connection_send (GMultiConnection   *self,
                        const struct iovec *iov,
                        int                 n_iov,
                        GError            **error)
{
  return gmulti_link_send (self->top, iov, n_iov, error);
}

void
gmulti_connection_want (GMultiConnection *self,
                        GMultiPoll        wanted)
{
  GMultiLinkInterest extra;

  self->wanted = wanted;
  if (self->socket == NULL)
    return;
  /* What the links need goes in whatever the protocol waits for (TLS records that
   * could not be written yet). */
  extra = gmulti_link_interest (self->top);
  if (extra & GMULTI_LINK_INTEREST_READ)
    wanted |= GMULTI_POLL_IN;
  if (extra & GMULTI_LINK_INTEREST_WRITE)
    wanted |= GMULTI_POLL_OUT;
  gmulti_engine_want_socket (self->engine, self->socket, wanted);
}

GMultiHeaders *
gmulti_connection_take_proxy_challenge (GMultiConnection *self)
{
  if (self->tunnel == NULL)
    return NULL;
  return gmulti_http_tunnel_link_take_challenge (self->tunnel);
}

const char *
gmulti_connection_get_alpn (GMultiConnection *self)
{
  if (self->origin_tls == NULL)
    return NULL;
  return gmulti_tls_get_alpn_protocol (gmulti_tls_link_get_tls (self->origin_tls));
}

GMultiTlsPeer *
gmulti_connection_get_tls_peer (GMultiConnection *self)
{
  if (self->origin_tls == NULL)
    return NULL;
  return gmulti_tls_get_peer (gmulti_tls_link_get_tls (self->origin_tls));
}

gboolean
gmulti_connection_hand_over (GMultiConnection        *self,
                             const GMultiTlsVerifier *verifier)
{
  /* Before the origin's TLS link exists it is made for the new run, verifier and all. */
  if (self->origin_tls == NULL)
    return TRUE;
  return gmulti_tls_hand_over_verifier (gmulti_tls_link_get_tls (self->origin_tls), verifier);
}

/* The layers above the socket, bottom up. */
enum {
  LAYER_PROXY_TLS,
  LAYER_TUNNEL,
  LAYER_ORIGIN_TLS,
  LAYER_END,
};

static gboolean
push_tls (GMultiConnection *self,
          GMultiTlsContext *context,
          GMultiTlsConfig  *config,
          const char       *host,
          guint16           port,
          gboolean          offer_h2,
          GError          **error)
{
  GMultiLink *tls = gmulti_tls_link_new (self->top, context, config, host, port, error);

  if (tls == NULL)
    return FALSE;
  self->top = tls;
  gmulti_tls_set_offer_h2 (gmulti_tls_link_get_tls (tls), offer_h2);
  return TRUE;
}

/* The User-Agent the CONNECT request shares with the requests: the application's
 * field, else the default. */
static const char *
tunnel_user_agent (GMultiRun *run)
{
  const char *own = run->request.headers != NULL
                    ? gmulti_headers_get_one (run->request.headers, "User-Agent") : NULL;

  return own != NULL ? own : run->defaults->user_agent;
}

/* The tunnel to the origin through the hop's proxy. */
static gboolean
push_tunnel (GMultiConnection *self,
             GMultiRun        *run,
             GError          **error)
{
  GMultiProxy *proxy = run->proxy;

  switch (proxy->kind)
    {
    case GMULTI_PROXY_HTTP:
    case GMULTI_PROXY_HTTPS:
      self->top = gmulti_http_tunnel_link_new (self->top, proxy, run->host, run->port,
                                               gmulti_run_proxy_authorization (run),
                                               tunnel_user_agent (run));
      self->tunnel = self->top;
      return TRUE;
    case GMULTI_PROXY_SOCKS5:
      /* The origin's address was looked up before the proxy's name. */
      self->top = gmulti_socks_link_new (self->top, proxy, run->host, run->port,
                                         &run->socks_origin);
      return TRUE;
    case GMULTI_PROXY_SOCKS4A:
    case GMULTI_PROXY_SOCKS5H:
    default:
      self->top = gmulti_socks_link_new (self->top, proxy, run->host, run->port, NULL);
      return TRUE;
    }
}

/* Adds the next layer the hop needs, if any (layer_opening says whether it did). */
static gboolean
push_next_layer (GMultiConnection *self,
                 GMultiTlsContext *context,
                 GMultiRun        *run,
                 GError          **error)
{
  GMultiProxy *proxy = run->proxy;

  while (!self->layer_opening && self->layer < LAYER_END)
    {
      switch (self->layer++)
        {
        case LAYER_PROXY_TLS:
          if (proxy == NULL || proxy->kind != GMULTI_PROXY_HTTPS)
            continue;
          /* Checked against the proxy's name; it speaks HTTP/1.1 itself. */
          if (!push_tls (self, context, run->tls_config, proxy->host, proxy->port, FALSE,
                         error))
            return FALSE;
          break;
        case LAYER_TUNNEL:
          /* A forwarding proxy (absolute-form requests) needs none. */
          if (proxy == NULL ||
              ((proxy->kind == GMULTI_PROXY_HTTP || proxy->kind == GMULTI_PROXY_HTTPS) &&
               !run->tls))
            continue;
          if (!push_tunnel (self, run, error))
            return FALSE;
          break;
        case LAYER_ORIGIN_TLS:
          if (!run->tls)
            continue;
          if (!push_tls (self, context, run->tls_config, run->host, run->port,
                         run->pool_key.http != GMULTI_POOL_HTTP_1_ONLY, error))
            return FALSE;
          self->origin_tls = self->top;
          gmulti_tls_set_verifier (gmulti_tls_link_get_tls (self->top),
                                   run->request.tls_verifier);
          break;
        default:
          g_assert_not_reached ();
        }
      self->layer_opening = TRUE;
    }
  return TRUE;
}

/* A layer finished opening: the metrics of the run it is for. */
static void
layer_opened (GMultiConnection *self,
              GMultiRun        *run)
{
  gint64 elapsed = g_get_monotonic_time () - run->start_us;

  if (self->layer - 1 == LAYER_TUNNEL)
    run->metrics.proxy_time = elapsed;
  else
    run->metrics.tls_time = elapsed;
}

int
gmulti_connection_open_chain (GMultiConnection *self,
                              GMultiTlsContext *context,
                              GMultiRun        *run,
                              GError          **error)
{
  self->state = GMULTI_CONNECTION_HANDSHAKING;
  for (;;)
    {
      if (self->layer_opening)
        {
          int r = open_step (self, self->socket->fd, error);

          if (r <= 0)
            return r;
          self->layer_opening = FALSE;
          layer_opened (self, run);
        }
      if (!push_next_layer (self, context, run, error))
        return -1;
      if (!self->layer_opening)
        break;
    }
  if (self->origin_tls != NULL &&
      G_UNLIKELY (gmulti_tls_is_accepted (gmulti_tls_link_get_tls (self->origin_tls))))
    self->exclusive = TRUE;
  /* A forwarding proxy: its connection is ready now. */
  if (run->target_prefix != NULL)
    run->metrics.proxy_time = g_get_monotonic_time () - run->start_us;
  self->state = GMULTI_CONNECTION_ACTIVE;
  return 1;
}

gboolean
gmulti_connection_flush (GMultiConnection *self,
                         GError          **error)
{
  if (!(gmulti_link_interest (self->top) & GMULTI_LINK_INTEREST_WRITE))
    return TRUE;
  if (gmulti_link_flush (self->top, error) == GMULTI_LINK_ERROR)
    return FALSE;
  /* Drop OUT again once everything left. */
  gmulti_connection_want (self, self->wanted);
  return TRUE;
}

gboolean
gmulti_connection_has_pending (GMultiConnection *self)
{
  return gmulti_link_pending (self->top) > 0;
}

void
gmulti_connection_set_low_water (GMultiConnection *self,
                                 gsize             bytes)
{
  int value = (int) MIN (bytes, (gsize) G_MAXINT);

  if (value == self->low_water || self->socket == NULL)
    return;
  /* Best effort: without it the socket merely signals more often. */
  if (!gmulti_tcp_link_set_low_water (self->tcp, value))
    return;

  if (value == 0)
    gmulti_engine_arm_connection_timer (self->engine, self, 0);
  else if (self->low_water == 0)
    {
      self->low_water_receives = self->n_receives;
      gmulti_engine_arm_connection_timer (self->engine, self,
                                          self->engine->now + GMULTI_LOW_WATER_DEADLINE_US);
    }
  self->low_water = value;
}

void
gmulti_connection_low_water_timer (GMultiConnection *self)
{
  /* Still streaming: look again later. Stalled: hand out what is queued now, so that a
   * pause of the server never holds back bytes that arrived (progress, low-speed
   * checks). */
  if (self->n_receives != self->low_water_receives)
    {
      self->low_water_receives = self->n_receives;
      gmulti_engine_arm_connection_timer (self->engine, self,
                                          self->engine->now + GMULTI_LOW_WATER_DEADLINE_US);
    }
  else
    gmulti_connection_set_low_water (self, 0);
}

gsize
gmulti_connection_buffered (GMultiConnection *self)
{
  return gmulti_link_buffered (self->top);
}

gsize
gmulti_connection_unseen_max (GMultiConnection *self)
{
  return gmulti_link_unseen_max (self->top);
}

gboolean
gmulti_connection_has_records (GMultiConnection *self)
{
  return gmulti_link_has_records (self->top);
}

gboolean
gmulti_connection_eof_was_clean (GMultiConnection *self)
{
  return gmulti_link_eof_was_clean (self->top);
}

int
gmulti_connection_splice_fd (GMultiConnection *self)
{
  return self->top == self->tcp && self->socket != NULL ? self->socket->fd : -1;
}

void
gmulti_connection_trim (GMultiConnection *self,
                        gboolean          keep_if_streaming)
{
  gmulti_link_trim (self->top, keep_if_streaming);
}

void
gmulti_connection_keep_leftover (GMultiConnection *self,
                                 const guint8     *data,
                                 gsize             length)
{
  if (length == 0)
    {
      g_clear_pointer (&self->leftover, g_free);
      self->leftover_length = 0;
      return;
    }

  /* @data may point into the old leftover itself. */
  {
    guint8 *copy = g_malloc (length);

    memcpy (copy, data, length);
    g_free (self->leftover);
    self->leftover = copy;
    self->leftover_length = length;
  }
}
