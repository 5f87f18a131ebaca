"""``headline-topics cluster``: reading files, reporting unusable rows, --out, --plot, errors."""

from __future__ import annotations

import csv
import json

import pytest

from classifier import cli
from tests.clustering.synthetic import story_headlines
from tests.conftest import write_csv

N_HEADLINES = len(story_headlines()[0])  # usable rows of headlines_csv()


@pytest.fixture
def use_fake_model(monkeypatch, fake_model):
    monkeypatch.setattr(
        "classifier.cli.cluster.load_resources", lambda args: (fake_model.embedder, fake_model)
    )
    return fake_model


def run(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = cli.main(["cluster", *map(str, argv)])
    except SystemExit as exit_info:  # an option argparse refused
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def headlines_csv(tmp_path, blank_row=True):
    texts, _ = story_headlines()
    rows = [(t, "x") for t in texts]
    if blank_row:
        rows.insert(2, ("   ", "x"))
    return write_csv(tmp_path / "in.csv", rows)


def test_cli_clusters_a_csv_and_reports_unusable_rows(tmp_path, capsys, caplog, use_fake_model):
    code, out, _ = run(capsys, headlines_csv(tmp_path), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["n_headlines"] == N_HEADLINES
    assert result["skipped"] == [{"row": 3, "reason": "empty headline"}]
    assert "row 3: empty headline" in caplog.text
    code, out, _ = run(capsys, headlines_csv(tmp_path), "--level", "stories")
    assert code == 0 and out.startswith("stories: ") and "skipped 1 unusable row(s)" in out
    assert "#0 " in out and "mostly " in out


@pytest.mark.parametrize("kind", ["txt", "jsonl"])
def test_cli_reads_plain_lines_and_jsonl(tmp_path, capsys, use_fake_model, kind):
    texts, _ = story_headlines()
    path = tmp_path / f"in.{kind}"
    if kind == "txt":
        path.write_text("\n".join(texts[:5] + [""] + texts[5:]) + "\n", encoding="utf-8")
    else:
        lines = [json.dumps({"title": t}) for t in texts] + ["{broken"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    extra = ["--text-column", "title"] if kind == "jsonl" else []
    code, out, _ = run(capsys, path, "--json", *extra)
    result = json.loads(out)
    assert code == 0 and result["n_headlines"] == len(texts)
    expected_row = 6 if kind == "txt" else len(texts) + 1
    assert [s["row"] for s in result["skipped"]] == [expected_row]


def test_cli_out_keeps_every_row_and_refuses_to_overwrite(tmp_path, capsys, use_fake_model):
    source = headlines_csv(tmp_path)
    out = tmp_path / "clusters.csv"
    code, _, _ = run(capsys, source, "--out", out)
    assert code == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["row"]) for r in rows] == list(range(1, N_HEADLINES + 2))
    assert rows[2]["error"] == "empty headline" and rows[2]["cluster"] == ""
    assert rows[0]["cluster"] == rows[1]["cluster"] != "-1"
    assert {r["topic"] for r in rows if r["topic"]} <= set(use_fake_model.labels)
    before = out.read_bytes()
    code, _, err = run(capsys, source, "--out", out)
    assert code == 2 and "already exists; pass --force" in err and "Traceback" not in err
    assert out.read_bytes() == before
    out.write_text("old")
    code, _, _ = run(capsys, source, "--out", out, "--force")
    assert code == 0 and out.read_text(encoding="utf-8").startswith("row,headline,cluster")
    code, _, _ = run(capsys, source, "--out", tmp_path / "all.json")
    whole = json.loads((tmp_path / "all.json").read_text())
    assert whole["n_headlines"] == N_HEADLINES and whole["n_clusters"] == 3


def test_cli_plot_draws_a_map_and_refuses_to_overwrite(tmp_path, capsys, use_fake_model):
    source = headlines_csv(tmp_path)
    png = tmp_path / "map.png"
    code, out, _ = run(capsys, source, "--plot", png, "--level", "themes", "--min-cluster-size", 2)
    assert code == 0 and png.read_bytes()[:4] == b"\x89PNG" and "map drawn to" in out
    code, _, err = run(capsys, source, "--plot", png)
    assert code == 2 and "already exists; pass --force" in err


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda p: [p / "missing.csv"], "no such file"),
        (lambda p: [write_csv(p / "t.csv", [("a", "b")], header=("title", "x"))], "missing column"),
        (lambda p: [headlines_csv(p), "--threshold", "3"], "between 0 and 2"),
        (lambda p: [headlines_csv(p), "--level", "themes", "--threshold", ".3"], "stories only"),
        (lambda p: [headlines_csv(p), "--out", p / "x.parquet"], "--out must end in"),
        (lambda p: [headlines_csv(p), "--plot", p / "x.jpg"], "--plot must be a .png"),
        (lambda p: [headlines_csv(p), "--out", p / "nowhere" / "x.csv"], "does not exist"),
        (lambda p: [write_csv(p / "e.csv", [("  ", "x")])], "no headlines to cluster"),
    ],
)
def test_cli_bad_input_is_one_clean_line(tmp_path, capsys, use_fake_model, make_args, message):
    code, _, err = run(capsys, *make_args(tmp_path))
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_cli_refuses_undecodable_text(tmp_path, capsys, use_fake_model):
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 opens\nSecond line\n".encode("latin-1"))
    code, _, err = run(capsys, path)
    assert code == 2 and "not valid utf-8-sig text" in err
    code, out, _ = run(capsys, path, "--encoding", "latin-1", "--json")
    assert code == 0 and json.loads(out)["n_headlines"] == 2


