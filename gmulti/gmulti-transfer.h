/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmulti/gmulti-version.h>
#include <gmulti/gmulti-enums.h>
#include <gmulti/gmulti-headers.h>
#include <gmulti/gmulti-metrics.h>
#include <gmulti/gmulti-cookie-jar.h>
#include <gmulti/gmulti-hsts-enforcer.h>

G_BEGIN_DECLS

#define GMULTI_TYPE_TRANSFER (gmulti_transfer_get_type ())

GMULTI_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GMultiTransfer, gmulti_transfer, GMULTI, TRANSFER, GObject)

/**
 * GMultiWriteFunc:
 * @transfer: the transfer
 * @data: (array length=length) (element-type guint8): response body bytes, valid only
 *   during the call
 * @length: the number of bytes in @data
 * @user_data: the data passed to [method@Transfer.set_write_func]
 *
 * Receives the response body as it arrives, instead of collecting it in memory. It may
 * call [method@Transfer.pause]; the bytes passed in this call count as consumed.
 *
 * Returns: %TRUE to go on, %FALSE to abort the transfer with
 *   %GMULTI_ERROR_CALLBACK_ABORTED
 *
 * Since: 0.1
 */
typedef gboolean (*GMultiWriteFunc) (GMultiTransfer *transfer,
                                     const guint8   *data,
                                     gsize           length,
                                     gpointer        user_data);

/**
 * GMultiReadFunc:
 * @transfer: the transfer
 * @buffer: (array length=length) (element-type guint8) (out caller-allocates): where
 *   to put request body bytes
 * @length: (in): room in @buffer
 * @user_data: the data passed to [method@Transfer.set_request_body_func]
 * @error: return location for an error
 *
 * Supplies the request body piece by piece, written into a buffer the transfer owns.
 * Language bindings cannot fill such a buffer: they implement
 * [callback@ReadBytesFunc] instead.
 *
 * Returns: the number of bytes written to @buffer, 0 at the end of the body, or -1 with
 *   @error set to abort the transfer
 *
 * Since: 0.1
 */
typedef gssize (*GMultiReadFunc) (GMultiTransfer *transfer,
                                  guint8         *buffer,
                                  gsize           length,
                                  gpointer        user_data,
                                  GError        **error);

/**
 * GMultiReadBytesFunc:
 * @transfer: the transfer
 * @max_length: how many bytes the transfer can take now; a longer piece is kept and
 *   sent before the next call
 * @user_data: the data passed to [method@Transfer.set_request_body_bytes_func]
 * @error: return location for an error
 *
 * Supplies the request body piece by piece, as [struct@GLib.Bytes]: the form of
 * [callback@ReadFunc] that language bindings can implement.
 *
 * Returns: (transfer full) (nullable): the next piece of the body, an empty
 *   [struct@GLib.Bytes] at the end of the body, or %NULL to abort the transfer (with
 *   @error set, or %GMULTI_ERROR_CALLBACK_ABORTED if it is not)
 *
 * Since: 0.1
 */
typedef GBytes *(*GMultiReadBytesFunc) (GMultiTransfer *transfer,
                                        gsize           max_length,
                                        gpointer        user_data,
                                        GError        **error);

GMULTI_AVAILABLE_IN_ALL
GMultiTransfer     *gmulti_transfer_new                 (const char *uri);

GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_set_uri             (GMultiTransfer *self,
                                                         const char     *uri,
                                                         GError        **error);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_uri             (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_effective_uri   (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_set_method          (GMultiTransfer *self,
                                                         const char     *method,
                                                         GError        **error);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_method          (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
GMultiHeaders      *gmulti_transfer_get_request_headers (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_add_request_header  (GMultiTransfer *self,
                                                         const char     *name,
                                                         const char     *value,
                                                         GError        **error);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_set_request_body    (GMultiTransfer *self,
                                                         GBytes         *body);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_set_request_body_func (GMultiTransfer *self,
                                                           GMultiReadFunc  func,
                                                           gint64          length,
                                                           gpointer        user_data,
                                                           GDestroyNotify  destroy);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_set_request_body_bytes_func (GMultiTransfer      *self,
                                                                 GMultiReadBytesFunc  func,
                                                                 gint64               length,
                                                                 gpointer             user_data,
                                                                 GDestroyNotify       destroy);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_set_request_body_stream (GMultiTransfer *self,
                                                             GInputStream   *stream,
                                                             gint64          length);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_write_func      (GMultiTransfer *self,
                                                         GMultiWriteFunc func,
                                                         gpointer        user_data,
                                                         GDestroyNotify  destroy);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_output_stream   (GMultiTransfer *self,
                                                         GOutputStream  *stream);
GMULTI_AVAILABLE_IN_ALL
GOutputStream      *gmulti_transfer_get_output_stream   (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_collect_body    (GMultiTransfer *self,
                                                         gboolean        collect);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_get_collect_body    (GMultiTransfer *self);

GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_connect_timeout (GMultiTransfer *self,
                                                         guint           msec);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_transfer_get_connect_timeout (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_timeout         (GMultiTransfer *self,
                                                         guint           msec);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_transfer_get_timeout         (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_low_speed       (GMultiTransfer *self,
                                                         guint           bytes_per_sec,
                                                         guint           seconds);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_follow_redirects (GMultiTransfer *self,
                                                          gboolean        follow);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_get_follow_redirects (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_max_redirects   (GMultiTransfer *self,
                                                         guint           max);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_transfer_get_max_redirects   (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_http_version    (GMultiTransfer    *self,
                                                         GMultiHttpVersion  version);
GMULTI_AVAILABLE_IN_ALL
GMultiHttpVersion   gmulti_transfer_get_http_version    (GMultiTransfer    *self);
GMULTI_AVAILABLE_IN_ALL
GMultiHttpVersion   gmulti_transfer_get_http_version_used (GMultiTransfer  *self);

GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_verify      (GMultiTransfer *self,
                                                         gboolean        verify);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_get_tls_verify      (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_ca_file     (GMultiTransfer *self,
                                                         const char     *path);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_tls_ca_file     (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_ca_directory (GMultiTransfer *self,
                                                          const char     *path);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_tls_ca_directory (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_pinned_public_key (GMultiTransfer *self,
                                                               const char     *pins);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_tls_pinned_public_key (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_client_certificate (GMultiTransfer *self,
                                                                const char     *cert_path,
                                                                const char     *key_path);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_tls_client_certificate (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_tls_client_key  (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_priority    (GMultiTransfer *self,
                                                         const char     *priority);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_tls_priority    (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_min_version (GMultiTransfer   *self,
                                                         GMultiTlsVersion  version);
GMULTI_AVAILABLE_IN_ALL
GMultiTlsVersion    gmulti_transfer_get_tls_min_version (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_database    (GMultiTransfer *self,
                                                         GTlsDatabase   *database);
GMULTI_AVAILABLE_IN_ALL
GTlsDatabase       *gmulti_transfer_get_tls_database    (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_tls_interaction (GMultiTransfer  *self,
                                                         GTlsInteraction *interaction);
GMULTI_AVAILABLE_IN_ALL
GTlsInteraction    *gmulti_transfer_get_tls_interaction (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
GTlsCertificate    *gmulti_transfer_get_tls_peer_certificate (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
GTlsCertificateFlags gmulti_transfer_get_tls_peer_certificate_errors (GMultiTransfer *self);

GMULTI_AVAILABLE_IN_ALL
GMultiTransferState gmulti_transfer_get_state           (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
guint               gmulti_transfer_get_status          (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_reason_phrase   (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
GMultiHeaders      *gmulti_transfer_get_response_headers (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
GMultiHeaders      *gmulti_transfer_get_response_trailers (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
GMultiCookieJar    *gmulti_transfer_get_cookie_jar      (GMultiTransfer  *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_cookie_jar      (GMultiTransfer  *self,
                                                         GMultiCookieJar *jar);
GMULTI_AVAILABLE_IN_ALL
GMultiHstsEnforcer *gmulti_transfer_get_hsts_enforcer   (GMultiTransfer     *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_hsts_enforcer   (GMultiTransfer     *self,
                                                         GMultiHstsEnforcer *enforcer);
GMULTI_AVAILABLE_IN_ALL
GProxyResolver     *gmulti_transfer_get_proxy_resolver  (GMultiTransfer     *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_proxy_resolver  (GMultiTransfer     *self,
                                                         GProxyResolver     *resolver);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_first_party_uri (GMultiTransfer  *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_first_party_uri (GMultiTransfer  *self,
                                                         const char      *uri);
GMULTI_AVAILABLE_IN_ALL
GBytes             *gmulti_transfer_get_response_body   (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_username        (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_username        (GMultiTransfer *self,
                                                         const char     *username);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_password        (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_password        (GMultiTransfer *self,
                                                         const char     *password);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_bearer_token    (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_bearer_token    (GMultiTransfer *self,
                                                         const char     *token);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_proxy_username  (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_proxy_username  (GMultiTransfer *self,
                                                         const char     *username);
GMULTI_AVAILABLE_IN_ALL
const char         *gmulti_transfer_get_proxy_password  (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_proxy_password  (GMultiTransfer *self,
                                                         const char     *password);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_get_allow_cleartext_auth (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_set_allow_cleartext_auth (GMultiTransfer *self,
                                                              gboolean        allow);
GMULTI_AVAILABLE_IN_ALL
const GError       *gmulti_transfer_get_error           (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
GError             *gmulti_transfer_get_gio_error       (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
GMultiMetrics      *gmulti_transfer_get_metrics         (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
guint64             gmulti_transfer_get_bytes_received  (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
gint64              gmulti_transfer_get_bytes_expected  (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
guint64             gmulti_transfer_get_bytes_sent      (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
gint64              gmulti_transfer_get_upload_size     (GMultiTransfer *self);

GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_pause               (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_transfer_resume              (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_is_paused           (GMultiTransfer *self);

GMULTI_AVAILABLE_IN_ALL
gboolean            gmulti_transfer_perform             (GMultiTransfer *self,
                                                         GCancellable   *cancellable,
                                                         GError        **error);

GMULTI_AVAILABLE_IN_ALL
void           gmulti_transfer_set_decode_content      (GMultiTransfer *self,
                                                        gboolean        decode);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_transfer_get_decode_content      (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_transfer_get_content_decoded     (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
guint64        gmulti_transfer_get_wire_bytes_received (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_transfer_set_unix_socket_path    (GMultiTransfer *self,
                                                        const char     *path);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_transfer_get_unix_socket_path    (GMultiTransfer *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_transfer_set_proxy_uri           (GMultiTransfer *self,
                                                        const char     *uri);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_transfer_get_proxy_uri           (GMultiTransfer *self);

G_END_DECLS
