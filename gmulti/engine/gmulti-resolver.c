/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "gmulti-resolver.h"
#include "gmulti-wakeup-fd.h"
#include "gmulti-error.h"
#include "gmulti-error-private.h"
#include "gmulti-i18n-private.h"

#define GMULTI_RESOLVER_MAX_THREADS 4
#define GMULTI_RESOLVER_CACHE_TTL_USEC (60 * G_USEC_PER_SEC)
#define GMULTI_RESOLVER_CACHE_MAX 256

/* State that outlives the resolver while workers still run: a worker finishing after
 * gmulti_resolver_free() finds it closed, drops its result and may be the one that
 * releases the last reference (and with it the wake-up descriptor). */
typedef struct {
  gatomicrefcount ref_count;
  GMutex lock;
  GQueue done;        /* finished requests, guarded by lock */
  gboolean closed;    /* the resolver is gone; guarded by lock */
  GMultiWakeupFd wakeup;
} Shared;

struct _GMultiResolveRequest {
  Shared *shared;
  char *host;
  char *cache_key;
  guint16 port;
  GMultiResolveFunc func;
  gpointer user_data;
  int cancelled;      /* atomic: a worker that has not started yet skips the lookup */

  /* A lookup the delegate took: its handle until it answers, and the link in the
   * resolver's list of such lookups (both only on the resolver's thread). */
  GMultiResolver *resolver;
  GMultiNameDelegate *delegate;   /* a reference */
  gpointer delegate_handle;
  GList delegated_link;
  gboolean delegated;
  gboolean answered;
  GError *error;      /* the delegate's failure */

  /* Written by the worker before it queues the request, read after dispatch dequeues
   * it; the queue's mutex orders the two. */
  GMultiAddress *addresses;
  guint n_addresses;
  int gai_error;
  int sys_errno;
};

typedef struct {
  char *key;
  GMultiAddress *addresses;
  guint n_addresses;
  gint64 expires;
  GList *link;        /* in the resolver's insertion-order queue */
} CacheEntry;

struct _GMultiResolver {
  Shared *shared;
  GThreadPool *pool;
  guint n_pending;
  GHashTable *cache;  /* key -> CacheEntry */
  GQueue cache_order; /* oldest first */
  guint dispatch_depth;
  gboolean free_requested;
  GMultiNameDelegate *delegate;
  GQueue delegated;   /* requests the delegate has not answered yet */
};

static GMultiAddress *diverted;

void
gmulti_resolver_divert_loopback (const struct sockaddr *address,
                                 socklen_t              length)
{
  g_return_if_fail (length <= sizeof diverted->addr);

  if (diverted == NULL)
    diverted = g_new0 (GMultiAddress, 1);
  diverted->family = address->sa_family;
  diverted->addrlen = length;
  memcpy (&diverted->addr, address, length);
}

static Shared *
shared_ref (Shared *shared)
{
  g_atomic_ref_count_inc (&shared->ref_count);
  return shared;
}

static void
shared_unref (Shared *shared)
{
  if (!g_atomic_ref_count_dec (&shared->ref_count))
    return;

  /* The resolver drained the queue when it closed, and nobody queues afterwards. */
  g_assert (g_queue_is_empty (&shared->done));
  gmulti_wakeup_fd_close (&shared->wakeup);
  g_mutex_clear (&shared->lock);
  g_free (shared);
}

static void
request_free (GMultiResolveRequest *request)
{
  g_clear_pointer (&request->shared, shared_unref);
  g_free (request->host);
  g_free (request->cache_key);
  g_free (request->addresses);
  g_clear_error (&request->error);
  if (request->delegate != NULL)
    request->delegate->ops->unref (request->delegate);
  g_free (request);
}

static void
cache_entry_free (gpointer data)
{
  CacheEntry *entry = data;

  g_free (entry->key);
  g_free (entry->addresses);
  g_free (entry);
}

