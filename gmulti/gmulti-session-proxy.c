/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-session.h"
#include "gmulti-session-object-private.h"
#include "gmulti-session-proxy-private.h"
#include "gmulti-proxy-answer-private.h"
#include "gmulti-transfer-private.h"

/* Which proxy a session's hop takes when no proxy URI decides: asked of a
 * GProxyResolver (the transfer's, the session's, else GLib's default) with
 * g_proxy_resolver_lookup_async() on the session's main context, once per resolver and
 * origin (scheme, host, port); the answer is kept for the session's life, so a known
 * origin costs a hash lookup and no allocation. Runs that ask for an origin whose
 * lookup is under way wait for the same answer. GLib's direct-only fallback
 * (GDummyProxyResolver, when no GIO module offers a resolver) is never asked: the
 * engine's *_proxy rule decides instead, as it does for a bare engine. */

struct _GMultiSessionProxy {
  GMultiProxyLookup hook;     /* the engine's view */
  gatomicrefcount ref_count;
  GMainContext *context;
  GProxyResolver *resolver;   /* the session's; NULL: GLib's default */
  GProxyResolver *fallback;   /* GLib's default, unless it is the dummy; once known */
  gboolean fallback_known;
  GHashTable *origins;        /* &Origin.key -> Origin: answers and lookups under way */
  GHashTable *waiting;        /* GMultiRun -> the Origin it waits for */
  gboolean shut_down;
};

typedef struct {
  GProxyResolver *resolver;   /* a reference, in an Origin */
  const char *host;           /* owned by an Origin */
  guint16 port;
  gboolean tls;
  guint hash;
} OriginKey;

typedef struct {
  OriginKey key;              /* first: what the table hashes */
  gint ref_count;             /* the table's, and the lookup's while in flight */
  GMultiSessionProxy *owner;  /* NULL once out of the table: its answer goes nowhere */
  gboolean answered;
  GPtrArray *entries;         /* the answer's usable entries (GMultiProxy; NULL: direct) */
  guint start;                /* the entry a run takes: past those that failed last */
  GQueue waiters;             /* GMultiRun, until answered */
  GCancellable *cancellable;  /* of the lookup in flight */
} Origin;

static guint
origin_key_hash (const OriginKey *key)
{
  return (g_str_hash (key->host) * 31 + key->port) * 2 + key->tls +
         g_direct_hash (key->resolver);
}

static guint
origin_key_hash_cb (gconstpointer key)
{
  return ((const OriginKey *) key)->hash;
}

static gboolean
origin_key_equal_cb (gconstpointer a,
                     gconstpointer b)
{
  const OriginKey *x = a;
  const OriginKey *y = b;

  return x->resolver == y->resolver && x->port == y->port && x->tls == y->tls &&
         strcmp (x->host, y->host) == 0;
}

static void
origin_unref (Origin *origin)
{
  if (--origin->ref_count > 0)
    return;
  g_assert (origin->waiters.length == 0);
  g_clear_object (&origin->key.resolver);
  g_free ((char *) origin->key.host);
  g_clear_pointer (&origin->entries, g_ptr_array_unref);
  g_clear_object (&origin->cancellable);
  g_free (origin);
}

/* Takes @origin out of the table: the next run for it asks again. */
static void
origin_drop (GMultiSessionProxy *self,
             Origin             *origin)
{
  origin->owner = NULL;
  g_hash_table_remove (self->origins, &origin->key);
}

