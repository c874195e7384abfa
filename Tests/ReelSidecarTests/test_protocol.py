import io
import struct

import pytest
from reel_sidecar.protocol import ProtocolError, read_message, write_message


def test_a_message_round_trips_with_its_payload() -> None:
    stream = io.BytesIO()
    write_message(stream, {"op": "predict", "step": 3}, b"\x00\x01\x02\x03")
    stream.seek(0)
    assert read_message(stream) == ({"op": "predict", "step": 3}, b"\x00\x01\x02\x03")
    assert read_message(stream) is None, "a clean end of stream"


def test_truncated_and_oversized_frames_are_refused() -> None:
    with pytest.raises(ProtocolError, match="truncated prefix"):
        read_message(io.BytesIO(b"\x01\x00"))
    with pytest.raises(ProtocolError, match="over the limit"):
        read_message(io.BytesIO(struct.pack("<IQ", 1 << 30, 0)))
    with pytest.raises(ProtocolError, match="ended 4 bytes short"):
        read_message(io.BytesIO(struct.pack("<IQ", 2, 4) + b"{}"))
    with pytest.raises(ProtocolError, match="not a JSON object"):
        read_message(io.BytesIO(struct.pack("<IQ", 2, 0) + b"[]"))
