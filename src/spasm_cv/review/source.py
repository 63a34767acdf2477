"""What a review is made from: a result folder, the video it was made from, and per frame
what the analysis measured there.

Nothing new is stored for a review: closure per eye, quality and events come from the
result folder (signals.csv.gz, events.tsv, summary.json); the eye contours come from the
face tracker run again over the frames shown (:func:`contours`), on the analysis' own
restart grid, so they are the landmarks the analysis saw.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import SIDES, Event
from spasm_cv.landmarks.contours import EYE_CONTOUR
from spasm_cv.landmarks.tracker import FaceObservation
from spasm_cv.results.recording import Recording
from spasm_cv.results.track import Track
from spasm_cv.video.reader import VideoInfo, probe

STATUS = {
    "ok": "observed",
    "no_face": "no face",
    "frozen": "frozen image (not observed)",
    "not_analysed": "not analysed",
}


@dataclass
class ReviewSource:
    """A result folder and its video, ready to be reviewed.

    Attributes
    ----------
    recording : Recording
        The result (with per-frame signals).
    video : Path
        The analysed video file.
    info : VideoInfo
        Its header.
    mirrored : bool
        It was analysed as mirrored (frames are flipped back, as the analysis saw them).
    fps : float
        Frame rate to write (the container's nominal rate, else the analysis').
    closure_on : float
        The detector's closure threshold (drawn on the bars).
    """

    recording: Recording
    video: Path
    info: VideoInfo
    mirrored: bool
    fps: float
    closure_on: float
    _track: Track = field(init=False, repr=False)
    _time: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._track = self.recording.track
        self._time = self._track.time
        eye = sorted(self.spasms, key=lambda e: e.onset)
        self.numbers = {id(e): i for i, e in enumerate(eye, 1)}

    # -- events ----------------------------------------------------------------------

    @property
    def spasms(self) -> list[Event]:
        """One-sided events (eye episodes, possible episodes and mouth-only events), in time
        order."""
        return sorted((e for e in self.recording.events if e.is_one_sided), key=lambda e: e.onset)

    def events_at(self, t: float) -> list[Event]:
        """Events going on at ``t`` (a frame's length of slack): eye episodes first, then
        mouth-only events, then two-sided ones."""
        slack = 0.5 / self.fps
        on = [e for e in self.recording.events if e.onset - slack <= t <= e.end + slack]
        return sorted(on, key=lambda e: (not e.is_episode, not e.is_mouth_only, e.onset))

    # -- signals ---------------------------------------------------------------------

    def row(self, t: float) -> int | None:
        """The signals row of the frame at ``t`` (None: the analysis has no such frame)."""
        if not len(self._time):
            return None
        i = int(np.searchsorted(self._time, t))
        best = min((j for j in (i - 1, i) if 0 <= j < len(self._time)),
                   key=lambda j: abs(self._time[j] - t))  # fmt: skip
        return best if abs(self._time[best] - t) <= 0.5 / self.fps else None

    def closure(self, row: int | None) -> dict[str, float]:
        """Closure per eye at a row (NaN where not measured or not analysed)."""
        if row is None:
            return dict.fromkeys(SIDES, float("nan"))
        return {s: float(self._track.closure[s][row]) for s in SIDES}

    def status(self, row: int | None) -> str:
        """What the frame counts as: ``observed``, ``no face``, ``head turned``, ...."""
        if row is None:
            return STATUS["not_analysed"]
        track = self._track
        for flag in ("no_face", "frozen"):
            if track.flag(flag)[row]:
                return STATUS[flag]
        turned = any(track.flag(f"pose_{s}")[row] for s in SIDES)
        words = "head turned (not observed)" if turned else "observed"
        return words + (", several faces" if track.flag("multi_face")[row] else "")

    def unobserved(self) -> list[tuple[float, float]]:
        """Intervals (s) without both sides measurable, for the timeline."""
        return self._track.spans(~self._track.observed, step=1.0 / self.fps)

    @property
    def duration_s(self) -> float:
        """The analysed duration (s)."""
        d = self.recording.summary.duration_s
        if d:
            return float(d)
        return float(self._time[-1] + 1.0 / self.fps) if len(self._time) else 0.0


def contours(face: FaceObservation | None, width: int, height: int) -> dict:
    """Each eye's contour in pixels (N x 2), or None per side without a face."""
    if face is None:
        return dict.fromkeys(SIDES)
    xy = face.landmarks[:, :2].astype(float) * (width, height)
    return {s: xy[list(EYE_CONTOUR[s])] for s in SIDES}


def open_review(result: str | os.PathLike, video: str | os.PathLike | None = None) -> ReviewSource:
    """A result folder and its video, checked; SpasmCvError naming what is wrong.

    Parameters
    ----------
    result : path-like
        A result folder of ``spasm-cv analyze``.
    video : path-like, optional
        The analysed video, when it is no longer where summary.json says (moved, copied).
        It must be the same file: its size is checked against the one analysed.
    """
    rec = Recording.from_folder(result)
    if rec.track is None:
        raise SpasmCvError(f"{result} has no per-frame signals to review")
    recorded = rec.summary.input
    path = Path(video) if video is not None else None
    if path is None:
        if not recorded.get("path"):
            raise SpasmCvError(f"{result}: summary.json does not say which video; give --video")
        path = Path(recorded["path"])
        if not path.is_file():
            raise SpasmCvError(
                f"the analysed video is no longer at {path}: give --video PATH (the same file)"
            )
    size = recorded.get("size_bytes")
    if path.is_file() and size is not None and path.stat().st_size != size:
        raise SpasmCvError(
            f"{path} is not the video analysed in {result} ({path.stat().st_size} bytes, "
            f"analysed {size}): give the same file with --video"
        )
    info = probe(path)
    fps = info.fps or float(rec.summary.fps or 0.0) or 30.0
    closure_on = float(rec.summary.params.get("closure_on") or 0.30)
    return ReviewSource(rec, path, info, bool(recorded.get("mirrored")), fps, closure_on)
