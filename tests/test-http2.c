/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gmulti.h"
#include "engine-loop.h"
#include "test-certs.h"
#include "test-server.h"

/* HTTP/2 against real servers on loopback, started and stopped here: nghttpd (prior
 * knowledge over plain TCP, ALPN over TLS, a small MAX_CONCURRENT_STREAMS) and nginx
 * with http2 on its TLS port; the scripted server as an HTTP/1.1-only TLS server.
 * test-http2-scripted.c has the frames these servers never send. */

#define LARGE_SIZE (6 * 1024 * 1024)
#define N_FILES 50

typedef struct {
  GPid pid;
  guint16 port;
} Server;

static char *certs;
static char *docroot;
/* Text that compresses well, served gzip-coded by nginx. */
#define TEXT_SIZE (300 * 1024)
static GBytes *text;
static char *nginx_dir;
static Server h2c;          /* nghttpd --no-tls */
static Server h2c_narrow;   /* nghttpd --no-tls -m 2 */
static Server h2s;          /* nghttpd over TLS */
static Server nginx;        /* nginx: h2 and http/1.1 over TLS */
static GPtrArray *files;    /* GBytes of /f/0.. /f/N-1 */
static GBytes *large;

static char *
cert (const char *name)
{
  return g_build_filename (certs, name, NULL);
}

static guint16
free_port (void)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  close (fd);
  return ntohs (addr.sin_port);
}

/* Waits (bounded) until something accepts on @port. */
static void
wait_for_port (guint16 port)
{
  for (guint i = 0; i < 200; i++)
    {
      struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      int fd = socket (AF_INET, SOCK_STREAM, 0);
      int r = connect (fd, (struct sockaddr *) &addr, sizeof addr);

      close (fd);
      if (r == 0)
        return;
      g_usleep (25 * 1000);
    }
  g_error ("no server came up on port %u", port);
}

/* A server must not outlive a test that aborts. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
start (Server     *server,
       const char *const *argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_spawn_async (NULL, (char **) argv, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                      G_SPAWN_STDERR_TO_DEV_NULL, child_setup, NULL,
                      &server->pid, &error))
    g_error ("could not start %s: %s", argv[0], error->message);
  wait_for_port (server->port);
}

static void
stop (Server *server)
{
  if (server->pid == 0)
    return;
  kill (server->pid, SIGTERM);
  waitpid (server->pid, NULL, 0);
  g_spawn_close_pid (server->pid);
  server->pid = 0;
}

static void
start_nghttpd (Server     *server,
               gboolean    tls,
               const char *max_streams)
{
  g_autofree char *port = NULL;
  g_autofree char *key = cert ("server-key.pem");
  g_autofree char *crt = cert ("server.pem");
  const char *argv[12];
  guint n = 0;

  server->port = free_port ();
  port = g_strdup_printf ("%u", server->port);
  argv[n++] = "/usr/sbin/nghttpd";
  argv[n++] = "-a";
  argv[n++] = "127.0.0.1";
  argv[n++] = "-d";
  argv[n++] = docroot;
  argv[n++] = "--echo-upload";
  if (max_streams != NULL)
    argv[n++] = max_streams;
  if (!tls)
    argv[n++] = "--no-tls";
  argv[n++] = port;
  if (tls)
    {
      argv[n++] = key;
      argv[n++] = crt;
    }
  argv[n] = NULL;
  start (server, argv);
}

static void
start_nginx (void)
{
  g_autofree char *conf = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *key = cert ("server-key.pem");
  g_autofree char *crt = cert ("server.pem");
  const char *argv[8];

  nginx_dir = g_dir_make_tmp ("gmulti-h2-nginx-XXXXXX", NULL);
  g_assert_nonnull (nginx_dir);
  nginx.port = free_port ();
  conf = g_strdup_printf ("%s"
                          "worker_processes 1;\n"
                          "daemon off;\n"
                          "pid %s/nginx.pid;\n"
                          "error_log %s/error.log warn;\n"
                          "events { worker_connections 256; }\n"
                          "http {\n"
                          "  access_log off;\n"
                          "  client_body_temp_path %s/body;\n"
                          "  proxy_temp_path %s/proxy;\n"
                          "  fastcgi_temp_path %s/fastcgi;\n"
                          "  uwsgi_temp_path %s/uwsgi;\n"
                          "  scgi_temp_path %s/scgi;\n"
                          "  default_type application/octet-stream;\n"
                          "  server {\n"
                          "    listen 127.0.0.1:%u ssl http2;\n"
                          "    ssl_certificate %s;\n"
                          "    ssl_certificate_key %s;\n"
                          "    root %s;\n"
                          "    location = /nothing { return 204; }\n"
                          "    location = /old { return 301 /f/1; }\n"
                          "    location /text { gzip on; gzip_types *; gzip_min_length 0; }\n"
                          "  }\n"
                          "}\n",
                          getuid () == 0 ? "user root;\n" : "",
                          nginx_dir, nginx_dir, nginx_dir, nginx_dir, nginx_dir, nginx_dir,
                          nginx_dir, nginx.port, crt, key, docroot);
  conf_path = g_build_filename (nginx_dir, "nginx.conf", NULL);
  g_assert_true (g_file_set_contents (conf_path, conf, -1, NULL));
  argv[0] = "/usr/sbin/nginx";
  argv[1] = "-e";
  argv[2] = "/dev/null";
  argv[3] = "-p";
  argv[4] = nginx_dir;
  argv[5] = "-c";
  argv[6] = conf_path;
  argv[7] = NULL;
  start (&nginx, argv);
}

static GBytes *
make_content (gsize size,
              guint seed)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) ((i * 131 + seed) >> 3);
  return g_bytes_new_take (data, size);
}

static void
write_file (const char *name,
            GBytes     *content)
{
  g_autofree char *path = g_build_filename (docroot, name, NULL);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (content, NULL),
                                      g_bytes_get_size (content), NULL));
  g_chmod (path, 0644);
}

static GBytes *
make_text (gsize size)
{
  GString *out = g_string_sized_new (size + 64);

  for (guint i = 0; out->len < size; i++)
    g_string_append_printf (out, "line %u of the text, with words that repeat\n", i);
  g_string_truncate (out, size);
  return g_string_free_to_bytes (out);
}

static void
write_files (void)
{
  g_autofree char *dir = NULL;

  docroot = g_dir_make_tmp ("gmulti-h2-root-XXXXXX", NULL);
  g_assert_nonnull (docroot);
  g_chmod (docroot, 0755);
  dir = g_build_filename (docroot, "f", NULL);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  files = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < N_FILES; i++)
    {
      g_autofree char *name = g_strdup_printf ("f/%u", i);
      GBytes *content = make_content (1 + i * 997 + (i % 5) * 40000, i);

      write_file (name, content);
      g_ptr_array_add (files, content);
    }
  large = make_content (LARGE_SIZE, 7);
  write_file ("large", large);
  text = make_text (TEXT_SIZE);
  write_file ("text", text);
}

static void
remove_tree (const char *dir)
{
  g_autofree char *argv0 = g_find_program_in_path ("rm");
  const char *argv[] = { argv0, "-rf", dir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL,
                NULL);
}

static GMultiTransfer *
transfer_for (const Server *server,
              const char   *path)
{
  gboolean tls = server != &h2c && server != &h2c_narrow;
  g_autofree char *uri = g_strdup_printf ("%s://127.0.0.1:%u%s", tls ? "https" : "http",
                                          server->port, path);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  if (tls)
    {
      g_autofree char *ca = cert ("ca.pem");

      gmulti_transfer_set_tls_ca_file (transfer, ca);
    }
  else
    gmulti_transfer_set_http_version (transfer, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
  return transfer;
}

static guint64
connection_of (GMultiTransfer *transfer)
{
  return gmulti_metrics_get_connection_id (gmulti_transfer_get_metrics (transfer));
}

static void
assert_body (GMultiTransfer *transfer,
             GBytes         *expected)
{
  g_autoptr(GBytes) body = gmulti_transfer_get_response_body (transfer);

  g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
  g_assert_nonnull (body);
  g_assert_cmpuint (g_bytes_get_size (body), ==, g_bytes_get_size (expected));
  g_assert_true (g_bytes_equal (body, expected));
}

static void
run_all (EngineLoop *loop)
{
  g_assert_true (engine_loop_run (loop, 60000));
  g_assert_cmpuint (loop->n_contract_violations, ==, 0);
}

/* GET and HEAD with prior knowledge: the version used is HTTP/2. */
static void
test_get_head (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) get = transfer_for (&h2c, "/f/3");
  g_autoptr(GMultiTransfer) head = transfer_for (&h2c, "/f/3");
  g_autoptr(GMultiTransfer) missing = transfer_for (&h2c, "/missing");
  g_autoptr(GMultiTransfer) big = transfer_for (&h2c, "/large");

  g_assert_cmpint (gmulti_transfer_get_http_version_used (get), ==, GMULTI_HTTP_VERSION_AUTO);
  g_assert_true (gmulti_transfer_set_method (head, "HEAD", NULL));
  gmulti_engine_add (loop->engine, get);
  gmulti_engine_add (loop->engine, head);
  gmulti_engine_add (loop->engine, missing);
  gmulti_engine_add (loop->engine, big);
  run_all (loop);

  assert_body (get, files->pdata[3]);
  assert_body (big, large);
  /* The server's Content-Length, read from the HEADERS frame. */
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (get), ==,
                   g_bytes_get_size (files->pdata[3]));
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (big), ==, g_bytes_get_size (large));
  g_assert_cmpuint (gmulti_transfer_get_status (get), ==, 200);
  g_assert_cmpint (gmulti_transfer_get_http_version_used (get), ==, GMULTI_HTTP_VERSION_HTTP_2);
  g_assert_cmpint (gmulti_metrics_get_http_version (gmulti_transfer_get_metrics (get)), ==,
                   GMULTI_HTTP_VERSION_HTTP_2);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (head));
  g_assert_cmpuint (gmulti_transfer_get_status (head), ==, 200);
  g_assert_cmpint (gmulti_transfer_get_bytes_received (head), ==, 0);
  g_assert_cmpuint (gmulti_transfer_get_status (missing), ==, 404);
  g_assert_cmpuint (connection_of (get), ==, connection_of (head));
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);
}

