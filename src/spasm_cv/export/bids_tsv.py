"""BIDS TSV files spasm-cv adds rows to (``scans.tsv``, ``participants.tsv``), and times.

Rows are added, never removed or changed; columns the user added are kept (``n/a`` in the
new rows). Files are rewritten atomically (:mod:`spasm_cv.results.atomic`).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.results.atomic import write_text_atomic


def acq_time(start: datetime | None) -> str:
    """A recording's start as BIDS ``acq_time`` (UTC, ``YYYY-MM-DDThh:mm:ss[.ffffff]Z``).

    Parameters
    ----------
    start : datetime or None
        When the recording started (aware; naive is taken as UTC).

    Returns
    -------
    str
        The time in UTC, or ``n/a`` if unknown.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> acq_time(datetime(2026, 1, 5, 10, 30, tzinfo=timezone(timedelta(hours=1))))
    '2026-01-05T09:30:00Z'
    """
    if start is None:
        return "n/a"
    utc = (start if start.tzinfo else start.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def read_tsv(path: Path) -> list[dict]:
    """The rows of a BIDS TSV as dicts of text (none if the file does not exist)."""
    if not path.is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpasmCvError(f"cannot read {path}: {exc}") from None


def append_rows(path: Path, columns: list[str], rows: list[dict]) -> Path:
    """Add rows to a BIDS TSV (created with ``columns`` if absent); other columns get n/a."""
    old = read_tsv(path)
    header = columns
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f, delimiter="\t"), columns)
        header = header + [c for c in columns if c not in header]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(header)
    for r in [*old, *rows]:
        w.writerow([r.get(c) if r.get(c) not in (None, "") else "n/a" for c in header])
    return write_text_atomic(path, buf.getvalue(), replace=True)  # under the dataset lock
