/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti.h"
#include "engine-loop.h"
#include "test-server.h"
#include "test-certs.h"

/* Long bodies over http:// and https://: a socket low-water mark that must never
 * outlast the body (the tail arrives in small, slow pieces, then a small response on
 * the same connection), checked byte for byte. */

#define WAIT_MS 60000
/* Larger than the engine's low-water range, so the mark is set, then lowered. */
#define FAST_PART (700 * 1024)
#define TAIL_PIECES 6
#define TAIL_PIECE 9001
#define STALL_TAIL (300 * 1024)
#define STALL_MS 1500

static char *certs_dir;

static guint8
pattern_byte (guint64 i)
{
  return (guint8) ((i * 2654435761u) >> 13);
}

static guint8 *
pattern (gsize length)
{
  guint8 *data = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    data[i] = pattern_byte (i);
  return data;
}

/* /stall: FAST_PART bytes at once, a pause of STALL_MS, then STALL_TAIL bytes;
 * /slow-tail: FAST_PART bytes at once, then TAIL_PIECES pieces 80 ms apart;
 * /small: "small". Keep-alive throughout. */
static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  if (g_str_equal (req->target, "/slow-tail"))
    {
      gsize total = FAST_PART + TAIL_PIECES * TAIL_PIECE;
      g_autofree guint8 *body = pattern (total);

      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                        total);
      if (!test_conn_write (conn, body, FAST_PART))
        return FALSE;
      for (guint i = 0; i < TAIL_PIECES; i++)
        {
          test_conn_sleep (conn, 80);
          if (!test_conn_write (conn, body + FAST_PART + i * TAIL_PIECE, TAIL_PIECE))
            return FALSE;
        }
      return TRUE;
    }
  if (g_str_equal (req->target, "/stall"))
    {
      gsize total = FAST_PART + STALL_TAIL;
      g_autofree guint8 *body = pattern (total);

      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                        total);
      if (!test_conn_write (conn, body, FAST_PART))
        return FALSE;
      test_conn_sleep (conn, STALL_MS);
      return test_conn_write (conn, body + FAST_PART, STALL_TAIL);
    }
  if (g_str_equal (req->target, "/small"))
    return test_conn_respond (conn, 200, "text/plain", "small", 5);
  return test_conn_respond (conn, 404, NULL, NULL, 0);
}

static TestServer *
start_server (gboolean tls)
{
  g_autofree char *cert_file = NULL;
  g_autofree char *key_file = NULL;
  TestTlsOptions options = { 0 };

  if (!tls)
    return test_server_new (TEST_SERVER_IPV4, handler, NULL);

  cert_file = g_build_filename (certs_dir, "server.pem", NULL);
  key_file = g_build_filename (certs_dir, "server-key.pem", NULL);
  options.cert_file = cert_file;
  options.key_file = key_file;
  return test_server_new_tls (TEST_SERVER_IPV4, &options, handler, NULL);
}

static GMultiTransfer *
new_transfer (TestServer *server,
              const char *path)
{
  g_autofree char *uri = test_server_uri (server, path);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  if (test_server_is_tls (server))
    {
      g_autofree char *ca = g_build_filename (certs_dir, "ca.pem", NULL);

      gmulti_transfer_set_tls_ca_file (transfer, ca);
    }
  return transfer;
}

static void
run_transfer (EngineLoop     *loop,
              GMultiTransfer *transfer)
{
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static void
check_slow_tail (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  g_autoptr(TestServer) server = start_server (tls);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) first = new_transfer (server, "/slow-tail");
  g_autoptr(GMultiTransfer) second = new_transfer (server, "/small");
  gsize total = FAST_PART + TAIL_PIECES * TAIL_PIECE;
  g_autofree guint8 *expected = pattern (total);
  gint64 start = g_get_monotonic_time ();

  gmulti_transfer_set_collect_body (first, TRUE);
  gmulti_transfer_set_collect_body (second, TRUE);

  run_transfer (loop, first);
  {
    g_autoptr(GBytes) body = gmulti_transfer_get_response_body (first);

    g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), expected, total);
  }

  /* The same connection: a mark left behind would hold back this short answer. */
  run_transfer (loop, second);
  {
    g_autoptr(GBytes) body = gmulti_transfer_get_response_body (second);

    g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "small", 5);
  }
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);

  /* A mark above what is left would wait for the server's idle timeout (10 s). */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* The server pauses in the middle of a fast body: what arrived before the pause is
 * handed out during it, not held back by a low-water mark until more comes. */
static void
check_stall (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  g_autoptr(TestServer) server = start_server (tls);
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = new_transfer (server, "/stall");
  gint64 start = g_get_monotonic_time ();
  gint64 during = start + (STALL_MS - 300) * 1000;

  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  while (gmulti_transfer_get_bytes_received (transfer) < FAST_PART &&
         g_get_monotonic_time () < during)
    engine_loop_iterate (loop, 20);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, FAST_PART);

  g_assert_true (engine_loop_run_until_done (loop, transfer, WAIT_MS));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, FAST_PART + STALL_TAIL);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  certs_dir = test_certs_make ();

  g_test_add_data_func ("/GMulti/Bulk/http/slow-tail", GINT_TO_POINTER (FALSE),
                        check_slow_tail);
  g_test_add_data_func ("/GMulti/Bulk/https/slow-tail", GINT_TO_POINTER (TRUE),
                        check_slow_tail);

  g_test_add_data_func ("/GMulti/Bulk/http/stall", GINT_TO_POINTER (FALSE), check_stall);
  g_test_add_data_func ("/GMulti/Bulk/https/stall", GINT_TO_POINTER (TRUE), check_stall);

  status = g_test_run ();
  test_certs_remove (g_steal_pointer (&certs_dir));
  return status;
}
