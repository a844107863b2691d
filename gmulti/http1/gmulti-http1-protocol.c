/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>

#include "gmulti-http1-protocol.h"
#include "http1/gmulti-http1-protocol-private.h"
#include "gmulti-engine-private.h"
#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-i18n-private.h"
#include "http1/gmulti-http1-parser.h"
#include "engine/gmulti-body-writer.h"

/* The response side of HTTP/1.1 (receive, splice, TLS records, the parser's events,
 * the body chain, completion) and the operations table. The request side is in
 * gmulti-http1-send.c. */

/* Failures of the connection itself; before any response byte, the server did not
 * act on the request as far as HTTP/1.1 can tell. */
static gboolean
is_transport_error (const GError *error)
{
  return g_error_matches (error, GMULTI_ERROR, GMULTI_ERROR_CONNECTION_CLOSED) ||
         g_error_matches (error, GMULTI_ERROR, GMULTI_ERROR_RECEIVE_FAILED) ||
         g_error_matches (error, GMULTI_ERROR, GMULTI_ERROR_SEND_FAILED);
}

/* Ends the exchange before its stream event is reported; the operation under way
 * returns @result, and the pool pools (IDLE) or closes (CLOSE) the connection. */
static GMultiRun *
end_exchange (GMultiConnection     *conn,
              GMultiProtocolResult  result)
{
  GMultiHttp1Connection *h1 = h1_of (conn);
  GMultiHttp1Stream *stream = &h1->stream;
  GMultiRun *run = stream->run;

  h1->stream.run = NULL;
  h1->result = result;
  return run;
}

/* The exchange failed: the connection closes, and the engine retries a request a
 * stale pooled connection failed, or completes the transfer with @error. */
void
gmulti_http1_fail (GMultiConnection *conn,
                   GError           *error)
{
  gboolean response_started = h1_of (conn)->stream.response_started;
  GMultiRun *run = end_exchange (conn, GMULTI_PROTOCOL_CLOSE);

  gmulti_stream_failed (run, error, is_transport_error (error) && !response_started);
}

/* The response is complete. */
static void
complete (GMultiConnection *conn,
          gboolean          reusable)
{
  GMultiHttp1Connection *h1 = h1_of (conn);
  GMultiHttp1Stream *stream = &h1->stream;
  GMultiRun *run = stream->run;

  reusable = reusable && h1->parser.keep_alive && stream->body_done && stream->unsent == NULL &&
             h1->reusable;
  gmulti_body_chain_clear (&h1->body);
  g_clear_pointer (&run->response_trailers, gmulti_headers_unref);
  run->response_trailers = gmulti_http1_parser_steal_trailers (&h1->parser);
  run->metrics.header_bytes_received = h1->parser.header_bytes_total;

  end_exchange (conn, reusable ? GMULTI_PROTOCOL_IDLE : GMULTI_PROTOCOL_CLOSE);
  gmulti_stream_done (run);
}
static gboolean
h1_is_clean (GMultiConnection *conn)
{
  gsize size;
  guint8 *buffer = gmulti_engine_get_scratch (conn->engine, &size);
  gssize n = gmulti_connection_recv (conn, buffer, size, NULL);

  /* Nothing, or only TLS housekeeping (a session ticket). Anything else: the server
   * closed it, reset it, or sent bytes nobody asked for, and the connection cannot
   * carry another request. */
  return n < 0 && errno == EAGAIN;
}

/* The event is over and the socket is watched again.
 *
 * While a long Content-Length body streams in fast, the socket is made readable only
 * once a good part of a buffer is queued: a client faster than its server otherwise
 * wakes for every few segments, and the sleeps and wake-ups cost more CPU than the
 * reads (a fifth of it for a TLS download). "Fast" means an event brought @got >=
 * GMULTI_LOW_WATER_MIN bytes; a slow stream keeps the socket's default, and the
 * connection's deadline drops a mark that a slowed or paused stream stopped filling.
 * The mark never exceeds what is certain to arrive (over TLS, less what is already
 * buffered and a record GnuTLS may hold), so the end of the body always signals. */
