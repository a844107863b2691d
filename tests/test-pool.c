/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti.h"
#include "engine-loop.h"
#include "test-server.h"

/* The pool's limits across several origins: who waits, who starts when a connection
 * goes idle or closes, and in which order. The origins are all loopback: 127.0.0.1 and
 * ::1 on one port of the scripted server, and 127.0.0.1 on another port. The server
 * holds requests at "gates" the test opens, so every step happens when the test says. */

#define WAIT_MS 5000
/* How long the tests watch for something that must not happen. */
#define QUIET_MS 150

/* ------------------------------------------------------------------ server */

typedef struct {
  GMutex lock;
  GHashTable *open;         /* gate names opened */
  GPtrArray *arrivals;      /* request names in the order they reached a server */
} Gates;

static Gates gates;

static void
gates_reset (void)
{
  g_mutex_lock (&gates.lock);
  g_clear_pointer (&gates.open, g_hash_table_unref);
  g_clear_pointer (&gates.arrivals, g_ptr_array_unref);
  gates.open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gates.arrivals = g_ptr_array_new_with_free_func (g_free);
  g_mutex_unlock (&gates.lock);
}

static void
gate_open (const char *name)
{
  g_mutex_lock (&gates.lock);
  g_hash_table_add (gates.open, g_strdup (name));
  g_mutex_unlock (&gates.lock);
}

static gboolean
gate_is_open (const char *name)
{
  gboolean open;

  g_mutex_lock (&gates.lock);
  open = g_hash_table_contains (gates.open, "*") || g_hash_table_contains (gates.open, name);
  g_mutex_unlock (&gates.lock);
  return open;
}

static gboolean
has_arrived (const char *name)
{
  gboolean found = FALSE;

  g_mutex_lock (&gates.lock);
  for (guint i = 0; i < gates.arrivals->len && !found; i++)
    found = g_str_equal (gates.arrivals->pdata[i], name);
  g_mutex_unlock (&gates.lock);
  return found;
}

/* The arrivals so far, as "a1 b1 c1". */
static char *
arrivals (void)
{
  GString *list = g_string_new (NULL);

  g_mutex_lock (&gates.lock);
  for (guint i = 0; i < gates.arrivals->len; i++)
    g_string_append_printf (list, "%s%s", i > 0 ? " " : "", (char *) gates.arrivals->pdata[i]);
  g_mutex_unlock (&gates.lock);
  return g_string_free (list, FALSE);
}

/* /ok/NAME answers NAME at once; /gate/NAME once the gate NAME is open; /gate-close/NAME
 * too, then closes the connection. */
static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  const char *name = strrchr (req->target, '/') + 1;
  gboolean close = g_str_has_prefix (req->target, "/gate-close/");
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_lock (&gates.lock);
  g_ptr_array_add (gates.arrivals, g_strdup (name));
  g_mutex_unlock (&gates.lock);

  if (g_str_has_prefix (req->target, "/gate"))
    while (!gate_is_open (name) && g_get_monotonic_time () < end)
      {
        gint64 before = g_get_monotonic_time ();

        test_conn_sleep (conn, 5);
        /* An early return means the server is stopping. */
        if (g_get_monotonic_time () - before < 4000)
          return FALSE;
      }

  if (close)
    {
      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\nConnection: close\r\n\r\n%s",
                        (guint) strlen (name), name);
      return FALSE;
    }
  return test_conn_respond (conn, 200, "text/plain", name, strlen (name));
}

/* Three origins: a = 127.0.0.1:P, b = [::1]:P (or 127.0.0.1 on a third port without
 * IPv6), c = 127.0.0.1:Q. */
