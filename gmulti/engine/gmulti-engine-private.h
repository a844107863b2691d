/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-engine.h"
#include "gmulti-transfer-run.h"
#include "gmulti-socket-table.h"
#include "gmulti-timer-heap.h"
#include "gmulti-resolver.h"
#include "gmulti-connection.h"
#include "gmulti-splice.h"
#include "gmulti-defaults.h"
#include "gmulti-proxy-env.h"
#include "gmulti-wakeup-fd.h"
#include "tls/gmulti-tls-context.h"

G_BEGIN_DECLS

/* Idle connections kept when the application set no limit: this many, or four per
 * added transfer if that is more. */
#define GMULTI_DEFAULT_MIN_IDLE_CONNECTIONS 16
/* The shared receive buffer starts here and grows up to the maximum for bulk bodies.
 * The kernel sends the window update when a recv() returns: with larger reads the
 * server waits on our copy instead of refilling the socket while we read. */
#define GMULTI_SCRATCH_MIN_SIZE (64 * 1024)
#define GMULTI_SCRATCH_MAX_SIZE (512 * 1024)
/* Reads in one socket event while each one fills the buffer, so that a fast stream is
 * drained while the server keeps up, without starving the other connections. */
#define GMULTI_RECEIVE_MAX_READS 32
/* The most one connection reads in one event (TLS: before it yields to the others). */
#define GMULTI_RECEIVE_BUDGET (GMULTI_RECEIVE_MAX_READS * GMULTI_SCRATCH_MAX_SIZE)
/* SO_RCVLOWAT while a long body streams in fast (see wait_for_more()): set after a
 * readable event that brought at least the minimum, and dropped after an event that
 * brought less, when less than the minimum is left to come, or when no event came
 * within the deadline. */
#define GMULTI_LOW_WATER_MIN (64 * 1024)
#define GMULTI_LOW_WATER_MAX (256 * 1024)
#define GMULTI_LOW_WATER_DEADLINE_US (10 * 1000)
/* The connections of one pool key (scheme, host, port, links, TLS settings), and the
 * transfers waiting for one. A host is kept while it has either. */
typedef struct {
  GMultiPoolKey *key;
  guint n_connections;       /* open, any state */
  GQueue idle;               /* idle connections, most recently used last */
  GQueue room;               /* active connections that take another stream now */
  guint n_multiplexing;      /* connections that carry, or may turn out to carry, many
                                streams: its transfers wait for their room */
  GQueue waiters;            /* its transfers in engine->pending, in the same order */
  GList waiting_link;        /* engine->waiting_hosts while waiters is not empty */
} GMultiHost;

struct _GMultiEngine
{
  gint ref_count;

  GMultiSocketFunc socket_func;
  gpointer socket_data;
  GDestroyNotify socket_destroy;
  GMultiTimerFunc timer_func;
  gpointer timer_data;
  GDestroyNotify timer_destroy;

  GMultiSocketTable sockets;
  GMultiTimerHeap timers;

  GQueue transfers;          /* every added transfer */
  GQueue ready;              /* transfers to step on the next turn */
  GQueue yielded;            /* transfers to step on the next turn of the timer */
  GQueue pending;            /* transfers waiting for a connection slot, FIFO */
  GQueue waiting_hosts;      /* hosts with waiting transfers, any order */
  guint64 next_wait_seq;     /* age of waiters, to compare the heads of two hosts */
  gboolean pool_changed;     /* a connection went idle or closed while transfers wait */
  GQueue messages;           /* completed transfers whose message is unread */
  guint n_running;           /* added and not DONE */

  GHashTable *hosts;         /* GMultiPoolKey -> GMultiHost */
  GQueue idle_lru;           /* every idle connection, least recently used first */
  GQueue connections;        /* every open connection */
  guint64 next_connection_id;
  guint n_room;              /* connections in the hosts' room queues */
  const GMultiProtocol *protocol; /* what new connections speak; NULL: HTTP/1.1 */

  guint max_connections;     /* 0: no limit */
  guint max_host_connections;
  guint max_idle_connections; /* 0: automatic */

