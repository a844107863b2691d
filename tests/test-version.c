/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gmulti/gmulti.h>

/* The version the library runs with agrees with the headers the test was built with
 * (both come from one build), and gmulti_check_version() accepts and refuses the way
 * its documentation says. */
static void
test_runtime_version (void)
{
  g_assert_cmpuint (gmulti_get_major_version (), ==, GMULTI_MAJOR_VERSION);
  g_assert_cmpuint (gmulti_get_minor_version (), ==, GMULTI_MINOR_VERSION);
  g_assert_cmpuint (gmulti_get_micro_version (), ==, GMULTI_MICRO_VERSION);
}

static void
test_check_version (void)
{
  guint major = gmulti_get_major_version ();
  guint minor = gmulti_get_minor_version ();
  guint micro = gmulti_get_micro_version ();

  g_assert_null (gmulti_check_version (major, minor, micro));
  g_assert_null (gmulti_check_version (major, 0, 0));
  if (minor > 0)
    g_assert_null (gmulti_check_version (major, minor - 1, micro + 100));
  g_assert_nonnull (gmulti_check_version (major + 1, 0, 0));
  g_assert_nonnull (gmulti_check_version (major, minor + 1, 0));
  g_assert_nonnull (gmulti_check_version (major, minor, micro + 1));
  if (major > 0)
    g_assert_nonnull (gmulti_check_version (major - 1, minor, micro));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Version/runtime", test_runtime_version);
  g_test_add_func ("/GMulti/Version/check", test_check_version);

  return g_test_run ();
}
