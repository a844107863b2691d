/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-session-object-private.h"
#include "auth/gmulti-auth-private.h"

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
