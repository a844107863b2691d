/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <glib-unix.h>

#include "gmulti-session-source-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* Sockets handled per dispatch; the rest stay ready (level-triggered) for the next. */
#define MAX_EVENTS 128
/* Longest timer accepted, so that now + timeout cannot overflow. */
#define MAX_TIMEOUT_MS ((gint64) 1000 * 60 * 60 * 24 * 365)

/* The per-socket pointer kept with gmulti_engine_assign(): non-NULL once the fd is in
 * the epoll set, so the socket function knows ADD from MOD without a table of its own. */
#define IN_EPOLL_SET GINT_TO_POINTER (1)

/* The epoll events taken in one dispatch and not yet handled. Dispatches can nest (a
 * callback may iterate the context), so the batches form a chain. */
typedef struct _Batch Batch;
struct _Batch
{
  struct epoll_event *events;
  int n_events;
  int next;
  Batch *outer;
};

typedef struct
{
  GSource parent;

  GMultiEngine *engine;          /* not a reference: the engine outlives its callbacks */
  GMultiSessionActionFunc action;
  gpointer action_data;

  int epfd;
  gpointer epfd_tag;
  guint n_watched;
  guint64 n_dispatch;
  Batch *batch;                  /* innermost batch being handled, NULL outside dispatch */

  /* While blocked the epoll fd is not polled and the timer is held here. */
  gboolean blocked;
  gint64 held_ready_time;

  /* Inside dispatch the timer is only recorded and set once at the end: every
   * g_source_set_ready_time() on a source that may recurse wakes the context (an
   * eventfd write), and one dispatch may move the timer many times. */
  guint dispatch_depth;
  gboolean ready_time_pending;
  gint64 pending_ready_time;
} GMultiSessionSource;

static gint64
current_ready_time (GMultiSessionSource *self)
{
  if (self->ready_time_pending)
    return self->pending_ready_time;
  return g_source_get_ready_time ((GSource *) self);
}

static void
set_ready_time (GMultiSessionSource *self,
                gint64               ready_time)
{
  if (self->dispatch_depth > 0)
    {
      self->ready_time_pending = TRUE;
      self->pending_ready_time = ready_time;
    }
  else
    g_source_set_ready_time ((GSource *) self, ready_time);
}

/* A socket removed while a batch holds events for it must not get them: its number may
 * already belong to a new socket. */
static void
forget_pending_events (GMultiSessionSource *self,
                       int                  fd)
{
  for (Batch *batch = self->batch; batch != NULL; batch = batch->outer)
    {
      for (int i = batch->next; i < batch->n_events; i++)
        {
          if (batch->events[i].data.fd == fd)
            batch->events[i].events = 0;
        }
    }
}

