/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>

#include "gmulti-auth-private.h"

/* The credentials a session's transfers logged in with, by protection space (origin
 * and path prefix), as libsoup keeps them: a later request in the same space sends
 * them before it is asked, so a script pays one 401 per space, not one per request.
 * A handful of spaces per session: a plain array, searched whole. */

struct _GMultiAuthCache {
  GPtrArray *entries;         /* (element-type GMultiAuthCredentials) */
};

/* At most; the oldest goes first beyond it. */
#define GMULTI_AUTH_CACHE_MAX 64

void
gmulti_auth_credentials_clear (GMultiAuthCredentials *self)
{
  g_clear_pointer (&self->origin, g_free);
  g_clear_pointer (&self->prefix, g_free);
  g_clear_pointer (&self->user, g_free);
  if (self->password != NULL)
    explicit_bzero (self->password, strlen (self->password));
  g_clear_pointer (&self->password, g_free);
  if (self->token != NULL)
    explicit_bzero (self->token, strlen (self->token));
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->digest, gmulti_auth_digest_free);
  self->kind = GMULTI_AUTH_KIND_NONE;
}

static void
entry_free (gpointer data)
{
  gmulti_auth_credentials_clear (data);
  g_free (data);
}

GMultiAuthCache *
gmulti_auth_cache_new (void)
{
  GMultiAuthCache *self = g_new0 (GMultiAuthCache, 1);

  self->entries = g_ptr_array_new_with_free_func (entry_free);
  return self;
}

void
gmulti_auth_cache_free (GMultiAuthCache *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->entries);
  g_free (self);
}

guint
gmulti_auth_cache_get_size (GMultiAuthCache *self)
{
  return self->entries->len;
}

GMultiAuthCredentials *
gmulti_auth_cache_lookup (GMultiAuthCache *self,
                          const char      *origin,
                          const char      *path)
{
  GMultiAuthCredentials *best = NULL;

  for (guint i = 0; i < self->entries->len; i++)
    {
      GMultiAuthCredentials *entry = self->entries->pdata[i];

      if (strcmp (entry->origin, origin) != 0 || !g_str_has_prefix (path, entry->prefix))
        continue;
      if (best == NULL || strlen (entry->prefix) > strlen (best->prefix))
        best = entry;
    }
  return best;
}

static GMultiAuthDigest *
digest_copy (const GMultiAuthDigest *digest)
{
  GMultiAuthDigest *copy;

  if (digest == NULL)
    return NULL;
  copy = g_memdup2 (digest, sizeof *digest);
  copy->realm = g_strdup (digest->realm);
  copy->nonce = g_strdup (digest->nonce);
  copy->opaque = g_strdup (digest->opaque);
  copy->cnonce = g_strdup (digest->cnonce);
  return copy;
}

void
gmulti_auth_cache_forget (GMultiAuthCache *self,
                          const char      *origin,
                          const char      *prefix)
{
  for (guint i = 0; i < self->entries->len; i++)
    {
      GMultiAuthCredentials *entry = self->entries->pdata[i];

      if (strcmp (entry->origin, origin) == 0 && strcmp (entry->prefix, prefix) == 0)
        {
          g_ptr_array_remove_index (self->entries, i);
          return;
        }
    }
}

void
gmulti_auth_cache_store (GMultiAuthCache             *self,
                         const GMultiAuthCredentials *credentials)
{
  GMultiAuthCredentials *entry = g_new0 (GMultiAuthCredentials, 1);

  gmulti_auth_cache_forget (self, credentials->origin, credentials->prefix);
  if (self->entries->len == GMULTI_AUTH_CACHE_MAX)
    g_ptr_array_remove_index (self->entries, 0);
  entry->kind = credentials->kind;
  entry->origin = g_strdup (credentials->origin);
  entry->prefix = g_strdup (credentials->prefix);
  entry->user = g_strdup (credentials->user);
  entry->password = g_strdup (credentials->password);
  entry->token = g_strdup (credentials->token);
  entry->digest = digest_copy (credentials->digest);
  g_ptr_array_add (self->entries, entry);
}
