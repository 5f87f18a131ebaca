"""Every format in, every format out, the same labels; bad rows kept, marked and counted.

The readers (classifier.readers.stream) and the writers (classifier.tagging.writers) through the
local engine: what a user sees in the output file.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from classifier.tagging import normalise_headline, tag_file
from tests.tagging.support import archive_rows, read_rows, topics_cell, write_rows


def test_csv_archive_comes_out_whole_in_order_with_the_models_labels(tmp_path, model):
    rows = archive_rows()
    source = write_rows(tmp_path / "in.csv", rows)
    summary = tag_file(source, tmp_path / "out.csv", model, chunk_size=64)
    out = read_rows(tmp_path / "out.csv")

    assert [r["id"] for r in out] == [r["id"] for r in rows]
    assert [r["headline"] for r in out] == [r["headline"] for r in rows]
    assert list(out[0]) == [
        "id",
        "headline",
        "source",
        "topic",
        "confidence",
        "topics",
        "uncertain",
        "model",
        "tag_error",
    ]
    expected = model.predict([normalise_headline(r["headline"]) for r in rows])
    assert [r["uncertain"] for r in out] == [str(p.uncertain).lower() for p in expected]
    assert [r["topic"] for r in out] == [p.topic for p in expected]
    assert [float(r["confidence"]) for r in out] == [p.confidence for p in expected]
    assert [topics_cell(r) for r in out] == [p.topics for p in expected]
    assert {r["model"] for r in out} == {"vfake-1"}
    assert all(r["tag_error"] == "" for r in out)
    assert summary.counters.rows == summary.counters.tagged == len(rows)
    assert sum(summary.counters.topics.values()) == len(rows)


@pytest.mark.parametrize("source_name", ["in.csv.gz", "in.jsonl", "in.jsonl.gz", "in.parquet"])
@pytest.mark.parametrize("output_name", ["out.csv", "out.jsonl.gz", "out.parquet"])
def test_every_input_format_gives_the_same_labels_in_every_output_format(
    tmp_path, model, source_name, output_name
):
    rows = archive_rows(450)
    write_rows(tmp_path / "ref.csv", rows)
    tag_file(tmp_path / "ref.csv", tmp_path / "ref_out.csv", model, chunk_size=100)
    reference = read_rows(tmp_path / "ref_out.csv")

    source = write_rows(tmp_path / source_name, rows)
    tag_file(source, tmp_path / output_name, model, chunk_size=100)
    out = read_rows(tmp_path / output_name)

    assert [str(r["id"]) for r in out] == [r["id"] for r in rows]
    assert [r["headline"] for r in out] == [r["headline"] for r in rows]
    assert [r["topic"] for r in out] == [r["topic"] for r in reference]
    assert [float(r["confidence"]) for r in out] == [float(r["confidence"]) for r in reference]
    assert [topics_cell(r) for r in out] == [topics_cell(r) for r in reference]
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
    assert out.schema.field("uncertain").type == pa.bool_()
    flags = out.column("uncertain").to_pylist()
    assert flags[1] is None and all(isinstance(flag, bool) for flag in (flags[0], flags[2]))
    tag_file(tmp_path / "in.parquet", tmp_path / "out.jsonl", model)
    assert [r["year"] for r in read_rows(tmp_path / "out.jsonl")] == [1996, None, 2001]


def test_an_existing_topic_column_is_kept_under_another_name(tmp_path, model):
    path = tmp_path / "labelled.csv"
    path.write_text("headline,topic\nWHO warns of new flu strain,health\n", encoding="utf-8")
    tag_file(path, tmp_path / "out.csv", model)
    (row,) = read_rows(tmp_path / "out.csv")
    assert row["topic_input"] == "health"
    assert row["topic"] in model.labels


def test_another_text_column_can_be_named(tmp_path, model):
    path = tmp_path / "titles.jsonl"
    path.write_text(json.dumps({"title": "Tariffs on steel rise again"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="headline"):
        tag_file(path, tmp_path / "out.csv", model)
    tag_file(path, tmp_path / "out.csv", model, text_column="title")
    (row,) = read_rows(tmp_path / "out.csv")
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
        out = read_rows(tmp_path / name)
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


def test_uncertain_marks_the_rows_under_the_runs_bar_and_a_resume_must_keep_the_bar(
    tmp_path, model
):
    rows = archive_rows(120)
    source = write_rows(tmp_path / "in.csv", rows)
    tag_file(source, tmp_path / "plain.jsonl", model)
    bar = float(np.median([r["confidence"] for r in read_rows(tmp_path / "plain.jsonl")]))
    tag_file(source, tmp_path / "out.jsonl", model, uncertain_below=bar)
    out = read_rows(tmp_path / "out.jsonl")
    assert [r["uncertain"] for r in out] == [r["confidence"] < bar for r in out]
    assert {True, False} <= {r["uncertain"] for r in out}  # the bar splits this archive

    def stop(done, total):
        raise KeyboardInterrupt

    cut = tmp_path / "cut.jsonl"
    with pytest.raises(KeyboardInterrupt):
        tag_file(source, cut, model, chunk_size=50, uncertain_below=bar, progress=stop)
    with pytest.raises(DataError, match="uncertain_below"):
        tag_file(source, cut, model, chunk_size=50, uncertain_below=bar / 2, resume=True)
    tag_file(source, cut, model, chunk_size=50, uncertain_below=bar, resume=True)
    assert cut.read_bytes() == (tmp_path / "out.jsonl").read_bytes()
