/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

/* The session's defaults for content decoding (and its bomb guard), for the Unix
 * socket its transfers go through, and for their proxy (its URI and credentials).
 * Each is a field of its GMultiDefaults. */

#include <string.h>

#include "gmulti-session.h"
#include "gmulti-session-object-private.h"
#include "gmulti-engine-private.h"

/* Publishes @edit (the engine holds the old value until its runs end). */
static void
commit (GMultiSession  *self,
        GMultiDefaults *edit,
        guint           prop_id)
{
  gmulti_session_commit_defaults (self, edit);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[prop_id]);
}

/**
 * gmulti_session_set_decode_content: (set-property decode-content)
 * @self: a session
 * @decode: whether the session's transfers undo content codings
 *
 * Sets whether transfers that do not say otherwise
 * ([method@Transfer.set_decode_content]) send `Accept-Encoding` with the codings
 * gmulti undoes and undo the response's `Content-Encoding`. On by default.
 *
 * Since: 0.1
 */
void
gmulti_session_set_decode_content (GMultiSession *self,
                                   gboolean       decode)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));

  decode = !!decode;
  if (self->defaults->decode_content == decode)
    return;
  edit = gmulti_session_edit_defaults (self);
  edit->decode_content = decode;
  commit (self, edit, PROP_DECODE_CONTENT);
}

/**
 * gmulti_session_get_decode_content: (get-property decode-content)
 * @self: a session
 *
 * Gets whether the session's transfers undo content codings by default.
 *
 * Returns: %TRUE if they do
 *
 * Since: 0.1
 */
gboolean
gmulti_session_get_decode_content (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), FALSE);

  return self->defaults->decode_content;
}

/**
 * gmulti_session_set_max_decoded_size: (set-property max-decoded-size)
 * @self: a session
 * @size: the most bytes one body may decode to, or 0 for no limit
 *
 * Sets the most bytes a content-coded response body may decode to. A body that
 * decodes to more fails its transfer with %GMULTI_ERROR_DECODED_TOO_LARGE. The
 * default is 4 GiB (docs/limits.md).
 *
 * Since: 0.1
 */
void
gmulti_session_set_max_decoded_size (GMultiSession *self,
                                     guint64        size)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (self->defaults->max_decoded_size == size)
    return;
  edit = gmulti_session_edit_defaults (self);
  edit->max_decoded_size = size;
  commit (self, edit, PROP_MAX_DECODED_SIZE);
}

/**
 * gmulti_session_get_max_decoded_size: (get-property max-decoded-size)
 * @self: a session
 *
 * Gets the most bytes a content-coded body may decode to.
 *
 * Returns: the limit in bytes, or 0 for none
 *
 * Since: 0.1
 */
guint64
gmulti_session_get_max_decoded_size (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), 0);

  return self->defaults->max_decoded_size;
}

/**
 * gmulti_session_set_max_decode_ratio: (set-property max-decode-ratio)
 * @self: a session
 * @ratio: the most decoded bytes per coded byte, or 0 for no limit
 *
 * Sets how much a content-coded body may expand: once it decoded to more than 1 MiB,
 * a body whose decoded size reaches @ratio times its coded size fails its transfer
 * with %GMULTI_ERROR_DECODED_TOO_LARGE. The default is 1000 (docs/limits.md); real
 * text rarely expands more than 20 times.
 *
 * Since: 0.1
 */
void
gmulti_session_set_max_decode_ratio (GMultiSession *self,
                                     guint          ratio)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (self->defaults->max_decode_ratio == ratio)
    return;
  edit = gmulti_session_edit_defaults (self);
  edit->max_decode_ratio = ratio;
  commit (self, edit, PROP_MAX_DECODE_RATIO);
}

/**
 * gmulti_session_get_max_decode_ratio: (get-property max-decode-ratio)
 * @self: a session
 *
 * Gets how much a content-coded body may expand.
 *
 * Returns: the most decoded bytes per coded byte, or 0 for no limit
 *
 * Since: 0.1
 */
guint
gmulti_session_get_max_decode_ratio (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), 0);

  return self->defaults->max_decode_ratio;
}

/**
 * gmulti_session_set_unix_socket_path: (set-property unix-socket-path)
 * @self: a session
 * @path: (nullable) (type filename): a Unix socket, or %NULL for TCP
 *
 * Sets the Unix-domain socket that transfers which name none
 * ([method@Transfer.set_unix_socket_path], whose description applies) connect to
 * instead of their URI's host. %NULL by default.
 *
 * Since: 0.1
 */
