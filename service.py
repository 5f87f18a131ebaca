"""Development server for the headline-topics HTTP API, on the shipped model.

    python service.py [--host 127.0.0.1] [--port 8000]

For production use ``headline-topics serve`` (gunicorn, several threads/workers). The app itself
is built by :func:`classifier.service.create_app`; settings come from HEADLINE_TOPICS_* variables.
"""

from __future__ import annotations

import argparse
import logging
import sys

from classifier.service import create_app

__all__ = ["create_app", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the headline-topics API (development).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from classifier.cli import EXPECTED_ERRORS

    try:
        app = create_app()
    except EXPECTED_ERRORS as exc:
        sys.stderr.write(f"service: error: {exc}\n")
        return 2
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
