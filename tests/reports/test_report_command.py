"""``headline-topics report``: outputs, refusals before any work, exit codes."""

from __future__ import annotations

import json
import sys

import pytest

from classifier import cli
from tests.reports.support import write_tagged

ERROR = "headline-topics report: error: "


@pytest.fixture
def tagged(tmp_path):
    return write_tagged(tmp_path / "tagged.csv")


def _run(capsys, *argv):
    code = cli.main(["report", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_by_default_json_on_request(tagged, capsys):
    code, out, err = _run(capsys, tagged, "--time-column", "date")
    assert code == 0 and err == ""
    assert out.startswith(f"report on {tagged}: 14 rows by month")
    code, out, _ = _run(capsys, tagged, "--time-column", "date", "--json", "--by", "year")
    doc = json.loads(out)
    assert code == 0 and doc["by"] == "year" and doc["rows"] == 14
    _, again, _ = _run(capsys, tagged, "--time-column", "date", "--format", "json", "--by", "year")
    assert json.loads(again) == doc


def test_html_and_png_are_written_and_not_overwritten_without_force(tagged, tmp_path, capsys):
    page, charts = tmp_path / "report.html", tmp_path / "charts"
    charts.mkdir()
    code, out, err = _run(capsys, tagged, "--time-column", "date", "--html", page, "--png", charts)
    assert code == 0, err
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert sorted(p.name for p in charts.iterdir()) == [
        "primary-shares.png",
        "stories.png",
        "topic-shares.png",
        "volume.png",
    ]
    assert f"wrote {page}" in err and "wrote 4 chart(s)" in err
    before = page.stat().st_mtime_ns
    code, out, err = _run(capsys, tagged, "--time-column", "date", "--html", page)
    assert code == 2 and out == ""
    assert err == f"{ERROR}--html {page} already exists; pass --force to overwrite it\n"
    assert page.stat().st_mtime_ns == before
    code, _, err = _run(capsys, tagged, "--time-column", "date", "--png", charts)
    assert code == 2 and "already has volume.png; pass --force" in err
    code, _, err = _run(
        capsys, tagged, "--time-column", "date", "--html", page, "--png", charts, "--force"
    )
    assert code == 0, err


def test_outputs_that_cannot_be_written_are_refused_before_reading(tagged, tmp_path, capsys):
    code, _, err = _run(capsys, tagged, "--time-column", "date", "--png", tmp_path / "nope")
    assert code == 2 and "no such folder; create it first" in err
    code, _, err = _run(
        capsys, tagged, "--time-column", "date", "--html", tmp_path / "no" / "r.html"
    )
    assert code == 2 and "does not exist; create it first" in err
    code, _, err = _run(capsys, tagged, "--time-column", "date", "--html", tagged, "--force")
    assert code == 2 and "is the input file" in err
    assert tagged.read_text(encoding="utf-8").startswith("id,headline")


def test_without_matplotlib_html_is_refused_with_the_install_line(
    tagged, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out, err = _run(capsys, tagged, "--time-column", "date", "--html", tmp_path / "r.html")
    assert code == 2 and out == ""
    assert err == (
        f"{ERROR}charts need matplotlib, which is not installed: "
        "pip install 'headline-topics[report]'\n"
    )
    code, out, _ = _run(capsys, tagged, "--time-column", "date")  # text needs no matplotlib
    assert code == 0 and out


def test_input_errors_are_one_line_and_exit_2(tagged, tmp_path, capsys):
    code, _, err = _run(capsys, tagged, "--time-column", "year")
    assert (
        code == 2 and err.startswith(f"{ERROR}{tagged}: no 'year' column") and err.count("\n") == 1
    )
    code, _, err = _run(capsys, tmp_path / "missing.csv", "--time-column", "date")
    assert code == 2 and err == f"{ERROR}{tmp_path / 'missing.csv'}: no such file\n"
    with pytest.raises(SystemExit) as refused:
        cli.main(["report", str(tagged)])
    assert refused.value.code == 2
    assert "--time-column" in capsys.readouterr().err


def test_a_progress_bar_on_request(tagged, capsys):
    code, _, err = _run(capsys, tagged, "--time-column", "date", "--progress")
    assert code == 0 and "reading" in err and "14/14" in err
