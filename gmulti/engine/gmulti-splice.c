/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gfiledescriptorbased.h>

#include "gmulti-splice.h"
#include "gmulti-error.h"
#include "gmulti-error-private.h"
#include "gmulti-i18n-private.h"

/* What an unprivileged process may ask for (/proc/sys/fs/pipe-max-size): fewer, larger
 * moves per body. */
#define PIPE_WANTED_SIZE (1024 * 1024)

void
gmulti_splice_pipe_init (GMultiSplicePipe *self)
{
  self->fds[0] = self->fds[1] = -1;
  self->capacity = 0;
}

void
gmulti_splice_pipe_clear (GMultiSplicePipe *self)
{
  for (guint i = 0; i < 2; i++)
    if (self->fds[i] >= 0)
      close (self->fds[i]);
  gmulti_splice_pipe_init (self);
}

gboolean
gmulti_splice_write_all (int           fd,
                         const guint8 *data,
                         gsize         length,
                         GError      **error)
{
  while (length > 0)
    {
      gssize n = write (fd, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = n < 0 ? errno : ENOSPC;

          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED,
                       _("Could not write the response body: %s"), g_strerror (saved));
          gmulti_error_set_errno (error != NULL ? *error : NULL, saved);
          return FALSE;
        }
      data += n;
      length -= (gsize) n;
    }
  return TRUE;
}

int
gmulti_splice_sink_fd (GOutputStream *stream)
{
  struct stat st;
  int fd, flags;

  if (stream == NULL || !G_IS_FILE_DESCRIPTOR_BASED (stream) || g_output_stream_is_closed (stream))
    return -1;
  fd = g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (stream));
  if (fd < 0 || fstat (fd, &st) < 0)
    return -1;
  /* Not pipes: the engine's pipe is non-blocking, which makes a pipe-to-pipe splice
   * fail when the sink is full instead of waiting as a write would. */
  if (!S_ISREG (st.st_mode) && !S_ISCHR (st.st_mode))
    return -1;
  /* splice() refuses O_APPEND files, and a non-blocking sink would need waiting
   * (written with write(2) where there is no splice(), the same rule keeps one
   * behaviour). */
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || (flags & (O_APPEND | O_NONBLOCK)) != 0)
    return -1;
  return fd;
}

#if GMULTI_USE_SPLICE

static gboolean
ensure_pipe (GMultiSplicePipe *self)
{
  int size;

  if (self->fds[0] >= 0)
    return TRUE;
  if (pipe2 (self->fds, O_CLOEXEC | O_NONBLOCK) < 0)
    {
      gmulti_splice_pipe_init (self);
      return FALSE;
    }
  /* Best effort: a smaller pipe only means more moves. */
  (void) fcntl (self->fds[1], F_SETPIPE_SZ, PIPE_WANTED_SIZE);
  size = fcntl (self->fds[1], F_GETPIPE_SZ);
  self->capacity = size > 0 ? (gsize) size : 65536;
  return TRUE;
}

gboolean
gmulti_splice_pipe_ready (GMultiSplicePipe *self)
{
  return ensure_pipe (self);
}

gssize
gmulti_splice_in (GMultiSplicePipe *self,
                  int               sock_fd,
                  gsize             max)
{
  gssize n;

  if (!ensure_pipe (self))
    return -1;
  do
    n = splice (sock_fd, NULL, self->fds[1], NULL, MIN (max, self->capacity),
                SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  while (n < 0 && errno == EINTR);
  return n;
}

/* The sink cannot take spliced pages: read them back and write them. */
static gboolean
copy_out (GMultiSplicePipe *self,
          int               out_fd,
          gsize             length,
          guint8           *scratch,
          gsize             scratch_size,
          GError          **error)
{
  while (length > 0)
    {
      gssize n = read (self->fds[0], scratch, MIN (length, scratch_size));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED,
                       _("Could not write the response body: %s"),
                       g_strerror (n < 0 ? errno : EIO));
          return FALSE;
        }
      if (!gmulti_splice_write_all (out_fd, scratch, (gsize) n, error))
        return FALSE;
      length -= (gsize) n;
    }
  return TRUE;
}

gboolean
gmulti_splice_out (GMultiSplicePipe *self,
                   int               out_fd,
                   gsize             length,
                   guint8           *scratch,
                   gsize             scratch_size,
                   gboolean         *no_splice,
                   GError          **error)
{
  while (length > 0)
    {
      gssize n = splice (self->fds[0], NULL, out_fd, NULL, length, SPLICE_F_MOVE);

      if (n > 0)
        {
          length -= (gsize) n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      /* A device that is not ready: wait, as the copying road's write() would. */
      if (n < 0 && errno == EAGAIN)
        {
          struct pollfd pfd = { .fd = out_fd, .events = POLLOUT };

          if (poll (&pfd, 1, -1) >= 0 || errno == EINTR)
            continue;
        }
      if (n < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
        {
          *no_splice = TRUE;
          if (copy_out (self, out_fd, length, scratch, scratch_size, error))
            return TRUE;
        }
      else
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED,
                     _("Could not write the response body: %s"),
                     g_strerror (n < 0 ? errno : ENOSPC));
      /* Whatever is left in the pipe belongs to nobody now. */
      gmulti_splice_pipe_clear (self);
      return FALSE;
    }
  return TRUE;
}

#else /* !GMULTI_USE_SPLICE: no splice() or pipe2(); bodies are copied */

gboolean
gmulti_splice_pipe_ready (GMultiSplicePipe *self)
{
  return FALSE;
}

gssize
gmulti_splice_in (GMultiSplicePipe *self,
                  int               sock_fd,
                  gsize             max)
{
  errno = ENOSYS;
  return -1;
}

gboolean
gmulti_splice_out (GMultiSplicePipe *self,
                   int               out_fd,
                   gsize             length,
                   guint8           *scratch,
                   gsize             scratch_size,
                   gboolean         *no_splice,
                   GError          **error)
{
  g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED,
                       _("Could not write the response body"));
  return FALSE;
}

#endif
