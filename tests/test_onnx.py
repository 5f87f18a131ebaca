"""ONNX encoders: fp32 reproduces torch, int8 stays close, no torch at run time, safe caching."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from classifier.cli import main as cli_main
from classifier.encoders.embedding import (
    DEFAULT_MODEL_NAME,
    Embedder,
    EncoderError,
    make_embedder,
)
from classifier.encoders.export import (
    INT8_MIN_COSINE,
    INT8_MIN_MEAN_COSINE,
    META_FILE,
    MODEL_FILE,
    encoder_fingerprint,
    export_encoder,
    find_export,
    source_stamp,
)
from classifier.encoders.onnx import OnnxEncoder
from classifier.topics.store import ModelError, ModelStore, check_encoder
from classifier.topics.training import train_model
from tests.conftest import ROOT, load_project_data

pytestmark = pytest.mark.slow

LONG = " ".join(["the committee debated the tariff schedule again"] * 60)  # > 256 tokens
EDGE_CASES = [
    "",
    "   ",
    "Stocks",
    "Café owners in Zürich protest — again",
    "北京 talks resume",
    LONG,
]


def _sample(n: int, seed: int = 3) -> list[str]:
    rows = load_project_data()
    return [r["headline"] for r in random.Random(seed).sample(rows, n)] + EDGE_CASES


HEADLINES = _sample(120)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


@pytest.fixture(scope="session")
def torch_vectors(real_embedder) -> np.ndarray:
    return real_embedder.encode(HEADLINES)


def _run_python(
    code: str, timeout: int = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return _run_cli(["-c", code], timeout=timeout, env=env)


def _run_cli(
    argv: list[str], timeout: int = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


# -- vectors ------------------------------------------------------------------------------------
def test_fp32_export_reproduces_the_torch_vectors(fp32, torch_vectors):
    vectors = fp32.encode(HEADLINES)
    assert vectors.dtype == np.float32 and vectors.shape == torch_vectors.shape
    np.testing.assert_allclose(vectors, torch_vectors, atol=1e-5)


def test_int8_vectors_stay_close_to_torch(int8, torch_vectors):
    cosines = _cosines(int8.encode(HEADLINES), torch_vectors)
    assert cosines.mean() >= INT8_MIN_MEAN_COSINE
    assert cosines.min() >= INT8_MIN_COSINE
    assert cosines.mean() >= 0.995  # per-token scales: ~0.997 on NYT headlines
    assert cosines.mean() < 0.99999, "int8 vectors equal fp32 ones: was it quantised at all?"


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_shapes_norms_and_order(backend, fp32, int8):
    encoder = fp32 if backend == "onnx" else int8
    one = encoder.encode("Senate passes farm bill")
    assert one.shape == (384,) and one.dtype == np.float32
    many = encoder.encode(HEADLINES[:40])
    assert many.shape == (40, 384)
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)
    # sorting by length inside encode must not reorder the answer
    backwards = encoder.encode(HEADLINES[:40][::-1])[::-1]
    np.testing.assert_allclose(backwards, many, atol=1e-5)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_vectors_do_not_depend_on_the_other_headlines_of_a_batch(backend, fp32, int8):
    """A service batches concurrent requests: a headline must get the same vector, and so the
    same topic, whoever it is batched with. onnxruntime's dynamic int8 (one activation scale per
    batch) failed this: 1.2-1.6% of NYT headlines changed top topic between batch contexts."""
    encoder = fp32 if backend == "onnx" else int8
    whole = encoder.encode(HEADLINES[:50], batch_size=64)
    singly = np.stack([encoder.encode(h) for h in HEADLINES[:50]])
    np.testing.assert_allclose(whole, singly, atol=1e-5)
    np.testing.assert_allclose(encoder.encode(HEADLINES[:50], batch_size=7), whole, atol=1e-5)
    with_a_long_one = encoder.encode([LONG, *HEADLINES[:10]])[1:]
    np.testing.assert_allclose(with_a_long_one, whole[:10], atol=1e-5)


def test_non_text_is_refused(fp32):
    with pytest.raises(TypeError, match="headline 1 is int"):
        fp32.encode(["fine", 3])


def test_concurrent_calls_give_the_same_vectors(fp32):
    expected = fp32.encode(HEADLINES[:30])
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(fp32.encode(HEADLINES[:30]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for got in results:
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_threads_setting_reaches_onnxruntime(onnx_cache):
    encoder = OnnxEncoder(backend="onnx-int8", cache_dir=onnx_cache, threads=1)
    encoder.encode("warm up")
    assert encoder._session.threads == 1
    with pytest.raises(ValueError, match="at least 1"):
        OnnxEncoder(backend="onnx-int8", cache_dir=onnx_cache, threads=0)


# -- fingerprints and heads ---------------------------------------------------------------------
def test_fingerprints_tell_int8_apart_and_fp32_shares_torch(fp32, int8, real_embedder):
    torch_info = real_embedder.info()
    assert torch_info.backend == "torch"
    assert fp32.info().fingerprint == torch_info.fingerprint
    assert int8.info().fingerprint == encoder_fingerprint(torch_info.fingerprint, "onnx-int8")
    assert int8.info().fingerprint != torch_info.fingerprint
    for encoder in (fp32, int8):
        info = encoder.info()
        assert (info.name, info.dimension) == (DEFAULT_MODEL_NAME, 384)
        assert info.to_dict()["backend"] == encoder.backend
        assert encoder.name == DEFAULT_MODEL_NAME and encoder.path == real_embedder.path


def test_a_torch_head_serves_equal_on_fp32_and_close_on_int8_with_a_warning(
    tmp_path, real_embedder, fp32, int8, caplog
):
    rows = load_project_data()[::40]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    model, manifest = train_model(
        texts, labels, real_embedder, head_params={"calibration_folds": 2}, source="test"
    )
    assert manifest["embedding"]["backend"] == "torch"
    assert manifest["embedding"]["source_fingerprint"] == manifest["embedding"]["fingerprint"]
    store = ModelStore(tmp_path / "models")
    store.save(model, manifest, promote=True)
    probe = HEADLINES[:60]
    expected = model.predict_proba(probe)
    with caplog.at_level("WARNING", logger="classifier.topics.store"):
        served = store.load(embedder=fp32)
    assert "embeddings of the same encoder" not in caplog.text  # equal vectors: no warning
    np.testing.assert_allclose(served.predict_proba(probe), expected, atol=1e-4)

    with caplog.at_level("WARNING", logger="classifier.topics.store"):
        quantised = store.load(embedder=int8)
    assert "trained on torch embeddings and now gets onnx-int8 embeddings" in caplog.text
    same_top = np.mean(quantised.predict_proba(probe).argmax(1) == expected.argmax(1))
    assert same_top >= 0.9, same_top  # ~98.5% on 13,774 NYT headlines (bench/encode.py)


def test_a_head_trained_on_int8_records_it_and_is_served_with_int8_by_default(
    tmp_path, int8, onnx_cache, monkeypatch
):
    from classifier.encoders.embedding import backend_for, embedder_for

    rows = load_project_data()[::60]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    model, manifest = train_model(texts, labels, int8, head_params={"calibration_folds": 2})
    recorded = manifest["embedding"]
    assert recorded["backend"] == "onnx-int8" and recorded["fingerprint"] == int8.info().fingerprint
    assert recorded["source_fingerprint"] == int8.source_fingerprint != recorded["fingerprint"]
    monkeypatch.delenv("HEADLINE_TOPICS_ENCODER_BACKEND", raising=False)
    monkeypatch.setenv("HEADLINE_TOPICS_ENCODER_CACHE", str(onnx_cache))
    assert backend_for(manifest) == "onnx-int8"
    assert backend_for(manifest, "torch") == "torch"
    chosen = embedder_for(manifest)
    assert isinstance(chosen, OnnxEncoder) and chosen.backend == "onnx-int8"
    assert chosen.cache_dir == onnx_cache
    store = ModelStore(tmp_path / "models")
    store.save(model, manifest, promote=True)
    loaded = store.load()  # no embedder given: the manifest's backend, from the shared cache
    assert loaded.embedder.info().backend == "onnx-int8"
    np.testing.assert_allclose(
        loaded.predict_proba(HEADLINES[:20]), model.predict_proba(HEADLINES[:20]), atol=1e-5
    )


def test_another_encoder_is_refused_whatever_the_backend(int8):
    from tests.conftest import FakeEmbedder

    rows = load_project_data()[::80]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    fake = FakeEmbedder(dimension=384)
    model, manifest = train_model(texts, labels, fake, head_params={"calibration_folds": 2})
    with pytest.raises(ModelError, match=r"\(torch, fingerprint .*\(onnx-int8, fingerprint"):
        check_encoder(manifest, int8, manifest["version"])


# -- no torch at run time -----------------------------------------------------------------------
def test_onnx_encoder_never_imports_torch(onnx_cache, int8):
    code = f"""
