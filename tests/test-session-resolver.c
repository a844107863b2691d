/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "gmulti.h"
#include "test-server.h"
#include "test-wait.h"

/* Names looked up by a GResolver: a resolver written here answers loopback addresses
 * for names that exist nowhere else (so that a transfer to http://made-up.test:PORT/
 * reaches the scripted server on 127.0.0.1 and ::1), counts what it is asked, fails
 * when told to, and holds its answers when told to; as the session's resolver
 * property, and as GLib's default resolver. */

#define WAIT_MS 10000

/* ------------------------------------------- the engine's threads, counted */

/* This program's getaddrinfo() comes before the C library's: ".test" names resolve
 * to 127.0.0.1 without a packet sent, and are counted, so a test sees whether a name
 * went to gmulti's own threads. Other names go to the C library. */
typedef struct {
  struct addrinfo ai;
  struct sockaddr_in sin;
} PoolAnswer;

static gint pool_lookups;        /* atomic */
static GMutex pool_lock;
static GHashTable *pool_answers; /* PoolAnswer handed out */

int
getaddrinfo (const char             *node,
             const char             *service,
             const struct addrinfo  *hints,
             struct addrinfo       **res)
{
  PoolAnswer *answer;

  if (node == NULL || !g_str_has_suffix (node, ".test"))
    {
      int (*real) (const char *, const char *, const struct addrinfo *,
                   struct addrinfo **) = dlsym (RTLD_NEXT, "getaddrinfo");

      return real (node, service, hints, res);
    }

  g_atomic_int_inc (&pool_lookups);
  answer = g_new0 (PoolAnswer, 1);
  answer->sin.sin_family = AF_INET;
  answer->sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  answer->ai.ai_family = AF_INET;
  answer->ai.ai_socktype = SOCK_STREAM;
  answer->ai.ai_addr = (struct sockaddr *) &answer->sin;
  answer->ai.ai_addrlen = sizeof answer->sin;
  g_mutex_lock (&pool_lock);
  if (pool_answers == NULL)
    pool_answers = g_hash_table_new (NULL, NULL);
  g_hash_table_add (pool_answers, answer);
  g_mutex_unlock (&pool_lock);
  *res = &answer->ai;
  return 0;
}

void
freeaddrinfo (struct addrinfo *res)
{
  gboolean ours;

  g_mutex_lock (&pool_lock);
  ours = pool_answers != NULL && g_hash_table_remove (pool_answers, res);
  g_mutex_unlock (&pool_lock);
  if (ours)
    g_free (res);
  else
    {
      void (*real) (struct addrinfo *) = dlsym (RTLD_NEXT, "freeaddrinfo");

      real (res);
    }
}

/* ------------------------------------------------------- a resolver of our own */

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver parent_instance;
  char **answer;           /* literals every lookup answers; NULL: error_message */
  char *error_message;
  GResolverError error_code;
  gboolean hold;           /* keep each lookup until test_resolver_release() */
  GPtrArray *held;         /* GTask */
  GPtrArray *asked;        /* the names, in order */
};

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static void
answer_task (TestResolver *self,
             GTask        *task)
{
  GList *list = NULL;

  if (self->answer == NULL)
    {
      g_task_return_new_error (task, G_RESOLVER_ERROR, self->error_code, "%s",
                               self->error_message);
      return;
    }
  for (guint i = 0; self->answer[i] != NULL; i++)
    list = g_list_append (list, g_inet_address_new_from_string (self->answer[i]));
  g_task_return_pointer (task, list, (GDestroyNotify) g_resolver_free_addresses);
}

static GList *
test_resolver_lookup_by_name (GResolver     *resolver,
                              const char    *hostname,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_error ("a session never looks a name up synchronously");
  return NULL;
}

static void
test_resolver_lookup_by_name_async (GResolver           *resolver,
                                    const char          *hostname,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_ptr_array_add (self->asked, g_strdup (hostname));
  if (self->hold)
    {
      /* Like a slow server that does not look at the cancellable. */
      g_ptr_array_add (self->held, task);
      return;
    }
  answer_task (self, task);
  g_object_unref (task);
}