typedef struct {
  TestServer *ab;
  TestServer *c;
  TestServer *b4;           /* only without IPv6 loopback */
  EngineLoop *loop;
  GPtrArray *transfers;     /* every transfer made, freed at the end */
  GPtrArray *started;       /* transfers in the order they started */
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  gates_reset ();
  f->ab = test_server_new (TEST_SERVER_IPV4 | TEST_SERVER_IPV6, handler, NULL);
  f->c = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  if (!test_server_has_ipv6 (f->ab))
    f->b4 = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  f->loop = engine_loop_new ();
  f->transfers = g_ptr_array_new_with_free_func (g_object_unref);
  f->started = g_ptr_array_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_cmpuint (f->loop->n_contract_violations, ==, 0);
  engine_loop_free (f->loop);
  gate_open ("*");
  test_server_free (f->ab);
  test_server_free (f->c);
  g_clear_pointer (&f->b4, test_server_free);
  g_ptr_array_unref (f->started);
  g_ptr_array_unref (f->transfers);
}

static void
record_start_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  Fixture *f = user_data;
  GMultiTransferState state = gmulti_transfer_get_state (GMULTI_TRANSFER (object));

  if ((state == GMULTI_TRANSFER_CONNECTING || state == GMULTI_TRANSFER_SENDING) &&
      !g_ptr_array_find (f->started, object, NULL))
    g_ptr_array_add (f->started, object);
}

/* A transfer to origin 'a', 'b' or 'c' for @path, added to the engine. */
static GMultiTransfer *
add (Fixture    *f,
     char        origin,
     const char *path)
{
  g_autofree char *uri = NULL;
  GMultiTransfer *transfer;

  if (origin == 'a')
    uri = test_server_uri (f->ab, path);
  else if (origin == 'b')
    uri = f->b4 != NULL ? test_server_uri (f->b4, path) : test_server_uri6 (f->ab, path);
  else
    uri = test_server_uri (f->c, path);

  transfer = gmulti_transfer_new (uri);
  g_signal_connect (transfer, "notify::state", G_CALLBACK (record_start_cb), f);
  g_ptr_array_add (f->transfers, transfer);
  g_assert_cmpint (gmulti_engine_add (f->loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  return transfer;
}

#define RUN_UNTIL(f, cond)                                                        \
  G_STMT_START {                                                                  \
    gint64 end_ = g_get_monotonic_time () + WAIT_MS * 1000;                       \
    while (!(cond) && g_get_monotonic_time () < end_)                             \
      engine_loop_iterate ((f)->loop, 10);                                        \
    if (!(cond))                                                                  \
      {                                                                           \
        g_autofree char *seen_ = arrivals ();                                     \
        g_test_message ("arrived: %s", seen_);                                    \
      }                                                                           \
    g_assert_true (cond);                                                         \
  } G_STMT_END

/* Runs the engine for a while, for what must not happen to show if it does. */
static void
run_quietly (Fixture *f)
{
  gint64 end = g_get_monotonic_time () + QUIET_MS * 1000;

  while (g_get_monotonic_time () < end)
    engine_loop_iterate (f->loop, 10);
}

static gboolean
is_done (GMultiTransfer *transfer)
{
  return gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE;
}

static gboolean
is_waiting (GMultiTransfer *transfer)
{
  return gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_PENDING;
}

static void
assert_answer (GMultiTransfer *transfer,
               const char     *body)
{
  g_autoptr(GBytes) bytes = gmulti_transfer_get_response_body (transfer);

  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  g_assert_nonnull (bytes);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), body, strlen (body));
}

static void
assert_arrivals (const char *expected)
{
  g_autofree char *seen = arrivals ();

  g_assert_cmpstr (seen, ==, expected);
}

static guint64
connection_of (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (transfer));
}

static gboolean
reused (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (transfer));
}

/* ------------------------------------------------------------------- tests */

/* The total limit is held by idle connections to a and b: a transfer to c gets the
 * oldest of them closed for it, without waiting for anything else. */
