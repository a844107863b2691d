/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gmulti.h"
#include "gmulti-session-private.h"
#include "gmulti-session-source-private.h"
#include "gmulti-transfer-private.h"
#include "test-fds.h"
#include "test-server.h"
#include "test-wait.h"

/* Sizes served by the test server. */
#define BIG_SIZE (4 * 1024 * 1024)
#define SLOW_SIZE (8 * 1024 * 1024)
#define SLOW_CHUNK (32 * 1024)
#define TRUNCATED_ANNOUNCED 100000
#define TRUNCATED_SENT 50000

/* Every wait of the tests is bounded by this unless it says otherwise. */
#define WAIT_MS 10000

/* Body bytes depend on a seed, so every transfer's body is checked byte for byte. */
static GBytes *
make_body (guint seed,
           gsize length)
{
  guint8 *data = g_malloc (MAX (length, 1));

  for (gsize i = 0; i < length; i++)
    data[i] = (guint8) ((i * 131 + seed * 7 + (i >> 9)) & 0xff);
  return g_bytes_new_take (data, length);
}

static gsize
small_length (guint n)
{
  return 1000 + (n * 7919u) % 60000;
}

static GBytes *
small_body (guint n)
{
  return make_body (n, small_length (n));
}

static GBytes *
big_body (void)
{
  return make_body (4242, BIG_SIZE);
}

static void
assert_bytes_equal (GBytes       *actual,
                    GBytes       *expected)
{
  gsize actual_size, expected_size;
  const guint8 *a = g_bytes_get_data (actual, &actual_size);
  const guint8 *e = g_bytes_get_data (expected, &expected_size);

  g_assert_cmpuint (actual_size, ==, expected_size);
  g_assert_true (actual_size == 0 || memcmp (a, e, actual_size) == 0);
}

/* The server */

typedef struct
{
  gint client_closed;        /* atomic: a /slow or /hang response saw the client leave */
  gint slow_started;         /* atomic: /slow responses that started */
} ServerState;

static ServerState server_state;

static gboolean
respond_bytes (TestConn *conn,
               GBytes   *body)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (body, &size);
  gboolean ok = test_conn_respond (conn, 200, "application/octet-stream", data, size);

  g_bytes_unref (body);
  return ok;
}

static gboolean
serve_slow (TestConn *conn)
{
  g_autofree guint8 *chunk = g_malloc0 (SLOW_CHUNK);

  g_atomic_int_inc (&server_state.slow_started);
  if (!test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
                         (guint) SLOW_SIZE))
    goto closed;

  for (gsize sent = 0; sent < SLOW_SIZE; sent += SLOW_CHUNK)
    {
      if (!test_conn_write (conn, chunk, SLOW_CHUNK))
        goto closed;
      test_conn_sleep (conn, 20);
    }
  return TRUE;

closed:
  g_atomic_int_set (&server_state.client_closed, 1);
  return FALSE;
}

static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  guint n;

  if (sscanf (req->target, "/small/%u", &n) == 1)
    return respond_bytes (conn, small_body (n));

  if (strcmp (req->target, "/big") == 0)
    return respond_bytes (conn, big_body ());

  if (strcmp (req->target, "/slow") == 0)
    return serve_slow (conn);

  if (strcmp (req->target, "/redirect") == 0)
    return test_conn_printf (conn, "HTTP/1.1 302 Found\r\nLocation: /small/3\r\n"
                             "Content-Length: 0\r\n\r\n");

  if (strcmp (req->target, "/hang") == 0)
    {
      if (test_conn_wait_client_close (conn, 5000))
        g_atomic_int_set (&server_state.client_closed, 1);
      return FALSE;
    }

  if (strcmp (req->target, "/truncated") == 0)
    {
      g_autofree guint8 *half = g_malloc0 (TRUNCATED_SENT);

      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
                        (guint) TRUNCATED_ANNOUNCED);
      test_conn_write (conn, half, TRUNCATED_SENT);
      test_conn_close (conn);
      return FALSE;
    }

  return test_conn_respond (conn, 404, "text/plain", "not here", 8);
}

static TestServer *
start_server (void)
{
  memset (&server_state, 0, sizeof server_state);
  return test_server_new (TEST_SERVER_IPV4, handler, NULL);
}

static char *
uri_small (TestServer *server,
           guint       n)
{
  g_autofree char *path = g_strdup_printf ("/small/%u", n);

  return test_server_uri (server, path);
}

/* Signal recording */

typedef struct
{
  GMultiTransfer *transfer;
  guint index;
  guint n_headers;
  guint n_data;
  guint n_progress;
  guint n_finished;
  guint n_notify;
  guint status_at_headers;
  GByteArray *received;
  GError *error;
  gboolean removed;          /* set when the test removed it */
  guint after_removal;       /* signals seen after that: must stay 0 */
} Fetch;

static void
fetch_headers_cb (GMultiTransfer *transfer,
                  guint           status,
                  GMultiHeaders  *headers,
                  Fetch          *fetch)
{
  fetch->n_headers++;
  fetch->status_at_headers = status;
  if (fetch->removed)
    fetch->after_removal++;
}

static void
fetch_data_cb (GMultiTransfer *transfer,
               GBytes         *chunk,
               Fetch          *fetch)
{
  fetch->n_data++;
  g_byte_array_append (fetch->received, g_bytes_get_data (chunk, NULL),
                       g_bytes_get_size (chunk));
  if (fetch->removed)
    fetch->after_removal++;
}

static void
fetch_progress_cb (GMultiTransfer *transfer,
                   Fetch          *fetch)
{
  fetch->n_progress++;
  if (fetch->removed)
    fetch->after_removal++;
}

static void
fetch_finished_cb (GMultiTransfer *transfer,
                   const GError   *error,
                   Fetch          *fetch)
{
  fetch->n_finished++;
  g_clear_error (&fetch->error);
  if (error != NULL)
    fetch->error = g_error_copy (error);
  if (fetch->removed)
    fetch->after_removal++;
}

static void
fetch_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 Fetch      *fetch)
{
  fetch->n_notify++;
  if (fetch->removed)
    fetch->after_removal++;
}

static Fetch *
fetch_new (const char *uri,
           guint       index)
{
  Fetch *fetch = g_new0 (Fetch, 1);

  fetch->transfer = gmulti_transfer_new (uri);
  fetch->index = index;
  fetch->received = g_byte_array_new ();
  g_signal_connect (fetch->transfer, "response-headers", G_CALLBACK (fetch_headers_cb), fetch);
  g_signal_connect (fetch->transfer, "data", G_CALLBACK (fetch_data_cb), fetch);
  g_signal_connect (fetch->transfer, "progress", G_CALLBACK (fetch_progress_cb), fetch);
  g_signal_connect (fetch->transfer, "finished", G_CALLBACK (fetch_finished_cb), fetch);
  g_signal_connect (fetch->transfer, "notify", G_CALLBACK (fetch_notify_cb), fetch);
  return fetch;
}

static void
fetch_reset (Fetch *fetch)
{
  fetch->n_headers = fetch->n_data = fetch->n_progress = fetch->n_finished = 0;
  fetch->n_notify = 0;
  fetch->removed = FALSE;
  fetch->after_removal = 0;
  g_byte_array_set_size (fetch->received, 0);
  g_clear_error (&fetch->error);
}

static void
fetch_free (Fetch *fetch)
{
  g_signal_handlers_disconnect_by_data (fetch->transfer, fetch);
  g_assert_finalize_object (fetch->transfer);
  g_byte_array_unref (fetch->received);
  g_clear_error (&fetch->error);
  g_free (fetch);
}

static void
assert_fetch_body (Fetch  *fetch,
                   GBytes *expected)
{
  g_autoptr(GBytes) received = g_bytes_new (fetch->received->data, fetch->received->len);
  g_autoptr(GBytes) collected = gmulti_transfer_get_response_body (fetch->transfer);

  assert_bytes_equal (received, expected);
  assert_bytes_equal (collected, expected);
}

typedef struct
{
  guint n_finished;
  guint n_errors;
  GPtrArray *order;          /* transfers in the order the session reported them */
} SessionLog;

static void
session_finished_cb (GMultiSession  *session,
                     GMultiTransfer *transfer,
                     const GError   *error,
                     SessionLog     *log)
{
  log->n_finished++;
  if (error != NULL)
    log->n_errors++;
  if (log->order != NULL)
    g_ptr_array_add (log->order, transfer);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *counter)
{
  (*counter)++;
}

/* Tests */

