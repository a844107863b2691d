/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib-unix.h>
#if GMULTI_USE_EVENTFD
#include <sys/eventfd.h>
#endif

#include "gmulti-wakeup-fd.h"

#if GMULTI_USE_EVENTFD

gboolean
gmulti_wakeup_fd_open (GMultiWakeupFd *self)
{
  self->read_fd = self->write_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  return self->read_fd >= 0;
}

gboolean
gmulti_wakeup_fd_signal (const GMultiWakeupFd *self)
{
  const guint64 one = 1;

  return write (self->write_fd, &one, sizeof one) >= 0 || errno == EAGAIN;
}

void
gmulti_wakeup_fd_drain (const GMultiWakeupFd *self)
{
  guint64 counter;

  /* EAGAIN: nothing was signalled. */
  if (read (self->read_fd, &counter, sizeof counter) < 0)
    return;
}

#else /* a pipe */

gboolean
gmulti_wakeup_fd_open (GMultiWakeupFd *self)
{
  int fds[2];

  self->read_fd = self->write_fd = -1;
  /* FD_CLOEXEC on both ends, then both non-blocking: a full pipe already wakes. */
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, NULL))
    return FALSE;
  if (!g_unix_set_fd_nonblocking (fds[0], TRUE, NULL) ||
      !g_unix_set_fd_nonblocking (fds[1], TRUE, NULL))
    {
      int errsv = errno;

      close (fds[0]);
      close (fds[1]);
      errno = errsv;
      return FALSE;
    }
  self->read_fd = fds[0];
  self->write_fd = fds[1];
  return TRUE;
}

gboolean
gmulti_wakeup_fd_signal (const GMultiWakeupFd *self)
{
  const guint8 byte = 1;
  gssize n;

  do
    n = write (self->write_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  return n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK;
}

void
gmulti_wakeup_fd_drain (const GMultiWakeupFd *self)
{
  guint8 bytes[64];
  gssize n;

  do
    n = read (self->read_fd, bytes, sizeof bytes);
  while (n == (gssize) sizeof bytes || (n < 0 && errno == EINTR));
}

#endif

void
gmulti_wakeup_fd_close (const GMultiWakeupFd *self)
{
  /* Only reads: the last reference may be dropped on a worker thread, after other
   * threads read the descriptors (tests/tsan-glib.c cannot order GLib's atomics). */
  if (self->write_fd >= 0 && self->write_fd != self->read_fd)
    close (self->write_fd);
  if (self->read_fd >= 0)
    close (self->read_fd);
}
