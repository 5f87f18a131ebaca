"""Export the bundled sentence encoder to ONNX (fp32) and per-token int8, into the export cache.

Nothing is downloaded: the exporter traces the local model with ``torch.onnx.export`` and
quantises the result with :mod:`classifier.encoders.quantise`. Each export is checked against the
sentence-transformers (torch) vectors of the probe headlines before it is kept. The cache's
layout, and finding an export without torch, live in :mod:`classifier.encoders.exports`.

A folder is written under a temporary name and renamed into place, so a crashed export leaves
nothing that looks usable. ``python -m classifier.encoders.export`` is how the torch-free ONNX
encoder makes a missing export in a child process, so that its own process never imports torch;
``headline-topics export`` calls :func:`export_encoder` too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.cpu import cpu_info
from classifier.encoders.base import (
    DEFAULT_MODEL_NAME,
    ONNX_BACKENDS,
    SAME_VECTORS_AS_TORCH,
    EncoderError,
    default_model_path,
    fingerprint_model_dir,
    resolve_model_path,
)
from classifier.encoders.exports import (
    EXPORT_FORMAT,
    LOCK_FILE,
    META_FILE,
    MODEL_FILE,
    PROBE_FILE,
    PROBE_HEADLINES,
    TOKENIZER_FILE,
    check_onnx_backend,
    default_cache_dir,
    encoder_fingerprint,
    export_folder,
    file_records,
    find_export,
    refresh_stamp,
    source_stamp,
)
from classifier.encoders.onnx import OnnxSession
from classifier.encoders.quantise import RECIPE, float_twin, quantise_per_token
from classifier.encoders.torch import TorchEncoder
from classifier.errors import HeadlineTopicsError
from classifier.files import fsync_tree

logger = logging.getLogger(__name__)

OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "token_embeddings"

# SAME_VECTORS_AS_TORCH backends must reproduce the torch vectors to this (or are not kept).
FP32_MAX_ABS_DIFF = 1e-4
# Guards against a broken quantisation, not quality claims (bench/encode.py measures those):
# on NYT headlines the int8 export agrees at mean cosine ~0.99.
INT8_MIN_MEAN_COSINE = 0.97
INT8_MIN_COSINE = 0.93
# The int8 graph against its float twin (classifier.encoders.quantise.float_twin) on the exporting
# machine: the integer products are exact, so the two agree to the bit (0.0 measured on AVX2
# and on VNNI); anything above this means the machine's int8 kernel computes something else.
TWIN_MAX_ABS_DIFF = 1e-6


@dataclass(frozen=True)
class ExportResult:
    """Where an export is, what its meta.json says, and whether this call made it."""

    folder: Path
    meta: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class _SourceSpec:
    """What the sentence-transformers folder says about the pipeline we must reproduce."""

    transformer_dir: Path
    max_seq_length: int
    lowercase: bool


def read_source_spec(source: Path) -> _SourceSpec:
    """Refuse a sentence-transformers pipeline we cannot reproduce (only mean pooling + norm)."""
    try:
        modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EncoderError(f"{source} is not a sentence-transformers model: {exc}") from exc
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if (
        not kinds
        or kinds[0] != "Transformer"
        or any(kind not in ("Pooling", "Normalize") for kind in kinds[1:])
    ):
        raise EncoderError(
            f"cannot export {source} to ONNX: its modules are {kinds}; only "
            "Transformer + Pooling (mean) + Normalize are supported"
        )
    transformer_dir = source / modules[0].get("path", "")
    for module, kind in zip(modules, kinds, strict=True):
        if kind == "Pooling":
            pooling = json.loads((source / module["path"] / "config.json").read_text())
            modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
            if modes != ["pooling_mode_mean_tokens"]:
                raise EncoderError(
                    f"cannot export {source} to ONNX: pooling {modes}; only mean pooling is supported"
                )
    if not (transformer_dir / "tokenizer.json").is_file():
        raise EncoderError(
            f"cannot export {source} to ONNX: no tokenizer.json (a 'fast' tokenizer) in "
            f"{transformer_dir}"
        )
    st_config = {}
    if (transformer_dir / "sentence_bert_config.json").is_file():
        st_config = json.loads((transformer_dir / "sentence_bert_config.json").read_text())
    max_len = st_config.get("max_seq_length")
    if not max_len:
        model_config = json.loads((transformer_dir / "config.json").read_text())
        max_len = int(model_config.get("max_position_embeddings", 512))
    return _SourceSpec(transformer_dir, int(max_len), bool(st_config.get("do_lower_case", False)))


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("torch", "transformers", "onnx", "onnxruntime", "tokenizers"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            continue
    return out


def _export_fp32(spec: _SourceSpec, target: Path) -> list[str]:
    """Trace the transformer to ONNX with dynamic batch and sequence axes; returns input names."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        # eager attention traces to plain ONNX ops; the vectors are checked against torch below
        model = AutoModel.from_pretrained(str(spec.transformer_dir), attn_implementation="eager")
    except Exception as exc:  # transformers raises many types for a bad folder
        raise EncoderError(f"cannot load {spec.transformer_dir} with transformers: {exc}") from exc
    model.eval()
    use_types = getattr(model.config, "type_vocab_size", 0) > 0

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, **extra
            ).last_hidden_state

    tokenizer = Tokenizer.from_file(str(spec.transformer_dir / "tokenizer.json"))
    tokenizer.enable_padding()
    sample = tokenizer.encode_batch(list(PROBE_HEADLINES[:2]))  # unequal lengths: real padding
    arrays = {
        "input_ids": torch.tensor([e.ids for e in sample], dtype=torch.long),
        "attention_mask": torch.tensor([e.attention_mask for e in sample], dtype=torch.long),
        "token_type_ids": torch.tensor([e.type_ids for e in sample], dtype=torch.long),
    }
    names = [n for n in INPUT_NAMES if use_types or n != "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, OUTPUT_NAME]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notes, not problems here
        torch.onnx.export(
            TokenEmbeddings(model),
            tuple(arrays[n] for n in names),
            str(target),
            dynamo=False,  # the torch.export-based exporter needs onnxscript, not installed
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
        )
    return names


def _agreement(reference: np.ndarray, vectors: np.ndarray) -> dict[str, float]:
    cosines = np.sum(reference * vectors, axis=1)
    return {
        "mean_cosine": round(float(cosines.mean()), 6),
        "min_cosine": round(float(cosines.min()), 6),
        "max_abs_diff": float(np.abs(reference - vectors).max()),
    }


def _check_against_torch(
    folder: Path, meta: dict[str, Any], source: Path, backend: str
) -> dict[str, Any]:
    """Embed the probe headlines both ways; refuse an export that does not match torch.

    For int8, also refuse one whose integer products this machine does not compute exactly
    (against the float twin), and record the probe vectors that every later load compares with.
    """
    reference = TorchEncoder(source).encode(list(PROBE_HEADLINES))
    session = OnnxSession(folder, meta)
    batched = session.encode(list(PROBE_HEADLINES), batch_size=len(PROBE_HEADLINES))
    one_by_one = session.encode(list(PROBE_HEADLINES), batch_size=1)
    np.save(folder / PROBE_FILE, one_by_one, allow_pickle=False)
    check = {"probes": len(PROBE_HEADLINES), **_agreement(reference, batched)}
    check["batch_1"] = _agreement(reference, one_by_one)
    if backend not in SAME_VECTORS_AS_TORCH:
        check["float_twin_max_abs_diff"] = _check_against_twin(folder, meta, one_by_one)
    worst = min(check["min_cosine"], check["batch_1"]["min_cosine"])
    if backend in SAME_VECTORS_AS_TORCH:
        diff = max(check["max_abs_diff"], check["batch_1"]["max_abs_diff"])
        if diff > FP32_MAX_ABS_DIFF:
            raise EncoderError(
                f"the {backend} export does not reproduce the torch vectors "
                f"(max difference {diff:.2e} > {FP32_MAX_ABS_DIFF:.0e}); not kept"
            )
    elif check["mean_cosine"] < INT8_MIN_MEAN_COSINE or worst < INT8_MIN_COSINE:
        raise EncoderError(
            f"the {backend} export strays too far from the torch vectors (mean cosine "
            f"{check['mean_cosine']:.4f}, min {worst:.4f}); not kept"
        )
    return check


def _check_against_twin(folder: Path, meta: dict[str, Any], vectors: np.ndarray) -> float:
    """The int8 export's probe vectors against the same arithmetic done exactly in fp32."""
    twin_dir = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".twin-"))
    try:
        float_twin(folder / MODEL_FILE, twin_dir / MODEL_FILE)
        shutil.copyfile(folder / TOKENIZER_FILE, twin_dir / TOKENIZER_FILE)
        exact = OnnxSession(twin_dir, meta).encode(list(PROBE_HEADLINES), batch_size=1)
    finally:
        shutil.rmtree(twin_dir, ignore_errors=True)
    diff = float(np.abs(exact - vectors).max())
    if diff > TWIN_MAX_ABS_DIFF:
        cpu = cpu_info()
        raise EncoderError(
            f"onnxruntime's int8 kernel on this CPU ({cpu.line()}; {cpu.int8_kernel}) does "
            f"not compute the quantised encoder exactly (max difference {diff:.2e} from the "
            "exact float twin); not kept: use --backend onnx"
        )
    return diff


