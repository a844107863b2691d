/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <zlib.h>

#include "test-coding-util.h"

GBytes *
test_zlib_encode (GBytes   *data,
                  gboolean  gzip)
{
  z_stream z = { 0, };
  gsize size = 0;
  const guint8 *in = g_bytes_get_data (data, &size);
  gsize bound;
  guint8 *out;

  /* 15 + 16: the gzip wrapper instead of the zlib one. */
  g_assert_cmpint (deflateInit2 (&z, 6, Z_DEFLATED, gzip ? 15 + 16 : 15, 8,
                                 Z_DEFAULT_STRATEGY), ==, Z_OK);
  bound = deflateBound (&z, size);
  out = g_malloc (bound);
  z.next_in = (Bytef *) in;
  z.avail_in = (uInt) size;
  z.next_out = out;
  z.avail_out = (uInt) bound;
  /* The bound holds all of it, so one call finishes. */
  g_assert_cmpint (deflate (&z, Z_FINISH), ==, Z_STREAM_END);
  size = bound - z.avail_out;
  deflateEnd (&z);
  return g_bytes_new_take (out, size);
}

#if TEST_HAVE_ENCODERS
#include <brotli/encode.h>
#include <zstd.h>

GBytes *
test_brotli_encode (GBytes *data)
{
  gsize size = 0;
  const guint8 *in = g_bytes_get_data (data, &size);
  size_t out_size = BrotliEncoderMaxCompressedSize (size);
  guint8 *out = g_malloc (out_size);

  g_assert_true (BrotliEncoderCompress (5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, size,
                                        in, &out_size, out));
  return g_bytes_new_take (out, out_size);
}

GBytes *
test_zstd_encode (GBytes *data)
{
  gsize size = 0;
  const guint8 *in = g_bytes_get_data (data, &size);
  size_t bound = ZSTD_compressBound (size);
  guint8 *out = g_malloc (bound);
  size_t n = ZSTD_compress (out, bound, in, size, 3);

  g_assert_false (ZSTD_isError (n));
  return g_bytes_new_take (out, n);
}
#endif