void
gmulti_session_set_unix_socket_path (GMultiSession *self,
                                     const char    *path)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (g_strcmp0 (self->defaults->unix_socket_path, path) == 0)
    return;
  edit = gmulti_session_edit_defaults (self);
  g_free (edit->unix_socket_path);
  edit->unix_socket_path = g_strdup (path);
  commit (self, edit, PROP_UNIX_SOCKET_PATH);
}

/**
 * gmulti_session_get_unix_socket_path: (get-property unix-socket-path)
 * @self: a session
 *
 * Gets the Unix socket the session's transfers connect to by default.
 *
 * Returns: (nullable) (type filename): the path, or %NULL for TCP
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_unix_socket_path (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);

  return self->defaults->unix_socket_path;
}

/**
 * gmulti_session_set_proxy_uri: (set-property proxy-uri)
 * @self: a session
 * @uri: (nullable): a proxy URI such as `http://proxy.example:3128`, `direct://`, or
 *   %NULL
 *
 * Sets the proxy that transfers which name none ([method@Transfer.set_proxy_uri],
 * whose description gives the forms) go through. `direct://` means no proxy. %NULL
 * (the default) leaves it unset.
 *
 * A URI that is not valid makes every transfer of the session fail with
 * %GMULTI_ERROR_PROXY_INVALID until a valid one (or %NULL) is set. It takes effect
 * for transfers that start afterwards.
 *
 * Since: 0.1
 */
void
gmulti_session_set_proxy_uri (GMultiSession *self,
                              const char    *uri)
{
  GMultiDefaults *edit;

  g_return_if_fail (GMULTI_IS_SESSION (self));

  if (g_strcmp0 (self->defaults->proxy_uri, uri) == 0)
    return;
  edit = gmulti_session_edit_defaults (self);
  gmulti_defaults_set_proxy_uri (edit, uri);
  commit (self, edit, PROP_PROXY_URI);
}

/**
 * gmulti_session_get_proxy_uri: (get-property proxy-uri)
 * @self: a session
 *
 * Gets the proxy URI the session's transfers use by default, as it was set.
 *
 * Returns: (nullable): the URI, or %NULL when none is set
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_proxy_uri (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);

  return self->defaults->proxy_uri;
}

/* Stores a proxy credential in a new copy of the defaults. */
static void
set_proxy_secret (GMultiSession *self,
                  gboolean       password,
                  const char    *value)
{
  GMultiDefaults *edit;
  char **field;

  if (g_strcmp0 (password ? self->defaults->proxy_password : self->defaults->proxy_username,
                 value) == 0)
    return;
  edit = gmulti_session_edit_defaults (self);
  field = password ? &edit->proxy_password : &edit->proxy_username;
  if (*field != NULL)
    explicit_bzero (*field, strlen (*field));
  g_free (*field);
  *field = g_strdup (value);
  commit (self, edit, password ? PROP_PROXY_PASSWORD : PROP_PROXY_USERNAME);
}

/**
 * gmulti_session_set_proxy_username: (set-property proxy-username)
 * @self: a session
 * @username: (nullable): a user name, or %NULL for none
 *
 * Sets the user name the session's transfers answer an HTTP proxy's `407` with when
 * they have none of their own ([property@Transfer:proxy-username]) and the proxy's URI
 * has none: for [property@Session:proxy-uri], and for proxies a resolver chooses. It
 * takes effect for transfers that start afterwards.
 *
 * Since: 0.1
 */
void
gmulti_session_set_proxy_username (GMultiSession *self,
                                   const char    *username)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  set_proxy_secret (self, FALSE, username);
}

/**
 * gmulti_session_get_proxy_username: (get-property proxy-username)
 * @self: a session
 *
 * Gets the user name the session's transfers answer a proxy with by default.
 *
 * Returns: (nullable): the user name, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_proxy_username (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return self->defaults->proxy_username;
}

/**
 * gmulti_session_set_proxy_password: (set-property proxy-password)
 * @self: a session
 * @password: (nullable): a password, or %NULL for an empty one
 *
 * Sets the password that goes with [property@Session:proxy-username].
 *
 * Since: 0.1
 */
void
gmulti_session_set_proxy_password (GMultiSession *self,
                                   const char    *password)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  set_proxy_secret (self, TRUE, password);
}

