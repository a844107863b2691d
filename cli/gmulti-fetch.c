/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gmulti-fetch: downloads many URLs at once through one GMultiSession, with curl-like
 * options and a live progress display. With no URL it serves a demo set from a loopback
 * server of its own and fetches that. It uses only the public API of gmulti. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include <gmulti/gmulti.h>

#include "demo-server.h"
#include "fetch-options.h"
#include "fetch-run.h"

#define DEMO_FILES 12

static void
print_version (void)
{
  printf ("gmulti-fetch %s (gmulti %s)\n", PACKAGE_VERSION, GMULTI_VERSION_S);
  printf (_("Protocols: http https\n"));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) demo_uris = NULL;
  g_autofree char *note = NULL;
  DemoServer *demo = NULL;
  FetchOptions options;
  FetchExit result;
  const char *localedir = g_getenv ("GMULTI_LOCALEDIR");

  setlocale (LC_ALL, "");
  /* The environment override lets tests use the build tree's catalogues. */
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : GMULTI_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  fetch_options_init (&options);
  if (!fetch_options_parse (&options, &argc, &argv, &error))
    {
      g_printerr ("gmulti-fetch: %s\n", error->message);
      g_printerr (_("Try 'gmulti-fetch --help' for more information.\n"));
      fetch_options_clear (&options);
      return error->domain == G_FILE_ERROR ? FETCH_EXIT_LOCAL_FILE : FETCH_EXIT_USAGE;
    }
  if (options.help_man)
    {
      fetch_options_write_man (stdout);
      fetch_options_clear (&options);
      return FETCH_EXIT_OK;
    }
  if (options.version)
    {
      print_version ();
      fetch_options_clear (&options);
      return FETCH_EXIT_OK;
    }

  if (options.uris == NULL)
    {
      demo = demo_server_start (&error);
      if (demo == NULL)
        {
          g_printerr (_("gmulti-fetch: could not start the demo server: %s\n"),
                      error->message);
          fetch_options_clear (&options);
          return FETCH_EXIT_INTERNAL;
        }
      builder = g_strv_builder_new ();
      for (guint i = 0; i < DEMO_FILES; i++)
        {
          g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u/demo/%u",
                                                  demo_server_get_port (demo),
                                                  (i + 1) * 256 * 1024);

          g_strv_builder_add (builder, uri);
        }
      /* Failures are part of the show: a missing file, and nothing listens on port 1. */
      {
        g_autofree char *missing = g_strdup_printf ("http://127.0.0.1:%u/demo/missing",
                                                    demo_server_get_port (demo));

        g_strv_builder_add (builder, missing);
      }
      g_strv_builder_add (builder, "http://127.0.0.1:1/nothing-listens-here");
      demo_uris = g_strv_builder_end (builder);
      note = g_strdup_printf (_("No URL given: fetching a demo set from a loopback server "
                                "on port %u."), demo_server_get_port (demo));
    }

  result = fetch_run (&options,
                      (const char * const *) (demo_uris != NULL ? demo_uris : options.uris),
                      demo != NULL, demo != NULL ? DEMO_FILES : -1, note);

  if (demo != NULL)
    demo_server_stop (demo);
  fetch_options_clear (&options);
  return result;
}
