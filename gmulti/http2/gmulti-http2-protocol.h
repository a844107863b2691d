/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "engine/gmulti-protocol.h"

G_BEGIN_DECLS

/* HTTP/2 over a GMultiConnection, with nghttp2: one session per connection carrying
 * the streams of many transfers at once, driven by socket events. */
extern const GMultiProtocol gmulti_http2_protocol;

G_END_DECLS
