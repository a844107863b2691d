/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <poll.h>
#include <unistd.h>

#include "gmulti-engine-private.h"
#include "gmulti-error.h"
#include "gmulti-http1-request.h"
#include "gmulti-i18n-private.h"

/* The engine's public calls. Each call is one "turn": it handles the socket or timer it
 * was given, runs expired deadlines and transfers made ready, then reports socket
 * interest changes and the new deadline to the application, in that order, once. */

G_DEFINE_BOXED_TYPE (GMultiEngine, gmulti_engine, gmulti_engine_ref, gmulti_engine_unref)

static GMultiMessage *
message_copy (GMultiMessage *message)
{
  GMultiMessage *copy = g_new0 (GMultiMessage, 1);

  copy->transfer = message->transfer != NULL ? g_object_ref (message->transfer) : NULL;
  copy->error = message->error != NULL ? g_error_copy (message->error) : NULL;
  return copy;
}

static void
message_free (GMultiMessage *message)
{
  g_clear_object (&message->transfer);
  g_clear_error (&message->error);
  g_free (message);
}

G_DEFINE_BOXED_TYPE (GMultiMessage, gmulti_message, message_copy, message_free)

/**
 * gmulti_engine_new:
 *
 * Creates an engine with no transfers, no sockets and no callbacks.
 *
 * Returns: (transfer full): a new engine
 *
 * Since: 0.1
 */
GMultiEngine *
gmulti_engine_new (void)
{
  GMultiEngine *self = g_new0 (GMultiEngine, 1);

  self->ref_count = 1;
  gmulti_socket_table_init (&self->sockets);
  gmulti_timer_heap_init (&self->timers);
  g_queue_init (&self->transfers);
  g_queue_init (&self->ready);
  g_queue_init (&self->yielded);
  g_queue_init (&self->pending);
  g_queue_init (&self->waiting_hosts);
  g_queue_init (&self->messages);
  g_queue_init (&self->idle_lru);
  g_queue_init (&self->connections);
  gmulti_splice_pipe_init (&self->splice);
  self->announced_deadline = -1;
  self->head = g_string_sized_new (512);
  self->defaults = gmulti_defaults_dup_bare ();
  self->proxy_env = gmulti_proxy_env_new (NULL);
  return self;
}

/**
 * gmulti_engine_ref:
 * @self: an engine
 *
 * Takes a reference on the engine.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
GMultiEngine *
gmulti_engine_ref (GMultiEngine *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

static gboolean
announce_cb (int        fd,
             GMultiPoll what,
             gpointer   socket_data,
             gpointer   user_data)
{
  GMultiEngine *self = user_data;

  if (self->socket_func == NULL)
    return TRUE;
  return self->socket_func (self, fd, what, socket_data, self->socket_data);
}

/* Reports socket changes, then the deadline if it changed. */
static void
flush (GMultiEngine *self)
{
  gint64 deadline;
  gboolean again;

  if (!gmulti_socket_table_flush (&self->sockets, announce_cb, self))
    self->callback_failed = TRUE;

  /* After a timeout action the application's timer is gone: an unchanged deadline is
   * told again, but "none" needs no telling. */
  deadline = gmulti_engine_current_deadline (self);
  again = self->report_timer && deadline >= 0;
  self->report_timer = FALSE;
  if (deadline != self->announced_deadline || again)
    {
      gint64 ms;

      if (deadline < 0)
        ms = -1;
      else if (deadline == 0 || deadline <= self->now)
        ms = 0;
      else
        ms = (deadline - self->now + 999) / 1000;

      self->announced_deadline = deadline;
      if (self->timer_func != NULL && !self->timer_func (self, ms, self->timer_data))
        self->callback_failed = TRUE;
    }
}

