/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>
#include <gnutls/crypto.h>

#include "gmulti-auth-scheme.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* Digest (RFC 7616): MD5 and SHA-256, their -sess variants, qop auth and auth-int,
 * userhash. A cnonce lasts as long as its nonce; the count goes up per request. */

static const struct {
  const char *name;
  GMultiAuthDigestAlgorithm algorithm;
} algorithms[] = {
  { "MD5", GMULTI_AUTH_DIGEST_MD5 },
  { "MD5-sess", GMULTI_AUTH_DIGEST_MD5_SESS },
  { "SHA-256", GMULTI_AUTH_DIGEST_SHA256 },
  { "SHA-256-sess", GMULTI_AUTH_DIGEST_SHA256_SESS },
};

static const char *
algorithm_name (GMultiAuthDigestAlgorithm algorithm)
{
  return algorithms[algorithm].name;
}

static GChecksumType
checksum_type (GMultiAuthDigestAlgorithm algorithm)
{
  return algorithm == GMULTI_AUTH_DIGEST_MD5 || algorithm == GMULTI_AUTH_DIGEST_MD5_SESS
         ? G_CHECKSUM_MD5 : G_CHECKSUM_SHA256;
}

static gboolean
is_sess (GMultiAuthDigestAlgorithm algorithm)
{
  return algorithm == GMULTI_AUTH_DIGEST_MD5_SESS ||
         algorithm == GMULTI_AUTH_DIGEST_SHA256_SESS;
}

/* H(a:b:c...) in lowercase hex, of the strings up to NULL. */
static char *
hash_join (GMultiAuthDigestAlgorithm algorithm,
           const char               *first,
           ...)
{
  GChecksum *checksum = g_checksum_new (checksum_type (algorithm));
  const char *part = first;
  char *result;
  va_list args;

  va_start (args, first);
  for (gboolean sep = FALSE; part != NULL; part = va_arg (args, const char *), sep = TRUE)
    {
      if (sep)
        g_checksum_update (checksum, (const guchar *) ":", 1);
      g_checksum_update (checksum, (const guchar *) part, strlen (part));
    }
  va_end (args);
  result = g_strdup (g_checksum_get_string (checksum));
  g_checksum_free (checksum);
  return result;
}

static char *
hash_bytes (GMultiAuthDigestAlgorithm algorithm,
            GBytes                   *bytes)
{
  gsize length = 0;
  gconstpointer data = bytes != NULL ? g_bytes_get_data (bytes, &length) : NULL;

  return g_compute_checksum_for_data (checksum_type (algorithm),
                                      data != NULL ? data : (gconstpointer) "", length);
}

static char *
new_cnonce (void)
{
  guint8 random[16];

  if (gnutls_rnd (GNUTLS_RND_NONCE, random, sizeof random) != 0)
    for (guint i = 0; i < sizeof random; i++)
      random[i] = (guint8) g_random_int ();
  return g_compute_checksum_for_data (G_CHECKSUM_MD5, random, sizeof random);
}

/* Reads the options of @challenge into @self (which keeps its count only when the
 * nonce is the same). */
static gboolean
read_challenge (GMultiAuthDigest          *self,
                const GMultiAuthChallenge *challenge,
                GError                   **error)
{
  const char *nonce = gmulti_auth_challenge_get_param (challenge, "nonce");
  const char *algorithm = gmulti_auth_challenge_get_param (challenge, "algorithm");
  const char *qop = gmulti_auth_challenge_get_param (challenge, "qop");
  const char *value;
  gboolean known = FALSE;

  if (nonce == NULL)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED,
                           _("The server’s Digest challenge has no nonce"));
      return FALSE;
    }
  if (algorithm == NULL)
    {
      self->algorithm = GMULTI_AUTH_DIGEST_MD5;
      known = TRUE;
    }
  for (guint i = 0; algorithm != NULL && i < G_N_ELEMENTS (algorithms); i++)
    if (g_ascii_strcasecmp (algorithm, algorithms[i].name) == 0)
      {
        self->algorithm = algorithms[i].algorithm;
        known = TRUE;
      }
  if (!known)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED,
                   _("The server asks for the Digest algorithm “%s”, which is not "
                     "supported"), algorithm);
      return FALSE;
    }

  self->qop_auth = self->qop_auth_int = FALSE;
  if (qop != NULL)
    {
      g_auto(GStrv) items = g_strsplit (qop, ",", 0);

      for (guint i = 0; items[i] != NULL; i++)
        {
          g_strstrip (items[i]);
          if (g_ascii_strcasecmp (items[i], "auth") == 0)
            self->qop_auth = TRUE;
          else if (g_ascii_strcasecmp (items[i], "auth-int") == 0)
            self->qop_auth_int = TRUE;
        }
      if (!self->qop_auth && !self->qop_auth_int)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED,
                       _("The server asks for the Digest protection “%s”, which is not "
                         "supported"), qop);
          return FALSE;
        }
    }

  if (g_strcmp0 (self->nonce, nonce) != 0)
    {
      g_free (self->nonce);
      self->nonce = g_strdup (nonce);
      self->nc = 0;
      g_clear_pointer (&self->cnonce, g_free);
    }
  g_free (self->realm);
  self->realm = g_strdup (gmulti_auth_challenge_get_param (challenge, "realm"));
  if (self->realm == NULL)
    self->realm = g_strdup ("");
  g_free (self->opaque);
  self->opaque = g_strdup (gmulti_auth_challenge_get_param (challenge, "opaque"));
  value = gmulti_auth_challenge_get_param (challenge, "userhash");
  self->userhash = value != NULL && g_ascii_strcasecmp (value, "true") == 0;
  value = gmulti_auth_challenge_get_param (challenge, "stale");
  self->stale = value != NULL && g_ascii_strcasecmp (value, "true") == 0;
  return TRUE;
}

