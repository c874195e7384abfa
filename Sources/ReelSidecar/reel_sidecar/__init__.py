"""Reel's model sidecar: a long-lived process a Reel worker starts and owns.

It loads a diffusers video model once, keeps it warm, caches prompt embeddings and answers
the worker's requests (velocity for one denoising step, VAE decode of a latent window) over
stdin/stdout with the framing in :mod:`reel_sidecar.protocol`. Reel's own sampler (in Swift)
drives the steps, so global noise, conditioning and the seam pass work on any family.
"""

PROTOCOL_VERSION = 1
