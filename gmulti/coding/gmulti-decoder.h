/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Undoing the codings a server applied to a body (RFC 9110 8.4.1): coded bytes in,
 * plain bytes out, knowing nothing of HTTP framing or sockets, so a transfer coding
 * (RFC 9112 7), a content coding or a fuzzer can drive it from any buffer. */

/* The codings gmulti decodes. */
typedef enum {
  GMULTI_CODING_GZIP,      /* "gzip", "x-gzip": RFC 1952; members may follow each other */
  GMULTI_CODING_DEFLATE,   /* "deflate": the zlib format, RFC 1950 */
  GMULTI_CODING_BR,        /* "br": Brotli, RFC 7932 (with libbrotlidec) */
  GMULTI_CODING_ZSTD,      /* "zstd": RFC 8878 (with libzstd); frames may follow each other */
} GMultiCoding;

/* Most codings one decoder stacks: each costs a library state and a buffer. */
#define GMULTI_DECODER_MAX_CODINGS 4
/* The most a stage produces at once, and so the most handed to the sink in one call. */
#define GMULTI_DECODER_BUFFER_SIZE (64 * 1024)

/* Looks up a transfer coding name (case-insensitive, no parameters): gzip, x-gzip or
 * deflate. FALSE if gmulti does not decode it. */
gboolean     gmulti_coding_from_name (const char   *name,
                                      gsize         name_len,
                                      GMultiCoding *coding);
/* The same for a content coding: br and zstd too, where the build has them. */
gboolean     gmulti_content_coding_from_name (const char   *name,
                                              gsize         name_len,
                                              GMultiCoding *coding);
const char  *gmulti_coding_get_name  (GMultiCoding  coding);
/* The codings this build decodes, as an Accept-Encoding value ("gzip, deflate, br, zstd"
 * with both libraries). Static. */
const char  *gmulti_coding_accept_list (void);

typedef struct _GMultiDecoder GMultiDecoder;

/* Takes decoded bytes (never 0 of them). Returns FALSE to stop the decoder: with
 * @error set the decoding fails with it; without, it pauses (see below). */
typedef gboolean (*GMultiDecoderSink) (const guint8  *data,
                                       gsize          length,
                                       gpointer       user_data,
                                       GError       **error);

typedef enum {
  GMULTI_DECODER_OK,       /* every byte given was decoded and passed on */
  GMULTI_DECODER_STOPPED,  /* the sink paused: the decoder holds the rest */
  GMULTI_DECODER_ERROR,    /* corrupt data, or the sink's error; only free it now */
} GMultiDecoderStatus;

/* @codings in the order the sender applied them, as a Transfer-Encoding or
 * Content-Encoding field lists them; they are undone last first. 1 to
 * GMULTI_DECODER_MAX_CODINGS of them. */
GMultiDecoder       *gmulti_decoder_new      (const GMultiCoding *codings,
                                              guint               n_codings);
void                 gmulti_decoder_free     (GMultiDecoder      *self);
/* Decodes @length coded bytes and hands everything they yield to @sink. After
 * STOPPED, the bytes not decoded yet are the decoder's (copied): push again, with
 * no bytes or with the next ones, to go on where it stopped. */
GMultiDecoderStatus  gmulti_decoder_push     (GMultiDecoder      *self,
                                              const guint8       *data,
                                              gsize               length,
                                              GMultiDecoderSink   sink,
                                              gpointer            user_data,
                                              GError            **error);
/* The coded input ended: passes on what is still held, then checks that every coding
 * ended where its format says it ends (ERROR if the body was cut short). A body of
 * no bytes at all is an empty body. STOPPED: call again to go on. */
GMultiDecoderStatus  gmulti_decoder_finish   (GMultiDecoder      *self,
                                              GMultiDecoderSink   sink,
                                              gpointer            user_data,
                                              GError            **error);
/* The GMultiError code of a corrupt or cut-short body (GMULTI_ERROR_PROTOCOL unless
 * set; a content coding's stage sets its own). */
void                 gmulti_decoder_set_error_code (GMultiDecoder *self,
                                                    int            code);
/* TRUE after STOPPED until a push or finish passed on everything held. */
gboolean             gmulti_decoder_is_stopped (GMultiDecoder    *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiDecoder, gmulti_decoder_free)

G_END_DECLS
