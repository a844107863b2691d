/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-headers-private.h"
#include "gmulti-http1-parser.h"
#include "gmulti-http1-request.h"

/* ---- A caller like the engine: keeps unconsumed bytes and appends new ones ---- */

typedef struct {
  GString *log;      /* one line per event; split-independent */
  GString *body;     /* all BODY bytes, reassembled */
  GString *message;  /* the error message, if any */
  GMultiHttp1Parser parser;
} Run;

static void
append_headers (GString       *log,
                GMultiHeaders *headers)
{
  guint i;

  g_string_append_c (log, '{');
  for (i = 0; headers != NULL && i < gmulti_headers_get_length (headers); i++)
    g_string_append_printf (log, "%s%s=%s", i > 0 ? "|" : "",
                            gmulti_headers_get_name (headers, i),
                            gmulti_headers_get_value (headers, i));
  g_string_append_c (log, '}');
}

static const char *
code_name (const GError *error)
{
  if (error->domain != GMULTI_ERROR)
    return "foreign-domain";

  switch (error->code)
    {
    case GMULTI_ERROR_PROTOCOL:
      return "protocol";
    case GMULTI_ERROR_HEADERS_TOO_LARGE:
      return "too-large";
    case GMULTI_ERROR_CONNECTION_CLOSED:
      return "closed";
    case GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING:
      return "unsupported-coding";
    default:
      return "unexpected-code";
    }
}

static void
log_head (Run *run)
{
  GMultiHttp1Parser *p = &run->parser;

  g_string_append_printf (run->log, "H %u 1.%u \"%s\" ", p->status, p->version_minor,
                          p->reason);
  if (p->status >= 200)
    {
      switch (p->body_mode)
        {
        case GMULTI_HTTP1_BODY_NONE:
          g_assert_cmpint (p->content_length, ==, -1);
          g_string_append (run->log, "none");
          break;
        case GMULTI_HTTP1_BODY_LENGTH:
          g_string_append_printf (run->log, "len=%" G_GINT64_FORMAT, p->content_length);
          break;
        case GMULTI_HTTP1_BODY_CHUNKED:
          g_assert_cmpint (p->content_length, ==, -1);
          g_string_append (run->log, "chunked");
          break;
        case GMULTI_HTTP1_BODY_CLOSE:
          g_assert_cmpint (p->content_length, ==, -1);
          g_string_append (run->log, "close");
          break;
        default:
          g_assert_not_reached ();
        }
      g_string_append_printf (run->log, " ka=%d ", p->keep_alive ? 1 : 0);
      /* The codings left for the caller to undo, in the order applied. */
      for (guint i = 0; i < p->n_codings; i++)
        g_string_append_printf (run->log, "%s%s", i == 0 ? "te=" : ",",
                                gmulti_coding_get_name (p->codings[i]));
      if (p->n_codings > 0)
        g_string_append_c (run->log, ' ');
      if (p->unknown_coding != NULL)
        g_string_append_printf (run->log, "unknown=%s ", p->unknown_coding);
      g_assert_true (gmulti_http1_parser_has_final_head (p));
    }
  else
    {
      g_assert_false (gmulti_http1_parser_has_final_head (p));
    }
  append_headers (run->log, p->headers);
  g_string_append_c (run->log, '\n');
}

/* Handles one event; returns TRUE when the message is over (DONE or ERROR). */
static gboolean
handle_event (Run              *run,
              GMultiHttp1Event  event,
              const guint8     *data,
              gsize             length,
              gsize             consumed,
              const guint8     *body,
              gsize             body_length,
              GError           *error)
{
  g_assert_cmpuint (consumed, <=, length);

  if (event != GMULTI_HTTP1_BODY)
    {
      g_assert_null (body);
      g_assert_cmpuint (body_length, ==, 0);
    }
  if (event != GMULTI_HTTP1_ERROR)
    g_assert_no_error (error);

  switch (event)
    {
    case GMULTI_HTTP1_NEED_MORE:
      return FALSE;

    case GMULTI_HTTP1_HEADERS:
      g_assert_cmpuint (consumed, >, 0);
      g_assert_false (gmulti_http1_parser_is_fresh (&run->parser));
      log_head (run);
      return FALSE;

    case GMULTI_HTTP1_BODY:
      /* Zero-copy: the body is the tail of what this call consumed. */
      g_assert_cmpuint (body_length, >, 0);
      g_assert_true (body >= data && body + body_length == data + consumed);
      g_string_append_len (run->body, (const char *) body, body_length);
      return FALSE;

    case GMULTI_HTTP1_DONE:
      {
        GMultiHttp1Event again;
        gsize again_consumed = 99;
        const guint8 *again_body = NULL;
        gsize again_length = 0;

        g_string_append (run->log, "D ");
        append_headers (run->log, run->parser.trailers);
        g_string_append_c (run->log, '\n');

        /* Stays done until reset, consuming nothing. */
        again = gmulti_http1_parser_feed (&run->parser, data, length, &again_consumed,
                                          &again_body, &again_length, NULL);
        g_assert_cmpint (again, ==, GMULTI_HTTP1_DONE);
        g_assert_cmpuint (again_consumed, ==, 0);
        return TRUE;
      }

    case GMULTI_HTTP1_ERROR:
    default:
      g_assert_nonnull (error);
      g_string_append_printf (run->log, "E %s\n", code_name (error));
      g_string_assign (run->message, error->message);
      return TRUE;
    }
}

/* Feeds @input cut at the sorted offsets @cuts, then reports EOF if the message is
 * not over. */
static void
run_parser (Run          *run,
            const guint8 *input,
            gsize         length,
            gboolean      head_request,
            const gsize  *cuts,
            guint         n_cuts)
{
  GByteArray *pending = g_byte_array_new ();
  gboolean over = FALSE;
  gsize start = 0;
  guint seg;

  run->log = g_string_new (NULL);
  run->body = g_string_new (NULL);
  run->message = g_string_new (NULL);
  gmulti_http1_parser_init (&run->parser);
  gmulti_http1_parser_reset (&run->parser, head_request);
  g_assert_true (gmulti_http1_parser_is_fresh (&run->parser));

  for (seg = 0; seg <= n_cuts && !over; seg++)
    {
      gsize end = seg < n_cuts ? cuts[seg] : length;
      gsize off = 0;

      g_assert_cmpuint (end, >=, start);
      /* The array may move: the parser must not keep pointers between calls. */
      g_byte_array_append (pending, input + start, end - start);
      start = end;

      while (!over)
        {
          g_autoptr(GError) error = NULL;
          const guint8 *body = NULL;
          gsize body_length = 0, consumed = 0;
          /* An empty GByteArray may have no storage; NULL + 0 is undefined. */
          const guint8 *base = pending->data != NULL ? pending->data : (const guint8 *) "";
          GMultiHttp1Event event;

          event = gmulti_http1_parser_feed (&run->parser, base + off, pending->len - off,
                                            &consumed, &body, &body_length, &error);
          over = handle_event (run, event, base + off, pending->len - off,
                               consumed, body, body_length, error);
          off += consumed;
          if (event == GMULTI_HTTP1_NEED_MORE)
            break;
        }

      g_byte_array_remove_range (pending, 0, off);
    }

  if (!over)
    {
      g_autoptr(GError) error = NULL;
      GMultiHttp1Event event = gmulti_http1_parser_eof (&run->parser, &error);

      if (event == GMULTI_HTTP1_DONE)
        {
          g_assert_no_error (error);
          g_string_append (run->log, "eof D\n");
        }
      else
        {
          g_assert_cmpint (event, ==, GMULTI_HTTP1_ERROR);
          g_assert_nonnull (error);
          g_string_append_printf (run->log, "eof E %s\n", code_name (error));
          g_string_assign (run->message, error->message);
        }
    }

  g_byte_array_unref (pending);
}

