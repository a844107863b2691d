/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "gmulti.h"
#include "test-server.h"
#include "alloc-count.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* soak: many transfers through one raw engine, driven by an epoll loop, against an
 * in-process server that injects faults (closes, resets, garbage, stalls, slow bodies),
 * with transfers removed at random while they run, paused and resumed at random
 * moments, and the pool's limits (total, per host, idle) changed while they run.
 *
 * Checked: every transfer that completes either succeeded with exactly the body the
 * server generated (and carried no fault that should have made it fail) or failed with
 * a GMULTI_ERROR; a transfer without a fault never fails; a paused transfer receives
 * nothing until it is resumed; while the engine runs, every connection is idle or
 * carries a running transfer, and a pool over a limit just lowered only shrinks; at
 * every checkpoint exactly the descriptors of the first one are open, and the blocks
 * allocated (counted by wrapping malloc) are as many as at the first, give or take
 * ALLOC_SLACK; resident memory at the end is within MEMORY_TOLERANCE_PERCENT of the
 * first checkpoint's; once the engine is freed and the server stopped, exactly the
 * descriptors open before it started are. Exit status 0 when all of that holds.
 *
 * Memory is measured with nothing in flight and no connection open (the pool closed,
 * the server's threads reaped), after free heap memory went back to the system, so the
 * figures compare the same state: what the pool and the server's threads hold at a
 * given moment would otherwise swamp a leak. */

/* What the server does with one request; the client picks it and puts it in the path. */
typedef enum {
  FAULT_NONE,            /* Content-Length body, keep-alive */
  FAULT_CHUNKED,         /* chunked body in a few chunks */
  FAULT_SLOW,            /* the body in small pieces with pauses */
  FAULT_CLOSE_AFTER,     /* a full response, then the server closes the idle connection */
  FAULT_LAST_SUCCESS = FAULT_CLOSE_AFTER,
  FAULT_CLOSE_BEFORE,    /* close without answering */
  FAULT_CLOSE_MID_BODY,  /* half the body, then close */
  FAULT_RESET_MID_BODY,  /* half the body, then reset */
  FAULT_GARBAGE,         /* bytes that are not HTTP */
  FAULT_BAD_CHUNK,       /* a chunk size that is not a number */
  FAULT_STALL,           /* no answer; the transfer's timeout ends it */
  N_FAULTS,
} Fault;

static const char *const fault_names[N_FAULTS] = {
  "none", "chunked", "slow", "close-after", "close-before", "close-mid-body",
  "reset-mid-body", "garbage", "bad-chunk", "stall",
};

/* AddressSanitizer keeps freed memory in quarantine, and valgrind replaces the
 * allocator: resident memory says nothing then. */
#if defined(__SANITIZE_ADDRESS__)
#define MEMORY_CHECKED FALSE
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMORY_CHECKED FALSE
#endif
#endif
#ifndef MEMORY_CHECKED
#define MEMORY_CHECKED TRUE
#endif

/* How much resident memory may grow from the first checkpoint to the end. What the C
 * library's allocator keeps after trimming (partly used heap pages, the arenas of the
 * server's threads) differs by a few percent from run to run, while the live blocks
 * stay flat (counted at each checkpoint). */
#define MEMORY_TOLERANCE_PERCENT 8

/* How far the count of live blocks may move between checkpoints with nothing held.
 * It is exact with GLib's slice allocator off (the program sets G_SLICE=always-malloc
 * for itself): then only what a checkpoint itself allocates differs. A leak of one
 * block in ten thousand transfers shows as ten per checkpoint of a run of 100,000. */
#define ALLOC_SLACK 8

/* Longest pause of a transfer; timeouts keep running meanwhile, so it stays well
 * below STALL_TIMEOUT_MS. */
#define MAX_PAUSE_MS 40

#define STALL_TIMEOUT_MS 300
#define TIMEOUT_MS 30000
#define MAX_BODY (256 * 1024)

/* Bytes @offset to @offset + @length of the body for @seed. */
static void
fill_body (guint8 *data,
           gsize   offset,
           gsize   length,
           guint   seed)
{
  for (gsize i = offset; i < offset + length; i++)
    data[i - offset] = (guint8) (seed * 31 + i * 7 + i / 251);
}

/* ------------------------------------------------------------------ server */

static gsize
find_head_end (GByteArray *in)
{
  for (gsize i = 3; i < in->len; i++)
    if (in->data[i] == '\n' && in->data[i - 1] == '\r' && in->data[i - 2] == '\n' &&
        in->data[i - 3] == '\r')
      return i + 1;
  return 0;
}

/* Writes bytes @from to @to of the body, made piece by piece: a connection's thread
 * holds no body buffer, so the server's memory does not follow the size of the pool. */
static gboolean
write_body (TestConn *conn,
            guint     seed,
            gsize     from,
            gsize     to,
            gboolean  chunk)
{
  guint8 piece[16 * 1024];

  if (chunk && from < to && !test_conn_printf (conn, "%" G_GSIZE_MODIFIER "x\r\n", to - from))
    return FALSE;
  while (from < to)
    {
      gsize n = MIN (sizeof piece, to - from);

      fill_body (piece, from, n, seed);
      if (!test_conn_write (conn, piece, n))
        return FALSE;
      from += n;
    }
  return !chunk || test_conn_write_str (conn, "\r\n");
}

static gboolean
write_head (TestConn *conn,
            gsize     length)
{
  return test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT
                           "\r\n\r\n", length);
}

