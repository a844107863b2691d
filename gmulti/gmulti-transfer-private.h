/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-transfer.h"
#include "gmulti-metrics-private.h"
#include "gmulti-tls-options.h"
#include "engine/gmulti-transfer-run.h"
#include "engine/gmulti-body-writer.h"
#include "engine/gmulti-defaults.h"

G_BEGIN_DECLS

/* Documented limits and defaults. */
#define GMULTI_DEFAULT_MAX_REDIRECTS 20
/* Progress signals are rate-limited to one per this many microseconds. */
#define GMULTI_PROGRESS_INTERVAL_US (100 * G_TIME_SPAN_MILLISECOND)

/* The end of a hop's body chain (engine/gmulti-body-writer.h): a progress stage, then
 * the transfer's sink. The transfer embeds it (one hop at a time) and hands it to the
 * engine through its run's io table; it holds nothing that needs freeing. */
typedef struct {
  GMultiBodyWriter progress;    /* "progress"; STOPPED once the transfer is paused */
  GMultiBodyWriter sink;        /* the output stream, write function or memory; "data" */
  GMultiTransfer *transfer;
  int splice_fd;                /* the output stream's fd for splice(); -1 none, -2 unknown */
  guint splice_serial;          /* the output_stream_serial splice_fd is for */
} GMultiTransferBody;

struct _GMultiTransfer
{
  GObject parent_instance;

  /* The request, as the application set it. */
  char *uri;                 /* as given; validated when the transfer starts */
  GUri *parsed_uri;          /* NULL until set_uri succeeded */
  char *method;              /* "GET" unless set */
  GMultiHeaders *request_headers;
  GBytes *request_body;
  GMultiReadFunc read_func;
  gpointer read_data;
  GDestroyNotify read_destroy;
  gint64 request_body_length; /* -1: unknown, sent chunked (read func only) */

  GMultiWriteFunc write_func;
  gpointer write_data;
  GDestroyNotify write_destroy;
  GOutputStream *output_stream; /* replaces the write function when set */
  guint output_stream_serial;   /* bumped by every set_output_stream() */

  guint connect_timeout_ms;  /* 0: no limit */
  guint timeout_ms;          /* 0: no limit */
  guint low_speed_limit;     /* bytes per second; 0: off */
  guint low_speed_time;      /* seconds */
  guint max_redirects;
  GMultiHttpVersion http_version; /* AUTO: the session's default */
  char *unix_socket_path;    /* NULL: TCP, or the session's */
  char *proxy_uri;           /* NULL: the session's (or none) */
  GProxyResolver *proxy_resolver;     /* NULL: the session's (or none) */
  GProxyResolver *run_proxy_resolver; /* proxy_resolver when the run started, for the
                                         whole run (gmulti-transfer-proxy.c) */

  /* One-bit flags, packed (a transfer is the per-request memory of a session). */
  guint method_set : 1;          /* FALSE: a body makes it POST
                                    (gmulti_transfer_request_method) */
  guint collect_body : 1;
  /* Set by the application: a session's defaults do not replace them. */
  guint connect_timeout_set : 1;
  guint timeout_set : 1;
  guint follow_redirects : 1;
  guint decode_content_set : 1;
  guint decode_content : 1;
  /* Set by a session that detached the transfer: no signal may be emitted any more. */
  guint signals_blocked : 1;
  /* The application's pause (gmulti_transfer_pause()); the run is paused while it is
   * set or the library holds the transfer back (n_holds). */
  guint user_paused : 1;
  guint n_holds;             /* gmulti_transfer_hold() not yet released */

  GMultiTransferState state;

  /* TLS options (https:// only); a session's fill in what is unset when a run starts
   * (gmulti_tls_config_new()). */
  GMultiTlsOptions tls;
  /* Its answer to a certificate that failed verification (gmulti-transfer-tls.c), and
   * the last peer certificate built for the getter, with the chain it was built from. */
  GMultiTlsVerifier tls_verifier;
  GTlsCertificate *peer_certificate;
  GMultiTlsPeer *peer_certificate_of;
  /* Its own cookie jar (wins over the session's) and first party; NULL: none set. */
  GMultiCookieJar *cookie_jar;
  GMultiHstsEnforcer *hsts_enforcer;
  char *first_party_uri;
  /* Credentials (gmulti-transfer-auth.c); NULL: none set. */
  char *username;
  char *password;
  char *bearer_token;
  char *proxy_username;      /* for the HTTP proxy the transfer goes through */
  char *proxy_password;
  guint allow_cleartext_auth : 1;
  struct _GMultiAuthRunState *auth_state; /* the run's, from its first hop to its end */
  struct _GMultiAuthManager *auth_manager; /* its own, for runs without a session's */

  /* The response (status, headers, counts, metrics, result) is in run: the engine
   * fills it in as it arrives, the getters read it there. */
  GByteArray *body_buffer;   /* collected body of the current hop; NULL until the first byte */
  GMultiTransferBody body;   /* where the current hop's body chain ends */

  gint64 last_progress_us;

  /* The session that added the transfer, if any (not a reference). */
  gpointer session;

  /* Everything the engine keeps while the transfer is added (engine/), with the
   * request as the run took it and the response; its observer is gmulti-transfer-run.c. */
  GMultiRun run;
};

/* The method that goes on the wire: the one set, or POST for a request with a body
 * whose method was never set, as curl does. */
