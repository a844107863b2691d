/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gmulti.h"
#include "test-fds.h"
#include "test-server.h"
#include "test-wait.h"

/* Sessions side by side: many on one main context, one per thread each on its own
 * context, all running transfers at once against the same loopback servers. Every
 * transfer asks for a body of its own (the seed in its path), so a body or a signal
 * that reached the wrong transfer, session or thread shows. Shutdown is checked with
 * sessions idle and with transfers in flight: the sessions go, and so does every
 * descriptor they opened. */

/* Every wait of the tests is bounded by this unless it says otherwise. */
#define WAIT_MS 30000

/* A body cut in the middle: the server sends a head and this much, then waits for the
 * client to go. */
#define SLOW_LENGTH (1024 * 1024)
#define SLOW_SENT 4096

#define N_SESSIONS 100
#define N_THREADS 8
/* Calls of each thread that the main thread cancels. */
#define N_CANCELLED 4

/* Fewer transfers under valgrind, which runs the threads one at a time. */
static guint n_per_session = 6;
static guint n_per_thread = 30;
static guint n_wakeup_rounds = 500;

static TestServer *servers[2];

/* ------------------------------------------------------------------ server */

static gsize
body_length (guint seed)
{
  return (seed * 7919u) % 50000;
}

static void
fill_body (guint8 *data,
           gsize   length,
           guint   seed)
{
  for (gsize i = 0; i < length; i++)
    data[i] = (guint8) ((i * 131 + seed * 7 + (i >> 8) + (seed >> 8)) & 0xff);
}

static GBytes *
make_body (guint seed)
{
  gsize length = body_length (seed);
  guint8 *data = g_malloc (MAX (length, 1));

  fill_body (data, length, seed);
  return g_bytes_new_take (data, length);
}

/* /t/SEED: the body for SEED, with X-Seed: SEED. /slow/SEED: a head and a first piece
 * of a long body, then nothing until the client closes. */
static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  guint seed;

  if (sscanf (req->target, "/t/%u", &seed) == 1)
    {
      g_autoptr(GBytes) body = make_body (seed);
      g_autofree char *headers = g_strdup_printf ("X-Seed: %u\r\n", seed);

      return test_conn_respond_with_headers (conn, 200, headers,
                                             g_bytes_get_data (body, NULL),
                                             g_bytes_get_size (body));
    }
  if (sscanf (req->target, "/slow/%u", &seed) == 1)
    {
      guint8 piece[SLOW_SENT];

      fill_body (piece, sizeof piece, seed);
      if (test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
                            (guint) SLOW_LENGTH))
        test_conn_write (conn, piece, sizeof piece);
      test_conn_wait_client_close (conn, WAIT_MS);
      return FALSE;
    }
  return test_conn_respond (conn, 404, "text/plain", "no", 2);
}

/* Names go through the resolver's threads, addresses do not: both are used. */
static char *
make_uri (guint       server,
          gboolean    by_name,
          const char *kind,
          guint       seed)
{
  return g_strdup_printf ("http://%s:%u/%s/%u", by_name ? "localhost" : "127.0.0.1",
                          test_server_get_port (servers[server]), kind, seed);
}

/* ------------------------------------------------------------ bookkeeping */

static void
list_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      g_test_message ("fd %s -> %s", name, target != NULL ? target : "?");
    }
}

/* The servers close their ends a moment after the client closed its own. */
static void
assert_fds_back_to (guint baseline)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint n;

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    g_assert_true (test_server_wait_open (servers[i], 0, 10000));
  while ((n = test_count_fds ()) != baseline && g_get_monotonic_time () < end)
    g_usleep (5000);
  if (n != baseline)
    list_fds ();
  g_assert_cmpuint (n, ==, baseline);
}

/* Iterates @context until *@count reaches @n or WAIT_MS passed. */
static gboolean
run_until_count (GMainContext *context,
                 guint        *count,
                 guint         n)
{
  gboolean timed_out = FALSE;
  GSource *timeout = g_timeout_source_new (WAIT_MS);

  g_source_set_callback (timeout, test_set_flag_cb, &timed_out, NULL);
  g_source_attach (timeout, context);
  while (*count < n && !timed_out)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  return *count >= n;
}