static void
release_transfer (GMultiEngine *self,
                  GMultiRun    *run)
{
  GMultiTransfer *owner = run->owner;

  if (run->in_messages)
    {
      g_queue_unlink (&self->messages, &run->message_link);
      run->in_messages = FALSE;
    }
  if (run->phase != GMULTI_RUN_DONE)
    {
      self->n_running--;
      /* Whatever had arrived is not a response: the result says it was stopped. */
      gmulti_run_notify_cancelled (run, FALSE);
    }
  g_queue_unlink (&self->transfers, &run->link);
  run->engine = NULL;
  run->phase = GMULTI_RUN_NONE;
  run->start_us = 0;
  run->redirects = 0;
  run->retried_stale = FALSE;
  run->retry_fresh = FALSE;
  run->following = FALSE;
  run->body_dropped = FALSE;
  run->cross_origin = FALSE;
  run->total_deadline = run->connect_deadline = run->continue_deadline = 0;
  run->low_speed_check = run->low_speed_since = 0;
  run->low_speed_bytes = 0;
  gmulti_run_clear (run);
  gmulti_run_notify_released (run);
  g_object_unref (owner);
}

/* Stops everything after a socket or timer function failed. */
static void
stop (GMultiEngine *self)
{
  self->stopped = TRUE;
  for (GList *l = self->transfers.head; l != NULL; l = l->next)
    {
      GMultiRun *run = l->data;

      if (run->phase != GMULTI_RUN_DONE)
        gmulti_engine_abort_transfer (self, run,
                                      g_error_new_literal (GMULTI_ERROR,
                                                           GMULTI_ERROR_ENGINE_STOPPED,
                                                           _("The engine stopped because a socket or timer callback failed")));
    }
  gmulti_pool_close_all (self, FALSE);
  gmulti_engine_update_resolver_interest (self);
  gmulti_socket_table_flush (&self->sockets, announce_cb, self);
  if (self->announced_deadline != -1)
    {
      self->announced_deadline = -1;
      if (self->timer_func != NULL)
        self->timer_func (self, -1, self->timer_data);
    }
}

GMultiEngineResult
gmulti_engine_end_turn (GMultiEngine *self)
{
  GMultiEngineResult result = GMULTI_ENGINE_OK;

  if (self->pool_changed)
    gmulti_pool_dispatch (self);
  flush (self);
  if (self->callback_failed)
    {
      if (!self->stopped)
        stop (self);
      result = GMULTI_ENGINE_CALLBACK_FAILED;
    }
  self->busy = FALSE;
  gmulti_engine_unref (self);
  return result;
}

/**
 * gmulti_engine_unref:
 * @self: (transfer full): an engine
 *
 * Drops a reference. The last one removes every transfer (no completion messages),
 * announces %GMULTI_POLL_REMOVE for every socket still watched, deletes the timer,
 * closes every connection and frees the engine, calling the socket and timer functions
 * on the calling thread: drop the last reference on the engine's thread.
 *
 * The socket and timer functions may take a reference on the engine they are given
 * while the last one is dropped, as language bindings do. One they keep holds the
 * engine, empty and refusing every call with %GMULTI_ENGINE_RECURSIVE_CALL, until it
 * is dropped in turn. Bindings that cannot run code from their garbage collector
 * should remove the transfers, call [method@Engine.close_idle_connections] and unset
 * both functions before letting go of the engine.
 *
 * Since: 0.1
 */
