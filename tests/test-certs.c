/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "test-certs.h"

char *
test_certs_make (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "gen-test-certs.sh", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { "/bin/sh", script, NULL, NULL };
  char *dir;
  int status = 0;

  dir = g_dir_make_tmp ("gmulti-certs-XXXXXX", &error);
  g_assert_no_error (error);
  argv[2] = dir;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err,
                     &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("%s failed: %s\n%s", script, error->message, err != NULL ? err : "");
  return dir;
}

void
test_certs_remove (char *dir)
{
  GDir *handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  if (handle != NULL)
    g_dir_close (handle);
  g_rmdir (dir);
  g_free (dir);
}
