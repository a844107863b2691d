/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>

#include "gmulti-tls-context.h"
#include "gmulti-tls.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* One loaded set of credentials. Only the fields that change what is loaded are part
 * of the key: trust is not loaded at all when verification is off or a GTlsDatabase
 * verifies. */
typedef struct {
  gboolean load_trust;
  char *ca_file;
  char *ca_directory;
  char *client_certificate;
  char *client_key;
  gnutls_certificate_credentials_t credentials;
} Credentials;

typedef struct {
  char *origin;
  GMultiTlsConfig *config;
} SessionKey;

typedef struct {
  SessionKey key;
  gnutls_datum_t data;       /* gnutls_free */
  GList link;                /* in sessions_order: oldest first */
} SessionEntry;

struct _GMultiTlsContext
{
  guint ref_count;
  GPtrArray *credentials;    /* (element-type Credentials): few, so searched linearly */
  GHashTable *priorities;    /* string -> gnutls_priority_t */
  GHashTable *sessions;      /* SessionKey -> SessionEntry (owned) */
  GQueue sessions_order;
  guint n_full;
  guint n_resumed;
};

static void
credentials_free (gpointer data)
{
  Credentials *c = data;

  if (c->credentials != NULL)
    gnutls_certificate_free_credentials (c->credentials);
  g_free (c->ca_file);
  g_free (c->ca_directory);
  g_free (c->client_certificate);
  g_free (c->client_key);
  g_free (c);
}

static guint
session_key_hash (gconstpointer data)
{
  const SessionKey *key = data;

  return g_str_hash (key->origin) ^ gmulti_tls_config_hash (key->config);
}

static gboolean
session_key_equal (gconstpointer a,
                   gconstpointer b)
{
  const SessionKey *ka = a, *kb = b;

  return strcmp (ka->origin, kb->origin) == 0 &&
         gmulti_tls_config_equal (ka->config, kb->config);
}

static void
session_entry_free (gpointer data)
{
  SessionEntry *entry = data;

  g_free (entry->key.origin);
  gmulti_tls_config_unref (entry->key.config);
  gnutls_free (entry->data.data);
  g_free (entry);
}

GMultiTlsContext *
gmulti_tls_context_new (void)
{
  GMultiTlsContext *self = g_new0 (GMultiTlsContext, 1);

  self->ref_count = 1;
  self->credentials = g_ptr_array_new_with_free_func (credentials_free);
  self->priorities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) gnutls_priority_deinit);
  /* The entry owns its key, so the table frees only the entry. */
  self->sessions = g_hash_table_new_full (session_key_hash, session_key_equal,
                                          NULL, session_entry_free);
  g_queue_init (&self->sessions_order);
  return self;
}

GMultiTlsContext *
gmulti_tls_context_ref (GMultiTlsContext *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  self->ref_count++;
  return self;
}

void
gmulti_tls_context_unref (GMultiTlsContext *self)
{
  g_return_if_fail (self != NULL);

  if (--self->ref_count > 0)
    return;

  gmulti_tls_context_clear_sessions (self);
  g_hash_table_unref (self->sessions);
  g_hash_table_unref (self->priorities);
  g_ptr_array_unref (self->credentials);
  g_free (self);
}

static gboolean
credentials_match (const Credentials *c,
                   gboolean           load_trust,
                   const GMultiTlsConfig *config)
{
  if (c->load_trust != load_trust)
    return FALSE;
  if (load_trust && (g_strcmp0 (c->ca_file, config->ca_file) != 0 ||
                     g_strcmp0 (c->ca_directory, config->ca_directory) != 0))
    return FALSE;

  return g_strcmp0 (c->client_certificate, config->client_certificate) == 0 &&
         g_strcmp0 (c->client_key, config->client_key) == 0;
}

static gboolean
load_trust (gnutls_certificate_credentials_t  credentials,
            const GMultiTlsConfig            *config,
            GError                          **error)
{
  int ret;

  if (config->ca_file == NULL && config->ca_directory == NULL)
    {
      ret = gnutls_certificate_set_x509_system_trust (credentials);
      if (ret <= 0)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE,
                       _("Could not load the system’s trusted certificate authorities: %s"),
                       ret < 0 ? gnutls_strerror (ret) : _("none were found"));
          return FALSE;
        }
      return TRUE;
    }

  if (config->ca_file != NULL)
    {
      ret = gnutls_certificate_set_x509_trust_file (credentials, config->ca_file,
                                                    GNUTLS_X509_FMT_PEM);
      if (ret <= 0)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE,
                       _("Could not load certificate authorities from “%s”: %s"),
                       config->ca_file,
                       ret < 0 ? gnutls_strerror (ret) : _("the file holds no certificate"));
          return FALSE;
        }
    }

  if (config->ca_directory != NULL)
    {
      ret = gnutls_certificate_set_x509_trust_dir (credentials, config->ca_directory,
                                                   GNUTLS_X509_FMT_PEM);
      if (ret <= 0)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE,
                       _("Could not load certificate authorities from “%s”: %s"),
                       config->ca_directory,
                       ret < 0 ? gnutls_strerror (ret)
                               : _("the directory holds no certificate"));
          return FALSE;
        }
    }

  return TRUE;
}

