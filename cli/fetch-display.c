/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The progress display. On a terminal: finished transfers scroll up as permanent lines,
 * below them a live area (one line per active transfer and a total line) is redrawn ten
 * times a second by moving the cursor back up. Every line is cut to the terminal's
 * width, so none ever wraps and the cursor arithmetic stays right. Elsewhere: one plain
 * line per event. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fetch-display.h"
#include "fetch-text.h"

#define REDRAW_MS 100
/* Seconds over which the rate estimate forgets. */
#define RATE_TIME_CONSTANT 1.5
/* The widest the name column gets. */
#define NAME_COLUMNS 48

struct _FetchDisplay {
  FetchDisplayMode mode;
  GPtrArray *jobs;
  GPtrArray *permanent;         /* (element-type utf8) lines to print above the live area */
  guint live_lines;             /* lines of the live area on screen now */
  guint timer;
  gint64 started;
  gboolean ended;
};

static gboolean redraw_cb (gpointer user_data);

FetchDisplay *
fetch_display_new (FetchDisplayMode mode,
                   GPtrArray       *jobs)
{
  FetchDisplay *self = g_new0 (FetchDisplay, 1);

  self->mode = mode;
  self->jobs = g_ptr_array_ref (jobs);
  self->permanent = g_ptr_array_new_with_free_func (g_free);
  self->started = g_get_monotonic_time ();
  if (mode == FETCH_DISPLAY_TTY)
    {
      self->timer = g_timeout_add (REDRAW_MS, redraw_cb, self);
      fputs ("\033[?25l", stderr);      /* no cursor flicker in the live area */
      fflush (stderr);
    }
  return self;
}

void
fetch_display_free (FetchDisplay *self)
{
  if (!self->ended)
    fetch_display_end (self);
  g_ptr_array_unref (self->jobs);
  g_ptr_array_unref (self->permanent);
  g_free (self);
}

static void
terminal_size (guint *columns,
               guint *rows)
{
  struct winsize size = { 0 };
  const char *env = g_getenv ("COLUMNS");

  *columns = 0;
  *rows = 0;
  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0)
    {
      *columns = size.ws_col;
      *rows = size.ws_row;
    }
  if (*columns == 0 && env != NULL)
    *columns = (guint) MIN (g_ascii_strtoull (env, NULL, 10), 4096);
  if (*columns == 0)
    *columns = 80;
  if (*rows == 0)
    *rows = 24;
}

static const char *
color (FetchDisplay *self,
       const char   *sgr)
{
  return self->mode == FETCH_DISPLAY_TTY ? sgr : "";
}

static guint64
job_received (FetchJob *job)
{
  return job->transfer != NULL ? gmulti_transfer_get_bytes_received (job->transfer) : 0;
}

static void
update_rate (FetchJob *job,
             gint64    now)
{
  guint64 received = job_received (job);
  double dt;

  /* job_start() set rate_time to the attempt's start, rate_bytes to 0. */
  if (job->rate_time == 0 || received < job->rate_bytes)
    {
      job->rate_time = now;
      job->rate_bytes = received;
      job->rate = 0;
      return;
    }
  dt = (now - job->rate_time) / 1e6;
  if (dt < 0.05)
    return;
  {
    double instant = (received - job->rate_bytes) / dt;

    job->rate = job->rate == 0 ? instant
                : job->rate + (1 - exp (-dt / RATE_TIME_CONSTANT)) * (instant - job->rate);
  }
  job->rate_time = now;
  job->rate_bytes = received;
}

/* One live line: "  NAME  BYTES  PCT  RATE  ETA", fields dropped when the name would
 * get too narrow. */
