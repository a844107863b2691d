#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""gmulti-fetch, the command-line tool, run as a user runs it: against a loopback server
of the test's own (tests/bindings/loopback_server.py plus scripted paths), on a pipe and
in a pseudo-terminal. GMULTI_FETCH names the program, GMULTI_FETCH_MAN its man page."""

import http.server
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import fcntl
import threading
import time
import unicodedata
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bindings"))
import loopback_server  # noqa: E402

FETCH = os.environ["GMULTI_FETCH"]
MAN = os.environ["GMULTI_FETCH_MAN"]
RUN_TIMEOUT = 30


class Handler(loopback_server.Handler):
    """loopback_server's paths, and: /echo (method, headers and body as JSON, for any
    method), /flaky/KEY/N (503 for the first N requests of KEY), /drop/KEY/N (the
    connection closed unanswered for the first N), /redirect/N (N redirects, then a
    body), /hang (no answer for 10 s), /slowly/N (N bytes over about a second)."""

    def count(self, key):
        with self.server.lock:
            self.server.hits[key] = self.server.hits.get(key, 0) + 1
            self.server.times.setdefault(key, []).append(time.monotonic())
            return self.server.hits[key]

    def echo(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        reply = json.dumps({
            "method": self.command,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("latin-1"),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def __getattr__(self, name):
        # Any method at all reaches /echo (PURGE, PATCH...).
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    do_PUT = do_POST

    def dispatch(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "echo":
            return self.echo()
        if parts[0] in ("flaky", "drop"):
            n = self.count(parts[1])
            if n <= int(parts[2]):
                if parts[0] == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            return
        if parts[0] == "redirect":
            n = int(parts[1])
            if n > 0:
                self.send_response(302)
                self.send_header("Location", "/redirect/%d" % (n - 1))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"landed")
            return
        if parts[0] == "hang":
            self.count("hang")
            time.sleep(10)
            return
        if parts[0] == "slowly":
            with self.server.lock:
                self.server.in_flight += 1
                self.server.max_in_flight = max(self.server.max_in_flight,
                                                self.server.in_flight)
            try:
                self.slowly(int(parts[1]))
            finally:
                with self.server.lock:
                    self.server.in_flight -= 1
            return
        if self.command in ("POST", "PUT"):
            return loopback_server.Handler.do_POST(self)
        return loopback_server.Handler.do_GET(self)

    def slowly(self, n):
        """N bytes over about a second, counted in the server's in_flight."""
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        body = loopback_server.pattern(n)
        step = max(1, n // 20)
        for i in range(0, n, step):
            try:
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.05)


class Server(loopback_server.Server):
    def __init__(self, *args):
        super().__init__(*args)
        self.lock = threading.Lock()
        self.hits = {}
        self.times = {}
        self.in_flight = 0
        self.max_in_flight = 0


def run(*args, cwd=None, env=None, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL):
    return subprocess.run([FETCH, *args], cwd=cwd, env=env, stdin=stdin,
                          capture_output=True, timeout=timeout)


