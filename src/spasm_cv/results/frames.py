"""A recording's events and signals as pandas DataFrames (pandas imported on first use).

Column names follow events.tsv (BIDS) and signals.csv.gz; ``n/a`` becomes ``<NA>``. Dtypes
are pandas' nullable ones, so a missing value stays missing: ``float64`` (NaN), ``Int64``,
``string`` and ``boolean``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from spasm_cv.events.table import EVENT_FIELDS, FIELD_TYPES, SIDES, Event

if TYPE_CHECKING:
    import pandas as pd

# pandas dtype of each events.tsv column, by the Event field's type (nullable dtypes: n/a)
_DTYPES = {"float": "float64", "int": "Int64", "str": "string", "bool": "boolean"}
EVENT_DTYPES: dict[str, str] = {c: _DTYPES[FIELD_TYPES[c]] for c in EVENT_FIELDS}

# per-frame columns holding yes/no (written 1/0 in signals.csv.gz), and whole numbers
BOOLEAN_SIGNALS: tuple[str, ...] = tuple(f"measurable_{s}" for s in SIDES)
INTEGER_SIGNALS: tuple[str, ...] = ("n_faces",)
TEXT_SIGNALS: tuple[str, ...] = ("quality",)


def signal_dtype(column: str) -> str:
    """The pandas dtype of a per-frame column: ``boolean``, ``Int64``, ``string``, ``float64``.

    Parameters
    ----------
    column : str
        A column of signals.csv.gz (``time`` included).

    Returns
    -------
    str
        Its dtype name in :func:`signals_frame` (every column not named otherwise is a
        ``float64`` measurement, so new signal columns need no entry here).

    Examples
    --------
    >>> signal_dtype("measurable_right"), signal_dtype("closure_right")
    ('boolean', 'float64')
    """
    if column in BOOLEAN_SIGNALS:
        return "boolean"
    if column in INTEGER_SIGNALS:
        return "Int64"
    if column in TEXT_SIGNALS:
        return "string"
    return "float64"


def events_frame(events: Sequence[Event]) -> pd.DataFrame:
    """All events as a DataFrame with the columns of events.tsv (n/a as <NA>).

    Parameters
    ----------
    events : sequence of Event
        Events of one recording (times in seconds from its start).

    Returns
    -------
    DataFrame
        One row per event; dtypes as :data:`EVENT_DTYPES` (``boolean`` for yes/no columns).

    Examples
    --------
    >>> events_frame([]).columns[:3].tolist()
    ['onset', 'duration', 'trial_type']
    """
    import pandas as pd

    rows = {c: [getattr(e, c) for e in events] for c in EVENT_FIELDS}
    return pd.DataFrame({c: pd.array(v, dtype=EVENT_DTYPES[c]) for c, v in rows.items()})


def signals_frame(
    table: Mapping[str, np.ndarray], fps: float | None = None, attrs: Mapping | None = None
) -> pd.DataFrame:
    """Per-frame signals (the columns of signals.csv.gz) as a DataFrame indexed by time.

    Parameters
    ----------
    table : mapping of str to array
        One array per column, one value per frame, with a ``time`` column (s from the start
        of the recording), as :func:`~spasm_cv.results.files.read_signals_table` reads them.
    fps : float, optional
        The recording's nominal frame rate, kept in ``.attrs["fps"]``.
    attrs : mapping, optional
        More metadata for ``.attrs`` (the recording's name, start, ...).

    Returns
    -------
    DataFrame
        Index ``time`` (s, float64), one row per frame; ``quality`` as ``string``,
        ``measurable_*`` as ``boolean``, ``n_faces`` as ``Int64``, every other column
        ``float64`` (NaN where not measured). ``.attrs`` holds ``fps`` and ``attrs``.

    Examples
    --------
    >>> import numpy as np
    >>> df = signals_frame({"time": np.array([0.0, 0.04]), "closure_right": np.array([0.1, 0.2]),
    ...                     "measurable_right": np.array([1, 0])}, fps=25.0)
    >>> df.index.name, df.attrs["fps"], df["measurable_right"].tolist()
    ('time', 25.0, [True, False])
    """
    import pandas as pd

    columns = {}
    for name, values in table.items():
        if name == "time":
            continue
        dtype = signal_dtype(name)
        values = np.asarray(values)
        if dtype in ("boolean", "Int64") and values.dtype.kind == "f":
            values = pd.array(np.where(np.isnan(values), None, values), dtype="object")
        columns[name] = pd.array(values, dtype=dtype)
    index = pd.Index(np.asarray(table["time"], dtype=float), name="time")
    df = pd.DataFrame(columns, index=index)
    df.attrs.update({"fps": fps, **dict(attrs or {})})
    return df
