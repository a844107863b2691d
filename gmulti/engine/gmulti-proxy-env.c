/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-proxy-env.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Lower case first; @upper NULL: the upper-case name is not honoured. */
static const char *
env_get (const char *const *envp,
         const char        *lower,
         const char        *upper)
{
  const char *value;

  if (envp != NULL)
    value = g_environ_getenv ((char **) envp, lower);
  else
    value = g_getenv (lower);
  if (value == NULL && upper != NULL)
    value = envp != NULL ? g_environ_getenv ((char **) envp, upper) : g_getenv (upper);
  return value != NULL && *value != '\0' ? value : NULL;
}

/* A URI without a scheme (`host:3128`, as curl accepts) is an HTTP proxy. */
static GMultiProxy *
parse_proxy (const char  *value,
             GError     **error)
{
  g_autofree char *with_scheme = NULL;

  if (value == NULL)
    return NULL;
  if (strstr (value, "://") == NULL)
    value = with_scheme = g_strconcat ("http://", value, NULL);
  return gmulti_proxy_new_from_uri (value, error);
}

GMultiProxyEnv *
gmulti_proxy_env_new (const char *const *envp)
{
  GMultiProxyEnv *self = g_new0 (GMultiProxyEnv, 1);
  const char *all = env_get (envp, "all_proxy", "ALL_PROXY");
  const char *http = env_get (envp, "http_proxy", NULL);
  const char *https = env_get (envp, "https_proxy", "HTTPS_PROXY");

  self->http = parse_proxy (http != NULL ? http : all, &self->http_error);
  self->https = parse_proxy (https != NULL ? https : all, &self->https_error);
  self->no_proxy = g_strdup (env_get (envp, "no_proxy", "NO_PROXY"));
  return self;
}

void
gmulti_proxy_env_free (GMultiProxyEnv *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->http, gmulti_proxy_unref);
  g_clear_pointer (&self->https, gmulti_proxy_unref);
  g_clear_error (&self->http_error);
  g_clear_error (&self->https_error);
  g_free (self->no_proxy);
  g_free (self);
}

gboolean
gmulti_proxy_env_select (const GMultiProxyEnv *self,
                         gboolean              tls,
                         const char           *host,
                         GMultiProxy         **proxy,
                         GError              **error)
{
  const GError *var_error = tls ? self->https_error : self->http_error;

  *proxy = NULL;
  if (var_error == NULL && (tls ? self->https : self->http) == NULL)
    return TRUE;
  if (self->no_proxy != NULL && gmulti_no_proxy_match (self->no_proxy, host))
    return TRUE;
  if (var_error != NULL)
    {
      g_propagate_error (error, g_error_copy (var_error));
      return FALSE;
    }
  *proxy = tls ? self->https : self->http;
  return TRUE;
}

/* Parses an address literal of @len bytes at @text into @out (16 bytes); returns its
 * family, or 0 when it is none. */
static int
parse_address (const char *text,
               gsize       len,
               guint8     *out)
{
  char buf[INET6_ADDRSTRLEN + 1];

  if (len == 0 || len >= sizeof buf)
    return 0;
  memcpy (buf, text, len);
  buf[len] = '\0';
  if (inet_pton (AF_INET, buf, out) == 1)
    return AF_INET;
  if (inet_pton (AF_INET6, buf, out) == 1)
    return AF_INET6;
  return 0;
}

/* Whether the first @bits bits of @a and @b agree. */
static gboolean
prefix_equal (const guint8 *a,
              const guint8 *b,
              guint         bits)
{
  guint whole = bits / 8, rest = bits % 8;

  if (memcmp (a, b, whole) != 0)
    return FALSE;
  if (rest == 0)
    return TRUE;
  return ((a[whole] ^ b[whole]) & (0xff << (8 - rest))) == 0;
}

/* One address entry (brackets and port already stripped), to the host's address. */
static gboolean
address_entry_matches (const char   *entry,
                       gsize         len,
                       int           host_family,
                       const guint8 *host_addr)
{
  const char *slash = memchr (entry, '/', len);
  guint8 addr[16];
  guint max = host_family == AF_INET ? 32 : 128;
  guint bits = max;

  if (slash != NULL)
    {
      const char *digits = slash + 1;
      gsize n = len - (digits - entry);
      guint value = 0;

      if (n == 0 || n > 3)
        return FALSE;
      for (gsize i = 0; i < n; i++)
        {
          if (!g_ascii_isdigit (digits[i]))
            return FALSE;
          value = value * 10 + (digits[i] - '0');
        }
      if (value > max)
        return FALSE;
      /* "/0" means the whole address, as curl takes it. */
      if (value > 0)
        bits = value;
      len = slash - entry;
    }
  if (parse_address (entry, len, addr) != host_family)
    return FALSE;
  return prefix_equal (addr, host_addr, bits);
}

gboolean
gmulti_no_proxy_match (const char *no_proxy,
                       const char *host)
{
  guint8 host_addr[16];
  int host_family;
  gsize host_len;
  const char *p;

  while (*no_proxy == ' ' || *no_proxy == '\t')
    no_proxy++;
  if (no_proxy[0] == '*' && (no_proxy[1] == '\0' || g_ascii_isspace (no_proxy[1])))
    {
      for (p = no_proxy + 1; g_ascii_isspace (*p); p++)
        ;
      if (*p == '\0')
        return TRUE;
    }

  host_len = strlen (host);
  if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']')
    {
      host++;
      host_len -= 2;
    }
  host_family = parse_address (host, host_len, host_addr);
  /* "example.com." is the name "example.com". */
  if (host_family == 0 && host_len > 0 && host[host_len - 1] == '.')
    host_len--;
  if (host_len == 0)
    return FALSE;

  p = no_proxy;
  while (*p != '\0')
    {
      const char *entry;
      gsize len;

      while (*p == ',' || g_ascii_isspace (*p))
        p++;
      entry = p;
      while (*p != '\0' && *p != ',' && !g_ascii_isspace (*p))
        p++;
      len = p - entry;
      if (len == 0)
        continue;

      /* The port is ignored: "[::1]:8080", "host:8080". */
      if (entry[0] == '[')
        {
          const char *close = memchr (entry, ']', len);

          if (close == NULL)
            continue;
          entry++;
          len = close - entry;
        }
      else
        {
          const char *colon = memchr (entry, ':', len);

          if (colon != NULL && memchr (colon + 1, ':', len - (colon + 1 - entry)) == NULL)
            len = colon - entry;
        }

      if (host_family != 0)
        {
          if (address_entry_matches (entry, len, host_family, host_addr))
            return TRUE;
          continue;
        }

      if (len > 0 && entry[len - 1] == '.')
        len--;
      if (len > 0 && entry[0] == '.')
        {
          entry++;
          len--;
        }
      if (len == 0 || len > host_len)
        continue;
      if (g_ascii_strncasecmp (host + host_len - len, entry, len) == 0 &&
          (len == host_len || host[host_len - len - 1] == '.'))
        return TRUE;
    }
  return FALSE;
}
