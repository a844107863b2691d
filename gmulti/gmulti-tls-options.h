/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "gmulti-enums.h"

G_BEGIN_DECLS

/* The TLS options a session and a transfer both expose, defined once: the values with
 * their defaults and checks, the property specs both classes install, and one setter
 * per option. A transfer's options are its own; a session's fill in, when a transfer
 * starts, what the transfer left unset (gmulti_tls_config_new()). */

/* In property order: each class installs them as one block, the first at its own
 * property id (gmulti_tls_options_create_pspecs()). */
typedef enum {
  GMULTI_TLS_OPTION_VERIFY,
  GMULTI_TLS_OPTION_CA_FILE,
  GMULTI_TLS_OPTION_CA_DIRECTORY,
  GMULTI_TLS_OPTION_PINNED_PUBLIC_KEY,
  GMULTI_TLS_OPTION_CLIENT_CERTIFICATE,
  GMULTI_TLS_OPTION_CLIENT_KEY,
  GMULTI_TLS_OPTION_PRIORITY,
  GMULTI_TLS_OPTION_MIN_VERSION,
  GMULTI_TLS_OPTION_DATABASE,
  GMULTI_TLS_OPTION_INTERACTION,
  GMULTI_TLS_N_OPTIONS
} GMultiTlsOption;

typedef struct {
  gboolean verify;           /* TRUE unless the application opted out */
  char *ca_file;             /* NULL: the system trust store (unless a directory is set) */
  char *ca_directory;
  char *pinned_public_key;   /* "sha256//BASE64[;sha256//BASE64...]", checked at start */
  char *client_certificate;
  char *client_key;          /* NULL: the key is in the certificate file */
  char *priority;            /* NULL: the default (gmulti-tls-config.c) */
  GMultiTlsVersion min_version;
  GTlsDatabase *database;    /* NULL: GnuTLS verifies with the CA options above */
  GTlsInteraction *interaction; /* asked for the client key's password; NULL: none */
} GMultiTlsOptions;

/* The defaults: verify, the system's trust store, no pins, no client certificate,
 * the default priority and minimum version. */
void     gmulti_tls_options_init  (GMultiTlsOptions       *self);
void     gmulti_tls_options_clear (GMultiTlsOptions       *self);
void     gmulti_tls_options_copy  (GMultiTlsOptions       *dest,
                                   const GMultiTlsOptions *src);

/* Fills @pspecs[0 .. GMULTI_TLS_N_OPTIONS - 1] with new specs, the same in every
 * class (names, types, defaults, flags); the class installs them with its other
 * properties. The client certificate and key are read-only: both are set at once. */
void     gmulti_tls_options_create_pspecs (GParamSpec **pspecs);

/* The setters return the options that changed, as a mask of 1 << GMultiTlsOption, for
 * gmulti_tls_options_notify(). */
guint    gmulti_tls_options_set_verify            (GMultiTlsOptions *self,
                                                   gboolean          verify);
guint    gmulti_tls_options_set_ca_file           (GMultiTlsOptions *self,
                                                   const char       *path);
guint    gmulti_tls_options_set_ca_directory      (GMultiTlsOptions *self,
                                                   const char       *path);
guint    gmulti_tls_options_set_pinned_public_key (GMultiTlsOptions *self,
                                                   const char       *pins);
/* @key_path is dropped without a certificate. */
guint    gmulti_tls_options_set_client_certificate (GMultiTlsOptions *self,
                                                    const char       *cert_path,
                                                    const char       *key_path);
guint    gmulti_tls_options_set_priority          (GMultiTlsOptions *self,
                                                   const char       *priority);
guint    gmulti_tls_options_set_min_version       (GMultiTlsOptions *self,
                                                   GMultiTlsVersion  version);
guint    gmulti_tls_options_set_database          (GMultiTlsOptions *self,
                                                   GTlsDatabase     *database);
guint    gmulti_tls_options_set_interaction       (GMultiTlsOptions *self,
                                                   GTlsInteraction  *interaction);

/* GObject property access for @option (its property id less the block's first). */
void     gmulti_tls_options_get_property (const GMultiTlsOptions *self,
                                          GMultiTlsOption         option,
                                          GValue                 *value);
guint    gmulti_tls_options_set_property (GMultiTlsOptions       *self,
                                          GMultiTlsOption         option,
                                          const GValue           *value);

/* Notifies @object of every option in @changed; @pspecs as made by
 * gmulti_tls_options_create_pspecs(). */
void     gmulti_tls_options_notify       (GObject                *object,
                                          GParamSpec *const      *pspecs,
                                          guint                   changed);

G_END_DECLS
