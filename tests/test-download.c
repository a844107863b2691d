/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gmulti_session_download_async() and the destination file: written beside it under
 * a temporary name and renamed over it on success only, so that a failed or cancelled
 * download leaves the directory as it was. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gmulti.h"
#include "test-fds.h"
#include "test-server.h"
#include "test-wait.h"

#define BODY_SIZE (300 * 1000)
#define SLOW_SIZE (4 * 1024 * 1024)
#define SLOW_CHUNK (32 * 1024)
#define TRUNCATED_ANNOUNCED 100000
#define TRUNCATED_SENT 50000
#define OLD_CONTENTS "the old contents\n"

/* Every wait of the tests is bounded by this. */
#define WAIT_MS 10000

static gint slow_stopped;  /* atomic: a /slow response saw the client leave */

static GBytes *
make_body (gsize length)
{
  guint8 *data = g_malloc (MAX (length, 1));

  for (gsize i = 0; i < length; i++)
    data[i] = (guint8) ((i * 131 + (i >> 9)) & 0xff);
  return g_bytes_new_take (data, length);
}

/* The server */

static gboolean
serve_slow (TestConn *conn)
{
  g_autofree guint8 *chunk = g_malloc0 (SLOW_CHUNK);

  if (!test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
                         (guint) SLOW_SIZE))
    goto stopped;

  for (gsize sent = 0; sent < SLOW_SIZE; sent += SLOW_CHUNK)
    {
      if (!test_conn_write (conn, chunk, SLOW_CHUNK))
        goto stopped;
      test_conn_sleep (conn, 20);
    }
  return TRUE;

stopped:
  g_atomic_int_set (&slow_stopped, 1);
  return FALSE;
}

static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  if (strcmp (req->target, "/body") == 0)
    {
      g_autoptr(GBytes) body = make_body (BODY_SIZE);
      gsize size;
      const guint8 *data = g_bytes_get_data (body, &size);

      return test_conn_respond (conn, 200, "application/octet-stream", data, size);
    }

  if (strcmp (req->target, "/slow") == 0)
    return serve_slow (conn);

  if (strcmp (req->target, "/truncated") == 0)
    {
      g_autofree guint8 *half = g_malloc0 (TRUNCATED_SENT);

      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
                        (guint) TRUNCATED_ANNOUNCED);
      test_conn_write (conn, half, TRUNCATED_SENT);
      test_conn_close (conn);
      return FALSE;
    }

  return test_conn_respond (conn, 404, "text/plain", "not here", 8);
}

/* A fixture: a server, a session and an empty directory for the destination. */

typedef struct
{
  TestServer *server;
  GMultiSession *session;
  char *dir;
  char *path;       /* dir/file.bin */
  GFile *file;
  gboolean done;
  gboolean ok;
  GError *error;
} Fixture;