  GMultiTlsContext *tls_context; /* credentials and resumption; on the first https */
  GMultiTlsConfigCache tls_configs; /* the runs' TLS config, shared while alike */
  GMultiResolver *resolver;  /* created on the first name lookup */
  GMultiNameDelegate *name_delegate; /* the owner's, for the resolver; NULL: none */
  GMultiProxyEnv *proxy_env; /* the *_proxy variables, read when the engine was made */
  GMultiSocket *resolver_socket;
  GMultiWakeupFd *wakeup;    /* for gmulti_engine_wakeup(); NULL until needed (set
                                once, atomically) */

  GMultiSplicePipe splice;   /* socket -> file bodies (gmulti-splice.h) */
  guint8 *scratch;           /* shared receive buffer: connections keep no buffer at rest */
  gsize scratch_size;
  GString *head;             /* request heads are built here, then written at once */

  gint64 announced_deadline; /* the deadline last told to the timer function; -1: none */
  gboolean report_timer;     /* report the deadline again even if unchanged */
  gint64 now;                /* monotonic time of the current turn */

  gboolean busy;             /* inside an engine call: re-entry is refused */
  gboolean callback_failed;  /* a socket or timer function returned FALSE */
  gboolean stopped;          /* the engine was stopped by a failing callback */
  gboolean shut_down;        /* the last reference went: transfers and sockets are gone */

  GMultiDefaults *defaults;  /* for what transfers leave unset; never NULL */
};

/* Called by the connection/protocol code. */
void     gmulti_engine_want_socket      (GMultiEngine *self,
                                         GMultiSocket *sock,
                                         GMultiPoll    wanted);
void     gmulti_engine_close_socket     (GMultiEngine *self,
                                         GMultiSocket *sock);
guint8  *gmulti_engine_get_scratch      (GMultiEngine *self,
                                         gsize        *size);
void     gmulti_engine_grow_scratch     (GMultiEngine *self);
/* The transfer's exchange ended (gmulti-engine-stream.c): success (error NULL) or
 * failure. It no longer uses a connection. */
void     gmulti_engine_finish_transfer  (GMultiEngine   *self,
                                         GMultiRun      *run,
                                         GError         *error);
/* A connection became free (idle) or went away: wake a pending transfer. */
void     gmulti_engine_connection_idle  (GMultiEngine     *self,
                                         GMultiConnection *conn);
void     gmulti_engine_connection_gone  (GMultiEngine     *self,
                                         GMultiConnection *conn);
void     gmulti_engine_update_transfer_timer (GMultiEngine   *self,
                                              GMultiRun      *run);
/* The Proxy-Authorization value of the hop through its HTTP proxy (computed once per
 * hop, kept in run->proxy_authorization), or NULL for none. */
const char *gmulti_run_proxy_authorization (GMultiRun *run);
/* The proxy's 407 ended the run's hop unanswered: GMULTI_ERROR_PROXY_AUTH_REQUIRED,
 * saying whether credentials were sent (gmulti-engine-stream.c). */
GError  *gmulti_engine_proxy_auth_error      (GMultiRun      *run);
/* The CONNECT of the run's new connection got a 407 (@error) with @fields (taken):
 * the auth hook answers it, and the hop goes again on a new connection, or the run
 * ends. */
void     gmulti_engine_tunnel_challenged     (GMultiEngine   *self,
                                              GMultiRun      *run,
                                              GMultiHeaders  *fields,
                                              GError         *error);
/* The hop goes through @proxy (NULL: direct): everything about the hop that depends
 * on it (pool key, request target, the name to resolve). Called once per hop, after
 * prepare_hop() and before a connection is asked for: at once for a proxy the
 * application named, or when the proxy lookup of the hop's origin completes. */
void     gmulti_run_use_proxy                (GMultiRun      *run,
                                              GMultiProxy    *proxy);
void     gmulti_engine_arm_connection_timer  (GMultiEngine     *self,
                                              GMultiConnection *conn,
                                              gint64            deadline);
/* The transfer read its share in this event (GMULTI_RECEIVE_BUDGET): it is stepped
 * again only in a turn of the timer, that is after the other sockets. */