/* Answers one request; returns whether the connection goes on. */
static gboolean
answer (TestConn *conn,
        guint     seed,
        gsize     size,
        Fault     fault,
        guint     delay_ms)
{
  if (delay_ms > 0)
    test_conn_sleep (conn, delay_ms);

  switch (fault)
    {
    case FAULT_NONE:
      return write_head (conn, size) && write_body (conn, seed, 0, size, FALSE);

    case FAULT_CHUNKED:
      if (!test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
        return FALSE;
      for (gsize off = 0; off < size; off += size / 3 + 1)
        if (!write_body (conn, seed, off, MIN (off + size / 3 + 1, size), TRUE))
          return FALSE;
      return test_conn_write_str (conn, "0\r\n\r\n");

    case FAULT_SLOW:
      if (!write_head (conn, size))
        return FALSE;
      for (guint i = 0; i < 5; i++)
        {
          test_conn_sleep (conn, 20);
          if (!write_body (conn, seed, size * i / 5, size * (i + 1) / 5, FALSE))
            return FALSE;
        }
      return TRUE;

    case FAULT_CLOSE_AFTER:
      if (write_head (conn, size))
        write_body (conn, seed, 0, size, FALSE);
      return FALSE;

    case FAULT_CLOSE_BEFORE:
      return FALSE;

    case FAULT_CLOSE_MID_BODY:
    case FAULT_RESET_MID_BODY:
      if (write_head (conn, size + 10))
        write_body (conn, seed, 0, size / 2, FALSE);
      if (fault == FAULT_RESET_MID_BODY)
        test_conn_reset (conn);
      return FALSE;

    case FAULT_GARBAGE:
      test_conn_write_str (conn, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
      return FALSE;

    case FAULT_BAD_CHUNK:
      test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "4\r\nabcd\r\nzz\r\n");
      return FALSE;

    case FAULT_STALL:
    default:
      test_conn_wait_client_close (conn, 2 * TIMEOUT_MS);
      return FALSE;
    }
}

/* Reads request heads itself (test_conn_read_request() keeps every request, which
 * would grow the process for the whole run) and answers per the path
 * "/s/SEED/SIZE/FAULT/DELAY_MS". */
static void
server_cb (TestServer *server,
           TestConn   *conn,
           gpointer    user_data)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();

  for (;;)
    {
      guint seed = 0, fault = 0, delay = 0;
      gsize end, size = 0;
      char *line;

      while ((end = find_head_end (in)) == 0)
        {
          g_autoptr(GBytes) more = test_conn_read_some (conn, 2 * TIMEOUT_MS);

          if (more == NULL)
            return;
          g_byte_array_append (in, g_bytes_get_data (more, NULL), g_bytes_get_size (more));
        }

      line = g_strndup ((const char *) in->data, end);
      g_byte_array_remove_range (in, 0, end);
      if (sscanf (line, "GET /s/%u/%" G_GSIZE_MODIFIER "u/%u/%u ", &seed, &size, &fault,
                  &delay) != 4 ||
          size > MAX_BODY || fault >= N_FAULTS || delay > 1000)
        {
          g_printerr ("soak: the server got a request it did not expect: %s\n", line);
          exit (1);
        }
      g_free (line);

      if (!answer (conn, seed, size, fault, delay))
        return;
    }
}

/* -------------------------------------------------------------- event loop */

typedef struct {
  GMultiEngine *engine;
  int epfd;
  gint64 timer_deadline;        /* monotonic us, -1: none */
} Loop;

