/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * TLS over one non-blocking byte stream (a transport link: the TCP socket, or any
 * link below), with GnuTLS. Its records go through the lower link's send and recv;
 * "the socket" below means the socket at the bottom of that chain.
 *
 * The layer never blocks and never watches the socket itself: every call does what
 * it can right now and says what it waits for, so the owner keeps driving it from
 * its socket events, as it drives plain TCP. transport/gmulti-tls-link.c puts it in
 * a link chain.
 *
 *   connect (TCP) -> gmulti_tls_new()
 *   gmulti_tls_handshake_step() on every event until DONE, watching the socket for
 *     reading on WANT_READ and for writing on WANT_WRITE
 *   gmulti_tls_send() / gmulti_tls_flush() / gmulti_tls_recv() / gmulti_tls_pending()
 *   gmulti_tls_close() on an orderly close, then gmulti_tls_free(), then free the link
 *   below
 *
 * Reading: gmulti_tls_recv() decrypts records until the caller's buffer is full or the
 * socket has nothing more. What does not fit stays inside GnuTLS, where poll() cannot
 * see it, and so does an end of stream or error met after bytes already returned.
 * After a read, while gmulti_tls_pending() is above zero, read again without waiting
 * for the socket.
 *
 * Writing: gmulti_tls_send() takes bytes into GnuTLS (at most GMULTI_TLS_SEND_MAX
 * per call, packed into as few records as possible) and reports them consumed even
 * when the socket did not take all of the records yet. Those are then flushed by the
 * next gmulti_tls_send() or gmulti_tls_flush(); as long as gmulti_tls_wants_write()
 * is TRUE the owner must watch the socket for writing and call gmulti_tls_flush()
 * when it is writable, even when it has nothing more to send.
 */

#include <glib.h>
#include <sys/uio.h>

#include "gmulti-tls-config.h"
#include "gmulti-tls-context.h"
#include "gmulti-tls-peer.h"
#include "transport/gmulti-link.h"

G_BEGIN_DECLS

/* The most plaintext gmulti_tls_send() takes in one call: a few full records, which
 * bounds what GnuTLS holds for a slow socket. */
#define GMULTI_TLS_SEND_MAX (64 * 1024)

typedef enum {
  GMULTI_TLS_DONE,
  GMULTI_TLS_WANT_READ,      /* call again when the socket is readable */
  GMULTI_TLS_WANT_WRITE,     /* call again when the socket is writable */
  GMULTI_TLS_ERROR,          /* error set; the connection cannot be used any more */
} GMultiTlsStatus;

typedef struct _GMultiTls GMultiTls;

/* Sets up a client session over @lower (open, non-blocking; not owned: the caller
 * frees it after gmulti_tls_free()). @host is the URI's host (an IPv6 literal with or
 * without brackets): it is sent as SNI unless it is an IP address, and the server's
 * certificate must name it. @port completes the session-resumption key. Resumes a
 * session cached in @context for the same origin and config. Errors:
 * GMULTI_ERROR_TLS_BAD_CERTIFICATE (files), GMULTI_ERROR_INVALID_ARGUMENT (priority
 * string). Nothing is sent until the first handshake step. */
GMultiTls       *gmulti_tls_new            (GMultiTlsContext *context,
                                            GMultiTlsConfig  *config,
                                            GMultiLink       *lower,
                                            const char       *host,
                                            guint16           port,
                                            GError          **error);
/* Before the first handshake step: offer "h2" ahead of "http/1.1" in ALPN (a new
 * session offers only "http/1.1"). */
void             gmulti_tls_set_offer_h2   (GMultiTls        *self,
                                            gboolean          offer_h2);
/* The owner's say when the server's certificate fails verification (tls-verify on):
 * @accept is called inside the handshake step that found it, synchronously, and TRUE
 * goes on with the handshake as if it had passed (the pin check still applies). Such a
 * session is never stored for resumption, since a resumed one skips verification. */
typedef struct _GMultiTlsVerifier GMultiTlsVerifier;
struct _GMultiTlsVerifier {
  gboolean (*accept) (const GMultiTlsVerifier *self,
                      GMultiTlsPeer           *peer);
};

/* Before the first handshake step; @verifier must outlive the handshake (NULL: none,
 * failures fail). */
void             gmulti_tls_set_verifier   (GMultiTls               *self,
                                            const GMultiTlsVerifier *verifier);
/* Another run takes the connection over during the handshake: its owner is asked from
 * now on. FALSE (and nothing changed) once the checks ran: a certificate the first
 * owner accepted is that owner's only. */
gboolean         gmulti_tls_hand_over_verifier (GMultiTls               *self,
                                                const GMultiTlsVerifier *verifier);
/* GnuTLS's verify function, for the credentials (gmulti-tls-context.c). */
int              gmulti_tls_verify_cb      (gnutls_session_t         session);

/* Frees the session; does not send anything and does not touch the lower link. */
void             gmulti_tls_free           (GMultiTls        *self);
/* Frees the read-ahead buffer if it holds nothing, and with @keep_if_streaming only if
 * its last refill did not fill it either (a stream that keeps it busy keeps it). */
void             gmulti_tls_trim           (GMultiTls        *self,
                                            gboolean          keep_if_streaming);