/* Runs @context for @ms, for signals that must not come. */
static void
run_for (GMainContext *context,
         guint         ms)
{
  gboolean done = FALSE;
  GSource *timeout = g_timeout_source_new (ms);

  g_source_set_callback (timeout, test_set_flag_cb, &done, NULL);
  g_source_attach (timeout, context);
  while (!done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
}

/* ---------------------------------------------------------------- fetches */

typedef enum {
  FETCH_ADD,          /* gmulti_session_add(), the body from the transfer */
  FETCH_SEND,         /* gmulti_session_send_and_read_async() */
  FETCH_DATA,         /* gmulti_session_add(), the body from the data signal */
  N_FETCH_KINDS
} FetchKind;

/* Where a transfer belongs and what happened to it. Each counter is touched only on
 * the fetch's own thread. */
typedef struct {
  GMultiTransfer *transfer;
  GMultiSession *session;
  GMainContext *context;
  GThread *thread;
  FetchKind kind;
  guint seed;
  gboolean slow;

  guint *n_done;                 /* the group's count of completed fetches */
  guint n_headers, n_finished, n_session_finished, n_callbacks;
  guint n_bytes;                 /* from the data signal */
  guint wrong_place;             /* signals on another thread, context or session */
  guint after_shutdown;          /* signals once its session was let go */
  gboolean shut_down;
  guint status;
  char *seed_header;
  GByteArray *data;
  GBytes *body;
  GError *error;
} Fetch;

/* @session: the session that emitted, if any. Only an asynchronous call's callback
 * comes after its session was let go. */
static void
check_place (Fetch         *fetch,
             GMultiSession *session,
             gboolean       is_callback)
{
  if (g_thread_self () != fetch->thread || !g_main_context_is_owner (fetch->context) ||
      (session != NULL && session != fetch->session))
    fetch->wrong_place++;
  if (fetch->shut_down && !is_callback)
    fetch->after_shutdown++;
}

static void
headers_cb (GMultiTransfer *transfer,
            guint           status,
            GMultiHeaders  *headers,
            Fetch          *fetch)
{
  check_place (fetch, NULL, FALSE);
  fetch->n_headers++;
  fetch->status = status;
  g_free (fetch->seed_header);
  fetch->seed_header = g_strdup (gmulti_headers_get_one (headers, "X-Seed"));
}

static void
data_cb (GMultiTransfer *transfer,
         GBytes         *bytes,
         Fetch          *fetch)
{
  check_place (fetch, NULL, FALSE);
  g_byte_array_append (fetch->data, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  fetch->n_bytes = fetch->data->len;
}

static void
finished_cb (GMultiTransfer *transfer,
             const GError   *error,
             Fetch          *fetch)
{
  check_place (fetch, NULL, FALSE);
  fetch->n_finished++;
}

static void
fetch_done (Fetch        *fetch,
            const GError *error)
{
  if (error != NULL && fetch->error == NULL)
    fetch->error = g_error_copy (error);
  (*fetch->n_done)++;
}

static void
session_finished_cb (GMultiSession  *session,
                     GMultiTransfer *transfer,
                     const GError   *error,
                     gpointer        user_data)
{
  Fetch *fetch = g_object_get_data (G_OBJECT (transfer), "fetch");

  g_assert_nonnull (fetch);
  check_place (fetch, session, FALSE);
  fetch->n_session_finished++;
  if (fetch->kind != FETCH_SEND)
    {
      if (error == NULL && fetch->kind == FETCH_ADD)
        fetch->body = gmulti_transfer_get_response_body (transfer);
      fetch_done (fetch, error);
    }
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fetch *fetch = user_data;
  GError *error = NULL;

  check_place (fetch, GMULTI_SESSION (source), TRUE);
  fetch->n_callbacks++;
  fetch->body = gmulti_session_send_and_read_finish (GMULTI_SESSION (source), result, &error);
  fetch_done (fetch, error);
  g_clear_error (&error);
}

static Fetch *
fetch_new (GMultiSession *session,
           FetchKind      kind,
           guint          seed,
           gboolean       by_name,
           gboolean       slow,
           guint         *n_done)
{
  Fetch *fetch = g_new0 (Fetch, 1);
  g_autofree char *uri = make_uri (seed % G_N_ELEMENTS (servers), by_name,
                                   slow ? "slow" : "t", seed);

  fetch->transfer = gmulti_transfer_new (uri);
  fetch->session = session;
  fetch->context = gmulti_session_get_context (session);
  fetch->thread = g_thread_self ();
  fetch->kind = kind;
  fetch->seed = seed;
  fetch->slow = slow;
  fetch->n_done = n_done;
  fetch->data = g_byte_array_new ();
  g_object_set_data (G_OBJECT (fetch->transfer), "fetch", fetch);
  g_signal_connect (fetch->transfer, "response-headers", G_CALLBACK (headers_cb), fetch);
  g_signal_connect (fetch->transfer, "finished", G_CALLBACK (finished_cb), fetch);
  if (kind == FETCH_DATA)
    g_signal_connect (fetch->transfer, "data", G_CALLBACK (data_cb), fetch);
  return fetch;
}

static void
fetch_start (Fetch        *fetch,
             GCancellable *cancellable)
{
  GError *error = NULL;

  if (fetch->kind == FETCH_SEND)
    gmulti_session_send_and_read_async (fetch->session, fetch->transfer, G_PRIORITY_DEFAULT,
                               cancellable, sent_cb, fetch);
  else
    {
      g_assert_true (gmulti_session_add (fetch->session, fetch->transfer, &error));
      g_assert_no_error (error);
    }
}

static void
fetch_free (Fetch *fetch)
{
  g_signal_handlers_disconnect_by_data (fetch->transfer, fetch);
  g_object_set_data (G_OBJECT (fetch->transfer), "fetch", NULL);
  g_assert_finalize_object (fetch->transfer);
  g_byte_array_unref (fetch->data);
  g_clear_pointer (&fetch->body, g_bytes_unref);
  g_clear_error (&fetch->error);
  g_free (fetch->seed_header);
  g_free (fetch);
}

/* A fetch that completed: exactly its own body, each signal once, all in its place. */
static void
assert_fetch_ok (Fetch *fetch)
{
  g_autoptr(GBytes) expected = make_body (fetch->seed);
  g_autofree char *seed = g_strdup_printf ("%u", fetch->seed);

  g_assert_no_error (fetch->error);
  g_assert_cmpuint (fetch->wrong_place, ==, 0);
  g_assert_cmpuint (fetch->n_headers, ==, 1);
  g_assert_cmpuint (fetch->n_finished, ==, 1);
  g_assert_cmpuint (fetch->n_session_finished, ==, 1);
  g_assert_cmpuint (fetch->n_callbacks, ==, fetch->kind == FETCH_SEND ? 1 : 0);
  g_assert_cmpuint (fetch->status, ==, 200);
  g_assert_cmpstr (fetch->seed_header, ==, seed);
  if (fetch->kind == FETCH_DATA)
    g_assert_cmpmem (fetch->data->data, fetch->data->len,
                     g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  else
    {
      g_assert_nonnull (fetch->body);
      g_assert_cmpmem (g_bytes_get_data (fetch->body, NULL), g_bytes_get_size (fetch->body),
                       g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
    }
}

/* A fetch whose session went while it ran: nothing after, and an asynchronous call
 * (cancelled to let its session go) completed as cancelled. */
static void
assert_fetch_cut (Fetch *fetch)
{
  g_assert_cmpuint (fetch->wrong_place, ==, 0);
  g_assert_cmpuint (fetch->after_shutdown, ==, 0);
  g_assert_cmpuint (fetch->n_headers, ==, 1);
  g_assert_cmpuint (fetch->n_finished, ==, 0);
  g_assert_cmpuint (fetch->n_session_finished, ==, 0);
  if (fetch->kind == FETCH_SEND)
    {
      g_assert_cmpuint (fetch->n_callbacks, ==, 1);
      g_assert_error (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
}

static GMultiSession *
session_new (void)
{
  GMultiSession *session = gmulti_session_new ();

  /* Set, not left to the defaults. */
  gmulti_session_set_max_connections (session, 4);
  gmulti_session_set_max_host_connections (session, 2);
  gmulti_session_set_max_idle_connections (session, 2);
  g_signal_connect (session, "transfer-finished", G_CALLBACK (session_finished_cb), NULL);
  return session;
}

/* Lets go of @session and waits (iterating @context) until it is finalized. An
 * asynchronous call still running holds it, as a GIO call holds its source object,
 * until @cancellable (if not NULL) cancels the call. */
static void
session_release (GMultiSession *session,
                 GMainContext  *context,
                 GCancellable  *cancellable)
{
  GMultiSession *weak = session;
  gint64 end = g_get_monotonic_time () + (gint64) WAIT_MS * 1000;

  g_object_add_weak_pointer (G_OBJECT (session), (gpointer *) &weak);
  g_object_unref (session);
  if (cancellable != NULL)
    {
      run_for (context, 20);
      g_assert_nonnull (weak);
      g_cancellable_cancel (cancellable);
    }
  while (weak != NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (context, FALSE);
  g_assert_null (weak);
}

/* ----------------------------------------------------- sessions on one context */

/* A hundred sessions on the main context, each with transfers of every kind, by name
 * and by address; then half are let go idle, the other half with transfers in flight. */
static void
test_many_sessions (void)
{
  GMainContext *context = g_main_context_default ();
  GMultiSession *sessions[N_SESSIONS];
  GCancellable *cancellables[N_SESSIONS] = { NULL, };
  g_autoptr(GPtrArray) fetches = g_ptr_array_new ();
  g_autoptr(GPtrArray) slow = g_ptr_array_new ();
  guint baseline = test_count_fds ();
  guint n_done = 0, n_slow_done = 0, n_slow_sends = 0;

  for (guint s = 0; s < N_SESSIONS; s++)
    {
      sessions[s] = session_new ();
      g_assert_true (gmulti_session_get_context (sessions[s]) == context);
      for (guint i = 0; i < n_per_session; i++)
        g_ptr_array_add (fetches, fetch_new (sessions[s], (s + i) % N_FETCH_KINDS,
                                             s * 1000 + i, (s + i) % 2 == 0, FALSE,
                                             &n_done));
    }
  /* All added before any runs: they overlap as much as they can. */
  for (guint i = 0; i < fetches->len; i++)
    fetch_start (fetches->pdata[i], NULL);
  g_assert_true (run_until_count (context, &n_done, fetches->len));
  for (guint i = 0; i < fetches->len; i++)
    assert_fetch_ok (fetches->pdata[i]);

  /* The second half gets a transfer each that will still be running: added, or an
   * asynchronous call with a cancellable. */
  for (guint s = N_SESSIONS / 2; s < N_SESSIONS; s++)
    {
      FetchKind kind = s % 4 == 0 ? FETCH_SEND : s % 2 ? FETCH_DATA : FETCH_ADD;
      Fetch *fetch = fetch_new (sessions[s], kind, 900000 + s, s % 3 == 0, TRUE,
                                &n_slow_done);

      g_ptr_array_add (slow, fetch);
      if (kind == FETCH_SEND)
        {
          cancellables[s] = g_cancellable_new ();
          n_slow_sends++;
        }
      fetch_start (fetch, cancellables[s]);
    }
  for (guint i = 0; i < slow->len; i++)
    g_assert_true (run_until_count (context, &((Fetch *) slow->pdata[i])->n_headers, 1));

  for (guint s = 0; s < N_SESSIONS; s++)
    {
      for (guint i = 0; i < slow->len; i++)
        if (((Fetch *) slow->pdata[i])->session == sessions[s])
          ((Fetch *) slow->pdata[i])->shut_down = TRUE;
      session_release (sessions[s], context, cancellables[s]);
      g_clear_object (&cancellables[s]);
    }
  run_for (context, 100);
  for (guint i = 0; i < slow->len; i++)
    assert_fetch_cut (slow->pdata[i]);
  g_assert_cmpuint (n_slow_done, ==, n_slow_sends);

  for (guint i = 0; i < fetches->len; i++)
    fetch_free (fetches->pdata[i]);
  for (guint i = 0; i < slow->len; i++)
    fetch_free (slow->pdata[i]);
  assert_fds_back_to (baseline);
}

/* ------------------------------------------------------ a session per thread */

typedef struct {
  guint index;
  GMutex *lock;
  GCond *cond;
  gboolean *go;                  /* guarded by lock: all threads start together */
  GCancellable *cancellable;     /* cancelled by the main thread */
  gint *n_waiting;               /* atomic: threads whose cancellable call is running */
  guint n_checked;               /* fetches checked, for the main thread */
} Worker;

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;
  GMainContext *context = g_main_context_new ();
  GMultiSession *session;
  g_autoptr(GPtrArray) fetches = g_ptr_array_new_with_free_func ((GDestroyNotify) fetch_free);
  g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func ((GDestroyNotify) fetch_free);
  GCancellable *own_cancellable = NULL;
  Fetch *cancelled[N_CANCELLED];
  guint n_done = 0, n_slow_done = 0, n_cancelled_done = 0;
  gboolean in_flight = worker->index % 2 == 1;

  g_main_context_push_thread_default (context);
  session = session_new ();
  g_assert_true (gmulti_session_get_context (session) == context);
  for (guint i = 0; i < n_per_thread; i++)
    g_ptr_array_add (fetches, fetch_new (session, (worker->index + i) % N_FETCH_KINDS,
                                         (worker->index + 1) * 100000 + i, i % 2 == 0,
                                         FALSE, &n_done));
  for (guint i = 0; i < N_CANCELLED; i++)
    cancelled[i] = fetch_new (session, FETCH_SEND, (worker->index + 1) * 100000 + 90000 + i,
                              (worker->index + i) % 2 == 0, TRUE, &n_cancelled_done);

  g_mutex_lock (worker->lock);
  while (!*worker->go)
    g_cond_wait (worker->cond, worker->lock);
  g_mutex_unlock (worker->lock);

  for (guint i = 0; i < fetches->len; i++)
    fetch_start (fetches->pdata[i], NULL);
  g_assert_true (run_until_count (context, &n_done, fetches->len));
  for (guint i = 0; i < fetches->len; i++)
    assert_fetch_ok (fetches->pdata[i]);

  /* After the others: these keep their connections (as many as the limits allow)
   * until they are cancelled. */
  for (guint i = 0; i < N_CANCELLED; i++)
    fetch_start (cancelled[i], worker->cancellable);

  /* A call another thread cancels completes here, in this thread's context. */
  for (guint i = 0; i < N_CANCELLED; i++)
    g_assert_true (run_until_count (context, &cancelled[i]->n_headers, 1));
  g_atomic_int_inc (worker->n_waiting);
  g_assert_true (run_until_count (context, &n_cancelled_done, N_CANCELLED));
  for (guint i = 0; i < N_CANCELLED; i++)
    {
      g_assert_error (cancelled[i]->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpuint (cancelled[i]->wrong_place, ==, 0);
      g_assert_cmpuint (cancelled[i]->n_callbacks, ==, 1);
      g_assert_cmpuint (cancelled[i]->n_session_finished, ==, 0);
      fetch_free (cancelled[i]);
    }

  if (in_flight)
    {
      own_cancellable = g_cancellable_new ();
      for (guint i = 0; i < N_FETCH_KINDS; i++)
        {
          Fetch *fetch = fetch_new (session, i, (worker->index + 1) * 100000 + 50000 + i,
                                    i % 2 == 1, TRUE, &n_slow_done);

          g_ptr_array_add (slow, fetch);
          fetch_start (fetch, own_cancellable);
        }
      /* Everything the server sends has arrived: a signal after this would be one
       * too many (the call keeps the session until it is cancelled, and with it the
       * other transfers). */
      for (guint i = 0; i < slow->len; i++)
        {
          Fetch *fetch = slow->pdata[i];

          g_assert_true (run_until_count (context, &fetch->n_headers, 1));
          if (fetch->kind == FETCH_DATA)
            g_assert_true (run_until_count (context, &fetch->n_bytes, SLOW_SENT));
          fetch->shut_down = TRUE;
        }
    }
  session_release (session, context, own_cancellable);
  if (in_flight)
    {
      run_for (context, 100);
      for (guint i = 0; i < slow->len; i++)
        assert_fetch_cut (slow->pdata[i]);
      g_assert_cmpuint (n_slow_done, ==, 1);
    }
  g_clear_object (&own_cancellable);
  worker->n_checked = fetches->len;

  g_clear_pointer (&fetches, g_ptr_array_unref);
  g_clear_pointer (&slow, g_ptr_array_unref);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

/* Eight threads, each with its own context and session, all running at once; calls
 * of each are cancelled from the main thread (and must not leak what watched for it,
 * which valgrind sees). */
static void
test_thread_per_session (void)
{
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  GMutex lock;
  GCond cond;
  gboolean go = FALSE;
  gint n_waiting = 0;
  guint baseline = test_count_fds ();
  gint64 end;

  g_mutex_init (&lock);
  g_cond_init (&cond);
  for (guint t = 0; t < N_THREADS; t++)
    {
      workers[t] = (Worker) { t, &lock, &cond, &go, g_cancellable_new (), &n_waiting, 0 };
      threads[t] = g_thread_new ("session", worker_thread, &workers[t]);
    }
  g_mutex_lock (&lock);
  go = TRUE;
  g_cond_broadcast (&cond);
  g_mutex_unlock (&lock);

  /* Once every thread's call has its response head, cancel them all from here. */
  end = g_get_monotonic_time () + (gint64) WAIT_MS * 1000;
  while (g_atomic_int_get (&n_waiting) < N_THREADS && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_assert_cmpint (g_atomic_int_get (&n_waiting), ==, N_THREADS);
  for (guint t = 0; t < N_THREADS; t++)
    g_cancellable_cancel (workers[t].cancellable);

  for (guint t = 0; t < N_THREADS; t++)
    {
      g_thread_join (threads[t]);
      g_assert_cmpuint (workers[t].n_checked, ==, n_per_thread);
      g_object_unref (workers[t].cancellable);
    }
  g_mutex_clear (&lock);
  g_cond_clear (&cond);
  assert_fds_back_to (baseline);
}

/* ------------------------------------------------------------------ engine */

static gint wakeup_ready, wakeup_go;

static gpointer
wakeup_thread (gpointer data)
{
  g_atomic_int_set (&wakeup_ready, 1);
  while (!g_atomic_int_get (&wakeup_go))
    ;
  gmulti_engine_wakeup (data);
  return NULL;
}

/* A wake-up from another thread racing the first poll, which both create the engine's
 * wake-up descriptor: the poll must return, and no descriptor may be left over. */
static void
test_engine_wakeup_first_poll (void)
{
  guint baseline = test_count_fds ();
  guint slow = 0;

  for (guint i = 0; i < n_wakeup_rounds && slow < 5; i++)
    {
      GMultiEngine *engine = gmulti_engine_new ();
      GThread *thread;
      gint64 start;

      g_atomic_int_set (&wakeup_ready, 0);
      g_atomic_int_set (&wakeup_go, 0);
      thread = g_thread_new ("wakeup", wakeup_thread, engine);
      /* Both sides start from the same moment. */
      while (!g_atomic_int_get (&wakeup_ready))
        ;
      g_atomic_int_set (&wakeup_go, 1);
      start = g_get_monotonic_time ();
      g_assert_cmpint (gmulti_engine_poll (engine, 500, NULL), ==, GMULTI_ENGINE_OK);
      if (g_get_monotonic_time () - start > 400 * 1000)
        slow++;
      g_thread_join (thread);
      gmulti_engine_unref (engine);
    }
  g_assert_cmpuint (slow, ==, 0);
  g_assert_cmpuint (test_count_fds (), ==, baseline);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("GMULTI_TEST_UNDER_VALGRIND") != NULL)
    {
      n_per_session = 2;
      n_per_thread = 6;
      n_wakeup_rounds = 50;
    }

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    servers[i] = test_server_new (TEST_SERVER_IPV4 | TEST_SERVER_IPV6, handler, NULL);
  /* GTask's class starts GLib's worker thread, whose context keeps a descriptor for
   * the rest of the run: before any test takes its baseline. */
  g_type_ensure (G_TYPE_TASK);

  g_test_add_func ("/GMulti/Threads/many-sessions-one-context", test_many_sessions);
  g_test_add_func ("/GMulti/Threads/thread-per-session", test_thread_per_session);
  g_test_add_func ("/GMulti/Threads/engine-wakeup-first-poll", test_engine_wakeup_first_poll);

  ret = g_test_run ();
  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    test_server_free (servers[i]);
  return ret;
}
