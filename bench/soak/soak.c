/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "gmulti.h"
#include "test-server.h"

/* soak: many transfers through one raw engine, driven by an epoll loop, against an
 * in-process server that injects faults (closes, resets, garbage, stalls, slow bodies),
 * with transfers removed at random while they run.
 *
 * Checked: every transfer that completes either succeeded with exactly the body the
 * server generated (and carried no fault that should have made it fail) or failed with
 * a GMULTI_ERROR; a transfer without a fault never fails; while the engine runs, every
 * connection is idle or carries a running transfer; at the end only pooled connections
 * are open, and once the engine is freed and the server stopped, exactly the descriptors
 * open before it started; resident memory after all transfers is within a few percent
 * of what it was after the first tenth. Exit status 0 when all of that holds. */

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

#define STALL_TIMEOUT_MS 300
#define TIMEOUT_MS 30000
#define MAX_BODY (256 * 1024)

static void
fill_body (guint8 *data,
           gsize   size,
           guint   seed)
{
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (seed * 31 + i * 7 + i / 251);
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

/* Answers one request; returns whether the connection goes on. */
static gboolean
answer (TestConn *conn,
        guint     seed,
        gsize     size,
        Fault     fault,
        guint8   *body)
{
  fill_body (body, size, seed);

  switch (fault)
    {
    case FAULT_NONE:
      return test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT
                               "\r\n\r\n", size) &&
             test_conn_write (conn, body, size);

    case FAULT_CHUNKED:
      if (!test_conn_write_str (conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
        return FALSE;
      for (gsize off = 0; off < size; off += size / 3 + 1)
        if (!test_conn_write_chunk (conn, body + off, MIN (size / 3 + 1, size - off)))
          return FALSE;
      return test_conn_write_chunk (conn, NULL, 0);

    case FAULT_SLOW:
      if (!test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT
                             "\r\n\r\n", size))
        return FALSE;
      for (guint i = 0; i < 5; i++)
        {
          gsize from = size * i / 5, to = size * (i + 1) / 5;

          test_conn_sleep (conn, 20);
          if (!test_conn_write (conn, body + from, to - from))
            return FALSE;
        }
      return TRUE;

    case FAULT_CLOSE_AFTER:
      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                        size);
      test_conn_write (conn, body, size);
      return FALSE;

    case FAULT_CLOSE_BEFORE:
      return FALSE;

    case FAULT_CLOSE_MID_BODY:
    case FAULT_RESET_MID_BODY:
      test_conn_printf (conn, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                        size + 10);
      test_conn_write (conn, body, size / 2);
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
 * "/s/SEED/SIZE/FAULT". */
static void
server_cb (TestServer *server,
           TestConn   *conn,
           gpointer    user_data)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autofree guint8 *body = g_malloc (MAX_BODY);

  for (;;)
    {
      guint seed = 0, fault = 0;
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
      if (sscanf (line, "GET /s/%u/%" G_GSIZE_MODIFIER "u/%u ", &seed, &size, &fault) != 3 ||
          size > MAX_BODY || fault >= N_FAULTS)
        {
          g_printerr ("soak: the server got a request it did not expect: %s\n", line);
          exit (1);
        }
      g_free (line);

      if (!answer (conn, seed, size, fault, body))
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
    return epoll_ctl (loop->epfd, EPOLL_CTL_DEL, fd, NULL) == 0;

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

static guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static gsize
rss_kib (void)
{
  g_autofree char *text = NULL;
  unsigned long size = 0, resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &text, NULL, NULL) ||
      sscanf (text, "%lu %lu", &size, &resident) != 2)
    return 0;
  return resident * (gsize) sysconf (_SC_PAGESIZE) / 1024;
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
} Job;

typedef struct {
  guint count, parallel;
  double fault_rate, remove_rate;
  guint32 seed;

  GRand *rand;
  TestServer *server;
  Loop loop;
  GHashTable *jobs;             /* GMultiTransfer -> Job */
  GPtrArray *to_remove;         /* Job with remove_at set, still running */
  guint started, completed, removed;
  guint succeeded, failed;
  guint by_fault[N_FAULTS];
  guint failed_by_code[64];
  guint violations;
  guint unexpected_failures;
  guint max_connections;
} Soak;

static void
violation (Soak       *soak,
           const Job  *job,
           const char *what)
{
  soak->violations++;
  if (soak->violations <= 20)
    g_printerr ("soak: VIOLATION (seed %u, size %" G_GSIZE_FORMAT ", fault %s): %s\n",
                job->seed, job->size, fault_names[job->fault], what);
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
start_one (Soak *soak)
{
  Job *job = g_new0 (Job, 1);
  g_autofree char *path = NULL;
  g_autofree char *uri = NULL;

  job->seed = g_rand_int (soak->rand) % 100000;
  job->size = pick_size (soak);
  job->fault = pick_fault (soak);
  path = g_strdup_printf ("/s/%u/%" G_GSIZE_FORMAT "/%u", job->seed, job->size, job->fault);
  uri = test_server_uri (soak->server, path);
  job->transfer = gmulti_transfer_new (uri);
  gmulti_transfer_set_timeout (job->transfer,
                               job->fault == FAULT_STALL ? STALL_TIMEOUT_MS : TIMEOUT_MS);
  if (g_rand_double (soak->rand) < soak->remove_rate)
    {
      job->remove_at = g_get_monotonic_time () + g_rand_int_range (soak->rand, 0, 30000);
      g_ptr_array_add (soak->to_remove, job);
    }

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
  g_ptr_array_remove_fast (soak->to_remove, job);
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

      fill_body (expected, job->size, job->seed);
      if (body == NULL || g_bytes_get_size (body) != job->size ||
          memcmp (g_bytes_get_data (body, NULL), expected, job->size) != 0)
        violation (soak, job, "success with a body that is not the one sent");
    }
}

static void
remove_due (Soak *soak)
{
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < soak->to_remove->len;)
    {
      Job *job = soak->to_remove->pdata[i];

      if (job->remove_at > now)
        {
          i++;
          continue;
        }
      /* Removed before or after it completed: either way no message may follow. */
      soak->removed++;
      finish_job (soak, job);
    }
}

