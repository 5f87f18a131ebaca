"""Batch tagging: formats, bad rows, dedup, the embedding cache, kill -9 and resume, Dask, the CLI."""

from __future__ import annotations

import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.tagging.output import partial_paths, read_state
from classifier.tagging.tagger import normalise_headline, open_cache, tag_file
from classifier.topics.data import DataError
from classifier.topics.store import ModelError, ModelStore
from tests.conftest import ROOT, FakeEmbedder, load_project_data, save_model

ROWS = load_project_data()
TRAIN = ROWS[::16]
HEADLINES = [r["headline"] for r in ROWS[1::7][:400]]
FAST_HEAD = {"C": 1.0, "calibration_folds": 2}


class CountingEmbedder(FakeEmbedder):
    """The fake encoder, counting how many texts it was asked to embed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.texts = 0

    def encode(self, texts, *, batch_size=None):
        if not isinstance(texts, str):
            self.texts += len(texts)
        return super().encode(texts, batch_size=batch_size)


def _train(store: ModelStore, embedder, rows=TRAIN, version=None) -> str:
    texts = [r["headline"] for r in rows]
    labels = [r["topic"] for r in rows]
    # a light head: these tests are about the tagger, not about the model's accuracy
    return save_model(store, texts, labels, embedder, version=version, head_params=FAST_HEAD)


@pytest.fixture(scope="module")
def fake_store(tmp_path_factory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("tag-models") / "models")
    _train(store, FakeEmbedder(), version="vfake-1")
    _train(store, FakeEmbedder(), rows=ROWS[1::18], version="vfake-2")
    return store


@pytest.fixture
def model(fake_store):
    return fake_store.load("vfake-1", embedder=CountingEmbedder())


def _archive_rows(n: int = 600) -> list[dict[str, str]]:
    """Rows with an id, a headline (with case/space variants of earlier ones) and a label."""
    out = []
    for i in range(n):
        text = HEADLINES[i % len(HEADLINES)]
        if i >= len(HEADLINES):
            text = "  " + text.upper() if i % 2 else text.replace(" ", "   ")
        out.append({"id": str(i), "headline": text, "source": f"s{i % 3}"})
    return out


def _write(path: Path, rows: list[dict], header=("id", "headline", "source")) -> Path:
    name = path.name
    if name.endswith((".csv", ".csv.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "wt", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(header))
            writer.writeheader()
            writer.writerows(rows)
    elif name.endswith((".jsonl", ".jsonl.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "wt", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    elif name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=150)
    return path


def _read(path: Path) -> list[dict]:
    name = path.name
    if name.endswith(".parquet"):
        return pq.read_table(path).to_pylist()
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        if ".jsonl" in name:
            return [json.loads(line) for line in handle]
        return list(csv.DictReader(handle))


def _topics_cell(row: dict) -> list[str]:
    value = row["topics"]
    return value if isinstance(value, list) else [t for t in value.split(";") if t]


# -- formats -------------------------------------------------------------------------------------
def test_csv_archive_comes_out_whole_in_order_with_the_models_labels(tmp_path, model):
    rows = _archive_rows()
    source = _write(tmp_path / "in.csv", rows)
    summary = tag_file(source, tmp_path / "out.csv", model, chunk_size=64)
    out = _read(tmp_path / "out.csv")

    assert [r["id"] for r in out] == [r["id"] for r in rows]
    assert [r["headline"] for r in out] == [r["headline"] for r in rows]
    assert list(out[0]) == [
        "id",
        "headline",
        "source",
        "topic",
        "confidence",
        "topics",
        "model",
        "tag_error",
    ]
    expected = model.predict([normalise_headline(r["headline"]) for r in rows])
    assert [r["topic"] for r in out] == [p.topic for p in expected]
    assert [float(r["confidence"]) for r in out] == [p.confidence for p in expected]
    assert [_topics_cell(r) for r in out] == [p.topics for p in expected]
    assert {r["model"] for r in out} == {"vfake-1"}
    assert all(r["tag_error"] == "" for r in out)
    assert summary.counters.rows == summary.counters.tagged == len(rows)
    assert sum(summary.counters.topics.values()) == len(rows)


@pytest.mark.parametrize("source_name", ["in.csv.gz", "in.jsonl", "in.jsonl.gz", "in.parquet"])
@pytest.mark.parametrize("output_name", ["out.csv", "out.jsonl.gz", "out.parquet"])
def test_every_input_format_gives_the_same_labels_in_every_output_format(
    tmp_path, model, source_name, output_name
):
    rows = _archive_rows(450)
    _write(tmp_path / "ref.csv", rows)
    tag_file(tmp_path / "ref.csv", tmp_path / "ref_out.csv", model, chunk_size=100)
    reference = _read(tmp_path / "ref_out.csv")

    source = _write(tmp_path / source_name, rows)
    tag_file(source, tmp_path / output_name, model, chunk_size=100)
    out = _read(tmp_path / output_name)

    assert [str(r["id"]) for r in out] == [r["id"] for r in rows]
    assert [r["headline"] for r in out] == [r["headline"] for r in rows]
    assert [r["topic"] for r in out] == [r["topic"] for r in reference]
    assert [float(r["confidence"]) for r in out] == [float(r["confidence"]) for r in reference]
    assert [_topics_cell(r) for r in out] == [_topics_cell(r) for r in reference]
    if output_name.endswith(".parquet"):
        schema = pq.read_schema(tmp_path / output_name)
        assert schema.field("topics").type == pa.list_(pa.string())
        assert schema.field("confidence").type == pa.float64()


def test_parquet_input_keeps_its_column_types(tmp_path, model):
    table = pa.table(
        {
            "year": pa.array([1996, None, 2001], pa.int64()),
            "headline": ["Senate passes trade bill", None, "Flu season arrives early"],
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    tag_file(tmp_path / "in.parquet", tmp_path / "out.parquet", model)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("year").type == pa.int64()
    assert out.column("year").to_pylist() == [1996, None, 2001]
    assert out.column("tag_error").to_pylist() == ["", "empty headline", ""]
    tag_file(tmp_path / "in.parquet", tmp_path / "out.jsonl", model)
    assert [r["year"] for r in _read(tmp_path / "out.jsonl")] == [1996, None, 2001]


def test_an_existing_topic_column_is_kept_under_another_name(tmp_path, model):
    path = tmp_path / "labelled.csv"
    path.write_text("headline,topic\nWHO warns of new flu strain,health\n", encoding="utf-8")
    tag_file(path, tmp_path / "out.csv", model)
    (row,) = _read(tmp_path / "out.csv")
    assert row["topic_input"] == "health"
    assert row["topic"] in model.labels


def test_another_text_column_can_be_named(tmp_path, model):
    path = tmp_path / "titles.jsonl"
    path.write_text(json.dumps({"title": "Tariffs on steel rise again"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="headline"):
        tag_file(path, tmp_path / "out.csv", model)
    tag_file(path, tmp_path / "out.csv", model, text_column="title")
    (row,) = _read(tmp_path / "out.csv")
    assert row["topic"] == model.predict("tariffs on steel rise again").topic


# -- bad rows ------------------------------------------------------------------------------------
def test_bad_csv_rows_are_kept_marked_and_counted(tmp_path, model):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"id,headline,source\n"
        b"1,Senate passes the farm bill,a\n"
        b"2,,b\n"
        b"3,   ,c\n"
        b"4,too,many,fields\n"
        b"5\n"
        b"6,Caf\xe9 owners protest new tax,d\n"
        b"7,Measles cases rise in Europe,e\n"
    )
    summary = tag_file(path, tmp_path / "out.csv", model)
    raw = (tmp_path / "out.csv").read_bytes()
    assert b"Caf\xe9 owners" in raw  # the undecodable byte is written back as it was
    out = list(csv.DictReader(raw.decode("utf-8", "replace").splitlines()))
    assert [r["id"] for r in out] == ["1", "2", "3", "4", "5", "6", "7"]
    errors = [r["tag_error"] for r in out]
    assert errors[0] == errors[6] == ""
    assert errors[1] == errors[2] == "empty headline"
    assert errors[3].startswith("wrong number of fields: 4 fields") and '"fields"' in errors[3]
    assert errors[4].startswith("wrong number of fields: 1 field,")
    assert errors[5] == "headline is not valid UTF-8"
    assert all(
        r["topic"] == "" and r["confidence"] == "" for r, e in zip(out, errors, strict=True) if e
    )
    assert all(r["topic"] in model.labels for r, e in zip(out, errors, strict=True) if not e)
    c = summary.counters
    assert (c.rows, c.tagged, c.skipped) == (7, 2, 5)
    assert c.reasons == {
        "empty headline": 2,
        "wrong number of fields": 2,
        "headline is not valid UTF-8": 1,
    }


def test_bad_jsonl_lines_are_kept_with_their_raw_text(tmp_path, model):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b'{"id": 1, "headline": "Ebola outbreak spreads"}\n'
        b"{not json\n"
        b"[1, 2]\n"
        b'{"id": 4, "headline": 42}\n'
        b'{"id": 5}\n'
        b'{"id": 6, "headline": null}\n'
        b"\n"
        b'{"id": 7, "headline": "Caf\xe9"}\n'
        b'{"id": 8, "headline": "Border wall funding fight"}\n'
    )
    for name in ("out.jsonl", "out.csv", "out.parquet"):
        summary = tag_file(path, tmp_path / name, model)
        out = _read(tmp_path / name)
        assert len(out) == 8
        errors = [r["tag_error"] for r in out]
        assert errors[0] == errors[7] == ""
        assert errors[1].startswith("not valid JSON")
        assert out[1]["raw_line"] == "{not json"
        assert errors[2] == "not a JSON object"
        assert errors[3] == "headline is not text: int"
        assert errors[4] == "no headline"
        assert errors[5] == "empty headline"
        assert errors[6].startswith("not valid UTF-8")
        assert summary.counters.skipped == 6


# -- no work twice -------------------------------------------------------------------------------
def test_identical_headlines_are_embedded_once_per_run(tmp_path, model):
    rows = _archive_rows(1200)  # 400 distinct headlines, the rest case/space variants
    source = _write(tmp_path / "in.csv", rows)
    summary = tag_file(source, tmp_path / "out.csv", model, chunk_size=100)
    distinct = {normalise_headline(r["headline"]) for r in rows}
    assert model.embedder.texts == len(distinct) == summary.stats["encoded"]
    assert summary.stats["reused"] == len(rows) - len(distinct)
    out = _read(tmp_path / "out.csv")
    by_text = {}
    for row in out:
        by_text.setdefault(normalise_headline(row["headline"]), set()).add(row["confidence"])
    assert all(len(values) == 1 for values in by_text.values())


def test_a_small_memo_forgets_but_never_mislabels(tmp_path, model, fake_store):
    rows = _archive_rows(900)
    source = _write(tmp_path / "in.csv", rows)
    tag_file(source, tmp_path / "full.csv", model, chunk_size=50)
    small = fake_store.load("vfake-1", embedder=CountingEmbedder())
    tag_file(source, tmp_path / "small.csv", small, chunk_size=50, memo_size=20)
    assert (tmp_path / "small.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert small.embedder.texts > model.embedder.texts  # forgotten headlines were embedded again


def test_the_embedding_cache_lets_a_new_model_skip_the_encoder(tmp_path, fake_store):
    rows = _archive_rows(500)
    source = _write(tmp_path / "in.csv", rows)
    first = fake_store.load("vfake-1", embedder=CountingEmbedder())
    cache = open_cache(tmp_path / "cache", first)
    tag_file(source, tmp_path / "one.csv", first, cache=cache)
    cache.close()
    distinct = len({normalise_headline(r["headline"]) for r in rows})
    assert first.embedder.texts == distinct

    second = fake_store.load("vfake-2", embedder=CountingEmbedder())
    cache = open_cache(tmp_path / "cache", second)
    summary = tag_file(source, tmp_path / "two.csv", second, cache=cache)
    cache.close()
    assert second.embedder.texts == 0
    assert summary.stats["cache_hits"] == distinct
    uncached = fake_store.load("vfake-2", embedder=CountingEmbedder())
    tag_file(source, tmp_path / "three.csv", uncached)
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "three.csv").read_bytes()


def test_the_cache_keeps_encoders_apart(tmp_path, model):
    cache = open_cache(tmp_path / "cache", model)
    cache.put_many([b"k" * 16], np.ones((1, 64), dtype=np.float32))
    cache.close()
    other = FakeEmbedder(salt="other")
    info = other.info()
    from classifier.encoders.cache import EmbeddingCache

    separate = EmbeddingCache(tmp_path / "cache", info.fingerprint, info.dimension)
    assert separate.get_many([b"k" * 16]) == {}
    separate.close()
    assert len(list((tmp_path / "cache").glob("embeddings-*.sqlite"))) == 2


# -- nothing lost --------------------------------------------------------------------------------
def test_refuses_to_overwrite_without_force(tmp_path, model):
    source = _write(tmp_path / "in.csv", _archive_rows(50))
    out = tmp_path / "out.csv"
    out.write_text("precious\n")
    with pytest.raises(DataError, match="already exists; pass --force"):
        tag_file(source, out, model)
    assert out.read_text() == "precious\n"
    tag_file(source, out, model, force=True)
    assert len(_read(out)) == 50
    with pytest.raises(DataError, match="overwrite the input"):
        tag_file(source, source, model, force=True)


def test_a_failed_run_leaves_the_old_output_and_a_resumable_partial(tmp_path, model):
    source = _write(tmp_path / "in.csv", _archive_rows(300))
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    calls = {"n": 0}

    def explode(done, total):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        tag_file(source, out, model, chunk_size=50, force=True, progress=explode)
    assert out.read_text() == "old\n"  # the old output stays until the new one is complete
    assert read_state(out)["rows_done"] == 150
    with pytest.raises(DataError, match="pass --resume"):
        tag_file(source, out, model, chunk_size=50)
    summary = tag_file(source, out, model, chunk_size=50, resume=True)
    assert summary.resumed_after == 150 and summary.counters.rows == 300
    tag_file(source, tmp_path / "ref.csv", model, chunk_size=50)
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert not any(p.exists() for p in partial_paths(out))


def test_resume_refuses_a_changed_input_or_model(tmp_path, model, fake_store):
    source = _write(tmp_path / "in.csv", _archive_rows(200))
    out = tmp_path / "out.csv"

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tag_file(source, out, model, chunk_size=50, progress=stop)
    other = fake_store.load("vfake-2", embedder=FakeEmbedder())
    with pytest.raises(DataError, match="model: was 'vfake-1', now 'vfake-2'"):
        tag_file(source, out, other, chunk_size=50, resume=True)
    _write(source, _archive_rows(201))
    with pytest.raises(DataError, match="size"):
        tag_file(source, out, model, chunk_size=50, resume=True)


DRIVER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from classifier.topics.store import ModelStore
    from classifier.tagging.tagger import tag_file
    from tests.conftest import FakeEmbedder

    class SlowEmbedder(FakeEmbedder):
        def encode(self, texts, *, batch_size=None):
            time.sleep(0.15)
            return super().encode(texts, batch_size=batch_size)

    model = ModelStore({store!r}).load("vfake-1", embedder=SlowEmbedder())
    tag_file({source!r}, {output!r}, model, chunk_size=40, checkpoint_seconds=0)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("output_name", ["out.csv", "out.jsonl.gz", "out.parquet"])
def test_a_run_killed_part_way_resumes_to_the_same_output(tmp_path, fake_store, output_name):
    rows = _archive_rows(1000)
    source = _write(tmp_path / "in.csv", rows)
    output = tmp_path / output_name
    reference = tmp_path / ("ref_" + output_name)
    tag_file(source, reference, fake_store.load("vfake-1", embedder=FakeEmbedder()), chunk_size=40)

    script = tmp_path / "driver.py"
    script.write_text(
        DRIVER.format(
            root=str(ROOT), store=str(fake_store.root), source=str(source), output=str(output)
        )
    )
    process = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    state_file = partial_paths(output)[2]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = read_state(output) if state_file.exists() else None
        if state and state["rows_done"] >= 120:
            break
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.02)
    else:
        pytest.fail("the driver never checkpointed")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    process.stderr.close()
    assert not output.exists()
    done = read_state(output)["rows_done"]
    assert 120 <= done < len(rows)
    # the kill can land between writing a chunk and recording it: add such an unrecorded tail
    if output_name.endswith(".parquet"):
        pq.write_table(pa.table({"x": [1]}), partial_paths(output)[1] / "part-99999999.parquet")
    else:
        with open(partial_paths(output)[0], "ab") as handle:
            handle.write(b"half a row,that was never recorded")

    summary = tag_file(
        source,
        output,
        fake_store.load("vfake-1", embedder=FakeEmbedder()),
        chunk_size=40,
        resume=True,
    )
    assert summary.resumed_after == done
    assert summary.counters.rows == len(rows)
    assert sum(summary.counters.topics.values()) == summary.counters.tagged == len(rows)
    if output_name.endswith(".parquet"):
        assert pq.read_table(output).equals(pq.read_table(reference))
    else:
        assert _read(output) == _read(reference)
        if not output_name.endswith(".gz"):
            assert output.read_bytes() == reference.read_bytes()
    assert not any(p.exists() for p in partial_paths(output))


def test_a_run_stopped_after_its_last_chunk_finishes_on_resume(tmp_path, model):
    source = _write(tmp_path / "in.csv", _archive_rows(100))
    out = tmp_path / "out.parquet"
    from classifier.tagging.tagger import output as tag_output

    original = tag_output.OutputTarget._merge_parts

    def crash(self, *args):
        raise KeyboardInterrupt

    tag_output.OutputTarget._merge_parts = crash
    try:
        with pytest.raises(KeyboardInterrupt):
            tag_file(source, out, model, chunk_size=30)
    finally:
        tag_output.OutputTarget._merge_parts = original
    assert read_state(out)["phase"] == "finishing"
    summary = tag_file(source, out, model, chunk_size=30, resume=True)
    assert summary.counters.rows == 100 and summary.rows_this_run == 0
    assert pq.read_table(out).num_rows == 100


def test_progress_reports_rows_and_an_estimated_total(tmp_path, model):
    source = _write(tmp_path / "in.csv", _archive_rows(1000))
    seen = []
    tag_file(
        source,
        tmp_path / "out.csv",
        model,
        chunk_size=100,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert [d for d, _ in seen] == list(range(100, 1001, 100))
    assert all(t is not None and t >= d for d, t in seen)
    assert seen[-1][1] == 1000


def test_an_empty_archive_gives_an_empty_output_with_the_columns(tmp_path, model):
    path = tmp_path / "empty.csv"
    path.write_text("id,headline\n")
    summary = tag_file(path, tmp_path / "out.parquet", model)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.num_rows == 0 and "topic" in table.column_names
    assert summary.counters.rows == 0


# -- clusters ------------------------------------------------------------------------------------
def test_clusters_are_fitted_on_a_sample_and_assigned_to_every_row(tmp_path, model):
    from classifier.clustering.cluster import HeadlineClusterer
    from classifier.tagging.tagger import sample_headlines

    rows = _archive_rows(900)
    rows[5]["headline"] = ""
    source = _write(tmp_path / "in.csv", rows)
    summary = tag_file(
        source, tmp_path / "out.csv", model, clusters="themes", cluster_sample=250, chunk_size=100
    )
    out = _read(tmp_path / "out.csv")
    assert out[5]["cluster"] == "" and out[5]["tag_error"] == "empty headline"
    good = [r for r in out if not r["tag_error"]]

    sample = sample_headlines(source, "headline", 250)
    shuffled = _write(tmp_path / "shuffled.csv", rows[::-1])
    assert sample_headlines(shuffled, "headline", 250) == sample  # row order does not matter
    embedder = FakeEmbedder()
    clusterer = HeadlineClusterer(level="themes", sample_size=250).fit(
        embedder.encode(sample), sample
    )
    expected = clusterer.assign(embedder.encode([normalise_headline(r["headline"]) for r in good]))
    assert [int(r["cluster"]) for r in good] == expected.tolist()
    assert summary.stats["clusters"] == clusterer.n_clusters_ >= 2
    assert summary.counters.unclustered == int((expected == -1).sum())
    # the sampled headlines were embedded for the fit and not again for their rows
    distinct = {normalise_headline(r["headline"]) for r in good}
    assert model.embedder.texts == len(distinct) == summary.stats["encoded"]
    assert summary.stats["reused"] == len(good) - len(distinct)
    tag_file(source, tmp_path / "out.parquet", model, clusters="themes", cluster_sample=250)
    assert pq.read_schema(tmp_path / "out.parquet").field("cluster").type == pa.int64()


def test_a_clustered_run_resumes_to_the_same_output(tmp_path, fake_store):
    source = _write(tmp_path / "in.csv", _archive_rows(600))
    out = tmp_path / "out.jsonl"

    def stop(done, total):
        if done >= 200:
            raise KeyboardInterrupt

    def load():
        return fake_store.load("vfake-1", embedder=FakeEmbedder())

    options = {"clusters": "stories", "cluster_sample": 200, "chunk_size": 100}
    with pytest.raises(KeyboardInterrupt):
        tag_file(source, out, load(), progress=stop, **options)
    with pytest.raises(DataError, match="clusters"):
        tag_file(source, out, load(), resume=True, chunk_size=100)
    summary = tag_file(source, out, load(), resume=True, **options)
    assert summary.resumed_after == 200
    tag_file(source, tmp_path / "ref.jsonl", load(), **options)
    assert out.read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
    assert all("cluster" in row for row in _read(out))


# -- the Dask engine -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        protocol="tcp",  # reachable from a separate process, like a real scheduler
        host="127.0.0.1",
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.slow
def test_the_dask_engine_gives_the_same_rows_and_labels_as_the_local_engine(
    tmp_path, fake_store, dask_client
):
    from classifier.tagging.tagger import dask_engine as tag_dask

    rows = _archive_rows(1500)
    rows[10]["headline"] = ""
    source = _write(tmp_path / "in.csv", rows)
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
    reference = _read(tmp_path / "local.csv")
    assert table.column("id").to_pylist() == [r["id"] for r in reference]
    assert table.column("topic").to_pylist() == [r["topic"] or None for r in reference]
    # one model load per worker process, not one per partition (the test workers share a process)
    assert sum(tag_dask.LOADS.values()) == 1


@pytest.mark.slow
def test_the_dask_engine_reads_parquet_row_groups_and_resumes(tmp_path, fake_store, dask_client):
    from classifier.tagging.tagger import dask_engine as tag_dask

    rows = _archive_rows(600)
    source = _write(tmp_path / "in.parquet", rows)
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
    store = _shipped_model_copy(tmp_path)
    headlines = [
        "WHO warns measles cases are rising across Europe",
        "China retaliates with tariffs on American soybeans",
        "",
        "Asylum seekers wait at the border as new rules take effect",
    ] * 3
    source = _write(
        tmp_path / "in.csv",
        [{"id": str(i), "headline": h, "source": "x"} for i, h in enumerate(headlines)],
    )
    address = dask_client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    common = ["--models-dir", str(store.root), "--no-progress", "--json"]
    # a separate process with no default client, as the command runs on a user's machine
    result = _cli(
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
    folder = _cli(
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
    assert [r["topic"] for r in _read(tmp_path / "local.csv")][:4] == [
        "health",
        "trade",
        "",
        "immigration",
    ]


def _local_run_with(store: ModelStore, source: Path, output: Path):
    """The local engine with the real model and its own encoder (onnx-int8), in this process."""
    return tag_file(source, output, store.load())


def test_the_dask_engine_refuses_jsonl(tmp_path, fake_store, dask_client):
    from classifier.tagging.tagger import dask_engine as tag_dask

    source = _write(tmp_path / "in.jsonl", _archive_rows(10))
    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=FakeEmbedder)
    with pytest.raises(DataError, match="local engine"):
        tag_dask.tag_dask(source, tmp_path / "out.csv", spec, scheduler=dask_client)


# -- the command, with the real model ------------------------------------------------------------
def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "classifier.cli", "tag", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        timeout=240,
    )


def _shipped_model_copy(tmp_path: Path) -> ModelStore:
    """A copy of the shipped model store, so the test never reads a store being rewritten."""
    import shutil

    shipped = ModelStore(ROOT / "models")
    try:
        version = shipped.resolve(None)
        shipped.read_manifest(version)
    except ModelError as exc:
        pytest.skip(f"no usable shipped model: {exc}")
    copy = ModelStore(tmp_path / "models")
    copy.root.mkdir()
    shutil.copytree(shipped.path_of(version), copy.root / version)
    (copy.root / "CURRENT").write_text(version + "\n")
    return copy


@pytest.mark.slow
def test_the_command_tags_with_the_shipped_model_and_refuses_to_overwrite(tmp_path):
    store = _shipped_model_copy(tmp_path)
    models = ["--models-dir", str(store.root)]
    headlines = [
        "WHO declares a global health emergency over new virus",
        "Senate approves sweeping tariffs on Chinese steel",
        "",
        "Border patrol detains record number of migrants",
        "senate approves   SWEEPING tariffs on chinese steel",
    ]
    source = _write(
        tmp_path / "in.csv",
        [{"id": str(i), "headline": h, "source": "x"} for i, h in enumerate(headlines)],
    )
    out = tmp_path / "out.jsonl"
    result = _cli(source, out, "--json", "--no-progress", *models)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows_in"], summary["rows_tagged"], summary["rows_skipped"]) == (5, 4, 1)
    assert summary["skipped_reasons"] == {"empty headline": 1}
    assert summary["encoded"] == 3  # the repeated headline was embedded once

    rows = _read(out)
    model = store.load()  # the encoder the model was trained on, as the command uses
    expected = model.predict([normalise_headline(h) for h in headlines if h])
    tagged = [r for r in rows if not r["tag_error"]]
    assert [r["topic"] for r in tagged] == [p.topic for p in expected]
    assert [r["topic"] for r in tagged][:3] == ["health", "trade", "immigration"]
    assert rows[2]["tag_error"] == "empty headline"

    again = _cli(source, out, "--no-progress", *models)
    assert again.returncode == 2
    assert "already exists; pass --force" in again.stderr and "Traceback" not in again.stderr
    forced = _cli(source, out, "--force", "--no-progress", *models)
    assert forced.returncode == 0 and "rows in: 5" in forced.stdout
    missing = _cli(tmp_path / "nope.csv", tmp_path / "x.csv")
    assert missing.returncode == 2 and "no such file" in missing.stderr
