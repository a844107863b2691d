/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include "gmulti-timer-heap.h"
#include "gmulti-headers.h"
#include "gmulti-engine.h"
#include "gmulti-metrics-private.h"
#include "gmulti-tls-options.h"
#include "tls/gmulti-tls.h"
#include "gmulti-pool-key.h"
#include "gmulti-proxy.h"
#include "gmulti-resolver.h"

G_BEGIN_DECLS

typedef struct _GMultiConnection GMultiConnection;
typedef struct _GMultiResolveRequest GMultiResolveRequest;
typedef struct _GMultiDefaults GMultiDefaults;
typedef struct _GMultiBodyWriter GMultiBodyWriter;
typedef struct _GMultiRun GMultiRun;
typedef struct _GMultiHopHook GMultiHopHook;

/* Where the engine is with a transfer. Finer than the public GMultiTransferState. */
typedef enum {
  GMULTI_RUN_NONE,           /* not added */
  GMULTI_RUN_INIT,           /* added; starts on the engine's next turn */
  GMULTI_RUN_PROXY_LOOKUP,   /* waiting for the owner to say which proxy the hop takes */
  GMULTI_RUN_RESOLVING,      /* waiting for the resolver */
  GMULTI_RUN_WAIT_SLOT,      /* pending: waiting for a connection slot */
  GMULTI_RUN_CONNECTING,     /* waiting for the connection it opened */
  GMULTI_RUN_SENDING,        /* writing the request head and body */
  GMULTI_RUN_WAIT_CONTINUE,  /* head sent with Expect: 100-continue */
  GMULTI_RUN_RECEIVING,      /* request sent; reading the response */
  GMULTI_RUN_DONE,           /* completed; message queued or read */
} GMultiRunPhase;

/* Timer owners share one heap; the kind says how to find the owner. */
typedef enum {
  GMULTI_TIMER_TRANSFER,
  GMULTI_TIMER_CONNECTION,
} GMultiTimerKind;

typedef struct {
  GMultiTimerNode node;      /* first: the heap hands back node pointers */
  GMultiTimerKind kind;
} GMultiEngineTimer;

/* What the owner of a run (the GObject transfer) is told, and the only calls the engine
 * and the protocols make upward: through the gmulti_run_notify_*() helpers of
 * gmulti-engine-run.c. Each is called where re-entry cannot hurt (the session defers
 * adds and removes made from its handlers), in the order the signals go out. */
typedef struct {
  /* The run was added to an engine: the response of any earlier run is cleared. */
  void     (*added)          (GMultiRun *run);
  /* The run starts (its first step): fills run->request from the owner and the run's
   * defaults. FALSE with @error when the request cannot go out. */
  gboolean (*prepare)        (GMultiRun *run,
                              GError   **error);
  /* run->phase changed (not to DONE: finished() says that). */
  void     (*phase_changed)  (GMultiRun *run);
  /* A redirect or a retry begins a new hop: the response so far was cleared. */
  void     (*new_hop)        (GMultiRun *run);
  /* The final response head is on the run, and is for the application. */
  void     (*response_head)  (GMultiRun *run);
  /* Bytes moved; @force: a final figure, not rate-limited. */
  void     (*progress)       (GMultiRun *run,
                              gboolean   force);
  /* The run completed: run->error is its result. */
  void     (*finished)       (GMultiRun *run);
  /* The run was stopped before it completed (removed): the result says so.
   * @never_started: before an engine took it. */
  void     (*cancelled)      (GMultiRun *run,
                              gboolean   never_started);
  /* The run left its engine. */
  void     (*released)       (GMultiRun *run);
} GMultiRunObserver;

/* The request body and the response body's sink, as the owner provides them. */
typedef struct {
  gssize         (*read_body)     (GMultiRun    *run,
                                   guint8       *buffer,
                                   gsize         length,
                                   GError      **error);
  /* Starts the body again from its first byte; FALSE if it cannot be. */
  gboolean       (*rewind_body)   (GMultiRun    *run);
  /* The writer the body chain of a new hop ends in: the owner's progress stage and
   * sink (engine/gmulti-body-writer.h), set up afresh for that hop. */
  GMultiBodyWriter *(*body_sink)   (GMultiRun    *run);
} GMultiRunIo;

/* The request as the owner prepared it when the run started: pointers borrowed from
 * the owner, which cannot replace its request while it runs and outlives the run. */
