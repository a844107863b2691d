/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "gmulti-resolver.h"
#include "gmulti-error.h"

#define WAIT_MS 10000

/* Names under ".test" never reach the system: this program's own getaddrinfo()
 * takes precedence over the C library's, so the tests can hand the resolver lists
 * with both families and duplicates, system errors, and lookups that block until the
 * test lets them go. Every other name goes to the real resolver. */

typedef struct {
  struct addrinfo ai;
  struct sockaddr_storage addr;
} FakeEntry;

static GMutex fake_lock;
static GCond fake_cond;
static GHashTable *fake_lists;  /* FakeEntry arrays we handed out */
static gboolean gate_open;
static guint n_blocked;         /* lookups of "blocked.test" that entered */

typedef int (*GetaddrinfoFunc) (const char *, const char *, const struct addrinfo *,
                                struct addrinfo **);
typedef void (*FreeaddrinfoFunc) (struct addrinfo *);

static struct addrinfo *
fake_list (const char * const *literals)
{
  guint n = g_strv_length ((char **) literals);
  FakeEntry *entries = g_new0 (FakeEntry, n);

  for (guint i = 0; i < n; i++)
    {
      FakeEntry *e = &entries[i];

      e->ai.ai_socktype = SOCK_STREAM;
      e->ai.ai_protocol = IPPROTO_TCP;
      e->ai.ai_addr = (struct sockaddr *) &e->addr;
      e->ai.ai_next = i + 1 < n ? &entries[i + 1].ai : NULL;
      if (g_str_equal (literals[i], "unix"))
        {
          e->ai.ai_family = AF_UNIX;
          e->ai.ai_addrlen = sizeof (sa_family_t);
          e->addr.ss_family = AF_UNIX;
        }
      else if (strchr (literals[i], ':') != NULL)
        {
          struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &e->addr;

          e->ai.ai_family = AF_INET6;
          e->ai.ai_addrlen = sizeof *sin6;
          sin6->sin6_family = AF_INET6;
          g_assert_cmpint (inet_pton (AF_INET6, literals[i], &sin6->sin6_addr), ==, 1);
        }
      else
        {
          struct sockaddr_in *sin = (struct sockaddr_in *) &e->addr;

          e->ai.ai_family = AF_INET;
          e->ai.ai_addrlen = sizeof *sin;
          sin->sin_family = AF_INET;
          g_assert_cmpint (inet_pton (AF_INET, literals[i], &sin->sin_addr), ==, 1);
        }
    }

  g_mutex_lock (&fake_lock);
  if (fake_lists == NULL)
    fake_lists = g_hash_table_new (NULL, NULL);
  g_hash_table_add (fake_lists, entries);
  g_mutex_unlock (&fake_lock);

  return &entries[0].ai;
}

int
getaddrinfo (const char             *node,
             const char             *service,
             const struct addrinfo  *hints,
             struct addrinfo       **res)
{
  GetaddrinfoFunc real;

  if (node == NULL || !g_str_has_suffix (node, ".test"))
    {
      real = (GetaddrinfoFunc) dlsym (RTLD_NEXT, "getaddrinfo");
      return real (node, service, hints, res);
    }

  /* What the resolver must ask for, whatever the name. */
  g_assert_nonnull (hints);
  g_assert_cmpint (hints->ai_family, ==, AF_UNSPEC);
  g_assert_cmpint (hints->ai_socktype, ==, SOCK_STREAM);
  g_assert_false (hints->ai_flags & AI_ADDRCONFIG);

  if (g_str_equal (node, "dual.test"))
    {
      *res = fake_list ((const char *[]) { "2001:db8::a", "2001:db8::b", "192.0.2.1",
                                           "2001:db8::a", "192.0.2.2", "192.0.2.1",
                                           "2001:db8::c", NULL });
      return 0;
    }
  if (g_str_equal (node, "v4-first.test"))
    {
      *res = fake_list ((const char *[]) { "192.0.2.1", "192.0.2.2", "192.0.2.3",
                                           "2001:db8::a", NULL });
      return 0;
    }
  if (g_str_equal (node, "unix-only.test"))
    {
      *res = fake_list ((const char *[]) { "unix", NULL });
      return 0;
    }
  if (g_str_equal (node, "system-error.test"))
    {
      errno = EMFILE;
      return EAI_SYSTEM;
    }
  if (g_str_equal (node, "blocked.test"))
    {
      g_mutex_lock (&fake_lock);
      n_blocked++;
      g_cond_broadcast (&fake_cond);
      while (!gate_open)
        g_cond_wait (&fake_cond, &fake_lock);
      g_mutex_unlock (&fake_lock);
      *res = fake_list ((const char *[]) { "127.0.0.1", NULL });
      return 0;
    }

  return EAI_NONAME;
}

void
freeaddrinfo (struct addrinfo *res)
{
  FreeaddrinfoFunc real;
  gboolean ours;

  g_mutex_lock (&fake_lock);
  ours = fake_lists != NULL && g_hash_table_remove (fake_lists, res);
  g_mutex_unlock (&fake_lock);

  if (ours)
    {
      g_free (res);
      return;
    }

  real = (FreeaddrinfoFunc) dlsym (RTLD_NEXT, "freeaddrinfo");
  real (res);
}

