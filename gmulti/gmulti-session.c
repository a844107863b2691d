/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-session.h"
#include "gmulti-session-private.h"
#include "gmulti-session-object-private.h"
#include "gmulti-session-auth-private.h"
#include "gmulti-session-proxy-private.h"
#include "gmulti-session-resolver-private.h"
#include "gmulti-session-source-private.h"
#include "gmulti-body-stream-private.h"
#include "gmulti-transfer-private.h"
#include "gmulti-engine-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-enum-types.h"
#include "gmulti-http1-request.h"

/**
 * GMultiSession:
 *
 * Runs [class@Transfer]s on a GLib main loop.
 *
 * A session owns a [struct@Engine] and its connection pool, and drives it from one
 * [struct@GLib.Source] attached to the thread-default [struct@GLib.MainContext] of the
 * thread that created the session. Use the session only from that thread, the last
 * unref included; create one session per thread to run transfers on several threads.
 * Its signals, those of its transfers and the callbacks of its asynchronous calls all
 * run in that context. Other threads may cancel the `GCancellable` of an asynchronous
 * call; anything else they hand to the session's context, for instance with
 * [method@GLib.MainContext.invoke]. An asynchronous call in flight holds a reference on
 * the session until it completes. See [Threads](threads.html).
 *
 * Transfers are started with [method@Session.add] and report through their signals
 * ([signal@Transfer::response-headers], [signal@Transfer::data],
 * [signal@Transfer::progress], [signal@Transfer::finished]) and the session's
 * [signal@Session::transfer-finished]. The asynchronous calls
 * [method@Session.send_and_read_async], [method@Session.send_async] and
 * [method@Session.download_async] wrap the same machinery in the usual GIO
 * `_async`/`_finish` style.
 *
 * Compared with driving a [struct@Engine] yourself:
 *
 * - [method@Session.add] and [method@Session.remove] may be called from anywhere,
 *   signal handlers and callbacks included, where the engine refuses them with
 *   %GMULTI_ENGINE_RECURSIVE_CALL. When the engine is inside a call, the session
 *   performs the operation right after the engine returns, in call order.
 * - Once [method@Session.remove] returned, no signal is emitted for the transfer any
 *   more (until it is added again), even if the engine still has to let go of it.
 *   Removing a transfer whose add is still waiting cancels the add.
 * - A completed transfer is removed from the engine before its
 *   [signal@Transfer::finished] signal is emitted, so a handler can change the transfer
 *   and add it again at once.
 * - The socket and timer functions belong to the session; on Linux all sockets share
 *   one epoll descriptor, so a main-loop iteration costs the same with ten or ten
 *   thousand connections, and idle pooled connections cause no wake-up at all.
 *   Elsewhere, or when [property@Session:main-loop-source] asks for it, each socket is
 *   handed to GLib to poll.
 * - Transfers that set no [property@Transfer:timeout] or
 *   [property@Transfer:connect-timeout] of their own get the session's
 *   [property@Session:timeout] and [property@Session:connect-timeout], and its
 *   User-Agent and TLS options fill in what they leave unset. Each run takes the
 *   session's settings as they are when it starts and keeps them to its end; the
 *   transfer's own properties are never changed.
 *
 * Do not iterate the session's main context from a signal handler of a running
 * transfer. The engine is busy there, so the session stops watching its sockets until
 * the handler returns.
 *
 * Since: 0.1
 */

/* What the session keeps for each transfer added to it. */
typedef struct
{
  GMultiTransfer *transfer;
  GMultiAsyncOp *op;             /* the asynchronous call waiting on it, if any */
  gboolean add_deferred;         /* its add waits in the deferred queue */
} Entry;

typedef enum
{
  DEFER_ADD,
  DEFER_REMOVE,
} DeferKind;

/* An add or remove asked for while the engine was busy. */
typedef struct
{
  DeferKind kind;
  GMultiTransfer *transfer;
  gboolean was_running;       /* a remove of a transfer that had not completed yet */
} Deferred;

G_DEFINE_FINAL_TYPE (GMultiSession, gmulti_session, G_TYPE_OBJECT)


