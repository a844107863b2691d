/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gmulti.h"
#include "gmulti-engine-private.h"
#include "gmulti-body-writer.h"
#include "gmulti-protocol.h"
#include "engine-loop.h"

/* The engine behind the protocol table: a protocol of the test's own, many streams per
 * connection, drives the real engine and pool over real loopback TCP connections to a
 * server on a thread of the test.
 *
 * The framing, both ways: a type byte, a 32-bit stream id and a 32-bit payload length
 * (network order), then the payload. The client sends R (request; the payload is the
 * target) and X (the stream was reset). The server answers H (the status, as text),
 * D (body bytes), E (the end of the stream) or F (the stream failed; a message).
 *
 * What the server does depends on the target:
 *   /small/NAME         answers "hello NAME" at once
 *   /mux/N/SIZE/L       waits for N such requests on its connection, then answers all
 *                       of them at once, interleaved: SIZE bytes of the letter L each
 *   /reset/N/SIZE/L     as /mux, but after the first piece of each body it waits for a
 *                       reset of one of them, then sends the others' rest
 *   /stale/NAME         closes the connection unanswered if it is not the first request
 *                       on it, answers as /small otherwise
 *   /close/NAME         closes the connection unanswered
 *   /fail/NAME          fails the stream with an F frame */

#define WAIT_MS 5000
#define PIECE 1000
#define HEADER_SIZE 9

/* ------------------------------------------------------------------ server */

typedef struct {
  guint32 id;
  char letter;
  gsize size;
  gsize sent;
  gboolean reset;
} ServerStream;

typedef struct {
  int fd;
  GByteArray *in;
  guint n_requests;
  GArray *held;           /* ServerStream: waiting for their companions */
  guint want;             /* how many /mux or /reset requests the batch needs */
  gboolean reset_mode;
  gboolean waiting_reset; /* first pieces are out; the rest waits for a reset */
} ServerConn;

typedef struct {
  GMutex lock;
  int listen_fd;
  guint16 port;
  int stop_pipe[2];
  GThread *thread;
  guint n_accepted;
  guint n_requests;
  GArray *resets;         /* guint32 stream ids the client reset */
} Server;

static void
put_frame (int            fd,
           char           type,
           guint32        id,
           const void    *payload,
           gsize          length)
{
  guint8 header[HEADER_SIZE];
  guint32 be_id = htonl (id), be_length = htonl ((guint32) length);
  struct iovec iov[2] = {
    { header, sizeof header },
    { (void *) payload, length },
  };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = length > 0 ? 2 : 1 };
  gsize total = sizeof header + length;

  header[0] = (guint8) type;
  memcpy (header + 1, &be_id, 4);
  memcpy (header + 5, &be_length, 4);
  /* The server's sockets block: a short write only happens at a peer's close. */
  while (total > 0)
    {
      gssize n = sendmsg (fd, &msg, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      total -= (gsize) n;
      while (n > 0 && msg.msg_iovlen > 0)
        {
          gsize take = MIN ((gsize) n, msg.msg_iov[0].iov_len);

          msg.msg_iov[0].iov_base = (guint8 *) msg.msg_iov[0].iov_base + take;
          msg.msg_iov[0].iov_len -= take;
          n -= (gssize) take;
          if (msg.msg_iov[0].iov_len == 0)
            {
              msg.msg_iov++;
              msg.msg_iovlen--;
            }
        }
    }
}

static void
send_piece (ServerConn   *conn,
            ServerStream *stream)
{
  guint8 piece[PIECE];
  gsize n = MIN ((gsize) PIECE, stream->size - stream->sent);

  memset (piece, stream->letter, n);
  put_frame (conn->fd, 'D', stream->id, piece, n);
  stream->sent += n;
}

