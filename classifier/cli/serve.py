"""``headline-topics serve``: the HTTP service under gunicorn, for production.

Gunicorn runs in this process (as a custom gunicorn application); each worker process builds the
app with ``create_app`` and so loads the model once. Workers use gunicorn's threaded worker: the
concurrent requests its threads hold are what the micro-batcher merges into encoder batches.

CPU budget: by default one worker whose encoder uses every core; with ``--workers N`` each
worker's encoder gets ``cores // N`` threads, so workers x encoder threads never exceeds the cores.
With more than one worker, metrics switch to prometheus-client's multiprocess mode (a temporary
folder shared by the workers), so /metrics reports the whole server, not the worker that answered.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from classifier import config
from classifier.cli import _util

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WORKERS = 1
DEFAULT_THREADS = 32
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WORKER_CLASS = "classifier.service.worker.JsonThreadWorker"
# the options that go to gunicorn_options as they are
SERVER_OPTIONS = ("host", "port", "workers", "threads", "timeout", "access_log")


def gunicorn_options(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: int,
    access_log: bool,
    multiproc_dir: str | None,
) -> dict[str, Any]:
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    options: dict[str, Any] = {
        "bind": f"{bind_host}:{port}",
        "workers": workers,
        # gunicorn's gthread worker with JSON error pages and a read timeout
        "worker_class": WORKER_CLASS,
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 30,
        "keepalive": 5,
        "errorlog": "-",
        "accesslog": "-" if access_log else None,
        "loglevel": "info",
        "proc_name": "headline-topics",
        "preload_app": False,  # each worker loads torch itself: forking a used torch is unsafe
        "control_socket_disable": True,  # gunicorn>=25 would share one socket in $HOME
    }
    if Path("/dev/shm").is_dir():
        options["worker_tmp_dir"] = "/dev/shm"
    if multiproc_dir:
        options["child_exit"] = _mark_process_dead
    return options


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
MMAP_THRESHOLD_BYTES = 128 * 1024


def limit_heap_growth() -> bool:
    """Serve big allocations (batch activations) from mmap, so freeing them returns the memory.

    glibc raises its mmap threshold after large blocks are freed, after which the encoder's
    batch tensors come from the heap and fragment it; a fixed 128 KiB threshold kept the
    worker's peak RSS about 30 MB lower under the benchmark's load. Set in the master before
    the workers fork, so they inherit it. False where there is no glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


