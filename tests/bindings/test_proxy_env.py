#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The proxy environment variables from Python, end to end through Debian's squid
(started as test_proxy.py starts it): a session made with http_proxy set and no
proxy-uri goes through squid; no_proxy sends the same request direct."""

import os
import sys
import unittest

import gi

gi.require_version("GLib", "2.0")
gi.require_version("GMulti", "1.0")
from gi.repository import GMulti  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_proxy  # noqa: E402

NAMES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
         "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")


@unittest.skipUnless(os.access(test_proxy.SQUID, os.X_OK), "squid is not installed")
class ProxyEnvTests(unittest.TestCase):
    setUpClass = classmethod(test_proxy.ProxyTests.setUpClass.__func__)
    tearDownClass = classmethod(test_proxy.ProxyTests.tearDownClass.__func__)
    fetch = test_proxy.ProxyTests.fetch
    access_log = test_proxy.ProxyTests.access_log

    def setUp(self):
        self.saved = {name: os.environ.pop(name) for name in NAMES if name in os.environ}

    def tearDown(self):
        for name in NAMES:
            os.environ.pop(name, None)
        os.environ.update(self.saved)

    def test_http_proxy_through_squid(self):
        os.environ["http_proxy"] = "http://127.0.0.1:%d" % self.port
        session = GMulti.Session.new()
        self.assertIsNone(session.get_proxy_uri())
        transfer = self.fetch(session, GMulti.Transfer.new(self.base + "/data/32"))
        self.assertIsNone(transfer.get_error())
        self.assertEqual(transfer.get_status(), 200)
        self.assertEqual(len(transfer.get_response_body().get_data()), 32)
        self.assertGreater(transfer.get_metrics().get_proxy_time(), 0)
        self.assertIn("GET %s/data/32" % self.base, self.access_log())

    def test_no_proxy_goes_direct(self):
        os.environ["http_proxy"] = "http://127.0.0.1:%d" % self.port
        os.environ["no_proxy"] = "example.com, 127.0.0.1"
        session = GMulti.Session.new()
        transfer = self.fetch(session, GMulti.Transfer.new(self.base + "/data/16"))
        self.assertIsNone(transfer.get_error())
        self.assertEqual(transfer.get_status(), 200)
        self.assertEqual(transfer.get_metrics().get_proxy_time(), 0)

    def test_upper_case_http_proxy_ignored(self):
        os.environ["HTTP_PROXY"] = "http://127.0.0.1:%d" % test_proxy.free_port()
        session = GMulti.Session.new()
        transfer = self.fetch(session, GMulti.Transfer.new(self.base + "/data/8"))
        self.assertIsNone(transfer.get_error())
        self.assertEqual(transfer.get_metrics().get_proxy_time(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