static void
wait_for_more (GMultiConnection *conn,
               gsize             got)
{
  guint64 left = 0, slack = 0, to_come = 0;

  /* Only a Content-Length body says how much is certain to come. */
  if (gmulti_http1_parser_raw_body_left (&h1_of (conn)->parser, &left) && left != G_MAXUINT64 &&
      left >= GMULTI_LOW_WATER_MIN)
    {
      slack = gmulti_connection_buffered (conn) + gmulti_connection_unseen_max (conn);
      to_come = left > slack ? left - slack : 0;
    }

  if (to_come < GMULTI_LOW_WATER_MIN)
    gmulti_connection_set_low_water (conn, 0);
  else if (got >= GMULTI_LOW_WATER_MIN || conn->low_water > 0)
    gmulti_connection_set_low_water (conn, (gsize) MIN (to_come, GMULTI_LOW_WATER_MAX));

  /* A connection that trickles keeps no read-ahead buffer between events (ten
   * thousand of them would hold 16 KiB each); one that streams keeps it. */
  gmulti_connection_trim (conn, TRUE);
}

/* One event has read its share: bytes already on this side of the socket (over TLS)
 * would never make it readable again, so the transfer is stepped again in the next turn
 * of the timer instead, after the other sockets. */
static void
yield_receive (GMultiConnection *conn,
               gsize             got)
{
  if (gmulti_connection_has_pending (conn))
    gmulti_stream_yield (h1_of (conn)->stream.run);
  wait_for_more (conn, got);
}

/* The body can go from the socket into a file inside the kernel: plain TCP, a raw body
 * (no chunk framing), nothing held in memory before it, and a body chain that is a bare
 * sink with a descriptor for it (no coding to undo, nobody who wants to see the bytes);
 * @fd is that descriptor. */
static gboolean
can_splice (GMultiConnection *conn,
            guint64          *left,
            int              *fd)
{
  GMultiHttp1Stream *stream = &h1_of (conn)->stream;

  if (gmulti_connection_splice_fd (conn) < 0 || stream->no_splice ||
      !stream->got_final_head || conn->leftover != NULL ||
      !gmulti_http1_parser_raw_body_left (&h1_of (conn)->parser, left) || *left == 0)
    return FALSE;
  *fd = gmulti_body_chain_splice_fd (&h1_of (conn)->body);
  if (*fd < 0)
    return FALSE;
  if (!gmulti_splice_pipe_ready (&conn->engine->splice))
    {
      stream->no_splice = TRUE;
      return FALSE;
    }
  return TRUE;
}

/* After a spliced body nothing more was read from the socket: bytes the server sent
 * past the body (a wrong Content-Length, a second response) are still there, and must
 * not answer the next request on a pooled connection. */