/* Sends the rest of every held body that was not reset, a piece of each in turn. */
static void
finish_batch (ServerConn *conn)
{
  gboolean more = TRUE;

  while (more)
    {
      more = FALSE;
      for (guint i = 0; i < conn->held->len; i++)
        {
          ServerStream *stream = &g_array_index (conn->held, ServerStream, i);

          if (stream->reset || stream->sent >= stream->size)
            continue;
          send_piece (conn, stream);
          more = more || stream->sent < stream->size;
        }
    }
  for (guint i = 0; i < conn->held->len; i++)
    {
      ServerStream *stream = &g_array_index (conn->held, ServerStream, i);

      if (!stream->reset)
        put_frame (conn->fd, 'E', stream->id, NULL, 0);
    }
  g_array_set_size (conn->held, 0);
  conn->want = 0;
  conn->waiting_reset = FALSE;
}

static void
start_batch (ServerConn *conn)
{
  for (guint i = 0; i < conn->held->len; i++)
    put_frame (conn->fd, 'H', g_array_index (conn->held, ServerStream, i).id, "200", 3);
  if (!conn->reset_mode)
    {
      finish_batch (conn);
      return;
    }
  for (guint i = 0; i < conn->held->len; i++)
    send_piece (conn, &g_array_index (conn->held, ServerStream, i));
  conn->waiting_reset = TRUE;
}

static void
answer_small (ServerConn *conn,
              guint32     id,
              const char *name)
{
  g_autofree char *body = g_strdup_printf ("hello %s", name);

  put_frame (conn->fd, 'H', id, "200", 3);
  put_frame (conn->fd, 'D', id, body, strlen (body));
  put_frame (conn->fd, 'E', id, NULL, 0);
}

/* Returns FALSE when the connection is to be closed. */
static gboolean
on_request (Server     *server,
            ServerConn *conn,
            guint32     id,
            const char *target)
{
  g_auto(GStrv) parts = g_strsplit (target + 1, "/", -1);
  guint n_parts = g_strv_length (parts);

  conn->n_requests++;
  g_mutex_lock (&server->lock);
  server->n_requests++;
  g_mutex_unlock (&server->lock);

  if (n_parts == 2 && strcmp (parts[0], "small") == 0)
    answer_small (conn, id, parts[1]);
  else if (n_parts == 2 && strcmp (parts[0], "stale") == 0)
    {
      if (conn->n_requests > 1)
        return FALSE;
      answer_small (conn, id, parts[1]);
    }
  else if (n_parts == 2 && strcmp (parts[0], "close") == 0)
    return FALSE;
  else if (n_parts == 2 && strcmp (parts[0], "fail") == 0)
    put_frame (conn->fd, 'F', id, "the server refused", strlen ("the server refused"));
  else if (n_parts == 4 && (strcmp (parts[0], "mux") == 0 || strcmp (parts[0], "reset") == 0))
    {
      ServerStream stream = { id, parts[3][0], (gsize) g_ascii_strtoull (parts[2], NULL, 10),
                              0, FALSE };

      conn->want = (guint) g_ascii_strtoull (parts[1], NULL, 10);
      conn->reset_mode = parts[0][0] == 'r';
      g_array_append_val (conn->held, stream);
      if (conn->held->len == conn->want)
        start_batch (conn);
    }
  else
    put_frame (conn->fd, 'F', id, "unknown target", strlen ("unknown target"));
  return TRUE;
}

static void
on_reset (Server     *server,
          ServerConn *conn,
          guint32     id)
{
  g_mutex_lock (&server->lock);
  g_array_append_val (server->resets, id);
  g_mutex_unlock (&server->lock);

  for (guint i = 0; i < conn->held->len; i++)
    if (g_array_index (conn->held, ServerStream, i).id == id)
      g_array_index (conn->held, ServerStream, i).reset = TRUE;
  if (conn->waiting_reset)
    finish_batch (conn);
}

/* Handles the complete frames of @conn's input. FALSE: close the connection. */
static gboolean
server_frames (Server     *server,
               ServerConn *conn)
{
  while (conn->in->len >= HEADER_SIZE)
    {
      guint32 id, length;
      char type = (char) conn->in->data[0];
      gboolean keep = TRUE;

      memcpy (&id, conn->in->data + 1, 4);
      memcpy (&length, conn->in->data + 5, 4);
      id = ntohl (id);
      length = ntohl (length);
      if (conn->in->len < HEADER_SIZE + length)
        return TRUE;

      if (type == 'R')
        {
          g_autofree char *target = g_strndup ((char *) conn->in->data + HEADER_SIZE, length);

          keep = on_request (server, conn, id, target);
        }
      else if (type == 'X')
        on_reset (server, conn, id);
      g_byte_array_remove_range (conn->in, 0, HEADER_SIZE + length);
      if (!keep)
        return FALSE;
    }
  return TRUE;
}

