/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The option table of gmulti-fetch. The same entries feed GOptionContext (--help) and
 * the man page (--help-man, run at build time), so the two cannot disagree. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include <gmulti/gmulti.h>

#include "fetch-job.h"
#include "fetch-options.h"

static const char *const description[] = {
  N_("Downloads every URL given, many at once, through one gmulti session. Bodies go to "
     "standard output unless -o, -O or --output-dir says where to save them."),
  N_("On a terminal, standard error shows one line per active transfer (bytes, "
     "percentage, rate and time left) and a total line. Elsewhere it gets one line per "
     "finished, failed or retried transfer, and a summary."),
  N_("With no URL at all, it starts a loopback demo server and downloads a demo set, two "
     "URLs of which fail on purpose."),
};

static const struct {
  FetchExit code;
  const char *text;
} exit_statuses[] = {
  { FETCH_EXIT_OK, N_("every transfer succeeded") },
  { FETCH_EXIT_INTERNAL, N_("the demo server could not start") },
  { FETCH_EXIT_USAGE, N_("bad usage: an unknown option, a bad value, URL or header") },
  { FETCH_EXIT_NETWORK, N_("a transfer failed with a network or protocol error") },
  { FETCH_EXIT_HTTP, N_("with --fail: a server answered with an HTTP status of 400 or more") },
  { FETCH_EXIT_TLS, N_("a TLS error (untrusted certificate, handshake failure...)") },
  { FETCH_EXIT_LOCAL_FILE, N_("a local file error: an output could not be written, or a "
                              "--data @FILE not read") },
  { FETCH_EXIT_TIMEOUT, N_("a transfer timed out (--max-time, --connect-timeout)") },
  { FETCH_EXIT_INTERRUPTED, N_("interrupted (SIGINT or SIGTERM)") },
};

/* For the man page only: --help stays short. */
static const char *const output_notes[] = {
  "Each file is written under a temporary name beside it (.NAME.gmulti-XXXXXX) and "
  "renamed once its body is complete: a failed transfer leaves no file, and neither "
  "does an HTTP error with --fail. Without --fail an error page is kept, as the body "
  "the server sent, but the transfer still shows as failed.",
  "Bodies for standard output come out whole and in command-line order: a body is held "
  "in memory until the bodies of the URLs before it are complete. A body already "
  "written there cannot be taken back when a retry follows.",
  "On a terminal the display is redrawn in place on standard error and every line is "
  "cut to the terminal's width; a failure's message is wrapped instead. When standard "
  "error is not a terminal, when TERM is dumb, or when a body goes to a terminal on "
  "standard output, each finished, failed or retried transfer gets one line "
  "(URL: done: ..., URL: failed: ...) and the run ends with a summary line.",
};

static const char exit_note[] =
  N_("When several transfers fail, the first of them in command-line order decides.");

static const char write_out_note[] =
  N_("Variables for --write-out: %{http_code} %{size_download} %{size_upload} "
     "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} "
     "%{time_total} %{speed_download} %{url} %{url_effective} %{num_redirects} "
     "%{num_retries} %{filename_effective} %{exitcode} %{errormsg}; \\n and \\t are "
     "newline and tab, %% is a percent sign.");

static gboolean
data_cb (const char  *name,
         const char  *value,
         gpointer     user_data,
         GError     **error)
{
  FetchOptions *self = user_data;
  gboolean binary = strcmp (name, "--data-binary") == 0;
  g_autofree char *contents = NULL;
  gsize length = strlen (value);

  if (value[0] == '@')
    {
      if (!g_file_get_contents (value + 1, &contents, &length, error))
        return FALSE;
      value = contents;
    }

  if (self->data == NULL)
    self->data = g_byte_array_new ();
  else
    g_byte_array_append (self->data, (const guint8 *) "&", 1);

  for (gsize i = 0; i < length; i++)
    /* As with curl, text read by --data loses its line breaks. */
    if (binary || contents == NULL || (value[i] != '\r' && value[i] != '\n'))
      g_byte_array_append (self->data, (const guint8 *) value + i, 1);
  return TRUE;
}

