"""classifier.readers.records: whole files for train, evaluate and cluster (issue 19).

A cell over the csv module's limit ended these three commands in a traceback; a file without a
header could not be read; a 50 MB line on stdin was held whole.
"""

from __future__ import annotations

import io

import pytest

from classifier.errors import DataError
from classifier.readers.records import LongLine, Problem, bounded_lines, iter_records

BIG = 17 * 1024 * 1024


def test_a_cell_over_16_mb_is_a_record_not_a_traceback(tmp_path):
    """csv.Error: field larger than field limit, out of train/evaluate/cluster (issue 19 #5)."""
    path = tmp_path / "big.csv"
    huge = "x" * BIG
    path.write_text(f'headline,topic\n"{huge}",trade\nTariffs rise,trade\n')
    records = list(iter_records(path, required=("headline", "topic")))
    assert [n for n, _ in records] == [1, 2]
    assert records[0][1] == {"headline": huge, "topic": "trade"}
    assert records[1][1] == {"headline": "Tariffs rise", "topic": "trade"}


def test_a_row_the_csv_module_rejects_is_a_problem_of_its_row(tmp_path):
    """Whatever the limit in force (another library may lower it), a row over it is a Problem
    of that row, and the rows around it are read."""
    import csv

    path = tmp_path / "a.csv"
    path.write_text("headline\nfine\n" + "y" * 200 + "\nalso fine\n")
    old = csv.field_size_limit(100)
    try:
        records = list(iter_records(path))
    finally:
        csv.field_size_limit(old)
    assert isinstance(records[1][1], Problem) and "unreadable CSV row" in records[1][1].reason
    assert records[1][1].row == 2
    assert records[0][1] == {"headline": "fine"}


def test_a_headerless_csv_has_numbered_columns(tmp_path):
    path = tmp_path / "ag.csv"
    path.write_text('3,"Wall St. Bears",Short-sellers\n4,Oil prices,x,extra\n')
    records = list(iter_records(path, header=False, required=("2", "1")))
    assert records[0] == (1, {"1": "3", "2": "Wall St. Bears", "3": "Short-sellers"})
    assert records[1][1].reason == "more fields than the first row"
    with pytest.raises(
        DataError, match="columns are named by number, 1 to 3; there is no column 5"
    ):
        list(iter_records(path, header=False, required=("5",)))
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"headline": "x"}\n')
    with pytest.raises(DataError, match="--no-header is for CSV and TSV"):
        list(iter_records(jsonl, header=False))


def test_bounded_lines_hold_no_more_of_a_long_line_than_its_start():
    """predict read a 10 MB line whole and tokenised it (1.8 GB); now it is counted in pieces."""
    long = "é" * 3_000_000  # 6 MB of UTF-8, 3 million characters
    stream = io.BytesIO(f"Tariffs rise\n{long}\r\n".encode() + b"Bad \xff\nlast")
    lines = list(bounded_lines(stream, 1000))
    assert lines[0] == "Tariffs rise"
    assert lines[1] == LongLine("é" * 1000, 3_000_000)
    assert lines[2] == "Bad \udcff" and lines[3] == "last"
    # exactly at the limit is a headline, one more is not
    assert list(bounded_lines(io.BytesIO(b"a" * 10 + b"\n"), 10)) == ["a" * 10]
    assert list(bounded_lines(io.BytesIO(b"a" * 11), 10)) == ["a" * 11]  # the length check says
    assert list(bounded_lines(io.BytesIO(b"a" * 60), 10)) == [LongLine("a" * 10, 60)]
    assert list(bounded_lines(io.BytesIO(b"a" * 60 + b"\nb"), 10)) == [LongLine("a" * 10, 60), "b"]
