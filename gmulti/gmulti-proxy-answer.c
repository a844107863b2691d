/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-proxy-answer-private.h"
#include "gmulti-transfer-private.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* What a GProxyResolver's answer means to gmulti (docs/proxies.md), and the blocking
 * lookup of gmulti_transfer_perform(), which has no main context to wait on. */

char *
gmulti_proxy_answer_origin_uri (gboolean    tls,
                                const char *host,
                                guint16     port)
{
  gboolean ipv6 = strchr (host, ':') != NULL;

  return g_strdup_printf ("%s://%s%s%s:%u/", tls ? "https" : "http",
                          ipv6 ? "[" : "", host, ipv6 ? "]" : "", port);
}

GMultiProxy *
gmulti_proxy_answer_pick (const char  *host,
                          char       **uris,
                          GError     **error)
{
  g_autoptr(GError) first_error = NULL;

  for (gsize i = 0; uris[i] != NULL; i++)
    {
      g_autofree char *respelled = NULL;
      const char *uri = uris[i];
      GError *local = NULL;
      GMultiProxy *proxy;

      /* GLib's own SOCKS5 client sends the proxy the name, so a resolver's socks5://
       * means what gmulti calls socks5h://. */
      if (g_ascii_strncasecmp (uri, "socks5://", strlen ("socks5://")) == 0)
        uri = respelled = g_strconcat ("socks5h://", uri + strlen ("socks5://"), NULL);
      proxy = gmulti_proxy_new_from_uri (uri, &local);
      if (local == NULL)
        return proxy;
      if (first_error == NULL)
        first_error = local;
      else
        g_error_free (local);
    }
  if (first_error != NULL)
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID,
                 _("No proxy the proxy resolver named for %s can be used: %s"), host,
                 first_error->message);
  return NULL;
}

GError *
gmulti_proxy_answer_failed (const char   *host,
                            const GError *error)
{
  return g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROXY_LOOKUP_FAILED,
                      _("Could not find out which proxy to use for %s: %s"), host,
                      error->message);
}

/* ------------------------------------------------ the blocking lookup */

typedef struct {
  GMultiProxyLookup hook;
  gatomicrefcount ref_count;
  GMultiProxy *answer;      /* the last one, alive until the run took its reference */
} BlockingHook;

static GMultiProxyLookupAnswer
blocking_lookup (GMultiProxyLookup  *hook,
                 GMultiRun          *run,
                 GMultiProxy       **proxy,
                 GError            **error)
{
  BlockingHook *self = hook->data;
  GProxyResolver *resolver = run->owner->run_proxy_resolver;
  g_autofree char *uri = NULL;
  g_autoptr(GError) lookup_error = NULL;
  g_auto(GStrv) uris = NULL;
  GError *pick_error = NULL;

  if (!run->request.own_proxy_resolver || resolver == NULL)
    return GMULTI_PROXY_LOOKUP_ENVIRONMENT;
  uri = gmulti_proxy_answer_origin_uri (run->tls, run->host, run->port);
  uris = g_proxy_resolver_lookup (resolver, uri, NULL, &lookup_error);
  if (uris == NULL)
    {
      g_propagate_error (error, gmulti_proxy_answer_failed (run->host, lookup_error));
      return GMULTI_PROXY_LOOKUP_FAILED;
    }
  g_clear_pointer (&self->answer, gmulti_proxy_unref);
  self->answer = gmulti_proxy_answer_pick (run->host, uris, &pick_error);
  if (pick_error != NULL)
    {
      g_propagate_error (error, pick_error);
      return GMULTI_PROXY_LOOKUP_FAILED;
    }
  *proxy = self->answer;
  return GMULTI_PROXY_LOOKUP_FOUND;
}

static void
blocking_cancel (GMultiProxyLookup *hook,
                 GMultiRun         *run)
{
  /* Never PENDING: nothing to cancel. */
}

static void
blocking_ref (GMultiProxyLookup *hook)
{
  BlockingHook *self = hook->data;

  g_atomic_ref_count_inc (&self->ref_count);
}

static void
blocking_unref (GMultiProxyLookup *hook)
{
  BlockingHook *self = hook->data;

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_pointer (&self->answer, gmulti_proxy_unref);
  g_free (self);
}

static const GMultiProxyLookupOps blocking_ops = {
  .lookup = blocking_lookup,
  .cancel = blocking_cancel,
  .ref = blocking_ref,
  .unref = blocking_unref,
};

GMultiProxyLookup *
gmulti_proxy_answer_blocking_hook_new (void)
{
  BlockingHook *self = g_new0 (BlockingHook, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->hook.ops = &blocking_ops;
  self->hook.data = self;
  return &self->hook;
}
