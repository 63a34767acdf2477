"""``Track``: a recording's per-frame data, typed; ``Minutes``: a session's per-minute data.

What the detector measured frame by frame (time, per-side closure, mouth-corner pull, brow
lift, whether each side was measurable, why a frame could not be judged) is one
:class:`Track`, built by every producer (:meth:`Track.from_analysis` for an analysis in
memory, :meth:`Track.from_table` for signals.csv.gz read back) and read by every consumer
(report, review, export, the Python API). signals.csv.gz is only its serialization
(:meth:`Track.to_table`, :mod:`spasm_cv.results.files`).

Quality flags are boolean arrays, one per flag (:data:`QUALITY_FLAGS`); the text form
(``ok``, or flags joined by ``+``, e.g. ``warmup_right+multi_face``) exists only in files.

A monitoring session keeps no frames, only wall-clock minutes: :class:`Minutes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from spasm_cv.events.table import SIDES
from spasm_cv.signals.table import LOST_DTYPE, LOST_FLAGS, SIGNAL_COLUMNS, Signals

if TYPE_CHECKING:
    from spasm_cv.events.activity import Activity

# Why a frame, or one side of it, could not be judged, in the order the text form lists
# them. At most one of LOST_FLAGS and "no_face" per frame (the frame was not observed), else
# at most one reason per side (a covered eye, a side's baselines still warming up, the head
# turned too far), and "multi_face".
SIDE_FLAGS = ("occluded", "warmup", "pose")
QUALITY_FLAGS: tuple[str, ...] = (
    *LOST_FLAGS,
    "no_face",
    *(f"{reason}_{side}" for side in SIDES for reason in SIDE_FLAGS),
    "multi_face",
)
OK = "ok"  # the text form of a frame without any flag

# The per-side traces the detector compares, by the name of their signals.csv.gz columns
TRACES = ("closure", "mouth_pull", "brow_lift")


def _sided(make) -> dict[str, np.ndarray]:
    return {s: make(s) for s in SIDES}


@dataclass(frozen=True, eq=False)
class Track:
    """Per-frame data of one recording: what was measured and whether it could be judged.

    Attributes
    ----------
    time : ndarray of float
        Seconds from the start of the recording, one value per frame (non-decreasing).
    n_faces : ndarray of int
        Faces found in the frame.
    flags : dict of str to ndarray of bool
        One array per quality flag present (:data:`QUALITY_FLAGS` in their order; a flag
        written by a newer spasm-cv after them). A flag absent from the dict is False
        everywhere: use :meth:`flag`.
    measurable : dict of str to ndarray of bool
        Per side (``right``/``left``, the patient's): the side could be judged (face found,
        eye not covered, baselines ready, head within range).
    closure : dict of str to ndarray of float
        Per side: eyelid closure relative to that eye's open baseline (0 open, 1 shut; NaN
        where not measured).
    mouth_pull, brow_lift : dict of str to ndarray of float
        Per side: mouth corner pulled up/outwards and brow raised from their own baselines,
        in inter-ocular distances (IOD).
    raw : dict of str to ndarray of float
        The landmark stage's measurements (:data:`~spasm_cv.signals.table.SIGNAL_COLUMNS`;
        a folder written before a column existed lacks it: :meth:`raw_column` gives NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from spasm_cv.results.track import Track
    >>> table = {"time": np.array([0.0, 0.04]), "quality": np.array(["ok", "no_face"]),
    ...          "n_faces": np.array([1.0, 0.0]), "measurable_right": np.array([1.0, 0.0]),
    ...          "measurable_left": np.array([1.0, 0.0])}
    >>> track = Track.from_table(table)
    >>> track.face.tolist(), track.observed.tolist(), track.quality().tolist()
    ([True, False], [True, False], ['ok', 'no_face'])
    """

    time: np.ndarray
    n_faces: np.ndarray
    flags: dict[str, np.ndarray]
    measurable: dict[str, np.ndarray]
    closure: dict[str, np.ndarray]
    mouth_pull: dict[str, np.ndarray]
    brow_lift: dict[str, np.ndarray]
    raw: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time)

    # -- producers -------------------------------------------------------------------

    @classmethod
    def from_analysis(cls, signals: Signals, activity: Activity) -> Track:
        """The track of an analysis in memory: the landmark stage's ``signals`` and what the
        detector's activity stage made of them (full precision)."""
        lost = np.asarray(signals.lost)
        seen = np.asarray(signals.face, bool) & (lost == "")  # a frame with a face to judge
        flags = {flag: lost == flag for flag in LOST_FLAGS}
        flags["no_face"] = (lost == "") & ~np.asarray(signals.face, bool)
        for side in SIDES:
            occluded = seen & np.asarray(activity.occluded[side], bool)
            warmup = seen & ~occluded & np.asarray(activity.warming_up[side], bool)
            pose = seen & ~occluded & ~warmup & ~np.asarray(activity.measurable[side], bool)
            flags.update({f"occluded_{side}": occluded, f"warmup_{side}": warmup,
                          f"pose_{side}": pose})  # fmt: skip
        n_faces = np.asarray(signals.n_faces)
        flags["multi_face"] = seen & (n_faces > 1)
        return cls(
            time=np.asarray(signals.time, float),
            n_faces=n_faces,
            flags={f: flags[f] for f in QUALITY_FLAGS},
            measurable=_sided(lambda s: np.asarray(activity.measurable[s], bool)),
            closure=_sided(lambda s: np.asarray(activity.closure[s], float)),
            mouth_pull=_sided(lambda s: np.asarray(activity.mouth[s], float)),
            brow_lift=_sided(lambda s: np.asarray(activity.brow[s], float)),
            raw={c: signals.columns[c] for c in SIGNAL_COLUMNS},
        )

    @classmethod
    def from_table(cls, table: Mapping[str, np.ndarray]) -> Track:
        """The track of signals.csv.gz's columns (as
        :func:`~spasm_cv.results.files.read_signals_table` reads and checks them).

        A column a folder lacks (written before it existed) reads as unmeasured: NaN, or
        not measurable.
        """
        time = np.asarray(table["time"], float)
        n = len(time)

        def number(name: str) -> np.ndarray:
            col = table.get(name)
            return np.full(n, np.nan) if col is None else np.asarray(col, float)

        flags = _parse_quality(np.asarray(table["quality"]).astype(str))
        known = set(_TRACK_COLUMNS)
        return cls(
            time=time,
            n_faces=np.nan_to_num(number("n_faces")).astype(np.int16),
            flags=flags,
            measurable=_sided(lambda s: np.nan_to_num(number(f"measurable_{s}")) > 0),
            closure=_sided(lambda s: number(f"closure_{s}")),
            mouth_pull=_sided(lambda s: number(f"mouth_pull_{s}")),
            brow_lift=_sided(lambda s: number(f"brow_lift_{s}")),
            raw={c: np.asarray(v, float) for c, v in table.items() if c not in known},
        )

    # -- what each frame counts as ---------------------------------------------------

    def flag(self, name: str) -> np.ndarray:
        """Frames carrying the quality flag ``name`` (False everywhere if none does)."""
        found = self.flags.get(name)
        return np.zeros(len(self), bool) if found is None else found

    @property
    def lost(self) -> np.ndarray:
        """Per frame, which of :data:`~spasm_cv.signals.table.LOST_FLAGS` the video lost it
        to (``corrupt`` packet, ``frozen`` image), else ``""``."""
        out = np.full(len(self), "", dtype=LOST_DTYPE)
        for name in LOST_FLAGS:
            out[self.flag(name)] = name
        return out

    @property
    def face(self) -> np.ndarray:
        """Frames with a face found (not lost, not ``no_face``)."""
        gone = self.flag("no_face").copy()
        for name in LOST_FLAGS:
            gone |= self.flag(name)
        return ~gone

    @property
    def observed(self) -> np.ndarray:
        """Frames observed: both sides measurable (the denominator of every rate)."""
        return self.measurable[SIDES[0]] & self.measurable[SIDES[1]]

    def raw_column(self, name: str) -> np.ndarray:
        """A landmark-stage measurement by name (NaN where the folder lacks it)."""
        col = self.raw.get(name)
        return np.full(len(self), np.nan) if col is None else col

    def quality(self) -> np.ndarray:
        """The text form of each frame's flags: ``ok``, or the flags joined by ``+``."""
        out = np.full(len(self), "", dtype=object)
        for name, on in self.flags.items():
            if on.any():
                out[on] = np.where(out[on] == "", name, out[on] + "+" + name)
        out[out == ""] = OK
        return out.astype(str)

    def spans(self, mask: np.ndarray, step: float | None = None) -> list[tuple[float, float]]:
        """Stretches ``(start s, end s)`` of consecutive frames where ``mask`` holds; the
        last frame of a stretch counts until the next frame (``step``, default the median
        frame interval, after the last frame)."""
        if not len(self) or not np.any(mask):
            return []
        if step is None:
            step = float(np.median(np.diff(self.time))) if len(self) > 1 else 0.0
        edges = np.diff(np.concatenate(([0], np.asarray(mask, np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        out = []
        for a, b in zip(starts, ends, strict=True):
            end = self.time[b] if b < len(self) else self.time[-1] + step
            out.append((float(self.time[a]), float(end)))
        return out

    # -- serialization ---------------------------------------------------------------

    def to_table(self) -> dict[str, np.ndarray]:
        """The columns of signals.csv.gz: time, quality, faces, measurable and the traces
        per side, then the landmark stage's measurements."""
        table: dict[str, np.ndarray] = {
            "time": self.time,
            "quality": self.quality(),
            "n_faces": self.n_faces,
        }
        for s in SIDES:
            table[f"measurable_{s}"] = self.measurable[s].astype(int)
        for s in SIDES:
            for name in TRACES:
                table[f"{name}_{s}"] = getattr(self, name)[s]
        table.update(self.raw)
        return table

    def to_signals(self, fps: float | None = None) -> Signals:
        """The landmark stage's :class:`~spasm_cv.signals.table.Signals`, to run detection
        again without MediaPipe (measurements as saved)."""
        return Signals(
            time=self.time,
            face=self.face,
            n_faces=self.n_faces,
            columns={c: self.raw_column(c) for c in SIGNAL_COLUMNS},
            meta={"fps": fps},
            lost=self.lost,
        )


_TRACK_COLUMNS = (
    "time", "quality", "n_faces",
    *(f"measurable_{s}" for s in SIDES),
    *(f"{name}_{s}" for s in SIDES for name in TRACES),
)  # fmt: skip


def _parse_quality(text: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean arrays of the flags in quality texts (each distinct text split once)."""
    values, index = np.unique(text, return_inverse=True)
    found: dict[str, np.ndarray] = {}
    for k, value in enumerate(values):
        if value == OK:
            continue
        for name in str(value).split("+"):
            found.setdefault(name, np.zeros(len(values), bool))[k] = True
    order = [f for f in QUALITY_FLAGS if f in found] + [f for f in found if f not in QUALITY_FLAGS]
    return {f: found[f][index] for f in order}


@dataclass(frozen=True, eq=False)
class Minutes:
    """Per-minute aggregates of a monitoring session (one value per wall-clock minute).

    Attributes
    ----------
    start : ndarray of datetime
        Each minute's start (aware, UTC).
    observed_s : ndarray of float
        Seconds observed (both sides measurable) in the minute: the denominator of rates.
    columns : dict of str to ndarray of float
        The other columns of the monitor's ``minutes`` table (``episodes``, ``blinks``,
        ``measured_s_right``, ...) and ``closed_fraction_<side>``.
    """

    start: np.ndarray
    observed_s: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.start)

    def shifted(self, by) -> Minutes:
        """The same minutes with their clock times moved by ``by`` (a timedelta)."""
        start = np.array([t + by for t in self.start], dtype=object)
        return Minutes(start=start, observed_s=self.observed_s, columns=dict(self.columns))

    def observed_by_start(self) -> list[tuple[datetime, float]]:
        """``(minute start, seconds observed)`` per minute."""
        return [(t, float(s)) for t, s in zip(self.start, self.observed_s, strict=True)]
