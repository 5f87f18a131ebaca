"""The one way a command fails: a user's mistake is one line on stderr and exit 2, a bug is not."""

from __future__ import annotations

import argparse

import pytest

from classifier import errors
from classifier.cli import _util
from tests.conftest import write_csv


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "missing.csv"], "missing.csv: no such file"),
        (["evaluate", "missing.csv"], "missing.csv: no such file"),
        (["promote", "../../etc"], "invalid model version name"),
        (["predict", "--model", "v-nope", "x"], "'v-nope' not found"),
        (["train", "{bad_columns}"], "missing column(s) headline; found title, label"),
        (["train", "{one_label}"], "at least two"),
        (["train", "{data}", "--priors", "other=x"], "priors must look like"),
    ],
)
def test_bad_input_gives_one_clean_line(run, trained, tmp_path, argv, message):
    files = {
        "{bad_columns}": write_csv(tmp_path / "c.csv", [("a", "b")], header=("title", "label")),
        "{one_label}": write_csv(tmp_path / "o.csv", [("a b", "trade"), ("c d", "trade")]),
        "{data}": write_csv(tmp_path / "d.csv", [("a b", "trade"), ("c d", "health")]),
    }
    argv = [files.get(a, a) for a in argv]
    code, out, err = run(*map(str, argv), "--models-dir", str(trained))
    assert code == 2
    assert message in err and "Traceback" not in err
    assert err.count("\n") == 1


def _raising(exc: BaseException) -> argparse.Namespace:
    def handler(args: argparse.Namespace) -> int:
        raise exc

    return argparse.Namespace(command="demo", handler=handler)


@pytest.mark.parametrize(
    "exc",
    [
        errors.DataError("bad file"),
        errors.InputError("bad headline"),
        errors.ModelError("bad model"),
        errors.EncoderError("bad encoder"),
        ValueError("bad value"),
        FileNotFoundError("no file"),
    ],
)
def test_expected_errors_end_with_one_line_and_exit_2(exc, capsys):
    assert _util.run(_raising(exc)) == 2
    assert capsys.readouterr().err == f"headline-topics demo: error: {exc}\n"


def test_a_bug_is_not_hidden_as_a_user_error(capsys):
    with pytest.raises(KeyError):
        _util.run(_raising(KeyError("bug")))


def test_ctrl_c_exits_130(capsys):
    assert _util.run(_raising(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "interrupted\n"
