/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The session's main-loop source, each test run with both backends: the choice of
 * backend, many sockets at once, sockets removed and nested loops run during a
 * dispatch, and wake-ups caused by the timer alone. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gmulti.h"
#include "gmulti-session-private.h"
#include "gmulti-session-source-private.h"
#include "test-server.h"
#include "test-wait.h"

/* Every wait is bounded by this. Under valgrind, which runs one thread at a time, the
 * server's threads and a few hundred sockets take longer on a busy machine. */
static guint wait_ms = 20000;
#define WAIT_MS wait_ms

/* The server: /barrier/N answers once every expected request has arrived and the test
 * lets it, so that all connections are open and waiting at the same time. */

typedef struct
{
  gint arrived;
  gint released;
  gint responded;
} Barrier;

static Barrier barrier;

static GBytes *
body_for (guint n)
{
  gsize length = 200 + (n * 7919u) % 20000;
  guint8 *data = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    data[i] = (guint8) ((i * 131 + n * 7) & 0xff);
  return g_bytes_new_take (data, length);
}

static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  g_autoptr(GBytes) body = NULL;
  const guint8 *data;
  gsize size;
  gboolean ok;
  guint n;

  if (g_str_has_prefix (req->target, "/hang/"))
    {
      test_conn_wait_client_close (conn, 5000);
      return FALSE;
    }

  /* Reset (RST) a while after the release: the client socket then reports an error
   * and a hang-up, which poll() does whatever events were asked for. */
  if (g_str_has_prefix (req->target, "/reset/"))
    {
      for (guint waited = 0; !g_atomic_int_get (&barrier.released) && waited < WAIT_MS;
           waited += 5)
        test_conn_sleep (conn, 5);
      test_conn_sleep (conn, 60);
      test_conn_reset (conn);
      return FALSE;
    }

  if (sscanf (req->target, "/barrier/%u", &n) != 1 &&
      sscanf (req->target, "/now/%u", &n) != 1)
    return test_conn_respond (conn, 404, "text/plain", "not here", 8);

  if (g_str_has_prefix (req->target, "/barrier/"))
    {
      g_atomic_int_inc (&barrier.arrived);
      for (guint waited = 0; !g_atomic_int_get (&barrier.released) && waited < WAIT_MS;
           waited += 5)
        test_conn_sleep (conn, 5);
    }

  body = body_for (n);
  data = g_bytes_get_data (body, &size);
  ok = test_conn_respond (conn, 200, "application/octet-stream", data, size);
  g_atomic_int_inc (&barrier.responded);
  return ok;
}

static TestServer *
start_server (void)
{
  memset (&barrier, 0, sizeof barrier);
  return test_server_new (TEST_SERVER_IPV4, handler, NULL);
}

static GMultiMainLoopSource
expected_kind (GMultiMainLoopSource asked)
{
#ifdef GMULTI_HAVE_EPOLL
  return asked;
#else
  return GMULTI_MAIN_LOOP_SOURCE_UNIX_FD;
#endif
}

static GMultiSession *
new_session (gconstpointer data)
{
  GMultiMainLoopSource kind = GPOINTER_TO_INT (data);
  GMultiSession *session = g_object_new (GMULTI_TYPE_SESSION,
                                         "main-loop-source", kind,
                                         "max-connections", 0,
                                         "max-host-connections", 0,
                                         NULL);

  g_assert_cmpint (gmulti_session_get_main_loop_source (session), ==, expected_kind (kind));
  return session;
}

/* One transfer and what it saw. */
typedef struct
{
  GMultiSession *session;
  GMultiTransfer *transfer;
  guint n;
  GByteArray *received;
  guint n_finished;
  GError *error;
  gboolean removed;
  guint after_removal;
} Fetch;

static void
fetch_data_cb (GMultiTransfer *transfer,
               GBytes         *chunk,
               Fetch          *fetch)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (chunk, &size);

  if (fetch->removed)
    fetch->after_removal++;
  g_byte_array_append (fetch->received, data, size);
}

