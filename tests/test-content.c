/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti.h"
#include "test-server.h"
#include "test-wait.h"
#include "test-coding-util.h"

/* Content codings end to end through a session: what is offered in Accept-Encoding,
 * each coding and a stack of them undone, the raw switch, an unknown coding left as it
 * came, corrupt streams and bombs failing with their own codes, a pause in the middle
 * of a compressed body, and the wire and decoded counts kept apart. The scripted
 * server answers with whatever the test put in `reply`. */

#define WAIT_MS 10000

typedef struct {
  GMutex lock;
  char *headers;           /* extra response fields, "Name: value\r\n"... */
  GBytes *body;            /* as sent */
  gboolean chunked;        /* in 1000-byte chunks instead of with Content-Length */
  gboolean head_only;      /* the head of a HEAD response: Content-Length, no body */
} Reply;

static Reply reply;

static void
set_reply (const char *headers,
           GBytes     *body,
           gboolean    chunked)
{
  g_mutex_lock (&reply.lock);
  g_free (reply.headers);
  reply.headers = g_strdup (headers);
  g_clear_pointer (&reply.body, g_bytes_unref);
  reply.body = body != NULL ? g_bytes_ref (body) : g_bytes_new (NULL, 0);
  reply.chunked = chunked;
  reply.head_only = FALSE;
  g_mutex_unlock (&reply.lock);
}

static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  g_autofree char *headers = NULL;
  g_autoptr(GBytes) body = NULL;
  gboolean chunked, ok = TRUE;
  gsize size;
  const guint8 *data;

  g_mutex_lock (&reply.lock);
  headers = g_strdup (reply.headers != NULL ? reply.headers : "");
  body = g_bytes_ref (reply.body);
  chunked = reply.chunked;
  g_mutex_unlock (&reply.lock);

  data = g_bytes_get_data (body, &size);
  if (strcmp (req->method, "HEAD") == 0)
    return test_conn_printf (conn, "HTTP/1.1 200 OK\r\n%sContent-Length: %" G_GSIZE_FORMAT
                             "\r\n\r\n", headers, size);
  if (!chunked)
    return test_conn_respond_with_headers (conn, 200, headers, data, size);

  ok = test_conn_printf (conn, "HTTP/1.1 200 OK\r\n%sTransfer-Encoding: chunked\r\n\r\n",
                         headers);
  for (gsize off = 0; ok && off < size; off += 1000)
    ok = test_conn_write_chunk (conn, data + off, MIN (1000, size - off));
  return ok && test_conn_write_chunk (conn, NULL, 0);
}

/* Compressible, but not a single repeated byte. */
static GBytes *
text (gsize size)
{
  GString *s = g_string_sized_new (size + 64);

  for (guint i = 0; s->len < size; i++)
    g_string_append_printf (s, "line %u of the decoded body, %u\n", i, i % 97);
  g_string_truncate (s, size);
  return g_string_free_to_bytes (s);
}

typedef enum { GZIP, DEFLATE, BR, ZSTD } Coding;

static const char *coding_names[] = { "gzip", "deflate", "br", "zstd" };

static gboolean
have_coding (Coding coding)
{
#if !TEST_HAVE_ENCODERS
  if (coding == BR || coding == ZSTD)
    return FALSE;
#endif
  return (coding != BR || HAVE_BROTLI) && (coding != ZSTD || HAVE_ZSTD);
}

static GBytes *
encode (GBytes *plain,
        Coding  coding)
{
  switch (coding)
    {
    case GZIP:
      return test_zlib_encode (plain, TRUE);
    case DEFLATE:
      return test_zlib_encode (plain, FALSE);
#if TEST_HAVE_ENCODERS
    case BR:
      return test_brotli_encode (plain);
    case ZSTD:
      return test_zstd_encode (plain);
#endif
    default:
      g_assert_not_reached ();
    }
}

typedef struct {
  TestServer *server;
  GMultiSession *session;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  f->session = gmulti_session_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->session);
  test_server_free (f->server);
  g_mutex_lock (&reply.lock);
  g_clear_pointer (&reply.headers, g_free);
  g_clear_pointer (&reply.body, g_bytes_unref);
  g_mutex_unlock (&reply.lock);
}

