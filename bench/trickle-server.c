/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A slow HTTP/1.1 server for the scale benchmark: answers every GET with a
 * Content-Length of K bytes and then sends the body one byte at a time, one byte per
 * connection every interval (250 ms), so each byte reaches the client as a socket
 * event of its own. Keep-alive; loopback only; stops by itself after --max-seconds.
 *
 * Connections waiting for their next byte sit in a timing wheel with one slot per
 * 10 ms tick: a connection stays in the slot it entered, and the wheel comes back to
 * it once per interval, so ten thousand connections cost one pass per tick over the
 * few that are due. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 10
#define MAX_SLOTS 1000
#define REQUEST_MAX 4096
#define MAX_EVENTS 512

typedef struct Conn Conn;
struct Conn
{
  int fd;
  unsigned remaining;           /* body bytes still to send; 0: reading a request */
  int slot;                     /* -1 when not in the wheel */
  Conn *prev, *next;            /* in the slot's list */
  size_t request_len;
  char request[REQUEST_MAX];
};

typedef struct
{
  int epfd;
  unsigned body_bytes;
  int n_slots;
  Conn *slots[MAX_SLOTS];
  int64_t last_tick;
  unsigned long long bytes_sent;
  unsigned long long requests;
} Server;

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wheel_insert (Server *server,
              Conn   *conn,
              int     slot)
{
  conn->slot = slot;
  conn->prev = NULL;
  conn->next = server->slots[slot];
  if (conn->next != NULL)
    conn->next->prev = conn;
  server->slots[slot] = conn;
}

static void
wheel_unlink (Server *server,
              Conn   *conn)
{
  if (conn->slot < 0)
    return;
  if (conn->prev != NULL)
    conn->prev->next = conn->next;
  else
    server->slots[conn->slot] = conn->next;
  if (conn->next != NULL)
    conn->next->prev = conn->prev;
  conn->slot = -1;
  conn->prev = conn->next = NULL;
}

static void
conn_close (Server *server,
            Conn   *conn)
{
  wheel_unlink (server, conn);
  close (conn->fd);
  free (conn);
}

/* Sends the head of the response and puts the connection in the wheel: the slot just
 * handled comes round again one interval from now. */
static bool
start_response (Server *server,
                Conn   *conn)
{
  char head[160];
  int len = snprintf (head, sizeof head,
                      "HTTP/1.1 200 OK\r\n"
                      "Content-Type: application/octet-stream\r\n"
                      "Content-Length: %u\r\n"
                      "\r\n", server->body_bytes);

  if (write (conn->fd, head, (size_t) len) != len)
    return false;
  server->requests++;
  conn->remaining = server->body_bytes;
  if (conn->remaining > 0)
    wheel_insert (server, conn, (int) (server->last_tick % server->n_slots));
  return true;
}

/* Reads what arrived; a complete request head starts the response. */
static void
conn_readable (Server *server,
               Conn   *conn)
{
  for (;;)
    {
      ssize_t n = read (conn->fd, conn->request + conn->request_len,
                        REQUEST_MAX - conn->request_len);
      char *end;

      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          conn_close (server, conn);
          return;
        }
      conn->request_len += (size_t) n;

      /* One request at a time: clients do not pipeline, so the next head is only
       * looked at once the body of the current response is out. */
      if (conn->remaining > 0)
        continue;
      end = memmem (conn->request, conn->request_len, "\r\n\r\n", 4);
      if (end == NULL)
        {
          if (conn->request_len == REQUEST_MAX)
            {
              conn_close (server, conn);
              return;
            }
          continue;
        }
      end += 4;
      conn->request_len -= (size_t) (end - conn->request);
      memmove (conn->request, end, conn->request_len);
      if (!start_response (server, conn))
        {
          conn_close (server, conn);
          return;
        }
    }
}

