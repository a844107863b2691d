/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-cookie-jar-private.h"
#include "gmulti-enum-types.h"
#include "gmulti-i18n-private.h"

/**
 * GMultiCookieJar:
 *
 * Keeps the cookies servers set and sends them back, as RFC 6265 says.
 *
 * Set a jar as [property@Session:cookie-jar] (every transfer of the session) or
 * [property@Transfer:cookie-jar] (one transfer; it wins over the session's). Every
 * response head, redirects included, is read for `Set-Cookie` fields, and every
 * request, each hop of a redirect included, gets a `Cookie` field with the cookies
 * whose domain, path and `Secure` flag match it, longer paths first, then older
 * first. A `Cookie` field the application set is kept, and the jar's cookies follow
 * it in the same field.
 *
 * Cookie domains that are public suffixes (`com`, `co.uk`; the list comes from
 * libpsl) are refused. A domain keeps at most 180 cookies and the jar 3000: beyond
 * that, expired cookies go first, then the ones set longest ago. Expired cookies are
 * dropped when a request would have sent them, or when a server expires them
 * (`Max-Age=0`, an `Expires` in the past).
 *
 * A jar made with [ctor@CookieJar.new_for_file] reads a cookie file in the format of
 * curl and wget (the Netscape format) at once, one made with
 * [ctor@CookieJar.new_for_sqlite] the database of Firefox and libsoup; either saves
 * itself again after every change, once per main-loop iteration of the thread-default
 * main context it was made in, and when it is disposed. A save writes a new file and
 * renames it over the old one (a database: one transaction), so a crash leaves the old
 * cookies or the new ones, whole.
 *
 * A jar is used from one thread: the one of the sessions it is set on.
 *
 * Since: 0.1
 */

G_DEFINE_FINAL_TYPE (GMultiCookieJar, gmulti_cookie_jar, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ACCEPT_POLICY,
  PROP_FILE_NAME,
  N_PROPS
};

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
emit_changed (GMultiCookieJar *self,
              GMultiCookie    *old_cookie,
              GMultiCookie    *new_cookie)
{
  gmulti_cookie_jar_schedule_save (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, old_cookie, new_cookie);
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Removes cookie @index of @cookies (the array of @domain); returns it. */
static GMultiCookie *
take_cookie (GMultiCookieJar *self,
             GPtrArray       *cookies,
             guint            index)
{
  GMultiCookie *cookie = g_ptr_array_steal_index (cookies, index);

  self->n_cookies--;
  if (cookies->len == 0)
    g_hash_table_remove (self->domains, cookie->domain);
  return cookie;
}

static void
remove_and_announce (GMultiCookieJar *self,
                     GPtrArray       *cookies,
                     guint            index)
{
  g_autoptr (GMultiCookie) cookie = take_cookie (self, cookies, index);

  emit_changed (self, cookie, NULL);
}

static gboolean
older (const GMultiCookie *a,
       const GMultiCookie *b)
{
  return a->creation < b->creation || (a->creation == b->creation && a->seq < b->seq);
}

/* The one to evict from @cookies: an expired one, else the oldest. */
static guint
eviction_victim (GPtrArray *cookies,
                 gint64     now)
{
  guint victim = 0;

  for (guint i = 0; i < cookies->len; i++)
    {
      GMultiCookie *cookie = g_ptr_array_index (cookies, i);

      if (gmulti_cookie_is_expired (cookie, now))
        return i;
      if (older (cookie, g_ptr_array_index (cookies, victim)))
        victim = i;
    }
  return victim;
}

static void
enforce_limits (GMultiCookieJar *self,
                const char      *domain,
                gint64           now)
{
  GPtrArray *cookies;

  while ((cookies = g_hash_table_lookup (self->domains, domain)) != NULL &&
         cookies->len > GMULTI_COOKIE_JAR_MAX_PER_DOMAIN)
    remove_and_announce (self, cookies, eviction_victim (cookies, now));

  while (self->n_cookies > GMULTI_COOKIE_JAR_MAX_COOKIES)
    {
      GHashTableIter iter;
      GPtrArray *each, *victim_array = NULL;
      guint victim = 0;

      /* Rare (the jar is full), so a walk over every domain is fine. */
      g_hash_table_iter_init (&iter, self->domains);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &each))
        {
          guint i = eviction_victim (each, now);
          GMultiCookie *candidate = g_ptr_array_index (each, i);

          if (gmulti_cookie_is_expired (candidate, now))
            {
              victim_array = each;
              victim = i;
              break;
            }
          if (victim_array == NULL ||
              older (candidate, g_ptr_array_index (victim_array, victim)))
            {
              victim_array = each;
              victim = i;
            }
        }
      remove_and_announce (self, victim_array, victim);
    }
}