typedef struct {
  const char *uri;             /* as given */
  GUri *parsed_uri;            /* may be NULL: then the URI is parsed per hop */
  const char *method;          /* the method on the wire (POST for a body without one) */
  GMultiHeaders *headers;
  GBytes *body;                /* or NULL */
  gint64 body_length;          /* -1: unknown (sent chunked) */
  const GMultiTlsOptions *tls; /* the owner's TLS options; the defaults fill in the rest */
  gboolean has_body;           /* a body (bytes or a read function) */
  guint timeout_ms;            /* the owner's or the defaults'; 0: none */
  guint connect_timeout_ms;    /* the same, for connecting */
  guint low_speed_limit;       /* bytes per second; 0: off */
  guint low_speed_time;        /* seconds */
  gboolean follow_redirects;
  guint max_redirects;
  GMultiHttpVersion http_version; /* the owner's or the defaults' wish */
  gboolean decode_content;     /* offer Accept-Encoding and undo Content-Encoding */
  const char *unix_socket_path; /* connect there instead of to the host; NULL: TCP.
                                   '@' first: a Linux abstract socket */
  GMultiHopHook *cookies;      /* the owner's own cookie jar, or NULL: the defaults' */
  GMultiHopHook *hsts;         /* the owner's own HSTS enforcer, or NULL: the defaults' */
  const char *proxy_uri;       /* the owner's own; NULL: the defaults' (or none) */
  gboolean own_proxy_resolver; /* the owner has a proxy resolver of its own: the
                                  defaults' proxy_lookup is asked before their
                                  proxy_uri */
  const char *first_party_uri; /* the site the user sees, for third-party cookies; NULL:
                                  the URI of the first hop */
  GMultiHopHook *auth;         /* the authenticator for this run, chosen by the owner
                                  (the defaults' when it has anything to answer a
                                  challenge with); NULL: none */
  const GMultiTlsVerifier *tls_verifier; /* asked when the origin's certificate fails
                                  verification; NULL: it fails the run */
} GMultiRunRequest;

struct _GMultiRun {
  GMultiEngine *engine;       /* not a reference: the engine holds one on the owner */
  GMultiTransfer *owner;      /* the transfer the run belongs to (it embeds the run) */
  const GMultiRunObserver *observer;
  const GMultiRunIo *io;
  GMultiRunPhase phase;
  GList link;                 /* engine->transfers */
  GList ready_link;           /* engine->ready: to be stepped on the next turn */
  GList pending_link;         /* engine->pending: waiting for a connection slot */
  GList host_wait_link;       /* wait_host->waiters */
  gpointer wait_host;         /* the GMultiHost it waits for, while in_pending */
  guint64 wait_seq;           /* when it began to wait: smaller is older */
  GList message_link;         /* engine->messages: completion not read yet */
  GMultiMessage message;      /* what info_read hands out */
  /* One-bit flags, packed: a run is the engine's whole per-transfer cost. */
  guint in_ready : 1;
  guint in_pending : 1;
  guint in_messages : 1;
  guint in_yielded : 1;       /* ready_link is in engine->yielded, not engine->ready */
  guint head_request : 1;     /* of this hop */
  guint tls : 1;              /* an https hop */
  guint conn_is_new : 1;      /* the connection was opened for this transfer */
  guint following : 1;        /* the response is a redirect that will be followed */
  guint body_dropped : 1;     /* a redirect dropped the request body */
  guint cross_origin : 1;     /* a redirect left the first origin: no credentials */
  guint retried_stale : 1;    /* already sent again once after a failed connection */
  guint retry_fresh : 1;      /* that retry needs a connection opened for it: another
                                 pooled one may be stale just the same */
  guint paused : 1;           /* set by the owner: no body is delivered or sent until
                                 resumed */
  guint content_decoded : 1;  /* the current hop's body has a content-coding stage */
  guint repeating : 1;        /* the auth hook asked for the hop to be sent again */
  guint hop_held : 1;         /* the auth hook holds the run (WAIT): paused, its head
                                 not delivered */
  guint held_paused : 1;      /* the owner's pause while hop_held */
  guint hold_verdict : 2;     /* GMULTI_HOP_GO_ON or _REPEAT once the hook answered;
                                 GMULTI_HOP_WAIT until then */
  guint auth_repeats : 3;     /* hops sent again for the auth hook in this run */
  guint proxy_asked : 1;      /* the proxy lookup hook said PENDING for this hop */
  guint proxy_answered : 1;   /* ... and answered: proxy_answer, proxy_answer_error */
  guint proxy_challenge : 1;  /* the head the auth hook judges (or holds) is the
                                 proxy's 407 */
  guint proxy_looked_up : 1;  /* the hop's proxy (or direct) is an entry of the lookup
                                 hook's answer: another may follow if it fails */
  guint proxy_tries : 8;      /* entries of that answer that failed in this hop */
  GMultiEngineTimer timer;    /* the earliest of the deadlines below */

  gint64 start_us;
  GMultiDefaults *defaults;   /* the engine's when the run started, for the whole run */
  GMultiHopHook *cookies;     /* the run's cookie hook (a reference), or NULL */
  GMultiHopHook *auth;        /* the run's authentication hook (a reference), or NULL */
  GMultiHopHook *hsts;        /* the run's HSTS hook (a reference), or NULL */
  GMultiProxy *own_proxy;     /* request.proxy_uri parsed when the run started; NULL:
                                 direct (or none set) */
  GMultiProxy *proxy_answer;  /* the lookup hook's answer, until the run takes it */
  GError *proxy_answer_error;
  guint timeout_ms;           /* the transfer's or the defaults', for this run */
  guint connect_timeout_ms;   /* the same, for the connections of this hop */
  gint64 total_deadline;      /* 0: none */
  gint64 connect_deadline;
  gint64 continue_deadline;
  gint64 low_speed_check;     /* next once-a-second low-speed check */
  gint64 low_speed_since;     /* when the speed first fell below the limit; 0 if not */
  guint64 low_speed_bytes;    /* bytes moved at the previous check */