static gboolean
socket_cb (GMultiEngine *engine,
           int           fd,
           GMultiPoll    what,
           gpointer      socket_data,
           gpointer      user_data)
{
  Loop *loop = user_data;
  struct epoll_event ev = { 0, };

  if (what == GMULTI_POLL_REMOVE)
    {
      /* A socket that stays open (a paused transfer's) may be watched again later. */
      gmulti_engine_assign (engine, fd, NULL);
      return epoll_ctl (loop->epfd, EPOLL_CTL_DEL, fd, NULL) == 0;
    }

  ev.data.fd = fd;
  ev.events = ((what & GMULTI_POLL_IN) ? EPOLLIN : 0) | ((what & GMULTI_POLL_OUT) ? EPOLLOUT : 0);
  if (socket_data == NULL)
    {
      /* The pointer marks the descriptor as registered with epoll. */
      gmulti_engine_assign (engine, fd, loop);
      return epoll_ctl (loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
    }
  return epoll_ctl (loop->epfd, EPOLL_CTL_MOD, fd, &ev) == 0;
}

static gboolean
timer_cb (GMultiEngine *engine,
          gint64        timeout_ms,
          gpointer      user_data)
{
  Loop *loop = user_data;

  loop->timer_deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time () + timeout_ms * 1000;
  return TRUE;
}

static void
loop_iterate (Loop *loop,
              int   max_wait_ms)
{
  struct epoll_event events[256];
  int wait = max_wait_ms;
  int n;

  if (loop->timer_deadline >= 0)
    wait = (int) CLAMP ((loop->timer_deadline - g_get_monotonic_time () + 999) / 1000, 0,
                        max_wait_ms);

  n = epoll_wait (loop->epfd, events, G_N_ELEMENTS (events), wait);
  for (int i = 0; i < n; i++)
    {
      GMultiEvent what = 0;

      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
        what |= GMULTI_EVENT_IN;
      if (events[i].events & EPOLLOUT)
        what |= GMULTI_EVENT_OUT;
      if (events[i].events & EPOLLERR)
        what |= GMULTI_EVENT_ERR;
      if (gmulti_engine_socket_action (loop->engine, events[i].data.fd, what, NULL) !=
          GMULTI_ENGINE_OK)
        {
          g_printerr ("soak: socket_action failed\n");
          exit (1);
        }
    }

  if (loop->timer_deadline >= 0 && g_get_monotonic_time () >= loop->timer_deadline)
    {
      loop->timer_deadline = -1;
      if (gmulti_engine_socket_action (loop->engine, GMULTI_SOCKET_TIMEOUT, 0, NULL) !=
          GMULTI_ENGINE_OK)
        {
          g_printerr ("soak: socket_action (timeout) failed\n");
          exit (1);
        }
    }
}

/* ------------------------------------------------------------ bookkeeping */

/* Open descriptors; with @sockets_only, only sockets. */
static guint
count_fds (gboolean sockets_only)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *target = NULL;

      if (!sockets_only)
        {
          n++;
          continue;
        }
      path = g_build_filename ("/proc/self/fd", name, NULL);
      target = g_file_read_link (path, NULL);
      if (target != NULL && g_str_has_prefix (target, "socket:"))
        n++;
    }
  return n;
}

static void
list_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      g_printerr ("  fd %s -> %s\n", name, target != NULL ? target : "?");
    }
}

/* Resident memory from /proc/self/statm (the figure asked for) and its anonymous part
 * (resident minus shared, file-backed pages: library code paged in as new paths run
 * is resident too, and grows for a while without anything being held). Free heap
 * memory is handed back to the system first, so what stays is what the process holds,
 * not what the allocator kept around. */
static void
memory_kib (gsize *rss,
            gsize *anon)
{
  g_autofree char *text = NULL;
  unsigned long size = 0, resident = 0, shared = 0;
  gsize page_kib = (gsize) sysconf (_SC_PAGESIZE) / 1024;

  malloc_trim (0);
  *rss = *anon = 0;
  if (!g_file_get_contents ("/proc/self/statm", &text, NULL, NULL) ||
      sscanf (text, "%lu %lu %lu", &size, &resident, &shared) != 3)
    return;
  *rss = resident * page_kib;
  *anon = (resident - shared) * page_kib;
}

/* Waits (running the loop) until the server holds as many connections as the engine:
 * the server notices a close only when it next reads. */
static gboolean
wait_server_open (Loop       *loop,
                  TestServer *server,
                  guint       n)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (test_server_get_n_open (server) != n && g_get_monotonic_time () < end)
    loop_iterate (loop, 10);
  return test_server_get_n_open (server) == n;
}

typedef struct {
  GMultiTransfer *transfer;
  guint seed;
  gsize size;
  Fault fault;
  gint64 remove_at;             /* monotonic us; 0: never */
  gint64 pause_at;              /* monotonic us; 0: no pause (left) */
  gint64 resume_at;             /* monotonic us, while paused */
  guint64 received_at_pause;    /* body bytes when it was paused */
} Job;

/* The figures at a checkpoint, taken with nothing in flight and no connection open. */
typedef struct {
  guint done;                   /* transfers completed or removed */
  gint64 elapsed_us;
  gsize rss, anon, heap;        /* KiB */
  gint64 blocks;                /* live malloc blocks */
  gint64 block_bytes;           /* their usable bytes */
  guint fds;
} Checkpoint;

typedef struct {
  guint count, parallel, checkpoint_every;
  double fault_rate, remove_rate, pause_rate;
  guint limit_interval_ms;
  guint32 seed;

  GRand *rand;
  TestServer *server;
  Loop loop;
  GHashTable *jobs;             /* GMultiTransfer -> Job */
  GPtrArray *to_remove;         /* Job with remove_at set, still running */
  GPtrArray *to_pause;          /* Job with a pause or resume still to come */
  gint64 next_limit_change;     /* monotonic us; 0: never */
  gint64 next_wake;             /* monotonic us: the earliest of the above, 0: none */
  guint started, completed, removed;
  guint succeeded, failed;
  guint paused, resumed, limit_changes;
  guint by_fault[N_FAULTS];
  guint failed_by_code[64];
  guint violations;
  guint unexpected_failures;
  guint max_connections;
  guint last_n_connections, last_n_idle;
  GArray *checkpoints;          /* Checkpoint */
} Soak;

