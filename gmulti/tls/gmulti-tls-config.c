/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-tls-config.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

#define PIN_PREFIX "sha256//"

guint8 *
gmulti_tls_parse_pins (const char  *pins,
                       guint       *n_pins,
                       GError     **error)
{
  g_auto(GStrv) items = NULL;
  g_autoptr(GByteArray) digests = g_byte_array_new ();
  guint n = 0;

  g_return_val_if_fail (pins != NULL, NULL);
  g_return_val_if_fail (n_pins != NULL, NULL);

  /* An empty string splits into no items at all. */
  items = g_strsplit (*pins != '\0' ? pins : ";", ";", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = g_strstrip (items[i]);
      g_autofree guint8 *digest = NULL;
      gsize size = 0;

      /* g_base64_decode() skips characters outside the alphabet instead of failing, so
       * the length check below is what catches garbage. */
      if (g_str_has_prefix (item, PIN_PREFIX))
        {
          const char *b64 = item + strlen (PIN_PREFIX);

          if (strlen (b64) == 44 && strspn (b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                 "abcdefghijklmnopqrstuvwxyz"
                                                 "0123456789+/=") == 44)
            digest = g_base64_decode (b64, &size);
        }

      if (digest == NULL || size != GMULTI_TLS_PIN_SIZE)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT,
                       _("Invalid pinned public key “%s”: expected sha256// followed by "
                         "a base64 SHA-256 digest"), item);
          return NULL;
        }

      g_byte_array_append (digests, digest, GMULTI_TLS_PIN_SIZE);
      n++;
    }

  *n_pins = n;
  return g_byte_array_free (g_steal_pointer (&digests), FALSE);
}

/* GnuTLS's NORMAL with its ciphers reordered, the set unchanged: AES-128-GCM first,
 * as browsers and Go offer it where the CPU has AES instructions (AES-256 costs 40 %
 * more rounds per byte, which a bulk download over TLS pays in full), and
 * ChaCha20-Poly1305 first where it has none. The server still picks. */
#define PRIORITY_AES_FIRST \
  "NORMAL:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:" \
  "+AES-256-CCM:+AES-128-CBC:+AES-256-CBC"
#define PRIORITY_CHACHA_FIRST \
  "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305:+AES-128-GCM:+AES-256-GCM:+AES-128-CCM:" \
  "+AES-256-CCM:+AES-128-CBC:+AES-256-CBC"

static const char *
default_priority (void)
{
#if (defined (__x86_64__) || defined (__i386__)) && defined (__GNUC__)
  if (!__builtin_cpu_supports ("aes"))
    return PRIORITY_CHACHA_FIRST;
#endif
  return PRIORITY_AES_FIRST;
}

/* The minimum version removes every older one from the priority string, the
 * application's own included: GnuTLS's NORMAL still enables TLS 1.0 and 1.1 on some
 * systems, and RFC 8996 forbids them unless the application lowers the minimum. */
static char *
build_priority (const char       *priority,
                GMultiTlsVersion  min_version)
{
  const char *base = priority != NULL && *priority != '\0' ? priority : default_priority ();
  const char *older;

  switch (min_version)
    {
    case GMULTI_TLS_VERSION_TLS_1_0:
      older = ":-VERS-SSL3.0";
      break;
    case GMULTI_TLS_VERSION_TLS_1_1:
      older = ":-VERS-SSL3.0:-VERS-TLS1.0";
      break;
    case GMULTI_TLS_VERSION_TLS_1_3:
      older = ":-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.2";
      break;
    case GMULTI_TLS_VERSION_DEFAULT:
    case GMULTI_TLS_VERSION_TLS_1_2:
    default:
      older = ":-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1";
      break;
    }
  return g_strconcat (base, older, NULL);
}

static guint
str_hash0 (const char *s)
{
  return s != NULL ? g_str_hash (s) : 0;
}

static guint
compute_hash (const GMultiTlsConfig *self)
{
  guint h = self->verify ? 1 : 2;

  h = h * 31 + str_hash0 (self->ca_file);
  h = h * 31 + str_hash0 (self->ca_directory);
  h = h * 31 + str_hash0 (self->client_certificate);
  h = h * 31 + str_hash0 (self->client_key);
  h = h * 31 + str_hash0 (self->priority);
  h = h * 31 + str_hash0 (self->pinned_public_key);
  h = h * 31 + g_direct_hash (self->database);
  return h;
}

/* What the transfer set, or else the default's value. */
#define PICK(field) (own->field != NULL ? own->field \
                     : defaults != NULL ? defaults->field : NULL)

