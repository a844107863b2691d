#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/gtk-downloads.py, the GTK 4 demo, under Xvfb against a loopback server:
files of known size (slow ones, so progress shows), a 404 and a refused connection. It
must exit 0, save the files whole, show each error in its row, and render a screenshot
that is a real picture. A second run drives the rows' buttons: Pause stops the bytes,
Resume finishes the file, Cancel removes it. Skipped (77) without xvfb-run or GTK 4's
typelib; tools/install-deps test installs both."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import gi

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "examples", "gtk-downloads.py")
sys.path.insert(0, os.path.join(HERE, "bindings"))
import loopback_server  # noqa: E402

SIZES = [3000000, 1048576, 400000, 123457]
failures = []


def check(condition, what):
    print("%s: %s" % ("ok" if condition else "FAILED", what))
    if not condition:
        failures.append(what)


def refused_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d/gone" % s.getsockname()[1]


def run_demo(args, cwd):
    env = dict(os.environ, GSK_RENDERER="cairo", LC_ALL="C.UTF-8", LANGUAGE="")
    env.pop("G_DEBUG", None)  # GTK itself warns when it finds no session bus.
    return subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24",
                           sys.executable] + args,
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=150)


def stray_messages(stderr):
    return [line for line in stderr.splitlines()
            if ("WARNING" in line or "CRITICAL" in line or "Traceback" in line or
                "Error" in line) and "Unable to acquire session bus" not in line]


def check_png(path):
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf

    with open(path, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
    pixbuf = GdkPixbuf.Pixbuf.new_from_file(path)
    width, height = pixbuf.get_width(), pixbuf.get_height()
    check(400 <= width <= 1280 and 300 <= height <= 1024,
          "screenshot of plausible size (%dx%d)" % (width, height))
    channels, stride = pixbuf.get_n_channels(), pixbuf.get_rowstride()
    data = pixbuf.get_pixels()
    colours = set()
    reddish = 0
    for y in range(0, height, 2):
        row = data[y * stride:y * stride + width * channels]
        for x in range(0, width * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            colours.add((r, g, b))
            reddish += r > 150 and g < 90 and b < 90
    check(len(colours) > 20, "screenshot is not one colour (%d colours)" % len(colours))
    check(reddish > 20, "screenshot shows the error rows in red (%d pixels)" % reddish)


def test_screenshot(base, work):
    out = os.path.join(work, "out")
    os.mkdir(out)
    shot = os.path.join(work, "shot.png")
    missing, refused = base + "/status/404", refused_url()
    urls = ["%s/slow/%d" % (base, n) for n in SIZES[:2]] + \
        ["%s/bytes/%d" % (base, n) for n in SIZES[2:]] + [missing, refused]
    args = [DEMO, "--output-dir", out, "--screenshot", shot]
    for url in urls:
        args += ["--url", url]
    result = run_demo(args, work)
    sys.stdout.write(result.stdout)
    check(result.returncode == 0, "demo exits 0 (%d): %s" % (result.returncode,
                                                            result.stderr[-2000:]))
    check(not stray_messages(result.stderr), "no warning: %s" % stray_messages(result.stderr))
    for n in SIZES:
        path = os.path.join(out, str(n))
        ok = os.path.exists(path) and open(path, "rb").read() == loopback_server.pattern(n)
        check(ok, "%s saved whole" % path)
    check(sorted(os.listdir(out)) == sorted(str(n) for n in SIZES),
          "nothing else saved: %s" % os.listdir(out))
    lines = result.stdout.splitlines()
    check("failed %s: HTTP 404 Not Found" % missing in lines, "the 404 row's message")
    port = refused.split(":")[2].split("/")[0]
    check("failed %s: Could not connect to 127.0.0.1:%s: Connection refused" % (refused, port)
          in lines, "the refused row shows the GError message")
    check(sum(line.startswith("done ") for line in lines) == len(SIZES), "every file done")
    if os.path.exists(shot):
        check_png(shot)
        if os.environ.get("GMULTI_DEMO_SCREENSHOT"):
            shutil.copy(shot, os.environ["GMULTI_DEMO_SCREENSHOT"])
    else:
        check(False, "screenshot written")


def test_buttons(base, work):
    out = os.path.join(work, "buttons")
    os.mkdir(out)
    result = run_demo([__file__, "--drive", DEMO, out, base], work)
    check(result.returncode == 0, "driven demo exits 0: %s" % result.stderr[-2000:])
    check(not stray_messages(result.stderr), "no warning: %s" % stray_messages(result.stderr))
    try:
        seen = json.loads(result.stdout.splitlines()[-1])
    except (IndexError, ValueError):
        check(False, "driver's report: %r" % result.stdout)
        return
    check(seen["paused_bytes_still"], "no bytes arrive while paused")
    check("paused" in seen["paused_text"], "the row says paused: %s" % seen["paused_text"])
    check(seen["resume_label"] == "Resume", "the button offers Resume while paused")
    check(seen["cancelled_text"] == "Cancelled", "the cancelled row says so")
    check(sorted(os.listdir(out)) == ["2000000"], "only the resumed file is left: %s"
          % os.listdir(out))
    path = os.path.join(out, "2000000")
    check(open(path, "rb").read() == loopback_server.pattern(2000000),
          "the resumed download is whole")


def drive(demo_path, out, base):
    """Runs the demo in this process and clicks its buttons as a user would."""
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location("gtk_downloads", demo_path)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    from gi.repository import GLib

    options = types.SimpleNamespace(output_dir=out, screenshot=None, exit_when_done=True,
                                    url=[base + "/slow/2000000", base + "/slow/3000001"])
    app = demo.DownloadApp(options)
    seen = {}

    def on_window(_app, window):
        GLib.idle_add(start, window)

    def start(window):
        rows = list(window.rows.values())
        paused, cancelled = rows

        def on_progress(transfer):
            if transfer.props.bytes_received == 0 or "before" in seen:
                return
            paused.pause_button.emit("clicked")
            seen["before"] = transfer.props.bytes_received
            seen["paused_text"] = paused.status.get_text()
            seen["resume_label"] = paused.pause_button.get_label()
            cancelled.cancel_button.emit("clicked")
            seen["cancelled_text"] = cancelled.status.get_text()
            GLib.timeout_add(700, resume)

        def resume():
            seen["paused_bytes_still"] = paused.transfer.props.bytes_received == seen["before"]
            paused.pause_button.emit("clicked")
            return GLib.SOURCE_REMOVE

        paused.transfer.connect("progress", on_progress)
        return GLib.SOURCE_REMOVE

    app.connect("window-added", on_window)
    status = app.run([demo_path])
    print(json.dumps(seen))
    return status


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--drive":
        return drive(*sys.argv[2:])
    if shutil.which("xvfb-run") is None:
        print("SKIP: xvfb-run not found (tools/install-deps test installs xvfb)")
        return 77
    try:
        gi.require_version("Gtk", "4.0")
    except ValueError:
        print("SKIP: GTK 4's typelib not found (tools/install-deps test installs "
              "gir1.2-gtk-4.0)")
        return 77
    server = loopback_server.start()
    work = tempfile.mkdtemp(prefix="gmulti-gtk-demo-")
    try:
        base = "http://127.0.0.1:%d" % server.server_address[1]
        test_screenshot(base, work)
        test_buttons(base, work)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
