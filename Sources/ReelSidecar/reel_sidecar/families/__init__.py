"""Model families, one file each. Adding a family is adding a module and listing it here."""

from .base import Family, Geometry, Prompt
from .ltx import LTX
from .wan import Wan

FAMILIES: tuple[type[Family], ...] = (Wan, LTX)


def family_for(pipeline_class: str) -> type[Family] | None:
    """The family that drives a diffusers pipeline class, or None."""
    for family in FAMILIES:
        if pipeline_class in family.pipelines:
            return family
    return None


def supported_pipelines() -> list[str]:
    return sorted(name for family in FAMILIES for name in family.pipelines)


__all__ = ["FAMILIES", "Family", "Geometry", "Prompt", "family_for", "supported_pipelines"]