static void
fixture_set_up (Fixture       *fx,
                gconstpointer  data)
{
  GError *error = NULL;

  g_atomic_int_set (&slow_stopped, 0);
  fx->server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  fx->session = gmulti_session_new ();
  fx->dir = g_dir_make_tmp ("gmulti-download-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "file.bin", NULL);
  fx->file = g_file_new_for_path (fx->path);
}

static void
fixture_tear_down (Fixture       *fx,
                   gconstpointer  data)
{
  GDir *dir;
  const char *name;

  test_drain_context ();
  g_assert_finalize_object (fx->session);
  test_server_free (fx->server);

  dir = g_dir_open (fx->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (fx->dir, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        g_rmdir (child);
      else
        g_remove (child);
    }
  g_dir_close (dir);
  g_assert_cmpint (g_rmdir (fx->dir), ==, 0);

  g_clear_error (&fx->error);
  g_object_unref (fx->file);
  g_free (fx->path);
  g_free (fx->dir);
}

static void
download_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Fixture *fx = user_data;

  fx->ok = gmulti_session_download_finish (GMULTI_SESSION (source), result, &fx->error);
  g_assert_true (fx->ok == (fx->error == NULL));
  fx->done = TRUE;
}

static void
start_download (Fixture        *fx,
                GMultiTransfer *transfer,
                GCancellable   *cancellable)
{
  fx->done = FALSE;
  fx->ok = FALSE;
  g_clear_error (&fx->error);
  gmulti_session_download_async (fx->session, transfer, fx->file, G_PRIORITY_DEFAULT,
                                 cancellable, download_cb, fx);
}

/* The names in the directory, sorted and joined with spaces: a temporary file left
 * behind shows up here. */
static char *
list_dir (Fixture *fx)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open (fx->dir, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

#define assert_dir(fx, expected) \
  G_STMT_START { \
    g_autofree char *listing_ = list_dir (fx); \
    g_assert_cmpstr (listing_, ==, (expected)); \
  } G_STMT_END

static void
write_old_file (Fixture *fx)
{
  GError *error = NULL;

  g_file_set_contents (fx->path, OLD_CONTENTS, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (fx->path, 0600), ==, 0);
}

static void
assert_old_file (Fixture *fx)
{
  g_autofree char *contents = NULL;
  GError *error = NULL;

  g_file_get_contents (fx->path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, OLD_CONTENTS);
}

/* The directory as the download found it: the old file alone when there was one
 * (@existing), else nothing. */
static void
assert_left_as_before (Fixture  *fx,
                       gboolean  existing)
{
  if (existing)
    {
      assert_dir (fx, "file.bin");
      assert_old_file (fx);
    }
  else
    assert_dir (fx, "");
}

static GMultiTransfer *
new_transfer (Fixture    *fx,
              const char *path)
{
  g_autofree char *uri = test_server_uri (fx->server, path);

  return gmulti_transfer_new (uri);
}

/* The tests */

static void
run_refused (Fixture  *fx,
             gboolean  existing)
{
  g_autofree char *uri = NULL;
  GMultiTransfer *transfer;
  guint16 port;
  int fd = test_refusing_port (&port);

  if (existing)
    write_old_file (fx);
  uri = g_strdup_printf ("http://127.0.0.1:%u/", port);
  transfer = gmulti_transfer_new (uri);
  start_download (fx, transfer, NULL);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_error (fx->error, GMULTI_ERROR, GMULTI_ERROR_CONNECT_FAILED);
  close (fd);

  assert_left_as_before (fx, existing);

  test_drain_context ();
  g_assert_finalize_object (transfer);
}

static void
test_refused (Fixture       *fx,
              gconstpointer  data)
{
  run_refused (fx, FALSE);
}

static void
test_refused_existing (Fixture       *fx,
                       gconstpointer  data)
{
  run_refused (fx, TRUE);
}

static void
run_cancel_mid_body (Fixture  *fx,
                     gboolean  existing)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMultiTransfer *transfer = new_transfer (fx, "/slow");

  if (existing)
    write_old_file (fx);
  start_download (fx, transfer, cancellable);
  /* Well into the body, so that some of it has been written to the disk. */
  RUN_UNTIL (gmulti_transfer_get_bytes_received (transfer) > 4 * SLOW_CHUNK, WAIT_MS);
  g_cancellable_cancel (cancellable);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_error (fx->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), <, SLOW_SIZE);
  g_assert_cmpuint (gmulti_session_get_n_transfers (fx->session), ==, 0);
  RUN_UNTIL (g_atomic_int_get (&slow_stopped), WAIT_MS);

  assert_left_as_before (fx, existing);

  test_drain_context ();
  g_assert_finalize_object (transfer);
}

static void
test_cancel_mid_body (Fixture       *fx,
                      gconstpointer  data)
{
  run_cancel_mid_body (fx, FALSE);
}

static void
test_cancel_mid_body_existing (Fixture       *fx,
                               gconstpointer  data)
{
  run_cancel_mid_body (fx, TRUE);
}

