/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "gmulti-http2-protocol.h"
#include "http2/gmulti-http2-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* The connection side of HTTP/2: one nghttp2 session per connection, its bytes through
 * gmulti_connection_recv()/send(), the frames that concern the connection (SETTINGS,
 * GOAWAY), how streams end, and the operations table. What a stream carries is in
 * gmulti-http2-stream.c.
 *
 * nghttp2 never touches the socket: received bytes go in with mem_recv(), frames to
 * send come out of mem_send() and are written in batches. Its callbacks report stream
 * events; none of them closes or frees the connection, which only the pool does after
 * an operation returned. */

static GMultiHttp2Stream *
stream_of (GMultiHttp2Connection *h2,
           int32_t                id)
{
  return nghttp2_session_get_stream_user_data (h2->session, id);
}

GMultiRun *
gmulti_http2_detach (GMultiHttp2Stream *stream)
{
  GMultiRun *run = stream->run;

  if (run != NULL)
    {
      stream->run = NULL;
      stream->h2->n_runs--;
    }
  gmulti_body_chain_clear (&stream->body);
  g_clear_pointer (&stream->held, g_byte_array_unref);
  return run;
}

void
gmulti_http2_stream_free (GMultiHttp2Stream *stream)
{
  gmulti_http2_detach (stream);
  g_queue_unlink (&stream->h2->streams, &stream->link);
  g_clear_pointer (&stream->fields, gmulti_headers_unref);
  g_clear_error (&stream->error);
  g_free (stream);
}

/* Every stream that still carries a transfer fails with a copy of @error; those that
 * got no response byte yet may go again on a new connection (@retry_safe). */
static void
fail_all (GMultiHttp2Connection *h2,
          const GError          *error,
          gboolean               retry_safe)
{
  GList *l = h2->streams.head;

  h2->broken = TRUE;
  /* Held for a PING's answer: nothing of them was sent. */
  while (h2->waiting.head != NULL)
    {
      GMultiRun *run = g_queue_pop_head (&h2->waiting);

      h2->n_runs--;
      gmulti_stream_failed (run, g_error_copy (error), retry_safe);
    }
  while (l != NULL)
    {
      GMultiHttp2Stream *stream = l->data;
      gboolean started = stream->response_started;
      GMultiRun *run;

      l = l->next;
      run = gmulti_http2_detach (stream);
      if (run != NULL)
        gmulti_stream_failed (run, g_error_copy (error), retry_safe && !started);
    }
}

static void
fail_connection (GMultiHttp2Connection *h2,
                 int                    lib_error)
{
  GError *error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_HTTP2_CONNECTION_ERROR,
                               _("The HTTP/2 connection failed: %s"),
                               nghttp2_strerror (lib_error));

  fail_all (h2, error, FALSE);
  g_error_free (error);
}

gboolean
gmulti_http2_flush (GMultiHttp2Connection *h2)
{
  GMultiConnection *conn = h2->conn;

  if (h2->broken)
    return FALSE;

  for (;;)
    {
      struct iovec iov;
      GError *error = NULL;
      gssize n;

      while (h2->out->len < GMULTI_HTTP2_SEND_BATCH)
        {
          const uint8_t *data;
          ssize_t length = nghttp2_session_mem_send (h2->session, &data);

          if (length < 0)
            {
              fail_connection (h2, (int) length);
              return FALSE;
            }
          if (length == 0)
            break;
          g_byte_array_append (h2->out, data, (guint) length);
        }
      /* A callback inside mem_send() may have failed the connection. */
      if (h2->broken)
        return FALSE;
      if (h2->out->len == 0 && h2->terminated)
        {
          g_autofree char *cause = h2->terminate_reason != NULL
            ? g_strdup_printf ("%s: %s", nghttp2_http2_strerror (h2->terminate_code),
                               h2->terminate_reason)
            : g_strdup (nghttp2_http2_strerror (h2->terminate_code));

          error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_HTTP2_CONNECTION_ERROR,
                               _("The HTTP/2 server broke the protocol (%s)"), cause);

          fail_all (h2, error, FALSE);
          g_error_free (error);
          return FALSE;
        }
      if (h2->out->len == 0)
        {
          gmulti_connection_want (conn, GMULTI_POLL_IN);
          return TRUE;
        }

      iov.iov_base = h2->out->data;
      iov.iov_len = h2->out->len;
      n = gmulti_connection_send (conn, &iov, 1, &error);
      if (n < 0 && error == NULL)
        {
          gmulti_connection_want (conn, GMULTI_POLL_INOUT);
          return TRUE;
        }
      if (n < 0)
        {
          fail_all (h2, error, TRUE);
          g_error_free (error);
          return FALSE;
        }
      g_byte_array_remove_range (h2->out, 0, (guint) n);
      if (h2->out->len > 0)
        {
          gmulti_connection_want (conn, GMULTI_POLL_INOUT);
          return TRUE;
        }
    }
}

