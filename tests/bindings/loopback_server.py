#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A loopback HTTP/1.1 server for the bindings tests and the Python example.

Paths: /bytes/N (N bytes, byte i is i % 251), /slow/N (the same in 16 pieces with
pauses), /status/N (an empty response with that status). Run as a program it prints its
port on the first line and serves until its standard input closes."""

import http.server
import sys
import threading
import time


def pattern(n):
    return bytes(i % 251 for i in range(n))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
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
        self.send_header("Content-Length", str(n))
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


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def start():
    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


if __name__ == "__main__":
    server = start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()