static void
gate_reset (void)
{
  g_mutex_lock (&fake_lock);
  gate_open = FALSE;
  n_blocked = 0;
  g_mutex_unlock (&fake_lock);
}

static void
gate_release (void)
{
  g_mutex_lock (&fake_lock);
  gate_open = TRUE;
  g_cond_broadcast (&fake_cond);
  g_mutex_unlock (&fake_lock);
}

static guint
gate_n_blocked (void)
{
  guint n;

  g_mutex_lock (&fake_lock);
  n = n_blocked;
  g_mutex_unlock (&fake_lock);

  return n;
}

/* Waits until @n lookups sit behind the gate; fails after 10 s. */
static void
gate_wait_blocked (guint n)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&fake_lock);
  while (n_blocked < n)
    g_assert_true (g_cond_wait_until (&fake_cond, &fake_lock, deadline));
  g_mutex_unlock (&fake_lock);
}

typedef struct {
  guint n_calls;
  GArray *addresses;  /* of GMultiAddress, copied */
  GError *error;
} Result;

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->addresses, g_array_unref);
  g_clear_error (&result->error);
  result->n_calls = 0;
}

static void
record_cb (const GMultiAddress *addresses,
           guint                n_addresses,
           const GError        *error,
           gpointer             user_data)
{
  Result *result = user_data;

  result->n_calls++;
  g_clear_pointer (&result->addresses, g_array_unref);
  g_clear_error (&result->error);
  if (error != NULL)
    {
      g_assert_null (addresses);
      g_assert_cmpuint (n_addresses, ==, 0);
      result->error = g_error_copy (error);
    }
  else
    {
      g_assert_nonnull (addresses);
      g_assert_cmpuint (n_addresses, >, 0);
      result->addresses = g_array_new (FALSE, FALSE, sizeof (GMultiAddress));
      g_array_append_vals (result->addresses, addresses, n_addresses);
    }
}

static gboolean
wait_readable (int fd,
               int timeout_ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  int ret;

  do
    ret = poll (&pfd, 1, timeout_ms);
  while (ret < 0 && errno == EINTR);
  g_assert_cmpint (ret, >=, 0);

  return ret == 1 && (pfd.revents & POLLIN);
}

/* Dispatches until @done says so, failing after WAIT_MS. */
static void
run_until (GMultiResolver *resolver,
           const guint    *n_calls,
           guint           target)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (*n_calls < target)
    {
      int left = (int) ((deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND);

      g_assert_cmpint (left, >, 0);
      if (wait_readable (gmulti_resolver_get_fd (resolver), left))
        gmulti_resolver_dispatch (resolver);
    }
}

static guint16
address_port (const GMultiAddress *address)
{
  if (address->family == AF_INET)
    return g_ntohs (((const struct sockaddr_in *) &address->addr)->sin_port);
  return g_ntohs (((const struct sockaddr_in6 *) &address->addr)->sin6_port);
}

static gboolean
address_is_loopback (const GMultiAddress *address)
{
  if (address->family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) &address->addr;

      return (g_ntohl (sin->sin_addr.s_addr) >> 24) == 127;
    }
  return IN6_IS_ADDR_LOOPBACK (&((const struct sockaddr_in6 *) &address->addr)->sin6_addr);
}

/* Whatever the system returns: no duplicates, and families alternating from the first
 * address until the smaller family runs out. */
static void
check_order (GArray *addresses)
{
  guint n4 = 0, n6 = 0, n_pairs;
  int first;

  for (guint i = 0; i < addresses->len; i++)
    {
      GMultiAddress *a = &g_array_index (addresses, GMultiAddress, i);

      g_assert_true (a->family == AF_INET || a->family == AF_INET6);
      g_assert_cmpuint (a->addrlen, ==, a->family == AF_INET ?
                        sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6));
      g_assert_cmpint (a->addr.ss_family, ==, a->family);
      if (a->family == AF_INET)
        n4++;
      else
        n6++;

      for (guint j = 0; j < i; j++)
        {
          GMultiAddress *b = &g_array_index (addresses, GMultiAddress, j);

          g_assert_false (a->family == b->family && a->addrlen == b->addrlen &&
                          memcmp (&a->addr, &b->addr, a->addrlen) == 0);
        }
    }

  n_pairs = MIN (n4, n6);
  first = g_array_index (addresses, GMultiAddress, 0).family;
  for (guint i = 0; i < 2 * n_pairs; i++)
    {
      int expected = (i % 2 == 0) ? first : (first == AF_INET ? AF_INET6 : AF_INET);

      g_assert_cmpint (g_array_index (addresses, GMultiAddress, i).family, ==, expected);
    }
}

