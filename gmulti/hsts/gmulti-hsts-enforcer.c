/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-hsts-private.h"
#include "gmulti-i18n-private.h"

/**
 * GMultiHstsEnforcer:
 *
 * The hosts known to want HTTPS only (HTTP Strict Transport Security, RFC 6797).
 *
 * Given to a [class@Session] ([property@Session:hsts-enforcer]) or a
 * [class@Transfer] ([property@Transfer:hsts-enforcer]), the enforcer learns the
 * `Strict-Transport-Security` field of every https response whose certificate was
 * verified, and turns every `http://` URI of a known host, the first hop and each
 * redirect, into `https://` before anything is sent.
 *
 * An enforcer made with [ctor@HstsEnforcer.new_for_file] reads curl's HSTS cache file
 * (`curl --hsts FILE`) and writes it back after each change, in the main context it
 * was made in, and when it is disposed; curl and gmulti can share one file.
 *
 * Since: 0.1
 */

enum {
  PROP_0,
  PROP_FILE_NAME,
  N_PROPS
};

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GMultiHstsEnforcer, gmulti_hsts_enforcer, G_TYPE_OBJECT)

/* ------------------------------------------------------------------ policies */

G_DEFINE_BOXED_TYPE (GMultiHstsPolicy, gmulti_hsts_policy,
                     gmulti_hsts_policy_copy, gmulti_hsts_policy_free)

static GMultiHstsPolicy *
policy_new (const char *host,
            gint64      expires,
            gboolean    include_subdomains,
            gboolean    preloaded)
{
  GMultiHstsPolicy *policy = g_new0 (GMultiHstsPolicy, 1);

  policy->host = g_strdup (host);
  policy->expires = expires;
  policy->include_subdomains = include_subdomains;
  policy->preloaded = preloaded;
  return policy;
}

/**
 * gmulti_hsts_policy_copy:
 * @self: a policy
 *
 * Copies a policy.
 *
 * Returns: (transfer full): a copy of @self
 *
 * Since: 0.1
 */
GMultiHstsPolicy *
gmulti_hsts_policy_copy (const GMultiHstsPolicy *self)
{
  GMultiHstsPolicy *copy;

  g_return_val_if_fail (self != NULL, NULL);
  copy = policy_new (self->host, self->expires, self->include_subdomains, self->preloaded);
  copy->seq = self->seq;
  return copy;
}

/**
 * gmulti_hsts_policy_free:
 * @self: (transfer full): a policy
 *
 * Frees a policy.
 *
 * Since: 0.1
 */
void
gmulti_hsts_policy_free (GMultiHstsPolicy *self)
{
  if (self == NULL)
    return;
  g_free (self->host);
  g_free (self);
}

/**
 * gmulti_hsts_policy_get_host:
 * @self: a policy
 *
 * Gets the host the policy is for, lowercase and without a trailing dot.
 *
 * Returns: the host name
 *
 * Since: 0.1
 */
const char *
gmulti_hsts_policy_get_host (const GMultiHstsPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->host;
}

/**
 * gmulti_hsts_policy_get_include_subdomains:
 * @self: a policy
 *
 * Gets whether the policy covers every subdomain of its host too
 * (`includeSubDomains`).
 *
 * Returns: %TRUE if subdomains are covered
 *
 * Since: 0.1
 */
gboolean
gmulti_hsts_policy_get_include_subdomains (const GMultiHstsPolicy *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->include_subdomains;
}

/**
 * gmulti_hsts_policy_get_expires:
 * @self: a policy
 *
 * Gets when the policy expires.
 *
 * Returns: seconds since 1970 (UTC), or %G_MAXINT64 for a policy that never expires
 *
 * Since: 0.1
 */
gint64
gmulti_hsts_policy_get_expires (const GMultiHstsPolicy *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->expires;
}

/**
 * gmulti_hsts_policy_is_preloaded:
 * @self: a policy
 *
 * Gets whether the application preloaded the policy
 * ([method@HstsEnforcer.preload]): such a policy never expires, is not saved, and no
 * response changes it.
 *
 * Returns: %TRUE for a preloaded policy
 *
 * Since: 0.1
 */
gboolean
gmulti_hsts_policy_is_preloaded (const GMultiHstsPolicy *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->preloaded;
}

/* --------------------------------------------------------------------- store */

gint64
gmulti_hsts_enforcer_now (GMultiHstsEnforcer *self)
{
  return self->fixed_now != 0 ? self->fixed_now : g_get_real_time () / G_USEC_PER_SEC;
}

void
gmulti_hsts_enforcer_set_now (GMultiHstsEnforcer *self,
                              gint64              now)
{
  self->fixed_now = now;
}

