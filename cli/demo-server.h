/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A small HTTP/1.1 server on 127.0.0.1 for the examples: GET /demo/SIZE returns SIZE
 * bytes of a repeating pattern, paced so progress is visible. Runs on its own threads. */
typedef struct _DemoServer DemoServer;

DemoServer *demo_server_start (GError    **error);
guint16     demo_server_get_port (DemoServer *self);
void        demo_server_stop  (DemoServer *self);

G_END_DECLS