/* Cancelled before the call, and right after it while the file is being opened. */
static void
test_cancel_early (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMultiTransfer *transfer = new_transfer (fx, "/body");

  g_cancellable_cancel (cancellable);
  start_download (fx, transfer, cancellable);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_error (fx->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_dir (fx, "");

  g_cancellable_reset (cancellable);
  start_download (fx, transfer, cancellable);
  g_cancellable_cancel (cancellable);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_error (fx->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  test_drain_context ();
  assert_dir (fx, "");

  /* Once the file is open and nothing received yet. */
  g_cancellable_reset (cancellable);
  write_old_file (fx);
  start_download (fx, transfer, cancellable);
  g_main_context_iteration (NULL, FALSE);
  g_cancellable_cancel (cancellable);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_error (fx->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  test_drain_context ();
  assert_dir (fx, "file.bin");
  assert_old_file (fx);

  g_assert_finalize_object (transfer);
}

/* The connection breaks in the middle of the body. */
static void
test_truncated (Fixture       *fx,
                gconstpointer  data)
{
  GMultiTransfer *transfer = new_transfer (fx, "/truncated");

  for (guint existing = 0; existing < 2; existing++)
    {
      if (existing)
        write_old_file (fx);
      start_download (fx, transfer, NULL);
      RUN_UNTIL (fx->done, WAIT_MS);
      g_assert_nonnull (fx->error);
      g_assert_true (fx->error->domain == GMULTI_ERROR);
      g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, TRUNCATED_SENT);
      test_drain_context ();
      assert_left_as_before (fx, existing);
    }

  g_assert_finalize_object (transfer);
}

static void
assert_downloaded (Fixture *fx)
{
  g_autoptr(GBytes) expected = make_body (BODY_SIZE);
  g_autofree char *contents = NULL;
  GError *error = NULL;
  struct stat st;
  mode_t mask;
  gsize length;

  g_file_get_contents (fx->path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, ==, BODY_SIZE);
  g_assert_cmpmem (contents, length, g_bytes_get_data (expected, NULL), BODY_SIZE);

  /* The permissions of a new file: not the private ones of a temporary file. */
  mask = umask (0);
  umask (mask);
  g_assert_cmpint (g_stat (fx->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0666 & ~mask);
}

static void
test_success (Fixture       *fx,
              gconstpointer  data)
{
  GMultiTransfer *transfer = new_transfer (fx, "/body");

  start_download (fx, transfer, NULL);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_no_error (fx->error);
  g_assert_true (fx->ok);
  assert_dir (fx, "file.bin");
  assert_downloaded (fx);

  test_drain_context ();
  g_assert_finalize_object (transfer);
}

static void
test_success_replaces (Fixture       *fx,
                       gconstpointer  data)
{
  GMultiTransfer *transfer = new_transfer (fx, "/body");

  write_old_file (fx);
  start_download (fx, transfer, NULL);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_no_error (fx->error);
  g_assert_true (fx->ok);
  assert_dir (fx, "file.bin");
  assert_downloaded (fx);

  test_drain_context ();
  g_assert_finalize_object (transfer);
}

/* An HTTP error status is an answer, not a failure: its body is the file. */
static void
test_http_error (Fixture       *fx,
                 gconstpointer  data)
{
  GMultiTransfer *transfer = new_transfer (fx, "/missing");
  g_autofree char *contents = NULL;

  write_old_file (fx);
  start_download (fx, transfer, NULL);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_no_error (fx->error);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 404);
  assert_dir (fx, "file.bin");
  g_assert_true (g_file_get_contents (fx->path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "not here");

  test_drain_context ();
  g_assert_finalize_object (transfer);
}

/* The destination is a directory, or in one that does not exist: nothing is left. */
static void
test_bad_destination (Fixture       *fx,
                      gconstpointer  data)
{
  GMultiTransfer *transfer = new_transfer (fx, "/body");
  g_autofree char *missing = g_build_filename (fx->dir, "no-such-dir", "file.bin", NULL);

  g_assert_cmpint (g_mkdir (fx->path, 0700), ==, 0);
  start_download (fx, transfer, NULL);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_nonnull (fx->error);
  g_assert_true (fx->error->domain == G_IO_ERROR);
  assert_dir (fx, "file.bin");
  g_assert_true (g_file_test (fx->path, G_FILE_TEST_IS_DIR));

  g_clear_object (&fx->file);
  fx->file = g_file_new_for_path (missing);
  start_download (fx, transfer, NULL);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_error (fx->error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_dir (fx, "file.bin");

  g_clear_object (&fx->file);
  fx->file = g_file_new_for_path ("/");
  start_download (fx, transfer, NULL);
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_error (fx->error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);

  test_drain_context ();
  g_assert_finalize_object (transfer);
}

/* Writing fails (the file size limit, in a child process): the write's error, and the
 * directory as it was. */
static void
test_write_error (Fixture       *fx,
                  gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      struct rlimit limit = { .rlim_cur = 64 * 1024, .rlim_max = RLIM_INFINITY };
      GMultiTransfer *transfer = new_transfer (fx, "/body");

      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      for (guint existing = 0; existing < 2; existing++)
        {
          if (existing)
            write_old_file (fx);
          start_download (fx, transfer, NULL);
          RUN_UNTIL (fx->done, WAIT_MS);
          g_assert_nonnull (fx->error);
          g_assert_true (fx->error->domain == G_IO_ERROR);
          test_drain_context ();
          assert_left_as_before (fx, existing);
        }

      g_assert_finalize_object (transfer);
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The download pauses the transfer itself while the file catches up; the application's
 * own pause must neither show those pauses nor be undone by them. */
typedef struct
{
  Fixture *fx;
  gboolean pausing;        /* the test is calling pause or resume itself */
  guint unexpected;        /* notify::paused the test did not cause */
  gboolean paused;         /* the test paused the transfer */
} PauseCheck;

static void
paused_notify_cb (GObject    *object,
                  GParamSpec *pspec,
                  gpointer    user_data)
{
  PauseCheck *check = user_data;

  if (!check->pausing)
    check->unexpected++;
}

static void
pause_on_progress_cb (GMultiTransfer *transfer,
                      gpointer        user_data)
{
  PauseCheck *check = user_data;

  if (check->paused || gmulti_transfer_get_bytes_received (transfer) == 0)
    return;
  check->pausing = TRUE;
  gmulti_transfer_pause (transfer);
  check->pausing = FALSE;
  check->paused = TRUE;
}

static void
test_user_pause_kept (Fixture       *fx,
                      gconstpointer  data)
{
  GMultiTransfer *transfer = new_transfer (fx, "/body");
  PauseCheck check = { fx, FALSE, 0, FALSE };
  guint64 received;
  gboolean waited = FALSE;

  g_signal_connect (transfer, "notify::paused", G_CALLBACK (paused_notify_cb), &check);
  g_signal_connect (transfer, "progress", G_CALLBACK (pause_on_progress_cb), &check);
  start_download (fx, transfer, NULL);
  RUN_UNTIL (check.paused, WAIT_MS);

  /* Whatever writes were under way finish; the transfer stays paused. */
  g_timeout_add (300, test_set_flag_cb, &waited);
  RUN_UNTIL (waited, WAIT_MS);
  received = gmulti_transfer_get_bytes_received (transfer);
  waited = FALSE;
  g_timeout_add (300, test_set_flag_cb, &waited);
  RUN_UNTIL (waited, WAIT_MS);
  g_assert_true (gmulti_transfer_is_paused (transfer));
  g_assert_false (fx->done);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, received);
  g_assert_cmpuint (received, <, BODY_SIZE);

  check.pausing = TRUE;
  gmulti_transfer_resume (transfer);
  check.pausing = FALSE;
  RUN_UNTIL (fx->done, WAIT_MS);
  g_assert_no_error (fx->error);
  assert_downloaded (fx);
  g_assert_cmpuint (check.unexpected, ==, 0);

  test_drain_context ();
  g_assert_finalize_object (transfer);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/GMulti/Download/" path, Fixture, NULL, fixture_set_up, func, \
              fixture_tear_down)
  ADD ("refused", test_refused);
  ADD ("refused-existing", test_refused_existing);
  ADD ("cancel-mid-body", test_cancel_mid_body);
  ADD ("cancel-mid-body-existing", test_cancel_mid_body_existing);
  ADD ("cancel-early", test_cancel_early);
  ADD ("truncated", test_truncated);
  ADD ("success", test_success);
  ADD ("success-replaces", test_success_replaces);
  ADD ("http-error", test_http_error);
  ADD ("bad-destination", test_bad_destination);
  ADD ("write-error", test_write_error);
  ADD ("user-pause-kept", test_user_pause_kept);
#undef ADD

  return g_test_run ();
}
