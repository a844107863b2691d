#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds tests/subproject/, a project that takes gmulti as a Meson subproject, and runs
# it: the parent must see gmulti's public headers only, not its config.h.
#   test-subproject.sh SOURCE_ROOT
set -eu
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$src/tests/subproject/meson.build" "$src/tests/subproject/parent.c" "$work/"
mkdir "$work/subprojects"
ln -s "$src" "$work/subprojects/gmulti"
echo "1..1"
if meson setup "$work/_build" "$work" > "$work/setup.log" 2>&1 &&
   ninja -C "$work/_build" -j2 > "$work/build.log" 2>&1 &&
   "$work/_build/parent"; then
  echo "ok 1 the parent sees only the public headers, builds and runs"
else
  sed 's/^/# /' "$work/setup.log" "$work/build.log" 2>/dev/null | tail -40
  echo "not ok 1 the parent did not build or run"
fi
