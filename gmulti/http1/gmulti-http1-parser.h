/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include "gmulti-headers.h"
#include "coding/gmulti-decoder.h"

G_BEGIN_DECLS

/* Documented limits (docs/limits.md). Hitting one is an error naming the limit. */
#define GMULTI_HTTP1_MAX_HEADER_BYTES (256 * 1024)  /* status line + all header lines */
#define GMULTI_HTTP1_MAX_HEADER_FIELDS 256
#define GMULTI_HTTP1_MAX_CHUNK_SIZE_DIGITS 16       /* hex digits of one chunk size */
#define GMULTI_HTTP1_MAX_TRANSFER_CODINGS GMULTI_DECODER_MAX_CODINGS  /* besides chunked */

typedef enum {
  GMULTI_HTTP1_NEED_MORE,  /* everything usable was consumed: feed more bytes */
  GMULTI_HTTP1_HEADERS,    /* a response head was parsed (also for each 1xx) */
  GMULTI_HTTP1_BODY,       /* body bytes: *body, *body_len point into the input */
  GMULTI_HTTP1_DONE,       /* the message is complete (trailers parsed) */
  GMULTI_HTTP1_ERROR,      /* malformed or over a limit; error set; parser is dead */
} GMultiHttp1Event;

typedef enum {
  GMULTI_HTTP1_BODY_NONE,      /* HEAD, 1xx, 204, 304 */
  GMULTI_HTTP1_BODY_LENGTH,    /* Content-Length */
  GMULTI_HTTP1_BODY_CHUNKED,   /* Transfer-Encoding: chunked */
  GMULTI_HTTP1_BODY_CLOSE,     /* delimited by the server closing the connection */
} GMultiHttp1BodyMode;

typedef struct _GMultiHttp1Parser GMultiHttp1Parser;

/* An incremental HTTP/1.x response parser. It never copies body bytes: BODY events
 * point into the caller's input. Header lines must be fed whole: when a line is not
 * complete in the input, feed() consumes nothing more and asks for more bytes, and the
 * caller keeps the unconsumed bytes and appends to them. */
struct _GMultiHttp1Parser {
  /* Filled in by HEADERS. */
  guint status;
  guint version_minor;          /* 0 or 1 */
  char *reason;
  GMultiHeaders *headers;       /* owned; take with steal_headers() */
  GMultiHeaders *trailers;      /* owned; NULL unless the chunked body had trailers */
  GMultiHttp1BodyMode body_mode;
  gint64 content_length;        /* -1 unless BODY_LENGTH */
  gboolean keep_alive;          /* connection may be reused after DONE */
  /* The transfer codings other than chunked (which the parser removes), in the order
   * the server applied them; the body events carry them still applied. */
  GMultiCoding codings[GMULTI_HTTP1_MAX_TRANSFER_CODINGS];
  guint n_codings;
  char *unknown_coding;         /* the first coding gmulti cannot decode, or NULL */

  /* Private state. */
  int state;
  gboolean head_request;
  guint64 remaining;            /* bytes left in a Content-Length body or chunk */
  gsize header_bytes;
  guint header_fields;
  guint64 header_bytes_total;   /* head bytes of all messages fed, for metrics */
  gsize line_scanned;           /* bytes of the pending line known to hold no LF */
  guint fresh : 1;
  guint final_head : 1;
  guint seen_content_length : 1;
  guint seen_transfer_encoding : 1;
  guint chunked_last : 1;       /* "chunked" was seen: it must stay the final coding */
  guint connection_close : 1;
  guint connection_keep_alive : 1;
};

void             gmulti_http1_parser_init          (GMultiHttp1Parser *self);
/* TRUE in a body whose bytes on the wire are the body itself (Content-Length, or up to
 * the close), which may then be taken past feed() and reported with skip_body():
 * @left is what is still to come (G_MAXUINT64 up to the close). */
gboolean         gmulti_http1_parser_raw_body_left (const GMultiHttp1Parser *self,
                                                    guint64                 *left);
/* @length bytes of such a body were consumed without feed() (at most @left). */
void             gmulti_http1_parser_skip_body     (GMultiHttp1Parser *self,
                                                    guint64            length);
void             gmulti_http1_parser_clear         (GMultiHttp1Parser *self);
/* Prepares for the response to the next request. */
void             gmulti_http1_parser_reset         (GMultiHttp1Parser *self,
                                                    gboolean           head_request);
GMultiHttp1Event gmulti_http1_parser_feed          (GMultiHttp1Parser *self,
                                                    const guint8      *data,
                                                    gsize              length,
                                                    gsize             *consumed,
                                                    const guint8     **body,
                                                    gsize             *body_length,
                                                    GError           **error);
/* The peer closed the connection: DONE for a close-delimited body, ERROR otherwise
 * (with GMULTI_ERROR_CONNECTION_CLOSED naming where the message was cut). */
GMultiHttp1Event gmulti_http1_parser_eof           (GMultiHttp1Parser *self,
                                                    GError           **error);
/* TRUE once HEADERS of a final (non-1xx) response was returned. */
gboolean         gmulti_http1_parser_has_final_head (GMultiHttp1Parser *self);
/* TRUE when no byte of a response has been consumed since reset(). Stray empty lines
 * before the status line do not count; the first byte of a status line does, even
 * before the line is complete (a partial head may mean the request was processed). */
gboolean         gmulti_http1_parser_is_fresh      (GMultiHttp1Parser *self);
GMultiHeaders   *gmulti_http1_parser_steal_headers (GMultiHttp1Parser *self);
GMultiHeaders   *gmulti_http1_parser_steal_trailers (GMultiHttp1Parser *self);

G_END_DECLS
