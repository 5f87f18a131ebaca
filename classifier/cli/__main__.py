"""``python -m classifier.cli``: the command line."""

from classifier.cli import main

raise SystemExit(main())
