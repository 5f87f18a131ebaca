"""``headline-topics tag`` with the shipped model, in a separate process as a user runs it."""

from __future__ import annotations

import json

import pytest

from classifier.tagging import normalise_headline
from tests.tagging.support import read_rows, run_tag_command, shipped_model_copy, write_rows


@pytest.mark.slow
def test_the_command_tags_with_the_shipped_model_and_refuses_to_overwrite(tmp_path):
    store = shipped_model_copy(tmp_path)
    models = ["--models-dir", str(store.root)]
    headlines = [
        "WHO declares a global health emergency over new virus",
        "Senate approves sweeping tariffs on Chinese steel",
        "",
        "Border patrol detains record number of migrants",
        "senate approves   SWEEPING tariffs on chinese steel",
    ]
    source = write_rows(
        tmp_path / "in.csv",
        [{"id": str(i), "headline": h, "source": "x"} for i, h in enumerate(headlines)],
    )
    out = tmp_path / "out.jsonl"
    result = run_tag_command(source, out, "--json", "--no-progress", *models)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows_in"], summary["rows_tagged"], summary["rows_skipped"]) == (5, 4, 1)
    assert summary["skipped_reasons"] == {"empty headline": 1}
    assert summary["encoded"] == 3  # the repeated headline was embedded once

    rows = read_rows(out)
    model = store.load()  # the encoder the model was trained on, as the command uses
    expected = model.predict([normalise_headline(h) for h in headlines if h])
    tagged = [r for r in rows if not r["tag_error"]]
    assert [r["topic"] for r in tagged] == [p.topic for p in expected]
    assert [r["topic"] for r in tagged][:3] == ["health", "trade", "immigration"]
    assert rows[2]["tag_error"] == "empty headline"

    again = run_tag_command(source, out, "--no-progress", *models)
    assert again.returncode == 2
    assert "already exists; pass --force" in again.stderr and "Traceback" not in again.stderr
    forced = run_tag_command(source, out, "--force", "--no-progress", *models)
    assert forced.returncode == 0 and "rows in: 5" in forced.stdout
    missing = run_tag_command(tmp_path / "nope.csv", tmp_path / "x.csv")
    assert missing.returncode == 2 and "no such file" in missing.stderr
