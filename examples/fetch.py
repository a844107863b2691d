#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Download many URLs at once with GMulti from Python. With no argument it serves a demo
set from a loopback server of its own. Run from the build tree with `meson devenv`."""

import os
import sys

import gi

gi.require_version("GMulti", "1.0")
from gi.repository import GLib, GMulti  # noqa: E402

urls = sys.argv[1:]
server = None
if not urls:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "tests", "bindings"))
    import loopback_server
    server = loopback_server.start()
    port = server.server_address[1]
    urls = ["http://127.0.0.1:%d/slow/%d" % (port, 100000 * (i + 1)) for i in range(8)]

loop = GLib.MainLoop()
session = GMulti.Session.new()
left = len(urls)


def on_progress(transfer):
    print("\r%-40s %6.1f%%" % (transfer.get_uri()[-40:], 100 * max(transfer.props.progress, 0)),
          end="", flush=True)


def on_finished(session, transfer, error):
    global left
    print("\r%-40s %s" % (transfer.get_uri()[-40:],
                          error.message if error else "%d bytes" % transfer.props.bytes_received))
    left -= 1
    if left == 0:
        loop.quit()


session.connect("transfer-finished", on_finished)
for url in urls:
    transfer = GMulti.Transfer.new(url)
    transfer.set_follow_redirects(True)
    transfer.connect("progress", on_progress)
    session.add(transfer)
loop.run()
if server:
    server.shutdown()
