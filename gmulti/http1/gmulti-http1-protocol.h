/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "engine/gmulti-protocol.h"

G_BEGIN_DECLS

/* HTTP/1.1 over a GMultiConnection: one exchange at a time, driven by socket events.
 * It turns the transfer's request into bytes through the codec, and the codec's events
 * into stream events and body deliveries. */
extern const GMultiProtocol gmulti_http1_protocol;

G_END_DECLS
