"""``python -m tests.service.live_gunicorn PORT MODELS``: the service under the very gunicorn
configuration of ``headline-topics serve`` (its options and worker class), on 127.0.0.1, with the
fast fake encoder, so the tests of what gunicorn itself answers need no real model.
"""

from __future__ import annotations

import sys
from pathlib import Path

from classifier.cli.serve import _gunicorn_application, gunicorn_options
from tests.service.support import make_app

THREADS = 4


def main(argv: list[str]) -> None:
    port, models = int(argv[1]), Path(argv[2])
    options = gunicorn_options(
        host="127.0.0.1",
        port=port,
        workers=1,
        threads=THREADS,
        timeout=120,
        access_log=False,
        multiproc_dir=None,
    )
    _gunicorn_application(options, lambda: make_app(models)).run()


if __name__ == "__main__":
    main(sys.argv)
