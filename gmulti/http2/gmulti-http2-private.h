/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/uio.h>
#include <nghttp2/nghttp2.h>

#include "gmulti-engine-private.h"
#include "engine/gmulti-body-writer.h"
#include "engine/gmulti-protocol.h"
#include "http2/gmulti-http2-mem.h"

G_BEGIN_DECLS

/* The state shared by the two halves of HTTP/2: gmulti-http2-protocol.c (the session
 * of a connection, its I/O and the operations table) and gmulti-http2-stream.c (one
 * transfer's exchange on a stream). */

/* Flow-control windows we grant: per stream, and for the whole connection. A stream
 * whose transfer is paused stops consuming its window, so it holds at most this much
 * (docs/limits.md); the connection's is always given back at once. */
#define GMULTI_HTTP2_STREAM_WINDOW (1024 * 1024)
#define GMULTI_HTTP2_CONNECTION_WINDOW (16 * 1024 * 1024)
/* The response head (fields of one header block) as HTTP/1.1 bounds it. */
#define GMULTI_HTTP2_MAX_HEADER_BYTES (256 * 1024)
#define GMULTI_HTTP2_MAX_HEADER_FIELDS 256
/* Deadlines (docs/limits.md), kept with the connection's timer: the server's first
 * SETTINGS within the connect timeout of the transfer that opened the connection (this
 * without one); a pooled connection that received nothing for GMULTI_HTTP2_IDLE_PING_US
 * answers a PING within GMULTI_HTTP2_PING_TIMEOUT_US before a request goes on it. */
#define GMULTI_HTTP2_SETTINGS_TIMEOUT_MS 10000
#define GMULTI_HTTP2_IDLE_PING_US (5 * G_USEC_PER_SEC)
#define GMULTI_HTTP2_PING_TIMEOUT_US (2 * G_USEC_PER_SEC)
/* DATA chunks of one stream bound for a file, written with one writev() per read. */
#define GMULTI_HTTP2_GATHER_MAX 64
/* Frames are gathered up to this much before one send. */
#define GMULTI_HTTP2_SEND_BATCH (64 * 1024)

typedef struct _GMultiHttp2Connection GMultiHttp2Connection;

/* One transfer's exchange on a stream. It outlives the transfer's part in it: a stream
 * that was reset, failed or completed stays until nghttp2 closes it. */
typedef struct {
  GMultiHttp2Connection *h2;
  GMultiRun *run;               /* NULL once the transfer left the stream */
  int32_t id;
  GList link;                   /* h2->streams */

  /* Request. */
  gboolean has_body;            /* DATA follows the head */
  gboolean body_from_bytes;
  gint64 body_length;           /* -1: unknown */
  guint64 body_sent;
  gboolean body_deferred;       /* the data source waits for resume_data() */
  gboolean request_done;        /* END_STREAM sent */

  /* Response. */
  guint status;                 /* of the header block being read */
  GMultiHeaders *fields;        /* the header block being read */
  gsize field_bytes;
  guint n_fields;
  gint64 content_length;        /* of that block: -1 none, -2 not a number */
  gboolean got_final_head;
  gboolean response_started;
  gboolean deliver;             /* a body chain was built: the body is for the run */
  GMultiBodyChain body;
  GByteArray *held;             /* DATA that arrived while paused, window not given back */
  guint64 received;             /* body bytes on the wire */
  gboolean ended;               /* END_STREAM received; completes once delivered */
  gboolean finishing;           /* the chain's finish stopped: it is called again */
  GError *error;                /* a failure found in a callback, for the stream's end */
  gboolean closed;              /* nghttp2 closed it (or will never open it) */
  gboolean reset_by_us;         /* nghttp2 sent RST_STREAM (the response broke a rule) */
} GMultiHttp2Stream;