typedef struct {
  GBytes *source;
  gsize offset;
  guint calls;
} Reader;

static void
iterate_until (EngineLoop *loop,
               gboolean  (*done) (gpointer),
               gpointer    data)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!done (data) && g_get_monotonic_time () < end)
    engine_loop_iterate (loop, 20);
  g_assert_true (done (data));
}

static gssize
read_cb (GMultiTransfer *transfer,
         guint8         *buffer,
         gsize           length,
         gpointer        user_data,
         GError        **error)
{
  Reader *reader = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (reader->source, &size);
  gsize n = MIN (length, size - reader->offset);

  reader->calls++;
  memcpy (buffer, data + reader->offset, n);
  reader->offset += n;
  return (gssize) n;
}

/* Pauses its transfer once, after a first piece of the body. */
static gssize
pausing_read_cb (GMultiTransfer *transfer,
                 guint8         *buffer,
                 gsize           length,
                 gpointer        user_data,
                 GError        **error)
{
  Reader *reader = user_data;
  gssize n = read_cb (transfer, buffer, length, user_data, error);

  if (reader->calls == 1)
    gmulti_transfer_pause (transfer);
  return n;
}

static gboolean
is_paused (gpointer data)
{
  return gmulti_transfer_is_paused (data);
}

/* Over HTTP/2 a pause holds back the upload too: no more is read until resumed. */
static void
test_pause_upload (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) transfer = transfer_for (&h2c, "/f/0");
  g_autoptr(GBytes) body = make_content (2 * 1024 * 1024, 5);
  Reader reader = { body, 0, 0 };

  g_assert_true (gmulti_transfer_set_method (transfer, "PUT", NULL));
  g_assert_true (gmulti_transfer_set_request_body_func (transfer, pausing_read_cb,
                                                        (gint64) g_bytes_get_size (body),
                                                        &reader, NULL));
  gmulti_engine_add (loop->engine, transfer);
  iterate_until (loop, is_paused, transfer);
  for (guint i = 0; i < 10; i++)
    engine_loop_iterate (loop, 10);
  g_assert_cmpuint (reader.calls, ==, 1);
  g_assert_cmpuint (reader.offset, <, g_bytes_get_size (body));

  gmulti_transfer_resume (transfer);
  run_all (loop);
  assert_body (transfer, body);
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, g_bytes_get_size (body));
}

