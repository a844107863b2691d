#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Download URLs at once with GMulti from asyncio code: python3 fetch-asyncio.py URL...

asyncio runs on the GLib main loop (Debian's python3-gbulb), and the GMulti override
(bindings/python/gi/overrides/GMulti.py) makes the session's calls awaitable.
Run from the build tree with `meson devenv`."""

import asyncio
import locale
import sys

import gbulb
import gi

gi.require_version("GMulti", "1.0")
from gi.repository import GLib, GMulti  # noqa: E402


async def fetch(session, url):
    transfer = GMulti.Transfer.new(url)
    transfer.set_follow_redirects(True)
    body = await session.send_and_read_async(transfer)
    return "%s: HTTP %d, %d bytes" % (url, transfer.get_status(), body.get_size())


async def main(urls):
    session = GMulti.Session.new()
    results = await asyncio.gather(*(fetch(session, url) for url in urls),
                                   return_exceptions=True)
    for result in results:
        print(result if isinstance(result, str) else "failed: %s" % result.message)
    return 0 if all(isinstance(r, str) for r in results) else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: fetch-asyncio.py URL...")
    locale.setlocale(locale.LC_ALL, "")  # translated error messages
    gbulb.install()
    sys.exit(asyncio.run(main(sys.argv[1:])))
