/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libintl.h>

#include "gmulti-i18n-private.h"

const char *
gmulti_i18n_gettext (const char *msgid)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      const char *dir = g_getenv ("GMULTI_LOCALEDIR");

      /* The environment override lets tests use the build tree's catalogues. */
      bindtextdomain (GETTEXT_PACKAGE, dir != NULL ? dir : GMULTI_LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&initialized, 1);
    }

  return g_dgettext (GETTEXT_PACKAGE, msgid);
}
