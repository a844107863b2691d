/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gio/gio.h>
#include <zlib.h>

#include "coding/gmulti-decoder.h"

/* The body decoder (gmulti/coding/), driven from a buffer. The first byte picks the
 * codings (bits 0-1: how many, 1 to 4; bits 2-5: gzip or deflate for each) and bit 6
 * the mode; the second seeds how the input is cut and where the sink pauses.
 *
 *   coded (bit 6 clear): the rest is taken as coded bytes. Decoded once whole with a
 *     sink that never pauses, and once cut into pieces with a sink that pauses at
 *     chosen points: both runs must end alike (success or error) and, on success,
 *     yield the same bytes. A pause must never lose or repeat a byte.
 *   round trip (bit 6 set): the rest is plain bytes, coded with zlib once per coding
 *     in the order listed, then decoded in pieces with pauses: the result must be the
 *     plain bytes again, and never an error.
 *   Bit 7 set (coded mode only, where the build has both libraries): the codings are
 *     the content codings br (bit clear) or zstd (bit set) instead.
 *
 * Every sink call must bring at most GMULTI_DECODER_BUFFER_SIZE bytes, and never 0. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        g_printerr ("fuzz-decoder: check failed: %s\n", #cond); \
        abort (); \
      } \
  } G_STMT_END

/* Upper bound of decoded output kept per run, so a tiny bomb cannot exhaust memory:
 * past it the sink fails the decoding, which both runs do at the same byte. */
#define MAX_OUTPUT (8 * 1024 * 1024)

typedef struct
{
  GByteArray *out;
  guint32 rng;        /* 0: never pause */
  guint n_pauses;
} Sink;

static guint32
next_random (guint32 *state)
{
  /* xorshift32: deterministic from the input, cheap. */
  guint32 x = *state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

static gboolean
sink_cb (const guint8  *bytes,
         gsize          length,
         gpointer       user_data,
         GError       **error)
{
  Sink *sink = user_data;

  CHECK (length > 0);
  CHECK (length <= GMULTI_DECODER_BUFFER_SIZE);

  if (sink->out->len + length > MAX_OUTPUT)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "output limit");
      return FALSE;
    }
  g_byte_array_append (sink->out, bytes, length);

  /* Pause now and then, never for ever (the driver resumes at once). */
  if (sink->rng != 0 && next_random (&sink->rng) % 4 == 0 && sink->n_pauses < 10000)
    {
      sink->n_pauses++;
      return FALSE;
    }
  return TRUE;
}

/* FUZZ_VERBOSE=1 says why a decoding failed. */
static void
report (const GError *error)
{
  if (error != NULL && g_getenv ("FUZZ_VERBOSE") != NULL)
    g_printerr ("fuzz-decoder: %s\n", error->message);
}

/* Pushes @length bytes (already cut by the caller), resuming after every pause.
 * Returns the final status: OK or ERROR. */
static GMultiDecoderStatus
push_all (GMultiDecoder *decoder,
          const guint8  *bytes,
          gsize          length,
          Sink          *sink)
{
  g_autoptr(GError) error = NULL;
  GMultiDecoderStatus status;

  status = gmulti_decoder_push (decoder, bytes, length, sink_cb, sink, &error);
  while (status == GMULTI_DECODER_STOPPED)
    {
      CHECK (gmulti_decoder_is_stopped (decoder));
      status = gmulti_decoder_push (decoder, NULL, 0, sink_cb, sink, &error);
    }
  CHECK ((status == GMULTI_DECODER_ERROR) == (error != NULL));
  report (error);
  return status;
}

static GMultiDecoderStatus
finish_all (GMultiDecoder *decoder,
            Sink          *sink)
{
  g_autoptr(GError) error = NULL;
  GMultiDecoderStatus status;

  status = gmulti_decoder_finish (decoder, sink_cb, sink, &error);
  while (status == GMULTI_DECODER_STOPPED)
    status = gmulti_decoder_finish (decoder, sink_cb, sink, &error);
  CHECK ((status == GMULTI_DECODER_ERROR) == (error != NULL));
  report (error);
  return status;
}

