/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every benchmark client shares: the command line, the checks on each finished
 * transfer, and the one-line report. Plain C, so the libcurl poll client does not have
 * to link GLib. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* --http-version: what the client asks its library for. */
typedef enum
{
  BENCH_HTTP_1_1,               /* the default: HTTP/1.1 only */
  BENCH_HTTP_2,                 /* HTTP/2 over TLS (ALPN h2), required where it can be */
  BENCH_HTTP_AUTO,              /* the library's choice */
} BenchHttpVersion;

typedef struct
{
  const char *name;             /* client=NAME in the report */
  const char *url;
  const char *cafile;           /* NULL: the system's trust store */
  const char *proxy;            /* --proxy: every transfer through this proxy URI */
  long count;                   /* transfers to run in all */
  long concurrency;             /* transfers kept in flight */
  long long size;               /* expected body bytes per transfer, -1: not checked */
  long buffer_size;             /* receive buffer for clients that have one, 0: default */
  bool decode;                  /* --decode: ask for and undo content codings (libcurl:
                                 * CURLOPT_ACCEPT_ENCODING ""); off by default, as plain
                                 * HTTP/1.1 clients send no Accept-Encoding */
  int sink_fd;                  /* --sink null: bodies are written to this /dev/null fd,
                                 * as a download to a file would be; -1: counted only */
  BenchHttpVersion http_version;
  long connections;             /* --connections: most connections at once (in all and
                                 * per host), 0: one per transfer in flight */

  /* Filled in while running. */
  long started;
  long finished;
  long failed;
  unsigned long long bytes;
  int64_t t_start_us;
  bool unsupported;             /* the library refused the URL's kind outright */
  const char *http_used;        /* the version the library says carried the transfers:
                                 * "1.1", "2" or "mixed"; NULL: it cannot tell */
} BenchRun;

/* The exit status of a client whose library cannot fetch the URL at all (for example
 * no HTTPS support): the runner prints "n/a" instead of a figure. */
#define BENCH_EXIT_UNSUPPORTED 77

void bench_parse_args (BenchRun   *run,
                       const char *name,
                       int         argc,
                       char      **argv);

/* Raises the soft limit on open files to the hard limit: 10,000 transfers in flight
 * need more than the usual 1,024 descriptors. */
void bench_raise_fd_limit (void);

/* The connections a client may open, and the streams each multiplexed one carries so
 * that all transfers in flight fit. */
long bench_connections (const BenchRun *run);
long bench_streams_per_connection (const BenchRun *run);

/* Records the HTTP version ("1.1", "2") the library reports for one transfer. */
void bench_note_http_version (BenchRun   *run,
                              const char *version);

int64_t bench_now_us (void);

void bench_start_clock (BenchRun *run);

/* True while more transfers should be started. */
bool bench_want_more (const BenchRun *run);

/* Records one finished transfer and checks it. @error is NULL on success; otherwise
 * it is printed and counted as a failure. Only the first few failures are printed. */
void bench_transfer_done (BenchRun           *run,
                          const char         *error,
                          long                status,
                          unsigned long long  body_bytes);

bool bench_all_done (const BenchRun *run);

/* For clients whose per-transfer byte count comes from the library: checks it against
 * what the write callbacks were handed in all. */
void bench_check_delivered (BenchRun           *run,
                            unsigned long long  delivered);

/* Prints the report line and returns the process exit status: 0 when every transfer
 * completed with status 200 and the expected size, 1 otherwise. */
int bench_finish (BenchRun *run);