static void
test_properties (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = uri_small (server, 1);
  g_autoptr(TestRequest) req = NULL;
  Fetch *fetch;
  guint n_notify = 0;

  /* No thread-default context is pushed here: the global default one. */
  g_assert_true (gmulti_session_get_context (session) == g_main_context_default ());
  g_assert_cmpuint (gmulti_session_get_max_connections (session), ==, 256);
  g_assert_cmpuint (gmulti_session_get_max_host_connections (session), ==, 6);
  g_assert_cmpuint (gmulti_session_get_max_idle_connections (session), ==, 0);
  g_assert_cmpuint (gmulti_session_get_timeout (session), ==, 0);
  g_assert_cmpuint (gmulti_session_get_connect_timeout (session), ==, 30000);
  g_assert_cmpstr (gmulti_session_get_user_agent (session), ==, "gmulti/" GMULTI_VERSION_S);

  g_signal_connect (session, "notify", G_CALLBACK (count_notify_cb), &n_notify);
  g_object_set (session, "max-connections", 8, "max-host-connections", 4,
                "max-idle-connections", 2, "timeout", 5000, "connect-timeout", 1000, NULL);
  g_assert_cmpuint (n_notify, ==, 5);
  /* Same values again: no notification. */
  g_object_set (session, "max-connections", 8, "max-host-connections", 4,
                "max-idle-connections", 2, "timeout", 5000, "connect-timeout", 1000, NULL);
  g_assert_cmpuint (n_notify, ==, 5);
  g_assert_cmpuint (gmulti_session_get_max_connections (session), ==, 8);
  g_assert_cmpuint (gmulti_session_get_max_host_connections (session), ==, 4);
  g_assert_cmpuint (gmulti_session_get_max_idle_connections (session), ==, 2);

  /* The default User-Agent goes out with requests that set none. */
  fetch = fetch_new (uri, 0);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (test_request_get_header (req, "User-Agent"), ==, "gmulti/" GMULTI_VERSION_S);
  g_clear_pointer (&req, test_request_free);

  g_assert_true (gmulti_session_set_user_agent (session, "custom/2", NULL));
  g_assert_cmpuint (n_notify, ==, 6);
  fetch_reset (fetch);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (test_request_get_header (req, "User-Agent"), ==, "custom/2");
  g_clear_pointer (&req, test_request_free);

  g_assert_true (gmulti_session_set_user_agent (session, NULL, NULL));
  g_assert_null (gmulti_session_get_user_agent (session));
  fetch_reset (fetch);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  req = test_server_get_last_request (server);
  g_assert_null (test_request_get_header (req, "User-Agent"));

  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

static void
test_concurrent (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  SessionLog log = { 0 };
  Fetch *fetches[50];

  g_signal_connect (session, "transfer-finished", G_CALLBACK (session_finished_cb), &log);

  for (guint i = 0; i < G_N_ELEMENTS (fetches); i++)
    {
      g_autofree char *uri = uri_small (server, i);

      fetches[i] = fetch_new (uri, i);
      g_assert_true (gmulti_session_add (session, fetches[i]->transfer, NULL));
    }
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, G_N_ELEMENTS (fetches));

  RUN_UNTIL (log.n_finished == G_N_ELEMENTS (fetches), WAIT_MS);
  g_assert_cmpuint (log.n_errors, ==, 0);
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (fetches); i++)
    {
      g_autoptr(GBytes) expected = small_body (i);
      Fetch *fetch = fetches[i];

      g_assert_no_error (fetch->error);
      g_assert_cmpuint (fetch->n_finished, ==, 1);
      g_assert_cmpuint (fetch->n_headers, ==, 1);
      g_assert_cmpuint (fetch->status_at_headers, ==, 200);
      g_assert_cmpuint (fetch->n_data, >=, 1);
      g_assert_cmpuint (fetch->n_progress, >=, 1);
      g_assert_cmpint (gmulti_transfer_get_state (fetch->transfer), ==, GMULTI_TRANSFER_DONE);
      assert_fetch_body (fetch, expected);
    }

  /* The pool kept connections, and at most one per transfer was opened. */
  g_assert_cmpuint (test_server_get_n_accepted (server), <=, G_N_ELEMENTS (fetches));
  g_assert_cmpuint (test_server_get_n_requests (server), ==, G_N_ELEMENTS (fetches));

  for (guint i = 0; i < G_N_ELEMENTS (fetches); i++)
    fetch_free (fetches[i]);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* A default session opens at most six connections to one origin, however many
 * transfers go there at once, and every transfer completes over them. */
static void
test_default_host_limit (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  SessionLog log = { 0 };
  Fetch *fetches[50];

  g_signal_connect (session, "transfer-finished", G_CALLBACK (session_finished_cb), &log);
  for (guint i = 0; i < G_N_ELEMENTS (fetches); i++)
    {
      g_autofree char *uri = uri_small (server, i);

      fetches[i] = fetch_new (uri, i);
      g_assert_true (gmulti_session_add (session, fetches[i]->transfer, NULL));
    }

  RUN_UNTIL (log.n_finished == G_N_ELEMENTS (fetches), WAIT_MS);
  g_assert_cmpuint (log.n_errors, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (fetches); i++)
    {
      g_autoptr(GBytes) expected = small_body (i);

      g_assert_no_error (fetches[i]->error);
      assert_fetch_body (fetches[i], expected);
      fetch_free (fetches[i]);
    }
  g_assert_cmpuint (test_server_get_n_accepted (server), <=, 6);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, G_N_ELEMENTS (fetches));

  test_drain_context ();
  g_assert_finalize_object (session);
}

typedef struct
{
  gboolean done;
  GBytes *body;
  GError *error;
} SendResult;

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  SendResult *res = user_data;

  g_assert_false (res->done);
  res->body = gmulti_session_send_and_read_finish (GMULTI_SESSION (source), result, &res->error);
  g_assert_true ((res->body == NULL) != (res->error == NULL));
  res->done = TRUE;
}

static void
send_result_clear (SendResult *res)
{
  g_clear_pointer (&res->body, g_bytes_unref);
  g_clear_error (&res->error);
  res->done = FALSE;
}