struct _GMultiHttp2Connection {
  GMultiConnection *conn;
  nghttp2_session *session;
  GMultiHttp2Mem mem;           /* the session's blocks (outlives it) */
  GQueue streams;               /* GMultiHttp2Stream, oldest first */
  guint n_runs;                 /* streams that still carry a transfer */
  guint max_streams;            /* ours: at most this many at once */
  gboolean got_settings;        /* the server's first SETTINGS arrived */
  gboolean goaway;              /* GOAWAY received: no new streams */
  int32_t goaway_last_id;
  gboolean refusing;            /* the server refused a stream: new ones go elsewhere */
  gboolean broken;              /* the connection failed; it closes */
  gboolean terminated;          /* nghttp2 sent GOAWAY: the server broke the protocol */
  uint32_t terminate_code;
  char *terminate_reason;       /* nghttp2's words in that GOAWAY (printable), or NULL */
  gboolean dirty;               /* a frame for no stream of ours arrived while idle */
  GByteArray *out;              /* frames produced that the socket did not take yet */

  /* Body bytes for a file sink (the chain's splice descriptor), gathered while
   * nghttp2_session_mem_recv() runs: the chunks point into the buffer it reads, and are
   * written before it returns or anything else about a stream is reported. */
  GMultiHttp2Stream *gather_stream;
  int gather_fd;
  guint n_gather;
  gsize gather_bytes;
  struct iovec gather[GMULTI_HTTP2_GATHER_MAX];

  /* Deadlines (0: none) and liveness. */
  gint64 settings_deadline;     /* for the server's first SETTINGS */
  gint64 last_receive;          /* the engine's clock when bytes last arrived */
  gint64 ping_deadline;         /* a liveness PING is out: its ACK is due then */
  gboolean ping_answered;       /* its ACK arrived: the runs waiting for it go */
  GQueue waiting;               /* GMultiRun: held until the PING is answered (in n_runs) */
};

static inline GMultiHttp2Connection *
h2_of (GMultiConnection *conn)
{
  return conn->protocol_state;
}

/* gmulti-http2-protocol.c */
/* Sends what nghttp2 has to send, as far as the socket takes it. FALSE when the
 * connection failed (its streams were failed). */
gboolean gmulti_http2_flush       (GMultiHttp2Connection *h2);
/* The transfer leaves @stream: it is forgotten before the stream event is reported. */
GMultiRun *gmulti_http2_detach    (GMultiHttp2Stream     *stream);
/* Frees a stream nghttp2 no longer knows. */
void     gmulti_http2_stream_free (GMultiHttp2Stream     *stream);

/* gmulti-http2-stream.c */
/* Submits @run's request on a new stream. FALSE with @error if it cannot go out. */
gboolean gmulti_http2_submit      (GMultiHttp2Connection *h2,
                                   GMultiRun             *run,
                                   GError               **error);
/* nghttp2's callbacks for a stream's frames. */
int      gmulti_http2_on_begin_headers (nghttp2_session     *session,
                                        const nghttp2_frame *frame,
                                        void                *user_data);
int      gmulti_http2_on_header   (nghttp2_session     *session,
                                   const nghttp2_frame *frame,
                                   const uint8_t       *name,
                                   size_t               namelen,
                                   const uint8_t       *value,
                                   size_t               valuelen,
                                   uint8_t              flags,
                                   void                *user_data);
/* A HEADERS or DATA frame of @stream was received. */
void     gmulti_http2_on_stream_frame (GMultiHttp2Stream   *stream,
                                       const nghttp2_frame *frame);
int      gmulti_http2_on_data     (nghttp2_session *session,
                                   uint8_t          flags,
                                   int32_t          stream_id,
                                   const uint8_t   *data,
                                   size_t           len,
                                   void            *user_data);
/* @stream sent its last frame. */
void     gmulti_http2_request_sent (GMultiHttp2Stream *stream);
/* Writes the gathered body bytes (at the end of a read, and before any other event). */
void     gmulti_http2_write_gathered (GMultiHttp2Connection *h2);

/* Called at every callback: inline, as there is rarely anything to write. */
static inline void
gmulti_http2_flush_gathered (GMultiHttp2Connection *h2)
{
  if (G_UNLIKELY (h2->n_gather > 0))
    gmulti_http2_write_gathered (h2);
}
/* Goes on after a pause: what was held is delivered, the body resumes. */
void     gmulti_http2_stream_resume (GMultiHttp2Stream *stream);

G_END_DECLS
