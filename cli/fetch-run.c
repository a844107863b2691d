/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The download loop of gmulti-fetch: one GMultiSession, at most --parallel transfers at
 * once, retries with a doubling delay, each body to its file (written under a temporary
 * name and renamed once complete, so no half-written or error-page file is ever left
 * where the final one belongs) or to standard output in command-line order. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "fetch-display.h"
#include "fetch-run.h"
#include "fetch-write-out.h"

#define MAX_RETRY_DELAY 60.0

typedef struct {
  FetchOptions *options;
  GMultiSession *session;
  GPtrArray *jobs;              /* (element-type FetchJob) in command-line order */
  FetchDisplay *display;
  GMainLoop *loop;
  GBytes *body;
  gboolean add_content_type;
  GPtrArray *header_names;
  GPtrArray *header_values;
  guint next;                   /* the next queued job */
  guint active;                 /* jobs running or waiting to retry */
  guint left;                   /* jobs not finished */
  guint stdout_turn;            /* the job whose body goes to standard output now */
  gboolean starting;
  gboolean interrupted;
} Fetch;

/* What a callback needs: the job and the run it belongs to. */
typedef struct {
  Fetch *fetch;
  FetchJob *job;
} JobRef;

static void start_more (Fetch *self);

static JobRef *
job_ref_new (Fetch    *fetch,
             FetchJob *job)
{
  JobRef *ref = g_new (JobRef, 1);

  ref->fetch = fetch;
  ref->job = job;
  return ref;
}

static void
job_free (FetchJob *job)
{
  g_free (job->uri);
  g_free (job->path);
  g_clear_object (&job->transfer);
  g_clear_handle_id (&job->retry_source, g_source_remove);
  g_free (job->message);
  if (job->held != NULL)
    g_byte_array_unref (job->held);
  g_free (job->temp_path);
  g_clear_object (&job->output);
  g_free (job);
}

static FetchExit
exit_for_error (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FETCH_EXIT_INTERRUPTED;
  if (error->domain != GMULTI_ERROR)
    return FETCH_EXIT_NETWORK;
  switch (error->code)
    {
    case GMULTI_ERROR_TLS_HANDSHAKE_FAILED:
    case GMULTI_ERROR_TLS_UNTRUSTED:
    case GMULTI_ERROR_TLS_HOSTNAME_MISMATCH:
    case GMULTI_ERROR_TLS_EXPIRED:
    case GMULTI_ERROR_TLS_NOT_YET_VALID:
    case GMULTI_ERROR_TLS_PIN_MISMATCH:
    case GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED:
    case GMULTI_ERROR_TLS_BAD_CERTIFICATE:
    case GMULTI_ERROR_TLS_FAILED:
      return FETCH_EXIT_TLS;
    case GMULTI_ERROR_CONNECT_TIMEOUT:
    case GMULTI_ERROR_TIMED_OUT:
    case GMULTI_ERROR_TOO_SLOW:
      return FETCH_EXIT_TIMEOUT;
    case GMULTI_ERROR_OUTPUT_FAILED:
      return FETCH_EXIT_LOCAL_FILE;
    case GMULTI_ERROR_INVALID_ARGUMENT:
    case GMULTI_ERROR_INVALID_URI:
    case GMULTI_ERROR_UNSUPPORTED_SCHEME:
    case GMULTI_ERROR_INVALID_HEADER:
      return FETCH_EXIT_USAGE;
    default:
      return FETCH_EXIT_NETWORK;
    }
}