static void
check_connections (Soak *soak)
{
  GMultiEngine *engine = soak->loop.engine;
  guint n = gmulti_engine_get_n_connections (engine);

  soak->max_connections = MAX (soak->max_connections, n);
  /* Every connection is idle in the pool or carries a transfer still running. */
  if (n > gmulti_engine_get_n_idle_connections (engine) + gmulti_engine_get_n_running (engine))
    {
      Job none = { 0, };

      violation (soak, &none, "a connection is neither idle nor used by a running transfer");
    }
}

static void
report_rss (const char *when,
            guint       done,
            gsize       kib)
{
  g_print ("  RSS after %-8s %6u transfers: %8" G_GSIZE_FORMAT " KiB\n", when, done, kib);
}

int
main (int    argc,
      char **argv)
{
  Soak soak = { 0, };
  gint64 count = 100000, parallel = 200, seed = 0;
  double fault_rate = 0.15, remove_rate = 0.05;
  GOptionEntry entries[] = {
    { "count", 'n', 0, G_OPTION_ARG_INT64, &count, "Transfers to run (default 100000)", "N" },
    { "parallel", 'p', 0, G_OPTION_ARG_INT64, &parallel, "Transfers in flight (default 200)", "N" },
    { "fault-rate", 0, 0, G_OPTION_ARG_DOUBLE, &fault_rate, "Share of transfers with a fault (default 0.15)", "R" },
    { "remove-rate", 0, 0, G_OPTION_ARG_DOUBLE, &remove_rate, "Share removed while they run (default 0.05)", "R" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (default: from the clock)", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- soak test of the engine");
  g_autoptr(GError) error = NULL;
  guint fds_before, fds_ready, fds_end, fds_after;
  gsize rss_early = 0, rss_end;
  guint early_mark;
  gint64 start, took;
  GMessage: ;
  GMultiMessage *message;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("soak: %s\n", error->message);
      return 2;
    }
  if (count < 1 || parallel < 1 || fault_rate < 0 || fault_rate > 1 || remove_rate < 0 ||
      remove_rate > 1)
    {
      g_printerr ("soak: --count and --parallel must be positive, rates within 0 to 1\n");
      return 2;
    }
  soak.count = (guint) count;
  soak.parallel = (guint) parallel;
  soak.fault_rate = fault_rate;
  soak.remove_rate = remove_rate;
  soak.seed = seed != 0 ? (guint32) seed : (guint32) g_get_real_time ();
  soak.rand = g_rand_new_with_seed (soak.seed);
  early_mark = MAX (soak.count / 10, 1);

  g_print ("soak: %u transfers, %u in flight, fault rate %.2f, remove rate %.2f, seed %u\n",
           soak.count, soak.parallel, soak.fault_rate, soak.remove_rate, soak.seed);

  fds_before = count_fds ();
  soak.server = test_server_new_raw (TEST_SERVER_IPV4, server_cb, NULL);
  soak.loop.epfd = epoll_create1 (EPOLL_CLOEXEC);
  soak.loop.timer_deadline = -1;
  soak.loop.engine = gmulti_engine_new ();
  gmulti_engine_set_socket_func (soak.loop.engine, socket_cb, &soak.loop, NULL);
  gmulti_engine_set_timer_func (soak.loop.engine, timer_cb, &soak.loop, NULL);
  soak.jobs = g_hash_table_new (NULL, NULL);
  soak.to_remove = g_ptr_array_new ();
  fds_ready = count_fds ();

  start = g_get_monotonic_time ();
  while (soak.started < soak.count || g_hash_table_size (soak.jobs) > 0)
    {
      while (soak.started < soak.count && g_hash_table_size (soak.jobs) < soak.parallel)
        start_one (&soak);

      loop_iterate (&soak.loop, 100);

      while ((message = gmulti_engine_info_read (soak.loop.engine, NULL)) != NULL)
        {
          Job *job = g_hash_table_lookup (soak.jobs, message->transfer);

          if (job == NULL)
            {
              Job none = { 0, };

              violation (&soak, &none, "a message for a transfer that is not running");
              continue;
            }
          check_completed (&soak, job, message->error);
          finish_job (&soak, job);
        }
      remove_due (&soak);
      check_connections (&soak);

      if (rss_early == 0 && soak.completed + soak.removed >= early_mark)
        rss_early = rss_kib ();
    }
  took = g_get_monotonic_time () - start;
  rss_end = rss_kib ();

  /* Only pooled connections are left: one descriptor each here and at the server. */
  if (gmulti_engine_get_n_connections (soak.loop.engine) !=
      gmulti_engine_get_n_idle_connections (soak.loop.engine))
    {
      Job none = { 0, };

      violation (&soak, &none, "connections other than idle ones remain");
    }
  if (!wait_server_open (&soak.loop, soak.server,
                         gmulti_engine_get_n_connections (soak.loop.engine)))
    g_printerr ("soak: the server still holds %u connections, the engine %u\n",
                test_server_get_n_open (soak.server),
                gmulti_engine_get_n_connections (soak.loop.engine));
  fds_end = count_fds ();
  if (fds_end != fds_ready + 2 * gmulti_engine_get_n_connections (soak.loop.engine))
    {
      Job none = { 0, };

      violation (&soak, &none, "descriptors beyond the pooled connections are open");
    }

  g_print ("soak: done in %.1f s (%.0f transfers/s)\n", took / 1e6,
           soak.count / (took / 1e6));
  g_print ("  completed %u (succeeded %u, failed %u), removed %u\n", soak.completed,
           soak.succeeded, soak.failed, soak.removed);
  g_print ("  faults asked for:");
  for (guint i = 0; i < N_FAULTS; i++)
    g_print (" %s=%u", fault_names[i], soak.by_fault[i]);
  g_print ("\n  failures by GMultiError code:");
  for (guint i = 0; i < G_N_ELEMENTS (soak.failed_by_code); i++)
    if (soak.failed_by_code[i] > 0)
      g_print (" %u=%u", i, soak.failed_by_code[i]);
  g_print ("\n  connections: at most %u open; %u idle at the end; server accepted %u\n",
           soak.max_connections, gmulti_engine_get_n_idle_connections (soak.loop.engine),
           test_server_get_n_accepted (soak.server));
  g_print ("  descriptors: %u before, %u with server and engine, %u at the end "
           "(%u pooled connections, both ends)\n", fds_before, fds_ready, fds_end,
           gmulti_engine_get_n_connections (soak.loop.engine));
  report_rss ("first", early_mark, rss_early);
  report_rss ("all", soak.completed + soak.removed, rss_end);
  g_print ("  RSS growth: %+.1f %%\n", 100.0 * ((double) rss_end - rss_early) / rss_early);

  gmulti_engine_unref (soak.loop.engine);
  close (soak.loop.epfd);
  test_server_free (soak.server);
  g_hash_table_unref (soak.jobs);
  g_ptr_array_unref (soak.to_remove);
  g_rand_free (soak.rand);
  fds_after = count_fds ();
  g_print ("  descriptors after the engine and the server are gone: %u (before: %u)\n",
           fds_after, fds_before);

  if (fds_after != fds_before)
    {
      Job none = { 0, };

      violation (&soak, &none, "descriptors leaked");
    }
  if (rss_end > rss_early + rss_early / 20)
    {
      Job none = { 0, };

      violation (&soak, &none, "resident memory grew by more than 5 %");
    }
  if (soak.unexpected_failures > 0)
    {
      Job none = { 0, };

      violation (&soak, &none, "transfers without a fault failed");
    }

  g_print ("soak: %s (%u violations, %u transfers without a fault failed)\n",
           soak.violations == 0 ? "PASS" : "FAIL", soak.violations,
           soak.unexpected_failures);
  return soak.violations == 0 ? 0 : 1;
}
