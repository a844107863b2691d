/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <glib.h>

/* Runs a fuzz target's entry point on files, without libFuzzer: every seed and every
 * input that once crashed or hung (fuzz/regressions/TARGET/) is replayed by the normal
 * test suite, with whatever compiler and sanitizers that build uses. Arguments are
 * directories (missing ones are skipped) or files; prints TAP. */

int LLVMFuzzerInitialize (int *argc, char ***argv) __attribute__ ((weak));
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gint
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

int
main (int    argc,
      char **argv)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);

  for (int i = 1; i < argc; i++)
    {
      GDir *dir;
      const char *name;

      if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          if (g_file_test (argv[i], G_FILE_TEST_EXISTS))
            g_ptr_array_add (paths, g_strdup (argv[i]));
          continue;
        }
      dir = g_dir_open (argv[i], 0, NULL);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          if (name[0] != '.')
            g_ptr_array_add (paths, g_build_filename (argv[i], name, NULL));
        }
      if (dir != NULL)
        g_dir_close (dir);
    }
  g_ptr_array_sort (paths, compare_paths);

  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);

  printf ("1..%u\n", paths->len);
  if (paths->len == 0)
    printf ("# no input found\n");
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = paths->pdata[i];
      g_autofree char *contents = NULL;
      g_autoptr(GError) error = NULL;
      gsize length = 0;

      if (!g_file_get_contents (path, &contents, &length, &error))
        {
          printf ("not ok %u - %s: %s\n", i + 1, path, error->message);
          continue;
        }
      /* A crash ends the program, which the test harness reports. */
      printf ("# %s\n", path);
      fflush (stdout);
      LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
      printf ("ok %u - %s\n", i + 1, path);
      fflush (stdout);
    }

  g_ptr_array_unref (paths);
  return 0;
}