/* Bodies larger than the server's windows, from bytes and from a read function of
 * unknown length: nghttpd echoes them. */
static void
test_post (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) from_bytes = transfer_for (&h2c, "/f/0");
  g_autoptr(GMultiTransfer) from_func = transfer_for (&h2c, "/f/0");
  g_autoptr(GBytes) func_body = make_content (3 * 1024 * 1024 + 17, 3);
  Reader reader = { func_body, 0, 0 };

  g_assert_true (gmulti_transfer_set_method (from_bytes, "POST", NULL));
  gmulti_transfer_set_request_body (from_bytes, large);
  g_assert_true (gmulti_transfer_set_method (from_func, "PUT", NULL));
  g_assert_true (gmulti_transfer_set_request_body_func (from_func, read_cb, -1, &reader, NULL));
  gmulti_engine_add (loop->engine, from_bytes);
  gmulti_engine_add (loop->engine, from_func);
  run_all (loop);

  assert_body (from_bytes, large);
  assert_body (from_func, func_body);
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (from_bytes), ==, LARGE_SIZE);
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (from_func), ==, g_bytes_get_size (func_body));
  /* Never asked for more than a frame at a time. */
  g_assert_cmpuint (reader.calls, >, g_bytes_get_size (func_body) / (64 * 1024));
}

/* Fifty transfers to one origin, added at once, share one connection. */
static void
test_many_one_connection (const Server *server)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < N_FILES; i++)
    {
      g_autofree char *path = g_strdup_printf ("/f/%u", i);
      GMultiTransfer *transfer = transfer_for (server, path);

      g_ptr_array_add (transfers, transfer);
      gmulti_engine_add (loop->engine, transfer);
    }
  run_all (loop);
  for (guint i = 0; i < N_FILES; i++)
    {
      GMultiTransfer *transfer = transfers->pdata[i];

      assert_body (transfer, files->pdata[i]);
      g_assert_cmpint (gmulti_transfer_get_http_version_used (transfer), ==,
                       GMULTI_HTTP_VERSION_HTTP_2);
      g_assert_cmpuint (connection_of (transfer), ==, connection_of (transfers->pdata[0]));
    }
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
}

static void
test_many_prior_knowledge (void)
{
  test_many_one_connection (&h2c);
}

static void
test_many_alpn (void)
{
  test_many_one_connection (&h2s);
}

/* The server takes two streams at a time: the rest wait in the pool's queue. */
static void
test_max_concurrent (void)
{
  test_many_one_connection (&h2c_narrow);
}

typedef struct {
  guint64 bytes;
  gboolean pause_at_first;
  gboolean paused;
} Sink;

static gboolean
sink_cb (GMultiTransfer *transfer,
         const guint8   *data,
         gsize           length,
         gpointer        user_data)
{
  Sink *sink = user_data;

  sink->bytes += length;
  if (sink->pause_at_first && !sink->paused)
    {
      sink->paused = TRUE;
      gmulti_transfer_pause (transfer);
    }
  return TRUE;
}

static gboolean
has_bytes (gpointer data)
{
  return gmulti_transfer_get_bytes_received (data) > 0;
}

static gboolean
sink_has_bytes (gpointer data)
{
  return ((Sink *) data)->bytes > 0;
}

/* Removed in the middle of its body: only its stream is reset; the siblings complete
 * on the same connection, which is reused afterwards. */
static void
test_remove_mid_body (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) victim = transfer_for (&h2c, "/large");
  g_autoptr(GMultiTransfer) sibling1 = transfer_for (&h2c, "/large");
  g_autoptr(GMultiTransfer) sibling2 = transfer_for (&h2c, "/f/7");
  g_autoptr(GMultiTransfer) after = transfer_for (&h2c, "/f/9");

  gmulti_engine_add (loop->engine, victim);
  gmulti_engine_add (loop->engine, sibling1);
  gmulti_engine_add (loop->engine, sibling2);
  iterate_until (loop, has_bytes, victim);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (victim), <, LARGE_SIZE);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, victim), ==, GMULTI_ENGINE_OK);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
  run_all (loop);

  assert_body (sibling1, large);
  assert_body (sibling2, files->pdata[7]);
  g_assert_cmpuint (connection_of (sibling1), ==, connection_of (victim));
  g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop->engine), ==, 1);

  gmulti_engine_add (loop->engine, after);
  run_all (loop);
  assert_body (after, files->pdata[9]);
  g_assert_cmpuint (connection_of (after), ==, connection_of (sibling1));
  g_assert_true (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (after)));
}

/* Removed while holding one of the server's two stream slots, and while waiting for one. */
static void
test_remove_early (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  GMultiTransfer *holding_slot, *queued;

  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *path = g_strdup_printf ("/f/%u", i);
      GMultiTransfer *transfer = transfer_for (&h2c_narrow, i < 2 ? "/large" : path);

      g_ptr_array_add (transfers, transfer);
      gmulti_engine_add (loop->engine, transfer);
    }
  /* The two large ones hold the server's two slots; the others wait. */
  iterate_until (loop, has_bytes, transfers->pdata[0]);
  holding_slot = transfers->pdata[0];
  queued = transfers->pdata[7];
  g_assert_cmpint (gmulti_transfer_get_state (queued), ==, GMULTI_TRANSFER_PENDING);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, queued), ==, GMULTI_ENGINE_OK);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, holding_slot), ==, GMULTI_ENGINE_OK);
  run_all (loop);
  for (guint i = 1; i < 7; i++)
    {
      GMultiTransfer *transfer = transfers->pdata[i];

      assert_body (transfer, i < 2 ? large : files->pdata[i]);
      g_assert_cmpuint (connection_of (transfer), ==, connection_of (transfers->pdata[1]));
    }
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);

  /* Removed right after it was added, before its head went out. */
  {
    g_autoptr(GMultiTransfer) gone = transfer_for (&h2c, "/f/1");
    g_autoptr(GMultiTransfer) stays = transfer_for (&h2c, "/f/2");
    g_autoptr(EngineLoop) loop2 = engine_loop_new ();

    gmulti_engine_add (loop2->engine, stays);
    gmulti_engine_add (loop2->engine, gone);
    engine_loop_iterate (loop2, 0);
    gmulti_engine_remove (loop2->engine, gone);
    run_all (loop2);
    assert_body (stays, files->pdata[2]);
    g_assert_cmpuint (gmulti_engine_get_n_idle_connections (loop2->engine), ==, 1);
  }
}