void     gmulti_engine_yield            (GMultiEngine   *self,
                                         GMultiRun      *run);
void     gmulti_engine_schedule         (GMultiEngine   *self,
                                         GMultiRun      *run);
/* Called by the run's owner when the application resumes it after a pause. */
void     gmulti_engine_run_resumed      (GMultiRun      *run);
/* The auth hook's WAIT (engine/gmulti-hop-hook.h): gmulti_engine_hold_hop() holds the
 * run (paused, its head not delivered; only its total timeout runs) from the hook's
 * challenge(); gmulti_engine_resume_hop() ends the hold with GMULTI_HOP_GO_ON (the
 * held response is delivered) or GMULTI_HOP_REPEAT (the hop is sent again). A run no
 * longer held (removed, failed) ignores the resume. */
void     gmulti_engine_hold_hop         (GMultiRun        *run);
void     gmulti_engine_resume_hop       (GMultiRun        *run,
                                         GMultiHopVerdict  verdict);

/* Replaces the defaults of transfers (a session's, or gmulti_transfer_perform()'s):
 * runs that start from now on take @defaults; runs under way keep theirs. */
void     gmulti_engine_set_defaults     (GMultiEngine   *self,
                                         GMultiDefaults *defaults);

G_END_DECLS

/* gmulti-engine-transfer.c: the life of a transfer inside the engine. */
G_BEGIN_DECLS
void     gmulti_engine_step_transfer     (GMultiEngine   *self,
                                          GMultiRun      *run);
void     gmulti_engine_transfer_deadline (GMultiEngine   *self,
                                          GMultiRun      *run);
void     gmulti_engine_detach_transfer   (GMultiEngine   *self,
                                          GMultiRun      *run);
void     gmulti_engine_abort_transfer    (GMultiEngine   *self,
                                          GMultiRun      *run,
                                          GError         *error);
/* @run is being removed: a connection it was still opening goes on for the next
 * transfer waiting for it, where that is possible. */
void     gmulti_engine_hand_over_connection (GMultiEngine *self,
                                             GMultiRun    *run);
/* A waiting transfer the pool picked (gmulti_pool_can_start() holds): starts it. */
void     gmulti_engine_start_waiter      (GMultiEngine   *self,
                                          GMultiRun      *run,
                                          GMultiHost     *host);
/* @conn (from the pool, or just connected for @run) carries @run's request
 * now, on a stream of its own. */
void     gmulti_engine_begin_exchange    (GMultiEngine     *self,
                                          GMultiRun        *run,
                                          GMultiConnection *conn);
void     gmulti_engine_set_phase         (GMultiEngine   *self,
                                          GMultiRun      *run,
                                          GMultiRunPhase  phase);
void     gmulti_engine_update_resolver_interest (GMultiEngine *self);
/* The owner answers the engine's name lookups through @delegate (NULL: the thread
 * pool always), from the next lookup on (gmulti-resolver.h). */
void     gmulti_engine_set_name_delegate (GMultiEngine       *self,
                                          GMultiNameDelegate *delegate);

/* gmulti-pool.c: connections by origin, limits and the pending queue. */
GMultiHost *gmulti_pool_get_host          (GMultiEngine        *self,
                                           const GMultiPoolKey *key);
/* Whether @run may have a connection to @host now: one with room for its stream
 * (idle, or a multiplexing one in use), or room within the limits for a new one
 * (closing the oldest idle connection if that makes the room). */
gboolean gmulti_pool_can_start            (GMultiEngine   *self,
                                           GMultiHost     *host,
                                           GMultiRun      *run);
/* A connection to @host for @run: one with room (*@is_new FALSE), or a new one,
 * not connected yet, after closing what had to give way; NULL, changing nothing, when
 * it cannot have one now (exactly when gmulti_pool_can_start() says so). */
GMultiConnection *gmulti_pool_acquire     (GMultiEngine   *self,
                                           GMultiHost     *host,
                                           GMultiRun      *run,
                                           gboolean       *is_new);
/* Puts @run at the end of the pending queue, or takes it off (it must be on it). */
void     gmulti_pool_wait                 (GMultiEngine   *self,
                                           GMultiHost     *host,
                                           GMultiRun      *run);
