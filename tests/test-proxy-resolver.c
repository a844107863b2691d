/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gmulti.h"
#include "test-daemons.h"
#include "test-server.h"
#include "test-wait.h"

/* Proxies chosen by a GProxyResolver: a resolver written here that answers what each
 * test tells it and counts what it is asked, GLib's GSimpleProxyResolver, and GLib's
 * default one (the libproxy module of glib-networking, and the direct-only fallback
 * that leaves the choice to the *_proxy variables), in front of Debian's squid and
 * microsocks, started here on loopback. */

#define WAIT_MS 15000

/* ------------------------------------------------------- a resolver of our own */

#define TEST_TYPE_PROXY_RESOLVER (test_proxy_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestProxyResolver, test_proxy_resolver, TEST, PROXY_RESOLVER, GObject)

struct _TestProxyResolver
{
  GObject parent_instance;
  char **answer;           /* what a lookup answers; NULL: error_message */
  char *error_message;
  gboolean hold;           /* keep each lookup until test_proxy_resolver_release() */
  GPtrArray *held;         /* GTask */
  GPtrArray *asked;        /* the URIs, in order */
};

static void test_proxy_resolver_iface_init (GProxyResolverInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestProxyResolver, test_proxy_resolver, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_PROXY_RESOLVER,
                                                      test_proxy_resolver_iface_init))

static void
answer_task (TestProxyResolver *self,
             GTask             *task)
{
  if (self->answer != NULL)
    g_task_return_pointer (task, g_strdupv (self->answer), (GDestroyNotify) g_strfreev);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", self->error_message);
}

/* Only gmulti_transfer_perform() asks synchronously. */
static char **
test_proxy_resolver_lookup (GProxyResolver  *resolver,
                            const char      *uri,
                            GCancellable    *cancellable,
                            GError         **error)
{
  TestProxyResolver *self = TEST_PROXY_RESOLVER (resolver);

  g_ptr_array_add (self->asked, g_strdup (uri));
  if (self->answer != NULL)
    return g_strdupv (self->answer);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", self->error_message);
  return NULL;
}

static void
test_proxy_resolver_lookup_async (GProxyResolver      *resolver,
                                  const char          *uri,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  TestProxyResolver *self = TEST_PROXY_RESOLVER (resolver);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_ptr_array_add (self->asked, g_strdup (uri));
  if (self->hold)
    {
      g_ptr_array_add (self->held, task);
      return;
    }
  answer_task (self, task);
  g_object_unref (task);
}

static char **
test_proxy_resolver_lookup_finish (GProxyResolver  *resolver,
                                   GAsyncResult    *result,
                                   GError         **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_proxy_resolver_iface_init (GProxyResolverInterface *iface)
{
  iface->lookup = test_proxy_resolver_lookup;
  iface->lookup_async = test_proxy_resolver_lookup_async;
  iface->lookup_finish = test_proxy_resolver_lookup_finish;
}

static void
test_proxy_resolver_finalize (GObject *object)
{
  TestProxyResolver *self = TEST_PROXY_RESOLVER (object);

  g_assert_cmpuint (self->held->len, ==, 0);
  g_ptr_array_unref (self->held);
  g_ptr_array_unref (self->asked);
  g_strfreev (self->answer);
  g_free (self->error_message);
  G_OBJECT_CLASS (test_proxy_resolver_parent_class)->finalize (object);
}

static void
test_proxy_resolver_class_init (TestProxyResolverClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_proxy_resolver_finalize;
}

static void
test_proxy_resolver_init (TestProxyResolver *self)
{
  self->held = g_ptr_array_new ();
  self->asked = g_ptr_array_new_with_free_func (g_free);
}

/* A resolver that answers @first (and @second, if any) for every URI. */
static TestProxyResolver *
test_proxy_resolver_new (const char *first,
                         const char *second)
{
  TestProxyResolver *self = g_object_new (TEST_TYPE_PROXY_RESOLVER, NULL);
  const char *answer[] = { first, second, NULL };

  self->answer = g_strdupv ((char **) answer);
  return self;
}

/* Answers the held lookups now, as the resolver would have. */
static void
test_proxy_resolver_release (TestProxyResolver *self)
{
  while (self->held->len > 0)
    {
      GTask *task = g_ptr_array_steal_index (self->held, 0);

      answer_task (self, task);
      g_object_unref (task);
    }
}

/* --------------------------------------------------- the real proxies */

/* A SOCKS5 server on loopback, without authentication. */
static gboolean
start_microsocks (Daemon *microsocks)
{
  static const char *const args[] = { "-i", "127.0.0.1", "-p", "PORT", NULL };

  return daemon_start (microsocks, "microsocks", NULL, args);
}

/* ------------------------------------------------------------ transfers */

static gboolean
origin_handler (TestServer  *server,
                TestConn    *conn,
                TestRequest *req,
                gpointer     user_data)
{
  return test_conn_respond (conn, 200, "text/plain", "hello", 5);
}

/* Runs @transfer in @session to its end. */
static void
run (GMultiSession  *session,
     GMultiTransfer *transfer)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gmulti_session_add (session, transfer, &error));
  g_assert_no_error (error);
  RUN_UNTIL (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE, WAIT_MS);
}

