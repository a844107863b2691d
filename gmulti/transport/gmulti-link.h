/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A transport link: one layer of the byte stream under a connection (the socket, TLS
 * over it, later a proxy tunnel). Links form a chain, each holding the one below; the
 * connection talks only to the top one.
 *
 * A link calls only the link below it. It never watches a socket and never calls the
 * engine: every call does what it can now and says by its return value what it waits
 * for, and the owner turns that into socket interest and timers, as it does for the
 * protocol on top.
 *
 *   open() until DONE (each link once the one below is open), then
 *   send() / recv() / recv_record() while open; pending() > 0: read again without
 *   waiting for the socket; interest(): what the link needs watched whatever the
 *   protocol waits for, flush() when that becomes ready;
 *   gmulti_link_free_chain() from the top (the top says goodbye through the ones below).
 */

#include <glib.h>
#include <sys/uio.h>

G_BEGIN_DECLS

typedef struct _GMultiLink GMultiLink;
typedef struct _GMultiLinkOps GMultiLinkOps;
typedef struct _GMultiLinkOpen GMultiLinkOpen;
/* The zero-copy record of the TLS link (tls/gmulti-tls.h). */
typedef struct _GMultiTlsRecord GMultiTlsRecord;

/* What open() and flush() wait for. */
typedef enum {
  GMULTI_LINK_DONE,
  GMULTI_LINK_WANT_READ,       /* call again when the socket is readable */
  GMULTI_LINK_WANT_WRITE,      /* ... writable (or one of the sockets reported) */
  GMULTI_LINK_ERROR,           /* error set; the link cannot be used any more */
} GMultiLinkStatus;

/* What a link needs watched besides what the protocol asks for. */
typedef enum {
  GMULTI_LINK_INTEREST_NONE = 0,
  GMULTI_LINK_INTEREST_READ = 1 << 0,
  GMULTI_LINK_INTEREST_WRITE = 1 << 1,
} GMultiLinkInterest;

/* Happy Eyeballs keeps at most this many connection attempts at once. */
#define GMULTI_LINK_MAX_SOCKETS 4

/* One open() call's input and what it asks its owner for. A link that makes sockets
 * (the bottom one) reports them here instead of registering them itself: the owner
 * watches each new one for writing, stops watching and closes each given up one (the
 * link never closes a socket it reported), and calls open() again at the deadline
 * with @ready_fd -1. gmulti_link_open() clears the output before each call. */
struct _GMultiLinkOpen {
  gint64 now;                  /* in: monotonic time, for the deadline */
  int ready_fd;                /* in: the socket the event is for; -1: the deadline */

  int opened[GMULTI_LINK_MAX_SOCKETS];   /* out: new sockets, watch them for writing */
  guint n_opened;
  int given_up[GMULTI_LINK_MAX_SOCKETS]; /* out: stop watching, then close them */
  guint n_given_up;
  gint64 deadline;             /* out: call again then; 0: no more (cancel an earlier
                                * one); -1: keep the one set before */
};

struct _GMultiLinkOps {
  const char *name;            /* "tcp", "tls": for descriptions and logs */

  /* Advances the opening (connect, handshake) of this link, the one below being open
   * already. DONE, WANT_READ/WANT_WRITE, or ERROR with @error. */
  GMultiLinkStatus (*open)          (GMultiLink         *self,
                                     GMultiLinkOpen     *io,
                                     GError            **error);
  /* Bytes into @buffer (@length > 0): their count; 0 at the end of the stream; -1 with
   * errno EAGAIN when nothing is there yet (no @error); -1 with @error on failure. */
  gssize           (*recv)          (GMultiLink         *self,
                                     guint8             *buffer,
                                     gsize               length,
                                     GError            **error);
  /* Bytes from @iov taken: their count; -1 with errno EAGAIN when nothing could be
   * taken now; -1 with @error on failure. */
  gssize           (*send)          (GMultiLink         *self,
                                     const struct iovec *iov,
                                     int                 n_iov,
                                     GError            **error);

  /* Optional; each has the default given when NULL. */

  /* One record, read without copying it (NULL: the link has no records, use recv). */
  gssize           (*recv_record)   (GMultiLink         *self,
                                     GMultiTlsRecord    *record,
                                     GError            **error);
  /* Non-zero when the next recv has something without the socket (default: the
   * lower link's). */
  gsize            (*pending)       (GMultiLink         *self);
  /* Bytes taken from below and not returned yet (default: the lower link's). */
  gsize            (*buffered)      (GMultiLink         *self);
  /* What must be watched whatever the protocol waits for: TLS records not written yet
   * need WRITE (default: the lower link's). */
  GMultiLinkInterest (*interest)    (GMultiLink         *self);
  /* Pushes out what interest() waits to write: DONE, WANT_WRITE or ERROR (default:
   * the lower link's flush, DONE at the bottom). */
  GMultiLinkStatus (*flush)         (GMultiLink         *self,
                                     GError            **error);
  /* After recv returned 0: whether the peer ended the stream on purpose (TLS:
   * close_notify) rather than the stream just stopping. Default TRUE. */
  gboolean         (*eof_was_clean) (GMultiLink         *self);
  /* Gives back buffers holding nothing (see gmulti_tls_trim()). Default: the lower
   * link's. */
  void             (*trim)          (GMultiLink         *self,
                                     gboolean            keep_if_streaming);
  /* Says goodbye through the lower link if it can (best effort, never waits) and
   * frees this link only. Default g_free(). */
  void             (*free)          (GMultiLink         *self);
};

/* Each link type embeds this first. */
struct _GMultiLink {
  const GMultiLinkOps *ops;
  GMultiLink *lower;           /* NULL at the bottom */
  /* The most bytes this link may hold that buffered() does not count (a partial TLS
   * record inside GnuTLS). */
  gsize unseen_max;
};

static inline gssize
gmulti_link_recv (GMultiLink  *self,
                  guint8      *buffer,
                  gsize        length,
                  GError     **error)
{
  return self->ops->recv (self, buffer, length, error);
}

static inline gssize
gmulti_link_send (GMultiLink          *self,
                  const struct iovec  *iov,
                  int                  n_iov,
                  GError             **error)
{
  return self->ops->send (self, iov, n_iov, error);
}

static inline gboolean
gmulti_link_has_records (GMultiLink *self)
{
  return self->ops->recv_record != NULL;
}

GMultiLinkStatus   gmulti_link_open          (GMultiLink       *self,
                                              GMultiLinkOpen   *io,
                                              GError          **error);
gssize             gmulti_link_recv_record   (GMultiLink       *self,
                                              GMultiTlsRecord  *record,
                                              GError          **error);
gsize              gmulti_link_pending       (GMultiLink       *self);
gsize              gmulti_link_buffered      (GMultiLink       *self);
/* unseen_max over the whole chain. */
gsize              gmulti_link_unseen_max    (GMultiLink       *self);
GMultiLinkInterest gmulti_link_interest      (GMultiLink       *self);
GMultiLinkStatus   gmulti_link_flush         (GMultiLink       *self,
                                              GError          **error);
gboolean           gmulti_link_eof_was_clean (GMultiLink       *self);
void               gmulti_link_trim          (GMultiLink       *self,
                                              gboolean          keep_if_streaming);
/* The link at the bottom of the chain (the socket). */
GMultiLink        *gmulti_link_bottom        (GMultiLink       *self);
/* Frees @self and every link below it, top first. */
void               gmulti_link_free_chain    (GMultiLink       *self);

G_END_DECLS
