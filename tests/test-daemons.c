/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-daemons.h"

/* Debian's squid, nginx, danted, microsocks..., started by a test on loopback with a
 * minimal configuration in a temporary directory, and stopped with it. */

#define WAIT_MS 15000


guint16
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

gboolean
port_accepts (guint16 port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  gboolean ok = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;

  close (fd);
  return ok;
}

/* A server the test started goes with it, even when a failed assertion ends it. */
static void
die_with_test (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static const char *
squid_binary (void)
{
  static const char *const paths[] = { "/usr/sbin/squid", "/usr/local/sbin/squid" };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    if (g_file_test (paths[i], G_FILE_TEST_IS_EXECUTABLE))
      return paths[i];
  return NULL;
}

static char *
squid_path (Squid      *squid,
            const char *name)
{
  return g_build_filename (squid->dir, name, NULL);
}

Squid *
squid_start_full (SquidAuth   auth,
                  const char *user,
                  const char *password,
                  const char *certs_dir)
{
  const char *binary = squid_binary ();
  Squid *squid;
  GString *conf;
  g_autofree char *conf_path = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  if (binary == NULL)
    {
      g_test_skip ("squid is not installed (tools/install-deps test)");
      return NULL;
    }
  squid = g_new0 (Squid, 1);
  squid->dir = g_dir_make_tmp ("gmulti-squid-XXXXXX", &error);
  g_assert_no_error (error);
  /* Squid started as root runs as its own user: it writes its logs here. */
  g_chmod (squid->dir, 0777);
  squid->port = free_port ();
  if (certs_dir != NULL)
    while ((squid->tls_port = free_port ()) == squid->port)
      ;

  conf = g_string_new (NULL);
  g_string_append_printf (conf,
                          "http_port 127.0.0.1:%u\n"
                          "pid_filename %s/squid.pid\n"
                          "cache_log %s/cache.log\n"
                          "access_log stdio:%s/access.log\n"
                          "coredump_dir %s\n"
                          "cache deny all\n"
                          "cache_mem 0 MB\n"
                          "shutdown_lifetime 0 seconds\n"
                          "visible_hostname gmulti-test\n"
                          "netdb_filename none\n"
                          "pinger_enable off\n"
                          "dns_nameservers 127.0.0.1\n"
                          "forwarded_for delete\n",
                          squid->port, squid->dir, squid->dir, squid->dir, squid->dir);
  if (certs_dir != NULL)
    {
      g_autofree char *cert = g_build_filename (certs_dir, "server.pem", NULL);
      g_autofree char *key = g_build_filename (certs_dir, "server-key.pem", NULL);

      /* Read by squid's own user. */
      g_chmod (certs_dir, 0755);
      g_chmod (cert, 0644);
      g_chmod (key, 0644);
    }
  if (certs_dir != NULL)
    g_string_append_printf (conf, "https_port 127.0.0.1:%u tls-cert=%s/server.pem "
                            "tls-key=%s/server-key.pem\n",
                            squid->tls_port, certs_dir, certs_dir);
  if (auth == SQUID_BASIC)
    {
      g_autofree char *passwd = squid_path (squid, "passwd");
      g_autofree char *hash = NULL;
      g_autofree char *line = NULL;
      const char *argv[] = { "openssl", "passwd", "-apr1", password, NULL };
      int status;

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &hash,
                    NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_strstrip (hash);
      line = g_strdup_printf ("%s:%s\n", user, hash);
      g_file_set_contents (passwd, line, -1, &error);
      g_assert_no_error (error);
      g_chmod (passwd, 0644);
      g_string_append_printf (conf,
                              "auth_param basic program /usr/lib/squid/basic_ncsa_auth %s\n"
                              "auth_param basic children 1\n"
                              "auth_param basic realm gmulti-test\n"
                              "acl authed proxy_auth REQUIRED\n"
                              "http_access allow authed\n", passwd);
    }
  else if (auth == SQUID_DIGEST)
    {
      g_autofree char *passwd = squid_path (squid, "digest-passwd");
      g_autofree char *line = g_strdup_printf ("%s:%s\n", user, password);

      /* digest_file_auth reads plain "user:password" lines. */
      g_file_set_contents (passwd, line, -1, &error);
      g_assert_no_error (error);
      g_chmod (passwd, 0644);
      g_string_append_printf (conf,
                              "auth_param digest program /usr/lib/squid/digest_file_auth %s\n"
                              "auth_param digest children 1\n"
                              "auth_param digest realm gmulti-test\n"
                              "acl authed proxy_auth REQUIRED\n"
                              "http_access allow authed\n", passwd);
    }
  else
    g_string_append (conf, "http_access allow localhost\n");
  g_string_append (conf, "http_access deny all\n");
  conf_path = squid_path (squid, "squid.conf");
  g_file_set_contents (conf_path, conf->str, -1, &error);
  g_assert_no_error (error);
  g_string_free (conf, TRUE);
  g_chmod (conf_path, 0644);

  {
    const char *argv[] = { binary, "-N", "-f", conf_path, NULL };

    g_spawn_async (NULL, (char **) argv, NULL,
                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                   G_SPAWN_STDERR_TO_DEV_NULL, die_with_test, NULL, &squid->pid, &error);
    g_assert_no_error (error);
  }
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!port_accepts (squid->port) ||
         (certs_dir != NULL && !port_accepts (squid->tls_port)))
    {
      int status;

      if (waitpid (squid->pid, &status, WNOHANG) == squid->pid)
        g_error ("squid exited at once (see its cache.log in %s)", squid->dir);
      if (g_get_monotonic_time () > deadline)
        g_error ("squid did not listen on port %u within %u ms", squid->port, WAIT_MS);
      g_usleep (20000);
    }
  return squid;
}