/* Closes the pool's connections, waits until the server has closed its ends and
 * joined the threads of those connections (until then their stacks and what they
 * allocated stay). Memory is then measured in the same state each time. */
static void
quiesce (Soak *soak)
{
  gint64 end;

  gmulti_engine_close_idle_connections (soak->loop.engine);
  if (!wait_server_open (&soak->loop, soak->server, 0))
    g_printerr ("soak: the server still holds %u connections\n",
                test_server_get_n_open (soak->server));

  /* A thread ends a moment after it closed its socket. */
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (test_server_reap (soak->server) > 0 && g_get_monotonic_time () < end)
    g_usleep (1000);
  soak->last_n_connections = soak->last_n_idle = 0;
}

/* @job: the transfer concerned, or NULL for the run as a whole */
static void
violation (Soak       *soak,
           const Job  *job,
           const char *what)
{
  soak->violations++;
  if (soak->violations > 20)
    return;
  if (job != NULL)
    g_printerr ("soak: VIOLATION (seed %u, size %" G_GSIZE_FORMAT ", fault %s): %s\n",
                job->seed, job->size, fault_names[job->fault], what);
  else
    g_printerr ("soak: VIOLATION: %s\n", what);
}

static Fault
pick_fault (Soak *soak)
{
  double r = g_rand_double (soak->rand);

  if (r >= soak->fault_rate)
    {
      /* No fault: mostly plain, some chunked or slow. */
      r = g_rand_double (soak->rand);
      return r < 0.85 ? FAULT_NONE : r < 0.95 ? FAULT_CHUNKED : FAULT_SLOW;
    }
  return (Fault) g_rand_int_range (soak->rand, FAULT_CLOSE_AFTER, N_FAULTS);
}

static gsize
pick_size (Soak *soak)
{
  double r = g_rand_double (soak->rand);

  if (r < 0.70)
    return g_rand_int_range (soak->rand, 0, 1024);
  if (r < 0.95)
    return g_rand_int_range (soak->rand, 1024, 16 * 1024);
  return g_rand_int_range (soak->rand, 16 * 1024, MAX_BODY + 1);
}

static void
wake_at (Soak   *soak,
         gint64  when)
{
  if (when > 0 && (soak->next_wake == 0 || when < soak->next_wake))
    soak->next_wake = when;
}

static void
start_one (Soak *soak)
{
  Job *job = g_new0 (Job, 1);
  g_autofree char *path = NULL;
  g_autofree char *uri = NULL;
  gint64 now = g_get_monotonic_time ();
  guint delay = 0;

  job->seed = g_rand_int (soak->rand) % 100000;
  job->size = pick_size (soak);
  job->fault = pick_fault (soak);
  if (g_rand_double (soak->rand) < soak->remove_rate)
    {
      /* To be removed at a random point of its life: the server takes its time, so
       * that point is as likely before the response as within it. */
      delay = g_rand_int_range (soak->rand, 20, 100);
      job->remove_at = now + g_rand_int_range (soak->rand, 0, (delay + 10) * 1000);
      g_ptr_array_add (soak->to_remove, job);
      wake_at (soak, job->remove_at);
    }
  if (g_rand_double (soak->rand) < soak->pause_rate)
    {
      /* Anywhere from before the connection to the middle of the body; bodies take a
       * few milliseconds, so some pauses come while the server still writes. */
      job->pause_at = now + g_rand_int_range (soak->rand, 0, 20000);
      g_ptr_array_add (soak->to_pause, job);
      wake_at (soak, job->pause_at);
    }
  path = g_strdup_printf ("/s/%u/%" G_GSIZE_FORMAT "/%u/%u", job->seed, job->size, job->fault,
                          delay);
  uri = test_server_uri (soak->server, path);
  job->transfer = gmulti_transfer_new (uri);
  gmulti_transfer_set_timeout (job->transfer,
                               job->fault == FAULT_STALL ? STALL_TIMEOUT_MS : TIMEOUT_MS);

  g_hash_table_insert (soak->jobs, job->transfer, job);
  if (gmulti_engine_add (soak->loop.engine, job->transfer) != GMULTI_ENGINE_OK)
    {
      g_printerr ("soak: gmulti_engine_add failed\n");
      exit (1);
    }
  soak->started++;
  soak->by_fault[job->fault]++;
}

static void
finish_job (Soak *soak,
            Job  *job)
{
  if (job->remove_at != 0)
    g_ptr_array_remove_fast (soak->to_remove, job);
  if (job->pause_at != 0 || job->resume_at != 0)
    g_ptr_array_remove_fast (soak->to_pause, job);
  g_hash_table_remove (soak->jobs, job->transfer);
  gmulti_engine_remove (soak->loop.engine, job->transfer);
  g_object_unref (job->transfer);
  g_free (job);
}