/* The table, pointing into @self. The last entry is the terminator. */
static GOptionEntry *
make_entries (FetchOptions *self)
{
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME_ARRAY, &self->outputs,
      N_("Write the body of the Nth URL to FILE, given once per URL (- is standard "
         "output)"), N_("FILE") },
    { "remote-name", 'O', 0, G_OPTION_ARG_NONE, &self->remote_name,
      N_("Save each body under the last segment of its URL's path"), NULL },
    { "output-dir", 0, 0, G_OPTION_ARG_FILENAME, &self->output_dir,
      N_("Save files in DIR, created if needed; implies -O for URLs without -o"),
      N_("DIR") },
    { "header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &self->headers,
      N_("Add the request header 'NAME: VALUE' (repeatable)"), N_("HEADER") },
    { "request", 'X', 0, G_OPTION_ARG_STRING, &self->method,
      N_("Use METHOD instead of GET (or POST with --data)"), N_("METHOD") },
    { "data", 'd', 0, G_OPTION_ARG_CALLBACK, data_cb,
      N_("Send DATA with POST as a form; @FILE reads it from FILE without line breaks; "
         "pieces of several -d are joined with &"), N_("DATA") },
    { "data-binary", 0, 0, G_OPTION_ARG_CALLBACK, data_cb,
      N_("Like --data, but @FILE is sent byte for byte"), N_("DATA") },
    { "location", 'L', 0, G_OPTION_ARG_NONE, &self->location,
      N_("Follow redirects"), NULL },
    { "max-redirs", 0, 0, G_OPTION_ARG_INT, &self->max_redirs,
      N_("Follow at most N redirects (with -L)"), N_("N") },
    { "max-time", 'm', 0, G_OPTION_ARG_DOUBLE, &self->max_time,
      N_("Give up on a transfer after SECONDS in all"), N_("SECONDS") },
    { "connect-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &self->connect_timeout,
      N_("Give up on a connection not established within SECONDS"), N_("SECONDS") },
    { "insecure", 'k', 0, G_OPTION_ARG_NONE, &self->insecure,
      N_("Do not verify the server's TLS certificate"), NULL },
    { "cacert", 0, 0, G_OPTION_ARG_FILENAME, &self->cacert,
      N_("Trust the certificate authorities in the PEM FILE"), N_("FILE") },
    { "http1.1", 0, 0, G_OPTION_ARG_NONE, &self->http1_1,
      N_("Use HTTP/1.1 only"), NULL },
    { "http2", 0, 0, G_OPTION_ARG_NONE, &self->http2,
      N_("Require HTTP/2: fail a transfer whose TLS server does not choose it (the "
         "default takes HTTP/2 where a TLS server offers it, HTTP/1.1 otherwise)"), NULL },
    { "http2-prior-knowledge", 0, 0, G_OPTION_ARG_NONE, &self->http2_prior_knowledge,
      N_("Speak HTTP/2 from the first byte, without negotiation, also to http:// URLs"),
      NULL },
    { "compressed", 0, 0, G_OPTION_ARG_NONE, &self->compressed,
      N_("Ask for a compressed response (gzip, deflate, br, zstd) and save it decoded"),
      NULL },
    { "unix-socket", 0, 0, G_OPTION_ARG_FILENAME, &self->unix_socket,
      N_("Connect to the Unix socket PATH instead of the URL's host"), N_("PATH") },
    { "abstract-unix-socket", 0, 0, G_OPTION_ARG_STRING, &self->abstract_unix_socket,
      N_("Connect to the abstract Unix socket NAME (Linux)"), N_("NAME") },
    { "parallel", 'j', 0, G_OPTION_ARG_INT, &self->parallel,
      N_("Run at most N transfers at once (default 8)"), N_("N") },
    { "write-out", 'w', 0, G_OPTION_ARG_STRING, &self->write_out,
      N_("Print FORMAT to standard output after each transfer (variables below)"),
      N_("FORMAT") },
    { "fail", 'f', 0, G_OPTION_ARG_NONE, &self->fail,
      N_("Count an HTTP status of 400 or more as a failure and keep no file for it"),
      NULL },
    { "retry", 0, 0, G_OPTION_ARG_INT, &self->retry,
      N_("Retry a transfer up to N times after a transient failure (connection "
         "trouble, a timeout, HTTP 408, 429, 500, 502, 503, 504)"), N_("N") },
    { "retry-delay", 0, 0, G_OPTION_ARG_DOUBLE, &self->retry_delay,
      N_("Wait SECONDS before the first retry, twice as long before each next one, at "
         "most 60 s (default 1)"), N_("SECONDS") },
    { "silent", 's', 0, G_OPTION_ARG_NONE, &self->silent,
      N_("Show no progress and no summary, only failures"), NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &self->version,
      N_("Show the version and exit"), NULL },
    { "help-man", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &self->help_man,
      "Write the man page to standard output", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &self->uris, NULL,
      N_("[URL…]") },
    { NULL }
  };

  return g_memdup2 (entries, sizeof entries);
}

