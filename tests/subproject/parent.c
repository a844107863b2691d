/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compiled by tests/test-subproject.sh in a project that uses gmulti as a subproject
 * and has no config.h of its own: none may be found, nor gmulti's private headers. */
#if __has_include("config.h")
#error "gmulti's private config.h is on the parent project's include path"
#endif
#if __has_include("gmulti-transfer-private.h")
#error "gmulti's private headers are on the parent project's include path"
#endif

#include <gmulti/gmulti.h>

int
main (void)
{
  g_autoptr (GMultiSession) session = gmulti_session_new ();

  return session != NULL ? 0 : 1;
}
