/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gmulti-unix-link.h"
#include "gmulti-tcp-link.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

GMultiLink *
gmulti_unix_link_new (const char  *path,
                      GError     **error)
{
  GMultiAddress address = { 0 };
  struct sockaddr_un *sun = (struct sockaddr_un *) &address.addr;
  gboolean abstract;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);

  /* "@name": Linux's abstract namespace, a NUL byte and the name, no NUL after it. */
  abstract = path[0] == '@';
  length = strlen (path);
  if (length <= (abstract ? 1 : 0) || length >= sizeof sun->sun_path)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT,
                   _("Invalid Unix socket path “%s”"), path);
      return NULL;
    }

  /* The same socket calls as TCP, with one address and so one attempt. */
  sun->sun_family = AF_UNIX;
  address.family = AF_UNIX;
  if (abstract)
    {
      sun->sun_path[0] = '\0';
      memcpy (sun->sun_path + 1, path + 1, length - 1);
      address.addrlen = (socklen_t) (G_STRUCT_OFFSET (struct sockaddr_un, sun_path) + length);
    }
  else
    {
      memcpy (sun->sun_path, path, length + 1);
      address.addrlen = (socklen_t) (G_STRUCT_OFFSET (struct sockaddr_un, sun_path) + length + 1);
    }
  return gmulti_tcp_link_new_connect (&address, 1);
}
