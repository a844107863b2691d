#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every callback type of the typelib, called for real from Python: the request body
function (an upload, chunked and with a known length), the write function, the headers
foreach function, the engine's socket and timer functions, and the GAsyncReadyCallback
of each async call. Each function set with a destroy notify must be released once it
is replaced or its owner is freed."""

import gc
import os
import shutil
import sys
import tempfile
import unittest
import weakref

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("GMulti", "1.0")
from gi.repository import Gio, GLib, GMulti  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loopback_server  # noqa: E402


def upload_pattern(n):
    return bytes((i * 7 + 3) % 256 for i in range(n))


class Callable:
    """A function object a weak reference can watch: PyGObject holds it (and drops
    it) exactly as the library's destroy notify says."""

    def __init__(self, func):
        self.func = func

    def __call__(self, *args):
        return self.func(*args)


class CallbackTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = loopback_server.start()
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def setUp(self):
        self.context = GLib.MainContext.default()

    def run_until(self, predicate, timeout_ms=10000):
        deadline = GLib.get_monotonic_time() + timeout_ms * 1000
        ticker = GLib.timeout_add(20, lambda: GLib.SOURCE_CONTINUE)
        try:
            while not predicate():
                self.assertLess(GLib.get_monotonic_time(), deadline, "timed out")
                self.context.iteration(True)
        finally:
            GLib.source_remove(ticker)

    def perform(self, transfer):
        session = GMulti.Session.new()
        finished = []
        session.connect("transfer-finished", lambda s, t, e: finished.append(e))
        session.add(transfer)
        self.run_until(lambda: finished)
        return finished[0]

    def assert_released(self, ref):
        gc.collect()
        self.assertIsNone(ref(), "the callback was not released")

    # GMultiReadBytesFunc, seen as GMulti.Transfer.set_request_body_func

    def upload(self, length, piece):
        body = upload_pattern(300000)
        sent = [0]
        max_lengths = []

        def read(transfer, max_length, *user_data):
            max_lengths.append(max_length)
            chunk = body[sent[0]:sent[0] + piece]
            sent[0] += len(chunk)
            return GLib.Bytes.new(chunk)

        t = GMulti.Transfer.new(self.base + "/upload")
        t.set_method("PUT")
        func = Callable(read)
        ref = weakref.ref(func)
        t.set_request_body_func(func, len(body) if length else -1)
        del func
        gc.collect()
        self.assertIsNotNone(ref())
        self.assertIsNone(self.perform(t))
        self.assertEqual(t.get_status(), 200)
        headers = t.get_response_headers()
        self.assertEqual(headers.get_one("X-Upload-Framing"),
                         "length" if length else "chunked")
        self.assertEqual(headers.get_one("X-Upload-Length"), str(len(body)))
        self.assertEqual(t.get_response_body().get_data(), body)
        self.assertEqual(t.props.bytes_sent, len(body))
        self.assertTrue(all(n > 0 for n in max_lengths))
        t.set_request_body_func(None, -1)
        self.assert_released(ref)
        return max_lengths

    def test_upload_chunked(self):
        # Pieces longer than the transfer takes at once: the rest is kept for it.
        max_lengths = self.upload(length=False, piece=100000)
        self.assertLess(max(max_lengths), 100000)

    def test_upload_known_length(self):
        self.upload(length=True, piece=7000)

    def test_upload_errors(self):
        def raises(transfer, max_length, *user_data):
            raise GLib.Error.new_literal(Gio.io_error_quark(), "refused by the test",
                                         Gio.IOErrorEnum.PERMISSION_DENIED)

        t = GMulti.Transfer.new(self.base + "/upload")
        t.set_method("POST")
        t.set_request_body_func(raises, -1)
        error = self.perform(t)
        self.assertTrue(error.matches(Gio.io_error_quark(),
                                      Gio.IOErrorEnum.PERMISSION_DENIED))

        # A function that returns nothing aborts; it never ends the body silently.
        t = GMulti.Transfer.new(self.base + "/upload")
        t.set_method("POST")
        t.set_request_body_func(lambda *args: None, -1)
        error = self.perform(t)
        self.assertTrue(error.matches(GMulti.error_quark(),
                                      GMulti.Error.CALLBACK_ABORTED))

        # A body shorter than the length announced.
        t = GMulti.Transfer.new(self.base + "/upload")
        t.set_method("POST")
        t.set_request_body_func(lambda *args: GLib.Bytes.new(b""), 10)
        error = self.perform(t)
        self.assertTrue(error.matches(GMulti.error_quark(),
                                      GMulti.Error.CALLBACK_ABORTED))

    def test_upload_func_released_with_transfer(self):
        t = GMulti.Transfer.new(self.base + "/upload")
        func = Callable(lambda *args: GLib.Bytes.new(b""))
        ref = weakref.ref(func)
        t.set_request_body_func(func, -1)
        del func, t
        self.assert_released(ref)

    # GMultiWriteFunc

    def test_write_func(self):
        size = 200000
        received = bytearray()
        calls = []

        def write(transfer, data, *user_data):
            calls.append(transfer)
            received.extend(data)
            return True

        t = GMulti.Transfer.new("%s/bytes/%d" % (self.base, size))
        func = Callable(write)
        ref = weakref.ref(func)
        t.set_write_func(func)
        del func
        self.assertIsNone(self.perform(t))
        self.assertEqual(bytes(received), loopback_server.pattern(size))
        self.assertGreater(len(calls), 1)
        self.assertTrue(all(c is t for c in calls))
        self.assertIsNone(t.get_response_body())
        # Replacing the function releases the old one.
        t.set_write_func(lambda *args: True)
        self.assert_released(ref)

    def test_write_func_aborts(self):
        t = GMulti.Transfer.new(self.base + "/bytes/100000")
        t.set_write_func(lambda *args: False)
        error = self.perform(t)
        self.assertTrue(error.matches(GMulti.error_quark(), GMulti.Error.CALLBACK_ABORTED))

    # GMultiHeadersForeachFunc

    def test_headers_foreach(self):
        headers = GMulti.Headers.new()
        headers.append("Accept", "*/*")
        headers.append("X-One", "1")
        headers.append("X-Two", "2")
        seen = []

        def collect(name, value, *user_data):
            seen.append((name, value))
            return True

        headers.foreach(collect)
        self.assertEqual(seen, [("Accept", "*/*"), ("X-One", "1"), ("X-Two", "2")])

        # Returning False stops the walk.
        seen.clear()

        def stop(name, value, *user_data):
            seen.append((name, value))
            return False

        headers.foreach(stop)
        self.assertEqual(seen, [("Accept", "*/*")])

        t = GMulti.Transfer.new(self.base + "/bytes/10")
        self.assertIsNone(self.perform(t))
        seen.clear()
        t.get_response_headers().foreach(collect)
        self.assertIn(("Content-Length", "10"), seen)

    # GMultiSocketFunc and GMultiTimerFunc: an engine driven by a GLib main loop

    def test_engine_socket_and_timer_funcs(self):
        engine = GMulti.Engine.new()
        watches = {}
        socket_calls = []
        timer_calls = []
        timer = [0]

        def on_ready(fd, condition):
            events = GMulti.Event(0)
            if condition & GLib.IOCondition.IN:
                events |= GMulti.Event.IN
            if condition & GLib.IOCondition.OUT:
                events |= GMulti.Event.OUT
            if condition & (GLib.IOCondition.ERR | GLib.IOCondition.HUP):
                events |= GMulti.Event.ERROR
            result, running = engine.socket_action(fd, events)
            self.assertEqual(result, GMulti.EngineResult.OK)
            return GLib.SOURCE_CONTINUE

        def socket_func(eng, fd, what, socket_data, *user_data):
            socket_calls.append((fd, what, socket_data))
            if fd in watches:
                GLib.source_remove(watches.pop(fd))
            if what == GMulti.Poll.REMOVE:
                return True
            if socket_data == 0:
                # The one engine call allowed here: remembered for the next calls.
                eng.assign(fd, 1000 + fd)
            condition = GLib.IOCondition(0)
            if what & GMulti.Poll.IN:
                condition |= GLib.IOCondition.IN
            if what & GMulti.Poll.OUT:
                condition |= GLib.IOCondition.OUT
            watches[fd] = GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, fd, condition,
                                                on_ready)
            return True

        def on_timeout():
            timer[0] = 0
            result, running = engine.socket_action(GMulti.SOCKET_TIMEOUT, GMulti.Event(0))
            self.assertEqual(result, GMulti.EngineResult.OK)
            return GLib.SOURCE_REMOVE

        def timer_func(eng, timeout_ms, *user_data):
            timer_calls.append(timeout_ms)
            if timer[0]:
                GLib.source_remove(timer[0])
                timer[0] = 0
            if timeout_ms >= 0:
                timer[0] = GLib.timeout_add(timeout_ms, on_timeout)
            return True

        socket_callable = Callable(socket_func)
        timer_callable = Callable(timer_func)
        socket_ref = weakref.ref(socket_callable)
        timer_ref = weakref.ref(timer_callable)
        engine.set_socket_func(socket_callable)
        engine.set_timer_func(timer_callable)
        del socket_callable, timer_callable

        sizes = [1000 * (i + 1) for i in range(6)]
        transfers = [GMulti.Transfer.new("%s/bytes/%d" % (self.base, n)) for n in sizes]
        # Only the timer can end this one: the body takes far longer than allowed.
        slow = GMulti.Transfer.new(self.base + "/slow/100000")
        slow.set_timeout(200)
        for t in transfers + [slow]:
            self.assertEqual(engine.add(t), GMulti.EngineResult.OK)

        done = {}

        def read_messages():
            while True:
                message, queued = engine.info_read()
                if message is None:
                    return
                done[message.transfer] = message.error

        self.run_until(lambda: read_messages() or len(done) == len(transfers) + 1)
        for t, n in zip(transfers, sizes):
            self.assertIsNone(done[t])
            self.assertEqual(t.get_response_body().get_data(), loopback_server.pattern(n))
        self.assertTrue(done[slow].matches(GMulti.error_quark(), GMulti.Error.TIMED_OUT))

        whats = {what for _, what, _ in socket_calls}
        self.assertIn(GMulti.Poll.OUT, whats)
        self.assertIn(GMulti.Poll.IN, whats)
        self.assertTrue(any(data == 1000 + fd for fd, _, data in socket_calls))
        self.assertTrue(any(ms > 0 for ms in timer_calls))

        for t in transfers + [slow]:
            engine.remove(t)
        # Freeing the engine closes its pooled connections through the socket function
        # (the last call it gets), then releases both functions.
        n_calls = len(socket_calls)
        del engine
        self.assert_released(socket_ref)
        self.assert_released(timer_ref)
        self.assertTrue(all(what == GMulti.Poll.REMOVE for _, what, _ in socket_calls[n_calls:]))
        for source in list(watches.values()) + ([timer[0]] if timer[0] else []):
            GLib.source_remove(source)

    def test_engine_funcs_replaced(self):
        engine = GMulti.Engine.new()
        first = Callable(lambda *args: True)
        ref = weakref.ref(first)
        engine.set_timer_func(first)
        del first
        engine.set_timer_func(None)
        self.assert_released(ref)

        first = Callable(lambda *args: True)
        ref = weakref.ref(first)
        engine.set_socket_func(first)
        del first
        engine.set_socket_func(Callable(lambda *args: True))
        self.assert_released(ref)

    # GAsyncReadyCallback

    def test_send_stream_async(self):
        size = 250000
        result = {}

        def on_stream(session, res):
            result["stream"] = session.send_finish(res)

        session = GMulti.Session.new()
        t = GMulti.Transfer.new("%s/bytes/%d" % (self.base, size))
        session.send_async(t, GLib.PRIORITY_DEFAULT, None, on_stream)
        self.run_until(lambda: result)
        stream = result["stream"]
        self.assertEqual(t.get_status(), 200)

        received = bytearray()
        state = {}

        def on_read(source, res):
            state["bytes"] = source.read_bytes_finish(res)

        while True:
            state.clear()
            stream.read_bytes_async(65536, GLib.PRIORITY_DEFAULT, None, on_read)
            self.run_until(lambda: state)
            if state["bytes"].get_size() == 0:
                break
            received.extend(state["bytes"].get_data())
        self.assertEqual(bytes(received), loopback_server.pattern(size))

    def download(self, session, uri, path, cancellable=None):
        result = {}

        def on_done(session, res):
            try:
                result["ok"] = session.download_finish(res)
            except GLib.Error as error:
                result["error"] = error

        t = GMulti.Transfer.new(uri)
        session.download_async(t, Gio.File.new_for_path(path), GLib.PRIORITY_DEFAULT,
                               cancellable, on_done)
        return t, result

    def test_download_async(self):
        directory = tempfile.mkdtemp(prefix="gmulti-bindings-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        path = os.path.join(directory, "file.bin")
        session = GMulti.Session.new()

        size = 400000
        t, result = self.download(session, "%s/bytes/%d" % (self.base, size), path)
        self.run_until(lambda: result)
        self.assertEqual(result, {"ok": True})
        with open(path, "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(size))

        # Cancelled in the middle: the file from before stays, nothing else is left.
        cancellable = Gio.Cancellable()
        t, result = self.download(session, self.base + "/slow/400000", path, cancellable)
        self.run_until(lambda: t.props.bytes_received > 0)
        cancellable.cancel()
        self.run_until(lambda: result)
        self.assertTrue(result["error"].matches(Gio.io_error_quark(),
                                                Gio.IOErrorEnum.CANCELLED))
        self.run_until(lambda: os.listdir(directory) == ["file.bin"])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(size))

        # Refused: no file at all.
        os.unlink(path)
        t, result = self.download(GMulti.Session.new(), "http://127.0.0.1:1/", path)
        self.run_until(lambda: result)
        self.assertEqual(result["error"].code, GMulti.Error.CONNECT_FAILED)
        self.assertEqual(os.listdir(directory), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