/* Failures that another attempt may not meet: the connection's, not the request's. */
static gboolean
error_is_transient (const GError *error)
{
  if (error->domain != GMULTI_ERROR)
    return FALSE;
  switch (error->code)
    {
    case GMULTI_ERROR_CONNECT_FAILED:
    case GMULTI_ERROR_CONNECT_TIMEOUT:
    case GMULTI_ERROR_TIMED_OUT:
    case GMULTI_ERROR_TOO_SLOW:
    case GMULTI_ERROR_SEND_FAILED:
    case GMULTI_ERROR_RECEIVE_FAILED:
    case GMULTI_ERROR_CONNECTION_CLOSED:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
status_is_transient (guint status)
{
  return status == 408 || status == 429 || status == 500 || status == 502 ||
         status == 503 || status == 504;
}

/* Standard output takes the bodies one after the other: the next job's is held in
 * memory until every earlier one is complete. */
static void
advance_stdout (Fetch *self)
{
  while (self->stdout_turn < self->jobs->len)
    {
      FetchJob *job = self->jobs->pdata[self->stdout_turn];

      if (job->to_stdout && job->held != NULL)
        {
          errno = 0;
          if (fwrite (job->held->data, 1, job->held->len, stdout) != job->held->len)
            job->stdout_errno = errno != 0 ? errno : EIO;
          g_clear_pointer (&job->held, g_byte_array_unref);
        }
      if (job->to_stdout && job->state != FETCH_JOB_DONE && job->state != FETCH_JOB_FAILED)
        break;
      self->stdout_turn++;
    }
  fflush (stdout);
}

static gboolean
stdout_write_cb (GMultiTransfer *transfer,
                 const guint8   *data,
                 gsize           length,
                 gpointer        user_data)
{
  JobRef *ref = user_data;
  FetchJob *job = ref->job;

  /* With --fail an error page is not the body the caller asked for. */
  if (ref->fetch->options->fail && gmulti_transfer_get_status (transfer) >= 400)
    return TRUE;
  if (job->index != ref->fetch->stdout_turn)
    {
      if (job->held == NULL)
        job->held = g_byte_array_new ();
      g_byte_array_append (job->held, data, length);
      return TRUE;
    }
  errno = 0;
  if (fwrite (data, 1, length, stdout) != length)
    {
      job->stdout_errno = errno != 0 ? errno : EIO;
      return FALSE;
    }
  return TRUE;
}

static gboolean
discard_cb (GMultiTransfer *transfer,
            const guint8   *data,
            gsize           length,
            gpointer        user_data)
{
  return TRUE;
}

/* The temporary file beside the output, renamed over it once the body is complete. */
static gboolean
open_output (FetchJob  *job,
             GError   **error)
{
  g_autofree char *dir = g_path_get_dirname (job->path);
  g_autofree char *base = g_path_get_basename (job->path);
  g_autofree char *name = g_strdup_printf (".%s.gmulti-XXXXXX", base);
  char *temp = g_build_filename (dir, name, NULL);
  int fd = g_mkstemp_full (temp, O_WRONLY | O_CLOEXEC, 0666);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Could not create %s: %s"), job->path, g_strerror (saved));
      g_free (temp);
      return FALSE;
    }
  job->temp_path = temp;
  job->output = g_unix_output_stream_new (fd, TRUE);
  return TRUE;
}

/* Closes the output; with @keep it takes the final name, otherwise it is removed. */
static gboolean
close_output (FetchJob  *job,
              gboolean   keep,
              GError   **error)
{
  gboolean ok = TRUE;

  if (job->output == NULL)
    return TRUE;
  if (!g_output_stream_close (job->output, NULL, error))
    ok = FALSE;
  else if (keep && g_rename (job->temp_path, job->path) < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Could not write %s: %s"), job->path, g_strerror (saved));
      ok = FALSE;
    }
  if (!keep || !ok)
    g_unlink (job->temp_path);
  g_clear_object (&job->output);
  g_clear_pointer (&job->temp_path, g_free);
  return ok;
}

/* The job is complete, successfully or not: report it and make room for the next. */
static void
job_finish (Fetch     *self,
            FetchJob  *job,
            FetchExit  code,
            char      *message)
{
  job->state = code == FETCH_EXIT_OK ? FETCH_JOB_DONE : FETCH_JOB_FAILED;
  job->exit_code = code;
  if (message != NULL)
    {
      g_free (job->message);
      job->message = message;
    }
  job->finished = g_get_monotonic_time ();
  close_output (job, FALSE, NULL);
  if (code != FETCH_EXIT_OK && self->options->fail && job->held != NULL)
    g_clear_pointer (&job->held, g_byte_array_unref);
  if (job->to_stdout)
    advance_stdout (self);

  fetch_display_finished (self->display, job);
  if (self->options->write_out != NULL)
    {
      g_autofree char *text = fetch_write_out_expand (self->options->write_out, job);

      fputs (text, stdout);
      fflush (stdout);
    }

  self->active--;
  if (--self->left == 0)
    g_main_loop_quit (self->loop);
  else
    start_more (self);
}

static void
configure (Fetch          *self,
           FetchJob       *job,
           GMultiTransfer *transfer)
{
  FetchOptions *options = self->options;

  /* The URI, method and headers were checked before anything started. */
  gmulti_transfer_set_uri (transfer, job->uri, NULL);
  if (options->method != NULL)
    gmulti_transfer_set_method (transfer, options->method, NULL);
  for (guint i = 0; i < self->header_names->len; i++)
    gmulti_transfer_add_request_header (transfer, self->header_names->pdata[i],
                                        self->header_values->pdata[i], NULL);
  if (self->body != NULL)
    {
      if (self->add_content_type)
        gmulti_transfer_add_request_header (transfer, "Content-Type",
                                            "application/x-www-form-urlencoded", NULL);
      gmulti_transfer_set_request_body (transfer, self->body);
    }
  gmulti_transfer_set_follow_redirects (transfer, options->location);
  if (options->max_redirs >= 0)
    gmulti_transfer_set_max_redirects (transfer, options->max_redirs);
  if (options->max_time > 0)
    gmulti_transfer_set_timeout (transfer, MAX (1, (guint) (options->max_time * 1000)));
  if (options->connect_timeout > 0)
    gmulti_transfer_set_connect_timeout (transfer,
                                         MAX (1, (guint) (options->connect_timeout * 1000)));
  if (options->insecure)
    gmulti_transfer_set_tls_verify (transfer, FALSE);
  if (options->cacert != NULL)
    gmulti_transfer_set_tls_ca_file (transfer, options->cacert);
}

static GQuark
job_quark (void)
{
  return g_quark_from_static_string ("gmulti-fetch-job");
}

static void
job_start (Fetch    *self,
           FetchJob *job)
{
  g_autoptr(GError) error = NULL;
  GMultiTransfer *transfer = gmulti_transfer_new (NULL);

  g_clear_object (&job->transfer);
  job->transfer = transfer;
  job->state = FETCH_JOB_RUNNING;
  job->attempt++;
  if (job->attempt == 1)
    job->started = g_get_monotonic_time ();
  job->rate_time = g_get_monotonic_time ();
  job->rate_bytes = 0;
  job->rate = 0;
  g_object_set_qdata (G_OBJECT (transfer), job_quark (), job);
  configure (self, job, transfer);

  if (job->path != NULL)
    {
      if (!open_output (job, &error))
        {
          job_finish (self, job, FETCH_EXIT_LOCAL_FILE, g_strdup (error->message));
          return;
        }
      gmulti_transfer_set_output_stream (transfer, job->output);
    }
  else if (job->to_stdout)
    gmulti_transfer_set_write_func (transfer, stdout_write_cb, job_ref_new (self, job),
                                    g_free);
  else
    gmulti_transfer_set_write_func (transfer, discard_cb, NULL, NULL);

  if (!gmulti_session_add (self->session, transfer, &error))
    job_finish (self, job, exit_for_error (error), g_strdup (error->message));
}

static void
start_more (Fetch *self)
{
  /* A job that fails at once finishes inside job_start(): no recursion from there. */
  if (self->starting)
    return;
  self->starting = TRUE;
  while (!self->interrupted && self->active < (guint) self->options->parallel &&
         self->next < self->jobs->len)
    {
      self->active++;
      job_start (self, self->jobs->pdata[self->next++]);
    }
  self->starting = FALSE;
}

static gboolean
retry_cb (gpointer user_data)
{
  JobRef *ref = user_data;

  ref->job->retry_source = 0;
  job_start (ref->fetch, ref->job);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (Fetch      *self,
                FetchJob   *job,
                const char *reason)
{
  double delay = MIN (self->options->retry_delay * pow (2, job->attempt - 1), MAX_RETRY_DELAY);

  close_output (job, FALSE, NULL);
  g_clear_pointer (&job->held, g_byte_array_unref);
  job->state = FETCH_JOB_RETRY_WAIT;
  fetch_display_retrying (self->display, job, delay, self->options->retry, reason);
  job->retry_source = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) (delay * 1000),
                                          retry_cb, job_ref_new (self, job), g_free);
}

