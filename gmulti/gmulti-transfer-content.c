/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-transfer-object-private.h"

/* Content codings (decode-content, what was decoded, wire bytes) and the Unix socket a
 * transfer may go through instead of TCP. The engine does the work
 * (engine/gmulti-engine-stream.c, gmulti-pool.c); these are the switches and the
 * answers. */

/**
 * gmulti_transfer_set_decode_content: (set-property decode-content)
 * @self: a transfer
 * @decode: whether to ask for and undo content codings
 *
 * Sets whether the transfer offers the content codings gmulti can undo (`gzip`,
 * `deflate`, and `br` and `zstd` where the build has them) in `Accept-Encoding`, and
 * undoes those the response's `Content-Encoding` names, so the body arrives as the
 * resource's own bytes.
 *
 * A transfer that never sets it takes [property@Session:decode-content] (on by
 * default) from its session; on a bare [struct@Engine] it is off unless set. With it
 * off, no `Accept-Encoding` is added and the body arrives as it came, coded or not.
 *
 * An `Accept-Encoding` field set by the application is sent instead of gmulti's; the
 * codings gmulti knows are still undone (turn this off to receive them coded). A
 * response with a coding gmulti does not know is left as it came: see
 * [method@Transfer.get_content_decoded].
 *
 * It takes effect when the transfer starts.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_decode_content (GMultiTransfer *self,
                                    gboolean        decode)
{
  gboolean before;

  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  decode = !!decode;
  before = gmulti_transfer_get_decode_content (self);
  /* Set even when it reads the same: the session's default no longer applies. */
  self->decode_content_set = TRUE;
  self->decode_content = decode;
  if (before != decode)
    g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_DECODE_CONTENT]);
}

/**
 * gmulti_transfer_get_decode_content: (get-property decode-content)
 * @self: a transfer
 *
 * Gets whether the transfer undoes content codings, as set with
 * [method@Transfer.set_decode_content].
 *
 * Returns: the value set, or %TRUE if it was never set (then the session's setting
 *   applies)
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_get_decode_content (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  return self->decode_content_set ? self->decode_content : TRUE;
}

/**
 * gmulti_transfer_get_content_decoded:
 * @self: a transfer
 *
 * Gets whether the body of the final response was decoded: its `Content-Encoding`
 * named only codings gmulti undoes, and the transfer decodes content.
 *
 * When the response has a `Content-Encoding` field and this returns %FALSE, the body
 * is as the server coded it: a coding gmulti does not know, or decoding was off.
 * When it returns %TRUE, the `Content-Encoding` field is still in the response
 * headers (as received), but the body no longer has that coding.
 *
 * Returns: %TRUE if the body was decoded
 *
 * Since: 0.1
 */
gboolean
gmulti_transfer_get_content_decoded (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), FALSE);

  return self->run.content_decoded;
}

/**
 * gmulti_transfer_get_wire_bytes_received:
 * @self: a transfer
 *
 * Gets the number of body bytes of the final response received so far as they
 * came over the connection, before content decoding. For a body that was not
 * decoded, it equals [property@Transfer:bytes-received]; for a decoded one it is the
 * coded size, the figure that [property@Transfer:bytes-expected] (from
 * `Content-Length`) and [property@Transfer:progress] refer to.
 *
 * Returns: the number of coded body bytes received
 *
 * Since: 0.1
 */
guint64
gmulti_transfer_get_wire_bytes_received (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), 0);

  return self->run.content_decoded ? self->run.wire_bytes_received : self->run.bytes_received;
}