static GList *
test_resolver_lookup_by_name_finish (GResolver     *resolver,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_finalize (GObject *object)
{
  TestResolver *self = TEST_RESOLVER (object);

  g_assert_cmpuint (self->held->len, ==, 0);
  g_ptr_array_unref (self->held);
  g_ptr_array_unref (self->asked);
  g_strfreev (self->answer);
  g_free (self->error_message);
  G_OBJECT_CLASS (test_resolver_parent_class)->finalize (object);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_resolver_finalize;
  resolver_class->lookup_by_name = test_resolver_lookup_by_name;
  resolver_class->lookup_by_name_async = test_resolver_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = test_resolver_lookup_by_name_finish;
}

static void
test_resolver_init (TestResolver *self)
{
  self->held = g_ptr_array_new ();
  self->asked = g_ptr_array_new_with_free_func (g_free);
}

/* Answers ::1 then 127.0.0.1 for every name. */
static TestResolver *
test_resolver_new (void)
{
  TestResolver *self = g_object_new (TEST_TYPE_RESOLVER, NULL);
  const char *answer[] = { "::1", "127.0.0.1", NULL };

  self->answer = g_strdupv ((char **) answer);
  return self;
}

/* Answers the held lookups now, cancelled or not, as a resolver that did not look
 * would. */
static void
test_resolver_release (TestResolver *self)
{
  while (self->held->len > 0)
    {
      GTask *task = g_ptr_array_steal_index (self->held, 0);

      answer_task (self, task);
      g_object_unref (task);
    }
}

/* ------------------------------------------------------------- helpers */

static gboolean
origin_handler (TestServer  *server,
                TestConn    *conn,
                TestRequest *req,
                gpointer     user_data)
{
  return test_conn_respond (conn, 200, "text/plain", "hello", 5);
}

static void
run (GMultiSession  *session,
     GMultiTransfer *transfer)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gmulti_session_add (session, transfer, &error));
  g_assert_no_error (error);
  RUN_UNTIL (gmulti_transfer_get_state (transfer) == GMULTI_TRANSFER_DONE, WAIT_MS);
}

static GMultiTransfer *
transfer_to (const char *host,
             TestServer *server,
             const char *path)
{
  g_autofree char *uri = g_strdup_printf ("http://%s:%u%s", host,
                                          test_server_get_port (server), path);

  return gmulti_transfer_new (uri);
}

static void
assert_ok (GMultiTransfer *transfer)
{
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
}

/* notify, connected swapped: the count comes first. */
static void
count_cb (guint *count)
{
  (*count)++;
}

static void
count_finished_cb (GMultiSession  *session,
                   GMultiTransfer *transfer,
                   const GError   *error,
                   gpointer        user_data)
{
  (*(guint *) user_data)++;
}

/* Waits @ms with the context running. */
static void
run_for (guint ms)
{
  gboolean later = FALSE;

  g_timeout_add (ms, test_set_flag_cb, &later);
  RUN_UNTIL (later, WAIT_MS);
}

/* ----------------------------------------------------------------- tests */

/* A made-up name reaches the server through the session's resolver, asked once per
 * new connection (gmulti keeps no cache of its answers), never for a numeric host;
 * the proxy's name goes the same way. */
