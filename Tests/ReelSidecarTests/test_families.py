"""Each family's calls, driven step by step as Reel's sampler drives them, against the diffusers
pipeline itself; and windowed decoding against decoding the whole latent video at once."""

import pytest
import torch
from reel_sidecar.reference import pipeline_latents

FRAMES, SIZE, STEPS, GUIDANCE, FPS = 17, 64, 4, 5.0, 16


def euler_against_pipeline(server: object, folder: str) -> float:
    """Max |difference| between the family's velocity stepped by Euler and the pipeline, same latents."""
    model = server.model({"model": folder})
    geometry = model.geometry()
    shape = (
        (FRAMES - 1) // geometry.temporal_compression + 1,
        geometry.latent_channels,
        SIZE // geometry.spatial_compression,
        SIZE // geometry.spatial_compression,
    )
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    prompt = model.encode_prompt("a red fox runs", "blurry", GUIDANCE)
    sigmas, timesteps = model.schedule(STEPS, shape[0] * shape[2] * shape[3])
    x = noise.clone()
    with torch.inference_mode():
        for step in range(STEPS):
            x = x + (sigmas[step + 1] - sigmas[step]) * model.velocity(x, timesteps[step], prompt, FPS)
    reference = pipeline_latents(
        server, folder, noise, FRAMES, SIZE, SIZE, STEPS, GUIDANCE, "a red fox runs", "blurry", FPS
    )
    return (reference - x).abs().max().item()


@pytest.mark.parametrize("family", ["wan", "ltx"])
def test_euler_over_the_models_velocity_matches_the_pipeline(
    server: object, tiny_models: dict[str, str], family: str
) -> None:
    assert euler_against_pipeline(server, tiny_models[family]) <= 1e-4


@pytest.mark.parametrize("family", ["wan", "ltx"])
def test_windowed_decode_with_warm_up_converges_to_the_whole_decode(
    server: object, tiny_models: dict[str, str], family: str
) -> None:
    """Latents 20..26 of 40 decoded alone with `w` warm-up latents before them (and after, for a
    decoder that is not causal), against the same frames of decoding all 40 at once."""
    model = server.model({"model": tiny_models[family]})
    geometry = model.geometry()
    r, total, kept = geometry.temporal_compression, 40, (28, 34)
    latents = torch.randn(
        (total, geometry.latent_channels, 4, 4),
        generator=torch.Generator().manual_seed(5),
    )
    first, last = 1 + r * (kept[0] - 1), 1 + r * (kept[1] - 1)
    differences = {}
    with torch.inference_mode():
        whole = model.decode(latents)
        assert whole.shape[0] == 1 + r * (total - 1), "k latent frames decode to 1 + r(k - 1) frames"
        for warm_up in (2, 8, 16, 28):
            start = kept[0] - warm_up
            end = kept[1] if geometry.decoder_causal else min(total, kept[1] + warm_up)
            window = model.decode(latents[start:end])
            assert window.shape[0] == 1 + r * (end - start - 1)
            kept_frames = window[first - r * start : last - r * start]
            differences[warm_up] = (kept_frames - whole[first:last]).abs().max().item()
    print(f"MEASURE windowed decode max pixel difference in [-1, 1] by warm-up ({family}): {differences}")
    assert differences[28] <= 1e-5, "warm-up past the decoder's receptive field decodes exactly"
    assert differences[28] <= differences[8] <= differences[2]


def test_a_model_shipped_with_unipc_is_stepped_over_its_flow_shift(server: object, tiny_models: dict[str, str]) -> None:
    """Wan checkpoints ship a UniPC solver; Reel's Euler steps use the flow schedule of its shift."""
    from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler

    model = server.model({"model": tiny_models["wan"]})
    shipped = model.pipe.scheduler
    try:
        model.pipe.scheduler = UniPCMultistepScheduler(
            prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
        )
        model._schedules.clear()
        sigmas, _ = model.schedule(6, 100)
        expected = FlowMatchEulerDiscreteScheduler(shift=3.0)
        expected.set_timesteps(6)
        assert torch.equal(sigmas, expected.sigmas.float())
    finally:
        model.pipe.scheduler = shipped
        model._schedules.clear()


