/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "gmulti.h"
#include "engine-loop.h"
#include "test-server.h"

/* The engine's contract, as the multi interface's reference pages state it: socket
 * actions, the timer, the completion queue, removal at any time, and the pool. */

#define BIG_SIZE (256 * 1024)

static GBytes *big_body;

static const guint8 *
big_data (void)
{
  return g_bytes_get_data (big_body, NULL);
}

/* /small -> "hello"; /big -> BIG_SIZE bytes; /slow -> BIG_SIZE bytes trickled in pieces
 * over about a second; /close -> "bye" with Connection: close. */
static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  if (g_str_equal (req->target, "/small"))
    return test_conn_respond (conn, 200, "text/plain", "hello", 5);
  if (g_str_equal (req->target, "/big"))
    return test_conn_respond (conn, 200, "application/octet-stream", big_data (), BIG_SIZE);
  if (g_str_equal (req->target, "/slow"))
    {
      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG_SIZE);
      for (guint i = 0; i < 20; i++)
        {
          gsize piece = BIG_SIZE / 20;
          gsize length = i == 19 ? BIG_SIZE - 19 * piece : piece;

          if (!test_conn_write (conn, big_data () + i * piece, length))
            return FALSE;
          test_conn_sleep (conn, 50);
        }
      return TRUE;
    }
  if (g_str_equal (req->target, "/close"))
    {
      test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye");
      return FALSE;
    }
  return test_conn_respond (conn, 404, "text/plain", "nope", 4);
}

static GMultiTransfer *
new_transfer (TestServer *server,
              const char *path)
{
  g_autofree char *uri = test_server_uri (server, path);

  return gmulti_transfer_new (uri);
}

static void
assert_body (GMultiTransfer *transfer,
             const void     *expected,
             gsize           length)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), expected, length);
}

static void
test_basic_get (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) small = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) big = new_transfer (server, "/big");
  GMultiHeaders *headers;

  g_assert_cmpint (gmulti_engine_add (loop->engine, small), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_add (loop->engine, big), ==, GMULTI_ENGINE_OK);
  g_assert_cmpuint (gmulti_engine_get_n_running (loop->engine), ==, 2);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_cmpuint (loop->running, ==, 0);
  g_assert_cmpuint (loop->messages->len, ==, 2);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);

  g_assert_no_error ((GError *) gmulti_transfer_get_error (small));
  g_assert_cmpuint (gmulti_transfer_get_status (small), ==, 200);
  g_assert_cmpstr (gmulti_transfer_get_reason_phrase (small), ==, "OK");
  headers = gmulti_transfer_get_response_headers (small);
  g_assert_cmpstr (gmulti_headers_get_one (headers, "content-type"), ==, "text/plain");
  assert_body (small, "hello", 5);
  g_assert_cmpint (gmulti_transfer_get_state (small), ==, GMULTI_TRANSFER_DONE);

  g_assert_no_error ((GError *) gmulti_transfer_get_error (big));
  assert_body (big, big_data (), BIG_SIZE);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (big), ==, BIG_SIZE);
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (big), ==, BIG_SIZE);

  gmulti_engine_remove (loop->engine, small);
  gmulti_engine_remove (loop->engine, big);
  g_assert_cmpint (gmulti_transfer_get_state (small), ==, GMULTI_TRANSFER_DONE);
}


typedef struct {
  guint calls;
  guint calls_after_remove;
  gboolean removed;
  GMultiEngine *engine;
  GMultiEngineResult in_callback_result[3];
  GMultiTransfer *other;
} WriteCounter;

static gboolean
counting_write_cb (GMultiTransfer *transfer,
                   const guint8   *data,
                   gsize           length,
                   gpointer        user_data)
{
  WriteCounter *counter = user_data;

  counter->calls++;
  if (counter->removed)
    counter->calls_after_remove++;
  return TRUE;
}

/* Seed 1: removal at any time halts that transfer only. */
static void
test_remove_mid_transfer (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) victim = new_transfer (server, "/slow");
  g_autoptr(GMultiTransfer) other1 = new_transfer (server, "/slow");
  g_autoptr(GMultiTransfer) other2 = new_transfer (server, "/big");
  WriteCounter counter = { 0 };
  gint64 end;

  gmulti_transfer_set_write_func (victim, counting_write_cb, &counter, NULL);
  gmulti_engine_add (loop->engine, victim);
  gmulti_engine_add (loop->engine, other1);
  gmulti_engine_add (loop->engine, other2);

  /* Run until the victim is in the middle of its body. */
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (gmulti_transfer_get_bytes_received (victim) == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (victim), >, 0);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (victim), <, BIG_SIZE);

  {
    guint before = gmulti_engine_get_n_running (loop->engine);

    g_assert_cmpint (gmulti_engine_remove (loop->engine, victim), ==, GMULTI_ENGINE_OK);
    counter.removed = TRUE;
    g_assert_cmpint (gmulti_transfer_get_state (victim), ==, GMULTI_TRANSFER_IDLE);
    g_assert_cmpuint (gmulti_engine_get_n_running (loop->engine), ==, before - 1);
    g_assert_cmpuint (gmulti_engine_get_n_transfers (loop->engine), ==, 2);
  }

  if (!engine_loop_run (loop, 10000))
    g_error ("stuck: other1 state %d rx %" G_GUINT64_FORMAT " other2 state %d rx %" G_GUINT64_FORMAT " watched %u timer %" G_GINT64_FORMAT,
             gmulti_transfer_get_state (other1), gmulti_transfer_get_bytes_received (other1),
             gmulti_transfer_get_state (other2), gmulti_transfer_get_bytes_received (other2),
             g_hash_table_size (loop->watched), loop->timer_deadline);
  g_assert_cmpuint (counter.calls_after_remove, ==, 0);
  g_assert_cmpuint (loop->messages->len, ==, 2);
  for (guint i = 0; i < loop->messages->len; i++)
    g_assert_true (loop->messages->pdata[i] != victim);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (other1));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (other2));
  assert_body (other1, big_data (), BIG_SIZE);
  assert_body (other2, big_data (), BIG_SIZE);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static gboolean
