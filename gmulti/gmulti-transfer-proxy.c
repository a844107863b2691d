/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-transfer-object-private.h"

/* The transfer's own GProxyResolver. The session asks it (gmulti-session-proxy.c);
 * the run keeps the one it started with, so that a change reaches only the next run. */

void
gmulti_transfer_install_proxy_properties (GParamSpec **pspecs)
{
  /**
   * GMultiTransfer:proxy-resolver: (getter get_proxy_resolver) (setter set_proxy_resolver)
   *
   * The proxy resolver asked which proxy this transfer goes through, instead of its
   * session's [property@Session:proxy-resolver] or GLib's default one. Only
   * [property@Transfer:proxy-uri] wins over it: it is asked even when the session
   * has a [property@Session:proxy-uri]. %NULL, the default, leaves the choice to the
   * session (see [property@Session:proxy-resolver] for the order).
   *
   * In a session it is asked once for each origin (scheme, host and port) the
   * transfer's hops go to, asynchronously on the session's main context; see
   * [property@Session:proxy-resolver] for what its answers mean.
   * [method@Transfer.perform] asks it too, for each hop, blocking as the whole call
   * does (its cancellable does not interrupt the lookup), and tries its later entries
   * as a session does when one cannot be reached, starting each call from the first.
   * It is read when the transfer starts.
   *
   * Since: 0.1
   */
  pspecs[PROP_PROXY_RESOLVER] =
    g_param_spec_object ("proxy-resolver", NULL, NULL, G_TYPE_PROXY_RESOLVER,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

gboolean
gmulti_transfer_proxy_resolver_for_run (GMultiTransfer *self)
{
  g_set_object (&self->run_proxy_resolver, self->proxy_resolver);
  return self->run_proxy_resolver != NULL;
}

/**
 * gmulti_transfer_get_proxy_resolver: (get-property proxy-resolver)
 * @self: a transfer
 *
 * Gets the transfer's own proxy resolver.
 *
 * Returns: (transfer none) (nullable): the resolver, or %NULL when the session decides
 *
 * Since: 0.1
 */
GProxyResolver *
gmulti_transfer_get_proxy_resolver (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->proxy_resolver;
}

/**
 * gmulti_transfer_set_proxy_resolver: (set-property proxy-resolver)
 * @self: a transfer
 * @resolver: (nullable): a proxy resolver, or %NULL for the session's choice
 *
 * Gives the transfer a proxy resolver of its own (see
 * [property@Transfer:proxy-resolver]). A run under way keeps the one it started with.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_proxy_resolver (GMultiTransfer *self,
                                    GProxyResolver *resolver)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  g_return_if_fail (resolver == NULL || G_IS_PROXY_RESOLVER (resolver));

  if (g_set_object (&self->proxy_resolver, resolver))
    g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_PROXY_RESOLVER]);
}