enum {
  SIGNAL_TRANSFER_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void after_engine (GMultiSession *self);
static void gmulti_session_constructed (GObject *object);

/* Engine calls. Each counts as "inside the engine" for add and remove, and is followed
 * by the deferred operations and the completion messages it left. */

static void
engine_returned (GMultiSession *self)
{
  if (self->engine_depth == 0 && self->source != NULL)
    gmulti_session_source_unblock (self->source);
  after_engine (self);
}

static gboolean
action_cb (int         fd,
           GMultiEvent events,
           gpointer    user_data)
{
  GMultiSession *self = user_data;
  gboolean draining = self->draining;

  /* Dispatched from a main loop nested inside an engine callback: wait until the
   * engine returned (the source unblocks then). */
  if (self->engine_depth > 0)
    return FALSE;

  g_object_ref (self);
  /* A nested main loop run from a completion handler still drains what it causes. */
  self->draining = FALSE;

  self->engine_depth++;
  gmulti_engine_socket_action (self->engine, fd, events, NULL);
  self->engine_depth--;
  engine_returned (self);

  self->draining = draining;
  g_object_unref (self);
  return TRUE;
}

static void
entry_free (Entry *entry)
{
  g_clear_pointer (&entry->op, gmulti_async_op_unref);
  g_clear_object (&entry->transfer);
  g_free (entry);
}

/* Takes @transfer's entry out of the session; the caller frees it. */
static Entry *
take_entry (GMultiSession  *self,
            GMultiTransfer *transfer)
{
  Entry *entry = NULL;

  if (!g_hash_table_steal_extended (self->entries, transfer, NULL, (gpointer *) &entry))
    return NULL;

  transfer->session = NULL;
  if (entry->op != NULL)
    gmulti_async_op_detach (entry->op);
  return entry;
}

static gboolean
remove_deferred_add (GMultiSession  *self,
                     GMultiTransfer *transfer)
{
  /* From the tail: the add is the latest operation queued for the transfer. */
  for (GList *l = self->deferred.tail; l != NULL; l = l->prev)
    {
      Deferred *deferred = l->data;

      if (deferred->transfer == transfer && deferred->kind == DEFER_ADD)
        {
          g_queue_delete_link (&self->deferred, l);
          g_object_unref (deferred->transfer);
          g_free (deferred);
          return TRUE;
        }
    }

  return FALSE;
}

static void
defer (GMultiSession  *self,
       DeferKind       kind,
       GMultiTransfer *transfer)
{
  Deferred *deferred = g_new0 (Deferred, 1);

  deferred->kind = kind;
  deferred->transfer = g_object_ref (transfer);
  deferred->was_running = gmulti_transfer_get_state (transfer) != GMULTI_TRANSFER_DONE;
  g_queue_push_tail (&self->deferred, deferred);
}

static gboolean
must_defer (GMultiSession *self)
{
  /* Queued operations keep their order: nothing overtakes them. */
  return self->engine_depth > 0 || self->deferred.length > 0;
}

/* The engine let go of @transfer: signals may flow again and a detached operation's
 * write function goes. */
static void
transfer_released (GMultiSession  *self,
                   GMultiTransfer *transfer)
{
  if (transfer->session == NULL)
    transfer->signals_blocked = FALSE;
  gmulti_async_op_release_write_func (transfer);
}

static void
remove_from_engine (GMultiSession  *self,
                    GMultiTransfer *transfer)
{
  self->engine_depth++;
  gmulti_engine_remove (self->engine, transfer);
  self->engine_depth--;
  transfer_released (self, transfer);
}

/* Completes a transfer that never reached the engine. */
static void
fail_entry (GMultiSession *self,
            Entry         *entry,
            GError        *error)
{
  GMultiTransfer *transfer = g_object_ref (entry->transfer);

  take_entry (self, transfer);
  /* Another engine took it meanwhile: its state is not ours to touch. */
  if (transfer->run.engine == NULL)
    {
      transfer_released (self, transfer);
      gmulti_transfer_complete (transfer, g_error_copy (error));
      gmulti_transfer_emit_finished (transfer);
      if (!transfer->signals_blocked)
        g_signal_emit (self, signals[SIGNAL_TRANSFER_FINISHED], 0, transfer, error);
    }
  if (entry->op != NULL)
    gmulti_async_op_transfer_done (entry->op, error);

  entry_free (entry);
  g_error_free (error);
  g_object_unref (transfer);
}

/* Hands the entry's transfer to the engine. Returns FALSE with @error set if the engine
 * did not take it. */
static gboolean
start_in_engine (GMultiSession  *self,
                 Entry          *entry,
                 GError        **error)
{
  GMultiTransfer *transfer = entry->transfer;
  GMultiEngineResult result;

  /* Someone else took it while its add was deferred: leave its flags alone. */
  if (transfer->run.engine != NULL && transfer->run.engine != self->engine)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_BUSY,
                           _("The transfer is already added to an engine"));
      return FALSE;
    }

  if (entry->op != NULL)
    gmulti_async_op_install (entry->op);

  /* Before the add: it already notifies the fresh response's properties. */
  transfer->signals_blocked = FALSE;

  self->engine_depth++;
  result = gmulti_engine_add (self->engine, transfer);
  self->engine_depth--;

  if (transfer->run.engine == self->engine)
    return TRUE;

  if (result == GMULTI_ENGINE_CALLBACK_FAILED)
    g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_ENGINE_STOPPED,
                         _("The session’s engine stopped after a socket could not be "
                           "watched"));
  else
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_FAILED,
                 _("The transfer could not be started: %s"),
                 gmulti_engine_result_to_string (result));
  return FALSE;
}

