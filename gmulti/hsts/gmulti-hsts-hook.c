/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-hsts-private.h"
#include "engine/gmulti-transfer-run.h"
#include "tls/gmulti-tls-config.h"

/* The enforcer as the engine's hop hook (engine/gmulti-hop-hook.h): rewrite_uri turns
 * a known host's http:// URI into https:// before the hop's URI is parsed (so the
 * pool key, TLS and Host are the upgraded ones and nothing goes out in clear), and
 * response_head learns Strict-Transport-Security from secure responses. It adds no
 * request field. */

static GMultiHstsEnforcer *
enforcer_of (GMultiHopHook *hook)
{
  return hook->data;
}

char *
gmulti_hsts_enforcer_rewrite (GMultiHstsEnforcer *self,
                              const char         *uri)
{
  g_autoptr(GUri) parsed = NULL;
  g_autoptr(GUri) upgraded = NULL;
  g_autofree char *host = NULL;
  gint port;

  if (g_hash_table_size (self->hosts) == 0 || g_ascii_strncasecmp (uri, "http:", 5) != 0)
    return NULL;
  /* Only the scheme and a port 80 change: the rest stays as the application or the
   * server wrote it (the hop parses it as usual afterwards). */
  parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);
  if (parsed == NULL)
    return NULL;
  host = gmulti_hsts_normalize_host (g_uri_get_host (parsed));
  if (host == NULL || !gmulti_hsts_enforcer_match (self, host))
    return NULL;

  /* RFC 6797 8.3: port 80, said or not, becomes https's own; any other stays. */
  port = g_uri_get_port (parsed);
  if (port == 80)
    port = -1;
  upgraded = g_uri_build (G_URI_FLAGS_ENCODED, "https", g_uri_get_userinfo (parsed),
                          g_uri_get_host (parsed), port, g_uri_get_path (parsed),
                          g_uri_get_query (parsed), g_uri_get_fragment (parsed));
  return g_uri_to_string (upgraded);
}

static char *
hook_rewrite_uri (GMultiHopHook *hook,
                  GMultiRun     *run,
                  const char    *uri)
{
  return gmulti_hsts_enforcer_rewrite (enforcer_of (hook), uri);
}

/* Only the first Strict-Transport-Security field counts (RFC 6797 8.1). */
static const char *
first_sts_field (GMultiHeaders *headers)
{
  guint n = gmulti_headers_get_length (headers);

  for (guint i = 0; i < n; i++)
    if (g_ascii_strcasecmp (gmulti_headers_get_name (headers, i),
                            "Strict-Transport-Security") == 0)
      return gmulti_headers_get_value (headers, i);
  return NULL;
}

static void
hook_response_head (GMultiHopHook *hook,
                    GMultiRun     *run)
{
  GMultiHstsEnforcer *self = enforcer_of (hook);
  g_autofree char *host = NULL;
  const char *value;
  gint64 max_age;
  gboolean include_subdomains;

  /* Only from a secure transport: https, with a certificate that was verified
   * (RFC 6797 8.1; an application that turned verification off learns nothing). */
  if (!run->tls || run->tls_config == NULL || !run->tls_config->verify ||
      run->response_headers == NULL)
    return;
  value = first_sts_field (run->response_headers);
  if (value == NULL || !gmulti_hsts_parse_header (value, &max_age, &include_subdomains))
    return;
  host = gmulti_hsts_normalize_host (run->host);
  if (host == NULL)
    return;
  gmulti_hsts_enforcer_store (self, host,
                              max_age == 0 ? 0 : gmulti_hsts_enforcer_now (self) + max_age,
                              include_subdomains);
}

static void
hook_ref (GMultiHopHook *hook)
{
  g_object_ref (enforcer_of (hook));
}

static void
hook_unref (GMultiHopHook *hook)
{
  g_object_unref (enforcer_of (hook));
}

static const GMultiHopHookOps hsts_hook_ops = {
  .request_headers = NULL,
  .response_head = hook_response_head,
  .ref = hook_ref,
  .unref = hook_unref,
  .rewrite_uri = hook_rewrite_uri,
};

void
gmulti_hsts_enforcer_init_hook (GMultiHstsEnforcer *self)
{
  self->hook.ops = &hsts_hook_ops;
  self->hook.data = self;
}

GMultiHopHook *
gmulti_hsts_enforcer_get_hook (GMultiHstsEnforcer *self)
{
  return self != NULL ? &self->hook : NULL;
}

GMultiHstsEnforcer *
gmulti_hsts_enforcer_from_hook (GMultiHopHook *hook)
{
  return hook != NULL ? enforcer_of (hook) : NULL;
}