/* The transfer succeeded, through a proxy or not. */
static void
assert_ok (GMultiTransfer *transfer,
           gboolean        proxied)
{
  GMultiMetrics *metrics = gmulti_transfer_get_metrics (transfer);

  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  /* A connection reused (to squid, say) has no proxy time of its own. */
  if (proxied && !gmulti_metrics_get_connection_reused (metrics))
    g_assert_cmpint (gmulti_metrics_get_proxy_time (metrics), >, 0);
  else if (!proxied)
    g_assert_cmpint (gmulti_metrics_get_proxy_time (metrics), ==, 0);
}

/* The origin's last request came through squid. */
static void
assert_via_squid (TestServer *origin,
                  gboolean    via)
{
  g_autoptr(TestRequest) req = test_server_get_last_request (origin);

  g_assert_nonnull (req);
  if (via)
    g_assert_nonnull (test_request_get_header (req, "Via"));
  else
    g_assert_null (test_request_get_header (req, "Via"));
}

static GMultiTransfer *
transfer_for (TestServer *origin,
              const char *path)
{
  g_autofree char *uri = test_server_uri (origin, path);

  return gmulti_transfer_new (uri);
}

/* direct:// from the resolver: no proxy, and the resolver is given the origin, not
 * the path. */
static void
test_direct (void)
{
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestProxyResolver) resolver = test_proxy_resolver_new ("direct://", NULL);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/secret/path?q=1");
  g_autofree char *asked = g_strdup_printf ("http://127.0.0.1:%u/",
                                            test_server_get_port (origin));

  g_assert_null (gmulti_session_get_proxy_resolver (session));
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  g_assert_true (gmulti_session_get_proxy_resolver (session) == G_PROXY_RESOLVER (resolver));
  run (session, transfer);
  assert_ok (transfer, FALSE);
  g_assert_cmpuint (resolver->asked->len, ==, 1);
  g_assert_cmpstr (resolver->asked->pdata[0], ==, asked);
  g_clear_object (&session);
  g_assert_finalize_object (g_steal_pointer (&resolver));
}

/* An http:// proxy from the resolver, through squid: an entry gmulti cannot use comes
 * first and is passed over. */
static void
test_squid (void)
{
  Squid *squid;
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestProxyResolver) resolver = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *proxy = NULL;

  if ((squid = squid_start (NULL, NULL)) == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  proxy = squid_uri (squid, NULL);
  resolver = test_proxy_resolver_new ("gopher://127.0.0.1:70", proxy);
  session = gmulti_session_new ();
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  transfer = transfer_for (origin, "/a");
  run (session, transfer);
  assert_ok (transfer, TRUE);
  assert_via_squid (origin, TRUE);
  squid_stop (squid);
}

/* socks5:// from a resolver, as GLib's clients mean it, through microsocks. */
static void
test_socks (void)
{
  Daemon socks;
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestProxyResolver) resolver = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *proxy = NULL;

  if (!start_microsocks (&socks))
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  proxy = daemon_uri (&socks, "socks5");
  resolver = test_proxy_resolver_new (proxy, NULL);
  session = gmulti_session_new ();
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  transfer = transfer_for (origin, "/s");
  run (session, transfer);
  assert_ok (transfer, TRUE);
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 1);
  daemon_stop (&socks);
}