static void
run_deferred (GMultiSession *self,
              Deferred      *deferred)
{
  GMultiTransfer *transfer = deferred->transfer;
  GError *error = NULL;
  Entry *entry;

  if (deferred->kind == DEFER_REMOVE)
    {
      remove_from_engine (self, transfer);
      /* It completed while its removal waited for the engine to return (a handler
       * removed it, then the same engine call failed or finished it): removed before
       * it completed, as far as the application can tell, so it reads cancelled. */
      if (deferred->was_running && gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE &&
          !g_error_matches (transfer->run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gmulti_transfer_cancelled (transfer, FALSE);
      return;
    }

  /* A remove cancels the add, so an add left in the queue has its entry. */
  entry = g_hash_table_lookup (self->entries, transfer);
  g_return_if_fail (entry != NULL);
  entry->add_deferred = FALSE;
  if (!start_in_engine (self, entry, &error))
    fail_entry (self, entry, error);
}

/* A completion message: the transfer leaves the engine, then the signals. */
static void
handle_message (GMultiSession *self,
                GMultiMessage *message)
{
  GMultiTransfer *transfer = g_object_ref (message->transfer);
  GError *error = NULL;
  Entry *entry;

  /* Out of the session first, so that the write function of its call goes with the
   * engine's hold on it. */
  entry = take_entry (self, transfer);
  remove_from_engine (self, transfer);
  if (entry == NULL)
    {
      /* Cannot happen: a remove drops the transfer's unread message. */
      g_object_unref (transfer);
      return;
    }

  /* Copied: a handler below may add the transfer again, which resets its result. */
  if (transfer->run.error != NULL)
    error = g_error_copy (transfer->run.error);
  if (entry->op != NULL)
    gmulti_async_op_transfer_completed (entry->op);

  gmulti_transfer_emit_finished (transfer);
  if (!transfer->signals_blocked)
    g_signal_emit (self, signals[SIGNAL_TRANSFER_FINISHED], 0, transfer, error);

  if (entry->op != NULL)
    gmulti_async_op_transfer_done (entry->op, error);

  entry_free (entry);
  g_clear_error (&error);
  g_object_unref (transfer);
}

/* Runs after every engine call: the operations deferred meanwhile, asynchronous calls
 * that can complete, and the completion messages, until none is left. Nested calls
 * (a handler adding a transfer) leave the work to the outermost one, so handlers are
 * never re-entered with another transfer's completion. */
static void
after_engine (GMultiSession *self)
{
  if (self->engine_depth > 0 || self->draining || self->engine == NULL)
    return;

  self->draining = TRUE;
  g_object_ref (self);

  for (;;)
    {
      GMultiMessage *message;

      if (self->deferred.head != NULL)
        {
          Deferred *deferred = g_queue_pop_head (&self->deferred);

          run_deferred (self, deferred);
          g_object_unref (deferred->transfer);
          g_free (deferred);
          continue;
        }

      if (self->ready_ops.head != NULL)
        {
          GMultiAsyncOp *op = g_queue_pop_head (&self->ready_ops);

          gmulti_async_op_ready (op);
          gmulti_async_op_unref (op);
          continue;
        }

      message = gmulti_engine_info_read (self->engine, NULL);
      if (message == NULL)
        break;
      handle_message (self, message);
    }

  self->draining = FALSE;
  if (self->source != NULL)
    gmulti_session_source_unblock (self->source);
  g_object_unref (self);
}

/* Internal API for gmulti-session-async.c. */

void
gmulti_session_queue_ready_op (GMultiSession *self,
                               GMultiAsyncOp *op)
{
  g_queue_push_tail (&self->ready_ops, gmulti_async_op_ref (op));
  /* From outside the engine (nothing else would drain the queue soon). */
  after_engine (self);
}

gboolean
gmulti_session_check_addable (GMultiSession   *self,
                              GMultiTransfer  *transfer,
                              GError         **error)
{
  if (self->source == NULL)
    {
      if (self->source_error != NULL)
        g_propagate_error (error, g_error_copy (self->source_error));
      else
        g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_FAILED,
                             _("The session has been disposed"));
      return FALSE;
    }

  if (transfer->session != NULL)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_BUSY,
                           _("The transfer is already added to a session"));
      return FALSE;
    }

  /* A transfer still in this session's engine is being removed: adding it again is
   * queued after the remove. */
  if (transfer->run.engine != NULL && transfer->run.engine != self->engine)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_BUSY,
                           _("The transfer is already added to an engine"));
      return FALSE;
    }

  return TRUE;
}

