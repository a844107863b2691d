/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <gio/gunixoutputstream.h>
#include <gnutls/gnutls.h>

#include "gmulti.h"
#include "engine/gmulti-resolver.h"
#include "engine-driver.h"
#include "http1/gmulti-http1-parser.h"
#include "exchange-harness.h"

/*
 * Whole exchanges through the real engine. The harness plays the server in the same
 * thread (over TLS with a real GnuTLS server session), and the input says what the
 * server sends, how it is cut into TLS records and socket writes, when the server
 * closes, and what the application does meanwhile. Every write is followed by the
 * engine handling whatever became ready, so each write is one read.
 *
 * The engine connects to 127.0.0.1 as usual, but the resolver hands it the address of
 * a Unix stream socket the harness listens on (gmulti_resolver_divert_loopback()):
 * the connection, TLS and exchange code is the production one, and a Unix socket has
 * the bytes at the peer before send() returns, where loopback TCP may deliver them a
 * moment later (softirq work deferred on a busy machine). So a run repeats exactly,
 * and nothing ever leaves the process: other hosts fail as unknown names.
 *
 * Input:
 *   byte 0   bits 0-1: the sink: 0 a write function, 1 memory, 2 a memory output
 *              stream, 3 a memfd output stream (spliced from plain TCP);
 *            bit 2: HEAD instead of GET; bit 3: follow redirects (at most 3);
 *            bit 4: a "data" handler is connected;
 *            bit 5: TLS 1.2 only (TLS 1.3 otherwise); bit 6: no session tickets
 *   byte 1   bits 0-3: the body callback (write function or data handler) that
 *              pauses the transfer (0: none); bits 4-7: the write function call
 *              that returns FALSE (0: none)
 *   then     response bytes, in which 0xFF starts an operation:
 *     FF FF  a 0xFF byte of the response
 *     FF 'r' the response bytes since the last record become one TLS record (over
 *            plain TCP: the next bytes of the stream); ciphertext queues to be written
 *     FF 'w' N  the next N + 1 queued bytes are written to the socket
 *     FF 'f' a record, then everything queued is written
 *     FF 'p' / 'u' / 'x'  pause / resume / gmulti_engine_remove() the newest transfer
 *     FF 'n' the next transfer starts (three at most), reusing the connection if it
 *            was kept alive; the connection written to is the latest to get a request
 *     FF 'b' TLS close_notify queued
 *     FF 'c' / 'z'  the server closes (FIN) / resets (RST) now; queued bytes are lost
 *     FF 'k' TLS key update; 'h' renegotiation request; 'a' / 'A' warning / fatal alert;
 *            'T' a TLS 1.3 session ticket
 *     FF 't' a turn of the engine's timer
 * At the end paused transfers are resumed, everything queued is written, the server
 * closes every connection and the engine runs until every transfer ended.
 *
 * Checked: nothing crashes or leaks (memory, descriptors, references); each transfer
 * ends exactly once, with success or a GError, unless it was removed, and removal
 * never brings a completion message; a success has a final status and one
 * response-headers emission; the sink, the "data" handler and the byte counter agree;
 * the engine never spins; over plain TCP every request the server got is well formed,
 * and the credentials each transfer carries never go to another origin than the
 * first (a redirect may name 127.0.0.1 with another port). And for the first transfer, unless it was removed, aborted,
 * redirected or the server reset or alerted: the engine's result is what the parser
 * makes of the bytes the server delivered, in one piece: same status, same body, and
 * (over plain TCP) the same error. A body delimited by a close without close_notify
 * must fail over TLS.
 */

#define CHECK(cond) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        abort (); \
      } \
  } G_STMT_END

#define MAX_TRANSFERS 3
#define MAX_CONNS 8
/* Rounds of "server, then engine" in one pump that still made progress: more means
 * the engine keeps finding work where there is none. */
#define MAX_PUMP_ROUNDS 2000
#define TLS_RECORD_MAX 16384

typedef struct {
  int fd;
  gnutls_session_t session;     /* NULL over plain TCP */
  gboolean handshaking;
  gboolean tls_failed;          /* the server's handshake failed: nothing more to send */
  gboolean closed;              /* FIN or RST sent */
  gboolean bye;                 /* close_notify queued: no more records */

  GByteArray *queued;           /* bytes for the socket, not written yet */
  guint64 queued_base;          /* stream offset of queued->data[0] */
  guint64 written;              /* stream bytes written to the socket */

  /* What was delivered in plaintext: records end at marks (stream offsets). */
  GByteArray *plain;            /* every plaintext byte recorded, in order */
  GArray *record_ends;          /* guint64 stream offset where each record ends */
  GArray *record_plain_ends;    /* guint64 plain->len after each record */
  guint64 bye_end;              /* stream offset where close_notify ends; 0: none */
  gboolean had_reset_or_alert;
  int unread;                   /* request bytes waiting, as last seen */
} ServerConn;

