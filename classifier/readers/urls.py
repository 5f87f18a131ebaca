"""Archives on object storage: ``s3://bucket/key`` and other fsspec URLs, read like local files.

Real clusters keep their archives in object storage, where every worker can reach them without
a shared file system. A name with ``://`` is a URL, opened through fsspec (``pip install s3fs``
for ``s3://``); credentials come the usual way for the store, for S3 the ``AWS_*`` environment
variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` for an
S3-compatible server, ``AWS_DEFAULT_REGION``) or the shared credentials file, on the client and
on every worker alike. Local paths never go through fsspec.
"""

from __future__ import annotations

import os
from typing import Any

from classifier.errors import DataError


def is_url(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an object in a store (``s3://...``) rather than a local file."""
    return "://" in str(path)


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path inside it; a clear error without the driver."""
    try:
        from fsspec.core import url_to_fs
    except ImportError as exc:  # pragma: no cover - fsspec comes with dask
        raise DataError(f"{url}: reading URLs needs fsspec: pip install fsspec ({exc})") from exc
    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as exc:
        protocol = url.split("://", 1)[0]
        hint = " (pip install s3fs)" if protocol in ("s3", "s3a") else ""
        raise DataError(f"{url}: cannot open {protocol}:// URLs{hint}: {exc}") from exc


def open_url(url: str, mode: str = "rb") -> Any:
    """A file object for ``url`` (seekable when reading: ranged GETs on object storage)."""
    fs, path = filesystem(url)
    try:
        return fs.open(path, mode)
    except FileNotFoundError as exc:
        raise DataError(f"{url}: no such object") from exc


def url_identity(url: str) -> dict[str, Any]:
    """What must not change between an interrupted run and its resumption: size and version."""
    fs, path = filesystem(url)
    try:
        info = fs.info(path)
    except FileNotFoundError as exc:
        raise DataError(f"{url}: no such object") from exc
    if info.get("type") == "directory":
        raise DataError(f"{url} is a folder; name a CSV, JSONL or Parquet object")
    version = info.get("ETag") or info.get("etag") or str(info.get("LastModified", ""))
    return {"input": url, "size": int(info.get("size") or 0), "version": str(version)}


def url_exists(url: str) -> bool:
    fs, path = filesystem(url)
    return bool(fs.exists(path))
