import os
import sys

import pytest

# The package is installed editable by scripts/install-diffusers; this also lets a bare checkout run the tests.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "ReelSidecar"))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Tiny random Wan and LTX models, saved in diffusers format, as folders."""
    from reel_sidecar.tiny_models import build

    root = tmp_path_factory.mktemp("models")
    return {family: build(family, str(root / family)) for family in ("wan", "ltx")}


@pytest.fixture(scope="session")
def server() -> object:
    from reel_sidecar.server import Server

    return Server()


def predict(model: str, **fields: object) -> dict:
    """A well-formed `predict` request for 2 latent frames of 16 channels at 4×4, with `fields` changed."""
    request = {
        "op": "predict",
        "model": model,
        "prompt": "a fox",
        "steps": 4,
        "step": 0,
        "frames": 2,
        "channels": 16,
        "height": 4,
        "width": 4,
        "fps": 16,
        "guidance_scale": 5.0,
    }
    return {**request, **fields}


@pytest.fixture
def predict_request() -> object:
    """Builds `predict` requests (see :func:`predict`)."""
    return predict