recursive_write_cb (GMultiTransfer *transfer,
                    const guint8   *data,
                    gsize           length,
                    gpointer        user_data)
{
  WriteCounter *counter = user_data;

  if (counter->calls++ == 0)
    {
      counter->in_callback_result[0] = gmulti_engine_remove (counter->engine, transfer);
      counter->in_callback_result[1] = gmulti_engine_add (counter->engine, counter->other);
      counter->in_callback_result[2] = gmulti_engine_socket_action (counter->engine,
                                                                    GMULTI_SOCKET_TIMEOUT, 0,
                                                                    NULL);
    }
  return TRUE;
}

typedef struct {
  GMultiEngine *engine;
  GMultiTransfer *transfer;
  GMultiEngineResult results[4];
  guint calls;
} SocketReentry;

static void
reenter_from_socket_func (gpointer data)
{
  SocketReentry *r = data;

  if (r->calls++ > 0)
    return;
  r->results[0] = gmulti_engine_remove (r->engine, r->transfer);
  r->results[1] = gmulti_engine_socket_action (r->engine, GMULTI_SOCKET_TIMEOUT, 0, NULL);
  r->results[2] = gmulti_engine_perform (r->engine, NULL);
  /* assign is allowed anywhere. */
  r->results[3] = gmulti_engine_assign (r->engine, 0, NULL);
}

/* Seed 2: engine calls from inside callbacks are refused and change nothing. */
static void
test_recursive_calls_refused (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/big");
  g_autoptr(GMultiTransfer) other = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) third = new_transfer (server, "/small");
  WriteCounter counter = { 0 };
  SocketReentry reentry = { 0 };

  counter.engine = loop->engine;
  counter.other = other;
  gmulti_transfer_set_write_func (transfer, recursive_write_cb, &counter, NULL);
  gmulti_engine_add (loop->engine, transfer);
  g_assert_true (engine_loop_run (loop, 10000));

  g_assert_cmpint (counter.in_callback_result[0], ==, GMULTI_ENGINE_RECURSIVE_CALL);
  g_assert_cmpint (counter.in_callback_result[1], ==, GMULTI_ENGINE_RECURSIVE_CALL);
  g_assert_cmpint (counter.in_callback_result[2], ==, GMULTI_ENGINE_RECURSIVE_CALL);
  /* Nothing changed: the transfer completed in full, the other was never added. */
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, BIG_SIZE);
  g_assert_cmpint (gmulti_transfer_get_state (other), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (loop->engine), ==, 1);

  /* The same from inside the socket function (a new connection gets announced). */
  gmulti_engine_close_idle_connections (loop->engine);
  reentry.engine = loop->engine;
  reentry.transfer = third;
  loop->in_socket_func = reenter_from_socket_func;
  loop->in_socket_func_data = &reentry;
  gmulti_engine_add (loop->engine, third);
  g_assert_true (engine_loop_run_until_done (loop, third, 10000));
  g_assert_cmpuint (reentry.calls, >, 0);
  g_assert_cmpint (reentry.results[0], ==, GMULTI_ENGINE_RECURSIVE_CALL);
  g_assert_cmpint (reentry.results[1], ==, GMULTI_ENGINE_RECURSIVE_CALL);
  g_assert_cmpint (reentry.results[2], ==, GMULTI_ENGINE_RECURSIVE_CALL);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (third));
  assert_body (third, "hello", 5);
  loop->in_socket_func = NULL;
}

/* Seed 3: a removed transfer can be performed alone, or added again, and completes. */
static void
test_reuse_removed_transfer (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/slow");
  g_autoptr(GError) error = NULL;
  gint64 end;

  gmulti_engine_add (loop->engine, transfer);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (gmulti_transfer_get_bytes_received (transfer) == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), >, 0);
  gmulti_engine_remove (loop->engine, transfer);

  g_assert_true (gmulti_transfer_perform (transfer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  assert_body (transfer, big_data (), BIG_SIZE);

  /* And once more through the engine after a removal mid-body. */
  gmulti_engine_add (loop->engine, transfer);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (gmulti_transfer_get_bytes_received (transfer) == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  gmulti_engine_remove (loop->engine, transfer);
  g_assert_cmpuint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  assert_body (transfer, big_data (), BIG_SIZE);
}

/* Seed 4: removal closes the connection only when its state requires it. */
static void
test_remove_keeps_clean_connection (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) not_started = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) second = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) mid_body = new_transfer (server, "/slow");
  g_autoptr(GMultiTransfer) third = new_transfer (server, "/small");
  gint64 end;

  gmulti_engine_add (loop->engine, first);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);

  /* Removed before it started: the pooled connection is untouched. */
  gmulti_engine_add (loop->engine, not_started);
  gmulti_engine_remove (loop->engine, not_started);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);

  gmulti_engine_add (loop->engine, second);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (second));
  g_assert_true (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (second)));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 2);

  /* Removed in the middle of its body: that connection must go. */
  gmulti_engine_add (loop->engine, mid_body);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (gmulti_transfer_get_bytes_received (mid_body) == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (mid_body), >, 0);
  gmulti_engine_remove (loop->engine, mid_body);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  g_assert_true (test_server_wait_open (server, 0, 5000));

  gmulti_engine_add (loop->engine, third);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (third));
  g_assert_false (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (third)));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