/* A lookup that fails ends the transfer, naming the resolver's reason; nothing is
 * sent, and the failure is not kept: the next transfer asks again. An answer without
 * a usable entry fails too. */
static void
test_error (void)
{
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestProxyResolver) resolver = g_object_new (TEST_TYPE_PROXY_RESOLVER, NULL);
  g_autoptr(TestProxyResolver) unusable = test_proxy_resolver_new ("gopher://p:70", NULL);
  g_autoptr(GMultiSession) session = gmulti_session_new ();

  resolver->error_message = g_strdup ("the PAC file is broken");
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/e");
      const GError *error;

      run (session, transfer);
      error = gmulti_transfer_get_error (transfer);
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_LOOKUP_FAILED);
      g_assert_nonnull (strstr (error->message, "the PAC file is broken"));
      g_assert_cmpuint (resolver->asked->len, ==, i + 1);
    }
  g_assert_cmpuint (test_server_get_n_accepted (origin), ==, 0);

  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (unusable));
  {
    g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/e");

    run (session, transfer);
    g_assert_error (gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                    GMULTI_ERROR_PROXY_INVALID);
  }
  g_assert_cmpuint (test_server_get_n_accepted (origin), ==, 0);
}

static void
count_finished_cb (GMultiSession  *session,
                   GMultiTransfer *transfer,
                   const GError   *error,
                   gpointer        user_data)
{
  (*(guint *) user_data)++;
}

/* A slow answer: the transfer waits (pending, its connect timeout running); removed
 * while it waits, its lookup is cancelled and the late answer reaches nobody. */
static void
test_slow_remove (void)
{
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestProxyResolver) resolver = test_proxy_resolver_new ("direct://", NULL);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/slow");
  g_autoptr(GMultiTransfer) timed = transfer_for (origin, "/timed");
  guint finished = 0;
  GTask *task;

  resolver->hold = TRUE;
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  g_signal_connect (session, "transfer-finished", G_CALLBACK (count_finished_cb), &finished);
  g_assert_true (gmulti_session_add (session, transfer, NULL));
  RUN_UNTIL (resolver->held->len == 1, WAIT_MS);
  /* Held for a while: it goes on waiting. */
  {
    gboolean later = FALSE;

    g_timeout_add (100, test_set_flag_cb, &later);
    RUN_UNTIL (later, WAIT_MS);
  }
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_PENDING);
  task = resolver->held->pdata[0];
  g_assert_false (g_cancellable_is_cancelled (g_task_get_cancellable (task)));

  gmulti_session_remove (session, transfer);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (task)));
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_IDLE);
  test_proxy_resolver_release (resolver);
  test_drain_context ();
  g_assert_cmpuint (finished, ==, 0);
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpuint (test_server_get_n_accepted (origin), ==, 0);

  /* The connect timeout covers the wait. */
  gmulti_transfer_set_connect_timeout (timed, 200);
  run (session, timed);
  g_assert_error (gmulti_transfer_get_error (timed), GMULTI_ERROR,
                  GMULTI_ERROR_CONNECT_TIMEOUT);
  g_assert_cmpuint (finished, ==, 1);
  g_assert_cmpuint (resolver->held->len, ==, 1);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (resolver->held->pdata[0])));
  test_proxy_resolver_release (resolver);
  test_drain_context ();

  /* The same origin again: asked afresh, and this time answered. */
  resolver->hold = FALSE;
  g_clear_object (&transfer);
  transfer = transfer_for (origin, "/slow");
  run (session, transfer);
  assert_ok (transfer, FALSE);
  g_assert_cmpuint (resolver->asked->len, ==, 3);
}

/* Once per origin: transfers to the same origin that start together share one
 * lookup, later ones use its answer; another port is another origin. */
