/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmulti-connection.h"
#include "gmulti-engine-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-protocol.h"

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
  self->attempt_address[index] = self->attempt_address[self->n_attempts];
  self->attempts[self->n_attempts] = NULL;
}

void
gmulti_connection_free (GMultiConnection *self)
{
  while (self->n_attempts > 0)
    close_attempt (self, 0);
  if (self->tls != NULL)
    {
      /* close_notify, best effort, before the socket goes. */
      gmulti_tls_close (self->tls);
      g_clear_pointer (&self->tls, gmulti_tls_free);
    }
  g_clear_pointer (&self->tls_config, gmulti_tls_config_unref);
  if (self->socket != NULL)
    gmulti_engine_close_socket (self->engine, self->socket);
  gmulti_engine_arm_connection_timer (self->engine, self, 0);
  if (self->protocol_state != NULL)
    self->protocol->free (self->protocol_state);
  g_clear_error (&self->connect_error);
  g_free (self->addresses);
  g_free (self->leftover);
  g_free (self);
}

static char *
address_to_string (const GMultiAddress *address)
{
  char host[64] = "";
  guint16 port = 0;

  if (address->family == AF_INET6)
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) &address->addr;

      inet_ntop (AF_INET6, &sin6->sin6_addr, host, sizeof host);
      port = ntohs (sin6->sin6_port);
      return g_strdup_printf ("[%s]:%u", host, port);
    }
  else
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) &address->addr;

      inet_ntop (AF_INET, &sin->sin_addr, host, sizeof host);
      port = ntohs (sin->sin_port);
      return g_strdup_printf ("%s:%u", host, port);
    }
}

static void
set_connect_error (GMultiConnection    *self,
                   const GMultiAddress *address,
                   int                  errsv)
{
  g_autofree char *where = address_to_string (address);

  g_clear_error (&self->connect_error);
  g_set_error (&self->connect_error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED,
               _("Could not connect to %s: %s"), where, g_strerror (errsv));
}

