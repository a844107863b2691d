/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "http2/gmulti-http2-private.h"
#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-headers-private.h"
#include "gmulti-i18n-private.h"

/* One transfer's exchange on an HTTP/2 stream: the request head as header fields, the
 * body through nghttp2's data source (it asks for no more than the stream may send),
 * the response head and trailers into the run, and the body into the same chain of
 * writers HTTP/1.1 builds. A paused transfer stops giving back its stream's window, so
 * the server stops sending on it while the other streams go on. */

/* For the metrics: the clock, as HTTP/1.1 counts (0 means "never"). */
static gint64
time_since_start (GMultiRun *run)
{
  return MAX (g_get_monotonic_time () - run->start_us, 1);
}

static gboolean
name_is (const char *name,
         const char *lower)
{
  return g_ascii_strcasecmp (name, lower) == 0;
}

/* Fields that mean something only to one HTTP/1.1 connection (RFC 9113 8.2.2), and
 * those the request's framing and pseudo-fields replace. */
static gboolean
is_dropped (const char *name,
            const char *value)
{
  static const char *const dropped[] = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    "host", "content-length",
  };

  for (guint i = 0; i < G_N_ELEMENTS (dropped); i++)
    if (name_is (name, dropped[i]))
      return TRUE;
  /* TE may only say "trailers". */
  return name_is (name, "te") && g_ascii_strcasecmp (value, "trailers") != 0;
}

static nghttp2_nv
make_nv (const char *name,
         gsize       name_len,
         const char *value)
{
  nghttp2_nv nv;

  nv.name = (uint8_t *) name;
  nv.namelen = name_len;
  nv.value = (uint8_t *) value;
  nv.valuelen = strlen (value);
  nv.flags = NGHTTP2_NV_FLAG_NONE;
  return nv;
}

/* Hands out the request body: from the bytes, or the owner's read function, never
 * more than @length (what the stream's window and the frame size allow). */
static ssize_t
read_body_cb (nghttp2_session     *session,
              int32_t              stream_id,
              uint8_t             *buf,
              size_t               length,
              uint32_t            *data_flags,
              nghttp2_data_source *source,
              void                *user_data)
{
  GMultiHttp2Stream *stream = source->ptr;
  GMultiRun *run = stream->run;
  gsize want = length;
  gssize n;

  if (run == NULL)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  /* Paused, or waiting for "100 Continue": resume_data() goes on. */
  if (run->paused || run->phase == GMULTI_RUN_WAIT_CONTINUE)
    {
      stream->body_deferred = TRUE;
      return NGHTTP2_ERR_DEFERRED;
    }

  if (stream->body_length >= 0)
    want = (gsize) MIN ((guint64) want, (guint64) stream->body_length - stream->body_sent);
  if (stream->body_from_bytes)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (run->request.body, &size);

      n = (gssize) want;
      memcpy (buf, data + stream->body_sent, want);
    }
  else if (want == 0)
    n = 0;
  else
    {
      GError *error = NULL;

      n = gmulti_run_read_body (run, buf, want, &error);
      if (n < 0)
        {
          g_clear_error (&stream->error);
          stream->error = error;
          return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
      if (n == 0 && stream->body_length >= 0)
        {
          g_clear_error (&stream->error);
          stream->error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED,
                                       _("The request body ended after %llu of %lld bytes"),
                                       (unsigned long long) stream->body_sent,
                                       (long long) stream->body_length);
          return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
    }

  stream->body_sent += (guint64) n;
  run->bytes_sent = stream->body_sent;
  if (n == 0 || (stream->body_length >= 0 && stream->body_sent >= (guint64) stream->body_length))
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return n;
}