static void
transfer_finished_cb (GMultiSession  *session,
                      GMultiTransfer *transfer,
                      const GError   *error,
                      Fetch          *self)
{
  FetchJob *job = g_object_get_qdata (G_OBJECT (transfer), job_quark ());
  guint status = gmulti_transfer_get_status (transfer);
  gboolean retries_left = job != NULL && job->attempt <= (guint) self->options->retry;
  g_autoptr(GError) local = NULL;

  if (job == NULL || job->transfer != transfer || job->state != FETCH_JOB_RUNNING)
    return;

  /* Buffered bytes count too: a full disk shows only when they are flushed. */
  if (job->to_stdout && job->index == self->stdout_turn && job->stdout_errno == 0 &&
      fflush (stdout) != 0)
    job->stdout_errno = errno != 0 ? errno : EIO;

  if (job->stdout_errno != 0)
    job_finish (self, job, FETCH_EXIT_LOCAL_FILE,
                g_strdup_printf (_("Could not write to standard output: %s"),
                                 g_strerror (job->stdout_errno)));
  else if (error != NULL)
    {
      if (retries_left && error_is_transient (error))
        schedule_retry (self, job, error->message);
      else
        job_finish (self, job, exit_for_error (error), g_strdup (error->message));
    }
  else if (status >= 400)
    {
      const char *reason = gmulti_transfer_get_reason_phrase (transfer);
      char *message = g_strdup_printf (_("HTTP %u %s"), status, reason != NULL ? reason : "");

      g_strchomp (message);
      if (retries_left && status_is_transient (status))
        {
          schedule_retry (self, job, message);
          g_free (message);
          return;
        }
      job->http_failed = TRUE;
      if (self->options->fail)
        job_finish (self, job, FETCH_EXIT_HTTP, message);
      else if (!close_output (job, TRUE, &local))
        {
          g_free (message);
          job_finish (self, job, FETCH_EXIT_LOCAL_FILE, g_strdup (local->message));
        }
      else
        /* Without --fail the error page is the body, kept as curl keeps it. */
        job_finish (self, job, FETCH_EXIT_OK, message);
    }
  else if (!close_output (job, TRUE, &local))
    job_finish (self, job, FETCH_EXIT_LOCAL_FILE, g_strdup (local->message));
  else
    job_finish (self, job, FETCH_EXIT_OK, NULL);
}

