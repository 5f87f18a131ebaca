"""--clusters: fitted once on a hash sample of the archive, assigned to every row, resumable."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from classifier.tagging import normalise_headline, sample_headlines, tag_file
from tests.conftest import FakeEmbedder
from tests.tagging.support import archive_rows, read_rows, write_rows


def test_clusters_are_fitted_on_a_sample_and_assigned_to_every_row(tmp_path, model):
    from classifier.clustering.estimator import HeadlineClusterer

    rows = archive_rows(900)
    rows[5]["headline"] = ""
    source = write_rows(tmp_path / "in.csv", rows)
    summary = tag_file(
        source, tmp_path / "out.csv", model, clusters="themes", cluster_sample=250, chunk_size=100
    )
    out = read_rows(tmp_path / "out.csv")
    assert out[5]["cluster"] == "" and out[5]["tag_error"] == "empty headline"
    good = [r for r in out if not r["tag_error"]]

    sample = sample_headlines(source, "headline", 250)
    shuffled = write_rows(tmp_path / "shuffled.csv", rows[::-1])
    assert sample_headlines(shuffled, "headline", 250) == sample  # row order does not matter
    embedder = FakeEmbedder()
    clusterer = HeadlineClusterer(level="themes", sample_size=250).fit(
        embedder.encode(sample), texts=sample
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
    source = write_rows(tmp_path / "in.csv", archive_rows(600))
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
    assert all("story" in row and "cluster" not in row for row in read_rows(out))
