/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Text for the progress display, measured in terminal columns. */
const char *fetch_text_ellipsis  (void);
gsize       fetch_text_width     (const char *text);
/* Appends @text to @out cut to @columns, with an ellipsis where it was cut. */
void        fetch_text_fit       (GString    *out,
                                  const char *text,
                                  gsize       columns);
/* Appends @text in pieces of at most @columns, the first one @first columns. */
void        fetch_text_wrap      (GPtrArray  *lines,
                                  const char *text,
                                  gsize       first,
                                  gsize       columns);
/* The URI without its scheme; if longer than @columns, the host and the end of the
 * rest with an ellipsis between them, so different URIs stay apart. */
char       *fetch_text_short_uri (const char *uri,
                                  gsize       columns);
char       *fetch_text_size      (guint64     bytes);
char       *fetch_text_rate      (double      bytes_per_second);
char       *fetch_text_duration  (double      seconds);

G_END_DECLS