static gboolean
interrupt_cb (gpointer user_data)
{
  Fetch *self = user_data;

  self->interrupted = TRUE;
  for (guint i = 0; i < self->jobs->len; i++)
    {
      FetchJob *job = self->jobs->pdata[i];

      if (job->state == FETCH_JOB_RUNNING || job->state == FETCH_JOB_RETRY_WAIT)
        {
          gboolean running = job->state == FETCH_JOB_RUNNING;

          /* Failed first, so that a completion the removal reports is ignored. */
          job->state = FETCH_JOB_FAILED;
          g_clear_handle_id (&job->retry_source, g_source_remove);
          if (running)
            gmulti_session_remove (self->session, job->transfer);
          job->exit_code = FETCH_EXIT_INTERRUPTED;
          g_free (job->message);
          job->message = g_strdup (_("Interrupted"));
          close_output (job, FALSE, NULL);
        }
    }
  g_main_loop_quit (self->loop);
  return G_SOURCE_CONTINUE;
}

/* The last segment of the URI's path, as a file name of its own. */
static char *
remote_name (const char *uri)
{
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);
  const char *path = parsed != NULL ? g_uri_get_path (parsed) : "";
  const char *slash = strrchr (path, '/');
  const char *segment = slash != NULL ? slash + 1 : path;
  g_autofree char *name = g_uri_unescape_string (segment, "/");

  if (name == NULL || *name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return g_strdup ("index.html");
  return g_steal_pointer (&name);
}