static void
test_send_async (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = uri_small (server, 7);
  g_autofree char *missing = test_server_uri (server, "/missing");
  g_autoptr(GBytes) expected = small_body (7);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);
  SendResult res = { 0 };

  gmulti_session_send_and_read_async (session, transfer, G_PRIORITY_DEFAULT, NULL, send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  assert_bytes_equal (res.body, expected);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  send_result_clear (&res);

  /* An HTTP error status is an answer, not an error. */
  g_assert_true (gmulti_transfer_set_uri (transfer, missing, NULL));
  gmulti_session_send_and_read_async (session, transfer, G_PRIORITY_DEFAULT, NULL, send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 404);
  g_assert_cmpmem (g_bytes_get_data (res.body, NULL), g_bytes_get_size (res.body),
                   "not here", 8);
  send_result_clear (&res);

  /* Already cancelled: nothing is sent. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    guint n_requests = test_server_get_n_requests (server);

    g_cancellable_cancel (cancellable);
    gmulti_session_send_and_read_async (session, transfer, G_PRIORITY_DEFAULT, cancellable, send_cb,
                               &res);
    RUN_UNTIL (res.done, WAIT_MS);
    g_assert_error (res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);
    g_assert_cmpuint (test_server_get_n_requests (server), ==, n_requests);
    send_result_clear (&res);
  }

  test_drain_context ();
  g_assert_finalize_object (transfer);
  g_assert_finalize_object (session);
}

typedef struct
{
  GCancellable *cancellable;
  guint n_data;
} CancelOnData;

static void
cancel_on_data_cb (GMultiTransfer *transfer,
                   GBytes         *chunk,
                   CancelOnData   *state)
{
  if (state->n_data++ == 0)
    g_cancellable_cancel (state->cancellable);
}

static void
test_send_cancel (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/slow");
  g_autofree char *again = uri_small (server, 3);
  g_autoptr(GBytes) expected = small_body (3);
  CancelOnData state = { g_cancellable_new (), 0 };
  Fetch *fetch = fetch_new (uri, 0);
  SendResult res = { 0 };
  gulong handler;

  handler = g_signal_connect (fetch->transfer, "data", G_CALLBACK (cancel_on_data_cb), &state);
  gmulti_session_send_and_read_async (session, fetch->transfer, G_PRIORITY_DEFAULT, state.cancellable,
                             send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  send_result_clear (&res);

  /* Cancelled mid-body: removed, so no "finished", and the half-read response left the
   * connection unusable, so it was closed. */
  g_assert_cmpuint (state.n_data, >=, 1);
  g_assert_cmpuint (fetch->n_finished, ==, 0);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (fetch->transfer), <, SLOW_SIZE);
  g_assert_cmpint (gmulti_transfer_get_state (fetch->transfer), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);
  RUN_UNTIL (g_atomic_int_get (&server_state.client_closed), WAIT_MS);

  /* The transfer can run again, and signals flow again. */
  g_signal_handler_disconnect (fetch->transfer, handler);
  fetch_reset (fetch);
  g_assert_true (gmulti_transfer_set_uri (fetch->transfer, again, NULL));
  gmulti_session_send_and_read_async (session, fetch->transfer, G_PRIORITY_DEFAULT, NULL, send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  assert_bytes_equal (res.body, expected);
  g_assert_cmpuint (fetch->n_finished, ==, 1);
  send_result_clear (&res);

  g_object_unref (state.cancellable);
  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

typedef struct
{
  GMultiSession *session;
  Fetch *victim;             /* removes itself and @other from its first "data" */
  Fetch *other;
  SessionLog *log;
} RemoveInData;

static void
remove_in_data_cb (GMultiTransfer *transfer,
                   GBytes         *chunk,
                   RemoveInData   *state)
{
  if (state->victim->removed)
    return;

  gmulti_session_remove (state->session, state->victim->transfer);
  state->victim->removed = TRUE;
  gmulti_session_remove (state->session, state->other->transfer);
  state->other->removed = TRUE;
  /* Removing twice is harmless. */
  gmulti_session_remove (state->session, state->victim->transfer);
}

static void
test_remove_in_data (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *big = test_server_uri (server, "/big");
  g_autofree char *slow = test_server_uri (server, "/slow");
  g_autoptr(GBytes) expected_big = big_body ();
  SessionLog log = { 0 };
  RemoveInData state;
  Fetch *victim, *other, *smalls[8];

  log.order = g_ptr_array_new ();
  g_signal_connect (session, "transfer-finished", G_CALLBACK (session_finished_cb), &log);

  victim = fetch_new (big, 100);
  /* Slow, so that it is still running when the victim removes it. */
  other = fetch_new (slow, 101);
  state = (RemoveInData) { session, victim, other, &log };
  g_signal_connect (victim->transfer, "data", G_CALLBACK (remove_in_data_cb), &state);

  g_assert_true (gmulti_session_add (session, other->transfer, NULL));
  g_assert_true (gmulti_session_add (session, victim->transfer, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (smalls); i++)
    {
      g_autofree char *uri = uri_small (server, i + 10);

      smalls[i] = fetch_new (uri, i);
      g_assert_true (gmulti_session_add (session, smalls[i]->transfer, NULL));
    }

  RUN_UNTIL (log.n_finished == G_N_ELEMENTS (smalls) && victim->removed, WAIT_MS);
  /* Let anything late show up. */
  {
    gboolean done = FALSE;

    g_timeout_add (200, test_set_flag_cb, &done);
    RUN_UNTIL (done, WAIT_MS);
  }

  g_assert_cmpuint (log.n_errors, ==, 0);
  for (guint i = 0; i < log.order->len; i++)
    {
      g_assert_true (g_ptr_array_index (log.order, i) != victim->transfer);
      g_assert_true (g_ptr_array_index (log.order, i) != other->transfer);
    }
  g_assert_cmpuint (victim->after_removal, ==, 0);
  g_assert_cmpuint (other->after_removal, ==, 0);
  g_assert_cmpuint (victim->n_finished, ==, 0);
  g_assert_cmpuint (other->n_finished, ==, 0);
  g_assert_cmpuint (victim->n_data, ==, 1);
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);
  /* The slow one was cut off mid-body: its connection was closed. */
  RUN_UNTIL (g_atomic_int_get (&server_state.client_closed), WAIT_MS);

  for (guint i = 0; i < G_N_ELEMENTS (smalls); i++)
    {
      g_autoptr(GBytes) expected = small_body (i + 10);

      g_assert_cmpuint (smalls[i]->n_finished, ==, 1);
      assert_fetch_body (smalls[i], expected);
    }

  /* Both removed transfers can run again from the start. */
  g_signal_handlers_disconnect_by_func (victim->transfer, remove_in_data_cb, &state);
  fetch_reset (victim);
  fetch_reset (other);
  g_assert_true (gmulti_transfer_set_uri (other->transfer, big, NULL));
  g_assert_true (gmulti_session_add (session, victim->transfer, NULL));
  g_assert_true (gmulti_session_add (session, other->transfer, NULL));
  RUN_UNTIL (victim->n_finished == 1 && other->n_finished == 1, WAIT_MS);
  g_assert_no_error (victim->error);
  g_assert_no_error (other->error);
  assert_fetch_body (victim, expected_big);
  assert_fetch_body (other, expected_big);

  fetch_free (victim);
  fetch_free (other);
  for (guint i = 0; i < G_N_ELEMENTS (smalls); i++)
    fetch_free (smalls[i]);
  g_ptr_array_unref (log.order);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* A deferred add cancelled by a remove, and a remove followed by an add, both from a
 * "data" handler (inside the engine). */
typedef struct
{
  GMultiSession *session;
  Fetch *restarted;
  GMultiTransfer *never;
  guint n_restarts;
  guint never_signals;
} DeferState;

static void
restart_in_data_cb (GMultiTransfer *transfer,
                    GBytes         *chunk,
                    DeferState     *state)
{
  g_autoptr(GError) error = NULL;

  if (state->n_restarts > 0)
    return;
  state->n_restarts++;

  /* Deferred add, then cancelled by the remove: it never reaches the server. */
  g_assert_true (gmulti_session_add (state->session, state->never, &error));
  g_assert_no_error (error);
  g_assert_false (gmulti_session_add (state->session, state->never, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_BUSY);
  g_clear_error (&error);
  gmulti_session_remove (state->session, state->never);

  /* Remove and add again at once: the transfer starts over. */
  gmulti_session_remove (state->session, transfer);
  g_byte_array_set_size (state->restarted->received, 0);
  g_assert_true (gmulti_session_add (state->session, transfer, &error));
  g_assert_no_error (error);
}

static void
count_never_cb (GObject  *object,
                gpointer  data,
                DeferState *state)
{
  state->never_signals++;
}

static void
test_deferred_ops (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *big = test_server_uri (server, "/big");
  g_autofree char *never_uri = uri_small (server, 77);
  g_autoptr(GBytes) expected = big_body ();
  g_autoptr(TestRequest) req = NULL;
  DeferState state = { 0 };

  state.session = session;
  state.restarted = fetch_new (big, 0);
  state.never = gmulti_transfer_new (never_uri);
  g_signal_connect (state.never, "notify", G_CALLBACK (count_never_cb), &state);
  g_signal_connect (state.never, "finished", G_CALLBACK (count_never_cb), &state);
  g_signal_connect (state.restarted->transfer, "data", G_CALLBACK (restart_in_data_cb), &state);

  g_assert_true (gmulti_session_add (session, state.restarted->transfer, NULL));
  RUN_UNTIL (state.restarted->n_finished == 1, WAIT_MS);
  g_assert_no_error (state.restarted->error);
  g_assert_cmpuint (state.n_restarts, ==, 1);
  assert_fetch_body (state.restarted, expected);

  /* /small/77 was never requested, and the transfer never said a word. */
  for (guint i = 0; i < test_server_get_n_requests (server); i++)
    {
      req = test_server_get_request (server, i);
      g_assert_cmpstr (req->target, ==, "/big");
      g_clear_pointer (&req, test_request_free);
    }
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 2);
  g_assert_cmpuint (state.never_signals, ==, 0);
  g_assert_cmpint (gmulti_transfer_get_state (state.never), ==, GMULTI_TRANSFER_IDLE);

  /* It can be added normally now. */
  g_assert_true (gmulti_session_add (session, state.never, NULL));
  RUN_UNTIL (gmulti_transfer_get_state (state.never) == GMULTI_TRANSFER_DONE, WAIT_MS);
  RUN_UNTIL (gmulti_session_get_n_transfers (session) == 0, WAIT_MS);
  g_assert_cmpuint (state.never_signals, >, 0);

  g_signal_handlers_disconnect_by_data (state.never, &state);
  g_assert_finalize_object (state.never);
  fetch_free (state.restarted);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* Chained adds from completion handlers. */
typedef struct
{
  GMultiSession *session;
  TestServer *server;
  GMultiTransfer *reused;
  guint n_reused;            /* times the reused transfer completed */
  GPtrArray *fresh;          /* transfers added from "transfer-finished" */
  GPtrArray *order;          /* URIs in completion order */
  gboolean body_ok;
} Chain;

#define CHAIN_REUSED 5
#define CHAIN_FRESH 5

static void
chain_check_body (Chain          *chain,
                  GMultiTransfer *transfer)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);
  guint n;

  g_assert_true (sscanf (strrchr (gmulti_transfer_get_uri (transfer), '/') + 1, "%u", &n) == 1);
  {
    g_autoptr(GBytes) expected = small_body (n);

    if (!g_bytes_equal (body, expected))
      chain->body_ok = FALSE;
  }
}

static void
chain_reused_finished_cb (GMultiTransfer *transfer,
                          const GError   *error,
                          Chain          *chain)
{
  g_autofree char *uri = NULL;

  g_assert_no_error (error);
  chain_check_body (chain, transfer);
  g_ptr_array_add (chain->order, g_strdup (gmulti_transfer_get_uri (transfer)));
  if (++chain->n_reused >= CHAIN_REUSED)
    return;

  /* The transfer is already out of the session: change it and run it again. */
  uri = uri_small (chain->server, 200 + chain->n_reused);
  g_assert_true (gmulti_transfer_set_uri (transfer, uri, NULL));
  g_assert_true (gmulti_session_add (chain->session, transfer, NULL));
}

static void
chain_session_finished_cb (GMultiSession  *session,
                           GMultiTransfer *transfer,
                           const GError   *error,
                           Chain          *chain)
{
  g_autofree char *uri = NULL;
  GMultiTransfer *next;

  g_assert_no_error (error);
  if (transfer == chain->reused)
    {
      if (chain->n_reused < CHAIN_REUSED)
        return;
    }
  else
    {
      chain_check_body (chain, transfer);
      g_ptr_array_add (chain->order, g_strdup (gmulti_transfer_get_uri (transfer)));
    }

  if (chain->fresh->len >= CHAIN_FRESH)
    return;

  uri = uri_small (chain->server, 300 + chain->fresh->len);
  next = gmulti_transfer_new (uri);
  g_ptr_array_add (chain->fresh, next);
  g_assert_true (gmulti_session_add (session, next, NULL));
}

static void
test_add_in_finished (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = uri_small (server, 200);
  Chain chain = { 0 };

  chain.session = session;
  chain.server = server;
  chain.reused = gmulti_transfer_new (uri);
  chain.fresh = g_ptr_array_new_with_free_func (g_object_unref);
  chain.order = g_ptr_array_new_with_free_func (g_free);
  chain.body_ok = TRUE;

  g_signal_connect (chain.reused, "finished", G_CALLBACK (chain_reused_finished_cb), &chain);
  g_signal_connect (session, "transfer-finished", G_CALLBACK (chain_session_finished_cb),
                    &chain);
  g_assert_true (gmulti_session_add (session, chain.reused, NULL));

  RUN_UNTIL (chain.order->len == CHAIN_REUSED + CHAIN_FRESH, WAIT_MS);
  g_assert_true (chain.body_ok);

  /* One after the other, in chain order. */
  for (guint i = 0; i < chain.order->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/small/%u",
                                               i < CHAIN_REUSED ? 200 + i
                                                                : 300 + i - CHAIN_REUSED);

      g_assert_true (g_str_has_suffix (g_ptr_array_index (chain.order, i), path));
    }
  g_assert_cmpuint (test_server_get_n_requests (server), ==, CHAIN_REUSED + CHAIN_FRESH);
  /* Sequential requests share one pooled connection. */
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);

  g_signal_handlers_disconnect_by_data (session, &chain);
  g_signal_handlers_disconnect_by_data (chain.reused, &chain);
  g_assert_finalize_object (chain.reused);
  g_ptr_array_unref (chain.fresh);
  g_ptr_array_unref (chain.order);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* Counts what the main loop's poll() returns. */