/* What GnuTLS says of an encrypted key loaded without (or with the wrong) password. */
static gboolean
is_password_error (int ret)
{
  return ret == GNUTLS_E_DECRYPTION_FAILED;
}

/* The key is encrypted: its password from the interaction, asked once per load (the
 * loaded credentials are kept, so once per config). Synchronous: the loop waits for
 * the answer, as GnuTLS needs the key before the handshake can go on. */
static gboolean
load_with_password (gnutls_certificate_credentials_t  credentials,
                    const GMultiTlsConfig            *config,
                    const char                       *key,
                    GError                          **error)
{
  g_autofree char *description = g_strdup_printf (_("The password of the key “%s”"), key);
  g_autoptr(GTlsPassword) password = g_tls_password_new (G_TLS_PASSWORD_NONE, description);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *value = NULL;
  const guchar *data;
  gsize length = 0;
  int ret;

  if (g_tls_interaction_ask_password (config->interaction, password, NULL, &local_error) !=
      G_TLS_INTERACTION_HANDLED)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE,
                   _("No password for the encrypted key “%s”: %s"), key,
                   local_error != NULL ? local_error->message : _("none was given"));
      return FALSE;
    }

  /* GnuTLS wants it NUL-terminated. */
  data = g_tls_password_get_value (password, &length);
  value = g_strndup ((const char *) data, length);
  ret = gnutls_certificate_set_x509_key_file2 (credentials, config->client_certificate,
                                               key, GNUTLS_X509_FMT_PEM, value, 0);
  explicit_bzero (value, length);
  if (ret < 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE,
                   _("Could not decrypt the key “%s” with the password given: %s"), key,
                   gnutls_strerror (ret));
      return FALSE;
    }
  return TRUE;
}

gnutls_certificate_credentials_t
gmulti_tls_context_get_credentials (GMultiTlsContext       *self,
                                    const GMultiTlsConfig  *config,
                                    GError                **error)
{
  gnutls_certificate_credentials_t credentials = NULL;
  /* A GTlsDatabase verifies instead of a trust list (gmulti_tls_verify_cb()). */
  gboolean trust = config->verify && config->database == NULL;
  Credentials *entry;
  int ret;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);

  for (guint i = 0; i < self->credentials->len; i++)
    {
      Credentials *c = g_ptr_array_index (self->credentials, i);

      if (credentials_match (c, trust, config))
        return c->credentials;
    }

  ret = gnutls_certificate_allocate_credentials (&credentials);
  if (ret < 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE,
                   _("Could not set up TLS credentials: %s"), gnutls_strerror (ret));
      return NULL;
    }

  /* Verification is ours, inside the handshake (gmulti-tls.c). */
  gnutls_certificate_set_verify_function (credentials, gmulti_tls_verify_cb);

  if (trust && !load_trust (credentials, config, error))
    {
      gnutls_certificate_free_credentials (credentials);
      return NULL;
    }

  if (config->client_certificate != NULL)
    {
      const char *key = config->client_key != NULL ? config->client_key
                                                   : config->client_certificate;

      ret = gnutls_certificate_set_x509_key_file2 (credentials, config->client_certificate,
                                                   key, GNUTLS_X509_FMT_PEM, NULL, 0);
      if (ret < 0 && config->interaction != NULL && is_password_error (ret))
        {
          if (!load_with_password (credentials, config, key, error))
            {
              gnutls_certificate_free_credentials (credentials);
              return NULL;
            }
          ret = 0;
        }
      if (ret < 0 && is_password_error (ret))
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE,
                       _("Could not read the key “%s”: %s (an encrypted key needs a "
                         "TLS interaction to ask for its password)"),
                       key, gnutls_strerror (ret));
          gnutls_certificate_free_credentials (credentials);
          return NULL;
        }
      if (ret < 0)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_BAD_CERTIFICATE,
                       _("Could not load the client certificate “%s” with the key “%s”: %s"),
                       config->client_certificate, key, gnutls_strerror (ret));
          gnutls_certificate_free_credentials (credentials);
          return NULL;
        }
    }

  entry = g_new0 (Credentials, 1);
  entry->load_trust = trust;
  if (trust)
    {
      entry->ca_file = g_strdup (config->ca_file);
      entry->ca_directory = g_strdup (config->ca_directory);
    }
  entry->client_certificate = g_strdup (config->client_certificate);
  entry->client_key = g_strdup (config->client_key);
  entry->credentials = credentials;
  g_ptr_array_add (self->credentials, entry);

  return credentials;
}

