/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "engine/gmulti-engine-private.h"
#include "gmulti-transfer-private.h"
#include "gmulti-proxy-answer-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* The blocking, one-transfer case: a private engine driven by perform + poll. */

static void
cancelled_cb (GCancellable *cancellable,
              GMultiEngine *engine)
{
  gmulti_engine_wakeup (engine);
}

/**
 * gmulti_transfer_perform:
 * @self: a transfer not added to an engine
 * @cancellable: (nullable): a cancellable to stop the transfer from another thread
 * @error: return location for an error
 *
 * Runs the transfer to completion on the calling thread, blocking until it is done,
 * with a private engine and connection pool. Meant for command-line tools and worker
 * threads; never call it from a main loop's thread.
 *
 * Requests that set no `User-Agent` send the same default as a [class@Session]
 * (see [property@Session:user-agent]).
 *
 * Returns: %TRUE if the transfer succeeded; %FALSE with @error set otherwise
 *   (%G_IO_ERROR_CANCELLED if @cancellable was cancelled)
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_perform (GMultiTransfer *self,
                         GCancellable   *cancellable,
                         GError        **error)
{
  g_autoptr(GMultiEngine) engine = NULL;
  g_autoptr(GMultiDefaults) defaults = NULL;
  GMultiEngineResult result;
  gulong handler = 0;
  guint running = 1;
  gboolean ok;

  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->run.engine != NULL)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_BUSY,
                           _("The transfer is already added to an engine"));
      return FALSE;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      /* The previous run's result must not read as this one's. */
      gmulti_transfer_cancelled (self, TRUE);
      g_cancellable_set_error_if_cancelled (cancellable, error);
      return FALSE;
    }

  engine = gmulti_engine_new ();
  defaults = gmulti_defaults_dup_standard ();
  /* The transfer's own proxy resolver is asked, blocking as the whole call does. */
  if (self->proxy_resolver != NULL)
    {
      GMultiDefaults *standard = g_steal_pointer (&defaults);

      defaults = gmulti_defaults_copy (standard);
      gmulti_defaults_unref (standard);
      defaults->proxy_lookup = gmulti_proxy_answer_blocking_hook_new ();
    }
  gmulti_engine_set_defaults (engine, defaults);
  result = gmulti_engine_add (engine, self);
  if (result != GMULTI_ENGINE_OK)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_FAILED, "%s",
                   gmulti_engine_result_to_string (result));
      return FALSE;
    }
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), engine, NULL);

  while (running > 0 && !g_cancellable_is_cancelled (cancellable))
    {
      gmulti_engine_perform (engine, &running);
      if (running > 0)
        gmulti_engine_poll (engine, 1000, NULL);
    }

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  if (running > 0)
    {
      gmulti_engine_remove (engine, self);
      g_cancellable_set_error_if_cancelled (cancellable, error);
      return FALSE;
    }

  ok = self->run.error == NULL;
  if (!ok)
    g_propagate_error (error, g_error_copy (self->run.error));
  gmulti_engine_remove (engine, self);
  gmulti_transfer_emit_finished (self);
  return ok;
}