static void
test_total_limit_closes_idle (Fixture       *f,
                              gconstpointer  data)
{
  GMultiEngine *engine = f->loop->engine;
  GMultiTransfer *a1, *b1, *c1, *a2, *b2;

  gmulti_engine_set_max_connections (engine, 2);
  a1 = add (f, 'a', "/gate/a1");
  RUN_UNTIL (f, has_arrived ("a1"));
  b1 = add (f, 'b', "/gate/b1");
  RUN_UNTIL (f, has_arrived ("b1"));

  c1 = add (f, 'c', "/ok/c1");
  run_quietly (f);
  g_assert_true (is_waiting (c1));
  g_assert_cmpuint (gmulti_engine_get_n_connections (engine), ==, 2);

  /* a's connection goes idle first, so it is the oldest idle one when c1's turn comes. */
  gate_open ("a1");
  RUN_UNTIL (f, is_done (a1));
  RUN_UNTIL (f, is_done (c1));
  assert_answer (c1, "c1");
  g_assert_false (reused (c1));
  g_assert_false (is_done (b1));

  gate_open ("b1");
  RUN_UNTIL (f, is_done (b1));
  assert_answer (a1, "a1");
  assert_answer (b1, "b1");
  g_assert_cmpuint (gmulti_engine_get_n_connections (engine), ==, 2);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (engine), ==, 2);

  /* b's connection is still there, a's is gone. */
  b2 = add (f, 'b', "/ok/b2");
  RUN_UNTIL (f, is_done (b2));
  assert_answer (b2, "b2");
  g_assert_true (reused (b2));
  g_assert_cmpuint (connection_of (b2), ==, connection_of (b1));
  a2 = add (f, 'a', "/ok/a2");
  RUN_UNTIL (f, is_done (a2));
  assert_answer (a2, "a2");
  g_assert_false (reused (a2));
  g_assert_cmpuint (gmulti_engine_get_n_connections (engine), ==, 2);
}

/* One connection for everyone: waiters of three origins start in the order they were
 * added, whichever origin the freed connection belonged to. */
static void
test_fifo_across_origins (Fixture       *f,
                          gconstpointer  data)
{
  static const char origins[] = "cbacb";
  GMultiTransfer *holder, *waiters[5];

  gmulti_engine_set_max_connections (f->loop->engine, 1);
  holder = add (f, 'a', "/gate/h");
  RUN_UNTIL (f, has_arrived ("h"));
  for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ok/%u", i + 1);

      waiters[i] = add (f, origins[i], path);
    }
  run_quietly (f);
  for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
    g_assert_true (is_waiting (waiters[i]));

  gate_open ("h");
  RUN_UNTIL (f, is_done (waiters[4]));
  assert_answer (holder, "h");
  g_assert_cmpuint (f->started->len, ==, 1 + G_N_ELEMENTS (waiters));
  g_assert_true (f->started->pdata[0] == holder);
  for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
    {
      g_autofree char *body = g_strdup_printf ("%u", i + 1);

      g_assert_true (f->started->pdata[i + 1] == waiters[i]);
      assert_answer (waiters[i], body);
    }
  assert_arrivals ("h 1 2 3 4 5");
}

/* A waiter blocked only by its own origin's limit does not hold back a waiter of
 * another origin behind it. */