static void
accept_all (Server *server,
            int     listen_fd)
{
  for (;;)
    {
      int fd = accept4 (listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      struct epoll_event ev = { .events = EPOLLIN };
      int one = 1;
      Conn *conn;

      if (fd < 0)
        {
          if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            perror ("trickle-server: accept4");
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          return;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conn = calloc (1, sizeof *conn);
      if (conn == NULL)
        {
          close (fd);
          continue;
        }
      conn->fd = fd;
      conn->slot = -1;
      ev.data.ptr = conn;
      if (epoll_ctl (server->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        {
          perror ("trickle-server: epoll_ctl");
          close (fd);
          free (conn);
        }
    }
}

/* Sends one byte to every connection in the slot of each tick that has passed. */
static void
run_ticks (Server *server)
{
  int64_t tick = now_ms () / TICK_MS;

  /* Behind by more than a turn of the wheel: skip the turns, never send two bytes to
   * one connection at once. */
  if (tick - server->last_tick > server->n_slots)
    server->last_tick = tick - server->n_slots;

  while (server->last_tick < tick)
    {
      Conn *conn, *next;

      server->last_tick++;
      for (conn = server->slots[server->last_tick % server->n_slots]; conn != NULL;
           conn = next)
        {
          ssize_t n = write (conn->fd, "x", 1);

          next = conn->next;
          if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
          if (n != 1)
            {
              conn_close (server, conn);
              continue;
            }
          server->bytes_sent++;
          if (--conn->remaining == 0)
            {
              wheel_unlink (server, conn);
              /* A request may already be waiting. */
              conn_readable (server, conn);
            }
        }
    }
}

static void
usage (int status)
{
  fprintf (status == 0 ? stdout : stderr,
           "usage: trickle-server [--port P] [--bytes K] [--interval-ms MS]\n"
           "                      [--max-seconds S]\n"
           "Listens on 127.0.0.1:P (0: any free port) and prints port=NUMBER when ready.\n");
  exit (status);
}

int
main (int    argc,
      char **argv)
{
  static const struct option options[] = {
    { "port", required_argument, NULL, 'p' },
    { "bytes", required_argument, NULL, 'b' },
    { "interval-ms", required_argument, NULL, 'i' },
    { "max-seconds", required_argument, NULL, 'm' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  static Server server;
  struct sockaddr_in addr = { .sin_family = AF_INET };
  socklen_t addr_len = sizeof addr;
  struct epoll_event ev = { .events = EPOLLIN };
  struct epoll_event events[MAX_EVENTS];
  struct rlimit limit;
  int port = 0, interval_ms = 250, max_seconds = 600;
  int64_t stop_at;
  int listen_fd, one = 1, opt;

  server.body_bytes = 20;
  while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1)
    {
      switch (opt)
        {
        case 'p':
          port = atoi (optarg);
          break;
        case 'b':
          server.body_bytes = (unsigned) strtoul (optarg, NULL, 10);
          break;
        case 'i':
          interval_ms = atoi (optarg);
          break;
        case 'm':
          max_seconds = atoi (optarg);
          break;
        case 'h':
          usage (0);
          break;
        default:
          usage (2);
        }
    }
  if (optind != argc || port < 0 || port > 65535 || interval_ms < TICK_MS ||
      interval_ms / TICK_MS > MAX_SLOTS || max_seconds <= 0)
    usage (2);
  server.n_slots = interval_ms / TICK_MS;

  /* Ten thousand clients need ten thousand descriptors. */
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
  signal (SIGPIPE, SIG_IGN);

  listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt (listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  addr.sin_port = htons ((uint16_t) port);
  if (listen_fd < 0 || bind (listen_fd, (struct sockaddr *) &addr, sizeof addr) < 0 ||
      listen (listen_fd, 65535) < 0 ||
      getsockname (listen_fd, (struct sockaddr *) &addr, &addr_len) < 0)
    {
      perror ("trickle-server: listen");
      return 1;
    }

  server.epfd = epoll_create1 (EPOLL_CLOEXEC);
  ev.data.ptr = NULL;           /* NULL marks the listening socket */
  epoll_ctl (server.epfd, EPOLL_CTL_ADD, listen_fd, &ev);

  printf ("port=%u\n", ntohs (addr.sin_port));
  fflush (stdout);

  server.last_tick = now_ms () / TICK_MS;
  stop_at = now_ms () + (int64_t) max_seconds * 1000;
  while (now_ms () < stop_at)
    {
      int64_t wait = (server.last_tick + 1) * TICK_MS - now_ms ();
      int n = epoll_wait (server.epfd, events, MAX_EVENTS, wait < 0 ? 0 : (int) wait);

      if (n < 0 && errno != EINTR)
        {
          perror ("trickle-server: epoll_wait");
          return 1;
        }
      for (int i = 0; i < n; i++)
        {
          if (events[i].data.ptr == NULL)
            accept_all (&server, listen_fd);
          else
            conn_readable (&server, events[i].data.ptr);
        }
      run_ticks (&server);
    }

  fprintf (stderr, "trickle-server: stopping after %d s: %llu requests, %llu bytes\n",
           max_seconds, server.requests, server.bytes_sent);
  return 0;
}
