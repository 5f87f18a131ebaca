"""Sentence embeddings with onnxruntime: the bundled encoder without torch.

Importing torch and sentence-transformers takes most of a service's start-up (about 3.7 s of
3.8 s here) and most of its memory (about 440 MB). The same model exported to ONNX runs with
onnxruntime, the ``tokenizers`` package and numpy only; the fp32 export gives the same vectors
as sentence-transformers, and the int8 one (per-token scales, :mod:`classifier.encoders.quantise`)
close vectors, faster.

This module must never import torch or sentence-transformers, not even indirectly: it builds on
:mod:`classifier.encoders.base` and the torch-free export cache (:mod:`classifier.encoders.exports`)
only. The exports it reads are made by :mod:`classifier.encoders.export`, which imports torch and
which it runs in a child process when an export is missing, so that this process stays small.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifier.cpu import cpu_info
from classifier.encoders import exports
from classifier.encoders.base import (
    DEFAULT_BATCH_SIZE,
    EncoderError,
    EncoderInfo,
    encoder_name,
    resolve_model_path,
)
from classifier.encoders.quantise import kernel_self_test

logger = logging.getLogger(__name__)

EXPORT_TIMEOUT_S = 900
# Most headlines onnxruntime sees in one run. Sorted by length, smaller runs pad less but pay the
# per-run overhead more often. On this 2-core CPU (per-token int8, headlines/s): a call of 128
# random headlines ran at ~990 in runs of 32 against ~440 in one run of 128, and 1,240 against
# 1,030 in runs of 8; a call of 32 (the service's micro-batch) ran at ~950 in runs of 16 against
# ~870 in one run of 32. So: runs of 16 for calls of up to 48, runs of 32 above. The caller's
# batch_size still applies when it is smaller.
MAX_RUN = 32
SMALL_CALL_RUN = 16
# A load compares its probe vectors with the ones the export recorded. Exact integer products
# leave only fp32 rounding (softmax, GELU, layer norms) that may differ between CPUs, which the
# per-token rounding can carry a little further: a whole numpy re-implementation of the float
# parts stays above 0.9987 per vector, while the saturating 8-bit recipe on AVX2 fell to 0.976.
PROBE_MIN_COSINE = 0.998
FALLBACK_BACKEND = "onnx"
_self_tests: dict[int | None, list[str]] = {}


class OnnxSession:
    """One export folder loaded for inference: tokenizer, onnxruntime session, pooling.

    Kept apart from :class:`OnnxEncoder` so the exporter can check a freshly written folder with
    exactly the code that will serve it.
    """

    def __init__(self, folder: Path, meta: dict[str, Any], *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.meta = meta
        self.dimension = int(meta["dimension"])
        self.lowercase = bool(meta.get("lowercase", False))
        self.pad_id = int(meta.get("pad_id", 0))
        try:
            tokenizer = Tokenizer.from_file(str(self.folder / exports.TOKENIZER_FILE))
        except Exception as exc:  # the Rust library raises plain Exceptions for a bad file
            raise EncoderError(f"cannot read the tokenizer in {self.folder}: {exc}") from exc
        # Pad per batch ourselves (after sorting by length); truncate like sentence-transformers.
        tokenizer.no_padding()
        tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self.tokenizer = tokenizer

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        if threads:
            options.intra_op_num_threads = int(threads)
        # Spinning threads keep a core busy between calls; with several workers or a busy
        # machine that steals the cores the other requests need. The latency cost is small.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(self.folder / exports.MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise EncoderError(
                f"cannot load the ONNX encoder {self.folder / exports.MODEL_FILE}: {exc}; "
                f"re-create it with 'headline-topics export --backend {meta.get('backend')} --force'"
            ) from exc
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.output_name = self.session.get_outputs()[0].name

    @property
    def threads(self) -> int:
        return int(self.session.get_session_options().intra_op_num_threads)

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """L2-normalised mean-pooled vectors, shape ``(n, d)``, in the order given.

        Headlines are sorted by token length and run in groups of at most ``MAX_RUN`` so that
        each group pads to its own longest member, not to the longest headline in the call.
        """
        run = SMALL_CALL_RUN if len(texts) <= 3 * SMALL_CALL_RUN else MAX_RUN
        step = max(1, min(batch_size, run))
        if self.lowercase:
            texts = [t.lower() for t in texts]
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            width = int(lengths[rows].max())
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                encoding = encodings[i]
                n = len(encoding.ids)
                ids[r, :n] = encoding.ids
                mask[r, :n] = 1
                types[r, :n] = encoding.type_ids
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            feeds = {name: value for name, value in feeds.items() if name in self.input_names}
            hidden = self.session.run([self.output_name], feeds)[0]
            out[rows] = mean_pool_normalise(hidden, mask)
        return out


def check_int8(session: OnnxSession) -> str | None:
    """Why this machine must not use this int8 export, or None when it computes as recorded.

    Two checks, a few tens of milliseconds: onnxruntime's integer kernel on worst-case values
    against numpy (:func:`classifier.encoders.quantise.kernel_self_test`, once per process), and the
    export's probe headlines against the vectors recorded when it was made, wherever that was.
    """
    cpu = cpu_info()
    threads = session.threads or None
    if threads not in _self_tests:
        _self_tests[threads] = kernel_self_test(threads)
        logger.info("CPU %s: int8 products by %s", cpu.line(), cpu.int8_kernel)
        if cpu.int8_slow:
            logger.warning(
                "this CPU has no AVX2: int8 products are slow here; --backend onnx may be faster"
            )
    if _self_tests[threads]:
        return f"its integer kernel ({cpu.int8_kernel}) is wrong on {_self_tests[threads][0]}"
    try:
        recorded = np.load(session.folder / exports.PROBE_FILE, allow_pickle=False)
    except (OSError, ValueError) as exc:
        return f"its recorded probe vectors cannot be read ({exc})"
    if recorded.shape != (len(exports.PROBE_HEADLINES), session.dimension):
        return f"its recorded probe vectors have shape {recorded.shape}"
    # one call: vectors do not depend on the batch (the export checked), and it is ~20% faster
    # than one by one, at every start-up
    probes = list(exports.PROBE_HEADLINES)
    vectors = session.encode(probes, batch_size=len(probes))
    cosine = float(np.min(np.sum(vectors * recorded, axis=1)))
    if not cosine >= PROBE_MIN_COSINE:
        return f"probe vectors agree at cosine {cosine:.4f} (< {PROBE_MIN_COSINE})"
    logger.debug("int8 probe vectors agree with the export's at cosine >= %.6f", cosine)
    return None


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average the token vectors a headline really has (not its padding), then scale to length 1.

    The same arithmetic as sentence-transformers' Pooling(mean) + Normalize modules, including
    their epsilons, so the fp32 export reproduces its vectors.
    """
    weights = mask.astype(np.float32)
    summed = np.einsum("bsd,bs->bd", hidden.astype(np.float32, copy=False), weights)
    counts = np.clip(weights.sum(axis=1, keepdims=True), 1e-9, None)
    pooled = summed / counts
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return (pooled / norms).astype(np.float32, copy=False)


