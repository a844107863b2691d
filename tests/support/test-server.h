/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scripted HTTP/1.1 server on loopback for the test suite.
 *
 * It is plain C + GLib and deliberately shares no code with gmulti, so a bug
 * in the library can never hide itself by also living in the test server.
 *
 * Threads: one accept thread, plus one thread per accepted connection. The
 * handlers run on the connection's thread and answer with the blocking
 * test_conn_*() calls. Every wait is bounded (the I/O timeout, 10 s by
 * default) and returns early once the server is being freed, so
 * test_server_free() joins every thread promptly, provided the handlers
 * themselves only wait through test_conn_*() calls.
 *
 * Counters: a request counts (and is recorded for test_server_get_request())
 * as soon as its head is parsed; its body is added to the record once read.
 * A connection counts as open from accept until the server closes or resets
 * it (test_conn_close(), test_conn_reset(), handler returning FALSE, client
 * EOF noticed while waiting for the next request, I/O timeout, bad request).
 *
 * TLS: test_server_new_tls() serves the same scripts over TLS (GnuTLS, session
 * tickets on, ALPN "http/1.1"). The handshake runs on the connection's thread before
 * the handler; a connection whose handshake fails never reaches the handler and
 * counts in test_server_get_n_tls_failed(). All test_conn_*() calls then move
 * plaintext; test_conn_close() sends close_notify first, and
 * test_conn_close_without_notify() ends the TCP connection without it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TestServer TestServer;
typedef struct _TestConn TestConn;

typedef struct
{
  char *method;                 /* "GET" */
  char *target;                 /* "/path?q" */
  char *version;                /* "HTTP/1.1" */
  GPtrArray *header_names;      /* (element-type utf8) as received, in order */
  GPtrArray *header_values;     /* (element-type utf8) same length as names */
  GPtrArray *trailer_names;     /* chunked trailer fields; empty if none */
  GPtrArray *trailer_values;
  GBytes *body;                 /* decoded body; empty if none, NULL if not read */
  guint conn_id;                /* 1-based accept order of the connection */
  guint seq_on_conn;            /* 1 for the first request on the connection */
  gboolean body_was_chunked;
  char *raw_head;               /* request line + headers + blank line, verbatim */
} TestRequest;

typedef enum
{
  TEST_SERVER_IPV4 = 1,
  TEST_SERVER_IPV6 = 2,
} TestServerFlags;

/* Called on a connection thread for each complete request (body included).
 * Respond with the test_conn_*() calls. Return TRUE to wait for another
 * request on the same connection, FALSE to close it. */
typedef gboolean (*TestHandler) (TestServer  *server,
                                 TestConn    *conn,
                                 TestRequest *req,
                                 gpointer     user_data);

/* Called once per accepted connection before anything is read. The
 * connection is closed (orderly) when it returns, unless already closed. */
typedef void (*TestRawHandler) (TestServer *server,
                                TestConn   *conn,
                                gpointer    user_data);

typedef struct
{
  const char *cert_file;        /* PEM certificate (chain) */
  const char *key_file;         /* its private key */
  const char *client_ca_file;   /* non-NULL: require a client certificate it signed */
  const char *priority;         /* GnuTLS priority string; NULL: "NORMAL" */
  gboolean one_byte_records;    /* every plaintext byte written goes in its own record */
} TestTlsOptions;

/* Requests */
const char  *test_request_get_header   (TestRequest *req,
                                        const char  *name);
const char  *test_request_get_trailer  (TestRequest *req,
                                        const char  *name);
TestRequest *test_request_copy         (TestRequest *req);
void         test_request_free         (TestRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestRequest, test_request_free)

/* Server. Listens on 127.0.0.1 and/or ::1 (one shared ephemeral port).
 * IPv4 failing to bind is fatal; if ::1 is missing the server serves IPv4
 * alone (see test_server_has_ipv6()), and an IPv6-only server is NULL. */
TestServer  *test_server_new           (TestServerFlags  flags,
                                        TestHandler      handler,
                                        gpointer         user_data);
TestServer  *test_server_new_raw       (TestServerFlags  flags,
                                        TestRawHandler   handler,
                                        gpointer         user_data);
/* The same scripts on a Unix stream socket at @path (an existing file there is
 * removed first; the caller removes the socket afterwards), or on the Linux abstract
 * socket "name" for a @path of "@name". No port; the URIs it gives are meaningless. */
TestServer  *test_server_new_unix      (const char      *path,
                                        TestHandler      handler,
                                        gpointer         user_data);
TestServer  *test_server_new_unix_tls  (const char           *path,
                                        const TestTlsOptions *tls,
                                        TestHandler           handler,
                                        gpointer              user_data);
/* The files are loaded at once (g_error() if they cannot be). */
TestServer  *test_server_new_tls       (TestServerFlags       flags,
                                        const TestTlsOptions *tls,
                                        TestHandler           handler,
                                        gpointer              user_data);
TestServer  *test_server_new_tls_raw   (TestServerFlags       flags,
                                        const TestTlsOptions *tls,
                                        TestRawHandler        handler,
                                        gpointer              user_data);
void         test_server_free          (TestServer      *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestServer, test_server_free)

/* With TRUE, "Expect: 100-continue" gets no interim response. */
void         test_server_set_ignore_expect (TestServer *server,
                                            gboolean    ignore);
/* Bound for each request read and each stalled write (default 10 s). */
void         test_server_set_io_timeout    (TestServer *server,
                                            guint       timeout_ms);