gboolean
gmulti_session_attach (GMultiSession   *self,
                       GMultiTransfer  *transfer,
                       GMultiAsyncOp   *op,
                       GError         **error)
{
  Entry *entry;

  if (!gmulti_session_check_addable (self, transfer, error))
    return FALSE;

  entry = g_new0 (Entry, 1);
  entry->transfer = g_object_ref (transfer);
  entry->op = op != NULL ? gmulti_async_op_ref (op) : NULL;

  transfer->session = self;
  g_hash_table_insert (self->entries, transfer, entry);

  if (must_defer (self))
    {
      entry->add_deferred = TRUE;
      defer (self, DEFER_ADD, transfer);
      after_engine (self);
      return TRUE;
    }

  if (!start_in_engine (self, entry, error))
    {
      take_entry (self, transfer);
      transfer_released (self, transfer);
      entry_free (entry);
      engine_returned (self);
      return FALSE;
    }

  engine_returned (self);
  return TRUE;
}

GSource *
gmulti_session_get_source (GMultiSession *self)
{
  return self->source;
}

/* Object */

static void
gmulti_session_dispose (GObject *object)
{
  GMultiSession *self = (GMultiSession *) object;
  GPtrArray *entries;
  GPtrArray *leaving;
  GHashTableIter iter;
  Entry *entry;

  /* The engine is freed without completion messages: the transfers are detached
   * first, silently. */
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  leaving = g_ptr_array_new_with_free_func (g_object_unref);
  if (self->entries != NULL)
    {
      g_hash_table_iter_init (&iter, self->entries);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
        {
          entry->transfer->signals_blocked = TRUE;
          g_ptr_array_add (entries, entry);
        }
      g_hash_table_steal_all (self->entries);
    }

  /* Transfers whose remove was deferred are still in the engine, blocked. */
  while (self->deferred.head != NULL)
    {
      Deferred *deferred = g_queue_pop_head (&self->deferred);

      if (deferred->kind == DEFER_REMOVE)
        g_ptr_array_add (leaving, g_object_ref (deferred->transfer));
      g_object_unref (deferred->transfer);
      g_free (deferred);
    }
  g_queue_clear_full (&self->ready_ops, (GDestroyNotify) gmulti_async_op_unref);

  for (guint i = 0; i < entries->len; i++)
    {
      entry = g_ptr_array_index (entries, i);
      entry->transfer->session = NULL;
      if (entry->op != NULL)
        gmulti_async_op_detach (entry->op);
    }

  /* Announces REMOVE for every socket and deletes the timer: the source must still be
   * there. Both go before the operations are aborted, so that their callbacks find the
   * session closed. */
  g_clear_pointer (&self->engine, gmulti_engine_unref);
  if (self->proxy != NULL)
    gmulti_session_proxy_shutdown (self->proxy);
  if (self->names != NULL)
    gmulti_session_resolver_shutdown (self->names);
  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_clear_pointer (&self->source, g_source_unref);
    }

  for (guint i = 0; i < leaving->len; i++)
    transfer_released (self, g_ptr_array_index (leaving, i));
  g_ptr_array_unref (leaving);

  for (guint i = 0; i < entries->len; i++)
    {
      GError *error;

      entry = g_ptr_array_index (entries, i);
      transfer_released (self, entry->transfer);
      if (entry->op == NULL)
        continue;
      error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   _("The session was disposed"));
      gmulti_async_op_abort (entry->op, error);
      g_error_free (error);
    }
  g_ptr_array_unref (entries);

  G_OBJECT_CLASS (gmulti_session_parent_class)->dispose (object);
}

