#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of fuzz-http2-exchange (fuzz/corpus/http2-exchange/): a few
valid server byte streams for its three streams (1: GET, 3: POST, 5: GET removed
midway), made with hyperframe (python3-h2's frame layer). Run from the source tree."""

import os

from hyperframe.frame import (DataFrame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "http2-exchange")


def lit(name, value):
    return bytes([0, len(name)]) + name + bytes([len(value)]) + value


STATUS_200 = b"\x88"
STATUS_404 = b"\x8d"


def frames(*fs):
    return b"".join(f.serialize() for f in fs)


def escape(data):
    return data.replace(b"\xff", b"\xff\xff")


class Op:
    def __init__(self, code):
        self.code = code


def write(name, *parts):
    """Each part is server bytes (escaped here) or an operation (bytes after FF)."""
    out = b""
    for part in parts:
        out += b"\xff" + part.code if isinstance(part, Op) else escape(part)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(out)


W = Op(b"w")
PREAMBLE = frames(SettingsFrame(0, settings={3: 100, 4: 1 << 20}), SettingsFrame(0, flags=["ACK"]))
WINDOWS = frames(WindowUpdateFrame(0, window_increment=1 << 20),
                 WindowUpdateFrame(3, window_increment=1 << 20))


def head(stream, status=STATUS_200, length=None, end=False):
    block = status + (lit(b"content-length", str(length).encode()) if length is not None else b"")
    flags = ["END_HEADERS"] + (["END_STREAM"] if end else [])
    return HeadersFrame(stream, data=block, flags=flags)


write("all-complete", PREAMBLE, W, WINDOWS,
      frames(head(1, length=5), DataFrame(1, data=b"hello", flags=["END_STREAM"])), W,
      frames(head(3, length=2), DataFrame(3, data=b"ok", flags=["END_STREAM"])), W,
      frames(head(5, STATUS_404, end=True)), W)
write("paused-body", PREAMBLE, W, frames(head(1)), Op(b"p"),
      frames(DataFrame(1, data=b"x" * 3000), DataFrame(1, data=b"y" * 3000)), W, Op(b"u"),
      frames(DataFrame(1, data=b"", flags=["END_STREAM"]), PingFrame(0, opaque_data=b"pingping")),
      W, WINDOWS, frames(head(3, end=True)), W)
write("reset-and-goaway", PREAMBLE, W, WINDOWS,
      frames(RstStreamFrame(5, error_code=8), head(1, length=0, end=True)), W, Op(b"x"),
      frames(head(3), DataFrame(3, data=b"partial"), GoAwayFrame(0, last_stream_id=3)), W,
      frames(DataFrame(3, data=b"", flags=["END_STREAM"])), W, Op(b"c"))
write("trailers-and-timer", PREAMBLE, W, Op(b"t"), WINDOWS,
      frames(head(1), DataFrame(1, data=b"body"),
             HeadersFrame(1, data=lit(b"x-trailer", b"1"), flags=["END_HEADERS", "END_STREAM"])),
      W, frames(head(3, length=0, end=True)), W, Op(b"t"))