static void
test_made_up_name (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4 | TEST_SERVER_IPV6,
                                                  origin_handler, NULL);
  g_autoptr(TestServer) other = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestResolver) resolver = test_resolver_new ();
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GResolver) got = NULL;
  guint notified = 0;
  gint pool_before = g_atomic_int_get (&pool_lookups);

  g_assert_null (gmulti_session_get_resolver (session));
  g_signal_connect_swapped (session, "notify::resolver", G_CALLBACK (count_cb), &notified);
  gmulti_session_set_resolver (session, G_RESOLVER (resolver));
  gmulti_session_set_resolver (session, G_RESOLVER (resolver));
  g_assert_cmpuint (notified, ==, 1);
  g_object_get (session, "resolver", &got, NULL);
  g_assert_true (got == G_RESOLVER (resolver));

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GMultiTransfer) transfer = transfer_to ("made-up.test", server, "/a");
      g_autoptr(TestRequest) req = NULL;
      g_autofree char *host = g_strdup_printf ("made-up.test:%u",
                                               test_server_get_port (server));

      run (session, transfer);
      assert_ok (transfer);
      req = test_server_get_last_request (server);
      g_assert_cmpstr (test_request_get_header (req, "Host"), ==, host);
    }
  /* The second transfer took the first one's connection. */
  g_assert_cmpuint (resolver->asked->len, ==, 1);
  g_assert_cmpstr (resolver->asked->pdata[0], ==, "made-up.test");
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 1);

  /* A new connection asks again, even for a name answered a moment ago. */
  {
    g_autoptr(GMultiTransfer) transfer = transfer_to ("made-up.test", other, "/b");

    run (session, transfer);
    assert_ok (transfer);
    g_assert_cmpuint (resolver->asked->len, ==, 2);
  }

  /* IPv6 alone, where the server has it. */
  if (test_server_has_ipv6 (server))
    {
      g_autoptr(GMultiTransfer) transfer = transfer_to ("six.test", server, "/6");
      const char *six[] = { "::1", NULL };

      g_strfreev (resolver->answer);
      resolver->answer = g_strdupv ((char **) six);
      run (session, transfer);
      assert_ok (transfer);
      g_assert_cmpstr (resolver->asked->pdata[resolver->asked->len - 1], ==, "six.test");
    }

  /* A numeric host is never looked up. */
  {
    g_autoptr(GMultiTransfer) transfer = transfer_to ("127.0.0.1", other, "/n");
    guint asked = resolver->asked->len;

    run (session, transfer);
    assert_ok (transfer);
    g_assert_cmpuint (resolver->asked->len, ==, asked);
  }

  /* The proxy's name too: the scripted server answers as the proxy would. */
  {
    g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://origin.test/p");
    g_autofree char *proxy = g_strdup_printf ("http://proxy.test:%u",
                                              test_server_get_port (other));
    g_autoptr(TestRequest) req = NULL;
    const char *loopback[] = { "127.0.0.1", NULL };

    g_strfreev (resolver->answer);
    resolver->answer = g_strdupv ((char **) loopback);
    gmulti_transfer_set_proxy_uri (transfer, proxy);
    run (session, transfer);
    assert_ok (transfer);
    g_assert_cmpstr (resolver->asked->pdata[resolver->asked->len - 1], ==, "proxy.test");
    req = test_server_get_last_request (other);
    g_assert_cmpstr (req->target, ==, "http://origin.test/p");
  }

  /* Nothing went to the threads. */
  g_assert_cmpint (g_atomic_int_get (&pool_lookups), ==, pool_before);
  gmulti_session_set_resolver (session, NULL);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_null (gmulti_session_get_resolver (session));
  g_clear_object (&got);
  g_clear_object (&session);
  test_drain_context ();
  g_assert_finalize_object (g_steal_pointer (&resolver));
}

/* A failed lookup ends the transfer with RESOLVE_FAILED, keeping the resolver's
 * message; nothing is sent. */
static void
test_error (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestResolver) resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = transfer_to ("nowhere.test", server, "/e");
  const GError *error;

  resolver->error_message = g_strdup ("no such name in this test");
  /* Not the code's own equivalent (NOT_FOUND): the resolver's error is carried. */
  resolver->error_code = G_RESOLVER_ERROR_TEMPORARY_FAILURE;
  g_object_set (session, "resolver", resolver, NULL);
  run (session, transfer);
  error = gmulti_transfer_get_error (transfer);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED);
  g_assert_true (gmulti_error_matches (error, G_RESOLVER_ERROR,
                                       G_RESOLVER_ERROR_TEMPORARY_FAILURE));
  g_assert_false (gmulti_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND));
  g_assert_nonnull (strstr (error->message, "no such name in this test"));
  g_assert_nonnull (strstr (error->message, "nowhere.test"));
  g_assert_cmpuint (resolver->asked->len, ==, 1);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 0);
}

/* A slow answer: the transfer waits; removed meanwhile, its lookup is cancelled and
 * the late answer reaches nobody. The session going away cancels a lookup too. */
static void
test_slow_remove (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestResolver) resolver = test_resolver_new ();
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = transfer_to ("slow.test", server, "/slow");
  guint finished = 0;
  GTask *task;

  resolver->hold = TRUE;
  gmulti_session_set_resolver (session, G_RESOLVER (resolver));
  g_signal_connect (session, "transfer-finished", G_CALLBACK (count_finished_cb), &finished);
  g_assert_true (gmulti_session_add (session, transfer, NULL));
  RUN_UNTIL (resolver->held->len == 1, WAIT_MS);
  run_for (100);
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_PENDING);
  task = resolver->held->pdata[0];
  g_assert_false (g_cancellable_is_cancelled (g_task_get_cancellable (task)));

  gmulti_session_remove (session, transfer);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (task)));
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_IDLE);
  test_resolver_release (resolver);
  test_drain_context ();
  run_for (50);
  g_assert_cmpuint (finished, ==, 0);
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 0);

  /* Added again, answered this time. */
  resolver->hold = FALSE;
  run (session, transfer);
  assert_ok (transfer);
  g_assert_cmpuint (resolver->asked->len, ==, 2);

  /* Disposed while a lookup waits. */
  {
    g_autoptr(GMultiTransfer) waiting = transfer_to ("gone.test", server, "/g");

    resolver->hold = TRUE;
    g_assert_true (gmulti_session_add (session, waiting, NULL));
    RUN_UNTIL (resolver->held->len == 1, WAIT_MS);
    task = resolver->held->pdata[0];
    g_clear_object (&session);
    g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (task)));
    test_resolver_release (resolver);
    test_drain_context ();
  }
  g_assert_finalize_object (g_steal_pointer (&resolver));
}

