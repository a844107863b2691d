/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The kinds of proxy a hop can go through. */
typedef enum {
  GMULTI_PROXY_HTTP,     /* http://: absolute-form requests for http, CONNECT for https */
  GMULTI_PROXY_HTTPS,    /* https://: the same, over TLS to the proxy itself */
  GMULTI_PROXY_SOCKS4A,  /* socks4a://: the proxy resolves the origin's name */
  GMULTI_PROXY_SOCKS5,   /* socks5://: the origin's name resolved here */
  GMULTI_PROXY_SOCKS5H,  /* socks5h://: the proxy resolves the origin's name */
} GMultiProxyKind;

/* One proxy, parsed from its URI (`KIND://[USER[:PASSWORD]@]HOST[:PORT]`, as GLib's
 * GProxyResolver and the `*_proxy` environment variables give them). Immutable and
 * reference-counted, so that a run, the lookup cache and the defaults share one.
 * `socks://` means SOCKS5 with the name resolved by the proxy, as GLib's resolvers
 * mean it; `socks4://` is taken as SOCKS4a (gmulti never sends an address it resolved
 * itself to a SOCKS4 proxy). */
typedef struct {
  gint ref_count;
  GMultiProxyKind kind;
  char *host;            /* without brackets */
  guint16 port;          /* the URI's, or the kind's default: 1080 for SOCKS, 80 for
                            http, 443 for https */
  char *user;            /* percent-decoded; NULL: none */
  char *password;        /* percent-decoded; NULL: none */
  char *key;             /* "KIND://HOST:PORT" plus the user: what a pool key compares;
                            never the password */
} GMultiProxy;

/* Parses @uri; `direct://` and "" give %NULL with no error (no proxy). Any other
 * unusable URI sets GMULTI_ERROR_PROXY_INVALID naming it (without its password). */
GMultiProxy *gmulti_proxy_new_from_uri (const char   *uri,
                                        GError      **error);
GMultiProxy *gmulti_proxy_ref          (GMultiProxy  *self);
void         gmulti_proxy_unref        (GMultiProxy  *self);

/* TRUE for kinds where the origin's name goes to the proxy unresolved (HTTP(S),
 * SOCKS4a, SOCKS5h). */
gboolean     gmulti_proxy_resolves_name (const GMultiProxy *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiProxy, gmulti_proxy_unref)

G_END_DECLS