static void
lookup_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Origin *origin = user_data;
  GMultiSessionProxy *self = origin->owner;
  g_autoptr(GError) lookup_error = NULL;
  g_auto(GStrv) uris = NULL;
  GError *error = NULL;
  GMultiProxy *proxy = NULL;
  GQueue waiters;
  GMultiRun *run;

  uris = g_proxy_resolver_lookup_finish (G_PROXY_RESOLVER (source), result, &lookup_error);
  g_clear_object (&origin->cancellable);
  /* Nobody waits for it any more (removed, or the session went away). */
  if (self == NULL)
    {
      origin_unref (origin);
      return;
    }

  if (uris == NULL)
    error = gmulti_proxy_answer_failed (origin->key.host, lookup_error);
  else
    origin->entries = gmulti_proxy_answer_read (origin->key.host, uris, &error);
  if (error == NULL)
    {
      origin->answered = TRUE;
      proxy = origin->entries->pdata[0];
    }
  else
    /* Not kept: the next run asks again. */
    origin_drop (self, origin);

  /* Answering only schedules each run in its engine; still, a run cancelled meanwhile
   * must not be answered, and is no longer in the waiting table then. */
  waiters = origin->waiters;
  g_queue_init (&origin->waiters);
  while ((run = g_queue_pop_head (&waiters)) != NULL)
    if (g_hash_table_remove (self->waiting, run))
      gmulti_engine_proxy_lookup_done (run, proxy, error != NULL ? g_error_copy (error) : NULL);
  g_clear_error (&error);
  origin_unref (origin);
}

static void
origin_ask (GMultiSessionProxy *self,
            Origin             *origin)
{
  g_autofree char *uri = gmulti_proxy_answer_origin_uri (origin->key.tls, origin->key.host,
                                                        origin->key.port);

  origin->cancellable = g_cancellable_new ();
  origin->ref_count++;
  /* The answer comes on the session's context, whichever context is the thread's
   * default. */
  g_main_context_push_thread_default (self->context);
  g_proxy_resolver_lookup_async (origin->key.resolver, uri, origin->cancellable,
                                 lookup_done_cb, origin);
  g_main_context_pop_thread_default (self->context);
}

/* The resolver for @run's hop: the transfer's own, the session's, or GLib's default;
 * NULL when that is the dummy. */
static GProxyResolver *
resolver_for (GMultiSessionProxy *self,
              GMultiRun          *run)
{
  GMultiTransfer *transfer = run->owner;

  if (run->request.own_proxy_resolver && transfer->run_proxy_resolver != NULL)
    return transfer->run_proxy_resolver;
  if (self->resolver != NULL)
    return self->resolver;
  if (!self->fallback_known)
    {
      GProxyResolver *resolver = g_proxy_resolver_get_default ();

      self->fallback_known = TRUE;
      if (resolver != NULL && g_proxy_resolver_is_supported (resolver) &&
          strcmp (G_OBJECT_TYPE_NAME (resolver), "GDummyProxyResolver") != 0)
        self->fallback = g_object_ref (resolver);
    }
  return self->fallback;
}

/* The key of @run's hop; FALSE when no resolver is asked for it. */
static gboolean
key_for (GMultiSessionProxy *self,
         GMultiRun          *run,
         OriginKey          *key)
{
  key->resolver = resolver_for (self, run);
  if (key->resolver == NULL)
    return FALSE;
  key->host = run->host;
  key->port = run->port;
  key->tls = run->tls;
  key->hash = origin_key_hash (key);
  return TRUE;
}

static GMultiProxyLookupAnswer
hook_lookup (GMultiProxyLookup  *hook,
             GMultiRun          *run,
             GMultiProxy       **proxy,
             GError            **error)
{
  GMultiSessionProxy *self = hook->data;
  OriginKey key;
  Origin *origin;

  if (G_UNLIKELY (self->shut_down) || !key_for (self, run, &key))
    return GMULTI_PROXY_LOOKUP_ENVIRONMENT;
  origin = g_hash_table_lookup (self->origins, &key);
  if (origin != NULL && origin->answered)
    {
      *proxy = origin->entries->pdata[origin->start];
      return GMULTI_PROXY_LOOKUP_FOUND;
    }

  if (origin == NULL)
    {
      origin = g_new0 (Origin, 1);
      origin->key = key;
      origin->key.resolver = g_object_ref (key.resolver);
      origin->key.host = g_strdup (key.host);
      origin->ref_count = 1;
      origin->owner = self;
      g_queue_init (&origin->waiters);
      g_hash_table_insert (self->origins, &origin->key, origin);
    }
  /* Waiting before asking: a resolver may answer before lookup_async() returns. */
  g_queue_push_tail (&origin->waiters, run);
  g_hash_table_insert (self->waiting, run, origin);
  if (origin->cancellable == NULL)
    origin_ask (self, origin);
  return GMULTI_PROXY_LOOKUP_PENDING;
}