char *
gmulti_hsts_normalize_host (const char *host)
{
  g_autofree char *ascii = NULL;
  gsize length;
  char *normalized;

  if (host == NULL)
    return NULL;
  /* An IDN is compared in its ASCII form, as GUri and the resolver use it; what is
   * not UTF-8 is no name (and g_hostname_to_ascii() must not see it). */
  if (!g_str_is_ascii (host))
    {
      if (!g_utf8_validate (host, -1, NULL))
        return NULL;
      ascii = g_hostname_to_ascii (host);
      if (ascii == NULL)
        return NULL;
      host = ascii;
    }
  length = strlen (host);
  if (length > 0 && host[length - 1] == '.')
    length--;
  if (length == 0 || length > 255 || host[0] == '.')
    return NULL;
  for (gsize i = 0; i < length; i++)
    {
      guchar c = host[i];

      /* Nothing that could not be a host, or would not read back from the file; no
       * empty label either ("a..b", or a second dot at the end, which would read back
       * as another name, "127.0.." as the address "127.0"). */
      if (c <= ' ' || c == 0x7f || strchr ("\"#/\\:[]", c) != NULL)
        return NULL;
      if (c == '.' && (i + 1 == length || host[i + 1] == '.'))
        return NULL;
    }
  normalized = g_ascii_strdown (host, length);
  /* RFC 6797 8.1: no policy is kept for an IP literal (an IPv6 one has a ':', with
   * or without its brackets, and is refused above). */
  if (g_hostname_is_ip_address (normalized))
    {
      g_free (normalized);
      return NULL;
    }
  return normalized;
}

static gboolean
is_expired (const GMultiHstsPolicy *policy,
            gint64                  now)
{
  return !policy->preloaded && policy->expires != GMULTI_HSTS_NEVER && policy->expires <= now;
}

static void
schedule_save (GMultiHstsEnforcer *self);

/* Removes @host's entry and says so. */
static void
delete_entry (GMultiHstsEnforcer *self,
              GMultiHstsPolicy   *policy)
{
  g_autoptr(GMultiHstsPolicy) old = NULL;
  gpointer key;

  if (!g_hash_table_steal_extended (self->hosts, policy->host, &key, (gpointer *) &old))
    return;
  g_free (key);
  if (!old->preloaded)
    self->n_dynamic--;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, old, NULL);
  schedule_save (self);
}

/* Makes room for one more dynamic entry: an expired one goes, else the oldest. */
static void
evict_one (GMultiHstsEnforcer *self,
           gint64              now)
{
  GHashTableIter iter;
  GMultiHstsPolicy *policy, *oldest = NULL;

  g_hash_table_iter_init (&iter, self->hosts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &policy))
    {
      if (policy->preloaded)
        continue;
      if (is_expired (policy, now))
        {
          oldest = policy;
          break;
        }
      if (oldest == NULL || policy->seq < oldest->seq)
        oldest = policy;
    }
  if (oldest != NULL)
    delete_entry (self, oldest);
}

static void
put_entry (GMultiHstsEnforcer *self,
           const char         *host,
           gint64              expires,
           gboolean            include_subdomains,
           gboolean            preloaded)
{
  GMultiHstsPolicy *old = g_hash_table_lookup (self->hosts, host);
  g_autoptr(GMultiHstsPolicy) old_copy = NULL;
  GMultiHstsPolicy *policy;

  if (old != NULL && old->expires == expires && old->preloaded == preloaded &&
      old->include_subdomains == include_subdomains)
    return;
  if (old != NULL)
    {
      old_copy = gmulti_hsts_policy_copy (old);
      if (!old->preloaded)
        self->n_dynamic--;
    }
  else if (!preloaded && self->n_dynamic >= GMULTI_HSTS_MAX_ENTRIES)
    evict_one (self, gmulti_hsts_enforcer_now (self));

  policy = policy_new (host, expires, include_subdomains, preloaded);
  policy->seq = self->next_seq++;
  if (!preloaded)
    self->n_dynamic++;
  g_hash_table_replace (self->hosts, g_strdup (host), policy);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, old_copy, policy);
  if (!preloaded || (old_copy != NULL && !old_copy->preloaded))
    schedule_save (self);
}