/**
 * gmulti_session_get_proxy_password: (get-property proxy-password)
 * @self: a session
 *
 * Gets the password that goes with [property@Session:proxy-username].
 *
 * Returns: (nullable): the password, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_session_get_proxy_password (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);
  return self->defaults->proxy_password;
}

gboolean
gmulti_session_content_get_property (GMultiSession *self,
                                     guint          prop_id,
                                     GValue        *value)
{
  switch (prop_id)
    {
    case PROP_DECODE_CONTENT:
      g_value_set_boolean (value, self->defaults->decode_content);
      return TRUE;
    case PROP_MAX_DECODED_SIZE:
      g_value_set_uint64 (value, self->defaults->max_decoded_size);
      return TRUE;
    case PROP_MAX_DECODE_RATIO:
      g_value_set_uint (value, self->defaults->max_decode_ratio);
      return TRUE;
    case PROP_UNIX_SOCKET_PATH:
      g_value_set_string (value, self->defaults->unix_socket_path);
      return TRUE;
    case PROP_PROXY_URI:
      g_value_set_string (value, self->defaults->proxy_uri);
      return TRUE;
    case PROP_PROXY_USERNAME:
      g_value_set_string (value, self->defaults->proxy_username);
      return TRUE;
    case PROP_PROXY_PASSWORD:
      g_value_set_string (value, self->defaults->proxy_password);
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
gmulti_session_content_set_property (GMultiSession *self,
                                     guint          prop_id,
                                     const GValue  *value)
{
  switch (prop_id)
    {
    case PROP_DECODE_CONTENT:
      gmulti_session_set_decode_content (self, g_value_get_boolean (value));
      return TRUE;
    case PROP_MAX_DECODED_SIZE:
      gmulti_session_set_max_decoded_size (self, g_value_get_uint64 (value));
      return TRUE;
    case PROP_MAX_DECODE_RATIO:
      gmulti_session_set_max_decode_ratio (self, g_value_get_uint (value));
      return TRUE;
    case PROP_UNIX_SOCKET_PATH:
      gmulti_session_set_unix_socket_path (self, g_value_get_string (value));
      return TRUE;
    case PROP_PROXY_URI:
      gmulti_session_set_proxy_uri (self, g_value_get_string (value));
      return TRUE;
    case PROP_PROXY_USERNAME:
      gmulti_session_set_proxy_username (self, g_value_get_string (value));
      return TRUE;
    case PROP_PROXY_PASSWORD:
      gmulti_session_set_proxy_password (self, g_value_get_string (value));
      return TRUE;
    default:
      return FALSE;
    }
}

void
gmulti_session_install_content_properties (void)
{
  /**
   * GMultiSession:decode-content: (getter get_decode_content) (setter set_decode_content)
   *
   * Whether transfers undo content codings unless they say otherwise; see
   * [method@Session.set_decode_content].
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_DECODE_CONTENT] =
    g_param_spec_boolean ("decode-content", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:max-decoded-size: (getter get_max_decoded_size) (setter set_max_decoded_size)
   *
   * The most bytes one content-coded body may decode to; 0 for no limit.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_MAX_DECODED_SIZE] =
    g_param_spec_uint64 ("max-decoded-size", NULL, NULL,
                         0, G_MAXUINT64, GMULTI_DEFAULT_MAX_DECODED_SIZE,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:max-decode-ratio: (getter get_max_decode_ratio) (setter set_max_decode_ratio)
   *
   * The most decoded bytes per coded byte of a content-coded body (past its first
   * MiB); 0 for no limit.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_MAX_DECODE_RATIO] =
    g_param_spec_uint ("max-decode-ratio", NULL, NULL,
                       0, G_MAXUINT, GMULTI_DEFAULT_MAX_DECODE_RATIO,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:unix-socket-path: (getter get_unix_socket_path) (setter set_unix_socket_path)
   *
   * The Unix-domain socket transfers connect to unless they name their own.
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_UNIX_SOCKET_PATH] =
    g_param_spec_string ("unix-socket-path", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:proxy-uri: (getter get_proxy_uri) (setter set_proxy_uri)
   *
   * The proxy transfers go through unless they name their own; see
   * [method@Session.set_proxy_uri].
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_PROXY_URI] =
    g_param_spec_string ("proxy-uri", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:proxy-username: (getter get_proxy_username) (setter set_proxy_username)
   *
   * The user name transfers answer an HTTP proxy's challenge with when they and the
   * proxy's URI have none; see [method@Session.set_proxy_username].
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_PROXY_USERNAME] =
    g_param_spec_string ("proxy-username", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiSession:proxy-password: (getter get_proxy_password) (setter set_proxy_password)
   *
   * The password that goes with [property@Session:proxy-username].
   *
   * Since: 0.1
   */
  gmulti_session_properties[PROP_PROXY_PASSWORD] =
    g_param_spec_string ("proxy-password", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}
