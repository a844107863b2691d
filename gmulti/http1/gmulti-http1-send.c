/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sys/socket.h>

#include "gmulti-http1-protocol.h"
#include "http1/gmulti-http1-protocol-private.h"
#include "gmulti-engine-private.h"
#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-i18n-private.h"
#include "http1/gmulti-http1-request.h"

/* The request side of HTTP/1.1: the head, the body from bytes or a read function
 * (chunk-framed when its length is unknown), waiting for 100 Continue, and what a
 * failed send leaves to read. The response side is in gmulti-http1-protocol.c. */

/* Request body pieces taken from a read function. */
#define GMULTI_UPLOAD_CHUNK_SIZE (16 * 1024)

static gboolean
body_allowed (GMultiRun *run)
{
  return run->phase == GMULTI_RUN_SENDING;
}

/* Fills stream->unsent with the next piece of a read-function body. FALSE on failure. */
static gboolean
fill_from_read_func (GMultiConnection *conn)
{
  GMultiHttp1Stream *stream = &h1_of (conn)->stream;
  GMultiRun *run = stream->run;
  GError *error = NULL;
  gsize want = GMULTI_UPLOAD_CHUNK_SIZE;
  gsize prefix_room = stream->chunked ? 24 : 0;
  gssize n;

  if (!stream->chunked)
    want = MIN (want, (guint64) stream->body_length - stream->body_sent);

  if (stream->unsent == NULL)
    stream->unsent = g_byte_array_sized_new (prefix_room + want + 2);
  g_byte_array_set_size (stream->unsent, prefix_room + want + 2);

  n = gmulti_run_read_body (run, stream->unsent->data + prefix_room, want,
                                         &error);
  if (n < 0)
    {
      g_byte_array_set_size (stream->unsent, 0);
      gmulti_http1_fail (conn, error);
      return FALSE;
    }

  if (!stream->chunked)
    {
      if (n == 0)
        {
          g_byte_array_set_size (stream->unsent, 0);
          gmulti_http1_fail (conn, g_error_new (GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED,
                                                _("The request body ended after %llu of %lld bytes"),
                                                (unsigned long long) stream->body_sent,
                                                (long long) stream->body_length));
          return FALSE;
        }
      g_byte_array_set_size (stream->unsent, n);
      stream->body_sent += n;
      if (stream->body_sent >= (guint64) stream->body_length)
        stream->body_done = TRUE;
      return TRUE;
    }

  if (n == 0)
    {
      static const char last[] = "0\r\n\r\n";

      g_byte_array_set_size (stream->unsent, 0);
      g_byte_array_append (stream->unsent, (const guint8 *) last, sizeof last - 1);
      stream->body_done = TRUE;
      return TRUE;
    }

  {
    char prefix[24];
    gsize plen = gmulti_http1_chunk_prefix (prefix, n);
    guint8 *start = stream->unsent->data + prefix_room - plen;

    memcpy (start, prefix, plen);
    memcpy (start + plen + n, "\r\n", 2);
    /* Slide the framed chunk to the front of the array. */
    memmove (stream->unsent->data, start, plen + n + 2);
    g_byte_array_set_size (stream->unsent, plen + n + 2);
    stream->body_sent += n;
  }
  return TRUE;
}

static void
request_sent (GMultiConnection *conn)
{
  GMultiHttp1Stream *stream = &h1_of (conn)->stream;
  GMultiRun *run = stream->run;

  run->metrics.request_sent_time = gmulti_http1_time_since_start (run);
  run->bytes_sent = stream->body_sent;
  /* Over all hops: a 307 sends the body again. */
  run->metrics.body_bytes_sent += stream->body_sent;
  gmulti_stream_request_sent (run);
  gmulti_connection_want (conn, GMULTI_POLL_IN);
}

/* Sending failed. A server that answers early (a 413 to an upload it will not take) may
 * stop reading and close: its answer, waiting to be read, says more than "broken pipe".
 * So the request ends here, and what arrived is parsed as the response; only when
 * nothing did is the send error reported. Not for use inside gmulti_http1_process(),
 * whose input lives in the receive buffer this reads into. */