/* Host names are case-insensitive; the port follows a separator no host contains. */
static char *
make_cache_key (const char *host,
                guint16     port)
{
  g_autofree char *lower = g_ascii_strdown (host, -1);

  return g_strdup_printf ("%u/%s", (guint) port, lower);
}

static gboolean
address_equal (const GMultiAddress *a,
               const GMultiAddress *b)
{
  if (a->family != b->family)
    return FALSE;

  if (a->family == AF_INET)
    {
      const struct sockaddr_in *sa = (const struct sockaddr_in *) &a->addr;
      const struct sockaddr_in *sb = (const struct sockaddr_in *) &b->addr;

      return sa->sin_addr.s_addr == sb->sin_addr.s_addr;
    }
  else
    {
      const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *) &a->addr;
      const struct sockaddr_in6 *sb = (const struct sockaddr_in6 *) &b->addr;

      return sa->sin6_scope_id == sb->sin6_scope_id &&
             memcmp (&sa->sin6_addr, &sb->sin6_addr, sizeof sa->sin6_addr) == 0;
    }
}

static void
address_set_port (GMultiAddress *address,
                  guint16        port)
{
  if (address->family == AF_INET)
    ((struct sockaddr_in *) &address->addr)->sin_port = g_htons (port);
  else
    ((struct sockaddr_in6 *) &address->addr)->sin6_port = g_htons (port);
}

/* Puts addresses in the order Happy Eyeballs (RFC 8305, section 4) tries: the first
 * family keeps the answerer's preference, then the families alternate so that a broken
 * family costs one attempt delay, not a whole list. Duplicates go; they would only
 * repeat a failed attempt. Fed one candidate at a time by order_push(). */
typedef struct {
  GMultiAddress *by_family[2];
  guint n_by_family[2];
  int first_family;
  guint16 port;
} Order;

static void
order_init (Order   *order,
            guint    n_total,
            guint16  port)
{
  order->by_family[0] = g_new0 (GMultiAddress, n_total);
  order->by_family[1] = g_new0 (GMultiAddress, n_total);
  order->n_by_family[0] = order->n_by_family[1] = 0;
  order->first_family = AF_UNSPEC;
  order->port = port;
}

/* @addr is @addrlen bytes of a sockaddr; other families than IPv4 and IPv6 are
 * skipped. */
static void
order_push (Order                 *order,
            int                    family,
            const struct sockaddr *addr,
            socklen_t              addrlen)
{
  GMultiAddress candidate = { 0, };
  guint slot;

  if (family == AF_INET && addrlen >= sizeof (struct sockaddr_in))
    candidate.addrlen = sizeof (struct sockaddr_in);
  else if (family == AF_INET6 && addrlen >= sizeof (struct sockaddr_in6))
    candidate.addrlen = sizeof (struct sockaddr_in6);
  else
    return;

  candidate.family = family;
  memcpy (&candidate.addr, addr, candidate.addrlen);
  address_set_port (&candidate, order->port);

  if (order->first_family == AF_UNSPEC)
    order->first_family = family;
  slot = family == order->first_family ? 0 : 1;

  for (guint i = 0; i < order->n_by_family[slot]; i++)
    if (address_equal (&order->by_family[slot][i], &candidate))
      return;
  order->by_family[slot][order->n_by_family[slot]++] = candidate;
}

/* Returns the number of addresses in *out (NULL when none). */
static guint
order_finish (Order          *order,
              GMultiAddress **out)
{
  guint n0 = order->n_by_family[0], n1 = order->n_by_family[1], n = 0;
  GMultiAddress *result = g_new (GMultiAddress, MAX (n0 + n1, 1));

  for (guint i = 0; i < MAX (n0, n1); i++)
    {
      if (i < n0)
        result[n++] = order->by_family[0][i];
      if (i < n1)
        result[n++] = order->by_family[1][i];
    }

  g_free (order->by_family[0]);
  g_free (order->by_family[1]);

  if (n == 0)
    g_clear_pointer (&result, g_free);
  *out = result;
  return n;
}

