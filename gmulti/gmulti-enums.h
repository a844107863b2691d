/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * GMultiError:
 * @GMULTI_ERROR_FAILED: a failure with no more specific code
 * @GMULTI_ERROR_INVALID_ARGUMENT: the application passed an option or value that is out
 *   of range or malformed (negative timeout, unknown method syntax...)
 * @GMULTI_ERROR_INVALID_URI: the URI could not be parsed, or has no host
 * @GMULTI_ERROR_UNSUPPORTED_SCHEME: the URI's scheme is not one gmulti speaks
 * @GMULTI_ERROR_INVALID_HEADER: a request header name or value, or the method,
 *   contains forbidden characters (CR, LF, NUL, or non-token characters in a name)
 * @GMULTI_ERROR_RESOLVE_FAILED: the host name could not be resolved
 * @GMULTI_ERROR_CONNECT_FAILED: no address of the host accepted a connection
 * @GMULTI_ERROR_CONNECT_TIMEOUT: the connection was not established within the connect
 *   timeout
 * @GMULTI_ERROR_TIMED_OUT: the transfer did not complete within its total timeout
 * @GMULTI_ERROR_TOO_SLOW: the transfer stayed below the low-speed limit for longer than
 *   the low-speed time
 * @GMULTI_ERROR_SEND_FAILED: writing the request to the connection failed
 * @GMULTI_ERROR_RECEIVE_FAILED: reading the response from the connection failed (for
 *   example the connection was reset)
 * @GMULTI_ERROR_CONNECTION_CLOSED: the server closed the connection before the response
 *   was complete
 * @GMULTI_ERROR_PROTOCOL: the server's response is not valid HTTP
 * @GMULTI_ERROR_HEADERS_TOO_LARGE: the response header section exceeds the header size or
 *   header count limit
 * @GMULTI_ERROR_TOO_MANY_REDIRECTS: more redirects than the transfer allows
 * @GMULTI_ERROR_BAD_REDIRECT: a redirect points to an invalid URI or unsupported scheme,
 *   or its request body cannot be sent again
 * @GMULTI_ERROR_CALLBACK_ABORTED: an application callback (write or read function)
 *   asked to abort the transfer
 * @GMULTI_ERROR_ENGINE_STOPPED: the engine was stopped because a socket or timer
 *   callback reported failure
 * @GMULTI_ERROR_BUSY: the transfer is already added to an engine or session
 * @GMULTI_ERROR_TLS_HANDSHAKE_FAILED: the TLS handshake failed (no common protocol
 *   version or cipher, an alert from the server, a malformed message)
 * @GMULTI_ERROR_TLS_UNTRUSTED: the server's certificate chain does not lead to a
 *   trusted certificate authority (self-signed, unknown issuer, not a CA, revoked...)
 * @GMULTI_ERROR_TLS_HOSTNAME_MISMATCH: the server's certificate is not valid for the
 *   host name the transfer connected to
 * @GMULTI_ERROR_TLS_EXPIRED: a certificate of the server's chain has expired
 * @GMULTI_ERROR_TLS_NOT_YET_VALID: a certificate of the server's chain is not valid yet
 * @GMULTI_ERROR_TLS_PIN_MISMATCH: the server's public key does not match the pinned
 *   key
 * @GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED: the server asked for a client certificate
 *   and none was given, or it refused the one given
 * @GMULTI_ERROR_TLS_BAD_CERTIFICATE: a local certificate, key or CA file could not be
 *   loaded or does not fit
 * @GMULTI_ERROR_TLS_FAILED: a TLS record could not be received or sent (corrupt data,
 *   or the peer closed the connection without close_notify where it mattered)
 * @GMULTI_ERROR_OUTPUT_FAILED: the response body could not be written to the
 *   transfer's output stream (a full disk, a closed pipe...)
 * @GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING: the response's `Transfer-Encoding` names
 *   a coding gmulti cannot decode (gmulti decodes `gzip`, `x-gzip` and `deflate`), or
 *   more of them than it stacks
 * @GMULTI_ERROR_HTTP2_REQUIRED: the transfer requires HTTP/2
 *   (%GMULTI_HTTP_VERSION_HTTP_2) and the server did not choose it
 * @GMULTI_ERROR_HTTP2_STREAM_RESET: the HTTP/2 server reset the transfer's stream
 *   (`RST_STREAM`); the message gives the error code it sent
 * @GMULTI_ERROR_HTTP2_GOAWAY: the HTTP/2 server shut the connection down (`GOAWAY`)
 *   after taking the request, and it could not be retried safely
 * @GMULTI_ERROR_HTTP2_CONNECTION_ERROR: the HTTP/2 connection failed: the server broke
 *   the protocol, or exceeded a limit that guards against hostile servers
 * @GMULTI_ERROR_CONTENT_DECODING: the response body is not valid in the content coding
 *   its `Content-Encoding` names (corrupt, cut short, or with data after its end)
 * @GMULTI_ERROR_DECODED_TOO_LARGE: the decoded response body exceeded
 *   [property@Session:max-decoded-size] or expanded more than
 *   [property@Session:max-decode-ratio] allows (a decompression bomb)
 * @GMULTI_ERROR_PROXY_INVALID: the proxy URI is not valid, or names a kind of proxy
 *   gmulti does not speak
 * @GMULTI_ERROR_PROXY_LOOKUP_FAILED: the proxy resolver could not say which proxy to use
 * @GMULTI_ERROR_PROXY_CONNECT_FAILED: the proxy's name could not be resolved, or the
 *   proxy refused or did not answer the connection
 * @GMULTI_ERROR_PROXY_AUTH_REQUIRED: the proxy asked for credentials (`407`, or a SOCKS5
 *   authentication method) and there were none, or it refused the ones given
 * @GMULTI_ERROR_PROXY_TUNNEL_FAILED: the HTTP proxy answered the `CONNECT` request with
 *   an error status; the message gives it
 * @GMULTI_ERROR_PROXY_SOCKS_FAILED: the SOCKS proxy refused to connect to the origin;
 *   the message gives its reply code
 * @GMULTI_ERROR_PROXY_PROTOCOL: the proxy's answer is not valid in its protocol
 * @GMULTI_ERROR_AUTH_FAILED: the server refused the credentials given for it (it
 *   answered `401` again), or its challenge could not be answered
 *
 * Error codes in the `GMULTI_ERROR` domain. Cancellation of an asynchronous call is
 * reported as %G_IO_ERROR_CANCELLED instead.
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_ERROR_FAILED,
  GMULTI_ERROR_INVALID_ARGUMENT,
  GMULTI_ERROR_INVALID_URI,
  GMULTI_ERROR_UNSUPPORTED_SCHEME,
  GMULTI_ERROR_INVALID_HEADER,
  GMULTI_ERROR_RESOLVE_FAILED,
  GMULTI_ERROR_CONNECT_FAILED,
  GMULTI_ERROR_CONNECT_TIMEOUT,
  GMULTI_ERROR_TIMED_OUT,
  GMULTI_ERROR_TOO_SLOW,
  GMULTI_ERROR_SEND_FAILED,
  GMULTI_ERROR_RECEIVE_FAILED,
  GMULTI_ERROR_CONNECTION_CLOSED,
  GMULTI_ERROR_PROTOCOL,
  GMULTI_ERROR_HEADERS_TOO_LARGE,
  GMULTI_ERROR_TOO_MANY_REDIRECTS,
  GMULTI_ERROR_BAD_REDIRECT,
  GMULTI_ERROR_CALLBACK_ABORTED,
  GMULTI_ERROR_ENGINE_STOPPED,
  GMULTI_ERROR_BUSY,
  GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
  GMULTI_ERROR_TLS_UNTRUSTED,
  GMULTI_ERROR_TLS_HOSTNAME_MISMATCH,
  GMULTI_ERROR_TLS_EXPIRED,
  GMULTI_ERROR_TLS_NOT_YET_VALID,
  GMULTI_ERROR_TLS_PIN_MISMATCH,
  GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED,
  GMULTI_ERROR_TLS_BAD_CERTIFICATE,
  GMULTI_ERROR_TLS_FAILED,
  GMULTI_ERROR_OUTPUT_FAILED,
  GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING,
  GMULTI_ERROR_HTTP2_REQUIRED,
  GMULTI_ERROR_HTTP2_STREAM_RESET,
  GMULTI_ERROR_HTTP2_GOAWAY,
  GMULTI_ERROR_HTTP2_CONNECTION_ERROR,
  GMULTI_ERROR_CONTENT_DECODING,
  GMULTI_ERROR_DECODED_TOO_LARGE,
  GMULTI_ERROR_PROXY_INVALID,
  GMULTI_ERROR_PROXY_LOOKUP_FAILED,
  GMULTI_ERROR_PROXY_CONNECT_FAILED,
  GMULTI_ERROR_PROXY_AUTH_REQUIRED,
  GMULTI_ERROR_PROXY_TUNNEL_FAILED,
  GMULTI_ERROR_PROXY_SOCKS_FAILED,
  GMULTI_ERROR_PROXY_PROTOCOL,
  GMULTI_ERROR_AUTH_FAILED,
} GMultiError;

