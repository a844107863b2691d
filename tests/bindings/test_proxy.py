#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""proxy-uri from Python through the typelib: a transfer through Debian's squid (started
here on loopback), the session's setting and the transfer's, and a proxy error as
GLib.Error."""

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

SQUID = shutil.which("squid") or "/usr/sbin/squid"


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


@unittest.skipUnless(os.access(SQUID, os.X_OK), "squid is not installed")
class ProxyTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = loopback_server.start()
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.dir = tempfile.mkdtemp(prefix="gmulti-squid-")
        os.chmod(cls.dir, 0o777)
        cls.port = free_port()
        conf = os.path.join(cls.dir, "squid.conf")
        with open(conf, "w") as f:
            f.write("http_port 127.0.0.1:%d\n" % cls.port)
            for line in ("pid_filename {d}/squid.pid", "cache_log {d}/cache.log",
                         "access_log stdio:{d}/access.log", "coredump_dir {d}",
                         "cache deny all", "cache_mem 0 MB",
                         "shutdown_lifetime 0 seconds", "visible_hostname gmulti-test",
                         "netdb_filename none", "pinger_enable off",
                         "dns_nameservers 127.0.0.1", "http_access allow localhost",
                         "http_access deny all"):
                f.write(line.format(d=cls.dir) + "\n")
        cls.squid = subprocess.Popen([SQUID, "-N", "-f", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                if cls.squid.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("squid did not start (see %s)" % cls.dir)
                time.sleep(0.02)

    @classmethod
    def tearDownClass(cls):
        cls.squid.terminate()
        try:
            cls.squid.wait(10)
        except subprocess.TimeoutExpired:
            cls.squid.kill()
            cls.squid.wait()
        cls.server.shutdown()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def fetch(self, session, transfer):
        done = []
        session.connect("transfer-finished",
                        lambda s, t, e: done.append(t) if t is transfer else None)
        session.add(transfer)
        self.assertTrue(run_until(lambda: done))
        return transfer

    def access_log(self):
        path = os.path.join(self.dir, "access.log")
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    text = f.read()
                if "GET http://" in text:
                    break
            time.sleep(0.02)
        return text

    def test_through_squid(self):
        proxy = "http://127.0.0.1:%d" % self.port
        session = GMulti.Session.new()
        session.props.proxy_uri = proxy
        self.assertEqual(session.get_proxy_uri(), proxy)
        transfer = self.fetch(session, GMulti.Transfer.new(self.base + "/data/64"))
        self.assertIsNone(transfer.get_error())
        self.assertEqual(transfer.get_status(), 200)
        self.assertEqual(len(transfer.get_response_body().get_data()), 64)
        self.assertGreater(transfer.get_metrics().get_proxy_time(), 0)
        self.assertIn("GET %s/data/64" % self.base, self.access_log())

        # The transfer's own direct:// wins over the session's proxy.
        direct = GMulti.Transfer.new(self.base + "/data/8")
        direct.props.proxy_uri = "direct://"
        self.fetch(session, direct)
        self.assertIsNone(direct.get_error())
        self.assertEqual(direct.get_metrics().get_proxy_time(), 0)

    def test_proxy_error(self):
        session = GMulti.Session.new()
        transfer = GMulti.Transfer.new(self.base + "/data/8")
        transfer.set_proxy_uri("http://127.0.0.1:%d" % free_port())
        self.fetch(session, transfer)
        error = transfer.get_error()
        self.assertIsInstance(error, GLib.Error)
        self.assertTrue(error.matches(GMulti.error_quark(),
                                      GMulti.Error.PROXY_CONNECT_FAILED))


if __name__ == "__main__":
    unittest.main(verbosity=2)
