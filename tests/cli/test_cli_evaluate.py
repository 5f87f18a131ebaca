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
