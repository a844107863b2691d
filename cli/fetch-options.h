/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdio.h>

#include <gmulti/gmulti.h>

G_BEGIN_DECLS

/* The command line, as parsed from the one option table that also writes the man
 * page. Times are in seconds, 0 for none; counts are -1 when not given. */
typedef struct {
  char **outputs;               /* -o, the Nth for the Nth URL */
  gboolean remote_name;
  char *output_dir;
  char **headers;
  char *method;
  GByteArray *data;             /* -d and --data-binary pieces, joined; NULL if none */
  gboolean location;
  int max_redirs;
  double max_time;
  double connect_timeout;
  gboolean insecure;
  char *cacert;
  gboolean http1_1;             /* at most one of the three HTTP version flags */
  gboolean http2;
  gboolean http2_prior_knowledge;
  gboolean compressed;          /* as curl: content codings only when asked for */
  char *unix_socket;
  char *abstract_unix_socket;   /* without the '@' */
  int parallel;
  char *write_out;
  gboolean fail;
  int retry;
  double retry_delay;
  gboolean silent;
  gboolean version;
  gboolean help_man;
  char **uris;
} FetchOptions;

void     fetch_options_init      (FetchOptions *self);
void     fetch_options_clear     (FetchOptions *self);
/* On failure @error is in G_OPTION_ERROR for a usage error, or G_FILE_ERROR when a
 * --data @FILE could not be read. */
gboolean fetch_options_parse     (FetchOptions *self,
                                  int          *argc,
                                  char       ***argv,
                                  GError      **error);
void     fetch_options_write_man (FILE         *out);
/* The session's HTTP version for the flags given (AUTO with none). */
GMultiHttpVersion fetch_options_http_version (const FetchOptions *self);

G_END_DECLS
