"""Wan 2.1 / 2.2 text-to-video (WanPipeline): latents [B, C, T, H, W], T5 prompts, a causal VAE
whose k latent frames decode to 1 + 4(k - 1) frames, latents de-normalised before decoding."""

import torch

from .base import Family, Geometry, Prompt


class Wan(Family):
    name = "wan"
    pipelines = ("WanPipeline",)

    def geometry(self) -> Geometry:
        vae = self.pipe.vae.config
        patch = self.pipe.transformer.config.patch_size
        return Geometry(
            int(vae.z_dim),
            int(vae.scale_factor_temporal),
            int(vae.scale_factor_spatial),
            int(patch[0]),
            int(patch[1]),
            int(patch[2]),
            True,
        )

    def encode_prompt(self, prompt: str, negative_prompt: str, guidance_scale: float) -> Prompt:
        guided = guidance_scale > 1.0
        positive, negative = self.pipeline_prompt(prompt, negative_prompt, guided)
        return Prompt(embeds=(positive, negative if guided else None), guidance_scale=guidance_scale)

    def make_schedule(self, steps: int, sequence_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        scheduler = self.fresh_scheduler()
        scheduler.set_timesteps(steps, device="cpu")
        return scheduler.sigmas.float(), scheduler.timesteps

    def velocity(
        self, x: torch.Tensor, timestep: torch.Tensor, prompt: Prompt, fps: int, clean_frames: tuple[int, ...] = ()
    ) -> torch.Tensor:
        latents = x.permute(1, 0, 2, 3).unsqueeze(0).to(self.device)
        model, guidance = self.pipe.transformer, prompt.guidance_scale
        boundary = self.pipe.config.boundary_ratio
        if boundary is not None and float(timestep) < boundary * self.pipe.scheduler.config.num_train_timesteps:
            model, guidance = self.pipe.transformer_2, self.call_default("guidance_scale_2") or guidance
        if self.pipe.config.expand_timesteps:
            _, _, frames, height, width = latents.shape
            steps = torch.full((1, frames * (height // 2) * (width // 2)), float(timestep), device=self.device)
        else:
            steps = timestep.to(self.device).expand(1)
        model_input = latents.to(self.dtype)
        positive, negative = prompt.embeds
        velocity = model(hidden_states=model_input, timestep=steps, encoder_hidden_states=positive, return_dict=False)[
            0
        ]
        if negative is not None:
            unconditional = model(
                hidden_states=model_input, timestep=steps, encoder_hidden_states=negative, return_dict=False
            )[0]
            velocity = unconditional + guidance * (velocity - unconditional)
        return velocity.float()[0].permute(1, 0, 2, 3).cpu()

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        vae = self.pipe.vae
        z = latents.permute(1, 0, 2, 3).unsqueeze(0).to(self.device, vae.dtype)
        mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1).to(z.device, z.dtype)
        std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1).to(z.device, z.dtype)
        video = vae.decode(z * std + mean, return_dict=False)[0]
        return video[0].float().clamp(-1, 1).permute(1, 0, 2, 3).cpu()
