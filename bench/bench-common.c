/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bench-common.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_ERRORS_SHOWN 5

static void
usage (const char *name,
       int         status)
{
  fprintf (status == 0 ? stdout : stderr,
           "usage: %s --url URL --count N --concurrency C [--cafile FILE]\n"
           "          [--size BYTES] [--buffer-size BYTES] [--sink count|null] [--decode]\n"
           "          [--http-version 1.1|2|auto] [--connections N] [--proxy URI]\n"
           "\n"
           "Runs N GET transfers of URL keeping C in flight, checks that each returns\n"
           "status 200 (and BYTES of body when --size is given) and prints one line:\n"
           "client=NAME transfers=N seconds=S bytes=B cpu_user=U cpu_sys=Y maxrss_kb=K\n"
           "--buffer-size sets the receive buffer of clients that have one (libcurl).\n"
           "--sink null writes every body to /dev/null, as a download to a file would\n"
           "(gmulti: an output stream; libcurl: write(); libsoup: g_output_stream_splice);\n"
           "the default only counts the bytes in a callback.\n"
           "--http-version asks for HTTP/1.1 (the default), HTTP/2 over TLS, or whatever\n"
           "the library prefers; --connections caps the connections (default: one per\n"
           "transfer in flight), so that HTTP/2 streams share them.\n"
           "--decode offers Accept-Encoding and decodes the body (--size is decoded).\n"
           "--proxy sends every transfer through that HTTP proxy (https: CONNECT).\n",
           name);
  exit (status);
}

static long long
parse_number (const char *name,
              const char *option,
              const char *text,
              long long   min)
{
  char *end = NULL;
  long long value = strtoll (text, &end, 10);

  if (end == text || *end != '\0' || value < min)
    {
      fprintf (stderr, "%s: --%s wants a number >= %lld, not '%s'\n", name, option, min,
               text);
      exit (2);
    }
  return value;
}

void
bench_parse_args (BenchRun   *run,
                  const char *name,
                  int         argc,
                  char      **argv)
{
  static const struct option options[] = {
    { "url", required_argument, NULL, 'u' },
    { "count", required_argument, NULL, 'n' },
    { "concurrency", required_argument, NULL, 'c' },
    { "cafile", required_argument, NULL, 'a' },
    { "size", required_argument, NULL, 's' },
    { "buffer-size", required_argument, NULL, 'b' },
    { "sink", required_argument, NULL, 'k' },
    { "http-version", required_argument, NULL, 'v' },
    { "connections", required_argument, NULL, 'C' },
    { "proxy", required_argument, NULL, 'p' },
    { "decode", no_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int opt;

  memset (run, 0, sizeof *run);
  run->name = name;
  run->count = -1;
  run->concurrency = 1;
  run->size = -1;
  run->sink_fd = -1;

  while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1)
    {
      switch (opt)
        {
        case 'u':
          run->url = optarg;
          break;
        case 'n':
          run->count = (long) parse_number (name, "count", optarg, 0);
          break;
        case 'c':
          run->concurrency = (long) parse_number (name, "concurrency", optarg, 1);
          break;
        case 'a':
          run->cafile = optarg;
          break;
        case 's':
          run->size = parse_number (name, "size", optarg, 0);
          break;
        case 'b':
          run->buffer_size = (long) parse_number (name, "buffer-size", optarg, 0);
          break;
        case 'd':
          run->decode = true;
          break;
        case 'k':
          if (strcmp (optarg, "null") == 0)
            {
              run->sink_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
              if (run->sink_fd < 0)
                {
                  perror ("/dev/null");
                  exit (2);
                }
            }
          else if (strcmp (optarg, "count") != 0)
            usage (name, 2);
          break;
        case 'v':
          if (strcmp (optarg, "1.1") == 0)
            run->http_version = BENCH_HTTP_1_1;
          else if (strcmp (optarg, "2") == 0)
            run->http_version = BENCH_HTTP_2;
          else if (strcmp (optarg, "auto") == 0)
            run->http_version = BENCH_HTTP_AUTO;
          else
            usage (name, 2);
          break;
        case 'C':
          run->connections = (long) parse_number (name, "connections", optarg, 1);
          break;
        case 'p':
          run->proxy = optarg;
          break;
        case 'h':
          usage (name, 0);
          break;
        default:
          usage (name, 2);
        }
    }
  if (optind != argc || run->url == NULL || run->count < 0)
    usage (name, 2);
}

void
bench_raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
}

