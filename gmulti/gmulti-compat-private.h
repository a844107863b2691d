/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the C library may lack on some systems, after config.h. */

#include <string.h>

#if !HAVE_EXPLICIT_BZERO
/* Clears secrets in a way the compiler cannot drop as a dead store: every byte is
 * written through a volatile pointer. (macOS has memset_s() instead of
 * explicit_bzero(); glibc and the BSDs have explicit_bzero().) */
static inline void
gmulti_explicit_bzero (void   *s,
                       size_t  n)
{
  volatile unsigned char *p = s;

  while (n-- > 0)
    *p++ = 0;
}
#define explicit_bzero gmulti_explicit_bzero
#endif
