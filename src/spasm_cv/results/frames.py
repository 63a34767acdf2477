"""A recording's events and signals as pandas DataFrames (pandas imported on first use).

Column names follow events.tsv (BIDS) and signals.csv.gz; ``n/a`` becomes ``<NA>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from spasm_cv.events.table import EVENT_FIELDS, FIELD_TYPES, Event

if TYPE_CHECKING:
    import pandas as pd

# pandas dtype of each events.tsv column, by the Event field's type (nullable dtypes: n/a)
_DTYPES = {"float": "float64", "int": "Int64", "str": "string", "bool": "boolean"}


def events_frame(events: Sequence[Event]) -> pd.DataFrame:
    """All events as a DataFrame with the columns of events.tsv (n/a as <NA>)."""
    import pandas as pd

    rows = {c: [getattr(e, c) for e in events] for c in EVENT_FIELDS}
    return pd.DataFrame(
        {c: pd.array(v, dtype=_DTYPES[FIELD_TYPES[c]]) for c, v in rows.items()}
    )


def signals_frame(table: dict[str, np.ndarray]) -> pd.DataFrame:
    """signals.csv.gz columns (see ``read_signals_table``) as a DataFrame, one row per frame."""
    import pandas as pd

    return pd.DataFrame(table)