void
gmulti_engine_unref (GMultiEngine *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  /* The functions called below are given the engine, and a language binding takes a
   * reference on it for the call and drops it after: hold one meanwhile, so that this
   * cannot free the engine a second time from inside. */
  g_atomic_int_set (&self->ref_count, 1);
  if (!self->shut_down)
    {
      self->shut_down = TRUE;
      self->busy = TRUE;
      self->now = g_get_monotonic_time ();
      while (self->transfers.head != NULL)
        {
          GMultiRun *run = self->transfers.head->data;

          gmulti_engine_detach_transfer (self, run);
          release_transfer (self, run);
        }
      gmulti_pool_close_all (self, FALSE);
      if (self->resolver_socket != NULL)
        gmulti_socket_table_close (&self->sockets, self->resolver_socket);
      gmulti_socket_table_flush (&self->sockets, announce_cb, self);
      if (self->announced_deadline != -1 && self->timer_func != NULL)
        self->timer_func (self, -1, self->timer_data);
    }

  /* A function that kept its reference frees the (now empty) engine when it drops it. */
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  g_clear_pointer (&self->resolver, gmulti_resolver_free);
  if (self->name_delegate != NULL)
    self->name_delegate->ops->unref (self->name_delegate);
  g_clear_pointer (&self->tls_context, gmulti_tls_context_unref);
  gmulti_tls_config_cache_clear (&self->tls_configs);
  gmulti_socket_table_clear (&self->sockets);
  gmulti_timer_heap_clear (&self->timers);
  gmulti_pool_free_hosts (self);
  if (self->wakeup != NULL)
    {
      gmulti_wakeup_fd_close (self->wakeup);
      g_free (self->wakeup);
    }
  if (self->socket_destroy != NULL)
    self->socket_destroy (self->socket_data);
  if (self->timer_destroy != NULL)
    self->timer_destroy (self->timer_data);
  gmulti_splice_pipe_clear (&self->splice);
  g_free (self->scratch);
  g_string_free (self->head, TRUE);
  gmulti_defaults_unref (self->defaults);
  gmulti_proxy_env_free (self->proxy_env);
  g_free (self);
}

/**
 * gmulti_engine_set_socket_func:
 * @self: an engine
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy): the function
 *   told which sockets to watch
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the function is replaced or the engine
 *   is freed
 *
 * Sets the function the engine calls to say what to watch on each socket. Set it
 * before adding transfers.
 *
 * Since: 0.1
 */
void
gmulti_engine_set_socket_func (GMultiEngine    *self,
                               GMultiSocketFunc func,
                               gpointer         user_data,
                               GDestroyNotify   destroy)
{
  g_return_if_fail (self != NULL);

  if (self->socket_destroy != NULL)
    self->socket_destroy (self->socket_data);
  self->socket_func = func;
  self->socket_data = user_data;
  self->socket_destroy = destroy;
}

/**
 * gmulti_engine_set_timer_func:
 * @self: an engine
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy): the function
 *   told when the engine's timer is due
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the function is replaced or the engine
 *   is freed
 *
 * Sets the function the engine calls when its single timer's deadline changes.
 *
 * Since: 0.1
 */
void
gmulti_engine_set_timer_func (GMultiEngine   *self,
                              GMultiTimerFunc func,
                              gpointer        user_data,
                              GDestroyNotify  destroy)
{
  g_return_if_fail (self != NULL);

  if (self->timer_destroy != NULL)
    self->timer_destroy (self->timer_data);
  self->timer_func = func;
  self->timer_data = user_data;
  self->timer_destroy = destroy;
}

/* Puts the transfer on the ready or the yielded queue, unless it is on one already. */
static void
enqueue (GMultiEngine   *self,
         GMultiRun      *run,
         gboolean        yielded)
{
  if (run->in_ready)
    return;
  run->ready_link.data = run;
  g_queue_push_tail_link (yielded ? &self->yielded : &self->ready, &run->ready_link);
  run->in_ready = TRUE;
  run->in_yielded = yielded;
}

void
gmulti_engine_yield (GMultiEngine   *self,
                     GMultiRun      *run)
{
  enqueue (self, run, TRUE);
}

void
gmulti_engine_schedule (GMultiEngine   *self,
                        GMultiRun      *run)
{
  enqueue (self, run, FALSE);
}

