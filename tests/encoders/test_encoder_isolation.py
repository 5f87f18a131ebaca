"""No torch at run time: the ONNX encoder, the service and the tagger on the default backend.

Each check runs in a fresh interpreter, where what gets imported is the code's own doing.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from classifier.cli import main as cli_main
from classifier.topics.store import ModelStore
from tests.encoders.support import run_cli, run_python, shipped_copy

pytestmark = pytest.mark.slow


def test_onnx_encoder_never_imports_torch(onnx_cache, int8):
    code = f"""
import json, sys
from classifier.encoders import make_embedder
encoder = make_embedder(backend="onnx-int8", cache_dir={str(onnx_cache)!r}, auto_export=False)
vector = encoder.encode("WHO declares measles outbreak an emergency")
torch_side = ("torch", "sentence_transformers", "transformers", "classifier.encoders.torch",
              "classifier.encoders.export")
heavy = sorted(m for m in torch_side if m in sys.modules)
print(json.dumps({{"heavy": heavy, "vector": vector.tolist(), "info": encoder.info().to_dict()}}))
"""
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert out["info"] == int8.info().to_dict()
    expected = int8.encode("WHO declares measles outbreak an emergency")
    np.testing.assert_allclose(out["vector"], expected, atol=1e-5)


def test_the_service_serves_the_shipped_model_without_torch(tmp_path, onnx_cache):
    models = shipped_copy(tmp_path)
    code = f"""
import json, sys
from classifier.service import create_app
app = create_app({{"MODELS_DIR": {str(models)!r}, "TESTING": True}})
client = app.test_client()
body = client.post("/v1/predict", json={{"headlines": ["WHO warns of measles surge"]}}).get_json()
info = client.get("/v1/model").get_json()
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
print(json.dumps({{"heavy": heavy, "topic": body["predictions"][0]["topic"],
                   "encoder": info["service"]["encoder"], "trained": info["embedding"]}}))
"""
    env_cache = {"HEADLINE_TOPICS_ENCODER_CACHE": str(onnx_cache)}
    done = run_python(code, env=env_cache)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert out["topic"] == "health"
    assert out["trained"]["backend"] == "onnx-int8"  # the shipped head was trained on int8
    assert out["encoder"]["backend"] == "onnx-int8"
    assert out["encoder"]["fingerprint"] == out["trained"]["fingerprint"]


def test_the_backend_can_be_chosen_by_environment_and_a_bad_one_is_named(tmp_path, onnx_cache):
    models = shipped_copy(tmp_path)
    code = f"""
import json
from classifier.service import create_app
app = create_app({{"MODELS_DIR": {str(models)!r}, "TESTING": True}})
print(json.dumps(app.test_client().get("/v1/model").get_json()["service"]["encoder"]))
"""
    env = {"HEADLINE_TOPICS_ENCODER_CACHE": str(onnx_cache)}
    done = run_python(code, env={**env, "HEADLINE_TOPICS_ENCODER_BACKEND": "onnx"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["backend"] == "onnx"
    assert "trained on onnx-int8 embeddings and now gets onnx embeddings" in done.stderr
    done = run_python(code, env={**env, "HEADLINE_TOPICS_ENCODER_BACKEND": "gpu"})
    assert done.returncode != 0
    assert "HEADLINE_TOPICS_ENCODER_BACKEND must be one of torch, onnx, onnx-int8" in done.stderr


def test_tag_uses_the_models_backend_and_a_resume_keeps_it(tmp_path, onnx_cache):
    models = shipped_copy(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text(
        "headline\n" + "\n".join(f"Tariffs on steel rise {i}" for i in range(300)) + "\n"
    )
    out = tmp_path / "out.jsonl"
    env = {"HEADLINE_TOPICS_ENCODER_CACHE": str(onnx_cache)}
    base = ["-m", "classifier.cli", "tag", str(source), str(out), "--models-dir", str(models)]
    done = run_cli([*base, "--json", "--no-progress", "--chunk-size", "100"], env=env)
    assert done.returncode == 0, done.stderr
    assert "torch" not in done.stderr.lower()  # no cross-backend warning, no torch loading
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 300 and {r["topic"] for r in rows} == {"trade"}
    again = run_cli([*base, "--force", "--backend", "bogus"], env=env)
    assert again.returncode == 2 and "invalid choice: 'bogus'" in again.stderr


def test_a_resumed_tag_run_keeps_its_backend_and_refuses_another(tmp_path, onnx_cache, fp32):
    from classifier.tagging import tag_file

    models = shipped_copy(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text(
        "headline\n" + "\n".join(f"Measles cases rise in town {i}" for i in range(300)) + "\n"
    )
    out = tmp_path / "out.csv"

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # started with the fp32 backend, stopped after a chunk
        tag_file(source, out, ModelStore(models).load(embedder=fp32), chunk_size=100, progress=stop)
    env = {"HEADLINE_TOPICS_ENCODER_CACHE": str(onnx_cache)}
    base = ["-m", "classifier.cli", "tag", str(source), str(out), "--models-dir", str(models)]
    other = run_cli([*base, "--resume", "--backend", "onnx-int8", "--no-progress"], env=env)
    assert other.returncode == 2
    assert "encoder: was 'onnx:" in other.stderr and "now 'onnx-int8:" in other.stderr
    same = run_cli([*base, "--resume", "--json", "--no-progress"], env=env)  # no --backend
    assert same.returncode == 0, same.stderr
    summary = json.loads(same.stdout)
    assert summary["resumed_after"] == 100 and summary["rows_in"] == 300


def test_serve_makes_a_missing_export_once_before_the_workers_start(tmp_path, monkeypatch):
    """Workers would otherwise race to export (they wait on a lock, but each pays the wait)."""
    from types import SimpleNamespace

    import classifier.cli.serve as serve_cli
    from classifier.config import encoder_threads

    models = shipped_copy(tmp_path)
    cache = tmp_path / "fresh-cache"
    monkeypatch.setenv("HEADLINE_TOPICS_ENCODER_CACHE", str(cache))
    handed: dict = {}
    monkeypatch.setattr(
        serve_cli,
        "_gunicorn_application",
        lambda options, factory: SimpleNamespace(run=lambda: handed.update(options)),
    )
    saved = dict(os.environ)
    try:
        assert cli_main(["serve", "--models-dir", str(models), "--port", "8123"]) == 0
        backend = os.environ["HEADLINE_TOPICS_ENCODER_BACKEND"]
        threads = os.environ["HEADLINE_TOPICS_ENCODER_THREADS"]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert handed["bind"] == "127.0.0.1:8123"
    assert (backend, threads) == ("onnx-int8", str(encoder_threads(1)))
    made = [p.name for p in cache.iterdir() if not p.name.startswith(".")]
    assert len(made) == 1 and made[0].startswith("onnx-int8-")