def _lock(root: Path):
    import fcntl

    handle = open(root / LOCK_FILE, "a+")  # noqa: SIM115 - held until the export is done
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def export_encoder(
    model: str | os.PathLike[str] | None = None,
    *,
    backend: str = "onnx-int8",
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> ExportResult:
    """Make (or find) the ``backend`` export of a local sentence-transformers model.

    Imports torch; serving code calls :func:`find_export` instead. Concurrent callers wait on a
    lock file and the later ones find the first one's export.
    """
    check_onnx_backend(backend)
    source = resolve_model_path(model).resolve()
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    if not force and (found := find_export(source, backend, root, verify_hashes=True)):
        return ExportResult(found[0], refresh_stamp(found[0], found[1], source), False)
    with _lock(root):
        if not force and (found := find_export(source, backend, root, verify_hashes=True)):
            return ExportResult(found[0], refresh_stamp(found[0], found[1], source), False)
        started = time.perf_counter()
        spec = read_source_spec(source)
        source_fp = fingerprint_model_dir(source)
        final = export_folder(root, backend, source_fp)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f".tmp-{backend}-"))
        try:
            logger.info("exporting %s to %s", source, backend)
            if backend == "onnx":
                inputs = _export_fp32(spec, staging / MODEL_FILE)
            else:
                fp32 = staging / "fp32.onnx.tmp"
                inputs = _export_fp32(spec, fp32)
                quantise_per_token(fp32, staging / MODEL_FILE)
                fp32.unlink()
            shutil.copyfile(spec.transformer_dir / "tokenizer.json", staging / TOKENIZER_FILE)
            model_config = json.loads((spec.transformer_dir / "config.json").read_text())
            meta: dict[str, Any] = {
                "format": EXPORT_FORMAT,
                "backend": backend,
                "name": DEFAULT_MODEL_NAME
                if source == default_model_path().resolve()
                else source.name,
                "fingerprint": encoder_fingerprint(source_fp, backend),
                "dimension": int(model_config["hidden_size"]),
                "max_seq_length": spec.max_seq_length,
                "lowercase": spec.lowercase,
                "pad_id": int(model_config.get("pad_token_id") or 0),
                "pooling": "mean",
                "normalized": True,
                "inputs": inputs,
                "output": OUTPUT_NAME,
                "source": {
                    "path": str(source),
                    "fingerprint": source_fp,
                    "stamp": source_stamp(source),
                },
                "files": {},  # recorded once probe.npy is written too
                "export": {
                    "opset": OPSET,
                    "quantization": None if backend == "onnx" else dict(RECIPE),
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                },
                "libraries": _versions(),
            }
            meta["check"] = _check_against_torch(staging, meta, source, backend)
            meta["files"] = file_records(staging)
            meta["export"]["seconds"] = round(time.perf_counter() - started, 1)
            (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            os.chmod(staging, 0o755)
            fsync_tree(staging)
            _replace_folder(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    logger.info("wrote %s in %.1f s", final, meta["export"]["seconds"])
    return ExportResult(final, meta, created=True)


def _replace_folder(staging: Path, final: Path) -> None:
    """Rename the finished folder into place, moving an older export aside first (``--force``)."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".old-{final.name}-"))
        os.rename(final, old / final.name)
    os.rename(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- python -m classifier.encoders.export ----------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Make one export in the child process that :class:`~classifier.encoders.onnx.OnnxEncoder`
    starts when its export is missing. An error ends as one line on stderr, which the parent
    quotes, and exit code 2, as with ``headline-topics export``."""
    parser = argparse.ArgumentParser(prog="python -m classifier.encoders.export")
    parser.add_argument("--backend", choices=ONNX_BACKENDS, required=True)
    parser.add_argument("--encoder", help="a local sentence-transformers folder (default: bundled)")
    parser.add_argument("--cache-dir", help="where exports live (default: the export cache)")
    parser.add_argument("--force", action="store_true", help="export again even if one exists")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        export_encoder(
            args.encoder, backend=args.backend, cache_dir=args.cache_dir, force=args.force
        )
    except (HeadlineTopicsError, ValueError, OSError) as exc:
        sys.stderr.write(f"headline-topics export: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
