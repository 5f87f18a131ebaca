"""Corrections from people: the headline's right topics, kept durably, and trained on later.

Both the service (``POST /v1/feedback`` writes, ``GET /v1/feedback`` exports) and training
(``headline-topics train --feedback``) use the one store, so this package sits below both of them
in the layers and imports neither::

    store.py    the SQLite store: FeedbackStore (add, latest, history, summary), Correction,
                check_correction (the one check of a correction's fields), corrections_record
                (what a manifest records), default_path / path_from_env (where the file is)
    export.py   corrections as CSV or JSON Lines, the rows ``train --add`` reads back
"""
