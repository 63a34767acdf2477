"""Cutting a recording into overlapping time segments that worker processes landmark apart.

Segment ``k`` keeps the frames with ``start_s <= time < end_s``; its worker starts decoding
and landmarking ``warmup_s`` earlier so that the face tracker, which starts afresh in each
segment, has settled by ``start_s``. The warm-up frames are dropped when the segments are
stitched. Every segment carries the same amount of work (kept + warm-up frames).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SegmentParams:
    """How a recording is cut for parallel landmarking (all in seconds).

    ``overlap_s``: warm-up before each segment but the first (the tracker settles within
    ~0.5 s of a fresh start). ``min_segment_s``: no segment is shorter, so recordings under
    twice this run serially. ``max_segment_s``: longer recordings get more segments than
    workers (a multiple of them), which bounds what a worker holds and keeps progress fine.
    """

    overlap_s: float = 1.0
    min_segment_s: float = 10.0
    max_segment_s: float = 600.0

    def __post_init__(self):
        if not (self.overlap_s >= 0 and 0 < self.min_segment_s <= self.max_segment_s):
            raise ValueError(f"inconsistent segment parameters: {self}")


@dataclass(frozen=True)
class Segment:
    """Frames with ``start_s <= time < end_s`` (``end_s`` None: to the end of the video)."""

    start_s: float
    end_s: float | None
    warmup_s: float = 0.0

    @property
    def read_from_s(self) -> float:
        """Where its worker starts decoding, warm-up included."""
        return max(self.start_s - self.warmup_s, 0.0)

    def keeps(self, time_s: float) -> bool:
        """Whether a frame at ``time_s`` belongs to this segment (same test as the reader)."""
        return time_s + 1e-9 >= self.start_s and (self.end_s is None or time_s + 1e-9 < self.end_s)


def plan_segments(
    duration_s: float, jobs: int, params: SegmentParams | None = None, fps: float = 0.0
) -> list[Segment]:
    """Segments for ``jobs`` workers over a recording of ``duration_s`` seconds.

    One segment (a serial run) when ``jobs`` is 1 or the recording is shorter than twice
    ``params.min_segment_s``. Boundaries sit half a frame between frames when ``fps`` is
    known. The last segment is open-ended, so a duration estimate that is short loses nothing.
    """
    p = params or SegmentParams()
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if jobs == 1 or not math.isfinite(duration_s) or duration_s < 2 * p.min_segment_s:
        return [Segment(0.0, None)]
    rounds = math.ceil(duration_s / (jobs * p.max_segment_s))
    n = min(jobs * rounds, int(duration_s // p.min_segment_s))
    work = (duration_s + (n - 1) * p.overlap_s) / n  # frames each worker decodes
    bounds = [work + k * (work - p.overlap_s) for k in range(n - 1)]
    if fps > 0:
        bounds = [(math.floor(b * fps) + 0.5) / fps for b in bounds]
    starts = [0.0, *bounds]
    ends: list[float | None] = [*bounds, None]
    return [
        Segment(s, e, 0.0 if k == 0 else p.overlap_s)
        for k, (s, e) in enumerate(zip(starts, ends, strict=True))
    ]
