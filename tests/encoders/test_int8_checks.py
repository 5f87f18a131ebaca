"""The int8 encoder proves on each machine that it computes what its export recorded.

An export records its probe vectors and that it matched its exact float twin; every load runs
the integer kernel's self-test and compares the probes. A machine that computes otherwise gets a
warning naming both backends and the fp32 encoder, never silent drift.
"""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from classifier.cpu import CpuInfo, cpu_info
from classifier.encoders import onnx as onnx_encoder
from classifier.encoders.exports import META_FILE, PROBE_FILE, PROBE_HEADLINES, find_export
from classifier.encoders.onnx import OnnxEncoder


def _copy_exports(onnx_cache, tmp_path):
    for backend in ("onnx", "onnx-int8"):
        folder = find_export(None, backend, onnx_cache)[0]
        shutil.copytree(folder, tmp_path / folder.name)
    return find_export(None, "onnx-int8", tmp_path)[0]


def test_an_int8_export_records_its_probes_and_its_exactness(onnx_cache, int8):
    folder, meta = find_export(None, "onnx-int8", onnx_cache)
    assert meta["check"]["float_twin_max_abs_diff"] == 0.0
    assert PROBE_FILE in meta["files"] and meta["export"]["quantization"]["version"] == 2
    recorded = np.load(folder / PROBE_FILE, allow_pickle=False)
    assert recorded.shape == (len(PROBE_HEADLINES), 384) and recorded.dtype == np.float32
    np.testing.assert_array_equal(int8.encode(list(PROBE_HEADLINES), batch_size=1), recorded)


def test_a_machine_that_computes_other_probe_vectors_falls_back_to_fp32(
    tmp_path, onnx_cache, fp32, caplog
):
    folder = _copy_exports(onnx_cache, tmp_path)
    recorded = np.load(folder / PROBE_FILE, allow_pickle=False)
    shifted = np.roll(recorded, 1, axis=0)  # the same bytes' size, other vectors
    np.save(folder / PROBE_FILE, shifted, allow_pickle=False)
    encoder = OnnxEncoder(backend="onnx-int8", cache_dir=tmp_path, auto_export=False)
    with caplog.at_level(logging.WARNING, logger="classifier.encoders.onnx"):
        vectors = encoder.encode(["Tariffs rise again", "Measles cases climb"])
    assert encoder.backend == "onnx" and encoder.info().fingerprint == fp32.info().fingerprint
    np.testing.assert_allclose(
        vectors, fp32.encode(["Tariffs rise again", "Measles cases climb"]), atol=1e-6
    )
    message = caplog.text
    assert "onnx-int8" in message and "onnx (fp32)" in message and "probe vectors" in message
    assert cpu_info().model in message


def test_a_wrong_integer_kernel_falls_back_before_anything_is_encoded(
    tmp_path, onnx_cache, monkeypatch, caplog
):
    _copy_exports(onnx_cache, tmp_path)
    monkeypatch.setattr(onnx_encoder, "_self_tests", {})
    monkeypatch.setattr(
        onnx_encoder, "kernel_self_test", lambda threads=None: ["1x384x64: 64 of 64 values wrong"]
    )
    encoder = OnnxEncoder(backend="onnx-int8", cache_dir=tmp_path, auto_export=False)
    with caplog.at_level(logging.WARNING, logger="classifier.encoders.onnx"):
        info = encoder.info()  # what a model store checks first: it already names fp32
    assert info.backend == "onnx" and "integer kernel" in caplog.text


def test_unreadable_probe_vectors_are_a_reason_to_fall_back(tmp_path, onnx_cache, caplog):
    folder = _copy_exports(onnx_cache, tmp_path)
    meta = json.loads((folder / META_FILE).read_text())
    (folder / PROBE_FILE).write_bytes(b"x" * meta["files"][PROBE_FILE]["size"])
    encoder = OnnxEncoder(backend="onnx-int8", cache_dir=tmp_path, auto_export=False)
    with caplog.at_level(logging.WARNING, logger="classifier.encoders.onnx"):
        encoder.encode("Tariffs rise again")
    assert encoder.backend == "onnx" and "cannot be read" in caplog.text


def test_the_export_refuses_a_machine_whose_int8_products_are_not_exact(
    tmp_path, onnx_cache, monkeypatch
):
    """The exporter compares the int8 graph with its float twin on the machine at hand."""
    from classifier.encoders import EncoderError, export

    folder = find_export(None, "onnx-int8", onnx_cache)[0]
    staging = tmp_path / "staging"
    shutil.copytree(folder, staging)
    meta = json.loads((staging / META_FILE).read_text())
    vectors = np.load(staging / PROBE_FILE, allow_pickle=False)
    assert export._check_against_twin(staging, meta, vectors) == 0.0
    with pytest.raises(EncoderError, match="not compute the quantised encoder exactly.*onnx"):
        export._check_against_twin(staging, meta, vectors + 1e-3)


@pytest.mark.parametrize(
    ("machine", "flags", "kernel", "bf16"),
    [
        ("x86_64", {"avx2"}, "AVX2 vpmaddubsw, pairs summed in saturating int16", False),
        ("x86_64", {"avx2", "avx512f", "avx512bw"}, "AVX-512 vpmaddubsw", False),
        ("x86_64", {"avx2", "avx512bw", "avx512_vnni"}, "VNNI vpdpbusd, int32", False),
        ("x86_64", {"avx2", "avx512_vnni", "amx_int8", "amx_bf16"}, "AMX tiles", True),
        ("aarch64", {"asimddp"}, "ARM udot", False),
    ],
)
def test_cpu_features_name_the_kernel_that_runs(machine, flags, kernel, bf16):
    cpu = CpuInfo("Some CPU", machine, 2, frozenset(flags), True)
    assert cpu.int8_kernel.startswith(kernel) and cpu.native_bf16 is bf16
    assert "Some CPU" in cpu.line() and not cpu.int8_slow


def test_this_cpu_is_described():
    cpu = cpu_info()
    assert cpu.model and cpu.cores >= 1 and cpu.line().startswith(cpu.model)
    assert CpuInfo("Old", "x86_64", 2, frozenset({"sse4_2"}), True).int8_slow