static void
test_cache (void)
{
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestServer) other = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestProxyResolver) resolver = test_proxy_resolver_new ("direct://", NULL);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  GMultiTransfer *transfers[4];

  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  for (guint round = 0; round < 2; round++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
        {
          transfers[i] = transfer_for (i % 2 == 0 ? origin : other, "/c");
          g_assert_true (gmulti_session_add (session, transfers[i], NULL));
        }
      for (guint i = 0; i < G_N_ELEMENTS (transfers); i++)
        {
          RUN_UNTIL (gmulti_transfer_get_state (transfers[i]) == GMULTI_TRANSFER_DONE,
                     WAIT_MS);
          assert_ok (transfers[i], FALSE);
          g_object_unref (transfers[i]);
        }
      g_assert_cmpuint (resolver->asked->len, ==, 2);
    }
  g_assert_cmpuint (test_server_get_n_requests (origin) + test_server_get_n_requests (other),
                    ==, 8);

  /* A new resolver starts afresh. */
  g_clear_object (&resolver);
  resolver = test_proxy_resolver_new ("direct://", NULL);
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  transfers[0] = transfer_for (origin, "/c");
  run (session, transfers[0]);
  assert_ok (transfers[0], FALSE);
  g_object_unref (transfers[0]);
  g_assert_cmpuint (resolver->asked->len, ==, 1);
}

/* The order of the settings: the transfer's proxy-uri, its proxy-resolver, the
 * session's proxy-uri, the session's proxy-resolver. */
static void
test_precedence (void)
{
  Squid *squid;
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestProxyResolver) to_squid = NULL;
  g_autoptr(TestProxyResolver) direct = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autofree char *proxy = NULL;

  if ((squid = squid_start (NULL, NULL)) == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  proxy = squid_uri (squid, NULL);
  to_squid = test_proxy_resolver_new (proxy, NULL);
  direct = test_proxy_resolver_new ("direct://", NULL);
  session = gmulti_session_new ();
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (to_squid));

  /* The transfer's proxy-uri wins over every resolver, which is not asked. */
  {
    g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/1");

    gmulti_transfer_set_proxy_uri (transfer, "direct://");
    gmulti_transfer_set_proxy_resolver (transfer, G_PROXY_RESOLVER (to_squid));
    run (session, transfer);
    assert_ok (transfer, FALSE);
    assert_via_squid (origin, FALSE);
    g_assert_cmpuint (to_squid->asked->len, ==, 0);
  }
  /* The transfer's resolver wins over the session's proxy-uri and resolver. */
  gmulti_session_set_proxy_uri (session, "direct://");
  {
    g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/2");

    gmulti_transfer_set_proxy_resolver (transfer, G_PROXY_RESOLVER (to_squid));
    g_assert_true (gmulti_transfer_get_proxy_resolver (transfer) ==
                   G_PROXY_RESOLVER (to_squid));
    run (session, transfer);
    assert_ok (transfer, TRUE);
    assert_via_squid (origin, TRUE);
    g_assert_cmpuint (to_squid->asked->len, ==, 1);
  }
  /* The session's proxy-uri wins over its resolver. */
  {
    g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/3");

    run (session, transfer);
    assert_ok (transfer, FALSE);
    assert_via_squid (origin, FALSE);
  }
  /* Then the session's resolver; the transfer's own, direct, still wins. */
  gmulti_session_set_proxy_uri (session, NULL);
  {
    g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/4");
    g_autoptr(GMultiTransfer) own = transfer_for (origin, "/5");

    run (session, transfer);
    assert_ok (transfer, TRUE);
    assert_via_squid (origin, TRUE);
    g_object_set (own, "proxy-resolver", direct, NULL);
    run (session, own);
    assert_ok (own, FALSE);
    assert_via_squid (origin, FALSE);
    g_assert_cmpuint (direct->asked->len, ==, 1);
  }
  squid_stop (squid);
}

/* GLib's GSimpleProxyResolver through squid: its ignore list sends some hosts
 * direct. */
