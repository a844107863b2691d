/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-cookie-private.h"

/* GMultiCookie, and the rules of RFC 6265 that decide what a Set-Cookie value becomes
 * (sections 5.2 and 5.3) and where a cookie goes (5.1.3, 5.1.4, 5.4). */

G_DEFINE_BOXED_TYPE (GMultiCookie, gmulti_cookie, gmulti_cookie_ref, gmulti_cookie_unref)

/* Cookies stored in one microsecond still sort in the order they came. */
static gsize next_seq;

GMultiCookie *
gmulti_cookie_new_internal (const char          *name,
                            const char          *value,
                            const char          *domain,
                            const char          *path,
                            gint64               expires,
                            gboolean             secure,
                            gboolean             http_only,
                            GMultiCookieSameSite same_site,
                            gboolean             host_only,
                            gint64               creation)
{
  GMultiCookie *self = g_new0 (GMultiCookie, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->name = g_strdup (name);
  self->value = g_strdup (value);
  self->domain = g_ascii_strdown (domain[0] == '.' ? domain + 1 : domain, -1);
  self->path = g_strdup (path);
  self->expires = MAX (expires, 0);
  self->secure = secure != FALSE;
  self->http_only = http_only != FALSE;
  self->same_site = same_site;
  self->host_only = host_only != FALSE;
  self->creation = creation;
  self->seq = (guint64) g_atomic_pointer_add (&next_seq, 1);
  return self;
}

/**
 * gmulti_cookie_new:
 * @name: the cookie's name, not empty
 * @value: its value
 * @domain: the host (@host_only) or domain it is sent to; a leading dot is dropped
 * @path: the path it is sent under, starting with `/`
 * @expires: when it expires, in seconds since 1970 (UTC), or 0 for a cookie that lasts
 *   as long as the jar
 * @secure: sent only over `https`
 * @http_only: the `HttpOnly` flag (scripts may not see it; gmulti sends it as any other)
 * @same_site: its `SameSite` attribute
 * @host_only: sent only to @domain itself, not to its subdomains
 *
 * Makes a cookie, to add to a jar with [method@CookieJar.add].
 *
 * Returns: (transfer full): the new cookie
 *
 * Since: 0.1
 */
GMultiCookie *
gmulti_cookie_new (const char          *name,
                   const char          *value,
                   const char          *domain,
                   const char          *path,
                   gint64               expires,
                   gboolean             secure,
                   gboolean             http_only,
                   GMultiCookieSameSite same_site,
                   gboolean             host_only)
{
  g_return_val_if_fail (name != NULL && *name != '\0', NULL);
  g_return_val_if_fail (value != NULL, NULL);
  /* Not empty once its leading dot is dropped. */
  g_return_val_if_fail (domain != NULL && domain[domain[0] == '.'] != '\0', NULL);
  g_return_val_if_fail (path != NULL && path[0] == '/', NULL);

  return gmulti_cookie_new_internal (name, value, domain, path, expires, secure, http_only,
                                     same_site, host_only, g_get_real_time ());
}

/**
 * gmulti_cookie_parse:
 * @set_cookie: the value of a `Set-Cookie` field
 * @uri: the URI of the request it answered
 *
 * Reads a `Set-Cookie` value as a jar would store it (RFC 6265, sections 5.2 and 5.3):
 * the domain and path it applies to, its expiry and flags. A `Max-Age` attribute wins
 * over `Expires`.
 *
 * Returns: (transfer full) (nullable): the cookie, or %NULL when a jar would ignore
 *   it: malformed, a domain @uri may not set (another site, a public suffix), a
 *   `__Secure-` or `__Host-` prefix whose rules it breaks, `Secure` set over `http`
 *
 * Since: 0.1
 */
GMultiCookie *
gmulti_cookie_parse (const char *set_cookie,
                     const char *uri)
{
  g_autoptr (GUri) parsed = NULL;
  g_autofree char *host = NULL;
  const char *scheme;

  g_return_val_if_fail (set_cookie != NULL, NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE, NULL);
  if (parsed == NULL || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    return NULL;
  scheme = g_uri_get_scheme (parsed);
  host = g_ascii_strdown (g_uri_get_host (parsed), -1);
  return gmulti_cookie_parse_for (set_cookie, host, g_uri_get_path (parsed),
                                  g_ascii_strcasecmp (scheme, "https") == 0,
                                  g_get_real_time () / G_USEC_PER_SEC);
}

/**
 * gmulti_cookie_ref:
 * @self: a cookie
 *
 * Takes a reference on a cookie.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
GMultiCookie *
gmulti_cookie_ref (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * gmulti_cookie_unref:
 * @self: (transfer full): a cookie
 *
 * Drops a reference on a cookie; the last one frees it.
 *
 * Since: 0.1
 */
void
gmulti_cookie_unref (GMultiCookie *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->name);
  g_free (self->value);
  g_free (self->domain);
  g_free (self->path);
  g_free (self);
}

/**
 * gmulti_cookie_get_name:
 * @self: a cookie
 *
 * Gets the cookie's name.
 *
 * Returns: the cookie's name
 *
 * Since: 0.1
 */
const char *
gmulti_cookie_get_name (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

/**
 * gmulti_cookie_get_value:
 * @self: a cookie
 *
 * Gets the cookie's value.
 *
 * Returns: the cookie's value
 *
 * Since: 0.1
 */
const char *
gmulti_cookie_get_value (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->value;
}

/**
 * gmulti_cookie_get_domain:
 * @self: a cookie
 *
 * Gets the host or domain the cookie is sent to.
 *
 * Returns: the host or domain the cookie is sent to, lowercase, without a leading dot
 *
 * Since: 0.1
 */
const char *
gmulti_cookie_get_domain (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->domain;
}

/**
 * gmulti_cookie_get_path:
 * @self: a cookie
 *
 * Gets the path the cookie is sent under.
 *
 * Returns: the path the cookie is sent under
 *
 * Since: 0.1
 */
const char *
gmulti_cookie_get_path (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

/**
 * gmulti_cookie_get_expires:
 * @self: a cookie
 *
 * Gets when the cookie expires.
 *
 * Returns: when the cookie expires, in seconds since 1970 (UTC), or 0 for a session
 *   cookie, which lasts as long as its jar
 *
 * Since: 0.1
 */
gint64
gmulti_cookie_get_expires (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->expires;
}

/**
 * gmulti_cookie_get_secure:
 * @self: a cookie
 *
 * Gets whether the cookie is sent only over `https`.
 *
 * Returns: whether the cookie is sent only over `https`
 *
 * Since: 0.1
 */
gboolean
gmulti_cookie_get_secure (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->secure;
}

/**
 * gmulti_cookie_get_http_only:
 * @self: a cookie
 *
 * Gets the `HttpOnly` flag of the cookie.
 *
 * Returns: whether the server set the `HttpOnly` flag
 *
 * Since: 0.1
 */
gboolean
gmulti_cookie_get_http_only (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->http_only;
}

/**
 * gmulti_cookie_get_same_site:
 * @self: a cookie
 *
 * Gets the `SameSite` attribute of the cookie.
 *
 * Returns: the cookie's `SameSite` attribute
 *
 * Since: 0.1
 */
GMultiCookieSameSite
gmulti_cookie_get_same_site (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, GMULTI_COOKIE_SAME_SITE_UNSET);
  return self->same_site;
}

/**
 * gmulti_cookie_get_host_only:
 * @self: a cookie
 *
 * Gets whether the cookie is sent to its domain only.
 *
 * Returns: whether the cookie goes only to its domain itself (it was set without a
 *   `Domain` attribute), not to subdomains
 *
 * Since: 0.1
 */
gboolean
gmulti_cookie_get_host_only (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->host_only;
}

/**
 * gmulti_cookie_to_string:
 * @self: a cookie
 *
 * Formats the cookie as it goes in a `Cookie` field.
 *
 * Returns: (transfer full): `name=value`, as the cookie is sent in a `Cookie` field
 *
 * Since: 0.1
 */
char *
gmulti_cookie_to_string (GMultiCookie *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_strconcat (self->name, "=", self->value, NULL);
}

/* ------------------------------------------------------------------ matching */

gboolean
gmulti_cookie_host_is_ip (const char *host)
{
  return g_hostname_is_ip_address (host) || strchr (host, ':') != NULL;
}

gboolean
gmulti_cookie_domain_match (const char *host,
                            const char *domain)
{
  gsize host_length = strlen (host), domain_length = strlen (domain);

  if (g_ascii_strcasecmp (host, domain) == 0)
    return TRUE;
  return host_length > domain_length &&
         host[host_length - domain_length - 1] == '.' &&
         g_ascii_strcasecmp (host + host_length - domain_length, domain) == 0 &&
         !gmulti_cookie_host_is_ip (host);
}

gboolean
gmulti_cookie_path_match (const char *path,
                          gsize       length,
                          const char *cookie_path)
{
  gsize cookie_length = strlen (cookie_path);

  if (cookie_length > length || memcmp (path, cookie_path, cookie_length) != 0)
    return FALSE;
  return cookie_length == length || cookie_path[cookie_length - 1] == '/' ||
         path[cookie_length] == '/';
}

gboolean
gmulti_cookie_is_expired (const GMultiCookie *self,
                          gint64              now)
{
  return self->expires != 0 && self->expires <= now;
}

gboolean
gmulti_cookie_matches (const GMultiCookie *self,
                       const char         *host,
                       const char         *path,
                       gsize               path_length,
                       gboolean            secure)
{
  if (self->secure && !secure)
    return FALSE;
  if (self->host_only ? g_ascii_strcasecmp (host, self->domain) != 0
                      : !gmulti_cookie_domain_match (host, self->domain))
    return FALSE;
  return gmulti_cookie_path_match (path, path_length, self->path);
}

gboolean
gmulti_cookie_same_key (const GMultiCookie *a,
                        const GMultiCookie *b)
{
  return strcmp (a->name, b->name) == 0 && strcmp (a->domain, b->domain) == 0 &&
         a->host_only == b->host_only && strcmp (a->path, b->path) == 0;
}

int
gmulti_cookie_compare_for_sending (gconstpointer a,
                                   gconstpointer b)
{
  const GMultiCookie *x = *(GMultiCookie * const *) a;
  const GMultiCookie *y = *(GMultiCookie * const *) b;
  gsize x_length = strlen (x->path), y_length = strlen (y->path);

  if (x_length != y_length)
    return x_length > y_length ? -1 : 1;
  if (x->creation != y->creation)
    return x->creation < y->creation ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ------------------------------------------------------------------- parsing */

static gboolean
is_wsp (char c)
{
  return c == ' ' || c == '\t';
}

/* [start, end) without surrounding whitespace, copied. */
static char *
trimmed (const char *start,
         const char *end)
{
  while (start < end && is_wsp (*start))
    start++;
  while (end > start && is_wsp (end[-1]))
    end--;
  return g_strndup (start, end - start);
}

/* Names and values go back out in a Cookie field: no control characters (a CR or LF
 * would end the field), and no ';' in a name. */
static gboolean
is_clean (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

/* The default-path of section 5.1.4, of the request path @path (NULL: none). */
static char *
default_path (const char *path)
{
  const char *end, *last;

  if (path == NULL || path[0] != '/')
    return g_strdup ("/");
  end = path + strcspn (path, "?#");
  last = NULL;
  for (const char *p = path; p < end; p++)
    if (*p == '/')
      last = p;
  if (last == path)
    return g_strdup ("/");
  return g_strndup (path, last - path);
}

GMultiCookie *
gmulti_cookie_parse_for (const char *set_cookie,
                         const char *host,
                         const char *path,
                         gboolean    secure,
                         gint64      now)
{
  const char *end = set_cookie + strcspn (set_cookie, ";");
  const char *equals = memchr (set_cookie, '=', end - set_cookie);
  g_autofree char *name = NULL, *value = NULL, *domain = NULL, *cookie_path = NULL;
  gboolean have_max_age = FALSE, have_expires = FALSE, is_secure = FALSE, http_only = FALSE;
  gint64 max_age_expiry = 0, expires_expiry = 0, expires = 0;
  GMultiCookieSameSite same_site = GMULTI_COOKIE_SAME_SITE_UNSET;
  gboolean host_only;

  /* A host of dots only names no site: there is nothing to keep a cookie for. */
  if (host == NULL || host[strspn (host, ".")] == '\0')
    return NULL;
  /* The name-value pair: no '=' or an empty name, and the whole field is ignored. */
  if (equals == NULL)
    return NULL;
  name = trimmed (set_cookie, equals);
  value = trimmed (equals + 1, end);
  if (*name == '\0' || !is_clean (name) || !is_clean (value))
    return NULL;

  /* The attributes, each one up to the next ';'; a later one of a name wins. */
  while (*end == ';')
    {
      const char *start = end + 1;
      const char *attr_equals;
      g_autofree char *attr = NULL, *attr_value = NULL;

      end = start + strcspn (start, ";");
      attr_equals = memchr (start, '=', end - start);
      attr = trimmed (start, attr_equals != NULL ? attr_equals : end);
      attr_value = attr_equals != NULL ? trimmed (attr_equals + 1, end) : g_strdup ("");

      if (g_ascii_strcasecmp (attr, "Expires") == 0)
        {
          gint64 when;

          if (gmulti_cookie_parse_date (attr_value, strlen (attr_value), &when))
            {
              have_expires = TRUE;
              expires_expiry = when;
            }
        }
      else if (g_ascii_strcasecmp (attr, "Max-Age") == 0)
        {
          const char *digits = attr_value[0] == '-' ? attr_value + 1 : attr_value;
          gboolean valid = *digits != '\0';
          gint64 delta = 0;

          for (const char *p = digits; valid && *p != '\0'; p++)
            {
              if (!g_ascii_isdigit (*p))
                valid = FALSE;
              else if (delta < G_MAXINT64 / 20)
                delta = delta * 10 + (*p - '0');
            }
          if (valid)
            {
              have_max_age = TRUE;
              /* Zero or less: the earliest time there is, so it deletes. */
              if (attr_value[0] == '-' || delta == 0)
                max_age_expiry = 1;
              else
                max_age_expiry = now + MIN (delta, G_MAXINT64 / 4 - now);
            }
        }
      else if (g_ascii_strcasecmp (attr, "Domain") == 0)
        {
          if (*attr_value != '\0')
            {
              g_free (domain);
              domain = g_ascii_strdown (attr_value[0] == '.' ? attr_value + 1 : attr_value,
                                        -1);
            }
        }
      else if (g_ascii_strcasecmp (attr, "Path") == 0)
        {
          g_clear_pointer (&cookie_path, g_free);
          if (attr_value[0] == '/')
            cookie_path = g_steal_pointer (&attr_value);
        }
      else if (g_ascii_strcasecmp (attr, "Secure") == 0)
        is_secure = TRUE;
      else if (g_ascii_strcasecmp (attr, "HttpOnly") == 0)
        http_only = TRUE;
      else if (g_ascii_strcasecmp (attr, "SameSite") == 0)
        {
          if (g_ascii_strcasecmp (attr_value, "None") == 0)
            same_site = GMULTI_COOKIE_SAME_SITE_NONE;
          else if (g_ascii_strcasecmp (attr_value, "Lax") == 0)
            same_site = GMULTI_COOKIE_SAME_SITE_LAX;
          else if (g_ascii_strcasecmp (attr_value, "Strict") == 0)
            same_site = GMULTI_COOKIE_SAME_SITE_STRICT;
          else
            same_site = GMULTI_COOKIE_SAME_SITE_UNSET;
        }
    }

  /* Max-Age wins over Expires, wherever each stands. */
  if (have_max_age)
    expires = max_age_expiry;
  else if (have_expires)
    expires = MAX (expires_expiry, 1);

  /* "Domain=." is empty without its dot: ignored, as an empty value is (RFC 6265
   * section 5.2.3). */
  if (domain != NULL && *domain == '\0')
    g_clear_pointer (&domain, g_free);
  /* A domain that is a public suffix may be the host itself, set host-only; any
   * other host is refused it (a cookie for all of co.uk). */
  if (domain != NULL && !is_clean (domain))
    return NULL;
  if (domain != NULL && gmulti_cookie_is_public_suffix (domain))
    {
      if (g_ascii_strcasecmp (domain, host) != 0)
        return NULL;
      g_clear_pointer (&domain, g_free);
    }
  if (domain != NULL)
    {
      if (!gmulti_cookie_domain_match (host, domain))
        return NULL;
      host_only = FALSE;
    }
  else
    {
      domain = g_ascii_strdown (host, -1);
      host_only = TRUE;
    }
  if (cookie_path == NULL)
    cookie_path = default_path (path);
  /* A line break in a path would start a line of its own in a cookie file. */
  if (!is_clean (cookie_path))
    return NULL;

  /* Only a secure origin may set a Secure cookie (draft-ietf-httpbis-rfc6265bis). */
  if (is_secure && !secure)
    return NULL;
  /* Prefixes, case-sensitive as browsers match them. */
  if (g_str_has_prefix (name, "__Secure-") && !is_secure)
    return NULL;
  if (g_str_has_prefix (name, "__Host-") &&
      (!is_secure || !host_only || strcmp (cookie_path, "/") != 0))
    return NULL;

  return gmulti_cookie_new_internal (name, value, domain, cookie_path, expires, is_secure,
                                     http_only, same_site, host_only, g_get_real_time ());
}
