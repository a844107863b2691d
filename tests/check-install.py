#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`meson install` into a DESTDIR, then checks what a distribution package would ship:
the library, headers, pkg-config file, GIR and typelib, translations, the tool and its
man page, and the API reference (index, devhelp index, styles). A small program is
then compiled against the installed header and pkg-config file and run against the
installed library, so the public header is complete on its own."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(condition, what):
    print("%s: %s" % ("ok" if condition else "FAILED", what))
    if not condition:
        failures.append(what)


def one(root, pattern):
    found = glob.glob(os.path.join(root, pattern), recursive=True)
    check(len(found) >= 1, pattern)
    return found[0] if found else None


PROGRAM = r"""
#include <gmulti/gmulti.h>

int
main (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://127.0.0.1:1/");
  g_autoptr(GError) error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT, "t");

  if (!gmulti_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return 1;
  g_print ("%s %s\n", G_OBJECT_TYPE_NAME (session), gmulti_transfer_get_uri (transfer));
  return 0;
}
"""


def main():
    meson, build = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="gmulti-install-") as destdir:
        result = subprocess.run([meson, "install", "-C", build, "--no-rebuild", "--quiet",
                                 "--destdir", destdir], capture_output=True, text=True,
                                timeout=300)
        check(result.returncode == 0, "meson install exits 0")
        if result.returncode != 0:
            print(result.stdout[-2000:], result.stderr[-2000:])
            return 1

        lib = one(destdir, "**/libgmulti-1.0.so.0")
        one(destdir, "**/include/gmulti-1.0/gmulti/gmulti.h")
        pc = one(destdir, "**/pkgconfig/gmulti-1.0.pc")
        one(destdir, "**/girepository-1.0/GMulti-1.0.typelib")
        one(destdir, "**/gir-1.0/GMulti-1.0.gir")
        one(destdir, "**/locale/de/LC_MESSAGES/gmulti-1.0.mo")
        one(destdir, "**/bin/gmulti-fetch")
        one(destdir, "**/man1/gmulti-fetch.1")
        index = one(destdir, "**/share/doc/gmulti-1.0/index.html")
        if index is not None:
            docs = os.path.dirname(index)
            for name in ["gmulti-1.0.devhelp2", "index.json", "style.css",
                         "class.Session.html", "class.Transfer.html", "overview.html",
                         "gtk-demo.png"]:
                check(os.path.exists(os.path.join(docs, name)), "reference: " + name)
            pages = glob.glob(os.path.join(docs, "*.html"))
            check(len(pages) > 100, "reference: %d pages" % len(pages))

        if lib is None or pc is None or shutil.which("pkg-config") is None:
            return 1
        # The .pc file names the real prefix: a copy points at the DESTDIR (a
        # --define-variable would move glib's prefix too).
        work = os.path.join(destdir, "program")
        os.mkdir(work)
        with open(pc, encoding="utf-8") as f:
            lines = f.read().splitlines()
        prefix = next(line.split("=", 1)[1].strip() for line in lines
                      if line.startswith("prefix="))
        with open(os.path.join(work, "gmulti-1.0.pc"), "w", encoding="utf-8") as f:
            f.write("\n".join("prefix=" + destdir + prefix if line.startswith("prefix=")
                              else line for line in lines) + "\n")
        env = dict(os.environ)
        env["PKG_CONFIG_PATH"] = os.pathsep.join(
            [work] + [p for p in os.environ.get("PKG_CONFIG_PATH", "").split(os.pathsep) if p])
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "gmulti-1.0"],
                               capture_output=True, text=True, env=env)
        check(flags.returncode == 0, "pkg-config reads gmulti-1.0.pc")
        source = os.path.join(work, "program.c")
        with open(source, "w", encoding="utf-8") as f:
            f.write(PROGRAM)
        exe = os.path.join(work, "program")
        cc = os.environ.get("CC", "cc")
        compiled = subprocess.run([cc, "-std=c11", "-Wall", "-Werror", source, "-o", exe] +
                                  flags.stdout.split(), capture_output=True, text=True)
        check(compiled.returncode == 0, "a program builds against the installed header")
        if compiled.returncode != 0:
            print(compiled.stderr[-3000:])
            return 1
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(lib))
        ran = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=30)
        check(ran.returncode == 0 and ran.stdout.strip() == "GMultiSession http://127.0.0.1:1/",
              "it runs against the installed library: %r" % ran.stdout.strip())

    print("%d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