/* A TCP relay in front of a server that holds back the server's bytes until the test
 * lets them through, so that a client's TLS handshake through it is under way (its
 * ClientHello sent, nothing answered) for as long as the test likes. It counts the
 * connections it accepted. */
#define RELAY_MAX 8

typedef struct {
  int listen_fd;
  guint16 port;
  guint16 upstream;
  gint open;                    /* atomic: the server's bytes may pass */
  gint accepted;                /* atomic */
  gint client_bytes;            /* atomic: what the clients sent */
  gint stop;                    /* atomic */
  GThread *thread;
} Relay;

static int
connect_loopback (guint16 port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  return fd;
}

/* Moves what @from has to @to; FALSE once either side is gone. */
static gboolean
relay_pass (int   from,
            int   to,
            gint *counter)
{
  guint8 buffer[16384];
  gssize n = recv (from, buffer, sizeof buffer, 0);

  if (n <= 0)
    return FALSE;
  if (counter != NULL)
    g_atomic_int_add (counter, (gint) n);
  for (gssize sent = 0; sent < n;)
    {
      gssize r = send (to, buffer + sent, (gsize) (n - sent), MSG_NOSIGNAL);

      if (r <= 0)
        return FALSE;
      sent += r;
    }
  return TRUE;
}

static gpointer
relay_thread (gpointer data)
{
  Relay *relay = data;
  int client[RELAY_MAX], server[RELAY_MAX];
  gboolean gone[RELAY_MAX];
  guint n = 0;

  while (!g_atomic_int_get (&relay->stop))
    {
      struct pollfd fds[1 + 2 * RELAY_MAX];
      gboolean open = g_atomic_int_get (&relay->open);
      guint polled = n;

      fds[0] = (struct pollfd) { relay->listen_fd, POLLIN, 0 };
      for (guint i = 0; i < n; i++)
        {
          fds[1 + 2 * i] = (struct pollfd) { client[i], POLLIN, 0 };
          fds[2 + 2 * i] = (struct pollfd) { server[i], open ? POLLIN : 0, 0 };
        }
      if (poll (fds, 1 + 2 * n, 20) <= 0)
        continue;
      for (guint i = 0; i < polled; i++)
        {
          gone[i] = FALSE;
          if (fds[1 + 2 * i].revents != 0)
            gone[i] = !relay_pass (client[i], server[i], &relay->client_bytes);
          if (!gone[i] && fds[2 + 2 * i].revents != 0)
            gone[i] = !relay_pass (server[i], client[i], NULL);
        }
      for (guint i = polled; i-- > 0;)
        if (gone[i])
          {
            close (client[i]);
            close (server[i]);
            client[i] = client[n - 1];
            server[i] = server[n - 1];
            n--;
          }
      if ((fds[0].revents & POLLIN) != 0 && n < RELAY_MAX)
        {
          int fd = accept4 (relay->listen_fd, NULL, NULL, SOCK_CLOEXEC);

          if (fd >= 0)
            {
              client[n] = fd;
              server[n] = connect_loopback (relay->upstream);
              n++;
              g_atomic_int_inc (&relay->accepted);
            }
        }
    }
  for (guint i = 0; i < n; i++)
    {
      close (client[i]);
      close (server[i]);
    }
  return NULL;
}

static Relay *
relay_start (guint16 upstream)
{
  Relay *relay = g_new0 (Relay, 1);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;

  relay->upstream = upstream;
  relay->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (relay->listen_fd, >=, 0);
  g_assert_cmpint (bind (relay->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (relay->listen_fd, 16), ==, 0);
  g_assert_cmpint (getsockname (relay->listen_fd, (struct sockaddr *) &addr, &len), ==, 0);
  relay->port = ntohs (addr.sin_port);
  relay->thread = g_thread_new ("relay", relay_thread, relay);
  return relay;
}

static void
relay_free (Relay *relay)
{
  g_atomic_int_set (&relay->stop, TRUE);
  g_thread_join (relay->thread);
  close (relay->listen_fd);
  g_free (relay);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Relay, relay_free)

static gboolean
relay_heard_client (gpointer data)
{
  Relay *relay = data;

  return g_atomic_int_get (&relay->client_bytes) > 0;
}

/* The transfer that opened the connection is removed during its TLS handshake: the
 * connection goes on for the transfers that wait for it, which all ride it. The relay
 * in front of nginx accepted one connection. */
static void
test_remove_during_handshake (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(Relay) relay = relay_start (nginx.port);
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  Server through_relay = { 0, relay->port };
  GMultiTransfer *opener;

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *path = g_strdup_printf ("/f/%u", i);
      GMultiTransfer *transfer = transfer_for (&through_relay, path);

      g_ptr_array_add (transfers, transfer);
      gmulti_engine_add (loop->engine, transfer);
    }
  opener = transfers->pdata[0];
  /* The ClientHello went and nothing came back: the handshake is under way. */
  iterate_until (loop, relay_heard_client, relay);
  g_assert_cmpint (gmulti_transfer_get_state (opener), ==, GMULTI_TRANSFER_CONNECTING);
  for (guint i = 1; i < transfers->len; i++)
    g_assert_cmpint (gmulti_transfer_get_state (transfers->pdata[i]), ==,
                     GMULTI_TRANSFER_PENDING);
  g_assert_cmpint (gmulti_engine_remove (loop->engine, opener), ==, GMULTI_ENGINE_OK);
  /* Turns in which another connection would have been opened. */
  for (guint i = 0; i < 5; i++)
    engine_loop_iterate (loop, 10);
  g_assert_cmpint (g_atomic_int_get (&relay->accepted), ==, 1);

  g_atomic_int_set (&relay->open, TRUE);
  run_all (loop);
  g_assert_cmpint (gmulti_transfer_get_state (opener), ==, GMULTI_TRANSFER_IDLE);
  for (guint i = 1; i < transfers->len; i++)
    {
      GMultiTransfer *transfer = transfers->pdata[i];

      assert_body (transfer, files->pdata[i]);
      g_assert_cmpint (gmulti_transfer_get_http_version_used (transfer), ==,
                       GMULTI_HTTP_VERSION_HTTP_2);
      g_assert_cmpuint (connection_of (transfer), ==, connection_of (transfers->pdata[1]));
    }
  /* The heir got the connection as a new one. */
  g_assert_false (gmulti_metrics_get_connection_reused (gmulti_transfer_get_metrics (transfers->pdata[1])));
  g_assert_cmpint (g_atomic_int_get (&relay->accepted), ==, 1);
  g_assert_cmpuint (gmulti_engine_get_n_connections (loop->engine), ==, 1);
}