typedef struct {
  GMultiTransfer *transfer;
  gboolean removed;
  guint n_messages;
  GError *error;                /* copy of the message's */
  guint status;
  guint n_response_headers;
  guint n_body_calls;
  guint n_write_calls;
  gboolean aborted;             /* the write function returned FALSE */
  GByteArray *written;          /* what the write function got */
  GByteArray *data_signal;      /* what the data handler got */
  GOutputStream *stream;
  int memfd;
  GObject *weak;                /* to check the transfer is finalized */
} Transfer;

typedef struct {
  gboolean tls;
  guint8 config;
  guint8 callbacks;
  GMultiEngine *engine;
  EngineDriver driver;          /* the sockets and deadline the engine announced */
  ServerConn *conns[MAX_CONNS];
  guint n_conns;
  ServerConn *current;          /* the one written to: the latest to get a request */
  Transfer transfers[MAX_TRANSFERS];
  guint n_transfers;
  GByteArray *response;         /* response bytes not yet in a record */
} Harness;

static int listener = -1;
/* Only named in URIs and Host fields: connections go to the Unix socket. */
static const guint16 listen_port = 9;
static gnutls_certificate_credentials_t server_credentials;
static gnutls_datum_t ticket_key;     /* session tickets, and resumption with them */
static char *ca_file;

/* ---- the server side ---- */

static ssize_t
server_push_cb (gnutls_transport_ptr_t ptr,
                const void            *data,
                size_t                 size)
{
  ServerConn *conn = ptr;

  /* Handshake flights go out whole: their sizes vary from run to run (signatures), so
   * only what follows them is cut as the input says, and a run repeats exactly. */
  if (conn->handshaking)
    {
      ssize_t n = send (conn->fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n < 0)
        gnutls_transport_set_errno (conn->session, errno == EAGAIN ? EAGAIN : errno);
      return n;
    }
  g_byte_array_append (conn->queued, data, size);
  return (ssize_t) size;
}

static ssize_t
server_pull_cb (gnutls_transport_ptr_t  ptr,
                void                   *data,
                size_t                  size)
{
  ServerConn *conn = ptr;
  ssize_t n = recv (conn->fd, data, size, MSG_DONTWAIT);

  if (n < 0)
    gnutls_transport_set_errno (conn->session, errno == EWOULDBLOCK ? EAGAIN : errno);
  return n;
}

static ServerConn *
server_conn_new (Harness *h,
                 int      fd)
{
  ServerConn *conn = g_new0 (ServerConn, 1);

  conn->fd = fd;
  conn->queued = g_byte_array_new ();
  conn->plain = g_byte_array_new ();
  conn->record_ends = g_array_new (FALSE, FALSE, sizeof (guint64));
  conn->record_plain_ends = g_array_new (FALSE, FALSE, sizeof (guint64));

  if (h->tls)
    {
      unsigned int flags = GNUTLS_SERVER | GNUTLS_NONBLOCK;
      const char *priority = (h->config & 0x20) ? "NORMAL:-VERS-ALL:+VERS-TLS1.2" : "NORMAL";

      if (h->config & 0x40)
        flags |= GNUTLS_NO_TICKETS;
      CHECK (gnutls_init (&conn->session, flags) == 0);
      CHECK (gnutls_credentials_set (conn->session, GNUTLS_CRD_CERTIFICATE,
                                     server_credentials) == 0);
      CHECK (gnutls_priority_set_direct (conn->session, priority, NULL) == 0);
      if (!(h->config & 0x40))
        CHECK (gnutls_session_ticket_enable_server (conn->session, &ticket_key) == 0);
      gnutls_transport_set_ptr (conn->session, conn);
      gnutls_transport_set_push_function (conn->session, server_push_cb);
      gnutls_transport_set_pull_function (conn->session, server_pull_cb);
      conn->handshaking = TRUE;
    }
  return conn;
}

static void
server_conn_free (ServerConn *conn)
{
  if (conn->fd >= 0)
    close (conn->fd);
  if (conn->session != NULL)
    gnutls_deinit (conn->session);
  g_byte_array_unref (conn->queued);
  g_byte_array_unref (conn->plain);
  g_array_unref (conn->record_ends);
  g_array_unref (conn->record_plain_ends);
  g_free (conn);
}

static ServerConn *
current_conn (Harness *h)
{
  if (h->current != NULL && !h->current->closed)
    return h->current;
  for (guint i = h->n_conns; i > 0; i--)
    {
      ServerConn *conn = h->conns[i - 1];

      if (!conn->closed)
        return conn;
    }
  return NULL;
}

/* The ciphertext (or plain bytes) of the records queued so far is written up to
 * @count more bytes. */
static void
server_write (ServerConn *conn,
              gsize       count)
{
  gsize n = MIN (count, conn->queued->len);

  if (conn->closed || n == 0)
    return;
  {
    ssize_t sent = send (conn->fd, conn->queued->data, n, MSG_NOSIGNAL | MSG_DONTWAIT);

    if (sent <= 0)
      return;
    g_byte_array_remove_range (conn->queued, 0, (guint) sent);
    conn->queued_base += (guint64) sent;
    conn->written += (guint64) sent;
  }
}

