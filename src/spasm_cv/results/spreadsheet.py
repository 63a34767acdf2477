"""Text cells that a spreadsheet would run as a formula, neutralised: the one place for it.

A video named ``=cmd|' -C calc'!A0.mp4`` puts that name into every table that lists the
recording; a spreadsheet opening the CSV would read the cell as a formula (CSV injection).
Tables meant for spreadsheets (``export --format csv``: events.csv, recordings.csv; the batch
table batch.tsv) pass their cells through :func:`safe_cell` or :func:`safe_frame`, which
follow OWASP's rule: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading single quote (``'=cmd|...``), which spreadsheets show as text.

Only text is changed: numbers (a negative rate, ``-0.5``) stay numbers. BIDS files
(events.tsv, participants.tsv) are not spreadsheets and stay exact.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["FORMULA_STARTS", "safe_cell", "safe_frame"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would read as a formula.

    Parameters
    ----------
    value : object
        A cell. Only ``str`` values are changed; numbers, booleans and None pass as they are.

    Returns
    -------
    object
        The cell to write.

    Examples
    --------
    >>> safe_cell("=cmd|' -C calc'!A0")
    "'=cmd|' -C calc'!A0"
    >>> safe_cell(-0.5), safe_cell("left")
    (-0.5, 'left')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text columns went through :func:`safe_cell` (numbers kept).

    Parameters
    ----------
    df : pandas.DataFrame
        A table about to be written as CSV for spreadsheets.

    Returns
    -------
    pandas.DataFrame
        The same table, text cells neutralised; numeric and boolean columns untouched.
    """
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_object_dtype(out[c]) or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(safe_cell, na_action="ignore")
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out
