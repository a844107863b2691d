/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs tests/gen-test-certs.sh into a new temporary directory and returns it (see the
 * script for the files); aborts the test program if that fails. */
char *test_certs_make   (void);
/* Removes the directory and its files, and frees @dir. */
void  test_certs_remove (char *dir);

G_END_DECLS