static void
server_conn_free (gpointer data)
{
  ServerConn *conn = data;

  close (conn->fd);
  g_byte_array_unref (conn->in);
  g_array_unref (conn->held);
  g_free (conn);
}

static gpointer
server_thread (gpointer data)
{
  Server *server = data;
  GPtrArray *conns = g_ptr_array_new_with_free_func (server_conn_free);

  for (;;)
    {
      g_autofree struct pollfd *fds = g_new0 (struct pollfd, conns->len + 2);

      fds[0].fd = server->stop_pipe[0];
      fds[0].events = POLLIN;
      fds[1].fd = server->listen_fd;
      fds[1].events = POLLIN;
      for (guint i = 0; i < conns->len; i++)
        {
          fds[i + 2].fd = ((ServerConn *) conns->pdata[i])->fd;
          fds[i + 2].events = POLLIN;
        }
      if (poll (fds, conns->len + 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (fds[0].revents != 0)
        break;

      /* Backwards, so that closing one does not move those still to be looked at. */
      for (guint i = conns->len; i-- > 0;)
        {
          ServerConn *conn = conns->pdata[i];
          guint8 buffer[4096];
          gssize n;

          if (fds[i + 2].revents == 0)
            continue;
          n = recv (conn->fd, buffer, sizeof buffer, 0);
          if (n < 0 && errno == EINTR)
            continue;
          if (n > 0)
            g_byte_array_append (conn->in, buffer, (guint) n);
          if (n <= 0 || !server_frames (server, conn))
            g_ptr_array_remove_index (conns, i);
        }

      if (fds[1].revents & POLLIN)
        {
          int fd = accept (server->listen_fd, NULL, NULL);

          if (fd >= 0)
            {
              ServerConn *conn = g_new0 (ServerConn, 1);

              conn->fd = fd;
              conn->in = g_byte_array_new ();
              conn->held = g_array_new (FALSE, FALSE, sizeof (ServerStream));
              g_ptr_array_add (conns, conn);
              g_mutex_lock (&server->lock);
              server->n_accepted++;
              g_mutex_unlock (&server->lock);
            }
        }
    }

  g_ptr_array_unref (conns);
  return NULL;
}

static Server *
server_new (void)
{
  Server *server = g_new0 (Server, 1);
  struct sockaddr_in addr = { .sin_family = AF_INET };
  socklen_t len = sizeof addr;

  g_mutex_init (&server->lock);
  server->resets = g_array_new (FALSE, FALSE, sizeof (guint32));
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  server->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (server->listen_fd, >=, 0);
  g_assert_cmpint (bind (server->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (server->listen_fd, 16), ==, 0);
  g_assert_cmpint (getsockname (server->listen_fd, (struct sockaddr *) &addr, &len), ==, 0);
  server->port = ntohs (addr.sin_port);
  g_assert_cmpint (pipe (server->stop_pipe), ==, 0);
  server->thread = g_thread_new ("protocol-server", server_thread, server);
  return server;
}

static void
server_free (Server *server)
{
  g_assert_cmpint (write (server->stop_pipe[1], "x", 1), ==, 1);
  g_thread_join (server->thread);
  close (server->stop_pipe[0]);
  close (server->stop_pipe[1]);
  close (server->listen_fd);
  g_array_unref (server->resets);
  g_mutex_clear (&server->lock);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_free)

static guint
server_accepted (Server *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->n_accepted;
  g_mutex_unlock (&server->lock);
  return n;
}

static guint
server_requests (Server *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->n_requests;
  g_mutex_unlock (&server->lock);
  return n;
}

static guint
server_resets (Server *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->resets->len;
  g_mutex_unlock (&server->lock);
  return n;
}

/* ---------------------------------------------------- the protocol under test */

typedef struct {
  guint32 id;
  GMultiRun *run;
  gboolean got_head;
  GMultiBodyWriter *body;  /* where the body goes once the head said to deliver it */
} FakeStream;

typedef struct {
  GArray *streams;        /* FakeStream */
  guint32 next_id;
  GByteArray *in;
} FakeConn;

/* How many streams a connection carries at once. */
static guint fake_max_streams = 4;
/* Operations seen, for the tests to check the engine used the table. */
static guint fake_n_attached, fake_n_started, fake_n_resets;

static FakeConn *
fake_of (GMultiConnection *conn)
{
  return conn->protocol_state;
}

static gpointer
fake_attach (GMultiConnection *conn)
{
  FakeConn *fake = g_new0 (FakeConn, 1);

  fake->streams = g_array_new (FALSE, FALSE, sizeof (FakeStream));
  fake->in = g_byte_array_new ();
  fake->next_id = 1;
  fake_n_attached++;
  return fake;
}

static void
fake_free (gpointer state)
{
  FakeConn *fake = state;

  g_array_unref (fake->streams);
  g_byte_array_unref (fake->in);
  g_free (fake);
}

/* Writes one frame whole; the frames are small, the socket takes them at once. */
static gboolean
fake_send (GMultiConnection *conn,
           char              type,
           guint32           id,
           const char       *payload)
{
  guint8 header[HEADER_SIZE];
  guint32 be_id = htonl (id), be_length = htonl ((guint32) strlen (payload));
  struct iovec iov[2] = {
    { header, sizeof header },
    { (void *) payload, strlen (payload) },
  };
  gssize n;

  header[0] = (guint8) type;
  memcpy (header + 1, &be_id, 4);
  memcpy (header + 5, &be_length, 4);
  n = gmulti_connection_send (conn, iov, 2, NULL);
  return n == (gssize) (sizeof header + strlen (payload));
}

static gint
find_stream (FakeConn *fake,
             guint32   id)
{
  for (guint i = 0; i < fake->streams->len; i++)
    if (g_array_index (fake->streams, FakeStream, i).id == id)
      return (gint) i;
  return -1;
}

static gint
find_run (FakeConn       *fake,
               GMultiRun      *run)
{
  for (guint i = 0; i < fake->streams->len; i++)
    if (g_array_index (fake->streams, FakeStream, i).run == run)
      return (gint) i;
  return -1;
}

static GMultiProtocolResult
fake_start_stream (GMultiConnection *conn,
                   GMultiRun        *run)
{
  FakeConn *fake = fake_of (conn);
  FakeStream stream = { fake->next_id, run, FALSE };

  fake->next_id += 2;
  fake_n_started++;
  g_array_append_val (fake->streams, stream);
  if (!fake_send (conn, 'R', stream.id, run->target))
    {
      g_array_remove_index (fake->streams, fake->streams->len - 1);
      gmulti_stream_failed (run, g_error_new_literal (GMULTI_ERROR,
                                                           GMULTI_ERROR_SEND_FAILED,
                                                           "could not send"), TRUE);
      return GMULTI_PROTOCOL_CLOSE;
    }
  gmulti_stream_request_sent (run);
  gmulti_connection_want (conn, GMULTI_POLL_IN);
  return GMULTI_PROTOCOL_OK;
}

/* Fails every stream: the connection is gone. */
static void
fail_all (GMultiConnection *conn,
          const GError     *error,
          gboolean          allow_retry)
{
  FakeConn *fake = fake_of (conn);

  while (fake->streams->len > 0)
    {
      FakeStream stream = g_array_index (fake->streams, FakeStream, 0);

      g_array_remove_index (fake->streams, 0);
      gmulti_stream_failed (stream.run, g_error_copy (error),
                            allow_retry && !stream.got_head);
    }
}

/* Acts on one frame; FALSE if the connection cannot go on. */
static void
fake_frame (GMultiConnection *conn,
            char              type,
            guint32           id,
            const guint8     *payload,
            guint32           length)
{
  FakeConn *fake = fake_of (conn);
  gint index = find_stream (fake, id);
  FakeStream *stream;

  /* A stream reset earlier: what was under way is dropped. */
  if (index < 0)
    return;
  stream = &g_array_index (fake->streams, FakeStream, index);

  switch (type)
    {
    case 'H':
      {
        g_autofree char *status = g_strndup ((const char *) payload, length);
        GMultiRun *run = stream->run;

        stream->got_head = TRUE;
        run->status = (guint) g_ascii_strtoull (status, NULL, 10);
        g_clear_pointer (&run->response_headers, gmulti_headers_unref);
        run->response_headers = gmulti_headers_new ();
        gmulti_headers_append (run->response_headers, "X-Stream", status, NULL);
        switch (gmulti_stream_headers (run, NULL))
          {
          case GMULTI_STREAM_FAILED:
            g_array_remove_index (fake->streams, index);
            break;
          case GMULTI_STREAM_DELIVER:
            stream->body = gmulti_run_body_sink (run);
            break;
          case GMULTI_STREAM_DISCARD:
          default:
            break;
          }
      }
      break;
    case 'D':
      {
        GError *error = NULL;

        /* A pause (STOPPED) keeps nothing back here: the bytes were taken. */
        if (stream->body != NULL &&
            gmulti_body_writer_write (stream->body, payload, length, &error) ==
            GMULTI_BODY_ERROR)
          {
            GMultiRun *run = stream->run;

            g_array_remove_index (fake->streams, index);
            if (error == NULL)
              error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED, "abort");
            gmulti_stream_failed (run, error, FALSE);
            return;
          }
      }
      break;
    case 'E':
      {
        GMultiRun *run = stream->run;

        g_array_remove_index (fake->streams, index);
        gmulti_stream_done (run);
      }
      break;
    case 'F':
      {
        GMultiRun *run = stream->run;

        g_array_remove_index (fake->streams, index);
        /* A transport error code, yet not safe to retry: the flag decides. */
        gmulti_stream_failed (run,
                              g_error_new (GMULTI_ERROR, GMULTI_ERROR_CONNECTION_CLOSED,
                                           "%.*s", (int) length, payload),
                              FALSE);
      }
      break;
    default:
      break;
    }
}

static GMultiProtocolResult
fake_event (GMultiConnection *conn,
            GMultiEvent       events)
{
  FakeConn *fake = fake_of (conn);
  gboolean had_streams = fake->streams->len > 0;
  guint8 buffer[16384];

  if (!(events & (GMULTI_EVENT_IN | GMULTI_EVENT_ERR)))
    return GMULTI_PROTOCOL_OK;

  for (;;)
    {
      GError *error = NULL;
      gssize n = gmulti_connection_recv (conn, buffer, sizeof buffer, &error);

      if (n < 0 && error == NULL)
        break;
      if (n <= 0)
        {
          if (error == NULL)
            error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_CONNECTION_CLOSED,
                                         "the server closed the connection");
          fail_all (conn, error, TRUE);
          g_error_free (error);
          return GMULTI_PROTOCOL_CLOSE;
        }
      g_byte_array_append (fake->in, buffer, (guint) n);
    }

  while (fake->in->len >= HEADER_SIZE)
    {
      guint32 id, length;
      char type = (char) fake->in->data[0];

      memcpy (&id, fake->in->data + 1, 4);
      memcpy (&length, fake->in->data + 5, 4);
      id = ntohl (id);
      length = ntohl (length);
      if (fake->in->len < HEADER_SIZE + length)
        break;
      fake_frame (conn, type, id, fake->in->data + HEADER_SIZE, length);
      g_byte_array_remove_range (fake->in, 0, HEADER_SIZE + length);
    }

  if (had_streams && fake->streams->len == 0 && fake->in->len == 0)
    return GMULTI_PROTOCOL_IDLE;
  return GMULTI_PROTOCOL_OK;
}

static GMultiProtocolResult
fake_nothing (GMultiConnection *conn,
              GMultiRun        *run)
{
  return GMULTI_PROTOCOL_OK;
}

static GMultiProtocolResult
fake_reset_stream (GMultiConnection *conn,
                   GMultiRun        *run)
{
  FakeConn *fake = fake_of (conn);
  gint index = find_run (fake, run);

  g_assert_cmpint (index, >=, 0);
  fake_n_resets++;
  if (!fake_send (conn, 'X', g_array_index (fake->streams, FakeStream, index).id, ""))
    return GMULTI_PROTOCOL_CLOSE;
  g_array_remove_index (fake->streams, index);
  return fake->streams->len == 0 ? GMULTI_PROTOCOL_IDLE : GMULTI_PROTOCOL_OK;
}

static void
fake_fail (GMultiConnection *conn,
           const GError     *error)
{
  fail_all (conn, error, FALSE);
}

static guint
fake_capacity (GMultiConnection *conn)
{
  guint n = fake_of (conn)->streams->len;

  return n < fake_max_streams ? fake_max_streams - n : 0;
}

static gboolean
fake_is_clean (GMultiConnection *conn)
{
  guint8 byte;

  return gmulti_connection_recv (conn, &byte, 1, NULL) < 0 && errno == EAGAIN;
}

static const GMultiProtocol fake_protocol = {
  .name = "test",
  .attach = fake_attach,
  .free = fake_free,
  .start_stream = fake_start_stream,
  .event = fake_event,
  .resume = fake_nothing,
  .timeout = fake_nothing,
  .reset_stream = fake_reset_stream,
  .fail = fake_fail,
  .capacity = fake_capacity,
  .is_clean = fake_is_clean,
};

/* ------------------------------------------------------------------ helpers */

typedef struct {
  guint n_headers;
  guint status_at_headers;
  guint n_data;
  gsize data_bytes;
  guint n_progress;
} Seen;

static void
headers_cb (GMultiTransfer *transfer,
            guint           status,
            GMultiHeaders  *headers,
            gpointer        user_data)
{
  Seen *seen = user_data;

  seen->n_headers++;
  seen->status_at_headers = status;
  g_assert_cmpstr (gmulti_headers_get_one (headers, "X-Stream"), ==, "200");
}

static void
data_cb (GMultiTransfer *transfer,
         GBytes         *data,
         gpointer        user_data)
{
  Seen *seen = user_data;

  seen->n_data++;
  seen->data_bytes += g_bytes_get_size (data);
}

static void
progress_cb (GMultiTransfer *transfer,
             gpointer        user_data)
{
  ((Seen *) user_data)->n_progress++;
}

static EngineLoop *
loop_new (void)
{
  EngineLoop *loop = engine_loop_new ();

  gmulti_engine_set_protocol_for_testing (loop->engine, &fake_protocol);
  fake_max_streams = 4;
  fake_n_attached = fake_n_started = fake_n_resets = 0;
  return loop;
}

static GMultiTransfer *
add (EngineLoop *loop,
     Server     *server,
     const char *target)
{
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u%s", server->port, target);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  gmulti_transfer_set_collect_body (transfer, TRUE);
  g_assert_cmpint (gmulti_engine_add (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
  return transfer;
}

static void
assert_body (GMultiTransfer *transfer,
             const char     *expected)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   expected, strlen (expected));
}

static void
assert_letters (GMultiTransfer *transfer,
                char            letter,
                gsize           size)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);
  const char *data;
  gsize length;

  g_assert_nonnull (body);
  data = g_bytes_get_data (body, &length);
  g_assert_cmpuint (length, ==, size);
  for (gsize i = 0; i < length; i++)
    if (data[i] != letter)
      g_error ("byte %" G_GSIZE_FORMAT " is '%c', not '%c'", i, data[i], letter);
}

