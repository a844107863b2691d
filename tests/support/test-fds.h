/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Descriptors and ports, for tests that check what a client opens and leaves. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How many descriptors the process has open now. */
guint test_count_fds (void);

/* A loopback port with a bound socket that does not listen: connecting is refused, and
 * nobody else can take the port meanwhile. Returns the socket; close it when done. */
int test_refusing_port (guint16 *port);

G_END_DECLS