import json, sys
from classifier.encoders.embedding import make_embedder
encoder = make_embedder(backend="onnx-int8", cache_dir={str(onnx_cache)!r}, auto_export=False)
vector = encoder.encode("WHO declares measles outbreak an emergency")
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
print(json.dumps({{"heavy": heavy, "vector": vector.tolist(), "info": encoder.info().to_dict()}}))
"""
    done = _run_python(code)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert out["info"] == int8.info().to_dict()
    expected = int8.encode("WHO declares measles outbreak an emergency")
    np.testing.assert_allclose(out["vector"], expected, atol=1e-5)


def test_a_missing_export_is_made_once_by_a_child_process(tmp_path, fp32):
    cache = tmp_path / "encoders"
    code = f"""
import json, sys
from classifier.encoders.onnx import OnnxEncoder
encoder = OnnxEncoder(backend="onnx", cache_dir={str(cache)!r})
vector = encoder.encode("Border crossings fall as new rules take effect")
print(json.dumps({{"torch": "torch" in sys.modules, "folder": str(encoder.folder),
                  "vector": vector.tolist()}}))
"""
    done = _run_python(code)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["torch"] is False
    assert Path(out["folder"]).parent == cache
    assert "exporting it once" in done.stderr
    np.testing.assert_allclose(
        out["vector"], fp32.encode("Border crossings fall as new rules take effect"), atol=1e-5
    )
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".")] == [
        Path(out["folder"]).name
    ]


def test_without_auto_export_a_missing_export_names_the_command(tmp_path):
    encoder = OnnxEncoder(backend="onnx-int8", cache_dir=tmp_path, auto_export=False)
    with pytest.raises(EncoderError, match="headline-topics export --backend onnx-int8"):
        encoder.encode("anything")


def test_hub_names_and_unknown_backends_are_refused():
    with pytest.raises(EncoderError, match="never downloaded"):
        OnnxEncoder("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(EncoderError, match="unknown encoder backend 'gpu'"):
        make_embedder(backend="gpu")
    with pytest.raises(EncoderError, match="unknown ONNX backend"):
        OnnxEncoder(backend="onnx-fp16")
    assert isinstance(make_embedder(backend="torch"), Embedder)


# -- the cache ----------------------------------------------------------------------------------
def test_a_second_export_finds_the_first(onnx_cache):
    first = find_export(None, "onnx-int8", onnx_cache)
    again = export_encoder(backend="onnx-int8", cache_dir=onnx_cache)
    assert first is not None and not again.created and again.folder == first[0]
    assert again.meta["check"]["mean_cosine"] >= INT8_MIN_MEAN_COSINE


def test_cli_export_reports_and_force_redoes(tmp_path, onnx_cache, capsys):
    cache = tmp_path / "encoders"
    cache.mkdir()
    source = find_export(None, "onnx", onnx_cache)[0]
    shutil.copytree(source, cache / source.name)
    assert cli_main(["export", "--backend", "onnx", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "onnx: already exported at" in out and "(same as torch)" in out
    written = (cache / source.name / META_FILE).read_text()
    assert cli_main(["export", "--backend", "onnx", "--cache-dir", str(cache), "--force"]) == 0
    out = capsys.readouterr().out
    assert "onnx: exported to" in out and "max difference" in out
    assert (cache / source.name / META_FILE).read_text() != written  # a new export, new times
    assert sorted(p.name for p in cache.iterdir()) == [".lock", source.name]


def test_cli_refuses_an_unknown_backend(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["export", "--backend", "gpu"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_damaged_export_is_refused_with_the_fix(tmp_path, onnx_cache):
    source = find_export(None, "onnx-int8", onnx_cache)[0]
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    with open(folder / MODEL_FILE, "r+b") as handle:
        handle.truncate(1000)
    with pytest.raises(EncoderError, match="damaged.*--force"):
        find_export(None, "onnx-int8", tmp_path)
    with pytest.raises(EncoderError, match="damaged"):
        OnnxEncoder(backend="onnx-int8", cache_dir=tmp_path).encode("x")


def test_an_export_from_an_older_exporter_is_made_again(tmp_path, onnx_cache):
    source = find_export(None, "onnx-int8", onnx_cache)[0]
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    meta = json.loads((folder / META_FILE).read_text())
    (folder / META_FILE).write_text(json.dumps({**meta, "format": 1}))  # the dynamic-int8 era
    assert find_export(None, "onnx-int8", tmp_path) is None
    result = export_encoder(backend="onnx-int8", cache_dir=tmp_path)
    assert result.created and result.folder == folder
    assert (
        result.meta["format"] == meta["format"]
        and result.meta["fingerprint"] == meta["fingerprint"]
    )
    assert find_export(None, "onnx-int8", tmp_path)[0] == folder


def test_changed_source_stamps_fall_back_to_the_fingerprint(tmp_path, onnx_cache, real_embedder):
    source = find_export(None, "onnx-int8", onnx_cache)[0]
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    meta = json.loads((folder / META_FILE).read_text())
    meta["source"]["stamp"] = [["model.safetensors", 1, 1]]  # as if the package was reinstalled
    (folder / META_FILE).write_text(json.dumps(meta))
    found = find_export(None, "onnx-int8", tmp_path)
    assert found is not None and found[0] == folder
    again = export_encoder(backend="onnx-int8", cache_dir=tmp_path)  # records the new stamps
    assert not again.created and again.folder == folder
    assert json.loads((folder / META_FILE).read_text())["source"]["stamp"] == source_stamp(
        real_embedder.path
    )
    (folder / META_FILE).write_text(json.dumps(meta))  # stale stamps again, and
    folder.rename(tmp_path / "onnx-int8-000000000000")  # a name the fingerprint does not give
    assert find_export(None, "onnx-int8", tmp_path) is None


def test_a_failed_export_leaves_nothing_that_looks_usable(tmp_path, monkeypatch):
    import classifier.encoders.export as export

    def broken(spec, target):
        Path(target).write_bytes(b"half an onnx file")
        raise RuntimeError("tracing failed")

    monkeypatch.setattr(export, "_export_fp32", broken)
    with pytest.raises(RuntimeError, match="tracing failed"):
        export_encoder(backend="onnx-int8", cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [".lock"]
    assert find_export(None, "onnx-int8", tmp_path) is None


@pytest.mark.parametrize(
    "modules, pooling, message",
    [
        (["Transformer", "Pooling", "Dense", "Normalize"], "mean", "only Transformer"),
        (["Transformer", "Pooling", "Normalize"], "cls", "only mean pooling"),
    ],
)
def test_pipelines_we_cannot_reproduce_are_refused(tmp_path, modules, pooling, message):
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "pooling_mode_mean_tokens": pooling == "mean",
                "pooling_mode_cls_token": pooling == "cls",
            }
        )
    )
    entries = [
        {
            "idx": i,
            "name": str(i),
            "path": "1_Pooling" if kind == "Pooling" else "",
            "type": f"sentence_transformers.models.{kind}",
        }
        for i, kind in enumerate(modules)
    ]
    (tmp_path / "modules.json").write_text(json.dumps(entries))
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(EncoderError, match=message):
        export_encoder(tmp_path, backend="onnx", cache_dir=tmp_path / "cache")


# -- the service and the tagger on the default backend ------------------------------------------
def _shipped_copy(tmp_path: Path) -> Path:
    source = ModelStore(ROOT / "models")
    version = source.current_version()
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(source.path_of(version), root / version)
    ModelStore(root).promote(version)
    return root


def test_the_service_serves_the_shipped_model_without_torch(tmp_path, onnx_cache):
    models = _shipped_copy(tmp_path)
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
    done = _run_python(code, env=env_cache)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert out["topic"] == "health"
    assert out["trained"]["backend"] == "onnx-int8"  # the shipped head was trained on int8
    assert out["encoder"]["backend"] == "onnx-int8"
    assert out["encoder"]["fingerprint"] == out["trained"]["fingerprint"]


def test_the_backend_can_be_chosen_by_environment_and_a_bad_one_is_named(tmp_path, onnx_cache):
    models = _shipped_copy(tmp_path)
    code = f"""