static inline const char *
gmulti_transfer_request_method (GMultiTransfer *self)
{
  if (!self->method_set && (self->request_body != NULL || self->read_func != NULL))
    return "POST";
  return self->method;
}

/* Started by an engine and not completed or removed yet: the request it is sending
 * cannot change (see docs/overview.md). */
static inline gboolean
gmulti_transfer_is_running (GMultiTransfer *self)
{
  return self->run.engine != NULL && self->run.start_us != 0 &&
         self->run.phase != GMULTI_RUN_DONE;
}

/* The engine starts the transfer: options set since it was added take effect (the
 * URI is read again). */
void     gmulti_transfer_begin_run (GMultiTransfer *self);
/* Fills the request part of the transfer's run for the run that starts (begin_run,
 * validation, then the request, its options and the run's defaults merged). */
gboolean gmulti_transfer_prepare_run (GMultiTransfer *self,
                                      GError        **error);
/* The options the engine reads again while the transfer runs (connect timeout,
 * low-speed limit, redirects: see their setters) are written through to its run. */
void     gmulti_transfer_sync_run_options (GMultiTransfer *self);
/* What the transfer's run tells it, and the body source and sink it reads and writes
 * (gmulti-transfer-run.c). */
extern const GMultiRunObserver gmulti_transfer_run_observer;
extern const GMultiRunIo gmulti_transfer_run_io;
/* The transfer was removed or cancelled before it completed: its result says so
 * (G_IO_ERROR_CANCELLED, no status). @never_started: it was stopped before an engine
 * took it, so its response is still the previous run's and is reset first. */
void     gmulti_transfer_cancelled (GMultiTransfer *self,
                                    gboolean        never_started);

/* Validation before a transfer starts: URI, scheme, method, options. */
gboolean gmulti_transfer_validate (GMultiTransfer *self,
                                   GError        **error);

/* Clears the result and every response field; called when the transfer is added. */
void     gmulti_transfer_reset_response (GMultiTransfer *self);
/* Clears the current hop's response before a redirect is followed (keeps metrics). */
void     gmulti_transfer_begin_hop      (GMultiTransfer *self);

void     gmulti_transfer_set_state      (GMultiTransfer     *self,
                                         GMultiTransferState state);

/* The final response head arrived: calls the "response-headers" signal. */
void     gmulti_transfer_emit_response_headers (GMultiTransfer *self);
/* Counts body bytes that reached the sink without passing through
 * gmulti_transfer_deliver_body() (spliced into the output stream's file). */
void     gmulti_transfer_count_body     (GMultiTransfer *self,
                                         gsize           length);
/* Hands body bytes to the output stream, the write function or the collected buffer,
 * and to the "data" signal. Returns FALSE when the application asked to abort (@error
 * not set) or the output stream failed (@error set). */
/* Someone listens to the "data" signal (so the bytes must pass through memory). */
gboolean gmulti_transfer_wants_data_signal (GMultiTransfer *self);
gboolean gmulti_transfer_deliver_body   (GMultiTransfer *self,
                                         const guint8   *data,
                                         gsize           length,
                                         GError        **error);
/* Emits "progress" (and notifies the byte counters), at most once per interval unless
 * @force. */
void     gmulti_transfer_report_progress (GMultiTransfer *self,
                                          gboolean        force);

/* Sets up @body for a hop of @self; returns the writer to build the chain on. */
GMultiBodyWriter *gmulti_transfer_body_init (GMultiTransferBody *body,
                                             GMultiTransfer     *self);
/* Stores the result (takes @error, NULL on success) and moves to DONE. */
void     gmulti_transfer_complete       (GMultiTransfer *self,
                                         GError         *error);
/* Emits "finished"; only the session and gmulti_transfer_perform() call it. */
void     gmulti_transfer_emit_finished  (GMultiTransfer *self);

/* Request body source: a GBytes or the read function. */
gboolean gmulti_transfer_has_request_body (GMultiTransfer *self);
gssize   gmulti_transfer_read_request_body (GMultiTransfer *self,
                                            guint8         *buffer,
                                            gsize           length,
                                            GError        **error);
/* Starts the body again from its first byte (redirects, retries). FALSE when the body
 * comes from a read function that has already been read from. */
gboolean gmulti_transfer_rewind_request_body (GMultiTransfer *self);

/* Holds the transfer back (no body delivered or sent) for the library's own flow
 * control, such as a download waiting for its file: unlike gmulti_transfer_pause(), not
 * seen in the paused property, and not undone by the application's resume. Every hold
 * is released once. */
void gmulti_transfer_hold    (GMultiTransfer *self);
void gmulti_transfer_release (GMultiTransfer *self);

/* For the authenticator (auth/gmulti-auth-manager.c). */
struct _GMultiAuth;
struct _GMultiAuthRunState;
struct _GMultiAuthRunState **gmulti_transfer_auth_state (GMultiTransfer *self);
void     gmulti_transfer_auth_run_ended          (GMultiTransfer *self);
gboolean gmulti_transfer_emit_authenticate       (GMultiTransfer     *self,
                                                  struct _GMultiAuth *auth,
                                                  gboolean            retrying);
gboolean gmulti_transfer_has_authenticate_handler (GMultiTransfer *self);
gboolean gmulti_transfer_has_own_credentials     (GMultiTransfer *self);

G_END_DECLS