/**
 * gmulti_engine_add:
 * @self: an engine
 * @transfer: a transfer not added to any engine
 *
 * Adds a transfer. No I/O happens here: the engine asks for its timer with a timeout
 * of 0 and starts the transfer on the next call to [method@Engine.socket_action] (or
 * [method@Engine.perform]). The engine holds a reference on @transfer until it is
 * removed. Problems of the transfer itself (an invalid URI...) arrive in its
 * completion message.
 *
 * Returns: %GMULTI_ENGINE_OK, %GMULTI_ENGINE_ADDED_ALREADY if @transfer is in this
 *   engine, %GMULTI_ENGINE_BAD_TRANSFER if it is in another,
 *   %GMULTI_ENGINE_RECURSIVE_CALL from inside a callback, or
 *   %GMULTI_ENGINE_CALLBACK_FAILED if the engine was stopped
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_add (GMultiEngine   *self,
                   GMultiTransfer *transfer)
{
  GMultiRun *run;

  if (self == NULL || !GMULTI_IS_TRANSFER (transfer))
    return GMULTI_ENGINE_BAD_ARGUMENT;

  run = gmulti_transfer_get_run (transfer);
  if (run->engine == self)
    return GMULTI_ENGINE_ADDED_ALREADY;
  if (run->engine != NULL)
    return GMULTI_ENGINE_BAD_TRANSFER;
  if (self->stopped)
    return GMULTI_ENGINE_CALLBACK_FAILED;
  if (!gmulti_engine_begin_turn (self))
    return GMULTI_ENGINE_RECURSIVE_CALL;

  g_object_ref (transfer);
  run->engine = self;
  run->link.data = run;
  run->message_link.data = run;
  g_queue_push_tail_link (&self->transfers, &run->link);
  self->n_running++;
  run->phase = GMULTI_RUN_INIT;
  gmulti_run_notify_added (run);
  gmulti_engine_schedule (self, run);

  return gmulti_engine_end_turn (self);
}

/**
 * gmulti_engine_remove:
 * @self: an engine
 * @transfer: a transfer
 *
 * Removes a transfer at any point of its life. A transfer in progress halts at once;
 * no callback or signal is called for it afterwards, and other transfers are not
 * affected. Its connection is closed only if the exchange left it in a state that
 * cannot be reused (a request or response partly on the wire); otherwise it stays in
 * the pool. An unread completion message of @transfer is dropped. Afterwards the
 * transfer can be added again or performed on its own.
 *
 * Removing a transfer that is not added is harmless.
 *
 * Returns: %GMULTI_ENGINE_OK, %GMULTI_ENGINE_BAD_TRANSFER if @transfer is in another
 *   engine, %GMULTI_ENGINE_RECURSIVE_CALL from inside a callback (nothing is changed)
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_remove (GMultiEngine   *self,
                      GMultiTransfer *transfer)
{
  GMultiRun *run;

  if (self == NULL || !GMULTI_IS_TRANSFER (transfer))
    return GMULTI_ENGINE_BAD_ARGUMENT;
  run = gmulti_transfer_get_run (transfer);
  if (run->engine == NULL)
    return GMULTI_ENGINE_OK;
  if (run->engine != self)
    return GMULTI_ENGINE_BAD_TRANSFER;
  if (!gmulti_engine_begin_turn (self))
    return GMULTI_ENGINE_RECURSIVE_CALL;

  gmulti_engine_hand_over_connection (self, run);
  gmulti_engine_detach_transfer (self, run);
  release_transfer (self, run);
  return gmulti_engine_end_turn (self);
}

static void
run_timers (GMultiEngine *self)
{
  GMultiTimerNode *node;

  while ((node = gmulti_timer_heap_pop_expired (&self->timers, self->now)) != NULL)
    {
      GMultiEngineTimer *timer = (GMultiEngineTimer *) node;

      if (timer->kind == GMULTI_TIMER_TRANSFER)
        {
          GMultiRun *run = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (GMultiRun, timer));

          gmulti_engine_transfer_deadline (self, run);
        }
      else
        {
          GMultiConnection *conn = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (GMultiConnection, timer));

          gmulti_pool_connection_timer (self, conn);
        }
    }
}

static void
run_ready (GMultiEngine *self)
{
  /* Only what is ready now: a transfer that becomes ready again waits for the next
   * turn, so a turn always ends. */
  guint n = self->ready.length;

  while (n-- > 0 && self->ready.head != NULL)
    {
      GList *link = g_queue_pop_head_link (&self->ready);
      GMultiRun *run = link->data;

      run->in_ready = FALSE;
      gmulti_engine_step_transfer (self, run);
    }
}