static void
gmulti_session_finalize (GObject *object)
{
  GMultiSession *self = (GMultiSession *) object;

  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_error (&self->source_error);
  g_clear_pointer (&self->defaults, gmulti_defaults_unref);
  g_clear_pointer (&self->proxy, gmulti_session_proxy_unref);
  g_clear_pointer (&self->names, gmulti_session_resolver_unref);

  G_OBJECT_CLASS (gmulti_session_parent_class)->finalize (object);
}

/* "transfer-finished" is emitted once per transfer: its own marshallers spare each
 * emission the generic one's libffi call and GValue boxing. */
typedef void (*TransferFinishedFunc) (gpointer        instance,
                                      GMultiTransfer *transfer,
                                      const GError   *error,
                                      gpointer        user_data);

static void
marshal_transfer_finished (GClosure     *closure,
                           GValue       *return_value,
                           guint         n_param_values,
                           const GValue *param_values,
                           gpointer      invocation_hint,
                           gpointer      marshal_data)
{
  GCClosure *cclosure = (GCClosure *) closure;
  TransferFinishedFunc callback;
  gpointer instance, user_data;

  g_return_if_fail (n_param_values == 3);

  instance = g_value_peek_pointer (&param_values[0]);
  user_data = closure->data;
  if (G_CCLOSURE_SWAP_DATA (closure))
    {
      user_data = instance;
      instance = closure->data;
    }
  callback = (TransferFinishedFunc) (marshal_data != NULL ? marshal_data : cclosure->callback);
  callback (instance, g_value_get_object (&param_values[1]),
            g_value_get_boxed (&param_values[2]), user_data);
}

static void
marshal_transfer_finished_va (GClosure *closure,
                              GValue   *return_value,
                              gpointer  instance,
                              va_list   args,
                              gpointer  marshal_data,
                              int       n_params,
                              GType    *param_types)
{
  GCClosure *cclosure = (GCClosure *) closure;
  TransferFinishedFunc callback;
  GMultiTransfer *transfer;
  const GError *error;
  gpointer user_data;
  va_list args_copy;

  G_VA_COPY (args_copy, args);
  transfer = va_arg (args_copy, GMultiTransfer *);
  /* The error is G_SIGNAL_TYPE_STATIC_SCOPE: lent, not copied. */
  error = va_arg (args_copy, const GError *);
  va_end (args_copy);

  if (transfer != NULL)
    g_object_ref (transfer);
  user_data = closure->data;
  if (G_CCLOSURE_SWAP_DATA (closure))
    {
      user_data = instance;
      instance = closure->data;
    }
  callback = (TransferFinishedFunc) (marshal_data != NULL ? marshal_data : cclosure->callback);
  callback (instance, transfer, error, user_data);
  if (transfer != NULL)
    g_object_unref (transfer);
}

