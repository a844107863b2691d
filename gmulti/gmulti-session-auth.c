/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-session-object-private.h"
#include "auth/gmulti-auth-private.h"
#include "gmulti-session-auth-private.h"

/* A session's authenticator: one per session, with the credentials its transfers
 * logged in with (the cache), in the defaults every run takes. */

GMultiDefaults *
gmulti_session_new_defaults (void)
{
  g_autoptr(GMultiDefaults) standard = gmulti_defaults_dup_standard ();
  g_autoptr(GMultiAuthManager) manager = gmulti_auth_manager_new ();
  GMultiDefaults *defaults = gmulti_defaults_copy (standard);

  defaults->auth = gmulti_hop_hook_ref (gmulti_auth_manager_get_hook (manager));
  return defaults;
}

static guint session_authenticate_signal;

void
gmulti_session_install_auth_signal (GObjectClass *klass)
{
  /**
   * GMultiSession::authenticate:
   * @self: the session
   * @transfer: the transfer that was asked for credentials
   * @auth: the challenge
   * @retrying: whether credentials for this space were refused before
   *
   * Emitted for a transfer added to the session when no handler of the transfer's own
   * [signal@Transfer::authenticate] returned %TRUE: the transfer's signal comes first,
   * then this one, so an application can answer the logins of all its transfers in one
   * place, to servers and to HTTP proxies alike ([method@Auth.is_for_proxy]). Answer as for the transfer's signal: [method@Auth.authenticate] at once, or
   * return %TRUE and answer later.
   *
   * Returns: %TRUE if the handler answers @auth later (or did already)
   *
   * Since: 0.1
   */
  session_authenticate_signal =
    g_signal_new ("authenticate",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  g_signal_accumulator_true_handled, NULL,
                  NULL,
                  G_TYPE_BOOLEAN, 3,
                  GMULTI_TYPE_TRANSFER, GMULTI_TYPE_AUTH, G_TYPE_BOOLEAN);
}

gboolean
gmulti_session_emit_authenticate (GMultiSession  *self,
                                  GMultiTransfer *transfer,
                                  GMultiAuth     *auth,
                                  gboolean        retrying)
{
  gboolean handled = FALSE;

  g_signal_emit (self, session_authenticate_signal, 0, transfer, auth, retrying, &handled);
  return handled;
}

gboolean
gmulti_session_has_authenticate_handler (GMultiSession *self)
{
  return g_signal_has_handler_pending (self, session_authenticate_signal, 0, TRUE);
}