/**
 * GMultiEngineResult:
 * @GMULTI_ENGINE_OK: the call did what it was asked
 * @GMULTI_ENGINE_BAD_ARGUMENT: an argument was %NULL or out of range
 * @GMULTI_ENGINE_BAD_TRANSFER: the transfer belongs to another engine
 * @GMULTI_ENGINE_ADDED_ALREADY: the transfer is already added to this engine
 * @GMULTI_ENGINE_RECURSIVE_CALL: the call was made from inside one of the engine's
 *   callbacks (socket, timer, write, read, header or progress function, or a signal
 *   handler they emit) where it is not allowed; nothing was changed
 * @GMULTI_ENGINE_CALLBACK_FAILED: the socket or timer function reported failure; the
 *   engine stopped and every transfer completed with %GMULTI_ERROR_ENGINE_STOPPED
 * @GMULTI_ENGINE_OUT_OF_RESOURCES: the system refused a file descriptor or thread
 * @GMULTI_ENGINE_UNKNOWN_SOCKET: the socket passed to [method@Engine.assign] is not one
 *   the engine announced
 *
 * Status of a whole engine call. Problems of single transfers are never reported here:
 * they arrive in the transfer's completion [struct@Message].
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_ENGINE_OK,
  GMULTI_ENGINE_BAD_ARGUMENT,
  GMULTI_ENGINE_BAD_TRANSFER,
  GMULTI_ENGINE_ADDED_ALREADY,
  GMULTI_ENGINE_RECURSIVE_CALL,
  GMULTI_ENGINE_CALLBACK_FAILED,
  GMULTI_ENGINE_OUT_OF_RESOURCES,
  GMULTI_ENGINE_UNKNOWN_SOCKET,
} GMultiEngineResult;

/**
 * GMultiPoll:
 * @GMULTI_POLL_NONE: nothing to watch (never passed to the socket function)
 * @GMULTI_POLL_IN: watch the socket for readability
 * @GMULTI_POLL_OUT: watch the socket for writability
 * @GMULTI_POLL_INOUT: watch the socket for both
 * @GMULTI_POLL_REMOVE: stop watching the socket; it is still open at the time of the
 *   call, and its number may be reused right after
 *
 * What the engine asks the application to watch on a socket, passed to the
 * [callback@SocketFunc].
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_POLL_NONE = 0,
  GMULTI_POLL_IN = 1,
  GMULTI_POLL_OUT = 2,
  GMULTI_POLL_INOUT = 3,
  GMULTI_POLL_REMOVE = 4,
} GMultiPoll;

/**
 * GMultiEvent:
 * @GMULTI_EVENT_NONE: unknown readiness: the engine checks the socket itself
 * @GMULTI_EVENT_IN: the socket is readable (or has hung up)
 * @GMULTI_EVENT_OUT: the socket is writable
 * @GMULTI_EVENT_ERR: the socket has an error condition
 *
 * What happened on a socket, passed to [method@Engine.socket_action].
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_EVENT_NONE = 0,
  GMULTI_EVENT_IN = 1 << 0,
  GMULTI_EVENT_OUT = 1 << 1,
  GMULTI_EVENT_ERR = 1 << 2,
} GMultiEvent;

/**
 * GMultiTransferState:
 * @GMULTI_TRANSFER_IDLE: not added to any engine
 * @GMULTI_TRANSFER_PENDING: added, waiting for a name lookup or a connection slot
 * @GMULTI_TRANSFER_CONNECTING: establishing a connection
 * @GMULTI_TRANSFER_SENDING: sending the request
 * @GMULTI_TRANSFER_RECEIVING: waiting for or receiving the response
 * @GMULTI_TRANSFER_DONE: completed (successfully or not); the result is available
 *
 * Where a transfer is in its life.
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_TRANSFER_IDLE,
  GMULTI_TRANSFER_PENDING,
  GMULTI_TRANSFER_CONNECTING,
  GMULTI_TRANSFER_SENDING,
  GMULTI_TRANSFER_RECEIVING,
  GMULTI_TRANSFER_DONE,
} GMultiTransferState;

/**
 * GMultiTlsVersion:
 * @GMULTI_TLS_VERSION_DEFAULT: the default minimum, TLS 1.2 (RFC 8996 deprecates
 *   TLS 1.0 and 1.1)
 * @GMULTI_TLS_VERSION_TLS_1_0: TLS 1.0 or newer; only for servers that cannot be
 *   upgraded, since TLS 1.0 is deprecated (RFC 8996)
 * @GMULTI_TLS_VERSION_TLS_1_1: TLS 1.1 or newer; deprecated like TLS 1.0
 * @GMULTI_TLS_VERSION_TLS_1_2: TLS 1.2 or newer
 * @GMULTI_TLS_VERSION_TLS_1_3: TLS 1.3 only
 *
 * The oldest TLS protocol version a transfer accepts, set with
 * [method@Transfer.set_tls_min_version]. It applies on top of the TLS priority
 * string: a priority string can leave out newer versions, but not allow older
 * ones. A server that cannot speak a version allowed makes the transfer fail with
 * %GMULTI_ERROR_TLS_HANDSHAKE_FAILED.
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_TLS_VERSION_DEFAULT,
  GMULTI_TLS_VERSION_TLS_1_0,
  GMULTI_TLS_VERSION_TLS_1_1,
  GMULTI_TLS_VERSION_TLS_1_2,
  GMULTI_TLS_VERSION_TLS_1_3,
} GMultiTlsVersion;

/**
 * GMultiHttpVersion:
 * @GMULTI_HTTP_VERSION_AUTO: HTTP/2 where the server offers it over TLS (ALPN `h2`),
 *   HTTP/1.1 otherwise; cleartext `http` URIs use HTTP/1.1
 * @GMULTI_HTTP_VERSION_HTTP_1_1: HTTP/1.1 only (ALPN offers only `http/1.1`)
 * @GMULTI_HTTP_VERSION_HTTP_2: HTTP/2 required: over TLS a server that does not
 *   choose `h2` fails the transfer with %GMULTI_ERROR_HTTP2_REQUIRED, and so does an
 *   `http` URI (cleartext HTTP/2 needs prior knowledge)
 * @GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE: HTTP/2 spoken from the first byte,
 *   without negotiation, also over cleartext (`h2c` with prior knowledge, RFC 9113
 *   section 3.3)
 *
 * The HTTP version a transfer asks for, set with [method@Transfer.set_http_version]
 * or as a session's default ([property@Session:http-version]). After a response,
 * [method@Transfer.get_http_version_used] tells which version carried it
 * (%GMULTI_HTTP_VERSION_HTTP_1_1 or %GMULTI_HTTP_VERSION_HTTP_2).
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_HTTP_VERSION_AUTO,
  GMULTI_HTTP_VERSION_HTTP_1_1,
  GMULTI_HTTP_VERSION_HTTP_2,
  GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE,
} GMultiHttpVersion;

/**
 * GMultiMainLoopSource:
 * @GMULTI_MAIN_LOOP_SOURCE_AUTO: the default: what the `GMULTI_MAIN_LOOP_SOURCE`
 *   environment variable names (`epoll` or `unix-fd`), otherwise epoll where gmulti was
 *   built with it, unix-fd elsewhere
 * @GMULTI_MAIN_LOOP_SOURCE_EPOLL: one epoll descriptor polled by GLib for all the
 *   session's sockets; a main-loop iteration costs the same whatever the number of
 *   sockets (Linux only). Where gmulti was built without epoll, unix-fd is used instead
 * @GMULTI_MAIN_LOOP_SOURCE_UNIX_FD: every socket handed to GLib with
 *   g_source_add_unix_fd(), so that GLib polls them itself; works wherever GLib runs on
 *   Unix, and costs time in proportion to the number of sockets on each main-loop
 *   iteration
 *
 * How a [class@Session] watches its sockets on its main context, set with
 * [property@Session:main-loop-source]. Both behave alike; they differ in cost with many
 * connections (see [the architecture guide](architecture.html)).
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_MAIN_LOOP_SOURCE_AUTO,
  GMULTI_MAIN_LOOP_SOURCE_EPOLL,
  GMULTI_MAIN_LOOP_SOURCE_UNIX_FD,
} GMultiMainLoopSource;

/**
 * GMultiCookieSameSite:
 * @GMULTI_COOKIE_SAME_SITE_UNSET: the cookie had no valid `SameSite` attribute
 * @GMULTI_COOKIE_SAME_SITE_NONE: `SameSite=None`
 * @GMULTI_COOKIE_SAME_SITE_LAX: `SameSite=Lax`
 * @GMULTI_COOKIE_SAME_SITE_STRICT: `SameSite=Strict`
 *
 * The `SameSite` attribute of a [struct@Cookie], as the server sent it. A
 * [class@CookieJar] keeps it and saves it, but does not act on it: it knows no
 * browsing context to compare sites with.
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_COOKIE_SAME_SITE_UNSET,
  GMULTI_COOKIE_SAME_SITE_NONE,
  GMULTI_COOKIE_SAME_SITE_LAX,
  GMULTI_COOKIE_SAME_SITE_STRICT,
} GMultiCookieSameSite;

/**
 * GMultiCookieAcceptPolicy:
 * @GMULTI_COOKIE_ACCEPT_ALWAYS: every cookie the rules of RFC 6265 allow is stored
 * @GMULTI_COOKIE_ACCEPT_NEVER: no cookie from a response is stored (cookies added with
 *   [method@CookieJar.add] are still sent)
 * @GMULTI_COOKIE_ACCEPT_NO_THIRD_PARTY: only cookies from the site of the transfer's
 *   first party are stored: the registrable domain of the response's host must be the
 *   one of [property@Transfer:first-party-uri], or of the transfer's own URI when that
 *   is unset
 *
 * Which cookies from responses a [class@CookieJar] stores.
 *
 * Since: 0.1
 */
typedef enum {
  GMULTI_COOKIE_ACCEPT_ALWAYS,
  GMULTI_COOKIE_ACCEPT_NEVER,
  GMULTI_COOKIE_ACCEPT_NO_THIRD_PARTY,
} GMultiCookieAcceptPolicy;

G_END_DECLS