static gboolean
is_done (gpointer data)
{
  return gmulti_transfer_get_state (data) == GMULTI_TRANSFER_DONE;
}

/* One paused stream does not hold back the others; resumed, it completes. */
static void
test_pause_one (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) paused = transfer_for (&h2c, "/large");
  g_autoptr(GMultiTransfer) other1 = transfer_for (&h2c, "/large");
  g_autoptr(GMultiTransfer) other2 = transfer_for (&h2c, "/f/11");
  Sink sink = { 0, TRUE, FALSE };
  guint64 at_pause;

  gmulti_transfer_set_write_func (paused, sink_cb, &sink, NULL);
  gmulti_engine_add (loop->engine, paused);
  gmulti_engine_add (loop->engine, other1);
  gmulti_engine_add (loop->engine, other2);
  iterate_until (loop, sink_has_bytes, &sink);
  iterate_until (loop, is_done, other1);
  iterate_until (loop, is_done, other2);
  assert_body (other1, large);
  assert_body (other2, files->pdata[11]);

  /* Nothing more was delivered while paused. */
  at_pause = sink.bytes;
  g_assert_true (gmulti_transfer_is_paused (paused));
  for (guint i = 0; i < 10; i++)
    engine_loop_iterate (loop, 10);
  g_assert_cmpuint (sink.bytes, ==, at_pause);
  g_assert_cmpuint (sink.bytes, <, LARGE_SIZE);

  gmulti_transfer_resume (paused);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (paused));
  g_assert_cmpuint (sink.bytes, ==, LARGE_SIZE);
  g_assert_cmpuint (connection_of (paused), ==, connection_of (other1));
}

typedef struct {
  GFile *file;
  GOutputStream *stream;
} FileSink;

static void
file_sink_open (FileSink       *sink,
                GMultiTransfer *transfer,
                const char     *dir,
                guint           i)
{
  g_autofree char *name = g_strdup_printf ("%s/out-%u", dir, i);

  sink->file = g_file_new_for_path (name);
  sink->stream = G_OUTPUT_STREAM (g_file_replace (sink->file, NULL, FALSE,
                                                  G_FILE_CREATE_NONE, NULL, NULL));
  g_assert_nonnull (sink->stream);
  gmulti_transfer_set_output_stream (transfer, sink->stream);
}

static void
file_sink_check (FileSink *sink,
                 GBytes   *expected)
{
  g_autoptr(GBytes) written = NULL;

  g_assert_true (g_output_stream_close (sink->stream, NULL, NULL));
  written = g_file_load_bytes (sink->file, NULL, NULL, NULL);
  g_assert_nonnull (written);
  g_assert_cmpuint (g_bytes_get_size (written), ==, g_bytes_get_size (expected));
  g_assert_true (g_bytes_equal (written, expected));
  g_file_delete (sink->file, NULL, NULL);
  g_clear_object (&sink->stream);
  g_clear_object (&sink->file);
}

static guint64
file_size (GFile *file)
{
  g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                 G_FILE_QUERY_INFO_NONE, NULL, NULL);

  return g_file_info_get_size (info);
}

static void
pause_once_cb (GMultiTransfer *transfer,
               gboolean       *paused)
{
  if (!*paused)
    {
      *paused = TRUE;
      gmulti_transfer_pause (transfer);
    }
}

/* Bodies bound for files, many streams at once on one connection (the DATA of one read
 * goes out in one write per stream), over TLS and without; one of them paused after
 * its first bytes and resumed; a file that is full fails its transfer only. */
static void
test_output_files (gconstpointer data)
{
  const Server *server = data;
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *dir = g_dir_make_tmp ("gmulti-h2-out-XXXXXX", NULL);
  g_autoptr(GMultiTransfer) full = transfer_for (server, "/large");
  g_autoptr(GOutputStream) dev_full = NULL;
  int full_fd = open ("/dev/full", O_WRONLY | O_CLOEXEC);
  FileSink sinks[8] = { { 0 } };
  gboolean paused = FALSE;
  guint64 at_pause;

  g_assert_nonnull (dir);
  for (guint i = 0; i < G_N_ELEMENTS (sinks); i++)
    {
      g_autofree char *path = i % 2 == 0 ? g_strdup ("/large")
                                         : g_strdup_printf ("/f/%u", 40 + i);
      GMultiTransfer *transfer = transfer_for (server, path);

      file_sink_open (&sinks[i], transfer, dir, i);
      g_ptr_array_add (transfers, transfer);
    }
  g_signal_connect (transfers->pdata[0], "progress", G_CALLBACK (pause_once_cb), &paused);
  g_assert_cmpint (full_fd, >=, 0);
  dev_full = g_unix_output_stream_new (full_fd, TRUE);
  gmulti_transfer_set_output_stream (full, dev_full);

  for (guint i = 0; i < transfers->len; i++)
    gmulti_engine_add (loop->engine, transfers->pdata[i]);
  gmulti_engine_add (loop->engine, full);
  for (guint i = 1; i < transfers->len; i++)
    iterate_until (loop, is_done, transfers->pdata[i]);
  iterate_until (loop, is_done, full);

  /* Paused after the first bytes: nothing more reached its file meanwhile. */
  g_assert_true (paused);
  g_assert_true (gmulti_transfer_is_paused (transfers->pdata[0]));
  at_pause = file_size (sinks[0].file);
  g_assert_cmpuint (at_pause, >, 0);
  g_assert_cmpuint (at_pause, <, LARGE_SIZE);
  for (guint i = 0; i < 10; i++)
    engine_loop_iterate (loop, 10);
  g_assert_cmpuint (file_size (sinks[0].file), ==, at_pause);
  gmulti_transfer_resume (transfers->pdata[0]);
  run_all (loop);

  for (guint i = 0; i < transfers->len; i++)
    {
      GMultiTransfer *transfer = transfers->pdata[i];

      g_assert_no_error ((GError *) gmulti_transfer_get_error (transfer));
      g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==,
                        i % 2 == 0 ? LARGE_SIZE
                                   : g_bytes_get_size (files->pdata[40 + i]));
      g_assert_cmpuint (connection_of (transfer), ==, connection_of (transfers->pdata[1]));
      file_sink_check (&sinks[i], i % 2 == 0 ? large : files->pdata[40 + i]);
    }
  g_assert_error ((GError *) gmulti_transfer_get_error (full), GMULTI_ERROR,
                  GMULTI_ERROR_OUTPUT_FAILED);
  g_assert_cmpuint (connection_of (full), ==, connection_of (transfers->pdata[1]));
  g_rmdir (dir);
}

