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


def test_a_cluster_sample_of_one_is_refused(tmp_path, capsys):
    argv = ["tag", str(tmp_path / "in.csv"), str(tmp_path / "out.csv"), "--cluster-sample", "1"]
    assert cli.main(argv) == 2
    assert "--cluster-sample must be at least 2" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_checkpoint_every_must_be_a_finite_number_of_seconds(value, tmp_path, capsys):
    """``--checkpoint-every -1`` and ``nan`` once passed (issue 19, smaller items)."""
    argv = ["tag", str(tmp_path / "in.csv"), str(tmp_path / "out.csv")]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--checkpoint-every", value])
    assert exit_info.value.code == 2
    assert "argument --checkpoint-every" in capsys.readouterr().err