static void
fetch_finished_cb (GMultiTransfer *transfer,
                   const GError   *error,
                   Fetch          *fetch)
{
  if (fetch->removed)
    fetch->after_removal++;
  fetch->n_finished++;
  g_clear_error (&fetch->error);
  if (error != NULL)
    fetch->error = g_error_copy (error);
}

static Fetch *
fetch_new (GMultiSession *session,
           TestServer    *server,
           const char    *prefix,
           guint          n)
{
  Fetch *fetch = g_new0 (Fetch, 1);
  g_autofree char *path = g_strdup_printf ("/%s/%u", prefix, n);
  g_autofree char *uri = test_server_uri (server, path);

  fetch->session = session;
  fetch->n = n;
  fetch->transfer = gmulti_transfer_new (uri);
  fetch->received = g_byte_array_new ();
  g_signal_connect (fetch->transfer, "data", G_CALLBACK (fetch_data_cb), fetch);
  g_signal_connect (fetch->transfer, "finished", G_CALLBACK (fetch_finished_cb), fetch);
  return fetch;
}

static void
fetch_free (Fetch *fetch)
{
  g_signal_handlers_disconnect_by_data (fetch->transfer, fetch);
  g_object_unref (fetch->transfer);
  g_byte_array_unref (fetch->received);
  g_clear_error (&fetch->error);
  g_free (fetch);
}

static void
assert_fetch_ok (Fetch *fetch)
{
  g_autoptr(GBytes) expected = body_for (fetch->n);
  gsize size;
  const guint8 *data = g_bytes_get_data (expected, &size);

  g_assert_no_error (fetch->error);
  g_assert_cmpuint (fetch->n_finished, ==, 1);
  g_assert_cmpuint (gmulti_transfer_get_status (fetch->transfer), ==, 200);
  g_assert_cmpuint (fetch->received->len, ==, size);
  g_assert_true (memcmp (fetch->received->data, data, size) == 0);
}

static guint
count_finished (Fetch **fetches,
                guint   n)
{
  guint done = 0;

  for (guint i = 0; i < n; i++)
    done += fetches[i]->n_finished;
  return done;
}

/* Waits, without iterating the session's context, until the server wrote @n
 * responses: the next poll then finds every one of those sockets ready at once. */
static void
wait_responded (guint n)
{
  for (guint waited = 0; (guint) g_atomic_int_get (&barrier.responded) < n; waited += 5)
    {
      g_assert_cmpuint (waited, <, WAIT_MS);
      g_usleep (5000);
    }
  /* The last response is written; give loopback a moment to deliver it. */
  g_usleep (20000);
}

/* The backend in use follows the property, and epoll falls back to unix-fd where it
 * is not built. */
static void
test_kind (gconstpointer data)
{
  GMultiSession *session = new_session (data);
  GMultiMainLoopSource kind;

  g_object_get (session, "main-loop-source", &kind, NULL);
  g_assert_cmpint (kind, ==, expected_kind (GPOINTER_TO_INT (data)));
  g_assert_cmpint (gmulti_session_source_get_kind (gmulti_session_get_source (session)), ==,
                   kind);
  g_assert_finalize_object (session);
}

/* A few hundred transfers in flight at once, each on its own connection. */
#define N_MANY 300

static void
test_many_sockets (gconstpointer data)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = new_session (data);
  GSource *source = gmulti_session_get_source (session);
  Fetch *fetches[N_MANY];

  for (guint i = 0; i < N_MANY; i++)
    {
      fetches[i] = fetch_new (session, server, "barrier", i);
      g_assert_true (gmulti_session_add (session, fetches[i]->transfer, NULL));
    }

  /* Every request is at the server and every socket is watched. */
  RUN_UNTIL (g_atomic_int_get (&barrier.arrived) == N_MANY, WAIT_MS);
  g_assert_cmpuint (gmulti_session_source_get_n_watched (source), >=, N_MANY);

  g_atomic_int_set (&barrier.released, 1);
  RUN_UNTIL (count_finished (fetches, N_MANY) == N_MANY, WAIT_MS);

  for (guint i = 0; i < N_MANY; i++)
    {
      assert_fetch_ok (fetches[i]);
      fetch_free (fetches[i]);
    }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, N_MANY);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* The first data callback of a dispatch removes every other transfer, whose sockets
 * are ready in the same dispatch, and starts new ones (which may get the freed
 * descriptor numbers): the removed ones see nothing more, everything else completes. */
