"""``spasm_cv.load``: a result folder as pandas DataFrames, for analysis in Python.

>>> import spasm_cv
>>> result = spasm_cv.load("sample_phantom.spasm-cv")  # doctest: +SKIP
>>> result.episodes.groupby(["side", "kind"]).size()  # doctest: +SKIP
>>> result.signals.plot(x="time", y=["closure_right", "closure_left"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spasm_cv.results.files import read_signals_table
from spasm_cv.results.recording import Recording

if TYPE_CHECKING:  # pandas is imported on first use, so `import spasm_cv` stays light
    import pandas as pd


class Result:
    """An analysed recording (a result folder of ``spasm-cv analyze``).

    Attributes
    ----------
    events : DataFrame, one row per event, the columns of events.tsv (times in s from the
        start of the video; n/a as <NA>).
    episodes : DataFrame, the one-sided eye episodes the headline counts.
    signals : DataFrame, one row per frame (signals.csv.gz; read on first use).
    summary : dict, summary.json (typed: ``recording.summary``).
    headline : dict, the headline numbers flat (as in ``spasm-cv export --format csv``).
    start : datetime (UTC) the recording started, or None.
    recording : the :class:`~spasm_cv.results.recording.Recording` (for ``render_report``).
    """

    def __init__(self, recording: Recording):
        self.recording = recording
        self.path = Path(recording.path) if recording.path else None
        self.summary: dict = recording.summary.to_dict()
        self.start: datetime | None = recording.start

    @cached_property
    def events(self) -> pd.DataFrame:
        from spasm_cv.results.frames import events_frame

        return events_frame(self.recording.events)

    @property
    def name(self) -> str:
        return self.recording.name

    @cached_property
    def episodes(self) -> pd.DataFrame:
        ev = self.events
        keep = np.array([e.is_episode for e in self.recording.events], dtype=bool)
        return ev.loc[keep].reset_index(drop=True)

    @cached_property
    def signals(self) -> pd.DataFrame:
        from spasm_cv.results.frames import signals_frame

        if self.recording.signals is None:
            if self.path is None:
                raise ValueError(f"{self.name} has no per-frame signals")
            self.recording.signals = read_signals_table(self.path)
        return signals_frame(self.recording.signals)

    @cached_property
    def headline(self) -> dict:
        return self.recording.headline()

    def __repr__(self) -> str:
        return (
            f"Result({self.name!r}, {len(self.episodes)} episodes in "
            f"{self.recording.summary.observed_s:.1f} s observed)"
        )


def load(result_dir: str | os.PathLike) -> Result:
    """Load a result folder; SpasmCvError (one clear line) if it is missing or damaged.

    Parameters
    ----------
    result_dir : path
        A result folder written by ``spasm-cv analyze`` (or ``analyze_video``).

    Returns
    -------
    Result
        Its events, episodes and (read on first use) signals as DataFrames, and its summary.
    """
    return Result(Recording.from_folder(result_dir, with_signals=False))