static void
test_simple_resolver (void)
{
  Squid *squid;
  const char *const ignore[] = { "localhost", NULL };
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(GProxyResolver) resolver = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autofree char *proxy = NULL;
  g_autofree char *ignored_uri = NULL;

  if ((squid = squid_start (NULL, NULL)) == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  proxy = squid_uri (squid, NULL);
  resolver = g_simple_proxy_resolver_new (proxy, (char **) ignore);
  session = g_object_new (GMULTI_TYPE_SESSION, "proxy-resolver", resolver, NULL);
  {
    g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/through");

    run (session, transfer);
    assert_ok (transfer, TRUE);
    assert_via_squid (origin, TRUE);
  }
  ignored_uri = g_strdup_printf ("http://localhost:%u/ignored", test_server_get_port (origin));
  {
    g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new (ignored_uri);

    run (session, transfer);
    assert_ok (transfer, FALSE);
    assert_via_squid (origin, FALSE);
  }
  squid_stop (squid);
}

/* gmulti_transfer_perform() asks the transfer's own resolver, blocking: through
 * squid, and a failure as in a session. */
static void
test_perform (void)
{
  Squid *squid;
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestProxyResolver) resolver = NULL;
  g_autoptr(TestProxyResolver) failing = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *proxy = NULL;

  if ((squid = squid_start (NULL, NULL)) == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  proxy = squid_uri (squid, NULL);
  resolver = test_proxy_resolver_new (proxy, NULL);
  transfer = transfer_for (origin, "/performed");
  gmulti_transfer_set_proxy_resolver (transfer, G_PROXY_RESOLVER (resolver));
  g_assert_true (gmulti_transfer_perform (transfer, NULL, &error));
  g_assert_no_error (error);
  assert_ok (transfer, TRUE);
  assert_via_squid (origin, TRUE);
  g_assert_cmpuint (resolver->asked->len, ==, 1);

  failing = g_object_new (TEST_TYPE_PROXY_RESOLVER, NULL);
  failing->error_message = g_strdup ("offline");
  gmulti_transfer_set_proxy_resolver (transfer, G_PROXY_RESOLVER (failing));
  g_assert_false (gmulti_transfer_perform (transfer, NULL, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_LOOKUP_FAILED);
  g_assert_nonnull (strstr (error->message, "offline"));
  squid_stop (squid);
}

/* ------------------------------------------------ failing over to later entries */

/* A proxy URI whose port nothing listens on (bound once, closed again): connecting
 * to it is refused at once. */
static char *
dead_proxy_uri (void)
{
  return g_strdup_printf ("http://127.0.0.1:%u", free_port ());
}

/* A proxy that never answers the connection: a listener whose accept queue is full,
 * so the kernel drops each further SYN and connect() waits. */
typedef struct {
  int listener;
  int fillers[2];
  guint16 port;
} Blackhole;

static void
blackhole_open (Blackhole *hole)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  socklen_t len = sizeof addr;

  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  hole->listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (hole->listener, >=, 0);
  g_assert_no_errno (bind (hole->listener, (struct sockaddr *) &addr, sizeof addr));
  g_assert_no_errno (listen (hole->listener, 0));
  g_assert_no_errno (getsockname (hole->listener, (struct sockaddr *) &addr, &len));
  hole->port = ntohs (addr.sin_port);
  /* A backlog of 0 holds one connection; the second one only waits. */
  for (guint i = 0; i < G_N_ELEMENTS (hole->fillers); i++)
    {
      hole->fillers[i] = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      g_assert_cmpint (hole->fillers[i], >=, 0);
      connect (hole->fillers[i], (struct sockaddr *) &addr, sizeof addr);
    }
  g_usleep (50 * G_TIME_SPAN_MILLISECOND);
}

static char *
blackhole_uri (Blackhole *hole)
{
  return g_strdup_printf ("http://127.0.0.1:%u", hole->port);
}

static void
blackhole_close (Blackhole *hole)
{
  for (guint i = 0; i < G_N_ELEMENTS (hole->fillers); i++)
    close (hole->fillers[i]);
  close (hole->listener);
}

/* squid's access log shows @n transactions for @needle. */
static void
assert_squid_logged (Squid      *squid,
                     const char *needle,
                     guint       n)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  /* It writes a line when a transaction ends, which may be after the answer. */
  while (squid_count_log (squid, needle) < n && g_get_monotonic_time () < deadline)
    g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (squid_count_log (squid, needle), ==, n);
}

/* A first proxy that cannot be reached: the transfer goes through the second, squid,
 * in a session and in gmulti_transfer_perform(). */