guint16      test_server_get_port      (TestServer *server);
gboolean     test_server_has_ipv4      (TestServer *server);
gboolean     test_server_has_ipv6      (TestServer *server);
/* "http://127.0.0.1:PORT/path" ("https://" for a TLS server). */
char        *test_server_uri           (TestServer *server,
                                        const char *path);
char        *test_server_uri6          (TestServer *server,
                                        const char *path);

/* TLS counters (thread-safe): handshakes completed (resumed ones included) and
 * resumed, handshakes failed, close_notify alerts received from clients. The SNI of
 * the last completed handshake is a copy (g_free), NULL if the client sent none. */
gboolean     test_server_is_tls        (TestServer *server);
guint        test_server_get_n_tls_handshakes (TestServer *server);
guint        test_server_get_n_tls_resumed    (TestServer *server);
guint        test_server_get_n_tls_failed     (TestServer *server);
guint        test_server_get_n_close_notify   (TestServer *server);
char        *test_server_get_last_sni         (TestServer *server);
gboolean     test_server_wait_close_notify    (TestServer *server,
                                               guint       n,
                                               guint       timeout_ms);
gboolean     test_server_wait_tls_failed      (TestServer *server,
                                               guint       n,
                                               guint       timeout_ms);

/* Thread-safe; the wait functions return whether the count was reached. */
guint        test_server_get_n_accepted (TestServer *server);
guint        test_server_get_n_requests (TestServer *server);
guint        test_server_get_n_open     (TestServer *server);
/* Joins the threads of the connections that ended (otherwise joined at the next
 * accept); returns how many connections the server still holds. */
guint        test_server_reap           (TestServer *server);
gboolean     test_server_wait_open      (TestServer *server,
                                         guint       n,
                                         guint       timeout_ms);
gboolean     test_server_wait_requests  (TestServer *server,
                                         guint       n,
                                         guint       timeout_ms);
/* Copies (free with test_request_free()), or NULL if there is none. */
TestRequest *test_server_get_last_request (TestServer *server);
TestRequest *test_server_get_request    (TestServer *server,
                                         guint       index);

/* Connections (call only from the connection's own handler thread) */
TestServer  *test_conn_get_server      (TestConn   *conn);
guint        test_conn_get_id          (TestConn   *conn);
int          test_conn_get_family      (TestConn   *conn);
gboolean     test_conn_is_open         (TestConn   *conn);

/* Raw-mode reading. Each returns NULL/FALSE at EOF, error, timeout, stop
 * or a malformed request. read_request = head + body; the split pair lets a
 * script answer before the body (no 100 Continue is sent by the head read).
 * read_some returns whatever is buffered or next arrives. */
TestRequest *test_conn_read_request    (TestConn   *conn,
                                        guint       timeout_ms);
TestRequest *test_conn_read_request_head (TestConn *conn,
                                          guint     timeout_ms);
gboolean     test_conn_read_request_body (TestConn    *conn,
                                          TestRequest *req,
                                          guint        timeout_ms);
GBytes      *test_conn_read_some       (TestConn   *conn,
                                        guint       timeout_ms);

/* Writing: FALSE once the client is gone (never SIGPIPE) or on timeout.
 * write_chunk writes one chunked-coding chunk; len 0 writes the last one.
 * respond adds the status line and Content-Length (it always sends the
 * body, so do not use it to answer HEAD). */
gboolean     test_conn_write           (TestConn   *conn,
                                        const void *data,
                                        gsize       len);
gboolean     test_conn_write_str       (TestConn   *conn,
                                        const char *str);
gboolean     test_conn_printf          (TestConn   *conn,
                                        const char *fmt,
                                        ...) G_GNUC_PRINTF (2, 3);
gboolean     test_conn_write_chunk     (TestConn   *conn,
                                        const void *data,
                                        gsize       len);
gboolean     test_conn_respond         (TestConn   *conn,
                                        guint       status,
                                        const char *content_type,
                                        const void *body,
                                        gsize       len);
gboolean     test_conn_respond_with_headers (TestConn   *conn,
                                             guint       status,
                                             const char *headers,
                                             const void *body,
                                             gsize       len);
/* sleep returns early when the server stops; trickle sends one byte at a
 * time with @delay_ms between bytes (TCP_NODELAY is on). */
void         test_conn_sleep           (TestConn   *conn,
                                        guint       ms);
gboolean     test_conn_trickle         (TestConn   *conn,
                                        const void *data,
                                        gsize       len,
                                        guint       delay_ms);
/* close sends FIN (after discarding input already queued, so the kernel
 * does not turn it into RST); reset sends RST (SO_LINGER {1, 0}). */
void         test_conn_close           (TestConn   *conn);
/* TLS: FIN without close_notify, as a truncation attack would look. */
void         test_conn_close_without_notify (TestConn *conn);
void         test_conn_reset           (TestConn   *conn);
/* TRUE if the client closes (EOF or RST) within @ms. Bytes it sends
 * meanwhile stay available to the read calls. */
gboolean     test_conn_wait_client_close (TestConn *conn,
                                          guint     ms);

/* Helpers */
gboolean     test_ipv6_loopback_available (void);
/* A loopback listener (AF_INET or AF_INET6) with backlog 0 whose accept
 * queue is already full with one never-accepted connection: Linux drops
 * further SYNs, so connects to *port stay pending. Returns the fd for the
 * caller to close, or -1. */
int          test_blackhole_listener   (int         family,
                                        guint16    *port);

G_END_DECLS