def display_width(text):
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_pty(args, columns, env_extra=None, timeout=RUN_TIMEOUT):
    """Runs gmulti-fetch with a pseudo-terminal as stdin, stdout and stderr; returns
    (exit status, everything it wrote)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["COLUMNS"] = str(columns)
        os.environ["TERM"] = "xterm"
        os.environ.update(env_extra or {})
        os.execv(FETCH, [FETCH, *args])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


class FetchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gmulti-fetch-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path):
        return self.base + path

    def assertNoTempFiles(self, directory):
        left = [n for n in os.listdir(directory) if ".gmulti-" in n]
        self.assertEqual(left, [])

    # Outputs

    def test_output_file(self):
        a = os.path.join(self.dir, "a.bin")
        b = os.path.join(self.dir, "b.bin")
        r = run("-o", a, "-o", b, self.url("/bytes/100000"), self.url("/bytes/3"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(a, "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(100000))
        with open(b, "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(3))
        self.assertNoTempFiles(self.dir)

    def test_remote_name(self):
        r = run("-O", self.url("/bytes/5000"), cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.dir, "5000"), "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(5000))

    def test_output_dir(self):
        out = os.path.join(self.dir, "new", "dir")
        r = run("--output-dir", out, self.url("/bytes/7000"), self.url("/slow/9000"),
                self.url("/"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(out)), ["7000", "9000", "index.html"])
        with open(os.path.join(out, "9000"), "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(9000))

    def test_stdout_in_command_line_order(self):
        # The first body arrives last: standard output still has it first.
        r = run(self.url("/slowly/20000"), self.url("/bytes/3000"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, loopback_server.pattern(20000) + loopback_server.pattern(3000))
        # "-o -" is standard output too, beside a file.
        path = os.path.join(self.dir, "f")
        r = run("-o", "-", "-o", path, self.url("/bytes/700"), self.url("/bytes/800"))
        self.assertEqual(r.stdout, loopback_server.pattern(700))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), loopback_server.pattern(800))

    def test_too_many_outputs(self):
        r = run("-o", "a", "-o", "b", self.url("/bytes/1"), cwd=self.dir)
        self.assertEqual(r.returncode, 2)

    def test_unwritable_output_is_a_file_error(self):
        r = run("-o", os.path.join(self.dir, "missing", "x"), self.url("/bytes/10"))
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn(b"failed", r.stderr)

    def test_full_stdout_is_a_file_error(self):
        with open("/dev/full", "wb") as full:
            r = subprocess.run([FETCH, self.url("/bytes/10")], stdout=full,
                               stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn(b": failed: ", r.stderr)

    # The request

    def test_headers_method_data_reach_the_server(self):
        r = run("-H", "X-Test: one", "-H", "X-Other:two", "-X", "PUT", "-d", "a=1", "-d",
                "b=2", self.url("/echo"))
        self.assertEqual(r.returncode, 0, r.stderr)
        echo = json.loads(r.stdout)
        self.assertEqual(echo["method"], "PUT")
        self.assertEqual(echo["headers"]["x-test"], "one")
        self.assertEqual(echo["headers"]["x-other"], "two")
        self.assertEqual(echo["headers"]["content-type"], "application/x-www-form-urlencoded")
        self.assertEqual(echo["body"], "a=1&b=2")

    def test_compressed(self):
        # As curl: no Accept-Encoding unless asked, and then the body saved decoded.
        r = run(self.url("/echo"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("accept-encoding", json.loads(r.stdout)["headers"])
        r = run("--compressed", self.url("/gzip/5000"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, loopback_server.pattern(5000))
        r = run("--compressed", self.url("/echo"))
        self.assertIn("gzip", json.loads(r.stdout)["headers"]["accept-encoding"])

    def test_unix_socket(self):
        path = os.path.join(self.dir, "fetch.sock")
        server = loopback_server.start_unix(path)
        try:
            r = run("--unix-socket", path, "http://localhost/bytes/300")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, loopback_server.pattern(300))
            missing = os.path.join(self.dir, "none.sock")
            r = run("--unix-socket", missing, "http://localhost/bytes/1")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(missing, r.stderr.decode())
        finally:
            server.shutdown()
            server.server_close()

    def test_data_files(self):
        path = os.path.join(self.dir, "body")
        with open(path, "wb") as f:
            f.write(b"line one\nline two\r\n")
        r = run("-d", "@" + path, "-H", "Content-Type: text/plain", self.url("/echo"))
        echo = json.loads(r.stdout)
        self.assertEqual(echo["method"], "POST")
        self.assertEqual(echo["body"], "line oneline two")
        self.assertEqual(echo["headers"]["content-type"], "text/plain")
        r = run("--data-binary", "@" + path, "-X", "PURGE", self.url("/echo"))
        echo = json.loads(r.stdout)
        self.assertEqual(echo["method"], "PURGE")
        self.assertEqual(echo["body"], "line one\nline two\r\n")

    # Failures and exit statuses

    def test_fail_404(self):
        out = os.path.join(self.dir, "page")
        r = run("--fail", "-o", out, self.url("/status/404"))
        self.assertEqual(r.returncode, 4)
        self.assertRegex(r.stderr.decode(), r"/status/404: failed: HTTP 404")
        self.assertNotIn(b"done", r.stderr.split(b"\n")[0])
        self.assertFalse(os.path.exists(out))
        self.assertNoTempFiles(self.dir)

    def test_404_without_fail(self):
        # Exit status 0 as with curl, the page is kept, but the line says it failed.
        out = os.path.join(self.dir, "page")
        r = run("-o", out, self.url("/status/404"))
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stderr.decode(), r"/status/404: failed: HTTP 404")
        self.assertRegex(r.stderr.decode(), r"0 done, 1 failed")
        self.assertTrue(os.path.exists(out))

    def test_network_error(self):
        r = run(self.url("/bytes/10"), "http://127.0.0.1:1/")
        self.assertEqual(r.returncode, 3)
        self.assertRegex(r.stderr.decode(), r"127\.0\.0\.1:1/: failed: ")

    def test_first_failure_decides(self):
        r = run("--fail", self.url("/status/500"), "http://127.0.0.1:1/")
        self.assertEqual(r.returncode, 4)
        r = run("--fail", "http://127.0.0.1:1/", self.url("/status/500"))
        self.assertEqual(r.returncode, 3)

    def test_timeout(self):
        start = time.monotonic()
        r = run("-m", "0.3", self.url("/hang"))
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertLess(time.monotonic() - start, 5)

    def test_usage_errors(self):
        for args in (["--bogus"], ["-H", "no colon", self.url("/")], ["ftp://x/"],
                     ["--parallel", "0", self.url("/")], ["-X", "BAD METHOD", self.url("/")],
                     ["--retry", "-1", self.url("/")]):
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(b"--help", r.stderr)
        r = run("-d", "@" + os.path.join(self.dir, "nothing"), self.url("/echo"))
        self.assertEqual(r.returncode, 6)

    def test_http_version_flags(self):
        # One flag alone is accepted; HTTP/1.1 reaches the HTTP/1.1 server.
        r = run("-s", "--http1.1", "-o", "-", self.url("/bytes/100"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout), 100)
        for flag in ("--http2", "--http2-prior-knowledge"):
            with self.subTest(flag=flag):
                # Parsed, then the transfer itself fails: a network error, not usage.
                r = run("-s", flag, "http://127.0.0.1:1/")
                self.assertEqual(r.returncode, 3, r.stderr)
        # Any two of them contradict each other.
        for flags in (["--http1.1", "--http2"], ["--http2", "--http2-prior-knowledge"],
                      ["--http2-prior-knowledge", "--http1.1"],
                      ["--http1.1", "--http2", "--http2-prior-knowledge"]):
            with self.subTest(flags=flags):
                r = run(*flags, self.url("/bytes/1"))
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(b"at most one of --http1.1", r.stderr)
                self.assertIn(b"--help", r.stderr)
        r = run("--http1.1", "--http2", self.url("/bytes/1"),
                env=dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="de"))
        self.assertIn("Höchstens eine von --http1.1", r.stderr.decode())

    def test_tls(self):
        certs = loopback_server.make_certs()
        tls = loopback_server.start_tls(certs)
        try:
            url = "https://localhost:%d/bytes/1000" % tls.server_address[1]
            r = run(url)
            self.assertEqual(r.returncode, 5, r.stderr)
            r = run("--cacert", os.path.join(certs, "ca.pem"), url)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, loopback_server.pattern(1000))
            r = run("-k", url)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            tls.shutdown()
            tls.server_close()
            shutil.rmtree(certs, ignore_errors=True)

    # Retries

    def test_retry_after_503(self):
        r = run("--retry", "3", "--retry-delay", "0.2", "--fail", self.url("/flaky/a/2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"ok")
        self.assertEqual(self.server.hits["a"], 3)
        self.assertEqual(len(re.findall(rb"retry \d of 3", r.stderr)), 2)
        t = self.server.times["a"]
        # The delay doubles: 0.2 s, then 0.4 s.
        self.assertGreaterEqual(t[1] - t[0], 0.19)
        self.assertGreaterEqual(t[2] - t[1], 0.39)

    def test_retry_is_bounded(self):
        r = run("--retry", "1", "--retry-delay", "0.05", "--fail", self.url("/flaky/b/5"))
        self.assertEqual(r.returncode, 4)
        self.assertEqual(self.server.hits["b"], 2)

    def test_retry_after_dropped_connection(self):
        r = run("--retry", "2", "--retry-delay", "0.05", self.url("/drop/c/1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"ok")
        r = run(self.url("/drop/d/1"))
        self.assertEqual(r.returncode, 3)

    def test_no_retry_without_the_option(self):
        r = run("--fail", self.url("/flaky/e/1"))
        self.assertEqual(r.returncode, 4)
        self.assertEqual(self.server.hits["e"], 1)

    # Reporting

    def test_write_out(self):
        r = run("-L", "-w", r"%{http_code} %{size_download} %{num_redirects} %{url_effective}"
                r" %{time_connect} %{time_total} %{exitcode}\n", self.url("/redirect/2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        body, line = r.stdout[:6], r.stdout[6:].decode()
        self.assertEqual(body, b"landed")
        m = re.fullmatch(r"200 6 2 (\S+) ([0-9.]+) ([0-9.]+) 0\n", line)
        self.assertIsNotNone(m, line)
        self.assertEqual(m.group(1), self.url("/redirect/0"))
        self.assertGreater(float(m.group(2)), 0)
        self.assertGreaterEqual(float(m.group(3)), float(m.group(2)))

    def test_write_out_failure(self):
        r = run("-s", "-f", "-w", "%{http_code}:%{exitcode}:%{errormsg}", self.url("/status/404"))
        self.assertEqual(r.stdout.decode(), "404:4:HTTP 404 Not Found")

    def test_redirects_not_followed_without_location(self):
        r = run("-w", "%{http_code}", self.url("/redirect/1"))
        self.assertEqual(r.stdout, b"302")
        r = run("-L", "--max-redirs", "1", self.url("/redirect/3"))
        self.assertEqual(r.returncode, 3)

    def test_plain_output(self):
        r = run("-o", os.path.join(self.dir, "x"), self.url("/bytes/2048"),
                "-o", os.path.join(self.dir, "y"), "http://127.0.0.1:1/")
        lines = r.stderr.decode().splitlines()
        self.assertEqual(len(lines), 3, lines)
        self.assertRegex(lines[0] if "2048" in lines[0] else lines[1],
                         r"^http://127\.0\.0\.1:\d+/bytes/2048: done: 2\.0\xa0KiB in [0-9.]+ s,"
                         r" HTTP 200$")
        self.assertRegex(lines[1] if "2048" in lines[0] else lines[0],
                         r"^http://127\.0\.0\.1:1/: failed: \S")
        self.assertRegex(lines[2], r"^2 transfers: 1 done, 1 failed, ")
        self.assertNotIn("\x1b", r.stderr.decode())

    def test_silent(self):
        r = run("-s", self.url("/bytes/10"), "http://127.0.0.1:1/")
        self.assertEqual(r.stdout, loopback_server.pattern(10))
        lines = r.stderr.decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("failed", lines[0])

    def test_parallel_limit(self):
        self.server.max_in_flight = 0
        r = run("--parallel", "2", *[self.url("/slowly/%d" % (1000 + i)) for i in range(5)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.server.max_in_flight, 2)

    def test_interrupt(self):
        hits = self.server.hits.get("hang", 0)
        p = subprocess.Popen([FETCH, "--output-dir", self.dir, self.url("/hang")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        # Interrupted mid-transfer, its temporary file open.
        deadline = time.monotonic() + 10
        while self.server.hits.get("hang", 0) == hits and time.monotonic() < deadline:
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 130, err)
        self.assertEqual(os.listdir(self.dir), [])

    def test_demo_set(self):
        r = run()
        self.assertEqual(r.returncode, 0, r.stderr)
        # The demo bodies are counted, not written anywhere.
        self.assertEqual(r.stdout, b"")
        text = r.stderr.decode()
        self.assertEqual(len(re.findall(r"/demo/\d+: done: ", text)), 12, text)
        self.assertRegex(text, r"/demo/missing: failed: HTTP 404")
        self.assertEqual(len(re.findall(r": failed: ", text)), 2, text)

    # The terminal display

    def test_tty_display_fits_narrow_terminal(self):
        columns = 40
        status, out = run_in_pty(
            ["--output-dir", self.dir,
             self.url("/slowly/300000"), self.url("/slowly/200001"),
             self.url("/status/404"),
             # A long name and a long error message.
             "http://127.0.0.1:1/a/rather/long/path/that/cannot/fit/in/forty/columns"],
            columns)
        self.assertEqual(status, 3, out)
        self.assertIn("\x1b[", out, "no cursor movement: not the live display")
        self.assertRegex(out, r"\x1b\[\d+A", "the live area is never redrawn in place")
        plain = CSI.sub("", out)
        for line in re.split(r"\r\n|\n|\r", plain):
            self.assertLessEqual(display_width(line), columns, repr(line))
        # Both ends of each URL survive shortening: the host and the path's end.
        self.assertRegex(plain, r"127\.0\.0\.1:\d+\S*/300000")
        self.assertRegex(plain, r"failed +\S*/status/404 +HTTP 404")
        self.assertNotRegex(plain, r"done +\S*/status/404")
        self.assertRegex(plain, r"failed +\S*columns")
        # The error message wraps between words: every word of it shows whole.
        for word in ("connect", "127.0.0.1:1:", "Connection", "refused"):
            self.assertRegex(plain, r"(?:^|\s)" + re.escape(word) + r"(?:\s|$)", plain)
        self.assertRegex(plain, r"\d+%")
        self.assertRegex(plain, r"4 transfers: 2 done, 2 failed")

    def test_tty_display_wide(self):
        status, out = run_in_pty(["--output-dir", self.dir, self.url("/slowly/400000")], 120)
        self.assertEqual(status, 0, out)
        plain = CSI.sub("", out)
        # Bytes, percentage, rate and time left on the live line.
        self.assertRegex(plain, r"/slowly/400000 +\S+\s(?:KiB|B)/390\.6\sKiB +\d+% +"
                                r"\S+\s(?:[KMG]i)?B/s +ETA \d+:\d\d")

    # Help, version, man page, translation

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^gmulti-fetch \d+\.\d+\.\d+ \(gmulti \d+\.\d+\.\d+\)\n")

    def test_help_lists_exit_statuses(self):
        r = run("--help", env=dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE=""))
        self.assertEqual(r.returncode, 0)
        text = r.stdout.decode()
        for code in ("0", "2", "3", "4", "5", "6", "7", "130"):
            self.assertRegex(text, r"\n +%s  \S" % code)

    def test_man_page(self):
        with open(MAN, encoding="utf-8") as f:
            man = f.read()
        self.assertTrue(man.startswith(".TH GMULTI\\-FETCH 1"))
        help_text = run("--help", env=dict(os.environ, LC_ALL="C.UTF-8",
                                           LANGUAGE="")).stdout.decode()
        options = re.findall(r"^  (?:-\w, )?--([\w.-]+)", help_text, re.M)
        self.assertIn("http1.1", options)
        self.assertGreater(len(options), 15)
        for option in options:
            self.assertIn("\\fB\\-\\-%s\\fR" % option.replace("-", "\\-"), man)
        self.assertIn(".SH EXIT STATUS", man)
        groff = shutil.which("groff")
        if groff is None:
            self.skipTest("no groff to render the man page")
        r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", MAN], capture_output=True,
                           timeout=RUN_TIMEOUT)
        self.assertEqual((r.returncode, r.stderr), (0, b""))

    def test_german(self):
        # No de_DE locale needs installing: C.UTF-8 with LANGUAGE=de selects the catalogue.
        env = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="de")
        r = run("--help", env=env)
        self.assertIn("Weiterleitungen folgen", r.stdout.decode())
        self.assertIn("Exit-Status", r.stdout.decode())
        r = run("--fail", self.url("/status/404"), env=env)
        self.assertRegex(r.stderr.decode(), r"/status/404: fehlgeschlagen: HTTP 404")
        self.assertRegex(r.stderr.decode(), r"1 Übertragung: 0 fertig, 1 fehlgeschlagen")
        # Longer words, still within the width.
        status, out = run_in_pty(["--output-dir", self.dir, self.url("/slowly/100000"),
                                  "http://127.0.0.1:1/"], 30,
                                 {"LC_ALL": "C.UTF-8", "LANGUAGE": "de"})
        plain = CSI.sub("", out)
        self.assertIn("fehlgeschlagen", plain)
        for line in re.split(r"\r\n|\n|\r", plain):
            self.assertLessEqual(display_width(line), 30, repr(line))


class TapResult(unittest.TestResult):
    """Reports each test as a TAP line on stdout, as the C suites do (--tap)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.count = 0

    def report(self, test, ok, note=""):
        self.count += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.count, test.id(), note),
              flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.report(test, True)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.report(test, True, " # SKIP " + reason)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.report(test, False)
        print("# " + self._exc_info_to_string(err, test).replace("\n", "\n# "), flush=True)

    addError = addFailure

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            print("# " + self._exc_info_to_string(err, subtest).replace("\n", "\n# "),
                  flush=True)


if __name__ == "__main__":
    names = sys.argv[1:]
    loader = unittest.TestLoader()
    suite = (loader.loadTestsFromNames(names, sys.modules[__name__]) if names
             else loader.loadTestsFromTestCase(FetchTest))
    print("1..%d" % suite.countTestCases(), flush=True)
    result = TapResult()
    suite.run(result)
    sys.exit(0 if result.wasSuccessful() else 1)