static gboolean
socket_cb (GMultiEngine *engine,
           int           fd,
           GMultiPoll    what,
           gpointer      socket_data,
           gpointer      user_data)
{
  GMultiSessionSource *self = user_data;
  struct epoll_event ev = { 0 };
  int result;

  if (what == GMULTI_POLL_REMOVE)
    {
      forget_pending_events (self, fd);
      if (socket_data == NULL)
        return TRUE;

      /* ENOENT or EBADF: the registration is gone already, which is what we want. */
      if (epoll_ctl (self->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 &&
          errno != ENOENT && errno != EBADF)
        {
          g_warning ("Could not stop watching socket %d: %s", fd, g_strerror (errno));
          return FALSE;
        }
      self->n_watched--;
      /* A socket that stays open (an unwatched idle connection) is added again later. */
      gmulti_engine_assign (engine, fd, NULL);
      return TRUE;
    }

  /* Level-triggered: a socket with unread data is reported again on the next turn, so
   * handling only part of a batch never loses an event. */
  ev.events = ((what & GMULTI_POLL_IN) ? (EPOLLIN | EPOLLRDHUP) : 0) |
              ((what & GMULTI_POLL_OUT) ? EPOLLOUT : 0);
  ev.data.fd = fd;

  if (socket_data == NULL)
    {
      result = epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev);
      /* A registration that outlived its socket (the fd number was reused while another
       * descriptor kept the old file open): replace it. */
      if (result < 0 && errno == EEXIST)
        result = epoll_ctl (self->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
  else
    {
      result = epoll_ctl (self->epfd, EPOLL_CTL_MOD, fd, &ev);
      if (result < 0 && errno == ENOENT)
        result = epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev);
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
      gmulti_engine_assign (engine, fd, IN_EPOLL_SET);
    }

  return TRUE;
}

static gboolean
timer_cb (GMultiEngine *engine,
          gint64        timeout_ms,
          gpointer      user_data)
{
  GMultiSessionSource *self = user_data;
  gint64 ready_time;

  /* Never call the engine from here: 0 only marks the source ready, and the engine
   * runs from dispatch. */
  if (timeout_ms < 0)
    ready_time = -1;
  else if (timeout_ms == 0)
    ready_time = 0;
  else
    ready_time = g_get_monotonic_time () + MIN (timeout_ms, MAX_TIMEOUT_MS) * 1000;

  if (self->blocked)
    self->held_ready_time = ready_time;
  else
    set_ready_time (self, ready_time);

  return TRUE;
}

/* The engine is busy further up the stack: stop polling until it returns, keeping the
 * timer, rather than waking up in a loop for events nobody can handle yet. */
static void
block (GMultiSessionSource *self,
       gint64               ready_time)
{
  GSource *source = (GSource *) self;

  if (self->blocked)
    return;

  self->blocked = TRUE;
  self->held_ready_time = ready_time;
  g_source_set_ready_time (source, -1);
  g_source_modify_unix_fd (source, self->epfd_tag, 0);
}

void
gmulti_session_source_unblock (GSource *source)
{
  GMultiSessionSource *self = (GMultiSessionSource *) source;

  if (!self->blocked)
    return;

  self->blocked = FALSE;
  if (g_source_is_destroyed (source))
    return;
  g_source_modify_unix_fd (source, self->epfd_tag, G_IO_IN);
  g_source_set_ready_time (source, self->held_ready_time);
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

/* Returns FALSE if the engine was busy and the source is now blocked. */
static gboolean
dispatch_sockets (GMultiSessionSource *self)
{
  GSource *source = (GSource *) self;
  struct epoll_event events[MAX_EVENTS];
  Batch batch = { events, 0, 0, self->batch };
  gboolean ok = TRUE;
  int n;

  do
    n = epoll_wait (self->epfd, events, MAX_EVENTS, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return TRUE;

  batch.n_events = n;
  self->batch = &batch;

  while (batch.next < batch.n_events)
    {
      struct epoll_event *ev = &events[batch.next++];

      if (ev->events == 0)
        continue;

      if (!self->action (ev->data.fd, map_events (ev->events), self->action_data))
        {
          /* Level-triggered: the socket is still ready once the source is unblocked. */
          block (self, current_ready_time (self));
          ok = FALSE;
          break;
        }

      if (g_source_is_destroyed (source))
        break;
    }

  self->batch = batch.outer;
  return ok;
}

static void
dispatch_events (GMultiSessionSource *self)
{
  GSource *source = (GSource *) self;
  gint64 ready_time;

  if ((g_source_query_unix_fd (source, self->epfd_tag) & G_IO_IN) != 0 &&
      !dispatch_sockets (self))
    return;

  if (g_source_is_destroyed (source))
    return;

  /* Checked after the sockets: their actions may have run the expired deadlines and
   * moved the timer already. */
  ready_time = current_ready_time (self);
  if (ready_time >= 0 && ready_time <= g_get_monotonic_time ())
    {
      set_ready_time (self, -1);
      if (!self->action (GMULTI_SOCKET_TIMEOUT, GMULTI_EVENT_NONE, self->action_data))
        block (self, 0);
    }
}

static gboolean
gmulti_session_source_dispatch (GSource     *source,
                                GSourceFunc  callback,
                                gpointer     user_data)
{
  GMultiSessionSource *self = (GMultiSessionSource *) source;

  self->n_dispatch++;
  if (self->blocked)
    return G_SOURCE_CONTINUE;

  self->dispatch_depth++;
  dispatch_events (self);
  self->dispatch_depth--;

  /* The timer as the engine left it, set once. */
  if (self->dispatch_depth == 0 && self->ready_time_pending)
    {
      self->ready_time_pending = FALSE;
      if (!g_source_is_destroyed (source) && !self->blocked &&
          g_source_get_ready_time (source) != self->pending_ready_time)
        g_source_set_ready_time (source, self->pending_ready_time);
    }

  return G_SOURCE_CONTINUE;
}

static void
gmulti_session_source_finalize (GSource *source)
{
  GMultiSessionSource *self = (GMultiSessionSource *) source;

  if (self->epfd >= 0)
    close (self->epfd);
}

static GSourceFuncs session_source_funcs = {
  NULL, /* prepare: the ready time and the epoll fd say everything */
  NULL, /* check: GLib looks at the fd's revents and the ready time itself */
  gmulti_session_source_dispatch,
  gmulti_session_source_finalize,
  NULL,
  NULL,
};

GSource *
gmulti_session_source_new (GMultiEngine            *engine,
                           GMultiSessionActionFunc  action,
                           gpointer                 user_data,
                           GError                 **error)
{
  GMultiSessionSource *self;
  GSource *source;
  int epfd;

  g_return_val_if_fail (engine != NULL, NULL);
  g_return_val_if_fail (action != NULL, NULL);

  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create an epoll descriptor: %s"), g_strerror (saved_errno));
      return NULL;
    }

  source = g_source_new (&session_source_funcs, sizeof (GMultiSessionSource));
  self = (GMultiSessionSource *) source;
  self->engine = engine;
  self->action = action;
  self->action_data = user_data;
  self->epfd = epfd;
  self->held_ready_time = -1;
  self->epfd_tag = g_source_add_unix_fd (source, epfd, G_IO_IN);

  g_source_set_name (source, "GMultiSession");
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  /* GLib unregisters and re-registers the fds of a source that cannot recurse around
   * each dispatch, waking its own eventfd twice per event. Recursion is handled here
   * instead: a nested dispatch while the engine is busy blocks the source. */
  g_source_set_can_recurse (source, TRUE);

  gmulti_engine_set_socket_func (engine, socket_cb, self, NULL);
  gmulti_engine_set_timer_func (engine, timer_cb, self, NULL);

  return source;
}

guint
gmulti_session_source_get_n_watched (GSource *source)
{
  return ((GMultiSessionSource *) source)->n_watched;
}

guint64
gmulti_session_source_get_n_dispatch (GSource *source)
{
  return ((GMultiSessionSource *) source)->n_dispatch;
}
