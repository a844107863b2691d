/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti.h"

G_BEGIN_DECLS

/* The application side of an exchange fuzz target, as a program drives the engine
 * without a main loop: the sockets and the deadline the engine announces, and one
 * round of poll() (never waiting) turned into socket actions. Any broken promise of
 * the engine's (an unknown socket removed, a failing action) aborts, so the fuzzer
 * sees it. */
typedef struct {
  GMultiEngine *engine;
  GHashTable *watched;          /* fd -> GMultiPoll */
  gint64 timer_deadline;        /* monotonic us; -1 none */
  /* After every socket action, with @data: the target reads the completion messages. */
  void (*after_action) (gpointer data);
  gpointer data;
} EngineDriver;

/* Sets @engine's socket and timer functions to record into @self. */
void     engine_driver_init   (EngineDriver *self,
                               GMultiEngine *engine,
                               void        (*after_action) (gpointer data),
                               gpointer      data);
/* Call after the engine was freed: every socket it announced must be removed. */
void     engine_driver_clear  (EngineDriver *self);
void     engine_driver_action (EngineDriver *self,
                               int           fd,
                               GMultiEvent   events);
/* One round: every ready socket acted on, then the timer if it is due. TRUE if
 * anything was acted on. */
gboolean engine_driver_step   (EngineDriver *self);

G_END_DECLS