/* Advances the handshake. DONE once it completed and the server's certificate passed
 * verification (or the verifier accepted it) and the pin check; the first DONE also stores the session for
 * resumption (TLS 1.3 sessions are stored when their ticket arrives, during a later
 * gmulti_tls_recv()). Errors: GMULTI_ERROR_TLS_* as documented in gmulti-enums.h. */
GMultiTlsStatus  gmulti_tls_handshake_step (GMultiTls        *self,
                                            GError          **error);

/* Decrypted bytes into @buffer (@length > 0): as many records as fit and have arrived.
 * Returns the count; 0 at the end of the stream (see gmulti_tls_was_clean_close());
 * -1 with errno EAGAIN when nothing could be read and the socket has to become
 * readable first (or writable, if gmulti_tls_wants_write()); -1 with @error set
 * otherwise (errno then is EIO). An end or error found after some bytes is returned by
 * the next call. Warning alerts, renegotiation requests (refused) and post-handshake
 * messages such as session tickets are handled inside. Only after the handshake. */
gssize           gmulti_tls_recv           (GMultiTls        *self,
                                            guint8           *buffer,
                                            gsize             length,
                                            GError          **error);
/* One decrypted record, read without copying it out of GnuTLS. The packet belongs to
 * the caller (it outlives the GMultiTls) until gmulti_tls_record_clear(). */
struct _GMultiTlsRecord {
  gpointer packet;              /* gnutls_packet_t */
  const guint8 *data;           /* as many bytes as gmulti_tls_recv_record() returned */
};

/* gmulti_tls_recv() for one record at a time: returns its length with @record filled
 * in (clear it before the next call), and otherwise as gmulti_tls_recv(). */
gssize           gmulti_tls_recv_record    (GMultiTls        *self,
                                            GMultiTlsRecord  *record,
                                            GError          **error);
void             gmulti_tls_record_clear   (GMultiTlsRecord  *record);
/* After gmulti_tls_recv() returned 0: TRUE if the server sent close_notify, FALSE if
 * the TCP connection just ended (a truncation attack cannot be told apart from that,
 * so a body that is delimited by the close must then be treated as failed; see
 * gmulti_tls_set_unclean_close_error()). */
gboolean         gmulti_tls_was_clean_close (GMultiTls       *self);
void             gmulti_tls_set_unclean_close_error (GError **error);
/* Non-zero when the next gmulti_tls_recv() may have something without the socket:
 * decrypted bytes waiting inside GnuTLS plus ciphertext read ahead (their count), or an
 * end of stream or error not returned yet (1). Read again before waiting for the
 * socket, which may never signal those. Ciphertext read ahead can end inside a record;
 * then that read answers EAGAIN, and the socket signals the rest when it comes. */
gsize            gmulti_tls_pending        (GMultiTls        *self);
/* Bytes held on this side of the socket: decrypted and not returned yet, plus
 * ciphertext read ahead (a partial record GnuTLS holds is not counted). */
gsize            gmulti_tls_buffered       (GMultiTls        *self);

/* Encrypts up to GMULTI_TLS_SEND_MAX bytes from @iov. Returns how many were taken
 * (all of them are GnuTLS's from then on, whether or not the socket took them yet);
 * -1 with errno EAGAIN when records of an earlier call still wait for the socket and
 * it is full (watch for writing); -1 with @error otherwise (GMULTI_ERROR_SEND_FAILED
 * when the socket failed, GMULTI_ERROR_TLS_FAILED for a TLS failure). Only after the
 * handshake. */
gssize           gmulti_tls_send           (GMultiTls          *self,
                                            const struct iovec *iov,
                                            int                 n_iov,
                                            GError            **error);
/* Pushes records that gmulti_tls_send() took but the socket did not. DONE when none
 * are left, WANT_WRITE when the socket is full again, ERROR with @error. */
GMultiTlsStatus  gmulti_tls_flush          (GMultiTls        *self,
                                            GError          **error);
/* TRUE while the socket must be watched for writing even though the owner has
 * nothing to send: records wait to be flushed, or GnuTLS must answer something while
 * reading (a key update). */
gboolean         gmulti_tls_wants_write    (GMultiTls        *self);

/* Orderly close: best-effort, non-blocking close_notify (flushes first if it can).
 * Does nothing after an error or before the handshake completed. */
void             gmulti_tls_close          (GMultiTls        *self);

/* After the handshake: whether the session was resumed, the ALPN protocol the server
 * chose (NULL if none), and the protocol version's name ("TLS1.3"). */
gboolean         gmulti_tls_is_resumed     (GMultiTls        *self);
const char      *gmulti_tls_get_alpn_protocol (GMultiTls     *self);
const char      *gmulti_tls_get_version_name  (GMultiTls     *self);
/* The server's chain and what verification found (borrowed; NULL when the server sent
 * none, or resumed a session without it). Valid once the certificate arrived: after
 * the handshake, or after it failed on the certificate. */
GMultiTlsPeer   *gmulti_tls_get_peer          (GMultiTls     *self);
/* The server's certificate failed verification and the verifier accepted it. */
gboolean         gmulti_tls_is_accepted       (GMultiTls     *self);

G_END_DECLS
