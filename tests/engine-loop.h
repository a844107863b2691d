/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti.h"

G_BEGIN_DECLS

/* How the loop calls the engine. */
typedef enum {
  ENGINE_LOOP_EVENTS,       /* socket_action with the events poll() saw; TIMEOUT for the timer */
  ENGINE_LOOP_CHECK_FD,     /* socket_action with the fd alone: the engine checks it */
  ENGINE_LOOP_SOCKET_ALL,   /* one socket_all whenever anything is due, never TIMEOUT */
} EngineLoopDrive;

/* A minimal event loop of the kind an application writes around the raw engine: poll()
 * over the sockets the engine announced, a timer as the engine asked, socket_action on
 * each event. It also checks the engine keeps the socket-callback contract: changes
 * only, REMOVE only for announced sockets and before they are closed; and the timer
 * contract: no -1 after -1, no 0 after 0 unless the timer fired in between. */
typedef struct {
  GMultiEngine *engine;
  GHashTable *watched;          /* fd -> GMultiPoll */
  gint64 timer_deadline;        /* monotonic us; -1: no timer */
  guint n_socket_calls;
  guint n_timer_calls;
  GArray *timer_values;         /* every timeout_ms the timer function got */
  gboolean timer_fired;         /* TIMEOUT was acted on since the last timer call */
  EngineLoopDrive drive;
  guint n_contract_violations;
  gboolean fail_socket_func;    /* make the socket function report failure */
  gboolean fail_timer_func;
  GPtrArray *messages;          /* transfers whose message was read, in order */
  guint running;
  GMultiEngineResult last_result;
  /* Called from inside the socket function, to test what the engine refuses there. */
  void (*in_socket_func) (gpointer data);
  gpointer in_socket_func_data;
} EngineLoop;

EngineLoop *engine_loop_new      (void);
void        engine_loop_free     (EngineLoop *loop);
/* One iteration: waits at most @max_wait_ms for a socket or the timer. */
void        engine_loop_iterate  (EngineLoop *loop,
                                  int         max_wait_ms);
/* Iterates until every added transfer completed, or @timeout_ms passed. */
gboolean    engine_loop_run      (EngineLoop *loop,
                                  guint       timeout_ms);
/* Iterates until @transfer's message was read, or @timeout_ms passed. */
gboolean    engine_loop_run_until_done (EngineLoop     *loop,
                                        GMultiTransfer *transfer,
                                        guint           timeout_ms);
void        engine_loop_drain    (EngineLoop *loop);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EngineLoop, engine_loop_free)

G_END_DECLS
