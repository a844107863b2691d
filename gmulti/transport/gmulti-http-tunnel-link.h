/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-link.h"
#include "gmulti-headers.h"
#include "gmulti-proxy.h"

G_BEGIN_DECLS

/* The most bytes of the proxy's answer to CONNECT (status line and fields) read before
 * it is given up as malformed (docs/limits.md). */
#define GMULTI_HTTP_TUNNEL_MAX_HEAD (16 * 1024)

/* A CONNECT tunnel through the HTTP proxy @proxy, over @lower (a link open to the
 * proxy), to the origin @host:@port. Opening it sends `CONNECT host:port` (with
 * `Proxy-Authorization: @authorization` when non-NULL, and User-Agent: @user_agent
 * when non-NULL) and reads the answer: 2xx opens the tunnel, bytes after that answer
 * are the tunnel's first; a 407 fails the open with GMULTI_ERROR_PROXY_AUTH_REQUIRED
 * and keeps its fields for gmulti_http_tunnel_link_take_challenge(). Once open, bytes
 * pass straight to and from @lower. Owns @lower once returned. */
GMultiLink *gmulti_http_tunnel_link_new (GMultiLink  *lower,
                                         GMultiProxy *proxy,
                                         const char  *host,
                                         guint16      port,
                                         const char  *authorization,
                                         const char  *user_agent);

/* After a 407 to CONNECT: the answer's header fields (Proxy-Authenticate), or NULL.
 * The caller owns them. */
GMultiHeaders *gmulti_http_tunnel_link_take_challenge (GMultiLink *link);

G_END_DECLS
