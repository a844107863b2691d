/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* GMultiSession:cookie-jar: the jar travels to the engine in the session's defaults,
 * as its hop hook (engine/gmulti-hop-hook.h); each run takes the one in effect when it
 * starts. */

#include "gmulti-session.h"
#include "gmulti-session-object-private.h"
#include "gmulti-engine-private.h"
#include "cookies/gmulti-cookie-jar-private.h"

void
gmulti_session_install_cookie_properties (GParamSpec **pspecs)
{
  /**
   * GMultiSession:cookie-jar: (getter get_cookie_jar) (setter set_cookie_jar)
   *
   * The cookies of the session's transfers: each response's `Set-Cookie` fields are
   * stored in it, and each request (every hop of a redirect) sends the ones that match
   * it. %NULL, the default, keeps no cookies: only a `Cookie` field the application
   * sets is sent. A transfer's own [property@Transfer:cookie-jar] wins. A change
   * applies to the transfers that start after it.
   *
   * Since: 0.1
   */
  pspecs[PROP_COOKIE_JAR] =
    g_param_spec_object ("cookie-jar", NULL, NULL, GMULTI_TYPE_COOKIE_JAR,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

/**
 * gmulti_session_get_cookie_jar: (get-property cookie-jar)
 * @self: a session
 *
 * Gets the jar the session's transfers keep their cookies in.
 *
 * Returns: (transfer none) (nullable): the jar, or %NULL for none
 *
 * Since: 0.1
 */
GMultiCookieJar *
gmulti_session_get_cookie_jar (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);

  return gmulti_cookie_jar_from_hook (self->defaults->cookies);
}

/**
 * gmulti_session_set_cookie_jar: (set-property cookie-jar)
 * @self: a session
 * @jar: (nullable): a cookie jar, or %NULL to keep no cookies
 *
 * Sets the jar of the transfers that start from now on (see
 * [property@Session:cookie-jar]).
 *
 * Since: 0.1
 */
void
gmulti_session_set_cookie_jar (GMultiSession   *self,
                               GMultiCookieJar *jar)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (jar == NULL || GMULTI_IS_COOKIE_JAR (jar));

  if (gmulti_session_get_cookie_jar (self) == jar)
    return;

  edit = gmulti_session_edit_defaults (self);
  if (edit->cookies != NULL)
    gmulti_hop_hook_unref (edit->cookies);
  edit->cookies = jar != NULL ? gmulti_hop_hook_ref (gmulti_cookie_jar_get_hook (jar)) : NULL;
  gmulti_session_commit_defaults (self, edit);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_COOKIE_JAR]);
}
