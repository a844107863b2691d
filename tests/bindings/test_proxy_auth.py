#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Proxy authentication from Python through the typelib: Debian's squid (started here
on loopback) asking for Basic credentials, answered from the transfer's proxy-username
and proxy-password in a blocking perform(), and from the session's authenticate
signal (is_for_proxy) answered later from an idle callback; a refused answer as
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
USER, PASSWORD = "alice", "s3cret"


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
class ProxyAuthTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = loopback_server.start()
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.dir = tempfile.mkdtemp(prefix="gmulti-squid-")
        os.chmod(cls.dir, 0o777)
        cls.port = free_port()
        passwd = os.path.join(cls.dir, "passwd")
        digest = subprocess.run(["openssl", "passwd", "-apr1", PASSWORD], check=True,
                                capture_output=True, text=True).stdout.strip()
        with open(passwd, "w") as f:
            f.write("%s:%s\n" % (USER, digest))
        os.chmod(passwd, 0o644)
        conf = os.path.join(cls.dir, "squid.conf")
        with open(conf, "w") as f:
            f.write("http_port 127.0.0.1:%d\n" % cls.port)
            for line in ("pid_filename {d}/squid.pid", "cache_log {d}/cache.log",
                         "access_log stdio:{d}/access.log", "coredump_dir {d}",
                         "cache deny all", "cache_mem 0 MB",
                         "shutdown_lifetime 0 seconds", "visible_hostname gmulti-test",
                         "netdb_filename none", "pinger_enable off",
                         "dns_nameservers 127.0.0.1",
                         "auth_param basic program /usr/lib/squid/basic_ncsa_auth {p}",
                         "auth_param basic children 1",
                         "auth_param basic realm gmulti-test",
                         "acl authed proxy_auth REQUIRED", "http_access allow authed",
                         "http_access deny all"):
                f.write(line.format(d=cls.dir, p=passwd) + "\n")
        os.chmod(conf, 0o644)
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

    def test_properties_perform(self):
        transfer = GMulti.Transfer.new(self.base + "/bytes/16")
        transfer.props.proxy_uri = self.proxy
        transfer.props.proxy_username = USER
        transfer.props.proxy_password = PASSWORD
        self.assertEqual(transfer.get_proxy_username(), USER)
        self.assertTrue(transfer.perform(None))
        self.assertEqual(transfer.get_status(), 200)
        self.assertEqual(len(transfer.get_response_body().get_data()), 16)

        transfer = GMulti.Transfer.new(self.base + "/bytes/16")
        transfer.props.proxy_uri = self.proxy
        transfer.props.proxy_username = USER
        transfer.props.proxy_password = "wrong-pw"
        with self.assertRaises(GLib.Error) as caught:
            transfer.perform(None)
        self.assertTrue(caught.exception.matches(GMulti.error_quark(),
                                                 GMulti.Error.PROXY_AUTH_REQUIRED))
        self.assertIn(USER, caught.exception.message)

    def test_session_signal_later(self):
        session = GMulti.Session.new()
        session.props.proxy_uri = self.proxy
        asked = []

        def answer(auth):
            auth.authenticate(USER, PASSWORD)
            return GLib.SOURCE_REMOVE

        def authenticate(_session, transfer, auth, retrying):
            asked.append((auth.is_for_proxy(), auth.get_scheme_name(), auth.get_realm(),
                          auth.get_authority(), retrying))
            GLib.idle_add(answer, auth)
            return True

        session.connect("authenticate", authenticate)
        transfer = self.fetch(session, GMulti.Transfer.new(self.base + "/bytes/8"))
        self.assertIsNone(transfer.get_error())
        self.assertEqual(transfer.get_status(), 200)
        self.assertEqual(asked, [(True, "Basic", "gmulti-test",
                                  "127.0.0.1:%d" % self.port, False)])

        # Kept for the proxy: the next transfer is not asked.
        again = self.fetch(session, GMulti.Transfer.new(self.base + "/bytes/4"))
        self.assertEqual(again.get_status(), 200)
        self.assertEqual(len(asked), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
