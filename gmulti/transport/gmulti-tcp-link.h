/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-link.h"
#include "gmulti-resolver.h"

G_BEGIN_DECLS

/* RFC 8305: start the next address if the previous one has not answered by then. */
#define GMULTI_TCP_LINK_ATTEMPT_DELAY_US (250 * G_TIME_SPAN_MILLISECOND)

/* The socket at the bottom of a chain: plain recv()/sendmsg() on a non-blocking stream
 * socket (TCP; or a Unix socket, see gmulti-unix-link.h). It never closes a socket:
 * the owner does, after it stopped watching it. */

/* Connects to @addresses (copied; in Happy Eyeballs order) when opened: each open()
 * call starts attempts, GMULTI_TCP_LINK_ATTEMPT_DELAY_US apart and at most
 * GMULTI_LINK_MAX_SOCKETS at once, or checks the one @io->ready_fd names; the first
 * to connect wins and the others are given up. ERROR once every address failed
 * (GMULTI_ERROR_CONNECT_FAILED, naming the last one's address and reason). */
GMultiLink *gmulti_tcp_link_new_connect (const GMultiAddress *addresses,
                                         guint                n_addresses);
/* Over @fd, connected and non-blocking already (opening is DONE at once). */
GMultiLink *gmulti_tcp_link_new_for_fd  (int                  fd);
/* The connected socket; -1 while connecting. */
int         gmulti_tcp_link_get_fd      (GMultiLink          *self);
/* SO_RCVLOWAT (at least 1). FALSE when the kernel refused. */
gboolean    gmulti_tcp_link_set_low_water (GMultiLink        *self,
                                           int                bytes);

G_END_DECLS
