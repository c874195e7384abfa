"""The sidecar's request loop: one model warm at a time, prompt embeddings cached, replies in
order. Started by ``reel worker --backend diffusers`` as ``python -m reel_sidecar``.

Requests (see :mod:`reel_sidecar.protocol` for the framing):

- ``hello``: protocol version, device, free memory, library versions.
- ``load`` {model, dtype}: loads the pipeline in `model` (a diffusers folder) unless it is
  already loaded; answers its family and latent geometry.
- ``schedule`` {model, dtype, steps, frames, height, width}: the model scheduler's sigmas for
  `steps` steps on a latent of that size (the final 0 included).
- ``predict`` {model, dtype, prompt, negative_prompt, guidance_scale, steps, step, frames,
  channels, height, width, fps} + float32 state: the guided velocity, float32.
- ``decode`` {model, dtype, frames, channels, height, width, tiled} + float32 latents: pixels
  in [-1, 1], float32 ``[frames, 3, height, width]``; the reply says how many frames.

A failed request is answered ``{"ok": false, "error": {"kind", "message"}}`` (kinds:
``out-of-memory``, ``bad-request``, ``model``), and the sidecar keeps serving.
"""

import json
import os
import sys
import time
import traceback
from collections import OrderedDict
from typing import Any, BinaryIO

from . import PROTOCOL_VERSION
from .protocol import PayloadMemoryError, ProtocolError, read_message, write_message

DTYPES = ("float32", "bfloat16", "float16")
PROMPT_CACHE_SIZE = 64