void
fetch_options_init (FetchOptions *self)
{
  memset (self, 0, sizeof *self);
  self->max_redirs = -1;
  self->parallel = 8;
  self->retry_delay = 1.0;
}

void
fetch_options_clear (FetchOptions *self)
{
  g_strfreev (self->outputs);
  g_free (self->output_dir);
  g_strfreev (self->headers);
  g_free (self->method);
  if (self->data != NULL)
    g_byte_array_unref (self->data);
  g_free (self->cacert);
  g_free (self->unix_socket);
  g_free (self->abstract_unix_socket);
  g_free (self->write_out);
  g_strfreev (self->uris);
  memset (self, 0, sizeof *self);
}

static gboolean
check_values (FetchOptions *self,
              GError      **error)
{
  const char *bad = NULL;

  if (self->parallel < 1)
    bad = "--parallel";
  else if (self->max_time < 0 || self->max_time > G_MAXUINT / 1000.0)
    bad = "--max-time";
  else if (self->connect_timeout < 0 || self->connect_timeout > G_MAXUINT / 1000.0)
    bad = "--connect-timeout";
  else if (self->retry < 0)
    bad = "--retry";
  else if (self->retry_delay < 0 || self->retry_delay > 60)
    bad = "--retry-delay";
  else if (self->max_redirs < -1)
    bad = "--max-redirs";

  if (bad != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The value of %s is out of range"), bad);
      return FALSE;
    }
  if (self->http1_1 + self->http2 + self->http2_prior_knowledge > 1)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("Give at most one of --http1.1, --http2 and "
                             "--http2-prior-knowledge"));
      return FALSE;
    }
  return TRUE;
}

GMultiHttpVersion
fetch_options_http_version (const FetchOptions *self)
{
  if (self->http1_1)
    return GMULTI_HTTP_VERSION_HTTP_1_1;
  if (self->http2)
    return GMULTI_HTTP_VERSION_HTTP_2;
  if (self->http2_prior_knowledge)
    return GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE;
  return GMULTI_HTTP_VERSION_AUTO;
}

static char *
help_text (void)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "%s\n\n%s\n", _(write_out_note), _("Exit status:"));
  for (gsize i = 0; i < G_N_ELEMENTS (exit_statuses); i++)
    g_string_append_printf (text, "  %3d  %s\n", exit_statuses[i].code,
                            _(exit_statuses[i].text));
  g_string_append_printf (text, "%s", _(exit_note));
  return g_string_free (text, FALSE);
}

gboolean
fetch_options_parse (FetchOptions *self,
                     int          *argc,
                     char       ***argv,
                     GError      **error)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autofree GOptionEntry *entries = make_entries (self);
  g_autofree char *summary = NULL;
  g_autofree char *help = help_text ();
  GOptionGroup *group;

  context = g_option_context_new (_("— download many URLs at once"));
  group = g_option_group_new ("gmulti-fetch", "", "", self, NULL);
  g_option_group_add_entries (group, entries);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  g_option_context_set_main_group (context, group);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  summary = g_strjoin ("\n\n", _(description[0]), _(description[1]), _(description[2]),
                       NULL);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, help);

  return g_option_context_parse (context, argc, argv, error) && check_values (self, error);
}

