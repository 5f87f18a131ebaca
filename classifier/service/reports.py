"""GET /v1/reports and /v1/reports/<name>: the HTML reports of one configured folder.

``headline-topics report --html`` writes self-contained pages; a team that serves the API can put
them in one folder (``HEADLINE_TOPICS_REPORTS_DIR``) and read them from the web page. Only that
folder is ever read, and only what is plainly a report in it: a name of letters, digits, ``.``,
``_`` and ``-`` ending in ``.html`` (no path, no leading dot), a regular file directly in the
folder (a symlink is not followed, so a link to ``/etc/passwd.html`` serves nothing). Anything
else is the same 404 as a missing report, so the answers do not tell what else the disk holds.
The pages are served with a Content-Security-Policy that allows no script and no request
elsewhere: a report has neither, and a page someone swapped in cannot run one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path

from flask import Blueprint, Response, jsonify

from classifier.service.errors import ApiError
from classifier.service.state import state

bp = Blueprint("reports", __name__)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.html$")
POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _folder() -> Path:
    folder = state().settings.reports_dir
    assert folder is not None  # the blueprint is registered only when it is set
    return Path(folder)


def _is_report(entry: os.DirEntry[str]) -> bool:
    return bool(NAME.match(entry.name)) and entry.is_file(follow_symlinks=False)


@bp.get("/v1/reports")
def list_reports() -> Response:
    """Every report in the folder, by name, with its size and when it was written."""
    reports = []
    with os.scandir(_folder()) as entries:
        for entry in entries:
            if not _is_report(entry):
                continue
            info = entry.stat(follow_symlinks=False)
            modified = dt.datetime.fromtimestamp(info.st_mtime, dt.UTC)
            reports.append(
                {
                    "name": entry.name,
                    "url": f"/v1/reports/{entry.name}",
                    "bytes": info.st_size,
                    "modified": modified.isoformat(timespec="seconds"),
                }
            )
    reports.sort(key=lambda r: r["name"])
    return jsonify({"reports": reports})


@bp.get("/v1/reports/<name>")
def get_report(name: str) -> Response:
    """One report, opened without following a symlink and checked to be a regular file."""
    missing = ApiError(
        404, "not_found", "no such report; GET /v1/reports lists the reports there are"
    )
    if not NAME.match(name):
        raise missing
    try:
        fd = os.open(_folder() / name, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:  # missing, a symlink (ELOOP), unreadable
        raise missing from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder opens too
        os.close(fd)
        raise missing
    with os.fdopen(fd, "rb") as handle:
        page = handle.read()
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response
