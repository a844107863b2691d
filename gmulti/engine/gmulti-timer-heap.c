/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-timer-heap.h"

#define INITIAL_SIZE 16

/* Positions are 0-based here; node->index stores position + 1 so that a zeroed node
 * reads as "not armed" without any initialisation by its owner. */

static inline void
place (GMultiTimerHeap *self,
       guint            pos,
       GMultiTimerNode *node)
{
  self->nodes[pos] = node;
  node->index = pos + 1;
}

static void
sift_up (GMultiTimerHeap *self,
         guint            pos)
{
  GMultiTimerNode *node = self->nodes[pos];

  while (pos > 0)
    {
      guint parent = (pos - 1) / 2;

      if (self->nodes[parent]->deadline <= node->deadline)
        break;
      place (self, pos, self->nodes[parent]);
      pos = parent;
    }
  place (self, pos, node);
}

static void
sift_down (GMultiTimerHeap *self,
           guint            pos)
{
  GMultiTimerNode *node = self->nodes[pos];

  for (;;)
    {
      guint child = 2 * pos + 1;

      if (child >= self->length)
        break;
      if (child + 1 < self->length &&
          self->nodes[child + 1]->deadline < self->nodes[child]->deadline)
        child++;
      if (node->deadline <= self->nodes[child]->deadline)
        break;
      place (self, pos, self->nodes[child]);
      pos = child;
    }
  place (self, pos, node);
}

/* Restores the heap order around @pos after its deadline changed either way. */
static void
fix (GMultiTimerHeap *self,
     guint            pos)
{
  if (pos > 0 && self->nodes[pos]->deadline < self->nodes[(pos - 1) / 2]->deadline)
    sift_up (self, pos);
  else
    sift_down (self, pos);
}

void
gmulti_timer_heap_init (GMultiTimerHeap *self)
{
  self->nodes = NULL;
  self->length = 0;
  self->allocated = 0;
}

void
gmulti_timer_heap_clear (GMultiTimerHeap *self)
{
  /* Owners may outlive the heap; leave none of them believing it is still armed. */
  for (guint i = 0; i < self->length; i++)
    self->nodes[i]->index = 0;
  g_clear_pointer (&self->nodes, g_free);
  self->length = 0;
  self->allocated = 0;
}

void
gmulti_timer_heap_set (GMultiTimerHeap *self,
                       GMultiTimerNode *node,
                       gint64           deadline)
{
  g_return_if_fail (node->index <= self->length);

  node->deadline = deadline;

  if (node->index != 0)
    {
      g_return_if_fail (self->nodes[node->index - 1] == node);
      fix (self, node->index - 1);
      return;
    }

  if (self->length == self->allocated)
    {
      self->allocated = self->allocated == 0 ? INITIAL_SIZE : self->allocated * 2;
      self->nodes = g_renew (GMultiTimerNode *, self->nodes, self->allocated);
    }

  self->nodes[self->length] = node;
  self->length++;
  sift_up (self, self->length - 1);
}

void
gmulti_timer_heap_remove (GMultiTimerHeap *self,
                          GMultiTimerNode *node)
{
  guint pos;
  GMultiTimerNode *last;

  if (node->index == 0)
    return;

  g_return_if_fail (node->index <= self->length &&
                    self->nodes[node->index - 1] == node);

  pos = node->index - 1;
  node->index = 0;
  self->length--;
  last = self->nodes[self->length];
  self->nodes[self->length] = NULL;

  if (last == node)
    return;

  /* The last node fills the hole; it may belong above or below it. */
  place (self, pos, last);
  fix (self, pos);
}

GMultiTimerNode *
gmulti_timer_heap_peek (GMultiTimerHeap *self)
{
  return self->length > 0 ? self->nodes[0] : NULL;
}

GMultiTimerNode *
gmulti_timer_heap_pop_expired (GMultiTimerHeap *self,
                               gint64           now)
{
  GMultiTimerNode *node = gmulti_timer_heap_peek (self);

  if (node == NULL || node->deadline > now)
    return NULL;

  gmulti_timer_heap_remove (self, node);
  return node;
}
