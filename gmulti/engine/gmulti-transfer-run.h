/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include "gmulti-timer-heap.h"
#include "gmulti-headers.h"
#include "gmulti-engine.h"
#include "gmulti-pool-key.h"

G_BEGIN_DECLS

typedef struct _GMultiConnection GMultiConnection;
typedef struct _GMultiResolveRequest GMultiResolveRequest;
typedef struct _GMultiDefaults GMultiDefaults;

/* Where the engine is with a transfer. Finer than the public GMultiTransferState. */
typedef enum {
  GMULTI_RUN_NONE,           /* not added */
  GMULTI_RUN_INIT,           /* added; starts on the engine's next turn */
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

typedef struct {
  GMultiEngine *engine;       /* not a reference: the engine holds one on the transfer */
  GMultiRunPhase phase;
  GList link;                 /* engine->transfers */
  GList ready_link;           /* engine->ready: to be stepped on the next turn */
  GList pending_link;         /* engine->pending: waiting for a connection slot */
  GList host_wait_link;       /* wait_host->waiters */
  gpointer wait_host;         /* the GMultiHost it waits for, while in_pending */
  guint64 wait_seq;           /* when it began to wait: smaller is older */
  GList message_link;         /* engine->messages: completion not read yet */
  GMultiMessage message;      /* what info_read hands out */
  gboolean in_ready, in_pending, in_messages;
  gboolean in_yielded;        /* ready_link is in engine->yielded, not engine->ready */
  GMultiEngineTimer timer;    /* the earliest of the deadlines below */

  gint64 start_us;
  GMultiDefaults *defaults;   /* the engine's when the run started, for the whole run */
  guint timeout_ms;           /* the transfer's or the defaults', for this run */
  guint connect_timeout_ms;   /* the same, for the connections of this hop */
  gint64 total_deadline;      /* 0: none */
  gint64 connect_deadline;
  gint64 continue_deadline;
  gint64 low_speed_check;     /* next once-a-second low-speed check */
  gint64 low_speed_since;     /* when the speed first fell below the limit; 0 if not */
  guint64 low_speed_bytes;    /* bytes moved at the previous check */

  /* Target of the current hop. */
  GMultiPoolKey pool_key;     /* its connections' key; points into host, tls_config */
  char *host;
  guint16 port;
  char *target;               /* origin-form path?query */
  char *host_header;
  const char *method;         /* the method of this hop (points into the transfer or a
                                 static string after a 303) */
  gboolean head_request;
  gboolean tls;               /* an https hop */
  GMultiTlsConfig *tls_config; /* its TLS settings, from the transfer, for the whole run */
  GMultiResolveRequest *resolve;
  GMultiConnection *conn;
  gboolean conn_is_new;       /* the connection was opened for this transfer */

  /* Request sending. */
  GByteArray *unsent;         /* head (and body) bytes written only in part */
  gboolean expect_continue;
  gboolean body_started;      /* any request byte reached the socket */
  gboolean body_done;
  gboolean chunked;
  gint64 body_length;         /* -1: chunked, otherwise the Content-Length */
  guint64 body_sent;
  gboolean body_from_bytes;

  /* Response receiving. */
  gboolean got_final_head;
  gboolean response_started; /* any response byte consumed */
  guint redirects;
  gboolean following;         /* the response is a redirect that will be followed */
  char *redirect_method;      /* method after a 301/302/303 turned the request into GET */
  gboolean body_dropped;      /* a redirect dropped the request body */
  gboolean cross_origin;      /* a redirect left the first origin: no credentials */
  GMultiHeaders *hop_headers; /* request headers of this hop when they differ */
  gboolean retried_stale;     /* already retried once on a fresh connection */
  gboolean deliver_paused;    /* holding body bytes until resume */
  gboolean no_splice;         /* the sink refused splice(): copy from now on */
  guint64 bytes_spliced;      /* body bytes of this hop that never entered memory */
} GMultiTransferRun;

void gmulti_transfer_run_init  (GMultiTransferRun *run);
void gmulti_transfer_run_clear (GMultiTransferRun *run);

G_END_DECLS