static void
server_record (Harness    *h,
               ServerConn *conn)
{
  const guint8 *data = h->response->data;
  gsize left = h->response->len;

  if (conn == NULL || conn->closed || conn->bye || conn->tls_failed ||
      (conn->session != NULL && conn->handshaking))
    {
      g_byte_array_set_size (h->response, 0);
      return;
    }

  while (left > 0)
    {
      gsize n = MIN (left, TLS_RECORD_MAX);
      guint64 end, plain_end;

      if (conn->session != NULL)
        {
          ssize_t ret = gnutls_record_send (conn->session, data, n);

          if (ret < 0)
            {
              conn->tls_failed = TRUE;
              break;
            }
          n = (gsize) ret;
        }
      else
        g_byte_array_append (conn->queued, data, n);

      g_byte_array_append (conn->plain, data, n);
      end = conn->queued_base + conn->queued->len;
      plain_end = conn->plain->len;
      g_array_append_val (conn->record_ends, end);
      g_array_append_val (conn->record_plain_ends, plain_end);
      data += n;
      left -= n;
    }
  g_byte_array_set_size (h->response, 0);
}

/* Plaintext that reached the socket: over TLS, only records that did so whole. */
static gsize
delivered_plain (ServerConn *conn)
{
  gsize plain = 0;

  if (conn->session == NULL)
    return (gsize) conn->written;

  for (guint i = 0; i < conn->record_ends->len; i++)
    {
      if (g_array_index (conn->record_ends, guint64, i) > conn->written)
        break;
      plain = (gsize) g_array_index (conn->record_plain_ends, guint64, i);
    }
  return plain;
}

static void
server_close (ServerConn *conn,
              gboolean    reset)
{
  if (conn == NULL || conn->closed)
    return;
  conn->closed = TRUE;
  if (!reset)
    {
      shutdown (conn->fd, SHUT_WR);
      return;
    }
  /* The request the server never read makes the client's next read fail with
   * ECONNRESET, as a TCP reset does. */
  conn->had_reset_or_alert = TRUE;
  close (conn->fd);
  conn->fd = -1;
}

/* Accepts and advances handshakes. Requests are never read: nothing depends on them,
 * and a reset needs them unread. */
static gboolean
server_step (Harness *h)
{
  gboolean progress = FALSE;
  int fd;

  while ((fd = accept4 (listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
    {
      CHECK (h->n_conns < MAX_CONNS);
      h->conns[h->n_conns] = server_conn_new (h, fd);
      h->current = h->conns[h->n_conns++];
      progress = TRUE;
    }

  for (guint i = 0; i < h->n_conns; i++)
    {
      ServerConn *conn = h->conns[i];
      int unread = 0;

      /* A new request: the response goes there (a redirect back to a pooled one). */
      if (conn->fd >= 0 && ioctl (conn->fd, FIONREAD, &unread) == 0 && unread > conn->unread)
        {
          conn->unread = unread;
          if (!conn->handshaking)
            h->current = conn;
        }

      if (conn->session != NULL && conn->handshaking && !conn->tls_failed && !conn->closed)
        {
          int ret = gnutls_handshake (conn->session);

          if (ret == 0)
            {
              conn->handshaking = FALSE;
              progress = TRUE;
            }
          else if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED &&
                   gnutls_error_is_fatal (ret))
            {
              conn->tls_failed = TRUE;
              server_close (conn, FALSE);
              progress = TRUE;
            }
        }
    }
  return progress;
}

/* ---- the application side ---- */

static Transfer *
find_transfer (Harness        *h,
               GMultiTransfer *transfer)
{
  for (guint i = 0; i < h->n_transfers; i++)
    if (h->transfers[i].transfer == transfer)
      return &h->transfers[i];
  CHECK (FALSE);
  return NULL;
}

static void
read_messages (Harness *h)
{
  GMultiMessage *msg;

  while ((msg = gmulti_engine_info_read (h->engine, NULL)) != NULL)
    {
      Transfer *t = find_transfer (h, msg->transfer);

      /* Exactly once, and never after removal. */
      CHECK (!t->removed);
      CHECK (t->n_messages == 0);
      t->n_messages++;
      t->status = gmulti_transfer_get_status (msg->transfer);
      if (msg->error != NULL)
        {
          CHECK (msg->error->message != NULL && msg->error->message[0] != '\0');
          CHECK (msg->error->domain == GMULTI_ERROR || msg->error->domain == G_IO_ERROR);
          t->error = g_error_copy (msg->error);
          CHECK (gmulti_transfer_get_error (msg->transfer) != NULL);
        }
      else
        CHECK (gmulti_transfer_get_error (msg->transfer) == NULL);
      CHECK (gmulti_transfer_get_state (msg->transfer) == GMULTI_TRANSFER_DONE);
    }
}

static void
messages_cb (gpointer data)
{
  read_messages (data);
}

static void
pump (Harness *h)
{
  guint rounds = 0;

  for (;;)
    {
      gboolean progress = server_step (h);

      progress |= engine_driver_step (&h->driver);
      if (!progress)
        break;
      CHECK (++rounds < MAX_PUMP_ROUNDS);
    }
}

/* A write function or data handler may pause the transfer (as the API allows). */
static void
body_callback (Transfer *t)
{
  guint pause_at = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (t->transfer), "pause-at"));

  t->n_body_calls++;
  if (pause_at != 0 && t->n_body_calls == pause_at)
    gmulti_transfer_pause (t->transfer);
}