/* The server closed the connection, or it failed. After a GOAWAY the streams it took
 * were cut short by the shutdown; without one, a stream that got nothing may have met
 * a connection the server had already given up (a stale pooled one). */
static void
connection_lost (GMultiHttp2Connection *h2,
                 GError                *error)
{
  if (h2->goaway)
    {
      g_clear_error (&error);
      error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_HTTP2_GOAWAY,
                                   _("The HTTP/2 server shut the connection down before "
                                     "the response was complete"));
    }
  else if (error == NULL)
    error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_CONNECTION_CLOSED,
                                 _("The server closed the connection"));
  fail_all (h2, error, !h2->goaway);
  g_error_free (error);
}

/* A stream to yield with: resume() is called for it in a turn of the timer. */
static GMultiRun *
any_run (GMultiHttp2Connection *h2)
{
  for (GList *l = h2->streams.head; l != NULL; l = l->next)
    {
      GMultiHttp2Stream *stream = l->data;

      if (stream->run != NULL)
        return stream->run;
    }
  return NULL;
}

/* Records whose bytes gathered chunks may point into, kept until they are written: 64
 * KiB, one writev() as the receive buffer makes, and few enough that freeing them
 * together does not make malloc give the heap's top back (brk()) each time. */
#define HELD_RECORDS_MAX 4

static void
release_records (GMultiHttp2Connection *h2,
                 GMultiTlsRecord       *held,
                 guint                 *n_held)
{
  gmulti_http2_flush_gathered (h2);
  for (guint i = 0; i < *n_held; i++)
    gmulti_tls_record_clear (&held[i]);
  *n_held = 0;
}

/* Over TLS, each decrypted record goes to nghttp2 where GnuTLS left it: no copy into
 * the receive buffer. Records stay until the body chunks gathered from them for a file
 * are written (HELD_RECORDS_MAX). */
static void
receive_records (GMultiHttp2Connection *h2)
{
  GMultiConnection *conn = h2->conn;
  GMultiTlsRecord held[HELD_RECORDS_MAX];
  guint n_held = 0;
  gsize got = 0;

  conn->n_receives++;
  while (!h2->broken)
    {
      GMultiTlsRecord record = { NULL, NULL };
      GError *error = NULL;
      gssize n = gmulti_connection_recv_record (conn, &record, &error);
      ssize_t used;

      if (n < 0 && error == NULL)
        break;
      if (n <= 0)
        {
          release_records (h2, held, &n_held);
          connection_lost (h2, error);
          return;
        }
      got += (gsize) n;
      h2->last_receive = conn->engine->now;
      used = nghttp2_session_mem_recv (h2->session, record.data, (size_t) n);
      if (h2->n_gather > 0 && n_held < HELD_RECORDS_MAX)
        held[n_held++] = record;
      else
        {
          release_records (h2, held, &n_held);
          gmulti_tls_record_clear (&record);
        }
      if (used < 0)
        {
          release_records (h2, held, &n_held);
          fail_connection (h2, (int) used);
          return;
        }
      /* A window update is due: as in receive(), it goes before the next read. The
       * gathered chunks go first, which frees the records they point into. */
      if (h2->out->len == 0 && nghttp2_session_want_write (h2->session))
        {
          release_records (h2, held, &n_held);
          if (!gmulti_http2_flush (h2))
            return;
        }

      /* On to the read that would block, as receive() does: the socket may already
       * hold more than the last read took, and its event would cost a turn. */
      if (got >= GMULTI_RECEIVE_BUDGET)
        {
          GMultiRun *run = any_run (h2);

          if (run == NULL)
            continue;
          release_records (h2, held, &n_held);
          gmulti_stream_yield (run);
          return;
        }
    }
  release_records (h2, held, &n_held);
}