static void
test_host_limit_does_not_block (Fixture       *f,
                                gconstpointer  data)
{
  GMultiEngine *engine = f->loop->engine;
  GMultiTransfer *a1, *b1, *a2, *c1;

  gmulti_engine_set_max_connections (engine, 2);
  gmulti_engine_set_max_host_connections (engine, 1);
  a1 = add (f, 'a', "/gate/a1");
  RUN_UNTIL (f, has_arrived ("a1"));
  b1 = add (f, 'b', "/gate/b1");
  RUN_UNTIL (f, has_arrived ("b1"));
  a2 = add (f, 'a', "/ok/a2");   /* a's limit, and the total */
  c1 = add (f, 'c', "/ok/c1");   /* the total only */
  run_quietly (f);
  g_assert_true (is_waiting (a2));
  g_assert_true (is_waiting (c1));

  /* b's connection goes idle: a2 cannot use it, c1 can (b's is closed for it). */
  gate_open ("b1");
  RUN_UNTIL (f, is_done (c1));
  assert_answer (c1, "c1");
  g_assert_true (is_done (b1));
  g_assert_true (is_waiting (a2));
  g_assert_false (is_done (a1));

  gate_open ("a1");
  RUN_UNTIL (f, is_done (a2));
  assert_answer (a1, "a1");
  assert_answer (a2, "a2");
  g_assert_true (reused (a2));
  g_assert_cmpuint (connection_of (a2), ==, connection_of (a1));
  assert_arrivals ("a1 b1 c1 a2");
}

/* Each freed slot or idle connection starts exactly one waiter, the oldest that can
 * use it. */
static void
test_freed_slot_wakes_right_waiter (Fixture       *f,
                                    gconstpointer  data)
{
  GMultiEngine *engine = f->loop->engine;
  GMultiTransfer *a1, *b1, *a2, *c1, *c2, *b2;

  gmulti_engine_set_max_connections (engine, 2);
  gmulti_engine_set_max_host_connections (engine, 1);
  a1 = add (f, 'a', "/gate/a1");
  RUN_UNTIL (f, has_arrived ("a1"));
  b1 = add (f, 'b', "/gate-close/b1");
  RUN_UNTIL (f, has_arrived ("b1"));
  a2 = add (f, 'a', "/gate/a2");
  c1 = add (f, 'c', "/gate/c1");
  c2 = add (f, 'c', "/gate/c2");
  b2 = add (f, 'b', "/gate/b2");
  run_quietly (f);
  assert_arrivals ("a1 b1");

  /* b1's connection closes: a2 is older but its origin is full; c1 gets the slot, and
   * only c1. */
  gate_open ("b1");
  RUN_UNTIL (f, has_arrived ("c1"));
  run_quietly (f);
  assert_arrivals ("a1 b1 c1");
  g_assert_true (is_done (b1));
  g_assert_true (is_waiting (a2) && is_waiting (c2) && is_waiting (b2));
  g_assert_cmpuint (gmulti_engine_get_n_connections (engine), ==, 2);

  /* a's connection goes idle: a2, the oldest, reuses it (b2 could have had it closed). */
  gate_open ("a1");
  RUN_UNTIL (f, has_arrived ("a2"));
  run_quietly (f);
  assert_arrivals ("a1 b1 c1 a2");
  g_assert_true (reused (a2));
  g_assert_true (is_waiting (c2) && is_waiting (b2));

  /* c's goes idle: c2 before b2. */
  gate_open ("c1");
  RUN_UNTIL (f, has_arrived ("c2"));
  run_quietly (f);
  assert_arrivals ("a1 b1 c1 a2 c2");
  g_assert_true (is_waiting (b2));

  /* a's goes idle again with nobody of a waiting: closed for b2. */
  gate_open ("a2");
  RUN_UNTIL (f, has_arrived ("b2"));
  g_assert_false (reused (b2));
  gate_open ("*");
  RUN_UNTIL (f, is_done (c2) && is_done (b2));
  assert_answer (a1, "a1");
  assert_answer (b1, "b1");
  assert_answer (a2, "a2");
  assert_answer (c1, "c1");
  assert_answer (c2, "c2");
  assert_answer (b2, "b2");
  assert_arrivals ("a1 b1 c1 a2 c2 b2");
}

/* Removing waiters leaves no trace in the queue; removing the transfer holding the
 * only connection hands its slot to the oldest remaining waiter. */