Squid *
squid_start (const char *user,
             const char *password)
{
  return squid_start_full (user != NULL ? SQUID_BASIC : SQUID_OPEN, user, password, NULL);
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

/* @text with PORT, DIR and CONF replaced. */
static char *
expand (const char   *text,
        const Daemon *daemon,
        const char   *conf_path)
{
  g_autofree char *port = g_strdup_printf ("%u", daemon->port);
  g_auto(GStrv) by_port = g_strsplit (text, "PORT", -1);
  g_autofree char *with_port = g_strjoinv (port, by_port);
  g_auto(GStrv) by_dir = g_strsplit (with_port, "DIR", -1);
  g_autofree char *with_dir = g_strjoinv (daemon->dir, by_dir);
  g_auto(GStrv) by_conf = g_strsplit (with_dir, "CONF", -1);

  return g_strjoinv (conf_path, by_conf);
}

gboolean
daemon_start (Daemon            *daemon,
              const char        *program,
              const char        *config,
              const char *const *args)
{
  g_autofree char *path = g_find_program_in_path (program);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *conf_path = NULL;
  gint64 deadline;

  if (path == NULL)
    path = g_build_filename ("/usr/sbin", program, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_autofree char *why = g_strdup_printf ("%s is not installed (tools/install-deps test)",
                                              program);

      g_test_skip (why);
      return FALSE;
    }
  memset (daemon, 0, sizeof *daemon);
  daemon->port = free_port ();
  daemon->dir = g_dir_make_tmp ("gmulti-daemon-XXXXXX", &error);
  g_assert_no_error (error);
  /* A daemon started as root (squid) may run as its own user, and write here. */
  g_chmod (daemon->dir, 0777);
  conf_path = g_build_filename (daemon->dir, "daemon.conf", NULL);
  if (config != NULL)
    {
      g_autofree char *text = expand (config, daemon, conf_path);

      g_file_set_contents (conf_path, text, -1, &error);
      g_assert_no_error (error);
      g_chmod (conf_path, 0644);
    }
  g_ptr_array_add (argv, g_steal_pointer (&path));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, expand (args[i], daemon, conf_path));
  g_ptr_array_add (argv, NULL);

  g_assert_true (g_spawn_async (daemon->dir, (char **) argv->pdata, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                G_SPAWN_STDERR_TO_DEV_NULL,
                                die_with_test, NULL, &daemon->pid, &error));
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  while (!port_accepts (daemon->port))
    {
      int status;

      if (waitpid (daemon->pid, &status, WNOHANG) == daemon->pid)
        g_error ("%s exited at once (its files are in %s)", program, daemon->dir);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20 * 1000);
    }
  return TRUE;
}