#define N_REMOVE 8

typedef struct
{
  Fetch *fetches[N_REMOVE];
  Fetch *added[N_REMOVE];
  TestServer *server;
  Fetch *first;
} RemoveState;

static void
remove_others_cb (GMultiTransfer *transfer,
                  GBytes         *chunk,
                  RemoveState    *state)
{
  if (state->first != NULL)
    return;

  for (guint i = 0; i < N_REMOVE; i++)
    {
      Fetch *fetch = state->fetches[i];

      if (fetch->transfer == transfer)
        {
          state->first = fetch;
          continue;
        }
      fetch->removed = TRUE;
      gmulti_session_remove (fetch->session, fetch->transfer);
    }

  for (guint i = 0; i < N_REMOVE; i++)
    {
      state->added[i] = fetch_new (state->first->session, state->server, "now",
                                   100 + i);
      g_assert_true (gmulti_session_add (state->first->session, state->added[i]->transfer,
                                         NULL));
    }
}

static void
test_remove_in_dispatch (gconstpointer data)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = new_session (data);
  GSource *source = gmulti_session_get_source (session);
  RemoveState state = { .server = server };

  for (guint i = 0; i < N_REMOVE; i++)
    {
      state.fetches[i] = fetch_new (session, server, "barrier", i);
      g_signal_connect (state.fetches[i]->transfer, "data", G_CALLBACK (remove_others_cb),
                        &state);
      g_assert_true (gmulti_session_add (session, state.fetches[i]->transfer, NULL));
    }
  RUN_UNTIL (g_atomic_int_get (&barrier.arrived) == N_REMOVE, WAIT_MS);

  /* All responses written before the loop runs again: one poll sees them all. */
  g_atomic_int_set (&barrier.released, 1);
  wait_responded (N_REMOVE);

  RUN_UNTIL (state.first != NULL && state.first->n_finished == 1 &&
             count_finished (state.added, N_REMOVE) == N_REMOVE, WAIT_MS);
  test_drain_context ();

  assert_fetch_ok (state.first);
  for (guint i = 0; i < N_REMOVE; i++)
    {
      Fetch *fetch = state.fetches[i];

      if (fetch != state.first)
        {
          g_assert_cmpuint (fetch->n_finished, ==, 0);
          g_assert_cmpuint (fetch->after_removal, ==, 0);
        }
      assert_fetch_ok (state.added[i]);
      fetch_free (state.added[i]);
      fetch_free (fetch);
    }
  /* Only pooled connections are left, watched for the server closing them. */
  g_assert_cmpuint (gmulti_session_source_get_n_watched (source), <=, N_REMOVE + 1);
  g_assert_finalize_object (session);
}

/* A signal handler of a running transfer iterates the context while the engine is busy
 * and many sockets are ready, one of them reset by the server meanwhile: the source
 * blocks (no spinning, no re-entry), and everything resumes afterwards. */
#define N_NESTED 16

typedef struct
{
  GMultiSession *session;
  gboolean nested_done;
  guint64 nested_dispatches;
  guint64 nested_iterations;
} NestedState;

static void
nested_data_cb (GMultiTransfer *transfer,
                GBytes         *chunk,
                NestedState    *state)
{
  GMainContext *context = gmulti_session_get_context (state->session);
  GSource *source = gmulti_session_get_source (state->session);
  gboolean done = FALSE;
  guint64 before;

  if (state->nested_done)
    return;
  state->nested_done = TRUE;

  before = gmulti_session_source_get_n_dispatch (source);
  g_timeout_add (100, test_set_flag_cb, &done);
  while (!done)
    {
      g_main_context_iteration (context, TRUE);
      state->nested_iterations++;
    }
  state->nested_dispatches = gmulti_session_source_get_n_dispatch (source) - before;
}

