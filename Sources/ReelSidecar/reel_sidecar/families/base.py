"""What a model family must provide. One file per family implements it."""

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Geometry:
    """The latent grid a family's model works on, read from its configs (Reel plans on it)."""

    latent_channels: int
    temporal_compression: int
    spatial_compression: int
    patch_frames: int
    patch_height: int
    patch_width: int
    decoder_causal: bool

    def as_dict(self) -> dict[str, int]:
        return {
            "latent_channels": self.latent_channels,
            "temporal_compression": self.temporal_compression,
            "spatial_compression": self.spatial_compression,
            "patch_frames": self.patch_frames,
            "patch_height": self.patch_height,
            "patch_width": self.patch_width,
            "decoder_causal": int(self.decoder_causal),
        }


@dataclass
class Prompt:
    """A prompt's cached embeddings, ready for the transformer (with the negative one under CFG)."""

    embeds: Any
    guidance_scale: float


class Family:
    """A loaded pipeline of one family. Latents cross this interface as float32 tensors laid out
    ``[frames, channels, height, width]`` (Reel's layout); each family converts to its own."""

    name = ""
    #: diffusers pipeline classes (model_index.json's ``_class_name``) this family drives.
    pipelines: tuple[str, ...] = ()
    #: Whether the model takes clean frames as such (``clean_frames`` in :meth:`velocity`); if not,
    #: Reel conditions it by replacement (pinned voxels noised to the step's level).
    native_conditioning = False

    def __init__(self, pipe: Any, device: torch.device, dtype: torch.dtype) -> None:
        self.pipe = pipe
        self.device = device
        self.dtype = dtype
        self._schedules: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def geometry(self) -> Geometry:
        raise NotImplementedError

    def encode_prompt(self, prompt: str, negative_prompt: str, guidance_scale: float) -> Prompt:
        raise NotImplementedError

    def pipeline_prompt(self, prompt: str, negative_prompt: str, guided: bool) -> tuple[Any, ...]:
        """What the pipeline's own ``encode_prompt`` returns for `prompt`, on this device and dtype,
        at the pipeline's default sequence length."""
        return self.pipe.encode_prompt(
            prompt=prompt,
            negative_prompt=negative_prompt,
            do_classifier_free_guidance=guided,
            max_sequence_length=self.call_default("max_sequence_length"),
            device=self.device,
            dtype=self.dtype,
        )

    def make_schedule(self, steps: int, sequence_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(sigmas with the final 0, timesteps) of the model's own scheduler for `steps` steps."""
        raise NotImplementedError

    def velocity(
        self, x: torch.Tensor, timestep: torch.Tensor, prompt: Prompt, fps: int, clean_frames: tuple[int, ...] = ()
    ) -> torch.Tensor:
        """The guided velocity for state `x` ([T, C, H, W], float32) at `timestep`; the latent frames
        `clean_frames` hold clean values (native conditioning, where the family has it)."""
        raise NotImplementedError

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Pixels in [-1, 1], ``[frames, 3, height, width]`` float32, of latents ``[T, C, H, W]``."""
        raise NotImplementedError

    def schedule(self, steps: int, sequence_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        key = (steps, sequence_length)
        if key not in self._schedules:
            self._schedules[key] = self.make_schedule(steps, sequence_length)
        return self._schedules[key]

    def fresh_scheduler(self) -> Any:
        """The model's flow-matching Euler scheduler, with no state from earlier calls. A model that
        ships another solver (Wan checkpoints ship UniPC) gets Euler over its own flow shift: Reel
        takes Euler steps itself, and the sigmas must be the ones Euler is run on."""
        from diffusers import FlowMatchEulerDiscreteScheduler

        scheduler = self.pipe.scheduler
        if isinstance(scheduler, FlowMatchEulerDiscreteScheduler):
            return type(scheduler).from_config(scheduler.config)
        config = scheduler.config
        shift = config.get("flow_shift") or config.get("shift") or 1.0
        return FlowMatchEulerDiscreteScheduler(shift=shift, num_train_timesteps=config.get("num_train_timesteps", 1000))

    def call_default(self, parameter: str) -> Any:
        """The pipeline's own default for a ``__call__`` parameter, so the sidecar matches it."""
        import inspect

        return inspect.signature(type(self.pipe).__call__).parameters[parameter].default
