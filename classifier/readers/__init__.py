"""The one home of reading headline files: CSV, TSV, JSONL, Parquet and plain text.

Training and evaluation (``classifier.topics.data``), ``headline-topics cluster`` and the batch
tagger read the same kinds of file, so the rules for "which file is which", "how is it decoded"
and "what is row 7" live here, once. Two ways of reading serve two jobs::

    formats.py    which format a file name means (FileFormat, detect_format, record_format)
    decoding.py   bytes to text and back: the "save it as UTF-8" message, undecodable bytes
    records.py    a whole file of records with a row number each, for training sets and the
                  cluster command: decoded in one go with the user's ``--encoding``, so a wrong
                  encoding is one clear error before any work starts (Problem, iter_records,
                  iter_lines)
    chunks.py     what the streaming readers yield (Chunk, MISSING) and how a CSV row becomes a
                  record (CsvRows), shared with the Dask engine's partition reader
    split.py      byte ranges of a CSV/JSONL archive that start and end where a record ends,
                  found by the streaming reader's own parser (the Dask engine's partitions)
    urls.py       ``s3://`` and other fsspec URLs, opened like local files (the Dask engine)
    stream.py     archives larger than memory, in chunks, decoded with ``surrogateescape`` so one
                  bad byte spoils one row, not the file (open_reader and the three readers)

This package is the bottom layer: it imports only :mod:`classifier.errors`, the standard library
and pyarrow (and fsspec, only when a URL is opened), so anything above may use it. Import from the sub-modules: the whole-file readers
should not pay for pyarrow.
"""