/* getaddrinfo()'s list in Happy Eyeballs order. */
static guint
order_addresses (const struct addrinfo *list,
                 guint16                port,
                 GMultiAddress        **out)
{
  guint n_total = 0;
  Order order;

  for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next)
    n_total++;

  order_init (&order, n_total, port);
  for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next)
    order_push (&order, ai->ai_family, ai->ai_addr, ai->ai_addrlen);
  return order_finish (&order, out);
}

static void
resolve_in_thread_cb (gpointer data,
                      gpointer user_data)
{
  GMultiResolveRequest *request = data;
  /* Our own reference: once queued, the request (and its reference) may be dispatched
   * and freed, and the resolver with it, before we get to signal it. */
  Shared *shared = shared_ref (request->shared);
  gboolean dropped;

  /* Jobs still waiting for a thread when their request was cancelled or the resolver
   * freed skip the lookup instead of keeping a thread busy for nothing. */
  g_mutex_lock (&shared->lock);
  dropped = shared->closed;
  g_mutex_unlock (&shared->lock);

  if (!dropped && !g_atomic_int_get (&request->cancelled))
    {
      /* No AI_ADDRCONFIG: it may disregard loopback addresses when deciding which
       * families are configured, so a machine with only loopback interfaces could get
       * nothing for "localhost", exactly where it must still work. */
      struct addrinfo hints = { 0, };
      struct addrinfo *list = NULL;
      int ret;

      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      ret = getaddrinfo (request->host, NULL, &hints, &list);
      if (ret == 0)
        {
          request->n_addresses = order_addresses (list, request->port,
                                                  &request->addresses);
          if (request->n_addresses == 0)
            request->gai_error = EAI_NONAME;
          freeaddrinfo (list);
        }
      else
        {
          request->gai_error = ret;
          request->sys_errno = errno;
        }
    }

  g_mutex_lock (&shared->lock);
  dropped = shared->closed;
  if (!dropped)
    g_queue_push_tail (&shared->done, request);
  g_mutex_unlock (&shared->lock);

  if (dropped)
    request_free (request);
  /* A full counter or pipe is readable anyway. */
  else if (!gmulti_wakeup_fd_signal (&shared->wakeup))
    g_warning ("Could not signal a finished name lookup: %s", g_strerror (errno));

  /* May be the last reference, closing the wake-up descriptor. */
  shared_unref (shared);
}

GMultiResolver *
gmulti_resolver_new (void)
{
  GMultiResolver *self;
  Shared *shared;
  GMultiWakeupFd wakeup;

  if (!gmulti_wakeup_fd_open (&wakeup))
    return NULL;

  shared = g_new0 (Shared, 1);
  g_atomic_ref_count_init (&shared->ref_count);
  g_mutex_init (&shared->lock);
  g_queue_init (&shared->done);
  shared->wakeup = wakeup;

  self = g_new0 (GMultiResolver, 1);
  self->shared = shared;
  /* Non-exclusive: threads come from GLib's shared set and never fail to be created
   * here, so no error can come back. */
  self->pool = g_thread_pool_new (resolve_in_thread_cb, NULL,
                                  GMULTI_RESOLVER_MAX_THREADS, FALSE, NULL);
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, cache_entry_free);
  g_queue_init (&self->cache_order);
  g_queue_init (&self->delegated);

  return self;
}

/* The delegate forgets @request, which the resolver frees. */
static void
delegated_forget (GMultiResolver       *self,
                  GMultiResolveRequest *request)
{
  g_queue_unlink (&self->delegated, &request->delegated_link);
  request->answered = TRUE;
  if (request->delegate_handle != NULL)
    request->delegate->ops->cancel (request->delegate, request->delegate_handle);
  request_free (request);
}

