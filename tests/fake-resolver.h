/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Linked into a test program, fake-resolver.c replaces getaddrinfo() for names under
 * ".test" (see there), so tests can give a name IPv6 and IPv4 addresses at will. */

/* A listener on [::1]:@port whose accept queue is full, so connects to it neither
 * succeed nor fail. -1 if that cannot be set up (port taken, no IPv6). */
int test_ipv6_blackhole_on (guint16 port);

G_END_DECLS