static gboolean
write_cb (GMultiTransfer *transfer,
          const guint8   *data,
          gsize           length,
          gpointer        user_data)
{
  Transfer *t = user_data;
  guint abort_at = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (transfer), "abort-at"));

  CHECK (length > 0);
  CHECK (t->n_response_headers > 0);
  t->n_write_calls++;
  if (abort_at != 0 && t->n_write_calls == abort_at)
    {
      t->aborted = TRUE;
      return FALSE;
    }
  g_byte_array_append (t->written, data, length);
  if (!g_signal_has_handler_pending (transfer, g_signal_lookup ("data", GMULTI_TYPE_TRANSFER),
                                     0, FALSE))
    body_callback (t);
  return TRUE;
}

static void
data_cb (GMultiTransfer *transfer,
         GBytes         *chunk,
         gpointer        user_data)
{
  Transfer *t = user_data;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (chunk, &size);

  CHECK (size > 0);
  CHECK (t->n_response_headers > 0);
  g_byte_array_append (t->data_signal, bytes, size);
  body_callback (t);
}

static void
response_headers_cb (GMultiTransfer *transfer,
                     guint           status,
                     GMultiHeaders  *headers,
                     gpointer        user_data)
{
  Transfer *t = user_data;

  CHECK (status >= 200);
  t->n_response_headers++;
}

static void
add_transfer (Harness *h)
{
  Transfer *t;
  char *uri;
  guint sink = h->config & 3;

  if (h->n_transfers == MAX_TRANSFERS)
    return;
  t = &h->transfers[h->n_transfers++];
  memset (t, 0, sizeof *t);
  t->memfd = -1;

  uri = g_strdup_printf ("%s://127.0.0.1:%u/%u", h->tls ? "https" : "http", listen_port,
                         h->n_transfers);
  t->transfer = gmulti_transfer_new (uri);
  g_free (uri);
  CHECK (t->transfer != NULL);
  t->weak = G_OBJECT (t->transfer);
  g_object_add_weak_pointer (t->weak, (gpointer *) &t->weak);
  t->written = g_byte_array_new ();
  t->data_signal = g_byte_array_new ();

  if (h->config & 4)
    CHECK (gmulti_transfer_set_method (t->transfer, "HEAD", NULL));
  gmulti_transfer_set_follow_redirects (t->transfer, (h->config & 8) != 0);
  gmulti_transfer_set_max_redirects (t->transfer, 3);
  if (h->tls)
    gmulti_transfer_set_tls_ca_file (t->transfer, ca_file);
  /* For another origin these must be dropped (checked in check_requests()). */
  CHECK (gmulti_transfer_add_request_header (t->transfer, "Authorization", "Bearer fuzz",
                                             NULL));
  CHECK (gmulti_transfer_add_request_header (t->transfer, "Cookie", "fuzz=1", NULL));

  g_object_set_data (G_OBJECT (t->transfer), "pause-at",
                     GUINT_TO_POINTER (h->callbacks & 0x0f));
  g_object_set_data (G_OBJECT (t->transfer), "abort-at",
                     GUINT_TO_POINTER (sink == 0 ? (guint) (h->callbacks >> 4) : 0));

  switch (sink)
    {
    case 0:
      gmulti_transfer_set_write_func (t->transfer, write_cb, t, NULL);
      break;
    case 1:
      gmulti_transfer_set_collect_body (t->transfer, TRUE);
      break;
    case 2:
      t->stream = g_memory_output_stream_new_resizable ();
      gmulti_transfer_set_output_stream (t->transfer, t->stream);
      break;
    default:
      t->memfd = memfd_create ("fuzz-body", MFD_CLOEXEC);
      CHECK (t->memfd >= 0);
      t->stream = g_unix_output_stream_new (t->memfd, FALSE);
      gmulti_transfer_set_output_stream (t->transfer, t->stream);
      break;
    }
  if (h->config & 0x10)
    g_signal_connect (t->transfer, "data", G_CALLBACK (data_cb), t);
  g_signal_connect (t->transfer, "response-headers", G_CALLBACK (response_headers_cb), t);

  CHECK (gmulti_engine_add (h->engine, t->transfer) == GMULTI_ENGINE_OK);
}

static Transfer *
newest_transfer (Harness *h)
{
  return h->n_transfers > 0 ? &h->transfers[h->n_transfers - 1] : NULL;
}