void
gmulti_hsts_enforcer_store (GMultiHstsEnforcer *self,
                            const char         *host,
                            gint64              expires,
                            gboolean            include_subdomains)
{
  GMultiHstsPolicy *old = g_hash_table_lookup (self->hosts, host);

  if (old != NULL && old->preloaded)
    return;
  /* max-age=0, or a stamp already past: the host is no longer known (RFC 6797 6.1.1). */
  if (expires != GMULTI_HSTS_NEVER && expires <= gmulti_hsts_enforcer_now (self))
    {
      if (old != NULL)
        delete_entry (self, old);
      return;
    }
  if (old != NULL && old->include_subdomains == include_subdomains &&
      old->expires != GMULTI_HSTS_NEVER && expires != GMULTI_HSTS_NEVER &&
      ABS (expires - old->expires) < GMULTI_HSTS_REFRESH_SLACK)
    return;
  put_entry (self, host, expires, include_subdomains, FALSE);
}

gboolean
gmulti_hsts_enforcer_match (GMultiHstsEnforcer *self,
                            const char         *host)
{
  gint64 now = gmulti_hsts_enforcer_now (self);
  const char *name = host;

  /* The host itself (a congruent match), then each superdomain whose policy covers
   * its subdomains (RFC 6797 8.2). */
  for (;;)
    {
      GMultiHstsPolicy *policy = g_hash_table_lookup (self->hosts, name);

      if (policy != NULL && !is_expired (policy, now) &&
          (name == host || policy->include_subdomains))
        return TRUE;
      name = strchr (name, '.');
      if (name == NULL)
        return FALSE;
      name++;
    }
}

/* ------------------------------------------------------------------- saving */

static gboolean
save_cb (gpointer user_data)
{
  GMultiHstsEnforcer *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!gmulti_hsts_enforcer_save (self, &error))
    g_warning (_("Could not save the HSTS hosts to %s: %s"), self->file_name, error->message);
  return G_SOURCE_REMOVE;
}

static void
schedule_save (GMultiHstsEnforcer *self)
{
  if (self->file_name == NULL || self->loading)
    return;
  gmulti_idle_save_schedule (&self->save);
}

/**
 * gmulti_hsts_enforcer_save:
 * @self: an enforcer made with [ctor@HstsEnforcer.new_for_file]
 * @error: return location for an error
 *
 * Saves the enforcer to its file now, as [method@HstsEnforcer.save_to_file] does. An
 * enforcer without a file has nothing to do.
 *
 * Returns: %TRUE if the file was written or there is none
 *
 * Since: 0.1
 */
gboolean
gmulti_hsts_enforcer_save (GMultiHstsEnforcer *self,
                           GError            **error)
{
  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), FALSE);

  gmulti_idle_save_cancel (&self->save);
  if (self->file_name == NULL)
    return TRUE;
  return gmulti_hsts_enforcer_save_to_file (self, self->file_name, error);
}

/* ------------------------------------------------------------------ the object */

static void
gmulti_hsts_enforcer_init (GMultiHstsEnforcer *self)
{
  self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) gmulti_hsts_policy_free);
  gmulti_idle_save_init (&self->save, save_cb, self, "[gmulti] HSTS save");
  gmulti_hsts_enforcer_init_hook (self);
}

static void
gmulti_hsts_enforcer_dispose (GObject *object)
{
  GMultiHstsEnforcer *self = GMULTI_HSTS_ENFORCER (object);

  /* A change not saved yet is saved now. */
  gmulti_idle_save_flush (&self->save);
  G_OBJECT_CLASS (gmulti_hsts_enforcer_parent_class)->dispose (object);
}

static void
gmulti_hsts_enforcer_finalize (GObject *object)
{
  GMultiHstsEnforcer *self = GMULTI_HSTS_ENFORCER (object);

  g_hash_table_unref (self->hosts);
  g_free (self->file_name);
  gmulti_idle_save_clear (&self->save);
  G_OBJECT_CLASS (gmulti_hsts_enforcer_parent_class)->finalize (object);
}