/* Stops @pid: SIGTERM, then SIGKILL after 10 s. */
static void
stop_process (GPid pid)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int status;

  kill (pid, SIGTERM);
  while (waitpid (pid, &status, WNOHANG) != pid)
    {
      if (g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          break;
        }
      g_usleep (20000);
    }
  g_spawn_close_pid (pid);
}

void
daemon_stop (Daemon *daemon)
{
  stop_process (daemon->pid);
  remove_tree (daemon->dir);
  g_clear_pointer (&daemon->dir, g_free);
}

char *
daemon_uri (Daemon     *daemon,
            const char *scheme)
{
  return g_strdup_printf ("%s://127.0.0.1:%u", scheme, daemon->port);
}

void
squid_stop (Squid *squid)
{
  if (squid == NULL)
    return;
  stop_process (squid->pid);
  remove_tree (squid->dir);
  g_free (squid->dir);
  g_free (squid);
}

char *
squid_uri (Squid      *squid,
           const char *credentials)
{
  return g_strdup_printf ("http://%s%s127.0.0.1:%u", credentials != NULL ? credentials : "",
                          credentials != NULL ? "@" : "", squid->port);
}

/* Lines of squid's access log (it writes each when a transaction ends). */
guint
squid_count_log (Squid      *squid,
                 const char *needle)
{
  g_autofree char *path = squid_path (squid, "access.log");
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], needle) != NULL)
      n++;
  return n;
}


Nginx *
nginx_start (const char *certs_dir)
{
  Nginx *nginx;
  g_autofree char *conf = NULL;
  g_autofree char *conf_path = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;
  const char *binary = "/usr/sbin/nginx";

  if (!g_file_test (binary, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("nginx is not installed (tools/install-deps test)");
      return NULL;
    }
  nginx = g_new0 (Nginx, 1);
  nginx->dir = g_dir_make_tmp ("gmulti-nginx-XXXXXX", &error);
  g_assert_no_error (error);
  nginx->port = free_port ();
  conf = g_strdup_printf ("%s"
                          "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                          "pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
                          "events { worker_connections 64; }\n"
                          "http {\n access_log off;\n"
                          " client_body_temp_path %s/body;\n proxy_temp_path %s/proxy;\n"
                          " fastcgi_temp_path %s/fastcgi;\n uwsgi_temp_path %s/uwsgi;\n"
                          " scgi_temp_path %s/scgi;\n"
                          " server {\n  listen 127.0.0.1:%u ssl http2;\n"
                          "  ssl_certificate %s/server.pem;\n"
                          "  ssl_certificate_key %s/server-key.pem;\n"
                          "  location / { return 200 \"$server_protocol $request_uri\"; }\n"
                          " }\n}\n",
                          getuid () == 0 ? "user root;\n" : "",
                          nginx->dir, nginx->dir, nginx->dir, nginx->dir, nginx->dir,
                          nginx->dir, nginx->dir, nginx->port, certs_dir, certs_dir);
  conf_path = g_build_filename (nginx->dir, "nginx.conf", NULL);
  g_file_set_contents (conf_path, conf, -1, &error);
  g_assert_no_error (error);
  {
    const char *argv[] = { binary, "-p", nginx->dir, "-c", conf_path, NULL };

    g_spawn_async (NULL, (char **) argv, NULL,
                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                   G_SPAWN_STDERR_TO_DEV_NULL, die_with_test, NULL, &nginx->pid, &error);
    g_assert_no_error (error);
  }
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!port_accepts (nginx->port))
    {
      int status;

      if (waitpid (nginx->pid, &status, WNOHANG) == nginx->pid)
        g_error ("nginx exited at once (see %s/error.log)", nginx->dir);
      if (g_get_monotonic_time () > deadline)
        g_error ("nginx did not listen on port %u within %u ms", nginx->port, WAIT_MS);
      g_usleep (20000);
    }
  return nginx;
}

void
nginx_stop (Nginx *nginx)
{
  int status;

  if (nginx == NULL)
    return;
  kill (nginx->pid, SIGTERM);
  waitpid (nginx->pid, &status, 0);
  g_spawn_close_pid (nginx->pid);
  remove_tree (nginx->dir);
  g_free (nginx->dir);
  g_free (nginx);
}
