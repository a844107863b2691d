/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>

#include "exchange-harness.h"

/* HTTP/1.1 over plain TCP through the engine: parser, exchange and sinks, with pauses,
 * removal and keep-alive reuse (exchange-harness.c has the input format). */

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  exchange_harness_init (FALSE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  exchange_harness_run (data, size, FALSE);
  return 0;
}
