/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Moving a plain-HTTP body from the socket to a file without passing it through the
 * process: splice(2) socket -> pipe, then pipe -> file. The pipe is the engine's, one
 * for all connections, and is empty between calls. Linux only; elsewhere every sink
 * takes the copying path. */
typedef struct {
  int fds[2];                   /* read end, write end; -1 until first used */
  gsize capacity;               /* bytes the pipe holds */
} GMultiSplicePipe;

void     gmulti_splice_pipe_init  (GMultiSplicePipe *self);
void     gmulti_splice_pipe_clear (GMultiSplicePipe *self);

/* The file descriptor of @stream if bytes can be spliced into it: an open stream with a
 * file descriptor (GFileDescriptorBased) for blocking writes at its offset (not
 * O_APPEND, not O_NONBLOCK) on a regular file or a character device; else -1. */
int      gmulti_splice_sink_fd    (GOutputStream *stream);

/* Writes all of @data to the blocking descriptor @fd (one of gmulti_splice_sink_fd()),
 * as the output stream itself would, without its poll() before every write(). */
gboolean gmulti_splice_write_all  (int               fd,
                                   const guint8     *data,
                                   gsize             length,
                                   GError          **error);

/* Creates the pipe if needed. FALSE if it cannot be (out of descriptors): copy. */
gboolean gmulti_splice_pipe_ready (GMultiSplicePipe *self);
/* Moves up to @max bytes from the non-blocking socket @sock_fd into the pipe. Returns
 * the count, 0 at the end of the stream, or -1 with errno (EAGAIN: nothing queued). */
gssize   gmulti_splice_in         (GMultiSplicePipe *self,
                                   int               sock_fd,
                                   gsize             max);
/* Moves the @length bytes gmulti_splice_in() put in the pipe to @out_fd, through
 * @scratch with read()/write() if the file system cannot splice (then @no_splice is
 * set, for the caller to stop trying). On failure the pipe is discarded. */
gboolean gmulti_splice_out        (GMultiSplicePipe *self,
                                   int               out_fd,
                                   gsize             length,
                                   guint8           *scratch,
                                   gsize             scratch_size,
                                   gboolean         *no_splice,
                                   GError          **error);

G_END_DECLS
