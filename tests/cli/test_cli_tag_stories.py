"""``tag --clusters stories``: its options, refused where they do not apply, and a real run."""

from __future__ import annotations

import csv

import pytest

from classifier import cli
from tests.tagging.support import write_rows


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--time-column", "year"),
        ("--story-quiet", "30"),
        ("--story-state", "state"),
        ("--stories-from", "state"),
    ],
)
@pytest.mark.parametrize("clusters", [[], ["--clusters", "themes"]])
def test_a_story_option_without_clusters_stories_is_refused(
    option, value, clusters, tmp_path, capsys
):
    source = write_rows(tmp_path / "in.csv", [{"id": "1", "headline": "a", "source": "x"}])
    argv = ["tag", str(source), str(tmp_path / "out.csv"), *clusters, option, value]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == (
        f"headline-topics tag: error: {option} applies to --clusters stories only\n"
    )


def test_a_quiet_period_with_a_unit_needs_a_time_column(tmp_path, capsys):
    source = write_rows(tmp_path / "in.csv", [{"id": "1", "headline": "a", "source": "x"}])
    argv = ["tag", str(source), str(tmp_path / "out.csv"), "--clusters", "stories"]
    assert cli.main([*argv, "--story-quiet", "30d"]) == 2
    assert "--story-quiet counts rows without --time-column: a whole number, not '30d'" in (
        capsys.readouterr().err
    )


def test_the_dask_engine_refuses_stories_before_any_work(tmp_path, capsys):
    source = write_rows(tmp_path / "in.csv", [{"id": "1", "headline": "a", "source": "x"}])
    argv = ["tag", str(source), str(tmp_path / "out"), "--engine", "dask", "--clusters", "stories"]
    assert cli.main([*argv, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--clusters works with the local engine only" in capsys.readouterr().err


@pytest.mark.slow
def test_a_real_run_tracks_stories_by_year_and_saves_the_state_for_the_next_file(
    run, trained, tmp_path
):
    rows = [
        ("1", "Earthquake kills hundreds in Turkey", "2003"),
        ("2", "Turkey earthquake death toll rises to 500", "2003"),
        ("3", "Yankees sign veteran pitcher to one-year deal", "2003"),
        ("4", "Turkish earthquake death toll climbs as rescuers search rubble", "2003"),
        ("5", "Earthquake in Turkey kills hundreds, officials say", "2003"),
        ("6", "Earthquake kills hundreds in Turkey", "2009"),
    ]
    source = write_rows(
        tmp_path / "in.csv",
        [{"id": i, "headline": h, "year": y} for i, h, y in rows],
        header=("id", "headline", "year"),
    )
    out = tmp_path / "out.csv"
    base = ["tag", str(source), str(out), "--models-dir", str(trained), "--clusters"]
    code, stdout, err = run(*base, "--time-column", "year", "--story-quiet", "1y")
    assert code == 0, err
    assert "stories: 3 started, 1 still open" in stdout  # 2003 closed by 2009
    assert f"state saved to {out}.stories" in err
    with open(out, newline="", encoding="utf-8") as handle:
        tagged = list(csv.DictReader(handle))
    stories = [r["story"] for r in tagged]
    assert stories[0] == stories[1] == stories[3] == stories[4] != stories[2]
    assert stories[5] not in stories[:5]  # six years on, the quake story had closed
    wire = [(r["wire_group"], r["wire_count"]) for r in tagged]
    assert wire[4] == (wire[0][0], "2") and wire[0][1] == "1"  # a reworded copy of row 1
    assert len({group for group, _ in wire}) == 5
    code, _, err = run(*base, "--time-column", "year", "--story-quiet", "1y")
    assert code == 2 and "already exists; pass --force" in err


def test_an_existing_state_is_refused_before_the_model_loads(tmp_path, capsys, monkeypatch):
    from classifier.topics.store import ModelStore

    def no_work(*args, **kwargs):
        raise AssertionError("the model was loaded before the state was checked")

    monkeypatch.setattr(ModelStore, "resolve", no_work)
    source = write_rows(tmp_path / "in.csv", [{"id": "1", "headline": "a", "source": "x"}])
    (tmp_path / "out.csv.stories").mkdir()
    argv = ["tag", str(source), str(tmp_path / "out.csv"), "--clusters", "stories"]
    assert cli.main([*argv, "--models-dir", str(tmp_path / "models")]) == 2
    assert "out.csv.stories already exists; pass --force to replace it" in capsys.readouterr().err
    assert cli.main([*argv, "--stories-from", str(tmp_path / "nothing")]) == 2
    assert "no story state there (--stories-from)" in capsys.readouterr().err
