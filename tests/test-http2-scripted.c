/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti.h"
#include "engine-loop.h"
#include "test-server.h"

/* HTTP/2 against a scripted loopback server that writes frames by hand: what real
 * servers rarely send (refused streams, resets, GOAWAY at awkward moments, broken
 * frames, floods) and exact orderings (a reset seen before the next answer). */

static guint64
connection_of (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (transfer));
}

static void
run_all (EngineLoop *loop)
{
  g_assert_true (engine_loop_run (loop, 60000));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

static void
iterate_until (EngineLoop *loop,
               gboolean  (*done) (gpointer),
               gpointer    data)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!done (data) && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_true (done (data));
}

/* Frames a scripted server writes by hand. HPACK: 0x88 is ":status: 200" from the
 * static table. */
enum {
  FRAME_DATA = 0,
  FRAME_HEADERS = 1,
  FRAME_RST_STREAM = 3,
  FRAME_SETTINGS = 4,
  FRAME_GOAWAY = 7,
};
#define FLAG_END_STREAM 0x1
#define FLAG_END_HEADERS 0x4

typedef enum {
  SCRIPT_REFUSED,           /* RST_STREAM REFUSED_STREAM, then a 200 on a new connection */
  SCRIPT_RESET,             /* RST_STREAM INTERNAL_ERROR */
  SCRIPT_GOAWAY_UNTAKEN,    /* GOAWAY last=0 and close, then a 200 on a new connection */
  SCRIPT_GOAWAY_TAKEN,      /* a head, GOAWAY last=1, close */
  SCRIPT_BAD_FRAME,         /* a SETTINGS frame of a length no SETTINGS can have */
  SCRIPT_HEADER_FLOOD,      /* a head of 300 fields */
  SCRIPT_SHORT_BODY,        /* Content-Length 10, 3 bytes */
  SCRIPT_CANCEL_FIRST,      /* two requests; a 200 on stream 3 once stream 1 is reset */
  SCRIPT_DRAIN,             /* one stream at most; a head, GOAWAY last=1, and the body only
                               once a second connection served its request */
} Script;

/* What the scripted server saw, for the test's thread. */
static gint script_saw_both;    /* the heads of streams 1 and 3 */
static gint script_cancel_code; /* of the client's RST_STREAM on stream 1; -1: none */
static gint script_second_done; /* the second connection answered */

static void
write_frame (TestConn     *conn,
             guint8        type,
             guint8        flags,
             guint32       stream,
             const guint8 *payload,
             gsize         len)
{
  guint8 head[9] = {
    (guint8) (len >> 16), (guint8) (len >> 8), (guint8) len, type, flags,
    (guint8) ((stream >> 24) & 0x7f), (guint8) (stream >> 16), (guint8) (stream >> 8),
    (guint8) stream,
  };

  test_conn_write (conn, head, sizeof head);
  if (len > 0)
    test_conn_write (conn, payload, len);
}

static void
write_u32 (guint8  *out,
           guint32  value)
{
  out[0] = (guint8) (value >> 24);
  out[1] = (guint8) (value >> 16);
  out[2] = (guint8) (value >> 8);
  out[3] = (guint8) value;
}

/* The client's bytes, read on as a script needs them: the preface, then frames. */
typedef struct {
  GByteArray *in;
  gsize pos;
} FrameReader;

/* Reads up to the next frame of @type on @stream (any stream: 0) and returns its
 * payload's offset in reader->in, or 0 when the client went away. */
static gsize
read_frame_until (TestConn    *conn,
                  FrameReader *reader,
                  guint8       type,
                  guint32      stream)
{
  for (;;)
    {
      while (reader->in->len >= reader->pos + 9)
        {
          const guint8 *h = reader->in->data + reader->pos;
          gsize len = ((gsize) h[0] << 16) | ((gsize) h[1] << 8) | h[2];
          guint32 id = ((guint32) (h[5] & 0x7f) << 24) | ((guint32) h[6] << 16) |
                       ((guint32) h[7] << 8) | h[8];
          gsize payload = reader->pos + 9;

          if (reader->in->len < payload + len)
            break;
          reader->pos = payload + len;
          if (h[3] == type && (stream == 0 || id == stream))
            return payload;
        }
      {
        g_autoptr(GBytes) some = test_conn_read_some (conn, 5000);

        if (some == NULL)
          return 0;
        g_byte_array_append (reader->in, g_bytes_get_data (some, NULL),
                             g_bytes_get_size (some));
      }
    }
}

