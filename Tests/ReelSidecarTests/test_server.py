import json
import os
import struct
import subprocess
import sys

import numpy as np
from reel_sidecar import PROTOCOL_VERSION
from reel_sidecar.protocol import read_message, write_message


def error_of(server: object, request: dict, payload: bytes = b"") -> tuple[str, str]:
    header, _ = server.handle(request, payload)
    assert header["ok"] is False
    return header["error"]["kind"], header["error"]["message"]


def test_hello_reports_the_protocol_and_device(server: object) -> None:
    header, _ = server.handle({"op": "hello"}, b"")
    assert header["ok"] and header["protocol"] == PROTOCOL_VERSION
    assert header["device"] in ("cpu", "cuda") and header["free_memory_mb"] > 0
    assert "WanPipeline" in header["pipelines"] and "LTXPipeline" in header["pipelines"]


def test_bad_requests_name_their_field(
    server: object, tiny_models: dict[str, str], tmp_path: object, predict_request: object
) -> None:
    wan = tiny_models["wan"]
    assert error_of(server, {"op": "teleport"})[1].startswith("field 'op'")
    assert error_of(server, {"op": "load"}) == (
        "bad-request",
        "field 'model': a model folder is required",
    )
    assert "field 'dtype'" in error_of(server, {"op": "load", "model": wan, "dtype": "float8"})[1]
    assert "cannot read" in error_of(server, {"op": "load", "model": str(tmp_path / "nowhere")})[1]
    foreign = tmp_path / "cog"
    foreign.mkdir()
    (foreign / "model_index.json").write_text(json.dumps({"_class_name": "CogVideoXPipeline"}))
    kind, message = error_of(server, {"op": "load", "model": str(foreign)})
    assert kind == "model" and "'CogVideoXPipeline' is not supported (supported: LTXConditionPipeline" in message
    base = predict_request(wan)
    state = np.zeros(2 * 16 * 4 * 4, dtype="<f4").tobytes()
    assert "field 'channels': the model has 16" in error_of(server, {**base, "channels": 8}, state)[1]
    assert "field 'step'" in error_of(server, {**base, "step": 4}, state)[1]
    assert "field 'steps'" in error_of(server, {**base, "steps": 10**9}, state)[1]
    assert "field 'frames'" in error_of(server, {**base, "frames": -1}, state)[1]
    assert "field 'guidance_scale'" in error_of(server, {**base, "guidance_scale": float("nan")}, state)[1]
    assert "payload 'state': 12 bytes" in error_of(server, base, b"\x00" * 12)[1]
    header, payload = server.handle(base, state)
    assert header["ok"] and len(payload) == len(state), "the sidecar keeps serving after bad requests"


def test_prompt_embeddings_are_cached_per_model_and_prompt(server: object, tiny_models: dict[str, str]) -> None:
    request = {
        "model": tiny_models["wan"],
        "prompt": "a fox",
        "negative_prompt": "",
        "guidance_scale": 5.0,
    }
    family = server.model(request)
    first = server.prompt(family, request)
    assert server.prompt(family, request) is first
    assert server.prompt(family, {**request, "prompt": "a cat"}) is not first


def test_the_process_speaks_the_framing_and_ends_with_its_input(
    tiny_models: dict[str, str],
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "reel_sidecar"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    write_message(process.stdin, {"op": "hello"})
    assert read_message(process.stdout)[0]["protocol"] == PROTOCOL_VERSION
    write_message(process.stdin, {"op": "load", "model": tiny_models["ltx"]})
    reply = read_message(process.stdout)[0]
    assert reply["ok"] and reply["family"] == "ltx" and reply["geometry"]["latent_channels"] == 8
    write_message(
        process.stdin,
        {
            "op": "schedule",
            "model": tiny_models["ltx"],
            "steps": 4,
            "frames": 5,
            "height": 16,
            "width": 16,
        },
    )
    sigmas = read_message(process.stdout)[0]["sigmas"]
    assert len(sigmas) == 5 and sigmas[-1] == 0 and sigmas == sorted(sigmas, reverse=True)
    process.stdin.write(struct.pack("<IQ", 1 << 30, 0))
    process.stdin.close()
    assert process.wait(timeout=60) == 0, "a garbled stream ends the sidecar cleanly"
    assert b"over the limit" in process.stderr.read()