class OnnxEncoder:
    """The encoder of :class:`classifier.encoders.torch.TorchEncoder`, served by onnxruntime.

    Same interface (:class:`classifier.encoders.base.Encoder`, plus ``batch_size`` and
    ``threads``); ``backend`` is ``onnx`` (fp32: the same vectors as torch, so it shares torch's
    fingerprint and serves heads trained on torch embeddings) or ``onnx-int8`` (int8 weights and
    per-token activation scales: close but not equal vectors, so it has its own fingerprint and a
    head must be trained on it).

    The export is looked up under ``cache_dir`` (default ``<models>/encoders``) on first use;
    when it is missing it is made once by a child process (``auto_export``), or refused with the
    command that makes it.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        backend: str = "onnx-int8",
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        auto_export: bool = True,
    ) -> None:
        exports.check_onnx_backend(backend)
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        self.path = resolve_model_path(model)
        self.name = encoder_name(model, self.path)
        self.backend = backend
        self.batch_size = batch_size
        self.threads = threads
        self.cache_dir = Path(cache_dir) if cache_dir else exports.default_cache_dir()
        self.auto_export = auto_export
        self._meta: dict[str, Any] | None = None
        self._folder: Path | None = None
        self._session: OnnxSession | None = None
        self._lock = threading.Lock()

    # -- finding (and if needed making) the export ----------------------------------------
    def _locate(self) -> tuple[Path, dict[str, Any]]:
        if self._meta is not None and self._folder is not None:
            return self._folder, self._meta
        with self._lock:
            if self._meta is None:
                found = exports.find_export(self.path, self.backend, self.cache_dir)
                if found is None:
                    if not self.auto_export:
                        raise EncoderError(
                            f"no {self.backend} export of {self.path} in {self.cache_dir}: "
                            f"run 'headline-topics export --backend {self.backend}'"
                        )
                    self._export_in_child()
                    found = exports.find_export(self.path, self.backend, self.cache_dir)
                    if found is None:
                        raise EncoderError(
                            f"exporting {self.backend} finished but no export is in {self.cache_dir}"
                        )
                self._folder, self._meta = found
        return self._folder, self._meta

    def _export_in_child(self) -> None:
        """Run the exporter (``python -m classifier.encoders.export``) in a child process, so
        torch is never imported here."""
        logger.warning(
            "no %s export of the encoder in %s yet: exporting it once (5-15 s)",
            self.backend,
            self.cache_dir,
        )
        command = [
            sys.executable,
            "-m",
            "classifier.encoders.export",
            "--backend",
            self.backend,
            "--encoder",
            str(self.path),
            "--cache-dir",
            str(self.cache_dir),
        ]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S, env=env
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EncoderError(
                f"exporting the {self.backend} encoder failed: {exc}{self._export_hint()}"
            ) from exc
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise EncoderError(
                f"exporting the {self.backend} encoder failed: {detail}{self._export_hint()}"
            )

    def _export_hint(self) -> str:
        return (
            f" (the export is written to {self.cache_dir}: point HEADLINE_TOPICS_ENCODER_CACHE "
            "at a writable folder, run 'headline-topics export' when building the deployment, "
            "or use --backend torch)"
        )

    def _load(self) -> OnnxSession:
        if self._session is not None:
            return self._session
        folder, meta = self._locate()
        with self._lock:
            if self._session is None:
                logger.info("loading %s encoder from %s", self.backend, folder)
                session = OnnxSession(folder, meta, threads=self.threads)
                problem = check_int8(session) if self.backend == "onnx-int8" else None
                if problem is None:
                    self._session = session
                    return session
                logger.warning(
                    "the onnx-int8 encoder does not compute as recorded on this CPU (%s): %s. "
                    "Using %s (fp32) instead: its vectors differ slightly from int8 ones, so a "
                    "head trained on onnx-int8 vectors may answer ~1%% of headlines differently",
                    cpu_info().line(),
                    problem,
                    FALLBACK_BACKEND,
                )
                self.backend = FALLBACK_BACKEND
                self._meta = self._folder = None
        return self._load()

    # -- the Encoder interface ------------------------------------------------------------
    @property
    def folder(self) -> Path:
        """The export folder in use (found or made on first access)."""
        return self._locate()[0]

    @property
    def source_fingerprint(self) -> str:
        """The fingerprint of the torch model this was exported from (what torch heads record).

        For ``onnx`` it equals ``info().fingerprint``; for ``onnx-int8`` it is how
        :func:`classifier.topics.store.check_encoder` tells that a torch-trained head meets the same
        encoder, quantised.
        """
        self._load()
        return str(self._locate()[1]["source"]["fingerprint"])

    @property
    def dimension(self) -> int:
        return int(self._locate()[1]["dimension"])

    def info(self) -> EncoderInfo:
        """What vectors this encoder gives; loads it, since an int8 export that this machine
        does not compute as recorded is replaced by the fp32 one (see :func:`check_int8`)."""
        self._load()
        _, meta = self._locate()
        return EncoderInfo(
            self.name,
            meta["fingerprint"],
            int(meta["dimension"]),
            self.backend,
            str(meta["source"]["fingerprint"]),
        )

    def encode(self, texts: str | Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Embed one headline (shape ``(d,)``) or many (shape ``(n, d)``), float32, length 1."""
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        for i, text in enumerate(batch):
            if not isinstance(text, str):
                raise TypeError(f"headline {i} is {type(text).__name__}, not text")
        if not batch:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(batch, batch_size or self.batch_size)
        return vectors[0] if single else vectors
