/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-cancel-source-private.h"

typedef struct
{
  GSource parent;

  GCancellable *cancellable;
  gulong handler;
} GMultiCancelSource;

/* On the cancelling thread. The handler is disconnected before the source can go, so
 * the source is alive here; setting the ready time is safe from any thread. */
static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  g_source_set_ready_time (user_data, 0);
}

static gboolean
cancel_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  GMultiCancelSource *self = (GMultiCancelSource *) source;

  g_source_set_ready_time (source, -1);
  if (callback == NULL)
    return G_SOURCE_REMOVE;
  return ((GCancellableSourceFunc) (void (*) (void)) callback) (self->cancellable, user_data);
}

static void
cancel_source_finalize (GSource *source)
{
  GMultiCancelSource *self = (GMultiCancelSource *) source;

  /* Dropped without gmulti_cancel_source_free(): never leave the handler pointing at a
   * freed source. */
  if (self->handler != 0)
    g_cancellable_disconnect (self->cancellable, self->handler);
  g_clear_object (&self->cancellable);
}

static GSourceFuncs cancel_source_funcs = {
  NULL, /* prepare: the ready time says it all */
  NULL,
  cancel_source_dispatch,
  cancel_source_finalize,
  NULL,
  NULL,
};

GSource *
gmulti_cancel_source_new (GCancellable *cancellable)
{
  GSource *source = g_source_new (&cancel_source_funcs, sizeof (GMultiCancelSource));
  GMultiCancelSource *self = (GMultiCancelSource *) source;

  g_source_set_static_name (source, "GMultiCancelSource");
  self->cancellable = g_object_ref (cancellable);
  /* Already cancelled: the handler runs at once and the source is ready. */
  self->handler = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), source, NULL);
  return source;
}

void
gmulti_cancel_source_free (GSource *source)
{
  GMultiCancelSource *self = (GMultiCancelSource *) source;

  /* Waits for a handler running on another thread to return. */
  g_cancellable_disconnect (self->cancellable, self->handler);
  self->handler = 0;
  g_source_destroy (source);
  g_source_unref (source);
}