static guint64
connection_id (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (transfer));
}

static gboolean
reused (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (transfer));
}

/* Iterates until @cond holds; fails the test after WAIT_MS. */
#define LOOP_UNTIL(loop, cond) \
  G_STMT_START { \
    gint64 end_ = g_get_monotonic_time () + WAIT_MS * 1000; \
    while (!(cond) && g_get_monotonic_time () < end_) \
      engine_loop_iterate ((loop), 20); \
    if (!(cond)) \
      g_error ("Timed out waiting for: %s", #cond); \
  } G_STMT_END

/* -------------------------------------------------------------------- tests */

/* A stream's head, body and end reach the transfer, its signals and the engine's
 * message, through the protocol's stream events. */
static void
test_stream_events (void)
{
  g_autoptr(Server) server = server_new ();
  g_autoptr(EngineLoop) loop = loop_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;
  Seen seen = { 0 };

  transfer = add (loop, server, "/small/one");
  g_signal_connect (transfer, "response-headers", G_CALLBACK (headers_cb), &seen);
  g_signal_connect (transfer, "data", G_CALLBACK (data_cb), &seen);
  g_signal_connect (transfer, "progress", G_CALLBACK (progress_cb), &seen);
  g_assert_true (engine_loop_run (loop, WAIT_MS));

  g_assert_cmpuint (loop->messages->len, ==, 1);
  g_assert_true (loop->messages->pdata[0] == transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_DONE);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  g_assert_cmpstr (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                           "X-Stream"), ==, "200");
  assert_body (transfer, "hello one");
  g_assert_cmpuint (seen.n_headers, ==, 1);
  g_assert_cmpuint (seen.status_at_headers, ==, 200);
  g_assert_cmpuint (seen.n_data, ==, 1);
  g_assert_cmpuint (seen.data_bytes, ==, strlen ("hello one"));
  g_assert_cmpuint (seen.n_progress, >=, 1);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, strlen ("hello one"));

  /* The table was used, and the connection went back to the pool. */
  g_assert_cmpuint (fake_n_attached, ==, 1);
  g_assert_cmpuint (fake_n_started, ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, transfer), ==, GMULTI_ENGINE_OK);
}

