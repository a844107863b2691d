/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-headers.h"

G_BEGIN_DECLS

/* Turning a URI into what goes on the wire, and a Location into the next URI. Both
 * take text a server or an application chose, so every result is checked here, in one
 * place the fuzzer reaches too: no accepted target or Host value holds a control
 * character or a space. */

/* Where one request goes. The three strings are one allocation (every request makes
 * one): @host owns it, @target and @host_header point into it. */
typedef struct {
  char *host;               /* for the resolver; an IPv6 literal without brackets */
  guint16 port;
  const char *target;       /* origin-form: path and query */
  const char *host_header;  /* host, bracketed if IPv6, with the port unless the
                               default */
  gboolean tls;             /* https */
} GMultiRequestTarget;

/* Parses an absolute `http` or `https` URI. On failure @out is left cleared and @error is
 * GMULTI_ERROR_INVALID_URI or GMULTI_ERROR_UNSUPPORTED_SCHEME. */
gboolean gmulti_request_target_parse (const char           *uri,
                                      GMultiRequestTarget  *out,
                                      GError              **error);
/* The same from a URI already parsed (with G_URI_FLAGS_ENCODED |
 * G_URI_FLAGS_SCHEME_NORMALIZE); @uri is its text, for messages. */
gboolean gmulti_request_target_from_uri (GUri                 *parsed,
                                         const char           *uri,
                                         GMultiRequestTarget  *out,
                                         GError              **error);
void     gmulti_request_target_clear (GMultiRequestTarget  *target);

/* The value of the one Location field of @headers. Location is a singleton (RFC 9110
 * 10.2.2): fields with different values leave no way to know which target the server
 * meant, and fail with GMULTI_ERROR_PROTOCOL, as browsers refuse them; copies of one
 * value are tolerated. NULL without @error when there is no Location. */
const char *gmulti_redirect_get_location (GMultiHeaders  *headers,
                                          GError        **error);

/* Resolves @location against @base_uri and checks the result can be requested.
 * Returns the absolute URI to follow, or NULL with GMULTI_ERROR_BAD_REDIRECT.
 * *@cross_origin tells whether it leaves the origin (scheme, host, port) of
 * @base_uri. */
char    *gmulti_redirect_resolve     (const char  *base_uri,
                                      const char  *location,
                                      gboolean    *cross_origin,
                                      GError     **error);

G_END_DECLS
