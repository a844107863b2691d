# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject overrides for GMulti: asyncio awaitables.

PyGObject 3.42 cannot await GIO-style calls. With these overrides, a coroutine can
await the session's asynchronous calls: called without a callback,
``Session.send_and_read_async()``, ``send_async()`` and ``download_async()`` return an
:class:`asyncio.Future` with what the ``_finish`` call returns, or raise its
``GLib.Error``. ``Session.add_and_wait()`` adds a transfer and waits for it to finish.
Cancelling the future removes the transfer from the session. With a callback, the
calls are the plain GIO ones.

The asyncio loop must be the GLib main loop of the session's context, so that GLib's
callbacks run: install Debian's ``python3-gbulb`` policy (``gbulb.install()``) before
``asyncio.run()``. A call from any other loop raises ``RuntimeError`` rather than
waiting forever.
"""

import asyncio

from gi.module import get_introspection_module
from gi.overrides import override
from gi.repository import Gio, GLib

GMulti = get_introspection_module("GMulti")

__all__ = []


def _running_loop(session):
    loop = asyncio.get_running_loop()
    if not session.get_context().is_owner():
        raise RuntimeError("GMulti: this asyncio loop does not run the session's GLib "
                           "main context; use gbulb (gbulb.install()) to run asyncio on GLib")
    return loop


def _future(session, start, finish, args, cancellable):
    loop = _running_loop(session)
    future = loop.create_future()
    if cancellable is None:
        cancellable = Gio.Cancellable()

    def done(source, result):
        try:
            value = finish(source, result)
        except GLib.Error as error:
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(value)

    def on_future_done(f):
        # Cancelling the GCancellable removes the transfer from the session.
        if f.cancelled():
            cancellable.cancel()

    start(session, *args, cancellable, done)
    future.add_done_callback(on_future_done)
    return future


class Session(GMulti.Session):
    def send_and_read_async(self, transfer, io_priority=GLib.PRIORITY_DEFAULT,
                            cancellable=None, callback=None, *user_data):
        """Without a callback: an awaitable future of the body (GLib.Bytes)."""
        if callback is not None:
            return super().send_and_read_async(transfer, io_priority, cancellable,
                                               callback, *user_data)
        return _future(self, GMulti.Session.send_and_read_async,
                       GMulti.Session.send_and_read_finish, (transfer, io_priority),
                       cancellable)

    def send_async(self, transfer, io_priority=GLib.PRIORITY_DEFAULT, cancellable=None,
                   callback=None, *user_data):
        """Without a callback: an awaitable future of the body's Gio.InputStream."""
        if callback is not None:
            return super().send_async(transfer, io_priority, cancellable, callback,
                                      *user_data)
        return _future(self, GMulti.Session.send_async,
                       GMulti.Session.send_finish, (transfer, io_priority),
                       cancellable)

    def download_async(self, transfer, destination, io_priority=GLib.PRIORITY_DEFAULT,
                       cancellable=None, callback=None, *user_data):
        """Without a callback: an awaitable future, True once the file is written."""
        if callback is not None:
            return super().download_async(transfer, destination, io_priority, cancellable,
                                          callback, *user_data)
        return _future(self, GMulti.Session.download_async,
                       GMulti.Session.download_finish,
                       (transfer, destination, io_priority), cancellable)

    def add_and_wait(self, transfer):
        """Adds @transfer and returns an awaitable future that is done when it finished:
        with None, or with its GLib.Error. An HTTP error status is no error (read
        transfer.get_status()). Cancelling the future removes the transfer."""
        loop = _running_loop(self)
        future = loop.create_future()

        def disconnect():
            if handler:
                transfer.disconnect(handler.pop())

        def on_finished(t, error):
            disconnect()
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(None)

        def on_future_done(f):
            if f.cancelled() and handler:
                disconnect()
                self.remove(transfer)

        handler = [transfer.connect("finished", on_finished)]
        try:
            self.add(transfer)
        except GLib.Error:
            disconnect()
            raise
        future.add_done_callback(on_future_done)
        return future


Session = override(Session)
__all__.append("Session")
