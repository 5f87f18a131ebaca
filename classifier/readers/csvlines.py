"""CSV rows from lines, with a record of any size costing about its own size in memory.

The csv module parses a field into a buffer of four bytes a character that it keeps (and only
ever grows) for the life of the reader, and writes a row through another such buffer: a 50 MB
cell cost over 400 MB on the way in and out of ``tag``. Rows are rare that large, but a row
must come out with all its cells as written (issue 19), so a record over :data:`HUGE_LINE`
characters that sits on one line is split here, with ``str.find``, and written back the same
way; every other row goes through the csv module as before. Both give the same fields: the
splitter follows the csv module's default dialect (``doublequote``, not ``strict``), and
declines (returns None) whenever a line is not a whole record on its own, so the csv module
is always the judge of what it cannot be sure of.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Iterator

# A cell may be any size: an archive holds the odd whole article pasted into one cell, and the
# csv module's default limit (128 KiB) turned it into a traceback, or a row with its columns
# blanked. The row is kept whole; a headline cell over the headline limit is then refused by
# length (``text.headline_problem``) before anything copies or encodes it. The limit is the
# module's, for the process: set once, here, where every CSV reader of the package parses.
FIELD_SIZE_LIMIT = 2**31 - 1  # the largest every platform's C long holds
csv.field_size_limit(FIELD_SIZE_LIMIT)

HUGE_LINE = 1 << 20  # characters; shorter lines go through the csv module
_STAND_IN = "\ue000\ufdd0huge-record\ufdd0\ue000"  # a noncharacter: never in a real file


def split_line(line: str, delimiter: str = ",") -> list[str] | None:
    """The fields of one physical line that holds one whole record, as ``csv.reader`` parses
    them, or None when the line is not one (an open quote continues on the next line)."""
    if line.endswith("\r\n"):
        line = line[:-2]
    elif line.endswith(("\n", "\r")):
        line = line[:-1]
    if not line or "\n" in line or "\r" in line:
        return None  # a blank line is no record; a line end inside is the csv module's call
    fields: list[str] = []
    i, n = 0, len(line)
    while True:
        if i < n and line[i] == '"':
            parts, j = [], i + 1
            while True:
                k = line.find('"', j)
                if k < 0:
                    return None  # the quoted field goes on past the end of the line
                parts.append(line[j:k])
                if line.startswith('"', k + 1):  # a doubled quote is one quote
                    parts.append('"')
                    j = k + 2
                    continue
                j = k + 1
                break
            d = line.find(delimiter, j)
            parts.append(line[j : n if d < 0 else d])  # after the closing quote: kept as is
            fields.append("".join(parts))
        else:
            d = line.find(delimiter, i)
            fields.append(line[i : n if d < 0 else d])
        if d < 0:
            return fields
        i = d + 1


def csv_rows(lines: Iterable[str], delimiter: str = ",") -> Iterator[list[str] | str]:
    """Field lists of the CSV records in ``lines`` (with their line ends, as a file in text
    mode with ``newline=""`` yields them); a row the csv module rejects becomes a reason
    string, and blank lines are no rows."""
    pending: deque[list[str]] = deque()
    starts = [True]  # whether the next line the csv module asks for begins a record

    def feed() -> Iterator[str]:
        for line in lines:
            if starts[0] and len(line) > HUGE_LINE:
                fields = split_line(line, delimiter)
                if fields is not None:
                    pending.append(fields)
                    line = _STAND_IN + "\n"
            starts[0] = False
            yield line

    reader = csv.reader(feed(), delimiter=delimiter)
    while True:
        starts[0] = True  # the csv module starts each record on a fresh line
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"unreadable CSV row: {exc}"
            continue
        if pending and fields == [_STAND_IN]:
            yield pending.popleft()
        elif fields:
            yield fields


def format_row(cells: list[str], delimiter: str = ",") -> str:
    """One CSV line as ``csv.writer`` writes it (minimal quoting, ``\\n`` line end), without
    its buffer of four bytes a character: for the rare row with a huge cell."""
    if cells == [""]:
        return '""\n'
    quoted = (
        '"' + cell.replace('"', '""') + '"'
        if delimiter in cell or '"' in cell or "\n" in cell  # what csv.writer quotes
        else cell
        for cell in cells
    )
    return delimiter.join(quoted) + "\n"
