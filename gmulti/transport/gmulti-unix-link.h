/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-link.h"

G_BEGIN_DECLS

/* A link at the bottom of a chain that connects to the Unix stream socket at @path,
 * opened like the TCP link (gmulti-tcp-link.h, whose other calls apply): the first
 * open() reports the socket to watch for writing, the next one on its event says
 * DONE or fails with GMULTI_ERROR_CONNECT_FAILED. A @path of "@name" is the
 * abstract socket "name" (Linux). NULL with
 * GMULTI_ERROR_INVALID_ARGUMENT when @path does not fit a socket address. */
GMultiLink *gmulti_unix_link_new (const char  *path,
                                  GError     **error);

G_END_DECLS
