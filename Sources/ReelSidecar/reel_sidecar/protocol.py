"""Framing between a Reel worker and its sidecar, over the sidecar's stdin and stdout.

Every message, either way, is::

    u32 little-endian  header length H
    u64 little-endian  payload length P
    H bytes            header: a UTF-8 JSON object ("op" in requests, "ok" in replies)
    P bytes            payload: raw little-endian float32 tensors, or nothing

The worker opens with ``{"op": "hello"}``; the reply carries ``protocol``
(:data:`reel_sidecar.PROTOCOL_VERSION`), and a worker that speaks another version stops.
"""

import json
import struct
from typing import BinaryIO

PREFIX = struct.Struct("<IQ")
#: Bounds checked before anything is allocated: a header is small, a payload at most 8 GiB.
MAX_HEADER = 1 << 20
MAX_PAYLOAD = 8 << 30


class ProtocolError(Exception):
    """The peer sent something that is not a framed message."""


class PayloadMemoryError(Exception):
    """A well-framed message whose payload could not be allocated; it was read and dropped, so
    the stream stays in step and the request can be answered out of memory."""

    def __init__(self, header: dict, size: int) -> None:
        super().__init__(f"cannot allocate a {size}-byte payload")
        self.header = header


def read_message(stream: BinaryIO) -> tuple[dict, bytes] | None:
    """Reads one message; None at a clean end of stream."""
    prefix = stream.read(PREFIX.size)
    if not prefix:
        return None
    if len(prefix) != PREFIX.size:
        raise ProtocolError(f"truncated prefix ({len(prefix)} of {PREFIX.size} bytes)")
    header_length, payload_length = PREFIX.unpack(prefix)
    if header_length > MAX_HEADER or payload_length > MAX_PAYLOAD:
        raise ProtocolError(f"header {header_length} or payload {payload_length} bytes is over the limit")
    header = _read_exactly(stream, header_length)
    try:
        decoded = json.loads(header)
    except ValueError as error:
        raise ProtocolError(f"header is not JSON: {error}") from error
    if not isinstance(decoded, dict):
        raise ProtocolError("header is not a JSON object")
    try:
        payload = _read_exactly(stream, payload_length)
    except MemoryError:
        _drain(stream, payload_length)
        raise PayloadMemoryError(decoded, payload_length) from None
    return decoded, payload


def write_message(stream: BinaryIO, header: dict, payload: bytes = b"") -> None:
    encoded = json.dumps(header, separators=(",", ":")).encode()
    stream.write(PREFIX.pack(len(encoded), len(payload)))
    stream.write(encoded)
    if payload:
        stream.write(payload)
    stream.flush()


def _read_exactly(stream: BinaryIO, count: int) -> bytes:
    buffer = bytearray(count)
    view, got = memoryview(buffer), 0
    while got < count:
        read = stream.readinto(view[got : got + (1 << 24)])
        if not read:
            raise ProtocolError(f"stream ended {count - got} bytes short")
        got += read
    return bytes(buffer) if count < 4096 else buffer


def _drain(stream: BinaryIO, count: int) -> None:
    """Reads and drops `count` bytes, a megabyte at a time (whatever is left of a payload)."""
    remaining = count
    while remaining:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            raise ProtocolError(f"stream ended {remaining} bytes short")
        remaining -= len(chunk)
