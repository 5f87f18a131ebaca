"""GET / and GET /static/...: the page for people, served by the app itself.

The page (``static/index.html``, ``app.js``, ``csv.js``, ``app.css``) is plain HTML, CSS and JavaScript with
no build step and nothing fetched from elsewhere, so it works on a machine with no network. It
talks to the service only through the public ``/v1`` API, like any other client.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

STATIC_DIR = Path(__file__).with_name("static")

bp = Blueprint("web", __name__, static_folder=str(STATIC_DIR), static_url_path="/static")


@bp.get("/")
def index() -> Response:
    """The page itself; ``no-cache`` so a new release is picked up on the next visit."""
    response = send_from_directory(STATIC_DIR, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
