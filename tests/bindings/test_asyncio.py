#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The GMulti override's asyncio awaitables (bindings/python/gi/overrides/GMulti.py),
with asyncio running on the GLib main loop through gbulb: the body, a stream and a
download awaited, a transfer awaited with add_and_wait, errors raised as GLib.Error,
a cancelled future that removes its transfer, the callback form left as it was, and
the clear refusal on a loop that does not run GLib."""

import asyncio
import locale
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import gbulb
import gi

gi.require_version("Gio", "2.0")
gi.require_version("GMulti", "1.0")
from gi.repository import Gio, GLib, GMulti  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loopback_server  # noqa: E402

gbulb.install()


def run(coro, timeout=10):
    """Runs @coro on the GLib-backed asyncio loop, bounded in time. gbulb gives the
    default main context only to the main thread's first loop: every test reuses it."""
    loop = asyncio.get_event_loop_policy().get_default_loop()
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


class AsyncioTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = loopback_server.start()
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.dir = tempfile.mkdtemp(prefix="gmulti-asyncio-")

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_override_loaded(self):
        self.assertTrue(hasattr(GMulti.Session, "add_and_wait"),
                        "the GMulti override was not found on PYTHONPATH")

    def test_send_many_at_once(self):
        sizes = [5000 * (i + 1) for i in range(12)]

        async def main():
            session = GMulti.Session.new()
            transfers = [GMulti.Transfer.new("%s/slow/%d" % (self.base, n)) for n in sizes]
            bodies = await asyncio.gather(*(session.send_and_read_async(t) for t in transfers))
            return transfers, bodies

        transfers, bodies = run(main())
        for t, body, n in zip(transfers, bodies, sizes):
            self.assertEqual(t.get_status(), 200)
            self.assertEqual(body.get_data(), loopback_server.pattern(n))

    def test_send_stream(self):
        async def main():
            session = GMulti.Session.new()
            t = GMulti.Transfer.new(self.base + "/bytes/70000")
            stream = await session.send_async(t, GLib.PRIORITY_DEFAULT)
            data = bytearray()
            while True:
                # The body stream is read asynchronously: bridge the GIO call by hand.
                read = asyncio.get_running_loop().create_future()
                stream.read_bytes_async(16384, GLib.PRIORITY_DEFAULT, None,
                                        lambda s, res: read.set_result(s.read_bytes_finish(res)))
                chunk = (await read).get_data()
                if not chunk:
                    break
                data += chunk
            return bytes(data)

        self.assertEqual(run(main()), loopback_server.pattern(70000))

    def test_download(self):
        path = os.path.join(self.dir, "download.bin")

        async def main():
            session = GMulti.Session.new()
            t = GMulti.Transfer.new(self.base + "/slow/300000")
            return await session.download_async(t, Gio.File.new_for_path(path))

        self.assertTrue(run(main()))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(300000))

    def test_add_and_wait(self):
        progress = []

        async def main():
            session = GMulti.Session.new()
            ok = GMulti.Transfer.new(self.base + "/slow/40000")
            ok.connect("progress", lambda t: progress.append(t.props.bytes_received))
            missing = GMulti.Transfer.new(self.base + "/status/404")
            await asyncio.gather(session.add_and_wait(ok), session.add_and_wait(missing))
            self.assertEqual(session.get_n_transfers(), 0)
            return ok, missing

        ok, missing = run(main())
        self.assertEqual(ok.get_status(), 200)
        self.assertEqual(ok.get_response_body().get_data(), loopback_server.pattern(40000))
        self.assertEqual(progress[-1], 40000)
        # An HTTP error status is an answer, not an error.
        self.assertEqual(missing.get_status(), 404)

    def test_error_raised(self):
        async def main():
            session = GMulti.Session.new()
            with self.assertRaises(GLib.Error) as caught:
                await session.send_and_read_async(GMulti.Transfer.new(self.refused_url()))
            self.assertEqual(caught.exception.domain, GLib.quark_to_string(GMulti.error_quark()))
            with self.assertRaises(GLib.Error):
                await session.add_and_wait(GMulti.Transfer.new(self.refused_url()))

        run(main())

    def refused_url(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return "http://127.0.0.1:%d/" % s.getsockname()[1]

    def test_cancel_future_removes_transfer(self):
        async def main():
            session = GMulti.Session.new()
            send = GMulti.Transfer.new(self.base + "/slow/400000")
            waited = GMulti.Transfer.new(self.base + "/slow/400000")
            tasks = [asyncio.ensure_future(session.send_and_read_async(send)),
                     asyncio.ensure_future(session.add_and_wait(waited))]
            await asyncio.sleep(0.2)
            self.assertEqual(session.get_n_transfers(), 2)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with self.assertRaises(asyncio.CancelledError):
                    await task
            await asyncio.sleep(0.1)
            self.assertEqual(session.get_n_transfers(), 0)
            return send, waited

        send, waited = run(main())
        for t in (send, waited):
            self.assertLess(t.props.bytes_received, 400000)
            self.assertEqual(t.get_state(), GMulti.TransferState.IDLE)

    def test_callback_form_unchanged(self):
        async def main():
            session = GMulti.Session.new()
            done = asyncio.get_running_loop().create_future()
            t = GMulti.Transfer.new(self.base + "/bytes/900")
            result = session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, None,
                                        lambda s, res: done.set_result(s.send_and_read_finish(res)))
            self.assertIsNone(result)
            return (await done).get_data()

        self.assertEqual(run(main()), loopback_server.pattern(900))

    def test_example(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                              "examples", "fetch-asyncio.py")
        urls = [self.base + "/slow/30000", self.base + "/bytes/77", self.refused_url()]
        run_ = subprocess.run([sys.executable, script] + urls, capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(run_.returncode, 1, run_.stderr)
        lines = run_.stdout.splitlines()
        self.assertEqual(lines[:2], [urls[0] + ": HTTP 200, 30000 bytes",
                                     urls[1] + ": HTTP 200, 77 bytes"])
        self.assertRegex(lines[2], "^failed: .*127.0.0.1")

    def test_refused_on_a_loop_without_glib(self):
        async def main():
            session = GMulti.Session.new()
            with self.assertRaisesRegex(RuntimeError, "gbulb"):
                session.send_and_read_async(GMulti.Transfer.new(self.base + "/bytes/1"))

        loop = asyncio.DefaultEventLoopPolicy().new_event_loop()
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()


class TranslationTests(unittest.TestCase):
    def test_awaited_error_translated(self):
        # What the guide tells Python programs: without setlocale() the C library's
        # gettext stays in the "C" locale. GMULTI_LOCALEDIR points at the build tree.
        os.environ["LANGUAGE"] = "de"
        locale.setlocale(locale.LC_ALL, "C.UTF-8")

        async def main():
            session = GMulti.Session.new()
            with self.assertRaises(GLib.Error) as caught:
                await session.send_and_read_async(GMulti.Transfer.new(AsyncioTests.refused_url(None)))
            return caught.exception.message

        self.assertTrue(run(main()).startswith("Verbindung zu 127.0.0.1:"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