void
gmulti_cookie_jar_store (GMultiCookieJar *self,
                         GMultiCookie    *cookie,
                         gint64           now)
{
  g_autoptr (GMultiCookie) owned = cookie;
  g_autofree char *domain = g_strdup (cookie->domain);
  GPtrArray *cookies = g_hash_table_lookup (self->domains, cookie->domain);
  gboolean expired = gmulti_cookie_is_expired (cookie, now);

  if (cookies != NULL)
    for (guint i = 0; i < cookies->len; i++)
      {
        GMultiCookie *old = g_ptr_array_index (cookies, i);

        if (!gmulti_cookie_same_key (old, cookie))
          continue;
        if (expired)
          {
            remove_and_announce (self, cookies, i);
            return;
          }
        /* A cookie set again keeps its place in the sending order (5.3, step 11). */
        cookie->creation = old->creation;
        cookie->seq = old->seq;
        cookies->pdata[i] = g_steal_pointer (&owned);
        emit_changed (self, old, cookie);
        gmulti_cookie_unref (old);
        return;
      }

  if (expired)
    return;
  if (cookies == NULL)
    {
      cookies = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_cookie_unref);
      g_hash_table_insert (self->domains, g_strdup (cookie->domain), cookies);
    }
  g_ptr_array_add (cookies, g_steal_pointer (&owned));
  self->n_cookies++;
  emit_changed (self, NULL, cookie);
  enforce_limits (self, domain, now);
}

/* The cookies of @domain for the request, into @out; expired ones are dropped. */
static void
collect_domain (GMultiCookieJar *self,
                const char      *domain,
                const char      *host,
                const char      *path,
                gsize            path_length,
                gboolean         secure,
                gint64           now,
                GPtrArray       *out)
{
  GPtrArray *cookies = g_hash_table_lookup (self->domains, domain);

  for (guint i = 0; cookies != NULL && i < cookies->len;)
    {
      GMultiCookie *cookie = g_ptr_array_index (cookies, i);

      if (gmulti_cookie_is_expired (cookie, now))
        {
          gboolean last = cookies->len == 1;

          remove_and_announce (self, cookies, i);
          /* A handler may have changed the jar: look the domain up again. */
          cookies = last ? NULL : g_hash_table_lookup (self->domains, domain);
          continue;
        }
      if (gmulti_cookie_matches (cookie, host, path, path_length, secure))
        g_ptr_array_add (out, gmulti_cookie_ref (cookie));
      i++;
    }
}

GPtrArray *
gmulti_cookie_jar_collect (GMultiCookieJar *self,
                           const char      *host,
                           const char      *path,
                           gsize            path_length,
                           gboolean         secure)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_cookie_unref);
  gint64 now = now_seconds ();

  if (self->n_cookies == 0)
    return out;

  /* The host and each domain above it: the only keys a cookie for it can be under. */
  collect_domain (self, host, host, path, path_length, secure, now, out);
  if (!gmulti_cookie_host_is_ip (host))
    for (const char *dot = strchr (host, '.'); dot != NULL; dot = strchr (dot + 1, '.'))
      if (dot[1] != '\0')
        collect_domain (self, dot + 1, host, path, path_length, secure, now, out);
  g_ptr_array_sort (out, gmulti_cookie_compare_for_sending);
  return out;
}

