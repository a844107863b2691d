/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcurl's own loop: curl_multi_perform + curl_multi_poll, the way libcurl's examples
 * run many transfers. No GLib. */
#include <stdio.h>

#include "bench-curl-common.h"

int
main (int    argc,
      char **argv)
{
  BenchRun run;
  CURLM *multi;
  int status;

  bench_parse_args (&run, "curl-poll", argc, argv);
  bench_raise_fd_limit ();
  multi = bench_curl_multi_new (&run);

  bench_start_clock (&run);
  bench_curl_read_messages (&run, multi);
  while (!bench_all_done (&run))
    {
      int running = 0;
      CURLMcode code = curl_multi_perform (multi, &running);

      if (code == CURLM_OK)
        {
          bench_curl_read_messages (&run, multi);
          if (bench_all_done (&run))
            break;
          code = curl_multi_poll (multi, NULL, 0, 1000, NULL);
        }
      if (code != CURLM_OK)
        {
          fprintf (stderr, "curl-poll: %s\n", curl_multi_strerror (code));
          return 1;
        }
    }

  status = bench_finish (&run);
  curl_multi_cleanup (multi);
  curl_global_cleanup ();
  return status;
}
