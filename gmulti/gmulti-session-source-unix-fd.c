/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib-unix.h>

#include "gmulti-session-source-backend-private.h"

/* Every socket handed to GLib with g_source_add_unix_fd(), in the one session source:
 * GLib polls them itself, so this works wherever GLib does, at a cost that grows with
 * the number of sockets on every loop turn (GLib passes them all to poll(), and
 * dispatch asks each for its result). */

typedef struct
{
  int fd;
  GIOCondition events;           /* what the engine asked for */
  gpointer tag;                  /* NULL while the source is blocked */
  guint index;                   /* in UnixFdData.watches */
} Watch;

typedef struct
{
  GPtrArray *watches;            /* Watch, in no particular order */
} UnixFdData;

static gboolean
unix_fd_init (GMultiSessionSource *self,
              GError             **error)
{
  UnixFdData *data = g_new0 (UnixFdData, 1);

  data->watches = g_ptr_array_new ();
  self->backend_data = data;
  return TRUE;
}

static GIOCondition
condition_for (GMultiPoll what)
{
  return ((what & GMULTI_POLL_IN) ? G_IO_IN : 0) | ((what & GMULTI_POLL_OUT) ? G_IO_OUT : 0);
}

static void
forget_watch (UnixFdData *data,
              Watch      *watch)
{
  Watch *last = g_ptr_array_index (data->watches, data->watches->len - 1);

  /* The last one takes its place: O(1), and the order does not matter. */
  data->watches->pdata[watch->index] = last;
  last->index = watch->index;
  g_ptr_array_set_size (data->watches, data->watches->len - 1);
  g_free (watch);
}

static gboolean
unix_fd_watch (GMultiSessionSource *self,
               int                  fd,
               GMultiPoll           what,
               gpointer             socket_data)
{
  UnixFdData *data = self->backend_data;
  GSource *source = (GSource *) self;
  Watch *watch = socket_data;
  GIOCondition events;

  if (what == GMULTI_POLL_REMOVE)
    {
      if (watch == NULL)
        return TRUE;

      /* Before the engine closes it: GLib must not poll a closed or reused number. */
      if (watch->tag != NULL)
        g_source_remove_unix_fd (source, watch->tag);
      forget_watch (data, watch);
      self->n_watched--;
      /* A socket that stays open (an unwatched idle connection) is added again later. */
      gmulti_engine_assign (self->engine, fd, NULL);
      return TRUE;
    }

  events = condition_for (what);

  if (watch == NULL)
    {
      watch = g_new0 (Watch, 1);
      watch->fd = fd;
      watch->events = events;
      if (!self->blocked)
        watch->tag = g_source_add_unix_fd (source, fd, events);
      watch->index = data->watches->len;
      g_ptr_array_add (data->watches, watch);
      self->n_watched++;
      gmulti_engine_assign (self->engine, fd, watch);
      return TRUE;
    }

  /* Each change wakes the context (GLib writes to its eventfd): only real ones. */
  if (watch->events != events)
    {
      watch->events = events;
      if (watch->tag != NULL)
        g_source_modify_unix_fd (source, watch->tag, events);
    }

  return TRUE;
}

static guint
unix_fd_max_ready (GMultiSessionSource *self)
{
  return self->n_watched;
}

/* As the epoll backend maps its events: a hang-up is readable (the read sees the end),
 * an invalid descriptor is an error. */
static GMultiEvent
map_condition (GIOCondition condition)
{
  GMultiEvent mapped = GMULTI_EVENT_NONE;

  if (condition & (G_IO_IN | G_IO_PRI | G_IO_HUP))
    mapped |= GMULTI_EVENT_IN;
  if (condition & G_IO_OUT)
    mapped |= GMULTI_EVENT_OUT;
  if (condition & (G_IO_ERR | G_IO_NVAL))
    mapped |= GMULTI_EVENT_ERR;

  return mapped;
}

static guint
unix_fd_collect (GMultiSessionSource *self,
                 GMultiReadySocket   *sockets,
                 guint                max)
{
  UnixFdData *data = self->backend_data;
  GSource *source = (GSource *) self;
  guint n = 0;

  /* A snapshot: the actions run afterwards, from the batch, and may change the set. */
  for (guint i = 0; i < data->watches->len && n < max; i++)
    {
      Watch *watch = g_ptr_array_index (data->watches, i);
      GIOCondition revents;

      if (watch->tag == NULL)
        continue;
      revents = g_source_query_unix_fd (source, watch->tag);
      if (revents == 0)
        continue;
      sockets[n].fd = watch->fd;
      sockets[n].events = map_condition (revents);
      n++;
    }

  return n;
}

/* GLib polls a descriptor even with no events asked, and poll() reports a hang-up
 * regardless: only taking the descriptors out keeps a blocked source quiet. */
static void
unix_fd_block (GMultiSessionSource *self)
{
  UnixFdData *data = self->backend_data;

  for (guint i = 0; i < data->watches->len; i++)
    {
      Watch *watch = g_ptr_array_index (data->watches, i);

      if (watch->tag != NULL)
        g_source_remove_unix_fd ((GSource *) self, watch->tag);
      watch->tag = NULL;
    }
}

static void
unix_fd_unblock (GMultiSessionSource *self)
{
  UnixFdData *data = self->backend_data;

  for (guint i = 0; i < data->watches->len; i++)
    {
      Watch *watch = g_ptr_array_index (data->watches, i);

      if (watch->tag == NULL)
        watch->tag = g_source_add_unix_fd ((GSource *) self, watch->fd, watch->events);
    }
}

static void
unix_fd_finalize (GMultiSessionSource *self)
{
  UnixFdData *data = self->backend_data;

  if (data == NULL)
    return;
  /* GLib frees the tags with the source. */
  g_ptr_array_set_free_func (data->watches, g_free);
  g_ptr_array_unref (data->watches);
  g_free (data);
}

const GMultiSessionSourceBackend gmulti_session_source_unix_fd = {
  GMULTI_MAIN_LOOP_SOURCE_UNIX_FD,
  unix_fd_init,
  unix_fd_watch,
  unix_fd_max_ready,
  unix_fd_collect,
  unix_fd_block,
  unix_fd_unblock,
  unix_fd_finalize,
};