/* Reads the client's preface and frames up to its first header block. */
static gboolean
read_request_frames (TestConn    *conn,
                     FrameReader *reader)
{
  reader->in = g_byte_array_new ();
  reader->pos = 24;
  return read_frame_until (conn, reader, FRAME_HEADERS, 0) > 0;
}

static void
respond_200 (TestConn *conn)
{
  static const guint8 status_200[] = { 0x88 };

  write_frame (conn, FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, status_200, 1);
}

static void
script_handler (TestServer *server,
                TestConn   *conn,
                gpointer    user_data)
{
  Script script = GPOINTER_TO_INT (user_data);
  gboolean first = test_conn_get_id (conn) == 1;
  g_autoptr(GByteArray) in = NULL;
  FrameReader reader;
  guint8 payload[8];

  if (!read_request_frames (conn, &reader))
    {
      g_clear_pointer (&reader.in, g_byte_array_unref);
      return;
    }
  in = reader.in;
  if (script == SCRIPT_DRAIN && first)
    {
      /* SETTINGS_MAX_CONCURRENT_STREAMS = 1 */
      static const guint8 one_stream[] = { 0, 3, 0, 0, 0, 1 };

      write_frame (conn, FRAME_SETTINGS, 0, 0, one_stream, sizeof one_stream);
    }
  else
    write_frame (conn, FRAME_SETTINGS, 0, 0, NULL, 0);
  write_frame (conn, FRAME_SETTINGS, 0x1, 0, NULL, 0);

  switch (script)
    {
    case SCRIPT_REFUSED:
    case SCRIPT_RESET:
      if (script == SCRIPT_REFUSED && !first)
        {
          respond_200 (conn);
          break;
        }
      write_u32 (payload, script == SCRIPT_REFUSED ? 7 : 2);
      write_frame (conn, FRAME_RST_STREAM, 0, 1, payload, 4);
      break;
    case SCRIPT_GOAWAY_UNTAKEN:
      if (!first)
        {
          respond_200 (conn);
          break;
        }
      write_u32 (payload, 0);
      write_u32 (payload + 4, 0);
      write_frame (conn, FRAME_GOAWAY, 0, 0, payload, 8);
      test_conn_close (conn);
      return;
    case SCRIPT_GOAWAY_TAKEN:
      {
        static const guint8 status_200[] = { 0x88 };

        write_frame (conn, FRAME_HEADERS, FLAG_END_HEADERS, 1, status_200, 1);
        write_u32 (payload, 1);
        write_u32 (payload + 4, 0);
        write_frame (conn, FRAME_GOAWAY, 0, 0, payload, 8);
        test_conn_close (conn);
        return;
      }
    case SCRIPT_BAD_FRAME:
      memset (payload, 0, sizeof payload);
      write_frame (conn, FRAME_SETTINGS, 0, 0, payload, 5);
      break;
    case SCRIPT_HEADER_FLOOD:
      {
        g_autoptr(GByteArray) block = g_byte_array_new ();
        static const guint8 status_200[] = { 0x88 };

        g_byte_array_append (block, status_200, 1);
        for (guint i = 0; i < 300; i++)
          {
            /* Literal field without indexing, new name "x-NNN", value "v". */
            char name[8];
            guint8 lengths[2] = { 0x00, 5 };

            g_snprintf (name, sizeof name, "x-%03u", i);
            g_byte_array_append (block, lengths, 2);
            g_byte_array_append (block, (const guint8 *) name, 5);
            lengths[0] = 1;
            g_byte_array_append (block, lengths, 1);
            g_byte_array_append (block, (const guint8 *) "v", 1);
          }
        write_frame (conn, FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, block->data,
                     block->len);
        break;
      }
    case SCRIPT_SHORT_BODY:
      {
        /* ":status: 200", then content-length (static name 28) "10". */
        static const guint8 head[] = { 0x88, 0x0f, 0x0d, 2, '1', '0' };

        write_frame (conn, FRAME_HEADERS, FLAG_END_HEADERS, 1, head, sizeof head);
        write_frame (conn, FRAME_DATA, FLAG_END_STREAM, 1, (const guint8 *) "abc", 3);
        break;
      }
    case SCRIPT_CANCEL_FIRST:
      {
        static const guint8 status_200[] = { 0x88 };
        gsize at;

        if (read_frame_until (conn, &reader, FRAME_HEADERS, 3) == 0)
          return;
        g_atomic_int_set (&script_saw_both, 1);
        at = read_frame_until (conn, &reader, FRAME_RST_STREAM, 1);
        if (at == 0)
          return;
        g_atomic_int_set (&script_cancel_code, (gint) in->data[at + 3]);
        write_frame (conn, FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 3, status_200, 1);
        break;
      }
    case SCRIPT_DRAIN:
      {
        static const guint8 status_200[] = { 0x88 };

        if (!first)
          {
            respond_200 (conn);
            g_atomic_int_set (&script_second_done, 1);
            break;
          }
        write_frame (conn, FRAME_HEADERS, FLAG_END_HEADERS, 1, status_200, 1);
        write_u32 (payload, 1);
        write_u32 (payload + 4, 0);
        write_frame (conn, FRAME_GOAWAY, 0, 0, payload, 8);
        /* Bounded: without its own connection the waiter would wait for this one. */
        for (guint i = 0; i < 200 && !g_atomic_int_get (&script_second_done); i++)
          test_conn_sleep (conn, 10);
        write_frame (conn, FRAME_DATA, FLAG_END_STREAM, 1, (const guint8 *) "abc", 3);
        break;
      }
    default:
      g_assert_not_reached ();
    }
  test_conn_wait_client_close (conn, 10000);
}

