#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Renders the generated reference's index page in headless Chromium and checks the
picture: a PNG of the window's size, not blank (many colours, dark text on the light
page, the dark sidebar), and the page's title naming the namespace. With --save PATH the
screenshot is also copied there (docs/images/reference-index.png is made so). Skipped
(77) when Chromium is missing; tools/install-deps test installs it."""

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

import gi

WIDTH, HEIGHT = 1280, 900
failures = []


def check(condition, what):
    print("%s: %s" % ("ok" if condition else "FAILED", what))
    if not condition:
        failures.append(what)


def find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(browser, page, out, work):
    # As root Chromium needs --no-sandbox; a profile of its own keeps runs apart.
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--user-data-dir=" + os.path.join(work, "profile"),
            "--window-size=%d,%d" % (WIDTH, HEIGHT), "--screenshot=" + out,
            "file://" + os.path.abspath(page)]
    env = dict(os.environ, HOME=work)
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    check(result.returncode == 0, "chromium exits 0 (%d)" % result.returncode)
    if result.returncode != 0:
        print(result.stderr[-2000:])


def check_picture(path):
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf

    with open(path, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG")
    pixbuf = GdkPixbuf.Pixbuf.new_from_file(path)
    check((pixbuf.get_width(), pixbuf.get_height()) == (WIDTH, HEIGHT),
          "%dx%d pixels" % (pixbuf.get_width(), pixbuf.get_height()))
    data = pixbuf.get_pixels()
    stride, channels = pixbuf.get_rowstride(), pixbuf.get_n_channels()
    colours = set()
    dark_in_page = 0
    dark_in_sidebar = 0
    sampled_page = sampled_sidebar = 0
    for y in range(0, pixbuf.get_height(), 2):
        row = y * stride
        for x in range(0, pixbuf.get_width(), 2):
            i = row + x * channels
            r, g, b = data[i], data[i + 1], data[i + 2]
            colours.add((r, g, b))
            dark = r + g + b < 384
            # gi-docgen's basic theme: a dark sidebar at the left, the page at the right.
            if x < WIDTH // 5:
                sampled_sidebar += 1
                dark_in_sidebar += dark
            elif x > WIDTH // 3:
                sampled_page += 1
                dark_in_page += dark
    check(len(colours) > 50, "%d distinct colours (text is anti-aliased)" % len(colours))
    page_share = dark_in_page / max(sampled_page, 1)
    check(0.005 < page_share < 0.3, "dark text on the page: %.1f %%" % (100 * page_share))
    sidebar_share = dark_in_sidebar / max(sampled_sidebar, 1)
    check(sidebar_share > 0.5, "the dark sidebar: %.1f %%" % (100 * sidebar_share))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reference", help="the generated reference's directory")
    parser.add_argument("--save", help="copy the screenshot there")
    options = parser.parse_args()

    index = os.path.join(options.reference, "index.html")
    if not os.path.exists(index):
        print("no %s" % index)
        return 1
    browser = find_browser()
    if browser is None:
        print("SKIP: no Chromium (tools/install-deps test installs it)")
        return 77

    with open(index, encoding="utf-8") as f:
        page = f.read()
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    check(title is not None and html.unescape(title.group(1)).strip() == "GMulti \u2013 1.0",
          "the title: %r" % (title.group(1) if title else None))
    check("Many HTTP transfers at once" in page, "the library's description")

    with tempfile.TemporaryDirectory(prefix="gmulti-reference-") as work:
        shot = os.path.join(work, "index.png")
        screenshot(browser, index, shot, work)
        if os.path.exists(shot):
            check_picture(shot)
            if options.save:
                shutil.copyfile(shot, options.save)
        else:
            check(False, "a screenshot was written")

    print("%d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