static void
send_failed (GMultiConnection *conn,
             GError           *error)
{
  GMultiHttp1Stream *stream = &h1_of (conn)->stream;
  GMultiRun *run = stream->run;
  guint8 *buffer = NULL;
  gsize size;
  gssize n = 0;

  if (!stream->response_started)
    {
      buffer = gmulti_engine_get_scratch (conn->engine, &size);
      n = gmulti_connection_recv (conn, buffer, size, NULL);
      if (n <= 0)
        {
          gmulti_http1_fail (conn, error);
          return;
        }
    }

  g_clear_error (&error);
  h1_of (conn)->reusable = FALSE;
  run->metrics.body_bytes_sent += stream->body_sent;
  stream->body_done = TRUE;
  g_clear_pointer (&stream->unsent, g_byte_array_unref);
  gmulti_connection_want (conn, GMULTI_POLL_IN);
  /* A response under way (a partial head held) goes on with the next read. */
  if (n > 0)
    gmulti_http1_process (conn, buffer, n, FALSE);
}

/* Writes what the socket takes. Returns FALSE if the exchange ended or a send failure
 * handed it to send_failed(); @may_read allows that (not from inside
 * gmulti_http1_process()). */
gboolean
gmulti_http1_send_pending (GMultiConnection *conn,
                           gboolean          may_read)
{
  GMultiHttp1Stream *stream = &h1_of (conn)->stream;
  GMultiRun *run = stream->run;

  for (;;)
    {
      struct iovec iov[2];
      int n_iov = 0;
      gsize from_unsent = 0;
      GError *error = NULL;
      gssize n;

      if (stream->unsent != NULL && stream->unsent->len > 0)
        {
          iov[n_iov].iov_base = stream->unsent->data;
          iov[n_iov].iov_len = from_unsent = stream->unsent->len;
          n_iov++;
        }
      if (!stream->body_done && body_allowed (run))
        {
          if (stream->body_from_bytes)
            {
              gsize size;
              const guint8 *data = g_bytes_get_data (run->request.body, &size);

              iov[n_iov].iov_base = (guint8 *) data + stream->body_sent;
              iov[n_iov].iov_len = size - stream->body_sent;
              n_iov++;
            }
          else if (n_iov == 0)
            {
              if (!fill_from_read_func (conn))
                return FALSE;
              continue;
            }
        }

      if (n_iov == 0)
        {
          g_clear_pointer (&stream->unsent, g_byte_array_unref);
          if (stream->body_done || run->phase == GMULTI_RUN_RECEIVING)
            request_sent (conn);
          else
            gmulti_connection_want (conn, GMULTI_POLL_IN);
          return TRUE;
        }

      n = gmulti_connection_send (conn, iov, n_iov, &error);
      if (n < 0 && error == NULL)
        {
          gmulti_connection_want (conn, GMULTI_POLL_INOUT);
          return TRUE;
        }
      if (n < 0)
        {
          if (may_read)
            send_failed (conn, error);
          else
            gmulti_http1_fail (conn, error);
          return FALSE;
        }

      if (n > 0)
        stream->body_started = TRUE;
      if ((gsize) n >= from_unsent)
        {
          if (stream->unsent != NULL)
            g_byte_array_set_size (stream->unsent, 0);
          if (stream->body_from_bytes && n_iov > (from_unsent > 0 ? 1 : 0))
            {
              stream->body_sent += n - from_unsent;
              if (stream->body_sent >= (guint64) stream->body_length)
                stream->body_done = TRUE;
            }
        }
      else
        g_byte_array_remove_range (stream->unsent, 0, n);
      run->bytes_sent = stream->body_sent;
    }
}

