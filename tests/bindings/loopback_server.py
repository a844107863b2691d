#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A loopback HTTP/1.1 server for the bindings tests and the Python example.

Paths: /bytes/N (N bytes, byte i is i % 251), /slow/N (the same in 16 pieces with
pauses), /gzip/N (the same with Content-Encoding: gzip when the request accepts it),
/status/N (an empty response with that status), /private (200 "welcome
alice" with the session cookie that a POST of user=alice&password=secret to /login
sets, 401 without). A POST or PUT to any path
echoes the request body it received, with X-Upload-Framing saying how it came
(length or chunked) and X-Upload-Length how many bytes. start_tls() serves the same
over TLS with a test CA made by tests/gen-test-certs.sh, start_unix() on a Unix
socket. Run as a program it prints the
plain port, the TLS port and the CA file on the first line and serves until its
standard input closes."""

import gzip
import http.server
import os
import shutil
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time


def pattern(n):
    return bytes(i % 251 for i in range(n))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_text(self, status, text, headers=()):
        body = text.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/hsts":
            # Learnt only over https, from a verified certificate.
            self.send_text(200, "scheme=%s" % ("https" if isinstance(self.connection, ssl.SSLSocket) else "http"),
                           [("Strict-Transport-Security", "max-age=600; includeSubDomains")])
            return
        if self.path == "/private":
            if "session=s3cr3t" in self.headers.get("Cookie", ""):
                self.send_text(200, "welcome alice")
            else:
                self.send_text(401, "who?")
            return
        parts = self.path.strip("/").split("/")
        try:
            kind, n = parts[0], int(parts[1])
        except (IndexError, ValueError):
            kind, n = "status", 404
        if kind == "status":
            self.send_response(n)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = pattern(n)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if kind == "gzip" and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "slow":
            step = max(1, n // 16)
            for i in range(0, n, step):
                try:
                    self.wfile.write(body[i:i + step])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
        else:
            self.wfile.write(body)


    def read_chunked(self):
        body = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                # Trailer fields up to the empty line.
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline()

    def do_POST(self):
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                framing, body = "chunked", self.read_chunked()
            else:
                framing = "length"
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        except (OSError, ValueError):
            # The client gave up on its upload (a test aborting it on purpose).
            self.close_connection = True
            return
        if self.path == "/login":
            if body == b"user=alice&password=secret":
                self.send_text(200, "ok", [("Set-Cookie", "session=s3cr3t; Path=/; HttpOnly")])
            else:
                self.send_text(403, "no")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Upload-Framing", framing)
        self.send_header("X-Upload-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that went away is what some tests do; anything else is reported.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def start_unix(path):
    """Serves the same paths on the Unix socket @path."""
    server = UnixServer(path, Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def start():
    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def make_certs():
    """Returns a directory with ca.pem, server.pem and server-key.pem."""
    directory = tempfile.mkdtemp(prefix="gmulti-bindings-")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "gen-test-certs.sh")
    subprocess.run(["/bin/sh", script, directory], check=True, capture_output=True)
    return directory


def start_tls(cert_dir):
    server = Server(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(cert_dir, "server.pem"),
                            os.path.join(cert_dir, "server-key.pem"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


if __name__ == "__main__":
    certs = make_certs()
    server = start()
    tls_server = start_tls(certs)
    print(server.server_address[1], tls_server.server_address[1],
          os.path.join(certs, "ca.pem"), flush=True)
    sys.stdin.read()
    server.shutdown()
    tls_server.shutdown()
    shutil.rmtree(certs, ignore_errors=True)
