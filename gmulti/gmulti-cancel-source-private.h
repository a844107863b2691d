/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A source that dispatches once @cancellable is cancelled, from any thread, in the
 * context it is attached to: what g_cancellable_source_new() makes, with the same
 * callback (a GCancellableSourceFunc). It is let go with
 * gmulti_cancel_source_free() only, which stops listening to the cancellable before
 * the source goes. GLib 2.74's own source leaks itself when another thread cancels
 * while its context dispatches it. */
GSource *gmulti_cancel_source_new  (GCancellable *cancellable);
void     gmulti_cancel_source_free (GSource      *source);

G_END_DECLS