/* Reads what the socket has and hands it to nghttp2, whose callbacks act on it. */
static void
receive (GMultiHttp2Connection *h2)
{
  GMultiConnection *conn = h2->conn;
  gsize got = 0;

  if (gmulti_connection_has_records (conn))
    {
      receive_records (h2);
      return;
    }

  conn->n_receives++;
  for (guint reads = 0; !h2->broken; reads++)
    {
      GError *error = NULL;
      gsize size;
      guint8 *buffer = gmulti_engine_get_scratch (conn->engine, &size);
      gssize n = gmulti_connection_recv (conn, buffer, size, &error);
      ssize_t used;

      if (n < 0 && error == NULL)
        return;
      if (n <= 0)
        {
          connection_lost (h2, error);
          return;
        }
      got += (gsize) n;
      h2->last_receive = conn->engine->now;
      used = nghttp2_session_mem_recv (h2->session, buffer, (size_t) n);
      /* Before the next read reuses the buffer the gathered chunks point into. */
      gmulti_http2_flush_gathered (h2);
      if (used < 0)
        {
          fail_connection (h2, (int) used);
          return;
        }
      /* A window update is due (half a window was taken): it goes before the next
       * read, or a server that filled the window waits while we read the rest of it.
       * Not while the socket is full (an upload): the event's own flush comes. */
      if (h2->out->len == 0 && nghttp2_session_want_write (h2->session) &&
          !gmulti_http2_flush (h2))
        return;

      /* TLS may hold decrypted bytes that never make the socket readable again. */
      if ((gsize) n < size && !gmulti_connection_has_pending (conn))
        return;
      if (got >= GMULTI_RECEIVE_BUDGET || reads + 1 >= GMULTI_RECEIVE_MAX_READS)
        {
          GMultiRun *run = any_run (h2);

          if (gmulti_connection_has_pending (conn) && run != NULL)
            gmulti_stream_yield (run);
          else if (run == NULL)
            continue;
          return;
        }
    }
}

/* The connection finishes its streams but starts no more. */
static inline gboolean
takes_no_streams (GMultiHttp2Connection *h2)
{
  return h2->goaway || h2->refusing;
}

/* What the operation under way tells the pool. */
static GMultiProtocolResult
result_of (GMultiHttp2Connection *h2)
{
  if (h2->broken)
    return GMULTI_PROTOCOL_CLOSE;
  if (h2->n_runs == 0)
    return takes_no_streams (h2) || h2->dirty ? GMULTI_PROTOCOL_CLOSE : GMULTI_PROTOCOL_IDLE;
  return takes_no_streams (h2) ? GMULTI_PROTOCOL_DRAIN : GMULTI_PROTOCOL_OK;
}

static void arm_timer (GMultiHttp2Connection *h2);

