/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A binary min-heap of deadlines. Nodes are embedded in their owners (transfers,
 * connections), so arming and disarming never allocate; the heap only holds pointers.
 * Peeking at the next deadline is O(1), changing one is O(log n). */
typedef struct _GMultiTimerNode GMultiTimerNode;
typedef struct _GMultiTimerHeap GMultiTimerHeap;

struct _GMultiTimerNode {
  gint64 deadline;  /* monotonic microseconds */
  guint index;      /* position in the heap + 1; 0 when not armed */
};

struct _GMultiTimerHeap {
  GMultiTimerNode **nodes;
  guint length;
  guint allocated;
};

void             gmulti_timer_heap_init   (GMultiTimerHeap *self);
void             gmulti_timer_heap_clear  (GMultiTimerHeap *self);
/* Arms @node at @deadline, or moves it there if it is armed already. */
void             gmulti_timer_heap_set    (GMultiTimerHeap *self,
                                           GMultiTimerNode *node,
                                           gint64           deadline);
/* Disarms @node; harmless when it is not armed. */
void             gmulti_timer_heap_remove (GMultiTimerHeap *self,
                                           GMultiTimerNode *node);
/* The node with the earliest deadline, or NULL. */
GMultiTimerNode *gmulti_timer_heap_peek   (GMultiTimerHeap *self);
/* Removes and returns the earliest node if its deadline is <= @now, else NULL. */
GMultiTimerNode *gmulti_timer_heap_pop_expired (GMultiTimerHeap *self,
                                                gint64           now);

static inline gboolean
gmulti_timer_node_is_armed (const GMultiTimerNode *node)
{
  return node->index != 0;
}

G_END_DECLS