/* The connect timeout covers a lookup that takes too long. */
static void
test_connect_timeout (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestResolver) resolver = test_resolver_new ();
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = transfer_to ("slow.test", server, "/t");
  gint64 start;

  resolver->hold = TRUE;
  gmulti_session_set_resolver (session, G_RESOLVER (resolver));
  gmulti_session_set_connect_timeout (session, 200);
  start = g_get_monotonic_time ();
  run (session, transfer);
  g_assert_error (gmulti_transfer_get_error (transfer), GMULTI_ERROR,
                  GMULTI_ERROR_CONNECT_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 190 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (resolver->held->len, ==, 1);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (resolver->held->pdata[0])));
  test_resolver_release (resolver);
  test_drain_context ();
  g_assert_cmpuint (test_server_get_n_accepted (server), ==, 0);
}

/* Without the property, GLib's default resolver answers once the application replaced
 * it with g_resolver_set_default(); while it is GLib's own, gmulti's threads do. Each
 * step talks to a server of its own, so that each needs a new connection. */
static void
test_set_default (void)
{
  g_autoptr(TestServer) server = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestServer) second = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestServer) third = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(TestServer) fourth = test_server_new (TEST_SERVER_IPV4, origin_handler, NULL);
  g_autoptr(GResolver) original = g_resolver_get_default ();
  g_autoptr(TestResolver) resolver = test_resolver_new ();
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  guint pool_before = g_atomic_int_get (&pool_lookups);

  g_assert_cmpstr (G_OBJECT_TYPE_NAME (original), ==, "GThreadedResolver");

  /* GLib's own: the threads. */
  {
    g_autoptr(GMultiTransfer) transfer = transfer_to ("made-up.test", server, "/t");

    run (session, transfer);
    assert_ok (transfer);
    g_assert_cmpuint (g_atomic_int_get (&pool_lookups), ==, pool_before + 1);
  }

  g_resolver_set_default (G_RESOLVER (resolver));
  {
    g_autoptr(GMultiTransfer) transfer = transfer_to ("made-up.test", second, "/d");

    run (session, transfer);
    assert_ok (transfer);
    g_assert_cmpuint (resolver->asked->len, ==, 1);
    g_assert_cmpstr (resolver->asked->pdata[0], ==, "made-up.test");
    g_assert_cmpuint (g_atomic_int_get (&pool_lookups), ==, pool_before + 1);
  }

  /* The session's property wins over the default. */
  {
    g_autoptr(TestResolver) own = test_resolver_new ();
    g_autoptr(GMultiTransfer) transfer = transfer_to ("made-up.test", third, "/o");

    gmulti_session_set_resolver (session, G_RESOLVER (own));
    run (session, transfer);
    assert_ok (transfer);
    g_assert_cmpuint (own->asked->len, ==, 1);
    g_assert_cmpuint (resolver->asked->len, ==, 1);
    gmulti_session_set_resolver (session, NULL);
  }

  /* GLib's own again: the threads again. */
  g_resolver_set_default (original);
  {
    g_autoptr(GMultiTransfer) transfer = transfer_to ("made-up.test", fourth, "/t");

    run (session, transfer);
    assert_ok (transfer);
    g_assert_cmpuint (resolver->asked->len, ==, 1);
    g_assert_cmpuint (g_atomic_int_get (&pool_lookups), ==, pool_before + 2);
  }
  g_clear_object (&session);
  test_drain_context ();
  g_assert_finalize_object (g_steal_pointer (&resolver));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/GMulti/SessionResolver/made-up-name", test_made_up_name);
  g_test_add_func ("/GMulti/SessionResolver/error", test_error);
  g_test_add_func ("/GMulti/SessionResolver/slow-remove", test_slow_remove);
  g_test_add_func ("/GMulti/SessionResolver/connect-timeout", test_connect_timeout);
  g_test_add_func ("/GMulti/SessionResolver/set-default", test_set_default);
  return g_test_run ();
}
