/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "fetch-job.h"

G_BEGIN_DECLS

/* --write-out: @format with its %{variables} and backslash escapes expanded for a
 * finished job. Unknown variables are kept as written and reported once on stderr. */
char *fetch_write_out_expand (const char *format,
                              FetchJob   *job);

G_END_DECLS
