/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded waiting on the thread-default main context, for tests that drive a
 * GMainContext. Plain GLib, like the rest of the support library. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A GSourceFunc that sets the gboolean at @data and removes itself. */
gboolean test_set_flag_cb (gpointer data);
/* A GSourceFunc that does nothing and stays: it only wakes the loop. */
gboolean test_tick_cb (gpointer data);

/* Runs everything already due on the thread-default context, so that a test starts
 * (or ends) from a quiet loop. */
void test_drain_context (void);

/* Iterates the thread-default context until @cond holds; fails the test after @ms.
 * A ticker wakes the loop now and then, for conditions another thread changes. */
#define RUN_UNTIL(cond, ms) \
  G_STMT_START { \
    GMainContext *ctx_ = g_main_context_get_thread_default (); \
    gboolean timed_out_ = FALSE; \
    GSource *timeout_ = g_timeout_source_new (ms); \
    GSource *tick_ = g_timeout_source_new (20); \
    g_source_set_callback (timeout_, test_set_flag_cb, &timed_out_, NULL); \
    g_source_set_callback (tick_, test_tick_cb, NULL, NULL); \
    g_source_attach (timeout_, ctx_); \
    g_source_attach (tick_, ctx_); \
    while (!(cond) && !timed_out_) \
      g_main_context_iteration (ctx_, TRUE); \
    g_source_destroy (timeout_); \
    g_source_unref (timeout_); \
    g_source_destroy (tick_); \
    g_source_unref (tick_); \
    if (!(cond)) \
      g_error ("Timed out after %u ms waiting for: %s", (guint) (ms), #cond); \
  } G_STMT_END

G_END_DECLS
