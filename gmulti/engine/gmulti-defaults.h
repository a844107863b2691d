/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-enums.h"
#include "gmulti-hop-hook.h"
#include "gmulti-proxy.h"
#include "gmulti-proxy-lookup.h"
#include "gmulti-tls-options.h"
#include "gmulti-version.h"

G_BEGIN_DECLS

/* The connect timeout of a transfer that sets none (docs/limits.md). */
#define GMULTI_DEFAULT_CONNECT_TIMEOUT_MS 30000
/* Sent by sessions and gmulti_transfer_perform() with requests that set none. */
/* Streams one HTTP/2 connection carries at once unless its server allows fewer. */
#define GMULTI_DEFAULT_MAX_STREAMS_PER_CONNECTION 100
#define GMULTI_DEFAULT_USER_AGENT "gmulti/" GMULTI_VERSION_S
/* The decompression-bomb guard (docs/limits.md): decoded bytes of one body at most,
 * and decoded bytes per coded byte once GMULTI_DECODE_RATIO_SLACK are out. */
#define GMULTI_DEFAULT_MAX_DECODED_SIZE (G_GUINT64_CONSTANT (4) << 30)
#define GMULTI_DEFAULT_MAX_DECODE_RATIO 1000

/* What a transfer gets for the options it leaves unset: one immutable, reference-counted
 * value per engine (gmulti_engine_set_defaults()). A session replaces its engine's
 * defaults as a whole whenever one of its own settings changes; each run takes a
 * reference when it starts and keeps it to its end, so a change applies from the next
 * run on and never reaches into one under way. The transfer itself is never written.
 *
 * Adding a default: a field here, its copy and free in gmulti-defaults.c, where the
 * engine merges it (gmulti-engine-transfer.c), and the owner's setter. */
typedef struct _GMultiDefaults GMultiDefaults;
struct _GMultiDefaults {
  guint timeout_ms;           /* total, for transfers that never set one; 0: no limit */
  guint connect_timeout_ms;   /* for transfers that never set one; 0: no limit */
  char *user_agent;           /* for requests with no User-Agent field; NULL: none */
  GError *user_agent_error;   /* user_agent cannot be sent: every run fails with it */
  GMultiTlsOptions tls;       /* fill in what a transfer's TLS options leave unset */
  GMultiHttpVersion http_version; /* for transfers that ask for none (AUTO) */
  guint max_streams_per_connection; /* at most, on one multiplexed connection; the
                                       server's limit applies below it */
  gboolean decode_content;    /* for transfers that never set it: TRUE for sessions */
  guint64 max_decoded_size;   /* of one content-decoded body; 0: no limit */
  guint max_decode_ratio;     /* decoded per coded byte; 0: no limit */
  char *unix_socket_path;     /* for transfers that name none; NULL: TCP */
  GMultiHopHook *cookies;     /* the session's cookie jar (a reference); NULL: none */
  GMultiHopHook *auth;        /* the session's authenticator and credential cache (a
                                 reference); NULL: none. The owner puts it in
                                 request.auth for runs that may need it */
  GMultiHopHook *hsts;        /* the session's HSTS enforcer (a reference); NULL: none */
  char *proxy_uri;            /* for transfers that name none; NULL: not set */
  GMultiProxy *proxy;         /* proxy_uri parsed; NULL: direct (or not set) */
  GError *proxy_error;        /* proxy_uri is invalid: every run fails with it */
  char *proxy_username;       /* for the HTTP proxies of transfers that set none (after
                                 the proxy URI's); NULL: none */
  char *proxy_password;
  GMultiProxyLookup *proxy_lookup; /* asked for the proxy of hops that name none (a
                                      reference); NULL: the *_proxy variables decide */

  /* private */
  gatomicrefcount ref_count;  /* atomic: the built-in values are shared by all threads */
};

/* The built-in values, shared (a new reference): a bare engine's are a transfer's own
 * defaults and no User-Agent; the standard ones, for sessions and
 * gmulti_transfer_perform(), add `User-Agent: gmulti/VERSION`. */
GMultiDefaults *gmulti_defaults_dup_bare     (void);
GMultiDefaults *gmulti_defaults_dup_standard (void);

/* A copy with one reference, to change before it is handed out. */
GMultiDefaults *gmulti_defaults_copy         (const GMultiDefaults *self);
GMultiDefaults *gmulti_defaults_ref          (GMultiDefaults       *self);
void            gmulti_defaults_unref        (GMultiDefaults       *self);

/* On a copy not handed out yet. A value that cannot be sent as a field value is stored
 * with user_agent_error set (and returned in @error): a setter that cannot report an
 * error must still not let it reach the wire. */
gboolean        gmulti_defaults_set_user_agent (GMultiDefaults  *self,
                                                const char      *user_agent,
                                                GError         **error);

/* On a copy not handed out yet: stores @uri and what it parses to (an invalid one as
 * proxy_error, as gmulti_defaults_set_user_agent() does). */
void            gmulti_defaults_set_proxy_uri  (GMultiDefaults  *self,
                                                const char      *uri);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiDefaults, gmulti_defaults_unref)

G_END_DECLS
