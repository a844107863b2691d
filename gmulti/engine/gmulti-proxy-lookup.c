/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-engine-private.h"
#include "gmulti-proxy-lookup.h"

/* The engine's half of the proxy lookup hook: a run that asks and waits, and the
 * owner's answer, which the run takes when it is stepped again
 * (gmulti-engine-transfer.c). */

GMultiProxyLookupAnswer
gmulti_proxy_lookup_ask (GMultiProxyLookup *hook,
                         GMultiRun         *run,
                         GMultiProxy      **proxy,
                         GError           **error)
{
  GMultiProxyLookupAnswer answer;

  /* Marked first: the owner may answer before lookup() returns. */
  run->proxy_asked = TRUE;
  run->proxy_answered = FALSE;
  answer = hook->ops->lookup (hook, run, proxy, error);
  if (answer != GMULTI_PROXY_LOOKUP_PENDING)
    run->proxy_asked = FALSE;
  return answer;
}

void
gmulti_engine_proxy_lookup_done (GMultiRun   *run,
                                 GMultiProxy *proxy,
                                 GError      *error)
{
  if (run->engine == NULL || !run->proxy_asked || run->proxy_answered)
    {
      g_clear_error (&error);
      return;
    }
  run->proxy_answered = TRUE;
  run->proxy_answer = proxy != NULL ? gmulti_proxy_ref (proxy) : NULL;
  run->proxy_answer_error = error;
  /* The run goes on when it is stepped, where no other work is on the stack. */
  gmulti_engine_run_resumed (run);
}

gboolean
gmulti_proxy_lookup_take_answer (GMultiRun    *run,
                                 GMultiProxy **proxy,
                                 GError      **error)
{
  if (!run->proxy_answered)
    return FALSE;
  *proxy = g_steal_pointer (&run->proxy_answer);
  if (run->proxy_answer_error != NULL)
    g_propagate_error (error, g_steal_pointer (&run->proxy_answer_error));
  run->proxy_asked = FALSE;
  run->proxy_answered = FALSE;
  return TRUE;
}

void
gmulti_proxy_lookup_forget (GMultiRun *run)
{
  GMultiProxyLookup *hook = run->defaults != NULL ? run->defaults->proxy_lookup : NULL;

  if (!run->proxy_asked)
    return;
  /* Still waiting: the owner must not answer for it any more. */
  if (!run->proxy_answered && hook != NULL)
    hook->ops->cancel (hook, run);
  run->proxy_asked = FALSE;
  run->proxy_answered = FALSE;
  g_clear_pointer (&run->proxy_answer, gmulti_proxy_unref);
  g_clear_error (&run->proxy_answer_error);
}

gboolean
gmulti_proxy_lookup_fail_over (GMultiEngine *engine,
                               GMultiRun    *run)
{
  GMultiProxyLookup *hook = run->defaults != NULL ? run->defaults->proxy_lookup : NULL;
  GMultiProxy *next = NULL;

  /* A proxy the application named, or the variables chose, has no later entry. */
  if (!run->proxy_looked_up || hook == NULL || hook->ops->next == NULL ||
      run->proxy_tries == GMULTI_PROXY_MAX_TRIES)
    return FALSE;
  if (!hook->ops->next (hook, run, run->proxy, run->proxy_tries + 1, &next))
    return FALSE;
  run->proxy_tries++;
  /* The connection that failed carries nothing: detaching closes it. */
  gmulti_engine_detach_transfer (engine, run);
  /* Taken as a lookup's answer when the run is stepped, where no connection event is
   * on the stack; the next connection gets a connect timeout of its own. */
  run->proxy_asked = TRUE;
  run->proxy_answered = TRUE;
  run->proxy_answer = next != NULL ? gmulti_proxy_ref (next) : NULL;
  run->connect_deadline = 0;
  gmulti_engine_set_phase (engine, run, GMULTI_RUN_PROXY_LOOKUP);
  gmulti_engine_schedule (engine, run);
  return TRUE;
}
