"""``headline-topics models`` and ``promote``: versions, promotion and rollback."""

from __future__ import annotations

from classifier.topics.store import ModelStore


def test_versions_promotion_and_rollback(run, trained, small_labelled):
    store = ModelStore(trained)
    first = store.current_version()
    code, out, _ = run("train", str(small_labelled), "--models-dir", str(trained), "--C", "0.01")
    assert code == 0 and "NOT promoted" in out and "worse than current" in out
    assert store.current_version() == first
    second = [v for v in store.versions() if v != first][0]
    code, out, _ = run("promote", second, "--models-dir", str(trained))
    assert code == 0 and store.current_version() == second
    code, out, _ = run("models", "--models-dir", str(trained))
    assert f"* {second}" in out and first in out
    code, _, _ = run("promote", first, "--models-dir", str(trained))
    assert store.current_version() == first