/* The message names the host and gives the system's reason for one of @codes. */
static void
check_failure_message (const GError *error,
                       const char   *host,
                       const int    *codes,
                       guint         n_codes)
{
  gboolean matched = FALSE;

  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  for (guint i = 0; i < n_codes && !matched; i++)
    {
      g_autofree char *expected =
        g_strdup_printf ("Could not resolve host “%s”: %s", host, gai_strerror (codes[i]));

      matched = g_str_equal (error->message, expected);
    }
  if (!matched)
    g_error ("Unexpected message: %s", error->message);
}

static void
test_numeric_ipv4 (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, };
  const struct sockaddr_in *sin;

  g_assert_nonnull (resolver);
  g_assert_null (gmulti_resolver_lookup (resolver, "192.0.2.7", 8080, record_cb, &result));
  g_assert_cmpuint (result.n_calls, ==, 1);
  g_assert_no_error (result.error);
  g_assert_cmpuint (result.addresses->len, ==, 1);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);

  sin = (const struct sockaddr_in *) &g_array_index (result.addresses, GMultiAddress, 0).addr;
  g_assert_cmpint (g_array_index (result.addresses, GMultiAddress, 0).family, ==, AF_INET);
  g_assert_cmpint (sin->sin_family, ==, AF_INET);
  g_assert_cmphex (g_ntohl (sin->sin_addr.s_addr), ==, 0xc0000207);
  g_assert_cmpuint (g_ntohs (sin->sin_port), ==, 8080);

  result_clear (&result);
  gmulti_resolver_free (resolver);
}

static void
test_numeric_ipv6 (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, };
  const struct sockaddr_in6 *sin6;
  struct in6_addr expected;
  unsigned int lo_index = if_nametoindex ("lo");

  g_assert_null (gmulti_resolver_lookup (resolver, "2001:db8::1", 443, record_cb, &result));
  g_assert_cmpuint (result.n_calls, ==, 1);
  g_assert_no_error (result.error);
  g_assert_cmpuint (result.addresses->len, ==, 1);
  g_assert_cmpint (g_array_index (result.addresses, GMultiAddress, 0).family, ==, AF_INET6);
  sin6 = (const struct sockaddr_in6 *) &g_array_index (result.addresses, GMultiAddress, 0).addr;
  g_assert_cmpint (sin6->sin6_family, ==, AF_INET6);
  g_assert_cmpint (inet_pton (AF_INET6, "2001:db8::1", &expected), ==, 1);
  g_assert_cmpmem (&sin6->sin6_addr, sizeof expected, &expected, sizeof expected);
  g_assert_cmpuint (g_ntohs (sin6->sin6_port), ==, 443);
  result_clear (&result);

  /* A scoped link-local address keeps its interface. */
  if (lo_index != 0)
    {
      g_assert_null (gmulti_resolver_lookup (resolver, "fe80::1%lo", 80, record_cb, &result));
      g_assert_cmpuint (result.n_calls, ==, 1);
      g_assert_no_error (result.error);
      sin6 = (const struct sockaddr_in6 *) &g_array_index (result.addresses, GMultiAddress, 0).addr;
      g_assert_cmpuint (sin6->sin6_scope_id, ==, lo_index);
      g_assert_cmpuint (g_ntohs (sin6->sin6_port), ==, 80);
      result_clear (&result);
    }

  /* Something with a colon that is no address fails at once, without a thread. */
  g_assert_null (gmulti_resolver_lookup (resolver, "2001:db8::zz", 80, record_cb, &result));
  g_assert_cmpuint (result.n_calls, ==, 1);
  check_failure_message (result.error, "2001:db8::zz", (int[]) { EAI_NONAME }, 1);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);
  result_clear (&result);

  gmulti_resolver_free (resolver);
}

static void
test_localhost (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, };
  GMultiResolveRequest *request;

  g_assert_cmpint (gmulti_resolver_get_fd (resolver), >=, 0);

  request = gmulti_resolver_lookup (resolver, "localhost", 8443, record_cb, &result);
  g_assert_nonnull (request);
  g_assert_cmpuint (result.n_calls, ==, 0);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 1);

  /* The answer arrives through the eventfd, and only dispatch() runs the callback. */
  g_assert_true (wait_readable (gmulti_resolver_get_fd (resolver), WAIT_MS));
  g_assert_cmpuint (result.n_calls, ==, 0);
  gmulti_resolver_dispatch (resolver);
  g_assert_cmpuint (result.n_calls, ==, 1);
  g_assert_no_error (result.error);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);

  for (guint i = 0; i < result.addresses->len; i++)
    {
      GMultiAddress *a = &g_array_index (result.addresses, GMultiAddress, i);

      g_assert_true (address_is_loopback (a));
      g_assert_cmpuint (address_port (a), ==, 8443);
    }
  check_order (result.addresses);

  /* The eventfd was drained, and a second dispatch has nothing to run. */
  g_assert_false (wait_readable (gmulti_resolver_get_fd (resolver), 0));
  gmulti_resolver_dispatch (resolver);
  g_assert_cmpuint (result.n_calls, ==, 1);

  result_clear (&result);
  gmulti_resolver_free (resolver);
}

