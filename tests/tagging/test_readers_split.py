"""Byte ranges cut where a record ends: read range by range, an archive gives the local reader's rows.

This is what makes the Dask engine exact (issue 17): the partition reader must give, for every
blocksize, the same records, texts and issues in the same order as the local engine's reader of
the whole file. Checked here without a cluster, on the hand-made tricky files and on random
bytes made of the characters that trouble CSV parsers.
"""

from __future__ import annotations

import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.errors import DataError
from classifier.readers.stream import open_reader
from classifier.tagging.dask.partitions import plan_partitions, read_part
from classifier.tagging.results import output_columns
from tests.tagging.support import tricky_csv_bytes, tricky_jsonl_bytes

RESERVED = set(output_columns(False))


def _local(path):
    with open_reader(path, text_column="headline", reserved=RESERVED) as reader:
        chunks = list(reader.chunks(50))
        columns = reader.columns
    return columns, _rows(chunks)


def _rows(chunks):
    return [
        (row, repr(text), issue)
        for chunk in chunks
        for row, text, issue in zip(chunk.rows(), chunk.texts, chunk.issues, strict=True)
    ]


def _ranges(path, blocksize, chunk_size=37):
    plan = plan_partitions(path, "headline", blocksize)
    chunks = [c for part in plan.parts for c in read_part(part, plan, chunk_size)]
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert sum(p.rows for p in plan.parts) == sum(len(c) for c in chunks)
    return list(plan.columns), _rows(chunks), len(plan.parts)


@pytest.mark.parametrize(
    "name, data",
    [
        ("bom-crlf.csv", tricky_csv_bytes(500)),
        ("lf.csv", tricky_csv_bytes(500, bom=False, crlf=False)),
        ("bom-crlf.csv.gz", gzip.compress(tricky_csv_bytes(500))),
        ("in.jsonl", tricky_jsonl_bytes(400)),
        ("in.jsonl.gz", gzip.compress(tricky_jsonl_bytes(400))),
    ],
)
def test_every_blocksize_gives_the_local_readers_rows(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    columns, expected = _local(path)
    assert any(issue for _, _, issue in expected)  # bad rows are in there, and kept
    for blocksize in (1, 7, 100, 333, 4096, 1 << 40):
        got_columns, got, parts = _ranges(path, blocksize)
        assert got_columns == columns
        assert got == expected, blocksize
    assert parts == 1


_PIECES = st.sampled_from(
    ["a", "b c", ",", '"', '""', "\n", "\r\n", "\r", "\ufeff", "\xe9", "\x00", " ", "x,y"]
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.lists(_PIECES, max_size=60), raw=st.booleans(), blocksize=st.integers(1, 40))
def test_random_csv_bytes_split_anywhere_give_the_local_readers_rows(
    tmp_path, body, raw, blocksize
):
    data = ("id,headline\n" + "".join(body)).encode()
    if raw:
        data += b"\xff\xfe tail"  # undecodable bytes
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    try:
        columns, expected = _local(path)
    except DataError:
        return
    got_columns, got, _ = _ranges(path, blocksize, chunk_size=3)
    assert (got_columns, got) == (columns, expected)


def test_a_header_only_and_an_empty_file_plan_one_empty_part(tmp_path):
    (tmp_path / "header.csv").write_bytes(b"\xef\xbb\xbfid,headline\r\n")
    _, rows, parts = _ranges(tmp_path / "header.csv", 10)
    assert rows == [] and parts == 1
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="no header row"):
        plan_partitions(tmp_path / "empty.csv", "headline", 10)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("blocksize", [1, 13, 1 << 40])
def test_headerless_files_in_another_encoding_split_into_the_local_readers_rows(
    tmp_path, gz, blocksize
):
    """Issue 19 on the record-aware splitter: --encoding and --no-header read each byte range
    as the local reader reads the whole file (a BOM-like start, a quoted line break, a short
    row, a byte that is not cp1252 included)."""
    rows = ['\xef\xbb\xbf1,Caf\xe9 "\u20ac" prices', '2,"two\nlines",x', "3", "4,bad ? byte"]
    data = ("\r\n".join(rows) + "\r\n").encode("cp1252")
    data = data.replace(b"?", b"\x81")  # a byte cp1252 cannot decode
    path = tmp_path / ("in.csv.gz" if gz else "in.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    read = {"encoding": "cp1252", "header": False}
    with open_reader(path, text_column="2", reserved=RESERVED, **read) as reader:
        columns, expected = list(reader.columns), _rows(list(reader.chunks(50)))
    assert columns == ["1", "2"] and len(expected) == 4
    assert any("not valid cp1252" in (issue or "") for _, _, issue in expected)
    plan = plan_partitions(path, "2", blocksize, **read)
    chunks = [c for part in plan.parts for c in read_part(part, plan, 3)]
    assert (list(plan.columns), _rows(chunks)) == (columns, expected)
    assert plan.identity()["header"] is False and plan.identity()["encoding"] == "cp1252"


def test_the_splitter_refuses_what_it_cannot_cut(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes("headline\nx\n".encode("utf-16"))
    with pytest.raises(DataError, match="utf-16 text does not allow; tag it with the local"):
        plan_partitions(path, "headline", 10, encoding="utf-16")
    (tmp_path / "in.jsonl").write_bytes(b'{"headline": "x"}\n')
    with pytest.raises(DataError, match="--no-header is for CSV and TSV"):
        plan_partitions(tmp_path / "in.jsonl", "headline", 10, header=False)