/* Seed 5: a drop in running is read from the queue; it need not be the socket's. */
static void
test_info_read_tells_which (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) slow = new_transfer (server, "/slow");
  g_autoptr(GMultiTransfer) quick = new_transfer (server, "/small");

  /* The slow one fails by its deadline, which no socket event reports. */
  gmulti_transfer_set_timeout (slow, 200);
  gmulti_engine_add (loop->engine, slow);
  gmulti_engine_add (loop->engine, quick);

  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_cmpuint (loop->messages->len, ==, 2);
  g_assert_true (loop->messages->pdata[0] == quick);
  g_assert_true (loop->messages->pdata[1] == slow);
  g_assert_error ((GError *) gmulti_transfer_get_error (slow), GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (quick));

}

/* Seed 5 again, at the level of the queue: messages stay until read. */
static void
test_info_read_queue (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(GMultiEngine) engine = gmulti_engine_new ();
  g_autoptr(GMultiTransfer) a = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) b = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) c = new_transfer (server, "/small");
  GMultiMessage *msg;
  guint running = 3, queued = 99;
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  gmulti_engine_add (engine, a);
  gmulti_engine_add (engine, b);
  gmulti_engine_add (engine, c);
  while (running > 0 && g_get_monotonic_time () < end)
    {
      gmulti_engine_perform (engine, &running);
      if (running > 0)
        gmulti_engine_poll (engine, 100, NULL);
    }
  g_assert_cmpuint (running, ==, 0);

  /* Removing a transfer drops its unread message. */
  gmulti_engine_remove (engine, b);

  msg = gmulti_engine_info_read (engine, &queued);
  g_assert_nonnull (msg);
  g_assert_cmpuint (queued, ==, 1);
  g_assert_null (msg->error);
  g_assert_true (msg->transfer == a || msg->transfer == c);
  msg = gmulti_engine_info_read (engine, &queued);
  g_assert_nonnull (msg);
  g_assert_cmpuint (queued, ==, 0);
  g_assert_true (msg->transfer == a || msg->transfer == c);
  g_assert_null (gmulti_engine_info_read (engine, &queued));
  g_assert_cmpuint (queued, ==, 0);
}

/* Seed 6: adding does no I/O and asks for the timer with 0, once. */
static void
test_add_does_no_io (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) a = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) b = new_transfer (server, "/small");

  gmulti_engine_add (loop->engine, a);
  gmulti_engine_add (loop->engine, b);
  g_assert_cmpuint (loop->n_socket_calls, ==, 0);
  g_assert_cmpuint (loop->n_timer_calls, ==, 1);
  g_assert_cmpint (g_array_index (loop->timer_values, gint64, 0), ==, 0);
  g_usleep (100 * 1000);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 0);

  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
  /* Nothing is due any more: the timer was deleted. */
  g_assert_cmpint (g_array_index (loop->timer_values, gint64, loop->timer_values->len - 1), ==, -1);
  for (guint i = 1; i < loop->timer_values->len; i++)
    {
      /* Called only on changes (a fired 0 may be reported again, as after any
       * timeout action). */
      gint64 prev = g_array_index (loop->timer_values, gint64, i - 1);
      gint64 cur = g_array_index (loop->timer_values, gint64, i);

      g_assert_true (cur != -1 || prev != -1);
    }
}

/* Six transfers of every kind (small, large, slow, closing, reusing) driven through one
 * entry point only. They complete as with events, and the timer function hears each
 * deadline once (the loop counts a repeated -1, or a repeated 0 with no TIMEOUT in
 * between, as a violation). With @deadlines, each has a total timeout and the slow one
 * a low-speed check re-armed every second; without, the engine mostly has no deadline
 * while the bodies arrive. */
static void
run_driven (EngineLoopDrive drive,
            gboolean        deadlines)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  static const char *const paths[] = { "/small", "/big", "/slow", "/close", "/small", "/big" };
  GMultiTransfer *transfers[G_N_ELEMENTS (paths)];

  loop->drive = drive;
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      transfers[i] = new_transfer (server, paths[i]);
      if (deadlines && g_str_equal (paths[i], "/slow"))
        gmulti_transfer_set_low_speed (transfers[i], 1, 30);
      if (deadlines)
        gmulti_transfer_set_timeout (transfers[i], 20000);
      g_assert_cmpint (gmulti_engine_add (loop->engine, transfers[i]), ==, GMULTI_ENGINE_OK);
    }

  g_assert_true (engine_loop_run (loop, 20000));
  g_assert_cmpuint (loop->messages->len, ==, G_N_ELEMENTS (paths));
  g_assert_cmpint (loop->last_result, ==, GMULTI_ENGINE_OK);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      GMultiTransfer *transfer = transfers[i];

      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
      g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
      if (g_str_equal (paths[i], "/small"))
        assert_body (transfer, "hello", 5);
      else if (g_str_equal (paths[i], "/close"))
        assert_body (transfer, "bye", 3);
      else
        assert_body (transfer, big_data (), BIG_SIZE);
      g_object_unref (transfer);
    }

  g_test_message ("%u timer calls", loop->n_timer_calls);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
  g_assert_cmpint (g_array_index (loop->timer_values, gint64, loop->timer_values->len - 1), ==, -1);
}

/* socket_all alone (curl_multi_socket_all()), never a socket or timeout action. */
static void
test_drive_socket_all (void)
{
  run_driven (ENGINE_LOOP_SOCKET_ALL, FALSE);
  run_driven (ENGINE_LOOP_SOCKET_ALL, TRUE);
}

/* socket_action with the fd and no events, as curl_multi_socket() does: the
 * engine finds out itself what the socket is ready for. */
