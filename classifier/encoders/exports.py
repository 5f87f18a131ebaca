"""The ONNX export cache under ``models/encoders``: its layout, and finding and checking an export.

Layout::

    models/encoders/
      .lock                                 serialises exports (two workers starting at once)
      <backend>-<source fingerprint[:12]>/
        model.onnx                          token embeddings (batch, tokens, dim)
        tokenizer.json                      copied from the source model
        probe.npy                           the export's own vectors of PROBE_HEADLINES
        meta.json                           what, from which source, how, and how close to torch

Kept apart from the exporter (:mod:`classifier.encoders.export`, which imports torch) because
finding an export runs at every service start and must stay cheap and torch-free: the source
folder's file sizes and modification times are compared with the ones recorded at export, and
only when they differ is the ~90 MB source hashed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from classifier import config
from classifier.encoders.base import (
    ONNX_BACKENDS,
    SAME_VECTORS_AS_TORCH,
    EncoderError,
    check_backend,
    fingerprint_model_dir,
    model_dir_stamp,
    resolve_model_path,
)
from classifier.encoders.quantise import RECIPE_ID
from classifier.files import sha256_file, write_atomic

logger = logging.getLogger(__name__)

# 2: int8 is per-token (classifier.encoders.quantise); format-1 int8 exports were per-batch and are redone.
# 3: Q, K and V in one product (same vectors, bit for bit; ~3% faster), so format 2 is redone too.
# 4: int8 weights in [-64, 64] (exact on CPUs without VNNI) and recorded probe vectors.
EXPORT_FORMAT = 4
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"
PROBE_FILE = "probe.npy"  # the export's own vectors of PROBE_HEADLINES, one at a time
LOCK_FILE = ".lock"

# Made-up headlines of varied length and style: an export is checked against torch on them, and
# every load of an int8 export compares its vectors of them with the ones recorded in PROBE_FILE.
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
    return [list(entry) for entry in model_dir_stamp(path)]


def export_folder(root: Path, backend: str, source_fingerprint: str) -> Path:
    """Where the ``backend`` export of the source with this fingerprint lives under ``root``."""
    return root / f"{backend}-{source_fingerprint[:12]}"


def check_onnx_backend(backend: str) -> None:
    """Refuse ``torch`` and unknown names where only an export can do."""
    check_backend(backend, ONNX_BACKENDS, "ONNX")


def read_meta(folder: Path) -> dict[str, Any] | None:
    """An export's meta.json, or None when it is missing or is not an export's."""
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


def file_records(folder: Path) -> dict[str, dict[str, Any]]:
    """The sizes and hashes of an export's files, which :func:`check_export` compares with."""
    names = [n for n in (MODEL_FILE, TOKENIZER_FILE, PROBE_FILE) if (folder / n).is_file()]
    return {
        name: {"size": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}
        for name in names
    }


def refresh_stamp(folder: Path, meta: dict[str, Any], source: Path) -> dict[str, Any]:
    """Record the source's current path and stamps after a match by fingerprint, so the next
    start-up finds the export without hashing the source again."""
    stamp = source_stamp(source)
    if meta["source"].get("stamp") == stamp and meta["source"].get("path") == str(source):
        return meta
    meta = {**meta, "source": {**meta["source"], "path": str(source), "stamp": stamp}}
    write_atomic(folder / META_FILE, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    return meta


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
    check_onnx_backend(backend)
    source = resolve_model_path(model).resolve()
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    if not root.is_dir():
        return None
    stamp = source_stamp(source)
    for folder in sorted(root.glob(f"{backend}-*")):
        meta = read_meta(folder)
        if (
            _current(folder, meta)
            and meta.get("backend") == backend
            and meta.get("source", {}).get("path") == str(source)
            and meta.get("source", {}).get("stamp") == stamp
        ):
            check_export(folder, meta, verify_hashes=verify_hashes)
            return folder, meta
    source_fp = fingerprint_model_dir(source)
    folder = export_folder(root, backend, source_fp)
    meta = read_meta(folder)
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
