/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include "gmulti-enums.h"

G_BEGIN_DECLS

/* Every socket the engine has open, indexed by fd (fds are small dense integers, so a
 * plain array beats a hash). Interest changes are recorded as "wanted" and only
 * reported to the application, as changes, when the engine call ends (flush), so a
 * socket whose interest flips back and forth within one call costs no callback at all. */

typedef enum {
  GMULTI_SOCKET_CONNECTION,  /* owner: GMultiConnection (connected or connecting) */
  GMULTI_SOCKET_RESOLVER,    /* owner: the engine; the resolver's eventfd */
} GMultiSocketKind;

typedef struct _GMultiSocket GMultiSocket;
struct _GMultiSocket {
  int fd;
  GMultiSocketKind kind;
  gpointer owner;
  GMultiPoll wanted;         /* what the engine wants watched now (NONE, IN, OUT, INOUT) */
  GMultiPoll announced;      /* what the application was last told (NONE if nothing) */
  gpointer socket_data;      /* set by the application with assign */
  gboolean closing;          /* close the fd after REMOVE was announced */
  gboolean borrowed;         /* someone else closes the fd (the resolver's eventfd) */
  gboolean dirty;
  GMultiSocket *next_dirty;
};

typedef struct {
  GMultiSocket **by_fd;
  guint size;
  guint count;
  GMultiSocket *dirty;       /* singly linked list of sockets changed in this call */
} GMultiSocketTable;

void          gmulti_socket_table_init   (GMultiSocketTable *self);
void          gmulti_socket_table_clear  (GMultiSocketTable *self);
GMultiSocket *gmulti_socket_table_add    (GMultiSocketTable *self,
                                          int                fd,
                                          GMultiSocketKind   kind,
                                          gpointer           owner);
GMultiSocket *gmulti_socket_table_lookup (GMultiSocketTable *self,
                                          int                fd);
void          gmulti_socket_table_want   (GMultiSocketTable *self,
                                          GMultiSocket      *sock,
                                          GMultiPoll         wanted);
/* Detaches the socket from its owner; the fd is closed at the next flush, after
 * REMOVE has been announced if anything was announced. */
void          gmulti_socket_table_close  (GMultiSocketTable *self,
                                          GMultiSocket      *sock);

typedef gboolean (*GMultiSocketAnnounce) (int        fd,
                                          GMultiPoll what,
                                          gpointer   socket_data,
                                          gpointer   user_data);

/* Announces every change since the previous flush and closes sockets marked closing.
 * Returns FALSE if an announcement failed (the flush still completes). */
gboolean      gmulti_socket_table_flush  (GMultiSocketTable   *self,
                                          GMultiSocketAnnounce announce,
                                          gpointer             user_data);

/* Calls @func for every open socket (not closing). */
void          gmulti_socket_table_foreach (GMultiSocketTable *self,
                                           GFunc              func,
                                           gpointer           user_data);

G_END_DECLS