static gboolean
socket_has_more (GMultiConnection *conn)
{
  guint8 byte;
  gssize n;

  do
    n = recv (conn->socket->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n >= 0;
}

static void
receive_spliced (GMultiConnection *conn,
                 guint64           left,
                 int               fd)
{
  static const guint8 nothing[1];
  GMultiEngine *engine = conn->engine;
  GMultiHttp1Stream *stream = &h1_of (conn)->stream;
  GMultiRun *run = stream->run;
  gsize got = 0;

  for (guint reads = 0; reads < GMULTI_RECEIVE_MAX_READS; reads++)
    {
      GError *error = NULL;
      gsize scratch_size;
      guint8 *scratch;
      GMultiBodyStatus status;
      gssize n;

      n = gmulti_splice_in (&engine->splice, conn->socket->fd, (gsize) MIN (left, G_MAXSSIZE));
      if (n < 0 && errno == EAGAIN)
        break;
      /* This socket cannot be spliced from: nothing moved, copy instead. */
      if (n < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
        {
          stream->no_splice = TRUE;
          break;
        }
      if (n < 0)
        {
          h1_of (conn)->reusable = FALSE;
          gmulti_http1_fail (conn, g_error_new (GMULTI_ERROR, GMULTI_ERROR_RECEIVE_FAILED,
                                                _("Could not receive from the server: %s"),
                                                g_strerror (errno)));
          return;
        }
      /* The end of the stream: the parser tells a complete body from a cut one. */
      if (n == 0)
        {
          gmulti_http1_process (conn, nothing, 0, TRUE);
          return;
        }

      stream->response_started = TRUE;
      scratch = gmulti_engine_get_scratch (engine, &scratch_size);
      if (!gmulti_splice_out (&engine->splice, fd, (gsize) n, scratch,
                              scratch_size, &stream->no_splice, &error))
        {
          h1_of (conn)->reusable = FALSE;
          gmulti_http1_fail (conn, error);
          return;
        }

      got += (gsize) n;
      if (!stream->no_splice)
        run->bytes_spliced += (guint64) n;
      gmulti_http1_parser_skip_body (&h1_of (conn)->parser, (guint64) n);
      /* Counted and reported as the chain does for copied bytes. */
      status = gmulti_body_chain_spliced (&h1_of (conn)->body, (gsize) n);
      if (left != G_MAXUINT64)
        left -= (guint64) n;

      /* A pause asked for by a progress handler: h1_resume() goes on from here,
       * and reports the end if that was the last byte, as for a copied body. */
      if (status == GMULTI_BODY_STOPPED)
        {
          gmulti_connection_want (conn, GMULTI_POLL_NONE);
          return;
        }
      /* The last byte: the parser says DONE and the exchange completes. */
      if (left == 0)
        {
          if (socket_has_more (conn))
            h1_of (conn)->reusable = FALSE;
          gmulti_http1_process (conn, nothing, 0, FALSE);
          return;
        }
      /* A handler changed or closed the sink, or wants to see the bytes: the next
       * event decides again (a closed stream's descriptor number may already name
       * another file). */
      if (stream->no_splice || gmulti_body_chain_splice_fd (&h1_of (conn)->body) != fd)
        break;
    }
  wait_for_more (conn, got);
}

/* The stream ended. Without TLS close_notify, a body delimited by the close itself may
 * have been cut short by an attacker: that fails. A body whose end the framing shows
 * is complete, or not, whatever the close was like. */
static gboolean
end_cut_short (GMultiConnection  *conn,
               GError           **error)
{
  if (h1_of (conn)->parser.body_mode != GMULTI_HTTP1_BODY_CLOSE ||
      gmulti_connection_eof_was_clean (conn))
    return FALSE;
  gmulti_tls_set_unclean_close_error (error);
  return TRUE;
}

/* Over TLS, each decrypted record is parsed where GnuTLS left it, without a copy into
 * the receive buffer. Returns TRUE when receive() should go on with its copying road:
 * a record ended inside a head line, whose bytes wait as leftover to be appended to. */
static gboolean
receive_records (GMultiConnection *conn,
                 gsize            *got)
{
  static const guint8 nothing[1];

  for (;;)
    {
      GMultiTlsRecord record = { NULL, NULL };
      GError *error = NULL;
      gboolean more;
      gssize n;

      n = gmulti_connection_recv_record (conn, &record, &error);
      if (n < 0 && error == NULL)
        {
          wait_for_more (conn, *got);
          return FALSE;
        }
      if (n < 0 || (n == 0 && end_cut_short (conn, &error)))
        {
          gmulti_http1_fail (conn, error);
          return FALSE;
        }
      *got += (gsize) n;

      /* The exchange may end in gmulti_http1_process(), and the connection with it: the
       * record is ours, and is freed after. */
      more = gmulti_http1_process (conn, n > 0 ? record.data : nothing, (gsize) n, n == 0);
      gmulti_tls_record_clear (&record);
      if (!more)
        return FALSE;
      if (conn->leftover != NULL)
        return TRUE;
      if (*got >= GMULTI_RECEIVE_BUDGET)
        {
          yield_receive (conn, *got);
          return FALSE;
        }
    }
}

static void
receive (GMultiConnection *conn)
{
  GMultiEngine *engine = conn->engine;
  GMultiHttp1Stream *stream = &h1_of (conn)->stream;
  GMultiRun *run = stream->run;
  GError *error = NULL;
  gsize size, offset = 0;
  guint8 *buffer;
  gboolean grow, more;
  guint reads = 0;
  gsize got = 0;
  gssize n;

  conn->n_receives++;
  if (run->paused)
    {
      gmulti_connection_want (conn, GMULTI_POLL_NONE);
      return;
    }

again:
  {
    guint64 left;
    int fd;

    if (can_splice (conn, &left, &fd))
      {
        receive_spliced (conn, left, fd);
        return;
      }
  }
  if (gmulti_connection_has_records (conn) && conn->leftover == NULL &&
      !receive_records (conn, &got))
    return;
  offset = 0;
  buffer = gmulti_engine_get_scratch (engine, &size);
  if (conn->leftover != NULL)
    {
      while (conn->leftover_length >= size / 2 && size < GMULTI_SCRATCH_MAX_SIZE)
        {
          gmulti_engine_grow_scratch (engine);
          buffer = gmulti_engine_get_scratch (engine, &size);
        }
      offset = MIN (conn->leftover_length, size);
      memcpy (buffer, conn->leftover, offset);
      g_clear_pointer (&conn->leftover, g_free);
      conn->leftover_length = 0;
    }

  n = gmulti_connection_recv (conn, buffer + offset, size - offset, &error);
  if (n < 0 && error == NULL)
    {
      gmulti_connection_keep_leftover (conn, buffer, offset);
      wait_for_more (conn, got);
      return;
    }
  if (n < 0 || (n == 0 && end_cut_short (conn, &error)))
    {
      gmulti_http1_fail (conn, error);
      return;
    }

  got += (gsize) n;

  /* A read that fills the buffer during a body means bulk data: read more per call
   * from now on (after this buffer's contents were consumed). */
  grow = n > 0 && (gsize) n == size - offset && size < GMULTI_SCRATCH_MAX_SIZE &&
         stream->got_final_head;

  more = gmulti_http1_process (conn, buffer, offset + n, n == 0);
  if (grow)
    gmulti_engine_grow_scratch (engine);

  /* Records GnuTLS already decrypted never make the socket readable again: read them
   * now, or the transfer stalls. */
  if (more && gmulti_connection_has_pending (conn))
    {
      if (got < GMULTI_RECEIVE_BUDGET)
        goto again;
      yield_receive (conn, got);
      return;
    }
  /* A full buffer means more is probably queued: read it now rather than after a round
   * of the event loop, which leaves the server idle (plain HTTP bulk bodies). */
  if (more && n > 0 && (gsize) n == size - offset && ++reads < GMULTI_RECEIVE_MAX_READS)
    goto again;
  if (more)
    wait_for_more (conn, got);
}

/* Holds the rest of the input until the transfer is resumed. */
static void
hold (GMultiConnection *conn,
      const guint8     *data,
      gsize             length)
{
  gmulti_connection_keep_leftover (conn, data, length);
  gmulti_connection_want (conn, GMULTI_POLL_NONE);
}

/* Returns FALSE if the exchange failed. */
static gboolean
on_head (GMultiConnection *conn)
{
  GMultiHttp1Connection *h1 = h1_of (conn);
  GMultiHttp1Stream *stream = &h1->stream;
  GMultiRun *run = stream->run;
  GMultiHttp1Parser *parser = &h1->parser;
  GError *body_error = NULL;
  GMultiStreamVerdict verdict;

  g_free (run->reason);
  run->reason = g_steal_pointer (&parser->reason);
  run->status = parser->status;
  g_clear_pointer (&run->response_headers, gmulti_headers_unref);
  run->response_headers = gmulti_http1_parser_steal_headers (parser);
  run->bytes_expected = parser->body_mode == GMULTI_HTTP1_BODY_LENGTH
                             ? parser->content_length
                             : (parser->body_mode == GMULTI_HTTP1_BODY_NONE ? 0 : -1);
  run->metrics.header_bytes_received = parser->header_bytes_total;
  stream->got_final_head = TRUE;

  /* A final answer before the body was sent: the rest of the body is not sent, so the
   * connection cannot be reused. */
  if (!stream->body_done)
    {
      h1_of (conn)->reusable = FALSE;
      stream->body_done = TRUE;
      run->metrics.body_bytes_sent += stream->body_sent;
      g_clear_pointer (&stream->unsent, g_byte_array_unref);
    }
  if (run->phase != GMULTI_RUN_RECEIVING)
    {
      run->metrics.request_sent_time = gmulti_http1_time_since_start (run);
      gmulti_connection_want (conn, GMULTI_POLL_IN);
    }

  /* The parser removes only the chunked framing and names the other codings; a body
   * that is only framed (a redirect being followed) need not be decoded. */
  if (G_UNLIKELY (parser->unknown_coding != NULL) && parser->body_mode != GMULTI_HTTP1_BODY_NONE)
    body_error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING,
                              _("The response uses the transfer coding “%s”, which cannot be decoded"),
                              parser->unknown_coding);
  verdict = gmulti_stream_headers (run, body_error);
  if (verdict == GMULTI_STREAM_FAILED)
    {
      h1->reusable = FALSE;
      end_exchange (conn, GMULTI_PROTOCOL_CLOSE);
      return FALSE;
    }
  /* A body that is not delivered gets no chain. */
  if (verdict == GMULTI_STREAM_DELIVER)
    gmulti_stream_build_body_chain (run, &h1->body, parser->codings, parser->n_codings,
                                    parser->body_mode != GMULTI_HTTP1_BODY_NONE);
  return TRUE;
}

/* Acts on what the body chain said. Returns FALSE when the exchange failed (@error)
 * or paused (then the rest of the input, @rest, is held). */
static gboolean
body_written (GMultiConnection *conn,
              GMultiBodyStatus  status,
              GError           *error,
              const guint8     *rest,
              gsize             rest_length)
{
  switch (status)
    {
    case GMULTI_BODY_OK:
      return TRUE;
    case GMULTI_BODY_STOPPED:
      hold (conn, rest, rest_length);
      return FALSE;
    case GMULTI_BODY_ERROR:
    default:
      h1_of (conn)->reusable = FALSE;
      gmulti_http1_fail (conn, error);
      return FALSE;
    }
}

/* The end of the body: the chain's decoders pass on what they hold and check that
 * their codings ended. */
static gboolean
finish_body (GMultiConnection *conn,
             const guint8     *rest,
             gsize             rest_length)
{
  GError *error = NULL;
  GMultiBodyStatus status = gmulti_body_chain_finish (&h1_of (conn)->body, &error);

  return body_written (conn, status, error, rest, rest_length);
}

/* Feeds input to the parser and acts on its events. Returns TRUE when the exchange
 * goes on and waits for more input; FALSE when it ended, failed or is paused. An
 * exchange that ended has left its result in h1->result for the pool. */
gboolean
gmulti_http1_process (GMultiConnection *conn,
                      const guint8     *data,
                      gsize             length,
                      gboolean          eof)
{
  GMultiHttp1Stream *stream = &h1_of (conn)->stream;
  GMultiRun *run = stream->run;
  gsize pos = 0;

  if (length > 0 && !stream->response_started)
    {
      stream->response_started = TRUE;
      if (run->metrics.first_byte_time == 0)
        run->metrics.first_byte_time = gmulti_http1_time_since_start (run);
    }

  /* Resumed: what the body chain kept when the transfer paused comes first. */
  if (gmulti_body_chain_is_stopped (&h1_of (conn)->body))
    {
      GError *error = NULL;
      GMultiBodyStatus status = gmulti_body_chain_resume (&h1_of (conn)->body, &error);

      if (!body_written (conn, status, error, data, length))
        return FALSE;
    }

  for (;;)
    {
      GError *error = NULL;
      const guint8 *body = NULL;
      gsize body_length = 0, consumed = 0;
      GMultiHttp1Event event;

      event = gmulti_http1_parser_feed (&h1_of (conn)->parser, data + pos, length - pos, &consumed,
                                        &body, &body_length, &error);
      pos += consumed;

      switch (event)
        {
        case GMULTI_HTTP1_HEADERS:
          if (h1_of (conn)->parser.status < 200)
            {
              g_clear_pointer (&h1_of (conn)->parser.reason, g_free);
              if (h1_of (conn)->parser.status == 100 && run->phase == GMULTI_RUN_WAIT_CONTINUE)
                {
                  gmulti_stream_continue (run);
                  if (!gmulti_http1_send_pending (conn, FALSE))
                    return FALSE;
                }
              break;
            }
          if (!on_head (conn))
            return FALSE;
          if (run->paused)
            {
              hold (conn, data + pos, length - pos);
              return FALSE;
            }
          break;

        case GMULTI_HTTP1_BODY:
          if (gmulti_body_chain_is_built (&h1_of (conn)->body))
            {
              GMultiBodyStatus status;

              status = gmulti_body_chain_write (&h1_of (conn)->body, body, body_length, &error);
              if (!body_written (conn, status, error, data + pos, length - pos))
                return FALSE;
            }
          break;

        case GMULTI_HTTP1_DONE:
          if (gmulti_body_chain_is_built (&h1_of (conn)->body) &&
              !finish_body (conn, data + pos, length - pos))
            return FALSE;
          /* HTTP/1.1 without pipelining: anything after the response is a violation. */
          complete (conn, pos == length && !eof);
          return FALSE;

        case GMULTI_HTTP1_NEED_MORE:
          if (eof)
            {
              event = gmulti_http1_parser_eof (&h1_of (conn)->parser, &error);
              if (event != GMULTI_HTTP1_DONE)
                gmulti_http1_fail (conn, error);
              else if (!gmulti_body_chain_is_built (&h1_of (conn)->body) ||
                       finish_body (conn, NULL, 0))
                complete (conn, FALSE);
              return FALSE;
            }
          gmulti_connection_keep_leftover (conn, data + pos, length - pos);
          return TRUE;

        case GMULTI_HTTP1_ERROR:
        default:
          h1_of (conn)->reusable = FALSE;
          gmulti_http1_fail (conn, error);
          return FALSE;
        }
    }
}

static GMultiProtocolResult
h1_event (GMultiConnection *conn,
          GMultiEvent       events)
{
  GMultiHttp1Connection *h1 = h1_of (conn);
  GMultiHttp1Stream *stream = &h1->stream;
  GMultiRun *run = stream->run;

  /* Anything an idle connection reads, other than transport housekeeping, means it
   * cannot carry another request: the server closed it, or sent what nobody asked for. */
  if (conn->state == GMULTI_CONNECTION_IDLE)
    return h1_is_clean (conn) ? GMULTI_PROTOCOL_OK : GMULTI_PROTOCOL_CLOSE;
  if (run == NULL)
    return GMULTI_PROTOCOL_OK;

  h1->result = GMULTI_PROTOCOL_OK;
  if ((events & GMULTI_EVENT_OUT) && !stream->body_done &&
      (stream->unsent != NULL || run->phase == GMULTI_RUN_SENDING))
    {
      if (!gmulti_http1_send_pending (conn, TRUE))
        return h1->result;
    }
  else if ((events & GMULTI_EVENT_OUT) && stream->unsent != NULL)
    {
      if (!gmulti_http1_send_pending (conn, TRUE))
        return h1->result;
    }

  if (events & (GMULTI_EVENT_IN | GMULTI_EVENT_ERR))
    receive (conn);
  return h1->result;
}

static GMultiProtocolResult
h1_resume (GMultiConnection *conn,
           GMultiRun        *run)
{
  GMultiHttp1Connection *h1 = h1_of (conn);
  guint8 *held = g_steal_pointer (&conn->leftover);
  gsize length = conn->leftover_length;

  conn->leftover_length = 0;
  if (h1->stream.run != run || run->paused)
    {
      conn->leftover = held;
      conn->leftover_length = length;
      return GMULTI_PROTOCOL_OK;
    }

  h1->result = GMULTI_PROTOCOL_OK;
  gmulti_connection_want (conn, run->phase == GMULTI_RUN_SENDING
                                ? GMULTI_POLL_INOUT : GMULTI_POLL_IN);
  /* Even with nothing held, the parser may already have seen the end of the message
   * (paused on the last bytes): feeding it nothing lets it report DONE. */
  {
    static const guint8 nothing[1];

    gboolean more = gmulti_http1_process (conn, held != NULL ? held : nothing, length, FALSE);

    g_free (held);
    if (more && gmulti_connection_has_pending (conn))
      receive (conn);
  }
  return h1->result;
}

static GMultiProtocolResult
h1_timeout (GMultiConnection *conn,
            GMultiRun        *run)
{
  GMultiHttp1Connection *h1 = h1_of (conn);

  if (h1->stream.run != run)
    return GMULTI_PROTOCOL_OK;
  h1->result = GMULTI_PROTOCOL_OK;
  gmulti_http1_send_pending (conn, TRUE);
  return h1->result;
}

static GMultiProtocolResult
h1_reset_stream (GMultiConnection *conn,
                 GMultiRun        *run)
{
  GMultiHttp1Connection *h1 = h1_of (conn);
  GMultiHttp1Stream *stream = &h1->stream;
  gboolean clean;

  /* Clean when nothing of this exchange is on the wire yet in either direction. */
  clean = stream->run == run && !stream->body_started &&
          !stream->response_started && conn->leftover == NULL && h1->reusable;

  end_exchange (conn, GMULTI_PROTOCOL_OK);
  gmulti_body_chain_clear (&h1->body);
  g_clear_pointer (&stream->unsent, g_byte_array_unref);
  return clean ? GMULTI_PROTOCOL_IDLE : GMULTI_PROTOCOL_CLOSE;
}

static void
h1_fail (GMultiConnection *conn,
         const GError     *error)
{
  GMultiHttp1Connection *h1 = h1_of (conn);

  if (h1->stream.run != NULL)
    gmulti_stream_failed (end_exchange (conn, GMULTI_PROTOCOL_CLOSE), g_error_copy (error),
                          FALSE);
}

static guint
h1_capacity (GMultiConnection *conn)
{
  return h1_of (conn)->stream.run == NULL ? 1 : 0;
}

static gpointer
h1_attach (GMultiConnection *conn)
{
  GMultiHttp1Connection *h1 = g_new0 (GMultiHttp1Connection, 1);

  h1->reusable = TRUE;
  gmulti_http1_parser_init (&h1->parser);
  return h1;
}

static void
h1_free (gpointer state)
{
  GMultiHttp1Connection *h1 = state;

  gmulti_http1_parser_clear (&h1->parser);
  gmulti_body_chain_clear (&h1->body);
  g_clear_pointer (&h1->stream.unsent, g_byte_array_unref);
  g_free (h1);
}

const GMultiProtocol gmulti_http1_protocol = {
  .name = "http/1.1",
  .version = GMULTI_HTTP_VERSION_HTTP_1_1,
  .attach = h1_attach,
  .free = h1_free,
  .start_stream = gmulti_http1_start_stream,
  .event = h1_event,
  .resume = h1_resume,
  .timeout = h1_timeout,
  .reset_stream = h1_reset_stream,
  .fail = h1_fail,
  .capacity = h1_capacity,
  .is_clean = h1_is_clean,
};