/* Started on one connection, three transfers to one origin share it while its
 * protocol has room, whatever the per-origin limit. */
static void
test_multiplex (void)
{
  g_autoptr(Server) server = server_new ();
  g_autoptr(EngineLoop) loop = loop_new ();
  GMultiTransfer *transfers[3];
  const char letters[] = "abc";

  /* One connection per origin: a second one would have to wait. */
  gmulti_engine_set_max_host_connections (loop->engine, 1);
  transfers[0] = add (loop, server, "/mux/3/20000/a");
  /* Once it carries the first stream, the others join it. */
  LOOP_UNTIL (loop, server_requests (server) == 1);
  transfers[1] = add (loop, server, "/mux/3/20000/b");
  transfers[2] = add (loop, server, "/mux/3/20000/c");
  g_assert_true (engine_loop_run (loop, WAIT_MS));

  g_assert_cmpuint (server_accepted (server), ==, 1);
  g_assert_cmpuint (loop->messages->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_no_error (gmulti_transfer_get_error (transfers[i]));
      g_assert_cmpuint (gmulti_transfer_get_status (transfers[i]), ==, 200);
      assert_letters (transfers[i], letters[i], 20000);
      g_assert_cmpuint (connection_id (transfers[i]), ==, connection_id (transfers[0]));
      g_assert_true (reused (transfers[i]) == (i > 0));
    }
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);

  for (guint i = 0; i < 3; i++)
    g_object_unref (transfers[i]);
}