static GMultiTransfer *
run_script (Script        script,
            const char   *method,
            TestServer  **server_out,
            EngineLoop   *loop)
{
  TestServer *server = test_server_new_raw (TEST_SERVER_IPV4, script_handler,
                                            GINT_TO_POINTER (script));
  g_autofree char *uri = test_server_uri (server, "/s");
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  gmulti_transfer_set_http_version (transfer, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
  if (method != NULL)
    {
      g_autoptr(GBytes) body = g_bytes_new_static ("x=1", 3);

      g_assert_true (gmulti_transfer_set_method (transfer, method, NULL));
      gmulti_transfer_set_request_body (transfer, body);
    }
  gmulti_engine_add (loop->engine, transfer);
  run_all (loop);
  *server_out = server;
  return transfer;
}

/* A refused stream was not acted on: it goes again on a new connection, a POST too. */
static void
test_refused (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(TestServer) server = NULL;
  g_autoptr(GMultiTransfer) transfer = run_script (SCRIPT_REFUSED, "POST", &server, loop);

  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
}

/* The server reset the stream: that transfer fails, the connection stays pooled. */
static void
test_reset (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(TestServer) server = NULL;
  g_autoptr(GMultiTransfer) transfer = run_script (SCRIPT_RESET, NULL, &server, loop);
  const GError *error = gmulti_transfer_get_error (transfer);

  g_assert_error ((GError *) error, GMULTI_ERROR, GMULTI_ERROR_HTTP2_STREAM_RESET);
  g_assert_nonnull (strstr (error->message, "INTERNAL_ERROR"));
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);
}

static void
test_goaway (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(TestServer) server = NULL;
  g_autoptr(TestServer) server2 = NULL;
  g_autoptr(GMultiTransfer) untaken = run_script (SCRIPT_GOAWAY_UNTAKEN, NULL, &server, loop);
  g_autoptr(GMultiTransfer) taken = run_script (SCRIPT_GOAWAY_TAKEN, NULL, &server2, loop);

  /* Above the last stream id: retried on a new connection. */
  g_assert_no_error ((GError *) gmulti_transfer_get_error (untaken));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
  /* Taken, then cut off by the shutdown. */
  g_assert_error ((GError *) gmulti_transfer_get_error (taken), GMULTI_ERROR,
                  GMULTI_ERROR_HTTP2_GOAWAY);
  g_assert_cmpuint (test_server_get_n_accepted (server2), ==, 1);
}