static GMultiTransfer *
transfer_new (Fixture    *f,
              const char *path)
{
  g_autofree char *uri = test_server_uri (f->server, path);

  return gmulti_transfer_new (uri);
}

static void
run (Fixture        *f,
     GMultiTransfer *transfer)
{
  g_assert_true (gmulti_session_add (f->session, transfer, NULL));
  RUN_UNTIL (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE, WAIT_MS);
}

static void
assert_body (GMultiTransfer *transfer,
             GBytes         *expected)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_nonnull (body);
  g_assert_cmpuint (g_bytes_get_size (body), ==, g_bytes_get_size (expected));
  g_assert_true (g_bytes_equal (body, expected));
}

static const char *
last_header (Fixture    *f,
             const char *name)
{
  static char *value;
  g_autoptr(TestRequest) req = test_server_get_last_request (f->server);

  g_clear_pointer (&value, g_free);
  g_assert_nonnull (req);
  value = g_strdup (test_request_get_header (req, name));
  return value;
}

/* Each coding on its own, with Content-Length and chunked: the body comes back
 * decoded; bytes-expected, progress and the metrics' received count are the coded
 * (wire) figures, bytes-received and the decoded count the plain ones. */
static void
test_each_coding (Fixture       *f,
                  gconstpointer  data)
{
  Coding coding = GPOINTER_TO_UINT (data);
  g_autoptr(GBytes) plain = text (300 * 1024);
  g_autoptr(GBytes) coded = NULL;
  g_autofree char *headers = NULL;

  if (!have_coding (coding))
    {
      g_test_skip ("the build or the test lacks this coding's library");
      return;
    }
  coded = encode (plain, coding);
  headers = g_strdup_printf ("Content-Encoding: %s\r\n", coding_names[coding]);
  for (guint chunked = 0; chunked < 2; chunked++)
    {
      g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/coded");
      GMultiMetrics *metrics;

      set_reply (headers, coded, chunked);
      run (f, transfer);
      assert_body (transfer, plain);
      g_assert_true (gmulti_transfer_get_content_decoded (transfer));
      g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==,
                        g_bytes_get_size (plain));
      g_assert_cmpuint (gmulti_transfer_get_wire_bytes_received (transfer), ==,
                        g_bytes_get_size (coded));
      g_assert_cmpint (gmulti_transfer_get_bytes_expected (transfer), ==,
                       chunked ? -1 : (gint64) g_bytes_get_size (coded));
      if (!chunked)
        {
          double progress = 0;

          g_object_get (transfer, "progress", &progress, NULL);
          g_assert_cmpfloat (progress, ==, 1.0);
        }
      metrics = gmulti_transfer_get_metrics (transfer);
      g_assert_cmpuint (gmulti_metrics_get_body_bytes_received (metrics), ==,
                        g_bytes_get_size (coded));
      g_assert_cmpuint (gmulti_metrics_get_body_bytes_decoded (metrics), ==,
                        g_bytes_get_size (plain));
    }
}

/* A session offers what the build decodes, and the application's own field wins. */
static void
test_accept_encoding (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/plain");
  g_autoptr(GMultiTransfer) own = transfer_new (f, "/own");
  g_autoptr(GBytes) plain = text (1000);
  g_autoptr(GBytes) coded = test_zlib_encode (plain, TRUE);
  GString *expected = g_string_new ("gzip, deflate");

  if (HAVE_BROTLI)
    g_string_append (expected, ", br");
  if (HAVE_ZSTD)
    g_string_append (expected, ", zstd");

  set_reply (NULL, plain, FALSE);
  run (f, transfer);
  assert_body (transfer, plain);
  g_assert_cmpstr (last_header (f, "Accept-Encoding"), ==, expected->str);
  g_assert_false (gmulti_transfer_get_content_decoded (transfer));
  g_string_free (expected, TRUE);

  /* Sent as given, once; the gzip it allows is still undone. */
  set_reply ("Content-Encoding: gzip\r\n", coded, FALSE);
  g_assert_true (gmulti_transfer_add_request_header (own, "Accept-Encoding", "gzip;q=1", NULL));
  run (f, own);
  assert_body (own, plain);
  g_assert_cmpstr (last_header (f, "Accept-Encoding"), ==, "gzip;q=1");
  {
    g_autoptr(TestRequest) req = test_server_get_last_request (f->server);
    g_assert_null (strstr (req->raw_head, "Accept-Encoding: gzip, deflate"));
  }
}

