#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scripted HTTP/2 server (prior knowledge, cleartext) that misbehaves on purpose.

    h2-hostile-server.py SCENARIO

It listens on 127.0.0.1, prints the port on the first line, and serves until its
standard input closes (or 120 s pass); then it prints one JSON line of counts
(connections, requests, responses, pings) and exits. The well-behaved parts use h2's
state machine; the hostile frames are written by hand with hyperframe, their header
blocks as literal HPACK fields, so h2's encoder state is never disturbed.

Scenarios:
  serve               answers every request: 200 with "ok:" + path (POST: after its body);
                      a path under /echo gets the request body back instead, /trailers
                      a body and trailers, /early-hints a 103 first; "Expect:
                      100-continue" is answered with a 100 at once, except under /silent
                      (counts: continues sent, and DATA that came with its request's
                      head although it had asked to wait)
  no-settings         reads and never writes, not even SETTINGS
  continuation-flood  HEADERS without END_HEADERS, then endless CONTINUATION frames
  big-header          a header block that decompresses to over 400 KB (HPACK indexing)
  ping-flood          endless PINGs, never reading the acknowledgements
  settings-flood      endless SETTINGS frames, the same
  reset-all           RST_STREAM (INTERNAL_ERROR) on every stream
  no-window           SETTINGS_INITIAL_WINDOW_SIZE 0, never a WINDOW_UPDATE
  data-past-length    Content-Length 3, then 10 bytes of DATA
  data-closed         a complete response, then DATA on the closed stream; then serves
  push-promise        a PUSH_PROMISE although the client's SETTINGS turned push off,
                      then a complete response (counts: the client's ENABLE_PUSH)
  goaway-middle       the first connection waits for 10 requests, answers those up to
                      stream 9, sends GOAWAY last-stream-id 9 and closes; later ones serve
  silent-after-first  the first connection answers once, then neither reads nor writes
                      (an unanswered PING); later ones serve
"""

import json
import socket
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame, PingFrame,
                              PushPromiseFrame, SettingsFrame)

LIFETIME = 120

counts = {"connections": 0, "requests": 0, "responses": 0, "pings": 0,
          "client_enable_push": -1, "continues": 0, "early_data": 0}
lock = threading.Lock()


def count(key, n=1):
    with lock:
        counts[key] += n


def literal(name, value):
    """An HPACK literal field without indexing, new name (RFC 7541 6.2.2)."""
    assert len(name) < 127 and len(value) < 127
    return bytes([0, len(name)]) + name + bytes([len(value)]) + value


STATUS_200 = b"\x88"


class Conn:
    def __init__(self, sock, number, scenario):
        self.sock = sock
        self.number = number
        self.scenario = scenario
        config = h2.config.H2Configuration(client_side=False, header_encoding=None,
                                           validate_inbound_headers=False)
        self.h2 = h2.connection.H2Connection(config=config)
        self.bodies = {}

    def send_raw(self, *frames):
        self.sock.sendall(b"".join(f.serialize() for f in frames))

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def events(self, timeout=10.0):
        """The next events h2 makes of what the client sent; None at EOF or timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, OSError):
            return None
        if not data:
            return None
        try:
            events = self.h2.receive_data(data)
        except Exception:
            return None
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                count("requests")
            elif isinstance(event, h2.events.PingReceived):
                count("pings")
            elif isinstance(event, h2.events.DataReceived):
                self.h2.acknowledge_received_data(event.flow_controlled_length,
                                                  event.stream_id)
        self.flush()
        return events

    def start(self, settings=None):
        self.h2.initiate_connection()
        if settings:
            self.h2.update_settings(settings)
        self.flush()

    def first_request(self):
        while True:
            events = self.events()
            if events is None:
                return None
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    return event.stream_id

    def respond(self, stream_id, path, request_body=b""):
        if path == b"/trailers":
            self.h2.send_headers(stream_id, [(b":status", b"200")])
            self.h2.send_data(stream_id, b"body")
            self.h2.send_headers(stream_id, [(b"x-checksum", b"c0ffee")], end_stream=True)
            count("responses")
            self.flush()
            return
        if path == b"/early-hints":
            self.h2.send_headers(stream_id, [(b":status", b"103"),
                                             (b"link", b"</s.css>; rel=preload")])
        body = (request_body if path.startswith((b"/echo", b"/silent"))
                else b"ok:" + path)
        self.h2.send_headers(stream_id, [(b":status", b"200"),
                                         (b"content-length", str(len(body)).encode())])
        # Counted before the bytes go: the client may have the response, and the test
        # ask for the counts, before this thread runs again.
        count("responses")
        self.send_body(stream_id, body)

    def send_body(self, stream_id, body):
        """Sends @body in frames the client's windows and frame size allow. While a
        window is shut it waits for the WINDOW_UPDATE, and what else arrives meanwhile
        is not answered: echo tests send one request at a time."""
        offset = 0
        while True:
            room = min(self.h2.local_flow_control_window(stream_id),
                       self.h2.max_outbound_frame_size, len(body) - offset)
            if room > 0 or offset == len(body):
                self.h2.send_data(stream_id, body[offset:offset + room],
                                  end_stream=offset + room == len(body))
                self.flush()
                offset += room
                if offset == len(body):
                    return
            elif self.events() is None:
                return

    def serve(self, until=None):
        """Answers requests as they complete; stops at EOF, or once @until says so."""
        paths = {}
        while until is None or not until():
            events = self.events(30.0)
            if events is None:
                return
            # Streams whose head came in this read: a client that waits for 100
            # Continue sends no DATA for them in the same read.
            waiting = set()
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    headers = dict(event.headers)
                    path = headers.get(b":path", b"/")
                    paths[event.stream_id] = path
                    self.bodies[event.stream_id] = bytearray()
                    if headers.get(b"expect", b"").lower() == b"100-continue":
                        waiting.add(event.stream_id)
                        if not path.startswith(b"/silent"):
                            self.h2.send_headers(event.stream_id, [(b":status", b"100")])
                            self.flush()
                            count("continues")
                elif isinstance(event, h2.events.DataReceived):
                    if event.stream_id in waiting and event.data:
                        count("early_data")
                    if event.stream_id in self.bodies:
                        self.bodies[event.stream_id] += event.data
                elif isinstance(event, h2.events.StreamEnded):
                    if event.stream_id in paths:
                        self.respond(event.stream_id, paths[event.stream_id],
                                     bytes(self.bodies.pop(event.stream_id, b"")))

    def drain(self, seconds=30.0):
        """Reads what the client sends until it closes, answering nothing."""
        end = time.monotonic() + seconds
        self.sock.settimeout(1.0)
        while time.monotonic() < end:
            try:
                if not self.sock.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def flood(self, frame):
        """Writes @frame over and over, never reading, until the client gives up."""
        batch = frame.serialize() * 1000
        self.sock.settimeout(10.0)
        try:
            for _ in range(1000):
                self.sock.sendall(batch)
        except OSError:
            pass