static int
on_frame_recv_cb (nghttp2_session     *session,
                  const nghttp2_frame *frame,
                  void                *user_data)
{
  GMultiHttp2Connection *h2 = user_data;

  /* The end of a DATA frame that does not end its stream reports nothing. */
  if (frame->hd.type != NGHTTP2_DATA || (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    gmulti_http2_flush_gathered (h2);
  switch (frame->hd.type)
    {
    case NGHTTP2_SETTINGS:
      if (!(frame->hd.flags & NGHTTP2_FLAG_ACK))
        {
          h2->got_settings = TRUE;
          if (h2->settings_deadline != 0)
            {
              h2->settings_deadline = 0;
              arm_timer (h2);
            }
        }
      break;
    case NGHTTP2_PING:
      if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && h2->ping_deadline != 0)
        {
          h2->ping_deadline = 0;
          h2->ping_answered = TRUE;
        }
      break;
    case NGHTTP2_GOAWAY:
      h2->goaway = TRUE;
      h2->goaway_last_id = frame->goaway.last_stream_id;
      break;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
      {
        GMultiHttp2Stream *stream = stream_of (h2, frame->hd.stream_id);

        if (stream != NULL)
          gmulti_http2_on_stream_frame (stream, frame);
        else if (h2->n_runs == 0 && frame->hd.type == NGHTTP2_HEADERS)
          h2->dirty = TRUE;
      }
      break;
    default:
      break;
    }
  return 0;
}

/* The debug data of a GOAWAY nghttp2 sends says what the server did ("PUSH_PROMISE:
 * push disabled"): kept for the error, bounded, and only its printable ASCII. */
static char *
goaway_reason (const nghttp2_goaway *goaway)
{
  gsize len = MIN (goaway->opaque_data_len, 200);
  char *reason;

  if (len == 0)
    return NULL;
  reason = g_malloc (len + 1);
  for (gsize i = 0; i < len; i++)
    reason[i] = g_ascii_isprint (goaway->opaque_data[i]) ? (char) goaway->opaque_data[i] : '?';
  reason[len] = '\0';
  return reason;
}

static int
on_frame_send_cb (nghttp2_session     *session,
                  const nghttp2_frame *frame,
                  void                *user_data)
{
  GMultiHttp2Connection *h2 = user_data;
  GMultiHttp2Stream *stream;

  /* nghttp2 resets a stream whose response breaks the protocol (a wrong
   * Content-Length, a bad field): that is not the server's reset. */
  /* We never shut down a connection in use: nghttp2 did, for a protocol error. */
  if (frame->hd.type == NGHTTP2_GOAWAY)
    {
      h2->terminated = TRUE;
      h2->terminate_code = frame->goaway.error_code;
      g_free (h2->terminate_reason);
      h2->terminate_reason = goaway_reason (&frame->goaway);
      return 0;
    }
  if (frame->hd.type == NGHTTP2_RST_STREAM)
    {
      stream = stream_of (h2, frame->hd.stream_id);
      if (stream != NULL)
        stream->reset_by_us = TRUE;
      return 0;
    }
  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
      !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    return 0;
  stream = stream_of (h2, frame->hd.stream_id);
  if (stream != NULL)
    gmulti_http2_request_sent (stream);
  return 0;
}

/* The server refused the stream, or it lies above a GOAWAY's last stream id: it was not
 * acted on. */
static void
refused (GMultiRun *run)
{
  gmulti_stream_refused (run, g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_HTTP2_GOAWAY,
                                                   _("The HTTP/2 server refused the request "
                                                     "without acting on it")));
}

/* A request that could not even be sent (the session was shutting down). */
static int
on_frame_not_send_cb (nghttp2_session     *session,
                      const nghttp2_frame *frame,
                      int                  lib_error_code,
                      void                *user_data)
{
  GMultiHttp2Connection *h2 = user_data;
  GMultiHttp2Stream *stream;
  GMultiRun *run;

  if (frame->hd.type != NGHTTP2_HEADERS)
    return 0;
  /* A request never sent has no stream in nghttp2 to hold our pointer. */
  stream = NULL;
  for (GList *l = h2->streams.head; l != NULL; l = l->next)
    if (((GMultiHttp2Stream *) l->data)->id == frame->hd.stream_id)
      stream = l->data;
  if (stream == NULL)
    return 0;
  nghttp2_session_set_stream_user_data (session, frame->hd.stream_id, NULL);
  run = gmulti_http2_detach (stream);
  gmulti_http2_stream_free (stream);
  if (run != NULL)
    refused (run);
  return 0;
}