GMultiAuthDigest *
gmulti_auth_digest_new (const GMultiAuthChallenge *challenge,
                        GError                   **error)
{
  g_autoptr(GMultiAuthDigest) self = g_new0 (GMultiAuthDigest, 1);

  if (!read_challenge (self, challenge, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
gmulti_auth_digest_update (GMultiAuthDigest          *self,
                           const GMultiAuthChallenge *challenge,
                           GError                   **error)
{
  return read_challenge (self, challenge, error);
}

void
gmulti_auth_digest_free (GMultiAuthDigest *self)
{
  if (self == NULL)
    return;
  g_free (self->realm);
  g_free (self->nonce);
  g_free (self->opaque);
  g_free (self->cnonce);
  g_free (self);
}

int
gmulti_auth_digest_rank (const GMultiAuthDigest *self)
{
  return checksum_type (self->algorithm) == G_CHECKSUM_SHA256 ? 2 : 1;
}

/* Appends name="value" with " and \ escaped. */
static void
append_quoted (GString    *out,
               const char *name,
               const char *value)
{
  g_string_append_printf (out, ", %s=\"", name);
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

char *
gmulti_auth_digest_encode (GMultiAuthDigest *self,
                           const char       *user,
                           const char       *password,
                           const char       *method,
                           const char       *uri,
                           GBytes           *body)
{
  GMultiAuthDigestAlgorithm algorithm = self->algorithm;
  g_autofree char *ha1 = NULL, *ha2 = NULL, *response = NULL, *username = NULL;
  const char *qop = NULL;
  char nc[9];
  GString *out;

  if (self->qop_auth_int && body != NULL)
    qop = "auth-int";
  else if (self->qop_auth)
    qop = "auth";
  else if (self->qop_auth_int)
    return NULL;

  if (self->cnonce == NULL)
    self->cnonce = new_cnonce ();
  self->nc++;
  g_snprintf (nc, sizeof nc, "%08x", self->nc);

  ha1 = hash_join (algorithm, user, self->realm, password != NULL ? password : "", NULL);
  if (is_sess (algorithm))
    {
      char *sess = hash_join (algorithm, ha1, self->nonce, self->cnonce, NULL);

      explicit_bzero (ha1, strlen (ha1));
      g_free (ha1);
      ha1 = sess;
    }
  if (qop != NULL && strcmp (qop, "auth-int") == 0)
    {
      g_autofree char *body_hash = hash_bytes (algorithm, body);

      ha2 = hash_join (algorithm, method, uri, body_hash, NULL);
    }
  else
    ha2 = hash_join (algorithm, method, uri, NULL);
  if (qop != NULL)
    response = hash_join (algorithm, ha1, self->nonce, nc, self->cnonce, qop, ha2, NULL);
  else
    response = hash_join (algorithm, ha1, self->nonce, ha2, NULL);
  explicit_bzero (ha1, strlen (ha1));

  username = self->userhash ? hash_join (algorithm, user, self->realm, NULL) : g_strdup (user);
  out = g_string_new ("Digest ");
  /* append_quoted() starts with ", ": the first one without. */
  append_quoted (out, "username", username);
  g_string_erase (out, 7, 2);
  append_quoted (out, "realm", self->realm);
  append_quoted (out, "nonce", self->nonce);
  append_quoted (out, "uri", uri);
  g_string_append_printf (out, ", algorithm=%s", algorithm_name (algorithm));
  append_quoted (out, "response", response);
  if (self->opaque != NULL)
    append_quoted (out, "opaque", self->opaque);
  if (qop != NULL)
    {
      g_string_append_printf (out, ", qop=%s, nc=%s", qop, nc);
      append_quoted (out, "cnonce", self->cnonce);
    }
  if (self->userhash)
    g_string_append (out, ", userhash=true");
  return g_string_free (out, FALSE);
}