static void
live_line (GString  *out,
           FetchJob *job,
           gsize     width,
           gint64    now)
{
  GMultiTransfer *transfer = job->transfer;
  guint64 received = job_received (job);
  gint64 expected = transfer != NULL ? gmulti_transfer_get_bytes_expected (transfer) : -1;
  g_autofree char *bytes = NULL, *percent = NULL, *rate = NULL, *eta = NULL;
  g_autofree char *name = NULL;
  const char *fields[4];
  int widths[4] = { 21, 4, 11, 9 };
  gboolean shown[4] = { TRUE, TRUE, TRUE, TRUE };
  gsize right;
  GString *line = g_string_new ("  ");

  update_rate (job, now);
  if (job->state == FETCH_JOB_RETRY_WAIT)
    bytes = g_strdup (_("waiting to retry"));
  else if (transfer == NULL || gmulti_transfer_get_state (transfer) < GMULTI_TRANSFER_SENDING)
    bytes = g_strdup (_("connecting"));
  else
    {
      g_autofree char *got = fetch_text_size (received);

      if (expected >= 0)
        {
          g_autofree char *all = fetch_text_size (expected);

          bytes = g_strdup_printf ("%s/%s", got, all);
          percent = g_strdup_printf ("%u%%", expected > 0
                                     ? (guint) MIN (100, received * 100 / (guint64) expected)
                                     : 100);
        }
      else
        bytes = g_steal_pointer (&got);
      rate = job->rate > 0 ? fetch_text_rate (job->rate) : NULL;
      if (expected >= 0 && job->rate > 0)
        {
          guint64 to_go = (guint64) expected - MIN (received, (guint64) expected);
          g_autofree char *left = fetch_text_duration (to_go / job->rate);

          eta = g_strdup_printf (_("ETA %s"), left);
        }
    }
  fields[0] = bytes;
  fields[1] = percent != NULL ? percent : "";
  fields[2] = rate != NULL ? rate : "";
  fields[3] = eta != NULL ? eta : "";

  /* Room for the name: the width less the indent, the fields and their gaps. Fields go
   * when the name would get too narrow: the time left first, then the rate, then the
   * bytes (the percentage says as much). */
  {
    static const guint drop_order[] = { 3, 2, 0 };
    guint dropped = 0;

    for (;;)
      {
        right = 0;
        for (guint i = 0; i < 4; i++)
          if (shown[i] && fields[i][0] != '\0')
            right += 2 + MAX ((gsize) widths[i], fetch_text_width (fields[i]));
        if (width >= 2 + 16 + right || dropped == G_N_ELEMENTS (drop_order))
          break;
        /* The bytes stay when there is no percentage to replace them. */
        if (drop_order[dropped] == 0 && fields[1][0] == '\0')
          break;
        shown[drop_order[dropped++]] = FALSE;
      }
  }

  {
    gsize room = width > 2 + right + 8 ? width - 2 - right : 8;

    /* A wide terminal does not push the numbers far away from the names. */
    room = MIN (room, NAME_COLUMNS);
    name = fetch_text_short_uri (job->uri, room);
    g_string_append (line, name);
    for (gsize pad = fetch_text_width (name); pad < room; pad++)
      g_string_append_c (line, ' ');
  }
  for (guint i = 0; i < 4; i++)
    {
      gsize w = fetch_text_width (fields[i]);

      if (!shown[i] || fields[i][0] == '\0')
        continue;

      g_string_append (line, "  ");
      for (gsize pad = w; pad < (gsize) widths[i]; pad++)
        g_string_append_c (line, ' ');
      g_string_append (line, fields[i]);
    }
  fetch_text_fit (out, line->str, width);
  g_string_free (line, TRUE);
}

typedef struct {
  guint done, failed, active, queued;
  guint64 bytes;
} Totals;

static Totals
count (FetchDisplay *self)
{
  Totals totals = { 0 };

  for (guint i = 0; i < self->jobs->len; i++)
    {
      FetchJob *job = self->jobs->pdata[i];

      totals.bytes += job_received (job);
      switch (job->state)
        {
        case FETCH_JOB_QUEUED: totals.queued++; break;
        case FETCH_JOB_RUNNING:
        case FETCH_JOB_RETRY_WAIT: totals.active++; break;
        case FETCH_JOB_DONE:
          /* An error page kept without --fail is still no success. */
          if (job->http_failed)
            totals.failed++;
          else
            totals.done++;
          break;
        case FETCH_JOB_FAILED: totals.failed++; break;
        default: break;
        }
    }
  return totals;
}