GMultiTlsConfig *
gmulti_tls_config_new (const GMultiTlsOptions  *own,
                       const GMultiTlsOptions  *defaults,
                       GError                 **error)
{
  GMultiTlsConfig *self;
  const char *pinned = PICK (pinned_public_key);
  const char *client_certificate;
  GMultiTlsVersion min_version = own->min_version;
  guint8 *pins = NULL;
  guint n_pins = 0;

  g_return_val_if_fail (own != NULL, NULL);

  if (pinned != NULL)
    {
      pins = gmulti_tls_parse_pins (pinned, &n_pins, error);
      if (pins == NULL)
        return NULL;
    }
  if (min_version == GMULTI_TLS_VERSION_DEFAULT && defaults != NULL)
    min_version = defaults->min_version;

  self = g_new0 (GMultiTlsConfig, 1);
  self->ref_count = 1;
  /* Turning verification off, in either place, is an explicit choice. */
  self->verify = own->verify && (defaults == NULL || defaults->verify);
  if (own->ca_file != NULL || own->ca_directory != NULL || defaults == NULL)
    {
      self->ca_file = g_strdup (own->ca_file);
      self->ca_directory = g_strdup (own->ca_directory);
    }
  else
    {
      self->ca_file = g_strdup (defaults->ca_file);
      self->ca_directory = g_strdup (defaults->ca_directory);
    }
  client_certificate = own->client_certificate;
  if (client_certificate != NULL || defaults == NULL)
    self->client_key = g_strdup (own->client_key);
  else
    {
      client_certificate = defaults->client_certificate;
      self->client_key = g_strdup (defaults->client_key);
    }
  self->client_certificate = g_strdup (client_certificate);
  if (self->client_certificate == NULL)
    g_clear_pointer (&self->client_key, g_free);
  self->priority = build_priority (PICK (priority), min_version);
  self->pinned_public_key = g_strdup (pinned);
  self->pins = pins;
  self->n_pins = n_pins;
  if (PICK (database) != NULL)
    self->database = g_object_ref (PICK (database));
  if (PICK (interaction) != NULL)
    self->interaction = g_object_ref (PICK (interaction));
  self->hash = compute_hash (self);
  return self;
}

GMultiTlsConfig *
gmulti_tls_config_ref (GMultiTlsConfig *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  self->ref_count++;
  return self;
}

void
gmulti_tls_config_unref (GMultiTlsConfig *self)
{
  g_return_if_fail (self != NULL);

  if (--self->ref_count > 0)
    return;

  g_free (self->ca_file);
  g_free (self->ca_directory);
  g_free (self->client_certificate);
  g_free (self->client_key);
  g_free (self->priority);
  g_free (self->pinned_public_key);
  g_free (self->pins);
  g_clear_object (&self->database);
  g_clear_object (&self->interaction);
  g_free (self);
}

gboolean
gmulti_tls_config_equal (const GMultiTlsConfig *a,
                         const GMultiTlsConfig *b)
{
  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;

  return a->hash == b->hash &&
         a->verify == b->verify &&
         g_strcmp0 (a->ca_file, b->ca_file) == 0 &&
         g_strcmp0 (a->ca_directory, b->ca_directory) == 0 &&
         g_strcmp0 (a->client_certificate, b->client_certificate) == 0 &&
         g_strcmp0 (a->client_key, b->client_key) == 0 &&
         g_strcmp0 (a->priority, b->priority) == 0 &&
         g_strcmp0 (a->pinned_public_key, b->pinned_public_key) == 0 &&
         a->database == b->database;
}

guint
gmulti_tls_config_hash (const GMultiTlsConfig *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->hash;
}

static gboolean
options_equal (const GMultiTlsOptions *a,
               const GMultiTlsOptions *b)
{
  return a->verify == b->verify &&
         a->min_version == b->min_version &&
         g_strcmp0 (a->ca_file, b->ca_file) == 0 &&
         g_strcmp0 (a->ca_directory, b->ca_directory) == 0 &&
         g_strcmp0 (a->pinned_public_key, b->pinned_public_key) == 0 &&
         g_strcmp0 (a->client_certificate, b->client_certificate) == 0 &&
         g_strcmp0 (a->client_key, b->client_key) == 0 &&
         g_strcmp0 (a->priority, b->priority) == 0 &&
         a->database == b->database &&
         a->interaction == b->interaction;
}

GMultiTlsConfig *
gmulti_tls_config_cache_get (GMultiTlsConfigCache    *cache,
                             const GMultiTlsOptions  *own,
                             const GMultiTlsOptions  *defaults,
                             GError                 **error)
{
  GMultiTlsConfig *config;

  g_return_val_if_fail (cache != NULL, NULL);
  g_return_val_if_fail (own != NULL, NULL);

  /* The config depends on nothing but the two sets of options. */
  if (cache->config != NULL && cache->has_defaults == (defaults != NULL) &&
      options_equal (&cache->own, own) &&
      (defaults == NULL || options_equal (&cache->defaults, defaults)))
    return gmulti_tls_config_ref (cache->config);

  config = gmulti_tls_config_new (own, defaults, error);
  if (config == NULL)
    return NULL;
  gmulti_tls_config_cache_clear (cache);
  cache->config = gmulti_tls_config_ref (config);
  gmulti_tls_options_copy (&cache->own, own);
  cache->has_defaults = defaults != NULL;
  if (defaults != NULL)
    gmulti_tls_options_copy (&cache->defaults, defaults);
  return config;
}

void
gmulti_tls_config_cache_clear (GMultiTlsConfigCache *cache)
{
  g_clear_pointer (&cache->config, gmulti_tls_config_unref);
  gmulti_tls_options_clear (&cache->own);
  gmulti_tls_options_clear (&cache->defaults);
  cache->has_defaults = FALSE;
}