/* What the socket is ready for, of what the engine waits for on it. */
static GMultiEvent
check_socket (GMultiSocket *sock)
{
  struct pollfd pfd = {
    .fd = sock->fd,
    .events = ((sock->wanted & GMULTI_POLL_IN) ? POLLIN : 0) |
              ((sock->wanted & GMULTI_POLL_OUT) ? POLLOUT : 0),
  };
  GMultiEvent events = GMULTI_EVENT_NONE;

  if (poll (&pfd, 1, 0) <= 0)
    return GMULTI_EVENT_NONE;
  if (pfd.revents & (POLLIN | POLLHUP))
    events |= GMULTI_EVENT_IN;
  if (pfd.revents & POLLOUT)
    events |= GMULTI_EVENT_OUT;
  if (pfd.revents & (POLLERR | POLLNVAL))
    events |= GMULTI_EVENT_ERR;
  return events;
}

void
gmulti_engine_finish_turn (GMultiEngine *self,
                           guint        *running)
{
  run_timers (self);
  run_ready (self);
  if (running != NULL)
    *running = self->n_running;
}

/**
 * gmulti_engine_socket_action:
 * @self: an engine
 * @fd: a socket the engine announced, or %GMULTI_SOCKET_TIMEOUT when the timer fired
 * @events: what happened on @fd; %GMULTI_EVENT_NONE lets the engine find out itself
 * @running: (out) (optional): the number of transfers not yet complete
 *
 * Tells the engine a socket is ready or its timer expired. The engine acts on that
 * socket, on every transfer whose deadline passed and on transfers waiting to start,
 * then reports socket changes and the new deadline through the callbacks.
 *
 * When @running drops, the transfers that completed are not necessarily those of the
 * socket acted on: read the completion messages with [method@Engine.info_read]. A
 * socket the engine does not know (closed meanwhile) is ignored.
 *
 * Returns: %GMULTI_ENGINE_OK, %GMULTI_ENGINE_RECURSIVE_CALL from inside a callback,
 *   %GMULTI_ENGINE_CALLBACK_FAILED if a callback failed during the call
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_socket_action (GMultiEngine *self,
                             int           fd,
                             GMultiEvent   events,
                             guint        *running)
{
  if (self == NULL)
    return GMULTI_ENGINE_BAD_ARGUMENT;
  if (!gmulti_engine_begin_turn (self))
    return GMULTI_ENGINE_RECURSIVE_CALL;

  if (fd == GMULTI_SOCKET_TIMEOUT)
    {
      self->report_timer = TRUE;
      gmulti_engine_release_yielded (self);
    }
  else
    {
      GMultiSocket *sock = gmulti_socket_table_lookup (&self->sockets, fd);

      if (sock != NULL && events == GMULTI_EVENT_NONE)
        events = check_socket (sock);
      /* Nothing to do on a socket that turned out not ready. */
      if (sock != NULL && events != GMULTI_EVENT_NONE)
        gmulti_engine_handle_socket (self, sock, events);
    }

  gmulti_engine_finish_turn (self, running);
  return gmulti_engine_end_turn (self);
}


/**
 * gmulti_engine_timeout:
 * @self: an engine
 * @timeout_ms: (out): milliseconds until the engine wants
 *   [method@Engine.socket_action] called with %GMULTI_SOCKET_TIMEOUT; 0 for now, -1
 *   when it has no deadline
 *
 * Reads the engine's next deadline, for applications that poll for it instead of
 * setting a timer function.
 *
 * Returns: %GMULTI_ENGINE_OK or %GMULTI_ENGINE_BAD_ARGUMENT
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_timeout (GMultiEngine *self,
                       gint64       *timeout_ms)
{
  gint64 deadline, now;

  if (self == NULL || timeout_ms == NULL)
    return GMULTI_ENGINE_BAD_ARGUMENT;

  deadline = gmulti_engine_current_deadline (self);
  now = g_get_monotonic_time ();
  if (deadline < 0)
    *timeout_ms = -1;
  else if (deadline == 0 || deadline <= now)
    *timeout_ms = 0;
  else
    *timeout_ms = (deadline - now + 999) / 1000;
  return GMULTI_ENGINE_OK;
}

/**
 * gmulti_engine_assign:
 * @self: an engine
 * @fd: a socket the engine announced
 * @socket_data: (nullable): a pointer of the application's, passed back to the socket
 *   function for @fd
 *
 * Attaches the application's own pointer to a socket, such as the watch it created
 * for it. Allowed from inside the socket function.
 *
 * Returns: %GMULTI_ENGINE_OK or %GMULTI_ENGINE_UNKNOWN_SOCKET
 *
 * Since: 0.1
 */
