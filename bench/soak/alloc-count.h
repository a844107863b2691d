/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* Counts the blocks the C library's allocator has handed out and not got back, over
 * every thread, by wrapping malloc() and its relatives in the program itself. Unlike
 * resident memory or the allocator's statistics, this count does not move with what
 * the allocator caches: with nothing held, it comes back to the same number. */

/* FALSE where the wrappers are not built in (a sanitizer brings its own allocator). */
gboolean alloc_count_available (void);

/* Blocks live right now, and their usable bytes. */
gint64   alloc_count_live       (void);
gint64   alloc_count_live_bytes (void);