gboolean
gmulti_http2_submit (GMultiHttp2Connection *h2,
                     GMultiRun             *run,
                     GError               **error)
{
  GMultiHeaders *headers = run->request.headers;
  const char *authority = run->host_header;
  gboolean has_user_agent = FALSE, has_accept = FALSE, has_accept_encoding = FALSE;
  const char *accept_encoding = gmulti_stream_accept_encoding (run);
  guint n_fields, n_nv = 0;
  gsize names_size = 0;
  /* A usual request head fits on the stack: no allocation for it. */
  nghttp2_nv nva_stack[32];
  char names_stack[512];
  nghttp2_nv *nva = nva_stack;
  char *names = names_stack, *next_name;
  char length_text[24];
  nghttp2_data_provider provider;
  GMultiHttp2Stream *stream;
  int32_t id;

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
  n_fields = headers != NULL ? gmulti_headers_get_length (headers) : 0;

  stream = g_new0 (GMultiHttp2Stream, 1);
  stream->h2 = h2;
  stream->run = run;
  stream->link.data = stream;
  stream->body_length = -1;
  stream->content_length = -1;
  if (run->request.has_body && !run->body_dropped)
    {
      stream->has_body = TRUE;
      if (run->request.body != NULL)
        {
          stream->body_from_bytes = TRUE;
          stream->body_length = (gint64) g_bytes_get_size (run->request.body);
        }
      else
        stream->body_length = run->request.body_length;
      if (stream->body_length == 0)
        stream->has_body = FALSE;
    }

  /* Names go lower-cased (RFC 9113 8.2.1) into one block beside the array; nghttp2
   * copies both. */
  for (guint i = 0; i < n_fields; i++)
    names_size += strlen (gmulti_headers_get_name (headers, i)) + 1;
  if (n_fields + 8 > G_N_ELEMENTS (nva_stack))
    nva = g_new (nghttp2_nv, n_fields + 8);
  if (names_size + 1 > sizeof names_stack)
    names = g_malloc (names_size + 1);
  next_name = names;

  nva[n_nv++] = make_nv (":method", 7, run->method);
  nva[n_nv++] = make_nv (":scheme", 7, run->tls ? "https" : "http");
  for (guint i = 0; i < n_fields; i++)
    if (name_is (gmulti_headers_get_name (headers, i), "host"))
      {
        authority = gmulti_headers_get_value (headers, i);
        break;
      }
  nva[n_nv++] = make_nv (":authority", 10, authority);
  nva[n_nv++] = make_nv (":path", 5, run->target);

  for (guint i = 0; i < n_fields; i++)
    {
      const char *name = gmulti_headers_get_name (headers, i);
      const char *value = gmulti_headers_get_value (headers, i);
      gsize len = strlen (name);

      if (is_dropped (name, value))
        continue;
      if (name_is (name, "user-agent"))
        has_user_agent = TRUE;
      else if (name_is (name, "accept"))
        has_accept = TRUE;
      else if (name_is (name, "accept-encoding"))
        has_accept_encoding = TRUE;
      for (gsize j = 0; j < len; j++)
        next_name[j] = g_ascii_tolower (name[j]);
      next_name[len] = '\0';
      nva[n_nv++] = make_nv (next_name, len, value);
      next_name += len + 1;
    }
  /* The defaults HTTP/1.1 adds, when the application set none. */
  if (run->defaults->user_agent != NULL)
    {
      if (!has_user_agent)
        nva[n_nv++] = make_nv ("user-agent", 10, run->defaults->user_agent);
      if (!has_accept)
        nva[n_nv++] = make_nv ("accept", 6, "*/*");
    }
  if (accept_encoding != NULL && !has_accept_encoding)
    nva[n_nv++] = make_nv ("accept-encoding", 15, accept_encoding);
  if (stream->body_length >= 0 && run->request.has_body && !run->body_dropped)
    {
      g_snprintf (length_text, sizeof length_text, "%" G_GINT64_FORMAT, stream->body_length);
      nva[n_nv++] = make_nv ("content-length", 14, length_text);
    }

  for (guint i = 0; i < n_nv; i++)
    run->metrics.header_bytes_sent += nva[i].namelen + nva[i].valuelen + 4;

  provider.source.ptr = stream;
  provider.read_callback = read_body_cb;
  id = nghttp2_submit_request (h2->session, NULL, nva, n_nv,
                               stream->has_body ? &provider : NULL, stream);
  if (names != names_stack)
    g_free (names);
  if (nva != nva_stack)
    g_free (nva);
  if (id < 0)
    {
      g_free (stream);
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_HTTP2_CONNECTION_ERROR,
                   _("The HTTP/2 request could not be sent: %s"), nghttp2_strerror (id));
      return FALSE;
    }
  stream->id = id;
  g_queue_push_tail_link (&h2->streams, &stream->link);
  h2->n_runs++;
  run->bytes_spliced = 0;

  {
    const char *expect = gmulti_headers_get_one (headers, "Expect");

    if (stream->has_body && expect != NULL && g_ascii_strcasecmp (expect, "100-continue") == 0)
      gmulti_stream_wait_continue (run);
  }
  return TRUE;
}