static void
gmulti_session_class_init (GMultiSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = gmulti_session_constructed;
  object_class->dispose = gmulti_session_dispose;
  object_class->finalize = gmulti_session_finalize;
  object_class->get_property = gmulti_session_get_property;
  object_class->set_property = gmulti_session_set_property;

  gmulti_session_install_properties (object_class);

  /**
   * GMultiSession::transfer-finished:
   * @self: the session
   * @transfer: the transfer that completed
   * @error: (nullable): why it failed, or %NULL if it succeeded
   *
   * Emitted when a transfer added to the session completed, successfully or not, right
   * after its own [signal@Transfer::finished] signal. The transfer is no longer added
   * to the session at that point: the handler may add it, or another, again.
   *
   * An HTTP error status such as 404 is a successful transfer: look at
   * [property@Transfer:status].
   *
   * Since: 0.1
   */
  signals[SIGNAL_TRANSFER_FINISHED] =
    g_signal_new ("transfer-finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  marshal_transfer_finished,
                  G_TYPE_NONE, 2,
                  GMULTI_TYPE_TRANSFER,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[SIGNAL_TRANSFER_FINISHED], G_TYPE_FROM_CLASS (klass),
                              marshal_transfer_finished_va);
  gmulti_session_install_auth_signal (G_OBJECT_CLASS (klass));
}


static void
gmulti_session_init (GMultiSession *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->entries = g_hash_table_new (NULL, NULL);
  g_queue_init (&self->deferred);
  g_queue_init (&self->ready_ops);

  self->engine = gmulti_engine_new ();
  gmulti_engine_set_max_connections (self->engine, DEFAULT_MAX_CONNECTIONS);
  gmulti_engine_set_max_host_connections (self->engine, DEFAULT_MAX_HOST_CONNECTIONS);
  self->defaults = gmulti_session_new_defaults ();
  self->proxy = gmulti_session_proxy_new (self->context);
  self->defaults->proxy_lookup =
    gmulti_proxy_lookup_ref (gmulti_session_proxy_get_hook (self->proxy));
  gmulti_engine_set_defaults (self->engine, self->defaults);
  self->names = gmulti_session_resolver_new (self->context);
  gmulti_engine_set_name_delegate (self->engine,
                                   gmulti_session_resolver_get_delegate (self->names));
}

static void
gmulti_session_constructed (GObject *object)
{
  GMultiSession *self = (GMultiSession *) object;

  G_OBJECT_CLASS (gmulti_session_parent_class)->constructed (object);

  /* Here, not in init: the construct-only main-loop-source chooses the backend. */
  self->source = gmulti_session_source_new (self->engine, self->main_loop_source,
                                            action_cb, self, &self->source_error);
  if (self->source == NULL)
    {
      /* Out of file descriptors: every add reports the reason. */
      g_warning ("%s", self->source_error->message);
      return;
    }
  g_source_attach (self->source, self->context);
}

/**
 * gmulti_session_new:
 *
 * Creates a session bound to the thread-default main context of the calling thread
 * (see [method@GLib.MainContext.push_thread_default]); its transfers run while that
 * context is iterated.
 *
 * Returns: (transfer full): a new session
 *
 * Since: 0.1
 */
GMultiSession *
gmulti_session_new (void)
{
  return g_object_new (GMULTI_TYPE_SESSION, NULL);
}

/**
 * gmulti_session_get_context:
 * @self: a session
 *
 * Gets the main context the session runs its transfers in: the thread-default
 * context of the thread that created it.
 *
 * Returns: (transfer none): the session's main context
 *
 * Since: 0.1
 */
GMainContext *
gmulti_session_get_context (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);

  return self->context;
}