static void
test_nonexistent (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, };

  g_assert_nonnull (gmulti_resolver_lookup (resolver, "does-not-exist.invalid", 80,
                                            record_cb, &result));
  run_until (resolver, &result.n_calls, 1);
  /* Which code depends on whether a DNS server answered. */
  check_failure_message (result.error, "does-not-exist.invalid",
                         (int[]) { EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA }, 4);
  g_assert_null (result.addresses);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);
  result_clear (&result);

  /* Failures are not cached: the next attempt asks the system again. */
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "does-not-exist.invalid", 80,
                                            record_cb, &result));
  g_assert_cmpuint (result.n_calls, ==, 0);
  run_until (resolver, &result.n_calls, 1);
  g_assert_error (result.error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  result_clear (&result);

  gmulti_resolver_free (resolver);
}

static gboolean
fd_is_open (int fd)
{
  return fcntl (fd, F_GETFD) != -1 || errno != EBADF;
}

/* The last job to finish releases the shared state and closes the eventfd; the tests
 * open no other fd meanwhile, so the number cannot be reused under us. */
static void
wait_fd_closed (int fd)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (fd_is_open (fd))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
}

static void
test_cancel (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result cancelled = { 0, }, kept = { 0, }, again = { 0, };
  GMultiResolveRequest *request;

  request = gmulti_resolver_lookup (resolver, "localhost", 80, record_cb, &cancelled);
  g_assert_nonnull (request);
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "localhost", 81, record_cb, &kept));
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 2);

  gmulti_resolver_cancel (resolver, request);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 1);

  /* The other lookup proves dispatch ran; the cancelled one must stay silent, also in
   * later dispatches once its worker has finished too. */
  run_until (resolver, &kept.n_calls, 1);
  g_assert_no_error (kept.error);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);
  while (wait_readable (gmulti_resolver_get_fd (resolver), 200))
    gmulti_resolver_dispatch (resolver);
  g_assert_cmpuint (cancelled.n_calls, ==, 0);
  g_assert_cmpuint (kept.n_calls, ==, 1);

  /* A cancelled result does not fill the cache either. */
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "localhost", 80, record_cb, &again));
  run_until (resolver, &again.n_calls, 1);
  g_assert_no_error (again.error);
  g_assert_cmpuint (cancelled.n_calls, ==, 0);

  result_clear (&cancelled);
  result_clear (&kept);
  result_clear (&again);
  gmulti_resolver_free (resolver);
}

static void
test_free_in_flight (void)
{
  GMultiResolver *resolver;
  Result result = { 0, };
  int fd;

  gate_reset ();
  resolver = gmulti_resolver_new ();
  fd = gmulti_resolver_get_fd (resolver);

  /* Four lookups occupy every thread, two more wait in the pool's queue. */
  for (guint i = 0; i < 6; i++)
    g_assert_nonnull (gmulti_resolver_lookup (resolver, "blocked.test", 80 + i,
                                              record_cb, &result));
  gate_wait_blocked (4);
  g_usleep (50 * 1000);
  g_assert_cmpuint (gate_n_blocked (), ==, 4);

  /* Returns at once although four getaddrinfo() calls are stuck. */
  gmulti_resolver_free (resolver);
  g_assert_true (fd_is_open (fd));

  gate_release ();

  wait_fd_closed (fd);

  /* The queued jobs saw the resolver gone and never looked anything up. */
  g_assert_cmpuint (gate_n_blocked (), ==, 4);
  g_assert_cmpuint (result.n_calls, ==, 0);
}

/* Real lookups, freed at whatever point they happen to be. */
static void
test_free_racing (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, };
  int fd = gmulti_resolver_get_fd (resolver);

  g_assert_nonnull (gmulti_resolver_lookup (resolver, "localhost", 80, record_cb, &result));
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "does-not-exist.invalid", 80,
                                            record_cb, &result));
  gmulti_resolver_free (resolver);
  g_assert_cmpuint (result.n_calls, ==, 0);

  wait_fd_closed (fd);
  g_assert_cmpuint (result.n_calls, ==, 0);
}

static void
test_free_idle (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  int fd = gmulti_resolver_get_fd (resolver);

  g_assert_true (fd_is_open (fd));
  gmulti_resolver_free (resolver);
  /* Nothing in flight: the eventfd goes at once. */
  g_assert_false (fd_is_open (fd));
  gmulti_resolver_free (NULL);
}

typedef struct {
  GMultiResolver *resolver;
  guint n_calls;
} FreeData;

static void
free_resolver_cb (const GMultiAddress *addresses,
                  guint                n_addresses,
                  const GError        *error,
                  gpointer             user_data)
{
  FreeData *data = user_data;

  data->n_calls++;
  g_clear_pointer (&data->resolver, gmulti_resolver_free);
}

