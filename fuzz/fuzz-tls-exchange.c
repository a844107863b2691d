/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>

#include "exchange-harness.h"

/* HTTPS through the engine: the TLS layer's read-ahead and in-place records under the
 * exchange, fed by a GnuTLS server whose records, cuts and closes the input chooses
 * (exchange-harness.c has the input format). */

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  exchange_harness_init (TRUE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  exchange_harness_run (data, size, TRUE);
  return 0;
}
