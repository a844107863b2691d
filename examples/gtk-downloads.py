#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A GTK 4 download manager: many downloads at once through one GMulti.Session on the
default main context, one row per transfer with its progress, rate and time left.

    gtk-downloads.py [--url URL]... [--output-dir DIR] [--exit-when-done]
                     [--screenshot FILE]

--screenshot renders the window to a PNG once every download ended, then quits. Each
download that ends is also reported on standard output. Run from the build tree with
`meson devenv`."""

import argparse
import locale
import os
import sys
import time

import gi

gi.require_version("Gtk", "4.0")
gi.require_version("GMulti", "1.0")
gi.require_version("Graphene", "1.0")
gi.require_version("Pango", "1.0")
from gi.repository import Gio, GLib, GMulti, Graphene, Gtk, Pango  # noqa: E402


def size_text(n):
    return GLib.format_size_full(n, GLib.FormatSizeFlags.IEC_UNITS)


def eta_text(seconds):
    return "%d:%02d" % divmod(int(seconds + 0.5), 60)


class DownloadRow(Gtk.ListBoxRow):
    """One transfer: its URL, a progress bar, a status line and its buttons. The body
    goes to an output stream on a new file, deleted again if the download fails."""

    def __init__(self, window, url):
        super().__init__(activatable=False)
        self.window = window
        self.transfer = GMulti.Transfer.new(url)
        self.transfer.set_follow_redirects(True)
        self.transfer.connect("progress", self.on_progress)
        self.file = self.stream = None
        self.ended = False
        self.failed = False
        self.rate = 0.0
        self.samples = []  # (time, bytes) of the last seconds, for the rate

        grid = Gtk.Grid(column_spacing=12, row_spacing=4, margin_top=8, margin_bottom=8,
                        margin_start=12, margin_end=12)
        self.set_child(grid)
        title = Gtk.Label(label=url, xalign=0, hexpand=True,
                          ellipsize=Pango.EllipsizeMode.MIDDLE)
        grid.attach(title, 0, 0, 1, 1)
        self.bar = Gtk.ProgressBar(valign=Gtk.Align.CENTER)
        grid.attach(self.bar, 0, 1, 1, 1)
        self.status = Gtk.Label(label="Waiting", xalign=0, wrap=True)
        self.status.add_css_class("dim-label")
        grid.attach(self.status, 0, 2, 1, 1)
        buttons = Gtk.Box(spacing=6, valign=Gtk.Align.CENTER)
        self.pause_button = Gtk.Button(label="Pause")
        self.pause_button.connect("clicked", self.on_pause_clicked)
        self.cancel_button = Gtk.Button(label="Cancel")
        self.cancel_button.connect("clicked", self.on_cancel_clicked)
        buttons.append(self.pause_button)
        buttons.append(self.cancel_button)
        grid.attach(buttons, 1, 0, 1, 3)

    def start(self, session, directory):
        try:
            self.file = self.new_file(directory)
            self.stream = self.file.create(Gio.FileCreateFlags.NONE)
            self.transfer.set_output_stream(self.stream)
            session.add(self.transfer)
        except GLib.Error as error:
            if self.stream is not None:
                self.stream.close()
                self.file.delete()
            self.end(error.message)

    def new_file(self, directory):
        """A file in @directory named after the URL's path, made unique."""
        path = GLib.Uri.parse(self.transfer.get_uri(), GLib.UriFlags.NONE).get_path()
        base = os.path.basename(GLib.Uri.unescape_string(path, "/") or "") or "index.html"
        name, n = base, 1
        while directory.get_child(name).query_exists():
            stem, ext = os.path.splitext(base)
            name, n = "%s (%d)%s" % (stem, n, ext), n + 1
        return directory.get_child(name)

    def on_progress(self, transfer):
        received = transfer.props.bytes_received
        now = time.monotonic()
        self.samples = [s for s in self.samples if now - s[0] < 3] + [(now, received)]
        first = self.samples[0]
        self.rate = (received - first[1]) / (now - first[0]) if now > first[0] else 0.0

        expected = transfer.props.bytes_expected
        if expected >= 0:
            self.bar.set_fraction(transfer.props.progress)
            text = "%s of %s" % (size_text(received), size_text(expected))
            if self.rate > 0 and received < expected:
                text += ", %s left" % eta_text((expected - received) / self.rate)
        else:
            self.bar.pulse()
            text = size_text(received)
        if transfer.is_paused():
            text += ", paused"
        elif self.rate > 0:
            text += ", %s/s" % size_text(int(self.rate))
        self.status.set_text(text)
        self.window.update_total()

    def on_pause_clicked(self, button):
        if self.transfer.is_paused():
            self.transfer.resume()
            button.set_label("Pause")
        else:
            self.transfer.pause()
            button.set_label("Resume")
            self.rate, self.samples = 0.0, []
        self.on_progress(self.transfer)

    def on_cancel_clicked(self, button):
        if self.ended:
            self.window.remove_row(self)
            return
        # No signal is emitted for a transfer after its removal: end the row here.
        self.window.session.remove(self.transfer)
        self.finish(None, "Cancelled")

    def finish(self, error, cancelled=None):
        """The transfer ended: close the file, and delete it unless it is complete."""
        status = self.transfer.get_status()
        if cancelled:
            message = cancelled
        elif error is not None:
            message = error.message
        elif status >= 400:
            message = "HTTP %d %s" % (status, self.transfer.get_reason_phrase() or "")
        else:
            message = None
        self.transfer.set_output_stream(None)
        try:
            self.stream.close()
        except GLib.Error as close_error:
            message = message or close_error.message
        if message is not None:
            self.file.delete()
            self.bar.set_fraction(0.0)
            self.end(message)
        else:
            self.bar.set_fraction(1.0)
            self.end("%s saved as %s" % (size_text(self.transfer.props.bytes_received),
                                         self.file.get_path()), failed=False)

    def end(self, message, failed=True):
        self.ended, self.failed, self.rate = True, failed, 0.0
        self.status.set_text(message)
        self.status.remove_css_class("dim-label")
        if failed:
            self.status.add_css_class("error")
        self.pause_button.set_visible(False)
        self.cancel_button.set_label("Clear")
        print("%s %s: %s" % ("failed" if failed else "done", self.transfer.get_uri(),
                             message), flush=True)
        self.window.on_row_ended()