def run_scenario(conn):
    scenario = conn.scenario
    if scenario == "no-settings":
        conn.drain()
        return
    if scenario == "silent-after-first" and conn.number > 1:
        scenario = "serve"
    if scenario == "goaway-middle" and conn.number > 1:
        scenario = "serve"

    if scenario == "no-window":
        conn.start({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        conn.drain()
        return
    conn.start()
    if scenario == "serve":
        conn.serve()
        return
    if scenario == "reset-all":
        while True:
            events = conn.events(30.0)
            if events is None:
                return
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    conn.h2.reset_stream(event.stream_id, error_code=2)
            conn.flush()
    if scenario == "goaway-middle":
        seen = []
        end = time.monotonic() + 10
        while len(seen) < 10 and time.monotonic() < end:
            events = conn.events(10.0)
            if events is None:
                return
            seen += [(e.stream_id, dict(e.headers)[b":path"]) for e in events
                     if isinstance(e, h2.events.RequestReceived)]
        for stream_id, path in seen:
            if stream_id <= 9:
                conn.respond(stream_id, path)
        conn.h2.close_connection(last_stream_id=9)
        conn.flush()
        time.sleep(0.1)
        return
    if scenario == "silent-after-first":
        conn.serve(until=lambda: counts["responses"] >= 1)
        conn.sock.settimeout(30.0)
        # Neither reads nor answers: the client's PING waits in the socket.
        end = time.monotonic() + 30
        while time.monotonic() < end and not stopping.is_set():
            time.sleep(0.1)
        return

    stream_id = conn.first_request()
    if stream_id is None:
        return
    if scenario == "continuation-flood":
        head = HeadersFrame(stream_id, data=STATUS_200)
        more = ContinuationFrame(stream_id, data=literal(b"x-more", b"y" * 100))
        conn.send_raw(head)
        conn.flood(more)
    elif scenario == "big-header":
        # One 4000-byte field into the dynamic table (index 62), then 100 references.
        value = b"a" * 4000
        block = bytearray(STATUS_200)
        block += bytes([0x40, 5]) + b"x-big" + bytes([0x7f]) + encode_int(len(value) - 127)
        block += value
        block += bytes([0xbe]) * 100
        conn.send_raw(HeadersFrame(stream_id, data=bytes(block),
                                   flags=["END_HEADERS", "END_STREAM"]))
        conn.drain()
    elif scenario == "ping-flood":
        conn.flood(PingFrame(0, opaque_data=b"12345678"))
    elif scenario == "settings-flood":
        conn.flood(SettingsFrame(0))
    elif scenario == "data-past-length":
        block = STATUS_200 + literal(b"content-length", b"3")
        conn.send_raw(HeadersFrame(stream_id, data=block, flags=["END_HEADERS"]),
                      DataFrame(stream_id, data=b"0123456789", flags=["END_STREAM"]))
        conn.drain()
    elif scenario == "data-closed":
        block = STATUS_200 + literal(b"content-length", b"3")
        conn.send_raw(HeadersFrame(stream_id, data=block, flags=["END_HEADERS"]),
                      DataFrame(stream_id, data=b"abc", flags=["END_STREAM"]))
        time.sleep(0.3)
        conn.send_raw(DataFrame(stream_id, data=b"zzz", flags=["END_STREAM"]))
        conn.serve()
    elif scenario == "push-promise":
        # The client's SETTINGS came before its request, so h2 has them.
        with lock:
            counts["client_enable_push"] = conn.h2.remote_settings.enable_push
        request = b"\x82\x86\x84" + literal(b":authority", b"127.0.0.1")  # GET http /
        block = STATUS_200 + literal(b"content-length", b"2")
        conn.send_raw(PushPromiseFrame(stream_id, promised_stream_id=2, data=request,
                                       flags=["END_HEADERS"]),
                      HeadersFrame(stream_id, data=block, flags=["END_HEADERS"]),
                      DataFrame(stream_id, data=b"ok", flags=["END_STREAM"]))
        conn.drain()
    else:
        raise SystemExit("unknown scenario " + scenario)


def encode_int(n):
    """The continuation bytes of an HPACK integer past its prefix (RFC 7541 5.1)."""
    out = bytearray()
    while n >= 128:
        out.append((n % 128) + 128)
        n //= 128
    out.append(n)
    return bytes(out)


stopping = threading.Event()


def handle(sock, number, scenario):
    conn = Conn(sock, number, scenario)
    try:
        # h2 reads the client preface itself, among the first bytes it receives.
        run_scenario(conn)
    except OSError:
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def main():
    scenario = sys.argv[1]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    print(listener.getsockname()[1], flush=True)

    def accept_loop():
        number = 0
        while not stopping.is_set():
            try:
                sock, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            number += 1
            count("connections")
            threading.Thread(target=handle, args=(sock, number, scenario),
                             daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    watchdog = threading.Timer(LIFETIME, stopping.set)
    watchdog.daemon = True
    watchdog.start()
    reader = threading.Thread(target=lambda: (sys.stdin.read(), stopping.set()), daemon=True)
    reader.start()
    stopping.wait()
    listener.close()
    with lock:
        print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