static void
test_nested_in_handler (gconstpointer data)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = new_session (data);
  NestedState state = { session, FALSE, 0, 0 };
  Fetch *fetches[N_NESTED];
  Fetch *reset = fetch_new (session, server, "reset", 0);

  g_assert_true (gmulti_session_add (session, reset->transfer, NULL));
  for (guint i = 0; i < N_NESTED; i++)
    {
      fetches[i] = fetch_new (session, server, "barrier", i);
      g_signal_connect (fetches[i]->transfer, "data", G_CALLBACK (nested_data_cb), &state);
      g_assert_true (gmulti_session_add (session, fetches[i]->transfer, NULL));
    }
  RUN_UNTIL (g_atomic_int_get (&barrier.arrived) == N_NESTED &&
             test_server_get_n_requests (server) == N_NESTED + 1, WAIT_MS);
  g_atomic_int_set (&barrier.released, 1);
  wait_responded (N_NESTED);

  RUN_UNTIL (count_finished (fetches, N_NESTED) == N_NESTED && reset->n_finished == 1,
             WAIT_MS);
  g_assert_nonnull (reset->error);
  fetch_free (reset);

  g_assert_true (state.nested_done);
  /* At most the dispatch that found the engine busy and blocked the source; and the
   * nested loop slept in poll() instead of spinning over ready sockets. */
  g_assert_cmpuint (state.nested_dispatches, <=, 2);
  g_assert_cmpuint (state.nested_iterations, <=, 25);
  for (guint i = 0; i < N_NESTED; i++)
    {
      assert_fetch_ok (fetches[i]);
      fetch_free (fetches[i]);
    }
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* A completion handler iterates the context until the other transfers are done: the
 * engine is not busy there, so the nested dispatches run it while the outer dispatch
 * still holds a batch of ready sockets. */
typedef struct
{
  Fetch **fetches;
  guint n;
  gboolean nested;
  guint finished_inside;
} DrainState;

