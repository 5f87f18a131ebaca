"""``predict --explain`` and ``export-index``: explanations on the command line, and the index
added to a model saved without one (with the session's real encoder)."""

from __future__ import annotations

import json
import shutil

import pytest

from classifier.topics.explain import NO_INDEX_NOTE
from classifier.topics.store import NEIGHBOURS_FILE, ModelStore

pytestmark = pytest.mark.slow


def test_predict_explain_adds_an_explanation_to_each_good_line(run, trained):
    code, out, _ = run(
        "predict",
        "--models-dir",
        str(trained),
        "--explain",
        stdin="Senate raises tariffs on imported steel\n   \nHospitals report measles outbreak\n",
    )
    assert code == 1  # the blank line
    lines = [json.loads(line) for line in out.splitlines()]
    assert "explanation" not in lines[1] and lines[1]["line"] == 2
    for line in (lines[0], lines[2]):
        explanation = line["explanation"]
        assert explanation["topic"] == line["topic"]
        assert len(explanation["neighbours"]) == 3
        assert all(n["topics"][0] == line["topic"] for n in explanation["neighbours"][:1])
    assert lines[0]["explanation"]["words"][0]["word"] in {"tariffs", "steel", "imported"}
    code, plain, _ = run("predict", "--models-dir", str(trained), lines[0]["headline"])
    shown = dict(lines[0])
    shown.pop("explanation")
    assert json.loads(plain) == shown  # the answer itself is the same


def test_predict_explain_is_json_lines_only(run, trained):
    code, out, err = run(
        "predict", "--models-dir", str(trained), "--explain", "--format", "csv", "x"
    )
    assert code == 2 and out == ""
    assert "--explain writes JSON lines; it cannot go with --format csv" in err
    assert len(err.strip().splitlines()) == 1


def test_export_index_gives_an_old_model_its_index_without_changing_its_answers(
    run, trained, small_labelled, tmp_path
):
    store = ModelStore(trained)
    version = store.current_version()
    old = tmp_path / "models"
    shutil.copytree(trained / version, old / version)
    ModelStore(old).promote(version)
    # make it a model of before the index: drop the part, re-write its manifest
    from classifier.topics.store import MANIFEST, _write_manifest

    folder = old / version
    (folder / NEIGHBOURS_FILE).unlink()
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest.pop("neighbours")
    _write_manifest(folder, manifest)
    headline = "Senate raises tariffs on imported steel"
    code, before, _ = run("predict", "--models-dir", str(old), "--explain", headline)
    assert json.loads(before)["explanation"]["note"] == NO_INDEX_NOTE

    code, out, err = run("export-index", str(small_labelled), "--models-dir", str(old))
    assert code == 0, err
    assert f"model {version}: neighbour index of 200 training headlines written" in out
    code, after, _ = run("predict", "--models-dir", str(old), "--explain", headline)
    before, after = json.loads(before), json.loads(after)
    assert after["explanation"]["neighbours"] and "note" not in after["explanation"]
    assert after.pop("explanation")["words"] == before.pop("explanation")["words"]
    assert after == before

    code, _, err = run("export-index", str(small_labelled), "--models-dir", str(old))
    assert code == 2 and "has a neighbour index already; pass --force" in err
    other = tmp_path / "other.csv"
    other.write_text("headline,topic\nSenate raises tariffs,trade\nMeasles spreads,health\n")
    code, _, err = run("export-index", str(other), "--models-dir", str(old), "--force")
    assert code == 2 and "is not the data model" in err