class DownloadWindow(Gtk.ApplicationWindow):
    def __init__(self, app, options):
        super().__init__(application=app, title="Downloads", default_width=720,
                         default_height=480)
        self.options = options
        self.directory = Gio.File.new_for_path(options.output_dir)
        self.session = GMulti.Session.new()
        self.session.connect("transfer-finished", self.on_transfer_finished)
        self.rows = {}  # transfer -> row
        self.starting = False

        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12, margin_top=12,
                      margin_bottom=12, margin_start=12, margin_end=12)
        self.set_child(box)
        entry_box = Gtk.Box(spacing=6)
        self.entry = Gtk.Entry(hexpand=True, placeholder_text="https://example.org/file")
        self.entry.connect("activate", self.on_add)
        add = Gtk.Button(label="Add")
        add.add_css_class("suggested-action")
        add.connect("clicked", self.on_add)
        entry_box.append(self.entry)
        entry_box.append(add)
        box.append(entry_box)

        self.list = Gtk.ListBox(selection_mode=Gtk.SelectionMode.NONE)
        self.list.add_css_class("boxed-list")
        self.list.set_placeholder(Gtk.Label(label="No downloads"))
        box.append(Gtk.ScrolledWindow(child=self.list, vexpand=True))
        self.total = Gtk.Label(xalign=0)
        box.append(self.total)
        self.update_total()

    def on_add(self, _widget):
        url = self.entry.get_text().strip()
        if url:
            self.add_url(url)
            self.entry.set_text("")

    def add_url(self, url):
        row = DownloadRow(self, url)
        self.list.append(row)
        self.rows[row.transfer] = row
        row.start(self.session, self.directory)
        self.update_total()

    def remove_row(self, row):
        del self.rows[row.transfer]
        self.list.remove(row)
        self.update_total()

    def on_transfer_finished(self, _session, transfer, error):
        self.rows[transfer].finish(error)

    def update_total(self):
        rows = list(self.rows.values())
        done = sum(r.ended and not r.failed for r in rows)
        failed = sum(r.failed for r in rows)
        received = sum(r.transfer.props.bytes_received for r in rows)
        rate = sum(r.rate for r in rows)
        active = len(rows) - done - failed
        text = "Total: %d of %d done, %d failed, %d active, %s" % (
            done, len(rows), failed, active, size_text(received))
        self.total.set_text(text + (", %s/s" % size_text(int(rate)) if active else ""))

    def on_row_ended(self):
        self.update_total()
        if self.starting or not all(r.ended for r in self.rows.values()):
            return
        if self.options.screenshot:
            # Once the last changes are laid out and drawn.
            GLib.timeout_add(300, self.on_all_drawn)
        elif self.options.exit_when_done:
            self.get_application().quit()

    def on_all_drawn(self):
        try:
            save_png(self, self.options.screenshot)
        finally:
            self.get_application().quit()
        return GLib.SOURCE_REMOVE


