/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-tls-options.h"
#include "gmulti-enum-types.h"

#define FLAGS (G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY)

void
gmulti_tls_options_init (GMultiTlsOptions *self)
{
  memset (self, 0, sizeof *self);
  self->verify = TRUE;
  self->min_version = GMULTI_TLS_VERSION_DEFAULT;
}

void
gmulti_tls_options_clear (GMultiTlsOptions *self)
{
  g_free (self->ca_file);
  g_free (self->ca_directory);
  g_free (self->pinned_public_key);
  g_free (self->client_certificate);
  g_free (self->client_key);
  g_free (self->priority);
  g_clear_object (&self->database);
  g_clear_object (&self->interaction);
  gmulti_tls_options_init (self);
}

void
gmulti_tls_options_copy (GMultiTlsOptions       *dest,
                         const GMultiTlsOptions *src)
{
  dest->verify = src->verify;
  dest->ca_file = g_strdup (src->ca_file);
  dest->ca_directory = g_strdup (src->ca_directory);
  dest->pinned_public_key = g_strdup (src->pinned_public_key);
  dest->client_certificate = g_strdup (src->client_certificate);
  dest->client_key = g_strdup (src->client_key);
  dest->priority = g_strdup (src->priority);
  dest->min_version = src->min_version;
  dest->database = src->database != NULL ? g_object_ref (src->database) : NULL;
  dest->interaction = src->interaction != NULL ? g_object_ref (src->interaction) : NULL;
}

void
gmulti_tls_options_create_pspecs (GParamSpec **pspecs)
{
  pspecs[GMULTI_TLS_OPTION_VERIFY] =
    g_param_spec_boolean ("tls-verify", NULL, NULL, TRUE, G_PARAM_READWRITE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_CA_FILE] =
    g_param_spec_string ("tls-ca-file", NULL, NULL, NULL, G_PARAM_READWRITE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_CA_DIRECTORY] =
    g_param_spec_string ("tls-ca-directory", NULL, NULL, NULL, G_PARAM_READWRITE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_PINNED_PUBLIC_KEY] =
    g_param_spec_string ("tls-pinned-public-key", NULL, NULL, NULL,
                         G_PARAM_READWRITE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_CLIENT_CERTIFICATE] =
    g_param_spec_string ("tls-client-certificate", NULL, NULL, NULL,
                         G_PARAM_READABLE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_CLIENT_KEY] =
    g_param_spec_string ("tls-client-key", NULL, NULL, NULL, G_PARAM_READABLE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_PRIORITY] =
    g_param_spec_string ("tls-priority", NULL, NULL, NULL, G_PARAM_READWRITE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_MIN_VERSION] =
    g_param_spec_enum ("tls-min-version", NULL, NULL,
                       GMULTI_TYPE_TLS_VERSION, GMULTI_TLS_VERSION_DEFAULT,
                       G_PARAM_READWRITE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL, G_TYPE_TLS_DATABASE,
                         G_PARAM_READWRITE | FLAGS);
  pspecs[GMULTI_TLS_OPTION_INTERACTION] =
    g_param_spec_object ("tls-interaction", NULL, NULL, G_TYPE_TLS_INTERACTION,
                         G_PARAM_READWRITE | FLAGS);
}

#define BIT(option) (1u << (option))

static guint
set_string (char           **field,
            const char      *value,
            GMultiTlsOption  option)
{
  if (g_strcmp0 (*field, value) == 0)
    return 0;

  g_free (*field);
  *field = g_strdup (value);
  return BIT (option);
}

guint
gmulti_tls_options_set_verify (GMultiTlsOptions *self,
                               gboolean          verify)
{
  verify = !!verify;
  if (self->verify == verify)
    return 0;

  self->verify = verify;
  return BIT (GMULTI_TLS_OPTION_VERIFY);
}

guint
gmulti_tls_options_set_ca_file (GMultiTlsOptions *self,
                                const char       *path)
{
  return set_string (&self->ca_file, path, GMULTI_TLS_OPTION_CA_FILE);
}

guint
gmulti_tls_options_set_ca_directory (GMultiTlsOptions *self,
                                     const char       *path)
{
  return set_string (&self->ca_directory, path, GMULTI_TLS_OPTION_CA_DIRECTORY);
}

/* Malformed pins are reported when a transfer starts (gmulti_tls_config_new()): a
 * property cannot report an error. */
guint
gmulti_tls_options_set_pinned_public_key (GMultiTlsOptions *self,
                                          const char       *pins)
{
  return set_string (&self->pinned_public_key, pins, GMULTI_TLS_OPTION_PINNED_PUBLIC_KEY);
}

guint
gmulti_tls_options_set_client_certificate (GMultiTlsOptions *self,
                                           const char       *cert_path,
                                           const char       *key_path)
{
  return set_string (&self->client_certificate, cert_path,
                     GMULTI_TLS_OPTION_CLIENT_CERTIFICATE) |
         set_string (&self->client_key, cert_path != NULL ? key_path : NULL,
                     GMULTI_TLS_OPTION_CLIENT_KEY);
}

