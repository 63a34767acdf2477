"""Fixed time segments of a recording: the face tracker starts afresh at each one.

MediaPipe's landmarker carries state from frame to frame (the face region comes from the
previous frame's landmarks), so a frame's landmarks depend on where tracking started. The
tracker therefore restarts at every segment boundary in every mode: a serial run, each
parallel worker and the live monitor. A segment's landmarks then depend on its own frames
only, so ``--jobs N`` reproduces the serial run bit for bit whatever N is. Boundaries do
not depend on the number of workers, only on ``SegmentParams.segment_s`` and the frame rate.

Detection runs once, on the whole stitched signal, so no episode or baseline is cut at a
boundary; the only trace of a boundary is the tracker's fresh start (the face found anew by
the detector on the boundary's first frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SegmentParams:
    """How a recording is cut for landmarking.

    ``segment_s``: seconds between tracker restarts; also the unit of work of a parallel
    worker. Short enough that a one-minute clip keeps two cores busy, long enough that the
    restarts cost little (a fresh landmarker takes tens of milliseconds, a segment several
    seconds of inference).
    """

    segment_s: float = 10.0

    def __post_init__(self):
        if not (math.isfinite(self.segment_s) and self.segment_s > 0):
            raise ValueError(f"segment_s must be a positive number of seconds: {self}")


DEFAULT_SEGMENTS = SegmentParams()


def _frames_per_segment(segment_s: float, fps: float) -> int:
    return max(round(segment_s * fps), 1)


def segment_index(time_s: float, segment_s: float, fps: float | None = None) -> int:
    """Number of the segment a frame at ``time_s`` belongs to.

    With a known frame rate, segments hold ``round(segment_s * fps)`` frames each, counted
    from the frame number nearest ``time_s * fps`` (robust to container-time jitter);
    otherwise they are ``segment_s`` long in time.
    """
    if fps and fps > 0:
        return int(math.floor(time_s * fps + 0.5)) // _frames_per_segment(segment_s, fps)
    return int(math.floor((time_s + 1e-9) / segment_s))


@dataclass(frozen=True)
class Segment:
    """Segment number ``index`` of a recording cut by ``params`` at frame rate ``fps``."""

    index: int
    params: SegmentParams
    fps: float | None = None
    last: bool = False  # the recording's last segment: open-ended, in case it runs long

    @property
    def start_s(self) -> float:
        """Where decoding starts: a bit before the segment's first frame."""
        if self.index == 0:
            return 0.0
        if self.fps and self.fps > 0:
            first = self.index * _frames_per_segment(self.params.segment_s, self.fps)
            return (first - 0.5) / self.fps
        return self.index * self.params.segment_s - 1e-6

    def keeps(self, time_s: float) -> bool:
        """Whether a frame at ``time_s`` belongs to this segment (the tracker's own rule)."""
        k = segment_index(time_s, self.params.segment_s, self.fps)
        return k == self.index or (self.last and k > self.index)

    def after(self, time_s: float) -> bool:
        """Whether a frame at ``time_s`` comes after this segment (decoding can stop)."""
        return not self.last and segment_index(time_s, self.params.segment_s, self.fps) > self.index


def plan_segments(
    duration_s: float, fps: float | None = None, params: SegmentParams | None = None
) -> list[Segment]:
    """The segments of a recording of ``duration_s`` seconds (estimated; the last segment is
    open-ended, so an estimate that is short loses nothing). One segment when the duration
    is unknown."""
    p = params or SegmentParams()
    if not math.isfinite(duration_s) or duration_s <= 0:
        return [Segment(0, p, fps, last=True)]
    last_time = max(duration_s - (1.0 / fps if fps and fps > 0 else 1e-3), 0.0)  # last frame
    n = segment_index(last_time, p.segment_s, fps) + 1
    return [Segment(k, p, fps, last=k == n - 1) for k in range(n)]