static void
check_completed (Soak           *soak,
                 Job            *job,
                 const GError   *error)
{
  soak->completed++;
  if (error != NULL)
    {
      soak->failed++;
      if (error->domain != GMULTI_ERROR)
        violation (soak, job, "failed with an error outside GMULTI_ERROR");
      else
        soak->failed_by_code[MIN ((guint) error->code, G_N_ELEMENTS (soak->failed_by_code) - 1)]++;
      if (error != gmulti_transfer_get_error (job->transfer))
        violation (soak, job, "the message's error is not the transfer's");
      if (job->fault <= FAULT_LAST_SUCCESS)
        {
          soak->unexpected_failures++;
          if (soak->unexpected_failures <= 20)
            g_printerr ("soak: a transfer without fault (%s) failed: %s\n",
                        fault_names[job->fault], error->message);
        }
      return;
    }

  soak->succeeded++;
  if (job->resume_at != 0)
    violation (soak, job, "a paused transfer completed");
  if (job->fault > FAULT_LAST_SUCCESS)
    {
      violation (soak, job, "a faulty response was reported as a success");
      return;
    }
  if (gmulti_transfer_get_status (job->transfer) != 200)
    violation (soak, job, "success with a status other than 200");
  else
    {
      g_autoptr(GBytes) body = gmulti_transfer_get_response_body (job->transfer);
      g_autofree guint8 *expected = g_malloc (MAX (job->size, 1));

      fill_body (expected, 0, job->size, job->seed);
      if (body == NULL || g_bytes_get_size (body) != job->size ||
          (job->size > 0 && memcmp (g_bytes_get_data (body, NULL), expected, job->size) != 0))
        violation (soak, job, "success with a body that is not the one sent");
    }
}

static void
remove_due (Soak   *soak,
            gint64  now)
{
  for (guint i = 0; i < soak->to_remove->len;)
    {
      Job *job = soak->to_remove->pdata[i];

      if (job->remove_at > now)
        {
          wake_at (soak, job->remove_at);
          i++;
          continue;
        }
      /* Removed before or after it completed: either way no message may follow. */
      soak->removed++;
      finish_job (soak, job);
    }
}

/* Pauses and resumes from outside the engine, as an application's own timer would. */
static void
pause_due (Soak   *soak,
           gint64  now)
{
  for (guint i = 0; i < soak->to_pause->len;)
    {
      Job *job = soak->to_pause->pdata[i];
      GMultiTransfer *transfer = job->transfer;

      if (job->pause_at != 0 && job->pause_at <= now)
        {
          job->pause_at = 0;
          gmulti_transfer_pause (transfer);
          job->received_at_pause = gmulti_transfer_get_bytes_received (transfer);
          job->resume_at = now + g_rand_int_range (soak->rand, 1, MAX_PAUSE_MS) * 1000;
          soak->paused++;
        }
      else if (job->resume_at != 0 && job->resume_at <= now)
        {
          if (gmulti_transfer_get_bytes_received (transfer) != job->received_at_pause)
            violation (soak, job, "body bytes arrived while the transfer was paused");
          job->resume_at = 0;
          soak->resumed++;
          /* Picks the body up where it stopped; may complete it at once. */
          gmulti_transfer_resume (transfer);
        }

      if (job->pause_at == 0 && job->resume_at == 0)
        {
          g_ptr_array_remove_index_fast (soak->to_pause, i);
          continue;
        }
      wake_at (soak, job->pause_at != 0 ? job->pause_at : job->resume_at);
      i++;
    }
}

/* One of the three limits gets a new value: from below what is open now (the pool
 * must shrink to it as transfers end) to unlimited. */
static void
change_limits (Soak   *soak,
               gint64  now)
{
  GMultiEngine *engine = soak->loop.engine;
  guint p = soak->parallel;
  const guint choices[] = { 0, 1, 4, MAX (p / 8, 2), MAX (p / 2, 3), p, 2 * p };
  guint value = choices[g_rand_int_range (soak->rand, 0, G_N_ELEMENTS (choices))];

  switch (g_rand_int_range (soak->rand, 0, 3))
    {
    case 0:
      gmulti_engine_set_max_connections (engine, value);
      break;
    case 1:
      gmulti_engine_set_max_host_connections (engine, value);
      break;
    default:
      gmulti_engine_set_max_idle_connections (engine, value);
      break;
    }
  soak->limit_changes++;
  /* The next one after up to twice the mean interval. */
  soak->next_limit_change = now + 1 + g_rand_int_range (soak->rand, 0,
                                                        2 * soak->limit_interval_ms * 1000);
}