/* "13 transfers: 12 done, 1 failed, 19.5 MiB in 0:01 (24.4 MiB/s)" */
static char *
summary (FetchDisplay *self,
         gboolean      final)
{
  Totals totals = count (self);
  double seconds = (g_get_monotonic_time () - self->started) / 1e6;
  g_autofree char *size = fetch_text_size (totals.bytes);
  g_autofree char *rate = fetch_text_rate (seconds > 0 ? totals.bytes / seconds : 0);
  char elapsed[32];

  g_snprintf (elapsed, sizeof elapsed, "%.2f", seconds);
  if (final)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "%u transfer: %u done, %u failed, %s in %s s (%s)",
                                         "%u transfers: %u done, %u failed, %s in %s s (%s)",
                                         self->jobs->len),
                            self->jobs->len, totals.done, totals.failed, size, elapsed, rate);
  return g_strdup_printf (_("Total: %u of %u done, %u failed, %u active, %s, %s"),
                          totals.done, self->jobs->len, totals.failed, totals.active,
                          size, rate);
}

static void
redraw (FetchDisplay *self,
        gboolean      final)
{
  GString *out = g_string_new (NULL);
  gint64 now = g_get_monotonic_time ();
  guint columns, rows, room, shown = 0, hidden = 0;
  g_autofree char *total = NULL;

  terminal_size (&columns, &rows);
  /* One column spare: a line that fills the last column makes some terminals wrap. */
  columns = MAX (columns, 2) - 1;
  room = rows > 3 ? rows - 2 : 1;

  if (self->live_lines > 0)
    g_string_append_printf (out, "\r\033[%uA", self->live_lines);
  for (guint i = 0; i < self->permanent->len; i++)
    g_string_append_printf (out, "%s\033[K\n", (char *) self->permanent->pdata[i]);
  g_ptr_array_set_size (self->permanent, 0);

  for (guint i = 0; i < self->jobs->len && !final; i++)
    {
      FetchJob *job = self->jobs->pdata[i];

      if (job->state != FETCH_JOB_RUNNING && job->state != FETCH_JOB_RETRY_WAIT)
        continue;
      if (shown + 1 >= room)
        {
          hidden++;
          continue;
        }
      live_line (out, job, columns, now);
      g_string_append (out, "\033[K\n");
      shown++;
    }
  if (hidden > 0)
    {
      g_autofree char *more = g_strdup_printf (_("  %s and %u more"), fetch_text_ellipsis (),
                                               hidden);

      fetch_text_fit (out, more, columns);
      g_string_append (out, "\033[K\n");
      shown++;
    }

  total = summary (self, final);
  g_string_append (out, color (self, "\033[1m"));
  fetch_text_fit (out, total, columns);
  g_string_append (out, color (self, "\033[0m"));
  g_string_append (out, "\033[K\n\033[J");
  self->live_lines = final ? 0 : shown + 1;

  fwrite (out->str, 1, out->len, stderr);
  fflush (stderr);
  g_string_free (out, TRUE);
}

static gboolean
redraw_cb (gpointer user_data)
{
  redraw (user_data, FALSE);
  return G_SOURCE_CONTINUE;
}

/* A permanent line: the status word, then @name and @detail; on a terminal cut to its
 * width, a failure's message wrapped onto lines of its own. */
