/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gmulti-fetch: downloads many URLs at once through one GMultiSession and shows live
 * progress per transfer, then a summary. With no URL it serves a demo set from a
 * loopback server of its own and fetches that. With --output-dir, every body is saved
 * to a file there (over http the kernel moves it from the socket into the file). */
#include <gmulti/gmulti.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "demo-server.h"

typedef struct {
  GMainLoop *loop;
  GPtrArray *transfers;
  guint remaining;
  guint failed;
  guint64 bytes;
  gint64 started;
  gboolean tty;
  guint lines_drawn;
} Fetch;

static void
draw (Fetch *fetch)
{
  if (fetch->tty && fetch->lines_drawn > 0)
    printf ("\033[%uA", fetch->lines_drawn);

  for (guint i = 0; i < fetch->transfers->len; i++)
    {
      GMultiTransfer *transfer = fetch->transfers->pdata[i];
      guint64 received = gmulti_transfer_get_bytes_received (transfer);
      gint64 expected = gmulti_transfer_get_bytes_expected (transfer);
      const GError *error = gmulti_transfer_get_error (transfer);
      GMultiTransferState state = gmulti_transfer_get_state (transfer);
      char bar[21] = "                    ";

      if (expected > 0)
        for (guint k = 0; k < 20 && k < received * 20 / (guint64) expected; k++)
          bar[k] = '#';

      printf ("%-44.44s [%s] %8" G_GUINT64_FORMAT " KiB  %s\033[K\n",
              gmulti_transfer_get_uri (transfer), bar, received / 1024,
              error != NULL ? error->message
              : state == GMULTI_TRANSFER_DONE ? "done"
              : state == GMULTI_TRANSFER_RECEIVING ? "receiving"
              : state == GMULTI_TRANSFER_CONNECTING ? "connecting" : "waiting");
    }
  fetch->lines_drawn = fetch->transfers->len;
  fflush (stdout);
}

static void
progress_cb (GMultiTransfer *transfer,
             Fetch          *fetch)
{
  if (fetch->tty)
    draw (fetch);
}

static void
transfer_finished_cb (GMultiSession  *session,
                      GMultiTransfer *transfer,
                      const GError   *error,
                      Fetch          *fetch)
{
  GOutputStream *stream = gmulti_transfer_get_output_stream (transfer);
  gboolean failed = error != NULL || gmulti_transfer_get_status (transfer) >= 400;

  if (stream != NULL)
    {
      g_output_stream_close (stream, NULL, NULL);
      /* No half-written or error-page files left behind. */
      if (failed)
        g_file_delete (g_object_get_data (G_OBJECT (transfer), "gmulti-fetch-file"), NULL, NULL);
    }
  if (failed)
    fetch->failed++;
  fetch->bytes += gmulti_transfer_get_bytes_received (transfer);
  if (!fetch->tty)
    printf ("%s: %s (%" G_GUINT64_FORMAT " bytes)\n", gmulti_transfer_get_uri (transfer),
            error != NULL ? error->message : "done", gmulti_transfer_get_bytes_received (transfer));
  if (--fetch->remaining == 0)
    g_main_loop_quit (fetch->loop);
}

/* DIR/N-NAME, NAME being the last segment of the URI's path. */
static GOutputStream *
open_output (const char  *dir,
             guint        index,
             const char  *uri,
             GFile      **file_out,
             GError     **error)
{
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  g_autofree char *base = parsed != NULL ? g_path_get_basename (g_uri_get_path (parsed)) : NULL;
  g_autofree char *name = g_strdup_printf ("%u-%s", index + 1,
                                           base != NULL && g_strcmp0 (base, "/") != 0 &&
                                           g_strcmp0 (base, ".") != 0 ? base : "index");
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GFile *file = g_file_new_for_path (path);
  GOutputStream *stream = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE,
                                                           G_FILE_CREATE_NONE, NULL, error));

  if (stream == NULL)
    g_clear_object (&file);
  *file_out = file;
  return stream;
}