void
gmulti_http2_request_sent (GMultiHttp2Stream *stream)
{
  GMultiRun *run = stream->run;

  stream->request_done = TRUE;
  if (run == NULL)
    return;
  run->metrics.request_sent_time = time_since_start (run);
  run->bytes_sent = stream->body_sent;
  /* Over all hops: a 307 sends the body again. */
  run->metrics.body_bytes_sent += stream->body_sent;
  gmulti_stream_request_sent (run);
}

/* Ends @stream's part in the exchange on our side: a request body still going is cut
 * off (the server answered without waiting for it). */
static void
cancel (GMultiHttp2Stream *stream,
        uint32_t           code)
{
  GMultiHttp2Connection *h2 = stream->h2;

  if (!stream->closed)
    nghttp2_submit_rst_stream (h2->session, NGHTTP2_FLAG_NONE, stream->id, code);
}

/* The stream failed on our side: its transfer fails with @error, the server is told. */
static void
fail_stream (GMultiHttp2Stream *stream,
             GError            *error)
{
  GMultiRun *run = gmulti_http2_detach (stream);

  cancel (stream, NGHTTP2_CANCEL);
  if (run != NULL)
    gmulti_stream_failed (run, error, FALSE);
  else
    g_clear_error (&error);
}

int
gmulti_http2_on_begin_headers (nghttp2_session     *session,
                               const nghttp2_frame *frame,
                               void                *user_data)
{
  GMultiHttp2Stream *stream;

  if (frame->hd.type != NGHTTP2_HEADERS)
    return 0;
  /* A head (trailers, or another stream's) comes after the body bytes before it. */
  gmulti_http2_flush_gathered (user_data);
  stream = nghttp2_session_get_stream_user_data (session, frame->hd.stream_id);
  if (stream == NULL)
    return 0;
  stream->status = 0;
  stream->field_bytes = 0;
  stream->n_fields = 0;
  stream->content_length = -1;
  g_clear_pointer (&stream->fields, gmulti_headers_unref);
  stream->fields = gmulti_headers_new ();
  if (!stream->response_started)
    {
      stream->response_started = TRUE;
      if (stream->run != NULL && stream->run->metrics.first_byte_time == 0)
        stream->run->metrics.first_byte_time = time_since_start (stream->run);
    }
  return 0;
}

int
gmulti_http2_on_header (nghttp2_session     *session,
                        const nghttp2_frame *frame,
                        const uint8_t       *name,
                        size_t               namelen,
                        const uint8_t       *value,
                        size_t               valuelen,
                        uint8_t              flags,
                        void                *user_data)
{
  GMultiHttp2Stream *stream;

  if (frame->hd.type != NGHTTP2_HEADERS)
    return 0;
  stream = nghttp2_session_get_stream_user_data (session, frame->hd.stream_id);
  if (stream == NULL || stream->run == NULL || stream->fields == NULL)
    return 0;

  /* Bounded as an HTTP/1.1 head is; the stream is reset and fails with this. */
  stream->field_bytes += namelen + valuelen + 4;
  if (++stream->n_fields > GMULTI_HTTP2_MAX_HEADER_FIELDS ||
      stream->field_bytes > GMULTI_HTTP2_MAX_HEADER_BYTES)
    {
      g_clear_error (&stream->error);
      stream->error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_HEADERS_TOO_LARGE,
                                   _("The response head is larger than %u bytes or has "
                                     "more than %u fields"),
                                   (guint) GMULTI_HTTP2_MAX_HEADER_BYTES,
                                   (guint) GMULTI_HTTP2_MAX_HEADER_FIELDS);
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }

  /* nghttp2 checked the fields (RFC 9113 8.2): lower-case tokens, values without
   * CR, LF or NUL, pseudo-fields only first and only known ones. */
  if (namelen > 0 && name[0] == ':')
    {
      if (namelen == 7 && memcmp (name, ":status", 7) == 0 && valuelen == 3)
        stream->status = (guint) ((value[0] - '0') * 100 + (value[1] - '0') * 10 +
                                  (value[2] - '0'));
      return 0;
    }
  /* Read as it goes by, not looked up in the block afterwards. Names are lower case
   * here, and nghttp2 refuses a second Content-Length. */
  if (namelen == 14 && memcmp (name, "content-length", 14) == 0 &&
      gmulti_headers_read_content_length ((const char *) value, valuelen,
                                          &stream->content_length) != GMULTI_CONTENT_LENGTH_OK)
    stream->content_length = -2;
  gmulti_headers_append_unchecked (stream->fields, (const char *) name, namelen,
                                   (const char *) value, valuelen);
  return 0;
}