static void
test_free_in_callback (void)
{
  FreeData data = { NULL, 0 };
  int fd;
  guint64 total = 0;
  gint64 deadline;

  gate_reset ();
  data.resolver = gmulti_resolver_new ();
  fd = gmulti_resolver_get_fd (data.resolver);

  g_assert_nonnull (gmulti_resolver_lookup (data.resolver, "blocked.test", 80,
                                            free_resolver_cb, &data));
  g_assert_nonnull (gmulti_resolver_lookup (data.resolver, "blocked.test", 81,
                                            free_resolver_cb, &data));
  gate_wait_blocked (2);
  gate_release ();

  /* Count the wake-ups ourselves so that both results sit in one batch; dispatch()
   * takes the whole queue whatever the counter says. */
  deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  while (total < 2)
    {
#if GMULTI_USE_EVENTFD
      guint64 counter;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      if (wait_readable (fd, 100) && read (fd, &counter, sizeof counter) == sizeof counter)
        total += counter;
#else
      /* A pipe: a byte per wake-up. */
      guint8 bytes[8];
      gssize n;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      if (wait_readable (fd, 100) && (n = read (fd, bytes, sizeof bytes)) > 0)
        total += (guint64) n;
#endif
    }

  /* The first callback frees the resolver; the second must never run. */
  gmulti_resolver_dispatch (data.resolver);
  g_assert_null (data.resolver);
  g_assert_cmpuint (data.n_calls, ==, 1);
  wait_fd_closed (fd);
}

static void
test_cache (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result first = { 0, }, second = { 0, };

  g_assert_nonnull (gmulti_resolver_lookup (resolver, "localhost", 8080, record_cb, &first));
  run_until (resolver, &first.n_calls, 1);
  g_assert_no_error (first.error);

  /* Same host and port, any case: answered at once from the cache. */
  g_assert_null (gmulti_resolver_lookup (resolver, "LocalHost", 8080, record_cb, &second));
  g_assert_cmpuint (second.n_calls, ==, 1);
  g_assert_no_error (second.error);
  g_assert_cmpuint (second.addresses->len, ==, first.addresses->len);
  g_assert_cmpmem (second.addresses->data, second.addresses->len * sizeof (GMultiAddress),
                   first.addresses->data, first.addresses->len * sizeof (GMultiAddress));
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);
  result_clear (&second);

  /* Another port is another entry. */
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "localhost", 8081, record_cb, &second));
  run_until (resolver, &second.n_calls, 1);
  g_assert_cmpuint (address_port (&g_array_index (second.addresses, GMultiAddress, 0)),
                    ==, 8081);
  result_clear (&second);

  /* After clearing, the system is asked again. */
  gmulti_resolver_clear_cache (resolver);
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "localhost", 8080, record_cb, &second));
  g_assert_cmpuint (second.n_calls, ==, 0);
  run_until (resolver, &second.n_calls, 1);
  g_assert_no_error (second.error);

  result_clear (&first);
  result_clear (&second);
  gmulti_resolver_free (resolver);
}

static void
test_cancel_in_flight (void)
{
  GMultiResolver *resolver;
  Result cancelled = { 0, }, kept = { 0, }, queued = { 0, };
  GMultiResolveRequest *running_request, *queued_request;
  int fd;

  gate_reset ();
  resolver = gmulti_resolver_new ();
  fd = gmulti_resolver_get_fd (resolver);

  running_request = gmulti_resolver_lookup (resolver, "blocked.test", 1, record_cb,
                                            &cancelled);
  for (guint i = 0; i < 3; i++)
    g_assert_nonnull (gmulti_resolver_lookup (resolver, "blocked.test", 2 + i, record_cb,
                                              &kept));
  queued_request = gmulti_resolver_lookup (resolver, "blocked.test", 5, record_cb, &queued);
  gate_wait_blocked (4);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 5);

  /* One cancelled inside getaddrinfo(), one before it even started. */
  gmulti_resolver_cancel (resolver, running_request);
  gmulti_resolver_cancel (resolver, queued_request);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 3);

  gate_release ();
  run_until (resolver, &kept.n_calls, 3);
  g_assert_no_error (kept.error);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);

  /* Wait for every job to be gone, then check nobody else was called back. */
  gmulti_resolver_free (resolver);
  wait_fd_closed (fd);
  g_assert_cmpuint (cancelled.n_calls, ==, 0);
  g_assert_cmpuint (queued.n_calls, ==, 0);
  g_assert_cmpuint (kept.n_calls, ==, 3);
  /* The queued request was cancelled before a thread took it: no lookup ran. */
  g_assert_cmpuint (gate_n_blocked (), ==, 4);

  result_clear (&kept);
}

static void
check_addresses (GArray             *addresses,
                 guint16             port,
                 const char * const *expected)
{
  g_assert_cmpuint (addresses->len, ==, g_strv_length ((char **) expected));

  for (guint i = 0; i < addresses->len; i++)
    {
      GMultiAddress *a = &g_array_index (addresses, GMultiAddress, i);
      char text[INET6_ADDRSTRLEN];
      const void *raw = a->family == AF_INET ?
        (const void *) &((struct sockaddr_in *) &a->addr)->sin_addr :
        (const void *) &((struct sockaddr_in6 *) &a->addr)->sin6_addr;

      g_assert_nonnull (inet_ntop (a->family, raw, text, sizeof text));
      g_assert_cmpstr (text, ==, expected[i]);
      g_assert_cmpuint (address_port (a), ==, port);
    }
  check_order (addresses);
}

