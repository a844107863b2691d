/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-transfer-object-private.h"
#include "cookies/gmulti-cookie-jar-private.h"

/* The transfer's own cookie jar and its first party (the site cookies are third-party
 * to). */

void
gmulti_transfer_install_cookie_properties (GParamSpec **pspecs)
{
  /**
   * GMultiTransfer:cookie-jar: (getter get_cookie_jar) (setter set_cookie_jar)
   *
   * The jar this transfer keeps its cookies in, instead of its session's
   * [property@Session:cookie-jar]; %NULL, the default, uses the session's (and keeps
   * none without a session). It is read when the transfer starts.
   *
   * Since: 0.1
   */
  pspecs[PROP_COOKIE_JAR] =
    g_param_spec_object ("cookie-jar", NULL, NULL, GMULTI_TYPE_COOKIE_JAR,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:first-party-uri: (getter get_first_party_uri) (setter set_first_party_uri)
   *
   * The URI of the page or site the user sees this transfer for; with
   * %GMULTI_COOKIE_ACCEPT_NO_THIRD_PARTY, only hosts of that site may set cookies.
   * %NULL, the default, takes the transfer's own [property@Transfer:uri], so that a
   * redirect to another site sets no cookie there.
   *
   * Since: 0.1
   */
  pspecs[PROP_FIRST_PARTY_URI] =
    g_param_spec_string ("first-party-uri", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

GMultiHopHook *
gmulti_transfer_cookie_hook (GMultiTransfer *self)
{
  return gmulti_cookie_jar_get_hook (self->cookie_jar);
}

/**
 * gmulti_transfer_get_cookie_jar: (get-property cookie-jar)
 * @self: a transfer
 *
 * Gets the transfer's own cookie jar.
 *
 * Returns: (transfer none) (nullable): the transfer's own cookie jar, or %NULL
 *
 * Since: 0.1
 */
GMultiCookieJar *
gmulti_transfer_get_cookie_jar (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);
  return self->cookie_jar;
}

/**
 * gmulti_transfer_set_cookie_jar: (set-property cookie-jar)
 * @self: a transfer
 * @jar: (nullable): a jar, or %NULL for the session's
 *
 * Gives the transfer a cookie jar of its own (see [property@Transfer:cookie-jar]).
 * A run under way keeps the jar it started with.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_cookie_jar (GMultiTransfer  *self,
                                GMultiCookieJar *jar)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));
  g_return_if_fail (jar == NULL || GMULTI_IS_COOKIE_JAR (jar));

  if (g_set_object (&self->cookie_jar, jar))
    g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_COOKIE_JAR]);
}

/**
 * gmulti_transfer_get_first_party_uri: (get-property first-party-uri)
 * @self: a transfer
 *
 * Gets the transfer's first party for cookies.
 *
 * Returns: (nullable): the first party set, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_first_party_uri (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);
  return self->first_party_uri;
}

/**
 * gmulti_transfer_set_first_party_uri: (set-property first-party-uri)
 * @self: a transfer
 * @uri: (nullable): the URI of the site the user sees, or %NULL for the transfer's
 *
 * Sets the first party for the %GMULTI_COOKIE_ACCEPT_NO_THIRD_PARTY policy (see
 * [property@Transfer:first-party-uri]). It is read when the transfer starts; while
 * it runs, a change is ignored.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_first_party_uri (GMultiTransfer *self,
                                     const char     *uri)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (g_strcmp0 (self->first_party_uri, uri) == 0)
    return;
  /* The run under way borrows the string: it keeps the one it started with. */
  if (gmulti_transfer_is_running (self))
    return;
  g_free (self->first_party_uri);
  self->first_party_uri = g_strdup (uri);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_FIRST_PARTY_URI]);
}
