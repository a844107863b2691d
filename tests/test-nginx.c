/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "gmulti.h"
#include "engine-loop.h"
#include "test-coding-util.h"

/* The engine and the session against a real server: Debian's nginx on loopback,
 * started by tests/nginx/run-nginx-test.sh, serving files this test writes. */

#define N_FILES 120

static char *base_uri;
static const char *root;
static GPtrArray *contents;

static GBytes *
make_content (guint index)
{
  gsize size = 1 + index * 1021 + (index % 7) * 65536;
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) ((i * 131 + index) >> 3);
  return g_bytes_new_take (data, size);
}

static void
write_files (void)
{
  g_autofree char *dir = g_build_filename (root, "files", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  contents = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < N_FILES; i++)
    {
      g_autofree char *name = g_strdup_printf ("%u", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GBytes *content = make_content (i);

      g_assert_true (g_file_set_contents (path, g_bytes_get_data (content, NULL),
                                          g_bytes_get_size (content), NULL));
      g_chmod (path, 0644);
      g_ptr_array_add (contents, content);
    }

  /* One large file for a bulk transfer. */
  {
    g_autofree char *path = g_build_filename (root, "large", NULL);
    gsize size = 32 * 1024 * 1024;
    guint8 *data = g_malloc (size);

    for (gsize i = 0; i < size; i++)
      data[i] = (guint8) (i ^ (i >> 11));
    g_assert_true (g_file_set_contents (path, (char *) data, size, NULL));
    g_chmod (path, 0644);
    g_ptr_array_add (contents, g_bytes_new_take (data, size));
  }
}

/* Text to code: nginx gzips it under /gz/; /br/ and /zst/ hold it coded by the
 * libraries' own encoders. */
static GBytes *text_content;

static void
write_file (const char *subdir,
            const char *name,
            GBytes     *content)
{
  g_autofree char *dir = g_build_filename (root, subdir, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (content, NULL),
                                      g_bytes_get_size (content), NULL));
  g_chmod (path, 0644);
}

static void
write_coded_files (void)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; s->len < 3 * 1024 * 1024; i++)
    g_string_append_printf (s, "%u: the quick brown fox jumps over the lazy dog %u\n", i,
                            i % 1013);
  text_content = g_string_free_to_bytes (s);
  write_file ("gz", "text", text_content);
#if TEST_HAVE_ENCODERS
  {
    g_autoptr(GBytes) br = test_brotli_encode (text_content);
    g_autoptr(GBytes) zst = test_zstd_encode (text_content);

    write_file ("br", "text", br);
    write_file ("zst", "text", zst);
  }
#endif
}

static char *
uri_for (const char *path)
{
  return g_strconcat (base_uri, path, NULL);
}

static void
assert_body_equals (GMultiTransfer *transfer,
                    GBytes         *expected)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

  g_assert_nonnull (body);
  g_assert_true (g_bytes_equal (body, expected));
}

/* Many files at once through the raw engine, over a bounded number of kept-alive
 * connections. */
static void
test_engine_many_files (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);

  gmulti_engine_set_max_host_connections (loop->engine, 8);
  for (guint i = 0; i < N_FILES; i++)
    {
      g_autofree char *path = g_strdup_printf ("/files/%u", i);
      g_autofree char *uri = uri_for (path);
      GMultiTransfer *transfer = gmulti_transfer_new (uri);

      g_ptr_array_add (transfers, transfer);
      g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
    }
  g_assert_true (engine_loop_run (loop, 60000));
  g_assert_cmpuint (loop->messages->len, ==, N_FILES);
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
  for (guint i = 0; i < N_FILES; i++)
    {
      GMultiTransfer *transfer = transfers->pdata[i];

      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
      g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
      assert_body_equals (transfer, contents->pdata[i]);
    }
  /* Keep-alive: the 120 requests went over at most 8 connections. */
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), <=, 8);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==,
                    gmulti_engine_get_n_connections (loop->engine));
}

typedef struct {
  GMainLoop *loop;
  guint left;
} Waiter;

static void
finished_cb (GMultiSession  *session,
             GMultiTransfer *transfer,
             const GError   *error,
             Waiter         *waiter)
{
  if (--waiter->left == 0)
    g_main_loop_quit (waiter->loop);
}

static gboolean
timeout_cb (gpointer data)
{
  g_error ("the session did not finish in time");
  return G_SOURCE_REMOVE;
}

/* The session on a main loop: the large file, redirects, HEAD, conditional requests,
 * statuses and a method nginx refuses. */