/* The final response head: onto the run, and the body's way out. */
static void
on_final_head (GMultiHttp2Stream *stream)
{
  GMultiRun *run = stream->run;
  GMultiStreamVerdict verdict;
  gint64 length;

  stream->got_final_head = TRUE;
  run->status = stream->status;
  /* HTTP/2 has no reason phrase: NULL reads as "" once a status is there. */
  g_clear_pointer (&run->reason, g_free);
  g_clear_pointer (&run->response_headers, gmulti_headers_unref);
  run->response_headers = g_steal_pointer (&stream->fields);
  run->metrics.header_bytes_received += stream->field_bytes;
  length = stream->content_length;
  if (length == -2)
    {
      fail_stream (stream, g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                                        _("The response has an invalid Content-Length")));
      return;
    }
  if (run->head_request || run->status == 204 || run->status == 304)
    length = 0;
  run->bytes_expected = length;
  if (run->phase == GMULTI_RUN_WAIT_CONTINUE)
    gmulti_stream_continue (run);

  verdict = gmulti_stream_headers (run, NULL);
  if (verdict == GMULTI_STREAM_FAILED)
    {
      gmulti_http2_detach (stream);
      cancel (stream, NGHTTP2_CANCEL);
      return;
    }
  if (verdict == GMULTI_STREAM_DELIVER)
    {
      gmulti_stream_build_body_chain (run, &stream->body, NULL, 0, length != 0);
      stream->deliver = TRUE;
    }
}

/* The response ended and every byte was delivered: the exchange is complete. */
static void
complete (GMultiHttp2Stream *stream)
{
  GMultiRun *run = stream->run;

  if (stream->deliver)
    {
      GError *error = NULL;
      GMultiBodyStatus status = gmulti_body_chain_finish (&stream->body, &error);

      stream->finishing = status == GMULTI_BODY_STOPPED;
      if (status == GMULTI_BODY_STOPPED)
        return;
      if (status == GMULTI_BODY_ERROR)
        {
          fail_stream (stream, error);
          return;
        }
    }
  if (run->bytes_expected >= 0 && stream->received != (guint64) run->bytes_expected)
    {
      fail_stream (stream, g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                                        _("The response body has %llu bytes, but its "
                                          "Content-Length says %lld"),
                                        (unsigned long long) stream->received,
                                        (long long) run->bytes_expected));
      return;
    }
  /* The server answered before the whole request body went: the rest is not sent. */
  if (!stream->request_done)
    {
      run->metrics.body_bytes_sent += stream->body_sent;
      cancel (stream, NGHTTP2_NO_ERROR);
    }
  gmulti_http2_detach (stream);
  gmulti_stream_done (run);
}

