/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-connection.h"
#include "gmulti-enums.h"

G_BEGIN_DECLS

/* HTTP/1.1 over a GMultiConnection: one exchange at a time, driven by socket events.
 * It turns the transfer's request into bytes through the codec and the codec's events
 * into calls on the transfer, and tells the engine when the exchange ends. */

/* Begins the exchange of conn->transfer: writes as much of the request as the socket
 * takes right away. */
void     gmulti_h1_start          (GMultiConnection *conn);
/* The connection's socket is ready (active or idle connection). */
void     gmulti_h1_on_event       (GMultiConnection *conn,
                                   GMultiEvent       events);
/* The transfer was resumed after a pause: consume held bytes and read again. */
void     gmulti_h1_resume         (GMultiConnection *conn);
/* The 100-continue wait is over: send the body now. */
void     gmulti_h1_continue_timeout (GMultiConnection *conn);
/* The transfer leaves the exchange early (removed or aborted). Returns TRUE when the
 * connection is clean (no request byte sent, or the response complete) and may be
 * pooled; FALSE when it must be closed. */
gboolean gmulti_h1_detach         (GMultiConnection *conn);
/* Reads what an idle connection has: TRUE if nothing (or only TLS housekeeping), FALSE
 * if it was closed, failed or holds bytes nobody asked for. */
gboolean gmulti_h1_idle_is_clean  (GMultiConnection *conn);

G_END_DECLS
