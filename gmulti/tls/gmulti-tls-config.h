/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-enums.h"
#include "gmulti-tls-options.h"

G_BEGIN_DECLS

typedef struct _GMultiTransfer GMultiTransfer;

#define GMULTI_TLS_PIN_SIZE 32   /* a SHA-256 digest */

/* An immutable snapshot of a run's TLS options, taken when its first https hop starts,
 * so that changing the transfer later cannot change a connection under way. Two
 * connections may be shared only when their configs are equal: it is part of the pool
 * key and of the session-resumption key. Refcounted; not thread-safe (engine thread). */
typedef struct _GMultiTlsConfig GMultiTlsConfig;
struct _GMultiTlsConfig {
  gboolean verify;
  char *ca_file;
  char *ca_directory;
  char *client_certificate;
  char *client_key;            /* NULL: in client_certificate */
  char *priority;              /* the complete GnuTLS priority string, min version applied */
  char *pinned_public_key;     /* as given, for equality */
  guint8 *pins;                /* n_pins digests of GMULTI_TLS_PIN_SIZE bytes */
  guint n_pins;
  GTlsDatabase *database;      /* verifies instead of GnuTLS's trust list; NULL: none */
  GTlsInteraction *interaction; /* asked for an encrypted client key's password; not
                                 * part of equality (the same files are the same key) */

  /* private */
  guint ref_count;
  guint hash;
};

/* The options of a run: @own's, with @defaults (a session's, or NULL) filling in what
 * @own left unset. Fails with GMULTI_ERROR_INVALID_ARGUMENT when the pinned key is
 * malformed. The priority string is checked later, by the context that compiles it. */
GMultiTlsConfig *gmulti_tls_config_new    (const GMultiTlsOptions  *own,
                                           const GMultiTlsOptions  *defaults,
                                           GError                 **error);
/* The transfer's own options alone (gmulti-transfer-tls.c). */
GMultiTlsConfig *gmulti_tls_config_new_from_transfer (GMultiTransfer *transfer,
                                                      GError        **error);
GMultiTlsConfig *gmulti_tls_config_ref    (GMultiTlsConfig *self);
void             gmulti_tls_config_unref  (GMultiTlsConfig *self);
gboolean         gmulti_tls_config_equal  (const GMultiTlsConfig *a,
                                           const GMultiTlsConfig *b);
guint            gmulti_tls_config_hash   (const GMultiTlsConfig *self);

/* The config an engine built last, with the options it came from: a run that starts
 * with the same options (usually every run: transfers alike, one session's defaults)
 * shares it by reference instead of building its own, which costs seven allocations
 * and the hash of the priority string. Zero-filled is empty. */
typedef struct {
  GMultiTlsConfig *config;      /* NULL: nothing built yet */
  GMultiTlsOptions own;
  GMultiTlsOptions defaults;
  gboolean has_defaults;
} GMultiTlsConfigCache;

/* As gmulti_tls_config_new() (a new reference), from @cache when the options match. */
GMultiTlsConfig *gmulti_tls_config_cache_get   (GMultiTlsConfigCache    *cache,
                                                const GMultiTlsOptions  *own,
                                                const GMultiTlsOptions  *defaults,
                                                GError                 **error);
void             gmulti_tls_config_cache_clear (GMultiTlsConfigCache    *cache);

/* Parses "sha256//BASE64[;sha256//BASE64...]" (spaces around items allowed). Returns
 * the digests back to back (g_free) and their count, or NULL with @error. */
guint8          *gmulti_tls_parse_pins    (const char *pins,
                                           guint      *n_pins,
                                           GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiTlsConfig, gmulti_tls_config_unref)

G_END_DECLS
