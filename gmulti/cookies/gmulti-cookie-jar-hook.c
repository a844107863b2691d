/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-cookie-jar-private.h"
#include "engine/gmulti-transfer-run.h"

/* The jar as the engine's hop hook (engine/gmulti-hop-hook.h): a Cookie field for each
 * hop's request, the Set-Cookie fields of each response head. The engine calls only
 * these; the run's own target (host, path, scheme of the hop) says where a hop goes. */

static GMultiCookieJar *
jar_of (GMultiHopHook *hook)
{
  return hook->data;
}

/* The hop's host, lowercase (a new string), and its path without the query. */
static char *
hop_host (GMultiRun *run)
{
  return g_ascii_strdown (run->host, -1);
}

static const char *
hop_path (GMultiRun *run,
          gsize     *length)
{
  const char *target = run->target;

  if (target == NULL || target[0] != '/')
    {
      *length = 1;
      return "/";
    }
  *length = strcspn (target, "?#");
  return target;
}

static void
hook_request_headers (GMultiHopHook *hook,
                      GMultiRun     *run,
                      GMultiHeaders *out)
{
  GMultiCookieJar *self = jar_of (hook);
  g_autofree char *host = NULL, *cookies = NULL;
  const char *path, *existing;
  gsize path_length;

  if (self->n_cookies == 0 || run->host == NULL)
    return;
  host = hop_host (run);
  path = hop_path (run, &path_length);
  cookies = gmulti_cookie_jar_header_for (self, host, path, path_length, run->tls);
  if (cookies == NULL)
    return;

  /* The application's own Cookie field goes first, in the same field. */
  existing = gmulti_headers_get_one (out, "Cookie");
  if (existing != NULL)
    {
      g_autofree char *joined = g_strconcat (existing, "; ", cookies, NULL);

      gmulti_headers_replace (out, "Cookie", joined, NULL);
    }
  else
    gmulti_headers_append (out, "Cookie", cookies, NULL);
}

static void
hook_response_head (GMultiHopHook *hook,
                    GMultiRun     *run)
{
  GMultiCookieJar *self = jar_of (hook);
  GMultiHeaders *headers = run->response_headers;
  g_autofree char *host = NULL;
  const char *path;
  gsize path_length;
  gint64 now;
  guint n;

  if (headers == NULL || run->host == NULL ||
      self->accept_policy == GMULTI_COOKIE_ACCEPT_NEVER)
    return;
  n = gmulti_headers_get_length (headers);
  for (guint i = 0; i < n; i++)
    {
      GMultiCookie *cookie;
      g_autofree char *request_path = NULL;

      if (g_ascii_strcasecmp (gmulti_headers_get_name (headers, i), "Set-Cookie") != 0)
        continue;
      if (host == NULL)
        {
          host = hop_host (run);
          if (!gmulti_cookie_jar_accepts (self, host,
                                          run->request.first_party_uri != NULL
                                          ? run->request.first_party_uri
                                          : run->request.uri))
            return;
        }
      path = hop_path (run, &path_length);
      request_path = g_strndup (path, path_length);
      now = g_get_real_time () / G_USEC_PER_SEC;
      cookie = gmulti_cookie_parse_for (gmulti_headers_get_value (headers, i), host,
                                        request_path, run->tls, now);
      if (cookie != NULL)
        gmulti_cookie_jar_store (self, cookie, now);
    }
}

static void
hook_ref (GMultiHopHook *hook)
{
  g_object_ref (jar_of (hook));
}

static void
hook_unref (GMultiHopHook *hook)
{
  g_object_unref (jar_of (hook));
}

static const GMultiHopHookOps cookie_hook_ops = {
  .request_headers = hook_request_headers,
  .response_head = hook_response_head,
  .ref = hook_ref,
  .unref = hook_unref,
};

void
gmulti_cookie_jar_init_hook (GMultiCookieJar *self)
{
  self->hook.ops = &cookie_hook_ops;
  self->hook.data = self;
}

GMultiHopHook *
gmulti_cookie_jar_get_hook (GMultiCookieJar *self)
{
  return self != NULL ? &self->hook : NULL;
}

GMultiCookieJar *
gmulti_cookie_jar_from_hook (GMultiHopHook *hook)
{
  return hook != NULL ? jar_of (hook) : NULL;
}
