/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* Asynchronous name resolution that never blocks the engine's caller: getaddrinfo()
 * runs on a small pool of worker threads, and finished lookups are signalled through
 * one eventfd that the engine watches like any other socket. Results are cached per
 * resolver for a short time. Numeric addresses complete at once without a thread. */
typedef struct _GMultiResolver GMultiResolver;
typedef struct _GMultiResolveRequest GMultiResolveRequest;

/* One resolved address. */
typedef struct {
  int family;                       /* AF_INET or AF_INET6 */
  socklen_t addrlen;
  struct sockaddr_storage addr;     /* with the port already set */
} GMultiAddress;

/* Called from gmulti_resolver_dispatch() (or from gmulti_resolver_lookup() itself for
 * numeric hosts and cache hits). @addresses is ordered for Happy Eyeballs: families
 * interleaved, the first family first. On failure @addresses is NULL and @error set
 * (GMULTI_ERROR_RESOLVE_FAILED). Both are owned by the callee only during the call
 * (copy what you keep). The request is finished and freed after the callback. */
typedef void (*GMultiResolveFunc) (const GMultiAddress *addresses,
                                   guint                n_addresses,
                                   const GError        *error,
                                   gpointer             user_data);

/* Name lookups answered by the resolver's owner instead of the thread pool (a
 * session asks a GResolver on its main context, gmulti-session-resolver.c); the
 * resolver never knows who answers. Numeric hosts never reach it.
 *
 * - takes: whether the owner answers for @host; FALSE: the thread pool and its cache
 *   take the lookup as without a delegate. Asked for every name (numeric hosts never
 *   reach it), before the cache: an answer that was delegated is not cached here, as
 *   whoever answers keeps its own cache, or none. Must cost no allocation.
 * - lookup: the lookup it takes. Returns the owner's handle for it; the answer comes
 *   later with gmulti_resolver_answer() on the resolver's thread (it may even come
 *   before lookup returns).
 * - cancel: the request is gone (cancelled, or the resolver freed) before it was
 *   answered: the owner forgets @handle and must never answer for it.
 * - ref, unref: the delegate's life; the resolver holds a reference. */
typedef struct _GMultiNameDelegate GMultiNameDelegate;

typedef struct {
  gboolean (*takes)  (GMultiNameDelegate   *delegate,
                      const char           *host);
  gpointer (*lookup) (GMultiNameDelegate   *delegate,
                      GMultiResolveRequest *request,
                      const char           *host);
  void     (*cancel) (GMultiNameDelegate   *delegate,
                      gpointer              handle);
  void     (*ref)    (GMultiNameDelegate   *delegate);
  void     (*unref)  (GMultiNameDelegate   *delegate);
} GMultiNameDelegateOps;

/* Embedded in its owner, which implements the table. */
struct _GMultiNameDelegate {
  const GMultiNameDelegateOps *ops;
  gpointer data;
};

/* NULL with errno set when the eventfd cannot be created. */
GMultiResolver       *gmulti_resolver_new      (void);
/* Cancels every request (their callbacks are not called) and waits for no worker:
 * workers still running finish in the background and their results are dropped. */
void                  gmulti_resolver_free     (GMultiResolver *self);
/* The fd to watch for readability while requests are outstanding; -1 if none exists. */
int                   gmulti_resolver_get_fd   (GMultiResolver *self);
/* Number of lookups started and not yet dispatched or cancelled. */
guint                 gmulti_resolver_get_n_pending (GMultiResolver *self);
/* Starts a lookup of @host (a name or a numeric IPv4/IPv6 address, without brackets)
 * for @port. Returns NULL when the callback was already called (numeric host, cache hit),
 * else a handle valid until the callback runs or the request is cancelled. */
GMultiResolveRequest *gmulti_resolver_lookup   (GMultiResolver   *self,
                                                const char       *host,
                                                guint16           port,
                                                GMultiResolveFunc func,
                                                gpointer          user_data);
/* The callback will not be called; the handle is invalid after this. */
void                  gmulti_resolver_cancel   (GMultiResolver       *self,
                                                GMultiResolveRequest *request);
/* Reads the eventfd and calls the callbacks of every finished lookup. */
void                  gmulti_resolver_dispatch (GMultiResolver *self);
/* Installs @delegate (NULL: none), asked from the next lookup on; lookups under way
 * are answered by whoever has them. */
void                  gmulti_resolver_set_delegate (GMultiResolver     *self,
                                                    GMultiNameDelegate *delegate);
/* The delegate's answer for @request: @addresses (@n_addresses of them, in the
 * answerer's order, ports ignored; borrowed) or @error (taken; a GMULTI_ERROR that
 * the lookup fails with). The addresses are put in Happy Eyeballs order, and the
 * callback runs from the next gmulti_resolver_dispatch(), as for the thread pool. */
void                  gmulti_resolver_answer   (GMultiResolveRequest *request,
                                                const GMultiAddress  *addresses,
                                                guint                 n_addresses,
                                                GError               *error);
/* Forgets cached results (the network changed). */
void                  gmulti_resolver_clear_cache (GMultiResolver *self);

/* For the fuzz targets and their replay tests only; the library never calls it. From
 * then on, in the whole process, "127.0.0.1" resolves to @address (a Unix socket the
 * test listens on, whose writes arrive before send() returns, so that every run
 * repeats exactly) and every other host fails at once as an unknown name does: fuzzed
 * responses choose redirect targets, and a test must never send a packet or a DNS
 * query anywhere. */
void                  gmulti_resolver_divert_loopback (const struct sockaddr *address,
                                                       socklen_t              length);

G_END_DECLS
