#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""socks5:// and socks5h:// proxy-uri from Python through the typelib: transfers through
Debian's danted (started here on loopback), and a SOCKS reply code as GLib.Error."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import gi

gi.require_version("GLib", "2.0")
gi.require_version("GMulti", "1.0")
from gi.repository import GLib, GMulti  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loopback_server  # noqa: E402

DANTED = shutil.which("danted") or "/usr/sbin/danted"

CONFIG = """logoutput: stderr
internal: 127.0.0.1 port = {port}
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.unprivileged: nobody
client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}
socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_until(predicate, timeout_ms=15000):
    context = GLib.MainContext.default()
    deadline = time.monotonic() + timeout_ms / 1000
    while not predicate() and time.monotonic() < deadline:
        context.iteration(False)
        time.sleep(0.001)
    return predicate()


@unittest.skipUnless(os.access(DANTED, os.X_OK), "danted is not installed")
class SocksTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = loopback_server.start()
        cls.origin_port = cls.server.server_address[1]
        cls.dir = tempfile.mkdtemp(prefix="gmulti-danted-")
        cls.port = free_port()
        conf = os.path.join(cls.dir, "danted.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(port=cls.port))
        cls.danted = subprocess.Popen([DANTED, "-f", conf, "-N", "1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                if cls.danted.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("danted did not start")
                time.sleep(0.02)

    @classmethod
    def tearDownClass(cls):
        cls.danted.terminate()
        try:
            cls.danted.wait(10)
        except subprocess.TimeoutExpired:
            cls.danted.kill()
            cls.danted.wait()
        cls.server.shutdown()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def fetch(self, session, transfer):
        done = []
        session.connect("transfer-finished",
                        lambda s, t, e: done.append(t) if t is transfer else None)
        session.add(transfer)
        self.assertTrue(run_until(lambda: done))
        return transfer

    def test_through_danted(self):
        for proxy, host in (("socks5://127.0.0.1:%d", "127.0.0.1"),
                            ("socks5h://127.0.0.1:%d", "localhost")):
            session = GMulti.Session.new()
            session.props.proxy_uri = proxy % self.port
            uri = "http://%s:%d/data/64" % (host, self.origin_port)
            transfer = self.fetch(session, GMulti.Transfer.new(uri))
            self.assertIsNone(transfer.get_error())
            self.assertEqual(transfer.get_status(), 200)
            self.assertEqual(len(transfer.get_response_body().get_data()), 64)

    def test_refused(self):
        session = GMulti.Session.new()
        transfer = GMulti.Transfer.new("http://127.0.0.1:%d/" % free_port())
        transfer.set_proxy_uri("socks5://127.0.0.1:%d" % self.port)
        self.fetch(session, transfer)
        error = transfer.get_error()
        self.assertIsInstance(error, GLib.Error)
        self.assertTrue(error.matches(GMulti.error_quark(),
                                      GMulti.Error.PROXY_SOCKS_FAILED))
        self.assertIn("(5)", error.message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