/* Decodes @coded with @codings; cut into pieces and paused when @seed is not 0.
 * Returns TRUE on success; the output is in @out. */
static gboolean
decode (const GMultiCoding *codings,
        guint               n_codings,
        const guint8       *coded,
        gsize               length,
        guint32             seed,
        GByteArray         *out)
{
  g_autoptr(GMultiDecoder) decoder = gmulti_decoder_new (codings, n_codings);
  Sink sink = { out, seed, 0 };
  guint32 cut = seed;
  gsize offset = 0;

  while (offset < length)
    {
      gsize piece = length - offset;

      if (seed != 0)
        {
          /* Drawn first: MIN() evaluates its arguments twice. */
          gsize limit = 1 + next_random (&cut) % 4096;

          piece = MIN (piece, limit);
        }
      if (push_all (decoder, coded + offset, piece, &sink) == GMULTI_DECODER_ERROR)
        return FALSE;
      offset += piece;
    }
  return finish_all (decoder, &sink) == GMULTI_DECODER_OK;
}

/* Codes @plain with zlib, the way a sender applies one coding. */
static GByteArray *
encode (GMultiCoding  coding,
        const guint8 *plain,
        gsize         length)
{
  z_stream z = { 0, };
  GByteArray *out;
  int window = coding == GMULTI_CODING_GZIP ? 15 + 16 : 15;
  uLong bound;

  CHECK (deflateInit2 (&z, 6, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  bound = deflateBound (&z, length) + 64;
  out = g_byte_array_sized_new (bound);
  g_byte_array_set_size (out, bound);
  z.next_in = (Bytef *) plain;
  z.avail_in = (uInt) length;
  z.next_out = out->data;
  z.avail_out = (uInt) bound;
  CHECK (deflate (&z, Z_FINISH) == Z_STREAM_END);
  g_byte_array_set_size (out, bound - z.avail_out);
  deflateEnd (&z);
  return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  GMultiCoding codings[GMULTI_DECODER_MAX_CODINGS];
  guint n_codings;
  guint32 seed;
  gboolean round_trip;

  if (size < 2)
    return 0;

  n_codings = 1 + (data[0] & 3);
  round_trip = (data[0] & 0x40) != 0;
  for (guint i = 0; i < n_codings; i++)
    {
      gboolean bit = (data[0] >> (2 + i)) & 1;

#if HAVE_BROTLI && HAVE_ZSTD
      if ((data[0] & 0x80) != 0 && !round_trip)
        {
          codings[i] = bit ? GMULTI_CODING_ZSTD : GMULTI_CODING_BR;
          continue;
        }
#endif
      codings[i] = bit ? GMULTI_CODING_DEFLATE : GMULTI_CODING_GZIP;
    }
  seed = 0x9e3779b9u ^ ((guint32) data[1] << 8) ^ (guint32) size;
  data += 2;
  size -= 2;

  if (round_trip)
    {
      g_autoptr(GByteArray) plain_out = g_byte_array_new ();
      GByteArray *coded = g_byte_array_new ();

      g_byte_array_append (coded, data, size);
      for (guint i = 0; i < n_codings; i++)
        {
          GByteArray *next = encode (codings[i], coded->data, coded->len);

          g_byte_array_unref (coded);
          coded = next;
        }
      CHECK (decode (codings, n_codings, coded->data, coded->len, seed, plain_out));
      CHECK (plain_out->len == size);
      CHECK (size == 0 || memcmp (plain_out->data, data, size) == 0);
      g_byte_array_unref (coded);
    }
  else
    {
      g_autoptr(GByteArray) whole = g_byte_array_new ();
      g_autoptr(GByteArray) cut = g_byte_array_new ();
      gboolean whole_ok = decode (codings, n_codings, data, size, 0, whole);
      gboolean cut_ok = decode (codings, n_codings, data, size, seed, cut);

      CHECK (whole_ok == cut_ok);
      if (whole_ok)
        {
          CHECK (whole->len == cut->len);
          CHECK (whole->len == 0 || memcmp (whole->data, cut->data, whole->len) == 0);
        }
    }
  return 0;
}
