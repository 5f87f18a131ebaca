"""The Dask engine on a real cluster gives the local engine's output, byte for byte.

Issue 17: on a CSV where one headline in seven held a quoted line break, the Dask engine once
split partitions at the next line end and wrote 3,002 rows for 3,000, a third of them shifted,
and reported success. These tests start ``dask scheduler`` and two ``dask worker`` processes
(the session fixture ``dask_processes``) and compare with the local engine on inputs built to
break a line-based split, with a blocksize small enough that record ends and block edges meet
everywhere.
"""

from __future__ import annotations

import gzip

import pyarrow.parquet as pq
import pytest

from classifier.tagging import tag_file
from tests.conftest import FakeEmbedder
from tests.tagging.support import tricky_csv_bytes, tricky_jsonl_bytes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(fake_store):
    from classifier.tagging import dask as tag_dask

    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=FakeEmbedder)
    return tag_dask, spec


def _local(fake_store, source, output):
    model = fake_store.load("vfake-1", embedder=FakeEmbedder())
    return tag_file(source, output, model, chunk_size=64)


def _content(path):
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def test_a_tricky_csv_comes_out_as_the_local_engine_writes_it(
    tmp_path, fake_store, engine, dask_processes
):
    tag_dask, spec = engine
    source = tmp_path / "tricky.csv"
    source.write_bytes(tricky_csv_bytes(900))
    assert source.read_bytes().count(b"\n") > 1200  # many rows span lines
    for name in ("out.csv", "out.csv.gz", "out.parquet"):
        local = _local(fake_store, source, tmp_path / f"local-{name}")
        summary = tag_dask.tag_dask(
            source, tmp_path / name, spec, scheduler=dask_processes.address, blocksize=1200
        )
        assert summary.counters.to_dict() == local.counters.to_dict(), name
        if name.endswith(".parquet"):
            assert pq.read_table(tmp_path / name).equals(pq.read_table(tmp_path / f"local-{name}"))
        else:
            assert _content(tmp_path / name) == _content(tmp_path / f"local-{name}"), name
    assert local.counters.rows == 900 and local.counters.skipped > 30  # bad rows are kept

    folder = tmp_path / "parts"
    tag_dask.tag_dask(source, folder, spec, scheduler=dask_processes.address, blocksize=1200)
    parts = sorted(folder.glob("part-*.parquet"))
    assert len(parts) > 30
    table = pq.read_table(parts).replace_schema_metadata(None)
    assert table.equals(pq.read_table(tmp_path / "local-out.parquet"))


@pytest.mark.parametrize("name", ["plain.csv.gz", "lf.csv"])
def test_gzip_and_lf_csv_without_a_bom_split_exactly_too(
    tmp_path, fake_store, engine, dask_processes, name
):
    tag_dask, spec = engine
    data = tricky_csv_bytes(700, bom=False, crlf=False)
    source = tmp_path / name
    source.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    _local(fake_store, source, tmp_path / "local.csv")
    summary = tag_dask.tag_dask(
        source, tmp_path / "dask.csv", spec, scheduler=dask_processes.address, blocksize=500
    )
    assert summary.counters.rows == 700
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


@pytest.mark.parametrize("name", ["in.jsonl", "in.jsonl.gz"])
def test_jsonl_plain_and_gzip_comes_out_as_the_local_engine_writes_it(
    tmp_path, fake_store, engine, dask_processes, name
):
    tag_dask, spec = engine
    data = tricky_jsonl_bytes(600)
    source = tmp_path / name
    source.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    for out in ("out.jsonl", "out.csv"):
        local = _local(fake_store, source, tmp_path / f"local-{out}")
        summary = tag_dask.tag_dask(
            source, tmp_path / out, spec, scheduler=dask_processes.address, blocksize=1500
        )
        assert summary.counters.to_dict() == local.counters.to_dict()
        assert (tmp_path / out).read_bytes() == (tmp_path / f"local-{out}").read_bytes(), out
    assert local.counters.rows == 600 and local.counters.skipped > 15
