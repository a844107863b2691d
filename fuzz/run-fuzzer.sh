#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-fuzzer.sh TARGET SEED_CORPUS SECONDS [DICT]: fuzzes for SECONDS with new inputs
# kept in a scratch directory, so the seed corpus in the tree is never written to.
set -eu
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export G_SLICE=always-malloc  # every block its own malloc(), seen by the leak checker
dict=
if [ $# -ge 4 ] && [ -f "$4" ]; then
  dict=-dict=$4
fi
"$1" -max_total_time="$3" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -error_exitcode=1 $dict \
  "$scratch" "$2"
