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
from classifier.embedding import (
    DEFAULT_MODEL_NAME,
    Embedder,
    EncoderError,
    make_embedder,
)
from classifier.export import (
    INT8_MIN_COSINE,
    INT8_MIN_MEAN_COSINE,
    META_FILE,
    MODEL_FILE,
    encoder_fingerprint,
    export_encoder,
    find_export,
    source_stamp,
)
from classifier.onnx_encoder import OnnxEncoder
from classifier.store import ModelError, ModelStore, check_encoder
from classifier.training import build_manifest, data_fingerprint, fit_model
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
def onnx_cache(tmp_path_factory, real_embedder) -> Path:
    """Both exports, made once per session into a private cache (torch is loaded anyway)."""
    cache = tmp_path_factory.mktemp("encoders")
    for backend in ("onnx", "onnx-int8"):
        export_encoder(backend=backend, cache_dir=cache)
    return cache


@pytest.fixture(scope="session")
def fp32(onnx_cache) -> OnnxEncoder:
    return OnnxEncoder(backend="onnx", cache_dir=onnx_cache, auto_export=False)


@pytest.fixture(scope="session")
def int8(onnx_cache) -> OnnxEncoder:
    return OnnxEncoder(backend="onnx-int8", cache_dir=onnx_cache, auto_export=False)


@pytest.fixture(scope="session")
def torch_vectors(real_embedder) -> np.ndarray:
    return real_embedder.encode(HEADLINES)


def _run_python(code: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code],
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
    tolerance = 1e-5 if backend == "onnx" else 0.02
    assert np.abs(_cosines(many, backwards) - 1).max() <= tolerance


def test_fp32_vectors_do_not_depend_on_batching(fp32):
    whole = fp32.encode(HEADLINES[:50], batch_size=64)
    singly = np.stack([fp32.encode(h) for h in HEADLINES[:50]])
    np.testing.assert_allclose(whole, singly, atol=1e-5)
    np.testing.assert_allclose(fp32.encode(HEADLINES[:50], batch_size=7), whole, atol=1e-5)


def test_int8_batch_companions_move_vectors_only_slightly(int8):
    """Dynamic int8 scales activations per batch, so a headline's vector depends a little on
    the other headlines in its batch; it must stay far below what changes a topic."""
    whole = int8.encode(HEADLINES[:50], batch_size=64)
    singly = np.stack([int8.encode(h) for h in HEADLINES[:50]])
    assert _cosines(whole, singly).min() >= 0.97


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


def test_head_trained_on_torch_serves_on_fp32_and_is_refused_on_int8(
    tmp_path, real_embedder, fp32, int8, torch_vectors
):
    rows = load_project_data()[::40]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    model, info = fit_model(texts, labels, real_embedder, head_params={"calibration_folds": 2})
    manifest = build_manifest(
        model,
        info,
        fingerprint=data_fingerprint(texts, labels),
        source="test",
        rows=len(texts),
        skipped=0,
    )
    assert manifest["embedding"]["backend"] == "torch"
    store = ModelStore(tmp_path / "models")
    store.save(model, manifest, promote=True)
    served = store.load(embedder=fp32)
    probe = HEADLINES[:60]
    np.testing.assert_allclose(served.predict_proba(probe), model.predict_proba(probe), atol=1e-4)
    with pytest.raises(ModelError, match="fingerprint"):
        store.load(embedder=int8)
    with pytest.raises(ModelError, match="fingerprint"):
        check_encoder(manifest, int8, manifest["version"])


# -- no torch at run time -----------------------------------------------------------------------
def test_onnx_encoder_never_imports_torch(onnx_cache, int8):
    code = f"""
import json, sys
from classifier.embedding import make_embedder
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
from classifier.onnx_encoder import OnnxEncoder
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
    import classifier.export as export

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
