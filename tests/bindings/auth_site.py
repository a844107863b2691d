#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small site for the authentication examples and tests, on loopback: a login form
that sets a session cookie (POST /login), a page for logged-in users (/account), and
a page behind HTTP Basic authentication (/basic/). Run as a script, it prints its port
and serves until its standard input closes."""

import base64
import http.server
import sys
import threading
import urllib.parse

USER = "alice"
PASSWORD = "wonderland"
SESSION = "sid=7f3a9c"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if self.path == "/login" and form.get("user") == [USER] and \
                form.get("password") == [PASSWORD]:
            self.reply(200, "welcome\n", [("Set-Cookie", SESSION + "; Path=/; HttpOnly")])
        else:
            self.reply(403, "wrong login\n")

    def do_GET(self):
        if self.path == "/account":
            cookies = self.headers.get("Cookie", "")
            if SESSION in [c.strip() for c in cookies.split(";")]:
                self.reply(200, "hello %s\n" % USER)
            else:
                self.reply(403, "log in first\n")
        elif self.path.startswith("/basic/"):
            expected = "Basic " + base64.b64encode(
                ("%s:%s" % (USER, PASSWORD)).encode()).decode()
            if self.headers.get("Authorization") == expected:
                self.reply(200, "basic hello %s\n" % USER)
            else:
                self.server.challenges += 1
                self.reply(401, "who are you?\n",
                           [("WWW-Authenticate", 'Basic realm="site", charset="UTF-8"')])
        else:
            self.reply(404, "not here\n")


def start():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.challenges = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


if __name__ == "__main__":
    site = start()
    print(site.server_address[1], flush=True)
    sys.stdin.read()
    site.shutdown()