static gboolean
plan_outputs (Fetch     *self,
              gboolean   demo,
              GError   **error)
{
  FetchOptions *options = self->options;
  guint n_outputs = options->outputs != NULL ? g_strv_length (options->outputs) : 0;

  if (n_outputs > self->jobs->len)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("More -o options (%u) than URLs (%u)"), n_outputs, self->jobs->len);
      return FALSE;
    }

  for (guint i = 0; i < self->jobs->len; i++)
    {
      FetchJob *job = self->jobs->pdata[i];
      g_autofree char *name = NULL;

      if (i < n_outputs && strcmp (options->outputs[i], "-") == 0)
        job->to_stdout = TRUE;
      else if (i < n_outputs)
        name = g_strdup (options->outputs[i]);
      else if (options->remote_name || options->output_dir != NULL)
        name = remote_name (job->uri);
      else
        job->to_stdout = !demo;

      if (name != NULL)
        job->path = options->output_dir != NULL && !g_path_is_absolute (name)
                    ? g_build_filename (options->output_dir, name, NULL)
                    : g_steal_pointer (&name);
    }

  if (options->output_dir != NULL && g_mkdir_with_parents (options->output_dir, 0777) < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Could not create %s: %s"), options->output_dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Everything that can be wrong with the command line is found before a transfer
 * starts. */
static gboolean
check_request (Fetch   *self,
               GError **error)
{
  FetchOptions *options = self->options;
  g_autoptr(GMultiTransfer) probe = gmulti_transfer_new (NULL);

  self->add_content_type = options->data != NULL;
  for (guint i = 0; options->headers != NULL && options->headers[i] != NULL; i++)
    {
      const char *colon = strchr (options->headers[i], ':');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (colon == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("Header '%s' is not 'NAME: VALUE'"), options->headers[i]);
          return FALSE;
        }
      name = g_strstrip (g_strndup (options->headers[i], colon - options->headers[i]));
      value = g_strstrip (g_strdup (colon + 1));
      if (!gmulti_transfer_add_request_header (probe, name, value, error))
        return FALSE;
      if (g_ascii_strcasecmp (name, "Content-Type") == 0)
        self->add_content_type = FALSE;
      g_ptr_array_add (self->header_names, g_steal_pointer (&name));
      g_ptr_array_add (self->header_values, g_steal_pointer (&value));
    }
  if (options->method != NULL &&
      !gmulti_transfer_set_method (probe, options->method, error))
    return FALSE;
  for (guint i = 0; i < self->jobs->len; i++)
    {
      FetchJob *job = self->jobs->pdata[i];

      if (!gmulti_transfer_set_uri (probe, job->uri, error))
        return FALSE;
    }
  return TRUE;
}