class RequestError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Server:
    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.device.type == "cpu":
            torch.set_num_threads(int(os.environ.get("REEL_SIDECAR_THREADS", "1")))
        torch.use_deterministic_algorithms(True)
        self.family: Any = None
        self.loaded: tuple[str, str] | None = None
        self.prompts: OrderedDict[tuple, Any] = OrderedDict()

    # Requests

    def hello(self, request: dict, payload: bytes) -> tuple[dict, bytes]:
        import diffusers

        from .families import supported_pipelines

        torch = self.torch
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        return {
            "protocol": PROTOCOL_VERSION,
            "device": self.device.type,
            "device_name": name,
            "free_memory_mb": self.free_memory_mb(),
            "torch": torch.__version__,
            "diffusers": diffusers.__version__,
            "pipelines": supported_pipelines(),
            "loaded": self.loaded[0] if self.loaded else None,
        }, b""

    def load(self, request: dict, payload: bytes) -> tuple[dict, bytes]:
        started = time.perf_counter()
        family = self.model(request)
        return {
            "family": family.name,
            "pipeline": type(family.pipe).__name__,
            "native_conditioning": family.native_conditioning,
            "geometry": family.geometry().as_dict(),
            "seconds": time.perf_counter() - started,
        }, b""

    def schedule(self, request: dict, payload: bytes) -> tuple[dict, bytes]:
        family = self.model(request)
        sigmas, _ = family.schedule(positive(request, "steps", 1000), self.sequence_length(request))
        return {"sigmas": [float(s) for s in sigmas]}, b""

    def predict(self, request: dict, payload: bytes) -> tuple[dict, bytes]:
        torch = self.torch
        family = self.model(request)
        shape = self.shape(request, family.geometry().latent_channels)
        steps = positive(request, "steps", 1000)
        step = integer(request, "step", 0, steps - 1)
        state = tensor(torch, payload, shape, "state")
        prompt = self.prompt(family, request)
        clean = request.get("clean_frames", [])
        if not isinstance(clean, list) or not all(isinstance(f, int) and 0 <= f < shape[0] for f in clean):
            raise RequestError("bad-request", f"field 'clean_frames': must be local frames below {shape[0]}")
        if clean and not family.native_conditioning:
            raise RequestError(
                "bad-request", f"field 'clean_frames': the {family.name} family conditions by replacement"
            )
        _, timesteps = family.schedule(steps, self.sequence_length(request))
        started = time.perf_counter()
        with torch.inference_mode():
            velocity = family.velocity(state, timesteps[step], prompt, positive(request, "fps", 240), tuple(clean))
        return {"seconds": time.perf_counter() - started}, velocity.contiguous().numpy().astype("<f4").tobytes()

    def decode(self, request: dict, payload: bytes) -> tuple[dict, bytes]:
        torch = self.torch
        family = self.model(request)
        shape = self.shape(request, family.geometry().latent_channels)
        latents = tensor(torch, payload, shape, "latents")
        vae = family.pipe.vae
        if request.get("tiled") and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()
        elif hasattr(vae, "disable_tiling"):
            vae.disable_tiling()
        started = time.perf_counter()
        with torch.inference_mode():
            pixels = family.decode(latents)
        seconds = time.perf_counter() - started
        frames, _, height, width = pixels.shape
        return {
            "frames": frames,
            "height": height,
            "width": width,
            "seconds": seconds,
        }, pixels.contiguous().numpy().astype("<f4").tobytes()

    # Helpers

    def model(self, request: dict) -> Any:
        from .families import family_for, supported_pipelines

        path, dtype = request.get("model"), request.get("dtype", "float32")
        if not isinstance(path, str) or not path:
            raise RequestError("bad-request", "field 'model': a model folder is required")
        if dtype not in DTYPES:
            raise RequestError("bad-request", f"field 'dtype': must be one of {', '.join(DTYPES)} (got {dtype!r})")
        if self.loaded == (path, dtype):
            return self.family
        index = os.path.join(path, "model_index.json")
        try:
            with open(index) as file:
                pipeline_class = json.load(file).get("_class_name", "")
        except (OSError, ValueError) as error:
            raise RequestError("model", f"field 'model': cannot read {index}: {error}") from error
        family_class = family_for(pipeline_class)
        if family_class is None:
            raise RequestError(
                "model",
                f"field 'model': pipeline class '{pipeline_class}' is not supported "
                f"(supported: {', '.join(supported_pipelines())})",
            )
        import diffusers

        self.family, self.loaded = None, None
        self.prompts.clear()
        if self.device.type == "cuda":
            self.torch.cuda.empty_cache()
        torch_dtype = getattr(self.torch, dtype)
        pipe = getattr(diffusers, pipeline_class).from_pretrained(path, dtype=torch_dtype)
        pipe.set_progress_bar_config(disable=True)
        pipe.to(self.device)
        if dtype != "float32" and getattr(pipe, "vae", None) is not None:
            pipe.vae.to(self.torch.float32)
        self.family, self.loaded = family_class(pipe, self.device, torch_dtype), (path, dtype)
        cap_memory(os.environ.get("REEL_SIDECAR_MAX_MEMORY_MB"))
        return self.family

    def prompt(self, family: Any, request: dict) -> Any:
        prompt, negative = request.get("prompt"), request.get("negative_prompt", "")
        guidance = request.get("guidance_scale", 1.0)
        if not isinstance(prompt, str) or not isinstance(negative, str):
            raise RequestError("bad-request", "fields 'prompt' and 'negative_prompt' must be strings")
        if not isinstance(guidance, int | float) or not 0 <= guidance <= 100:
            raise RequestError("bad-request", f"field 'guidance_scale': must be in [0, 100] (got {guidance!r})")
        key = (self.loaded, prompt, negative, float(guidance))
        if key in self.prompts:
            self.prompts.move_to_end(key)
            return self.prompts[key]
        with self.torch.inference_mode():
            encoded = family.encode_prompt(prompt, negative, float(guidance))
        self.prompts[key] = encoded
        while len(self.prompts) > PROMPT_CACHE_SIZE:
            self.prompts.popitem(last=False)
        return encoded

    def shape(self, request: dict, channels: int) -> tuple[int, int, int, int]:
        given = integer(request, "channels", 1, 4096)
        if given != channels:
            raise RequestError(
                "bad-request", f"field 'channels': the model has {channels} latent channels (got {given})"
            )
        return (
            positive(request, "frames", 1 << 16),
            channels,
            positive(request, "height", 1 << 14),
            positive(request, "width", 1 << 14),
        )

    def sequence_length(self, request: dict) -> int:
        return (
            positive(request, "frames", 1 << 16)
            * positive(request, "height", 1 << 14)
            * positive(request, "width", 1 << 14)
        )

    def free_memory_mb(self) -> int:
        if self.device.type == "cuda":
            return int(self.torch.cuda.mem_get_info(self.device)[0] >> 20)
        try:
            with open("/proc/meminfo") as file:
                for line in file:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) >> 10
        except OSError:
            pass
        return 0

    def is_out_of_memory(self, error: BaseException) -> bool:
        if isinstance(error, getattr(self.torch, "OutOfMemoryError", ())) or isinstance(error, MemoryError):
            return True
        text = str(error).lower()
        return isinstance(error, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)

    def handle(self, request: dict, payload: bytes) -> tuple[dict, bytes]:
        handlers = {
            "hello": self.hello,
            "load": self.load,
            "schedule": self.schedule,
            "predict": self.predict,
            "decode": self.decode,
        }
        op = request.get("op")
        if op not in handlers:
            return failure("bad-request", f"field 'op': unknown request {op!r} (known: {', '.join(handlers)})")
        try:
            header, body = handlers[op](request, payload)
        except RequestError as error:
            return failure(error.kind, str(error))
        except Exception as error:  # a model error must not end the sidecar: report it and serve on
            traceback.print_exc(file=sys.stderr)
            if self.is_out_of_memory(error):
                if self.device.type == "cuda":
                    self.torch.cuda.empty_cache()
                return failure("out-of-memory", f"{op}: {error}")
            return failure("model", f"{op}: {type(error).__name__}: {error}")
        return {"ok": True, **header}, body


