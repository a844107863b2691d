/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/uio.h>

#include "gmulti-transfer-run.h"
#include "gmulti-socket-table.h"
#include "gmulti-resolver.h"
#include "tls/gmulti-tls.h"
#include "tls/gmulti-tls-config.h"
#include "transport/gmulti-link.h"

G_BEGIN_DECLS

typedef enum {
  GMULTI_CONNECTION_CONNECTING,
  GMULTI_CONNECTION_HANDSHAKING, /* TCP connected, the links above it opening (TLS
                                    handshakes, a proxy tunnel) */
  GMULTI_CONNECTION_ACTIVE,    /* carrying streams */
  GMULTI_CONNECTION_IDLE,      /* in the pool */
  GMULTI_CONNECTION_CLOSED,
} GMultiConnectionState;

typedef struct _GMultiProtocol GMultiProtocol;

/* One transport connection to an origin (or to a forwarding proxy). It owns the chain of
 * transport links (the TCP socket at the bottom; TLS to a proxy, a proxy tunnel and TLS
 * to the origin over it as the hop needs: transport/gmulti-link.h) and turns what
 * they wait for into socket interest and timers; the bytes received but not consumed
 * yet; and the state of the protocol it speaks (gmulti-protocol.h), which carries the
 * streams of the transfers borrowing it, each for one exchange. */
struct _GMultiConnection {
  GMultiEngine *engine;
  gpointer host;                 /* GMultiHost of its origin */
  guint64 id;
  GMultiConnectionState state;
  GMultiSocket *socket;          /* the connected socket; NULL while connecting */
  GMultiLink *top;               /* the link the protocol talks to; NULL before connect */
  GMultiLink *tcp;               /* the bottom one (the socket) */
  GMultiLink *origin_tls;        /* TLS to the origin, the top once open; NULL: none */
  GMultiLink *tunnel;            /* the CONNECT tunnel through an HTTP proxy; NULL: none */
  guint layer;                   /* the next layer gmulti_connection_open_chain() adds */
  gboolean layer_opening;        /* the top link is still opening */
  GMultiPoll wanted;             /* what the protocol wants; a link may add to it */

  /* The sockets of the connection attempts the TCP link reported (Happy Eyeballs). */
  GMultiSocket *attempts[GMULTI_LINK_MAX_SOCKETS];
  guint n_attempts;
  GMultiEngineTimer timer;       /* next attempt */

  /* Once connected: the protocol and its state (streams, framing). */
  const GMultiProtocol *protocol;
  gpointer protocol_state;
  GMultiRun *connecting;         /* until then: the run it is opened for */

  int low_water;                 /* SO_RCVLOWAT as last set; 0 = the kernel's default */
  guint n_receives;              /* readable events handled */
  guint low_water_receives;      /* n_receives when the low-water deadline was armed */

  /* Bytes received but not consumed (a partial line, or held for a paused transfer). */
  guint8 *leftover;
  gsize leftover_length;

  GList link;                    /* engine->connections */
  GList idle_link;               /* host->idle */
  GList room_link;               /* host->room, while in_room */
  gboolean in_room;
  GList lru_link;                /* engine->idle_lru */
  gboolean multiplexing;         /* counted in its host's n_multiplexing (gmulti-pool.c) */
  gboolean exclusive;            /* its run's owner accepted a certificate that failed
                                    verification: for that run alone, never pooled */
};

GMultiConnection *gmulti_connection_new      (GMultiEngine *engine,
                                              gpointer      host,
                                              guint64       id);
/* Closes (REMOVE is announced before the fd is closed) and frees. */
void              gmulti_connection_free     (GMultiConnection *self);

/* Starts connecting to @addresses (copied). Returns FALSE with @error if no attempt
 * could even start. */
gboolean          gmulti_connection_connect  (GMultiConnection    *self,
                                              const GMultiAddress *addresses,
                                              guint                n_addresses,
                                              GError             **error);
/* Starts connecting to the Unix socket at @path ('@' first: a Linux abstract one).
 * Returns FALSE with @error if the path is no socket address. */
gboolean          gmulti_connection_connect_unix (GMultiConnection *self,
                                                  const char       *path,
                                                  GError          **error);
/* An attempt's socket became writable or failed, or the attempt timer fired.
 * Returns: 1 connected, 0 still trying, -1 failed (error set). */
int               gmulti_connection_connect_step (GMultiConnection *self,
                                                  GMultiSocket     *sock,
                                                  GError          **error);
