"""The Dask engine: the same rows and labels as the local engine, by CSV block or Parquet group.

The cluster is a LocalCluster in this process (two workers, reachable over TCP); the command
test starts the CLI in a separate process against its scheduler address.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from classifier.tagging import tag_file
from classifier.topics.store import ModelStore
from tests.conftest import FakeEmbedder
from tests.tagging.support import (
    archive_rows,
    read_rows,
    run_tag_command,
    shipped_model_copy,
    write_rows,
)


@pytest.mark.slow
def test_the_dask_engine_gives_the_same_rows_and_labels_as_the_local_engine(
    tmp_path, fake_store, dask_client
):
    from classifier.tagging import dask as tag_dask

    rows = archive_rows(1500)
    rows[10]["headline"] = ""
    source = write_rows(tmp_path / "in.csv", rows)
    with open(source, "a", encoding="utf-8") as handle:
        handle.write("9999,too,many,fields\n")
    local = fake_store.load("vfake-1", embedder=FakeEmbedder())
    tag_file(source, tmp_path / "local.csv", local)

    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=FakeEmbedder)
    tag_dask.LOADS.clear()
    summary = tag_dask.tag_dask(
        source, tmp_path / "dask.csv", spec, scheduler=dask_client, blocksize=8_000
    )
    assert summary.counters.rows == len(rows) + 1 and summary.counters.skipped == 2
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()

    folder = tmp_path / "dask_parts"
    tag_dask.tag_dask(source, folder, spec, scheduler=dask_client, blocksize=8_000)
    parts = sorted(folder.glob("part-*.parquet"))
    assert len(parts) > 3
    table = pq.read_table(parts)  # the files in name order are the input order
    reference = read_rows(tmp_path / "local.csv")
    assert table.column("id").to_pylist() == [r["id"] for r in reference]
    assert table.column("topic").to_pylist() == [r["topic"] or None for r in reference]
    # one model load per worker process, not one per partition (the test workers share a process)
    assert sum(tag_dask.LOADS.values()) == 1


@pytest.mark.slow
def test_the_dask_engine_reads_parquet_row_groups_and_resumes(tmp_path, fake_store, dask_client):
    from classifier.tagging import dask as tag_dask

    rows = archive_rows(600)
    source = write_rows(tmp_path / "in.parquet", rows)
    local = fake_store.load("vfake-1", embedder=FakeEmbedder())
    tag_file(source, tmp_path / "local.parquet", local)
    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=FakeEmbedder)
    out = tmp_path / "dask.parquet"
    tag_dask.tag_dask(source, out, spec, scheduler=dask_client)
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "local.parquet"))
    with pytest.raises(DataError, match="already exists"):
        tag_dask.tag_dask(source, out, spec, scheduler=dask_client)

    folder = tmp_path / "parts"
    finished = []

    def stop_after_first(done, total):
        finished.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tag_dask.tag_dask(source, folder, spec, scheduler=dask_client, progress=stop_after_first)
    assert not folder.exists()
    with pytest.raises(DataError, match="pass --resume"):
        tag_dask.tag_dask(source, folder, spec, scheduler=dask_client)
    summary = tag_dask.tag_dask(source, folder, spec, scheduler=dask_client, resume=True)
    assert summary.resumed_after >= finished[0] and summary.counters.rows == 600
    assert summary.counters.tagged == 600
    parts = sorted(folder.glob("*"))
    assert [p.name for p in parts] == [f"part-{i:05d}.parquet" for i in range(4)]
    assert pq.read_table(parts).column("topic").to_pylist() == (
        pq.read_table(tmp_path / "local.parquet").column("topic").to_pylist()
    )


@pytest.mark.slow
def test_the_command_runs_the_dask_engine_on_a_scheduler_address(tmp_path, dask_client):
    store = shipped_model_copy(tmp_path)
    headlines = [
        "WHO warns measles cases are rising across Europe",
        "China retaliates with tariffs on American soybeans",
        "",
        "Asylum seekers wait at the border as new rules take effect",
    ] * 3
    source = write_rows(
        tmp_path / "in.csv",
        [{"id": str(i), "headline": h, "source": "x"} for i, h in enumerate(headlines)],
    )
    address = dask_client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    common = ["--models-dir", str(store.root), "--no-progress", "--json"]
    # a separate process with no default client, as the command runs on a user's machine
    result = run_tag_command(
        source,
        tmp_path / "dask.csv",
        "--engine",
        "dask",
        "--scheduler",
        address,
        "--blocksize",
        "100",
        *common,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["engine"], summary["rows_in"], summary["rows_skipped"]) == ("dask", 12, 3)
    folder = run_tag_command(
        source,
        tmp_path / "parts",
        "--engine",
        "dask",
        "--scheduler",
        address,
        "--blocksize",
        "100",
        *common,
    )
    assert folder.returncode == 0, folder.stderr
    parts = sorted((tmp_path / "parts").glob("part-*.parquet"))
    assert len(parts) > 1
    assert pq.read_table(parts).num_rows == 12
    local = _local_run_with(store, source, tmp_path / "local.csv")
    assert local.counters.rows == 12
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert [r["topic"] for r in read_rows(tmp_path / "local.csv")][:4] == [
        "health",
        "trade",
        "",
        "immigration",
    ]


def _local_run_with(store: ModelStore, source: Path, output: Path):
    """The local engine with the real model and its own encoder (onnx-int8), in this process."""
    return tag_file(source, output, store.load())


def test_without_the_dask_extra_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.delitem(sys.modules, "classifier.tagging.dask", raising=False)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'headline-topics\[dask\]'") as caught:
        importlib.import_module("classifier.tagging.dask")
    assert caught.value.name == "distributed"


def test_clusters_on_the_dask_engine_are_refused_with_a_reason_before_anything_runs(
    tmp_path, capsys
):
    from classifier import cli

    source = write_rows(tmp_path / "in.csv", archive_rows(10))
    argv = ["tag", str(source), str(tmp_path / "out.csv"), "--engine", "dask"]
    code = cli.main([*argv, "--scheduler", "tcp://127.0.0.1:1", "--clusters"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--clusters works with the local engine only: it fits one clusterer" in err
    assert "--engine local" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # nothing written


def test_urls_with_the_local_engine_are_refused_with_what_to_do(tmp_path, capsys):
    from classifier import cli

    code = cli.main(["tag", "s3://bucket/in.csv", str(tmp_path / "out.csv")])
    assert code == 2
    assert "URLs are for --engine dask" in capsys.readouterr().err