static void
gmulti_hsts_enforcer_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  GMultiHstsEnforcer *self = GMULTI_HSTS_ENFORCER (object);

  switch (prop_id)
    {
    case PROP_FILE_NAME:
      g_value_set_string (value, self->file_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gmulti_hsts_enforcer_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  GMultiHstsEnforcer *self = GMULTI_HSTS_ENFORCER (object);

  switch (prop_id)
    {
    case PROP_FILE_NAME:
      self->file_name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gmulti_hsts_enforcer_class_init (GMultiHstsEnforcerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gmulti_hsts_enforcer_dispose;
  object_class->finalize = gmulti_hsts_enforcer_finalize;
  object_class->get_property = gmulti_hsts_enforcer_get_property;
  object_class->set_property = gmulti_hsts_enforcer_set_property;

  /**
   * GMultiHstsEnforcer:file-name: (getter get_file_name)
   *
   * The HSTS cache file (curl's format) the enforcer saves itself to after each
   * change, or %NULL for an enforcer kept only in memory.
   *
   * Since: 0.1
   */
  properties[PROP_FILE_NAME] =
    g_param_spec_string ("file-name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GMultiHstsEnforcer::changed:
   * @self: the enforcer
   * @old_policy: (nullable): the policy removed or replaced, or %NULL for a new host
   * @new_policy: (nullable): the policy stored, or %NULL when a host was removed
   *
   * A known host was added, changed or removed: by a response, by eviction beyond
   * %GMULTI_HSTS_MAX_ENTRIES, or by the application.
   *
   * Since: 0.1
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2,
                  GMULTI_TYPE_HSTS_POLICY, GMULTI_TYPE_HSTS_POLICY);
}

/**
 * gmulti_hsts_enforcer_new:
 *
 * Makes an enforcer kept in memory only.
 *
 * Returns: (transfer full): a new enforcer that knows no host
 *
 * Since: 0.1
 */
GMultiHstsEnforcer *
gmulti_hsts_enforcer_new (void)
{
  return g_object_new (GMULTI_TYPE_HSTS_ENFORCER, NULL);
}

/**
 * gmulti_hsts_enforcer_new_for_file:
 * @file_name: (type filename): an HSTS cache file in curl's format
 * @error: return location for an error
 *
 * Makes an enforcer that reads @file_name now, if it exists, and saves itself there
 * after each change (see [method@HstsEnforcer.load_from_file]).
 *
 * Returns: (transfer full) (nullable): a new enforcer, or %NULL if the file exists
 *   but cannot be read
 *
 * Since: 0.1
 */
GMultiHstsEnforcer *
gmulti_hsts_enforcer_new_for_file (const char  *file_name,
                                   GError     **error)
{
  g_autoptr(GMultiHstsEnforcer) self = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (file_name != NULL, NULL);

  self = g_object_new (GMULTI_TYPE_HSTS_ENFORCER, "file-name", file_name, NULL);
  if (!gmulti_hsts_enforcer_load_from_file (self, file_name, NULL, &local_error) &&
      !g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  g_clear_error (&local_error);
  return g_steal_pointer (&self);
}

/**
 * gmulti_hsts_enforcer_get_file_name: (get-property file-name)
 * @self: an enforcer
 *
 * Gets the file the enforcer saves itself to.
 *
 * Returns: (nullable) (type filename): the file, or %NULL
 *
 * Since: 0.1
 */
const char *
gmulti_hsts_enforcer_get_file_name (GMultiHstsEnforcer *self)
{
  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), NULL);
  return self->file_name;
}

/**
 * gmulti_hsts_enforcer_add_entry:
 * @self: an enforcer
 * @host: a host name
 * @max_age: seconds from now until the policy expires, %GMULTI_HSTS_NO_EXPIRY for a
 *   policy that never does, or 0 to remove the host
 * @include_subdomains: whether every subdomain of @host is covered too
 *
 * Makes @host a known HSTS host, as a `Strict-Transport-Security` field with these
 * values from @host would. A preloaded host stays as it is.
 *
 * Returns: %TRUE if @host can have a policy (not an IP address, not empty)
 *
 * Since: 0.1
 */
gboolean
gmulti_hsts_enforcer_add_entry (GMultiHstsEnforcer *self,
                                const char         *host,
                                gint64              max_age,
                                gboolean            include_subdomains)
{
  g_autofree char *name = NULL;
  gint64 expires;

  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);
  g_return_val_if_fail (max_age >= 0 || max_age == GMULTI_HSTS_NO_EXPIRY, FALSE);

  name = gmulti_hsts_normalize_host (host);
  if (name == NULL)
    return FALSE;
  if (max_age == GMULTI_HSTS_NO_EXPIRY)
    expires = GMULTI_HSTS_NEVER;
  else
    expires = gmulti_hsts_enforcer_now (self) + MIN (max_age, GMULTI_HSTS_MAX_AGE_LIMIT);
  gmulti_hsts_enforcer_store (self, name, max_age == 0 ? 0 : expires, include_subdomains);
  return TRUE;
}

/**
 * gmulti_hsts_enforcer_preload:
 * @self: an enforcer
 * @hosts: (array zero-terminated=1): host names; a leading dot covers the
 *   subdomains too, as in the cache file
 *
 * Adds hosts that are HTTPS-only whatever responses say: their policies never
 * expire, do not count towards %GMULTI_HSTS_MAX_ENTRIES, are not saved to the file,
 * and replace a policy of the same host. Names that cannot have a policy (IP
 * addresses) are skipped.
 *
 * Since: 0.1
 */
void
gmulti_hsts_enforcer_preload (GMultiHstsEnforcer *self,
                              const char * const *hosts)
{
  g_return_if_fail (GMULTI_IS_HSTS_ENFORCER (self));
  g_return_if_fail (hosts != NULL);

  for (guint i = 0; hosts[i] != NULL; i++)
    {
      gboolean include_subdomains = hosts[i][0] == '.';
      g_autofree char *name =
        gmulti_hsts_normalize_host (hosts[i] + (include_subdomains ? 1 : 0));

      if (name != NULL)
        put_entry (self, name, GMULTI_HSTS_NEVER, include_subdomains, TRUE);
    }
}

/**
 * gmulti_hsts_enforcer_remove_entry:
 * @self: an enforcer
 * @host: a host name
 *
 * Forgets the policy of @host itself (preloaded or not); its superdomains' policies
 * stay.
 *
 * Returns: %TRUE if @host had a policy
 *
 * Since: 0.1
 */
gboolean
gmulti_hsts_enforcer_remove_entry (GMultiHstsEnforcer *self,
                                   const char         *host)
{
  g_autofree char *name = NULL;
  GMultiHstsPolicy *policy;

  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  name = gmulti_hsts_normalize_host (host);
  policy = name != NULL ? g_hash_table_lookup (self->hosts, name) : NULL;
  if (policy == NULL)
    return FALSE;
  delete_entry (self, policy);
  return TRUE;
}

/**
 * gmulti_hsts_enforcer_clear:
 * @self: an enforcer
 *
 * Forgets every host, preloaded ones too; [signal@HstsEnforcer::changed] is emitted
 * for each.
 *
 * Since: 0.1
 */
void
gmulti_hsts_enforcer_clear (GMultiHstsEnforcer *self)
{
  g_autoptr(GList) policies = NULL;

  g_return_if_fail (GMULTI_IS_HSTS_ENFORCER (self));

  /* A handler may remove more: look each one up again. */
  policies = g_hash_table_get_keys (self->hosts);
  for (GList *l = policies; l != NULL; l = l->next)
    l->data = g_strdup (l->data);
  for (GList *l = policies; l != NULL; l = l->next)
    {
      GMultiHstsPolicy *policy = g_hash_table_lookup (self->hosts, l->data);

      if (policy != NULL)
        delete_entry (self, policy);
      g_free (l->data);
    }
}

/**
 * gmulti_hsts_enforcer_has_valid_policy:
 * @self: an enforcer
 * @host: a host name
 *
 * Gets whether `http://` URIs of @host are turned into `https://` now: @host has a
 * policy that has not expired, or one of its superdomains has one that covers its
 * subdomains.
 *
 * Returns: %TRUE if @host is a known HSTS host
 *
 * Since: 0.1
 */
gboolean
gmulti_hsts_enforcer_has_valid_policy (GMultiHstsEnforcer *self,
                                       const char         *host)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  name = gmulti_hsts_normalize_host (host);
  return name != NULL && gmulti_hsts_enforcer_match (self, name);
}