def save_png(widget, path):
    """Renders @widget as it is now into a PNG file, through its render node."""
    paintable = Gtk.WidgetPaintable(widget=widget)
    width, height = widget.get_width(), widget.get_height()
    renderer = widget.get_native().get_renderer()
    viewport = Graphene.Rect().init(0, 0, width, height)

    def snapshot():
        s = Gtk.Snapshot()
        paintable.snapshot(s, width, height)
        return s

    try:
        saved = renderer.render_texture(snapshot().to_node(), viewport).save_to_png(path)
    except TypeError:
        # PyGObject 3.42 cannot hold a GskRenderNode (a fundamental type): the same
        # calls, made through ctypes.
        saved = _save_png_in_c(snapshot(), renderer, viewport, path)
    if not saved:
        raise OSError("could not write %s" % path)


def _save_png_in_c(snapshot, renderer, viewport, path):
    import ctypes

    gtk = ctypes.CDLL("libgtk-4.so.1")
    pointer = ctypes.pythonapi.PyCapsule_GetPointer
    pointer.restype, pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    for name, restype, argtypes in [
            ("gtk_snapshot_to_node", ctypes.c_void_p, [ctypes.c_void_p]),
            ("gsk_renderer_render_texture", ctypes.c_void_p, [ctypes.c_void_p] * 3),
            ("gdk_texture_save_to_png", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
            ("gsk_render_node_unref", None, [ctypes.c_void_p]),
            ("g_object_unref", None, [ctypes.c_void_p])]:
        getattr(gtk, name).restype, getattr(gtk, name).argtypes = restype, argtypes
    node = gtk.gtk_snapshot_to_node(pointer(snapshot.__gpointer__, None))
    if not node:
        return False
    rect = (ctypes.c_float * 4)(viewport.get_x(), viewport.get_y(),
                                viewport.get_width(), viewport.get_height())
    texture = gtk.gsk_renderer_render_texture(pointer(renderer.__gpointer__, None), node,
                                              rect)
    saved = gtk.gdk_texture_save_to_png(texture, os.fsencode(path))
    gtk.g_object_unref(texture)
    gtk.gsk_render_node_unref(node)
    return saved


class DownloadApp(Gtk.Application):
    def __init__(self, options):
        super().__init__(application_id="org.gmulti.Downloads",
                         flags=Gio.ApplicationFlags.NON_UNIQUE)
        self.options = options

    def do_activate(self):
        window = DownloadWindow(self, self.options)
        window.present()
        window.starting = True
        for url in self.options.url:
            window.add_url(url)
        window.starting = False
        if self.options.url:
            window.on_row_ended()


def main():
    parser = argparse.ArgumentParser(description="Download files with GMulti and GTK 4.")
    parser.add_argument("--url", action="append", default=[],
                        help="a URL to download at start (repeatable)")
    parser.add_argument("--output-dir", default=GLib.get_user_special_dir(
        GLib.UserDirectory.DIRECTORY_DOWNLOAD) or os.getcwd(),
                        help="where to save the files (default: the download folder)")
    parser.add_argument("--exit-when-done", action="store_true",
                        help="quit once every download ended")
    parser.add_argument("--screenshot", metavar="FILE",
                        help="once every download ended, save the window as a PNG and quit")
    options = parser.parse_args()
    locale.setlocale(locale.LC_ALL, "")  # translated error messages
    return DownloadApp(options).run([sys.argv[0]])


if __name__ == "__main__":
    sys.exit(main())