char *
gmulti_cookie_jar_header_for (GMultiCookieJar *self,
                              const char      *host,
                              const char      *path,
                              gsize            path_length,
                              gboolean         secure)
{
  g_autoptr (GPtrArray) cookies = NULL;
  GString *header;

  if (self->n_cookies == 0)
    return NULL;
  cookies = gmulti_cookie_jar_collect (self, host, path, path_length, secure);
  if (cookies->len == 0)
    return NULL;
  header = g_string_new (NULL);
  for (guint i = 0; i < cookies->len; i++)
    {
      GMultiCookie *cookie = g_ptr_array_index (cookies, i);

      if (i > 0)
        g_string_append (header, "; ");
      g_string_append_printf (header, "%s=%s", cookie->name, cookie->value);
    }
  return g_string_free (header, FALSE);
}

/* ------------------------------------------------------------------- saving */

static gboolean
save_cb (gpointer user_data)
{
  GMultiCookieJar *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!gmulti_cookie_jar_save (self, &error))
    g_warning (_("Could not save the cookies to %s: %s"), self->file_name, error->message);
  return G_SOURCE_REMOVE;
}

void
gmulti_cookie_jar_schedule_save (GMultiCookieJar *self)
{
  if (self->file_name == NULL || self->loading)
    return;
  gmulti_idle_save_schedule (&self->save);
}

/* ------------------------------------------------------------------ the object */

static void
gmulti_cookie_jar_init (GMultiCookieJar *self)
{
  self->domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
  gmulti_idle_save_init (&self->save, save_cb, self, "[gmulti] cookie jar save");
  gmulti_cookie_jar_init_hook (self);
}

static void
gmulti_cookie_jar_dispose (GObject *object)
{
  GMultiCookieJar *self = GMULTI_COOKIE_JAR (object);

  /* A change not saved yet is saved now. */
  gmulti_idle_save_flush (&self->save);
  G_OBJECT_CLASS (gmulti_cookie_jar_parent_class)->dispose (object);
}

static void
gmulti_cookie_jar_finalize (GObject *object)
{
  GMultiCookieJar *self = GMULTI_COOKIE_JAR (object);

  g_hash_table_unref (self->domains);
  g_free (self->file_name);
  gmulti_idle_save_clear (&self->save);
  G_OBJECT_CLASS (gmulti_cookie_jar_parent_class)->finalize (object);
}

