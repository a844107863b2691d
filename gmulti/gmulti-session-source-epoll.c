/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "gmulti-session-source-backend-private.h"
#include "gmulti-i18n-private.h"

/* The session's sockets in one epoll set, whose descriptor is the only fd GLib polls:
 * a loop turn costs O(ready sockets), whatever the number watched. Linux only. */

/* Sockets handled per dispatch; the rest stay ready (level-triggered) for the next. */
#define MAX_EVENTS 128

/* The per-socket pointer kept with gmulti_engine_assign(): non-NULL once the fd is in
 * the epoll set, so the socket function knows ADD from MOD without a table of its own. */
#define IN_EPOLL_SET GINT_TO_POINTER (1)

typedef struct
{
  int epfd;
  gpointer epfd_tag;
} EpollData;

static gboolean
epoll_init (GMultiSessionSource *self,
            GError             **error)
{
  EpollData *data;
  int epfd;

  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create an epoll descriptor: %s"), g_strerror (saved_errno));
      return FALSE;
    }

  data = g_new0 (EpollData, 1);
  data->epfd = epfd;
  data->epfd_tag = g_source_add_unix_fd ((GSource *) self, epfd, G_IO_IN);
  self->backend_data = data;
  return TRUE;
}

static gboolean
epoll_watch (GMultiSessionSource *self,
             int                  fd,
             GMultiPoll           what,
             gpointer             socket_data)
{
  EpollData *data = self->backend_data;
  struct epoll_event ev = { 0 };
  int result;

  if (what == GMULTI_POLL_REMOVE)
    {
      if (socket_data == NULL)
        return TRUE;

      /* ENOENT or EBADF: the registration is gone already, which is what we want. */
      if (epoll_ctl (data->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 &&
          errno != ENOENT && errno != EBADF)
        {
          g_warning ("Could not stop watching socket %d: %s", fd, g_strerror (errno));
          return FALSE;
        }
      self->n_watched--;
      /* A socket that stays open (an unwatched idle connection) is added again later. */
      gmulti_engine_assign (self->engine, fd, NULL);
      return TRUE;
    }

  /* Level-triggered: a socket with unread data is reported again on the next turn, so
   * handling only part of a batch never loses an event. */
  ev.events = ((what & GMULTI_POLL_IN) ? (EPOLLIN | EPOLLRDHUP) : 0) |
              ((what & GMULTI_POLL_OUT) ? EPOLLOUT : 0);
  ev.data.fd = fd;

  if (socket_data == NULL)
    {
      result = epoll_ctl (data->epfd, EPOLL_CTL_ADD, fd, &ev);
      /* A registration that outlived its socket (the fd number was reused while another
       * descriptor kept the old file open): replace it. */
      if (result < 0 && errno == EEXIST)
        result = epoll_ctl (data->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
  else
    {
      result = epoll_ctl (data->epfd, EPOLL_CTL_MOD, fd, &ev);
      if (result < 0 && errno == ENOENT)
        result = epoll_ctl (data->epfd, EPOLL_CTL_ADD, fd, &ev);
    }

  if (result < 0)
    {
      /* Returning FALSE stops the engine: every transfer fails with a clear error rather
       * than waiting for an event that cannot come. */
      g_warning ("Could not watch socket %d: %s", fd, g_strerror (errno));
      return FALSE;
    }

  if (socket_data == NULL)
    {
      self->n_watched++;
      gmulti_engine_assign (self->engine, fd, IN_EPOLL_SET);
    }

  return TRUE;
}

static guint
epoll_max_ready (GMultiSessionSource *self)
{
  return MAX_EVENTS;
}

static GMultiEvent
map_events (guint32 events)
{
  GMultiEvent mapped = GMULTI_EVENT_NONE;

  if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
    mapped |= GMULTI_EVENT_IN;
  if (events & EPOLLOUT)
    mapped |= GMULTI_EVENT_OUT;
  if (events & EPOLLERR)
    mapped |= GMULTI_EVENT_ERR;

  return mapped;
}

static guint
epoll_collect (GMultiSessionSource *self,
               GMultiReadySocket   *sockets,
               guint                max)
{
  EpollData *data = self->backend_data;
  struct epoll_event events[MAX_EVENTS];
  int n;

  if ((g_source_query_unix_fd ((GSource *) self, data->epfd_tag) & G_IO_IN) == 0)
    return 0;

  do
    n = epoll_wait (data->epfd, events, MIN (max, MAX_EVENTS), 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return 0;

  for (int i = 0; i < n; i++)
    {
      sockets[i].fd = events[i].data.fd;
      sockets[i].events = map_events (events[i].events);
    }
  return n;
}

static void
epoll_block (GMultiSessionSource *self)
{
  EpollData *data = self->backend_data;

  g_source_modify_unix_fd ((GSource *) self, data->epfd_tag, 0);
}

static void
epoll_unblock (GMultiSessionSource *self)
{
  EpollData *data = self->backend_data;

  g_source_modify_unix_fd ((GSource *) self, data->epfd_tag, G_IO_IN);
}

static void
epoll_finalize (GMultiSessionSource *self)
{
  EpollData *data = self->backend_data;

  if (data == NULL)
    return;
  close (data->epfd);
  g_free (data);
}

const GMultiSessionSourceBackend gmulti_session_source_epoll = {
  GMULTI_MAIN_LOOP_SOURCE_EPOLL,
  epoll_init,
  epoll_watch,
  epoll_max_ready,
  epoll_collect,
  epoll_block,
  epoll_unblock,
  epoll_finalize,
};