void
gmulti_http2_on_stream_frame (GMultiHttp2Stream   *stream,
                              const nghttp2_frame *frame)
{
  GMultiRun *run = stream->run;

  if (run == NULL)
    return;
  if (frame->hd.type == NGHTTP2_HEADERS && stream->fields != NULL)
    {
      if (!stream->got_final_head && stream->status < 200)
        {
          /* 1xx: skipped; 100 lets a waiting body go. */
          g_clear_pointer (&stream->fields, gmulti_headers_unref);
          if (stream->status == 100 && run->phase == GMULTI_RUN_WAIT_CONTINUE)
            {
              gmulti_stream_continue (run);
              if (stream->body_deferred && !run->paused)
                {
                  stream->body_deferred = FALSE;
                  nghttp2_session_resume_data (stream->h2->session, stream->id);
                }
            }
          return;
        }
      if (!stream->got_final_head)
        {
          on_final_head (stream);
          if (stream->run == NULL)
            return;
        }
      else
        {
          /* Trailers. */
          g_clear_pointer (&run->response_trailers, gmulti_headers_unref);
          run->response_trailers = g_steal_pointer (&stream->fields);
          run->metrics.header_bytes_received += stream->field_bytes;
        }
    }
  if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    return;
  stream->ended = TRUE;
  if (!stream->got_final_head)
    {
      fail_stream (stream, g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                                        _("The HTTP/2 stream ended without a response")));
      return;
    }
  /* Paused with bytes held: resume() completes it. */
  if (run->paused || stream->held != NULL || gmulti_body_chain_is_stopped (&stream->body))
    return;
  complete (stream);
}

/* Acts on what the chain said about bytes it took. FALSE when the stream failed. */
static gboolean
written (GMultiHttp2Stream *stream,
         GMultiBodyStatus   status,
         GError            *error)
{
  if (status == GMULTI_BODY_ERROR)
    {
      fail_stream (stream, error);
      return FALSE;
    }
  return TRUE;
}

/* Keeps bytes the paused transfer cannot take; their window is given back when it
 * does. */
static void
hold (GMultiHttp2Stream *stream,
      const uint8_t     *data,
      size_t             len)
{
  if (stream->held == NULL)
    stream->held = g_byte_array_new ();
  g_byte_array_append (stream->held, data, (guint) len);
}

void
gmulti_http2_write_gathered (GMultiHttp2Connection *h2)
{
  GMultiHttp2Stream *stream = h2->gather_stream;
  struct iovec *iov = h2->gather;
  guint n_iov = h2->n_gather;
  gsize total = h2->gather_bytes;
  GMultiBodyStatus status;

  if (n_iov == 0)
    return;
  h2->gather_stream = NULL;
  h2->n_gather = 0;
  h2->gather_bytes = 0;
  /* Nothing reports an event between gathering and writing, but should the run have
   * left the stream, its bytes only give their window back. */
  if (stream->run == NULL)
    {
      nghttp2_session_consume_stream (h2->session, stream->id, total);
      return;
    }

  while (n_iov > 0)
    {
      gssize n = writev (h2->gather_fd, iov, (int) MIN (n_iov, (guint) IOV_MAX));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = n < 0 ? errno : ENOSPC;

          fail_stream (stream, g_error_new (GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED,
                                            _("Could not write the response body: %s"),
                                            g_strerror (saved)));
          return;
        }
      while (n_iov > 0 && (gsize) n >= iov->iov_len)
        {
          n -= (gssize) iov->iov_len;
          iov++;
          n_iov--;
        }
      if (n_iov > 0)
        {
          iov->iov_base = (guint8 *) iov->iov_base + n;
          iov->iov_len -= (gsize) n;
        }
    }
  /* Counted and reported as if written one by one; a pause holds what comes next. */
  status = gmulti_body_chain_spliced (&stream->body, total);
  if (written (stream, status, NULL))
    nghttp2_session_consume_stream (h2->session, stream->id, total);
}

