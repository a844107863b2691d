/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fetch-write-out.h"

static void
append_seconds (GString *out,
                gint64   usec)
{
  /* The C locale's decimal point whatever the user's: scripts parse this. */
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buffer, sizeof buffer, "%.6f", usec / 1e6));
}

/* Appends the value of @name; FALSE if there is no such variable. */
static gboolean
append_variable (GString    *out,
                 const char *name,
                 FetchJob   *job)
{
  GMultiTransfer *transfer = job->transfer;
  GMultiMetrics *metrics = transfer != NULL ? gmulti_transfer_get_metrics (transfer) : NULL;
  guint64 received = transfer != NULL ? gmulti_transfer_get_bytes_received (transfer) : 0;
  gint64 total = metrics != NULL ? gmulti_metrics_get_total_time (metrics) : 0;

  if (strcmp (name, "http_code") == 0 || strcmp (name, "response_code") == 0)
    g_string_append_printf (out, "%03u",
                            transfer != NULL ? gmulti_transfer_get_status (transfer) : 0);
  else if (strcmp (name, "size_download") == 0)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, received);
  else if (strcmp (name, "size_upload") == 0)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT,
                            transfer != NULL ? gmulti_transfer_get_bytes_sent (transfer) : 0);
  else if (strcmp (name, "time_namelookup") == 0)
    append_seconds (out, metrics != NULL ? gmulti_metrics_get_name_lookup_time (metrics) : 0);
  else if (strcmp (name, "time_connect") == 0)
    append_seconds (out, metrics != NULL ? gmulti_metrics_get_connect_time (metrics) : 0);
  else if (strcmp (name, "time_appconnect") == 0)
    append_seconds (out, metrics != NULL ? gmulti_metrics_get_tls_time (metrics) : 0);
  else if (strcmp (name, "time_starttransfer") == 0)
    append_seconds (out, metrics != NULL ? gmulti_metrics_get_first_byte_time (metrics) : 0);
  else if (strcmp (name, "time_redirect") == 0)
    append_seconds (out, metrics != NULL ? gmulti_metrics_get_redirect_time (metrics) : 0);
  else if (strcmp (name, "time_total") == 0)
    append_seconds (out, total);
  else if (strcmp (name, "speed_download") == 0)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT,
                            total > 0 ? (guint64) (received * 1e6 / total) : 0);
  else if (strcmp (name, "url") == 0)
    g_string_append (out, job->uri);
  else if (strcmp (name, "url_effective") == 0)
    {
      const char *effective = transfer != NULL
                              ? gmulti_transfer_get_effective_uri (transfer) : NULL;

      g_string_append (out, effective != NULL ? effective : job->uri);
    }
  else if (strcmp (name, "num_redirects") == 0)
    g_string_append_printf (out, "%u",
                            metrics != NULL ? gmulti_metrics_get_redirect_count (metrics) : 0);
  else if (strcmp (name, "num_retries") == 0)
    g_string_append_printf (out, "%u", job->attempt > 0 ? job->attempt - 1 : 0);
  else if (strcmp (name, "filename_effective") == 0)
    g_string_append (out, job->path != NULL ? job->path : "");
  else if (strcmp (name, "exitcode") == 0)
    g_string_append_printf (out, "%d", job->exit_code);
  else if (strcmp (name, "errormsg") == 0)
    g_string_append (out, job->message != NULL ? job->message : "");
  else
    return FALSE;
  return TRUE;
}

char *
fetch_write_out_expand (const char *format,
                        FetchJob   *job)
{
  static gboolean warned = FALSE;
  GString *out = g_string_new (NULL);

  for (const char *p = format; *p != '\0'; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        {
          p++;
          switch (*p)
            {
            case 'n': g_string_append_c (out, '\n'); break;
            case 'r': g_string_append_c (out, '\r'); break;
            case 't': g_string_append_c (out, '\t'); break;
            case '\\': g_string_append_c (out, '\\'); break;
            default: g_string_append_c (out, '\\'); g_string_append_c (out, *p); break;
            }
        }
      else if (*p == '%' && p[1] == '%')
        {
          g_string_append_c (out, '%');
          p++;
        }
      else if (*p == '%' && p[1] == '{' && strchr (p, '}') != NULL)
        {
          const char *end = strchr (p, '}');
          g_autofree char *name = g_strndup (p + 2, end - p - 2);

          if (!append_variable (out, name, job))
            {
              if (!warned)
                g_printerr (_("gmulti-fetch: unknown --write-out variable %%{%s}\n"), name);
              warned = TRUE;
              g_string_append_len (out, p, end - p + 1);
            }
          p = end;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}