static void
gmulti_cookie_jar_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  GMultiCookieJar *self = GMULTI_COOKIE_JAR (object);

  switch (prop_id)
    {
    case PROP_ACCEPT_POLICY:
      g_value_set_enum (value, self->accept_policy);
      break;
    case PROP_FILE_NAME:
      g_value_set_string (value, self->file_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gmulti_cookie_jar_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  GMultiCookieJar *self = GMULTI_COOKIE_JAR (object);

  switch (prop_id)
    {
    case PROP_ACCEPT_POLICY:
      gmulti_cookie_jar_set_accept_policy (self, g_value_get_enum (value));
      break;
    case PROP_FILE_NAME:
      self->file_name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gmulti_cookie_jar_class_init (GMultiCookieJarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gmulti_cookie_jar_dispose;
  object_class->finalize = gmulti_cookie_jar_finalize;
  object_class->get_property = gmulti_cookie_jar_get_property;
  object_class->set_property = gmulti_cookie_jar_set_property;

  /**
   * GMultiCookieJar:accept-policy: (getter get_accept_policy) (setter set_accept_policy)
   *
   * Which cookies from responses are stored. The default accepts every cookie the
   * rules allow.
   *
   * Since: 0.1
   */
  properties[PROP_ACCEPT_POLICY] =
    g_param_spec_enum ("accept-policy", NULL, NULL,
                       GMULTI_TYPE_COOKIE_ACCEPT_POLICY, GMULTI_COOKIE_ACCEPT_ALWAYS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * GMultiCookieJar:file-name: (getter get_file_name)
   *
   * The cookie file the jar saves itself to after each change, or %NULL for a jar
   * kept only in memory.
   *
   * Since: 0.1
   */
  properties[PROP_FILE_NAME] =
    g_param_spec_string ("file-name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GMultiCookieJar::changed:
   * @self: the jar
   * @old_cookie: (nullable): the cookie removed or replaced, or %NULL for a new one
   * @new_cookie: (nullable): the cookie stored, or %NULL when one was removed
   *
   * A cookie was added, replaced or removed: by a response, by expiry, by eviction
   * beyond the limits, or by the application.
   *
   * Since: 0.1
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, GMULTI_TYPE_COOKIE, GMULTI_TYPE_COOKIE);
}

/**
 * gmulti_cookie_jar_new:
 *
 * Makes a jar kept in memory only.
 *
 * Returns: (transfer full): a new, empty jar
 *
 * Since: 0.1
 */
GMultiCookieJar *
gmulti_cookie_jar_new (void)
{
  return g_object_new (GMULTI_TYPE_COOKIE_JAR, NULL);
}

/**
 * gmulti_cookie_jar_new_for_file:
 * @file_name: (type filename): a cookie file in the Netscape format
 * @error: return location for an error
 *
 * Makes a jar that reads @file_name now, if it exists, and saves itself there after
 * each change (see [class@CookieJar]).
 *
 * Returns: (transfer full) (nullable): the jar, or %NULL when the file exists but
 *   cannot be read
 *
 * Since: 0.1
 */
GMultiCookieJar *
gmulti_cookie_jar_new_for_file (const char *file_name,
                                GError    **error)
{
  g_autoptr (GMultiCookieJar) self = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (file_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (GMULTI_TYPE_COOKIE_JAR, "file-name", file_name, NULL);
  if (!gmulti_cookie_jar_load_from_file (self, file_name, &local_error) &&
      !g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_steal_pointer (&self);
}

/**
 * gmulti_cookie_jar_new_for_sqlite:
 * @file_name: (type filename): a SQLite cookie database
 * @error: return location for an error
 *
 * Makes a jar that reads the `moz_cookies` table of a SQLite database, as Firefox and
 * libsoup keep it, now (creating the database and the table if needed), and saves
 * itself there after each change, session cookies excepted (see [class@CookieJar]).
 *
 * Returns: (transfer full) (nullable): the jar, or %NULL when the database cannot be
 *   opened or read
 *
 * Since: 0.1
 */
GMultiCookieJar *
gmulti_cookie_jar_new_for_sqlite (const char *file_name,
                                  GError    **error)
{
  g_autoptr (GMultiCookieJar) self = NULL;

  g_return_val_if_fail (file_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (GMULTI_TYPE_COOKIE_JAR, "file-name", file_name, NULL);
  self->sqlite = TRUE;
  if (!gmulti_cookie_jar_load_sqlite (self, file_name, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * gmulti_cookie_jar_get_file_name: (get-property file-name)
 * @self: a jar
 *
 * Gets the cookie file the jar saves itself to.
 *
 * Returns: (nullable) (type filename): the file the jar saves itself to
 *
 * Since: 0.1
 */
const char *
gmulti_cookie_jar_get_file_name (GMultiCookieJar *self)
{
  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), NULL);
  return self->file_name;
}

/**
 * gmulti_cookie_jar_get_accept_policy: (get-property accept-policy)
 * @self: a jar
 *
 * Gets which cookies from responses the jar stores.
 *
 * Returns: which cookies from responses the jar stores
 *
 * Since: 0.1
 */
GMultiCookieAcceptPolicy
gmulti_cookie_jar_get_accept_policy (GMultiCookieJar *self)
{
  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), GMULTI_COOKIE_ACCEPT_ALWAYS);
  return self->accept_policy;
}

/**
 * gmulti_cookie_jar_set_accept_policy: (set-property accept-policy)
 * @self: a jar
 * @policy: which cookies from responses to store
 *
 * Sets which cookies from responses the jar stores from now on.
 *
 * Since: 0.1
 */
void
gmulti_cookie_jar_set_accept_policy (GMultiCookieJar         *self,
                                     GMultiCookieAcceptPolicy policy)
{
  g_return_if_fail (GMULTI_IS_COOKIE_JAR (self));
  g_return_if_fail (policy <= GMULTI_COOKIE_ACCEPT_NO_THIRD_PARTY);

  if (self->accept_policy == policy)
    return;
  self->accept_policy = policy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCEPT_POLICY]);
}

/* host (lowercase), path and whether it is https, of @uri; FALSE if it has no host. */
static gboolean
split_uri (const char *uri,
           char      **host,
           char      **path,
           gboolean   *secure)
{
  g_autoptr (GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);

  if (parsed == NULL || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    return FALSE;
  *host = g_ascii_strdown (g_uri_get_host (parsed), -1);
  *path = g_strdup (*g_uri_get_path (parsed) == '/' ? g_uri_get_path (parsed) : "/");
  *secure = g_ascii_strcasecmp (g_uri_get_scheme (parsed), "https") == 0;
  return TRUE;
}

/* Whether the policy lets @host (lowercase) set cookies for a transfer whose first
 * party is @first_party_uri. */
gboolean
gmulti_cookie_jar_accepts (GMultiCookieJar *self,
                           const char      *host,
                           const char      *first_party_uri)
{
  g_autoptr (GUri) first = NULL;
  g_autofree char *first_host = NULL, *site = NULL, *first_site = NULL;

  switch (self->accept_policy)
    {
    case GMULTI_COOKIE_ACCEPT_ALWAYS:
      return TRUE;
    case GMULTI_COOKIE_ACCEPT_NEVER:
      return FALSE;
    case GMULTI_COOKIE_ACCEPT_NO_THIRD_PARTY:
    default:
      break;
    }
  if (first_party_uri == NULL)
    return TRUE;
  first = g_uri_parse (first_party_uri, G_URI_FLAGS_ENCODED, NULL);
  if (first == NULL || g_uri_get_host (first) == NULL)
    return FALSE;
  first_host = g_ascii_strdown (g_uri_get_host (first), -1);
  site = gmulti_cookie_site_of (host);
  first_site = gmulti_cookie_site_of (first_host);
  return g_ascii_strcasecmp (site, first_site) == 0;
}

/**
 * gmulti_cookie_jar_set_cookie:
 * @self: a jar
 * @uri: the URI of the request the field answered
 * @set_cookie: the value of a `Set-Cookie` field
 * @first_party_uri: (nullable): the site the user sees, for the
 *   %GMULTI_COOKIE_ACCEPT_NO_THIRD_PARTY policy; %NULL: @uri
 *
 * Stores a cookie as if a response to @uri had carried it, for cookies that came
 * some other way.
 *
 * Returns: %TRUE if the field was stored (a cookie added, replaced or, when it has
 *   expired, deleted), %FALSE if it was ignored
 *
 * Since: 0.1
 */
gboolean
gmulti_cookie_jar_set_cookie (GMultiCookieJar *self,
                              const char      *uri,
                              const char      *set_cookie,
                              const char      *first_party_uri)
{
  g_autofree char *host = NULL, *path = NULL;
  gboolean secure;
  GMultiCookie *cookie;

  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);
  g_return_val_if_fail (set_cookie != NULL, FALSE);

  if (!split_uri (uri, &host, &path, &secure))
    return FALSE;
  if (!gmulti_cookie_jar_accepts (self, host, first_party_uri != NULL ? first_party_uri : uri))
    return FALSE;
  cookie = gmulti_cookie_parse_for (set_cookie, host, path, secure, now_seconds ());
  if (cookie == NULL)
    return FALSE;
  gmulti_cookie_jar_store (self, cookie, now_seconds ());
  return TRUE;
}

/**
 * gmulti_cookie_jar_get_cookie_header:
 * @self: a jar
 * @uri: a request URI
 *
 * Tells what a request to @uri would send.
 *
 * Returns: (transfer full) (nullable): the value of the `Cookie` field, or %NULL if
 *   no cookie goes with it
 *
 * Since: 0.1
 */
char *
gmulti_cookie_jar_get_cookie_header (GMultiCookieJar *self,
                                     const char      *uri)
{
  g_autofree char *host = NULL, *path = NULL;
  gboolean secure;

  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  if (!split_uri (uri, &host, &path, &secure))
    return NULL;
  return gmulti_cookie_jar_header_for (self, host, path, strlen (path), secure);
}

/**
 * gmulti_cookie_jar_list:
 * @self: a jar
 * @uri: (nullable): a request URI, or %NULL for every cookie
 *
 * Lists the cookies a request to @uri would send, in the order they would be sent,
 * or every cookie of the jar (by domain, then in the order they were set).
 *
 * Returns: (transfer container) (element-type GMultiCookie): the cookies
 *
 * Since: 0.1
 */
GPtrArray *
gmulti_cookie_jar_list (GMultiCookieJar *self,
                        const char      *uri)
{
  g_autofree char *host = NULL, *path = NULL;
  gboolean secure;
  GPtrArray *all;
  g_autoptr (GList) keys = NULL;

  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), NULL);

  if (uri != NULL)
    {
      if (!split_uri (uri, &host, &path, &secure))
        return g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_cookie_unref);
      return gmulti_cookie_jar_collect (self, host, path, strlen (path), secure);
    }

  all = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_cookie_unref);
  keys = g_list_sort (g_hash_table_get_keys (self->domains), (GCompareFunc) strcmp);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      GPtrArray *cookies = g_hash_table_lookup (self->domains, l->data);

      for (guint i = 0; i < cookies->len; i++)
        g_ptr_array_add (all, gmulti_cookie_ref (g_ptr_array_index (cookies, i)));
    }
  return all;
}