static void
hook_cancel (GMultiProxyLookup *hook,
             GMultiRun         *run)
{
  GMultiSessionProxy *self = hook->data;
  Origin *origin = g_hash_table_lookup (self->waiting, run);
  g_autoptr(GCancellable) cancellable = NULL;

  if (origin == NULL)
    return;
  g_hash_table_remove (self->waiting, run);
  g_queue_remove (&origin->waiters, run);
  if (origin->waiters.length > 0 || origin->answered || origin->owner == NULL)
    return;
  /* Nobody else wants this answer: the lookup stops, and a run that asks later asks
   * afresh rather than joining a cancelled lookup. */
  if (origin->cancellable != NULL)
    cancellable = g_object_ref (origin->cancellable);
  origin_drop (self, origin);
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
}

/* An entry of the origin's answer could not be reached: the next one, and the
 * origin's later runs start past the one that failed. */
static gboolean
hook_next (GMultiProxyLookup  *hook,
           GMultiRun          *run,
           GMultiProxy        *failed,
           guint               tries,
           GMultiProxy       **proxy)
{
  GMultiSessionProxy *self = hook->data;
  OriginKey key;
  Origin *origin;

  if (G_UNLIKELY (self->shut_down) || !key_for (self, run, &key))
    return FALSE;
  origin = g_hash_table_lookup (self->origins, &key);
  if (origin == NULL || !origin->answered)
    return FALSE;
  return gmulti_proxy_answer_next (origin->entries, &origin->start, failed, tries, proxy);
}

static void
hook_ref (GMultiProxyLookup *hook)
{
  GMultiSessionProxy *self = hook->data;

  g_atomic_ref_count_inc (&self->ref_count);
}

static void
hook_unref (GMultiProxyLookup *hook)
{
  gmulti_session_proxy_unref (hook->data);
}

static const GMultiProxyLookupOps hook_ops = {
  .lookup = hook_lookup,
  .cancel = hook_cancel,
  .next = hook_next,
  .ref = hook_ref,
  .unref = hook_unref,
};

