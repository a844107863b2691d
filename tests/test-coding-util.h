/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @data coded by zlib's own encoder, as a server would code it: gzip when @gzip,
 * else deflate (the zlib format). The library's decoder never checks itself. */
GBytes *test_zlib_encode (GBytes   *data,
                          gboolean  gzip);

G_END_DECLS
