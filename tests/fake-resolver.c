/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>
#include <netdb.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fake-resolver.h"

typedef int (*GetaddrinfoFunc) (const char *, const char *, const struct addrinfo *,
                                struct addrinfo **);

/* Names under ".test" never reach the system. "dual.test" is ::1 then 127.0.0.1, as a
 * resolver preferring IPv6 would order them; "v6.test" is ::1 only; any other name
 * ending in "v4.test" is 127.0.0.1, whatever bytes come before (a redirect may smuggle
 * some into a host name); "again.test" fails as a name server that does not answer
 * (EAI_AGAIN); every other ".test" name does not exist. The lists come from
 * the C library's own getaddrinfo() on literals, so its freeaddrinfo() can free them. */
int
getaddrinfo (const char             *node,
             const char             *service,
             const struct addrinfo  *hints,
             struct addrinfo       **res)
{
  GetaddrinfoFunc real = (GetaddrinfoFunc) dlsym (RTLD_NEXT, "getaddrinfo");
  struct addrinfo numeric = { 0, };
  struct addrinfo *first = NULL, *second = NULL, *last;
  int ret;

  if (node == NULL || !g_str_has_suffix (node, ".test"))
    return real (node, service, hints, res);

  numeric.ai_socktype = SOCK_STREAM;
  numeric.ai_flags = AI_NUMERICHOST;
  if (g_str_has_suffix (node, "v4.test"))
    return real ("127.0.0.1", service, &numeric, res);
  if (g_str_equal (node, "v6.test"))
    return real ("::1", service, &numeric, res);
  if (g_str_equal (node, "again.test"))
    return EAI_AGAIN;
  if (!g_str_equal (node, "dual.test"))
    return EAI_NONAME;

  ret = real ("::1", service, &numeric, &first);
  if (ret != 0)
    return ret;
  ret = real ("127.0.0.1", service, &numeric, &second);
  if (ret != 0)
    {
      freeaddrinfo (first);
      return ret;
    }
  for (last = first; last->ai_next != NULL; last = last->ai_next)
    ;
  last->ai_next = second;
  *res = first;
  return 0;
}

int
test_ipv6_blackhole_on (guint16 port)
{
  struct sockaddr_in6 addr = { 0, };
  int one = 1;
  int fd, filler;

  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  addr.sin6_port = htons (port);

  fd = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 0) < 0)
    {
      close (fd);
      return -1;
    }
  filler = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (filler < 0 || connect (filler, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      if (filler >= 0)
        close (filler);
      close (fd);
      return -1;
    }
  close (filler);
  return fd;
}
