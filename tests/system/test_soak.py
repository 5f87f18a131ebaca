"""A short soak in CI: the benchmark's own pass/fail, bounded to seconds instead of a minute.

bench/soak.py starts real gunicorn workers on 127.0.0.1 with the shipped model, sends 32
concurrent clients' requests, promotes another version half-way, and exits 0 only with zero
failed requests, RSS growth under 10% between the first and last quarter, every worker alive and
the new version answering.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_short_soak_with_a_reload_has_no_failures():
    result = subprocess.run(
        [sys.executable, "bench/soak.py", "--seconds", "15", "--clients", "32"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "PASS" in result.stdout