/* Removing one of three transfers mid-body resets its stream alone: the others
 * complete on the same connection, which is pooled afterwards. */
static void
test_reset_one (void)
{
  g_autoptr(Server) server = server_new ();
  g_autoptr(EngineLoop) loop = loop_new ();
  GMultiTransfer *transfers[3];
  const char letters[] = "abc";

  gmulti_engine_set_max_host_connections (loop->engine, 1);
  transfers[0] = add (loop, server, "/reset/3/20000/a");
  LOOP_UNTIL (loop, server_requests (server) == 1);
  transfers[1] = add (loop, server, "/reset/3/20000/b");
  transfers[2] = add (loop, server, "/reset/3/20000/c");
  /* The server sends a piece of each, then waits for a reset. */
  LOOP_UNTIL (loop, gmulti_transfer_get_bytes_received (transfers[1]) > 0);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, transfers[1]), ==, GMULTI_ENGINE_OK);
  g_assert_cmpuint (fake_n_resets, ==, 1);

  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_cmpuint (server_resets (server), ==, 1);
  g_assert_cmpuint (loop->messages->len, ==, 2);
  for (guint i = 0; i < 3; i += 2)
    {
      g_assert_no_error (gmulti_transfer_get_error (transfers[i]));
      assert_letters (transfers[i], letters[i], 20000);
      g_assert_cmpuint (connection_id (transfers[i]), ==, connection_id (transfers[0]));
    }
  g_assert_cmpint (gmulti_transfer_get_state (transfers[1]), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfers[1]), <, 20000);
  g_assert_cmpuint (server_accepted (server), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);

  for (guint i = 0; i < 3; i++)
    g_object_unref (transfers[i]);
}