static void
drain_finished_cb (GMultiSession  *session,
                   GMultiTransfer *transfer,
                   const GError   *error,
                   DrainState     *state)
{
  GMainContext *context = gmulti_session_get_context (session);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  if (state->nested)
    return;
  state->nested = TRUE;

  while (count_finished (state->fetches, state->n) < state->n &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (context, FALSE);
  state->finished_inside = count_finished (state->fetches, state->n);
}

static void
test_nested_in_completion (gconstpointer data)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = new_session (data);
  Fetch *fetches[N_NESTED];
  DrainState state = { fetches, N_NESTED, FALSE, 0 };

  g_signal_connect (session, "transfer-finished", G_CALLBACK (drain_finished_cb), &state);
  for (guint i = 0; i < N_NESTED; i++)
    {
      fetches[i] = fetch_new (session, server, "barrier", i);
      g_assert_true (gmulti_session_add (session, fetches[i]->transfer, NULL));
    }
  RUN_UNTIL (g_atomic_int_get (&barrier.arrived) == N_NESTED, WAIT_MS);
  g_atomic_int_set (&barrier.released, 1);
  wait_responded (N_NESTED);

  RUN_UNTIL (count_finished (fetches, N_NESTED) == N_NESTED, WAIT_MS);
  g_assert_true (state.nested);
  g_assert_cmpuint (state.finished_inside, ==, N_NESTED);
  for (guint i = 0; i < N_NESTED; i++)
    {
      assert_fetch_ok (fetches[i]);
      fetch_free (fetches[i]);
    }
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* Counts poll() calls and those that returned early. */
static guint n_polls;

static gint
counting_poll (GPollFD *fds,
               guint    nfds,
               int      timeout)
{
  n_polls++;
  return g_poll (fds, nfds, timeout);
}

/* A server that never answers: only the timer wakes the source, on time, and the
 * loop sleeps in between. */
static void
test_timer_only (gconstpointer data)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = new_session (data);
  GMainContext *context = gmulti_session_get_context (session);
  GSource *source = gmulti_session_get_source (session);
  Fetch *fetch = fetch_new (session, server, "hang", 0);
  guint64 dispatches;
  gint64 start, elapsed;

  gmulti_transfer_set_timeout (fetch->transfer, 400);

  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  /* Connected and the request sent: from here on nothing but the timer is due. */
  RUN_UNTIL (test_server_get_n_requests (server) == 1, WAIT_MS);
  start = g_get_monotonic_time ();
  dispatches = gmulti_session_source_get_n_dispatch (source);
  n_polls = 0;
  g_main_context_set_poll_func (context, counting_poll);
  while (fetch->n_finished == 0)
    g_main_context_iteration (context, TRUE);
  g_main_context_set_poll_func (context, NULL);
  elapsed = g_get_monotonic_time () - start;

  g_assert_error (fetch->error, GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  /* The 400 ms run from the add, a little before @start. */
  g_assert_cmpint (elapsed, <, 400 * 1000 + 150 * 1000);
  g_assert_cmpint (elapsed, >=, 200 * 1000);
  /* A handful of wake-ups (the timer, what the failed transfer closes), not a spin. */
  g_assert_cmpuint (gmulti_session_source_get_n_dispatch (source) - dispatches, <=, 6);
  g_assert_cmpuint (n_polls, <=, 10);

  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* GMULTI_MAIN_LOOP_SOURCE, read once per process: checked in subprocesses. */
static void
test_environment (void)
{
  GMultiSession *session;

  if (g_test_subprocess ())
    {
      const char *mode = g_getenv ("GMULTI_TEST_ENV_MODE");

      if (g_strcmp0 (mode, "unknown") == 0)
        {
          g_setenv ("GMULTI_MAIN_LOOP_SOURCE", "kqueue", TRUE);
          g_test_expect_message ("GMulti", G_LOG_LEVEL_WARNING,
                                 "*Unknown GMULTI_MAIN_LOOP_SOURCE value*kqueue*");
          session = gmulti_session_new ();
          g_test_assert_expected_messages ();
          g_assert_cmpint (gmulti_session_get_main_loop_source (session), ==,
                           expected_kind (GMULTI_MAIN_LOOP_SOURCE_EPOLL));
          g_object_unref (session);
        }
      else
        {
          g_setenv ("GMULTI_MAIN_LOOP_SOURCE", "unix-fd", TRUE);
          session = gmulti_session_new ();
          g_assert_cmpint (gmulti_session_get_main_loop_source (session), ==,
                           GMULTI_MAIN_LOOP_SOURCE_UNIX_FD);
          g_object_unref (session);
          /* The property, when it names one, wins over the environment. */
          session = g_object_new (GMULTI_TYPE_SESSION, "main-loop-source",
                                  GMULTI_MAIN_LOOP_SOURCE_EPOLL, NULL);
          g_assert_cmpint (gmulti_session_get_main_loop_source (session), ==,
                           expected_kind (GMULTI_MAIN_LOOP_SOURCE_EPOLL));
          g_object_unref (session);
        }
      return;
    }

  g_setenv ("GMULTI_TEST_ENV_MODE", "unknown", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_setenv ("GMULTI_TEST_ENV_MODE", "named", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_unsetenv ("GMULTI_TEST_ENV_MODE");
}

static void
add_for_each (const char   *name,
              GTestDataFunc func)
{
  static const struct
  {
    const char *nick;
    GMultiMainLoopSource kind;
  } kinds[] = {
    { "epoll", GMULTI_MAIN_LOOP_SOURCE_EPOLL },
    { "unix-fd", GMULTI_MAIN_LOOP_SOURCE_UNIX_FD },
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *path = g_strdup_printf ("/GMulti/SessionSource/%s/%s",
                                               kinds[i].nick, name);

      g_test_add_data_func (path, GINT_TO_POINTER (kinds[i].kind), func);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("GMULTI_TEST_UNDER_VALGRIND") != NULL)
    wait_ms = 90000;

  g_test_add_func ("/GMulti/SessionSource/environment", test_environment);
  add_for_each ("kind", test_kind);
  add_for_each ("many-sockets", test_many_sockets);
  add_for_each ("remove-in-dispatch", test_remove_in_dispatch);
  add_for_each ("nested-in-handler", test_nested_in_handler);
  add_for_each ("nested-in-completion", test_nested_in_completion);
  add_for_each ("timer-only", test_timer_only);

  return g_test_run ();
}
