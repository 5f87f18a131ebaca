"""``headline-topics models`` and ``promote``: versions, promotion and rollback."""

from __future__ import annotations

from classifier.topics.store import ModelStore


def test_versions_promotion_and_rollback(run, trained, small_labelled):
    store = ModelStore(trained)
    first = store.current_version()
    code, out, _ = run("train", str(small_labelled), "--models-dir", str(trained), "--C", "0.01")
    assert code == 0 and "NOT promoted" in out and "worse than current" in out
    assert store.current_version() == first
    second = [v for v in store.versions() if v != first][0]
    code, out, _ = run("promote", second, "--models-dir", str(trained))
    assert code == 0 and store.current_version() == second
    code, out, _ = run("models", "--models-dir", str(trained))
    assert f"* {second}" in out and first in out
    code, _, _ = run("promote", first, "--models-dir", str(trained))
    assert store.current_version() == first


def test_run_outside_a_project_the_bundled_store_is_read_not_written(tmp_path, monkeypatch, capsys):
    """``train`` run elsewhere once wrote into the folder the package was installed in."""
    from classifier import cli, config
    from classifier.cli import _util
    from tests.support import FakeEmbedder, load_project_data, save_model, write_csv

    for key in ("HEADLINE_TOPICS_MODELS", "HEADLINE_TOPICS_ENCODER_CACHE"):
        monkeypatch.delenv(key, raising=False)
    install = tmp_path / "site-packages"  # as a wheel installs it: no data/, a shipped model
    bundled = ModelStore(install / "models")
    rows = load_project_data()[::100]
    shipped = save_model(
        bundled, [r["headline"] for r in rows], [r["topic"] for r in rows], FakeEmbedder()
    )
    monkeypatch.setattr(config, "PROJECT_ROOT", install)
    monkeypatch.setattr(_util, "new_encoder", lambda *a, **k: FakeEmbedder())
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    by_topic: dict[str, list] = {}
    for row in load_project_data()[1::7]:
        by_topic.setdefault(row["topic"], []).append((row["headline"], row["topic"]))
    data = write_csv(work / "mine.csv", [r for rs in by_topic.values() for r in rs[:12]])

    assert cli.main(["models"]) == 0  # reading the shipped model works
    assert f"* {shipped}" in capsys.readouterr().out
    for argv in (["train", str(data)], ["promote", shipped]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert "bundled with the package and is read-only" in err and "--models-dir" in err
        assert err.count("\n") == 1
    assert bundled.versions() == [shipped] and bundled.current_version() == shipped

    (work / "models").mkdir()  # a models/ folder here: that is the store now
    assert cli.main(["train", str(data)]) == 0
    out = capsys.readouterr().out
    assert "written to models/" in out.replace(str(work) + "/", "") and "promoted: " in out
    assert ModelStore(work / "models").current_version() is not None
    assert bundled.versions() == [shipped]


def test_models_json_shows_the_evaluation_file_scores(run, trained):
    import json

    code, out, _ = run("models", "--json", "--models-dir", str(trained))
    first = json.loads(out)[0]
    assert code == 0 and first["eval_file"] == "multi_dev.csv"
    assert (
        first["eval_macro_f1"]
        == ModelStore(trained).read_manifest(first["version"])["evaluation"]["macro_f1"]
    )
    assert first["data"] == "small.csv"