/* Off per transfer or for the session: no Accept-Encoding, the coded bytes as they
 * came, and no claim that they were decoded. */
static void
test_raw (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GBytes) plain = text (50 * 1024);
  g_autoptr(GBytes) coded = test_zlib_encode (plain, TRUE);
  g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/raw");
  g_autoptr(GMultiTransfer) by_session = transfer_new (f, "/raw");
  g_autoptr(GMultiTransfer) again_on = transfer_new (f, "/raw");

  set_reply ("Content-Encoding: gzip\r\n", coded, FALSE);
  gmulti_transfer_set_decode_content (transfer, FALSE);
  g_assert_false (gmulti_transfer_get_decode_content (transfer));
  run (f, transfer);
  assert_body (transfer, coded);
  g_assert_null (last_header (f, "Accept-Encoding"));
  g_assert_false (gmulti_transfer_get_content_decoded (transfer));
  g_assert_cmpuint (gmulti_transfer_get_wire_bytes_received (transfer), ==,
                    g_bytes_get_size (coded));

  g_assert_true (gmulti_session_get_decode_content (f->session));
  gmulti_session_set_decode_content (f->session, FALSE);
  run (f, by_session);
  assert_body (by_session, coded);
  g_assert_null (last_header (f, "Accept-Encoding"));

  /* The transfer's own setting beats the session's. */
  gmulti_transfer_set_decode_content (again_on, TRUE);
  run (f, again_on);
  assert_body (again_on, plain);
  g_assert_nonnull (last_header (f, "Accept-Encoding"));
}

/* Several codings, undone last first; identity is no coding. */
static void
test_stacked (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GBytes) plain = text (200 * 1024);
  g_autoptr(GBytes) gz = test_zlib_encode (plain, TRUE);
  g_autoptr(GBytes) both = NULL;
  g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/stacked");
  g_autoptr(GMultiTransfer) two_fields = transfer_new (f, "/stacked");
  Coding second = have_coding (BR) ? BR : DEFLATE;
  g_autofree char *headers = NULL;
  g_autofree char *split = NULL;

  both = encode (gz, second);
  headers = g_strdup_printf ("Content-Encoding: identity, gzip, %s\r\n", coding_names[second]);
  set_reply (headers, both, TRUE);
  run (f, transfer);
  assert_body (transfer, plain);
  g_assert_true (gmulti_transfer_get_content_decoded (transfer));

  /* The same list in two fields. */
  split = g_strdup_printf ("Content-Encoding: gzip\r\nContent-Encoding: %s\r\n",
                           coding_names[second]);
  set_reply (split, both, FALSE);
  run (f, two_fields);
  assert_body (two_fields, plain);
}

/* A coding gmulti does not know: the body as it came, the field says which, and the
 * getter says it was not decoded. */
static void
test_unknown (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GBytes) plain = text (10 * 1024);
  g_autoptr(GBytes) gz = test_zlib_encode (plain, TRUE);
  g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/unknown");
  g_autoptr(GMultiTransfer) mixed = transfer_new (f, "/unknown");
  GMultiHeaders *headers;

  set_reply ("Content-Encoding: compress\r\n", plain, FALSE);
  run (f, transfer);
  assert_body (transfer, plain);
  g_assert_false (gmulti_transfer_get_content_decoded (transfer));
  headers = gmulti_transfer_get_response_headers (transfer);
  g_assert_cmpstr (gmulti_headers_get_one (headers, "Content-Encoding"), ==, "compress");

  /* One unknown coding in a stack leaves all of them: none can be undone in order. */
  set_reply ("Content-Encoding: gzip, x-unknown\r\n", gz, FALSE);
  run (f, mixed);
  assert_body (mixed, gz);
  g_assert_false (gmulti_transfer_get_content_decoded (mixed));
}

