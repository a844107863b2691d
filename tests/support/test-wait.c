/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-wait.h"

gboolean
test_set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
test_tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
test_drain_context (void)
{
  guint n = 0;

  /* A source that is always due would spin here for ever. */
  while (g_main_context_iteration (g_main_context_get_thread_default (), FALSE))
    g_assert_cmpuint (++n, <, 100000);
}
