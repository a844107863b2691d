/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "fetch-job.h"

G_BEGIN_DECLS

typedef enum {
  FETCH_DISPLAY_SILENT,         /* failures only, one line each */
  FETCH_DISPLAY_PLAIN,          /* one line per event and a summary */
  FETCH_DISPLAY_TTY,            /* a live area redrawn in place */
} FetchDisplayMode;

/* Progress and results on standard error. @jobs (element-type FetchJob) is read, in
 * command-line order, at each redraw. */
typedef struct _FetchDisplay FetchDisplay;

FetchDisplay *fetch_display_new      (FetchDisplayMode mode,
                                      GPtrArray       *jobs);
void          fetch_display_note     (FetchDisplay    *self,
                                      const char      *text);
void          fetch_display_finished (FetchDisplay    *self,
                                      FetchJob        *job);
void          fetch_display_retrying (FetchDisplay    *self,
                                      FetchJob        *job,
                                      double           delay,
                                      guint            retries,
                                      const char      *reason);
/* The last redraw and the summary; stops the redraw timer. */
void          fetch_display_end      (FetchDisplay    *self);
void          fetch_display_free     (FetchDisplay    *self);

G_END_DECLS
