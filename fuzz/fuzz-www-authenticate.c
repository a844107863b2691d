/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmulti.h"
#include "auth/gmulti-auth-private.h"

/* WWW-Authenticate values as the authenticator reads them. The input is lines, each a
 * field value: parsed alone, and all together as the fields of one response head.
 *
 * Nothing may crash or leak, and what comes out must be what the grammar allows: a
 * scheme of token characters, parameter names too, values without control characters
 * (but tab), at most the limits of challenges and parameters. Each Digest challenge
 * gmulti accepts is answered, and the answer, read with the same parser, is one Digest
 * credential naming the challenge's nonce and realm and the user. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  G_STMT_START { \
    if (!(cond)) \
      { \
        g_printerr ("check failed: %s\n", #cond); \
        abort (); \
      } \
  } G_STMT_END

static gboolean
is_token (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && strchr ("!#$%&'*+-.^_`|~", *s) == NULL)
      return FALSE;
  return TRUE;
}

static void
check_value (const char *s)
{
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    CHECK (*p >= 0x20 || *p == '\t');
  CHECK (strchr (s, 0x7f) == NULL);
}

static void
answer_digest (const GMultiAuthChallenge *challenge)
{
  g_autoptr(GMultiAuthDigest) digest = gmulti_auth_digest_new (challenge, NULL);
  g_autoptr(GPtrArray) again = NULL;
  g_autofree char *value = NULL;
  static const guint8 body[] = "a=1";
  g_autoptr(GBytes) bytes = g_bytes_new_static (body, 3);
  GMultiAuthChallenge *credential;

  if (digest == NULL)
    return;
  value = gmulti_auth_digest_encode (digest, "us\"er", "pass\\word", "POST", "/p?q=1", bytes);
  CHECK (value != NULL);
  again = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_auth_challenge_free);
  gmulti_auth_challenges_parse (value, again);
  CHECK (again->len == 1);
  credential = again->pdata[0];
  CHECK (gmulti_auth_challenge_is_scheme (credential, "Digest"));
  CHECK (g_strcmp0 (gmulti_auth_challenge_get_param (credential, "nonce"), digest->nonce) == 0);
  CHECK (g_strcmp0 (gmulti_auth_challenge_get_param (credential, "realm"), digest->realm) == 0);
  if (!digest->userhash)
    CHECK (g_strcmp0 (gmulti_auth_challenge_get_param (credential, "username"), "us\"er") == 0);
  CHECK (g_strcmp0 (gmulti_auth_challenge_get_param (credential, "nc"), "00000001") == 0 ||
         gmulti_auth_challenge_get_param (credential, "qop") == NULL);
}

static void
check_challenges (GPtrArray *challenges,
                  guint      max)
{
  CHECK (challenges->len <= max);
  for (guint i = 0; i < challenges->len; i++)
    {
      const GMultiAuthChallenge *c = challenges->pdata[i];

      CHECK (is_token (c->scheme));
      CHECK (c->names->len == c->values->len);
      CHECK (c->names->len <= GMULTI_AUTH_MAX_PARAMS);
      CHECK (c->token68 == NULL || c->names->len == 0);
      if (c->token68 != NULL)
        check_value (c->token68);
      for (guint j = 0; j < c->names->len; j++)
        {
          CHECK (is_token (c->names->pdata[j]));
          check_value (c->values->pdata[j]);
        }
      if (gmulti_auth_challenge_is_scheme (c, "Digest"))
        answer_digest (c);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto(GStrv) lines = g_strsplit (text, "\n", 32);
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  g_autoptr(GPtrArray) all = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_auth_challenge_free);

      gmulti_auth_challenges_parse (lines[i], one);
      check_challenges (one, GMULTI_AUTH_MAX_CHALLENGES);
      /* A value the field list would refuse stays out, as a server's would. */
      gmulti_headers_append (headers, "WWW-Authenticate", lines[i], NULL);
    }
  all = gmulti_auth_challenges_from_headers (headers, "WWW-Authenticate");
  /* One field may add up to the limit after the limit was almost reached. */
  check_challenges (all, 2 * GMULTI_AUTH_MAX_CHALLENGES);
  return 0;
}
