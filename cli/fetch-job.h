/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gmulti/gmulti.h>
#include <stdio.h>

G_BEGIN_DECLS

/* What the program's exit status says (documented in the man page and --help). When
 * several transfers fail, the first of them in command-line order decides. */
typedef enum {
  FETCH_EXIT_OK = 0,
  FETCH_EXIT_INTERNAL = 1,
  FETCH_EXIT_USAGE = 2,
  FETCH_EXIT_NETWORK = 3,
  FETCH_EXIT_HTTP = 4,
  FETCH_EXIT_TLS = 5,
  FETCH_EXIT_LOCAL_FILE = 6,
  FETCH_EXIT_TIMEOUT = 7,
  FETCH_EXIT_INTERRUPTED = 130,
} FetchExit;

typedef enum {
  FETCH_JOB_QUEUED,
  FETCH_JOB_RUNNING,
  FETCH_JOB_RETRY_WAIT,
  FETCH_JOB_DONE,
  FETCH_JOB_FAILED,
} FetchJobState;

/* One URL of the command line, over all its attempts. */
typedef struct {
  guint index;
  char *uri;
  char *path;                   /* output file; NULL: standard output or discarded */
  gboolean to_stdout;
  gboolean expected_failure;    /* one of the demo set's deliberate failures */

  FetchJobState state;
  guint attempt;                /* 1 for the first */
  GMultiTransfer *transfer;     /* the current or last attempt */
  GOutputStream *output;        /* the current attempt's file, under temp_path */
  char *temp_path;
  guint retry_source;

  FetchExit exit_code;          /* FETCH_EXIT_OK unless it failed */
  gboolean http_failed;         /* status >= 400, failed or not (see --fail) */
  char *message;                /* why it failed, translated */
  int stdout_errno;             /* why writing to standard output failed, or 0 */
  GByteArray *held;             /* body for standard output, waiting for its turn */

  gint64 started;               /* monotonic microseconds, first attempt */
  gint64 finished;

  /* The display's running rate estimate. */
  guint64 rate_bytes;
  gint64 rate_time;
  double rate;
} FetchJob;

G_END_DECLS