/* Corrupt, cut short, or with bytes after the end: GMULTI_ERROR_CONTENT_DECODING. */
static void
test_corrupt (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GBytes) plain = text (100 * 1024);
  g_autoptr(GBytes) gz = test_zlib_encode (plain, TRUE);
  gsize size = g_bytes_get_size (gz);
  guint8 *bad = g_memdup2 (g_bytes_get_data (gz, NULL), size);
  g_autoptr(GBytes) flipped = NULL;
  g_autoptr(GBytes) cut = g_bytes_new_from_bytes (gz, 0, size / 2);
  g_autoptr(GBytes) trailing = NULL;
  GBytes *cases[3];
  g_autoptr(GByteArray) extra = g_byte_array_new ();
  g_autoptr(GBytes) zl = test_zlib_encode (plain, FALSE);

  /* A flipped byte inside the deflate data. */
  bad[size / 3] ^= 0x55;
  flipped = g_bytes_new_take (bad, size);
  /* A zlib stream may not be followed by anything. */
  g_byte_array_append (extra, g_bytes_get_data (zl, NULL), g_bytes_get_size (zl));
  g_byte_array_append (extra, (const guint8 *) "junk", 4);
  trailing = g_bytes_new (extra->data, extra->len);

  cases[0] = flipped;
  cases[1] = cut;
  cases[2] = trailing;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/corrupt");
      const GError *error;

      set_reply (i == 2 ? "Content-Encoding: deflate\r\n" : "Content-Encoding: gzip\r\n",
                 cases[i], i == 1);
      run (f, transfer);
      error = gmulti_transfer_get_error (transfer);
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CONTENT_DECODING);
      g_test_message ("%s", error->message);
    }

  /* The next transfer on the same session is fine. */
  {
    g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/fine");

    set_reply ("Content-Encoding: gzip\r\n", gz, FALSE);
    run (f, transfer);
    assert_body (transfer, plain);
  }
}

/* A small body of one repeated byte that decodes to far more: the expansion ratio
 * limit stops it, and so does the decoded-size limit; lifted, it decodes. */
static void
test_bomb (Fixture       *f,
           gconstpointer  data)
{
  gsize plain_size = 24 * 1024 * 1024;
  g_autoptr(GBytes) zeros = g_bytes_new_take (g_malloc0 (plain_size), plain_size);
  g_autoptr(GBytes) gz = test_zlib_encode (zeros, TRUE);
  g_autoptr(GBytes) small = text (2 * 1024 * 1024);
  g_autoptr(GBytes) small_gz = test_zlib_encode (small, TRUE);
  g_autoptr(GMultiTransfer) ratio = transfer_new (f, "/bomb");
  g_autoptr(GMultiTransfer) size = transfer_new (f, "/bomb");
  g_autoptr(GMultiTransfer) lifted = transfer_new (f, "/bomb");

  /* Defaults: gzip expands zeros about 1000 times. */
  g_assert_cmpuint (gmulti_session_get_max_decode_ratio (f->session), ==, 1000);
  g_assert_cmpuint (gmulti_session_get_max_decoded_size (f->session), ==,
                    G_GUINT64_CONSTANT (4) << 30);
  gmulti_session_set_max_decode_ratio (f->session, 100);
  set_reply ("Content-Encoding: gzip\r\n", gz, FALSE);
  run (f, ratio);
  g_assert_error (gmulti_transfer_get_error (ratio), GMULTI_ERROR,
                  GMULTI_ERROR_DECODED_TOO_LARGE);
  /* Stopped early: far less than the whole was delivered. */
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (ratio), <, plain_size / 4);

  gmulti_session_set_max_decode_ratio (f->session, 0);
  gmulti_session_set_max_decoded_size (f->session, 1024 * 1024);
  set_reply ("Content-Encoding: gzip\r\n", small_gz, FALSE);
  run (f, size);
  g_assert_error (gmulti_transfer_get_error (size), GMULTI_ERROR,
                  GMULTI_ERROR_DECODED_TOO_LARGE);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (size), <=, 1024 * 1024);

  gmulti_session_set_max_decoded_size (f->session, 0);
  set_reply ("Content-Encoding: gzip\r\n", gz, FALSE);
  gmulti_transfer_set_collect_body (lifted, FALSE);
  run (f, lifted);
  g_assert_no_error (gmulti_transfer_get_error (lifted));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (lifted), ==, plain_size);
}

