/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-pool-key.h"

void
gmulti_pool_key_init (GMultiPoolKey   *self,
                      gboolean         secure,
                      const char      *host,
                      guint16          port,
                      const char      *chain,
                      GMultiTlsConfig *tls_config)
{
  guint hash;

  self->http = GMULTI_POOL_HTTP_ANY;
  self->secure = secure;
  self->host = host;
  self->port = port;
  self->chain = chain != NULL ? chain : "";
  self->tls_config = secure ? tls_config : NULL;

  /* Host names compare exactly, as the origin string they replace did. */
  hash = g_str_hash (self->host);
  hash = hash * 31 + port;
  hash = hash * 31 + (secure ? 1 : 0);
  hash = hash * 31 + g_str_hash (self->chain);
  if (self->tls_config != NULL)
    hash = hash * 31 + gmulti_tls_config_hash (self->tls_config);
  self->hash = hash;
}

void
gmulti_pool_key_set_http (GMultiPoolKey  *self,
                          GMultiPoolHttp  http)
{
  /* ANY adds nothing, so a key of the common case hashes as before. */
  self->hash = self->hash - (guint) self->http * 7919u + (guint) http * 7919u;
  self->http = http;
}

GMultiPoolKey *
gmulti_pool_key_copy (const GMultiPoolKey *self)
{
  GMultiPoolKey *copy = g_new (GMultiPoolKey, 1);

  *copy = *self;
  copy->host = g_strdup (self->host);
  copy->chain = g_strdup (self->chain);
  if (copy->tls_config != NULL)
    gmulti_tls_config_ref (copy->tls_config);
  return copy;
}

void
gmulti_pool_key_free (GMultiPoolKey *self)
{
  if (self == NULL)
    return;
  g_free ((char *) self->host);
  g_free ((char *) self->chain);
  if (self->tls_config != NULL)
    gmulti_tls_config_unref (self->tls_config);
  g_free (self);
}

guint
gmulti_pool_key_hash (gconstpointer key)
{
  return ((const GMultiPoolKey *) key)->hash;
}

gboolean
gmulti_pool_key_equal (gconstpointer a,
                       gconstpointer b)
{
  const GMultiPoolKey *ka = a, *kb = b;

  if (ka->hash != kb->hash || ka->secure != kb->secure || ka->port != kb->port ||
      ka->http != kb->http ||
      strcmp (ka->host, kb->host) != 0 || strcmp (ka->chain, kb->chain) != 0)
    return FALSE;
  if (ka->tls_config == kb->tls_config)
    return TRUE;
  return ka->tls_config != NULL && kb->tls_config != NULL &&
         gmulti_tls_config_equal (ka->tls_config, kb->tls_config);
}
