/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-headers.h"

G_BEGIN_DECLS

/* The most challenges read from one response, and parameters from one challenge:
 * anything beyond is ignored (a server needs a handful). */
#define GMULTI_AUTH_MAX_CHALLENGES 16
#define GMULTI_AUTH_MAX_PARAMS 32

/* One challenge of a WWW-Authenticate or Proxy-Authenticate field (RFC 9110 11.6.1):
 * its scheme and either a token68 or name=value parameters (names as sent, values
 * unquoted). */
typedef struct {
  char *scheme;
  char *token68;              /* or NULL */
  GPtrArray *names;           /* (element-type utf8) */
  GPtrArray *values;          /* (element-type utf8), as many as names */
} GMultiAuthChallenge;

void        gmulti_auth_challenge_free      (GMultiAuthChallenge *self);
/* The value of parameter @name (case-insensitive), or NULL. */
const char *gmulti_auth_challenge_get_param (const GMultiAuthChallenge *self,
                                             const char                *name);
gboolean    gmulti_auth_challenge_is_scheme (const GMultiAuthChallenge *self,
                                             const char                *scheme);

/* Appends the challenges of one field value to @out (of GMultiAuthChallenge, with
 * gmulti_auth_challenge_free as its free function). A challenge that does not parse
 * is left out, and the parser goes on after the next comma; no input crashes it. */
void        gmulti_auth_challenges_parse    (const char *value,
                                             GPtrArray  *out);
/* Every challenge of every @field_name field of @headers, in order: a new array. */
GPtrArray  *gmulti_auth_challenges_from_headers (GMultiHeaders *headers,
                                                 const char    *field_name);

G_END_DECLS