static void
resolver_finalize (GMultiResolver *self)
{
  GQueue done;

  while (self->delegated.head != NULL)
    delegated_forget (self, self->delegated.head->data);
  if (self->delegate != NULL)
    self->delegate->ops->unref (self->delegate);

  g_mutex_lock (&self->shared->lock);
  self->shared->closed = TRUE;
  done = self->shared->done;
  g_queue_init (&self->shared->done);
  g_mutex_unlock (&self->shared->lock);

  g_queue_clear_full (&done, (GDestroyNotify) request_free);

  /* Never wait for a running getaddrinfo(): jobs still in the pool see "closed",
   * skip or drop their lookup and free themselves. */
  g_thread_pool_free (self->pool, FALSE, FALSE);
  shared_unref (self->shared);

  g_queue_clear (&self->cache_order);
  g_hash_table_destroy (self->cache);
  g_free (self);
}

void
gmulti_resolver_free (GMultiResolver *self)
{
  if (self == NULL)
    return;

  /* Freed from one of our own callbacks: dispatch() finishes the job on its way out. */
  if (self->dispatch_depth > 0)
    {
      self->free_requested = TRUE;
      return;
    }

  resolver_finalize (self);
}

int
gmulti_resolver_get_fd (GMultiResolver *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return self->shared->wakeup.read_fd;
}

guint
gmulti_resolver_get_n_pending (GMultiResolver *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_pending;
}

static void
cache_remove (GMultiResolver *self,
              CacheEntry     *entry)
{
  g_queue_delete_link (&self->cache_order, entry->link);
  g_hash_table_remove (self->cache, entry->key);
}

static void
cache_insert (GMultiResolver      *self,
              const char          *key,
              const GMultiAddress *addresses,
              guint                n_addresses)
{
  CacheEntry *entry = g_hash_table_lookup (self->cache, key);

  if (entry != NULL)
    cache_remove (self, entry);
  while (g_hash_table_size (self->cache) >= GMULTI_RESOLVER_CACHE_MAX)
    cache_remove (self, g_queue_peek_head (&self->cache_order));

  entry = g_new0 (CacheEntry, 1);
  entry->key = g_strdup (key);
  entry->addresses = g_memdup2 (addresses, n_addresses * sizeof (GMultiAddress));
  entry->n_addresses = n_addresses;
  entry->expires = g_get_monotonic_time () + GMULTI_RESOLVER_CACHE_TTL_USEC;
  g_queue_push_tail (&self->cache_order, entry);
  entry->link = g_queue_peek_tail_link (&self->cache_order);
  g_hash_table_insert (self->cache, entry->key, entry);
}

static CacheEntry *
cache_lookup (GMultiResolver *self,
              const char     *key)
{
  CacheEntry *entry = g_hash_table_lookup (self->cache, key);

  if (entry != NULL && entry->expires <= g_get_monotonic_time ())
    {
      cache_remove (self, entry);
      entry = NULL;
    }

  return entry;
}

void
gmulti_resolver_set_delegate (GMultiResolver     *self,
                              GMultiNameDelegate *delegate)
{
  g_return_if_fail (self != NULL);

  /* Lookups under way hold the delegate that took them. */
  if (delegate != NULL)
    delegate->ops->ref (delegate);
  if (self->delegate != NULL)
    self->delegate->ops->unref (self->delegate);
  self->delegate = delegate;
}

void
gmulti_resolver_clear_cache (GMultiResolver *self)
{
  g_return_if_fail (self != NULL);

  g_queue_clear (&self->cache_order);
  g_hash_table_remove_all (self->cache);
}

static void
report_failure (const char        *host,
                int                gai_error,
                int                sys_errno,
                GMultiResolveFunc  func,
                gpointer           user_data)
{
  g_autoptr(GError) error = NULL;
  const char *reason;

  if (gai_error == EAI_SYSTEM && sys_errno != 0)
    reason = g_strerror (sys_errno);
  else
    reason = gai_strerror (gai_error);

  error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED,
                       _("Could not resolve host “%s”: %s"), host, reason);
  gmulti_error_set_addrinfo (error, gai_error);
  func (NULL, 0, error, user_data);
}

