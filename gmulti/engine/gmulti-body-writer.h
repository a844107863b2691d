/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "coding/gmulti-decoder.h"

G_BEGIN_DECLS

/* A response body on its way out of a protocol: a chain of writers per hop, built when
 * the hop's head is known. A protocol only writes body bytes into the chain (and says
 * where the body ends); the stages undo codings, count and report progress, and the
 * last one, the sink, delivers. HTTP/1.1 and HTTP/2 write into the same chain.
 *
 *   [transfer-coding decoder] -> [content-coding decoder] -> [progress] -> [sink]
 *
 * A writer's result: */
typedef enum {
  GMULTI_BODY_OK,       /* every byte was taken and passed on */
  GMULTI_BODY_STOPPED,  /* every byte was taken, but the application paused: a stage
                         * keeps what it did not pass on yet; write again (none or the
                         * next bytes) to go on */
  GMULTI_BODY_ERROR,    /* the error is set; the chain is only cleared now */
} GMultiBodyStatus;

typedef struct _GMultiBodyWriter GMultiBodyWriter;

typedef struct {
  /* Takes @length bytes; 0 of them: goes on with what this stage and the ones after
   * it keep from a STOPPED. */
  GMultiBodyStatus (*write)     (GMultiBodyWriter  *self,
                                 const guint8      *data,
                                 gsize              length,
                                 GError           **error);
  /* The body ended: a decoder passes on what it holds and checks its format ended
   * too. STOPPED: call again to go on. */
  GMultiBodyStatus (*finish)    (GMultiBodyWriter  *self,
                                 GError           **error);
  /* Optional. The descriptor the body may be spliced into, bypassing this writer and
   * all after it, or -1. Only a stage that passes bytes on unchanged answers (by
   * asking the next); a stage that changes them has none. */
  int              (*splice_fd) (GMultiBodyWriter  *self);
  /* With splice_fd: @length body bytes went into that descriptor (counted, reported).
   * OK or STOPPED. */
  GMultiBodyStatus (*spliced)   (GMultiBodyWriter  *self,
                                 gsize              length);
  /* Releases what the writer holds, called by its owner (a chain, for the stages it
   * built); the writer's memory is the owner's too. Optional. */
  void             (*clear)     (GMultiBodyWriter  *self);
} GMultiBodyWriterOps;

struct _GMultiBodyWriter {
  const GMultiBodyWriterOps *ops;
  GMultiBodyWriter *next;       /* where this stage writes; NULL for a sink */
};

static inline GMultiBodyStatus
gmulti_body_writer_write (GMultiBodyWriter  *self,
                          const guint8      *data,
                          gsize              length,
                          GError           **error)
{
  return self->ops->write (self, data, length, error);
}

static inline GMultiBodyStatus
gmulti_body_writer_finish (GMultiBodyWriter  *self,
                           GError           **error)
{
  return self->ops->finish (self, error);
}

static inline int
gmulti_body_writer_splice_fd (GMultiBodyWriter *self)
{
  return self->ops->splice_fd != NULL ? self->ops->splice_fd (self) : -1;
}

/* A stage that undoes the codings one header field lists: one GMultiDecoder for all
 * of them, which lets a pause stop every coding where it was with no copy between
 * them. */
typedef struct {
  GMultiBodyWriter base;
  GMultiDecoder *decoder;
  /* A content-coding stage only (else all 0/NULL): */
  guint64 *wire_counters[2];  /* add the coded bytes taken */
  guint64 coded, decoded;     /* taken and passed on so far */
  guint64 max_decoded;        /* 0: no limit */
  guint max_ratio;            /* decoded per coded byte, past GMULTI_DECODE_RATIO_SLACK;
                                 0: no limit */
} GMultiBodyDecoder;

/* Decoded bytes a body may have before its expansion ratio is checked: a small body
 * of one repeated byte is no bomb. */
#define GMULTI_DECODE_RATIO_SLACK (1024 * 1024)

/* How a content-coding stage is set up. */
typedef struct {
  const GMultiCoding *codings;  /* as Content-Encoding lists them */
  guint n_codings;              /* 0: no content-coding stage */
  guint64 *wire_counters[2];    /* each gets the coded bytes added; may be NULL */
  guint64 max_decoded;          /* more decoded bytes fail the body; 0: no limit */
  guint max_ratio;              /* a higher ratio fails it; 0: no limit */
} GMultiContentDecoding;

/* Decoder stages a chain has room for: the transfer codings and the content codings. */
#define GMULTI_BODY_CHAIN_MAX_DECODERS 2

/* One hop's chain; it lives in the protocol's stream state. All zero: no chain (a body
 * only framed, such as a redirect's being followed). */
typedef struct {
  GMultiBodyWriter *head;       /* where the protocol writes; NULL: no chain */
  GMultiBodyDecoder decoders[GMULTI_BODY_CHAIN_MAX_DECODERS];
  guint n_decoders;
  gboolean stopped;             /* the last write or finish was STOPPED */
} GMultiBodyChain;

/* Builds the chain of a hop whose body the sender coded with @transfer_codings (in the
 * order applied, as the parser names them; 0 to GMULTI_DECODER_MAX_CODINGS) in front
 * of @sink (which the caller owns, and which may itself be a chain of writers). The
 * place for the content-coding stage, between these and @sink. A chain that was
 * built is cleared first. */
void             gmulti_body_chain_build     (GMultiBodyChain     *self,
                                              const GMultiCoding  *transfer_codings,
                                              guint                n_transfer_codings,
                                              GMultiBodyWriter    *sink);
/* The same with a content-coding stage between the transfer codings and @sink, unless
 * @content is NULL or names no coding. Its corrupt bodies fail with
 * GMULTI_ERROR_CONTENT_DECODING, its bombs with GMULTI_ERROR_DECODED_TOO_LARGE. */
void             gmulti_body_chain_build_full (GMultiBodyChain             *self,
                                               const GMultiCoding          *transfer_codings,
                                               guint                        n_transfer_codings,
                                               const GMultiContentDecoding *content,
                                               GMultiBodyWriter            *sink);
/* Clears the stages the chain built (not the sink); the chain is empty again. */
void             gmulti_body_chain_clear     (GMultiBodyChain     *self);

static inline gboolean
gmulti_body_chain_is_built (const GMultiBodyChain *self)
{
  return self->head != NULL;
}

/* TRUE after a STOPPED, until a write or finish passed everything on. */
static inline gboolean
gmulti_body_chain_is_stopped (const GMultiBodyChain *self)
{
  return self->stopped;
}

GMultiBodyStatus gmulti_body_chain_write     (GMultiBodyChain     *self,
                                              const guint8        *data,
                                              gsize                length,
                                              GError             **error);
/* After a STOPPED: passes on what the stages kept (nothing new). */
GMultiBodyStatus gmulti_body_chain_resume    (GMultiBodyChain     *self,
                                              GError             **error);
GMultiBodyStatus gmulti_body_chain_finish    (GMultiBodyChain     *self,
                                              GError             **error);

/* The descriptor the body may be spliced into: only a bare sink (no decoder; the
 * sink decides the rest: nobody who must see the bytes, a descriptor that takes
 * splice()), else -1. */
int              gmulti_body_chain_splice_fd (GMultiBodyChain     *self);
/* @length bytes were spliced into gmulti_body_chain_splice_fd(): OK or STOPPED. */
GMultiBodyStatus gmulti_body_chain_spliced   (GMultiBodyChain     *self,
                                              gsize                length);

G_END_DECLS
