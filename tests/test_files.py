"""Durable writes: the old file or the new one, never half of one, and no temporaries left."""

from __future__ import annotations

import stat

import pytest

from classifier.files import atomic_file, write_atomic


def test_an_atomic_file_appears_whole_with_ordinary_permissions(tmp_path):
    target = tmp_path / "out.csv"
    with atomic_file(target, "w", encoding="utf-8", newline="") as handle:
        handle.write("a,b\n")
        assert not target.exists()  # nothing under the real name until the block ends
    assert target.read_text() == "a,b\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
