/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <unistd.h>

#include "gmulti-socket-table.h"

void
gmulti_socket_table_init (GMultiSocketTable *self)
{
  memset (self, 0, sizeof *self);
}

static void
mark_dirty (GMultiSocketTable *self,
            GMultiSocket      *sock)
{
  if (sock->dirty)
    return;
  sock->dirty = TRUE;
  sock->next_dirty = self->dirty;
  self->dirty = sock;
}

GMultiSocket *
gmulti_socket_table_add (GMultiSocketTable *self,
                         int                fd,
                         GMultiSocketKind   kind,
                         gpointer           owner)
{
  GMultiSocket *sock;

  g_return_val_if_fail (fd >= 0, NULL);

  if ((guint) fd >= self->size)
    {
      guint new_size = MAX (64, self->size);

      while (new_size <= (guint) fd)
        new_size *= 2;
      self->by_fd = g_renew (GMultiSocket *, self->by_fd, new_size);
      memset (self->by_fd + self->size, 0, (new_size - self->size) * sizeof (GMultiSocket *));
      self->size = new_size;
    }

  /* A closing entry for the same number cannot exist: its fd is still open. */
  g_assert (self->by_fd[fd] == NULL);

  sock = g_new0 (GMultiSocket, 1);
  sock->fd = fd;
  sock->kind = kind;
  sock->owner = owner;
  self->by_fd[fd] = sock;
  self->count++;
  return sock;
}

GMultiSocket *
gmulti_socket_table_lookup (GMultiSocketTable *self,
                            int                fd)
{
  GMultiSocket *sock;

  if (fd < 0 || (guint) fd >= self->size)
    return NULL;
  sock = self->by_fd[fd];
  if (sock == NULL || sock->closing)
    return NULL;
  return sock;
}

void
gmulti_socket_table_want (GMultiSocketTable *self,
                          GMultiSocket      *sock,
                          GMultiPoll         wanted)
{
  if (sock->wanted == wanted)
    return;
  sock->wanted = wanted;
  mark_dirty (self, sock);
}

void
gmulti_socket_table_close (GMultiSocketTable *self,
                           GMultiSocket      *sock)
{
  sock->closing = TRUE;
  sock->owner = NULL;
  sock->wanted = GMULTI_POLL_NONE;
  mark_dirty (self, sock);
}

gboolean
gmulti_socket_table_flush (GMultiSocketTable   *self,
                           GMultiSocketAnnounce announce,
                           gpointer             user_data)
{
  gboolean ok = TRUE;

  while (self->dirty != NULL)
    {
      GMultiSocket *sock = self->dirty;

      self->dirty = sock->next_dirty;
      sock->next_dirty = NULL;
      sock->dirty = FALSE;

      if (sock->wanted != sock->announced)
        {
          GMultiPoll what = sock->wanted != GMULTI_POLL_NONE ? sock->wanted : GMULTI_POLL_REMOVE;

          sock->announced = sock->wanted;
          if (announce != NULL && !announce (sock->fd, what, sock->socket_data, user_data))
            ok = FALSE;
        }

      if (sock->closing)
        {
          /* The announcement above came first: the number may be reused from now on. */
          self->by_fd[sock->fd] = NULL;
          self->count--;
          if (!sock->borrowed)
            close (sock->fd);
          g_free (sock);
        }
    }

  return ok;
}

void
gmulti_socket_table_foreach (GMultiSocketTable *self,
                             GFunc              func,
                             gpointer           user_data)
{
  for (guint i = 0; i < self->size; i++)
    {
      GMultiSocket *sock = self->by_fd[i];

      if (sock != NULL && !sock->closing)
        func (sock, user_data);
    }
}

void
gmulti_socket_table_clear (GMultiSocketTable *self)
{
  for (guint i = 0; i < self->size; i++)
    {
      GMultiSocket *sock = self->by_fd[i];

      if (sock != NULL)
        {
          if (!sock->borrowed)
            close (sock->fd);
          g_free (sock);
        }
    }
  g_free (self->by_fd);
  memset (self, 0, sizeof *self);
}