GMultiProtocolResult
gmulti_http1_start_stream (GMultiConnection *conn,
                           GMultiRun        *run)
{
  GMultiEngine *engine = conn->engine;
  GMultiHttp1Connection *h1 = h1_of (conn);
  GMultiHttp1Stream *stream = &h1->stream;
  GMultiHeaders *headers = run->request.headers;
  gint64 framing;
  struct iovec iov[2];
  int n_iov = 1;
  GError *error = NULL;
  gssize n;

  g_assert (stream->run == NULL);
  stream->run = run;
  h1->result = GMULTI_PROTOCOL_OK;
  h1->n_exchanges++;
  gmulti_http1_parser_reset (&h1->parser, run->head_request);
  gmulti_body_chain_clear (&h1->body);
  /* The parser counts the heads of every response on the connection; count on from
   * this transfer's earlier hops instead. */
  h1->parser.header_bytes_total = run->metrics.header_bytes_received;

  /* Body framing of this hop. */
  g_clear_pointer (&stream->unsent, g_byte_array_unref);
  stream->body_sent = 0;
  stream->body_done = TRUE;
  stream->body_started = FALSE;
  stream->body_from_bytes = FALSE;
  stream->chunked = FALSE;
  stream->response_started = FALSE;
  stream->got_final_head = FALSE;
  stream->no_splice = FALSE;
  run->bytes_spliced = 0;
  framing = GMULTI_HTTP1_NO_BODY;
  if (run->request.has_body && !run->body_dropped)
    {
      stream->body_done = FALSE;
      if (run->request.body != NULL)
        {
          stream->body_from_bytes = TRUE;
          stream->body_length = g_bytes_get_size (run->request.body);
          framing = stream->body_length;
          if (stream->body_length == 0)
            stream->body_done = TRUE;
        }
      else if (run->request.body_length >= 0)
        {
          stream->body_length = run->request.body_length;
          framing = stream->body_length;
          if (stream->body_length == 0)
            stream->body_done = TRUE;
        }
      else
        {
          stream->body_length = -1;
          stream->chunked = TRUE;
          framing = GMULTI_HTTP1_CHUNKED;
        }
    }

  /* A redirect to another origin must not carry the application's credentials. */
  if (run->cross_origin && run->hop_headers == NULL)
    {
      run->hop_headers = gmulti_headers_copy (headers);
      gmulti_headers_remove (run->hop_headers, "Authorization");
      gmulti_headers_remove (run->hop_headers, "Proxy-Authorization");
      gmulti_headers_remove (run->hop_headers, "Cookie");
    }
  if (run->hop_headers != NULL)
    headers = run->hop_headers;

  stream->expect_continue = !stream->body_done &&
                         gmulti_headers_get_one (headers, "Expect") != NULL &&
                         g_ascii_strcasecmp (gmulti_headers_get_one (headers, "Expect"),
                                             "100-continue") == 0;

  g_string_truncate (engine->head, 0);
  gmulti_http1_write_request_head_full (engine->head, run->method, run->target,
                                        run->host_header, headers, framing,
                                        run->defaults->user_agent,
                                        gmulti_stream_accept_encoding (run),
                                        run->target_prefix, run->proxy_authorization);
  run->metrics.header_bytes_sent += engine->head->len;

  iov[0].iov_base = engine->head->str;
  iov[0].iov_len = engine->head->len;
  if (stream->body_from_bytes && !stream->body_done && !stream->expect_continue)
    {
      gsize size;

      iov[1].iov_base = (gpointer) g_bytes_get_data (run->request.body, &size);
      iov[1].iov_len = size;
      n_iov = 2;
    }

  if (stream->expect_continue)
    gmulti_stream_wait_continue (run);

  /* The common case: the whole request leaves in one system call, with no buffering. */
  n = gmulti_connection_send (conn, iov, n_iov, &error);
  if (n < 0 && error != NULL)
    {
      send_failed (conn, error);
      return h1->result;
    }
  if (n < 0)
    n = 0;
  if (n > 0)
    stream->body_started = TRUE;

  if ((gsize) n < iov[0].iov_len)
    {
      stream->unsent = g_byte_array_sized_new (iov[0].iov_len - n);
      g_byte_array_append (stream->unsent, (const guint8 *) iov[0].iov_base + n,
                           iov[0].iov_len - n);
    }
  else if (n_iov == 2)
    {
      stream->body_sent = n - iov[0].iov_len;
      if (stream->body_sent >= (guint64) stream->body_length)
        stream->body_done = TRUE;
    }

  gmulti_http1_send_pending (conn, TRUE);
  return h1->result;
}
