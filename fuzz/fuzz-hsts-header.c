/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmulti.h"
#include "hsts/gmulti-hsts-private.h"

/* Strict-Transport-Security values as an enforcer learns them. The input is lines: the
 * first a host, each other line a field value stored for it when it parses, or, with
 * '>' first, a URI to rewrite.
 *
 * Nothing may crash or leak; a value that parses has a max-age within the limit, and
 * parses the same again; a rewritten URI is https://, for a known host, and parses
 * with the host it had; only http:// URIs are rewritten. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  G_STMT_START { \
    if (!(cond)) \
      { \
        g_printerr ("check failed: %s\n", #cond); \
        abort (); \
      } \
  } G_STMT_END

static void
rewrite (GMultiHstsEnforcer *enforcer,
         const char         *uri)
{
  g_autofree char *result = gmulti_hsts_enforcer_rewrite (enforcer, uri);
  g_autoptr(GUri) before = NULL, after = NULL;

  if (result == NULL)
    return;
  CHECK (g_ascii_strncasecmp (uri, "http:", 5) == 0);
  CHECK (g_str_has_prefix (result, "https://"));
  before = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);
  after = g_uri_parse (result, G_URI_FLAGS_ENCODED, NULL);
  CHECK (before != NULL && after != NULL);
  CHECK (g_ascii_strcasecmp (g_uri_get_host (before), g_uri_get_host (after)) == 0);
  CHECK (gmulti_hsts_enforcer_has_valid_policy (enforcer, g_uri_get_host (after)));
  CHECK (g_uri_get_port (after) != 80);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto(GStrv) lines = g_strsplit (text, "\n", 64);
  g_autoptr(GMultiHstsEnforcer) enforcer = gmulti_hsts_enforcer_new ();
  g_autofree char *host = NULL;

  if (lines[0] == NULL)
    return 0;
  gmulti_hsts_enforcer_set_now (enforcer, 1800000000);
  host = gmulti_hsts_normalize_host (lines[0]);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      gint64 max_age, again_age;
      gboolean include_subdomains, again_subdomains;

      if (lines[i][0] == '>')
        {
          rewrite (enforcer, lines[i] + 1);
          continue;
        }
      if (!gmulti_hsts_parse_header (lines[i], &max_age, &include_subdomains))
        continue;
      CHECK (max_age >= 0 && max_age <= GMULTI_HSTS_MAX_AGE_LIMIT);
      CHECK (gmulti_hsts_parse_header (lines[i], &again_age, &again_subdomains));
      CHECK (again_age == max_age && again_subdomains == include_subdomains);
      if (host == NULL)
        continue;
      gmulti_hsts_enforcer_store (enforcer, host,
                                  max_age == 0 ? 0 : 1800000000 + max_age,
                                  include_subdomains);
      CHECK (gmulti_hsts_enforcer_match (enforcer, host) == (max_age > 0));
    }
  CHECK (gmulti_hsts_enforcer_get_n_entries (enforcer) <= 1);
  return 0;
}
