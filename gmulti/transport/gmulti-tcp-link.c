/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "gmulti-tcp-link.h"
#include "gmulti-error.h"
#include "gmulti-error-private.h"
#include "gmulti-i18n-private.h"

typedef struct {
  GMultiLink link;
  int fd;                        /* the connected socket; -1 while connecting */

  /* Happy Eyeballs: addresses to try and the attempts under way. */
  GMultiAddress *addresses;
  guint n_addresses;
  guint next_address;
  int attempts[GMULTI_LINK_MAX_SOCKETS];
  guint attempt_address[GMULTI_LINK_MAX_SOCKETS]; /* index into addresses */
  guint n_attempts;
  GError *connect_error;         /* the most recent attempt's failure */
} GMultiTcpLink;

static char *
address_to_string (const GMultiAddress *address)
{
  char host[64] = "";
  guint16 port = 0;

  if (address->family == AF_UNIX)
    {
      const struct sockaddr_un *sun = (const struct sockaddr_un *) &address->addr;

      /* An abstract socket's name follows a NUL byte: shown as "@name". */
      if (sun->sun_path[0] == '\0')
        {
          gsize name_len = address->addrlen - G_STRUCT_OFFSET (struct sockaddr_un, sun_path) - 1;

          return g_strdup_printf ("@%.*s", (int) name_len, sun->sun_path + 1);
        }
      return g_strndup (sun->sun_path, sizeof sun->sun_path);
    }
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
set_connect_error (GMultiTcpLink       *self,
                   const GMultiAddress *address,
                   int                  errsv)
{
  g_autofree char *where = address_to_string (address);

  g_clear_error (&self->connect_error);
  g_set_error (&self->connect_error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED,
               _("Could not connect to %s: %s"), where, g_strerror (errsv));
  gmulti_error_set_errno (self->connect_error, errsv);
}

/* Takes attempt @index off the list and hands its socket to the owner to close. */
static void
give_up (GMultiTcpLink  *self,
         guint           index,
         GMultiLinkOpen *io)
{
  io->given_up[io->n_given_up++] = self->attempts[index];
  self->n_attempts--;
  self->attempts[index] = self->attempts[self->n_attempts];
  self->attempt_address[index] = self->attempt_address[self->n_attempts];
  self->attempts[self->n_attempts] = -1;
}

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0
#endif

/* A non-blocking stream socket, closed on exec, whose writes never raise SIGPIPE: in
 * one call where the system takes SOCK_NONBLOCK and SOCK_CLOEXEC, else with fcntl()
 * (and SO_NOSIGPIPE where MSG_NOSIGNAL is missing, as on macOS). -1 with errno set. */
static int
open_stream_socket (int family)
{
  int fd;

#if GMULTI_USE_SOCK_FLAGS
  fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  fd = socket (family, SOCK_STREAM, 0);
  if (fd >= 0 &&
      (fcntl (fd, F_SETFD, FD_CLOEXEC) < 0 || !g_unix_set_fd_nonblocking (fd, TRUE, NULL)))
    {
      int errsv = errno;

      close (fd);
      errno = errsv;
      return -1;
    }
#endif
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
  if (fd >= 0)
    {
      int one = 1;

      setsockopt (fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
    }
#endif
  return fd;
}

/* Starts the next address. Returns TRUE if an attempt is under way. */
static gboolean
start_next_attempt (GMultiTcpLink  *self,
                    GMultiLinkOpen *io)
{
  while (self->next_address < self->n_addresses &&
         self->n_attempts < GMULTI_LINK_MAX_SOCKETS)
    {
      const GMultiAddress *address = &self->addresses[self->next_address++];
      int one = 1;
      int fd;

      fd = open_stream_socket (address->family);
      if (fd < 0)
        {
          set_connect_error (self, address, errno);
          continue;
        }
      if (address->family != AF_UNIX)
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
      self->attempts[self->n_attempts] = fd;
      self->attempt_address[self->n_attempts] = self->next_address - 1;
      self->n_attempts++;
      io->opened[io->n_opened++] = fd;
      io->deadline = self->next_address < self->n_addresses
                     ? io->now + GMULTI_TCP_LINK_ATTEMPT_DELAY_US : 0;
      return TRUE;
    }

  return self->n_attempts > 0;
}

static void
won (GMultiTcpLink  *self,
     guint           index,
     GMultiLinkOpen *io)
{
  self->fd = self->attempts[index];
  self->n_attempts--;
  self->attempts[index] = self->attempts[self->n_attempts];
  self->attempt_address[index] = self->attempt_address[self->n_attempts];
  self->attempts[self->n_attempts] = -1;
  while (self->n_attempts > 0)
    give_up (self, 0, io);

  io->deadline = 0;
  g_clear_pointer (&self->addresses, g_free);
  g_clear_error (&self->connect_error);
}

/* The attempt on @fd became writable: connected, still under way, or failed. Returns
 * DONE, WANT_WRITE, or ERROR for a failure (the caller moves on). */
static GMultiLinkStatus
check_attempt (GMultiTcpLink  *self,
               guint           i,
               GMultiLinkOpen *io)
{
  int fd = self->attempts[i];
  int so_error = 0;
  socklen_t len = sizeof so_error;

  if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
    so_error = errno;

  if (so_error == 0)
    {
      struct sockaddr_storage peer;
      socklen_t peer_len = sizeof peer;

      /* Spurious wake-up before the handshake ended: still connecting. */
      if (getpeername (fd, (struct sockaddr *) &peer, &peer_len) < 0)
        {
          if (errno != ENOTCONN)
            so_error = errno;
          else
            return GMULTI_LINK_WANT_WRITE;
        }
    }

  if (so_error == 0)
    {
      won (self, i, io);
      return GMULTI_LINK_DONE;
    }
  if (so_error == EINPROGRESS || so_error == EALREADY)
    return GMULTI_LINK_WANT_WRITE;

  set_connect_error (self, &self->addresses[self->attempt_address[i]], so_error);
  give_up (self, i, io);
  return GMULTI_LINK_ERROR;
}

static GMultiLinkStatus
tcp_open (GMultiLink      *link,
          GMultiLinkOpen  *io,
          GError         **error)
{
  GMultiTcpLink *self = (GMultiTcpLink *) link;

  if (self->fd >= 0)
    return GMULTI_LINK_DONE;

  for (guint i = 0; io->ready_fd >= 0 && i < self->n_attempts; i++)
    {
      GMultiLinkStatus status;

      if (self->attempts[i] != io->ready_fd)
        continue;
      status = check_attempt (self, i, io);
      if (status != GMULTI_LINK_ERROR)
        return status;
      break;
    }

  /* The deadline passed, or an attempt failed: the next address. */
  if (start_next_attempt (self, io))
    return GMULTI_LINK_WANT_WRITE;

  g_propagate_error (error, g_steal_pointer (&self->connect_error));
  if (error != NULL && *error == NULL)
    g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED,
                         _("Could not connect"));
  return GMULTI_LINK_ERROR;
}

static gssize
tcp_recv (GMultiLink  *link,
          guint8      *buffer,
          gsize        length,
          GError     **error)
{
  GMultiTcpLink *self = (GMultiTcpLink *) link;
  gssize n;

  do
    n = recv (self->fd, buffer, length, 0);
  while (n < 0 && errno == EINTR);

  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    {
      int errsv = errno;

      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_RECEIVE_FAILED,
                   _("Could not receive from the server: %s"), g_strerror (errsv));
      gmulti_error_set_errno (error != NULL ? *error : NULL, errsv);
      errno = errsv;
    }
  else if (n < 0)
    errno = EAGAIN;
  return n;
}

