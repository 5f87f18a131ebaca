"""Export the bundled sentence encoder to ONNX (fp32) and per-token int8, cached under ``models/``.

Nothing is downloaded: the exporter traces the local model with ``torch.onnx.export`` and
quantises the result with :mod:`classifier.encoders.quantise`. Each export is checked against the
sentence-transformers (torch) vectors of a set of probe headlines before it is kept.

Layout::

    models/encoders/
      .lock                                 serialises exports (two workers starting at once)
      <backend>-<source fingerprint[:12]>/
        model.onnx                          token embeddings (batch, tokens, dim)
        tokenizer.json                      copied from the source model
        meta.json                           what, from which source, how, and how close to torch

A folder is written under a temporary name and renamed into place, so a crashed export leaves
nothing that looks usable. Finding an export must stay cheap and torch-free (it runs at every
service start): the source folder's file sizes and modification times are compared with the ones
recorded at export, and only when they differ is the ~90 MB source hashed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier import config
from classifier.cpu import cpu_info
from classifier.encoders.embedding import (
    DEFAULT_MODEL_NAME,
    EncoderError,
    default_model_path,
    fingerprint_model_dir,
    resolve_model_path,
)
from classifier.encoders.quantise import RECIPE, RECIPE_ID, float_twin, quantise_per_token
from classifier.files import fsync_tree, sha256_file, write_atomic

logger = logging.getLogger(__name__)

ONNX_BACKENDS = ("onnx", "onnx-int8")
# 2: int8 is per-token (classifier.encoders.quantise); format-1 int8 exports were per-batch and are redone.
# 3: Q, K and V in one product (same vectors, bit for bit; ~3% faster), so format 2 is redone too.
# 4: int8 weights in [-64, 64] (exact on CPUs without VNNI) and recorded probe vectors.
EXPORT_FORMAT = 4
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"
PROBE_FILE = "probe.npy"  # the export's own vectors of PROBE_HEADLINES, one at a time
LOCK_FILE = ".lock"
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "token_embeddings"

# Backends whose vectors equal torch's (checked at export to FP32_MAX_ABS_DIFF), so they share
# its fingerprint and can serve heads trained on torch embeddings. int8 vectors differ slightly,
# so int8 gets a fingerprint of its own and a head trained on torch embeddings is refused.
SAME_VECTORS_AS_TORCH = frozenset({"onnx"})
FP32_MAX_ABS_DIFF = 1e-4
# Guards against a broken quantisation, not quality claims (bench/encode.py measures those):
# on NYT headlines the int8 export agrees at mean cosine ~0.99.
INT8_MIN_MEAN_COSINE = 0.97
INT8_MIN_COSINE = 0.93
# The int8 graph against its float twin (classifier.encoders.quantise.float_twin) on the exporting
# machine: the integer products are exact, so the two agree to the bit (0.0 measured on AVX2
# and on VNNI); anything above this means the machine's int8 kernel computes something else.
TWIN_MAX_ABS_DIFF = 1e-6

# Made-up headlines of varied length and style to check an export against torch.
PROBE_HEADLINES = (
    "Senate passes farm bill after months of delay",
    "WHO declares measles outbreak a global health emergency",
    "Border crossings fall as new asylum rules take effect",
    "Tariffs on steel and aluminium to rise next month, ministry says",
    "Peace talks stall as shelling resumes near the border",
    "Local bakery wins national bread contest",
    "Stocks",
    "Q&A: What the new visa caps mean for students — and their families",
    "Parliament votes 312-204 to extend the sanctions regime until 2027",
    "Hospitals brace for a winter of flu, RSV and COVID-19",
    "Exporters fear retaliation after the trade pact collapses",
    "The quiet comeback of the vinyl record",
    "Ministers meet in Geneva; ceasefire 'within reach', envoy says",
    "Café owners in Zürich protest rent increases",
    "Drug prices: insurers and pharmacies trade blame over shortages",
    "UN envoy warns of famine as aid convoys are blocked",
    "Court blocks deportation flights pending review",
    "Team clinches title in overtime thriller",
    "Central bank holds rates steady amid tariff uncertainty",
    "A long read on the history of the harbour, the ferries that crossed it, the workers "
    "who built the piers and the families who waited for them to come home every evening",
    "",
    "   ",
    "RFK Jr. says vaccine panel will be reshaped",
    "China, EU agree to talks on electric-vehicle duties",
)


@dataclass(frozen=True)
class ExportResult:
    """Where an export is, what its meta.json says, and whether this call made it."""

    folder: Path
    meta: dict[str, Any]
    created: bool


def default_cache_dir() -> Path:
    """``$HEADLINE_TOPICS_ENCODER_CACHE`` or ``<models>/encoders``: beside the heads, outside any
    version folder, so every version (and every test's temporary store) shares one export."""
    return config.encoder_cache_dir()


def encoder_fingerprint(source_fingerprint: str, backend: str) -> str:
    """The fingerprint a head records for this backend's vectors (see SAME_VECTORS_AS_TORCH).

    For int8 it names the quantisation recipe too: another recipe gives other vectors.
    """
    if backend in SAME_VECTORS_AS_TORCH:
        return source_fingerprint
    return hashlib.sha256(f"{source_fingerprint}:{backend}:{RECIPE_ID}".encode()).hexdigest()


def source_stamp(path: Path) -> list[list[Any]]:
    """(relative name, size, mtime in ns) of every file of a model folder, as JSON lists."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [[str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns] for p in files]


def _check_backend(backend: str) -> None:
    if backend not in ONNX_BACKENDS:
        raise EncoderError(
            f"unknown ONNX backend {backend!r}; choose one of {', '.join(ONNX_BACKENDS)}"
        )


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("source"), dict) else None


def check_export(folder: Path, meta: dict[str, Any], *, verify_hashes: bool = False) -> None:
    """Refuse an export folder whose files are missing, truncated or (optionally) changed."""
    if meta.get("format") != EXPORT_FORMAT:
        raise EncoderError(
            f"encoder export {folder} has format {meta.get('format')!r}, expected "
            f"{EXPORT_FORMAT}: re-create it with 'headline-topics export --force'"
        )
    for name, recorded in meta.get("files", {}).items():
        path = folder / name
        problem = None
        if not path.is_file():
            problem = f"{name} is missing"
        elif path.stat().st_size != recorded["size"]:
            problem = f"{name} has {path.stat().st_size} bytes, {recorded['size']} were written"
        elif verify_hashes and sha256_file(path) != recorded["sha256"]:
            problem = f"{name} was changed after it was written"
        if problem:
            raise EncoderError(
                f"encoder export {folder} is damaged ({problem}): re-create it with "
                f"'headline-topics export --backend {meta.get('backend')} --force'"
            )


def find_export(
    model: str | os.PathLike[str] | None,
    backend: str,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    verify_hashes: bool = False,
) -> tuple[Path, dict[str, Any]] | None:
    """The export of this source model for ``backend``, or None when there is none yet.

    Cheap path first: an export whose recorded source path and file stamps match the source
    folder as it is now. Otherwise the source is hashed and the folder named by its fingerprint
    is used if present (a reinstalled but identical model). An export written by an older
    exporter (another format) counts as missing, so it is made again rather than refused.
    """
    _check_backend(backend)
    source = resolve_model_path(model).resolve()
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    if not root.is_dir():
        return None
    stamp = source_stamp(source)
    for folder in sorted(root.glob(f"{backend}-*")):
        meta = _read_meta(folder)
        if (
            _current(folder, meta)
            and meta.get("backend") == backend
            and meta.get("source", {}).get("path") == str(source)
            and meta.get("source", {}).get("stamp") == stamp
        ):
            check_export(folder, meta, verify_hashes=verify_hashes)
            return folder, meta
    source_fp = fingerprint_model_dir(source)
    folder = root / f"{backend}-{source_fp[:12]}"
    meta = _read_meta(folder)
    if not _current(folder, meta) or meta.get("source", {}).get("fingerprint") != source_fp:
        return None
    check_export(folder, meta, verify_hashes=verify_hashes)
    return folder, meta


def _current(folder: Path, meta: dict[str, Any] | None) -> bool:
    if meta is None:
        return False
    if meta.get("format") != EXPORT_FORMAT:
        logger.info("%s was made by an older exporter: it will be made again", folder)
        return False
    return True


# -- exporting (imports torch) -------------------------------------------------------------
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
    from classifier.encoders.embedding import Embedder
    from classifier.encoders.onnx import OnnxSession

    reference = Embedder(source).encode(list(PROBE_HEADLINES))
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
    from classifier.encoders.onnx import OnnxSession

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
    _check_backend(backend)
    source = resolve_model_path(model).resolve()
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    if not force and (found := find_export(source, backend, root, verify_hashes=True)):
        return ExportResult(found[0], _refresh_stamp(found[0], found[1], source), False)
    with _lock(root):
        if not force and (found := find_export(source, backend, root, verify_hashes=True)):
            return ExportResult(found[0], _refresh_stamp(found[0], found[1], source), False)
        started = time.perf_counter()
        spec = read_source_spec(source)
        source_fp = fingerprint_model_dir(source)
        final = root / f"{backend}-{source_fp[:12]}"
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
            meta["files"] = _file_records(staging)
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


def _file_records(folder: Path) -> dict[str, dict[str, Any]]:
    names = [n for n in (MODEL_FILE, TOKENIZER_FILE, PROBE_FILE) if (folder / n).is_file()]
    return {
        name: {"size": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}
        for name in names
    }


def _refresh_stamp(folder: Path, meta: dict[str, Any], source: Path) -> dict[str, Any]:
    """Record the source's current path and stamps after a match by fingerprint, so the next
    start-up finds the export without hashing the source again."""
    stamp = source_stamp(source)
    if meta["source"].get("stamp") == stamp and meta["source"].get("path") == str(source):
        return meta
    meta = {**meta, "source": {**meta["source"], "path": str(source), "stamp": stamp}}
    write_atomic(folder / META_FILE, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    return meta


def _replace_folder(staging: Path, final: Path) -> None:
    """Rename the finished folder into place, moving an older export aside first (``--force``)."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".old-{final.name}-"))
        os.rename(final, old / final.name)
    os.rename(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export_all(
    model: str | os.PathLike[str] | None = None,
    *,
    backends: Sequence[str] = ONNX_BACKENDS,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> list[ExportResult]:
    """Export several backends in turn (the CLI's ``--backend all``)."""
    return [export_encoder(model, backend=b, cache_dir=cache_dir, force=force) for b in backends]
