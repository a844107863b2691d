/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "tls/gmulti-tls-config.h"

G_BEGIN_DECLS

/* Which protocols a connection may speak, from the HTTP version its transfers ask for:
 * a transfer that wants HTTP/1.1 only never rides an HTTP/2 connection, and HTTP/2
 * spoken from the first byte is not offered to transfers that did not ask for it. */
typedef enum {
  GMULTI_POOL_HTTP_ANY,          /* https: "h2" and "http/1.1" offered; http: HTTP/1.1 */
  GMULTI_POOL_HTTP_1_ONLY,       /* https: only "http/1.1" offered */
  GMULTI_POOL_HTTP_2_PRIOR,      /* http: HTTP/2 with prior knowledge */
} GMultiPoolHttp;

/* What decides whether a connection may carry a request: connections are pooled, and
 * limited, per key. Two keys are equal when the scheme, host and port, the links the
 * connection is made of (above the socket: "" for a direct connection; a proxy adds
 * itself here), the TLS settings and the protocols it may speak are. */
typedef struct {
  gboolean secure;               /* https: TLS over the chain */
  const char *host;              /* as in the URI, without brackets */
  guint16 port;
  const char *chain;             /* the links under TLS, described; "" for a direct TCP
                                    connection, "unix:PATH" over a Unix socket */
  GMultiTlsConfig *tls_config;   /* NULL without TLS */
  GMultiPoolHttp http;           /* ANY unless gmulti_pool_key_set_http() says else */
  guint hash;                    /* of all of the above, set by gmulti_pool_key_init() */
} GMultiPoolKey;

/* Fills in @self with borrowed fields: they must outlive it (a transfer's key points
 * into its hop). No allocation. */
void           gmulti_pool_key_init  (GMultiPoolKey   *self,
                                      gboolean         secure,
                                      const char      *host,
                                      guint16          port,
                                      const char      *chain,
                                      GMultiTlsConfig *tls_config);
/* Sets @self's protocols (and its hash). */
void           gmulti_pool_key_set_http (GMultiPoolKey   *self,
                                         GMultiPoolHttp   http);
/* A copy owning its strings and a reference to the config, for a hash table. */
GMultiPoolKey *gmulti_pool_key_copy  (const GMultiPoolKey *self);
void           gmulti_pool_key_free  (GMultiPoolKey       *self);

/* GHashFunc and GEqualFunc. */
guint          gmulti_pool_key_hash  (gconstpointer key);
gboolean       gmulti_pool_key_equal (gconstpointer a,
                                      gconstpointer b);

G_END_DECLS