def test_cli_without_topics_uses_only_the_encoder(tmp_path, capsys, monkeypatch, fake_embedder):
    monkeypatch.setattr("classifier.cli._util.new_encoder", lambda args: fake_embedder)
    code, out, _ = run(capsys, headlines_csv(tmp_path), "--json", "--no-topics")
    result = json.loads(out)
    assert code == 0 and result["model"] is None and result["n_clusters"] == 3
    assert all("topic_shares" not in c for c in result["clusters"])


def test_level_choices_come_from_the_one_level_list():
    from classifier.cli import build_parser
    from classifier.clustering.levels import LEVELS

    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["cluster", "in.csv", "--level", "topics"])
    for level in LEVELS:
        assert parser.parse_args(["cluster", "in.csv", "--level", level]).level == level
    assert parser.parse_args(["tag", "in.csv", "out.csv", "--clusters"]).clusters == LEVELS[0]


def test_cli_out_never_overwrites_the_input_even_with_force(tmp_path, capsys, use_fake_model):
    """``cluster IN --out IN --force`` once replaced the input with its clusters (issue 19 #11)."""
    source = headlines_csv(tmp_path)
    before = source.read_bytes()
    alias = tmp_path / "alias.csv"
    alias.symlink_to(source)
    for out in (source, alias):
        code, _, err = run(capsys, source, "--out", out, "--force")
        assert code == 2 and "would overwrite the input" in err and "Traceback" not in err
    assert source.read_bytes() == before


def test_cli_outputs_get_ordinary_permissions(tmp_path, capsys, use_fake_model):
    """--out and --plot files were 0600 (a temporary file's mode) before they went through
    files.write_atomic (issue 19, smaller items)."""
    import stat

    source = headlines_csv(tmp_path)
    out, plot = tmp_path / "clusters.csv", tmp_path / "map.png"
    code, _, _ = run(capsys, source, "--out", out, "--plot", plot)
    assert code == 0
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(plot.stat().st_mode) == 0o644