static void
test_broken_server (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(TestServer) server1 = NULL;
  g_autoptr(TestServer) server2 = NULL;
  g_autoptr(TestServer) server3 = NULL;
  g_autoptr(GMultiTransfer) bad_frame = run_script (SCRIPT_BAD_FRAME, NULL, &server1, loop);
  g_autoptr(GMultiTransfer) flood = run_script (SCRIPT_HEADER_FLOOD, NULL, &server2, loop);
  g_autoptr(GMultiTransfer) short_body = run_script (SCRIPT_SHORT_BODY, NULL, &server3, loop);

  g_assert_error ((GError *) gmulti_transfer_get_error (bad_frame), GMULTI_ERROR,
                  GMULTI_ERROR_HTTP2_CONNECTION_ERROR);
  g_assert_error ((GError *) gmulti_transfer_get_error (flood), GMULTI_ERROR,
                  GMULTI_ERROR_HEADERS_TOO_LARGE);
  g_assert_error ((GError *) gmulti_transfer_get_error (short_body), GMULTI_ERROR,
                  GMULTI_ERROR_PROTOCOL);
}

static gboolean
saw_both (gpointer data)
{
  return g_atomic_int_get (&script_saw_both) != 0;
}

/* Removed before any of its response arrived: its stream is cancelled (RST_STREAM
 * CANCEL), its sibling on the same connection completes, the connection is pooled. */
static void
test_cancel_before_head (void)
{
  g_autoptr(TestServer) server = test_server_new_raw (TEST_SERVER_IPV4, script_handler,
                                                      GINT_TO_POINTER (SCRIPT_CANCEL_FIRST));
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *uri_a = test_server_uri (server, "/a");
  g_autofree char *uri_b = test_server_uri (server, "/b");
  g_autoptr(GMultiTransfer) a = gmulti_transfer_new (uri_a);
  g_autoptr(GMultiTransfer) b = gmulti_transfer_new (uri_b);

  g_atomic_int_set (&script_saw_both, 0);
  g_atomic_int_set (&script_cancel_code, -1);
  gmulti_transfer_set_http_version (a, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
  gmulti_transfer_set_http_version (b, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
  gmulti_engine_add (loop->engine, a);
  gmulti_engine_add (loop->engine, b);
  iterate_until (loop, saw_both, NULL);
  g_assert_cmpuint (gmulti_transfer_get_status (a), ==, 0);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, a), ==, GMULTI_ENGINE_OK);
  run_all (loop);

  g_assert_no_error ((GError *) gmulti_transfer_get_error (b));
  g_assert_cmpuint (gmulti_transfer_get_status (b), ==, 200);
  g_assert_cmpint (g_atomic_int_get (&script_cancel_code), ==, 8 /* CANCEL */);
  g_assert_cmpuint (connection_of (a), ==, connection_of (b));
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);
}

static gboolean
has_status (gpointer data)
{
  return gmulti_transfer_get_status (data) != 0;
}

/* A connection that got GOAWAY finishes its streams but takes no new one: the origin's
 * next transfer opens a connection at once instead of waiting for it to close. */
static void
test_goaway_drain (void)
{
  g_autoptr(TestServer) server = test_server_new_raw (TEST_SERVER_IPV4, script_handler,
                                                      GINT_TO_POINTER (SCRIPT_DRAIN));
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autofree char *uri = test_server_uri (server, "/d");
  g_autoptr(GMultiTransfer) draining = gmulti_transfer_new (uri);
  g_autoptr(GMultiTransfer) next = gmulti_transfer_new (uri);

  g_atomic_int_set (&script_second_done, 0);
  gmulti_transfer_set_http_version (draining, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
  gmulti_transfer_set_http_version (next, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
  gmulti_engine_add (loop->engine, draining);
  iterate_until (loop, has_status, draining);
  gmulti_engine_add (loop->engine, next);
  g_assert_true (engine_loop_run_until_done (loop, next, 20000));
  /* Served while the first stream was still under way. */
  g_assert_no_error ((GError *) gmulti_transfer_get_error (next));
  g_assert_cmpint (gmulti_transfer_get_state (draining), !=, GMULTI_TRANSFER_DONE);
  g_assert_cmpuint (connection_of (next), !=, connection_of (draining));
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (draining));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (draining), ==, 3);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/GMulti/Http2/scripted/refused", test_refused);
  g_test_add_func ("/GMulti/Http2/scripted/reset", test_reset);
  g_test_add_func ("/GMulti/Http2/scripted/goaway", test_goaway);
  g_test_add_func ("/GMulti/Http2/scripted/broken-server", test_broken_server);
  g_test_add_func ("/GMulti/Http2/scripted/cancel-before-head", test_cancel_before_head);
  g_test_add_func ("/GMulti/Http2/scripted/goaway-drain", test_goaway_drain);
  return g_test_run ();
}
