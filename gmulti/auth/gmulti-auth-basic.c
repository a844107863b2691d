/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>

#include "gmulti-auth-scheme.h"

/* Basic (RFC 7617) and Bearer (RFC 6750): credentials as they are, so only over TLS
 * unless the application allows otherwise (the authenticator's decision). */

char *
gmulti_auth_basic_encode (const char *user,
                          const char *password)
{
  g_autofree char *pair = g_strconcat (user, ":", password != NULL ? password : "", NULL);
  g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));

  /* The pair is a secret too: not left in freed memory. */
  char *value = g_strconcat ("Basic ", encoded, NULL);

  explicit_bzero (pair, strlen (pair));
  explicit_bzero (encoded, strlen (encoded));
  return value;
}

char *
gmulti_auth_bearer_encode (const char *token)
{
  gsize n = 0;

  if (token == NULL)
    return NULL;
  /* token68: what may follow the scheme without quoting. */
  while (g_ascii_isalnum (token[n]) || (token[n] != '\0' && strchr ("-._~+/", token[n]) != NULL))
    n++;
  if (n == 0)
    return NULL;
  while (token[n] == '=')
    n++;
  if (token[n] != '\0')
    return NULL;
  return g_strconcat ("Bearer ", token, NULL);
}
