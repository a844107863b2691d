/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include "gmulti-headers.h"

G_BEGIN_DECLS

/* Request body framing announced in the head. */
#define GMULTI_HTTP1_NO_BODY (-1)
#define GMULTI_HTTP1_CHUNKED (-2)

/* Appends the request head (request line, Host, the application's headers, framing and
 * the terminating blank line) to @out. @target is the origin-form path and query.
 * @body_length: a byte count for Content-Length, GMULTI_HTTP1_NO_BODY or
 * GMULTI_HTTP1_CHUNKED. Headers the engine manages (Host, Content-Length,
 * Transfer-Encoding) are written by this function; no Connection header is added
 * (HTTP/1.1 keeps connections open by default); application headers with those names replace the defaults where that is
 * safe (Host) and are dropped where it is not (framing). User-Agent and Accept are
 * added when @default_user_agent is non-NULL and the application set none. */
void  gmulti_http1_write_request_head (GString       *out,
                                       const char    *method,
                                       const char    *target,
                                       const char    *host_header,
                                       GMultiHeaders *headers,
                                       gint64         body_length,
                                       const char    *default_user_agent);

/* Writes the "SIZE\r\n" prefix of a chunk of @length bytes into @buf (at least 20
 * bytes) and returns its length. The last chunk is "0\r\n\r\n". */
gsize gmulti_http1_chunk_prefix       (char  *buf,
                                       gsize  length);

/* TRUE when @method is a valid token (RFC 9110 tchar+). */
gboolean gmulti_http1_method_is_valid (const char *method);
/* TRUE when @name is a valid field name token and @value has no CR, LF or NUL and no
 * other control character except HTAB. */
gboolean gmulti_http1_header_name_is_valid  (const char *name);
gboolean gmulti_http1_header_value_is_valid (const char *value);

G_END_DECLS
