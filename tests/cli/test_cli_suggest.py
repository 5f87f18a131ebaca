"""``headline-topics suggest``: options checked first, a train file out, never overwritten."""

from __future__ import annotations

import csv

import pytest

from tests.support import load_project_data


@pytest.fixture
def archive(tmp_path):
    rows = load_project_data()[5::50]
    path = tmp_path / "archive.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "headline"])
        writer.writerows((i, r["headline"]) for i, r in enumerate(rows))
        writer.writerow([len(rows), "   "])
    return path


@pytest.mark.slow
def test_suggest_writes_a_train_file_and_refuses_to_overwrite_it(run, trained, archive, tmp_path):
    from classifier.topics.data import read_labelled

    out = tmp_path / "to_label.csv"
    code, stdout, err = run(
        "suggest", str(archive), "--n", "12", "--out", str(out), "--models-dir", str(trained)
    )
    assert code == 0, err
    assert stdout.startswith(f"suggested 12 headlines to label -> {out}")
    assert "skipped 1: empty" in stdout
    data = read_labelled(out)
    assert len(data.texts) == 12 and data.problems == []
    with open(out, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[:3] == ["headline", "topic", "topics"]
    assert {"confidence", "reason", "cluster"} <= set(header)
    before = out.read_bytes()
    code, _, err = run(
        "suggest", str(archive), "--n", "5", "--out", str(out), "--models-dir", str(trained)
    )
    assert code == 2 and "already exists; pass --force" in err
    assert out.read_bytes() == before
    code, _, err = run(
        "suggest", str(archive), "--n", "5", "--out", str(out), "--force",
        "--models-dir", str(trained),
    )  # fmt: skip
    assert code == 0, err
    assert len(read_labelled(out).texts) == 5


@pytest.mark.slow
def test_suggest_refuses_its_own_input_and_a_missing_file(run, archive, tmp_path):
    code, _, err = run("suggest", str(archive), "--out", str(archive), "--force")
    assert code == 2 and "is the archive itself" in err
    code, _, err = run("suggest", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv"))
    assert code == 2 and "no such file" in err


@pytest.mark.slow
def test_suggest_like_lists_rows_to_relabel_as_a_train_file(run, trained, tmp_path):
    from classifier.topics.data import read_labelled
    from tests.support import ROOT

    climate = (ROOT / "tests" / "data" / "new-topic" / "climate_train.csv").read_text("utf-8")
    data = tmp_path / "with_climate.csv"
    data.write_text(
        climate
        + "Heatwave pushes Europe to hottest summer since records began,other,other\n"
        + "Central bank holds rates as inflation cools,other,other\n"
        + "Parliament approves new defence budget,geopolitics,geopolitics\n"
        + "   ,other,other\n",
        encoding="utf-8",
    )
    out = tmp_path / "relabel.csv"
    argv = ["suggest", str(data), "--like", "climate", "--n", "2", "--out", str(out)]
    code, stdout, err = run(*argv, "--models-dir", str(trained))
    assert code == 0, err
    assert stdout.startswith(f"2 rows not labelled climate that look like its 30 rows -> {out}")
    assert "skipped 1 row(s), the first:" in stdout and "empty headline" in stdout
    relabel = read_labelled(out)
    assert relabel.texts[0].startswith("Heatwave pushes Europe") and relabel.labels[0] == "other"
    with open(out, newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["headline", "topic", "topics", "similarity", "nearest"]
    code, _, err = run(*argv, "--force", "--no-header", "--models-dir", str(trained))
    assert code == 2 and "--like reads a labelled file with a header" in err
    argv[3] = "sport"
    code, _, err = run(*argv, "--force", "--models-dir", str(trained))
    assert code == 2 and "no row is labelled 'sport'" in err
