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

static void
entry_free (gpointer entry)
{
  if (entry != NULL)
    gmulti_proxy_unref (entry);
}

GPtrArray *
gmulti_proxy_answer_read (const char  *host,
                          char       **uris,
                          GError     **error)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (entry_free);
  g_autoptr(GError) first_error = NULL;
  gboolean unusable = FALSE;
  gboolean direct = FALSE;

  for (gsize i = 0; uris[i] != NULL && entries->len < GMULTI_PROXY_MAX_TRIES; i++)
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
      if (local != NULL)
        {
          unusable = TRUE;
          if (first_error == NULL)
            first_error = local;
          else
            g_error_free (local);
          continue;
        }
      /* Going direct twice would only fail twice. */
      if (proxy == NULL && direct)
        continue;
      direct = direct || proxy == NULL;
      g_ptr_array_add (entries, proxy);
    }
  if (entries->len > 0 || !unusable)
    {
      /* An empty list means direct. */
      if (entries->len == 0)
        g_ptr_array_add (entries, NULL);
      return g_steal_pointer (&entries);
    }
  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_INVALID,
               _("No proxy the proxy resolver named for %s can be used: %s"), host,
               first_error->message);
  return NULL;
}

gboolean
gmulti_proxy_answer_next (GPtrArray    *entries,
                          guint        *start,
                          GMultiProxy  *failed,
                          guint         tries,
                          GMultiProxy **next)
{
  guint i;

  if (entries == NULL)
    return FALSE;
  for (i = 0; i < entries->len && entries->pdata[i] != failed; i++)
    ;
  /* Not an entry of this answer: it was forgotten meanwhile. */
  if (i == entries->len)
    return FALSE;
  i = (i + 1) % entries->len;
  /* Later runs start past an entry known to fail, not behind it; when all failed,
   * from the first again. */
  if (start != NULL && entries->pdata[*start] == failed)
    *start = i;
  if (tries >= entries->len)
    return FALSE;
  *next = entries->pdata[i];
  return TRUE;
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
  GPtrArray *entries;       /* the last answer, for its hop's failover */
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
  GError *read_error = NULL;

  if (!run->request.own_proxy_resolver || resolver == NULL)
    return GMULTI_PROXY_LOOKUP_ENVIRONMENT;
  uri = gmulti_proxy_answer_origin_uri (run->tls, run->host, run->port);
  uris = g_proxy_resolver_lookup (resolver, uri, NULL, &lookup_error);
  if (uris == NULL)
    {
      g_propagate_error (error, gmulti_proxy_answer_failed (run->host, lookup_error));
      return GMULTI_PROXY_LOOKUP_FAILED;
    }
  /* One hop at a time: the previous hop is done with its answer. */
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  self->entries = gmulti_proxy_answer_read (run->host, uris, &read_error);
  if (read_error != NULL)
    {
      g_propagate_error (error, read_error);
      return GMULTI_PROXY_LOOKUP_FAILED;
    }
  *proxy = self->entries->pdata[0];
  return GMULTI_PROXY_LOOKUP_FOUND;
}

/* Each call asks afresh: nothing is remembered across calls. */
static gboolean
blocking_next (GMultiProxyLookup  *hook,
               GMultiRun          *run,
               GMultiProxy        *failed,
               guint               tries,
               GMultiProxy       **proxy)
{
  BlockingHook *self = hook->data;

  return gmulti_proxy_answer_next (self->entries, NULL, failed, tries, proxy);
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
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_free (self);
}

static const GMultiProxyLookupOps blocking_ops = {
  .lookup = blocking_lookup,
  .cancel = blocking_cancel,
  .next = blocking_next,
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