/* Literal addresses need no thread. Returns FALSE when @host is a name. */
static gboolean
lookup_numeric (const char        *host,
                guint16            port,
                GMultiResolveFunc  func,
                gpointer           user_data)
{
  GMultiAddress address = { 0, };
  struct sockaddr_in *sin = (struct sockaddr_in *) &address.addr;

  /* Strict dotted quad only: forms like "127.1" go to getaddrinfo() as names. */
  if (inet_pton (AF_INET, host, &sin->sin_addr) == 1)
    {
      address.family = AF_INET;
      address.addrlen = sizeof (struct sockaddr_in);
      sin->sin_family = AF_INET;
      address_set_port (&address, port);
      func (&address, 1, NULL, user_data);
      return TRUE;
    }

  /* A colon never appears in a name, so this is an IPv6 literal or nothing; the
   * resolver library parses "%scope" suffixes for us. */
  if (strchr (host, ':') != NULL)
    {
      struct addrinfo hints = { 0, };
      struct addrinfo *list = NULL;
      int ret;

      hints.ai_family = AF_INET6;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_NUMERICHOST;
      ret = getaddrinfo (host, NULL, &hints, &list);
      if (ret != 0 || list->ai_addrlen > sizeof address.addr)
        {
          report_failure (host, ret != 0 ? ret : EAI_FAMILY, errno, func, user_data);
        }
      else
        {
          address.family = AF_INET6;
          address.addrlen = list->ai_addrlen;
          memcpy (&address.addr, list->ai_addr, list->ai_addrlen);
          address_set_port (&address, port);
          func (&address, 1, NULL, user_data);
        }
      if (list != NULL)
        freeaddrinfo (list);
      return TRUE;
    }

  return FALSE;
}

static GMultiResolveRequest *
lookup_delegated (GMultiResolver    *self,
                  const char        *host,
                  guint16            port,
                  GMultiResolveFunc  func,
                  gpointer           user_data)
{
  GMultiResolveRequest *request = g_new0 (GMultiResolveRequest, 1);
  gpointer handle;

  request->shared = shared_ref (self->shared);
  request->host = g_strdup (host);
  request->port = port;
  request->func = func;
  request->user_data = user_data;
  request->resolver = self;
  request->delegated = TRUE;
  self->delegate->ops->ref (self->delegate);
  request->delegate = self->delegate;
  request->delegated_link.data = request;
  g_queue_push_tail_link (&self->delegated, &request->delegated_link);
  self->n_pending++;

  /* Listed first: the answer may come before lookup() returns. */
  handle = request->delegate->ops->lookup (request->delegate, request, host);
  if (!request->answered)
    request->delegate_handle = handle;
  return request;
}

GMultiResolveRequest *
gmulti_resolver_lookup (GMultiResolver    *self,
                        const char        *host,
                        guint16            port,
                        GMultiResolveFunc  func,
                        gpointer           user_data)
{
  GMultiResolveRequest *request;
  g_autofree char *key = NULL;
  CacheEntry *entry;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  if (*host == '\0' || (diverted != NULL && strcmp (host, "127.0.0.1") != 0))
    {
      report_failure (host, EAI_NONAME, 0, func, user_data);
      return NULL;
    }
  if (diverted != NULL)
    {
      func (diverted, 1, NULL, user_data);
      return NULL;
    }

  if (lookup_numeric (host, port, func, user_data))
    return NULL;

  /* Asked before the cache: what it answers is not cached here. */
  if (G_UNLIKELY (self->delegate != NULL) &&
      self->delegate->ops->takes (self->delegate, host))
    return lookup_delegated (self, host, port, func, user_data);

  key = make_cache_key (host, port);
  entry = cache_lookup (self, key);
  if (entry != NULL)
    {
      /* A copy: the callback may clear the cache or start lookups that evict it. */
      g_autofree GMultiAddress *copy =
        g_memdup2 (entry->addresses, entry->n_addresses * sizeof (GMultiAddress));

      func (copy, entry->n_addresses, NULL, user_data);
      return NULL;
    }

  request = g_new0 (GMultiResolveRequest, 1);
  request->shared = shared_ref (self->shared);
  request->host = g_strdup (host);
  request->cache_key = g_steal_pointer (&key);
  request->port = port;
  request->func = func;
  request->user_data = user_data;

  self->n_pending++;
  /* With a non-exclusive pool a push cannot fail: at worst the job waits for a thread. */
  g_thread_pool_push (self->pool, request, NULL);

  return request;
}

