"""AWS event-stream frames (``application/vnd.amazon.eventstream``), without botocore.

A frame is a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes),
typed headers, a payload and a CRC32 of everything before it. Here: find frame
boundaries, decode a frame for display, and re-encode one whose payload changed
(lengths and both CRCs recomputed, headers kept byte for byte).

>>> raw = encode_frame({":event-type": "chunk"}, b'{"a": 1}')
>>> decode_frame(raw).headers, decode_frame(raw).payload
({':event-type': 'chunk'}, b'{"a": 1}')
>>> decode_frame(replace_payload(raw, b"{}")).payload
b'{}'
"""

from __future__ import annotations

import struct
from binascii import crc32
from dataclasses import dataclass
from typing import Any

from ..errors import ReplayStreamError

PRELUDE = 12  # total length, headers length, prelude CRC
MIN_FRAME = PRELUDE + 4  # no headers, no payload, message CRC
MAX_FRAME = 24 * 1024 * 1024  # botocore's limit: anything larger is not a frame


class FrameError(ReplayStreamError):
    """Bytes that are not an event-stream frame."""


@dataclass(frozen=True)
class Frame:
    """The decoded view of one frame (for display; replay always sends the raw bytes)."""

    headers: dict[str, Any]
    payload: bytes
    crc_ok: bool = True


def frame_length(buf: bytes | bytearray, pos: int = 0) -> int | None:
    """The total length the frame starting at ``pos`` declares, or ``None`` when fewer than
    4 bytes are there; a length no frame can have is returned as is (the caller decides)."""
    if len(buf) - pos < 4:
        return None
    return int.from_bytes(buf[pos:pos + 4], "big")


def _prelude(total: int, headers_len: int) -> bytes:
    head = struct.pack(">II", total, headers_len)
    return head + struct.pack(">I", crc32(head))


def _frame(headers: bytes, payload: bytes) -> bytes:
    body = _prelude(PRELUDE + len(headers) + len(payload) + 4, len(headers)) + headers + payload
    return body + struct.pack(">I", crc32(body))


def replace_payload(raw: bytes, payload: bytes) -> bytes:
    """``raw`` with a new payload: its headers kept byte for byte, lengths and CRCs recomputed."""
    headers_len = _check(raw)
    return _frame(raw[PRELUDE:PRELUDE + headers_len], payload)


def break_crc(raw: bytes) -> bytes:
    """The same frame with a wrong message CRC: what a corrupted frame looks like to a client."""
    if len(raw) < MIN_FRAME:
        return raw + b"\x00" * (MIN_FRAME - len(raw))
    last = raw[-1] ^ 0xFF
    return raw[:-1] + bytes([last])


def _check(raw: bytes) -> int:
    if len(raw) < MIN_FRAME or frame_length(raw) != len(raw):
        raise FrameError(f"not an event-stream frame ({len(raw)} bytes, prelude says {frame_length(raw)})")
    headers_len = int.from_bytes(raw[4:8], "big")
    if PRELUDE + headers_len + 4 > len(raw):
        raise FrameError(f"event-stream frame headers ({headers_len} bytes) overrun the frame")
    return headers_len


# -- headers --------------------------------------------------------------------------------
_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}  # byte, short, int, long, timestamp (ms)


def _decode_headers(data: bytes) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    pos = 0
    while pos < len(data):
        n = data[pos]
        name = data[pos + 1:pos + 1 + n].decode("utf-8", "replace")
        pos += 1 + n
        kind = data[pos]
        pos += 1
        value: Any
        if kind in (0, 1):
            value = kind == 0
        elif kind in _FIXED:
            fmt = _FIXED[kind]
            size = struct.calcsize(fmt)
            value = struct.unpack(fmt, data[pos:pos + size])[0]
            pos += size
        elif kind in (6, 7):
            size = int.from_bytes(data[pos:pos + 2], "big")
            blob = data[pos + 2:pos + 2 + size]
            value = blob.decode("utf-8", "replace") if kind == 7 else blob.hex()
            pos += 2 + size
        elif kind == 9:
            import uuid  # the rare header type: not worth uuid's import at every start-up

            value = str(uuid.UUID(bytes=bytes(data[pos:pos + 16])))
            pos += 16
        else:
            raise FrameError(f"event-stream header {name!r} has unknown type {kind}")
        headers[name] = value
    return headers


def encode_headers(headers: dict[str, str]) -> bytes:
    """String headers (type 7), the only kind Bedrock's event frames carry."""
    out = bytearray()
    for name, value in headers.items():
        key, val = name.encode("utf-8"), value.encode("utf-8")
        out += bytes([len(key)]) + key + b"\x07" + len(val).to_bytes(2, "big") + val
    return bytes(out)


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """A new frame with string headers (the emulator and tests build streams with it)."""
    return _frame(encode_headers(headers), payload)


def decode_frame(raw: bytes) -> Frame:
    """Headers and payload of one frame; raises :class:`FrameError` when it is not one."""
    headers_len = _check(raw)
    try:
        headers = _decode_headers(raw[PRELUDE:PRELUDE + headers_len])
    except (IndexError, struct.error, ValueError) as exc:
        raise FrameError(f"event-stream frame headers cannot be read: {exc}") from None
    crc_ok = (crc32(raw[:8]) == int.from_bytes(raw[8:12], "big")
              and crc32(raw[:-4]) == int.from_bytes(raw[-4:], "big"))
    return Frame(headers, raw[PRELUDE + headers_len:-4], crc_ok)