guint
gmulti_tls_options_set_priority (GMultiTlsOptions *self,
                                 const char       *priority)
{
  return set_string (&self->priority, priority, GMULTI_TLS_OPTION_PRIORITY);
}

guint
gmulti_tls_options_set_min_version (GMultiTlsOptions *self,
                                    GMultiTlsVersion  version)
{
  g_return_val_if_fail (version >= GMULTI_TLS_VERSION_DEFAULT &&
                        version <= GMULTI_TLS_VERSION_TLS_1_3, 0);

  if (self->min_version == version)
    return 0;

  self->min_version = version;
  return BIT (GMULTI_TLS_OPTION_MIN_VERSION);
}

guint
gmulti_tls_options_set_database (GMultiTlsOptions *self,
                                 GTlsDatabase     *database)
{
  return g_set_object (&self->database, database) ? BIT (GMULTI_TLS_OPTION_DATABASE) : 0;
}

guint
gmulti_tls_options_set_interaction (GMultiTlsOptions *self,
                                    GTlsInteraction  *interaction)
{
  return g_set_object (&self->interaction, interaction)
         ? BIT (GMULTI_TLS_OPTION_INTERACTION) : 0;
}

void
gmulti_tls_options_get_property (const GMultiTlsOptions *self,
                                 GMultiTlsOption         option,
                                 GValue                 *value)
{
  switch (option)
    {
    case GMULTI_TLS_OPTION_VERIFY:
      g_value_set_boolean (value, self->verify);
      break;
    case GMULTI_TLS_OPTION_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case GMULTI_TLS_OPTION_CA_DIRECTORY:
      g_value_set_string (value, self->ca_directory);
      break;
    case GMULTI_TLS_OPTION_PINNED_PUBLIC_KEY:
      g_value_set_string (value, self->pinned_public_key);
      break;
    case GMULTI_TLS_OPTION_CLIENT_CERTIFICATE:
      g_value_set_string (value, self->client_certificate);
      break;
    case GMULTI_TLS_OPTION_CLIENT_KEY:
      g_value_set_string (value, self->client_key);
      break;
    case GMULTI_TLS_OPTION_PRIORITY:
      g_value_set_string (value, self->priority);
      break;
    case GMULTI_TLS_OPTION_MIN_VERSION:
      g_value_set_enum (value, self->min_version);
      break;
    case GMULTI_TLS_OPTION_DATABASE:
      g_value_set_object (value, self->database);
      break;
    case GMULTI_TLS_OPTION_INTERACTION:
      g_value_set_object (value, self->interaction);
      break;
    case GMULTI_TLS_N_OPTIONS:
    default:
      g_assert_not_reached ();
    }
}

guint
gmulti_tls_options_set_property (GMultiTlsOptions *self,
                                 GMultiTlsOption   option,
                                 const GValue     *value)
{
  switch (option)
    {
    case GMULTI_TLS_OPTION_VERIFY:
      return gmulti_tls_options_set_verify (self, g_value_get_boolean (value));
    case GMULTI_TLS_OPTION_CA_FILE:
      return gmulti_tls_options_set_ca_file (self, g_value_get_string (value));
    case GMULTI_TLS_OPTION_CA_DIRECTORY:
      return gmulti_tls_options_set_ca_directory (self, g_value_get_string (value));
    case GMULTI_TLS_OPTION_PINNED_PUBLIC_KEY:
      return gmulti_tls_options_set_pinned_public_key (self, g_value_get_string (value));
    case GMULTI_TLS_OPTION_PRIORITY:
      return gmulti_tls_options_set_priority (self, g_value_get_string (value));
    case GMULTI_TLS_OPTION_MIN_VERSION:
      return gmulti_tls_options_set_min_version (self, g_value_get_enum (value));
    case GMULTI_TLS_OPTION_DATABASE:
      return gmulti_tls_options_set_database (self, g_value_get_object (value));
    case GMULTI_TLS_OPTION_INTERACTION:
      return gmulti_tls_options_set_interaction (self, g_value_get_object (value));
    case GMULTI_TLS_OPTION_CLIENT_CERTIFICATE:
    case GMULTI_TLS_OPTION_CLIENT_KEY:
    case GMULTI_TLS_N_OPTIONS:
    default:
      /* Read-only: GObject refuses to set them before it gets here. */
      g_assert_not_reached ();
    }
  return 0;
}

void
gmulti_tls_options_notify (GObject           *object,
                           GParamSpec *const *pspecs,
                           guint              changed)
{
  /* Two at once (a certificate and its key) are notified together. */
  gboolean several = (changed & (changed - 1)) != 0;

  if (several)
    g_object_freeze_notify (object);
  for (guint i = 0; i < GMULTI_TLS_N_OPTIONS; i++)
    if (changed & BIT (i))
      g_object_notify_by_pspec (object, pspecs[i]);
  if (several)
    g_object_thaw_notify (object);
}
