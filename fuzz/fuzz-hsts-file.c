/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "gmulti.h"
#include "hsts/gmulti-hsts-private.h"

/* curl's HSTS cache file as an enforcer loads it: the input is the file.
 *
 * Nothing may crash or leak; every entry kept has a host fit for the store (lowercase,
 * no trailing dot, not an IP literal, no white space); lines kept and lines skipped
 * add up to at most the lines there are; saving and loading again gives the same
 * policies. */

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
check_same (GList *a,
            GList *b)
{
  CHECK (g_list_length (a) == g_list_length (b));
  for (; a != NULL && b != NULL; a = a->next, b = b->next)
    {
      CHECK (strcmp (gmulti_hsts_policy_get_host (a->data),
                     gmulti_hsts_policy_get_host (b->data)) == 0);
      CHECK (gmulti_hsts_policy_get_include_subdomains (a->data) ==
             gmulti_hsts_policy_get_include_subdomains (b->data));
      CHECK (gmulti_hsts_policy_get_expires (a->data) ==
             gmulti_hsts_policy_get_expires (b->data));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *dir = g_dir_make_tmp ("fuzz-hsts-file-XXXXXX", NULL);
  g_autofree char *path = NULL, *saved = NULL;
  g_autoptr(GMultiHstsEnforcer) enforcer = gmulti_hsts_enforcer_new ();
  g_autoptr(GMultiHstsEnforcer) again = gmulti_hsts_enforcer_new ();
  GList *first, *second;
  guint skipped = 0, n_lines = 1;

  if (dir == NULL)
    return 0;
  path = g_build_filename (dir, "in.txt", NULL);
  saved = g_build_filename (dir, "out.txt", NULL);
  CHECK (g_file_set_contents (path, (const char *) data, size, NULL));
  for (size_t i = 0; i < size; i++)
    n_lines += data[i] == '\n';

  gmulti_hsts_enforcer_set_now (enforcer, 1800000000);
  gmulti_hsts_enforcer_set_now (again, 1800000000);
  CHECK (gmulti_hsts_enforcer_load_from_file (enforcer, path, &skipped, NULL));
  CHECK (gmulti_hsts_enforcer_get_n_entries (enforcer) + skipped <= n_lines);
  first = gmulti_hsts_enforcer_list (enforcer);
  for (GList *l = first; l != NULL; l = l->next)
    {
      const char *host = gmulti_hsts_policy_get_host (l->data);
      g_autofree char *normal = gmulti_hsts_normalize_host (host);

      CHECK (normal != NULL && strcmp (normal, host) == 0);
      CHECK (strpbrk (host, " \t\r\n\"") == NULL);
    }

  CHECK (gmulti_hsts_enforcer_save_to_file (enforcer, saved, NULL));
  skipped = 99;
  CHECK (gmulti_hsts_enforcer_load_from_file (again, saved, &skipped, NULL));
  CHECK (skipped == 0);
  second = gmulti_hsts_enforcer_list (again);
  check_same (first, second);

  g_list_free_full (first, (GDestroyNotify) gmulti_hsts_policy_free);
  g_list_free_full (second, (GDestroyNotify) gmulti_hsts_policy_free);
  g_unlink (path);
  g_unlink (saved);
  g_rmdir (dir);
  return 0;
}