static void
test_session_mixed (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMainLoop) main_loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *large_uri = uri_for ("/large");
  g_autofree char *old_uri = uri_for ("/old");
  g_autofree char *see_other_uri = uri_for ("/see-other");
  g_autofree char *teapot_uri = uri_for ("/teapot");
  g_autofree char *missing_uri = uri_for ("/missing");
  g_autofree char *file_uri = uri_for ("/files/3");
  g_autoptr(GMultiTransfer) large = gmulti_transfer_new (large_uri);
  g_autoptr(GMultiTransfer) old = gmulti_transfer_new (old_uri);
  g_autoptr(GMultiTransfer) see_other = gmulti_transfer_new (see_other_uri);
  g_autoptr(GMultiTransfer) teapot = gmulti_transfer_new (teapot_uri);
  g_autoptr(GMultiTransfer) missing = gmulti_transfer_new (missing_uri);
  g_autoptr(GMultiTransfer) head = gmulti_transfer_new (file_uri);
  g_autoptr(GMultiTransfer) post = gmulti_transfer_new (file_uri);
  g_autoptr(GBytes) post_body = g_bytes_new_static ("x=1", 3);
  GMultiTransfer *all[] = { large, old, see_other, teapot, missing, head, post };
  Waiter waiter = { main_loop, G_N_ELEMENTS (all) };
  guint timeout_id;

  gmulti_transfer_set_follow_redirects (old, TRUE);
  gmulti_transfer_set_follow_redirects (see_other, TRUE);
  g_assert_true (gmulti_transfer_set_method (head, "HEAD", NULL));
  g_assert_true (gmulti_transfer_set_method (post, "POST", NULL));
  gmulti_transfer_set_request_body (post, post_body);
  g_signal_connect (session, "transfer-finished", G_CALLBACK (finished_cb), &waiter);
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_assert_true (gmulti_session_add (session, all[i], NULL));

  timeout_id = g_timeout_add_seconds (60, timeout_cb, NULL);
  g_main_loop_run (main_loop);
  g_source_remove (timeout_id);

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_assert_no_error ((GError *) gmulti_transfer_get_error (all[i]));
  assert_body_equals (large, contents->pdata[N_FILES]);
  g_assert_cmpuint (gmulti_transfer_get_status (old), ==, 200);
  assert_body_equals (old, contents->pdata[1]);
  g_assert_true (g_str_has_suffix (gmulti_transfer_get_effective_uri (old), "/files/1"));
  assert_body_equals (see_other, contents->pdata[2]);
  g_assert_cmpuint (gmulti_transfer_get_status (teapot), ==, 418);
  g_assert_cmpuint (gmulti_transfer_get_status (missing), ==, 404);
  g_assert_cmpuint (gmulti_transfer_get_status (head), ==, 200);
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (head), ==, 0);
  {
    g_autofree char *length = g_strdup_printf ("%" G_GSIZE_FORMAT,
                                               g_bytes_get_size (contents->pdata[3]));

    g_assert_cmpstr (gmulti_headers_get_one (gmulti_transfer_get_response_headers (head),
                                             "Content-Length"), ==, length);
  }
  g_assert_cmpuint (gmulti_transfer_get_status (post), ==, 405);

  /* A conditional request with the ETag nginx gave: 304 without a body. */
  {
    const char *etag = gmulti_headers_get_one (gmulti_transfer_get_response_headers (head), "ETag");
    g_autoptr(GMultiTransfer) conditional = gmulti_transfer_new (file_uri);
    g_autoptr(GError) error = NULL;

    g_assert_nonnull (etag);
    g_assert_true (gmulti_transfer_add_request_header (conditional, "If-None-Match", etag, NULL));
    g_assert_true (gmulti_transfer_perform (conditional, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (gmulti_transfer_get_status (conditional), ==, 304);
    g_assert_cmpuint (gmulti_transfer_get_bytes_received (conditional), ==, 0);
  }
}

static void
run_in_session (GMultiSession  *session,
                GMultiTransfer *transfer)
{
  g_autoptr(GMainLoop) main_loop = g_main_loop_new (NULL, FALSE);
  Waiter waiter = { main_loop, 1 };
  gulong handler = g_signal_connect (session, "transfer-finished", G_CALLBACK (finished_cb),
                                     &waiter);
  guint timeout_id = g_timeout_add_seconds (60, timeout_cb, NULL);

  g_assert_true (gmulti_session_add (session, transfer, NULL));
  g_main_loop_run (main_loop);
  g_source_remove (timeout_id);
  g_signal_handler_disconnect (session, handler);
}

static gboolean
resume_cb (gpointer data)
{
  gmulti_transfer_resume (data);
  return G_SOURCE_REMOVE;
}

static void
pause_often_cb (GMultiTransfer *transfer,
                GBytes         *chunk,
                guint          *n)
{
  if ((*n)++ % 3 == 0)
    {
      gmulti_transfer_pause (transfer);
      g_timeout_add (2, resume_cb, transfer);
    }
}

/* nginx's gzip (chunked, as it codes on the fly), with pauses in the middle of the
 * body, and files coded beforehand and served with their Content-Encoding. */
static void
test_content_coding (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  static const char *const paths[] = { "/gz/text", "/br/text", "/zst/text" };
  static const char *const names[] = { "gzip", "br", "zstd" };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    for (guint pause = 0; pause < 2; pause++)
      {
        g_autofree char *uri = uri_for (paths[i]);
        g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);
        guint n_data = 0;

        if (i > 0 && !TEST_HAVE_ENCODERS)
          continue;
        if (pause)
          g_signal_connect (transfer, "data", G_CALLBACK (pause_often_cb), &n_data);
        run_in_session (session, transfer);
        g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
        g_assert_cmpstr (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                                 "Content-Encoding"), ==, names[i]);
        g_assert_true (gmulti_transfer_get_content_decoded (transfer));
        assert_body_equals (transfer, text_content);
        g_assert_cmpuint (gmulti_transfer_get_wire_bytes_received (transfer), <,
                          g_bytes_get_size (text_content) / 4);
        if (pause)
          g_assert_cmpuint (n_data, >, 10);
      }

  /* Raw: the coded bytes, as gzip itself decodes them. */
  {
    g_autofree char *uri = uri_for ("/gz/text");
    g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (uri);
    g_autoptr(GBytes) body = NULL;
    g_autoptr(GConverter) decompressor = NULL;
    g_autoptr(GInputStream) coded = NULL;
    g_autoptr(GInputStream) plain = NULL;
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
    g_autoptr(GBytes) decoded = NULL;

    gmulti_transfer_set_decode_content (transfer, FALSE);
    run_in_session (session, transfer);
    g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
    g_assert_false (gmulti_transfer_get_content_decoded (transfer));
    /* Without Accept-Encoding nginx sends it plain. */
    g_assert_null (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                           "Content-Encoding"));
    assert_body_equals (transfer, text_content);

    g_clear_object (&transfer);
    transfer = gmulti_transfer_new (uri);
    gmulti_transfer_set_decode_content (transfer, FALSE);
    g_assert_true (gmulti_transfer_add_request_header (transfer, "Accept-Encoding", "gzip",
                                                       NULL));
    run_in_session (session, transfer);
    body = gmulti_transfer_get_response_body (transfer);
    decompressor = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
    coded = g_memory_input_stream_new_from_bytes (body);
    plain = g_converter_input_stream_new (coded, decompressor);
    g_assert_cmpint (g_output_stream_splice (out, plain, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                             NULL, NULL), ==, g_bytes_get_size (text_content));
    decoded = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
    g_assert_true (g_bytes_equal (decoded, text_content));
  }
}