GMultiEngineResult
gmulti_engine_assign (GMultiEngine *self,
                      int           fd,
                      gpointer      socket_data)
{
  GMultiSocket *sock;

  if (self == NULL)
    return GMULTI_ENGINE_BAD_ARGUMENT;
  sock = fd >= 0 && (guint) fd < self->sockets.size ? self->sockets.by_fd[fd] : NULL;
  if (sock == NULL)
    return GMULTI_ENGINE_UNKNOWN_SOCKET;
  sock->socket_data = socket_data;
  return GMULTI_ENGINE_OK;
}

/**
 * gmulti_engine_info_read:
 * @self: an engine
 * @queued: (out) (optional): how many messages are left after this one
 *
 * Takes the oldest completion message off the queue. There is one message per
 * completed transfer. Allowed from anywhere, callbacks included.
 *
 * Returns: (nullable) (transfer none): the message, valid until its transfer is removed
 *   or added again, or %NULL when the queue is empty
 *
 * Since: 0.1
 */
GMultiMessage *
gmulti_engine_info_read (GMultiEngine *self,
                         guint        *queued)
{
  GList *link;
  GMultiRun *run;

  if (queued != NULL)
    *queued = 0;
  if (self == NULL || self->messages.head == NULL)
    return NULL;

  link = g_queue_pop_head_link (&self->messages);
  run = link->data;
  run->in_messages = FALSE;
  if (queued != NULL)
    *queued = self->messages.length;
  return &run->message;
}


/* Internal helpers for the other engine files. */

void
gmulti_engine_want_socket (GMultiEngine *self,
                           GMultiSocket *sock,
                           GMultiPoll    wanted)
{
  gmulti_socket_table_want (&self->sockets, sock, wanted);
}

void
gmulti_engine_close_socket (GMultiEngine *self,
                            GMultiSocket *sock)
{
  gmulti_socket_table_close (&self->sockets, sock);
}

guint8 *
gmulti_engine_get_scratch (GMultiEngine *self,
                           gsize        *size)
{
  if (self->scratch == NULL)
    {
      self->scratch_size = GMULTI_SCRATCH_MIN_SIZE;
      self->scratch = g_malloc (self->scratch_size);
    }
  *size = self->scratch_size;
  return self->scratch;
}

void
gmulti_engine_grow_scratch (GMultiEngine *self)
{
  if (self->scratch_size >= GMULTI_SCRATCH_MAX_SIZE)
    return;
  /* Callers copy what they need before growing; the old contents are not kept. */
  g_free (self->scratch);
  self->scratch_size *= 2;
  self->scratch = g_malloc (self->scratch_size);
}

void
gmulti_engine_arm_connection_timer (GMultiEngine     *self,
                                    GMultiConnection *conn,
                                    gint64            deadline)
{
  if (deadline == 0)
    gmulti_timer_heap_remove (&self->timers, &conn->timer.node);
  else
    gmulti_timer_heap_set (&self->timers, &conn->timer.node, deadline);
}

void
gmulti_engine_run_resumed (GMultiRun *run)
{
  GMultiEngine *self = run->engine;

  if (self == NULL || run->phase == GMULTI_RUN_DONE)
    return;
  gmulti_engine_schedule (self, run);
  /* From outside the engine, ask for the timer now; inside, the turn's end does. */
  if (!self->busy && gmulti_engine_begin_turn (self))
    gmulti_engine_end_turn (self);
}

void
gmulti_engine_set_defaults (GMultiEngine   *self,
                            GMultiDefaults *defaults)
{
  GMultiDefaults *old = self->defaults;

  g_return_if_fail (defaults != NULL);

  self->defaults = gmulti_defaults_ref (defaults);
  gmulti_defaults_unref (old);
}
