/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* GMultiSession:hsts-enforcer: the enforcer travels to the engine in the session's
 * defaults, as its hop hook (engine/gmulti-hop-hook.h); each run takes the one in
 * effect when it starts. */

#include "gmulti-session.h"
#include "gmulti-session-object-private.h"
#include "gmulti-engine-private.h"
#include "hsts/gmulti-hsts-private.h"

void
gmulti_session_install_hsts_properties (GParamSpec **pspecs)
{
  /**
   * GMultiSession:hsts-enforcer: (getter get_hsts_enforcer) (setter set_hsts_enforcer)
   *
   * The known HSTS hosts of the session's transfers: each verified https response's
   * `Strict-Transport-Security` field is stored in it, and every `http://` URI of a
   * known host (the first hop and each redirect) is turned into `https://` before
   * anything is sent. %NULL, the default, does neither. A transfer's own
   * [property@Transfer:hsts-enforcer] wins. A change applies to the transfers that
   * start after it.
   *
   * Since: 0.1
   */
  pspecs[PROP_HSTS_ENFORCER] =
    g_param_spec_object ("hsts-enforcer", NULL, NULL, GMULTI_TYPE_HSTS_ENFORCER,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

/**
 * gmulti_session_get_hsts_enforcer: (get-property hsts-enforcer)
 * @self: a session
 *
 * Gets the HSTS enforcer of the session's transfers.
 *
 * Returns: (transfer none) (nullable): the enforcer, or %NULL for none
 *
 * Since: 0.1
 */
GMultiHstsEnforcer *
gmulti_session_get_hsts_enforcer (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);

  return gmulti_hsts_enforcer_from_hook (self->defaults->hsts);
}

/**
 * gmulti_session_set_hsts_enforcer: (set-property hsts-enforcer)
 * @self: a session
 * @enforcer: (nullable): an HSTS enforcer, or %NULL for none
 *
 * Sets the HSTS enforcer of the transfers that start from now on (see
 * [property@Session:hsts-enforcer]).
 *
 * Since: 0.1
 */
void
gmulti_session_set_hsts_enforcer (GMultiSession      *self,
                                  GMultiHstsEnforcer *enforcer)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (enforcer == NULL || GMULTI_IS_HSTS_ENFORCER (enforcer));

  if (gmulti_session_get_hsts_enforcer (self) == enforcer)
    return;

  edit = gmulti_session_edit_defaults (self);
  if (edit->hsts != NULL)
    gmulti_hop_hook_unref (edit->hsts);
  edit->hsts = enforcer != NULL
               ? gmulti_hop_hook_ref (gmulti_hsts_enforcer_get_hook (enforcer)) : NULL;
  gmulti_session_commit_defaults (self, edit);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_HSTS_ENFORCER]);
}