GMultiSessionProxy *
gmulti_session_proxy_new (GMainContext *context)
{
  GMultiSessionProxy *self = g_new0 (GMultiSessionProxy, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->hook.ops = &hook_ops;
  self->hook.data = self;
  self->context = g_main_context_ref (context);
  self->origins = g_hash_table_new_full (origin_key_hash_cb, origin_key_equal_cb, NULL,
                                         (GDestroyNotify) origin_unref);
  self->waiting = g_hash_table_new (NULL, NULL);
  return self;
}

static gboolean
forget_origin_cb (gpointer key,
                  gpointer value,
                  gpointer user_data)
{
  Origin *origin = value;
  gboolean all = GPOINTER_TO_INT (user_data);

  if (!all && !origin->answered)
    return FALSE;
  origin->owner = NULL;
  g_queue_clear (&origin->waiters);
  if (origin->cancellable != NULL)
    g_cancellable_cancel (origin->cancellable);
  return TRUE;
}

void
gmulti_session_proxy_shutdown (GMultiSessionProxy *self)
{
  self->shut_down = TRUE;
  /* The engine is gone, and cancelled every run that waited. */
  g_hash_table_remove_all (self->waiting);
  g_hash_table_foreach_remove (self->origins, forget_origin_cb, GINT_TO_POINTER (TRUE));
  g_clear_object (&self->resolver);
  g_clear_object (&self->fallback);
}

void
gmulti_session_proxy_unref (GMultiSessionProxy *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  gmulti_session_proxy_shutdown (self);
  g_hash_table_unref (self->origins);
  g_hash_table_unref (self->waiting);
  g_main_context_unref (self->context);
  g_free (self);
}

GMultiProxyLookup *
gmulti_session_proxy_get_hook (GMultiSessionProxy *self)
{
  return &self->hook;
}

GProxyResolver *
gmulti_session_proxy_get_resolver (GMultiSessionProxy *self)
{
  return self->resolver;
}

void
gmulti_session_proxy_set_resolver (GMultiSessionProxy *self,
                                   GProxyResolver     *resolver)
{
  if (!g_set_object (&self->resolver, resolver))
    return;
  /* Answers of lookups under way still go to the runs that wait for them. */
  g_hash_table_foreach_remove (self->origins, forget_origin_cb, GINT_TO_POINTER (FALSE));
}

/* ------------------------------------------------------ the property */

void
gmulti_session_install_proxy_properties (GParamSpec **pspecs)
{
  /**
   * GMultiSession:proxy-resolver: (getter get_proxy_resolver) (setter set_proxy_resolver)
   *
   * The proxy resolver asked which proxy the session's transfers go through. A
   * transfer takes, in this order, the first that is set: its own
   * [property@Transfer:proxy-uri], its own [property@Transfer:proxy-resolver], the
   * session's [property@Session:proxy-uri], this resolver, and GLib's default resolver
   * (`g_proxy_resolver_get_default()`: the desktop's settings through
   * glib-networking). Where GLib has no resolver but its direct-only fallback (no
   * module installed, as on most servers), the `*_proxy` environment variables decide
   * instead, as they do for [method@Transfer.perform]. %NULL, the default, means
   * GLib's default resolver.
   *
   * A resolver is asked asynchronously, on the session's main context, once for each
   * origin (scheme, host and port); its answer is kept for the session's life (or
   * until this property changes) and used by every transfer to that origin. Meanwhile
   * the transfer waits, its connect timeout running. The URIs it answers that gmulti
   * can use are tried in order: `direct://` (no proxy), `http://`, `https://`,
   * `socks5h://`, `socks4a://`, and `socks://`, `socks5://`, `socks4://` as GLib's own
   * clients mean them (SOCKS5 or SOCKS4a, the proxy resolving the origin's name). An
   * entry that cannot be reached (its name not resolved, the connection refused or not
   * made within the connect timeout, which each entry gets anew) passes the transfer
   * on to the next one; an entry that answers, even with a refusal, is the transfer's
   * proxy. When all fail, the last one's error ends the transfer. The session
   * remembers with the origin's answer where its later transfers start: past the entry
   * that failed last (from the first again once all failed). A lookup that fails ends
   * the transfer with
   * %GMULTI_ERROR_PROXY_LOOKUP_FAILED, naming the resolver's message; an answer with
   * no usable entry with %GMULTI_ERROR_PROXY_INVALID.
   *
   * Since: 0.1
   */
  pspecs[PROP_PROXY_RESOLVER] =
    g_param_spec_object ("proxy-resolver", NULL, NULL, G_TYPE_PROXY_RESOLVER,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

/**
 * gmulti_session_get_proxy_resolver: (get-property proxy-resolver)
 * @self: a session
 *
 * Gets the proxy resolver the session asks.
 *
 * Returns: (transfer none) (nullable): the resolver, or %NULL for GLib's default
 *
 * Since: 0.1
 */
GProxyResolver *
gmulti_session_get_proxy_resolver (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);

  return self->proxy != NULL ? gmulti_session_proxy_get_resolver (self->proxy) : NULL;
}

/**
 * gmulti_session_set_proxy_resolver: (set-property proxy-resolver)
 * @self: a session
 * @resolver: (nullable): a proxy resolver, or %NULL for GLib's default
 *
 * Sets the proxy resolver the session asks (see [property@Session:proxy-resolver]).
 * The answers kept so far are forgotten. Transfers waiting for an answer keep waiting
 * for it; hops that start afterwards ask @resolver.
 *
 * Since: 0.1
 */
void
gmulti_session_set_proxy_resolver (GMultiSession  *self,
                                   GProxyResolver *resolver)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (resolver == NULL || G_IS_PROXY_RESOLVER (resolver));

  if (self->proxy == NULL || gmulti_session_proxy_get_resolver (self->proxy) == resolver)
    return;
  gmulti_session_proxy_set_resolver (self->proxy, resolver);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_PROXY_RESOLVER]);
}
