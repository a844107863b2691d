/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-connection.h"
#include "engine/gmulti-body-writer.h"
#include "gmulti-enums.h"

G_BEGIN_DECLS

/* The contract between the engine and the protocol a connection speaks (HTTP/1.1
 * and HTTP/2): a table of operations downward, a few stream events upward.
 *
 * A connection carries streams; each stream is one transfer's exchange (HTTP/1.1: one
 * at a time). The pool drives the protocol through the table and acts on what each
 * operation returns about the connection. The protocol reports what happens to a
 * stream through the gmulti_stream_*() events below, which decide the transfer's fate
 * (phases, redirects, retries, completion). A protocol never closes, pools or frees
 * its connection itself, and the connection stays valid until the operation returns. */

/* What became of the connection in an operation. */
typedef enum {
  GMULTI_PROTOCOL_OK,     /* it goes on: streams under way, or still idle and clean */
  GMULTI_PROTOCOL_IDLE,   /* its last stream ended and it is clean: it may be pooled */
  GMULTI_PROTOCOL_CLOSE,  /* it must be closed */
  GMULTI_PROTOCOL_DRAIN,  /* its streams go on, but it takes no new one (an HTTP/2
                             GOAWAY): it closes after its last stream */
} GMultiProtocolResult;

struct _GMultiProtocol {
  const char *name;
  GMultiHttpVersion version;     /* what a stream on it reports as used */
  /* The connection is ready for requests (connected, TLS done): returns the protocol's
   * state for it, kept in conn->protocol_state until free(). */
  gpointer             (*attach)       (GMultiConnection *conn);
  void                 (*free)         (gpointer          state);
  /* Begins @run's exchange on the connection (capacity() said it has room). */
  GMultiProtocolResult (*start_stream) (GMultiConnection *conn,
                                        GMultiRun        *run);
  /* The socket is ready (the connection may be active or idle). */
  GMultiProtocolResult (*event)        (GMultiConnection *conn,
                                        GMultiEvent       events);
  /* @run was resumed after a pause, or yielded its turn: goes on with it. */
  GMultiProtocolResult (*resume)       (GMultiConnection *conn,
                                        GMultiRun        *run);
  /* The 100-continue wait of @run is over: its body goes now. */
  GMultiProtocolResult (*timeout)      (GMultiConnection *conn,
                                        GMultiRun        *run);
  /* @run leaves its stream early (removed or aborted); no stream event follows.
   * IDLE when the connection is clean without it, OK when other streams go on. */
  GMultiProtocolResult (*reset_stream) (GMultiConnection *conn,
                                        GMultiRun        *run);
  /* The transport under the connection failed: each stream fails with a copy of
   * @error (not retried). The pool closes the connection afterwards. */
  void                 (*fail)         (GMultiConnection *conn,
                                        const GError     *error);
  /* How many more streams it takes now (HTTP/1.1: 1 while idle, else 0). */
  guint                (*capacity)     (GMultiConnection *conn);
  /* The connection's timer, armed by the protocol with gmulti_engine_arm_connection_timer()
   * for deadlines of its own, fired (may be NULL: never armed). */
  GMultiProtocolResult (*timer)        (GMultiConnection *conn);
  /* Of an idle connection whose transport holds bytes read ahead: whether it is still
   * fit for a request (nothing but transport housekeeping arrived). */
  gboolean             (*is_clean)     (GMultiConnection *conn);
};

/* Stream events: the only calls a protocol makes about a transfer's fate. Each takes
 * a transfer whose stream is on a connection; done() and failed() end the stream, and
 * the protocol has forgotten the transfer before it calls them. */

/* The request head is sent and the body waits for "100 Continue" (or the timeout). */
void gmulti_stream_wait_continue (GMultiRun *run);
/* The body may go now ("100 Continue" arrived, or the wait is over). */
void gmulti_stream_continue      (GMultiRun      *run);
/* The whole request is sent. */
void gmulti_stream_request_sent  (GMultiRun      *run);

typedef enum {
  GMULTI_STREAM_DELIVER,  /* the body is for the application */
  GMULTI_STREAM_DISCARD,  /* a redirect is followed: the body is only framed */
  GMULTI_STREAM_FAILED,   /* the stream failed with the error given, and is over */
} GMultiStreamVerdict;

/* The final response head is on the run (status, reason, headers). Decides
 * whether a redirect is followed and, unless it is, tells the application.
 * @body_error (taken; usually NULL) says the body cannot be delivered, which fails the
 * stream unless the body is not wanted anyway. */
GMultiStreamVerdict gmulti_stream_headers (GMultiRun      *run,
                                           GError         *body_error);
/* After GMULTI_STREAM_DELIVER: builds the hop's body chain in front of the owner's sink,
 * with the transfer codings the framing named and a stage for the content codings of
 * the head's Content-Encoding, when the run decodes them. @has_body: FALSE for a
 * response that has none (HEAD, 204, 304). Both HTTP/1.1 and HTTP/2 call it. */
void gmulti_stream_build_body_chain (GMultiRun          *run,
                                     GMultiBodyChain    *chain,
                                     const GMultiCoding *transfer_codings,
                                     guint               n_transfer_codings,
                                     gboolean            has_body);
/* The Accept-Encoding value a request of @run sends unless the application set one,
 * or NULL: a static string, no allocation. */
const char *gmulti_stream_accept_encoding (GMultiRun *run);
/* The response is complete. */
void gmulti_stream_done          (GMultiRun      *run);
/* The stream failed with @error (taken). @retry_safe: it failed with its connection
 * before any of the response arrived, so the request may go again on a new
 * connection; the engine does so once, for a reused connection and a request that may
 * be repeated. */
void gmulti_stream_failed        (GMultiRun      *run,
                                  GError         *error,
                                  gboolean        retry_safe);
/* The server refused the stream without acting on it (HTTP/2: RST_STREAM with
 * REFUSED_STREAM, or a stream above a GOAWAY's last stream id): the request goes
 * again once on a new connection, whatever its method, if its body can be sent again;
 * else the transfer fails with @error (taken). */
void gmulti_stream_refused       (GMultiRun      *run,
                                  GError         *error);
/* The stream read its share in this event (GMULTI_RECEIVE_BUDGET) with more already
 * read ahead: resume() is called again in a turn of the timer, after other sockets. */
void gmulti_stream_yield         (GMultiRun      *run);

/* Connections made from now on speak @protocol (NULL: HTTP/1.1). For tests only. */
void gmulti_engine_set_protocol_for_testing (GMultiEngine         *engine,
                                             const GMultiProtocol *protocol);

G_END_DECLS