/**
 * gmulti_session_get_main_loop_source:
 * @self: a session
 *
 * Gets how the session watches its sockets: the value of
 * [property@Session:main-loop-source] as resolved at construction.
 *
 * Returns: %GMULTI_MAIN_LOOP_SOURCE_EPOLL or %GMULTI_MAIN_LOOP_SOURCE_UNIX_FD
 *
 * Since: 0.1
 */
GMultiMainLoopSource
gmulti_session_get_main_loop_source (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), GMULTI_MAIN_LOOP_SOURCE_AUTO);

  if (self->source != NULL)
    return gmulti_session_source_get_kind (self->source);
  /* No source (no descriptor left, or disposed): what it would have had. */
  return gmulti_session_source_choose (self->main_loop_source);
}

/**
 * gmulti_session_add:
 * @self: a session
 * @transfer: a transfer not added to any session or engine
 *
 * Starts running @transfer. The session holds a reference on it until it completed
 * (after [signal@Session::transfer-finished]) or is removed.
 *
 * It may be called from any signal handler or callback, including those of running
 * transfers; if the engine is busy at that moment the transfer is handed to it as soon
 * as it returns. Problems of the transfer itself, such as an invalid URI, are reported
 * by its [signal@Transfer::finished] signal, not here.
 *
 * Returns: %TRUE if the transfer was added; %FALSE with @error set otherwise:
 *   %GMULTI_ERROR_BUSY if it is already added to a session or an engine,
 *   %GMULTI_ERROR_ENGINE_STOPPED if the session could not watch a socket earlier and
 *   stopped, %GMULTI_ERROR_FAILED if the session has been disposed
 *
 * Since: 0.1
 */
gboolean
gmulti_session_add (GMultiSession   *self,
                    GMultiTransfer  *transfer,
                    GError         **error)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), FALSE);
  g_return_val_if_fail (GMULTI_IS_TRANSFER (transfer), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return gmulti_session_attach (self, transfer, NULL, error);
}

/**
 * gmulti_session_remove:
 * @self: a session
 * @transfer: a transfer
 *
 * Stops @transfer at any point of its life. From the moment this returns no signal is
 * emitted for it any more, not even [signal@Transfer::finished], until it is added
 * again; an asynchronous call waiting on it completes with %G_IO_ERROR_CANCELLED.
 *
 * It may be called from any signal handler or callback. If the engine is busy at that
 * moment, it lets go of the transfer as soon as it returns; a transfer whose add was
 * still waiting for the engine is simply not added. The transfer can be added again
 * right away.
 *
 * Removing a transfer that is not added to @self does nothing.
 *
 * Since: 0.1
 */
void
gmulti_session_remove (GMultiSession  *self,
                       GMultiTransfer *transfer)
{
  Entry *entry;
  GError *error;

  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (GMULTI_IS_TRANSFER (transfer));

  if (transfer->session != self)
    return;

  g_object_ref (transfer);
  transfer->signals_blocked = TRUE;
  entry = take_entry (self, transfer);

  if (entry->add_deferred)
    {
      remove_deferred_add (self, transfer);
      /* It never reached the engine: what it holds is the previous run's result. */
      if (transfer->run.engine == NULL)
        gmulti_transfer_cancelled (transfer, TRUE);
    }
  else if (transfer->run.engine == self->engine)
    {
      if (must_defer (self))
        defer (self, DEFER_REMOVE, transfer);
      else
        remove_from_engine (self, transfer);
    }

  /* Out of the engine already (or never in): nothing can be emitted any more. */
  if (transfer->run.engine == NULL)
    transfer_released (self, transfer);

  if (entry->op != NULL)
    {
      error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   _("The transfer was removed from the session"));
      gmulti_async_op_abort (entry->op, error);
      g_error_free (error);
    }
  entry_free (entry);

  engine_returned (self);
  g_object_unref (transfer);
}

/**
 * gmulti_session_get_n_transfers:
 * @self: a session
 *
 * Counts the transfers added to the session that have not completed or been removed.
 *
 * Returns: the number of transfers
 *
 * Since: 0.1
 */
guint
gmulti_session_get_n_transfers (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), 0);

  return g_hash_table_size (self->entries);
}
