"""``headline-topics tag`` option checks (the runs themselves are tested with the tagging code)."""

from __future__ import annotations

import pytest

from classifier import cli


@pytest.mark.parametrize(
    "option",
    [
        "--batch-size",
        "--chunk-size",
        "--memo-size",
        "--blocksize",
        "--cluster-sample",
        "--encoder-threads",
    ],
)
def test_a_count_below_one_is_refused_by_its_own_name(option, tmp_path, capsys):
    # --encoder-threads 0 used to be reported as "--cluster-sample must be at least 1"
    argv = ["tag", str(tmp_path / "in.csv"), str(tmp_path / "out.csv"), option, "0"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"headline-topics tag: error: {option} must be at least 1\n"