int               gmulti_connection_connect_timer (GMultiConnection *self,
                                                   GError          **error);

/* Transport I/O through the top link. Return bytes moved, 0 at EOF (recv only; see
 * gmulti_connection_eof_was_clean()), -1 with errno EAGAIN when the socket is not
 * ready, -1 with @error otherwise. */
gssize            gmulti_connection_recv     (GMultiConnection *self,
                                              guint8           *buffer,
                                              gsize             length,
                                              GError          **error);
/* Only when gmulti_connection_has_records(): the next decrypted record, left in
 * GnuTLS's packet (see gmulti_tls_recv_record()); returns as gmulti_connection_recv(). */
gssize            gmulti_connection_recv_record (GMultiConnection  *self,
                                                 GMultiTlsRecord   *record,
                                                 GError           **error);
gssize            gmulti_connection_send     (GMultiConnection   *self,
                                              const struct iovec *iov,
                                              int                 n_iov,
                                              GError            **error);

void              gmulti_connection_want     (GMultiConnection *self,
                                              GMultiPoll        wanted);
/* Adds and opens the links above the connected socket that @run's hop needs, each
 * once the one below is open: TLS to an https:// proxy, a tunnel through a proxy, TLS
 * to the origin. Called again on each socket event until done. Returns: 1 done (the
 * chain carries requests), 0 under way, -1 failed. */
int               gmulti_connection_open_chain (GMultiConnection *self,
                                                GMultiTlsContext *context,
                                                GMultiRun        *run,
                                                GError          **error);
/* After gmulti_connection_open_chain() failed on a proxy's 407 to CONNECT: the
 * answer's header fields (the caller owns them), else NULL. */
GMultiHeaders    *gmulti_connection_take_proxy_challenge (GMultiConnection *self);
/* After the TLS handshake: the ALPN protocol the server chose; NULL for none or
 * without TLS. */
const char       *gmulti_connection_get_alpn  (GMultiConnection *self);
/* The origin's certificates once they arrived (borrowed); NULL without TLS. */
GMultiTlsPeer    *gmulti_connection_get_tls_peer (GMultiConnection *self);
/* The connection, still being made, goes on for another run whose owner's verifier
 * is asked from now on. FALSE if it cannot: its TLS checks already ran. */
gboolean          gmulti_connection_hand_over (GMultiConnection        *self,
                                               const GMultiTlsVerifier *verifier);
/* Sends TLS records GnuTLS still holds. FALSE on failure. */
gboolean          gmulti_connection_flush    (GMultiConnection *self,
                                              GError          **error);
/* Decrypted bytes wait inside TLS: read them without waiting for the socket. */
gboolean          gmulti_connection_has_pending (GMultiConnection *self);
/* Lets the socket become readable only once @bytes are queued (0: at once). A mark
 * is dropped again when no readable event came for GMULTI_LOW_WATER_DEADLINE_US (the
 * connection timer, free once connected, keeps that deadline). */
void              gmulti_connection_set_low_water (GMultiConnection *self,
                                                   gsize             bytes);
/* The connection timer fired while a low-water mark was set. */
void              gmulti_connection_low_water_timer (GMultiConnection *self);
/* Bytes taken from the socket that the next recv returns without it (TLS). */
gsize             gmulti_connection_buffered (GMultiConnection *self);
/* The most bytes the chain may hold besides those (a TLS record being assembled). */
gsize             gmulti_connection_unseen_max (GMultiConnection *self);
/* The top link reads whole records without a copy (gmulti_connection_recv_record()). */
gboolean          gmulti_connection_has_records (GMultiConnection *self);
/* After a recv returned 0: whether the server ended the stream on purpose (TLS
 * close_notify; always TRUE for plain TCP). A body delimited by the close that ended
 * without it may have been cut short. */
gboolean          gmulti_connection_eof_was_clean (GMultiConnection *self);
/* The socket's descriptor when the chain is the bare socket (bytes may be spliced
 * from it), else -1. */
int               gmulti_connection_splice_fd (GMultiConnection *self);
/* Gives back the links' empty buffers (see gmulti_tls_trim()). */
void              gmulti_connection_trim     (GMultiConnection *self,
                                              gboolean          keep_if_streaming);
void              gmulti_connection_keep_leftover (GMultiConnection *self,
                                                   const guint8     *data,
                                                   gsize             length);

G_END_DECLS
