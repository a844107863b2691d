/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-transfer-private.h"

/* What the files of the GMultiTransfer object share with each other (and nothing
 * else: the engine and the session use gmulti-transfer-private.h):
 *
 * - gmulti-transfer.c: the object, its properties and signals, its state;
 * - gmulti-transfer-request.c: URI, method, header fields, validation;
 * - gmulti-transfer-request-body.c: the request body and how the engine reads it;
 * - gmulti-transfer-delivery.c: the response body's sink, "data" and "progress";
 * - gmulti-transfer-options.c: timeouts, low-speed limit, redirects;
 * - gmulti-transfer-tls.c: the TLS options;
 * - gmulti-transfer-content.c: content decoding and the Unix socket;
 * - gmulti-transfer-cookies.c: the cookie jar and the first party. */

G_BEGIN_DECLS

/* State the engine never reads. */
typedef struct
{
  gsize body_offset;          /* next byte of request_body to hand out */
  guint64 read_total;         /* bytes the read function supplied since its last rewind */
  gboolean read_started;      /* the read function has been called */
  GInputStream *body_stream;  /* set by set_request_body_stream (owned by read_data) */
  goffset body_stream_start;  /* where a seekable body stream starts, for a rewind */

  /* What the last notifications announced, so that only real changes are notified. */
  guint notified_status;
  char *notified_effective_uri;
  gint64 notified_expected;
  guint64 notified_received;
  guint64 notified_sent;
  double notified_progress;
} GMultiTransferPrivate;

enum {
  PROP_0,
  PROP_URI,
  PROP_METHOD,
  PROP_FOLLOW_REDIRECTS,
  PROP_MAX_REDIRECTS,
  PROP_TIMEOUT,
  PROP_CONNECT_TIMEOUT,
  PROP_LOW_SPEED_LIMIT,
  PROP_LOW_SPEED_TIME,
  PROP_COLLECT_BODY,
  PROP_OUTPUT_STREAM,
  PROP_STATE,
  PROP_STATUS,
  PROP_EFFECTIVE_URI,
  PROP_BYTES_RECEIVED,
  PROP_BYTES_EXPECTED,
  PROP_BYTES_SENT,
  PROP_PROGRESS,
  PROP_PAUSED,
  PROP_HTTP_VERSION,
  PROP_DECODE_CONTENT,
  PROP_UNIX_SOCKET_PATH,
  PROP_PROXY_URI,
  PROP_COOKIE_JAR,
  PROP_FIRST_PARTY_URI,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_BEARER_TOKEN,
  PROP_ALLOW_CLEARTEXT_AUTH,
  PROP_HSTS_ENFORCER,
  PROP_PROXY_RESOLVER,
  PROP_PROXY_USERNAME,
  PROP_PROXY_PASSWORD,
  PROP_TLS_FIRST,            /* GMULTI_TLS_N_OPTIONS ids, in GMultiTlsOption order */
  N_PROPS = PROP_TLS_FIRST + GMULTI_TLS_N_OPTIONS
};

enum {
  SIGNAL_RESPONSE_HEADERS,
  SIGNAL_DATA,
  SIGNAL_PROGRESS,
  SIGNAL_FINISHED,
  SIGNAL_AUTHENTICATE,
  SIGNAL_ACCEPT_CERTIFICATE,
  N_SIGNALS
};

extern GParamSpec *gmulti_transfer_pspecs[N_PROPS];
extern guint gmulti_transfer_signals[N_SIGNALS];

GMultiTransferPrivate *gmulti_transfer_get_priv (GMultiTransfer *self);

/* Notifies the response properties that changed since they were last notified. */
void     gmulti_transfer_notify_response_changes (GMultiTransfer *self);

/* For the properties: store without checking (validated when the transfer starts). */
void     gmulti_transfer_store_uri      (GMultiTransfer *self,
                                         const char     *uri);
void     gmulti_transfer_store_method   (GMultiTransfer *self,
                                         const char     *method);
void     gmulti_transfer_set_low_speed_limit (GMultiTransfer *self,
                                              guint           bytes_per_sec);
void     gmulti_transfer_set_low_speed_time  (GMultiTransfer *self,
                                              guint           seconds);

/* Notifies the TLS options in @changed (a mask from gmulti-tls-options.h). */
void     gmulti_transfer_tls_changed     (GMultiTransfer *self,
                                          guint           changed);

/* gmulti-transfer-tls.c: the accept-certificate signal; the verifier for the run that
 * starts (NULL when nobody handles the signal). */
void     gmulti_transfer_install_tls_signal (GObjectClass *klass);
const GMultiTlsVerifier *gmulti_transfer_tls_verifier (GMultiTransfer *self);
/* Drops the certificate built for the getter (finalize). */
void     gmulti_transfer_tls_clear       (GMultiTransfer *self);

/* gmulti-transfer-content.c: its properties' specs (installed by the caller). */
void     gmulti_transfer_install_content_properties (GObjectClass *object_class);
/* The cookie properties (gmulti-transfer-cookies.c), and the hook of its own jar for
 * its run (NULL: none). */
GMultiHopHook *gmulti_transfer_cookie_hook (GMultiTransfer *self);
void     gmulti_transfer_install_cookie_properties (GParamSpec **pspecs);
/* gmulti-transfer-auth.c: credentials and the authenticate signal. */
void     gmulti_transfer_install_auth_properties (GParamSpec **pspecs);
void     gmulti_transfer_install_auth_signal     (GObjectClass *klass);
/* The authenticator for the run that starts (NULL: none); drops the last run's state. */
GMultiHopHook *gmulti_transfer_auth_hook (GMultiTransfer              *self,
                                          const struct _GMultiDefaults *defaults);
/* Drops everything the transfer keeps for authentication (finalize). */
void     gmulti_transfer_auth_clear      (GMultiTransfer *self);
/* The same for the HSTS enforcer (gmulti-transfer-hsts.c). */
GMultiHopHook *gmulti_transfer_hsts_hook (GMultiTransfer *self);
void     gmulti_transfer_install_hsts_properties (GParamSpec **pspecs);
/* The proxy-resolver property (gmulti-transfer-proxy.c); for the run that starts,
 * keeps the resolver it uses and says whether there is one. */
void     gmulti_transfer_install_proxy_properties (GParamSpec **pspecs);
gboolean gmulti_transfer_proxy_resolver_for_run   (GMultiTransfer *self);

/* Drops the read function (and the body stream), calling its destroy notify. */
void     gmulti_transfer_clear_read_func (GMultiTransfer *self);

G_END_DECLS