def _mark_process_dead(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _gunicorn_application(options: dict[str, Any], factory: Callable[[], Any]):
    from gunicorn.app.base import BaseApplication

    class ServiceApplication(BaseApplication):
        """Gunicorn driven from Python: our options, our app factory, no argv parsing."""

        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None and key in self.cfg.settings:  # older gunicorns lack some
                    self.cfg.set(key, value)

        def load(self):
            return factory()

    return ServiceApplication()


def _create_app():
    from classifier.service import create_app

    return create_app()


def _prepare_multiproc_dir(workers: int) -> tuple[str | None, bool]:
    """(folder, made_by_us) for multiprocess metrics; None with one worker."""
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        folder = Path(existing)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # values of a previous run would be added to ours
            stale.unlink()
        return str(folder), False
    if workers == 1:
        return None, False
    folder = tempfile.mkdtemp(prefix="headline-topics-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    return folder, True


def check_bind(host: str, port: int) -> None:
    """Bind ``host:port`` once and let it go, so a port in use or a bad --host is one line and
    exit 2 before the model loads (gunicorn would log three [ERROR] lines and exit 1)."""
    import socket

    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        family, kind, proto, _, address = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ValueError(
            f"--host {host}: not an address this machine can resolve ({reason})"
        ) from None
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind(address)
        except OSError as exc:
            hint = {
                errno.EADDRINUSE: "another program is listening there; choose another --port",
                errno.EADDRNOTAVAIL: "not an address of this machine; check --host",
                errno.EACCES: "ports below 1024 need privileges; choose another --port",
            }.get(exc.errno, "check --host and --port")
            raise ValueError(f"cannot listen on {host}:{port}: {exc.strerror} ({hint})") from None


def cmd_serve(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port must be between 1 and 65535, not {args.port}")
    _util.require_at_least_one(
        args, "workers", "threads", "timeout", "encoder_threads", show_value=True
    )
    check_bind(args.host, args.port)
    # before anything imports prometheus_client: it picks its storage once, at import
    multiproc_dir, made = _prepare_multiproc_dir(args.workers)
    try:
        return _serve(args, multiproc_dir)
    finally:
        if made and multiproc_dir:
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(multiproc_dir, ignore_errors=True)


def _serve(args: argparse.Namespace, multiproc_dir: str | None) -> int:
    from classifier.encoders import backend_for, embedder_for
    from classifier.service.settings import Settings
    from classifier.topics.store import ModelStore

    overrides: dict[str, Any] = {}
    if args.models_dir:
        overrides["models_dir"] = Path(args.models_dir).resolve()
    if args.encoder:
        overrides["encoder"] = args.encoder
    if args.model:
        overrides["model_version"] = args.model
    if args.backend:
        overrides["encoder_backend"] = args.backend
    settings = Settings.from_env(**overrides)  # a bad HEADLINE_TOPICS_* value stops us, by name
    cores = config.available_cores()
    threads = config.encoder_threads(
        args.workers, args.encoder_threads or settings.encoder_threads, cores=cores
    )
    # fail here, with one clean line, rather than in every worker with a traceback
    store = ModelStore(settings.models_dir)
    version = store.resolve(settings.model_version)
    manifest = store.read_manifest(version)
    backend = backend_for(manifest, settings.encoder_backend)
    if backend != "torch":
        # make a missing ONNX export once, here (in a child process), not in every worker
        encoder = embedder_for(
            manifest, encoder=settings.encoder, backend=backend, models_dir=store.root
        )
        logger.info("%s encoder: %s", backend, encoder.folder)

    # the workers build their app from the environment: hand them our choices that way
    os.environ["HEADLINE_TOPICS_MODELS"] = str(Path(settings.models_dir).resolve())
    os.environ["HEADLINE_TOPICS_ENCODER_THREADS"] = str(threads)
    os.environ["HEADLINE_TOPICS_ENCODER_BACKEND"] = backend
    if settings.encoder:
        os.environ["HEADLINE_TOPICS_ENCODER"] = settings.encoder
    if settings.model_version:
        os.environ["HEADLINE_TOPICS_MODEL_VERSION"] = settings.model_version
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    limit_heap_growth()
    logging.getLogger("classifier").setLevel(logging.INFO)
    logger.info(
        "serving %s (model %s) on http://%s:%d with %d worker(s) x %d threads, "
        "the %s encoder with %d thread(s) each%s",
        store.root,
        version if settings.model_version else f"CURRENT={version}",
        args.host,
        args.port,
        args.workers,
        args.threads,
        backend,
        threads,
        ", metrics summed over workers" if multiproc_dir else "",
    )
    server = {name: getattr(args, name) for name in SERVER_OPTIONS}
    options = gunicorn_options(**server, multiproc_dir=multiproc_dir)
    _gunicorn_application(options, _create_app).run()
    return 0


def register(add: _util.AddCommand) -> None:
    serve = add("serve", cmd_serve, "serve predictions over HTTP with gunicorn")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="worker processes, each with its own copy of the model (default 1)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"request threads per worker; their requests are batched (default {DEFAULT_THREADS})",
    )
    serve.add_argument(
        "--encoder-threads",
        "--torch-threads",
        dest="encoder_threads",
        type=int,
        help="encoder CPU threads per worker (default: $HEADLINE_TOPICS_ENCODER_THREADS, "
        "else cores // workers, so workers x threads never exceeds the cores)",
    )
    serve.add_argument("--model", help="serve this version only (default: follow CURRENT)")
    serve.add_argument(
        "--timeout",
        type=int,
        default=120,
        help="seconds before a stuck worker is restarted (default 120)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request to stderr")