static gssize
tcp_send (GMultiLink          *link,
          const struct iovec  *iov,
          int                  n_iov,
          GError             **error)
{
  GMultiTcpLink *self = (GMultiTcpLink *) link;
  struct msghdr msg = { 0 };
  gssize n;

  msg.msg_iov = (struct iovec *) iov;
  msg.msg_iovlen = n_iov;
  /* A server that went away must be an error, never SIGPIPE (SO_NOSIGPIPE where
   * there is no MSG_NOSIGNAL). */
  do
    n = sendmsg (self->fd, &msg, SEND_FLAGS);
  while (n < 0 && errno == EINTR);

  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    {
      int errsv = errno;

      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_SEND_FAILED,
                   _("Could not send to the server: %s"), g_strerror (errsv));
      gmulti_error_set_errno (error != NULL ? *error : NULL, errsv);
      errno = errsv;
    }
  else if (n < 0)
    errno = EAGAIN;
  return n;
}

static void
tcp_free (GMultiLink *link)
{
  GMultiTcpLink *self = (GMultiTcpLink *) link;

  /* The sockets are the owner's to close (see gmulti-link.h). */
  g_clear_error (&self->connect_error);
  g_free (self->addresses);
  g_free (self);
}

static const GMultiLinkOps tcp_ops = {
  .name = "tcp",
  .open = tcp_open,
  .recv = tcp_recv,
  .send = tcp_send,
  .free = tcp_free,
};

/* A Unix stream socket is the same link under another name (gmulti-unix-link.c). */
static const GMultiLinkOps unix_ops = {
  .name = "unix",
  .open = tcp_open,
  .recv = tcp_recv,
  .send = tcp_send,
  .free = tcp_free,
};

static gboolean
is_socket_link (GMultiLink *link)
{
  return link->ops == &tcp_ops || link->ops == &unix_ops;
}

static GMultiTcpLink *
tcp_link_new (const GMultiLinkOps *ops)
{
  GMultiTcpLink *self = g_new0 (GMultiTcpLink, 1);

  self->link.ops = ops;
  self->fd = -1;
  for (guint i = 0; i < GMULTI_LINK_MAX_SOCKETS; i++)
    self->attempts[i] = -1;
  return self;
}

GMultiLink *
gmulti_tcp_link_new_connect (const GMultiAddress *addresses,
                             guint                n_addresses)
{
  GMultiTcpLink *self;

  g_return_val_if_fail (n_addresses > 0, NULL);

  self = tcp_link_new (addresses[0].family == AF_UNIX ? &unix_ops : &tcp_ops);
  self->addresses = g_memdup2 (addresses, sizeof (GMultiAddress) * n_addresses);
  self->n_addresses = n_addresses;
  return &self->link;
}

GMultiLink *
gmulti_tcp_link_new_for_fd (int fd)
{
  GMultiTcpLink *self = tcp_link_new (&tcp_ops);

  self->fd = fd;
  return &self->link;
}

int
gmulti_tcp_link_get_fd (GMultiLink *link)
{
  g_return_val_if_fail (is_socket_link (link), -1);

  return ((GMultiTcpLink *) link)->fd;
}

gboolean
gmulti_tcp_link_set_low_water (GMultiLink *link,
                               int         bytes)
{
  GMultiTcpLink *self = (GMultiTcpLink *) link;

  g_return_val_if_fail (is_socket_link (link), FALSE);

  return setsockopt (self->fd, SOL_SOCKET, SO_RCVLOWAT, &(int) { MAX (bytes, 1) },
                     sizeof (int)) == 0;
}