/* A stream failure its protocol calls safe to retry, on a reused connection, sends
 * the request again once, on a new connection. */
static void
test_retry_safe (void)
{
  g_autoptr(Server) server = server_new ();
  g_autoptr(EngineLoop) loop = loop_new ();
  g_autoptr(GMultiTransfer) first = NULL;
  g_autoptr(GMultiTransfer) second = NULL;
  g_autoptr(GMultiTransfer) third = NULL;

  first = add (loop, server, "/small/first");
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);

  /* The server closes the pooled connection on the second request it carries. */
  second = add (loop, server, "/stale/second");
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_no_error (gmulti_transfer_get_error (second));
  assert_body (second, "hello second");
  g_assert_cmpuint (server_accepted (server), ==, 2);
  g_assert_cmpuint (server_requests (server), ==, 3);
  g_assert_cmpuint (connection_id (second), !=, connection_id (first));
  g_assert_false (reused (second));

  /* Once only: the new connection failing the same way fails the transfer. */
  third = add (loop, server, "/close/third");
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_error (gmulti_transfer_get_error (third), GMULTI_ERROR,
                  GMULTI_ERROR_CONNECTION_CLOSED);
  g_assert_cmpuint (server_accepted (server), ==, 3);
  g_assert_cmpuint (server_requests (server), ==, 5);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 0);
}