static void
permanent_line (FetchDisplay *self,
                gboolean      failed,
                const char   *uri,
                const char   *detail)
{
  const char *word = failed ? _("failed") : _("done");
  const char *sgr = failed ? "\033[31m" : "\033[32m";

  if (self->mode != FETCH_DISPLAY_TTY)
    {
      g_printerr ("%s: %s: %s\n", uri, word, detail);
      return;
    }

  {
    guint columns, rows;
    /* Both words take the same room, so that the names line up. */
    gsize word_width = MAX (fetch_text_width (_("failed")), fetch_text_width (_("done")));
    g_autofree char *name = NULL;
    g_autoptr(GPtrArray) pieces = g_ptr_array_new_with_free_func (g_free);
    GString *line = g_string_new (NULL);
    gsize room, name_width;

    terminal_size (&columns, &rows);
    columns = MAX (columns, 2) - 1;
    room = columns > word_width + 1 ? columns - word_width - 1 : 0;
    name_width = MIN (room, MAX (room / 2, (gsize) 16));
    name = fetch_text_short_uri (uri, name_width);

    g_string_append_printf (line, "%s", color (self, sgr));
    fetch_text_fit (line, word, columns);
    g_string_append (line, color (self, "\033[0m"));
    for (gsize pad = fetch_text_width (word); pad < word_width + 1 && pad < columns; pad++)
      g_string_append_c (line, ' ');
    fetch_text_fit (line, name, room);
    room = room > fetch_text_width (name) + 2 ? room - fetch_text_width (name) - 2 : 0;
    if (failed)
      fetch_text_wrap (pieces, detail, room, columns > 8 ? columns - 8 : columns);
    else
      {
        GString *cut = g_string_new (NULL);

        fetch_text_fit (cut, detail, room);
        g_ptr_array_add (pieces, g_string_free (cut, FALSE));
      }
    if (pieces->len > 0 && room > 0)
      g_string_append_printf (line, "  %s", (char *) pieces->pdata[0]);
    g_ptr_array_add (self->permanent, g_string_free (line, FALSE));
    for (guint i = room > 0 ? 1 : 0; i < pieces->len; i++)
      g_ptr_array_add (self->permanent, g_strdup_printf ("%s%s",
                                                         columns > 8 ? "        " : "",
                                                         (char *) pieces->pdata[i]));
  }
}

void
fetch_display_note (FetchDisplay *self,
                    const char   *text)
{
  if (self->mode == FETCH_DISPLAY_SILENT)
    return;
  if (self->mode == FETCH_DISPLAY_TTY)
    {
      g_autoptr(GPtrArray) pieces = g_ptr_array_new_with_free_func (g_free);
      guint columns, rows;

      terminal_size (&columns, &rows);
      columns = MAX (columns, 2) - 1;
      fetch_text_wrap (pieces, text, columns, columns);
      for (guint i = 0; i < pieces->len; i++)
        g_ptr_array_add (self->permanent, g_strdup (pieces->pdata[i]));
      return;
    }
  g_printerr ("%s\n", text);
}

void
fetch_display_finished (FetchDisplay *self,
                        FetchJob     *job)
{
  gboolean failed = job->state == FETCH_JOB_FAILED || job->http_failed;
  g_autofree char *detail = NULL;

  if (self->mode == FETCH_DISPLAY_SILENT && !failed)
    return;
  if (failed)
    detail = g_strdup (job->message);
  else
    {
      g_autofree char *size = fetch_text_size (job_received (job));
      char seconds[32];

      g_snprintf (seconds, sizeof seconds, "%.2f", (job->finished - job->started) / 1e6);
      detail = g_strdup_printf (_("%s in %s s, HTTP %u"), size, seconds,
                                gmulti_transfer_get_status (job->transfer));
    }
  if (self->mode == FETCH_DISPLAY_SILENT)
    g_printerr ("%s: %s: %s\n", job->uri, _("failed"), detail);
  else
    permanent_line (self, failed, job->uri, detail);
}

void
fetch_display_retrying (FetchDisplay *self,
                        FetchJob     *job,
                        double        delay,
                        guint         retries,
                        const char   *reason)
{
  g_autofree char *text = NULL;
  char seconds[32];

  if (self->mode == FETCH_DISPLAY_SILENT)
    return;
  g_snprintf (seconds, sizeof seconds, "%.1f", delay);
  text = g_strdup_printf (_("%s: retry %u of %u in %s s: %s"), job->uri, job->attempt,
                          retries, seconds, reason);
  fetch_display_note (self, text);
}

void
fetch_display_end (FetchDisplay *self)
{
  if (self->ended)
    return;
  self->ended = TRUE;
  g_clear_handle_id (&self->timer, g_source_remove);
  if (self->mode == FETCH_DISPLAY_TTY)
    {
      redraw (self, TRUE);
      fputs ("\033[?25h", stderr);
      fflush (stderr);
    }
  else if (self->mode == FETCH_DISPLAY_PLAIN)
    {
      g_autofree char *text = summary (self, TRUE);

      g_printerr ("%s\n", text);
    }
}