static void
test_failover_squid (void)
{
  Squid *squid = squid_start (NULL, NULL);
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestProxyResolver) resolver = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autoptr(GMultiTransfer) performed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dead = dead_proxy_uri ();
  g_autofree char *proxy = NULL;

  if (squid == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  proxy = squid_uri (squid, NULL);
  resolver = test_proxy_resolver_new (dead, proxy);
  session = gmulti_session_new ();
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  transfer = transfer_for (origin, "/failover-session");
  run (session, transfer);
  assert_ok (transfer, TRUE);
  assert_via_squid (origin, TRUE);
  assert_squid_logged (squid, "/failover-session", 1);

  performed = transfer_for (origin, "/failover-perform");
  gmulti_transfer_set_proxy_resolver (performed, G_PROXY_RESOLVER (resolver));
  g_assert_true (gmulti_transfer_perform (performed, NULL, &error));
  g_assert_no_error (error);
  assert_ok (performed, TRUE);
  assert_squid_logged (squid, "/failover-perform", 1);
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 2);
  squid_stop (squid);
}

/* A first proxy that cannot be reached, then direct://: the transfer goes direct, on
 * a connection of the origin's own. */
static void
test_failover_direct (void)
{
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autofree char *dead = dead_proxy_uri ();
  g_autoptr(TestProxyResolver) resolver = test_proxy_resolver_new (dead, "direct://");
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/d");

  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  run (session, transfer);
  assert_ok (transfer, FALSE);
  assert_via_squid (origin, FALSE);
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 1);

  /* The direct connection is pooled as direct: a transfer for the dead proxy does not
   * ride it. */
  g_clear_object (&transfer);
  transfer = transfer_for (origin, "/d");
  gmulti_transfer_set_proxy_uri (transfer, dead);
  run (session, transfer);
  g_assert_error (gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_PROXY_CONNECT_FAILED);
  g_assert_cmpuint (test_server_get_n_requests (origin), ==, 1);
}

/* Every entry unreachable: the transfer fails, soon, with the last one's error, each
 * time. */
static void
test_failover_exhausted (void)
{
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autofree char *first = dead_proxy_uri ();
  g_autofree char *second = dead_proxy_uri ();
  g_autoptr(TestProxyResolver) resolver = test_proxy_resolver_new (first, second);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/x");
  g_autofree char *last = g_strdup_printf ("%s:", second + strlen ("http://"));
  gint64 start = g_get_monotonic_time ();
  const GError *error;

  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  for (guint i = 0; i < 2; i++)
    {
      g_clear_object (&transfer);
      transfer = transfer_for (origin, "/x");
      run (session, transfer);
      error = gmulti_transfer_get_error (transfer);
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_CONNECT_FAILED);
      /* All failed: the next run tries them in order again. */
      g_assert_nonnull (strstr (error->message, last));
    }
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_server_get_n_accepted (origin), ==, 0);
  g_assert_cmpuint (resolver->asked->len, ==, 1);
}

/* A proxy that answers, if only with a refusal, is the transfer's proxy: its 407 is
 * the transfer's result, and the next entry is not tried. */
static void
test_failover_refused (void)
{
  Squid *squid = squid_start ("user", "secret");
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestProxyResolver) resolver = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *proxy = NULL;

  if (squid == NULL)
    return;
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  proxy = squid_uri (squid, NULL);
  resolver = test_proxy_resolver_new (proxy, "direct://");
  session = gmulti_session_new ();
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  transfer = transfer_for (origin, "/refused");
  run (session, transfer);
  g_assert_error (gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_PROXY_AUTH_REQUIRED);
  assert_squid_logged (squid, "TCP_DENIED/407", 1);
  g_assert_cmpuint (test_server_get_n_accepted (origin), ==, 0);
  squid_stop (squid);
}

/* A first proxy whose connection times out: the first transfer waits out its connect
 * timeout once and goes through squid; later transfers to the origin start with
 * squid and do not wait again. */
static void
test_failover_remembered (void)
{
  Squid *squid = squid_start (NULL, NULL);
  Blackhole hole;
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(TestProxyResolver) resolver = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autofree char *dead = NULL;
  g_autofree char *proxy = NULL;

  if (squid == NULL)
    return;
  blackhole_open (&hole);
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  dead = blackhole_uri (&hole);
  proxy = squid_uri (squid, NULL);
  resolver = test_proxy_resolver_new (dead, proxy);
  session = gmulti_session_new ();
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GMultiTransfer) transfer = transfer_for (origin, "/remembered");
      gint64 start = g_get_monotonic_time ();
      gint64 took;

      gmulti_transfer_set_connect_timeout (transfer, 600);
      run (session, transfer);
      took = g_get_monotonic_time () - start;
      assert_ok (transfer, TRUE);
      assert_via_squid (origin, TRUE);
      if (i == 0)
        g_assert_cmpint (took, >=, 600 * G_TIME_SPAN_MILLISECOND);
      else
        g_assert_cmpint (took, <, 500 * G_TIME_SPAN_MILLISECOND);
    }
  assert_squid_logged (squid, "/remembered", 3);
  g_assert_cmpuint (resolver->asked->len, ==, 1);
  blackhole_close (&hole);
  squid_stop (squid);
}