static void
test_drive_check_fd (void)
{
  run_driven (ENGINE_LOOP_CHECK_FD, FALSE);
  run_driven (ENGINE_LOOP_CHECK_FD, TRUE);
}

/* The timer's contract: whatever the entry point, the timer function is
 * called only when the deadline changes; a timeout action may tell an unchanged
 * deadline again, but never "none" again. */
static void
test_timer_told_once (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) a = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) b = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) slow = new_transfer (server, "/slow");
  GMultiEngine *engine = loop->engine;
  guint running, n_calls;
  gint64 last;

  /* Nothing due: no entry point says so. */
  g_assert_cmpint (gmulti_engine_socket_action (engine, GMULTI_SOCKET_TIMEOUT, 0, &running), ==,
                   GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_socket_all (engine, &running), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_perform (engine, &running), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_socket_action (engine, 12345, 0, &running), ==, GMULTI_ENGINE_OK);
  g_assert_cmpuint (loop->n_timer_calls, ==, 0);

  /* Two adds, a pause and a resume before anything ran: "now", once. */
  gmulti_engine_add (engine, a);
  gmulti_engine_add (engine, b);
  gmulti_transfer_pause (a);
  gmulti_transfer_resume (a);
  g_assert_cmpuint (loop->n_timer_calls, ==, 1);
  g_assert_cmpint (g_array_index (loop->timer_values, gint64, 0), ==, 0);

  /* Removing both: "none", once, and not again from any call after. */
  gmulti_engine_remove (engine, a);
  g_assert_cmpuint (loop->n_timer_calls, ==, 1);
  gmulti_engine_remove (engine, b);
  g_assert_cmpuint (loop->n_timer_calls, ==, 2);
  g_assert_cmpint (g_array_index (loop->timer_values, gint64, 1), ==, -1);
  gmulti_engine_remove (engine, b);
  gmulti_engine_socket_action (engine, GMULTI_SOCKET_TIMEOUT, 0, &running);
  gmulti_engine_socket_all (engine, &running);
  gmulti_engine_perform (engine, &running);
  g_assert_cmpuint (loop->n_timer_calls, ==, 2);

  /* A timeout action that finds the deadline unchanged (the application fired early)
   * tells it again, since the fired timer is gone; socket_all does not. */
  gmulti_transfer_set_timeout (slow, 10000);
  gmulti_engine_add (engine, slow);
  g_assert_cmpuint (loop->n_timer_calls, ==, 3);
  while (gmulti_transfer_get_state (slow) < GMULTI_TRANSFER_RECEIVING)
    engine_loop_iterate (loop, 50);
  n_calls = loop->n_timer_calls;
  last = g_array_index (loop->timer_values, gint64, n_calls - 1);
  g_assert_cmpint (last, >, 0);
  gmulti_engine_socket_all (engine, &running);
  g_assert_cmpuint (loop->n_timer_calls, ==, n_calls);
  gmulti_engine_socket_action (engine, GMULTI_SOCKET_TIMEOUT, 0, &running);
  g_assert_cmpuint (loop->n_timer_calls, ==, n_calls + 1);
  g_assert_cmpint (g_array_index (loop->timer_values, gint64, n_calls), >, 0);
  g_assert_cmpint (g_array_index (loop->timer_values, gint64, n_calls), <=, last);

  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (slow));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

/* An eventfd, or the read end of a pipe where the build has none. */
static gboolean
is_wakeup_fd (int fd)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autofree char *target = g_file_read_link (path, NULL);

  return target != NULL && (strstr (target, "eventfd") != NULL ||
                            g_str_has_prefix (target, "pipe:"));
}

/* Seed 6: the engine's own sockets (the resolver's wake-up fd) are announced. */
static void
test_resolver_socket_announced (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *uri = g_strdup_printf ("http://localhost:%u/small", test_server_get_port (server));
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);

  gmulti_engine_add (loop->engine, transfer);
  {
    gboolean seen = FALSE;
    gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (gmulti_engine_get_n_running (loop->engine) > 0 && g_get_monotonic_time () < end)
      {
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init (&iter, loop->watched);
        while (g_hash_table_iter_next (&iter, &key, NULL))
          if (is_wakeup_fd (GPOINTER_TO_INT (key)))
            seen = TRUE;
        engine_loop_iterate (loop, 20);
      }
    g_assert_true (seen);
  }
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  assert_body (transfer, "hello", 5);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

