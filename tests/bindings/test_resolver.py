#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""resolver from Python: a Gio.Resolver written in Python answers the session's name
lookups, so a transfer to a made-up name reaches the loopback server; a lookup it
fails is a GLib.Error with GMulti.Error.RESOLVE_FAILED and its message."""

import os
import sys
import time
import unittest

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("GMulti", "1.0")
from gi.repository import GLib, Gio, GMulti  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loopback_server  # noqa: E402


class Resolver(Gio.Resolver):
    """Answers 127.0.0.1 for every name, or fails with @error; on the next turn of the
    main loop, as a real resolver would."""

    def __init__(self, error=None):
        super().__init__()
        self.error = error
        self.asked = []

    def do_lookup_by_name(self, hostname, cancellable):
        raise AssertionError("gmulti never looks a name up synchronously")

    def do_lookup_by_name_async(self, hostname, cancellable, callback, user_data):
        self.asked.append(hostname)
        task = Gio.Task.new(self, cancellable, callback)

        def answer():
            if self.error is not None:
                task.return_error(GLib.Error.new_literal(Gio.resolver_error_quark(),
                                                         self.error,
                                                         Gio.ResolverError.NOT_FOUND))
            else:
                task.return_boolean(True)
            return GLib.SOURCE_REMOVE

        GLib.idle_add(answer)

    def do_lookup_by_name_finish(self, result):
        result.propagate_boolean()
        return [Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4)]


def run_until(predicate, timeout_ms=15000):
    context = GLib.MainContext.default()
    deadline = time.monotonic() + timeout_ms / 1000
    while not predicate() and time.monotonic() < deadline:
        context.iteration(False)
        time.sleep(0.001)
    return predicate()


class ResolverTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = loopback_server.start()
        cls.port = cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def fetch(self, session, transfer):
        done = []
        session.connect("transfer-finished",
                        lambda s, t, e: done.append(t) if t is transfer else None)
        session.add(transfer)
        self.assertTrue(run_until(lambda: done))
        return transfer

    def test_made_up_name(self):
        resolver = Resolver()
        session = GMulti.Session.new()
        session.props.resolver = resolver
        self.assertIs(session.get_resolver(), resolver)
        transfer = self.fetch(session, GMulti.Transfer.new(
            "http://made-up.test:%d/bytes/5" % self.port))
        self.assertIsNone(transfer.get_error())
        self.assertEqual(transfer.get_status(), 200)
        self.assertEqual(resolver.asked, ["made-up.test"])

    def test_lookup_error(self):
        resolver = Resolver(error="no such name in Python")
        session = GMulti.Session(resolver=resolver)
        transfer = self.fetch(session, GMulti.Transfer.new(
            "http://nowhere.test:%d/bytes/5" % self.port))
        error = transfer.get_error()
        self.assertIsInstance(error, GLib.Error)
        self.assertTrue(error.matches(GMulti.error_quark(), GMulti.Error.RESOLVE_FAILED))
        self.assertIn("no such name in Python", error.message)
        self.assertIn("nowhere.test", error.message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
