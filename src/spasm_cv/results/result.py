"""``Result``: a recording's events, episodes and signals as pandas DataFrames.

What :func:`spasm_cv.load` returns for a result folder, and what
``spasm_cv.analyze_video(...).result`` gives straight from an analysis (``write=False``
included): the same object, the same DataFrames.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spasm_cv.results.files import read_track
from spasm_cv.results.recording import Recording
from spasm_cv.results.review import label_of

if TYPE_CHECKING:  # pandas is imported on first use, so `import spasm_cv` stays light
    import pandas as pd


class Result:
    """An analysed recording as pandas DataFrames.

    Parameters
    ----------
    recording : Recording
        The recording (from a result folder, an analysis in memory or a monitor session).

    Attributes
    ----------
    events : DataFrame
        One row per event, the columns of events.tsv (times in s from the start of the
        recording; n/a as <NA>; yes/no columns as ``boolean``), and ``reviewed``: what a
        reviewer decided (review.tsv) about each one-sided eye episode: ``accepted``,
        ``rejected``, ``unsure``, ``added`` or ``not reviewed`` (``n/a`` for other events).
    episodes : DataFrame
        The one-sided eye episodes the headline counts (rows of ``events``).
    signals : DataFrame
        One row per frame, indexed by ``time`` (s); ``.attrs`` holds ``fps`` and the
        recording's metadata (:attr:`attrs`). Read from signals.csv.gz on first use.
    summary : dict
        summary.json (typed: ``recording.summary``).
    headline : dict
        The headline numbers flat (a row of ``spasm-cv export --format csv``'s recordings.csv).
    start : datetime or None
        When the recording started (UTC), if known.
    recording : Recording
        The underlying :class:`~spasm_cv.results.recording.Recording`.

    Examples
    --------
    >>> import spasm_cv
    >>> result = spasm_cv.load("sample_phantom.spasm-cv")
    >>> result.episodes.groupby("side").size().to_dict()
    {'right': 8}
    >>> result.signals.attrs["fps"]
    25.0
    """

    def __init__(self, recording: Recording):
        self.recording = recording
        self.path = Path(recording.path) if recording.path else None
        self.summary: dict = recording.summary.to_dict()
        self.start: datetime | None = recording.start

    @property
    def name(self) -> str:
        """The recording's name (the video's file name, or the monitor session)."""
        return self.recording.name

    @property
    def attrs(self) -> dict:
        """Metadata the DataFrames carry in ``.attrs``: fps, name, start, duration, ..."""
        s = self.recording.summary
        return {
            "fps": s.fps,
            "name": self.name,
            "start": self.start.isoformat() if self.start else None,
            "duration_s": s.duration_s,
            "observed_s": s.observed_s,
            "mirrored": s.input.get("mirrored"),
            "source": self.recording.source,
            "software_version": s.software.get("version"),
            "schema_version": s.schema_version,
        }

    @cached_property
    def events(self) -> pd.DataFrame:
        import pandas as pd

        from spasm_cv.results.frames import events_frame

        events = self.recording.events
        df = events_frame(events)
        labels = self.recording.review_labels()
        df["reviewed"] = pd.array([label_of(labels, e) for e in events], dtype="string")
        df.attrs.update(self.attrs)
        return df

    @cached_property
    def episodes(self) -> pd.DataFrame:
        keep = np.array([e.is_episode for e in self.recording.events], dtype=bool)
        df = self.events.loc[keep].reset_index(drop=True)
        df.attrs.update(self.attrs)
        return df

    @cached_property
    def signals(self) -> pd.DataFrame:
        from spasm_cv.results.frames import signals_frame

        if self.recording.track is None:
            if self.path is None or self.recording.source != "analyze":
                raise ValueError(f"{self.name} has no per-frame signals")
            self.recording.track = read_track(self.path)
        attrs = self.attrs
        return signals_frame(self.recording.track.to_table(), fps=attrs.pop("fps"), attrs=attrs)

    @cached_property
    def headline(self) -> dict:
        return self.recording.headline()

    def __repr__(self) -> str:
        return (
            f"Result({self.name!r}, {len(self.episodes)} episodes in "
            f"{self.recording.summary.observed_s:.1f} s observed)"
        )
