/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <nghttp2/nghttp2.h>
#include <glib.h>

G_BEGIN_DECLS

/* nghttp2's memory for one session. nghttp2 allocates about seventeen small blocks per
 * request (the stream, its outbound item, a copy of the header list, a buffer per
 * decoded field) and frees them soon after; with a hundred streams under way that
 * outruns malloc's per-thread caches. Freed blocks of the usual sizes are kept on
 * lists of their own and handed out again; what the lists do not take goes back to
 * malloc. Not thread-safe: one session, the engine's thread. */
#define GMULTI_HTTP2_MEM_N_CLASSES 6

typedef struct {
  nghttp2_mem mem;              /* mem_user_data points here */
  gpointer free_list[GMULTI_HTTP2_MEM_N_CLASSES];
  guint n_free[GMULTI_HTTP2_MEM_N_CLASSES];
} GMultiHttp2Mem;

/* For nghttp2_session_client_new3(): @self must outlive the session. */
nghttp2_mem *gmulti_http2_mem_init  (GMultiHttp2Mem *self);
/* Frees what the lists hold; after nghttp2_session_del(). */
void         gmulti_http2_mem_clear (GMultiHttp2Mem *self);

G_END_DECLS