static void
check_connections (Soak *soak)
{
  GMultiEngine *engine = soak->loop.engine;
  guint n = gmulti_engine_get_n_connections (engine);
  guint idle = gmulti_engine_get_n_idle_connections (engine);
  guint max = gmulti_engine_get_max_connections (engine);
  guint max_host = gmulti_engine_get_max_host_connections (engine);
  guint max_idle = gmulti_engine_get_max_idle_connections (engine);

  soak->max_connections = MAX (soak->max_connections, n);
  /* Every connection is idle in the pool or carries a transfer still running. */
  if (n > idle + gmulti_engine_get_n_running (engine))
    violation (soak, NULL, "a connection is neither idle nor used by a running transfer");
  /* One origin: its connections are all the engine's. Over a limit (just lowered) the
   * pool may only shrink; idle connections beyond theirs go at the next release. */
  if (((max > 0 && n > max) || (max_host > 0 && n > max_host)) &&
      n > soak->last_n_connections)
    violation (soak, NULL, "the pool grew while over its connection limit");
  if (max_idle > 0 && idle > max_idle && idle > soak->last_n_idle)
    violation (soak, NULL, "idle connections grew while over their limit");
  soak->last_n_connections = n;
  soak->last_n_idle = idle;
}

/* Bytes the allocator has handed out and not got back, over all arenas. */
static gsize
heap_in_use_kib (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (info.uordblks + info.hblkhd) / 1024;
}

static void
take_checkpoint (Soak   *soak,
                 gint64  start)
{
  Checkpoint cp = { 0, };

  quiesce (soak);
  cp.done = soak->completed + soak->removed;
  cp.elapsed_us = g_get_monotonic_time () - start;
  memory_kib (&cp.rss, &cp.anon);
  cp.heap = heap_in_use_kib ();
  cp.blocks = alloc_count_live ();
  cp.block_bytes = alloc_count_live_bytes ();
  cp.fds = count_fds (FALSE);
  g_array_append_val (soak->checkpoints, cp);

  g_print ("  %8u done %7.1f s: RSS %6" G_GSIZE_FORMAT " KiB, anonymous %6" G_GSIZE_FORMAT
           " KiB, heap in use %6" G_GSIZE_FORMAT " KiB, live blocks %7" G_GINT64_FORMAT
           " (%" G_GINT64_FORMAT " KiB), descriptors %u; failed %u, removed %u, paused %u, "
           "limit changes %u\n",
           cp.done, cp.elapsed_us / 1e6, cp.rss, cp.anon, cp.heap, cp.blocks,
           cp.block_bytes / 1024, cp.fds,
           soak->failed, soak->removed, soak->paused, soak->limit_changes);
}

/* Each checkpoint against the first: descriptors exactly, live blocks within the
 * slack; resident memory at the end within the tolerance. */
static void
check_checkpoints (Soak     *soak,
                   gboolean  blocks_exact,
                   gboolean  rss_checked)
{
  const Checkpoint *first, *last;

  first = &g_array_index (soak->checkpoints, Checkpoint, 0);
  last = &g_array_index (soak->checkpoints, Checkpoint, soak->checkpoints->len - 1);
  for (guint i = 1; i < soak->checkpoints->len; i++)
    {
      const Checkpoint *cp = &g_array_index (soak->checkpoints, Checkpoint, i);

      if (cp->fds != first->fds)
        {
          violation (soak, NULL, "descriptors open at a checkpoint differ from the first");
          list_fds ();
        }
      if (alloc_count_available () && blocks_exact &&
          cp->blocks > first->blocks + ALLOC_SLACK)
        violation (soak, NULL, "live malloc blocks grew between checkpoints");
    }

  g_print ("  from the first checkpoint to the last: RSS %+.1f %%, anonymous %+.1f %%, "
           "heap in use %+" G_GSSIZE_FORMAT " KiB, live blocks %+" G_GINT64_FORMAT
           " (%+" G_GINT64_FORMAT " KiB), descriptors %+d\n",
           100.0 * ((double) last->rss - first->rss) / first->rss,
           100.0 * ((double) last->anon - first->anon) / first->anon,
           (gssize) last->heap - (gssize) first->heap, last->blocks - first->blocks,
           (last->block_bytes - first->block_bytes) / 1024,
           (int) last->fds - (int) first->fds);
  if (!alloc_count_available ())
    g_print ("  (live blocks not counted: the sanitizer's allocator is in use)\n");
  else if (!blocks_exact)
    g_print ("  (live blocks not checked: G_SLICE is not always-malloc)\n");
  if (!MEMORY_CHECKED || RUNNING_ON_VALGRIND)
    g_print ("  (resident memory not checked: under AddressSanitizer or valgrind)\n");
  else if (!rss_checked)
    g_print ("  (resident memory not checked: --no-rss-check)\n");
  else if (last->rss * 100 > first->rss * (100 + MEMORY_TOLERANCE_PERCENT))
    violation (soak, NULL, "resident memory grew by more than the tolerance");
}

