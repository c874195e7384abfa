"""The diffusers pipeline's own output for given initial latents: what Reel's sampler must
reproduce (the parity tests), and the plain pipeline call the benchmark compares against.

    python -m reel_sidecar.reference --model DIR --noise IN.f32 --frames F --height H --width W
        --steps N --guidance G --prompt P [--negative-prompt N] [--fps FPS] --out OUT.f32

IN holds the initial latents in Reel's layout (float32 [T, C, h, w]); OUT receives the final
latents in the same layout, before decoding.
"""

import argparse
import time

import numpy as np
import torch

from .server import Server


def pipeline_latents(
    server: Server,
    model: str,
    noise: torch.Tensor,
    pixel_frames: int,
    height: int,
    width: int,
    steps: int,
    guidance: float,
    prompt: str,
    negative_prompt: str,
    fps: int,
) -> torch.Tensor:
    """Runs the model's own pipeline from `noise` ([T, C, h, w]) and returns its final latents, same layout."""
    family = server.model({"model": model, "dtype": "float32"})
    pipe = family.pipe
    latents = noise.permute(1, 0, 2, 3).unsqueeze(0)
    frames, _, latent_height, latent_width = noise.shape
    arguments = dict(
        prompt=prompt,
        negative_prompt=negative_prompt,
        num_inference_steps=steps,
        guidance_scale=guidance,
        height=height,
        width=width,
        num_frames=pixel_frames,
        output_type="latent",
    )
    if family.name == "ltx":
        latents = pipe._pack_latents(latents, pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size)
        arguments["frame_rate"] = fps
    with torch.inference_mode():
        out = pipe(latents=latents, **arguments).frames
    if family.name == "ltx":
        out = pipe._unpack_latents(
            out,
            frames,
            latent_height,
            latent_width,
            pipe.transformer_spatial_patch_size,
            pipe.transformer_temporal_patch_size,
        )
    return out[0].permute(1, 0, 2, 3).float().contiguous()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--noise", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--frames", type=int, required=True, help="pixel frames")
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--guidance", type=float, required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--negative-prompt", default="")
    parser.add_argument("--fps", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    server = Server()
    torch.set_num_threads(args.threads)
    family = server.model({"model": args.model, "dtype": "float32"})
    geometry = family.geometry()
    latent_frames = (args.frames - 1) // geometry.temporal_compression + 1
    shape = (
        latent_frames,
        geometry.latent_channels,
        args.height // geometry.spatial_compression,
        args.width // geometry.spatial_compression,
    )
    noise = torch.from_numpy(np.fromfile(args.noise, dtype="<f4").reshape(shape))
    started = time.perf_counter()
    out = pipeline_latents(
        server,
        args.model,
        noise,
        args.frames,
        args.height,
        args.width,
        args.steps,
        args.guidance,
        args.prompt,
        args.negative_prompt,
        args.fps,
    )
    print(f"pipeline seconds {time.perf_counter() - started:.4f}")
    out.numpy().astype("<f4").tofile(args.out)


if __name__ == "__main__":
    main()