static void
test_order (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, };

  /* IPv6 first as the system preferred it, then alternating; duplicates dropped. */
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "dual.test", 443, record_cb, &result));
  run_until (resolver, &result.n_calls, 1);
  g_assert_no_error (result.error);
  check_addresses (result.addresses, 443,
                   (const char *[]) { "2001:db8::a", "192.0.2.1", "2001:db8::b",
                                      "192.0.2.2", "2001:db8::c", NULL });
  result_clear (&result);

  /* IPv4 first when the system says so; the longer family finishes the list. */
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "v4-first.test", 80, record_cb,
                                            &result));
  run_until (resolver, &result.n_calls, 1);
  g_assert_no_error (result.error);
  check_addresses (result.addresses, 80,
                   (const char *[]) { "192.0.2.1", "2001:db8::a", "192.0.2.2",
                                      "192.0.2.3", NULL });
  result_clear (&result);

  /* The cache hands out the same order. */
  g_assert_null (gmulti_resolver_lookup (resolver, "dual.test", 443, record_cb, &result));
  check_addresses (result.addresses, 443,
                   (const char *[]) { "2001:db8::a", "192.0.2.1", "2001:db8::b",
                                      "192.0.2.2", "2001:db8::c", NULL });
  result_clear (&result);

  gmulti_resolver_free (resolver);
}

static void
test_system_error (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, };
  g_autofree char *expected = NULL;

  g_assert_nonnull (gmulti_resolver_lookup (resolver, "system-error.test", 80, record_cb,
                                            &result));
  run_until (resolver, &result.n_calls, 1);
  g_assert_error (result.error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  /* The reason is the system error itself, not gai_strerror's "System error". */
  expected = g_strdup_printf ("Could not resolve host “system-error.test”: %s",
                              g_strerror (EMFILE));
  g_assert_cmpstr (result.error->message, ==, expected);
  result_clear (&result);

  /* Success without one usable address is a failure too, and not cached. */
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "unix-only.test", 80, record_cb,
                                            &result));
  run_until (resolver, &result.n_calls, 1);
  check_failure_message (result.error, "unix-only.test", (int[]) { EAI_NONAME }, 1);
  result_clear (&result);
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "unix-only.test", 80, record_cb,
                                            &result));
  run_until (resolver, &result.n_calls, 1);
  result_clear (&result);

  gmulti_resolver_free (resolver);
}

static void
test_cache_eviction (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, };
  guint n = 257;

  /* One entry per port, stored one after the other (parallel lookups would finish in
   * any order); the 257th pushes out the first. */
  for (guint port = 1; port <= n; port++)
    {
      g_assert_nonnull (gmulti_resolver_lookup (resolver, "v4-first.test", port,
                                                record_cb, &result));
      run_until (resolver, &result.n_calls, 1);
      g_assert_no_error (result.error);
      result_clear (&result);
    }

  g_assert_null (gmulti_resolver_lookup (resolver, "v4-first.test", 2, record_cb, &result));
  g_assert_null (gmulti_resolver_lookup (resolver, "v4-first.test", n, record_cb, &result));
  g_assert_cmpuint (result.n_calls, ==, 2);
  result_clear (&result);

  g_assert_nonnull (gmulti_resolver_lookup (resolver, "v4-first.test", 1, record_cb,
                                            &result));
  run_until (resolver, &result.n_calls, 1);
  result_clear (&result);

  /* Storing port 1 again evicted the oldest left, port 2. */
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "v4-first.test", 2, record_cb,
                                            &result));
  run_until (resolver, &result.n_calls, 1);
  result_clear (&result);
  /* ...and storing port 2 evicted port 3, while port 4 stays. */
  g_assert_null (gmulti_resolver_lookup (resolver, "v4-first.test", 4, record_cb, &result));
  g_assert_cmpuint (result.n_calls, ==, 1);
  result_clear (&result);
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "v4-first.test", 3, record_cb,
                                            &result));
  run_until (resolver, &result.n_calls, 1);
  result_clear (&result);

  gmulti_resolver_free (resolver);
}

/* ------------------------------------------------------- a delegate */

/* An owner that takes names ending in ".owned" (and, with answer_at_once, answers
 * them inside lookup()); it keeps what it was asked and what it was told to forget. */
typedef struct {
  GMultiNameDelegate delegate;
  int ref_count;
  gboolean answer_at_once;
  GPtrArray *asked;         /* host names */
  GPtrArray *requests;      /* GMultiResolveRequest, unanswered, in order */
  GPtrArray *cancelled;     /* handles */
  guint n_handles;
} Owner;

static gboolean
owner_takes (GMultiNameDelegate *delegate,
             const char         *host)
{
  return g_str_has_suffix (host, ".owned");
}

