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
          if (!test_conn_write (conn, big_data () + i * (BIG_SIZE / 20), BIG_SIZE / 20))
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

  return g_test_run ();
}