static void
run_clear (Run *run)
{
  g_string_free (run->log, TRUE);
  g_string_free (run->body, TRUE);
  g_string_free (run->message, TRUE);
  gmulti_http1_parser_clear (&run->parser);
}

static void
assert_run_equal (const Run  *run,
                  const Run  *reference,
                  const char *how)
{
  if (strcmp (run->log->str, reference->log->str) != 0 ||
      !g_string_equal (run->body, reference->body) ||
      strcmp (run->message->str, reference->message->str) != 0)
    {
      g_test_message ("fed %s:\n%s(body %zu bytes) %s\nwhole:\n%s(body %zu bytes) %s",
                      how, run->log->str, run->body->len, run->message->str,
                      reference->log->str, reference->body->len, reference->message->str);
      g_test_fail ();
    }
}

/* ---- The table: each response is fed whole, at every 2-way split, byte by byte
 * and at random cuts; all must give the expected events, body and message. ---- */

typedef struct {
  const char *name;
  const char *input;
  gsize length;          /* 0: strlen (input) */
  gboolean head_request;
  const char *log;
  const char *body;
  const char *message;   /* a part of the error message, or NULL for none */
  gsize body_length;     /* 0: strlen (body) */
} Case;

#define H11_CL0 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#define CHUNKED_LOG "H 200 1.1 \"OK\" chunked ka=1 {Transfer-Encoding=chunked}\n"