def test_ltx_conditions_natively_and_wan_refuses_clean_frames(
    server: object, tiny_models: dict[str, str], predict_request: object
) -> None:
    """LTX-Video's clean frames get timestep 0 on their tokens (LTXConditionPipeline's mask)."""
    model = server.model({"model": tiny_models["ltx"]})
    assert model.native_conditioning
    x = torch.randn((5, 8, 8, 8), generator=torch.Generator().manual_seed(9))
    prompt = model.encode_prompt("a fox", "", 5.0)
    _, timesteps = model.schedule(4, 5 * 8 * 8)
    with torch.inference_mode():
        plain = model.velocity(x, timesteps[1], prompt, FPS)
        pinned = model.velocity(x, timesteps[1], prompt, FPS, (2,))
    assert (plain - pinned).abs().max().item() > 1e-3, "the clean frame's timestep reaches the transformer"
    base = predict_request(tiny_models["wan"], clean_frames=[1])
    header, _ = server.handle(base, bytes(2 * 16 * 4 * 4 * 4))
    assert not header["ok"] and "conditions by replacement" in header["error"]["message"]
    header, _ = server.handle(
        {**base, "model": tiny_models["ltx"], "channels": 8, "clean_frames": [7]}, bytes(2 * 8 * 16 * 4)
    )
    assert not header["ok"] and "field 'clean_frames'" in header["error"]["message"]


def test_wan_22_switches_to_its_second_transformer_at_the_boundary(server: object, tmp_path: object) -> None:
    from reel_sidecar.tiny_models import build

    folder = build("wan22", str(tmp_path / "wan22"))
    assert euler_against_pipeline(server, folder) <= 1e-4
    model = server.model({"model": folder})
    prompt = model.encode_prompt("a fox", "", 5.0)
    x = torch.randn((2, 16, 4, 4), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        high = model.velocity(x, torch.tensor(999.0), prompt, FPS)
        model.pipe.transformer_2, saved = model.pipe.transformer, model.pipe.transformer_2
        same = model.velocity(x, torch.tensor(100.0), prompt, FPS)
        model.pipe.transformer_2 = saved
        low = model.velocity(x, torch.tensor(100.0), prompt, FPS)
    assert high.shape == low.shape
    assert (low - same).abs().max().item() > 1e-3, "below the boundary the second transformer answers"


def test_an_ltx_condition_pipeline_folder_loads_as_ltx(
    server: object, tiny_models: dict[str, str], tmp_path: object
) -> None:
    import json
    import shutil

    folder = tmp_path / "ltx-condition"
    shutil.copytree(tiny_models["ltx"], folder)
    index = json.loads((folder / "model_index.json").read_text())
    index["_class_name"] = "LTXConditionPipeline"
    (folder / "model_index.json").write_text(json.dumps(index))
    header, _ = server.handle({"op": "load", "model": str(folder)}, b"")
    assert header["ok"] and header["pipeline"] == "LTXConditionPipeline" and header["family"] == "ltx"
    assert header["native_conditioning"]
    request = {
        "op": "predict",
        "model": str(folder),
        "prompt": "a fox",
        "steps": 4,
        "step": 1,
        "frames": 3,
        "channels": 8,
        "height": 8,
        "width": 8,
        "fps": 16,
        "guidance_scale": 3.0,
        "clean_frames": [0],
    }
    header, payload = server.handle(request, bytes(3 * 8 * 8 * 8 * 4))
    assert header["ok"] and len(payload) == 3 * 8 * 8 * 8 * 4


def test_large_frames_decode_in_the_vaes_own_tiles(server: object, tiny_models: dict[str, str]) -> None:
    """`tiled` turns on the VAE's spatial tiling: same frames, shape and range, within its blending."""
    request = {"op": "decode", "model": tiny_models["wan"], "frames": 2, "channels": 16, "height": 48, "width": 48}
    latents = torch.randn((2, 16, 48, 48), generator=torch.Generator().manual_seed(2)).numpy().astype("<f4").tobytes()
    whole, plain = server.handle({**request, "tiled": False}, latents)
    tiled_header, tiled = server.handle({**request, "tiled": True}, latents)
    assert whole["ok"] and tiled_header["ok"]
    assert (tiled_header["frames"], tiled_header["height"], tiled_header["width"]) == (5, 384, 384)
    a = torch.frombuffer(bytearray(plain), dtype=torch.float32)
    b = torch.frombuffer(bytearray(tiled), dtype=torch.float32)
    difference = (a - b).abs().max().item()
    print(f"MEASURE tiled against untiled decode, 384x384 (wan): max pixel difference {difference:.4f}")
    assert 0 < difference < 1.0, "tiling was used (not bit-identical) and blends its tiles"