/* The body as the sink has it. */
static GBytes *
sink_body (Harness  *h,
           Transfer *t)
{
  switch (h->config & 3)
    {
    case 0:
      return g_bytes_new (t->written->data, t->written->len);
    case 1:
      {
        GBytes *body = gmulti_transfer_get_response_body (t->transfer);

        /* Collected means there is a body, if an empty one. */
        CHECK (body != NULL);
        return body;
      }
    case 2:
      return g_bytes_new (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (t->stream)),
                          g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (t->stream)));
    default:
      {
        off_t size = lseek (t->memfd, 0, SEEK_END);
        guint8 *bytes;

        CHECK (size >= 0);
        bytes = g_malloc (size + 1);
        CHECK (pread (t->memfd, bytes, size, 0) == size);
        return g_bytes_new_take (bytes, size);
      }
    }
}

/* ---- the model: the parser alone on the delivered bytes, in one piece ---- */

typedef struct {
  gboolean done;
  gboolean close_delimited;     /* DONE came from the end of the stream */
  guint status;
  gboolean location;            /* the final head has a Location field */
  gboolean codings;             /* ... and a transfer coding other than chunked */
  gint error_code;
  GByteArray *body;
} Model;

static void
model_run (const guint8 *data,
           gsize         length,
           gboolean      head_request,
           Model        *m)
{
  GMultiHttp1Parser parser;
  gsize pos = 0;

  m->body = g_byte_array_new ();
  gmulti_http1_parser_init (&parser);
  gmulti_http1_parser_reset (&parser, head_request);

  for (;;)
    {
      GError *error = NULL;
      const guint8 *body = NULL;
      gsize body_length = 0, consumed = 0;
      GMultiHttp1Event event;

      event = gmulti_http1_parser_feed (&parser, data != NULL ? data + pos : (const guint8 *) "",
                                        length - pos, &consumed, &body, &body_length, &error);
      pos += consumed;
      if (event == GMULTI_HTTP1_HEADERS)
        {
          if (parser.status >= 200)
            {
              g_autofree char *te = gmulti_headers_get_list (parser.headers,
                                                             "Transfer-Encoding");

              m->status = parser.status;
              m->location = gmulti_headers_get_one (parser.headers, "Location") != NULL;
              /* Decoded by the engine (or refused), not by the parser alone. */
              m->codings = te != NULL && g_ascii_strcasecmp (g_strstrip (te), "chunked") != 0;
            }
          continue;
        }
      if (event == GMULTI_HTTP1_BODY)
        {
          g_byte_array_append (m->body, body, body_length);
          continue;
        }
      if (event == GMULTI_HTTP1_DONE)
        {
          m->done = TRUE;
          break;
        }
      if (event == GMULTI_HTTP1_NEED_MORE)
        {
          event = gmulti_http1_parser_eof (&parser, &error);
          if (event == GMULTI_HTTP1_DONE)
            {
              m->done = TRUE;
              m->close_delimited = TRUE;
              break;
            }
        }
      CHECK (error != NULL);
      m->error_code = error->code;
      g_error_free (error);
      break;
    }
  gmulti_http1_parser_clear (&parser);
}

static void
check_model (Harness *h)
{
  Transfer *t = &h->transfers[0];
  ServerConn *conn;
  Model m = { 0, };
  GBytes *body;
  gboolean clean_close;

  if (t->removed || t->aborted || h->n_conns == 0)
    return;
  conn = h->conns[0];
  if (conn->had_reset_or_alert)
    return;
  if (conn->session != NULL && conn->tls_failed)
    return;

  model_run (conn->plain->data, delivered_plain (conn), (h->config & 4) != 0, &m);
  /* A redirect that was followed answered from another exchange; a coding other than
   * chunked is decoded, or refused, past the parser. */
  if (((h->config & 8) && m.location &&
       (m.status == 301 || m.status == 302 || m.status == 303 || m.status == 307 ||
        m.status == 308)) || m.codings)
    {
      g_byte_array_unref (m.body);
      return;
    }
  clean_close = conn->session == NULL ||
                (conn->bye_end != 0 && conn->written >= conn->bye_end);

  if (m.done && m.close_delimited && !clean_close)
    {
      /* RFC 8446 6.1: without close_notify the end may have been forged. */
      CHECK (t->error != NULL);
    }
  else if (m.done)
    {
      if (t->error != NULL)
        fprintf (stderr, "model: done %u; engine: %s\n", m.status, t->error->message);
      CHECK (t->error == NULL);
      CHECK (t->status == m.status);
      body = sink_body (h, t);
      CHECK (g_bytes_get_size (body) == m.body->len);
      CHECK (m.body->len == 0 || memcmp (g_bytes_get_data (body, NULL), m.body->data,
                                         m.body->len) == 0);
      g_bytes_unref (body);
    }
  else
    {
      if (t->error == NULL)
        fprintf (stderr, "model: error %d; engine: success %u\n", m.error_code, t->status);
      CHECK (t->error != NULL);
      /* Over TLS the transport may name a cut record first. */
      if (conn->session == NULL)
        CHECK (t->error->domain == GMULTI_ERROR && t->error->code == m.error_code);
    }
  g_byte_array_unref (m.body);
}

