"""The package's front door: every public name resolves, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import classifier


def test_every_public_name_resolves_to_its_home():
    aliases = {"Embedder": "TorchEncoder"}  # the torch encoder's old name, kept for callers
    for name in classifier.__all__:
        value = getattr(classifier, name)
        assert getattr(value, "__name__", name) == aliases.get(name, name)
    assert set(classifier.__all__) <= set(dir(classifier))


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, classifier, classifier.encoders.onnx;"
        "print(sorted(m for m in ('torch', 'sklearn', 'scipy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