/* nginx: ALPN h2; 204 and 304 without a body; a redirect; a wish for HTTP/1.1 gets
 * it from the same server. */
static void
test_nginx (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) get = transfer_for (&nginx, "/f/5");
  g_autoptr(GMultiTransfer) nothing = transfer_for (&nginx, "/nothing");
  g_autoptr(GMultiTransfer) old = transfer_for (&nginx, "/old");
  g_autoptr(GMultiTransfer) h1 = transfer_for (&nginx, "/f/6");
  g_autoptr(GMultiTransfer) conditional = NULL;
  const char *etag;

  gmulti_transfer_set_follow_redirects (old, TRUE);
  gmulti_transfer_set_http_version (h1, GMULTI_HTTP_VERSION_HTTP_1_1);
  gmulti_engine_add (loop->engine, get);
  gmulti_engine_add (loop->engine, nothing);
  gmulti_engine_add (loop->engine, old);
  gmulti_engine_add (loop->engine, h1);
  run_all (loop);

  assert_body (get, files->pdata[5]);
  g_assert_cmpint (gmulti_transfer_get_http_version_used (get), ==, GMULTI_HTTP_VERSION_HTTP_2);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (nothing));
  g_assert_cmpuint (gmulti_transfer_get_status (nothing), ==, 204);
  assert_body (old, files->pdata[1]);
  g_assert_true (g_str_has_suffix (gmulti_transfer_get_effective_uri (old), "/f/1"));
  assert_body (h1, files->pdata[6]);
  g_assert_cmpint (gmulti_transfer_get_http_version_used (h1), ==, GMULTI_HTTP_VERSION_HTTP_1_1);
  g_assert_cmpint (gmulti_metrics_get_http_version (gmulti_transfer_get_metrics (h1)), ==,
                   GMULTI_HTTP_VERSION_HTTP_1_1);
  g_assert_cmpuint (connection_of (h1), !=, connection_of (get));

  etag = gmulti_headers_get_one (gmulti_transfer_get_response_headers (get), "ETag");
  g_assert_nonnull (etag);
  conditional = transfer_for (&nginx, "/f/5");
  g_assert_true (gmulti_transfer_add_request_header (conditional, "If-None-Match", etag, NULL));
  gmulti_engine_add (loop->engine, conditional);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (conditional));
  g_assert_cmpuint (gmulti_transfer_get_status (conditional), ==, 304);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (conditional), ==, 0);
  g_assert_cmpuint (connection_of (conditional), ==, connection_of (get));
}

/* A gzip-coded body over HTTP/2 is decoded as it streams in, like over HTTP/1.1. */
static void
test_content_coding (void)
{
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) coded = transfer_for (&nginx, "/text");

  gmulti_transfer_set_decode_content (coded, TRUE);
  gmulti_engine_add (loop->engine, coded);
  run_all (loop);

  assert_body (coded, text);
  g_assert_cmpint (gmulti_transfer_get_http_version_used (coded), ==, GMULTI_HTTP_VERSION_HTTP_2);
  g_assert_true (gmulti_transfer_get_content_decoded (coded));
  g_assert_cmpstr (gmulti_headers_get_one (gmulti_transfer_get_response_headers (coded),
                                           "Content-Encoding"), ==, "gzip");
  g_assert_cmpuint (gmulti_transfer_get_wire_bytes_received (coded), <, TEXT_SIZE / 4);
}

static gboolean
h1_handler (TestServer  *server,
            TestConn    *conn,
            TestRequest *req,
            gpointer     user_data)
{
  test_conn_respond (conn, 200, "text/plain", "h1", 2);
  return TRUE;
}

