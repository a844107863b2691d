/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-transfer-object-private.h"
#include "hsts/gmulti-hsts-private.h"

/* The transfer's own HSTS enforcer. */

void
gmulti_transfer_install_hsts_properties (GParamSpec **pspecs)
{
  /**
   * GMultiTransfer:hsts-enforcer: (getter get_hsts_enforcer) (setter set_hsts_enforcer)
   *
   * The HSTS enforcer of this transfer, instead of its session's
   * [property@Session:hsts-enforcer]; %NULL, the default, uses the session's (and none
   * without a session). It is read when the transfer starts.
   *
   * Since: 0.1
   */
  pspecs[PROP_HSTS_ENFORCER] =
    g_param_spec_object ("hsts-enforcer", NULL, NULL, GMULTI_TYPE_HSTS_ENFORCER,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

GMultiHopHook *
gmulti_transfer_hsts_hook (GMultiTransfer *self)
{
  return gmulti_hsts_enforcer_get_hook (self->hsts_enforcer);
}

/**
 * gmulti_transfer_get_hsts_enforcer: (get-property hsts-enforcer)
 * @self: a transfer
 *
 * Gets the transfer's own HSTS enforcer.
 *
 * Returns: (transfer none) (nullable): the transfer's own enforcer, or %NULL
 *
 * Since: 0.1
 */
GMultiHstsEnforcer *
gmulti_transfer_get_hsts_enforcer (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);
  return self->hsts_enforcer;
}

/**
 * gmulti_transfer_set_hsts_enforcer: (set-property hsts-enforcer)
 * @self: a transfer
 * @enforcer: (nullable): an enforcer, or %NULL for the session's
 *
 * Gives the transfer an HSTS enforcer of its own (see
 * [property@Transfer:hsts-enforcer]). A run under way keeps the one it started with.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_hsts_enforcer (GMultiTransfer     *self,
                                   GMultiHstsEnforcer *enforcer)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  g_return_if_fail (enforcer == NULL || GMULTI_IS_HSTS_ENFORCER (enforcer));

  if (g_set_object (&self->hsts_enforcer, enforcer))
    g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_HSTS_ENFORCER]);
}
