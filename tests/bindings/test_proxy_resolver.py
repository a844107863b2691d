#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""proxy-resolver from Python: a Gio.ProxyResolver written in Python answers which
proxy to take, and transfers go through Debian's squid (started here on loopback) as
it says, past an entry that cannot be reached; the transfer's resolver wins over the
session's; a failed lookup is a GLib.Error."""

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
gi.require_version("Gio", "2.0")
gi.require_version("GMulti", "1.0")
from gi.repository import GLib, Gio, GObject, GMulti  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loopback_server  # noqa: E402

SQUID = shutil.which("squid") or "/usr/sbin/squid"


class Resolver(GObject.Object, Gio.ProxyResolver):
    """Answers @answer (a list of proxy URIs) for every URI, or fails with @error; on
    the next turn of the main loop, as a real resolver would."""

    def __init__(self, answer=None, error=None):
        super().__init__()
        self.answer = answer
        self.error = error
        self.asked = []
        self.pending = {}

    def do_is_supported(self):
        return True

    def do_lookup(self, uri, cancellable):
        raise AssertionError("gmulti never asks synchronously")

    def do_lookup_async(self, uri, cancellable, callback, user_data):
        self.asked.append(uri)
        task = Gio.Task.new(self, cancellable, callback)
        self.pending[task] = self.answer

        def answer():
            if self.error is not None:
                task.return_error(GLib.Error.new_literal(Gio.io_error_quark(), self.error,
                                                         Gio.IOErrorEnum.FAILED))
            else:
                task.return_boolean(True)
            return GLib.SOURCE_REMOVE

        GLib.idle_add(answer)

    def do_lookup_finish(self, result):
        answer = self.pending.pop(result)
        result.propagate_boolean()
        return answer


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
class ProxyResolverTests(unittest.TestCase):
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
        cls.proxy = "http://127.0.0.1:%d" % cls.port

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

    def squid_saw(self, path):
        log = os.path.join(self.dir, "access.log")
        wanted = "GET %s%s" % (self.base, path)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(log):
                with open(log) as f:
                    if wanted in f.read():
                        return True
            time.sleep(0.02)
        return False

    def test_through_squid(self):
        resolver = Resolver([self.proxy])
        session = GMulti.Session.new()
        session.props.proxy_resolver = resolver
        self.assertIs(session.get_proxy_resolver(), resolver)
        for i in range(2):
            transfer = self.fetch(session, GMulti.Transfer.new(self.base + "/bytes/%d" % i))
            self.assertIsNone(transfer.get_error())
            self.assertEqual(transfer.get_status(), 200)
            self.assertTrue(self.squid_saw("/bytes/%d" % i))
        # Once per origin, and only the origin.
        self.assertEqual(resolver.asked, [self.base + "/"])

    def test_transfer_resolver_wins(self):
        # Python holds the resolvers it hands over.
        outer = Resolver([self.proxy])
        session = GMulti.Session.new()
        session.props.proxy_resolver = outer
        direct = Resolver(["direct://"])
        transfer = GMulti.Transfer.new(self.base + "/bytes/7")
        transfer.props.proxy_resolver = direct
        self.fetch(session, transfer)
        self.assertIsNone(transfer.get_error())
        self.assertEqual(transfer.get_metrics().get_proxy_time(), 0)
        self.assertEqual(direct.asked, [self.base + "/"])
        self.assertEqual(outer.asked, [])

    def test_failover(self):
        # A closed port first: the transfer goes on through squid.
        resolver = Resolver(["http://127.0.0.1:%d" % free_port(), self.proxy])
        session = GMulti.Session.new()
        session.props.proxy_resolver = resolver
        transfer = self.fetch(session, GMulti.Transfer.new(self.base + "/bytes/9"))
        self.assertIsNone(transfer.get_error())
        self.assertEqual(transfer.get_status(), 200)
        self.assertTrue(self.squid_saw("/bytes/9"))

    def test_lookup_error(self):
        resolver = Resolver(error="no proxy today")
        session = GMulti.Session.new()
        session.set_proxy_resolver(resolver)
        transfer = self.fetch(session, GMulti.Transfer.new(self.base + "/bytes/3"))
        error = transfer.get_error()
        self.assertIsInstance(error, GLib.Error)
        self.assertTrue(error.matches(GMulti.error_quark(),
                                      GMulti.Error.PROXY_LOOKUP_FAILED))
        self.assertIn("no proxy today", error.message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