/**
 * gmulti_cookie_jar_add:
 * @self: a jar
 * @cookie: (transfer none): a cookie
 *
 * Stores @cookie, replacing a cookie of the same name, domain and path. An expired
 * @cookie deletes that cookie instead. The accept policy does not apply.
 *
 * Since: 0.1
 */
void
gmulti_cookie_jar_add (GMultiCookieJar *self,
                       GMultiCookie    *cookie)
{
  GMultiCookie *copy;

  g_return_if_fail (GMULTI_IS_COOKIE_JAR (self));
  g_return_if_fail (cookie != NULL);

  /* The jar's own copy: its creation time is the jar's to set. */
  copy = gmulti_cookie_new_internal (cookie->name, cookie->value, cookie->domain,
                                     cookie->path, cookie->expires, cookie->secure,
                                     cookie->http_only, cookie->same_site,
                                     cookie->host_only, g_get_real_time ());
  gmulti_cookie_jar_store (self, copy, now_seconds ());
}

/**
 * gmulti_cookie_jar_delete:
 * @self: a jar
 * @cookie: a cookie
 *
 * Deletes the cookie of the jar with the name, domain and path of @cookie.
 *
 * Returns: %TRUE if there was one
 *
 * Since: 0.1
 */
gboolean
gmulti_cookie_jar_delete (GMultiCookieJar *self,
                          GMultiCookie    *cookie)
{
  GPtrArray *cookies;

  g_return_val_if_fail (GMULTI_IS_COOKIE_JAR (self), FALSE);
  g_return_val_if_fail (cookie != NULL, FALSE);

  cookies = g_hash_table_lookup (self->domains, cookie->domain);
  for (guint i = 0; cookies != NULL && i < cookies->len; i++)
    if (gmulti_cookie_same_key (g_ptr_array_index (cookies, i), cookie))
      {
        remove_and_announce (self, cookies, i);
        return TRUE;
      }
  return FALSE;
}

/**
 * gmulti_cookie_jar_clear:
 * @self: a jar
 *
 * Deletes every cookie; [signal@CookieJar::changed] is emitted for each.
 *
 * Since: 0.1
 */
void
gmulti_cookie_jar_clear (GMultiCookieJar *self)
{
  g_autoptr (GPtrArray) all = NULL;

  g_return_if_fail (GMULTI_IS_COOKIE_JAR (self));

  all = gmulti_cookie_jar_list (self, NULL);
  for (guint i = 0; i < all->len; i++)
    gmulti_cookie_jar_delete (self, g_ptr_array_index (all, i));
}