  /* Target of the current hop. */
  GMultiPoolKey pool_key;     /* its connections' key; points into host, chain,
                                 tls_config */
  char *chain;                /* the key's links: "unix:PATH" over a Unix socket; NULL
                                 for TCP */
  GMultiProxy *proxy;         /* the proxy this hop goes through (a reference); NULL:
                                 direct. Set by gmulti_run_use_proxy() */
  char *target_prefix;        /* "http://HOST[:PORT]" before target: absolute-form, for
                                 a forwarding proxy; NULL: origin-form */
  char *proxy_authorization;  /* through an HTTP proxy: the Proxy-Authorization value
                                 of forwarded requests, or of the CONNECT of a new
                                 tunnel (gmulti_run_proxy_authorization()); NULL:
                                 none (or not asked for yet) */
  char *host;                 /* owns target and host_header too (one block,
                                 GMultiRequestTarget) */
  guint16 port;
  const char *target;         /* origin-form path?query */
  const char *host_header;
  const char *method;         /* the method of this hop (points into the transfer or a
                                 static string after a 303) */
  GMultiTlsConfig *tls_config; /* its TLS settings, from the transfer, for the whole run */
  GMultiResolveRequest *resolve;
  GMultiAddress socks_origin; /* socks5://: the origin's address, looked up here before
                                 the proxy's name */
  GMultiConnection *conn;

  /* Redirects and retries (the protocol keeps the sending and receiving state of the
   * exchange itself, per stream). */
  guint redirects;
  char *redirect_method;      /* method after a 301/302/303 turned the request into GET */
  GMultiHeaders *hop_headers; /* request headers of this hop when they differ */
  guint64 bytes_spliced;      /* body bytes of this hop that never entered memory */

  /* Set by the owner. */
  GMultiRunRequest request;   /* filled by observer->prepare() */

  /* The response of the current hop (reset for each hop; kept after the run until the
   * owner is added again, for its getters). */
  GMultiHttpVersion http_version; /* that carried the current hop (the protocol's);
                                     AUTO until a stream began */
  guint status;
  char *reason;
  GMultiHeaders *response_headers;
  GMultiHeaders *response_trailers;
  char *effective_uri;
  gint64 bytes_expected;      /* -1: unknown */
  guint64 bytes_received;     /* body bytes of the current hop, as delivered (decoded) */
  guint64 wire_bytes_received; /* the same as they came (coded), with content_decoded */
  guint64 bytes_sent;         /* request body bytes of the current hop */
  GMultiTlsPeer *tls_peer;    /* the origin's certificates (a reference, shared with
                                 the connection's TLS session); NULL: none */
  GMultiMetrics metrics;
  GError *error;              /* the result once DONE; NULL on success */
};


/* The run a transfer embeds: the one way from a GMultiTransfer to the engine's state,
 * for the engine's entry points (gmulti-transfer.c). */
GMultiRun *gmulti_transfer_get_run (GMultiTransfer *self);

/* gmulti-engine-run.c */
/* @run must be zeroed (it is a field of its owner's instance). */
void gmulti_run_init  (GMultiRun               *run,
                       GMultiTransfer          *owner,
                       const GMultiRunObserver *observer,
                       const GMultiRunIo       *io);
/* Drops what the engine holds for a run that ended (not the response). */
void gmulti_run_clear (GMultiRun *run);
/* Drops the response too (the owner is finalized). */
void gmulti_run_free_response (GMultiRun *run);
/* Drops the target of the current hop (pool key, host, target). */
void gmulti_run_clear_hop (GMultiRun *run);
/* Clears the response of the current hop (status, headers, counts). */
void gmulti_run_clear_hop_response (GMultiRun *run);

/* The only calls upward, for the engine and the protocols. */
void     gmulti_run_notify_added         (GMultiRun *run);
gboolean gmulti_run_notify_prepare       (GMultiRun *run,
                                          GError   **error);
void     gmulti_run_notify_phase         (GMultiRun *run);
void     gmulti_run_notify_new_hop       (GMultiRun *run);
void     gmulti_run_notify_response_head (GMultiRun *run);
void     gmulti_run_notify_progress      (GMultiRun *run,
                                          gboolean   force);
void     gmulti_run_notify_finished      (GMultiRun *run,
                                          GError    *error);
void     gmulti_run_notify_cancelled     (GMultiRun *run,
                                          gboolean   never_started);
void     gmulti_run_notify_released      (GMultiRun *run);

/* The owner's request body and response sink. */
gssize   gmulti_run_read_body     (GMultiRun    *run,
                                   guint8       *buffer,
                                   gsize         length,
                                   GError      **error);
gboolean gmulti_run_rewind_body   (GMultiRun    *run);
GMultiBodyWriter *gmulti_run_body_sink (GMultiRun *run);

G_END_DECLS