static gint
compare_hosts (gconstpointer a,
               gconstpointer b)
{
  return strcmp (((const GMultiHstsPolicy *) a)->host, ((const GMultiHstsPolicy *) b)->host);
}

/**
 * gmulti_hsts_enforcer_list:
 * @self: an enforcer
 *
 * Lists the policies that have not expired, sorted by host.
 *
 * Returns: (transfer full) (element-type GMultiHstsPolicy): copies of the policies
 *
 * Since: 0.1
 */
GList *
gmulti_hsts_enforcer_list (GMultiHstsEnforcer *self)
{
  GHashTableIter iter;
  GMultiHstsPolicy *policy;
  GList *list = NULL;
  gint64 now;

  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), NULL);

  now = gmulti_hsts_enforcer_now (self);
  g_hash_table_iter_init (&iter, self->hosts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &policy))
    if (!is_expired (policy, now))
      list = g_list_prepend (list, gmulti_hsts_policy_copy (policy));
  return g_list_sort (list, compare_hosts);
}

/**
 * gmulti_hsts_enforcer_get_n_entries:
 * @self: an enforcer
 *
 * Gets how many hosts the enforcer holds, preloaded ones and expired ones not
 * removed yet included.
 *
 * Returns: the number of entries
 *
 * Since: 0.1
 */
guint
gmulti_hsts_enforcer_get_n_entries (GMultiHstsEnforcer *self)
{
  g_return_val_if_fail (GMULTI_IS_HSTS_ENFORCER (self), 0);
  return g_hash_table_size (self->hosts);
}
