/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whole HTTP/1.1 exchanges through the real engine, against a server the harness plays
 * itself on loopback, in the same thread: see exchange-harness.c for the input format
 * and what is checked. */
void exchange_harness_init (gboolean tls);
void exchange_harness_run  (const guint8 *data,
                            gsize         size,
                            gboolean      tls);

G_END_DECLS