/* Every request on a plain connection, read without consuming it (a reset needs it
 * unread): well formed, and with credentials only for the origin they were set for. */
static void
check_requests (ServerConn *conn)
{
  GByteArray *bytes;
  guint8 buffer[4096];
  char *text, **requests;
  int zero = 0;
  ssize_t n;

  if (conn->session != NULL || conn->fd < 0)
    return;
  bytes = g_byte_array_new ();
  CHECK (setsockopt (conn->fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) == 0);
  while ((n = recv (conn->fd, buffer, sizeof buffer, MSG_PEEK | MSG_DONTWAIT)) > 0)
    g_byte_array_append (bytes, buffer, n);
  /* A redirect to https on a connection the harness serves in plain: a ClientHello. */
  if (bytes->len > 0 && bytes->data[0] == 0x16)
    {
      g_byte_array_unref (bytes);
      return;
    }
  g_byte_array_append (bytes, (const guint8 *) "", 1);
  text = (char *) g_byte_array_free (bytes, FALSE);

  requests = g_strsplit (text, "\r\n\r\n", -1);
  for (guint i = 0; requests[i] != NULL; i++)
    {
      char **lines, **words;
      const char *host = NULL;
      gboolean credentials = FALSE;

      /* The text ends with a complete request. */
      if (requests[i + 1] == NULL)
        {
          CHECK (requests[i][0] == '\0');
          break;
        }
      lines = g_strsplit (requests[i], "\r\n", -1);
      words = g_strsplit (lines[0], " ", -1);
      CHECK (g_strv_length (words) == 3);
      CHECK (strcmp (words[0], "GET") == 0 || strcmp (words[0], "HEAD") == 0);
      CHECK (words[1][0] == '/');
      CHECK (strcmp (words[2], "HTTP/1.1") == 0);
      for (guint l = 1; lines[l] != NULL; l++)
        {
          CHECK (strchr (lines[l], ':') != NULL && strchr (lines[l], '\n') == NULL);
          if (g_ascii_strncasecmp (lines[l], "Host: ", 6) == 0)
            {
              CHECK (host == NULL);
              host = lines[l] + 6;
            }
          if (g_ascii_strncasecmp (lines[l], "Authorization:", 14) == 0 ||
              g_ascii_strncasecmp (lines[l], "Cookie:", 7) == 0)
            credentials = TRUE;
        }
      CHECK (host != NULL);
      if (g_getenv ("FUZZ_VERBOSE") != NULL)
        fprintf (stderr, "request %s %s for %s%s\n", words[0], words[1], host,
                 credentials ? " with credentials" : "");
      if (strcmp (host, "127.0.0.1:9") != 0 && credentials)
        {
          fprintf (stderr, "credentials sent to %s\n", host);
          abort ();
        }
      g_strfreev (words);
      g_strfreev (lines);
    }
  g_strfreev (requests);
  g_free (text);
}

/* ---- one run ---- */

static void
check_transfer (Harness  *h,
                Transfer *t)
{
  GBytes *body;

  if (g_getenv ("FUZZ_VERBOSE") != NULL)
    fprintf (stderr, "transfer %u: %s, status %u, %s, %" G_GUINT64_FORMAT " body bytes\n",
             (guint) (t - h->transfers) + 1, t->removed ? "removed" : "not removed",
             t->status, t->error != NULL ? t->error->message : "success",
             gmulti_transfer_get_bytes_received (t->transfer));
  if (!t->removed)
    {
      CHECK (t->n_messages == 1);
      CHECK (!gmulti_transfer_is_paused (t->transfer));
    }
  if (t->n_messages == 1 && t->error == NULL)
    {
      CHECK (t->status >= 200 && t->status <= 999);
      CHECK (t->n_response_headers == 1);
      if (h->config & 8)
        CHECK (!(t->status == 301 || t->status == 302 || t->status == 303 ||
                 t->status == 307 || t->status == 308) ||
               gmulti_headers_get_one (gmulti_transfer_get_response_headers (t->transfer),
                                       "Location") == NULL);
    }
  CHECK (t->n_response_headers <= 1);
  if (t->aborted)
    CHECK (t->error != NULL && g_error_matches (t->error, GMULTI_ERROR,
                                                GMULTI_ERROR_CALLBACK_ABORTED));

  /* Every sink saw the same bytes, and the counter counted them. */
  if ((h->config & 3) == 0 && t->aborted)
    return;
  body = sink_body (h, t);
  if (h->config & 0x10)
    {
      CHECK (g_bytes_get_size (body) == t->data_signal->len);
      CHECK (t->data_signal->len == 0 ||
             memcmp (g_bytes_get_data (body, NULL), t->data_signal->data,
                     t->data_signal->len) == 0);
    }
  CHECK (gmulti_transfer_get_bytes_received (t->transfer) == g_bytes_get_size (body));
  if ((h->config & 4) && t->n_messages == 1 && t->error == NULL)
    CHECK (g_bytes_get_size (body) == 0);
  g_bytes_unref (body);
}

