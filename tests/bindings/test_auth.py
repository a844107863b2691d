#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Logging in from Python: a form POST whose session cookie the jar keeps for a page
only a logged-in user sees (examples/login.py run as users run it), HTTP Basic
answered from the authenticate signal, the session sending the credentials at once
after a login, and a wrong password as GLib.Error."""

import os
import subprocess
import sys
import unittest

import gi

gi.require_version("GLib", "2.0")
gi.require_version("GMulti", "1.0")
from gi.repository import GLib, GMulti  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auth_site  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                       "login.py")


class AuthTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = auth_site.start()
        cls.base = "http://127.0.0.1:%d" % cls.site.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.site.shutdown()

    def run_all(self, session, transfers):
        loop = GLib.MainLoop()
        left = [len(transfers)]

        def finished(_session, _transfer, _error):
            left[0] -= 1
            if left[0] == 0:
                loop.quit()

        handler = session.connect("transfer-finished", finished)
        timeout = GLib.timeout_add(10000, loop.quit)
        for transfer in transfers:
            session.add(transfer)
        loop.run()
        GLib.source_remove(timeout)
        session.disconnect(handler)
        self.assertEqual(left[0], 0)

    def test_form_login_example(self):
        result = subprocess.run([sys.executable, EXAMPLE, self.base, auth_site.USER,
                                 auth_site.PASSWORD], capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(),
                         ["200 welcome", "", "200 hello alice", "", "200 basic hello alice"])

    def test_form_login_in_session(self):
        session = GMulti.Session.new()
        session.props.cookie_jar = GMulti.CookieJar.new()
        login = GMulti.Transfer.new(self.base + "/login")
        login.add_request_header("Content-Type", "application/x-www-form-urlencoded")
        login.set_request_body(GLib.Bytes.new(b"user=alice&password=wonderland"))
        self.run_all(session, [login])
        self.assertEqual(login.props.status, 200)
        account = GMulti.Transfer.new(self.base + "/account")
        self.run_all(session, [account])
        self.assertEqual(account.get_response_body().get_data(), b"hello alice\n")

    def test_signal_and_cache(self):
        session = GMulti.Session.new()
        asked = []

        def authenticate(transfer, auth, retrying):
            asked.append((auth.get_scheme_name(), auth.get_realm(), retrying))
            auth.authenticate(auth_site.USER, auth_site.PASSWORD)
            return True

        before = self.site.challenges
        first = GMulti.Transfer.new(self.base + "/basic/one")
        first.props.allow_cleartext_auth = True
        first.connect("authenticate", authenticate)
        self.run_all(session, [first])
        self.assertEqual(first.props.status, 200)
        self.assertEqual(asked, [("Basic", "site", False)])
        # Later requests in the same space: the session sends the credentials at once.
        later = [GMulti.Transfer.new(self.base + "/basic/%d" % i) for i in range(3)]
        for transfer in later:
            transfer.props.allow_cleartext_auth = True
        self.run_all(session, later)
        self.assertEqual([t.props.status for t in later], [200, 200, 200])
        self.assertEqual(self.site.challenges - before, 1)

    def test_session_signal(self):
        # One handler on the session answers for every transfer whose own handlers
        # did not.
        session = GMulti.Session.new()
        asked = []

        def authenticate(_session, transfer, auth, retrying):
            asked.append((transfer.props.uri, auth.get_scheme_name(), retrying))
            auth.authenticate(auth_site.USER, auth_site.PASSWORD)
            return True

        session.connect("authenticate", authenticate)
        transfer = GMulti.Transfer.new(self.base + "/basic/session")
        transfer.props.allow_cleartext_auth = True
        self.run_all(session, [transfer])
        self.assertEqual(transfer.props.status, 200)
        self.assertEqual(asked, [(self.base + "/basic/session", "Basic", False)])

    def test_wrong_password(self):
        transfer = GMulti.Transfer.new(self.base + "/basic/")
        transfer.props.username = auth_site.USER
        transfer.props.password = "not it"
        transfer.props.allow_cleartext_auth = True
        with self.assertRaises(GLib.Error) as raised:
            transfer.perform(None)
        self.assertTrue(raised.exception.matches(GMulti.error_quark(),
                                                 GMulti.Error.AUTH_FAILED))


if __name__ == "__main__":
    unittest.main()