/* Seed 6: connections that close after every transfer is done are still serviced. */
static void
test_idle_close_serviced (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/small");
  gint64 end;

  test_server_set_io_timeout (server, 300);
  gmulti_engine_add (loop->engine, transfer);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  g_assert_cmpuint (g_hash_table_size (loop->watched), ==, 1);

  /* The server gives up on the idle connection after its I/O timeout. */
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (gmulti_engine_get_n_connections (loop->engine) > 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 50);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  g_assert_cmpuint (g_hash_table_size (loop->watched), ==, 0);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

/* Seed 7: harmless and harmful misuse. */
static void
test_misuse (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(GMultiEngine) engine = gmulti_engine_new ();
  g_autoptr(GMultiEngine) other = gmulti_engine_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/small");

  g_assert_cmpint (gmulti_engine_remove (engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_add (engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_add (engine, transfer), ==, GMULTI_ENGINE_ADDED_ALREADY);
  g_assert_cmpint (gmulti_engine_add (other, transfer), ==, GMULTI_ENGINE_BAD_TRANSFER);
  g_assert_cmpint (gmulti_engine_remove (other, transfer), ==, GMULTI_ENGINE_BAD_TRANSFER);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (engine), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (other), ==, 0);
  g_assert_cmpint (gmulti_engine_add (engine, NULL), ==, GMULTI_ENGINE_BAD_ARGUMENT);
  g_assert_cmpint (gmulti_engine_assign (engine, 12345, NULL), ==, GMULTI_ENGINE_UNKNOWN_SOCKET);
  g_assert_cmpint (gmulti_engine_socket_action (engine, 12345, GMULTI_EVENT_IN, NULL), ==,
                   GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_remove (engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_remove (engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_cmpuint (gmulti_engine_get_n_transfers (engine), ==, 0);
  g_assert_nonnull (gmulti_engine_result_to_string (GMULTI_ENGINE_RECURSIVE_CALL));
}

static void
check_callback_failure (gboolean fail_socket)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  GMultiTransfer *transfers[3];
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      transfers[i] = new_transfer (server, "/slow");
      gmulti_engine_add (loop->engine, transfers[i]);
    }

  /* Let the transfers get going, then make the application's callback fail. */
  while (test_server_get_n_accepted (server) < 3 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  if (fail_socket)
    loop->fail_socket_func = TRUE;
  else
    loop->fail_timer_func = TRUE;

  /* Something that needs the callback: a name lookup announces the resolver's socket,
   * and adding asks for the timer. */
  {
    g_autofree char *uri = g_strdup_printf ("http://localhost:%u/small",
                                            test_server_get_port (server));
    g_autoptr(GMultiTransfer) extra = gmulti_transfer_new (uri);
    GMultiEngineResult result = gmulti_engine_add (loop->engine, extra);

    if (fail_socket)
      g_assert_cmpint (result, ==, GMULTI_ENGINE_OK);
    else
      {
        g_assert_cmpint (result, ==, GMULTI_ENGINE_CALLBACK_FAILED);
        loop->last_result = result;
      }
    while (gmulti_engine_get_n_running (loop->engine) > 0 && g_get_monotonic_time () < end)
      engine_loop_iterate (loop, 20);
    g_assert_error ((GError *) gmulti_transfer_get_error (extra), GMULTI_ERROR,
                    GMULTI_ERROR_ENGINE_STOPPED);
    /* A stopped engine takes no more transfers. */
    gmulti_engine_remove (loop->engine, extra);
    g_assert_cmpint (gmulti_engine_add (loop->engine, extra), ==, GMULTI_ENGINE_CALLBACK_FAILED);
  }

  g_assert_cmpint (loop->last_result, ==, GMULTI_ENGINE_CALLBACK_FAILED);
  g_assert_cmpuint (gmulti_engine_get_n_running (loop->engine), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      g_assert_error ((GError *) gmulti_transfer_get_error (transfers[i]), GMULTI_ERROR,
                      GMULTI_ERROR_ENGINE_STOPPED);
      g_object_unref (transfers[i]);
    }
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
  g_assert_true (test_server_wait_open (server, 0, 5000));
  loop->fail_socket_func = FALSE;
  loop->fail_timer_func = FALSE;
}

/* Seed 7: a failing socket or timer function stops the engine cleanly. */
static void
test_socket_func_failure (void)
{
  check_callback_failure (TRUE);
}

static void
test_timer_func_failure (void)
{
  check_callback_failure (FALSE);
}

static gpointer
wake_later (gpointer data)
{
  g_usleep (100 * 1000);
  gmulti_engine_wakeup (data);
  return NULL;
}

/* perform + poll, for applications without an event loop; wakeup from a thread. */
static void
test_perform_poll_wakeup (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(GMultiEngine) engine = gmulti_engine_new ();
  GMultiTransfer *transfers[8];
  guint running = 1;
  gint64 start, end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GThread *thread;

  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      transfers[i] = new_transfer (server, i % 2 ? "/big" : "/small");
      gmulti_engine_add (engine, transfers[i]);
    }
  while (running > 0 && g_get_monotonic_time () < end)
    {
      g_assert_cmpint (gmulti_engine_perform (engine, &running), ==, GMULTI_ENGINE_OK);
      if (running > 0)
        gmulti_engine_poll (engine, 1000, NULL);
    }
  g_assert_cmpuint (running, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
    {
      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfers[i]));
      if (i % 2)
        assert_body (transfers[i], big_data (), BIG_SIZE);
      else
        assert_body (transfers[i], "hello", 5);
      g_object_unref (transfers[i]);
    }

  /* A poll with nothing to do sleeps until woken from another thread. */
  start = g_get_monotonic_time ();
  thread = g_thread_new ("waker", wake_later, engine);
  g_assert_cmpint (gmulti_engine_poll (engine, 5000, NULL), ==, GMULTI_ENGINE_OK);
  g_thread_join (thread);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);

  /* Several wake-ups collapse into one. */
  gmulti_engine_wakeup (engine);
  gmulti_engine_wakeup (engine);
  g_assert_cmpint (gmulti_engine_poll (engine, 5000, NULL), ==, GMULTI_ENGINE_OK);
  start = g_get_monotonic_time ();
  g_assert_cmpint (gmulti_engine_poll (engine, 100, NULL), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 90 * 1000);
}

static gboolean
pause_write_cb (GMultiTransfer *transfer,
                const guint8   *data,
                gsize           length,
                gpointer        user_data)
{
  gmulti_transfer_pause (transfer);
  return TRUE;
}

/* Pausing on the very last bytes of a body: resume must still complete the transfer
 * without waiting for another socket event. */
static void
test_pause_on_last_bytes (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/small");
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  gmulti_transfer_set_write_func (transfer, pause_write_cb, NULL, NULL);
  gmulti_engine_add (loop->engine, transfer);
  while (!gmulti_transfer_is_paused (transfer) && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_true (gmulti_transfer_is_paused (transfer));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 5);

  gmulti_transfer_set_write_func (transfer, NULL, NULL, NULL);
  gmulti_transfer_resume (transfer);
  g_assert_true (engine_loop_run (loop, 2000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
}

/* Pausing and resuming a transfer that waits for a connection slot keeps it waiting in
 * its place: the pool wakes it when a slot frees, in the order transfers came. */
static void
test_resume_while_waiting (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) slow = new_transfer (server, "/slow");
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) second = new_transfer (server, "/small");
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  gmulti_engine_set_max_connections (loop->engine, 1);
  gmulti_engine_set_max_host_connections (loop->engine, 0);
  gmulti_engine_add (loop->engine, slow);
  gmulti_engine_add (loop->engine, first);
  gmulti_engine_add (loop->engine, second);
  while (gmulti_transfer_get_bytes_received (slow) == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  g_assert_cmpint (gmulti_transfer_get_state (first), ==, GMULTI_TRANSFER_PENDING);
  g_assert_cmpint (gmulti_transfer_get_state (second), ==, GMULTI_TRANSFER_PENDING);

  /* Both from outside the engine, as an application's timer would. */
  gmulti_transfer_pause (second);
  gmulti_transfer_resume (second);
  engine_loop_iterate (loop, 0);
  g_assert_cmpint (gmulti_transfer_get_state (second), ==, GMULTI_TRANSFER_PENDING);

  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_cmpuint (loop->messages->len, ==, 3);
  g_assert_true (loop->messages->pdata[0] == slow);
  g_assert_true (loop->messages->pdata[1] == first);
  g_assert_true (loop->messages->pdata[2] == second);
  assert_body (second, "hello", 5);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  for (guint i = 0; i < loop->messages->len; i++)
    gmulti_engine_remove (loop->engine, loop->messages->pdata[i]);
}

/* Raising a limit lets the transfers waiting for a slot start at once, not one by one
 * as the connections already open finish. */
static void
test_raise_limit_wakes_waiting (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) slow = new_transfer (server, "/slow");
  GMultiTransfer *waiting[3];
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  gmulti_engine_set_max_connections (loop->engine, 1);
  gmulti_engine_set_max_host_connections (loop->engine, 0);
  gmulti_engine_add (loop->engine, slow);
  for (guint i = 0; i < G_N_ELEMENTS (waiting); i++)
    {
      waiting[i] = new_transfer (server, "/small");
      gmulti_engine_add (loop->engine, waiting[i]);
    }
  while (gmulti_transfer_get_bytes_received (slow) == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpint (gmulti_transfer_get_state (waiting[0]), ==, GMULTI_TRANSFER_PENDING);

  /* The slow body takes about a second more; the others need a few milliseconds. */
  gmulti_engine_set_max_connections (loop->engine, 0);
  end = g_get_monotonic_time () + 500 * 1000;
  while (loop->messages->len < G_N_ELEMENTS (waiting) && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (loop->messages->len, ==, G_N_ELEMENTS (waiting));
  g_assert_cmpint (gmulti_transfer_get_state (slow), ==, GMULTI_TRANSFER_RECEIVING);
  for (guint i = 0; i < G_N_ELEMENTS (waiting); i++)
    {
      assert_body (waiting[i], "hello", 5);
      gmulti_engine_remove (loop->engine, waiting[i]);
      g_object_unref (waiting[i]);
    }

  /* The same for the limit per host; idle connections would serve them at once. */
  g_ptr_array_set_size (loop->messages, 0);
  gmulti_engine_close_idle_connections (loop->engine);
  gmulti_engine_set_max_host_connections (loop->engine, 1);
  for (guint i = 0; i < G_N_ELEMENTS (waiting); i++)
    {
      waiting[i] = new_transfer (server, "/small");
      gmulti_engine_add (loop->engine, waiting[i]);
    }
  engine_loop_iterate (loop, 0);
  g_assert_cmpint (gmulti_transfer_get_state (waiting[0]), ==, GMULTI_TRANSFER_PENDING);
  gmulti_engine_set_max_host_connections (loop->engine, 8);
  end = g_get_monotonic_time () + 500 * 1000;
  while (loop->messages->len < G_N_ELEMENTS (waiting) && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (loop->messages->len, ==, G_N_ELEMENTS (waiting));
  g_assert_cmpint (gmulti_transfer_get_state (slow), ==, GMULTI_TRANSFER_RECEIVING);
  for (guint i = 0; i < G_N_ELEMENTS (waiting); i++)
    {
      assert_body (waiting[i], "hello", 5);
      gmulti_engine_remove (loop->engine, waiting[i]);
      g_object_unref (waiting[i]);
    }
  gmulti_engine_remove (loop->engine, slow);
}

/* A transfer woken for a free slot that leaves before it took it (removed, timed out)
 * hands the slot on to the next one waiting. */
static void
test_woken_waiter_leaves (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) slow = new_transfer (server, "/slow");
  g_autoptr(GMultiTransfer) woken = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) next = new_transfer (server, "/small");
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  gmulti_engine_set_max_connections (loop->engine, 1);
  gmulti_engine_set_max_host_connections (loop->engine, 0);
  gmulti_engine_add (loop->engine, slow);
  gmulti_engine_add (loop->engine, woken);
  gmulti_engine_add (loop->engine, next);
  while (gmulti_transfer_get_bytes_received (slow) == 0 && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_cmpint (gmulti_transfer_get_state (woken), ==, GMULTI_TRANSFER_PENDING);

  /* Removing the slow one closes its connection and wakes the first waiter, which
   * is removed in turn before the engine ran again. */
  gmulti_engine_remove (loop->engine, slow);
  gmulti_engine_remove (loop->engine, woken);
  g_assert_true (engine_loop_run_until_done (loop, next, 2000));
  assert_body (next, "hello", 5);
  gmulti_engine_remove (loop->engine, next);
}

/* Under a total limit, a connection going idle serves a transfer of another origin
 * waiting for a slot: it is closed to make room, not kept while the other waits. */
static void
test_idle_makes_room_for_other_origin (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(TestServer) other = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) slow = new_transfer (server, "/slow");
  g_autoptr(GMultiTransfer) waiting = new_transfer (other, "/small");

  gmulti_engine_set_max_connections (loop->engine, 1);
  gmulti_engine_set_max_host_connections (loop->engine, 0);
  gmulti_engine_add (loop->engine, slow);
  gmulti_engine_add (loop->engine, waiting);
  g_assert_true (engine_loop_run_until_done (loop, slow, 5000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (slow));

  g_assert_true (engine_loop_run_until_done (loop, waiting, 2000));
  assert_body (waiting, "hello", 5);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  g_assert_cmpuint (test_server_get_n_accepted (other), ==, 1);
  gmulti_engine_remove (loop->engine, slow);
  gmulti_engine_remove (loop->engine, waiting);
}

/* Transfers waiting for their origin's limit keep their order when a connection of
 * another origin goes idle meanwhile. */
static void
test_waiting_order_kept (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(TestServer) other = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) slow = new_transfer (server, "/slow");
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) second = new_transfer (server, "/small");
  g_autoptr(GMultiTransfer) elsewhere = new_transfer (other, "/small");

  gmulti_engine_set_max_connections (loop->engine, 0);
  gmulti_engine_set_max_host_connections (loop->engine, 1);
  gmulti_engine_add (loop->engine, slow);
  gmulti_engine_add (loop->engine, first);
  gmulti_engine_add (loop->engine, second);
  gmulti_engine_add (loop->engine, elsewhere);
  g_assert_true (engine_loop_run (loop, 10000));

  g_assert_cmpuint (loop->messages->len, ==, 4);
  g_assert_true (loop->messages->pdata[0] == elsewhere);
  g_assert_true (loop->messages->pdata[1] == slow);
  g_assert_true (loop->messages->pdata[2] == first);
  g_assert_true (loop->messages->pdata[3] == second);
  for (guint i = 0; i < loop->messages->len; i++)
    gmulti_engine_remove (loop->engine, loop->messages->pdata[i]);
}

static gboolean
echo_handler (TestServer  *server,
              TestConn    *conn,
              TestRequest *req,
              gpointer     user_data)
{
  if (g_str_equal (req->target, "/redirect"))
    {
      test_conn_write_str (conn, "HTTP/1.1 307 Temporary Redirect\r\nLocation: /echo\r\n"
                                 "Content-Length: 0\r\n\r\n");
      return TRUE;
    }
  return test_conn_respond (conn, 200, "application/octet-stream",
                            g_bytes_get_data (req->body, NULL), g_bytes_get_size (req->body));
}

/* A request body from a GInputStream: sent with its length, or chunked, and sent again
 * from the start after a 307 when the stream can seek. */
static void
test_body_stream (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, echo_handler, NULL);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) sized = new_transfer (server, "/redirect");
  g_autoptr(GMultiTransfer) chunked = new_transfer (server, "/echo");
  g_autoptr(GInputStream) stream1 = g_memory_input_stream_new_from_bytes (big_body);
  g_autoptr(GInputStream) stream2 = g_memory_input_stream_new_from_bytes (big_body);
  g_autoptr(TestRequest) last = NULL;

  gmulti_transfer_set_method (sized, "POST", NULL);
  gmulti_transfer_set_follow_redirects (sized, TRUE);
  gmulti_transfer_set_request_body_stream (sized, stream1, BIG_SIZE);
  g_assert_cmpint (gmulti_transfer_get_upload_size (sized), ==, BIG_SIZE);
  gmulti_engine_add (loop->engine, sized);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (sized));
  g_assert_true (g_str_has_suffix (gmulti_transfer_get_effective_uri (sized), "/echo"));
  assert_body (sized, big_data (), BIG_SIZE);

  gmulti_transfer_set_method (chunked, "PUT", NULL);
  gmulti_transfer_set_request_body_stream (chunked, stream2, -1);
  gmulti_engine_add (loop->engine, chunked);
  g_assert_true (engine_loop_run (loop, 10000));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (chunked));
  assert_body (chunked, big_data (), BIG_SIZE);
  last = test_server_get_last_request (server);
  g_assert_true (last->body_was_chunked);
}