/* A failure not safe to retry fails the transfer with the protocol's error, even on
 * a reused connection and with a code a transport failure would have. */
static void
test_failure_not_retried (void)
{
  g_autoptr(Server) server = server_new ();
  g_autoptr(EngineLoop) loop = loop_new ();
  g_autoptr(GMultiTransfer) first = NULL;
  g_autoptr(GMultiTransfer) failing = NULL;
  g_autoptr(GMultiTransfer) after = NULL;

  first = add (loop, server, "/small/first");
  g_assert_true (engine_loop_run (loop, WAIT_MS));

  failing = add (loop, server, "/fail/it");
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_cmpuint (loop->messages->len, ==, 2);
  g_assert_error (gmulti_transfer_get_error (failing), GMULTI_ERROR,
                  GMULTI_ERROR_CONNECTION_CLOSED);
  g_assert_cmpstr (gmulti_transfer_get_error (failing)->message, ==, "the server refused");
  g_assert_cmpint (gmulti_transfer_get_state (failing), ==, GMULTI_TRANSFER_DONE);
  g_assert_true (reused (failing));
  g_assert_cmpuint (server_accepted (server), ==, 1);
  g_assert_cmpuint (server_requests (server), ==, 2);

  /* Only the stream failed: its connection serves the next one. */
  after = add (loop, server, "/small/after");
  g_assert_true (engine_loop_run (loop, WAIT_MS));
  g_assert_no_error (gmulti_transfer_get_error (after));
  g_assert_cmpuint (connection_id (after), ==, connection_id (first));
  g_assert_cmpuint (server_accepted (server), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Protocol/stream-events", test_stream_events);
  g_test_add_func ("/GMulti/Protocol/multiplex", test_multiplex);
  g_test_add_func ("/GMulti/Protocol/reset-one", test_reset_one);
  g_test_add_func ("/GMulti/Protocol/retry-safe", test_retry_safe);
  g_test_add_func ("/GMulti/Protocol/failure-not-retried", test_failure_not_retried);

  return g_test_run ();
}
