/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/uio.h>

#include "gmulti-transfer-run.h"
#include "gmulti-socket-table.h"
#include "gmulti-resolver.h"
#include "tls/gmulti-tls.h"
#include "tls/gmulti-tls-config.h"

G_BEGIN_DECLS

/* RFC 8305: start the next address if the previous one has not answered by then. */
#define GMULTI_CONNECTION_ATTEMPT_DELAY_US (250 * G_TIME_SPAN_MILLISECOND)
#define GMULTI_CONNECTION_MAX_ATTEMPTS 4

typedef enum {
  GMULTI_CONNECTION_CONNECTING,
  GMULTI_CONNECTION_HANDSHAKING, /* TCP connected, TLS handshake under way */
  GMULTI_CONNECTION_ACTIVE,    /* carrying streams */
  GMULTI_CONNECTION_IDLE,      /* in the pool */
  GMULTI_CONNECTION_CLOSED,
} GMultiConnectionState;

typedef struct _GMultiTransfer GMultiTransfer;
typedef struct _GMultiProtocol GMultiProtocol;

/* One transport connection to an origin. It owns the socket, the bytes received but not
 * consumed yet, and the state of the protocol it speaks (gmulti-protocol.h), which
 * carries the streams of the transfers borrowing it, each for one exchange. */
struct _GMultiConnection {
  GMultiEngine *engine;
  gpointer host;                 /* GMultiHost of its origin */
  guint64 id;
  GMultiConnectionState state;
  GMultiSocket *socket;          /* the connected socket; NULL while connecting */
  GMultiTls *tls;                /* NULL for plain http */
  GMultiTlsConfig *tls_config;   /* the settings it was made with (for reuse) */
  GMultiPoll wanted;             /* what the protocol wants; TLS may add OUT to it */

  /* Happy Eyeballs: addresses to try and the attempts under way. */
  GMultiAddress *addresses;
  guint n_addresses;
  guint next_address;
  GMultiSocket *attempts[GMULTI_CONNECTION_MAX_ATTEMPTS];
  guint attempt_address[GMULTI_CONNECTION_MAX_ATTEMPTS]; /* index into addresses */
  guint n_attempts;
  GError *connect_error;         /* the most recent attempt's failure */
  GMultiEngineTimer timer;       /* next attempt */

  /* Once connected: the protocol and its state (streams, framing). */
  const GMultiProtocol *protocol;
  gpointer protocol_state;
  GMultiRun *connecting;         /* until then: the run it is opened for */
  gboolean close_delimited;      /* a body the close ends is under way: over TLS, a
                                    close without close_notify is an error */

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
/* An attempt's socket became writable or failed, or the attempt timer fired.
 * Returns: 1 connected, 0 still trying, -1 failed (error set). */
int               gmulti_connection_connect_step (GMultiConnection *self,
                                                  GMultiSocket     *sock,
                                                  GError          **error);
int               gmulti_connection_connect_timer (GMultiConnection *self,
                                                   GError          **error);

/* Transport I/O (plain TCP today; TLS slots in here). Return bytes moved, 0 at EOF (recv
 * only), -1 with errno EAGAIN when the socket is not ready, -1 with @error otherwise. */
gssize            gmulti_connection_recv     (GMultiConnection *self,
                                              guint8           *buffer,
                                              gsize             length,
                                              GError          **error);
/* TLS only: the next decrypted record, left in GnuTLS's packet (see
 * gmulti_tls_recv_record()); returns as gmulti_connection_recv(). */
gssize            gmulti_connection_recv_record (GMultiConnection  *self,
                                                 GMultiTlsRecord   *record,
                                                 GError           **error);
gssize            gmulti_connection_send     (GMultiConnection   *self,
                                              const struct iovec *iov,
                                              int                 n_iov,
                                              GError            **error);

void              gmulti_connection_want     (GMultiConnection *self,
                                              GMultiPoll        wanted);
/* Starts TLS on the connected socket. Returns: 1 done, 0 under way, -1 failed. */
int               gmulti_connection_start_tls (GMultiConnection *self,
                                               GMultiTlsContext *context,
                                               GMultiTlsConfig  *config,
                                               const char       *host,
                                               guint16           port,
                                               GError          **error);
/* Continues the TLS handshake. Returns: 1 done, 0 under way, -1 failed. */
int               gmulti_connection_handshake (GMultiConnection *self,
                                               GError          **error);
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
void              gmulti_connection_keep_leftover (GMultiConnection *self,
                                                   const guint8     *data,
                                                   gsize             length);

G_END_DECLS