/* Removed, or its session dropped, while it tries a later entry: it stops there, and
 * nothing is left behind (the sanitizer and valgrind runs check the leaks). */
static void
test_failover_remove (void)
{
  Blackhole hole;
  g_autoptr(TestServer) origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestProxyResolver) resolver = NULL;
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *dead = dead_proxy_uri ();
  g_autofree char *hanging = NULL;
  guint finished = 0;

  blackhole_open (&hole);
  hanging = blackhole_uri (&hole);
  resolver = test_proxy_resolver_new (dead, hanging);
  gmulti_session_set_proxy_resolver (session, G_PROXY_RESOLVER (resolver));
  g_signal_connect (session, "transfer-finished", G_CALLBACK (count_finished_cb), &finished);
  for (guint round = 0; round < 2; round++)
    {
      gboolean later = FALSE;

      g_clear_object (&transfer);
      transfer = transfer_for (origin, "/removed");
      g_assert_true (gmulti_session_add (session, transfer, NULL));
      /* Refused by the first entry at once, then waiting for the second. */
      g_timeout_add (200, test_set_flag_cb, &later);
      RUN_UNTIL (later, WAIT_MS);
      g_assert_cmpint (gmulti_transfer_get_state (transfer), !=, GMULTI_TRANSFER_DONE);
      if (round == 0)
        {
          gmulti_session_remove (session, transfer);
          g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_IDLE);
        }
      else
        g_assert_finalize_object (g_steal_pointer (&session));
      test_drain_context ();
      g_assert_cmpuint (finished, ==, 0);
    }
  g_assert_cmpuint (test_server_get_n_accepted (origin), ==, 0);
  g_clear_object (&transfer);
  g_assert_finalize_object (g_steal_pointer (&resolver));
  blackhole_close (&hole);
}

/* ------------------------------------------------ GLib's default resolver */

/* In a process of its own, whose environment (GIO_USE_PROXY_RESOLVER, the *_proxy
 * variables) the parent set: GLib picks its default resolver once per process. One
 * session transfer to a loopback origin; TEST_PROXYRES_EXPECT says whether it must
 * come through squid, TEST_PROXYRES_RESOLVER which resolver GLib must have. */
static void
test_default_child (void)
{
  const char *expect = g_getenv ("TEST_PROXYRES_EXPECT");
  const char *type = g_getenv ("TEST_PROXYRES_RESOLVER");
  g_autoptr(TestServer) origin = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;

  if (expect == NULL)
    {
      g_test_skip ("run by the default-* tests");
      return;
    }
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (g_proxy_resolver_get_default ()), ==, type);
  origin = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  session = gmulti_session_new ();
  transfer = transfer_for (origin, "/default");
  run (session, transfer);
  assert_ok (transfer, g_str_equal (expect, "proxy"));
  assert_via_squid (origin, g_str_equal (expect, "proxy"));
}

/* Runs test_default_child() with GIO_USE_PROXY_RESOLVER=@module, http_proxy naming
 * squid and @no_proxy. */
