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