gnutls_priority_t
gmulti_tls_context_get_priority (GMultiTlsContext  *self,
                                 const char        *priority,
                                 GError           **error)
{
  gnutls_priority_t compiled = NULL;
  const char *error_pos = NULL;
  int ret;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (priority != NULL, NULL);

  compiled = g_hash_table_lookup (self->priorities, priority);
  if (compiled != NULL)
    return compiled;

  ret = gnutls_priority_init (&compiled, priority, &error_pos);
  if (ret < 0)
    {
      /* Most likely a string allowing only versions below the minimum, which
       * gmulti_tls_config removed. */
      if (ret == GNUTLS_E_NO_PRIORITIES_WERE_SET)
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT,
                     _("The TLS priority string “%s” leaves no protocol version or "
                       "cipher to offer (versions older than the minimum version are "
                       "always removed)"), priority);
      else if (ret == GNUTLS_E_INVALID_REQUEST && error_pos != NULL)
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT,
                     _("Invalid TLS priority string “%s” at “%s”"), priority, error_pos);
      else
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT,
                     _("Invalid TLS priority string “%s”: %s"), priority,
                     gnutls_strerror (ret));
      return NULL;
    }

  g_hash_table_insert (self->priorities, g_strdup (priority), compiled);
  return compiled;
}

const gnutls_datum_t *
gmulti_tls_context_lookup_session (GMultiTlsContext *self,
                                   const char       *origin,
                                   GMultiTlsConfig  *config)
{
  SessionKey key = { (char *) origin, config };
  SessionEntry *entry;

  g_return_val_if_fail (self != NULL, NULL);

  entry = g_hash_table_lookup (self->sessions, &key);
  return entry != NULL ? &entry->data : NULL;
}

static void
remove_entry (GMultiTlsContext *self,
              SessionEntry     *entry)
{
  g_queue_unlink (&self->sessions_order, &entry->link);
  g_hash_table_remove (self->sessions, &entry->key);
}

void
gmulti_tls_context_store_session (GMultiTlsContext     *self,
                                  const char           *origin,
                                  GMultiTlsConfig      *config,
                                  const gnutls_datum_t *data)
{
  SessionKey key = { (char *) origin, config };
  SessionEntry *entry;

  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL && data->size > 0);

  entry = g_hash_table_lookup (self->sessions, &key);
  if (entry != NULL)
    remove_entry (self, entry);

  while (self->sessions_order.length >= GMULTI_TLS_SESSION_CACHE_MAX)
    remove_entry (self, self->sessions_order.head->data);

  entry = g_new0 (SessionEntry, 1);
  entry->key.origin = g_strdup (origin);
  entry->key.config = gmulti_tls_config_ref (config);
  entry->data.data = gnutls_malloc (data->size);
  memcpy (entry->data.data, data->data, data->size);
  entry->data.size = data->size;
  entry->link.data = entry;
  g_queue_push_tail_link (&self->sessions_order, &entry->link);
  g_hash_table_insert (self->sessions, &entry->key, entry);
}

void
gmulti_tls_context_forget_session (GMultiTlsContext *self,
                                   const char       *origin,
                                   GMultiTlsConfig  *config)
{
  SessionKey key = { (char *) origin, config };
  SessionEntry *entry;

  g_return_if_fail (self != NULL);

  entry = g_hash_table_lookup (self->sessions, &key);
  if (entry != NULL)
    remove_entry (self, entry);
}

void
gmulti_tls_context_clear_sessions (GMultiTlsContext *self)
{
  g_return_if_fail (self != NULL);

  while (self->sessions_order.head != NULL)
    remove_entry (self, self->sessions_order.head->data);
}

guint
gmulti_tls_context_get_n_sessions (GMultiTlsContext *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->sessions_order.length;
}

void
gmulti_tls_context_count_handshake (GMultiTlsContext *self,
                                    gboolean          resumed)
{
  if (resumed)
    self->n_resumed++;
  else
    self->n_full++;
}

guint
gmulti_tls_context_get_n_full_handshakes (GMultiTlsContext *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_full;
}

guint
gmulti_tls_context_get_n_resumed_handshakes (GMultiTlsContext *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_resumed;
}