static int
on_stream_close_cb (nghttp2_session *session,
                    int32_t          stream_id,
                    uint32_t         error_code,
                    void            *user_data)
{
  GMultiHttp2Connection *h2 = user_data;
  GMultiHttp2Stream *stream;
  gboolean reset_by_us;
  GError *error;
  GMultiRun *run;

  gmulti_http2_flush_gathered (h2);
  stream = stream_of (h2, stream_id);
  if (stream == NULL)
    return 0;
  nghttp2_session_set_stream_user_data (session, stream_id, NULL);
  stream->closed = TRUE;
  /* Complete, and only waiting for its transfer to take what was held: it stays ours. */
  if (stream->run != NULL && stream->ended && error_code == NGHTTP2_NO_ERROR &&
      stream->error == NULL)
    return 0;

  error = g_steal_pointer (&stream->error);
  reset_by_us = stream->reset_by_us;
  run = gmulti_http2_detach (stream);
  gmulti_http2_stream_free (stream);
  if (run == NULL)
    {
      g_clear_error (&error);
      return 0;
    }

  if (error != NULL)
    gmulti_stream_failed (run, error, FALSE);
  else if (reset_by_us)
    gmulti_stream_failed (run, g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                                            _("The HTTP/2 response broke the protocol (%s)"),
                                            nghttp2_http2_strerror (error_code)),
                          FALSE);
  else if (error_code == NGHTTP2_REFUSED_STREAM ||
           (h2->goaway && stream_id > h2->goaway_last_id))
    {
      /* A server that refuses streams is full or going away: the retry, and the
       * origin's next transfers, take another connection (this one drains). */
      if (error_code == NGHTTP2_REFUSED_STREAM)
        h2->refusing = TRUE;
      refused (run);
    }
  else if (h2->goaway && error_code == NGHTTP2_NO_ERROR)
    gmulti_stream_failed (run, g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_HTTP2_GOAWAY,
                                                    _("The HTTP/2 server shut the connection "
                                                      "down before the response was complete")),
                          FALSE);
  else
    gmulti_stream_failed (run, g_error_new (GMULTI_ERROR, GMULTI_ERROR_HTTP2_STREAM_RESET,
                                            _("The HTTP/2 server reset the stream: %s"),
                                            nghttp2_http2_strerror (error_code)),
                          FALSE);
  return 0;
}

static nghttp2_session_callbacks *
callbacks (void)
{
  static nghttp2_session_callbacks *shared;

  if (g_once_init_enter (&shared))
    {
      nghttp2_session_callbacks *cbs;

      nghttp2_session_callbacks_new (&cbs);
      nghttp2_session_callbacks_set_on_frame_recv_callback (cbs, on_frame_recv_cb);
      nghttp2_session_callbacks_set_on_frame_send_callback (cbs, on_frame_send_cb);
      nghttp2_session_callbacks_set_on_frame_not_send_callback (cbs, on_frame_not_send_cb);
      nghttp2_session_callbacks_set_on_stream_close_callback (cbs, on_stream_close_cb);
      nghttp2_session_callbacks_set_on_begin_headers_callback (cbs,
                                                               gmulti_http2_on_begin_headers);
      nghttp2_session_callbacks_set_on_header_callback (cbs, gmulti_http2_on_header);
      nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cbs, gmulti_http2_on_data);
      g_once_init_leave (&shared, cbs);
    }
  return shared;
}

static nghttp2_option *
options (void)
{
  static nghttp2_option *shared;

  if (g_once_init_enter (&shared))
    {
      nghttp2_option *opt;

      nghttp2_option_new (&opt);
      /* Windows are given back as the transfer takes the bytes: a paused one stops. */
      nghttp2_option_set_no_auto_window_update (opt, 1);
      /* Until the server's SETTINGS say otherwise. */
      nghttp2_option_set_peer_max_concurrent_streams (opt, 100);
      /* Against a server that floods: frames we must answer, settings, resets,
       * header continuations; push is off. */
      nghttp2_option_set_max_outbound_ack (opt, 1000);
      nghttp2_option_set_max_settings (opt, 32);
      nghttp2_option_set_stream_reset_rate_limit (opt, 1000, 100);
      nghttp2_option_set_max_continuations (opt, 8);
      nghttp2_option_set_max_reserved_remote_streams (opt, 0);
      g_once_init_leave (&shared, opt);
    }
  return shared;
}