static const Case cases[] = {
  /* Framing and status lines. */
  { "content-length",
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", 0, FALSE,
    "H 200 1.1 \"OK\" len=5 ka=1 {Content-Type=text/plain|Content-Length=5}\nD {}\n",
    "hello", NULL },
  { "bare-lf",
    "HTTP/1.1 200 Fine Thanks\nContent-Length: 3\nX-A:b\n\nabc", 0, FALSE,
    "H 200 1.1 \"Fine Thanks\" len=3 ka=1 {Content-Length=3|X-A=b}\nD {}\n", "abc", NULL },
  { "ows-trimmed",
    "HTTP/1.1 200 OK\r\nContent-Length:   2 \t\r\nX-Empty:\r\nX-Tab:\tv a l\t\r\n\r\nok", 0, FALSE,
    "H 200 1.1 \"OK\" len=2 ka=1 {Content-Length=2|X-Empty=|X-Tab=v a l}\nD {}\n", "ok", NULL },
  { "empty-reason-space", "HTTP/1.1 204 \r\nServer: x\r\n\r\n", 0, FALSE,
    "H 204 1.1 \"\" none ka=1 {Server=x}\nD {}\n", "", NULL },
  { "empty-reason-no-space", "HTTP/1.1 304\r\nETag: \"x\"\r\nContent-Length: 50\r\n\r\n", 0, FALSE,
    "H 304 1.1 \"\" none ka=1 {ETag=\"x\"|Content-Length=50}\nD {}\n", "", NULL },
  { "reason-obs-text", "HTTP/1.1 200 Tr\xc3\xa8s bien\tok\r\nContent-Length: 0\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"Tr\xc3\xa8s bien\tok\" len=0 ka=1 {Content-Length=0}\nD {}\n", "", NULL },
  { "zero-length", H11_CL0, 0, FALSE,
    "H 200 1.1 \"OK\" len=0 ka=1 {Content-Length=0}\nD {}\n", "", NULL },
  { "leading-blank-lines", "\r\n\n" H11_CL0, 0, FALSE,
    "H 200 1.1 \"OK\" len=0 ka=1 {Content-Length=0}\nD {}\n", "", NULL },
  { "http10-close", "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until close", 0, FALSE,
    "H 200 1.0 \"OK\" close ka=0 {Server=old}\neof D\n", "body until close", NULL },
  { "http10-keep-alive",
    "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi", 0, FALSE,
    "H 200 1.0 \"OK\" len=2 ka=1 {Connection=Keep-Alive|Content-Length=2}\nD {}\n", "hi", NULL },
  { "http10-length-no-keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0, FALSE,
    "H 200 1.0 \"OK\" len=2 ka=0 {Content-Length=2}\nD {}\n", "hi", NULL },
  { "http10-keep-alive-and-close",
    "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", 0, FALSE,
    "H 200 1.0 \"OK\" len=0 ka=0 {Connection=keep-alive, close|Content-Length=0}\nD {}\n", "", NULL },
  { "connection-close-list",
    "HTTP/1.1 200 OK\r\nConnection: ,upgrade , CLOSE\r\nContent-Length: 0\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"OK\" len=0 ka=0 {Connection=,upgrade , CLOSE|Content-Length=0}\nD {}\n", "", NULL },
  { "connection-second-field",
    "HTTP/1.1 200 OK\r\nConnection: upgrade\r\nconnection: close\r\nContent-Length: 0\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"OK\" len=0 ka=0 {Connection=upgrade|connection=close|Content-Length=0}\nD {}\n", "", NULL },
  { "connection-closed-not-close",
    "HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"OK\" len=0 ka=1 {Connection=closed|Content-Length=0}\nD {}\n", "", NULL },
  { "no-framing", "HTTP/1.1 200 OK\r\n\r\nuntil close", 0, FALSE,
    "H 200 1.1 \"OK\" close ka=0 {}\neof D\n", "until close", NULL },
  { "no-framing-empty", "HTTP/1.1 200 OK\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"OK\" close ka=0 {}\neof D\n", "", NULL },
  { "head-request", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 0, TRUE,
    "H 200 1.1 \"OK\" none ka=1 {Content-Length=100}\nD {}\n", "", NULL },
  { "head-request-chunked", CHUNKED_HEAD, 0, TRUE,
    "H 200 1.1 \"OK\" none ka=1 {Transfer-Encoding=chunked}\nD {}\n", "", NULL },
  { "head-request-no-framing", "HTTP/1.1 200 OK\r\n\r\n", 0, TRUE,
    "H 200 1.1 \"OK\" none ka=1 {}\nD {}\n", "", NULL },
  { "204-ignores-length", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", 0, FALSE,
    "H 204 1.1 \"No Content\" none ka=1 {Content-Length=7}\nD {}\n", "", NULL },

  /* Chunked bodies. */
  { "chunked-trailers",
    CHUNKED_HEAD "5;name=value\r\nhello\r\n7 ; x=\"y\"\r\n, world\r\n0\r\n"
    "X-Checksum: abc\r\nX-Other:  d \r\n\r\n", 0, FALSE,
    CHUNKED_LOG "D {X-Checksum=abc|X-Other=d}\n", "hello, world", NULL },
  { "chunked-no-trailers", CHUNKED_HEAD "3\r\nabc\r\n0\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "D {}\n", "abc", NULL },
  { "chunked-empty", CHUNKED_HEAD "0\r\n\r\n", 0, FALSE, CHUNKED_LOG "D {}\n", "", NULL },
  { "chunked-last-chunk-ext", CHUNKED_HEAD "0;done\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "D {}\n", "", NULL },
  { "chunked-bare-lf-upper-hex",
    "HTTP/1.1 200 OK\nTransfer-Encoding: gzip, Chunked\n\nA\n0123456789\n1a\nabcdefghijklmnopqrstuvwxyz\n0\n\n",
    0, FALSE,
    "H 200 1.1 \"OK\" chunked ka=1 te=gzip {Transfer-Encoding=gzip, Chunked}\nD {}\n",
    "0123456789abcdefghijklmnopqrstuvwxyz", NULL },
  { "chunked-leading-zeros",
    CHUNKED_HEAD "000000000000000a\r\n0123456789\r\n0000000000000000\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "D {}\n", "0123456789", NULL },
  { "chunked-binary-data", CHUNKED_HEAD "4\r\n\r\n\0\n\r\n0\r\n\r\n",
    sizeof (CHUNKED_HEAD "4\r\n\r\n\0\n\r\n0\r\n\r\n") - 1, FALSE,
    CHUNKED_LOG "D {}\n", "\r\n\0\n", NULL, 4 },
  { "te-two-fields",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked,\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    0, FALSE,
    "H 200 1.1 \"OK\" chunked ka=1 te=gzip {Transfer-Encoding=gzip|Transfer-Encoding=chunked,}\nD {}\n",
    "hi", NULL },
  /* chunked is the framing: once, and last (RFC 9112 6.1). */
  { "te-chunked-not-last",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw bytes", 0, FALSE,
    "E protocol\n", "", "not the final one" },
  { "te-chunked-not-last-two-fields",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
    0, FALSE, "E protocol\n", "", "not the final one" },
  { "te-chunked-twice",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    0, FALSE, "E protocol\n", "", "more than once" },
  { "te-chunked-twice-two-fields",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    0, FALSE, "E protocol\n", "", "more than once" },
  /* Without chunked last, the body runs up to the close, still coded. */
  { "te-without-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw", 0, FALSE,
    "H 200 1.1 \"OK\" close ka=0 te=gzip {Transfer-Encoding=gzip}\neof D\n", "raw", NULL },
  { "te-codings-in-order",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate ,X-GZIP\r\nTransfer-Encoding: ,gzip,, chunked\r\n\r\n"
    "2\r\nhi\r\n0\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"OK\" chunked ka=1 te=deflate,gzip,gzip "
    "{Transfer-Encoding=deflate ,X-GZIP|Transfer-Encoding=,gzip,, chunked}\nD {}\n", "hi", NULL },
  { "te-identity-ignored",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    0, FALSE,
    "H 200 1.1 \"OK\" chunked ka=1 {Transfer-Encoding=identity, chunked}\nD {}\n", "hi", NULL },
  /* The parser frames a body whose coding it cannot name; refusing it is the caller's
   * choice (a redirect's body is dropped anyway). The first unknown one is kept. */
  { "te-unknown",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, br, compress, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    0, FALSE,
    "H 200 1.1 \"OK\" chunked ka=1 te=gzip unknown=br "
    "{Transfer-Encoding=gzip, br, compress, chunked}\nD {}\n", "hi", NULL },
  { "te-unknown-with-parameter",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;q=1, chunked\r\n\r\n0\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"OK\" chunked ka=1 unknown=gzip;q=1 "
    "{Transfer-Encoding=gzip;q=1, chunked}\nD {}\n", "", NULL },
  { "te-limit", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, gzip, deflate, gzip, gzip, chunked\r\n\r\n",
    0, FALSE, "E unsupported-coding\n", "", "more than 4 transfer codings" },
  { "te-limit-not-counting-identity",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, identity, gzip, gzip, gzip, chunked\r\n\r\n"
    "0\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"OK\" chunked ka=1 te=gzip,gzip,gzip,gzip "
    "{Transfer-Encoding=gzip, identity, gzip, gzip, gzip, chunked}\nD {}\n", "", NULL },
  { "te-interim-ignored",
    "HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked, gzip, br\r\n\r\n"
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, FALSE,
    "H 103 1.1 \"Early Hints\" {Transfer-Encoding=chunked, gzip, br}\n"
    "H 200 1.1 \"OK\" len=2 ka=1 {Content-Length=2}\nD {}\n", "ok", NULL },
  { "te-http10",
    "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    0, FALSE,
    "H 200 1.0 \"OK\" chunked ka=0 {Transfer-Encoding=chunked|Connection=keep-alive}\nD {}\n",
    "abc", NULL },
  { "trailer-framing-ignored",
    CHUNKED_HEAD "1\r\nx\r\n0\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "D {Content-Length=5|Connection=close}\n", "x", NULL },

  /* Interim responses. */
  { "interim",
    "HTTP/1.1 100 Continue\r\n\r\n"
    "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, FALSE,
    "H 100 1.1 \"Continue\" {}\n"
    "H 103 1.1 \"Early Hints\" {Link=</a.css>; rel=preload}\n"
    "H 200 1.1 \"OK\" len=2 ka=1 {Content-Length=2}\nD {}\n", "ok", NULL },
  { "interim-framing-ignored",
    "HTTP/1.1 102 Processing\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
    "Content-Length: nonsense\r\n\r\n"
    "HTTP/1.1 204 No Content\r\n\r\n", 0, FALSE,
    "H 102 1.1 \"Processing\" {Content-Length=5|Transfer-Encoding=chunked|Content-Length=nonsense}\n"
    "H 204 1.1 \"No Content\" none ka=1 {}\nD {}\n", "", NULL },
  { "interim-head-request",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", 0, TRUE,
    "H 100 1.1 \"Continue\" {}\nH 200 1.1 \"OK\" none ka=1 {Content-Length=9}\nD {}\n", "", NULL },
  { "switching-protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "101" },

  /* Bad status lines. */
  { "http09", "<html>hello</html>", 0, FALSE, "E protocol\n", "", "HTTP/1.x status line" },
  { "garbage-one-byte", "X", 0, FALSE, "E protocol\n", "", "HTTP/1.x status line" },
  { "http2", "HTTP/2.0 200 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "HTTP/1.x status line" },
  { "http2-bare", "HTTP/2 200\r\n\r\n", 0, FALSE, "E protocol\n", "", "HTTP/1.x status line" },
  { "lowercase-http", "http/1.1 200 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "status line" },
  { "http12", "HTTP/1.2 200 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "version" },
  { "http1x", "HTTP/1.x 200 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "version" },
  { "version-no-space", "HTTP/1.1+200 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "version" },
  { "too-short", "HTTP/1.1 20\r\n\r\n", 0, FALSE, "E protocol\n", "", "status line" },
  { "status-four-digits", "HTTP/1.1 2000 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "three-digit" },
  { "status-letters", "HTTP/1.1 2x0 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "three-digit" },
  { "status-two-spaces", "HTTP/1.1  200 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "three-digit" },
  { "status-099", "HTTP/1.1 099 Low\r\n\r\n", 0, FALSE, "E protocol\n", "", "99" },
  { "status-600", "HTTP/1.1 600 High\r\n\r\n", 0, FALSE, "E protocol\n", "", "600" },
  { "status-bare-cr", "HTTP/1.1 200 O\rK\r\n\r\n", 0, FALSE, "E protocol\n", "", "Bare CR" },
  { "status-nul", "HTTP/1.1 200 O\0K\r\n\r\n", sizeof ("HTTP/1.1 200 O\0K\r\n\r\n") - 1, FALSE,
    "E protocol\n", "", "NUL" },
  { "leading-bare-cr", "\rHTTP/1.1 200 OK\r\n\r\n", 0, FALSE, "E protocol\n", "", "Bare CR" },

  /* Bad header lines. */
  { "header-bare-cr", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", 0, FALSE, "E protocol\n", "", "Bare CR" },
  { "header-nul", "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n",
    sizeof ("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n") - 1, FALSE, "E protocol\n", "", "NUL" },
  { "header-nul-in-name", "HTTP/1.1 200 OK\r\nX\0Y: ab\r\n\r\n",
    sizeof ("HTTP/1.1 200 OK\r\nX\0Y: ab\r\n\r\n") - 1, FALSE, "E protocol\n", "", "NUL" },
  { "header-control", "HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "0x01" },
  { "header-lone-cr", "HTTP/1.1 200 OK\r\n\r\r\n\r\n", 0, FALSE, "E protocol\n", "", "Bare CR" },
  { "header-no-colon", "HTTP/1.1 200 OK\r\nFoo bar\r\n\r\n", 0, FALSE, "E protocol\n", "", "colon" },
  { "header-space-before-colon", "HTTP/1.1 200 OK\r\nFoo : bar\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "Whitespace" },
  { "header-tab-before-colon", "HTTP/1.1 200 OK\r\nFoo\t: bar\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "Whitespace" },
  { "header-obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n  b\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "folding" },
  { "header-first-line-folded", "HTTP/1.1 200 OK\r\n\tX: a\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "folding" },
  { "header-empty-name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n", 0, FALSE, "E protocol\n", "", "Empty" },
  { "header-bad-name", "HTTP/1.1 200 OK\r\nFo(o): x\r\n\r\n", 0, FALSE, "E protocol\n", "", "0x28" },
  { "header-space-in-name", "HTTP/1.1 200 OK\r\nFo o: x\r\n\r\n", 0, FALSE, "E protocol\n", "", "0x20" },

  /* Framing errors. */
  { "te-and-cl", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    0, FALSE, "E protocol\n", "", "both" },
  { "cl-and-te", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\nabc",
    0, FALSE, "E protocol\n", "", "both" },
  { "cl-twice-same", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    0, FALSE, "E protocol\n", "", "more than one" },
  { "cl-list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", 0, FALSE,
    "E protocol\n", "", "not a number" },
  { "cl-letters", "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "not a number" },
  { "cl-negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "not a number" },
  { "cl-plus", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "not a number" },
  { "cl-empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0, FALSE, "E protocol\n", "", "empty" },
  { "cl-overflow", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", 0, FALSE,
    "E protocol\n", "", "too large" },
  { "cl-overflow-long", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    0, FALSE, "E protocol\n", "", "too large" },
  { "cl-max", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nab", 0, FALSE,
    "H 200 1.1 \"OK\" len=9223372036854775807 ka=1 {Content-Length=9223372036854775807}\neof E closed\n",
    "ab", "2 of 9223372036854775807" },
  { "chunk-size-not-hex", CHUNKED_HEAD "zz\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "", "hexadecimal" },
  { "chunk-size-empty", CHUNKED_HEAD "\r\n", 0, FALSE, CHUNKED_LOG "E protocol\n", "", "hexadecimal" },
  { "chunk-size-leading-space", CHUNKED_HEAD " 5\r\nhello\r\n0\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "", "hexadecimal" },
  { "chunk-size-17-digits", CHUNKED_HEAD "00000000000000001\r\nx\r\n0\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "", "16" },
  { "chunk-size-suffix", CHUNKED_HEAD "5x\r\nhello\r\n0\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "", "unexpected" },
  { "chunk-size-negative", CHUNKED_HEAD "-5\r\nhello\r\n0\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "", "hexadecimal" },
  { "chunk-ext-bare-cr", CHUNKED_HEAD "5;a\rb\r\nhello\r\n0\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "", "Bare CR" },
  { "chunk-data-no-crlf", CHUNKED_HEAD "5\r\nhelloX\r\n0\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "hello", "CRLF" },
  { "chunk-data-cr-only", CHUNKED_HEAD "5\r\nhello\rX0\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "hello", "CRLF" },
  { "trailer-obs-fold", CHUNKED_HEAD "0\r\nX: a\r\n b\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "", "trailer" },
  { "trailer-no-colon", CHUNKED_HEAD "0\r\nnonsense\r\n\r\n", 0, FALSE,
    CHUNKED_LOG "E protocol\n", "", "colon" },

  /* The connection closes early. */
  { "eof-empty", "", 0, FALSE, "eof E closed\n", "", "before the status line" },
  { "eof-blank-lines", "\r\n\r\n", 0, FALSE, "eof E closed\n", "", "before the status line" },
  { "eof-status-line", "HTTP/1.1 20", 0, FALSE, "eof E closed\n", "", "before the status line" },
  { "eof-after-interim", "HTTP/1.1 100 Continue\r\n\r\n", 0, FALSE,
    "H 100 1.1 \"Continue\" {}\neof E closed\n", "", "before the status line" },
  { "eof-headers", "HTTP/1.1 200 OK\r\nContent-Len", 0, FALSE,
    "eof E closed\n", "", "in the headers" },
  { "eof-body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, FALSE,
    "H 200 1.1 \"OK\" len=10 ka=1 {Content-Length=10}\neof E closed\n", "abc",
    "3 of 10 body bytes" },
  { "eof-body-none-received", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 0, FALSE,
    "H 200 1.1 \"OK\" len=10 ka=1 {Content-Length=10}\neof E closed\n", "",
    "0 of 10 body bytes" },
  { "eof-inside-chunk", CHUNKED_HEAD "5\r\nhel", 0, FALSE,
    CHUNKED_LOG "eof E closed\n", "hel", "inside a chunk" },
  { "eof-after-chunk-data", CHUNKED_HEAD "5\r\nhello", 0, FALSE,
    CHUNKED_LOG "eof E closed\n", "hello", "between chunks" },
  { "eof-after-chunk-cr", CHUNKED_HEAD "5\r\nhello\r", 0, FALSE,
    CHUNKED_LOG "eof E closed\n", "hello", "between chunks" },
  { "eof-between-chunks", CHUNKED_HEAD "5\r\nhello\r\n", 0, FALSE,
    CHUNKED_LOG "eof E closed\n", "hello", "between chunks" },
  { "eof-chunk-size", CHUNKED_HEAD "5\r\nhello\r\n1", 0, FALSE,
    CHUNKED_LOG "eof E closed\n", "hello", "between chunks" },
  { "eof-before-chunks", CHUNKED_HEAD, 0, FALSE,
    CHUNKED_LOG "eof E closed\n", "", "between chunks" },
  { "eof-trailers", CHUNKED_HEAD "0\r\nX-A: b\r\n", 0, FALSE,
    CHUNKED_LOG "eof E closed\n", "", "trailer section" },
};

static void
check_run (const Case *c,
           const Run  *run)
{
  g_assert_cmpstr (run->log->str, ==, c->log);
  g_assert_cmpmem (run->body->str, run->body->len, c->body,
                   c->body_length > 0 ? c->body_length : strlen (c->body));
  if (c->message != NULL)
    {
      if (strstr (run->message->str, c->message) == NULL)
        g_error ("message “%s” does not contain “%s”", run->message->str, c->message);
    }
  else
    {
      g_assert_cmpstr (run->message->str, ==, "");
    }
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  const guint8 *input = (const guint8 *) c->input;
  gsize length = c->length > 0 ? c->length : strlen (c->input);
  gsize *cuts = g_new (gsize, length + 1);
  Run whole;
  gsize i;
  guint k;

  run_parser (&whole, input, length, c->head_request, NULL, 0);
  check_run (c, &whole);

  /* Every 2-way split. */
  for (i = 0; i <= length; i++)
    {
      g_autofree char *how = g_strdup_printf ("split at %zu", i);
      Run run;

      run_parser (&run, input, length, c->head_request, &i, 1);
      assert_run_equal (&run, &whole, how);
      run_clear (&run);
    }

  /* Byte by byte. */
  for (i = 0; i < length; i++)
    cuts[i] = i + 1;
  {
    Run run;

    run_parser (&run, input, length, c->head_request, cuts, length);
    assert_run_equal (&run, &whole, "byte by byte");
    run_clear (&run);
  }

  /* Random fragmentation; --seed reproduces a failure. */
  for (k = 0; k < 50 && length > 1; k++)
    {
      guint n = 0;
      Run run;

      for (i = 1; i < length; i++)
        if (g_test_rand_int_range (0, 4) == 0)
          cuts[n++] = i;
      run_parser (&run, input, length, c->head_request, cuts, n);
      assert_run_equal (&run, &whole, "at random cuts");
      run_clear (&run);
    }

  run_clear (&whole);
  g_free (cuts);
}

/* ---- Feeding details ---- */

static GMultiHttp1Event
feed (GMultiHttp1Parser  *parser,
      const char         *data,
      gsize               length,
      gsize              *consumed,
      const guint8      **body,
      gsize              *body_length,
      GError            **error)
{
  return gmulti_http1_parser_feed (parser, (const guint8 *) data, length, consumed, body,
                                   body_length, error);
}

static void
test_partial_chunk (void)
{
  const char *input = CHUNKED_HEAD "10\r\nabc";
  GMultiHttp1Parser parser;
  const guint8 *body;
  gsize consumed, body_length, head = strlen (CHUNKED_HEAD);
  GError *error = NULL;

  gmulti_http1_parser_init (&parser);

  g_assert_cmpint (feed (&parser, input, strlen (input), &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_HEADERS);
  g_assert_cmpuint (consumed, ==, head);

  /* The chunk's first bytes are handed out at once, pointing into the input. */
  g_assert_cmpint (feed (&parser, input + head, strlen (input) - head, &consumed, &body,
                         &body_length, &error), ==, GMULTI_HTTP1_BODY);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, 7);
  g_assert_cmpuint (body_length, ==, 3);
  g_assert_true (body == (const guint8 *) input + head + 4);
  g_assert_cmpuint (parser.remaining, ==, 13);

  g_assert_cmpint (feed (&parser, "", 0, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_NEED_MORE);
  g_assert_cmpuint (consumed, ==, 0);

  gmulti_http1_parser_clear (&parser);
}

static void
test_one_event_per_call (void)
{
  const char *input = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  GMultiHttp1Parser parser;
  const guint8 *body;
  gsize consumed, body_length, off = 0;
  GError *error = NULL;

  gmulti_http1_parser_init (&parser);

  g_assert_cmpint (feed (&parser, input, strlen (input), &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_HEADERS);
  off += consumed;
  g_assert_cmpuint (off, ==, strlen (input) - 3);
  g_assert_cmpint (feed (&parser, input + off, strlen (input) - off, &consumed, &body,
                         &body_length, &error), ==, GMULTI_HTTP1_BODY);
  g_assert_cmpuint (consumed, ==, 3);
  g_assert_true (body == (const guint8 *) input + off);
  off += consumed;
  g_assert_cmpint (feed (&parser, input + off, 0, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_DONE);
  g_assert_cmpuint (consumed, ==, 0);
  /* Extra bytes after the message are left alone. */
  g_assert_cmpint (feed (&parser, "HTTP", 4, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_DONE);
  g_assert_cmpuint (consumed, ==, 0);
  /* A NULL buffer of length 0 is fine. */
  g_assert_cmpint (feed (&parser, NULL, 0, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_DONE);
  g_assert_cmpint (gmulti_http1_parser_eof (&parser, &error), ==, GMULTI_HTTP1_DONE);
  g_assert_no_error (error);

  gmulti_http1_parser_clear (&parser);
}

static void
test_after_error (void)
{
  GMultiHttp1Parser parser;
  const guint8 *body;
  gsize consumed, body_length;
  GError *error = NULL;

  gmulti_http1_parser_init (&parser);

  g_assert_cmpint (feed (&parser, "SSH-2.0", 7, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* Dead until reset. */
  g_assert_cmpint (feed (&parser, H11_CL0, strlen (H11_CL0), &consumed, &body, &body_length,
                         &error), ==, GMULTI_HTTP1_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_cmpint (gmulti_http1_parser_eof (&parser, &error), ==, GMULTI_HTTP1_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL);
  g_clear_error (&error);
  /* NULL error locations are allowed. */
  g_assert_cmpint (feed (&parser, "x", 1, &consumed, &body, &body_length, NULL),
                   ==, GMULTI_HTTP1_ERROR);

  gmulti_http1_parser_reset (&parser, FALSE);
  g_assert_cmpint (feed (&parser, H11_CL0, strlen (H11_CL0), &consumed, &body, &body_length,
                         &error), ==, GMULTI_HTTP1_HEADERS);
  g_assert_no_error (error);
  g_assert_cmpuint (parser.status, ==, 200);

  gmulti_http1_parser_clear (&parser);
}

/* Two responses back to back on one connection, the second fed from the leftovers. */
/* The codings of one response do not leak into the next, nor into the final response
 * after an interim one. */
static void
test_transfer_codings_reset (void)
{
  const char *input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, zstd, chunked\r\n\r\n";
  const char *interim = "HTTP/1.1 103 Early Hints\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  gsize consumed, body_length;
  const guint8 *body;
  GMultiHttp1Parser parser;

  gmulti_http1_parser_init (&parser);
  g_assert_cmpint (feed (&parser, input, strlen (input), &consumed, &body, &body_length, NULL),
                   ==, GMULTI_HTTP1_HEADERS);
  g_assert_cmpuint (parser.n_codings, ==, 1);
  g_assert_cmpint (parser.codings[0], ==, GMULTI_CODING_GZIP);
  g_assert_cmpstr (parser.unknown_coding, ==, "zstd");

  gmulti_http1_parser_reset (&parser, FALSE);
  g_assert_cmpuint (parser.n_codings, ==, 0);
  g_assert_null (parser.unknown_coding);
  g_assert_cmpint (feed (&parser, interim, strlen (interim), &consumed, &body, &body_length, NULL),
                   ==, GMULTI_HTTP1_HEADERS);
  g_assert_cmpuint (parser.status, ==, 103);
  g_assert_cmpint (feed (&parser, interim + consumed, strlen (interim) - consumed, &consumed,
                         &body, &body_length, NULL), ==, GMULTI_HTTP1_HEADERS);
  g_assert_cmpuint (parser.status, ==, 200);
  g_assert_cmpint (parser.body_mode, ==, GMULTI_HTTP1_BODY_CHUNKED);
  g_assert_cmpuint (parser.n_codings, ==, 0);
  g_assert_null (parser.unknown_coding);
  gmulti_http1_parser_clear (&parser);
}

static void
test_pipelined_reset (void)
{
  const char *first = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
  const char *second = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n";
  g_autofree char *input = g_strconcat (first, "abc", second, "2\r\nno\r\n0\r\nT: 1\r\n\r\n", NULL);
  gsize len = strlen (input), off = 0, consumed, body_length;
  g_autoptr(GMultiHeaders) headers = NULL;
  g_autoptr(GMultiHeaders) trailers = NULL;
  GMultiHttp1Parser parser;
  const guint8 *body;
  GError *error = NULL;

  gmulti_http1_parser_init (&parser);
  g_assert_true (gmulti_http1_parser_is_fresh (&parser));
  g_assert_false (gmulti_http1_parser_has_final_head (&parser));
  g_assert_cmpuint (parser.header_bytes_total, ==, 0);

  g_assert_cmpint (feed (&parser, input, len, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_HEADERS);
  off += consumed;
  g_assert_false (gmulti_http1_parser_is_fresh (&parser));
  g_assert_true (gmulti_http1_parser_has_final_head (&parser));
  g_assert_cmpint (feed (&parser, input + off, len - off, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_BODY);
  off += consumed;
  g_assert_cmpint (feed (&parser, input + off, len - off, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_DONE);
  g_assert_true (parser.keep_alive);

  gmulti_http1_parser_reset (&parser, FALSE);
  g_assert_true (gmulti_http1_parser_is_fresh (&parser));
  g_assert_false (gmulti_http1_parser_has_final_head (&parser));
  g_assert_null (parser.headers);
  g_assert_cmpuint (parser.status, ==, 0);
  /* The metric keeps counting across messages. */
  g_assert_cmpuint (parser.header_bytes_total, ==, strlen (first));

  g_assert_cmpint (feed (&parser, input + off, len - off, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_HEADERS);
  off += consumed;
  g_assert_cmpuint (parser.status, ==, 404);
  g_assert_cmpstr (parser.reason, ==, "Not Found");

  headers = gmulti_http1_parser_steal_headers (&parser);
  g_assert_null (parser.headers);
  g_assert_cmpstr (gmulti_headers_get_one (headers, "transfer-encoding"), ==, "chunked");

  g_assert_cmpint (feed (&parser, input + off, len - off, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_BODY);
  g_assert_cmpmem (body, body_length, "no", 2);
  off += consumed;
  g_assert_cmpint (feed (&parser, input + off, len - off, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_DONE);
  off += consumed;
  g_assert_cmpuint (off, ==, len);
  g_assert_no_error (error);

  trailers = gmulti_http1_parser_steal_trailers (&parser);
  g_assert_null (parser.trailers);
  g_assert_cmpstr (gmulti_headers_get_one (trailers, "t"), ==, "1");
  g_assert_cmpuint (parser.header_bytes_total, ==,
                    strlen (first) + strlen (second) + strlen ("T: 1\r\n\r\n"));

  gmulti_http1_parser_clear (&parser);
  /* Clearing twice is harmless. */
  gmulti_http1_parser_clear (&parser);
}

static void
test_fresh (void)
{
  GMultiHttp1Parser parser;
  const guint8 *body;
  gsize consumed, body_length;
  GError *error = NULL;

  gmulti_http1_parser_init (&parser);

  /* Stray blank lines left over from a previous response do not count. */
  g_assert_cmpint (feed (&parser, "\r\n\r", 3, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_NEED_MORE);
  g_assert_cmpuint (consumed, ==, 2);
  g_assert_true (gmulti_http1_parser_is_fresh (&parser));

  /* The first byte of a status line does, even before the line is complete. */
  g_assert_cmpint (feed (&parser, "H", 1, &consumed, &body, &body_length, &error),
                   ==, GMULTI_HTTP1_NEED_MORE);
  g_assert_cmpuint (consumed, ==, 0);
  g_assert_false (gmulti_http1_parser_is_fresh (&parser));
  g_assert_no_error (error);

  gmulti_http1_parser_clear (&parser);
}

/* ---- Limits ---- */

static void
test_header_bytes_limit (void)
{
  const char *start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: ";
  gsize filler = GMULTI_HTTP1_MAX_HEADER_BYTES - strlen (start) - 4;
  g_autofree char *fill = g_strnfill (filler, 'a');
  g_autofree char *exact = g_strconcat (start, fill, "\r\n\r\n", NULL);
  g_autofree char *over = g_strconcat (start, fill, "a\r\n\r\n", NULL);
  g_autofree char *open = g_strconcat (start, fill, fill, NULL);
  GMultiHttp1Parser parser;
  const guint8 *body;
  gsize consumed, body_length, start_off, end;
  GError *error = NULL;
  Run run;

  g_assert_cmpuint (strlen (exact), ==, GMULTI_HTTP1_MAX_HEADER_BYTES);

  run_parser (&run, (const guint8 *) exact, strlen (exact), FALSE, NULL, 0);
  g_assert_cmpstr (run.message->str, ==, "");
  g_assert_true (g_str_has_suffix (run.log->str, "D {}\n"));
  g_assert_cmpuint (gmulti_headers_get_length (run.parser.headers), ==, 2);
  run_clear (&run);

  run_parser (&run, (const guint8 *) over, strlen (over), FALSE, NULL, 0);
  g_assert_cmpstr (run.log->str, ==, "E too-large\n");
  g_assert_nonnull (strstr (run.message->str, "262144"));
  run_clear (&run);

  /* A line that never ends fails once the buffered part reaches the limit, without
   * waiting for an end of line; bytes arrive in 4 KiB steps like from a socket. */
  gmulti_http1_parser_init (&parser);
  start_off = 0;
  for (end = 4096; end <= strlen (open); end += 4096)
    {
      GMultiHttp1Event event = feed (&parser, open + start_off, end - start_off, &consumed,
                                     &body, &body_length, &error);

      if (event == GMULTI_HTTP1_ERROR)
        break;
      g_assert_cmpint (event, ==, GMULTI_HTTP1_NEED_MORE);
      start_off += consumed;
    }
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_HEADERS_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "262144"));
  /* The status line and the first field were consumed; the rest hit the limit. */
  g_assert_cmpuint (start_off, ==, strlen ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"));
  g_assert_cmpuint (end, >=, GMULTI_HTTP1_MAX_HEADER_BYTES);
  g_assert_cmpuint (end, <, GMULTI_HTTP1_MAX_HEADER_BYTES + 4096);
  g_clear_error (&error);
  gmulti_http1_parser_clear (&parser);
}

static char *
make_fields (const char *prefix,
             guint       n,
             const char *suffix)
{
  GString *s = g_string_new (prefix);
  guint i;

  for (i = 0; i < n; i++)
    g_string_append_printf (s, "X-Field-%u: %u\r\n", i, i);
  g_string_append (s, suffix);

  return g_string_free (s, FALSE);
}

static void
test_header_fields_limit (void)
{
  guint max = GMULTI_HTTP1_MAX_HEADER_FIELDS;
  g_autofree char *ok = make_fields ("HTTP/1.1 200 OK\r\n", max - 1, "Content-Length: 0\r\n\r\n");
  g_autofree char *over = make_fields ("HTTP/1.1 200 OK\r\n", max, "Content-Length: 0\r\n\r\n");
  g_autofree char *trailers_ok = make_fields (CHUNKED_HEAD "0\r\n", max, "\r\n");
  g_autofree char *trailers_over = make_fields (CHUNKED_HEAD "0\r\n", max + 1, "\r\n");
  /* Each head of a response has its own count. */
  g_autofree char *interim = make_fields ("HTTP/1.1 103 Early Hints\r\n", max, "\r\n");
  g_autofree char *interim_then_ok = g_strconcat (interim, ok, NULL);
  Run run;

  run_parser (&run, (const guint8 *) ok, strlen (ok), FALSE, NULL, 0);
  g_assert_true (g_str_has_suffix (run.log->str, "D {}\n"));
  g_assert_cmpuint (gmulti_headers_get_length (run.parser.headers), ==, max);
  run_clear (&run);

  run_parser (&run, (const guint8 *) over, strlen (over), FALSE, NULL, 0);
  g_assert_cmpstr (run.log->str, ==, "E too-large\n");
  g_assert_nonnull (strstr (run.message->str, "256"));
  run_clear (&run);

  run_parser (&run, (const guint8 *) trailers_ok, strlen (trailers_ok), FALSE, NULL, 0);
  g_assert_true (g_str_has_suffix (run.log->str, "X-Field-255=255}\n"));
  g_assert_cmpuint (gmulti_headers_get_length (run.parser.trailers), ==, max);
  run_clear (&run);

  run_parser (&run, (const guint8 *) trailers_over, strlen (trailers_over), FALSE, NULL, 0);
  g_assert_cmpstr (run.log->str, ==, CHUNKED_LOG "E too-large\n");
  g_assert_nonnull (strstr (run.message->str, "trailer"));
  run_clear (&run);

  run_parser (&run, (const guint8 *) interim_then_ok, strlen (interim_then_ok), FALSE, NULL, 0);
  g_assert_true (g_str_has_suffix (run.log->str, "D {}\n"));
  g_assert_true (g_str_has_prefix (run.log->str, "H 103 "));
  run_clear (&run);
}

static void
test_interim_flood (void)
{
  GString *input = g_string_new (NULL);
  Run run;

  /* Endless interim responses would keep a transfer busy forever: they share the
   * head byte limit of the response. */
  while (input->len <= GMULTI_HTTP1_MAX_HEADER_BYTES)
    g_string_append (input, "HTTP/1.1 100 Continue\r\n\r\n");
  g_string_append (input, H11_CL0);

  run_parser (&run, (const guint8 *) input->str, input->len, FALSE, NULL, 0);
  g_assert_true (g_str_has_suffix (run.log->str, "E too-large\n"));
  run_clear (&run);

  g_string_free (input, TRUE);
}

static void
test_chunk_line_limit (void)
{
  g_autofree char *ext = g_strnfill (GMULTI_HTTP1_MAX_HEADER_BYTES, 'e');
  g_autofree char *input = g_strconcat (CHUNKED_HEAD "1;", ext, NULL);
  Run run;

  run_parser (&run, (const guint8 *) input, strlen (input), FALSE, NULL, 0);
  g_assert_cmpstr (run.log->str, ==, CHUNKED_LOG "E protocol\n");
  g_assert_nonnull (strstr (run.message->str, "262144"));
  run_clear (&run);
}

static void
test_large_chunk (void)
{
  const char *input = CHUNKED_HEAD "ffffffffffffffff\r\nabc";
  Run run;

  /* The biggest size that fits: reading goes on until the server gives up. */
  run_parser (&run, (const guint8 *) input, strlen (input), FALSE, NULL, 0);
  g_assert_cmpstr (run.log->str, ==, CHUNKED_LOG "eof E closed\n");
  g_assert_cmpstr (run.body->str, ==, "abc");
  g_assert_cmpuint (run.parser.remaining, ==, G_MAXUINT64 - 3);
  run_clear (&run);
}

/* ---- Request heads ---- */

static GMultiHeaders *
make_headers (const char *first_name,
              ...)
{
  GMultiHeaders *headers = gmulti_headers_new ();
  const char *name = first_name;
  va_list args;

  va_start (args, first_name);
  while (name != NULL)
    {
      const char *value = va_arg (args, const char *);

      g_assert_true (gmulti_headers_append (headers, name, value, NULL));
      name = va_arg (args, const char *);
    }
  va_end (args);

  return headers;
}

static void
assert_head (const char    *method,
             const char    *target,
             const char    *host,
             GMultiHeaders *headers,
             gint64         body_length,
             const char    *user_agent,
             const char    *expected)
{
  GString *out = g_string_new ("prefix|");

  gmulti_http1_write_request_head (out, method, target, host, headers, body_length, user_agent);
  g_assert_true (g_str_has_prefix (out->str, "prefix|"));
  g_assert_cmpstr (out->str + 7, ==, expected);
  g_string_free (out, TRUE);
}

static void
test_request_head (void)
{
  g_autoptr(GMultiHeaders) app = NULL;

  assert_head ("GET", "/", "example.com", NULL, GMULTI_HTTP1_NO_BODY, NULL,
               "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");

  assert_head ("GET", "/a/b?c=d&e", "example.com:8080", NULL, GMULTI_HTTP1_NO_BODY, "gmulti/0.1",
               "GET /a/b?c=d&e HTTP/1.1\r\nHost: example.com:8080\r\n"
               "User-Agent: gmulti/0.1\r\nAccept: */*\r\n\r\n");

  /* Methods that normally carry a body announce an empty one. */
  assert_head ("POST", "/form", "h", NULL, GMULTI_HTTP1_NO_BODY, NULL,
               "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  assert_head ("PUT", "/x", "h", NULL, GMULTI_HTTP1_NO_BODY, NULL,
               "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  assert_head ("PATCH", "/x", "h", NULL, GMULTI_HTTP1_NO_BODY, NULL,
               "PATCH /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  assert_head ("DELETE", "/x", "h", NULL, GMULTI_HTTP1_NO_BODY, NULL,
               "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n");
  /* Methods are case-sensitive: "post" is not POST. */
  assert_head ("post", "/x", "h", NULL, GMULTI_HTTP1_NO_BODY, NULL,
               "post /x HTTP/1.1\r\nHost: h\r\n\r\n");

  assert_head ("POST", "/up", "h", NULL, 0, NULL,
               "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  assert_head ("PUT", "/up", "h", NULL, G_GINT64_CONSTANT (12345678901), NULL,
               "PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 12345678901\r\n\r\n");
  assert_head ("POST", "/up", "h", NULL, GMULTI_HTTP1_CHUNKED, "ua",
               "POST /up HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\nAccept: */*\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");

  /* Application headers follow in order; framing ones are dropped; Host replaces the
   * default in first position. */
  app = make_headers ("X-One", "1",
                      "Content-Length", "999",
                      "host", "other.example",
                      "Transfer-Encoding", "gzip, chunked",
                      "Connection", "close",
                      "X-Two", "2",
                      "X-One", "again",
                      "HOST", "ignored.example",
                      NULL);
  assert_head ("POST", "/", "example.com", app, 3, "ua",
               "POST / HTTP/1.1\r\nHost: other.example\r\nUser-Agent: ua\r\nAccept: */*\r\n"
               "Content-Length: 3\r\n"
               "X-One: 1\r\nConnection: close\r\nX-Two: 2\r\nX-One: again\r\n\r\n");
  g_clear_pointer (&app, gmulti_headers_unref);

  /* The application's User-Agent and Accept win, each on its own. */
  app = make_headers ("user-agent", "mine/2", NULL);
  assert_head ("GET", "/", "h", app, GMULTI_HTTP1_NO_BODY, "default/1",
               "GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nuser-agent: mine/2\r\n\r\n");
  g_clear_pointer (&app, gmulti_headers_unref);

  app = make_headers ("Accept", "application/json", NULL);
  assert_head ("GET", "/", "h", app, GMULTI_HTTP1_NO_BODY, "default/1",
               "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: default/1\r\nAccept: application/json\r\n\r\n");
  g_clear_pointer (&app, gmulti_headers_unref);

  /* Without a default user agent, nothing is added. */
  app = make_headers ("X-A", "", NULL);
  assert_head ("GET", "/", "h", app, GMULTI_HTTP1_NO_BODY, NULL,
               "GET / HTTP/1.1\r\nHost: h\r\nX-A: \r\n\r\n");
  g_clear_pointer (&app, gmulti_headers_unref);

  /* An empty list behaves like none. */
  app = gmulti_headers_new ();
  assert_head ("OPTIONS", "*", "h", app, GMULTI_HTTP1_NO_BODY, NULL,
               "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
}

/* What we write, our own parser-side rules must accept as a request head shape. */
static void
test_request_head_roundtrip (void)
{
  g_autoptr(GMultiHeaders) app = make_headers ("X-Trace", "abc", "Cookie", "a=1; b=2", NULL);
  GString *out = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  guint i;

  gmulti_http1_write_request_head (out, "GET", "/p", "h", app, GMULTI_HTTP1_NO_BODY, "ua");
  g_assert_true (g_str_has_suffix (out->str, "\r\n\r\n"));
  lines = g_strsplit (out->str, "\r\n", -1);
  /* Request line, 5 fields, blank line, and the empty tail after the last CRLF. */
  g_assert_cmpuint (g_strv_length (lines), ==, 8);
  for (i = 1; i < 6; i++)
    {
      const char *colon = strchr (lines[i], ':');

      g_assert_nonnull (colon);
      g_assert_true (gmulti_headers_find_non_tchar (lines[i], colon - lines[i]) ==
                     (gsize) (colon - lines[i]));
    }
  g_string_free (out, TRUE);
}

static void
test_chunk_prefix (void)
{
  char buf[20];
  gsize len;

  len = gmulti_http1_chunk_prefix (buf, 0);
  g_assert_cmpmem (buf, len, "0\r\n\r\n", 5);
  len = gmulti_http1_chunk_prefix (buf, 1);
  g_assert_cmpmem (buf, len, "1\r\n", 3);
  len = gmulti_http1_chunk_prefix (buf, 255);
  g_assert_cmpmem (buf, len, "ff\r\n", 4);
  len = gmulti_http1_chunk_prefix (buf, 4096);
  g_assert_cmpmem (buf, len, "1000\r\n", 6);
  len = gmulti_http1_chunk_prefix (buf, 0xabcdef);
  g_assert_cmpmem (buf, len, "abcdef\r\n", 8);
  len = gmulti_http1_chunk_prefix (buf, G_MAXSIZE);
  g_assert_cmpmem (buf, len, "ffffffffffffffff\r\n", 18);
}

static gboolean
part_ok (GMultiHttp1Part  part,
         const char      *text)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = gmulti_http1_check_part (part, text, "X-Field", &error);

  /* A refusal always says why, in the domain its callers document. */
  g_assert_true (ok == (error == NULL));
  if (error != NULL)
    g_assert_true (g_error_matches (error, GMULTI_ERROR,
                                    part == GMULTI_HTTP1_PART_TARGET ||
                                    part == GMULTI_HTTP1_PART_HOST
                                    ? GMULTI_ERROR_INVALID_URI
                                    : GMULTI_ERROR_INVALID_HEADER));
  return ok;
}

static void
test_validation (void)
{
  g_assert_true (part_ok (GMULTI_HTTP1_PART_METHOD, "GET"));
  g_assert_true (part_ok (GMULTI_HTTP1_PART_METHOD, "M-SEARCH"));
  g_assert_true (part_ok (GMULTI_HTTP1_PART_METHOD, "x!#$%&'*+-.^_`|~9"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_METHOD, ""));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_METHOD, "GET "));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_METHOD, "GET\r\n"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_METHOD, "GE/T"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_METHOD, "GET\x80"));

  g_assert_true (part_ok (GMULTI_HTTP1_PART_FIELD_NAME, "X-Custom_1"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_NAME, ""));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_NAME, "X Custom"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_NAME, "X:Custom"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_NAME, "X\nCustom"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_NAME, "X\"Custom"));

  g_assert_true (part_ok (GMULTI_HTTP1_PART_FIELD_VALUE, ""));
  g_assert_true (part_ok (GMULTI_HTTP1_PART_FIELD_VALUE, "a b\tc \"d\" caf\xc3\xa9"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_VALUE, "a\rb"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_VALUE, "a\nb"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_VALUE, "a\x01"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_VALUE, "a\x7f"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_FIELD_VALUE,
                           "ua\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1"));

  g_assert_true (part_ok (GMULTI_HTTP1_PART_TARGET, "/"));
  g_assert_true (part_ok (GMULTI_HTTP1_PART_TARGET, "/a%20b?q=1&r=%0D%0A"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_TARGET, ""));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_TARGET, "a"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_TARGET, "/a b"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_TARGET, "/ HTTP/1.1\r\nX: 1"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_TARGET, "/\x7f"));

  g_assert_true (part_ok (GMULTI_HTTP1_PART_HOST, "example.com"));
  g_assert_true (part_ok (GMULTI_HTTP1_PART_HOST, "127.0.0.1"));
  g_assert_true (part_ok (GMULTI_HTTP1_PART_HOST, "::1"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, ""));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, "exa\r\nmple.com"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, "a b"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, "a/b"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, "user@host"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, "host:80"));
  g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, "[::1]"));
  for (const char *d = "/?#@[]\\%"; *d != '\0'; d++)
    {
      char host[] = "exa?ple.com";

      host[3] = *d;
      g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, host));
    }
  g_assert_false (part_ok (GMULTI_HTTP1_PART_HOST, "exa\x7fmple.com"));
}

int
main (int   argc,
      char *argv[])
{
  gsize i;

  g_test_init (&argc, &argv, NULL);

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/GMulti/Http1/response/", cases[i].name, NULL);

      g_test_add_data_func (path, &cases[i], test_case);
    }

  g_test_add_func ("/GMulti/Http1/partial-chunk", test_partial_chunk);
  g_test_add_func ("/GMulti/Http1/one-event-per-call", test_one_event_per_call);
  g_test_add_func ("/GMulti/Http1/after-error", test_after_error);
  g_test_add_func ("/GMulti/Http1/pipelined-reset", test_pipelined_reset);
  g_test_add_func ("/GMulti/Http1/transfer-codings-reset", test_transfer_codings_reset);
  g_test_add_func ("/GMulti/Http1/fresh", test_fresh);
  g_test_add_func ("/GMulti/Http1/limit/header-bytes", test_header_bytes_limit);
  g_test_add_func ("/GMulti/Http1/limit/header-fields", test_header_fields_limit);
  g_test_add_func ("/GMulti/Http1/limit/interim-flood", test_interim_flood);
  g_test_add_func ("/GMulti/Http1/limit/chunk-line", test_chunk_line_limit);
  g_test_add_func ("/GMulti/Http1/large-chunk", test_large_chunk);
  g_test_add_func ("/GMulti/Http1/request/head", test_request_head);
  g_test_add_func ("/GMulti/Http1/request/roundtrip", test_request_head_roundtrip);
  g_test_add_func ("/GMulti/Http1/request/chunk-prefix", test_chunk_prefix);
  g_test_add_func ("/GMulti/Http1/request/validation", test_validation);

  return g_test_run ();
}
