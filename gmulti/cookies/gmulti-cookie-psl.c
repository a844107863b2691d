/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libpsl.h>
#include <string.h>

#include "gmulti-cookie-private.h"

/* The public suffix list, through libpsl: the newest of the list built into libpsl and
 * the system's copy (Debian's publicsuffix package), loaded once per process. */

static const psl_ctx_t *
get_psl (void)
{
  static const psl_ctx_t *psl;
  static gsize loaded;

  if (g_once_init_enter (&loaded))
    {
      psl = psl_latest (NULL);
      if (psl == NULL)
        psl = psl_builtin ();
      g_once_init_leave (&loaded, 1);
    }
  return psl;
}

gboolean
gmulti_cookie_is_public_suffix (const char *domain)
{
  const psl_ctx_t *psl = get_psl ();

  /* Without any list, only a single label is taken for a suffix. */
  if (psl == NULL)
    return strchr (domain, '.') == NULL;
  return psl_is_public_suffix (psl, domain) != 0;
}

char *
gmulti_cookie_site_of (const char *host)
{
  const psl_ctx_t *psl = get_psl ();
  const char *site = NULL;

  if (psl != NULL && !gmulti_cookie_host_is_ip (host))
    site = psl_registrable_domain (psl, host);
  return g_strdup (site != NULL ? site : host);
}