static void
run_default_child (Squid      *squid,
                   const char *module,
                   const char *type,
                   const char *no_proxy,
                   const char *expect)
{
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree char *proxy = squid_uri (squid, NULL);
  g_autofree char *self = g_test_build_filename (G_TEST_BUILT, "test-proxy-resolver", NULL);
  const char *argv[] = { self, "-p", "/GMulti/ProxyResolver/default-child", NULL };
  const char *const names[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY" };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    envp = g_environ_unsetenv (envp, names[i]);
  envp = g_environ_setenv (envp, "GIO_USE_PROXY_RESOLVER", module, TRUE);
  envp = g_environ_setenv (envp, "http_proxy", proxy, TRUE);
  if (no_proxy != NULL)
    envp = g_environ_setenv (envp, "no_proxy", no_proxy, TRUE);
  envp = g_environ_setenv (envp, "TEST_PROXYRES_EXPECT", expect, TRUE);
  envp = g_environ_setenv (envp, "TEST_PROXYRES_RESOLVER", type, TRUE);
  g_test_message ("%s, no_proxy=%s: %s", module, no_proxy, expect);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_test_message ("child:\n%s%s", out, err);
  g_assert_no_error (error);
}

/* No resolver module (GLib's dummy): the *_proxy variables decide, by gmulti's own
 * rule, as for a bare engine. */
static void
test_default_dummy (void)
{
  Squid *squid;

  if ((squid = squid_start (NULL, NULL)) == NULL)
    return;
  run_default_child (squid, "dummy", "GDummyProxyResolver", NULL, "proxy");
  run_default_child (squid, "dummy", "GDummyProxyResolver", "127.0.0.0/8", "direct");
  /* gmulti's rule ignores a port on a no_proxy entry, as curl does. */
  run_default_child (squid, "dummy", "GDummyProxyResolver", "127.0.0.1:1", "direct");
  squid_stop (squid);
}

/* glib-networking's libproxy module, which reads the same variables: the session asks
 * it, as GLib's default resolver. */
static void
test_default_libproxy (void)
{
  GIOExtensionPoint *point;
  Squid *squid;

  /* Loads GIO's modules, which register their resolvers (this process's default is
   * the dummy, from the suite's environment). */
  g_proxy_resolver_get_default ();
  point = g_io_extension_point_lookup (G_PROXY_RESOLVER_EXTENSION_POINT_NAME);
  if (g_io_extension_point_get_extension_by_name (point, "libproxy") == NULL)
    {
      g_test_skip ("glib-networking's libproxy module is not installed "
                   "(tools/install-deps test)");
      return;
    }
  if ((squid = squid_start (NULL, NULL)) == NULL)
    return;
  run_default_child (squid, "libproxy", "GLibproxyResolver", NULL, "proxy");
  run_default_child (squid, "libproxy", "GLibproxyResolver", "127.0.0.1", "direct");
  /* libproxy's rule matches the port of an entry where gmulti's own ignores it
   * (test_default_dummy()): through squid shows that libproxy decided. */
  run_default_child (squid, "libproxy", "GLibproxyResolver", "127.0.0.1:1", "proxy");
  squid_stop (squid);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/GMulti/ProxyResolver/direct", test_direct);
  g_test_add_func ("/GMulti/ProxyResolver/squid", test_squid);
  g_test_add_func ("/GMulti/ProxyResolver/socks", test_socks);
  g_test_add_func ("/GMulti/ProxyResolver/error", test_error);
  g_test_add_func ("/GMulti/ProxyResolver/slow-remove", test_slow_remove);
  g_test_add_func ("/GMulti/ProxyResolver/cache", test_cache);
  g_test_add_func ("/GMulti/ProxyResolver/precedence", test_precedence);
  g_test_add_func ("/GMulti/ProxyResolver/simple-resolver", test_simple_resolver);
  g_test_add_func ("/GMulti/ProxyResolver/perform", test_perform);
  g_test_add_func ("/GMulti/ProxyResolver/failover-squid", test_failover_squid);
  g_test_add_func ("/GMulti/ProxyResolver/failover-direct", test_failover_direct);
  g_test_add_func ("/GMulti/ProxyResolver/failover-exhausted", test_failover_exhausted);
  g_test_add_func ("/GMulti/ProxyResolver/failover-refused", test_failover_refused);
  g_test_add_func ("/GMulti/ProxyResolver/failover-remembered", test_failover_remembered);
  g_test_add_func ("/GMulti/ProxyResolver/failover-remove", test_failover_remove);
  g_test_add_func ("/GMulti/ProxyResolver/default-dummy", test_default_dummy);
  g_test_add_func ("/GMulti/ProxyResolver/default-libproxy", test_default_libproxy);
  g_test_add_func ("/GMulti/ProxyResolver/default-child", test_default_child);
  return g_test_run ();
}
