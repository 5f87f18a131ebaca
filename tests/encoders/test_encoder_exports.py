"""The export cache: found again, checked, made again when stale, never half-written.

Also the child process that makes a missing export, so that the ONNX encoder never imports torch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifier.cli import main as cli_main
from classifier.encoders import EncoderError
from classifier.encoders.export import INT8_MIN_MEAN_COSINE, export_encoder
from classifier.encoders.exports import META_FILE, MODEL_FILE, find_export, source_stamp
from classifier.encoders.onnx import OnnxEncoder
from tests.encoders.support import run_python

pytestmark = pytest.mark.slow


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
    done = run_python(code)
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