static guint n_polls;
static guint n_poll_wakeups;

static int
counting_poll (GPollFD *fds,
               guint    nfds,
               int      timeout)
{
  int result = g_poll (fds, nfds, timeout);

  n_polls++;
  if (result > 0)
    n_poll_wakeups++;
  return result;
}

static void
test_idle_no_wakeup (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  GMainContext *context = gmulti_session_get_context (session);
  GSource *source = gmulti_session_get_source (session);
  g_autofree char *uri = uri_small (server, 5);
  g_autofree char *uri2 = uri_small (server, 6);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);
  SendResult res = { 0 };
  guint64 dispatches;
  gboolean done = FALSE;
  GSource *window;

  gmulti_session_send_and_read_async (session, transfer, G_PRIORITY_DEFAULT, NULL, send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  send_result_clear (&res);
  test_drain_context ();

  /* The connection waits in the pool, still watched by the session. */
  g_assert_cmpuint (test_server_get_n_open (server), ==, 1);
  g_assert_cmpuint (gmulti_session_source_get_n_watched (source), >=, 1);

  /* 500 ms of idleness: no dispatch of the session's source, and poll() never returns
   * early (only the window's own timeout ends it). */
  n_polls = n_poll_wakeups = 0;
  dispatches = gmulti_session_source_get_n_dispatch (source);
  g_main_context_set_poll_func (context, counting_poll);
  window = g_timeout_source_new (500);
  g_source_set_callback (window, test_set_flag_cb, &done, NULL);
  g_source_attach (window, context);
  while (!done)
    g_main_context_iteration (context, TRUE);
  g_source_unref (window);
  g_main_context_set_poll_func (context, NULL);

  g_assert_cmpuint (gmulti_session_source_get_n_dispatch (source), ==, dispatches);
  g_assert_cmpuint (n_poll_wakeups, ==, 0);
  g_assert_cmpuint (n_polls, <=, 3);

  /* The idle connection is reused. */
  g_assert_true (gmulti_transfer_set_uri (transfer, uri2, NULL));
  gmulti_session_send_and_read_async (session, transfer, G_PRIORITY_DEFAULT, NULL, send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  send_result_clear (&res);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);

  test_drain_context ();
  g_assert_finalize_object (transfer);
  g_assert_finalize_object (session);
}

/* Two sessions, each on its own thread and main context, working at the same time. */
#define THREAD_TRANSFERS 20

typedef struct
{
  TestServer *server;
  guint base;
  gint *ready;               /* atomic: threads that added their transfers */
  guint n_ok;
  guint n_finished;
  gboolean wrong_thread;
} ThreadJob;

static void
thread_finished_cb (GMultiSession  *session,
                    GMultiTransfer *transfer,
                    const GError   *error,
                    ThreadJob      *job)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);
  guint n;

  job->n_finished++;
  if (g_main_context_get_thread_default () != gmulti_session_get_context (session))
    job->wrong_thread = TRUE;
  if (error != NULL || sscanf (strrchr (gmulti_transfer_get_uri (transfer), '/') + 1, "%u",
                               &n) != 1)
    return;
  {
    g_autoptr(GBytes) expected = small_body (n);

    if (g_bytes_equal (body, expected))
      job->n_ok++;
  }
}

static gpointer
thread_main (gpointer data)
{
  ThreadJob *job = data;
  GMainContext *context = g_main_context_new ();
  GMultiSession *session;
  GPtrArray *transfers = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 deadline;

  g_main_context_push_thread_default (context);
  session = gmulti_session_new ();
  g_assert_true (gmulti_session_get_context (session) == context);
  g_signal_connect (session, "transfer-finished", G_CALLBACK (thread_finished_cb), job);

  for (guint i = 0; i < THREAD_TRANSFERS; i++)
    {
      g_autofree char *uri = uri_small (job->server, job->base + i);
      GMultiTransfer *transfer = gmulti_transfer_new (uri);

      g_ptr_array_add (transfers, transfer);
      g_assert_true (gmulti_session_add (session, transfer, NULL));
    }

  /* Both threads start running at once. */
  g_atomic_int_inc (job->ready);
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (g_atomic_int_get (job->ready) < 2 && g_get_monotonic_time () < deadline)
    g_usleep (1000);

  RUN_UNTIL (job->n_finished == THREAD_TRANSFERS, WAIT_MS);

  g_ptr_array_unref (transfers);
  test_drain_context ();
  g_assert_finalize_object (session);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr(TestServer) server = start_server ();
  gint ready = 0;
  ThreadJob jobs[2] = {
    { server, 1000, &ready, 0, 0, FALSE },
    { server, 2000, &ready, 0, 0, FALSE },
  };
  GThread *threads[2];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("session-test", thread_main, &jobs[i]);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_assert_cmpuint (jobs[i].n_finished, ==, THREAD_TRANSFERS);
      g_assert_cmpuint (jobs[i].n_ok, ==, THREAD_TRANSFERS);
      g_assert_false (jobs[i].wrong_thread);
    }
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 2 * THREAD_TRANSFERS);
}

/* send_async */

typedef struct
{
  GInputStream *stream;
  GError *error;
  gboolean done;
} StreamResult;

static void
send_stream_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StreamResult *res = user_data;

  res->stream = gmulti_session_send_finish (GMULTI_SESSION (source), result,
                                                   &res->error);
  g_assert_true ((res->stream == NULL) != (res->error == NULL));
  res->done = TRUE;
}

typedef struct
{
  guint8 buffer[7000];
  GByteArray *received;
  gssize last;
  GError *error;
  gboolean done;
} ReadState;

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  ReadState *state = user_data;

  state->last = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &state->error);
  if (state->last > 0)
    g_byte_array_append (state->received, state->buffer, (guint) state->last);
  state->done = TRUE;
}

/* Reads @stream to its end (or error) with small asynchronous reads. */
static void
read_all (GInputStream *stream,
          ReadState    *state)
{
  do
    {
      state->done = FALSE;
      g_input_stream_read_async (stream, state->buffer, sizeof state->buffer,
                                 G_PRIORITY_DEFAULT, NULL, read_cb, state);
      RUN_UNTIL (state->done, WAIT_MS);
    }
  while (state->last > 0);
}

static void
count_pause_cb (GObject    *object,
                GParamSpec *pspec,
                guint      *n_pauses)
{
  if (gmulti_transfer_is_paused (GMULTI_TRANSFER (object)))
    (*n_pauses)++;
}