void     gmulti_pool_unwait               (GMultiEngine   *self,
                                           GMultiRun      *run);
/* Starts, oldest first, every waiting transfer that can start now. Called when
 * pool_changed is set, where no exchange is on the stack: before a new transfer asks
 * for a connection, and at the end of each engine call. */
void     gmulti_pool_dispatch             (GMultiEngine *self);
/* A limit was raised or lowered: waiters are looked at again. */
void     gmulti_pool_limits_changed       (GMultiEngine *self);
/* The protocol's operations on a connected @conn for @run's stream; the pool
 * pools or closes the connection as each one's result says. */
void     gmulti_pool_start_stream         (GMultiEngine     *self,
                                           GMultiConnection *conn,
                                           GMultiRun        *run);
void     gmulti_pool_resume_stream        (GMultiEngine     *self,
                                           GMultiConnection *conn,
                                           GMultiRun        *run);
void     gmulti_pool_stream_timeout       (GMultiEngine     *self,
                                           GMultiConnection *conn,
                                           GMultiRun        *run);
/* @run, no longer using @conn (run->conn cleared), leaves its stream early. */
void     gmulti_pool_reset_stream         (GMultiEngine     *self,
                                           GMultiConnection *conn,
                                           GMultiRun        *run);
void     gmulti_pool_close                (GMultiEngine     *self,
                                           GMultiConnection *conn);
void     gmulti_pool_close_all            (GMultiEngine     *self,
                                           gboolean          idle_only);
void     gmulti_pool_connection_event     (GMultiEngine     *self,
                                           GMultiConnection *conn,
                                           GMultiSocket     *sock,
                                           GMultiEvent       events);
void     gmulti_pool_connection_timer     (GMultiEngine     *self,
                                           GMultiConnection *conn);
void     gmulti_pool_free_hosts           (GMultiEngine     *self);

/* gmulti-engine.c: the turn, shared with gmulti-engine-poll.c and
 * gmulti-engine-limits.c. Each call that acts is one turn, begun and ended once. */
/* Ends the turn: dispatches waiters, reports sockets and deadline, stops on failure. */
GMultiEngineResult gmulti_engine_end_turn    (GMultiEngine *self);
/* Runs expired deadlines and ready transfers, then reads the running count. */
void     gmulti_engine_finish_turn        (GMultiEngine *self,
                                           guint        *running);

/* Begins a turn: FALSE (nothing done) when one is under way, a re-entry. */
static inline gboolean
gmulti_engine_begin_turn (GMultiEngine *self)
{
  if (self->busy)
    return FALSE;
  self->busy = TRUE;
  gmulti_engine_ref (self);
  self->now = g_get_monotonic_time ();
  return TRUE;
}

/* The engine's next deadline: 0 when transfers are ready now, -1 for none. */
static inline gint64
gmulti_engine_current_deadline (GMultiEngine *self)
{
  GMultiTimerNode *next;

  if (self->ready.length > 0 || self->yielded.length > 0)
    return 0;
  next = gmulti_timer_heap_peek (&self->timers);
  return next != NULL ? MAX (next->deadline, 1) : -1;
}

/* A turn of the timer: what yielded waits no longer. */
static inline void
gmulti_engine_release_yielded (GMultiEngine *self)
{
  GList *link;

  while ((link = g_queue_pop_head_link (&self->yielded)) != NULL)
    {
      GMultiRun *run = link->data;

      run->in_yielded = FALSE;
      g_queue_push_tail_link (&self->ready, link);
    }
}

/* Acts on @events of a socket the engine watches (the resolver's or a connection's). */
static inline void
gmulti_engine_handle_socket (GMultiEngine *self,
                             GMultiSocket *sock,
                             GMultiEvent   events)
{
  if (sock->kind == GMULTI_SOCKET_RESOLVER)
    {
      gmulti_resolver_dispatch (self->resolver);
      gmulti_engine_update_resolver_interest (self);
      return;
    }
  gmulti_pool_connection_event (self, sock->owner, sock, events);
}
G_END_DECLS