def test_cli_skips_over_long_headlines_and_huge_cells_with_the_reason(
    tmp_path, capsys, monkeypatch, fake_model
):
    """A cell over 16 MB was a traceback and a 50 MB line took 124 s and 7 GB (issue 19 #5, #6):
    they are unusable rows now, named with their length, and never embedded."""
    seen: list[int] = []

    class Measuring(type(fake_model.embedder)):
        def encode(self, texts, *, batch_size=None):
            seen.extend(len(t) for t in texts)
            return super().encode(texts, batch_size=batch_size)

    monkeypatch.setattr(
        "classifier.cli.cluster.load_resources", lambda args: (Measuring(), fake_model)
    )
    texts, _ = story_headlines()
    huge = "y" * (17 * 1024 * 1024)
    source = write_csv(
        tmp_path / "in.csv", [(t, "x") for t in texts] + [(huge, "x"), ("w" * 1001, "x")]
    )
    code, out, err = run(capsys, source, "--json")
    assert code == 0, err
    skipped = json.loads(out)["skipped"]
    assert skipped == [
        {
            "row": N_HEADLINES + 1,
            "reason": f"headline too long: {len(huge):,} characters, over the limit of 1,000 (--max-headline-chars)",
        },
        {
            "row": N_HEADLINES + 2,
            "reason": "headline too long: 1,001 characters, over the limit of 1,000 (--max-headline-chars)",
        },
    ]
    assert max(seen) <= 1000
    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join(texts[:20] + ["z" * 50]) + "\n")
    code, out, _ = run(capsys, lines, "--json", "--max-headline-chars", "40")
    assert code == 0 and json.loads(out)["skipped"][-1]["reason"].startswith("line too long: 50")


def test_cli_out_csv_neutralises_formula_cells(tmp_path, capsys, use_fake_model):
    """--out CSV wrote =, +, -, @ cells as they were (issue 19, CSV formula injection)."""
    texts, _ = story_headlines()
    texts = list(texts)
    texts[0] = '=HYPERLINK("http://evil")'
    texts[1] = "-2+3 " + texts[1]
    source = write_csv(tmp_path / "in.csv", [(t, "x") for t in texts])
    out = tmp_path / "out.csv"
    assert run(capsys, source, "--out", out)[0] == 0
    rows = {int(r["row"]): r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows[1]["headline"] == '\'=HYPERLINK("http://evil")'
    assert rows[2]["headline"].startswith("'-2+3 ")
    jsonl = tmp_path / "out.jsonl"
    assert run(capsys, source, "--out", jsonl)[0] == 0
    assert json.loads(jsonl.read_text().splitlines()[0])["headline"] == texts[0]  # raw


def test_cli_reads_a_headerless_csv_by_column_number(tmp_path, capsys, use_fake_model):
    texts, _ = story_headlines()
    source = tmp_path / "plain.csv"
    with open(source, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([str(i), t] for i, t in enumerate(texts))
    code, out, err = run(capsys, source, "--json", "--no-header", "--text-column", "2")
    assert code == 0, err
    assert json.loads(out)["n_headlines"] == len(texts)


@pytest.mark.parametrize("level", ["themes", "sections"])
def test_cli_themes_and_sections_come_with_the_whole_hierarchy(
    tmp_path, capsys, use_fake_model, level
):
    source = headlines_csv(tmp_path)
    code, out, _ = run(capsys, source, "--level", level, "--min-cluster-size", 2, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["level"] == level and list(result["hierarchy"]) == [
        "sections",
        "themes",
        "stories",
    ]
    assert result["hierarchy"][level]["labels"] == result["labels"]
    code, out, _ = run(capsys, source, "--level", level, "--min-cluster-size", 2)
    assert code == 0 and out.startswith(f"{level}: ") and "\nhierarchy: " in out
    child = {"themes": "stories", "sections": "themes"}[level]
    assert f" {child}" in out.split("\n#0 ")[1].split("\n")[0]  # how many it holds
    table = tmp_path / f"{level}.csv"
    code, _, _ = run(capsys, source, "--level", level, "--min-cluster-size", 2, "--out", table)
    with open(table, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["row", "headline", "cluster", "story", "theme", "section"] + [
        "topic",
        "error",
    ]
    assert all(r["cluster"] == r[level[:-1]] for r in rows)
    stories_out = tmp_path / "stories.csv"
    code, _, _ = run(capsys, source, "--out", stories_out)  # stories: the columns as before
    assert stories_out.read_text(encoding="utf-8").startswith("row,headline,cluster,topic,error")