static GMultiAddress
make_address (const char *literal)
{
  GMultiAddress address = { 0, };

  if (strchr (literal, ':') != NULL)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &address.addr;

      address.family = sin6->sin6_family = AF_INET6;
      address.addrlen = sizeof *sin6;
      g_assert_cmpint (inet_pton (AF_INET6, literal, &sin6->sin6_addr), ==, 1);
    }
  else
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &address.addr;

      address.family = sin->sin_family = AF_INET;
      address.addrlen = sizeof *sin;
      g_assert_cmpint (inet_pton (AF_INET, literal, &sin->sin_addr), ==, 1);
    }
  return address;
}

static void
owner_answer_literals (GMultiResolveRequest *request,
                       const char * const   *literals)
{
  GMultiAddress addresses[8];
  guint n = 0;

  for (; literals[n] != NULL; n++)
    addresses[n] = make_address (literals[n]);
  gmulti_resolver_answer (request, addresses, n, NULL);
}

static gpointer
owner_lookup (GMultiNameDelegate   *delegate,
              GMultiResolveRequest *request,
              const char           *host)
{
  Owner *self = delegate->data;

  g_ptr_array_add (self->asked, g_strdup (host));
  if (self->answer_at_once)
    owner_answer_literals (request, (const char *[]) { "127.0.0.1", NULL });
  else
    g_ptr_array_add (self->requests, request);
  /* A handle of its own, never NULL. */
  return GUINT_TO_POINTER (++self->n_handles);
}

static void
owner_cancel (GMultiNameDelegate *delegate,
              gpointer            handle)
{
  Owner *self = delegate->data;

  g_ptr_array_add (self->cancelled, handle);
}

static void
owner_ref (GMultiNameDelegate *delegate)
{
  ((Owner *) delegate->data)->ref_count++;
}

static void
owner_unref (GMultiNameDelegate *delegate)
{
  ((Owner *) delegate->data)->ref_count--;
}

static const GMultiNameDelegateOps owner_ops = {
  .takes = owner_takes,
  .lookup = owner_lookup,
  .cancel = owner_cancel,
  .ref = owner_ref,
  .unref = owner_unref,
};

static void
owner_init (Owner *self)
{
  memset (self, 0, sizeof *self);
  self->delegate.ops = &owner_ops;
  self->delegate.data = self;
  self->asked = g_ptr_array_new_with_free_func (g_free);
  self->requests = g_ptr_array_new ();
  self->cancelled = g_ptr_array_new ();
}

static void
owner_clear (Owner *self)
{
  /* Every reference the resolver and its requests took is back. */
  g_assert_cmpint (self->ref_count, ==, 0);
  g_ptr_array_unref (self->asked);
  g_ptr_array_unref (self->requests);
  g_ptr_array_unref (self->cancelled);
}

/* The owner's names go to it, in Happy Eyeballs order, every time (not cached); its
 * failure is the lookup's; other names still go to the threads; numeric ones never
 * reach it. */
static void
test_delegate (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result result = { 0, }, pool = { 0, };
  GMultiResolveRequest *request;
  Owner owner;

  owner_init (&owner);
  gmulti_resolver_set_delegate (resolver, &owner.delegate);
  g_assert_cmpint (owner.ref_count, ==, 1);

  for (guint round = 0; round < 2; round++)
    {
      request = gmulti_resolver_lookup (resolver, "host.owned", 8080, record_cb, &result);
      g_assert_nonnull (request);
      g_assert_cmpuint (owner.asked->len, ==, round + 1);
      g_assert_cmpstr (owner.asked->pdata[round], ==, "host.owned");
      g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 1);
      g_assert_true (owner.requests->pdata[0] == request);
      g_ptr_array_remove_index (owner.requests, 0);
      /* Nothing is called back from inside the owner's answer. */
      owner_answer_literals (request, (const char *[]) { "2001:db8::a", "2001:db8::b",
                                                         "192.0.2.1", "2001:db8::a",
                                                         NULL });
      g_assert_cmpuint (result.n_calls, ==, 0);
      run_until (resolver, &result.n_calls, 1);
      g_assert_no_error (result.error);
      check_addresses (result.addresses, 8080,
                       (const char *[]) { "2001:db8::a", "192.0.2.1", "2001:db8::b",
                                          NULL });
      g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);
      result_clear (&result);
    }

  /* A failure, as the owner words it. */
  request = gmulti_resolver_lookup (resolver, "broken.owned", 80, record_cb, &result);
  g_ptr_array_remove_index (owner.requests, 0);
  gmulti_resolver_answer (request, NULL, 0,
                          g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED,
                                               "the owner says no"));
  run_until (resolver, &result.n_calls, 1);
  g_assert_error (result.error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  g_assert_cmpstr (result.error->message, ==, "the owner says no");
  result_clear (&result);

  /* No address it can use (an empty answer) fails too. */
  request = gmulti_resolver_lookup (resolver, "empty.owned", 80, record_cb, &result);
  g_ptr_array_remove_index (owner.requests, 0);
  gmulti_resolver_answer (request, NULL, 0, NULL);
  run_until (resolver, &result.n_calls, 1);
  g_assert_error (result.error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  g_assert_nonnull (strstr (result.error->message, "empty.owned"));
  result_clear (&result);

  /* Declined names go to the threads; numeric ones are never asked about. */
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "dual.test", 443, record_cb, &pool));
  run_until (resolver, &pool.n_calls, 1);
  g_assert_no_error (pool.error);
  g_assert_null (gmulti_resolver_lookup (resolver, "192.0.2.9", 80, record_cb, &pool));
  g_assert_cmpuint (pool.n_calls, ==, 2);
  g_assert_cmpuint (owner.asked->len, ==, 4);
  g_assert_cmpuint (owner.cancelled->len, ==, 0);
  result_clear (&pool);

  gmulti_resolver_set_delegate (resolver, NULL);
  g_assert_cmpint (owner.ref_count, ==, 0);
  gmulti_resolver_free (resolver);
  owner_clear (&owner);
}

