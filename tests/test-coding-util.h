/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @data coded by zlib's own encoder, as a server would code it: gzip when @gzip,
 * else deflate (the zlib format). The library's decoder never checks itself. */
GBytes *test_zlib_encode (GBytes   *data,
                          gboolean  gzip);

/* With TEST_HAVE_ENCODERS (libbrotlienc and libzstd found): the br and zstd codings,
 * by their libraries' own encoders. */
GBytes *test_brotli_encode (GBytes *data);
GBytes *test_zstd_encode   (GBytes *data);

G_END_DECLS