typedef struct {
  GByteArray *got;
  guint n_pauses;
  guint resume_id;
} PauseState;

static gboolean
resume_cb (gpointer user_data)
{
  GMultiTransfer *transfer = user_data;

  gmulti_transfer_resume (transfer);
  return G_SOURCE_REMOVE;
}

static void
pause_data_cb (GMultiTransfer *transfer,
               GBytes         *chunk,
               PauseState     *state)
{
  g_byte_array_append (state->got, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  /* Every fourth piece: pause, resume a little later from the main loop. */
  if (g_bytes_get_size (chunk) > 0 && ++state->n_pauses % 4 == 1)
    {
      gmulti_transfer_pause (transfer);
      g_timeout_add (5, resume_cb, transfer);
    }
}

/* Pauses in the middle of a compressed body (Content-Length and chunked, each coding):
 * every byte comes back once, in order. */
static void
test_pause (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GBytes) plain = text (1024 * 1024);

  for (Coding coding = GZIP; coding <= ZSTD; coding++)
    {
      g_autoptr(GBytes) coded = NULL;
      g_autofree char *headers = NULL;

      if (!have_coding (coding))
        continue;
      coded = encode (plain, coding);
      headers = g_strdup_printf ("Content-Encoding: %s\r\n", coding_names[coding]);
      for (guint chunked = 0; chunked < 2; chunked++)
        {
          g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/pause");
          PauseState state = { g_byte_array_new (), 0, 0 };
          g_autoptr(GBytes) got = NULL;

          g_signal_connect (transfer, "data", G_CALLBACK (pause_data_cb), &state);
          set_reply (headers, coded, chunked);
          run (f, transfer);
          g_assert_no_error (gmulti_transfer_get_error (transfer));
          g_assert_cmpuint (state.n_pauses, >, 4);
          got = g_byte_array_free_to_bytes (state.got);
          g_assert_true (g_bytes_equal (got, plain));
          assert_body (transfer, plain);
          g_signal_handlers_disconnect_by_data (transfer, &state);
        }
    }
}

/* HEAD: Content-Length is the coded size and no body follows: nothing to decode, and
 * the connection stays usable. */
static void
test_head (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GBytes) plain = text (10 * 1024);
  g_autoptr(GBytes) gz = test_zlib_encode (plain, TRUE);
  g_autoptr(GMultiTransfer) transfer = transfer_new (f, "/head");

  set_reply ("Content-Encoding: gzip\r\n", gz, FALSE);
  g_assert_true (gmulti_transfer_set_method (transfer, "HEAD", NULL));
  run (f, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (g_ascii_strtoull (gmulti_headers_get_one (
                      gmulti_transfer_get_response_headers (transfer), "Content-Length"),
                      NULL, 10), ==, g_bytes_get_size (gz));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 0);
  g_assert_false (gmulti_transfer_get_content_decoded (transfer));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (Coding coding = GZIP; coding <= ZSTD; coding++)
    {
      g_autofree char *path = g_strdup_printf ("/GMulti/Content/coding/%s",
                                               coding_names[coding]);

      g_test_add (path, Fixture, GUINT_TO_POINTER (coding), fixture_set_up,
                  test_each_coding, fixture_tear_down);
    }
#define ADD(path, func) \
  g_test_add ("/GMulti/Content/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("accept-encoding", test_accept_encoding);
  ADD ("raw", test_raw);
  ADD ("stacked", test_stacked);
  ADD ("unknown", test_unknown);
  ADD ("corrupt", test_corrupt);
  ADD ("bomb", test_bomb);
  ADD ("pause", test_pause);
  ADD ("head", test_head);
#undef ADD
  return g_test_run ();
}