/* Starts the next address. Returns TRUE if an attempt is under way (or connected). */
static gboolean
start_next_attempt (GMultiConnection *self)
{
  while (self->next_address < self->n_addresses &&
         self->n_attempts < GMULTI_CONNECTION_MAX_ATTEMPTS)
    {
      const GMultiAddress *address = &self->addresses[self->next_address++];
      GMultiSocket *sock;
      int one = 1;
      int fd;

      fd = socket (address->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0)
        {
          set_connect_error (self, address, errno);
          continue;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

      if (connect (fd, (const struct sockaddr *) &address->addr, address->addrlen) < 0 &&
          errno != EINPROGRESS)
        {
          set_connect_error (self, address, errno);
          close (fd);
          continue;
        }

      /* Even an immediate success is reported through writability, which keeps a
       * single path for both. */
      sock = gmulti_socket_table_add (&self->engine->sockets, fd,
                                      GMULTI_SOCKET_CONNECTION, self);
      self->attempts[self->n_attempts] = sock;
      self->attempt_address[self->n_attempts] = self->next_address - 1;
      self->n_attempts++;
      gmulti_engine_want_socket (self->engine, sock, GMULTI_POLL_OUT);

      if (self->next_address < self->n_addresses)
        gmulti_engine_arm_connection_timer (self->engine, self,
                                            self->engine->now +
                                            GMULTI_CONNECTION_ATTEMPT_DELAY_US);
      else
        gmulti_engine_arm_connection_timer (self->engine, self, 0);
      return TRUE;
    }

  return self->n_attempts > 0;
}

gboolean
gmulti_connection_connect (GMultiConnection    *self,
                           const GMultiAddress *addresses,
                           guint                n_addresses,
                           GError             **error)
{
  g_return_val_if_fail (n_addresses > 0, FALSE);

  self->addresses = g_memdup2 (addresses, sizeof (GMultiAddress) * n_addresses);
  self->n_addresses = n_addresses;
  self->next_address = 0;

  if (!start_next_attempt (self))
    {
      g_propagate_error (error, g_steal_pointer (&self->connect_error));
      return FALSE;
    }
  return TRUE;
}

static void
won (GMultiConnection *self,
     guint             index)
{
  GMultiSocket *sock = self->attempts[index];

  self->n_attempts--;
  self->attempts[index] = self->attempts[self->n_attempts];
  self->attempt_address[index] = self->attempt_address[self->n_attempts];
  self->attempts[self->n_attempts] = NULL;
  while (self->n_attempts > 0)
    close_attempt (self, 0);

  gmulti_engine_arm_connection_timer (self->engine, self, 0);
  self->socket = sock;
  self->state = GMULTI_CONNECTION_ACTIVE;
  g_clear_pointer (&self->addresses, g_free);
  g_clear_error (&self->connect_error);
}

int
gmulti_connection_connect_step (GMultiConnection *self,
                                GMultiSocket     *sock,
                                GError          **error)
{
  for (guint i = 0; i < self->n_attempts; i++)
    {
      int so_error = 0;
      socklen_t len = sizeof so_error;

      if (self->attempts[i] != sock)
        continue;

      if (getsockopt (sock->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
        so_error = errno;

      if (so_error == 0)
        {
          struct sockaddr_storage peer;
          socklen_t peer_len = sizeof peer;

          /* Spurious wake-up before the handshake ended: still connecting. */
          if (getpeername (sock->fd, (struct sockaddr *) &peer, &peer_len) < 0)
            {
              if (errno != ENOTCONN)
                so_error = errno;
              else
                return 0;
            }
        }

      if (so_error == 0)
        {
          won (self, i);
          return 1;
        }
      if (so_error == EINPROGRESS || so_error == EALREADY)
        return 0;

      set_connect_error (self, &self->addresses[self->attempt_address[i]], so_error);
      close_attempt (self, i);
      break;
    }

  if (start_next_attempt (self))
    return 0;

  g_propagate_error (error, g_steal_pointer (&self->connect_error));
  if (error != NULL && *error == NULL)
    g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED,
                         _("Could not connect"));
  return -1;
}

int
gmulti_connection_connect_timer (GMultiConnection *self,
                                 GError          **error)
{
  if (self->state != GMULTI_CONNECTION_CONNECTING)
    return 1;
  if (start_next_attempt (self))
    return 0;
  g_propagate_error (error, g_steal_pointer (&self->connect_error));
  return -1;
}

/* What a TLS read means for the exchange (see gmulti_connection_recv()). */
static gssize
tls_read_result (GMultiConnection  *self,
                 gssize             n,
                 GError            *local_error,
                 GError           **error)
{
  /* Without close_notify, only a body whose end the framing shows is complete; a body
   * delimited by the close itself may have been cut short by an attacker. */
  if (n == 0 && !gmulti_tls_was_clean_close (self->tls) && self->close_delimited)
    {
      gmulti_tls_set_unclean_close_error (error);
      errno = ECONNRESET;
      return -1;
    }
  /* Tell "not ready" from a failure by the error itself, not by whether the caller
   * asked for it: an idle connection reads with no error location, and must close on
   * a failure rather than wait for readiness that keeps coming. */
  if (n < 0)
    {
      errno = local_error != NULL ? ECONNRESET : EAGAIN;
      if (local_error != NULL)
        g_propagate_error (error, local_error);
    }
  return n;
}

gssize
gmulti_connection_recv_record (GMultiConnection  *self,
                               GMultiTlsRecord   *record,
                               GError           **error)
{
  GError *local_error = NULL;
  gssize n;

  g_return_val_if_fail (self->tls != NULL, -1);

  n = gmulti_tls_recv_record (self->tls, record, &local_error);
  return tls_read_result (self, n, local_error, error);
}

gssize
gmulti_connection_recv (GMultiConnection *self,
                        guint8           *buffer,
                        gsize             length,
                        GError          **error)
{
  gssize n;

  if (self->tls != NULL)
    {
      GError *local_error = NULL;

      n = gmulti_tls_recv (self->tls, buffer, length, &local_error);
      return tls_read_result (self, n, local_error, error);
    }

  do
    n = recv (self->socket->fd, buffer, length, 0);
  while (n < 0 && errno == EINTR);

  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    {
      int errsv = errno;

      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_RECEIVE_FAILED,
                   _("Could not receive from the server: %s"), g_strerror (errsv));
      errno = errsv;
    }
  else if (n < 0)
    errno = EAGAIN;
  return n;
}

gssize
gmulti_connection_send (GMultiConnection   *self,
                        const struct iovec *iov,
                        int                 n_iov,
                        GError            **error)
{
  struct msghdr msg = { 0 };
  gssize n;

  if (self->tls != NULL)
    {
      GError *local_error = NULL;

      n = gmulti_tls_send (self->tls, iov, n_iov, &local_error);
      if (n < 0)
        {
          errno = local_error != NULL ? EPIPE : EAGAIN;
          if (local_error != NULL)
            g_propagate_error (error, local_error);
        }
      return n;
    }

  msg.msg_iov = (struct iovec *) iov;
  msg.msg_iovlen = n_iov;
  do
    n = sendmsg (self->socket->fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    {
      int errsv = errno;

      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_SEND_FAILED,
                   _("Could not send to the server: %s"), g_strerror (errsv));
      errno = errsv;
    }
  else if (n < 0)
    errno = EAGAIN;
  return n;
}

void
gmulti_connection_want (GMultiConnection *self,
                        GMultiPoll        wanted)
{
  self->wanted = wanted;
  if (self->socket == NULL)
    return;
  /* Records GnuTLS could not write yet go out whatever the protocol waits for. */
  if (self->tls != NULL && gmulti_tls_wants_write (self->tls))
    wanted |= GMULTI_POLL_OUT;
  gmulti_engine_want_socket (self->engine, self->socket, wanted);
}

static int
handshake_result (GMultiConnection *self,
                  GMultiTlsStatus   status)
{
  switch (status)
    {
    case GMULTI_TLS_DONE:
      self->state = GMULTI_CONNECTION_ACTIVE;
      return 1;
    case GMULTI_TLS_WANT_READ:
      gmulti_engine_want_socket (self->engine, self->socket, GMULTI_POLL_IN);
      return 0;
    case GMULTI_TLS_WANT_WRITE:
      gmulti_engine_want_socket (self->engine, self->socket, GMULTI_POLL_OUT);
      return 0;
    case GMULTI_TLS_ERROR:
    default:
      return -1;
    }
}

int
gmulti_connection_start_tls (GMultiConnection *self,
                             GMultiTlsContext *context,
                             GMultiTlsConfig  *config,
                             const char       *host,
                             guint16           port,
                             GError          **error)
{
  self->tls = gmulti_tls_new (context, config, self->socket->fd, host, port, error);
  if (self->tls == NULL)
    return -1;
  self->tls_config = gmulti_tls_config_ref (config);
  self->state = GMULTI_CONNECTION_HANDSHAKING;
  return gmulti_connection_handshake (self, error);
}

int
gmulti_connection_handshake (GMultiConnection *self,
                             GError          **error)
{
  return handshake_result (self, gmulti_tls_handshake_step (self->tls, error));
}

gboolean
gmulti_connection_flush (GMultiConnection *self,
                         GError          **error)
{
  if (self->tls == NULL || !gmulti_tls_wants_write (self->tls))
    return TRUE;
  if (gmulti_tls_flush (self->tls, error) == GMULTI_TLS_ERROR)
    return FALSE;
  /* Drop OUT again once everything left. */
  gmulti_connection_want (self, self->wanted);
  return TRUE;
}

gboolean
gmulti_connection_has_pending (GMultiConnection *self)
{
  return self->tls != NULL && gmulti_tls_pending (self->tls) > 0;
}

void
gmulti_connection_set_low_water (GMultiConnection *self,
                                 gsize             bytes)
{
  int value = (int) MIN (bytes, (gsize) G_MAXINT);

  if (value == self->low_water || self->socket == NULL)
    return;
  /* Best effort: without it the socket merely signals more often. */
  if (setsockopt (self->socket->fd, SOL_SOCKET, SO_RCVLOWAT, &(int) { MAX (value, 1) },
                  sizeof (int)) < 0)
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
  return self->tls != NULL ? gmulti_tls_buffered (self->tls) : 0;
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
