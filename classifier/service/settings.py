"""Every knob of the HTTP service, read from environment variables with safe defaults.

One frozen object built once at start-up, so a request never sees settings change under it and a
bad value (``HEADLINE_TOPICS_MAX_HEADLINES=lots``) stops the service at start with a message that
names the variable, instead of failing later inside a request.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier import config
from classifier.encoders import BACKENDS

PREFIX = "HEADLINE_TOPICS_"
SECRETS = ("admin_token", "label_token")  # shown only as set or unset


@dataclass(frozen=True)
class Setting:
    """How one field is read: its environment variable, its type and its allowed minimum."""

    env: str
    kind: type
    minimum: float | None = None
    help: str = ""


def _meta(env: str, kind: type, help_text: str, minimum: float | None = None) -> dict[str, Any]:
    return {"setting": Setting(PREFIX + env, kind, minimum, help_text)}


@dataclass(frozen=True)
class Settings:
    """The service's configuration; ``from_env`` is the only constructor the service uses."""

    models_dir: Path = field(
        default_factory=config.models_dir,
        metadata=_meta("MODELS", Path, "model store to serve from"),
    )
    encoder: str | None = field(
        default=None,
        metadata=_meta(
            "ENCODER", str, "local sentence-transformers folder (default: the bundled MiniLM)"
        ),
    )
    model_version: str | None = field(
        default=None,
        metadata=_meta(
            "MODEL_VERSION", str, "serve this version only and ignore CURRENT (default: follow it)"
        ),
    )
    reload_check_ms: int = field(
        default=1000,
        metadata=_meta(
            "RELOAD_CHECK_MS", int, "how often CURRENT is looked at, at most (0: every request)", 0
        ),
    )
    max_headline_chars: int = field(
        default=config.DEFAULT_MAX_HEADLINE_CHARS,  # the one limit, shared with the commands
        metadata=_meta("MAX_HEADLINE_CHARS", int, "longest headline accepted (CLI too)", 1),
    )
    uncertain_below: float = field(
        default=config.UNCERTAIN_BELOW,
        metadata=_meta(
            "UNCERTAIN_BELOW",
            float,
            "answers with a confidence under this are marked uncertain (a request may set its own)",
            0,
        ),
    )
    max_headlines: int = field(
        default=256, metadata=_meta("MAX_HEADLINES", int, "most headlines in one request", 1)
    )
    max_body_bytes: int = field(
        default=1_048_576,
        metadata=_meta("MAX_BODY_BYTES", int, "largest request body; larger gets 413", 64),
    )
    read_timeout_s: float = field(
        default=10.0,
        metadata=_meta(
            "READ_TIMEOUT_S",
            float,
            "under gunicorn: seconds a request's headers or body may pause before a 408",
            0.1,
        ),
    )
    batch_wait_ms: float = field(
        default=5.0,
        metadata=_meta(
            "BATCH_WAIT_MS", float, "longest wait for more headlines to batch under load", 0
        ),
    )
    batch_max_size: int = field(
        default=32,
        metadata=_meta(
            "BATCH_MAX_SIZE", int, "most headlines per encoder call from merged requests", 1
        ),
    )
    recent_headlines: int = field(
        default=1024,
        metadata=_meta(
            "RECENT_HEADLINES",
            int,
            "vectors of this many recent distinct headlines kept per worker, so a repeat is "
            "not encoded again (0: off)",
            0,
        ),
    )
    max_cluster_headlines: int = field(
        default=1000,
        metadata=_meta("MAX_CLUSTER_HEADLINES", int, "most headlines in one /v1/cluster call", 2),
    )
    admin_token: str | None = field(
        default=None,
        repr=False,
        metadata=_meta("ADMIN_TOKEN", str, "bearer token for /v1/admin/*; unset: admin is off"),
    )
    label_token: str | None = field(
        default=None,
        repr=False,
        metadata=_meta(
            "LABEL_TOKEN", str, "bearer token for /v1/feedback (labellers); unset: feedback is off"
        ),
    )
    feedback_db: Path | None = field(
        default=None,
        metadata=_meta(
            "FEEDBACK_DB",
            Path,
            "SQLite file of the corrections (default: feedback.sqlite3 in the model store)",
        ),
    )
    encoder_backend: str | None = field(
        default=None,
        metadata=_meta(
            "ENCODER_BACKEND",
            str,
            "torch, onnx or onnx-int8 (default: the backend the model was trained on)",
        ),
    )
    reports_dir: Path | None = field(
        default=None,
        metadata=_meta(
            "REPORTS_DIR",
            Path,
            "folder of `headline-topics report --html` pages served at /v1/reports (unset: off)",
        ),
    )
    encoder_threads: int | None = field(
        default=None,
        metadata=_meta(
            "ENCODER_THREADS",
            int,
            "CPU threads of the encoder per process (default: cores // workers)",
            1,
        ),
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then environment variables, then explicit ``overrides`` (by field name)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            spec: Setting = f.metadata["setting"]
            raw = environ.get(spec.env)
            if raw is not None and raw.strip() != "":
                values[f.name] = _parse(spec, raw.strip())
        for name, value in overrides.items():
            if name not in {f.name for f in dataclasses.fields(cls)}:
                raise ValueError(f"unknown service setting {name!r}")
            values[name] = value
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.encoder_backend is not None and self.encoder_backend not in BACKENDS:
            raise ValueError(
                f"{PREFIX}ENCODER_BACKEND must be one of {', '.join(BACKENDS)}, "
                f"not {self.encoder_backend!r}"
            )
        for f in dataclasses.fields(self):
            spec: Setting = f.metadata["setting"]
            value = getattr(self, f.name)
            if spec.minimum is not None and value is not None and value < spec.minimum:
                raise ValueError(f"{spec.env} must be at least {spec.minimum:g}, not {value}")
        if self.reports_dir is not None and not Path(self.reports_dir).is_dir():
            raise ValueError(f"{PREFIX}REPORTS_DIR {self.reports_dir} is not a folder")
        if not 0 <= self.uncertain_below <= 1:
            raise ValueError(
                f"{PREFIX}UNCERTAIN_BELOW must be from 0 to 1, not {self.uncertain_below}"
            )

    @property
    def admin_enabled(self) -> bool:
        return bool(self.admin_token)

    def in_force(self) -> list[tuple[str, str]]:
        """(variable, value in force) for every setting; the admin token shows only as set/unset."""
        rows = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in SECRETS:
                value = "set" if value else "unset"
            rows.append((f.metadata["setting"].env, "unset" if value is None else str(value)))
        return rows

    @classmethod
    def table(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) for every setting, for docs and ``--help``."""
        rows = []
        for f in dataclasses.fields(cls):
            spec: Setting = f.metadata["setting"]
            if f.default_factory is not dataclasses.MISSING:
                default = "the project's models/"
            else:
                default = "unset" if f.default is None else str(f.default)
            rows.append((spec.env, default, spec.help))
        return rows


def _parse(spec: Setting, raw: str) -> Any:
    if spec.kind is str:
        return raw
    if spec.kind is Path:
        return Path(raw).expanduser()
    try:
        value = spec.kind(raw)
    except ValueError:
        value = None
    if value is None or (spec.kind is float and not math.isfinite(value)):
        kind = "a whole number" if spec.kind is int else "a finite number"
        raise ValueError(f"{spec.env} must be {kind}, not {raw!r}")
    return value
