/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A descriptor that another thread makes readable: an eventfd where the system has
 * one (one descriptor, a counter), else a non-blocking pipe (two descriptors). Used
 * by the resolver's worker threads and by gmulti_engine_wakeup(). */
typedef struct {
  int read_fd;    /* watched for input; -1 when closed */
  int write_fd;   /* the same as read_fd for an eventfd */
} GMultiWakeupFd;

/* FALSE with errno set when no descriptor could be made (both -1 then). */
gboolean gmulti_wakeup_fd_open   (GMultiWakeupFd       *self);
/* Makes read_fd readable; any thread. Several signals before a drain count as one.
 * FALSE with errno set when the write failed for another reason than a full pipe. */
gboolean gmulti_wakeup_fd_signal (const GMultiWakeupFd *self);
/* Reads what the signals left, so that read_fd is no longer readable. */
void     gmulti_wakeup_fd_drain  (const GMultiWakeupFd *self);
/* Closes the descriptors; @self is not used again. */
void     gmulti_wakeup_fd_close  (const GMultiWakeupFd *self);

G_END_DECLS
