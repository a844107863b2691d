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
 * added when @default_user_agent is non-NULL and the application set none. Every
 * string must have passed gmulti_http1_check_part(). */
void  gmulti_http1_write_request_head (GString       *out,
                                       const char    *method,
                                       const char    *target,
                                       const char    *host_header,
                                       GMultiHeaders *headers,
                                       gint64         body_length,
                                       const char    *default_user_agent);
/* The same, with Accept-Encoding: @accept_encoding when non-NULL and the application
 * set none; @target_prefix (`http://HOST[:PORT]`, non-NULL for the absolute-form a
 * forwarding proxy wants) goes before @target, and @proxy_authorization, with it only,
 * is sent as Proxy-Authorization instead of any the application set. */
void  gmulti_http1_write_request_head_full (GString       *out,
                                            const char    *method,
                                            const char    *target,
                                            const char    *host_header,
                                            GMultiHeaders *headers,
                                            gint64         body_length,
                                            const char    *default_user_agent,
                                            const char    *accept_encoding,
                                            const char    *target_prefix,
                                            const char    *proxy_authorization);

/* Writes the "SIZE\r\n" prefix of a chunk of @length bytes into @buf (at least 20
 * bytes) and returns its length. The last chunk is "0\r\n\r\n". */
gsize gmulti_http1_chunk_prefix       (char  *buf,
                                       gsize  length);

/* The pieces of a request head that come from outside the engine: the application's
 * options and headers, a URI, a server's Location. */
typedef enum {
  GMULTI_HTTP1_PART_METHOD,      /* a token (RFC 9110 tchar+) */
  GMULTI_HTTP1_PART_TARGET,      /* origin-form: '/', then no space or control character */
  GMULTI_HTTP1_PART_HOST,        /* a URI's host, decoded, without brackets: a name or IPv4
                                    address without delimiters, or an IPv6 literal */
  GMULTI_HTTP1_PART_FIELD_NAME,  /* a token */
  GMULTI_HTTP1_PART_FIELD_VALUE, /* HTAB, SP, VCHAR, obs-text: no CR, LF, NUL or other
                                    control character */
} GMultiHttp1Part;

/* The one check of what may go on the wire: every method, target, host, field name
 * and field value passes it before it can reach gmulti_http1_write_request_head(),
 * which trusts its arguments. @field_name names the field in the message for
 * GMULTI_HTTP1_PART_FIELD_VALUE. Errors are GMULTI_ERROR_INVALID_HEADER (method,
 * fields) or GMULTI_ERROR_INVALID_URI (target, host). */
gboolean gmulti_http1_check_part (GMultiHttp1Part   part,
                                  const char       *text,
                                  const char       *field_name,
                                  GError          **error);

G_END_DECLS
