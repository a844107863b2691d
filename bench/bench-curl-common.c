/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bench-curl-common.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>

static void
check_multi (const char *what,
             CURLMcode   code)
{
  if (code == CURLM_OK)
    return;
  fprintf (stderr, "%s: %s\n", what, curl_multi_strerror (code));
  exit (1);
}

static size_t
count_cb (char   *data,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  CurlTransfer *transfer = user_data;

  transfer->received += size * nmemb;
  return size * nmemb;
}

/* --sink null: what a download to a file does with each piece. */
static size_t
write_cb (char   *data,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  CurlTransfer *transfer = user_data;
  size_t length = size * nmemb, done = 0;

  while (done < length)
    {
      ssize_t n = write (transfer->sink_fd, data + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return 0;
      done += (size_t) n;
    }
  transfer->received += length;
  return length;
}

CURLM *
bench_curl_multi_new (const BenchRun *run)
{
  CURLM *multi;

  if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
    {
      fprintf (stderr, "curl_global_init failed\n");
      exit (1);
    }
  multi = curl_multi_init ();
  /* Every transfer in flight gets a connection (or, over HTTP/2, a stream on one of
   * --connections), and each one stays in the cache. */
  curl_multi_setopt (multi, CURLMOPT_MAX_HOST_CONNECTIONS, bench_connections (run));
  curl_multi_setopt (multi, CURLMOPT_MAXCONNECTS, bench_connections (run));
  if (run->http_version != BENCH_HTTP_1_1)
    {
      curl_multi_setopt (multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
      curl_multi_setopt (multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
                         bench_streams_per_connection (run));
    }
  return multi;
}

void
bench_curl_start_one (BenchRun *run,
                      CURLM    *multi)
{
  CurlTransfer *transfer = calloc (1, sizeof *transfer);
  CURL *easy = curl_easy_init ();

  if (transfer == NULL || easy == NULL)
    {
      fprintf (stderr, "out of memory\n");
      exit (1);
    }
  transfer->easy = easy;
  curl_easy_setopt (easy, CURLOPT_URL, run->url);
  curl_easy_setopt (easy, CURLOPT_PRIVATE, transfer);
  transfer->sink_fd = run->sink_fd;
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, run->sink_fd >= 0 ? write_cb : count_cb);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, transfer);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  switch (run->http_version)
    {
    case BENCH_HTTP_1_1:
      /* Keep libcurl from offering h2 over TLS where the others speak HTTP/1.1. */
      curl_easy_setopt (easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
      break;
    case BENCH_HTTP_2:
    case BENCH_HTTP_AUTO:
      /* h2 through ALPN (libcurl's default since 7.62, said here anyway); the waiting
       * transfers queue for a stream on the connection being set up rather than
       * opening connections of their own. */
      curl_easy_setopt (easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
      curl_easy_setopt (easy, CURLOPT_PIPEWAIT, 1L);
      break;
    }
  if (run->cafile != NULL)
    {
      /* Trust that file only, as the other clients do: Debian's libcurl would also
       * read every certificate in /etc/ssl/certs for each new connection. */
      curl_easy_setopt (easy, CURLOPT_CAINFO, run->cafile);
      curl_easy_setopt (easy, CURLOPT_CAPATH, NULL);
    }
  if (run->proxy != NULL)
    {
      /* https goes through CONNECT, as gmulti always does. */
      curl_easy_setopt (easy, CURLOPT_PROXY, run->proxy);
      curl_easy_setopt (easy, CURLOPT_HTTPPROXYTUNNEL, 0L);
    }
  if (run->buffer_size > 0)
    curl_easy_setopt (easy, CURLOPT_BUFFERSIZE, run->buffer_size);
  /* "": every coding this libcurl decodes. */
  if (run->decode)
    curl_easy_setopt (easy, CURLOPT_ACCEPT_ENCODING, "");

  run->started++;
  check_multi ("curl_multi_add_handle", curl_multi_add_handle (multi, easy));
}

void
bench_curl_read_messages (BenchRun *run,
                          CURLM    *multi)
{
  CURLMsg *msg;
  int queued;

  while ((msg = curl_multi_info_read (multi, &queued)) != NULL)
    {
      CurlTransfer *transfer = NULL;
      CURL *easy = msg->easy_handle;
      CURLcode result = msg->data.result;
      long status = 0;
      long version = 0;

      if (msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo (easy, CURLINFO_PRIVATE, (char **) &transfer);
      curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo (easy, CURLINFO_HTTP_VERSION, &version);
      if (result == CURLE_OK)
        bench_note_http_version (run, version == CURL_HTTP_VERSION_2_0 ? "2" : "1.1");
      bench_transfer_done (run, result == CURLE_OK ? NULL : curl_easy_strerror (result),
                           status, transfer->received);
      /* msg is invalid after the remove. */
      check_multi ("curl_multi_remove_handle", curl_multi_remove_handle (multi, easy));
      curl_easy_cleanup (easy);
      free (transfer);
    }

  while (run->started - run->finished < run->concurrency && bench_want_more (run))
    bench_curl_start_one (run, multi);
}
