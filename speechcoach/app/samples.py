"""The bundled demo recording (a copy of ``samples/on_target_retirement`` shipped in the package)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_NAME = "demo"


def demo_sample() -> tuple[Path, Path]:
    """Paths of the demo recording and its script."""
    base = Path(str(resources.files("speechcoach").joinpath("data")))
    return base / f"{DEMO_NAME}.wav", base / f"{DEMO_NAME}.txt"