static gboolean
all_ended (Harness *h)
{
  for (guint i = 0; i < h->n_transfers; i++)
    {
      Transfer *t = &h->transfers[i];

      if (!t->removed && t->n_messages == 0)
        return FALSE;
    }
  return TRUE;
}

static void
finish (Harness *h)
{
  gint64 give_up = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  for (guint i = 0; i < h->n_transfers; i++)
    gmulti_transfer_resume (h->transfers[i].transfer);
  server_record (h, current_conn (h));
  pump (h);

  while (!all_ended (h))
    {
      /* A callback may pause again on bytes that only arrive now. */
      for (guint i = 0; i < h->n_transfers; i++)
        gmulti_transfer_resume (h->transfers[i].transfer);
      for (guint i = 0; i < h->n_conns; i++)
        {
          ServerConn *conn = h->conns[i];

          /* A connection made now (a redirect, a retry) gets its handshake first. */
          if (conn->session != NULL && conn->handshaking && !conn->tls_failed)
            continue;
          server_write (conn, G_MAXSIZE);
          server_close (conn, FALSE);
        }
      pump (h);
      if (all_ended (h))
        break;
      if (g_get_monotonic_time () > give_up)
        {
          for (guint i = 0; i < h->n_transfers; i++)
            fprintf (stderr, "transfer %u: %s, %u messages, state %d, %spaused\n", i + 1,
                     h->transfers[i].removed ? "removed" : "not removed",
                     h->transfers[i].n_messages,
                     gmulti_transfer_get_state (h->transfers[i].transfer),
                     gmulti_transfer_is_paused (h->transfers[i].transfer) ? "" : "not ");
          fprintf (stderr, "a transfer never ended\n");
          abort ();
        }
      /* Only a deadline is left to wait for (a connection attempt, a low-water mark). */
      {
        struct pollfd none;
        gint64 wait = h->driver.timer_deadline < 0 ? 10000
                      : MAX (h->driver.timer_deadline - g_get_monotonic_time (), 0);

        poll (&none, 0, (int) MIN (wait / 1000 + 1, 100));
      }
    }
}

static void
run_script (Harness      *h,
            const guint8 *script,
            gsize         length)
{
  gsize i = 0;

  while (i < length)
    {
      guint8 c = script[i++];
      ServerConn *conn = current_conn (h);
      Transfer *t = newest_transfer (h);
      guint8 op;

      if (c != 0xff)
        {
          g_byte_array_append (h->response, &c, 1);
          continue;
        }
      if (i == length)
        break;
      op = script[i++];

      switch (op)
        {
        case 0xff:
          g_byte_array_append (h->response, &op, 1);
          break;
        case 'r':
          server_record (h, conn);
          break;
        case 'w':
          {
            gsize n = i < length ? (gsize) script[i++] + 1 : 1;

            if (conn != NULL)
              server_write (conn, n);
            pump (h);
          }
          break;
        case 'f':
          server_record (h, conn);
          if (conn != NULL)
            server_write (conn, G_MAXSIZE);
          pump (h);
          break;
        case 'p':
          if (t != NULL)
            gmulti_transfer_pause (t->transfer);
          pump (h);
          break;
        case 'u':
          if (t != NULL)
            gmulti_transfer_resume (t->transfer);
          pump (h);
          break;
        case 'x':
          if (t != NULL && !t->removed)
            {
              CHECK (gmulti_engine_remove (h->engine, t->transfer) == GMULTI_ENGINE_OK);
              t->removed = TRUE;
              pump (h);
            }
          break;
        case 'n':
          add_transfer (h);
          pump (h);
          break;
        case 'b':
          if (conn != NULL && conn->session != NULL && !conn->handshaking && !conn->bye &&
              !conn->tls_failed)
            {
              server_record (h, conn);
              if (gnutls_bye (conn->session, GNUTLS_SHUT_WR) == 0)
                conn->bye_end = conn->queued_base + conn->queued->len;
              conn->bye = TRUE;
            }
          break;
        case 'c':
        case 'z':
          server_close (conn, op == 'z');
          pump (h);
          break;
        case 'k':
        case 'h':
        case 'a':
        case 'A':
        case 'T':
          if (conn != NULL && conn->session != NULL && !conn->handshaking && !conn->bye &&
              !conn->tls_failed)
            {
              int ret;

              server_record (h, conn);
              if (op == 'k')
                ret = gnutls_session_key_update (conn->session, GNUTLS_KU_PEER);
              else if (op == 'T')
                {
                  /* Refused before TLS 1.3 or without tickets: nothing is sent. */
                  gnutls_session_ticket_send (conn->session, 1, 0);
                  ret = 0;
                }
              else if (op == 'h')
                ret = gnutls_rehandshake (conn->session);
              else
                ret = gnutls_alert_send (conn->session,
                                         op == 'a' ? GNUTLS_AL_WARNING : GNUTLS_AL_FATAL,
                                         op == 'a' ? GNUTLS_A_USER_CANCELED
                                                   : GNUTLS_A_INTERNAL_ERROR);
              /* TLS 1.3 (RFC 8446 6) leaves no alert but close_notify harmless. */
              if (op == 'A' || (op == 'a' && !(h->config & 0x20)))
                {
                  conn->had_reset_or_alert = TRUE;
                  conn->bye = TRUE;
                }
              if (ret < 0 && op != 'k')
                conn->tls_failed = TRUE;
            }
          break;
        case 't':
          engine_driver_action (&h->driver, GMULTI_SOCKET_TIMEOUT, 0);
          pump (h);
          break;
        default:
          break;
        }
    }
}