def cap_memory(megabytes: str | None) -> None:
    """Caps this process's address space at what it maps once a model is loaded (interpreter,
    libraries, weights) plus `megabytes`: a worker's memory limit on a CPU device, where an
    allocation past it fails as torch's out-of-memory does on a GPU. Only the soft limit is set,
    so loading another model can raise it again."""
    if not megabytes:
        return
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.getrlimit(resource.RLIMIT_AS)[1]))
    with open("/proc/self/status") as file:
        mapped = next(int(line.split()[1]) << 10 for line in file if line.startswith("VmSize:"))
    limit = mapped + (int(megabytes) << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    print(
        f"reel-sidecar: address space capped at {limit >> 20} MB ({megabytes} MB over the {mapped >> 20} MB mapped)",
        file=sys.stderr,
    )


def positive(request: dict, field: str, limit: int) -> int:
    return integer(request, field, 1, limit)


def integer(request: dict, field: str, low: int, high: int) -> int:
    value = request.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RequestError("bad-request", f"field '{field}': must be an integer in [{low}, {high}] (got {value!r})")
    return value


def tensor(torch: Any, payload: bytes, shape: tuple[int, ...], field: str) -> Any:
    count = 1
    for extent in shape:
        count *= extent
    if len(payload) != count * 4:
        raise RequestError(
            "bad-request", f"payload '{field}': {len(payload)} bytes, shape {list(shape)} needs {count * 4}"
        )
    return torch.frombuffer(
        payload if isinstance(payload, bytearray) else bytearray(payload), dtype=torch.float32
    ).reshape(shape)


def failure(kind: str, message: str) -> tuple[dict, bytes]:
    return {"ok": False, "error": {"kind": kind, "message": message[-4000:]}}, b""


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    server = Server()
    while True:
        try:
            message = read_message(requests)
        except PayloadMemoryError as error:
            write_message(replies, *failure("out-of-memory", f"{error.header.get('op')}: {error}"))
            continue
        except ProtocolError as error:
            print(f"reel-sidecar: {error}; stopping", file=sys.stderr)
            return
        if message is None:
            return
        header, body = server.handle(*message)
        write_message(replies, header, body)


def main() -> None:
    # The protocol owns stdout: keep a private copy of it and send fd 1 (stray prints,
    # library warnings) to stderr, which the worker keeps as the sidecar's log.
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