/* The timeout query agrees with the timer function. */
static void
test_timeout_query (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr(GMultiEngine) engine = gmulti_engine_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/small");
  gint64 ms = 42;

  g_assert_cmpint (gmulti_engine_timeout (engine, &ms), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (ms, ==, -1);
  gmulti_engine_add (engine, transfer);
  g_assert_cmpint (gmulti_engine_timeout (engine, &ms), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (ms, ==, 0);
  g_assert_cmpint (gmulti_engine_timeout (engine, NULL), ==, GMULTI_ENGINE_BAD_ARGUMENT);
}

/* What a language binding does with the engine its socket and timer functions are
 * given: a reference for the duration of the call, or one kept for later. */
typedef struct {
  guint socket_calls;
  guint timer_calls;
  guint destroyed;
  GMultiEngine *kept;        /* a reference taken during the final unref */
  gboolean keep;
} BindingLike;

static gboolean
binding_socket_cb (GMultiEngine *engine,
                   int           fd,
                   GMultiPoll    what,
                   gpointer      socket_data,
                   gpointer      user_data)
{
  BindingLike *state = user_data;

  state->socket_calls++;
  if (state->keep && what == GMULTI_POLL_REMOVE && state->kept == NULL)
    state->kept = gmulti_engine_ref (engine);
  gmulti_engine_unref (gmulti_engine_ref (engine));
  return TRUE;
}

static gboolean
binding_timer_cb (GMultiEngine *engine,
                  gint64        timeout_ms,
                  gpointer      user_data)
{
  BindingLike *state = user_data;

  state->timer_calls++;
  gmulti_engine_unref (gmulti_engine_ref (engine));
  return TRUE;
}

static void
binding_destroyed_cb (gpointer user_data)
{
  ((BindingLike *) user_data)->destroyed++;
}

/* The last unref tells the functions about the sockets and the timer it drops; a
 * reference taken and dropped there must not free the engine a second time, and one
 * kept frees it later. */
static void
test_ref_in_final_unref (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);

  for (guint keep = 0; keep < 2; keep++)
    {
      g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/slow");
      g_autoptr(GMultiTransfer) late = new_transfer (server, "/small");
      GMultiEngine *engine = gmulti_engine_new ();
      BindingLike state = { .keep = keep };
      guint running = 0;

      gmulti_engine_set_socket_func (engine, binding_socket_cb, &state,
                                     binding_destroyed_cb);
      gmulti_engine_set_timer_func (engine, binding_timer_cb, &state,
                                    binding_destroyed_cb);
      g_assert_cmpint (gmulti_engine_add (engine, transfer), ==, GMULTI_ENGINE_OK);
      g_assert_cmpint (gmulti_engine_socket_action (engine, GMULTI_SOCKET_TIMEOUT, 0,
                                                    &running), ==, GMULTI_ENGINE_OK);
      g_assert_cmpuint (running, ==, 1);
      g_assert_cmpuint (state.socket_calls, >=, 1);

      state.socket_calls = state.timer_calls = 0;
      gmulti_engine_unref (engine);
      g_assert_cmpuint (state.socket_calls, ==, 1);
      g_assert_cmpuint (state.timer_calls, ==, 1);

      if (keep)
        {
          /* Empty and refusing calls until its last reference goes. */
          g_assert_nonnull (state.kept);
          g_assert_cmpuint (state.destroyed, ==, 0);
          g_assert_cmpint (gmulti_engine_add (state.kept, late), ==,
                           GMULTI_ENGINE_RECURSIVE_CALL);
          g_assert_cmpuint (gmulti_engine_get_n_transfers (state.kept), ==, 0);
          gmulti_engine_unref (state.kept);
          g_assert_cmpuint (state.socket_calls, ==, 1);
          g_assert_cmpuint (state.timer_calls, ==, 1);
        }
      g_assert_cmpuint (state.destroyed, ==, 2);
    }
}

int
main (int    argc,
      char **argv)
{
  guint8 *data;

  g_test_init (&argc, &argv, NULL);

  data = g_malloc (BIG_SIZE);
  for (guint i = 0; i < BIG_SIZE; i++)
    data[i] = (guint8) (i * 7 + i / 251);
  big_body = g_bytes_new_take (data, BIG_SIZE);

  g_test_add_func ("/GMulti/Engine/basic-get", test_basic_get);
  g_test_add_func ("/GMulti/Engine/remove-mid-transfer", test_remove_mid_transfer);
  g_test_add_func ("/GMulti/Engine/recursive-calls-refused", test_recursive_calls_refused);
  g_test_add_func ("/GMulti/Engine/reuse-removed-transfer", test_reuse_removed_transfer);
  g_test_add_func ("/GMulti/Engine/remove-keeps-clean-connection", test_remove_keeps_clean_connection);
  g_test_add_func ("/GMulti/Engine/info-read-tells-which", test_info_read_tells_which);
  g_test_add_func ("/GMulti/Engine/info-read-queue", test_info_read_queue);
  g_test_add_func ("/GMulti/Engine/add-does-no-io", test_add_does_no_io);
  g_test_add_func ("/GMulti/Engine/timer-told-once", test_timer_told_once);
  g_test_add_func ("/GMulti/Engine/drive/socket-all", test_drive_socket_all);
  g_test_add_func ("/GMulti/Engine/drive/check-fd", test_drive_check_fd);
  g_test_add_func ("/GMulti/Engine/resolver-socket-announced", test_resolver_socket_announced);
  g_test_add_func ("/GMulti/Engine/idle-close-serviced", test_idle_close_serviced);
  g_test_add_func ("/GMulti/Engine/misuse", test_misuse);
  g_test_add_func ("/GMulti/Engine/socket-func-failure", test_socket_func_failure);
  g_test_add_func ("/GMulti/Engine/timer-func-failure", test_timer_func_failure);
  g_test_add_func ("/GMulti/Engine/perform-poll-wakeup", test_perform_poll_wakeup);
  g_test_add_func ("/GMulti/Engine/timeout-query", test_timeout_query);
  g_test_add_func ("/GMulti/Engine/pause-on-last-bytes", test_pause_on_last_bytes);
  g_test_add_func ("/GMulti/Engine/body-stream", test_body_stream);
  g_test_add_func ("/GMulti/Engine/ref-in-final-unref", test_ref_in_final_unref);
  g_test_add_func ("/GMulti/Engine/resume-while-waiting", test_resume_while_waiting);
  g_test_add_func ("/GMulti/Engine/raise-limit-wakes-waiting", test_raise_limit_wakes_waiting);
  g_test_add_func ("/GMulti/Engine/woken-waiter-leaves", test_woken_waiter_leaves);
  g_test_add_func ("/GMulti/Engine/idle-makes-room-for-other-origin",
                   test_idle_makes_room_for_other_origin);
  g_test_add_func ("/GMulti/Engine/waiting-order-kept", test_waiting_order_kept);

  return g_test_run ();
}