/* A lookup cancelled before its answer is forgotten by the owner; after its answer
 * it is simply not called back. Freeing the resolver makes the owner forget what it
 * still has. An answer given inside lookup() is called back from dispatch. */
static void
test_delegate_cancel (void)
{
  GMultiResolver *resolver = gmulti_resolver_new ();
  Result early = { 0, }, late = { 0, }, kept = { 0, }, orphan = { 0, };
  GMultiResolveRequest *request;
  Owner owner;

  owner_init (&owner);
  gmulti_resolver_set_delegate (resolver, &owner.delegate);

  request = gmulti_resolver_lookup (resolver, "a.owned", 80, record_cb, &early);
  gmulti_resolver_cancel (resolver, request);
  g_assert_cmpuint (owner.cancelled->len, ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (owner.cancelled->pdata[0]), ==, 1);
  g_assert_cmpuint (gmulti_resolver_get_n_pending (resolver), ==, 0);
  g_ptr_array_set_size (owner.requests, 0);

  /* Answered, then cancelled before the dispatch: the owner is not told (it answered),
   * and nobody is called back. */
  request = gmulti_resolver_lookup (resolver, "b.owned", 80, record_cb, &late);
  g_ptr_array_set_size (owner.requests, 0);
  owner_answer_literals (request, (const char *[]) { "192.0.2.1", NULL });
  gmulti_resolver_cancel (resolver, request);
  g_assert_cmpuint (owner.cancelled->len, ==, 1);

  owner.answer_at_once = TRUE;
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "c.owned", 81, record_cb, &kept));
  g_assert_cmpuint (kept.n_calls, ==, 0);
  run_until (resolver, &kept.n_calls, 1);
  check_addresses (kept.addresses, 81, (const char *[]) { "127.0.0.1", NULL });
  g_assert_cmpuint (late.n_calls, ==, 0);
  g_assert_cmpuint (owner.cancelled->len, ==, 1);

  /* The delegate changes: the lookup under way still belongs to the old one. */
  owner.answer_at_once = FALSE;
  g_assert_nonnull (gmulti_resolver_lookup (resolver, "d.owned", 80, record_cb, &orphan));
  gmulti_resolver_set_delegate (resolver, NULL);
  g_assert_cmpint (owner.ref_count, ==, 1);
  gmulti_resolver_free (resolver);
  g_assert_cmpuint (owner.cancelled->len, ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (owner.cancelled->pdata[1]), ==, 4);
  g_assert_cmpuint (early.n_calls + late.n_calls + orphan.n_calls, ==, 0);

  result_clear (&kept);
  owner_clear (&owner);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Resolver/numeric-ipv4", test_numeric_ipv4);
  g_test_add_func ("/GMulti/Resolver/numeric-ipv6", test_numeric_ipv6);
  g_test_add_func ("/GMulti/Resolver/localhost", test_localhost);
  g_test_add_func ("/GMulti/Resolver/nonexistent", test_nonexistent);
  g_test_add_func ("/GMulti/Resolver/cancel", test_cancel);
  g_test_add_func ("/GMulti/Resolver/cancel-in-flight", test_cancel_in_flight);
  g_test_add_func ("/GMulti/Resolver/order", test_order);
  g_test_add_func ("/GMulti/Resolver/delegate", test_delegate);
  g_test_add_func ("/GMulti/Resolver/delegate-cancel", test_delegate_cancel);
  g_test_add_func ("/GMulti/Resolver/system-error", test_system_error);
  g_test_add_func ("/GMulti/Resolver/free-idle", test_free_idle);
  g_test_add_func ("/GMulti/Resolver/free-in-flight", test_free_in_flight);
  g_test_add_func ("/GMulti/Resolver/free-racing", test_free_racing);
  g_test_add_func ("/GMulti/Resolver/free-in-callback", test_free_in_callback);
  g_test_add_func ("/GMulti/Resolver/cache", test_cache);
  g_test_add_func ("/GMulti/Resolver/cache-eviction", test_cache_eviction);

  return g_test_run ();
}
