/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-auth-challenge.h"

G_BEGIN_DECLS

/* The encodings of the schemes gmulti answers, for origin servers (the session's
 * authenticator) and proxies (a proxy link answering 407) alike: each returns the
 * value of an Authorization or Proxy-Authorization field. Nothing here knows the
 * engine or a transfer. */

/* "Basic base64(user:password)", UTF-8 (RFC 7617). */
char *gmulti_auth_basic_encode  (const char *user,
                                 const char *password);
/* "Bearer TOKEN" (RFC 6750); NULL for a token that is not a token68. */
char *gmulti_auth_bearer_encode (const char *token);

typedef enum {
  GMULTI_AUTH_DIGEST_MD5,
  GMULTI_AUTH_DIGEST_MD5_SESS,
  GMULTI_AUTH_DIGEST_SHA256,
  GMULTI_AUTH_DIGEST_SHA256_SESS,
} GMultiAuthDigestAlgorithm;

/* What a Digest challenge (RFC 7616) said, and the count of its nonce: one per
 * protection space, kept between requests so that a later one can answer before it
 * is asked. */
typedef struct {
  GMultiAuthDigestAlgorithm algorithm;
  char *realm;
  char *nonce;
  char *opaque;               /* or NULL */
  char *cnonce;               /* ours, for the current nonce */
  guint32 nc;                 /* requests sent with the current nonce */
  gboolean qop_auth;          /* offered */
  gboolean qop_auth_int;
  gboolean userhash;
  gboolean stale;             /* the last challenge said stale=true */
} GMultiAuthDigest;

/* From a Digest challenge; NULL (and @error) for one gmulti cannot answer: no nonce,
 * an unknown algorithm or only unknown qop values. */
GMultiAuthDigest *gmulti_auth_digest_new    (const GMultiAuthChallenge *challenge,
                                             GError                   **error);
void              gmulti_auth_digest_free   (GMultiAuthDigest *self);
/* A newer challenge of the same space (stale=true, or a nextnonce): its nonce and
 * options, the count started again. */
gboolean          gmulti_auth_digest_update (GMultiAuthDigest          *self,
                                             const GMultiAuthChallenge *challenge,
                                             GError                   **error);
/* Strength order between two challenges: higher is preferred. */
int               gmulti_auth_digest_rank   (const GMultiAuthDigest *self);

/* The field value for one request (@uri: its request-target), counting it. @body:
 * the request body for qop=auth-int, or NULL when it is not known (auth-int is then
 * not chosen); NULL when the server allows only auth-int and the body is not known. */
char *gmulti_auth_digest_encode (GMultiAuthDigest *self,
                                 const char       *user,
                                 const char       *password,
                                 const char       *method,
                                 const char       *uri,
                                 GBytes           *body);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiAuthDigest, gmulti_auth_digest_free)

G_END_DECLS