/* nginx on two Unix sockets: each its own pooled connection, content decoding on
 * top. */
static void
test_unix_socket (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  const char *first = g_getenv ("NGINX_SOCKET");
  const char *second = g_getenv ("NGINX_SOCKET2");
  guint64 first_id = 0, second_id = 0;

  g_assert_nonnull (first);
  g_assert_nonnull (second);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiTransfer) coded = gmulti_transfer_new ("http://localhost/gz/text");
      g_autoptr(GMultiTransfer) other = gmulti_transfer_new ("http://localhost/gz/text");
      g_autoptr(GBytes) body = NULL;
      GMultiMetrics *m;

      gmulti_transfer_set_unix_socket_path (coded, first);
      run_in_session (session, coded);
      g_assert_no_error ((GError *) gmulti_transfer_get_error (coded));
      g_assert_true (gmulti_transfer_get_content_decoded (coded));
      assert_body_equals (coded, text_content);
      m = gmulti_transfer_get_metrics (coded);
      if (i == 0)
        first_id = gmulti_metrics_get_connection_id (m);
      else
        g_assert_cmpuint (gmulti_metrics_get_connection_id (m), ==, first_id);

      gmulti_transfer_set_unix_socket_path (other, second);
      run_in_session (session, other);
      g_assert_no_error ((GError *) gmulti_transfer_get_error (other));
      body = gmulti_transfer_get_response_body (other);
      g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "second\n", 7);
      m = gmulti_transfer_get_metrics (other);
      if (i == 0)
        second_id = gmulti_metrics_get_connection_id (m);
      else
        g_assert_cmpuint (gmulti_metrics_get_connection_id (m), ==, second_id);
    }
  g_assert_cmpuint (first_id, !=, second_id);
}

int
main (int    argc,
      char **argv)
{
  const char *port = g_getenv ("NGINX_PORT");
  int status;

  g_test_init (&argc, &argv, NULL);
  root = g_getenv ("NGINX_ROOT");
  if (port == NULL || root == NULL)
    g_error ("run me through tests/nginx/run-nginx-test.sh");
  base_uri = g_strdup_printf ("http://127.0.0.1:%s", port);
  write_files ();
  write_coded_files ();

  g_test_add_func ("/GMulti/Nginx/engine-many-files", test_engine_many_files);
  g_test_add_func ("/GMulti/Nginx/session-mixed", test_session_mixed);
  g_test_add_func ("/GMulti/Nginx/content-coding", test_content_coding);
  g_test_add_func ("/GMulti/Nginx/unix-socket", test_unix_socket);

  status = g_test_run ();
  g_ptr_array_unref (contents);
  g_bytes_unref (text_content);
  g_free (base_uri);
  return status;
}
