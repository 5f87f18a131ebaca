"""predict, train and evaluate with over-long headlines, huge cells and headerless files (issue 19).

A 10 MB headline was tokenised whole by predict (1.8 GB); a cell over 16 MB ended train and
evaluate in a traceback. Now the limit the service has applies here too: the row is skipped,
counted and named, and the others are used.
"""

from __future__ import annotations

import csv
import json

import pytest

from classifier.topics.store import ModelStore

HUGE = "x" * (17 * 1024 * 1024)


def test_predict_answers_an_over_long_line_with_why_and_the_others_with_topics(run, trained):
    models = ["--models-dir", str(trained)]
    code, out, _ = run(
        "predict", *models, stdin=f"Tariffs on steel rise\n{'y' * 5000}\nMeasles cases climb\n"
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(lines) == 3
    assert lines[0]["topic"] and lines[2]["topic"]
    assert lines[1]["line"] == 2 and lines[1]["headline"] == "y" * 1000 + "…"
    assert lines[1]["error"] == (
        "the headline is too long: 5,000 characters, over the limit of 1,000 (--max-headline-chars)"
    )
    code, out, _ = run("predict", *models, "--max-headline-chars", "10", "Tariffs on steel rise")
    assert code == 1 and "21 characters, over the limit of 10" in json.loads(out)["error"]
    code, _, err = run("predict", *models, "--max-headline-chars", "-3", "x")
    assert code == 2 and "argument --max-headline-chars: must be at least 1, not -3" in err


def test_predict_reads_a_long_stdin_line_in_pieces(tmp_path):
    """Through the real stdin (bytes), an over-long line is a LongLine, answered the same way."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    data = b"Tariffs on steel rise\n" + b"z" * 3_000_000 + b"\n"
    done = subprocess.run(
        [sys.executable, "-m", "classifier.cli", "predict"],
        input=data,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["topic"] and "3,000,000 characters, over the limit of 1,000" in second["error"]
    assert len(second["headline"]) == 1001


def _with_bad_rows(tmp_path, source):
    """``source`` plus a 17 MB headline and a 2,000-character one."""
    with open(source, encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[3:3] = [[HUGE, "trade"], ["w " * 1000, "health"]]
    path = tmp_path / "bad.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path, len(rows) - 1


def test_train_skips_over_long_rows_and_huge_cells_with_the_reason(
    run, trained, small_labelled, tmp_path
):
    path, n_rows = _with_bad_rows(tmp_path, small_labelled)
    code, out, err = run("train", str(path), "--models-dir", str(trained), "--no-promote")
    assert code == 0, err
    assert f"rows: {n_rows} read, {n_rows - 2} used, 2 skipped" in out
    assert f"row 3: headline too long: {len(HUGE):,} characters, over the limit of 1,000" in out
    assert "row 4: headline too long: 2,000 characters" in out


def test_evaluate_counts_over_long_rows_as_skipped(run, trained, small_labelled, tmp_path):
    path, n_rows = _with_bad_rows(tmp_path, small_labelled)
    code, out, err = run("evaluate", str(path), "--models-dir", str(trained), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["n"] == n_rows - 2 and len(result["rows_skipped"]) == 2
    assert "row 3: headline too long" in result["rows_skipped"][0]
    code, out, _ = run(
        "evaluate",
        str(path),
        "--models-dir",
        str(trained),
        "--json",
        "--max-headline-chars",
        "5000",
    )
    assert json.loads(out)["n"] == n_rows - 1  # a limit of 5000 lets the 2,000-character row in


def test_evaluate_reads_a_headerless_file_by_column_numbers(run, trained, small_labelled, tmp_path):
    with open(small_labelled, encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    path = tmp_path / "plain.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([[topic, "id", headline] for headline, topic in rows])
    models = ["--models-dir", str(trained), "--json"]
    code, out, err = run(
        "evaluate", str(path), *models, "--no-header", "--text-column", "3", "--label-column", "1"
    )
    assert code == 0, err
    with_header = json.loads(run("evaluate", str(small_labelled), *models)[1])
    assert json.loads(out)["macro_f1"] == with_header["macro_f1"]
    code, _, err = run("evaluate", str(path), *models, "--no-header")
    assert code == 2 and "columns are named by number, 1 to 3; there is no column headline" in err


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_bad_limit_is_refused_before_any_work(run, trained, small_labelled, command):
    code, _, err = run(
        command, str(small_labelled), "--models-dir", str(trained), "--max-headline-chars", "0"
    )
    assert code == 2 and "argument --max-headline-chars: must be at least 1, not 0" in err
    assert ModelStore(trained).resolve(None)  # nothing replaced the current model
