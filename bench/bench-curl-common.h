/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libcurl setup both libcurl clients share, so that they differ only in the loop
 * that drives the multi handle. */
#pragma once

#include <curl/curl.h>

#include "bench-common.h"

/* One transfer: the easy handle's CURLOPT_PRIVATE. */
typedef struct
{
  CURL *easy;
  unsigned long long received;
  int sink_fd;                  /* --sink null: write bodies here; -1: only count */
} CurlTransfer;

/* A multi handle with connection limits matching the other clients. */
CURLM *bench_curl_multi_new (const BenchRun *run);

/* Creates a new easy handle for the run's URL and adds it to @multi. */
void bench_curl_start_one (BenchRun *run,
                           CURLM    *multi);

/* Reads every completion message, checks and frees the finished transfers and starts
 * new ones to keep the concurrency. */
void bench_curl_read_messages (BenchRun *run,
                               CURLM    *multi);