void
exchange_harness_init (gboolean tls)
{
  struct sockaddr_un addr = { 0, };
  socklen_t len;

  if (listener >= 0)
    return;

  /* Every block its own malloc(), so the leak checker sees GLib's too. */
  g_setenv ("G_SLICE", "always-malloc", TRUE);
  /* Criticals in the library are bugs the fuzzer must report. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  /* An abstract name: nothing in the file system, gone with the process. */
  listener = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  CHECK (listener >= 0);
  addr.sun_family = AF_UNIX;
  len = offsetof (struct sockaddr_un, sun_path) + 1 +
        g_snprintf (addr.sun_path + 1, sizeof addr.sun_path - 1, "gmulti-fuzz-%d-%s",
                    (int) getpid (), tls ? "tls" : "tcp");
  CHECK (bind (listener, (struct sockaddr *) &addr, len) == 0);
  CHECK (listen (listener, 16) == 0);
  gmulti_resolver_divert_loopback ((struct sockaddr *) &addr, len);

  if (tls)
    {
      char *cert = g_build_filename (FUZZ_CERT_DIR, "server.pem", NULL);
      char *key = g_build_filename (FUZZ_CERT_DIR, "server-key.pem", NULL);

      ca_file = g_build_filename (FUZZ_CERT_DIR, "ca.pem", NULL);
      CHECK (gnutls_certificate_allocate_credentials (&server_credentials) == 0);
      CHECK (gnutls_session_ticket_key_generate (&ticket_key) == 0);
      if (gnutls_certificate_set_x509_key_file (server_credentials, cert, key,
                                                GNUTLS_X509_FMT_PEM) < 0)
        {
          fprintf (stderr, "cannot load %s (generated at build time)\n", cert);
          abort ();
        }
      g_free (cert);
      g_free (key);
    }
}

/* The lowest free descriptor: a run that leaks one changes it. */
static int
lowest_free_fd (void)
{
  int fd = dup (2);

  CHECK (fd >= 0);
  close (fd);
  return fd;
}

void
exchange_harness_run (const guint8 *data,
                      gsize         size,
                      gboolean      tls)
{
  Harness harness = { 0, }, *h = &harness;
  int fd_mark;
  int fd;

  if (size < 2)
    return;
  exchange_harness_init (tls);
  fd_mark = lowest_free_fd ();

  h->tls = tls;
  h->config = data[0];
  h->callbacks = data[1];
  h->response = g_byte_array_new ();
  h->engine = gmulti_engine_new ();
  engine_driver_init (&h->driver, h->engine, messages_cb, h);

  add_transfer (h);
  pump (h);
  run_script (h, data + 2, size - 2);
  finish (h);

  for (guint i = 0; i < h->n_transfers; i++)
    check_transfer (h, &h->transfers[i]);
  check_model (h);

  for (guint i = 0; i < h->n_transfers; i++)
    {
      Transfer *t = &h->transfers[i];

      if (!t->removed)
        CHECK (gmulti_engine_remove (h->engine, t->transfer) == GMULTI_ENGINE_OK);
    }
  read_messages (h);
  CHECK (gmulti_engine_get_n_transfers (h->engine) == 0);
  gmulti_engine_unref (h->engine);
  engine_driver_clear (&h->driver);

  for (guint i = 0; i < h->n_transfers; i++)
    {
      Transfer *t = &h->transfers[i];

      g_clear_error (&t->error);
      g_clear_object (&t->stream);
      if (t->memfd >= 0)
        close (t->memfd);
      g_byte_array_unref (t->written);
      g_byte_array_unref (t->data_signal);
      g_object_unref (t->transfer);
      /* The engine kept no reference. */
      CHECK (t->weak == NULL);
    }
  for (guint i = 0; i < h->n_conns; i++)
    {
      check_requests (h->conns[i]);
      server_conn_free (h->conns[i]);
    }
  while ((fd = accept4 (listener, NULL, NULL, SOCK_CLOEXEC)) >= 0)
    close (fd);
  g_byte_array_unref (h->response);
  CHECK (lowest_free_fd () == fd_mark);
}

