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
