/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-link.h"
#include "gmulti-proxy.h"
#include "gmulti-resolver.h"

G_BEGIN_DECLS

/* A SOCKS tunnel over @lower (a link open to the proxy) to the origin @host:@port:
 * SOCKS5 (RFC 1928, RFC 1929 user/password when @proxy has a user) or SOCKS4a, as
 * proxy->kind says. For GMULTI_PROXY_SOCKS5 @address is the origin's address resolved
 * here (port set) and @host is only for messages; for the other kinds @address is NULL
 * and @host goes to the proxy by name. Opening it is the handshake. Owns @lower once
 * returned. */
GMultiLink *gmulti_socks_link_new (GMultiLink          *lower,
                                   GMultiProxy         *proxy,
                                   const char          *host,
                                   guint16              port,
                                   const GMultiAddress *address);

G_END_DECLS
