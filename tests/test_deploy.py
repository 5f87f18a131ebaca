"""deploy/Dockerfile cannot be built here (no Docker daemon, no registry for the base image), so
what can go stale in it is checked statically: every file it copies exists, and it carries
the model version that models/CURRENT names."""

from __future__ import annotations

import shlex

from tests.support import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def _copies() -> list[tuple[list[str], str]]:
    out = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            *sources, target = shlex.split(line)[1:]
            out.append((sources, target))
    return out


def test_every_copied_path_exists_in_the_repository():
    copies = _copies()
    assert copies
    for sources, _ in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"deploy/Dockerfile copies {source}, which is gone"


def test_the_image_holds_the_current_model_but_not_the_local_exports():
    current = (ROOT / "models" / "CURRENT").read_text(encoding="utf-8").strip()
    copied = {s.rstrip("/") for sources, _ in _copies() for s in sources}
    assert "models" in copied or f"models/{current}" in copied, (
        f"deploy/Dockerfile does not copy models/{current}, the version models/CURRENT names"
    )
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "models/encoders" in ignored and ".venv" in ignored