static FetchDisplayMode
display_mode (Fetch *self)
{
  const char *term = g_getenv ("TERM");
  gboolean tty_body = FALSE;

  if (self->options->silent)
    return FETCH_DISPLAY_SILENT;
  for (guint i = 0; i < self->jobs->len; i++)
    tty_body |= ((FetchJob *) self->jobs->pdata[i])->to_stdout;
  tty_body = tty_body && isatty (STDOUT_FILENO);
  /* A body on the same terminal would be torn apart by the redraws. */
  if (!isatty (STDERR_FILENO) || tty_body || g_strcmp0 (term, "dumb") == 0)
    return FETCH_DISPLAY_PLAIN;
  return FETCH_DISPLAY_TTY;
}

FetchExit
fetch_run (FetchOptions       *options,
           const char * const *uris,
           gboolean            demo,
           int                 expected_failures,
           const char         *note)
{
  g_autoptr(GError) error = NULL;
  Fetch fetch = { 0 };
  Fetch *self = &fetch;
  FetchExit result = FETCH_EXIT_OK;
  guint sigint, sigterm;

  self->options = options;
  self->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) job_free);
  self->header_names = g_ptr_array_new_with_free_func (g_free);
  self->header_values = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; uris[i] != NULL; i++)
    {
      FetchJob *job = g_new0 (FetchJob, 1);

      job->index = i;
      job->uri = g_strdup (uris[i]);
      job->expected_failure = expected_failures >= 0 && (int) i >= expected_failures;
      g_ptr_array_add (self->jobs, job);
    }

  if (!check_request (self, &error) || !plan_outputs (self, demo, &error))
    {
      g_printerr ("gmulti-fetch: %s\n", error->message);
      result = error->domain == G_FILE_ERROR ? FETCH_EXIT_LOCAL_FILE : FETCH_EXIT_USAGE;
      if (result == FETCH_EXIT_USAGE)
        g_printerr (_("Try 'gmulti-fetch --help' for more information.\n"));
      goto out;
    }
  if (options->data != NULL)
    self->body = g_bytes_new (options->data->data, options->data->len);

  self->loop = g_main_loop_new (NULL, FALSE);
  self->session = gmulti_session_new ();
  gmulti_session_set_decode_content (self->session, options->compressed);
  if (options->abstract_unix_socket != NULL)
    {
      g_autofree char *name = g_strconcat ("@", options->abstract_unix_socket, NULL);

      gmulti_session_set_unix_socket_path (self->session, name);
    }
  else if (options->unix_socket != NULL)
    gmulti_session_set_unix_socket_path (self->session, options->unix_socket);
  gmulti_session_set_max_host_connections (self->session, options->parallel);
  gmulti_session_set_http_version (self->session, fetch_options_http_version (options));
  if ((guint) options->parallel > gmulti_session_get_max_connections (self->session))
    gmulti_session_set_max_connections (self->session, options->parallel);
  g_signal_connect (self->session, "transfer-finished", G_CALLBACK (transfer_finished_cb),
                    self);
  self->display = fetch_display_new (display_mode (self), self->jobs);
  if (note != NULL)
    fetch_display_note (self->display, note);
  sigint = g_unix_signal_add (SIGINT, interrupt_cb, self);
  sigterm = g_unix_signal_add (SIGTERM, interrupt_cb, self);

  self->left = self->jobs->len;
  advance_stdout (self);
  start_more (self);
  if (self->left > 0 && !self->interrupted)
    g_main_loop_run (self->loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  fetch_display_end (self->display);
  fflush (stdout);

  for (guint i = 0; i < self->jobs->len && result == FETCH_EXIT_OK; i++)
    {
      FetchJob *job = self->jobs->pdata[i];

      if (!job->expected_failure)
        result = job->exit_code;
    }
  if (self->interrupted)
    result = FETCH_EXIT_INTERRUPTED;

out:
  g_clear_pointer (&self->display, fetch_display_free);
  g_clear_object (&self->session);
  g_ptr_array_unref (self->jobs);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_ptr_array_unref (self->header_names);
  g_ptr_array_unref (self->header_values);
  return result;
}