int
main (int    argc,
      char **argv)
{
  Soak soak = { 0, };
  gint64 count = 100000, parallel = 200, seed = 0, checkpoint = 0, limit_interval = 50;
  double fault_rate = 0.15, remove_rate = 0.05, pause_rate = 0.05;
  gboolean no_rss_check = FALSE;
  GOptionEntry entries[] = {
    { "count", 'n', 0, G_OPTION_ARG_INT64, &count, "Transfers to run (default 100000)", "N" },
    { "parallel", 'p', 0, G_OPTION_ARG_INT64, &parallel, "Transfers in flight (default 200)", "N" },
    { "fault-rate", 0, 0, G_OPTION_ARG_DOUBLE, &fault_rate, "Share of transfers with a fault (default 0.15)", "R" },
    { "remove-rate", 0, 0, G_OPTION_ARG_DOUBLE, &remove_rate, "Share removed while they run (default 0.05)", "R" },
    { "pause-rate", 0, 0, G_OPTION_ARG_DOUBLE, &pause_rate, "Share paused and resumed while they run (default 0.05)", "R" },
    { "limit-interval", 0, 0, G_OPTION_ARG_INT64, &limit_interval, "Mean time between limit changes (default 50; 0: none)", "MS" },
    { "checkpoint", 'c', 0, G_OPTION_ARG_INT64, &checkpoint, "Transfers between checkpoints (default: a tenth of the count, at most 100000)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (default: from the clock)", "S" },
    { "no-rss-check", 0, 0, G_OPTION_ARG_NONE, &no_rss_check, "Report resident memory only (short runs: code paged in late counts)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- soak test of the engine");
  g_autoptr(GError) error = NULL;
  guint fds_before, fds_ready, fds_end, fds_after, sockets_ready, sockets_end, idle_end;
  g_autofree char *date = NULL;
  g_autoptr(GDateTime) now = NULL;
  gboolean blocks_exact;
  guint pause_at;
  gint64 start, took;
  GMultiMessage *message;

  /* GLib's slice allocator keeps blocks in per-thread magazines, which would make the
   * count of live blocks move by hundreds; it reads G_SLICE before main() runs. */
  if (g_getenv ("G_SLICE") == NULL)
    {
      g_setenv ("G_SLICE", "always-malloc", TRUE);
      execv ("/proc/self/exe", argv);
      g_printerr ("soak: could not run again with G_SLICE=always-malloc: %s\n",
                  g_strerror (errno));
    }
  blocks_exact = g_strcmp0 (g_getenv ("G_SLICE"), "always-malloc") == 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("soak: %s\n", error->message);
      return 2;
    }
  if (count < 1 || count > G_MAXUINT / 2 || parallel < 1 || parallel > 100000 ||
      checkpoint < 0 || limit_interval < 0 || limit_interval > 3600 * 1000 ||
      fault_rate < 0 || fault_rate > 1 || remove_rate < 0 || remove_rate > 1 ||
      pause_rate < 0 || pause_rate > 1)
    {
      g_printerr ("soak: --count and --parallel must be positive, rates within 0 to 1\n");
      return 2;
    }
  soak.count = (guint) count;
  soak.parallel = (guint) parallel;
  soak.checkpoint_every = checkpoint > 0 ? (guint) MIN (checkpoint, count)
                                         : MAX (MIN (soak.count / 10, 100000), 1);
  soak.fault_rate = fault_rate;
  soak.remove_rate = remove_rate;
  soak.pause_rate = pause_rate;
  soak.limit_interval_ms = (guint) limit_interval;
  soak.seed = seed != 0 ? (guint32) seed : (guint32) g_get_real_time ();
  soak.rand = g_rand_new_with_seed (soak.seed);
  soak.checkpoints = g_array_new (FALSE, TRUE, sizeof (Checkpoint));

  now = g_date_time_new_now_local ();
  date = g_date_time_format_iso8601 (now);
  g_print ("soak: %u transfers, %u in flight, fault rate %.2f, remove rate %.2f, "
           "pause rate %.2f, limit changes every %u ms on average, checkpoint every %u, "
           "seed %u, %s\n",
           soak.count, soak.parallel, soak.fault_rate, soak.remove_rate, soak.pause_rate,
           soak.limit_interval_ms, soak.checkpoint_every, soak.seed, date);

  fds_before = count_fds (FALSE);
  soak.server = test_server_new_raw (TEST_SERVER_IPV4, server_cb, NULL);
  soak.loop.epfd = epoll_create1 (EPOLL_CLOEXEC);
  soak.loop.timer_deadline = -1;
  soak.loop.engine = gmulti_engine_new ();
  gmulti_engine_set_socket_func (soak.loop.engine, socket_cb, &soak.loop, NULL);
  gmulti_engine_set_timer_func (soak.loop.engine, timer_cb, &soak.loop, NULL);
  /* Set, not left to the defaults: the run starts from the same pool every time. */
  gmulti_engine_set_max_connections (soak.loop.engine, 0);
  gmulti_engine_set_max_host_connections (soak.loop.engine, 0);
  gmulti_engine_set_max_idle_connections (soak.loop.engine, 0);
  soak.jobs = g_hash_table_new (NULL, NULL);
  soak.to_remove = g_ptr_array_new ();
  soak.to_pause = g_ptr_array_new ();
  fds_ready = count_fds (FALSE);
  sockets_ready = count_fds (TRUE);

  start = g_get_monotonic_time ();
  if (soak.limit_interval_ms > 0)
    soak.next_limit_change = start + soak.limit_interval_ms * 1000;
  /* Checkpoints are taken with nothing in flight. */
  pause_at = soak.checkpoint_every;
  while (soak.started < soak.count || g_hash_table_size (soak.jobs) > 0)
    {
      gint64 t;
      int wait;

      while (soak.started < MIN (soak.count, pause_at) &&
             g_hash_table_size (soak.jobs) < soak.parallel)
        start_one (&soak);
      if (g_hash_table_size (soak.jobs) == 0 && soak.started == pause_at &&
          pause_at < soak.count)
        {
          take_checkpoint (&soak, start);
          pause_at = MIN (pause_at + soak.checkpoint_every, soak.count);
          continue;
        }

      wait = 100;
      if (soak.next_limit_change > 0)
        wake_at (&soak, soak.next_limit_change);
      if (soak.next_wake > 0)
        wait = (int) CLAMP ((soak.next_wake - g_get_monotonic_time () + 999) / 1000, 0, 100);
      loop_iterate (&soak.loop, wait);

      while ((message = gmulti_engine_info_read (soak.loop.engine, NULL)) != NULL)
        {
          Job *job = g_hash_table_lookup (soak.jobs, message->transfer);

          if (job == NULL)
            {
              violation (&soak, NULL, "a message for a transfer that is not running");
              continue;
            }
          check_completed (&soak, job, message->error);
          finish_job (&soak, job);
        }

      t = g_get_monotonic_time ();
      soak.next_wake = 0;
      remove_due (&soak, t);
      pause_due (&soak, t);
      /* Checked before a change: what the pool did under the limits it had. */
      check_connections (&soak);
      if (soak.next_limit_change > 0 && soak.next_limit_change <= t)
        change_limits (&soak, t);
    }
  took = g_get_monotonic_time () - start;

  /* Only pooled connections are left: one descriptor each here and at the server. */
  if (gmulti_engine_get_n_connections (soak.loop.engine) !=
      gmulti_engine_get_n_idle_connections (soak.loop.engine))
    violation (&soak, NULL, "connections other than idle ones remain");
  if (!wait_server_open (&soak.loop, soak.server,
                         gmulti_engine_get_n_connections (soak.loop.engine)))
    g_printerr ("soak: the server still holds %u connections, the engine %u\n",
                test_server_get_n_open (soak.server),
                gmulti_engine_get_n_connections (soak.loop.engine));
  fds_end = count_fds (FALSE);
  sockets_end = count_fds (TRUE);
  idle_end = gmulti_engine_get_n_idle_connections (soak.loop.engine);
  if (sockets_end != sockets_ready + 2 * idle_end)
    {
      violation (&soak, NULL, "descriptors beyond the pooled connections are open");
      list_fds ();
    }

  take_checkpoint (&soak, start);

  g_print ("soak: done in %.1f s (%.0f transfers/s)\n", took / 1e6,
           soak.count / (took / 1e6));
  g_print ("  completed %u (succeeded %u, failed %u), removed %u, paused and resumed %u, "
           "limit changes %u\n", soak.completed, soak.succeeded, soak.failed, soak.removed,
           soak.resumed, soak.limit_changes);
  g_print ("  faults asked for:");
  for (guint i = 0; i < N_FAULTS; i++)
    g_print (" %s=%u", fault_names[i], soak.by_fault[i]);
  g_print ("\n  failures by GMultiError code:");
  for (guint i = 0; i < G_N_ELEMENTS (soak.failed_by_code); i++)
    if (soak.failed_by_code[i] > 0)
      g_print (" %u=%u", i, soak.failed_by_code[i]);
  g_print ("\n  connections: at most %u open; %u idle at the end; server accepted %u\n",
           soak.max_connections, idle_end, test_server_get_n_accepted (soak.server));
  g_print ("  descriptors: %u before, %u with server and engine, %u at the end; sockets: "
           "%u at the start, %u at the end (%u pooled connections, both ends)\n",
           fds_before, fds_ready, fds_end, sockets_ready, sockets_end, idle_end);
  check_checkpoints (&soak, blocks_exact, !no_rss_check);

  gmulti_engine_unref (soak.loop.engine);
  close (soak.loop.epfd);
  test_server_free (soak.server);
  g_hash_table_unref (soak.jobs);
  g_ptr_array_unref (soak.to_remove);
  g_ptr_array_unref (soak.to_pause);
  g_array_unref (soak.checkpoints);
  g_rand_free (soak.rand);
  fds_after = count_fds (FALSE);
  g_print ("  descriptors after the engine and the server are gone: %u (before: %u)\n",
           fds_after, fds_before);

  if (fds_after != fds_before)
    violation (&soak, NULL, "descriptors leaked");
  if (soak.unexpected_failures > 0)
    violation (&soak, NULL, "transfers without a fault failed");

  g_print ("soak: %s (%u violations, %u transfers without a fault failed)\n",
           soak.violations == 0 ? "PASS" : "FAIL", soak.violations,
           soak.unexpected_failures);
  return soak.violations == 0 ? 0 : 1;
}