/* A TLS server without h2: AUTO falls back to HTTP/1.1, a wish for HTTP/2 fails. */
static void
test_alpn_fallback (void)
{
  g_autofree char *cert_file = cert ("server.pem");
  g_autofree char *key_file = cert ("server-key.pem");
  TestTlsOptions options = { .cert_file = cert_file, .key_file = key_file };
  g_autoptr(TestServer) server = test_server_new_tls (TEST_SERVER_IPV4, &options,
                                                      h1_handler, NULL);
  Server h1 = { 0, test_server_get_port (server) };
  g_autoptr(EngineLoop) loop = engine_loop_new ();
  g_autoptr(GMultiTransfer) automatic = transfer_for (&h1, "/a");
  g_autoptr(GMultiTransfer) automatic2 = transfer_for (&h1, "/b");
  g_autoptr(GMultiTransfer) required = transfer_for (&h1, "/c");
  g_autoptr(GMultiTransfer) cleartext = gmulti_transfer_new ("http://127.0.0.1:1/");

  gmulti_engine_add (loop->engine, automatic);
  gmulti_engine_add (loop->engine, automatic2);
  run_all (loop);
  g_assert_no_error ((GError *) gmulti_transfer_get_error (automatic));
  g_assert_no_error ((GError *) gmulti_transfer_get_error (automatic2));
  g_assert_cmpint (gmulti_transfer_get_http_version_used (automatic), ==,
                   GMULTI_HTTP_VERSION_HTTP_1_1);
  /* They waited to see whether the first connection multiplexes, then went on. */
  g_assert_cmpuint (gmulti_transfer_get_status (automatic2), ==, 200);

  gmulti_transfer_set_http_version (required, GMULTI_HTTP_VERSION_HTTP_2);
  gmulti_engine_add (loop->engine, required);
  run_all (loop);
  g_assert_error ((GError *) gmulti_transfer_get_error (required), GMULTI_ERROR,
                  GMULTI_ERROR_HTTP2_REQUIRED);

  /* HTTP/2 over http:// needs prior knowledge: asked for plainly, it fails at once. */
  gmulti_transfer_set_http_version (cleartext, GMULTI_HTTP_VERSION_HTTP_2);
  gmulti_engine_add (loop->engine, cleartext);
  run_all (loop);
  g_assert_error ((GError *) gmulti_transfer_get_error (cleartext), GMULTI_ERROR,
                  GMULTI_ERROR_HTTP2_REQUIRED);
}

typedef struct {
  GMainLoop *loop;
  guint left;
} Waiter;

static void
finished_cb (GMultiSession  *session,
             GMultiTransfer *transfer,
             const GError   *error,
             Waiter         *waiter)
{
  if (--waiter->left == 0)
    g_main_loop_quit (waiter->loop);
}

static gboolean
session_timeout_cb (gpointer data)
{
  g_error ("the session did not finish in time");
  return G_SOURCE_REMOVE;
}

/* A session on a main loop, over TLS: every transfer rides the one HTTP/2 connection,
 * within the session's limit of six per origin. */
static void
test_session (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMainLoop) main_loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  Waiter waiter = { main_loop, 20 };
  guint timeout_id;

  g_signal_connect (session, "transfer-finished", G_CALLBACK (finished_cb), &waiter);
  for (guint i = 0; i < waiter.left; i++)
    {
      g_autofree char *path = g_strdup_printf ("/f/%u", i);
      GMultiTransfer *transfer = transfer_for (&h2s, path);

      g_ptr_array_add (transfers, transfer);
      g_assert_true (gmulti_session_add (session, transfer, NULL));
    }
  timeout_id = g_timeout_add_seconds (60, session_timeout_cb, NULL);
  g_main_loop_run (main_loop);
  g_source_remove (timeout_id);

  for (guint i = 0; i < transfers->len; i++)
    {
      assert_body (transfers->pdata[i], files->pdata[i]);
      g_assert_cmpint (gmulti_transfer_get_http_version_used (transfers->pdata[i]), ==,
                       GMULTI_HTTP_VERSION_HTTP_2);
      g_assert_cmpuint (connection_of (transfers->pdata[i]), ==,
                        connection_of (transfers->pdata[0]));
    }
}

/* The seed's calls from a session's signal handlers, over one HTTP/2 connection: from
 * the first "data" of one of three large streams the second is removed, the third
 * paused (and resumed from a timeout) and a new transfer added; one transfer removes
 * itself from its "response-headers"; a "transfer-finished" handler adds one more. */
typedef struct {
  GMultiSession *session;
  GMainLoop *loop;
  GMultiTransfer *large[3];
  GMultiTransfer *driver, *removed, *paused;   /* roles of the three, once one acted */
  GMultiTransfer *added, *self_removed, *chained;
  gboolean acted;
  gboolean resumed;
  gboolean data_while_paused;
  gboolean removed_reported;    /* a removed transfer's transfer-finished: never */
  guint after_removal;          /* signals of the removed ones after their removal */
  guint finished;
} SignalPlay;

static gboolean
play_resume_cb (gpointer data)
{
  SignalPlay *play = data;

  play->resumed = TRUE;
  gmulti_transfer_resume (play->paused);
  return G_SOURCE_REMOVE;
}

static void
play_large_data_cb (GMultiTransfer *transfer,
                    GBytes         *chunk,
                    SignalPlay     *play)
{
  guint others = 0;

  if (play->acted)
    {
      if (transfer == play->paused && gmulti_transfer_is_paused (transfer))
        play->data_while_paused = TRUE;
      if (transfer == play->removed)
        play->after_removal++;
      return;
    }
  /* The first of the three to deliver anything drives: the other two have had none
   * of their bodies yet, so neither can have completed. */
  play->acted = TRUE;
  play->driver = transfer;
  for (guint i = 0; i < G_N_ELEMENTS (play->large); i++)
    if (play->large[i] != transfer)
      *(others++ == 0 ? &play->removed : &play->paused) = play->large[i];
  gmulti_session_remove (play->session, play->removed);
  gmulti_transfer_pause (play->paused);
  g_assert_true (gmulti_session_add (play->session, play->added, NULL));
  g_timeout_add (300, play_resume_cb, play);
}

static void
play_count_cb (GObject    *object,
               gpointer    data,
               SignalPlay *play)
{
  play->after_removal++;
}

static void
play_self_remove_cb (GMultiTransfer *transfer,
                     guint           status,
                     GMultiHeaders  *headers,
                     SignalPlay     *play)
{
  gmulti_session_remove (play->session, transfer);
  /* Its body may be in the same read: none of it is reported, nor its end. */
  g_signal_connect (transfer, "data", G_CALLBACK (play_count_cb), play);
  g_signal_connect (transfer, "finished", G_CALLBACK (play_count_cb), play);
}

static void
play_finished_cb (GMultiSession  *session,
                  GMultiTransfer *transfer,
                  const GError   *error,
                  SignalPlay     *play)
{
  if ((play->removed != NULL && transfer == play->removed) || transfer == play->self_removed)
    play->removed_reported = TRUE;
  if (transfer == play->added)
    g_assert_true (gmulti_session_add (session, play->chained, NULL));
  /* The driver, the paused one, the added one and the chained one. */
  if (++play->finished == 4)
    g_main_loop_quit (play->loop);
}