/* Text for roff: escapes backslashes and hyphens, and keeps a line from starting
 * with a control character. */
static void
write_roff (FILE       *out,
            const char *text)
{
  if (*text == '.' || *text == '\'')
    fputs ("\\&", out);
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\\')
        fputs ("\\e", out);
      else if (*p == '-')
        fputs ("\\-", out);
      else
        fputc (*p, out);
    }
}

void
fetch_options_write_man (FILE *out)
{
  FetchOptions dummy;
  g_autofree GOptionEntry *entries = NULL;

  fetch_options_init (&dummy);
  entries = make_entries (&dummy);

  fprintf (out, ".TH GMULTI\\-FETCH 1 \"\" \"gmulti %s\" \"User Commands\"\n",
           PACKAGE_VERSION);
  fputs (".SH NAME\ngmulti\\-fetch \\- download many URLs at once\n", out);
  fputs (".SH SYNOPSIS\n.B gmulti\\-fetch\n[\\fIOPTION\\fR...] [\\fIURL\\fR...]\n", out);
  fputs (".SH DESCRIPTION\n", out);
  for (gsize i = 0; i < G_N_ELEMENTS (description); i++)
    {
      fputs (i > 0 ? ".PP\n" : "", out);
      write_roff (out, description[i]);
      fputc ('\n', out);
    }

  fputs (".SH OPTIONS\n", out);
  for (const GOptionEntry *e = entries; e->long_name != NULL; e++)
    {
      if ((e->flags & G_OPTION_FLAG_HIDDEN) || strcmp (e->long_name, G_OPTION_REMAINING) == 0)
        continue;
      fputs (".TP\n", out);
      if (e->short_name != 0)
        fprintf (out, "\\fB\\-%c\\fR, ", e->short_name);
      fputs ("\\fB\\-\\-", out);
      write_roff (out, e->long_name);
      fputs ("\\fR", out);
      if (e->arg_description != NULL)
        {
          fputs ("=\\fI", out);
          write_roff (out, e->arg_description);
          fputs ("\\fR", out);
        }
      fputc ('\n', out);
      write_roff (out, e->description);
      fputc ('\n', out);
    }
  fputs (".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nShow the options and exit\n", out);

  fputs (".SH OUTPUT\n", out);
  for (gsize i = 0; i < G_N_ELEMENTS (output_notes); i++)
    {
      fputs (i > 0 ? ".PP\n" : "", out);
      write_roff (out, output_notes[i]);
      fputc ('\n', out);
    }

  fputs (".SH WRITE-OUT VARIABLES\n", out);
  write_roff (out, write_out_note);
  fputc ('\n', out);

  fputs (".SH EXIT STATUS\n", out);
  for (gsize i = 0; i < G_N_ELEMENTS (exit_statuses); i++)
    {
      fprintf (out, ".TP\n.B %d\n", exit_statuses[i].code);
      write_roff (out, exit_statuses[i].text);
      fputc ('\n', out);
    }
  fputs (".PP\n", out);
  write_roff (out, exit_note);
  fputc ('\n', out);

  fputs (".SH ENVIRONMENT\n.TP\n.B COLUMNS\n", out);
  write_roff (out, "The width of the progress display when the terminal does not say.");
  fputs ("\n.SH EXAMPLES\n.nf\n", out);
  write_roff (out, "gmulti-fetch --output-dir out https://example.org/a https://example.org/b\n");
  write_roff (out, "gmulti-fetch -sf -w '%{http_code} %{time_total}\\n' -o page.html "
                   "https://example.org/\n");
  fputs (".fi\n.SH SEE ALSO\n.BR curl (1)\n", out);
}
