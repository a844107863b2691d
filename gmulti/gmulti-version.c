/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-version.h"
#include "gmulti-i18n-private.h"

/* The version of the library a program runs with, which may be newer than the headers
 * it was compiled against (GMULTI_MAJOR_VERSION and the like). */

/**
 * gmulti_get_major_version:
 *
 * Returns the major version of the gmulti library the program runs with, as opposed to
 * %GMULTI_MAJOR_VERSION, the one it was compiled against.
 *
 * Returns: the major version of the running library
 *
 * Since: 0.1
 */
guint
gmulti_get_major_version (void)
{
  return GMULTI_MAJOR_VERSION;
}

/**
 * gmulti_get_minor_version:
 *
 * Returns the minor version of the gmulti library the program runs with.
 *
 * Returns: the minor version of the running library
 *
 * Since: 0.1
 */
guint
gmulti_get_minor_version (void)
{
  return GMULTI_MINOR_VERSION;
}

/**
 * gmulti_get_micro_version:
 *
 * Returns the micro version of the gmulti library the program runs with.
 *
 * Returns: the micro version of the running library
 *
 * Since: 0.1
 */
guint
gmulti_get_micro_version (void)
{
  return GMULTI_MICRO_VERSION;
}

/**
 * gmulti_check_version:
 * @required_major: the major version needed
 * @required_minor: the minor version needed
 * @required_micro: the micro version needed
 *
 * Checks that the gmulti library the program runs with is compatible with the given
 * version: the same major version, and at least the minor and micro versions given.
 * Unlike %GMULTI_CHECK_VERSION, which looks at the headers, this looks at the library
 * loaded at run time, which is what a language binding or a plugin needs to know.
 *
 * Returns: (nullable): %NULL when the library is compatible, otherwise a translated
 *   sentence saying why not, owned by gmulti
 *
 * Since: 0.1
 */
const char *
gmulti_check_version (guint required_major,
                      guint required_minor,
                      guint required_micro)
{
  /* Through variables: compared with constants, 0 would warn. */
  guint major = GMULTI_MAJOR_VERSION, minor = GMULTI_MINOR_VERSION;
  guint micro = GMULTI_MICRO_VERSION;

  if (required_major > major)
    return _("gmulti is too old (major version mismatch)");
  if (required_major < major)
    return _("gmulti is too new (major version mismatch)");
  if (required_minor > minor)
    return _("gmulti is too old (minor version mismatch)");
  if (required_minor == minor && required_micro > micro)
    return _("gmulti is too old (micro version mismatch)");
  return NULL;
}