static void
test_session_signals (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMainLoop) main_loop = g_main_loop_new (NULL, FALSE);
  SignalPlay play = {
    .session = session,
    .loop = main_loop,
    .self_removed = transfer_for (&h2s, "/f/7"),
    .added = transfer_for (&h2s, "/f/3"),
    .chained = transfer_for (&h2s, "/f/4"),
  };
  guint timeout_id;

  g_signal_connect (session, "transfer-finished", G_CALLBACK (play_finished_cb), &play);
  for (guint i = 0; i < G_N_ELEMENTS (play.large); i++)
    {
      play.large[i] = transfer_for (&h2s, "/large");
      g_signal_connect (play.large[i], "data", G_CALLBACK (play_large_data_cb), &play);
      g_assert_true (gmulti_session_add (session, play.large[i], NULL));
    }
  g_signal_connect (play.self_removed, "response-headers", G_CALLBACK (play_self_remove_cb),
                    &play);
  g_assert_true (gmulti_session_add (session, play.self_removed, NULL));
  timeout_id = g_timeout_add_seconds (60, session_timeout_cb, NULL);
  g_main_loop_run (main_loop);
  g_source_remove (timeout_id);

  g_assert_true (play.acted);
  g_assert_true (play.resumed);
  g_assert_false (play.data_while_paused);
  g_assert_false (play.removed_reported);
  g_assert_cmpuint (play.after_removal, ==, 0);
  /* Removed while the engine was busy, it is let go once the engine returns
   * (gmulti_session_remove()): by then the rest of its stream may have arrived in the
   * same turn, unreported. Either way it is no longer running. */
  g_assert_true (gmulti_transfer_get_state (play.removed) == GMULTI_TRANSFER_IDLE ||
                 gmulti_transfer_get_state (play.removed) == GMULTI_TRANSFER_DONE);
  assert_body (play.driver, large);
  assert_body (play.paused, large);
  assert_body (play.added, files->pdata[3]);
  assert_body (play.chained, files->pdata[4]);
  {
    GMultiTransfer *completed[] = { play.driver, play.paused, play.added, play.chained };

    for (guint i = 0; i < G_N_ELEMENTS (completed); i++)
      {
        g_assert_cmpint (gmulti_transfer_get_http_version_used (completed[i]), ==,
                         GMULTI_HTTP_VERSION_HTTP_2);
        g_assert_cmpuint (connection_of (completed[i]), ==, connection_of (play.driver));
      }
  }
  g_assert_cmpuint (gmulti_session_get_n_transfers (session), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (play.large); i++)
    g_object_unref (play.large[i]);
  g_signal_handlers_disconnect_by_data (play.self_removed, &play);
  g_object_unref (play.self_removed);
  g_object_unref (play.added);
  g_object_unref (play.chained);
}

/* The property, its default and its notification. */
static void
test_property (void)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("https://example.com/");
  GMultiHttpVersion version = GMULTI_HTTP_VERSION_HTTP_1_1;

  g_assert_cmpint (gmulti_transfer_get_http_version (transfer), ==, GMULTI_HTTP_VERSION_AUTO);
  g_object_set (transfer, "http-version", GMULTI_HTTP_VERSION_HTTP_2, NULL);
  g_object_get (transfer, "http-version", &version, NULL);
  g_assert_cmpint (version, ==, GMULTI_HTTP_VERSION_HTTP_2);
  g_assert_cmpint (gmulti_transfer_get_http_version_used (transfer), ==, GMULTI_HTTP_VERSION_AUTO);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/GMulti/Http2/property", test_property);

  if (!g_file_test ("/usr/sbin/nghttpd", G_FILE_TEST_IS_EXECUTABLE) ||
      !g_file_test ("/usr/sbin/nginx", G_FILE_TEST_IS_EXECUTABLE))
    g_error ("nghttpd and nginx are needed (tools/install-deps test installs them)");

  certs = test_certs_make ();
  write_files ();
  start_nghttpd (&h2c, FALSE, NULL);
  start_nghttpd (&h2c_narrow, FALSE, "--max-concurrent-streams=2");
  start_nghttpd (&h2s, TRUE, NULL);
  start_nginx ();

  g_test_add_func ("/GMulti/Http2/get-head", test_get_head);
  g_test_add_data_func ("/GMulti/Http2/output-files/prior-knowledge", &h2c, test_output_files);
  g_test_add_data_func ("/GMulti/Http2/output-files/tls", &h2s, test_output_files);
  g_test_add_func ("/GMulti/Http2/post", test_post);
  g_test_add_func ("/GMulti/Http2/pause-upload", test_pause_upload);
  g_test_add_func ("/GMulti/Http2/many-prior-knowledge", test_many_prior_knowledge);
  g_test_add_func ("/GMulti/Http2/many-alpn", test_many_alpn);
  g_test_add_func ("/GMulti/Http2/max-concurrent-streams", test_max_concurrent);
  g_test_add_func ("/GMulti/Http2/remove-mid-body", test_remove_mid_body);
  g_test_add_func ("/GMulti/Http2/remove-early", test_remove_early);
  g_test_add_func ("/GMulti/Http2/remove-during-handshake", test_remove_during_handshake);
  g_test_add_func ("/GMulti/Http2/pause-one", test_pause_one);
  g_test_add_func ("/GMulti/Http2/nginx", test_nginx);
  g_test_add_func ("/GMulti/Http2/content-coding", test_content_coding);
  g_test_add_func ("/GMulti/Http2/session", test_session);
  g_test_add_func ("/GMulti/Http2/session-signals", test_session_signals);
  g_test_add_func ("/GMulti/Http2/alpn-fallback", test_alpn_fallback);
  status = g_test_run ();

  stop (&nginx);
  stop (&h2s);
  stop (&h2c_narrow);
  stop (&h2c);
  remove_tree (docroot);
  remove_tree (nginx_dir);
  g_free (docroot);
  g_free (nginx_dir);
  g_ptr_array_unref (files);
  g_bytes_unref (large);
  g_bytes_unref (text);
  test_certs_remove (certs);
  return status;
}