import json
from classifier.service import create_app
app = create_app({{"MODELS_DIR": {str(models)!r}, "TESTING": True}})
print(json.dumps(app.test_client().get("/v1/model").get_json()["service"]["encoder"]))
"""
    env = {"HEADLINE_TOPICS_ENCODER_CACHE": str(onnx_cache)}
    done = _run_python(code, env={**env, "HEADLINE_TOPICS_ENCODER_BACKEND": "onnx"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["backend"] == "onnx"
    assert "trained on onnx-int8 embeddings and now gets onnx embeddings" in done.stderr
    done = _run_python(code, env={**env, "HEADLINE_TOPICS_ENCODER_BACKEND": "gpu"})
    assert done.returncode != 0
    assert "HEADLINE_TOPICS_ENCODER_BACKEND must be one of torch, onnx, onnx-int8" in done.stderr


def test_tag_uses_the_models_backend_and_a_resume_keeps_it(tmp_path, onnx_cache):
    models = _shipped_copy(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text(
        "headline\n" + "\n".join(f"Tariffs on steel rise {i}" for i in range(300)) + "\n"
    )
    out = tmp_path / "out.jsonl"
    env = {"HEADLINE_TOPICS_ENCODER_CACHE": str(onnx_cache)}
    base = ["-m", "classifier.cli", "tag", str(source), str(out), "--models-dir", str(models)]
    done = _run_cli([*base, "--json", "--no-progress", "--chunk-size", "100"], env=env)
    assert done.returncode == 0, done.stderr
    assert "torch" not in done.stderr.lower()  # no cross-backend warning, no torch loading
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 300 and {r["topic"] for r in rows} == {"trade"}
    again = _run_cli([*base, "--force", "--backend", "bogus"], env=env)
    assert again.returncode == 2 and "invalid choice: 'bogus'" in again.stderr


def test_a_resumed_tag_run_keeps_its_backend_and_refuses_another(tmp_path, onnx_cache, fp32):
    from classifier.tagging.tagger import tag_file

    models = _shipped_copy(tmp_path)
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
    other = _run_cli([*base, "--resume", "--backend", "onnx-int8", "--no-progress"], env=env)
    assert other.returncode == 2
    assert "encoder: was 'onnx:" in other.stderr and "now 'onnx-int8:" in other.stderr
    same = _run_cli([*base, "--resume", "--json", "--no-progress"], env=env)  # no --backend
    assert same.returncode == 0, same.stderr
    summary = json.loads(same.stdout)
    assert summary["resumed_after"] == 100 and summary["rows_in"] == 300


def test_serve_makes_a_missing_export_once_before_the_workers_start(tmp_path, monkeypatch):
    """Workers would otherwise race to export (they wait on a lock, but each pays the wait)."""
    from types import SimpleNamespace

    import classifier.cli.serve as serve_cli
    from classifier.config import encoder_threads

    models = _shipped_copy(tmp_path)
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


def test_a_failed_export_says_how_to_get_going(tmp_path, monkeypatch):
    """A read-only deployment cannot make the export at first use: the message names the ways."""
    import subprocess as sp

    failed = sp.CompletedProcess([], 1, "", "PermissionError: [Errno 13] Permission denied\n")
    monkeypatch.setattr("classifier.encoders.onnx.subprocess.run", lambda *a, **k: failed)
    encoder = OnnxEncoder(backend="onnx-int8", cache_dir=tmp_path / "ro")
    with pytest.raises(EncoderError) as caught:
        encoder.encode("x")
    message = str(caught.value)
    assert "Permission denied" in message and str(tmp_path / "ro") in message
    for way in ("HEADLINE_TOPICS_ENCODER_CACHE", "headline-topics export", "--backend torch"):
        assert way in message
