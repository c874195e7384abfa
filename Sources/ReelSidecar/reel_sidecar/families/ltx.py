"""LTX-Video (LTXPipeline, LTXConditionPipeline): packed latents [B, T·H·W, C], a dynamic
timestep shift from the sequence length, CFG batched as [negative, positive], and a VAE that
takes a decode timestep. k latent frames decode to 1 + 8(k - 1) frames on the real model."""

import numpy as np
import torch
from diffusers.pipelines.ltx.pipeline_ltx import calculate_shift, retrieve_timesteps

from .base import Family, Geometry, Prompt


class LTX(Family):
    name = "ltx"
    pipelines = ("LTXPipeline", "LTXConditionPipeline")
    #: As LTXConditionPipeline conditions: the tokens of clean frames get timestep 0.
    native_conditioning = True

    def geometry(self) -> Geometry:
        vae, transformer = self.pipe.vae, self.pipe.transformer.config
        patch = int(transformer.patch_size)
        return Geometry(
            int(vae.config.latent_channels),
            int(vae.temporal_compression_ratio),
            int(vae.spatial_compression_ratio),
            int(transformer.patch_size_t),
            patch,
            patch,
            bool(vae.config.get("decoder_causal", False)),
        )

    def encode_prompt(self, prompt: str, negative_prompt: str, guidance_scale: float) -> Prompt:
        guided = guidance_scale > 1.0
        positive, mask, negative, negative_mask = self.pipeline_prompt(prompt, negative_prompt, guided)
        if guided:
            positive, mask = torch.cat([negative, positive]), torch.cat([negative_mask, mask])
        return Prompt(embeds=(positive, mask), guidance_scale=guidance_scale)

    def make_schedule(self, steps: int, sequence_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        scheduler = self.fresh_scheduler()
        config = scheduler.config
        extra = {}
        if config.get("use_dynamic_shifting"):
            extra["mu"] = calculate_shift(
                sequence_length,
                config.get("base_image_seq_len", 256),
                config.get("max_image_seq_len", 4096),
                config.get("base_shift", 0.5),
                config.get("max_shift", 1.15),
            )
        timesteps, _ = retrieve_timesteps(
            scheduler, steps, "cpu", None, sigmas=np.linspace(1.0, 1 / steps, steps), **extra
        )
        return scheduler.sigmas.float(), timesteps

    def velocity(
        self, x: torch.Tensor, timestep: torch.Tensor, prompt: Prompt, fps: int, clean_frames: tuple[int, ...] = ()
    ) -> torch.Tensor:
        frames, channels, height, width = x.shape
        patch, patch_t = self.pipe.transformer_spatial_patch_size, self.pipe.transformer_temporal_patch_size
        packed = self.pipe._pack_latents(x.permute(1, 0, 2, 3).unsqueeze(0).to(self.device), patch, patch_t)
        embeds, mask = prompt.embeds
        guided = embeds.shape[0] == 2
        model_input = (torch.cat([packed] * 2) if guided else packed).to(embeds.dtype)
        pipe = self.pipe
        rope = (
            pipe.vae_temporal_compression_ratio / fps,
            pipe.vae_spatial_compression_ratio,
            pipe.vae_spatial_compression_ratio,
        )
        steps = timestep.to(self.device).float().expand(model_input.shape[0])
        if clean_frames:
            # One timestep per token, 0 for the tokens of clean frames (packed frame-major).
            clean = torch.zeros(frames // patch_t, dtype=torch.bool, device=self.device)
            clean[[frame // patch_t for frame in clean_frames]] = True
            clean = clean.repeat_interleave((height // patch) * (width // patch))
            steps = torch.where(clean, torch.zeros((), device=self.device), steps[:, None])
        velocity = self.pipe.transformer(
            hidden_states=model_input,
            encoder_hidden_states=embeds,
            timestep=steps,
            encoder_attention_mask=mask,
            num_frames=frames,
            height=height,
            width=width,
            rope_interpolation_scale=rope,
            return_dict=False,
        )[0].float()
        if guided:
            unconditional, conditional = velocity.chunk(2)
            velocity = unconditional + prompt.guidance_scale * (conditional - unconditional)
        unpacked = self.pipe._unpack_latents(velocity, frames, height, width, patch, patch_t)
        return unpacked[0].permute(1, 0, 2, 3).cpu()

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        vae = self.pipe.vae
        z = latents.permute(1, 0, 2, 3).unsqueeze(0).to(self.device, vae.dtype)
        z = self.pipe._denormalize_latents(z, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)
        temb = None
        if vae.config.timestep_conditioning:
            temb = torch.tensor([float(self.call_default("decode_timestep"))], device=z.device, dtype=z.dtype)
        video = vae.decode(z, temb, return_dict=False)[0]
        return video[0].float().clamp(-1, 1).permute(1, 0, 2, 3).cpu()
