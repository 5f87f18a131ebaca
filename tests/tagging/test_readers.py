"""classifier.readers, the one home of reading headline files, on its own.

Training sets, the cluster command and the tagger all read through it; the tests of those
callers pin their messages. These pin what the callers rely on: formats, decoding, row numbers,
chunking and skipping, and that the light parts stay light (the CLI imports them for --help).
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import types

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from classifier.readers.chunks import MISSING, Chunk, rename_clashes
from classifier.readers.formats import FileFormat, detect_format, is_record_file, record_format
from classifier.readers.records import Problem, iter_lines, iter_records
from classifier.readers.stream import open_reader
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("name", "fmt", "label"),
    [
        ("a.csv", FileFormat("csv"), "csv"),
        ("a.TSV.gz", FileFormat("csv", True, "\t"), "csv.gz"),
        ("a.ndjson", FileFormat("jsonl"), "jsonl"),
        ("a.jsonl.gz", FileFormat("jsonl", True), "jsonl.gz"),
        ("a.pq", FileFormat("parquet"), "parquet"),
    ],
)
def test_a_file_name_says_its_format(name, fmt, label):
    assert detect_format(name) == fmt
    assert fmt.label == label


def test_names_that_are_no_archive_format_are_refused_with_the_known_ones():
    with pytest.raises(DataError, match=r"unknown file type; use \.csv, \.tsv, \.jsonl"):
        detect_format("a.json")
    with pytest.raises(DataError, match="compressed inside the file; drop the .gz"):
        detect_format("a.parquet.gz")


def test_whole_file_readers_take_json_and_tsv_and_tell_records_from_lines(tmp_path):
    assert record_format(tmp_path / "a.json") == FileFormat("jsonl")
    assert record_format(tmp_path / "a.tsv") == FileFormat("csv", delimiter="\t")
    with pytest.raises(DataError, match=r"unsupported file type \(none\); use .csv or .jsonl"):
        record_format(tmp_path / "README")
    assert is_record_file("x.JSONL") and is_record_file("x.tsv")
    assert not is_record_file("-") and not is_record_file("notes.txt")


def test_plain_lines_keep_the_editors_numbers_whatever_the_line_endings(tmp_path):
    path = tmp_path / "h.txt"
    path.write_bytes(b"one\r\ntwo\rthree\n\n  \nlast")
    assert list(iter_lines(str(path))) == [
        (1, "one"),
        (2, "two"),
        (3, "three"),
        (4, ""),
        (5, "  "),
        (6, "last"),
    ]


def test_plain_lines_come_from_stdin_for_a_dash(monkeypatch):
    stdin = types.SimpleNamespace(buffer=io.BytesIO("Café\nBourse\n".encode("utf-8-sig")))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert list(iter_lines("-")) == [(1, "Café"), (2, "Bourse")]  # the byte-order mark dropped


def test_decoding_errors_name_the_source_as_given_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "latin.txt").write_bytes("Caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError) as caught:
        list(iter_lines("./latin.txt"))
    assert str(caught.value) == (
        "./latin.txt: not valid utf-8-sig text (byte 3); "
        "save it as UTF-8 or pass --encoding with the file's encoding"
    )
    assert list(iter_lines("./latin.txt", encoding="latin-1")) == [(1, "Café")]
    with pytest.raises(DataError, match="^./absent.txt: no such file$"):
        list(iter_lines("./absent.txt"))
    with pytest.raises(DataError, match="^unknown encoding 'klingon'$"):
        list(iter_lines("./latin.txt", encoding="klingon"))


def test_records_and_the_stream_number_the_same_csv_rows_alike(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,headline\n1,One\n\n2,Two,extra\n3,Three\n", encoding="utf-8")
    records = list(iter_records(path, required=("headline",)))
    assert [n for n, _ in records] == [1, 2, 3]
    assert records[1][1] == Problem(str(path), 2, "more fields than the header")
    with open_reader(path, text_column="headline", reserved=set()) as reader:
        (chunk,) = list(reader.chunks(10))
    assert chunk.start == 0 and chunk.texts == ["One", "Two", "Three"]
    assert chunk.issues[1].startswith("wrong number of fields: 3 fields")


def test_a_jsonl_file_must_have_the_required_field_in_its_first_record(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('\n[1]\n{"title": "x"}\n', encoding="utf-8")
    rows = iter_records(path, required=("headline",))
    assert next(rows) == (2, Problem(str(path), 2, "not a JSON object"))
    with pytest.raises(DataError, match="first record has no headline field"):
        next(rows)


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz", "in.jsonl", "in.jsonl.gz"])
def test_the_stream_skips_a_resume_point_and_reports_how_far_it_has_read(tmp_path, name):
    lines = [f"Headline number {i}" for i in range(10)]
    if ".csv" in name:
        data = ("headline\n" + "".join(f"{h}\n" for h in lines)).encode()
    else:
        data = "".join(json.dumps({"headline": h}) + "\n" for h in lines).encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with open_reader(path, text_column="headline", reserved=set()) as reader:
        chunks = list(reader.chunks(3, skip=4))
        assert reader.fraction_done() == 1.0
    assert [c.start for c in chunks] == [4, 7]
    assert [t for c in chunks for t in c.texts] == lines[4:]
    with open_reader(path, text_column="headline", reserved=set()) as reader:
        assert list(reader.chunks(3, skip=99)) == []


def test_a_truncated_gzip_archive_says_after_which_row(tmp_path):
    data = gzip.compress(("headline\n" + "x\n" * 50_000).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with (
        open_reader(path, text_column="headline", reserved=set()) as reader,
        pytest.raises(DataError, match="the file is truncated .*; reading stopped after row"),
    ):
        list(reader.chunks(1000))


def test_an_empty_chunk_keeps_the_parquet_columns_their_types_and_new_names(tmp_path):
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"topic": pa.array([1], pa.int32()), "headline": ["x"]}), path)
    with open_reader(path, text_column="headline", reserved={"topic"}) as reader:
        empty = reader.empty_chunk()
    assert len(empty) == 0
    assert empty.table.schema == pa.schema([("topic_input", pa.int32()), ("headline", pa.string())])
    assert Chunk.empty().rows() == []


def test_clashing_names_get_a_suffix_that_is_not_taken():
    assert rename_clashes(["topic", "topic_input", "headline"], {"topic"}) == {
        "topic": "topic_input_input"
    }
    assert repr(MISSING) == "MISSING"


def test_the_light_readers_import_neither_numpy_nor_pyarrow():
    code = (
        "import sys\n"
        "import classifier.readers.records, classifier.readers.formats\n"
        "import classifier.tagging.paths, classifier.tagging.run, classifier.tagging\n"
        "assert classifier.tagging.DEFAULT_BLOCKSIZE == 8 << 20\n"
        "print(sorted(m for m in ('numpy', 'pyarrow', 'pandas', 'dask') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_folder_given_as_input_is_named_as_a_folder(tmp_path):
    """It was reported as 'no such file' (issue 19, smaller items)."""
    from classifier.errors import DataError
    from classifier.readers.stream import open_reader
    from classifier.tagging.run import check_paths

    with pytest.raises(DataError, match="is a folder; name a CSV, JSONL or Parquet file"):
        check_paths(tmp_path, tmp_path / "out.csv")
    with pytest.raises(DataError, match="is a folder"):
        open_reader(tmp_path, text_column="headline", reserved=set())
    with pytest.raises(DataError, match="no such file"):
        check_paths(tmp_path / "absent.csv", tmp_path / "out.csv")
