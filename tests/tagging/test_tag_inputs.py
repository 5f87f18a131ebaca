"""What ``tag`` makes of hostile inputs (issue 19): a huge cell, an over-long headline, formula
cells, another encoding and a file without a header. Every row comes out with all its columns.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier import cli
from classifier.cli import _util
from classifier.tagging import tag_file
from tests.conftest import ROOT, FakeEmbedder
from tests.tagging.support import read_rows

AG_NEWS = ROOT.parent / "shared" / "data" / "ag_news_test.csv"


def test_a_16_mb_cell_and_an_over_long_headline_keep_their_rows_and_are_never_embedded(
    tmp_path, model
):
    """A cell over 16 MB came out with its headline and other columns blanked (issue 19 #5);
    a 10 MB headline was tokenised and took 1.8 GB (issue 19 #6)."""
    huge = "all work and no play " * (17 * 1024 * 1024 // 21)
    source = tmp_path / "in.csv"
    source.write_text(
        f'id,headline,note\n1,Tariffs rise on steel,a\n2,"{huge}",kept\n3,{"x" * 1001},b\n'
        f'4,"Short note","{huge}"\n',
        encoding="utf-8",
    )
    summary = tag_file(source, tmp_path / "out.csv", model)
    rows = read_rows(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["headline"] == huge and rows[1]["note"] == "kept"  # as written in the input
    assert rows[3]["note"] == huge and rows[3]["topic"]  # a huge other cell: tagged as usual
    assert rows[1]["tag_error"] == (
        f"headline too long: {len(huge):,} characters, over the limit of 1,000 (--max-headline-chars)"
    )
    assert rows[2]["tag_error"].startswith("headline too long: 1,001 characters")
    assert rows[1]["topic"] == rows[2]["topic"] == ""
    assert model.embedder.texts == 2  # only the two real headlines were embedded
    assert summary.counters.reasons == {"headline too long": 2}

    tag_file(source, tmp_path / "wide.jsonl", model, max_chars=2000, force=True)
    rows = read_rows(tmp_path / "wide.jsonl")
    assert rows[2]["tag_error"] == "" and rows[1]["tag_error"].startswith("headline too long")


def test_csv_output_neutralises_formula_cells_and_jsonl_keeps_them_raw(tmp_path, model):
    """tag's CSV wrote =, +, -, @ cells as they were (issue 19, CSV formula injection)."""
    source = tmp_path / "in.csv"
    source.write_text(
        'id,headline,=col\n=1+1,"=HYPERLINK(""http://evil"",""x"")",-5\n@SUM(A1),+tariffs rise,-2+3\n'
    )
    tag_file(source, tmp_path / "out.csv", model)
    text = (tmp_path / "out.csv").read_text()
    assert text.splitlines()[0].startswith("id,headline,'=col,")
    rows = read_rows(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == ["'=1+1", "'@SUM(A1)"]
    assert rows[0]["headline"] == '\'=HYPERLINK("http://evil","x")'
    assert rows[1]["headline"] == "'+tariffs rise"
    assert [r["'=col"] for r in rows] == ["-5", "'-2+3"]  # a plain number stays a number
    tag_file(source, tmp_path / "out.jsonl", model)
    raw = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert raw[0]["id"] == "=1+1" and raw[1]["=col"] == "-2+3"


def test_another_encoding_and_a_headerless_file_are_tagged_with_all_their_columns(tmp_path, model):
    source = tmp_path / "latin.csv"
    source.write_bytes(
        "3,Café owners protest sugar tax,Paris\n".encode("cp1252") + b"4,Bad \x81 byte,x\n"
    )
    summary = tag_file(
        source, tmp_path / "out.jsonl", model, encoding="cp1252", header=False, text_column="2"
    )
    rows = read_rows(tmp_path / "out.jsonl")
    assert [(r["1"], r["2"], r["3"]) for r in rows][0] == (
        "3",
        "Café owners protest sugar tax",
        "Paris",
    )
    assert rows[0]["topic"] and rows[1]["tag_error"] == "2 is not valid cp1252"
    assert rows[1]["1"] == "4" and rows[1]["3"] == "x"
    assert summary.counters.rows == 2


@pytest.fixture
def fake_cli(monkeypatch, fake_store):
    """The CLI in-process on the fake store: (exit code, stdout, stderr)."""
    monkeypatch.setattr(_util, "model_encoder", lambda *a, **k: FakeEmbedder())

    def run(capsys, *argv: str):
        try:
            code = cli.main([*argv, "--models-dir", str(fake_store.root), "--model", "vfake-1"])
        except SystemExit as exit_info:  # argparse refused an option, as a process would exit
            code = exit_info.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_tag_command_reads_a_headerless_file_in_another_encoding(tmp_path, fake_cli, capsys):
    """tag had no --encoding and no way to read a CSV without a header (issue 19)."""
    source = tmp_path / "in.csv"
    source.write_bytes("1,Café owners protest,x\n2,Tariffs rise,y\n".encode("latin-1"))
    out = tmp_path / "out.csv"
    args = ["tag", str(source), str(out), "--no-header", "--text-column", "2", "--no-progress"]
    code, stdout, err = fake_cli(capsys, *args, "--encoding", "latin-1")
    assert code == 0, err
    rows = read_rows(out)
    assert list(rows[0])[:3] == ["1", "2", "3"]
    assert [r["2"] for r in rows] == ["Café owners protest", "Tariffs rise"]
    assert all(r["topic"] for r in rows)
    code, _, err = fake_cli(capsys, *args, "--encoding", "klingon", "--force")
    assert code == 2 and "unknown encoding 'klingon'" in err
    code, _, err = fake_cli(capsys, "tag", str(source), str(tmp_path / "o.csv"), "--no-header")
    assert code == 2 and "with --no-header, --text-column is a column number from 1 to 3" in err
    code, stdout, err = fake_cli(
        capsys, *args, "--force", "--max-headline-chars", "5", "--json", "--encoding", "latin-1"
    )
    assert code == 0 and json.loads(stdout)["skipped_reasons"] == {"2 too long": 2}
    code, _, err = fake_cli(capsys, *args, "--force", "--max-headline-chars", "0")
    assert code == 2 and "argument --max-headline-chars: must be at least 1, not 0" in err


@pytest.mark.skipif(not AG_NEWS.is_file(), reason="../shared/data/ag_news_test.csv is absent")
def test_ag_news_without_a_header_is_tagged_with_every_column(tmp_path, fake_cli, capsys):
    """AG News (class,title,description, no header) could not be tagged at all (issue 19)."""
    out = tmp_path / "ag.jsonl"
    code, _, err = fake_cli(
        capsys, "tag", str(AG_NEWS), str(out), "--no-header", "--text-column", "2", "--no-progress"
    )
    assert code == 0, err
    with open(AG_NEWS, encoding="utf-8") as handle:
        import csv

        source = list(csv.reader(handle))
    rows = read_rows(out)
    assert len(rows) == len(source)
    assert [[r["1"], r["2"], r["3"]] for r in rows[:50]] == source[:50]
    assert sum(1 for r in rows if r["topic"]) > 0.99 * len(rows)


@pytest.mark.slow
def test_the_dask_engine_reads_headerless_files_in_another_encoding_like_the_local_one(
    tmp_path, fake_store, dask_client
):
    from classifier.tagging import dask as tag_dask

    source = tmp_path / "in.csv"
    lines = [f"{i},Caf\xe9 number {i} protests,x\n" for i in range(300)]
    source.write_bytes("".join(lines).encode("latin-1"))
    read = {"encoding": "latin-1", "header": False}
    local = fake_store.load("vfake-1", embedder=FakeEmbedder())
    tag_file(source, tmp_path / "local.csv", local, text_column="2", **read)
    spec = tag_dask.ModelSpec(
        str(fake_store.root), "vfake-1", text_column="2", embedder_factory=FakeEmbedder
    )
    tag_dask.tag_dask(
        source, tmp_path / "dask.csv", spec, scheduler=dask_client, blocksize=2_000, **read
    )
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert Path(tmp_path / "dask.csv").read_text().splitlines()[1].startswith("0,Café number 0")
