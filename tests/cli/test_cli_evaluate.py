"""``headline-topics evaluate``: scores, unknown labels and skipped rows, as JSON and as text."""

from __future__ import annotations

import json

from tests.conftest import write_csv


def test_evaluate_json_reports_unknown_labels(run, trained, tmp_path):
    data = write_csv(
        tmp_path / "eval.csv",
        [
            ("Congress approves new trade pact with Mexico", "trade"),
            ("Hospitals brace for flu season surge", "health"),
            ("NATO leaders meet over missile defense", "geopolitics"),
            ("Yankees clinch pennant in extra innings", "other"),
            ("Volcano erupts near ski resort", "weather"),
            ("", "trade"),
        ],
    )
    code, out, _ = run("evaluate", str(data), "--models-dir", str(trained), "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result) >= {"macro_f1", "accuracy", "per_class", "confusion_matrix", "ece"}
    assert result["per_class"]["trade"]["support"] == 1
    assert set(result["per_class"]["trade"]) == {"precision", "recall", "f1", "support"}
    assert result["unknown_labels"] == {"rows": 1, "labels": {"weather": 1}}
    assert result["n"] == 4 and len(result["rows_skipped"]) == 1
    code, out, _ = run("evaluate", str(data), "--models-dir", str(trained))
    assert "macro-F1" in out and "confusion matrix" in out and "weather" in out


def test_a_file_with_several_topics_a_row_is_scored_on_whole_topic_lists(run, trained, tmp_path):
    """Issue 14: example-based F1, exact sets, second topics and per-topic calibration."""
    rows = [
        (
            "White House threatens tariffs on Mexico unless border crossings fall",
            "trade;immigration",
        ),
        ("Measles outbreak spreads through a migrant shelter", "health;immigration"),
        ("Senate passes the farm bill", "other"),
        ("WHO warns of a new flu strain", "health"),
    ]
    path = write_csv(tmp_path / "multi.csv", rows, header=("headline", "topics"))
    code, out, _ = run("evaluate", str(path), "--models-dir", str(trained), "--json")
    assert code == 0
    multi = json.loads(out)["multi_topic"]
    assert multi["n"] == 4 and multi["rows_with_several_topics"] == 2
    assert multi["second_topics"]["true"] == 2
    assert set(multi["per_topic"]) == {"geopolitics", "health", "immigration", "other", "trade"}
    assert all("ece" in v for v in multi["per_topic"].values())
    code, out, _ = run("evaluate", str(path), "--models-dir", str(trained))
    assert "example-based F1" in out and "second topics: recall" in out
    single = write_csv(tmp_path / "single.csv", [("WHO warns of a new flu strain", "health")])
    _, out, _ = run("evaluate", str(single), "--models-dir", str(trained), "--json")
    assert "multi_topic" not in json.loads(out)
