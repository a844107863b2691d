/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-engine-private.h"
#include "http1/gmulti-http1-parser.h"
#include "engine/gmulti-body-writer.h"

G_BEGIN_DECLS

/* The state shared by the two halves of HTTP/1.1: gmulti-http1-send.c (the request)
 * and gmulti-http1-protocol.c (the response, and the operations table). */

/* What one exchange is at, sending and receiving: the protocol's per-stream state
 * (HTTP/1.1 has one stream per connection at a time). */
typedef struct {
  GMultiRun *run;               /* the exchange under way; NULL between exchanges */

  /* Request sending. */
  GByteArray *unsent;           /* head (and body) bytes written only in part */
  gint64 body_length;           /* -1: chunked, otherwise the Content-Length */
  guint64 body_sent;
  guint expect_continue : 1;
  guint body_started : 1;       /* any request byte reached the socket */
  guint body_done : 1;
  guint chunked : 1;
  guint body_from_bytes : 1;

  /* Response receiving. */
  guint got_final_head : 1;
  guint response_started : 1;   /* any response byte consumed */
  gboolean no_splice;           /* the sink refused splice(): copy from now on */
} GMultiHttp1Stream;

/* The HTTP/1.1 state of one connection: the exchange it carries, one at a time. */
typedef struct {
  GMultiHttp1Stream stream;
  GMultiHttp1Parser parser;
  GMultiBodyChain body;          /* where the body goes; not built: it is not delivered */
  guint n_exchanges;             /* exchanges started on this connection */
  gboolean reusable;             /* FALSE once the framing says it must close */
  GMultiProtocolResult result;   /* what the operation under way tells the pool */
} GMultiHttp1Connection;

static inline GMultiHttp1Connection *
h1_of (GMultiConnection *conn)
{
  return conn->protocol_state;
}

/* For the metrics: the clock, not the turn's time, since a request on a pooled
 * connection can be sent in the very turn the transfer started, and 0 means "never". */
static inline gint64
gmulti_http1_time_since_start (GMultiRun *run)
{
  return MAX (g_get_monotonic_time () - run->start_us, 1);
}

/* gmulti-http1-protocol.c */
/* The exchange failed: the connection closes, the transfer is retried or fails. */
void     gmulti_http1_fail          (GMultiConnection *conn,
                                     GError           *error);
/* Parses response input and acts on its events; TRUE while the exchange goes on. */
gboolean gmulti_http1_process       (GMultiConnection *conn,
                                     const guint8     *data,
                                     gsize             length,
                                     gboolean          eof);

/* gmulti-http1-send.c */
/* Writes the request's head and as much of its body as the socket takes. */
GMultiProtocolResult gmulti_http1_start_stream (GMultiConnection *conn,
                                                GMultiRun        *run);
/* Writes what the socket takes; FALSE when the exchange ended or a failure took it. */
gboolean gmulti_http1_send_pending  (GMultiConnection *conn,
                                     gboolean          may_read);

G_END_DECLS