/**
 * gmulti_transfer_set_unix_socket_path: (set-property unix-socket-path)
 * @self: a transfer
 * @path: (nullable) (type filename): the socket to connect to, or %NULL for TCP
 *
 * Sets a Unix-domain stream socket the transfer connects to instead of the URI's host
 * and port, such as `/run/docker.sock`. The URI still gives the scheme, the `Host`
 * field and the path: `http://localhost/containers/json`. No name is resolved.
 * An `https` URI runs TLS over the socket, checking the certificate against the
 * URI's host.
 *
 * A path that starts with `@` names a Linux abstract socket: the rest of it, without
 * the `@`, is the name (with a leading NUL byte in the address).
 *
 * Connections are pooled per socket path (and TLS settings): transfers to the same
 * path reuse them. A transfer that names none takes
 * [property@Session:unix-socket-path]. A socket that cannot be connected to fails
 * the transfer with %GMULTI_ERROR_CONNECT_FAILED, its path in the message.
 *
 * It takes effect when the transfer starts.
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_unix_socket_path (GMultiTransfer *self,
                                      const char     *path)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (g_strcmp0 (self->unix_socket_path, path) == 0)
    return;

  g_free (self->unix_socket_path);
  self->unix_socket_path = g_strdup (path);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_UNIX_SOCKET_PATH]);
}

/**
 * gmulti_transfer_get_unix_socket_path: (get-property unix-socket-path)
 * @self: a transfer
 *
 * Gets the Unix socket the transfer connects to.
 *
 * Returns: (nullable) (type filename): the path, or %NULL for TCP (or the session's)
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_unix_socket_path (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->unix_socket_path;
}

/**
 * gmulti_transfer_set_proxy_uri: (set-property proxy-uri)
 * @self: a transfer
 * @uri: (nullable): a proxy URI, `direct://`, or %NULL
 *
 * Sets the proxy the transfer goes through, as
 * `KIND://[USER[:PASSWORD]@]HOST[:PORT]`:
 *
 * - `http://` and `https://` (TLS to the proxy itself): `http` URIs are sent to the
 *   proxy in absolute form, `https` URIs go through a `CONNECT` tunnel, with TLS to
 *   the origin inside it;
 * - `socks5://`, `socks5h://` (the proxy resolves the name), `socks4a://` and
 *   `socks://`: a tunnel for every URI.
 *
 * A user and password in the URI answer an HTTP proxy's `407` (Basic or Digest,
 * after [property@Transfer:proxy-username] and before
 * [property@Session:proxy-username]), and go to a SOCKS5 proxy by RFC 1929 (SOCKS4a
 * gets the user as its user id). `direct://` means no proxy, whatever the session
 * says. %NULL (the default) takes [property@Session:proxy-uri].
 *
 * The URI is parsed when the transfer starts: one that is not valid fails it with
 * %GMULTI_ERROR_PROXY_INVALID. A proxy that cannot be reached fails it with
 * %GMULTI_ERROR_PROXY_CONNECT_FAILED, one that asks for credentials it cannot be given
 * (or refuses them) with %GMULTI_ERROR_PROXY_AUTH_REQUIRED, and a refused tunnel with
 * %GMULTI_ERROR_PROXY_TUNNEL_FAILED (HTTP) or %GMULTI_ERROR_PROXY_SOCKS_FAILED (SOCKS).
 *
 * Since: 0.1
 */
void
gmulti_transfer_set_proxy_uri (GMultiTransfer *self,
                               const char     *uri)
{
  g_return_if_fail (GMULTI_IS_TRANSFER (self));

  if (g_strcmp0 (self->proxy_uri, uri) == 0)
    return;

  g_free (self->proxy_uri);
  self->proxy_uri = g_strdup (uri);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_transfer_pspecs[PROP_PROXY_URI]);
}

/**
 * gmulti_transfer_get_proxy_uri: (get-property proxy-uri)
 * @self: a transfer
 *
 * Gets the proxy URI set on the transfer.
 *
 * Returns: (nullable): the URI, or %NULL when the transfer sets none
 *
 * Since: 0.1
 */
const char *
gmulti_transfer_get_proxy_uri (GMultiTransfer *self)
{
  g_return_val_if_fail (GMULTI_IS_TRANSFER (self), NULL);

  return self->proxy_uri;
}

void
gmulti_transfer_install_content_properties (GObjectClass *object_class)
{
  /**
   * GMultiTransfer:decode-content: (getter get_decode_content) (setter set_decode_content)
   *
   * Whether content codings are offered and undone; see
   * [method@Transfer.set_decode_content].
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_DECODE_CONTENT] =
    g_param_spec_boolean ("decode-content", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:unix-socket-path: (getter get_unix_socket_path) (setter set_unix_socket_path)
   *
   * The Unix-domain socket to connect to instead of the URI's host; see
   * [method@Transfer.set_unix_socket_path].
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_UNIX_SOCKET_PATH] =
    g_param_spec_string ("unix-socket-path", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiTransfer:proxy-uri: (getter get_proxy_uri) (setter set_proxy_uri)
   *
   * The proxy the transfer goes through; see [method@Transfer.set_proxy_uri].
   *
   * Since: 0.1
   */
  gmulti_transfer_pspecs[PROP_PROXY_URI] =
    g_param_spec_string ("proxy-uri", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}