void
gmulti_resolver_cancel (GMultiResolver       *self,
                        GMultiResolveRequest *request)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (request != NULL);
  g_return_if_fail (request->shared == self->shared);

  if (g_atomic_int_get (&request->cancelled))
    return;

  self->n_pending--;
  /* Still with the delegate: nobody else has it, it goes now. */
  if (G_UNLIKELY (request->delegated) && !request->answered)
    {
      delegated_forget (self, request);
      return;
    }
  /* The worker or dispatch() still owns the memory; it frees the request later. */
  g_atomic_int_set (&request->cancelled, TRUE);
}

void
gmulti_resolver_answer (GMultiResolveRequest *request,
                        const GMultiAddress  *addresses,
                        guint                 n_addresses,
                        GError               *error)
{
  GMultiResolver *self;

  g_return_if_fail (request != NULL);
  g_return_if_fail (request->delegated && !request->answered);

  self = request->resolver;
  request->answered = TRUE;
  g_queue_unlink (&self->delegated, &request->delegated_link);

  if (error == NULL)
    {
      Order order;

      order_init (&order, n_addresses, request->port);
      for (guint i = 0; i < n_addresses; i++)
        order_push (&order, addresses[i].family,
                    (const struct sockaddr *) &addresses[i].addr, addresses[i].addrlen);
      request->n_addresses = order_finish (&order, &request->addresses);
      if (request->n_addresses == 0)
        error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED,
                             _("Could not resolve host “%s”: %s"), request->host,
                             _("The resolver found no IPv4 or IPv6 address"));
    }
  request->error = error;

  /* Through the done queue, as a worker's result: the callback runs in the engine's
   * next dispatch, never inside the delegate's own call. */
  g_mutex_lock (&self->shared->lock);
  g_queue_push_tail (&self->shared->done, request);
  g_mutex_unlock (&self->shared->lock);
  if (!gmulti_wakeup_fd_signal (&self->shared->wakeup))
    g_warning ("Could not signal a finished name lookup: %s", g_strerror (errno));
}

void
gmulti_resolver_dispatch (GMultiResolver *self)
{
  GQueue done;
  GMultiResolveRequest *request;

  g_return_if_fail (self != NULL);

  /* Drained before taking the queue: a worker queueing after this point signals
   * again, so no finished lookup is left without a wake-up. */
  gmulti_wakeup_fd_drain (&self->shared->wakeup);

  g_mutex_lock (&self->shared->lock);
  done = self->shared->done;
  g_queue_init (&self->shared->done);
  g_mutex_unlock (&self->shared->lock);

  self->dispatch_depth++;

  while ((request = g_queue_pop_head (&done)) != NULL)
    {
      /* Checked per request: an earlier callback may have cancelled this one, or freed
       * the resolver (which cancels everything). */
      if (!self->free_requested && !g_atomic_int_get (&request->cancelled))
        {
          self->n_pending--;
          /* Set before the callback so cancel() on the finished handle is a no-op. */
          g_atomic_int_set (&request->cancelled, TRUE);

          if (G_UNLIKELY (request->error != NULL))
            {
              request->func (NULL, 0, request->error, request->user_data);
            }
          else if (request->delegated)
            {
              request->func (request->addresses, request->n_addresses, NULL,
                             request->user_data);
            }
          else if (request->gai_error == 0)
            {
              cache_insert (self, request->cache_key,
                            request->addresses, request->n_addresses);
              request->func (request->addresses, request->n_addresses, NULL,
                             request->user_data);
            }
          else
            {
              report_failure (request->host, request->gai_error, request->sys_errno,
                              request->func, request->user_data);
            }
        }

      request_free (request);
    }

  self->dispatch_depth--;

  if (self->dispatch_depth == 0 && self->free_requested)
    resolver_finalize (self);
}