int
gmulti_http2_on_data (nghttp2_session *session,
                      uint8_t          flags,
                      int32_t          stream_id,
                      const uint8_t   *data,
                      size_t           len,
                      void            *user_data)
{
  GMultiHttp2Stream *stream = nghttp2_session_get_stream_user_data (session, stream_id);
  GMultiRun *run;
  GError *error = NULL;
  GMultiBodyStatus status;
  GMultiHttp2Connection *h2 = user_data;
  int fd;

  /* Chunks gathered for a file (below) go first, unless this one joins them: nothing
   * the transfer could see ran since they arrived, so it cannot have paused. */
  if (h2->n_gather > 0 && (h2->gather_stream != stream ||
                           h2->n_gather == GMULTI_HTTP2_GATHER_MAX))
    gmulti_http2_flush_gathered (h2);

  /* The connection's window is given back at once: only streams wait for a pause. */
  nghttp2_session_consume_connection (session, len);
  if (stream == NULL || stream->run == NULL || !stream->got_final_head)
    {
      nghttp2_session_consume_stream (session, stream_id, len);
      return 0;
    }
  run = stream->run;
  stream->received += len;
  if (run->bytes_expected >= 0 && stream->received > (guint64) run->bytes_expected)
    {
      gmulti_http2_flush_gathered (h2);
      nghttp2_session_consume_stream (session, stream_id, len);
      if (stream->run == NULL)
        return 0;
      fail_stream (stream, g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                                        _("The response body is longer than its "
                                          "Content-Length of %lld bytes"),
                                        (long long) run->bytes_expected));
      return 0;
    }
  if (!stream->deliver)
    {
      nghttp2_session_consume_stream (session, stream_id, len);
      return 0;
    }
  if (run->paused || stream->held != NULL || gmulti_body_chain_is_stopped (&stream->body))
    {
      hold (stream, data, len);
      return 0;
    }

  /* Bound for a file: gathered, and written with the other chunks of this read. */
  fd = gmulti_body_chain_splice_fd (&stream->body);
  if (fd >= 0 && (h2->n_gather == 0 || h2->gather_fd == fd))
    {
      h2->gather_stream = stream;
      h2->gather_fd = fd;
      h2->gather[h2->n_gather].iov_base = (void *) data;
      h2->gather[h2->n_gather].iov_len = len;
      h2->n_gather++;
      h2->gather_bytes += len;
      return 0;
    }

  gmulti_http2_flush_gathered (h2);
  if (stream->run == NULL || run->paused || gmulti_body_chain_is_stopped (&stream->body))
    {
      if (stream->run != NULL)
        hold (stream, data, len);
      else
        nghttp2_session_consume_stream (session, stream_id, len);
      return 0;
    }
  status = gmulti_body_chain_write (&stream->body, data, len, &error);
  /* Taken, even on STOPPED (a stage keeps it): the window goes back. */
  if (written (stream, status, error))
    nghttp2_session_consume_stream (session, stream_id, len);
  return 0;
}

void
gmulti_http2_stream_resume (GMultiHttp2Stream *stream)
{
  GMultiHttp2Connection *h2 = stream->h2;
  GMultiRun *run = stream->run;
  GError *error = NULL;

  /* What the chain kept from a write that stopped (a finish that stopped is simply
   * called again, in complete()). */
  if (gmulti_body_chain_is_stopped (&stream->body) && !stream->finishing)
    {
      GMultiBodyStatus status = gmulti_body_chain_resume (&stream->body, &error);

      if (!written (stream, status, error) || status == GMULTI_BODY_STOPPED)
        return;
    }

  if (stream->held != NULL)
    {
      GByteArray *held = g_steal_pointer (&stream->held);
      GMultiBodyStatus status = gmulti_body_chain_write (&stream->body, held->data, held->len,
                                                         &error);

      /* Taken: the server may send that much more (a closed stream ignores this). */
      if (status != GMULTI_BODY_ERROR)
        nghttp2_session_consume_stream (h2->session, stream->id, held->len);
      g_byte_array_unref (held);
      if (!written (stream, status, error) || status == GMULTI_BODY_STOPPED)
        return;
    }

  /* The request body waited for the pause to end. */
  if (stream->body_deferred && run->phase != GMULTI_RUN_WAIT_CONTINUE)
    {
      stream->body_deferred = FALSE;
      nghttp2_session_resume_data (h2->session, stream->id);
    }
  if (stream->ended)
    {
      complete (stream);
      /* Closed by nghttp2 already, kept only for this. */
      if (stream->run == NULL && stream->closed)
        gmulti_http2_stream_free (stream);
    }
}
