"""The Dask engine reads its input from and writes its parts to S3, through fsspec URLs.

A local S3-compatible server (moto's server mode, on 127.0.0.1) stands in for the store; the
client and the worker processes reach it through the usual ``AWS_*`` variables, as they would
reach a real one. Results are compared with the local engine on the same file.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from classifier.tagging import tag_file
from tests.conftest import FakeEmbedder
from tests.tagging.support import tricky_csv_bytes

pytestmark = pytest.mark.slow


@pytest.fixture
def s3(s3_env, monkeypatch):
    if not s3_env:
        pytest.skip("needs moto[server] and s3fs (the test extra)")
    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = "archive-test"
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    return fs, bucket


def test_an_s3_archive_is_tagged_into_s3_parts_and_resumed(
    tmp_path, fake_store, s3, dask_processes
):
    from classifier.tagging import dask as tag_dask

    fs, bucket = s3
    data = tricky_csv_bytes(500)
    (tmp_path / "in.csv").write_bytes(data)
    fs.pipe_file(f"{bucket}/in/tricky.csv", data)
    model = fake_store.load("vfake-1", embedder=FakeEmbedder())
    tag_file(tmp_path / "in.csv", tmp_path / "local.csv", model)
    tag_file(tmp_path / "in.csv", tmp_path / "local.parquet", model)
    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=FakeEmbedder)
    source = f"s3://{bucket}/in/tricky.csv"
    address = dask_processes.address

    # an S3 input, a local output: byte for byte the local engine's file
    tag_dask.tag_dask(source, tmp_path / "dask.csv", spec, scheduler=address, blocksize=2000)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()

    # S3 parts, interrupted after the first part and resumed
    output = f"s3://{bucket}/out/tagged"

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tag_dask.tag_dask(source, output, spec, scheduler=address, blocksize=2000, progress=stop)
    fs.invalidate_cache()
    assert not fs.exists(f"{bucket}/out/tagged")
    assert fs.ls(f"{bucket}/out/.tagged.parts")  # the staging prefix holds the finished parts
    with pytest.raises(DataError, match="pass --resume"):
        tag_dask.tag_dask(source, output, spec, scheduler=address, blocksize=2000)
    summary = tag_dask.tag_dask(
        source, output, spec, scheduler=address, blocksize=2000, resume=True
    )
    assert summary.resumed_after > 0 and summary.counters.rows == 500
    fs.invalidate_cache()  # the workers and the engine changed the bucket meanwhile
    names = sorted(fs.ls(f"{bucket}/out/tagged", detail=False))
    assert len(names) > 5 and not fs.exists(f"{bucket}/out/.tagged.parts")
    with fs.open(names[0], "rb") as first:
        assert pq.read_schema(first).metadata  # a part with its counters
    tables = []
    for name in names:
        with fs.open(name, "rb") as handle:
            tables.append(pq.read_table(handle).replace_schema_metadata(None))
    assert pa.concat_tables(tables).equals(pq.read_table(tmp_path / "local.parquet"))
    with pytest.raises(DataError, match="already exists; pass --force"):
        tag_dask.tag_dask(source, output, spec, scheduler=address, blocksize=2000)


def test_a_missing_s3_object_is_one_clear_error(fake_store, s3, dask_processes, tmp_path):
    from classifier.tagging import dask as tag_dask

    _, bucket = s3
    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=FakeEmbedder)
    with pytest.raises(DataError, match="no such object"):
        tag_dask.tag_dask(
            f"s3://{bucket}/nothing.csv", tmp_path / "o.csv", spec, scheduler=dask_processes.address
        )