long
bench_connections (const BenchRun *run)
{
  if (run->connections > 0 && run->connections < run->concurrency)
    return run->connections;
  return run->concurrency;
}

long
bench_streams_per_connection (const BenchRun *run)
{
  long connections = bench_connections (run);

  return (run->concurrency + connections - 1) / connections;
}

void
bench_note_http_version (BenchRun   *run,
                         const char *version)
{
  if (run->http_used == NULL)
    run->http_used = version;
  else if (strcmp (run->http_used, version) != 0)
    run->http_used = "mixed";
}

int64_t
bench_now_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
bench_start_clock (BenchRun *run)
{
  run->t_start_us = bench_now_us ();
}

bool
bench_want_more (const BenchRun *run)
{
  return run->started < run->count;
}

void
bench_transfer_done (BenchRun           *run,
                     const char         *error,
                     long                status,
                     unsigned long long  body_bytes)
{
  char why[160];

  run->finished++;
  run->bytes += body_bytes;

  if (error != NULL)
    snprintf (why, sizeof why, "%s", error);
  else if (status != 200)
    snprintf (why, sizeof why, "status %ld", status);
  else if (run->size >= 0 && body_bytes != (unsigned long long) run->size)
    snprintf (why, sizeof why, "%llu body bytes, expected %lld", body_bytes, run->size);
  else
    return;

  if (run->failed < MAX_ERRORS_SHOWN)
    fprintf (stderr, "%s: transfer %ld failed: %s\n", run->name, run->finished, why);
  run->failed++;
}

bool
bench_all_done (const BenchRun *run)
{
  return run->finished >= run->count;
}

void
bench_check_delivered (BenchRun           *run,
                       unsigned long long  delivered)
{
  if (delivered == run->bytes)
    return;
  fprintf (stderr, "%s: the write callbacks got %llu bytes, the transfers report %llu\n",
           run->name, delivered, run->bytes);
  run->failed++;
}

int
bench_finish (BenchRun *run)
{
  static const char *const asked[] = { "1.1", "2", "auto" };
  struct rusage usage;
  double seconds = 0;

  if (run->unsupported)
    {
      fprintf (stderr, "%s: the library does not support %s\n", run->name, run->url);
      return BENCH_EXIT_UNSUPPORTED;
    }
  if (run->t_start_us != 0)
    seconds = (double) (bench_now_us () - run->t_start_us) / 1e6;
  getrusage (RUSAGE_SELF, &usage);

  /* http_asked and http (when the library tells) go last: older readers of the line
   * ignore them. */
  printf ("client=%s transfers=%ld seconds=%.6f bytes=%llu cpu_user=%.6f cpu_sys=%.6f "
          "maxrss_kb=%ld http_asked=%s%s%s\n",
          run->name, run->finished, seconds, run->bytes,
          usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6,
          usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6,
          usage.ru_maxrss, asked[run->http_version],
          run->http_used != NULL ? " http=" : "",
          run->http_used != NULL ? run->http_used : "");
  fflush (stdout);

  if (run->failed > 0)
    {
      fprintf (stderr, "%s: %ld of %ld transfers failed\n", run->name, run->failed,
               run->finished);
      return 1;
    }
  if (run->finished != run->count)
    {
      fprintf (stderr, "%s: %ld transfers finished, %ld expected\n", run->name,
               run->finished, run->count);
      return 1;
    }
  return 0;
}
