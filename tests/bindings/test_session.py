#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GMultiSession from Python through the typelib: concurrent fetches with signals, the
async call with cancellation, removal inside a handler, errors as GLib.Error, and a
translated error message; a server certificate accepted from a handler."""

import locale
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
from gi.repository import Gio, GLib, GMulti  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loopback_server  # noqa: E402


def run_until(loop, predicate, timeout_ms=10000):
    timed_out = []

    def on_timeout():
        timed_out.append(True)
        loop.quit()
        return GLib.SOURCE_REMOVE

    source = GLib.timeout_add(timeout_ms, on_timeout)
    while not predicate() and not timed_out:
        loop.get_context().iteration(True)
    if not timed_out:
        GLib.source_remove(source)
    return not timed_out


class SessionTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = loopback_server.start()
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.cert_dir = loopback_server.make_certs()
        cls.tls_server = loopback_server.start_tls(cls.cert_dir)
        cls.tls_base = "https://localhost:%d" % cls.tls_server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.tls_server.shutdown()
        shutil.rmtree(cls.cert_dir, ignore_errors=True)

    def setUp(self):
        self.loop = GLib.MainLoop()
        self.session = GMulti.Session.new()

    def fetch(self, transfer):
        finished = []
        self.session.connect("transfer-finished",
                             lambda s, t, e: finished.append(t) if t is transfer else None)
        self.session.add(transfer)
        self.assertTrue(run_until(self.loop, lambda: finished))
        self.assertIsNone(transfer.get_error())
        return transfer

    def test_cookie_login(self):
        jar = GMulti.CookieJar.new()
        changes = []
        jar.connect("changed", lambda j, old, new: changes.append((old, new)))
        self.session.props.cookie_jar = jar
        self.assertEqual(self.fetch(GMulti.Transfer.new(self.base + "/private")).get_status(),
                         401)
        login = GMulti.Transfer.new(self.base + "/login")
        login.set_request_body(GLib.Bytes.new(b"user=alice&password=secret"))
        self.assertEqual(self.fetch(login).get_status(), 200)
        cookies = jar.list(None)
        self.assertEqual([(c.get_name(), c.get_value(), c.get_http_only()) for c in cookies],
                         [("session", "s3cr3t", True)])
        self.assertEqual(len(changes), 1)
        self.assertIsNone(changes[0][0])
        page = self.fetch(GMulti.Transfer.new(self.base + "/private"))
        self.assertEqual(page.get_status(), 200)
        self.assertEqual(page.get_response_body().get_data(), b"welcome alice")
        # Deleted from Python: the page is closed again.
        self.assertTrue(jar.delete(cookies[0]))
        self.assertEqual(self.fetch(GMulti.Transfer.new(self.base + "/private")).get_status(),
                         401)
        added = GMulti.Cookie.new("session", "s3cr3t", "127.0.0.1", "/", 0, False, False,
                                  GMulti.CookieSameSite.UNSET, True)
        jar.add(added)
        self.assertEqual(self.fetch(GMulti.Transfer.new(self.base + "/private")).get_status(),
                         200)
        jar.clear()
        self.assertEqual(len(jar.list(None)), 0)
        self.session.props.cookie_jar = None

    def test_accept_certificate(self):
        # Signed by ca.pem, verified against another CA: refused, then accepted.
        self.session.props.tls_ca_file = os.path.join(self.cert_dir, "client-ca.pem")
        expected = Gio.TlsCertificate.new_from_file(os.path.join(self.cert_dir, "server.pem"))
        asked = []

        def on_accept(transfer, peer, errors, answer):
            asked.append(errors)
            self.assertEqual(bytes(peer.props.certificate), bytes(expected.props.certificate))
            return answer

        finished = []
        self.session.connect("transfer-finished", lambda s, t, e: finished.append(t))
        refused = GMulti.Transfer.new(self.tls_base + "/bytes/10")
        refused.connect("accept-certificate", on_accept, False)
        self.session.add(refused)
        self.assertTrue(run_until(self.loop, lambda: refused in finished))
        self.assertTrue(refused.get_error().matches(GMulti.error_quark(),
                                                    GMulti.Error.TLS_UNTRUSTED))
        self.assertEqual(refused.get_tls_peer_certificate_errors(),
                         Gio.TlsCertificateFlags.UNKNOWN_CA)

        accepted = GMulti.Transfer.new(self.tls_base + "/bytes/10")
        accepted.connect("accept-certificate", on_accept, True)
        self.fetch(accepted)
        self.assertEqual(accepted.get_status(), 200)
        self.assertEqual(asked, [Gio.TlsCertificateFlags.UNKNOWN_CA] * 2)
        peer = accepted.get_tls_peer_certificate()
        self.assertIsInstance(peer, Gio.TlsCertificate)
        self.assertTrue(peer.is_same(expected))

    def test_hsts_upgrade(self):
        enforcer = GMulti.HstsEnforcer.new()
        changes = []
        enforcer.connect("changed", lambda e, old, new: changes.append((old, new)))
        self.session.props.hsts_enforcer = enforcer
        self.session.props.tls_ca_file = os.path.join(self.cert_dir, "ca.pem")
        # A plain http response teaches nothing.
        self.fetch(GMulti.Transfer.new(self.base + "/hsts"))
        self.assertEqual(enforcer.list(), [])
        self.fetch(GMulti.Transfer.new(self.tls_base + "/hsts"))
        self.assertEqual([(p.get_host(), p.get_include_subdomains()) for p in enforcer.list()],
                         [("localhost", True)])
        self.assertEqual(len(changes), 1)
        self.assertIsNone(changes[0][0])
        self.assertEqual(changes[0][1].get_host(), "localhost")
        self.assertTrue(enforcer.has_valid_policy("www.localhost"))
        port = self.tls_server.server_address[1]
        upgraded = self.fetch(GMulti.Transfer.new("http://localhost:%d/hsts" % port))
        self.assertEqual(upgraded.get_effective_uri(), "https://localhost:%d/hsts" % port)
        self.assertEqual(upgraded.get_response_body().get_data(), b"scheme=https")
        self.session.props.hsts_enforcer = None
        self.assertIsNone(self.session.get_hsts_enforcer())

    def test_many_concurrent_fetches(self):
        sizes = [1000 * (i + 1) for i in range(40)]
        transfers, finished, data_bytes = [], [], {}

        def on_finished(session, transfer, error):
            finished.append((transfer, error))

        def on_data(transfer, chunk):
            data_bytes[transfer] = data_bytes.get(transfer, 0) + chunk.get_size()

        self.session.connect("transfer-finished", on_finished)
        for size in sizes:
            t = GMulti.Transfer.new("%s/bytes/%d" % (self.base, size))
            t.connect("data", on_data)
            self.session.add(t)
            transfers.append(t)
        self.assertTrue(run_until(self.loop, lambda: len(finished) == len(sizes)))
        for t, size in zip(transfers, sizes):
            self.assertIsNone(t.get_error())
            self.assertEqual(t.get_status(), 200)
            self.assertEqual(t.get_response_body().get_data(),
                             loopback_server.pattern(size))
            self.assertEqual(data_bytes[t], size)
            self.assertEqual(t.props.bytes_received, size)
        self.assertTrue(all(error is None for _, error in finished))

    def test_unix_fd_main_loop_source(self):
        # The construct-only property from Python, and transfers on that source.
        session = GMulti.Session(main_loop_source=GMulti.MainLoopSource.UNIX_FD)
        self.assertEqual(session.props.main_loop_source, GMulti.MainLoopSource.UNIX_FD)
        self.assertEqual(session.get_main_loop_source(), GMulti.MainLoopSource.UNIX_FD)
        self.assertNotEqual(self.session.props.main_loop_source,
                            GMulti.MainLoopSource.AUTO)
        finished = []
        session.connect("transfer-finished", lambda s, t, e: finished.append(e))
        for size in (10, 20000, 300000):
            session.add(GMulti.Transfer.new("%s/bytes/%d" % (self.base, size)))
        self.assertTrue(run_until(self.loop, lambda: len(finished) == 3))
        self.assertTrue(all(error is None for error in finished))

    def test_output_stream_to_file(self):
        size = 3 * 1024 * 1024 + 7
        finished = []
        path = os.path.join(self.cert_dir, "download.bin")
        gfile = Gio.File.new_for_path(path)
        stream = gfile.replace(None, False, Gio.FileCreateFlags.NONE, None)

        t = GMulti.Transfer.new("%s/bytes/%d" % (self.base, size))
        t.props.output_stream = stream
        self.assertIs(t.get_output_stream(), stream)
        self.session.connect("transfer-finished",
                             lambda session, transfer, error: finished.append(error))
        self.session.add(t)
        self.assertTrue(run_until(self.loop, lambda: finished))
        self.assertIsNone(finished[0])
        self.assertEqual(t.props.bytes_received, size)
        stream.close(None)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(size))

    def test_send_async(self):
        result = {}

        def done(session, res):
            result["body"] = session.send_and_read_finish(res)

        t = GMulti.Transfer.new(self.base + "/bytes/5000")
        self.session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, None, done)
        self.assertTrue(run_until(self.loop, lambda: "body" in result))
        self.assertEqual(result["body"].get_data(), loopback_server.pattern(5000))

    def test_send_async_cancelled(self):
        result = {}
        cancellable = Gio.Cancellable()

        def done(session, res):
            try:
                session.send_and_read_finish(res)
                result["error"] = None
            except GLib.Error as error:
                result["error"] = error

        t = GMulti.Transfer.new(self.base + "/slow/200000")
        t.connect("data", lambda *args: cancellable.cancel())
        self.session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, cancellable, done)
        self.assertTrue(run_until(self.loop, lambda: "error" in result))
        self.assertIsNotNone(result["error"])
        self.assertTrue(result["error"].matches(Gio.io_error_quark(),
                                                Gio.IOErrorEnum.CANCELLED))
        self.assertLess(t.props.bytes_received, 200000)

    def test_remove_inside_handler(self):
        finished, late = [], []
        victim = GMulti.Transfer.new(self.base + "/slow/100000")
        others = [GMulti.Transfer.new(self.base + "/bytes/3000") for _ in range(3)]
        removed = []

        def on_data(transfer, chunk):
            if removed:
                late.append(chunk)
                return
            self.session.remove(transfer)
            removed.append(True)

        victim.connect("data", on_data)
        victim.connect("finished", lambda *args: late.append("finished"))
        self.session.connect("transfer-finished",
                             lambda s, t, e: finished.append(t))
        for t in [victim] + others:
            self.session.add(t)
        self.assertTrue(run_until(self.loop, lambda: len(finished) == 3))
        # Give the slow server time to send more: nothing may reach the handler.
        run_until(self.loop, lambda: False, timeout_ms=300)
        self.assertEqual(late, [])
        self.assertNotIn(victim, finished)
        for t in others:
            self.assertEqual(t.get_response_body().get_data(),
                             loopback_server.pattern(3000))

    def test_error_is_glib_error(self):
        result = {}

        def done(session, res):
            try:
                session.send_and_read_finish(res)
            except GLib.Error as error:
                result["error"] = error

        t = GMulti.Transfer.new("http://127.0.0.1:1/")
        self.session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, None, done)
        self.assertTrue(run_until(self.loop, lambda: "error" in result))
        error = result["error"]
        self.assertEqual(error.domain, GLib.quark_to_string(GMulti.error_quark()))
        self.assertEqual(error.code, GMulti.Error.CONNECT_FAILED)

        # In GIO's terms. PyGObject rebuilt the caught error from its domain and code,
        # so only the code's own equivalent matches it; the transfer's keeps the errno.
        io = Gio.io_error_quark()
        self.assertTrue(GMulti.error_matches(error, io, Gio.IOErrorEnum.FAILED))
        self.assertFalse(GMulti.error_matches(error, io, Gio.IOErrorEnum.CONNECTION_REFUSED))
        gio_error = t.get_gio_error()
        self.assertEqual(gio_error.domain, GLib.quark_to_string(io))
        self.assertTrue(gio_error.matches(io, Gio.IOErrorEnum.CONNECTION_REFUSED))
        self.assertEqual(gio_error.message, error.message)

    def test_https_fetch(self):
        result = {}

        def done(session, res):
            try:
                result["body"] = session.send_and_read_finish(res)
            except GLib.Error as error:
                result["error"] = error

        self.session.props.tls_ca_file = os.path.join(self.cert_dir, "ca.pem")
        t = GMulti.Transfer.new(self.tls_base + "/bytes/70000")
        self.session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, None, done)
        self.assertTrue(run_until(self.loop, lambda: result))
        self.assertNotIn("error", result)
        self.assertEqual(result["body"].get_data(), loopback_server.pattern(70000))
        self.assertGreater(t.get_metrics().get_tls_time(), 0)

    def test_https_untrusted(self):
        result = {}

        def done(session, res):
            try:
                session.send_and_read_finish(res)
            except GLib.Error as error:
                result["error"] = error

        t = GMulti.Transfer.new(self.tls_base + "/bytes/10")
        self.session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, None, done)
        self.assertTrue(run_until(self.loop, lambda: result))
        self.assertEqual(result["error"].code, GMulti.Error.TLS_UNTRUSTED)

    def test_gzip_decoded(self):
        finished = []
        t = GMulti.Transfer.new("%s/gzip/%d" % (self.base, 200000))
        self.session.connect("transfer-finished",
                             lambda session, transfer, error: finished.append(error))
        self.assertTrue(self.session.props.decode_content)
        self.session.add(t)
        self.assertTrue(run_until(self.loop, lambda: finished))
        self.assertIsNone(finished[0])
        self.assertEqual(t.get_response_headers().get_one("Content-Encoding"), "gzip")
        self.assertTrue(t.get_content_decoded())
        self.assertEqual(t.get_response_body().get_data(), loopback_server.pattern(200000))
        self.assertEqual(t.props.bytes_received, 200000)
        self.assertLess(t.get_wire_bytes_received(), 200000)

    def test_unix_socket(self):
        path = os.path.join(self.cert_dir, "py.sock")
        server = loopback_server.start_unix(path)
        try:
            finished = []
            t = GMulti.Transfer.new("http://localhost/bytes/5000")
            t.props.unix_socket_path = path
            self.session.connect("transfer-finished",
                                 lambda session, transfer, error: finished.append(error))
            self.session.add(t)
            self.assertTrue(run_until(self.loop, lambda: finished))
            self.assertIsNone(finished[0])
            self.assertEqual(t.get_response_body().get_data(), loopback_server.pattern(5000))
        finally:
            server.shutdown()
            server.server_close()
            os.unlink(path)

    def test_invalid_header_refused(self):
        t = GMulti.Transfer.new(self.base + "/bytes/1")
        with self.assertRaises(GLib.Error) as caught:
            t.add_request_header("X-Bad", "a\r\nInjected: yes")
        self.assertEqual(caught.exception.code, GMulti.Error.INVALID_HEADER)

    def test_http_version_and_streams(self):
        v11 = GMulti.HttpVersion.HTTP_1_1
        v2 = GMulti.HttpVersion.HTTP_2
        prior = GMulti.HttpVersion.HTTP_2_PRIOR_KNOWLEDGE
        self.assertEqual([int(v) for v in (GMulti.HttpVersion.AUTO, v11, v2, prior)],
                         [0, 1, 2, 3])
        self.assertEqual(v2.value_nick, "http-2")
        s = self.session
        self.assertEqual(s.props.http_version, GMulti.HttpVersion.AUTO)
        self.assertEqual(s.get_max_streams_per_connection(), 100)
        notified = []
        s.connect("notify::http-version", lambda *a: notified.append("v"))
        s.connect("notify::max-streams-per-connection", lambda *a: notified.append("m"))
        s.props.http_version = v2
        s.set_max_streams_per_connection(10)
        self.assertEqual(s.get_http_version(), v2)
        self.assertIsInstance(s.props.http_version, GMulti.HttpVersion)
        self.assertEqual(s.props.max_streams_per_connection, 10)
        s.set_http_version(v11)
        self.assertEqual(s.props.http_version, v11)
        self.assertEqual(notified, ["v", "m", "v"])
        # The range and default, as the typelib and GObject report them.
        spec = GMulti.Session.find_property("max-streams-per-connection")
        self.assertEqual((spec.minimum, spec.maximum, spec.default_value), (1, 1000, 100))

        # A transfer over HTTP/1.1 with the session's version set to it.
        result = {}

        def done(session, res):
            result["body"] = session.send_and_read_finish(res)

        t = GMulti.Transfer.new(self.base + "/bytes/2000")
        s.send_and_read_async(t, GLib.PRIORITY_DEFAULT, None, done)
        self.assertTrue(run_until(self.loop, lambda: result))
        self.assertEqual(result["body"].get_data(), loopback_server.pattern(2000))


class Http2Tests(unittest.TestCase):
    """Over HTTP/2 through the typelib: nghttpd with prior knowledge, cleartext."""

    @classmethod
    def setUpClass(cls):
        cls.docroot = tempfile.mkdtemp(prefix="gmulti-h2-")
        for size in (10, 70000):
            with open(os.path.join(cls.docroot, "b%d" % size), "wb") as f:
                f.write(loopback_server.pattern(size))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        cls.server = subprocess.Popen(["/usr/sbin/nghttpd", "-a", "127.0.0.1", "-d",
                                       cls.docroot, "--no-tls", str(port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.base = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(10)
        shutil.rmtree(cls.docroot, ignore_errors=True)

    def test_prior_knowledge(self):
        loop = GLib.MainLoop()
        session = GMulti.Session.new()
        session.props.http_version = GMulti.HttpVersion.HTTP_2_PRIOR_KNOWLEDGE
        finished = []
        session.connect("transfer-finished", lambda s, t, e: finished.append(e))
        transfers = [GMulti.Transfer.new("%s/b%d" % (self.base, size))
                     for size in (10, 70000, 70000)]
        for t in transfers:
            session.add(t)
        self.assertTrue(run_until(loop, lambda: len(finished) == len(transfers)))
        self.assertTrue(all(error is None for error in finished))
        for t, size in zip(transfers, (10, 70000, 70000)):
            self.assertEqual(t.get_http_version_used(), GMulti.HttpVersion.HTTP_2)
            self.assertEqual(t.get_status(), 200)
            self.assertEqual(t.get_response_body().get_data(), loopback_server.pattern(size))
        # Multiplexed: one connection carried them all.
        ids = {t.get_metrics().get_connection_id() for t in transfers}
        self.assertEqual(len(ids), 1)


class TranslationTests(unittest.TestCase):
    def test_german_message(self):
        # GMULTI_LOCALEDIR (set by the test runner) points at the build tree's catalogues.
        os.environ["LANGUAGE"] = "de"
        locale.setlocale(locale.LC_ALL, "C.UTF-8")
        self.assertEqual(GMulti.engine_result_to_string(GMulti.EngineResult.BAD_ARGUMENT),
                         "Ungültiges Argument")
        t = GMulti.Transfer.new("http://127.0.0.1/")
        with self.assertRaises(GLib.Error) as caught:
            t.set_method("BAD METHOD")
        self.assertEqual(caught.exception.message,
                         "Die Anfragemethode ist kein gültiges Token")
        self.assertEqual(caught.exception.code, GMulti.Error.INVALID_HEADER)


if __name__ == "__main__":
    unittest.main(verbosity=2)