static void
test_send_stream (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/big");
  g_autoptr(GBytes) expected = big_body ();
  g_autoptr(GBytes) received = NULL;
  Fetch *fetch = fetch_new (uri, 0);
  StreamResult res = { 0 };
  ReadState state = { .received = g_byte_array_new () };
  guint n_pauses = 0;
  gssize n;

  g_signal_connect (fetch->transfer, "notify::paused", G_CALLBACK (count_pause_cb), &n_pauses);
  gmulti_session_send_async (session, fetch->transfer, G_PRIORITY_DEFAULT, NULL,
                                    send_stream_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  g_assert_cmpuint (fetch->n_headers, ==, 1);
  g_assert_cmpuint (gmulti_transfer_get_status (fetch->transfer), ==, 200);

  /* Nobody reads yet: the buffer fills up and the transfer is held back, which is not
   * a pause the application sees. */
  {
    gboolean waited = FALSE;
    guint64 held_at;

    g_timeout_add (300, test_set_flag_cb, &waited);
    RUN_UNTIL (waited, WAIT_MS);
    held_at = gmulti_transfer_get_bytes_received (fetch->transfer);
    waited = FALSE;
    g_timeout_add (200, test_set_flag_cb, &waited);
    RUN_UNTIL (waited, WAIT_MS);
    g_assert_cmpuint (gmulti_transfer_get_bytes_received (fetch->transfer), ==, held_at);
    g_assert_cmpuint (held_at, <, BIG_SIZE);
    g_assert_false (gmulti_transfer_is_paused (fetch->transfer));
    g_assert_cmpuint (n_pauses, ==, 0);
  }

  read_all (res.stream, &state);
  g_assert_no_error (state.error);
  g_assert_cmpint (state.last, ==, 0);
  received = g_byte_array_free_to_bytes (state.received);
  assert_bytes_equal (received, expected);
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_no_error (fetch->error);
  g_assert_false (gmulti_transfer_is_paused (fetch->transfer));
  /* Streamed, not collected. */
  {
    g_autoptr(GBytes) collected = gmulti_transfer_get_response_body (fetch->transfer);

    g_assert_true (collected == NULL || g_bytes_get_size (collected) == 0);
  }

  /* After the end, reads keep returning 0. */
  n = g_input_stream_read (res.stream, state.buffer, sizeof state.buffer, NULL, &state.error);
  g_assert_no_error (state.error);
  g_assert_cmpint (n, ==, 0);
  g_assert_true (g_input_stream_close (res.stream, NULL, NULL));
  g_assert_finalize_object (res.stream);

  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

static void
test_send_stream_close_early (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/slow");
  Fetch *fetch = fetch_new (uri, 0);
  StreamResult res = { 0 };
  ReadState state = { .received = g_byte_array_new () };
  gssize n;

  gmulti_session_send_async (session, fetch->transfer, G_PRIORITY_DEFAULT, NULL,
                                    send_stream_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);

  state.done = FALSE;
  g_input_stream_read_async (res.stream, state.buffer, sizeof state.buffer,
                             G_PRIORITY_DEFAULT, NULL, read_cb, &state);
  RUN_UNTIL (state.done, WAIT_MS);
  g_assert_no_error (state.error);
  g_assert_cmpint (state.last, >, 0);

  /* Synchronous reads never block: data or G_IO_ERROR_WOULD_BLOCK. */
  n = g_input_stream_read (res.stream, state.buffer, sizeof state.buffer, NULL, &state.error);
  g_assert_true (n > 0 || g_error_matches (state.error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK));
  g_clear_error (&state.error);

  /* Closing early removes the transfer: the server sees the connection go. */
  fetch->removed = TRUE;
  g_assert_true (g_input_stream_close (res.stream, NULL, NULL));
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);
  RUN_UNTIL (g_atomic_int_get (&server_state.client_closed), WAIT_MS);
  g_assert_cmpuint (fetch->after_removal, ==, 0);
  g_assert_cmpuint (fetch->n_finished, ==, 0);
  g_assert_false (gmulti_transfer_is_paused (fetch->transfer));
  g_assert_finalize_object (res.stream);

  g_byte_array_unref (state.received);
  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

static void
test_send_stream_errors (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *truncated = test_server_uri (server, "/truncated");
  g_autofree char *refused = NULL;
  GMultiTransfer *transfer = gmulti_transfer_new (truncated);
  StreamResult res = { 0 };
  ReadState state = { .received = g_byte_array_new () };
  guint16 port;
  int fd;

  /* The body breaks off: the data that came is read, then the transfer's error. */
  gmulti_session_send_async (session, transfer, G_PRIORITY_DEFAULT, NULL,
                                    send_stream_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  read_all (res.stream, &state);
  g_assert_nonnull (state.error);
  g_assert_true (state.error->domain == GMULTI_ERROR);
  g_assert_cmpint (state.last, ==, -1);
  g_assert_cmpuint (state.received->len, ==, TRUNCATED_SENT);
  g_clear_error (&state.error);
  g_clear_object (&res.stream);
  res.done = FALSE;

  /* No response at all: the call itself fails. */
  fd = test_refusing_port (&port);
  refused = g_strdup_printf ("http://127.0.0.1:%u/", port);
  g_assert_true (gmulti_transfer_set_uri (transfer, refused, NULL));
  gmulti_session_send_async (session, transfer, G_PRIORITY_DEFAULT, NULL,
                                    send_stream_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  g_clear_error (&res.error);
  close (fd);

  g_byte_array_unref (state.received);
  test_drain_context ();
  g_assert_finalize_object (transfer);
  g_assert_finalize_object (session);
}

/* download_async */

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
} DownloadResult;

static void
download_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  DownloadResult *res = user_data;

  res->ok = gmulti_session_download_finish (GMULTI_SESSION (source), result, &res->error);
  g_assert_true (res->ok == (res->error == NULL));
  res->done = TRUE;
}

static void
test_download (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/big");
  g_autoptr(GBytes) expected = big_body ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gmulti-session-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *missing_path = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFile) missing = NULL;
  g_autoptr(GBytes) written = NULL;
  GMultiTransfer *transfer = gmulti_transfer_new (uri);
  DownloadResult res = { 0 };
  guint n_pauses = 0;
  gsize length;
  guint16 port;
  int fd;

  g_assert_no_error (error);
  path = g_build_filename (dir, "big.bin", NULL);
  file = g_file_new_for_path (path);

  g_signal_connect (transfer, "notify::paused", G_CALLBACK (count_pause_cb), &n_pauses);
  gmulti_session_download_async (session, transfer, file, G_PRIORITY_DEFAULT, NULL,
                                 download_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  g_assert_true (res.ok);
  /* Held back while its writes were under way, but never paused as the application
   * sees it. */
  g_assert_cmpuint (n_pauses, ==, 0);
  g_assert_false (gmulti_transfer_is_paused (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_no_error (error);
  written = g_bytes_new_take (g_steal_pointer (&contents), length);
  assert_bytes_equal (written, expected);
  res = (DownloadResult) { 0 };

  /* The destination cannot be created: the file error, and the transfer goes. */
  missing_path = g_build_filename (dir, "no-such-dir", "file", NULL);
  missing = g_file_new_for_path (missing_path);
  gmulti_session_download_async (session, transfer, missing, G_PRIORITY_DEFAULT, NULL,
                                 download_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&res.error);
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);
  res = (DownloadResult) { 0 };

  /* The transfer fails: its error. */
  fd = test_refusing_port (&port);
  {
    g_autofree char *refused = g_strdup_printf ("http://127.0.0.1:%u/", port);

    g_assert_true (gmulti_transfer_set_uri (transfer, refused, NULL));
  }
  gmulti_session_download_async (session, transfer, file, G_PRIORITY_DEFAULT, NULL,
                                 download_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  g_clear_error (&res.error);
  close (fd);

  g_remove (path);
  g_rmdir (dir);
  g_signal_handlers_disconnect_by_data (transfer, &n_pauses);
  test_drain_context ();
  g_assert_finalize_object (transfer);
  g_assert_finalize_object (session);
}

static void
test_download_cancel (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/slow");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gmulti-session-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMultiTransfer *transfer = gmulti_transfer_new (uri);
  DownloadResult res = { 0 };

  g_assert_no_error (error);
  path = g_build_filename (dir, "slow.bin", NULL);
  file = g_file_new_for_path (path);

  gmulti_session_download_async (session, transfer, file, G_PRIORITY_DEFAULT, cancellable,
                                 download_cb, &res);
  RUN_UNTIL (gmulti_transfer_get_bytes_received (transfer) > 0, WAIT_MS);
  g_cancellable_cancel (cancellable);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&res.error);
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);
  RUN_UNTIL (g_atomic_int_get (&server_state.client_closed), WAIT_MS);

  g_remove (path);
  g_rmdir (dir);
  test_drain_context ();
  g_assert_finalize_object (transfer);
  g_assert_finalize_object (session);
}

static void
test_connection_refused (void)
{
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = NULL;
  SessionLog log = { 0 };
  SendResult res = { 0 };
  Fetch *fetch;
  guint16 port;
  int fd;

  fd = test_refusing_port (&port);
  uri = g_strdup_printf ("http://127.0.0.1:%u/x", port);
  fetch = fetch_new (uri, 0);
  g_signal_connect (session, "transfer-finished", G_CALLBACK (session_finished_cb), &log);

  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_error (fetch->error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  g_assert_cmpuint (log.n_finished, ==, 1);
  g_assert_cmpuint (log.n_errors, ==, 1);
  g_assert_cmpuint (fetch->n_headers, ==, 0);

  gmulti_session_send_and_read_async (session, fetch->transfer, G_PRIORITY_DEFAULT, NULL, send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  send_result_clear (&res);

  /* A transfer that cannot start at all reports through the same channels. */
  fetch_reset (fetch);
  gmulti_transfer_set_uri (fetch->transfer, "http://127.0.0.1:1/", NULL);
  g_object_set (fetch->transfer, "uri", "ftp://example.com/", NULL);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_error (fetch->error, GMULTI_ERROR, GMULTI_ERROR_UNSUPPORTED_SCHEME);

  close (fd);
  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

static void
test_busy (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  GMultiSession *session2 = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/slow");
  GMultiTransfer *transfer = gmulti_transfer_new (uri);
  g_autoptr(GError) error = NULL;
  SendResult res = { 0 };

  g_assert_true (gmulti_session_add (session, transfer, &error));
  g_assert_no_error (error);
  g_assert_false (gmulti_session_add (session, transfer, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_false (gmulti_session_add (session2, transfer, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_BUSY);
  g_clear_error (&error);

  gmulti_session_send_and_read_async (session, transfer, G_PRIORITY_DEFAULT, NULL, send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, GMULTI_ERROR, GMULTI_ERROR_BUSY);
  send_result_clear (&res);

  /* Removing from a session it is not in does nothing. */
  gmulti_session_remove (session2, transfer);
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 1);

  gmulti_session_remove (session, transfer);
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);
  g_assert_true (gmulti_session_add (session2, transfer, &error));
  g_assert_no_error (error);
  gmulti_session_remove (session2, transfer);

  test_drain_context ();
  g_assert_finalize_object (transfer);
  g_assert_finalize_object (session2);
  g_assert_finalize_object (session);
}

static void
test_session_timeout (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *hang = test_server_uri (server, "/hang");
  g_autofree char *small = uri_small (server, 4);
  Fetch *fetch = fetch_new (hang, 0);
  Fetch *own = fetch_new (small, 1);
  gint64 start;

  gmulti_session_set_timeout (session, 300);
  gmulti_transfer_set_timeout (own->transfer, 5000);

  start = g_get_monotonic_time ();
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  g_assert_true (gmulti_session_add (session, own->transfer, NULL));
  /* The session's timeout applies to the run; the transfer keeps its own value. */
  g_assert_cmpuint (gmulti_transfer_get_timeout (fetch->transfer), ==, 0);
  g_assert_cmpuint (gmulti_transfer_get_timeout (own->transfer), ==, 5000);

  RUN_UNTIL (fetch->n_finished == 1 && own->n_finished == 1, WAIT_MS);
  g_assert_error (fetch->error, GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 290 * 1000);
  g_assert_no_error (own->error);
  g_assert_cmpuint (gmulti_transfer_get_timeout (fetch->transfer), ==, 0);
  g_assert_cmpuint (gmulti_transfer_get_timeout (own->transfer), ==, 5000);
  RUN_UNTIL (g_atomic_int_get (&server_state.client_closed), WAIT_MS);

  fetch_free (fetch);
  fetch_free (own);
  test_drain_context ();
  g_assert_finalize_object (session);
}

static void
test_dispose_running (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/slow");
  Fetch *fetches[4];

  for (guint i = 0; i < G_N_ELEMENTS (fetches); i++)
    {
      fetches[i] = fetch_new (uri, i);
      g_assert_true (gmulti_session_add (session, fetches[i]->transfer, NULL));
    }
  RUN_UNTIL (g_atomic_int_get (&server_state.slow_started) == G_N_ELEMENTS (fetches) &&
             fetches[G_N_ELEMENTS (fetches) - 1]->n_data > 0, WAIT_MS);

  /* Dropping the session stops its transfers quietly; they are free to go elsewhere. */
  for (guint i = 0; i < G_N_ELEMENTS (fetches); i++)
    fetches[i]->removed = TRUE;
  g_assert_finalize_object (session);
  RUN_UNTIL (test_server_get_n_open (server) == 0, WAIT_MS);

  for (guint i = 0; i < G_N_ELEMENTS (fetches); i++)
    {
      g_assert_cmpuint (fetches[i]->n_finished, ==, 0);
      g_assert_cmpuint (fetches[i]->after_removal, ==, 0);
      g_assert_cmpint (gmulti_transfer_get_state (fetches[i]->transfer), ==,
                       GMULTI_TRANSFER_IDLE);
      fetch_free (fetches[i]);
    }
  test_drain_context ();
}

/* A handler that runs a nested main loop while the engine is busy: the session's
 * source must neither re-enter the engine nor spin. */
typedef struct
{
  GMultiSession *session;
  guint64 nested_dispatches;
  gboolean nested_done;
} NestedLoop;

static void
nested_loop_data_cb (GMultiTransfer *transfer,
                     GBytes         *chunk,
                     NestedLoop     *state)
{
  GSource *source = gmulti_session_get_source (state->session);
  GMainContext *context = gmulti_session_get_context (state->session);
  gboolean done = FALSE;
  guint64 before;

  if (state->nested_done)
    return;
  state->nested_done = TRUE;

  before = gmulti_session_source_get_n_dispatch (source);
  g_timeout_add (100, test_set_flag_cb, &done);
  while (!done)
    g_main_context_iteration (context, TRUE);
  state->nested_dispatches = gmulti_session_source_get_n_dispatch (source) - before;
}

static void
test_nested_loop (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/big");
  g_autoptr(GBytes) expected = big_body ();
  NestedLoop state = { session, 0, FALSE };
  Fetch *fetch = fetch_new (uri, 0);

  g_signal_connect (fetch->transfer, "data", G_CALLBACK (nested_loop_data_cb), &state);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);

  g_assert_true (state.nested_done);
  /* Ready sockets inside the nested loop: at most a dispatch that blocks the source. */
  g_assert_cmpuint (state.nested_dispatches, <=, 2);
  g_assert_no_error (fetch->error);
  assert_fetch_body (fetch, expected);

  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* The last reference dropped from a completion handler. */
static void
unref_session_cb (GMultiSession  *session,
                  GMultiTransfer *transfer,
                  const GError   *error,
                  gpointer        user_data)
{
  g_object_unref (session);
}

static void
test_unref_in_handler (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = uri_small (server, 9);
  g_autofree char *slow = test_server_uri (server, "/slow");
  Fetch *fetch = fetch_new (uri, 0);
  Fetch *running = fetch_new (slow, 1);

  g_object_add_weak_pointer (G_OBJECT (session), (gpointer *) &session);
  g_signal_connect (session, "transfer-finished", G_CALLBACK (unref_session_cb), NULL);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  g_assert_true (gmulti_session_add (session, running->transfer, NULL));

  RUN_UNTIL (session == NULL, WAIT_MS);
  g_assert_cmpuint (fetch->n_finished, ==, 1);
  g_assert_no_error (fetch->error);
  /* The other transfer stopped with the session, silently. */
  g_assert_cmpuint (running->n_finished, ==, 0);
  g_assert_cmpint (gmulti_transfer_get_state (running->transfer), ==, GMULTI_TRANSFER_IDLE);

  fetch_free (fetch);
  fetch_free (running);
  test_drain_context ();
}

/* A default of the session must not add lines to a request: the setter refuses it, and
 * the property, which cannot refuse, keeps it off the wire. */
#define SMUGGLING_UA "ua/1\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

static void
test_user_agent_injection (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = uri_small (server, 5);
  g_autoptr(GBytes) expected = small_body (5);
  g_autoptr(TestRequest) req = NULL;
  GError *error = NULL;
  Fetch *fetch = fetch_new (uri, 0);
  guint n_notify = 0;

  g_signal_connect (session, "notify::user-agent", G_CALLBACK (count_notify_cb), &n_notify);
  g_assert_false (gmulti_session_set_user_agent (session, SMUGGLING_UA, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_cmpstr (gmulti_session_get_user_agent (session), ==, "gmulti/" GMULTI_VERSION_S);
  g_assert_cmpuint (n_notify, ==, 0);

  g_object_set (session, "user-agent", SMUGGLING_UA, NULL);
  g_assert_cmpuint (n_notify, ==, 1);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_error (fetch->error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_assert_cmpuint (fetch->n_headers, ==, 0);
  g_assert_false (test_server_wait_requests (server, 1, 200));

  /* A valid value lifts it: one request goes out, and nothing after it. */
  g_object_set (session, "user-agent", "fine/1", NULL);
  fetch_reset (fetch);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_no_error (fetch->error);
  assert_fetch_body (fetch, expected);
  g_assert_false (test_server_wait_requests (server, 2, 300));
  g_assert_cmpuint (test_server_get_n_requests (server), ==, 1);
  req = test_server_get_request (server, 0);
  g_assert_cmpstr (req->target, ==, "/small/5");
  g_assert_cmpstr (test_request_get_header (req, "User-Agent"), ==, "fine/1");
  g_assert_null (test_request_get_header (req, "X-Injected"));

  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* The session's timeouts apply to transfers that set none of their own, and only to
 * those: a transfer's own value wins, 0 included. */
static void
test_session_connect_timeout (void)
{
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = NULL;
  Fetch *fetch, *own;
  guint16 port = 0;
  int hole = test_blackhole_listener (AF_INET, &port);
  gint64 start, took;

  if (hole < 0)
    {
      g_test_skip ("cannot set up a listener that never answers");
      g_assert_finalize_object (session);
      return;
    }
  uri = g_strdup_printf ("http://127.0.0.1:%u/", port);
  fetch = fetch_new (uri, 0);
  own = fetch_new (uri, 1);

  gmulti_session_set_connect_timeout (session, 300);
  gmulti_session_set_timeout (session, 8000);
  gmulti_transfer_set_connect_timeout (own->transfer, 1200);
  gmulti_transfer_set_timeout (own->transfer, 0);

  start = g_get_monotonic_time ();
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  g_assert_true (gmulti_session_add (session, own->transfer, NULL));
  g_assert_cmpuint (gmulti_transfer_get_connect_timeout (fetch->transfer), ==, 30000);
  g_assert_cmpuint (gmulti_transfer_get_timeout (fetch->transfer), ==, 0);
  g_assert_cmpuint (gmulti_transfer_get_connect_timeout (own->transfer), ==, 1200);
  g_assert_cmpuint (gmulti_transfer_get_timeout (own->transfer), ==, 0);

  /* The connect never completes: only the session's short limit ends it. */
  RUN_UNTIL (fetch->n_finished == 1, 5000);
  took = (g_get_monotonic_time () - start) / 1000;
  g_assert_error (fetch->error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_TIMEOUT);
  g_assert_cmpint (took, >=, 290);
  g_assert_cmpint (took, <, 1100);
  g_assert_cmpuint (own->n_finished, ==, 0);

  RUN_UNTIL (own->n_finished == 1, 5000);
  took = (g_get_monotonic_time () - start) / 1000;
  g_assert_error (own->error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_TIMEOUT);
  g_assert_cmpint (took, >=, 1190);

  /* Out of the session, each has its own values again. */
  g_assert_cmpuint (gmulti_transfer_get_connect_timeout (fetch->transfer), ==, 30000);
  g_assert_cmpuint (gmulti_transfer_get_timeout (fetch->transfer), ==, 0);
  g_assert_cmpuint (gmulti_transfer_get_connect_timeout (own->transfer), ==, 1200);
  g_assert_cmpuint (gmulti_transfer_get_timeout (own->transfer), ==, 0);

  close (hole);
  fetch_free (fetch);
  fetch_free (own);
  test_drain_context ();
  g_assert_finalize_object (session);
}

static void
remove_on_data_cb (GMultiTransfer *transfer,
                   GBytes         *chunk,
                   Fetch          *fetch)
{
  GMultiSession *session = g_object_get_data (G_OBJECT (transfer), "test-session");

  if (!fetch->removed)
    {
      fetch->removed = TRUE;
      gmulti_session_remove (session, transfer);
    }
}

typedef struct
{
  GMultiSession *session;
  GMultiTransfer *other;     /* added and removed again from a handler */
  gboolean done;
} AddRemoveInHandler;

static void
add_remove_headers_cb (GMultiTransfer     *transfer,
                       guint               status,
                       GMultiHeaders      *headers,
                       AddRemoveInHandler *state)
{
  if (state->done)
    return;
  state->done = TRUE;
  /* The engine is busy here: the add waits, and the remove cancels it. */
  g_assert_true (gmulti_session_add (state->session, state->other, NULL));
  gmulti_session_remove (state->session, state->other);
}

static void
assert_cancelled (GMultiTransfer *transfer)
{
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer), G_IO_ERROR,
                  G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 0);
  g_assert_null (gmulti_transfer_get_reason_phrase (transfer));
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_IDLE);
}

/* However a transfer was stopped, it reads as cancelled, never as the 200 it was
 * receiving or the result of its previous run. */
static void
test_cancel_result (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *slow = test_server_uri (server, "/slow");
  g_autofree char *missing = test_server_uri (server, "/missing");
  g_autofree char *small = uri_small (server, 8);
  CancelOnData state = { g_cancellable_new (), 0 };
  AddRemoveInHandler in_handler = { session, NULL, FALSE };
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  SendResult res = { 0 };
  Fetch *fetch = fetch_new (slow, 0);
  Fetch *removed = fetch_new (slow, 1);
  Fetch *again = fetch_new (missing, 2);
  Fetch *first = fetch_new (small, 3);
  Fetch *other = fetch_new (small, 4);
  guint n_requests;

  /* Cancelled through the GCancellable of an asynchronous call, mid-body. */
  g_signal_connect (fetch->transfer, "data", G_CALLBACK (cancel_on_data_cb), &state);
  gmulti_session_send_and_read_async (session, fetch->transfer, G_PRIORITY_DEFAULT, state.cancellable,
                             send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  send_result_clear (&res);
  g_assert_cmpuint (fetch->status_at_headers, ==, 200);
  assert_cancelled (fetch->transfer);

  /* Removed from the session, mid-body. */
  g_object_set_data (G_OBJECT (removed->transfer), "test-session", session);
  g_signal_connect (removed->transfer, "data", G_CALLBACK (remove_on_data_cb), removed);
  g_assert_true (gmulti_session_add (session, removed->transfer, NULL));
  RUN_UNTIL (removed->removed, WAIT_MS);
  g_assert_cmpuint (removed->n_finished, ==, 0);
  assert_cancelled (removed->transfer);

  /* Cancelled before it started: the 404 of its previous run must not show. */
  gmulti_session_send_and_read_async (session, again->transfer, G_PRIORITY_DEFAULT, NULL, send_cb, &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_no_error (res.error);
  g_assert_cmpuint (gmulti_transfer_get_status (again->transfer), ==, 404);
  send_result_clear (&res);
  n_requests = test_server_get_n_requests (server);
  g_cancellable_cancel (cancelled);
  gmulti_session_send_and_read_async (session, again->transfer, G_PRIORITY_DEFAULT, cancelled, send_cb,
                             &res);
  RUN_UNTIL (res.done, WAIT_MS);
  g_assert_error (res.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  send_result_clear (&res);
  assert_cancelled (again->transfer);
  g_assert_null (gmulti_transfer_get_response_headers (again->transfer));

  /* Removed while its add waited for the engine to return. */
  g_assert_true (gmulti_session_add (session, other->transfer, NULL));
  RUN_UNTIL (other->n_finished == 1, WAIT_MS);
  g_assert_no_error (other->error);
  in_handler.other = other->transfer;
  g_signal_connect (first->transfer, "response-headers", G_CALLBACK (add_remove_headers_cb),
                    &in_handler);
  g_assert_true (gmulti_session_add (session, first->transfer, NULL));
  RUN_UNTIL (first->n_finished == 1, WAIT_MS);
  g_assert_true (in_handler.done);
  assert_cancelled (other->transfer);
  g_assert_cmpuint (test_server_get_n_requests (server), ==, n_requests + 2);

  g_object_unref (state.cancellable);
  fetch_free (fetch);
  fetch_free (removed);
  fetch_free (again);
  fetch_free (first);
  fetch_free (other);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* What the transfer's own options read while a run is under way in a session whose
 * defaults differ, and a change of those defaults made from inside the run. */
typedef struct
{
  GMultiSession *session;
  guint n_hops;
  guint timeout;             /* the transfer's own options, read between the hops */
  guint connect_timeout;
  gboolean tls_verify;
  const char *tls_ca_file;
  GMultiTlsVersion tls_min_version;
} DefaultsRun;

static void
defaults_hop_cb (GMultiTransfer *transfer,
                 GParamSpec     *pspec,
                 DefaultsRun    *run)
{
  /* The redirect is being followed: its request is written after this returns. */
  if (!g_str_has_suffix (gmulti_transfer_get_effective_uri (transfer), "/small/3"))
    return;
  run->n_hops++;
  run->timeout = gmulti_transfer_get_timeout (transfer);
  run->connect_timeout = gmulti_transfer_get_connect_timeout (transfer);
  run->tls_verify = gmulti_transfer_get_tls_verify (transfer);
  run->tls_ca_file = gmulti_transfer_get_tls_ca_file (transfer);
  run->tls_min_version = gmulti_transfer_get_tls_min_version (transfer);
  g_assert_true (gmulti_session_set_user_agent (run->session, "second/2", NULL));
}

static void
test_session_defaults_per_run (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = test_server_uri (server, "/redirect");
  g_autoptr(TestRequest) req = NULL;
  Fetch *fetch = fetch_new (uri, 0);
  DefaultsRun run = { session, };
  guint n_option_notify = 0;

  gmulti_session_set_timeout (session, 7000);
  gmulti_session_set_connect_timeout (session, 2000);
  gmulti_session_set_tls_verify (session, FALSE);
  gmulti_session_set_tls_ca_file (session, "/nonexistent/ca.pem");
  gmulti_session_set_tls_min_version (session, GMULTI_TLS_VERSION_TLS_1_3);
  g_assert_true (gmulti_session_set_user_agent (session, "first/1", NULL));
  gmulti_transfer_set_follow_redirects (fetch->transfer, TRUE);
  g_signal_connect (fetch->transfer, "notify::effective-uri", G_CALLBACK (defaults_hop_cb), &run);
  g_signal_connect (fetch->transfer, "notify::connect-timeout", G_CALLBACK (count_notify_cb),
                    &n_option_notify);
  g_signal_connect (fetch->transfer, "notify::timeout", G_CALLBACK (count_notify_cb),
                    &n_option_notify);
  g_signal_connect (fetch->transfer, "notify::tls-verify", G_CALLBACK (count_notify_cb),
                    &n_option_notify);

  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_no_error (fetch->error);
  g_assert_cmpuint (gmulti_transfer_get_status (fetch->transfer), ==, 200);
  g_assert_cmpuint (run.n_hops, ==, 1);

  /* The User-Agent changed during the run: its second request kept the first. */
  req = test_server_get_last_request (server);
  g_assert_cmpstr (req->target, ==, "/small/3");
  g_assert_cmpstr (test_request_get_header (req, "User-Agent"), ==, "first/1");
  g_clear_pointer (&req, test_request_free);

  /* While it ran, the transfer read its own (unset) options, not the session's. */
  g_assert_cmpuint (run.timeout, ==, 0);
  g_assert_cmpuint (run.connect_timeout, ==, 30000);
  g_assert_true (run.tls_verify);
  g_assert_null (run.tls_ca_file);
  g_assert_cmpint (run.tls_min_version, ==, GMULTI_TLS_VERSION_DEFAULT);
  g_assert_cmpuint (n_option_notify, ==, 0);

  /* And after it, still its own. */
  g_assert_cmpuint (gmulti_transfer_get_timeout (fetch->transfer), ==, 0);
  g_assert_cmpuint (gmulti_transfer_get_connect_timeout (fetch->transfer), ==, 30000);
  g_assert_true (gmulti_transfer_get_tls_verify (fetch->transfer));
  g_assert_null (gmulti_transfer_get_tls_ca_file (fetch->transfer));

  /* The next run has the new one, on both of its requests. */
  fetch_reset (fetch);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_no_error (fetch->error);
  req = test_server_get_last_request (server);
  g_assert_cmpstr (req->target, ==, "/small/3");
  g_assert_cmpstr (test_request_get_header (req, "User-Agent"), ==, "second/2");
  g_assert_cmpuint (n_option_notify, ==, 0);

  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* A session timeout changed while a run waits applies from the next run on. */
static void
timeout_change_cb (GMultiTransfer *transfer,
                   GParamSpec     *pspec,
                   GMultiSession  *session)
{
  if (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_RECEIVING)
    gmulti_session_set_timeout (session, 200);
}

static void
test_session_timeout_per_run (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *hang = test_server_uri (server, "/hang");
  Fetch *fetch = fetch_new (hang, 0);
  gint64 start, took;

  gmulti_session_set_timeout (session, 600);
  g_signal_connect (fetch->transfer, "notify::state", G_CALLBACK (timeout_change_cb), session);

  start = g_get_monotonic_time ();
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  took = (g_get_monotonic_time () - start) / 1000;
  g_assert_error (fetch->error, GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (fetch->error->message, "600 ms"));
  g_assert_cmpint (took, >=, 590);
  g_assert_cmpuint (gmulti_session_get_timeout (session), ==, 200);

  g_signal_handlers_disconnect_by_func (fetch->transfer, timeout_change_cb, session);
  fetch_reset (fetch);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_error (fetch->error, GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (fetch->error->message, "200 ms"));
  g_assert_cmpuint (gmulti_transfer_get_timeout (fetch->transfer), ==, 0);

  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

/* The HTTP version and the streams per connection: properties, validation, and the
 * defaults a run takes from the engine. */
typedef struct
{
  GMultiSession *session;
  guint n_seen;
  GMultiHttpVersion run_version;   /* in the run's defaults, at the response head */
  guint run_max_streams;
} StreamDefaultsRun;

static void
stream_defaults_headers_cb (GMultiTransfer    *transfer,
                            guint              status,
                            GMultiHeaders     *headers,
                            StreamDefaultsRun *run)
{
  g_assert_nonnull (transfer->run.defaults);
  run->n_seen++;
  run->run_version = transfer->run.defaults->http_version;
  run->run_max_streams = transfer->run.defaults->max_streams_per_connection;
  /* Changed while the run is under way: for the next run only. */
  gmulti_session_set_http_version (run->session, GMULTI_HTTP_VERSION_AUTO);
  gmulti_session_set_max_streams_per_connection (run->session, 100);
  g_assert_cmpint (transfer->run.defaults->http_version, ==, run->run_version);
  g_assert_cmpuint (transfer->run.defaults->max_streams_per_connection, ==,
                    run->run_max_streams);
}

typedef struct {
  GMultiSession *session;
  GMultiTransfer *transfer;
  guint plain, swapped;
} MarshalLog;

static void
marshal_plain_cb (GMultiSession  *session,
                  GMultiTransfer *transfer,
                  const GError   *error,
                  MarshalLog     *log)
{
  g_assert_true (session == log->session);
  g_assert_true (transfer == log->transfer);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  log->plain++;
}

static void
marshal_swapped_cb (MarshalLog     *log,
                    GMultiTransfer *transfer,
                    const GError   *error,
                    GMultiSession  *session)
{
  g_assert_true (session == log->session);
  g_assert_true (transfer == log->transfer);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  log->swapped++;
}

/* "transfer-finished" has marshallers of its own: both (one handler takes the va_list
 * road, two take GValues) pass the arguments in order, swapped or not. */
static void
test_finished_marshal (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://127.0.0.1:1/");
  g_autoptr(GError) error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT, "late");
  MarshalLog log = { session, transfer, 0, 0 };
  gulong plain;

  plain = g_signal_connect (session, "transfer-finished", G_CALLBACK (marshal_plain_cb), &log);
  g_signal_emit_by_name (session, "transfer-finished", transfer, error);
  g_assert_cmpuint (log.plain, ==, 1);

  g_signal_connect_swapped (session, "transfer-finished", G_CALLBACK (marshal_swapped_cb),
                            &log);
  g_signal_emit_by_name (session, "transfer-finished", transfer, error);
  g_assert_cmpuint (log.plain, ==, 2);
  g_assert_cmpuint (log.swapped, ==, 1);

  g_signal_handler_disconnect (session, plain);
  g_signal_emit_by_name (session, "transfer-finished", transfer, error);
  g_assert_cmpuint (log.plain, ==, 2);
  g_assert_cmpuint (log.swapped, ==, 2);
  g_signal_handlers_disconnect_by_data (session, &log);
}

static void
test_session_http_version (void)
{
  g_autoptr(TestServer) server = start_server ();
  GMultiSession *session = gmulti_session_new ();
  g_autofree char *uri = uri_small (server, 2);
  StreamDefaultsRun run = { session, };
  GMultiHttpVersion version = GMULTI_HTTP_VERSION_HTTP_2;
  guint max_streams = 0;
  guint n_notify = 0;
  Fetch *fetch;

  g_assert_cmpint (gmulti_session_get_http_version (session), ==, GMULTI_HTTP_VERSION_AUTO);
  g_assert_cmpuint (gmulti_session_get_max_streams_per_connection (session), ==, 100);
  g_object_get (session, "http-version", &version, "max-streams-per-connection",
                &max_streams, NULL);
  g_assert_cmpint (version, ==, GMULTI_HTTP_VERSION_AUTO);
  g_assert_cmpuint (max_streams, ==, 100);

  g_signal_connect (session, "notify", G_CALLBACK (count_notify_cb), &n_notify);
  g_object_set (session, "http-version", GMULTI_HTTP_VERSION_HTTP_1_1,
                "max-streams-per-connection", 7, NULL);
  g_assert_cmpuint (n_notify, ==, 2);
  g_object_set (session, "http-version", GMULTI_HTTP_VERSION_HTTP_1_1,
                "max-streams-per-connection", 7, NULL);
  g_assert_cmpuint (n_notify, ==, 2);
  g_object_get (session, "http-version", &version, "max-streams-per-connection",
                &max_streams, NULL);
  g_assert_cmpint (version, ==, GMULTI_HTTP_VERSION_HTTP_1_1);
  g_assert_cmpuint (max_streams, ==, 7);

  /* Out of range: refused, the value kept, nothing notified. */
  g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*max >= 1*");
  gmulti_session_set_max_streams_per_connection (session, 0);
  g_test_assert_expected_messages ();
  g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*max >= 1*");
  gmulti_session_set_max_streams_per_connection (session, 1001);
  g_test_assert_expected_messages ();
  g_test_expect_message ("GMulti", G_LOG_LEVEL_CRITICAL, "*version*");
  gmulti_session_set_http_version (session, (GMultiHttpVersion) 42);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (gmulti_session_get_max_streams_per_connection (session), ==, 7);
  g_assert_cmpint (gmulti_session_get_http_version (session), ==, GMULTI_HTTP_VERSION_HTTP_1_1);
  g_assert_cmpuint (n_notify, ==, 2);

  /* The bounds themselves are fine. */
  gmulti_session_set_max_streams_per_connection (session, 1000);
  gmulti_session_set_max_streams_per_connection (session, 1);
  g_assert_cmpuint (n_notify, ==, 4);

  /* A run takes them from the engine's defaults when it starts ... */
  fetch = fetch_new (uri, 0);
  g_signal_connect (fetch->transfer, "response-headers",
                    G_CALLBACK (stream_defaults_headers_cb), &run);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_no_error (fetch->error);
  g_assert_cmpuint (run.n_seen, ==, 1);
  g_assert_cmpint (run.run_version, ==, GMULTI_HTTP_VERSION_HTTP_1_1);
  g_assert_cmpuint (run.run_max_streams, ==, 1);
  g_assert_cmpuint (n_notify, ==, 6);

  /* ... so the change made during it reaches the next one. */
  fetch_reset (fetch);
  g_assert_true (gmulti_session_add (session, fetch->transfer, NULL));
  RUN_UNTIL (fetch->n_finished == 1, WAIT_MS);
  g_assert_no_error (fetch->error);
  g_assert_cmpuint (run.n_seen, ==, 2);
  g_assert_cmpint (run.run_version, ==, GMULTI_HTTP_VERSION_AUTO);
  g_assert_cmpuint (run.run_max_streams, ==, 100);
  g_assert_cmpuint (n_notify, ==, 6);

  fetch_free (fetch);
  test_drain_context ();
  g_assert_finalize_object (session);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Session/properties", test_properties);
  g_test_add_func ("/GMulti/Session/concurrent", test_concurrent);
  g_test_add_func ("/GMulti/Session/default-host-limit", test_default_host_limit);
  g_test_add_func ("/GMulti/Session/send-async", test_send_async);
  g_test_add_func ("/GMulti/Session/send-cancel", test_send_cancel);
  g_test_add_func ("/GMulti/Session/remove-in-data", test_remove_in_data);
  g_test_add_func ("/GMulti/Session/deferred-ops", test_deferred_ops);
  g_test_add_func ("/GMulti/Session/add-in-finished", test_add_in_finished);
  g_test_add_func ("/GMulti/Session/idle-no-wakeup", test_idle_no_wakeup);
  g_test_add_func ("/GMulti/Session/threads", test_threads);
  g_test_add_func ("/GMulti/Session/send-stream", test_send_stream);
  g_test_add_func ("/GMulti/Session/send-stream-close-early", test_send_stream_close_early);
  g_test_add_func ("/GMulti/Session/send-stream-errors", test_send_stream_errors);
  g_test_add_func ("/GMulti/Session/download", test_download);
  g_test_add_func ("/GMulti/Session/download-cancel", test_download_cancel);
  g_test_add_func ("/GMulti/Session/connection-refused", test_connection_refused);
  g_test_add_func ("/GMulti/Session/busy", test_busy);
  g_test_add_func ("/GMulti/Session/session-timeout", test_session_timeout);
  g_test_add_func ("/GMulti/Session/dispose-running", test_dispose_running);
  g_test_add_func ("/GMulti/Session/nested-loop", test_nested_loop);
  g_test_add_func ("/GMulti/Session/unref-in-handler", test_unref_in_handler);
  g_test_add_func ("/GMulti/Session/user-agent-injection", test_user_agent_injection);
  g_test_add_func ("/GMulti/Session/connect-timeout", test_session_connect_timeout);
  g_test_add_func ("/GMulti/Session/cancel-result", test_cancel_result);
  g_test_add_func ("/GMulti/Session/defaults-per-run", test_session_defaults_per_run);
  g_test_add_func ("/GMulti/Session/timeout-per-run", test_session_timeout_per_run);
  g_test_add_func ("/GMulti/Session/http-version", test_session_http_version);
  g_test_add_func ("/GMulti/Session/finished-marshal", test_finished_marshal);

  return g_test_run ();
}
