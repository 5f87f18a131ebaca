"""``headline-topics diff V1 V2 FILE``: a table, --json, --out, on two shipped versions."""

from __future__ import annotations

import csv
import json

import pytest

from tests.support import ROOT

UNLABELLED = ROOT / "data" / "multi-topic" / "dev" / "multi_dev_unlabelled.csv"
OLDER = "v20261201-202857-44f64b54"


@pytest.fixture
def shipped_run(monkeypatch, int8, capsys):
    """The CLI on the repository's store, with the int8 encoder both versions were trained on."""
    from classifier import cli
    from classifier.cli import _util

    monkeypatch.setattr(_util, "model_encoder", lambda *a, **k: int8)

    def _run(*argv: str):
        try:
            code = cli.main([*argv, "--models-dir", str(ROOT / "models")])
        except SystemExit as exit_info:
            code = exit_info.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


@pytest.mark.slow
def test_diff_prints_flows_and_writes_every_change(shipped_run, tmp_path):
    out = tmp_path / "changes.csv"
    code, stdout, err = shipped_run("diff", OLDER, "current", str(UNLABELLED), "--out", str(out))
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0].startswith(f"{OLDER} -> v") and "on 340 headlines" in lines[0]
    assert lines[1].startswith("changed: ")
    assert "top topic flows:" in stdout and " -> " in stdout
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    code, stdout, err = shipped_run("diff", OLDER, "current", str(UNLABELLED), "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["summary"]["changed"] == len(rows) == len(result["changes"])
    first = result["changes"][0]
    assert rows[0]["headline"] == first["headline"]
    assert rows[0]["old_topics"].split(";") == first["old"]["topics"]
    assert float(rows[0]["new_confidence"]) == first["new"]["confidence"]
    code, _, err = shipped_run("diff", OLDER, "current", str(UNLABELLED), "--out", str(out))
    assert code == 2 and "already exists; pass --force" in err


@pytest.mark.slow
def test_diff_names_a_missing_version(run, trained, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("headline\nTariffs rise\n")
    code, _, err = run("diff", "v-nope", "current", str(path), "--models-dir", str(trained))
    assert code == 2 and "v-nope" in err