static void
test_remove_waiting (Fixture       *f,
                     gconstpointer  data)
{
  GMultiEngine *engine = f->loop->engine;
  GMultiTransfer *holder, *w1, *w2, *w3, *w4;

  gmulti_engine_set_max_connections (engine, 1);
  holder = add (f, 'a', "/gate/h");
  RUN_UNTIL (f, has_arrived ("h"));
  w1 = add (f, 'b', "/ok/w1");
  w2 = add (f, 'c', "/ok/w2");
  w3 = add (f, 'b', "/ok/w3");
  w4 = add (f, 'b', "/ok/w4");
  run_quietly (f);

  /* The head and one in the middle. */
  g_assert_cmpint (gmulti_engine_remove (engine, w1), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_remove (engine, w3), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_transfer_get_state (w1), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpint (gmulti_transfer_get_state (w3), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpuint (gmulti_engine_get_n_running (engine), ==, 3);
  run_quietly (f);
  g_assert_true (is_waiting (w2) && is_waiting (w4));

  /* Mid-exchange: its connection is closed, and the slot is w2's. */
  g_assert_cmpint (gmulti_engine_remove (engine, holder), ==, GMULTI_ENGINE_OK);
  g_assert_cmpuint (gmulti_engine_get_n_connections (engine), <=, 1);
  RUN_UNTIL (f, is_done (w2) && is_done (w4));
  assert_answer (w2, "w2");
  assert_answer (w4, "w4");
  g_assert_cmpuint (f->started->len, ==, 3);
  g_assert_true (f->started->pdata[0] == holder);
  g_assert_true (f->started->pdata[1] == w2);
  g_assert_true (f->started->pdata[2] == w4);
  g_assert_cmpuint (f->loop->messages->len, ==, 2);
  assert_arrivals ("h w2 w4");

  /* Removed waiters run normally when added again. */
  g_assert_cmpint (gmulti_engine_add (engine, w1), ==, GMULTI_ENGINE_OK);
  RUN_UNTIL (f, is_done (w1));
  assert_answer (w1, "w1");
  g_assert_false (is_done (w3));
}

/* Raising the limit starts the waiters that now fit, in the very call. */
static void
test_limit_raised (Fixture       *f,
                   gconstpointer  data)
{
  GMultiEngine *engine = f->loop->engine;
  GMultiTransfer *holder, *w1, *w2;

  gmulti_engine_set_max_connections (engine, 1);
  holder = add (f, 'a', "/gate/h");
  RUN_UNTIL (f, has_arrived ("h"));
  w1 = add (f, 'b', "/ok/w1");
  w2 = add (f, 'c', "/ok/w2");
  run_quietly (f);
  g_assert_true (is_waiting (w1) && is_waiting (w2));

  gmulti_engine_set_max_connections (engine, 2);
  g_assert_false (is_waiting (w1));
  g_assert_true (is_waiting (w2));
  RUN_UNTIL (f, is_done (w1));
  gmulti_engine_set_max_connections (engine, 0);
  g_assert_false (is_waiting (w2));
  RUN_UNTIL (f, is_done (w2));
  assert_answer (w1, "w1");
  assert_answer (w2, "w2");
  g_assert_false (is_done (holder));
}

int
main (int    argc,
      char **argv)
{
  int result;

  g_test_init (&argc, &argv, NULL);
  g_mutex_init (&gates.lock);

#define ADD(path, func) \
  g_test_add ("/GMulti/Pool/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("total-limit-closes-idle", test_total_limit_closes_idle);
  ADD ("fifo-across-origins", test_fifo_across_origins);
  ADD ("host-limit-does-not-block", test_host_limit_does_not_block);
  ADD ("freed-slot-wakes-right-waiter", test_freed_slot_wakes_right_waiter);
  ADD ("remove-waiting", test_remove_waiting);
  ADD ("limit-raised", test_limit_raised);
#undef ADD

  result = g_test_run ();
  g_clear_pointer (&gates.open, g_hash_table_unref);
  g_clear_pointer (&gates.arrivals, g_ptr_array_unref);
  g_mutex_clear (&gates.lock);
  return result;
}
