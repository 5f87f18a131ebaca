"""``headline-topics predict``: arguments and stdin, unusable lines, and the shipped model."""

from __future__ import annotations

import json

from classifier.topics.store import ModelStore
from tests.conftest import ROOT


def test_predict_arguments_and_stdin(run, trained):
    code, out, _ = run(
        "predict", "--models-dir", str(trained), "Senate raises tariffs on imported steel"
    )
    assert code == 0
    answer = json.loads(out)
    assert answer["topic"] == "trade"
    assert set(answer) >= {"headline", "topic", "confidence", "scores", "topics", "model"}
    code, out, err = run(
        "predict",
        "--models-dir",
        str(trained),
        stdin="Hospitals report measles outbreak as vaccination rates fall\n   \nBorder agents detain migrants\n",
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # one line could not be classified
    assert [line.get("topic") for line in lines] == ["health", None, "immigration"]
    assert lines[1] == {"headline": "   ", "line": 2, "error": "empty or whitespace-only headline"}

    code, out, _ = run(
        "predict", "--models-dir", str(trained), "-", stdin="Border agents detain migrants\n"
    )
    assert code == 0
    assert [json.loads(line)["headline"] for line in out.splitlines()] == [
        "Border agents detain migrants"
    ]  # "-" reads stdin; it is not a headline


def test_shipped_model_is_current_and_answers(real_embedder):
    store = ModelStore(ROOT / "models")
    model = store.load(embedder=real_embedder)
    assert model.labels == ["geopolitics", "health", "immigration", "other", "trade"]
    manifest = model.manifest
    assert manifest["data"]["source"].endswith("headlines.csv")
    cases = {
        "U.S. Imposes Steep Tariffs on Chinese Steel Imports": "trade",
        "Medicare Drug Benefit Costs Soar Past Estimates": "health",
        "Border Patrol Arrests of Migrants Hit Record": "immigration",
        "NATO Allies Agree to Expand Troop Presence in Baltics": "geopolitics",
        "Knicks Rally Late to Beat Celtics at the Garden": "other",
    }
    predictions = model.predict(list(cases))
    assert [p.topic for p in predictions] == list(cases.values())
    assert all(p.confidence > 0.5 for p in predictions)


def test_undecodable_bytes_get_an_answer_and_the_other_headlines_theirs(tmp_path):
    """A Latin-1 byte on stdin or in an argument once ended predict in a traceback, and the
    other headlines of its batch got no output (issue 19 #4)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "classifier.cli", "predict"]
    stdin = b"Tariffs on steel rise\nCaf\xe9 owners protest sugar tax\nMeasles cases climb\n"
    arg = b"Caf\xe9 owners protest".decode("utf-8", "surrogateescape")  # as Python reads argv
    for extra, data in (([], stdin), ([arg, "Tariffs on steel rise"], b"")):
        done = subprocess.run(command + extra, input=data, capture_output=True, cwd=ROOT)
        assert b"Traceback" not in done.stderr and done.returncode == 1
        lines = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
        assert len(lines) == (len(extra) or 3)  # one answer per headline, none lost
        bad = [line for line in lines if "error" in line]
        assert len(bad) == 1 and "not valid UTF-8" in bad[0]["error"]
        assert bad[0]["headline"].startswith("Caf\ufffd owners")
        assert all("topic" in line for line in lines if "error" not in line)


def test_a_lone_surrogate_that_no_codec_escapes_is_answered_not_raised():
    """JSON or a Python caller can hand over "\\ud800", which surrogateescape cannot encode."""
    from classifier.cli.predict import predict_lines

    class NoCalls:
        def predict(self, texts):
            assert texts == [], texts
            return []

    ((answer, ok),) = predict_lines(NoCalls(), ["\ud800 owners protest"], batch_size=8)
    assert not ok and "not valid UTF-8" in answer["error"]
    assert answer["headline"] == "? owners protest"  # readers.decoding.clean_text's stand-in
    json.dumps(answer, ensure_ascii=False).encode("utf-8")  # a line that can be written


LONG = "Senate raises tariffs on imported steel in a sweeping move that reshapes trade for years"
STDIN = f"{LONG}\n   \nHospitals report measles outbreak, as vaccination rates fall\n"


def test_predict_as_a_table_for_people(run, trained):
    """``--format table`` (issue 19): aligned columns, the headline cut for display only."""
    code, out, _ = run("predict", "--models-dir", str(trained), "--format", "table", stdin=STDIN)
    assert code == 1  # the blank line is still an error
    header, first, blank, third = out.splitlines()
    assert header.split() == ["headline", "topic", "confidence"]
    assert first.startswith(LONG[:57] + "...  trade")
    assert 0.5 < float(first.split()[-1]) <= 1 and len(first) == len(header)
    assert blank.split("  ")[-1].strip() == "error (line 2): empty or whitespace-only headline"
    assert third.startswith("Hospitals report measles outbreak, as vaccination rates fall")
    assert third.index("health") == first.index("trade") == header.index("topic")


def test_predict_as_csv_one_row_per_line(run, trained):
    import csv
    import io

    code, out, _ = run("predict", "--models-dir", str(trained), "--format", "csv", stdin=STDIN)
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["line"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["headline"] == LONG and rows[0]["topic"] == "trade" and not rows[0]["error"]
    assert 0.5 < float(rows[0]["confidence"]) <= 1 and rows[0]["topics"].split(";")[0] == "trade"
    assert rows[1]["error"] == "empty or whitespace-only headline" and not rows[1]["topic"]
    assert rows[2]["headline"] == "Hospitals report measles outbreak, as vaccination rates fall"
    _, jsonl, _ = run("predict", "--models-dir", str(trained), stdin=STDIN)
    assert [json.loads(line).get("topic") for line in jsonl.splitlines()] == [
        r["topic"] or None for r in rows
    ]  # JSONL stays the default, with the same answers


def test_uncertain_follows_the_bar_the_user_sets(run, trained):
    """Every answer says whether it is under ``--uncertain-below`` (issue 14)."""
    _, out, _ = run("predict", "--models-dir", str(trained), "--uncertain-below", "1", "Tariffs")
    answer = json.loads(out)
    assert answer["uncertain"] is True and set(answer["applies"]) == set(answer["scores"])
    _, out, _ = run("predict", "--models-dir", str(trained), "--uncertain-below", "0", "Tariffs")
    assert json.loads(out)["uncertain"] is False
    _, out, _ = run("predict", "--models-dir", str(trained), "--format", "csv", "Tariffs")
    assert out.splitlines()[1].split(",")[5] in ("True", "False")


def test_predict_csv_neutralises_formulas_and_keeps_the_limit_and_the_bar(run, trained):
    """The merge of issue 19's two halves: ``--format csv`` passes every cell through
    ``text.spreadsheet_safe`` like every CSV we write, an over-long line is refused by
    ``--max-headline-chars`` with its row kept, and ``--uncertain-below`` still applies."""
    import csv
    import io

    formula = '=HYPERLINK("http://x.example","tariffs")'
    stdin = f"{formula}\n{'steel ' * 20}\n@SUM(A1) tariffs on steel\n"
    argv = ["predict", "--models-dir", str(trained), "--format", "csv"]
    code, out, _ = run(*argv, "--uncertain-below", "1", "--max-headline-chars", "60", stdin=stdin)
    assert code == 1  # the over-long line
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["headline"] == "'" + formula and rows[0]["topic"]
    assert rows[0]["uncertain"] == "True"
    assert rows[1]["error"].startswith("the headline is too long: 120 characters, over the limit")
    assert rows[1]["headline"].endswith("…") and not rows[1]["topic"]
    assert rows[2]["headline"] == "'@SUM(A1) tariffs on steel"
    _, jsonl, _ = run("predict", "--models-dir", str(trained), stdin=stdin)
    assert json.loads(jsonl.splitlines()[0])["headline"] == formula  # JSONL keeps it raw
