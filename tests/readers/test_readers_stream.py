"""classifier.readers.stream and .base: the streaming readers the tagger uses (issue 19).

A huge cell, a cut-off gzip, another encoding and a file without a header: each once broke the
readers (a traceback, blanked columns, "damaged after row 0", or no way to read it at all).
"""

from __future__ import annotations

import gzip
import json
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from classifier.readers.stream import open_reader

BIG = 17 * 1024 * 1024  # over the 16 MiB csv.field_size_limit the package set before


def _rows(path, **options):
    with open_reader(
        path, text_column=options.pop("text_column", "headline"), reserved=set(), **options
    ) as reader:
        return [
            (record, text, issue)
            for chunk in reader.chunks(1000)
            for record, text, issue in zip(chunk.rows(), chunk.texts, chunk.issues, strict=True)
        ]


def test_a_cell_over_16_mb_keeps_its_row_whole_and_the_rows_after_it(tmp_path):
    """The row once came out with every column blanked and an 'unreadable CSV row' issue, and
    the rest of the huge cell was parsed as rows of its own (issue 19 #5)."""
    path = tmp_path / "big.csv"
    huge = "word " * (BIG // 5)
    path.write_text(f'id,headline,note\n1,"{huge}",kept\n2,Tariffs rise,after\n', encoding="utf-8")
    rows = _rows(path)
    assert len(rows) == 2
    (first, text, issue), (second, _, _) = rows
    assert issue is None and first == {"id": "1", "headline": huge, "note": "kept"}
    assert len(text) == len(huge)
    assert second == {"id": "2", "headline": "Tariffs rise", "note": "after"}


def _truncated(tmp_path, name, text):
    data = gzip.compress(text.encode())
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    # what a reader can get out of the cut file: the complete lines before the cut
    whole = zlib.decompressobj(wbits=31).decompress(data[: len(data) // 2])
    return path, whole.count(b"\n")


@pytest.mark.parametrize("name", ["cut.csv.gz", "cut.jsonl.gz"])
def test_a_truncated_gzip_says_it_is_truncated_and_after_which_row(tmp_path, name):
    """It said 'the file is damaged after row 0' whenever the cut came before the first chunk
    was complete: the count was of finished chunks, not of rows read (issue 19, smaller items)."""
    if name.endswith(".csv.gz"):
        body = "headline\n" + "".join(f"headline number {i} of many\n" for i in range(30_000))
    else:
        body = "".join(
            json.dumps({"headline": f"headline number {i}"}) + "\n" for i in range(30_000)
        )
    path, lines = _truncated(tmp_path, name, body)
    rows = lines - 1 if name.endswith(".csv.gz") else lines  # the CSV header is no row
    with (
        pytest.raises(DataError) as caught,
        open_reader(path, text_column="headline", reserved=set()) as reader,
    ):
        for _ in reader.chunks(100_000):  # one chunk larger than the file
            pass
    message = str(caught.value)
    assert "the file is truncated" in message
    assert message.endswith(f"reading stopped after row {rows:,}")


def test_corrupt_gzip_data_is_named_as_such_not_a_traceback(tmp_path):
    """zlib.error is no OSError: corrupt compressed data ended in a traceback."""
    data = bytearray(gzip.compress(("headline\n" + "x y z\n" * 50_000).encode()))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"the file is damaged: .*reading stopped after row"):
        _rows(path)


def test_another_encoding_is_read_and_undecodable_bytes_are_still_named_per_row(tmp_path):
    """tag had no --encoding: a Latin-1 archive was all 'not valid UTF-8' rows (issue 19)."""
    path = tmp_path / "latin.csv"
    path.write_bytes("headline,id\nCafé owners protest,1\n".encode("cp1252") + b"Bad \x81 byte,2\n")
    rows = _rows(path, encoding="cp1252")
    assert rows[0][0] == {"headline": "Café owners protest", "id": "1"} and rows[0][2] is None
    assert rows[1][2] == "headline is not valid cp1252" and rows[1][0]["id"] == "2"
    # the default is still UTF-8, with a byte order mark dropped
    path.write_bytes("\ufeffheadline\nCafé\n".encode())
    assert _rows(path)[0][0] == {"headline": "Café"}
    assert _rows(path, encoding="utf-8")[0][0] == {"headline": "Café"}
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        _rows(path, encoding="klingon")


def test_jsonl_in_another_encoding_and_one_that_cannot_be_split_by_lines(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"headline": "Café"}\n'.encode("latin-1") + b'{"headline": "\xff\xfe"}\n')
    rows = _rows(path, encoding="latin-1")
    assert [r[1] for r in rows] == ["Café", "ÿþ"]
    wide = tmp_path / "wide.jsonl"
    wide.write_bytes('{"headline": "x"}\n'.encode("utf-16"))
    with pytest.raises(DataError, match="cannot be read line by line; convert it to UTF-8"):
        _rows(wide, encoding="utf-16")


def test_a_headerless_csv_names_its_columns_by_number(tmp_path):
    """AG News has no header: class,title,description (issue 19, --no-header)."""
    path = tmp_path / "ag.csv"
    path.write_text(
        '3,"Wall St. Bears Claw Back",Short-sellers\n4,Oil prices,"Soaring, again"\n1,only two\n'
    )
    rows = _rows(path, header=False, text_column="2")
    assert [r[1] for r in rows] == ["Wall St. Bears Claw Back", "Oil prices", "only two"]
    assert rows[0][0] == {"1": "3", "2": "Wall St. Bears Claw Back", "3": "Short-sellers"}
    assert rows[2][2] == "wrong number of fields: 2 fields, the first row has 3"
    with pytest.raises(DataError, match="a column number from 1 to 3 .* not 'title'"):
        _rows(path, header=False, text_column="title")
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"headline": "x"}\n')
    with pytest.raises(DataError, match="--no-header is for CSV and TSV"):
        _rows(jsonl, header=False)


def test_parquet_refuses_options_that_mean_nothing_for_it(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"headline": ["x"]}), path)
    with pytest.raises(DataError, match="--encoding is for CSV and JSONL"):
        _rows(path, encoding="latin-1")
    with pytest.raises(DataError, match="--no-header is for CSV and JSONL"):
        _rows(path, header=False)


def test_a_huge_record_is_split_as_the_csv_module_splits_it(tmp_path, monkeypatch):
    """Records over HUGE_LINE are split with str.find (the csv module keeps a 4-bytes-a-character
    buffer the size of the cell); with the threshold at 0, every record goes that way, and the
    fields must be the csv module's, quoting, doubled quotes, multi-line records and all."""
    import csv
    import io
    import random

    from classifier.readers import csvlines

    monkeypatch.setattr(csvlines, "HUGE_LINE", 0)
    rng = random.Random(2)
    alphabet = ["a", "b", ",", '"', " ", "é", "\t", ";", "\r", "\n", "\r\n"]
    compared = 0
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        try:
            expected = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
        except csv.Error:
            continue
        assert list(csvlines.csv_rows(io.StringIO(text, newline=""))) == expected, repr(text)
        compared += 1
    assert compared > 1000
    for _ in range(2000):
        cells = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(3)]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(cells)
        assert csvlines.format_row(cells) == buffer.getvalue()