static gpointer
h2_attach (GMultiConnection *conn)
{
  GMultiHttp2Connection *h2 = g_new0 (GMultiHttp2Connection, 1);
  const GMultiDefaults *defaults = conn->engine->defaults;
  const nghttp2_settings_entry settings[] = {
    { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
    { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
    { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GMULTI_HTTP2_STREAM_WINDOW },
    { NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, GMULTI_HTTP2_MAX_HEADER_BYTES },
  };
  int r;

  h2->conn = conn;
  h2->out = g_byte_array_new ();
  h2->last_receive = conn->engine->now;
  h2->max_streams = defaults->max_streams_per_connection > 0
                    ? defaults->max_streams_per_connection
                    : GMULTI_DEFAULT_MAX_STREAMS_PER_CONNECTION;
  r = nghttp2_session_client_new3 (&h2->session, callbacks (), h2, options (),
                                   gmulti_http2_mem_init (&h2->mem));
  if (r == 0)
    r = nghttp2_submit_settings (h2->session, NGHTTP2_FLAG_NONE, settings,
                                 G_N_ELEMENTS (settings));
  if (r == 0)
    r = nghttp2_session_set_local_window_size (h2->session, NGHTTP2_FLAG_NONE, 0,
                                               GMULTI_HTTP2_CONNECTION_WINDOW);
  /* Only memory can fail here: the first operation reports it. */
  if (r != 0)
    h2->broken = TRUE;
  return h2;
}

static void
h2_free (gpointer state)
{
  GMultiHttp2Connection *h2 = state;

  /* The session first: it holds pointers to the streams. */
  if (h2->session != NULL)
    nghttp2_session_del (h2->session);
  gmulti_http2_mem_clear (&h2->mem);
  while (h2->streams.head != NULL)
    gmulti_http2_stream_free (h2->streams.head->data);
  g_queue_clear (&h2->waiting);
  g_byte_array_unref (h2->out);
  g_free (h2->terminate_reason);
  g_free (h2);
}

/* The connection's timer keeps the earlier of the deadlines under way. */
static void
arm_timer (GMultiHttp2Connection *h2)
{
  gint64 deadline = h2->settings_deadline;

  if (h2->ping_deadline != 0 && (deadline == 0 || h2->ping_deadline < deadline))
    deadline = h2->ping_deadline;
  gmulti_engine_arm_connection_timer (h2->conn->engine, h2->conn, deadline);
}

/* The PING was answered: the runs it held go out now. */
static void
release_waiting (GMultiHttp2Connection *h2)
{
  h2->ping_answered = FALSE;
  arm_timer (h2);
  while (h2->waiting.head != NULL && !h2->broken)
    {
      GMultiRun *run = g_queue_pop_head (&h2->waiting);
      GError *error = NULL;

      h2->n_runs--;
      if (!gmulti_http2_submit (h2, run, &error))
        gmulti_stream_failed (run, error, FALSE);
    }
}

/* Deadlines for @run's stream: the server's first SETTINGS, and the liveness check of
 * a connection that was quiet for a while (libcurl checks a pooled one likewise). TRUE
 * when @run must wait for the PING's answer. */
static gboolean
check_deadlines (GMultiHttp2Connection *h2,
                 GMultiRun             *run)
{
  gint64 now = h2->conn->engine->now;

  if (!h2->got_settings && h2->settings_deadline == 0)
    {
      guint ms = run->connect_timeout_ms > 0 ? run->connect_timeout_ms
                                             : GMULTI_HTTP2_SETTINGS_TIMEOUT_MS;

      h2->settings_deadline = now + (gint64) ms * 1000;
      arm_timer (h2);
    }
  else if (h2->got_settings && h2->n_runs == 0 && h2->ping_deadline == 0 &&
           now - h2->last_receive > GMULTI_HTTP2_IDLE_PING_US &&
           nghttp2_submit_ping (h2->session, NGHTTP2_FLAG_NONE, NULL) == 0)
    {
      h2->ping_deadline = now + GMULTI_HTTP2_PING_TIMEOUT_US;
      arm_timer (h2);
    }
  return h2->ping_deadline != 0;
}

static GMultiProtocolResult
h2_timer (GMultiConnection *conn)
{
  GMultiHttp2Connection *h2 = h2_of (conn);
  gint64 now = conn->engine->now;

  if (h2->broken)
    return GMULTI_PROTOCOL_CLOSE;
  if (h2->settings_deadline != 0 && now >= h2->settings_deadline)
    {
      GError *error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_HTTP2_CONNECTION_ERROR,
                                           _("The HTTP/2 server sent no SETTINGS in time"));

      fail_all (h2, error, FALSE);
      g_error_free (error);
      return GMULTI_PROTOCOL_CLOSE;
    }
  if (h2->ping_deadline != 0 && now >= h2->ping_deadline)
    {
      /* Dead, or too slow to be trusted: nothing was sent for the runs it held, so
       * they go again on a new connection, whatever their method. */
      h2->broken = TRUE;
      while (h2->waiting.head != NULL)
        {
          GMultiRun *run = g_queue_pop_head (&h2->waiting);

          h2->n_runs--;
          gmulti_stream_refused (run, g_error_new_literal (GMULTI_ERROR,
                                                           GMULTI_ERROR_HTTP2_CONNECTION_ERROR,
                                                           _("The pooled HTTP/2 connection did "
                                                             "not answer a PING")));
        }
      return GMULTI_PROTOCOL_CLOSE;
    }
  arm_timer (h2);
  return result_of (h2);
}

static GMultiProtocolResult
h2_start_stream (GMultiConnection *conn,
                 GMultiRun        *run)
{
  GMultiHttp2Connection *h2 = h2_of (conn);
  GError *error = NULL;

  if (!h2->broken && !takes_no_streams (h2) && check_deadlines (h2, run))
    {
      g_queue_push_tail (&h2->waiting, run);
      h2->n_runs++;
      gmulti_http2_flush (h2);
      return result_of (h2);
    }
  if (h2->broken || takes_no_streams (h2))
    {
      gmulti_stream_refused (run, g_error_new_literal (GMULTI_ERROR,
                                                       GMULTI_ERROR_HTTP2_CONNECTION_ERROR,
                                                       _("The HTTP/2 connection cannot "
                                                         "take new requests")));
      return result_of (h2);
    }
  if (!gmulti_http2_submit (h2, run, &error))
    {
      gmulti_stream_failed (run, error, FALSE);
      return result_of (h2);
    }
  /* A lone request goes at once. Next to streams under way, it is usually one of many
   * started in this turn (their handlers add the next ones): they go together in one
   * send when the socket reports writable, an instant later, instead of one TLS
   * record and one syscall each. */
  if (h2->n_runs > 1)
    gmulti_connection_want (conn, GMULTI_POLL_INOUT);
  else
    gmulti_http2_flush (h2);
  return result_of (h2);
}

static GMultiProtocolResult
h2_event (GMultiConnection *conn,
          GMultiEvent       events)
{
  GMultiHttp2Connection *h2 = h2_of (conn);

  if ((events & GMULTI_EVENT_OUT) && !gmulti_http2_flush (h2))
    return GMULTI_PROTOCOL_CLOSE;
  if (events & (GMULTI_EVENT_IN | GMULTI_EVENT_ERR))
    {
      receive (h2);
      if (h2->ping_answered)
        release_waiting (h2);
      /* Window updates, acknowledgements and request bodies the frames let go. */
      gmulti_http2_flush (h2);
    }
  /* An idle connection stays pooled while what arrives is housekeeping. */
  if (conn->state == GMULTI_CONNECTION_IDLE)
    return h2->broken || takes_no_streams (h2) || h2->dirty ? GMULTI_PROTOCOL_CLOSE
                                                             : GMULTI_PROTOCOL_OK;
  return result_of (h2);
}

static GMultiHttp2Stream *
find_stream (GMultiHttp2Connection *h2,
             GMultiRun             *run)
{
  for (GList *l = h2->streams.head; l != NULL; l = l->next)
    {
      GMultiHttp2Stream *stream = l->data;

      if (stream->run == run)
        return stream;
    }
  return NULL;
}

static GMultiProtocolResult
h2_resume (GMultiConnection *conn,
           GMultiRun        *run)
{
  GMultiHttp2Connection *h2 = h2_of (conn);
  GMultiHttp2Stream *stream = find_stream (h2, run);

  if (stream == NULL || h2->broken)
    return result_of (h2);
  if (!run->paused)
    gmulti_http2_stream_resume (stream);
  /* A yield: bytes read ahead wait inside TLS. */
  if (!h2->broken && gmulti_connection_has_pending (conn))
    receive (h2);
  if (h2->ping_answered)
    release_waiting (h2);
  gmulti_http2_flush (h2);
  return result_of (h2);
}

static GMultiProtocolResult
h2_timeout (GMultiConnection *conn,
            GMultiRun        *run)
{
  GMultiHttp2Connection *h2 = h2_of (conn);
  GMultiHttp2Stream *stream = find_stream (h2, run);

  /* The 100-continue wait is over: the phase says SENDING now. */
  if (stream != NULL && stream->body_deferred && !run->paused)
    {
      stream->body_deferred = FALSE;
      nghttp2_session_resume_data (h2->session, stream->id);
      gmulti_http2_flush (h2);
    }
  return result_of (h2);
}

static GMultiProtocolResult
h2_reset_stream (GMultiConnection *conn,
                 GMultiRun        *run)
{
  GMultiHttp2Connection *h2 = h2_of (conn);
  GMultiHttp2Stream *stream = find_stream (h2, run);

  if (stream == NULL)
    {
      if (g_queue_remove (&h2->waiting, run))
        h2->n_runs--;
      return result_of (h2);
    }
  gmulti_http2_detach (stream);
  /* Still nghttp2's (else it completed and only waited for its transfer): only this
   * stream is cancelled, a request still queued in nghttp2 included; the stream goes
   * when nghttp2 closes it or drops its request. */
  if (!stream->closed)
    nghttp2_submit_rst_stream (h2->session, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_CANCEL);
  else
    gmulti_http2_stream_free (stream);
  gmulti_http2_flush (h2);
  return result_of (h2);
}

static void
h2_fail (GMultiConnection *conn,
         const GError     *error)
{
  fail_all (h2_of (conn), error, FALSE);
}

static guint
h2_capacity (GMultiConnection *conn)
{
  GMultiHttp2Connection *h2 = h2_of (conn);
  guint limit;

  /* Until the server said how many it takes, only the first stream goes. */
  if (h2->broken || takes_no_streams (h2) || !h2->got_settings)
    return 0;
  limit = MIN (nghttp2_session_get_remote_settings (h2->session,
                                                    NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
               h2->max_streams);
  return limit > h2->n_runs ? limit - h2->n_runs : 0;
}

static gboolean
h2_is_clean (GMultiConnection *conn)
{
  GMultiHttp2Connection *h2 = h2_of (conn);

  /* What was read ahead is only PING, SETTINGS and WINDOW_UPDATE frames, answered. */
  receive (h2);
  gmulti_http2_flush (h2);
  return !h2->broken && !takes_no_streams (h2) && !h2->dirty;
}

const GMultiProtocol gmulti_http2_protocol = {
  .name = "h2",
  .version = GMULTI_HTTP_VERSION_HTTP_2,
  .attach = h2_attach,
  .free = h2_free,
  .start_stream = h2_start_stream,
  .event = h2_event,
  .resume = h2_resume,
  .timeout = h2_timeout,
  .reset_stream = h2_reset_stream,
  .fail = h2_fail,
  .timer = h2_timer,
  .capacity = h2_capacity,
  .is_clean = h2_is_clean,
};