static gboolean
discard_cb (GMultiTransfer *transfer,
            const guint8   *data,
            gsize           length,
            gpointer        user_data)
{
  /* The example only counts bytes; a real program would write them somewhere. */
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(GMultiSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) uris = NULL;
  DemoServer *demo = NULL;
  Fetch fetch = { 0 };
  int parallel = 8;
  g_autofree char *output_dir = NULL;
  double seconds;
  const GOptionEntry entries[] = {
    { "parallel", 'j', 0, G_OPTION_ARG_INT, &parallel, "Connections per host", "N" },
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &output_dir,
      "Save each body in DIR (created if needed)", "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &uris, NULL, "[URL…]" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  options = g_option_context_new ("— download many URLs at once");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (uris == NULL)
    {
      GStrvBuilder *builder = g_strv_builder_new ();

      demo = demo_server_start (&error);
      if (demo == NULL)
        {
          g_printerr ("Could not start the demo server: %s\n", error->message);
          return 1;
        }
      for (guint i = 0; i < 12; i++)
        {
          g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u/demo/%u",
                                                  demo_server_get_port (demo),
                                                  (i + 1) * 256 * 1024);

          g_strv_builder_add (builder, uri);
        }
      g_strv_builder_add (builder, "http://127.0.0.1:1/nothing-listens-here");
      uris = g_strv_builder_end (builder);
      g_strv_builder_unref (builder);
      printf ("No URL given: fetching a demo set from a loopback server on port %u.\n\n",
              demo_server_get_port (demo));
    }

  if (output_dir != NULL && g_mkdir_with_parents (output_dir, 0755) < 0)
    {
      g_printerr ("Could not create %s: %s\n", output_dir, g_strerror (errno));
      return 1;
    }

  fetch.loop = g_main_loop_new (NULL, FALSE);
  fetch.transfers = g_ptr_array_new_with_free_func (g_object_unref);
  fetch.tty = isatty (STDOUT_FILENO);

  session = gmulti_session_new ();
  gmulti_session_set_max_host_connections (session, MAX (parallel, 1));
  g_signal_connect (session, "transfer-finished", G_CALLBACK (transfer_finished_cb), &fetch);

  for (guint i = 0; uris[i] != NULL; i++)
    {
      GMultiTransfer *transfer = gmulti_transfer_new (uris[i]);

      gmulti_transfer_set_follow_redirects (transfer, TRUE);
      if (output_dir != NULL)
        {
          GFile *file = NULL;
          g_autoptr(GOutputStream) stream = open_output (output_dir, i, uris[i], &file,
                                                         &error);

          if (stream == NULL)
            {
              g_printerr ("%s: %s\n", uris[i], error->message);
              g_clear_error (&error);
              g_object_unref (transfer);
              continue;
            }
          g_object_set_data_full (G_OBJECT (transfer), "gmulti-fetch-file", file,
                                  g_object_unref);
          gmulti_transfer_set_output_stream (transfer, stream);
        }
      else
        gmulti_transfer_set_write_func (transfer, discard_cb, NULL, NULL);
      g_signal_connect (transfer, "progress", G_CALLBACK (progress_cb), &fetch);
      g_ptr_array_add (fetch.transfers, transfer);
      if (!gmulti_session_add (session, transfer, &error))
        {
          g_printerr ("%s: %s\n", uris[i], error->message);
          g_clear_error (&error);
          continue;
        }
      fetch.remaining++;
    }

  fetch.started = g_get_monotonic_time ();
  if (fetch.remaining > 0)
    g_main_loop_run (fetch.loop);
  if (fetch.tty)
    draw (&fetch);

  seconds = (g_get_monotonic_time () - fetch.started) / 1e6;
  printf ("\n%u transfers, %u failed, %.1f MiB in %.2f s (%.1f MiB/s)\n",
          fetch.transfers->len, fetch.failed, fetch.bytes / 1048576.0, seconds,
          seconds > 0 ? fetch.bytes / 1048576.0 / seconds : 0.0);

  g_ptr_array_unref (fetch.transfers);
  g_main_loop_unref (fetch.loop);
  g_clear_object (&session);
  if (demo != NULL)
    demo_server_stop (demo);

  /* The demo set includes one URL that fails on purpose. */
  return demo != NULL ? (fetch.failed == 1 ? 0 : 1) : (fetch.failed == 0 ? 0 : 1);
}
