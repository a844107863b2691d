/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-session-source-backend-private.h"
#include "gmulti-enum-types.h"

/* Sockets a dispatch takes on the stack; a backend that reports more (unix-fd, with
 * many sockets ready at once) gets the spare buffer or one of its own. */
#define STACK_BATCH 128
/* Longest timer accepted, so that now + timeout cannot overflow. */
#define MAX_TIMEOUT_MS ((gint64) 1000 * 60 * 60 * 24 * 365)

#define ENV_VAR "GMULTI_MAIN_LOOP_SOURCE"

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
  for (GMultiReadyBatch *batch = self->batch; batch != NULL; batch = batch->outer)
    {
      for (guint i = batch->next; i < batch->n_sockets; i++)
        {
          if (batch->sockets[i].fd == fd)
            batch->sockets[i].events = GMULTI_EVENT_NONE;
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

  if (what == GMULTI_POLL_REMOVE)
    forget_pending_events (self, fd);
  return self->backend->watch (self, fd, what, socket_data);
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
  if (self->blocked)
    return;

  self->blocked = TRUE;
  self->held_ready_time = ready_time;
  g_source_set_ready_time ((GSource *) self, -1);
  self->backend->block (self);
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
  self->backend->unblock (self);
  g_source_set_ready_time (source, self->held_ready_time);
}

/* Room for @n ready sockets: the stack buffer, else the spare one when no outer
 * dispatch holds it, else a new one. */
static GMultiReadySocket *
take_buffer (GMultiSessionSource *self,
             GMultiReadySocket   *stack,
             guint                n,
             guint               *capacity)
{
  if (n <= STACK_BATCH)
    {
      *capacity = STACK_BATCH;
      return stack;
    }
  if (self->spare != NULL && self->n_spare >= n)
    {
      *capacity = self->n_spare;
      return g_steal_pointer (&self->spare);
    }
  /* Grown by half again, so that a slowly growing set of sockets does not cost one
   * allocation per dispatch. */
  *capacity = n + n / 2;
  return g_new (GMultiReadySocket, *capacity);
}

static void
return_buffer (GMultiSessionSource *self,
               GMultiReadySocket   *stack,
               GMultiReadySocket   *buffer,
               guint                capacity)
{
  if (buffer == stack)
    return;
  /* Kept for the next dispatch: with thousands of sockets ready in every turn, one
   * allocation per turn is not needed. */
  if (self->spare == NULL || self->n_spare < capacity)
    {
      g_free (self->spare);
      self->spare = buffer;
      self->n_spare = capacity;
    }
  else
    g_free (buffer);
}

/* Returns FALSE if the engine was busy and the source is now blocked. */
static gboolean
dispatch_sockets (GMultiSessionSource *self)
{
  GSource *source = (GSource *) self;
  GMultiReadySocket stack[STACK_BATCH];
  GMultiReadyBatch batch = { NULL, 0, 0, self->batch };
  guint room, capacity;
  gboolean ok = TRUE;

  room = self->backend->max_ready (self);
  if (room == 0)
    return TRUE;

  batch.sockets = take_buffer (self, stack, room, &capacity);
  batch.n_sockets = self->backend->collect (self, batch.sockets, room);
  if (batch.n_sockets == 0)
    {
      return_buffer (self, stack, batch.sockets, capacity);
      return TRUE;
    }
  self->batch = &batch;

  while (batch.next < batch.n_sockets)
    {
      GMultiReadySocket *ready = &batch.sockets[batch.next++];

      if (ready->events == GMULTI_EVENT_NONE)
        continue;

      if (!self->action (ready->fd, ready->events, self->action_data))
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
  return_buffer (self, stack, batch.sockets, capacity);
  return ok;
}

static void
dispatch_events (GMultiSessionSource *self)
{
  GSource *source = (GSource *) self;
  gint64 ready_time;

  if (!dispatch_sockets (self))
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

  if (self->backend != NULL)
    self->backend->finalize (self);
  g_clear_pointer (&self->spare, g_free);
}

static GSourceFuncs session_source_funcs = {
  NULL, /* prepare: the ready time and the fds say everything */
  NULL, /* check: GLib looks at the fds' revents and the ready time itself */
  gmulti_session_source_dispatch,
  gmulti_session_source_finalize,
  NULL,
  NULL,
};

/* What GMULTI_MAIN_LOOP_SOURCE asks for, read once: AUTO when unset or unknown. */
static GMultiMainLoopSource
from_environment (void)
{
  static gsize parsed = 0;

  if (g_once_init_enter (&parsed))
    {
      GMultiMainLoopSource kind = GMULTI_MAIN_LOOP_SOURCE_AUTO;
      const char *value = g_getenv (ENV_VAR);

      if (value != NULL && *value != '\0')
        {
          GEnumClass *klass = g_type_class_ref (GMULTI_TYPE_MAIN_LOOP_SOURCE);
          GEnumValue *known = g_enum_get_value_by_nick (klass, value);

          if (known != NULL)
            kind = known->value;
          else
            g_warning ("Unknown %s value “%s” (expected auto, epoll or unix-fd): "
                       "using the default", ENV_VAR, value);
          g_type_class_unref (klass);
        }
      /* Stored plus one: g_once_init_leave() takes no 0. */
      g_once_init_leave (&parsed, (gsize) kind + 1);
    }

  return (GMultiMainLoopSource) (parsed - 1);
}

GMultiMainLoopSource
gmulti_session_source_choose (GMultiMainLoopSource requested)
{
  GMultiMainLoopSource kind = requested;

  if (kind == GMULTI_MAIN_LOOP_SOURCE_AUTO)
    kind = from_environment ();

#ifdef GMULTI_HAVE_EPOLL
  if (kind == GMULTI_MAIN_LOOP_SOURCE_AUTO)
    kind = GMULTI_MAIN_LOOP_SOURCE_EPOLL;
#else
  if (kind == GMULTI_MAIN_LOOP_SOURCE_EPOLL)
    g_debug ("gmulti was built without epoll: the session watches its sockets with "
             "g_source_add_unix_fd() instead");
  if (kind != GMULTI_MAIN_LOOP_SOURCE_UNIX_FD)
    kind = GMULTI_MAIN_LOOP_SOURCE_UNIX_FD;
#endif

  return kind;
}

GSource *
gmulti_session_source_new (GMultiEngine             *engine,
                           GMultiMainLoopSource      kind,
                           GMultiSessionActionFunc   action,
                           gpointer                  user_data,
                           GError                  **error)
{
  const GMultiSessionSourceBackend *backend;
  GMultiSessionSource *self;
  GSource *source;

  g_return_val_if_fail (engine != NULL, NULL);
  g_return_val_if_fail (action != NULL, NULL);

  switch (gmulti_session_source_choose (kind))
    {
#ifdef GMULTI_HAVE_EPOLL
    case GMULTI_MAIN_LOOP_SOURCE_EPOLL:
      backend = &gmulti_session_source_epoll;
      break;
#endif
    default:
      backend = &gmulti_session_source_unix_fd;
      break;
    }

  source = g_source_new (&session_source_funcs, sizeof (GMultiSessionSource));
  self = (GMultiSessionSource *) source;
  self->backend = backend;
  self->engine = engine;
  self->action = action;
  self->action_data = user_data;
  self->held_ready_time = -1;

  if (!backend->init (self, error))
    {
      /* finalize() must not see a backend that never started. */
      self->backend = NULL;
      g_source_unref (source);
      return NULL;
    }

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

GMultiMainLoopSource
gmulti_session_source_get_kind (GSource *source)
{
  return ((GMultiSessionSource *) source)->backend->kind;
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
