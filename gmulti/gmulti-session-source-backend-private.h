/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between the session's GSource (gmulti-session-source.c) and the backends that watch
 * its sockets (gmulti-session-source-epoll.c, gmulti-session-source-unix-fd.c). The
 * common part owns the timer, blocking, nested dispatch and the batch of ready sockets;
 * a backend only keeps the set of watched sockets and says which of them are ready. */

#include <glib.h>

#include "gmulti-engine.h"
#include "gmulti-enums.h"
#include "gmulti-session-source-private.h"

G_BEGIN_DECLS

typedef struct _GMultiSessionSource GMultiSessionSource;

/* One ready socket, as the engine's socket action wants it. */
typedef struct
{
  int fd;
  GMultiEvent events;
} GMultiReadySocket;

/* The ready sockets taken in one dispatch and not yet handled. Dispatches can nest (a
 * callback may iterate the context), so the batches form a chain. */
typedef struct _GMultiReadyBatch GMultiReadyBatch;
struct _GMultiReadyBatch
{
  GMultiReadySocket *sockets;
  guint n_sockets;
  guint next;
  GMultiReadyBatch *outer;
};

typedef struct
{
  GMultiMainLoopSource kind;

  /* Sets up the backend's state in self->backend_data; FALSE with @error set if it
   * cannot (no descriptor left). */
  gboolean (*init)      (GMultiSessionSource *self,
                         GError             **error);
  /* The engine's socket function: @what is IN, OUT, INOUT or REMOVE. Returns FALSE
   * (after a g_warning) if the socket cannot be watched: the engine then stops. */
  gboolean (*watch)     (GMultiSessionSource *self,
                         int                  fd,
                         GMultiPoll           what,
                         gpointer             socket_data);
  /* The most sockets one collect() may report. */
  guint    (*max_ready) (GMultiSessionSource *self);
  /* Writes the ready sockets into @sockets (room for @max) and returns how many. */
  guint    (*collect)   (GMultiSessionSource *self,
                         GMultiReadySocket   *sockets,
                         guint                max);
  /* Stop and restart polling the sockets, the set itself kept. */
  void     (*block)     (GMultiSessionSource *self);
  void     (*unblock)   (GMultiSessionSource *self);
  void     (*finalize)  (GMultiSessionSource *self);
} GMultiSessionSourceBackend;

struct _GMultiSessionSource
{
  GSource parent;

  const GMultiSessionSourceBackend *backend;
  gpointer backend_data;

  GMultiEngine *engine;          /* not a reference: the engine outlives its callbacks */
  GMultiSessionActionFunc action;
  gpointer action_data;

  guint n_watched;               /* kept by the backend */
  guint64 n_dispatch;
  GMultiReadyBatch *batch;       /* innermost batch being handled, NULL outside dispatch */
  GMultiReadySocket *spare;      /* a large batch buffer kept for the next dispatch */
  guint n_spare;

  /* While blocked the sockets are not polled and the timer is held here. */
  gboolean blocked;
  gint64 held_ready_time;

  /* Inside dispatch the timer is only recorded and set once at the end: every
   * g_source_set_ready_time() on a source that may recurse wakes the context (an
   * eventfd write), and one dispatch may move the timer many times. */
  guint dispatch_depth;
  gboolean ready_time_pending;
  gint64 pending_ready_time;
};

#ifdef GMULTI_HAVE_EPOLL
extern const GMultiSessionSourceBackend gmulti_session_source_epoll;
#endif
extern const GMultiSessionSourceBackend gmulti_session_source_unix_fd;

G_END_DECLS
