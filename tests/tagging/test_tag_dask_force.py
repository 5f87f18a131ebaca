"""``--force`` with the Dask engine replaces a folder tag wrote, and never a folder of the user's.

Issue 19 #1: ``tag ... OUTDIR --engine dask --force`` once deleted whatever folder sat at OUTDIR,
the user's files included.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from tests.conftest import FakeEmbedder
from tests.tagging.support import archive_rows, write_rows


@pytest.fixture
def engine(fake_store):
    from classifier.tagging import dask as tag_dask

    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=FakeEmbedder)
    return tag_dask, spec


@pytest.mark.slow
def test_force_refuses_a_folder_that_tag_did_not_write(tmp_path, engine, dask_client):
    tag_dask, spec = engine
    source = write_rows(tmp_path / "in.csv", archive_rows(200))
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.docx").write_bytes(b"years of work")
    (mine / "part-00000.parquet").write_bytes(b"not ours either")
    for force in (False, True):
        with pytest.raises(DataError, match="not the output of a tag run"):
            tag_dask.tag_dask(source, mine, spec, scheduler=dask_client, force=force)
    assert (mine / "chapter1.docx").read_bytes() == b"years of work"
    assert sorted(p.name for p in mine.iterdir()) == ["chapter1.docx", "part-00000.parquet"]


@pytest.mark.slow
def test_force_replaces_a_folder_a_tag_run_wrote(tmp_path, engine, dask_client):
    tag_dask, spec = engine
    source = write_rows(tmp_path / "in.csv", archive_rows(300))
    out = tmp_path / "parts"
    tag_dask.tag_dask(source, out, spec, scheduler=dask_client, blocksize=8_000)
    assert tag_dask.is_tag_output_folder(out)
    with pytest.raises(DataError, match="already exists; pass --force"):
        tag_dask.tag_dask(source, out, spec, scheduler=dask_client)
    summary = tag_dask.tag_dask(source, out, spec, scheduler=dask_client, force=True)
    assert summary.counters.rows == 300
    assert pq.read_table(sorted(out.glob("part-*.parquet"))).num_rows == 300
