/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(GMULTI_INSIDE) && !defined(GMULTI_COMPILATION)
#error "Only <gmulti/gmulti.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmulti/gmulti-version.h>
#include <gmulti/gmulti-transfer.h>

G_BEGIN_DECLS

#define GMULTI_TYPE_SESSION (gmulti_session_get_type ())

GMULTI_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (GMultiSession, gmulti_session, GMULTI, SESSION, GObject)

GMULTI_AVAILABLE_IN_ALL
GMultiSession  *gmulti_session_new                      (void);

GMULTI_AVAILABLE_IN_ALL
GMainContext   *gmulti_session_get_context              (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
GMultiMainLoopSource gmulti_session_get_main_loop_source (GMultiSession *self);

GMULTI_AVAILABLE_IN_ALL
gboolean        gmulti_session_add                      (GMultiSession  *self,
                                                         GMultiTransfer *transfer,
                                                         GError        **error);
GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_remove                   (GMultiSession  *self,
                                                         GMultiTransfer *transfer);
GMULTI_AVAILABLE_IN_ALL
guint           gmulti_session_get_n_transfers          (GMultiSession *self);

GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_send_and_read_async      (GMultiSession      *self,
                                                         GMultiTransfer     *transfer,
                                                         int                 io_priority,
                                                         GCancellable       *cancellable,
                                                         GAsyncReadyCallback callback,
                                                         gpointer            user_data);
GMULTI_AVAILABLE_IN_ALL
GBytes         *gmulti_session_send_and_read_finish     (GMultiSession  *self,
                                                         GAsyncResult   *result,
                                                         GError        **error);

GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_send_async               (GMultiSession      *self,
                                                         GMultiTransfer     *transfer,
                                                         int                 io_priority,
                                                         GCancellable       *cancellable,
                                                         GAsyncReadyCallback callback,
                                                         gpointer            user_data);
GMULTI_AVAILABLE_IN_ALL
GInputStream   *gmulti_session_send_finish              (GMultiSession  *self,
                                                         GAsyncResult   *result,
                                                         GError        **error);

GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_download_async           (GMultiSession      *self,
                                                         GMultiTransfer     *transfer,
                                                         GFile              *destination,
                                                         int                 io_priority,
                                                         GCancellable       *cancellable,
                                                         GAsyncReadyCallback callback,
                                                         gpointer            user_data);
GMULTI_AVAILABLE_IN_ALL
gboolean        gmulti_session_download_finish          (GMultiSession  *self,
                                                         GAsyncResult   *result,
                                                         GError        **error);

GMULTI_AVAILABLE_IN_ALL
guint           gmulti_session_get_max_connections      (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_set_max_connections      (GMultiSession *self,
                                                         guint          max);
GMULTI_AVAILABLE_IN_ALL
guint           gmulti_session_get_max_host_connections (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_set_max_host_connections (GMultiSession *self,
                                                         guint          max);
GMULTI_AVAILABLE_IN_ALL
guint           gmulti_session_get_max_idle_connections (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_set_max_idle_connections (GMultiSession *self,
                                                         guint          max);
GMULTI_AVAILABLE_IN_ALL
const char     *gmulti_session_get_user_agent           (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
gboolean        gmulti_session_set_user_agent           (GMultiSession *self,
                                                         const char    *user_agent,
                                                         GError       **error);
GMULTI_AVAILABLE_IN_ALL
guint           gmulti_session_get_timeout              (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_set_timeout              (GMultiSession *self,
                                                         guint          msec);
GMULTI_AVAILABLE_IN_ALL
guint           gmulti_session_get_connect_timeout      (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_set_connect_timeout      (GMultiSession *self,
                                                         guint          msec);

GMULTI_AVAILABLE_IN_ALL
GMultiCookieJar  *gmulti_session_get_cookie_jar (GMultiSession   *self);
GMULTI_AVAILABLE_IN_ALL
void              gmulti_session_set_cookie_jar (GMultiSession   *self,
                                                 GMultiCookieJar *jar);
GMULTI_AVAILABLE_IN_ALL
GMultiHstsEnforcer *gmulti_session_get_hsts_enforcer (GMultiSession      *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_session_set_hsts_enforcer (GMultiSession      *self,
                                                      GMultiHstsEnforcer *enforcer);
GMULTI_AVAILABLE_IN_ALL
GProxyResolver     *gmulti_session_get_proxy_resolver (GMultiSession  *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_session_set_proxy_resolver (GMultiSession  *self,
                                                       GProxyResolver *resolver);
GMULTI_AVAILABLE_IN_ALL
GResolver          *gmulti_session_get_resolver       (GMultiSession  *self);
GMULTI_AVAILABLE_IN_ALL
void                gmulti_session_set_resolver       (GMultiSession  *self,
                                                       GResolver      *resolver);
GMULTI_AVAILABLE_IN_ALL
GMultiHttpVersion gmulti_session_get_http_version       (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_set_http_version         (GMultiSession    *self,
                                                         GMultiHttpVersion version);
GMULTI_AVAILABLE_IN_ALL
guint           gmulti_session_get_max_streams_per_connection (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void            gmulti_session_set_max_streams_per_connection (GMultiSession *self,
                                                               guint          max);

GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_verify              (GMultiSession *self,
                                                             gboolean       verify);
GMULTI_AVAILABLE_IN_ALL
gboolean         gmulti_session_get_tls_verify              (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_ca_file             (GMultiSession *self,
                                                             const char    *path);
GMULTI_AVAILABLE_IN_ALL
const char      *gmulti_session_get_tls_ca_file             (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_ca_directory        (GMultiSession *self,
                                                             const char    *path);
GMULTI_AVAILABLE_IN_ALL
const char      *gmulti_session_get_tls_ca_directory        (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_pinned_public_key   (GMultiSession *self,
                                                             const char    *pins);
GMULTI_AVAILABLE_IN_ALL
const char      *gmulti_session_get_tls_pinned_public_key   (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_priority            (GMultiSession *self,
                                                             const char    *priority);
GMULTI_AVAILABLE_IN_ALL
const char      *gmulti_session_get_tls_priority            (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_min_version         (GMultiSession    *self,
                                                             GMultiTlsVersion  version);
GMULTI_AVAILABLE_IN_ALL
GMultiTlsVersion gmulti_session_get_tls_min_version         (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_client_certificate  (GMultiSession *self,
                                                             const char    *certificate,
                                                             const char    *key);
GMULTI_AVAILABLE_IN_ALL
const char      *gmulti_session_get_tls_client_certificate  (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
const char      *gmulti_session_get_tls_client_key          (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_database            (GMultiSession *self,
                                                             GTlsDatabase  *database);
GMULTI_AVAILABLE_IN_ALL
GTlsDatabase    *gmulti_session_get_tls_database            (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void             gmulti_session_set_tls_interaction         (GMultiSession   *self,
                                                             GTlsInteraction *interaction);
GMULTI_AVAILABLE_IN_ALL
GTlsInteraction *gmulti_session_get_tls_interaction         (GMultiSession *self);

GMULTI_AVAILABLE_IN_ALL
void           gmulti_session_set_decode_content   (GMultiSession *self,
                                                    gboolean       decode);
GMULTI_AVAILABLE_IN_ALL
gboolean       gmulti_session_get_decode_content   (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_session_set_max_decoded_size (GMultiSession *self,
                                                    guint64        size);
GMULTI_AVAILABLE_IN_ALL
guint64        gmulti_session_get_max_decoded_size (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_session_set_max_decode_ratio (GMultiSession *self,
                                                    guint          ratio);
GMULTI_AVAILABLE_IN_ALL
guint          gmulti_session_get_max_decode_ratio (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_session_set_unix_socket_path (GMultiSession *self,
                                                    const char    *path);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_session_get_unix_socket_path (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_session_set_proxy_uri        (GMultiSession *self,
                                                    const char    *uri);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_session_get_proxy_uri        (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_session_set_proxy_username   (GMultiSession *self,
                                                    const char    *username);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_session_get_proxy_username   (GMultiSession *self);
GMULTI_AVAILABLE_IN_ALL
void           gmulti_session_set_proxy_password   (GMultiSession *self,
                                                    const char    *password);
GMULTI_AVAILABLE_IN_ALL
const char    *gmulti_session_get_proxy_password   (GMultiSession *self);

G_END_DECLS
