"""``review_video`` and ``review_episodes``: annotated copies of an analysed video.

Both re-read the video after the analysis (``analyze`` never writes video, so it is never
slowed by it), run the face tracker again only for the eye contours, and take everything
else from the result folder. Output goes through :mod:`spasm_cv.results.atomic`: a file or
folder under its final name is complete, and nothing that exists is overwritten.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.detect import detect
from spasm_cv.events.episodes import near_misses
from spasm_cv.events.table import Event
from spasm_cv.landmarks.observe import observe
from spasm_cv.landmarks.tracker import FaceTracker
from spasm_cv.results.atomic import atomic_folder
from spasm_cv.results.outputs import check_output_file
from spasm_cv.results.review import events_sha256
from spasm_cv.review.overlay import (
    FrameState,
    Layout,
    Timeline,
    display_scale,
    draw_frame,
    layout,
)
from spasm_cv.review.source import ReviewSource, contours, open_review
from spasm_cv.review.writer import VideoWriter
from spasm_cv.video.reader import prefetch, read_frames
from spasm_cv.video.segments import SegmentParams

CONTEXT_S = 1.0  # seconds of video before and after each episode in its clip


@dataclass(frozen=True)
class Clip:
    """One episode's clip: the event, its window (s), its file name and frames written."""

    number: int
    event: Event
    start_s: float
    end_s: float
    file: str
    frames: int
    role: str = "episode"  # or "near_miss": a moment the detector rejected but came close


@dataclass(frozen=True)
class ReviewOutput:
    """What a review wrote: the video (or folder with the index page), frames, codec."""

    path: Path
    frames: int
    fps: float
    codec: str
    clips: tuple[Clip, ...] = ()


def _refuse_existing(path: Path) -> None:
    """Refuse an existing ``--out`` (review writes only new outputs) and one that cannot
    be written (a read-only or missing place): one line, before any work."""
    if path.exists() or path.is_symlink():
        raise SpasmCvError(
            f"{path} already exists: review never overwrites a file; choose another --out"
        )
    check_output_file(path, what="--out")  # a place that cannot take it: one line now


def _progress(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total or None, unit="frame", desc=desc, disable=not enabled,
                file=sys.stderr, dynamic_ncols=True, leave=False)  # fmt: skip


def _tracker(src: ReviewSource, model_path, restart_grid: bool) -> FaceTracker:
    restart = src.recording.summary.quality.get("tracker_restart_s")
    segments = SegmentParams(float(restart)) if restart_grid and restart else None
    return FaceTracker(model_path, segments=segments, fps=src.info.fps or None)


def _frames(src: ReviewSource, lay: Layout, timeline: Timeline, frames, tracker, n_frames: int,
            note: str = ""):  # fmt: skip
    """Annotated review frames for decoded ``frames`` (an iterator of video frames)."""
    w, h = lay.frame
    spasm_count = len(src.spasms)
    for o in observe(prefetch(frames), tracker):
        row = src.row(o.time_s)
        rgb = o.rgb
        if rgb.shape[1] != w:  # a small video, shown enlarged
            rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR)
        state = FrameState(
            time_s=o.time_s,
            index=int(round(o.time_s * src.fps)),
            n_frames=n_frames,
            closure=src.closure(row),
            contours=contours(o.face, w, h),
            events=src.events_at(o.time_s),
            status=src.status(row),
            closure_on=src.closure_on,
            episode_numbers=src.numbers,
            n_episodes=spasm_count,
            note=note,
        )
        yield draw_frame(rgb, lay, state, timeline)


def review_video(
    result: str | os.PathLike,
    out: str | os.PathLike,
    *,
    video: str | os.PathLike | None = None,
    model_path: str | os.PathLike | None = None,
    progress: bool = False,
) -> ReviewOutput:
    """Write an annotated copy of the analysed video of ``result`` to ``out`` (MP4).

    Every frame of the video is written once, at the video's frame rate, with the eye
    contours, per-side closure bars, the current event and a timeline strip (see
    :mod:`spasm_cv.review.overlay`).

    Parameters
    ----------
    result : path-like
        A result folder of ``spasm-cv analyze``.
    out : path-like
        The MP4 to write; it must not exist.
    video : path-like, optional
        The analysed video, if it has moved since the analysis.
    model_path : path-like, optional
        The face landmarker model (default: bundled).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    ReviewOutput
        The file written, its frame count and rate, and the codec used.
    """
    out = Path(out)
    _refuse_existing(out)
    src = open_review(result, video)
    if src.video.resolve() == out.resolve():
        raise SpasmCvError("--out names the analysed video itself: choose another file")
    lay = review_layout(src)
    timeline = Timeline(lay, 0.0, src.duration_s, src.recording.events, src.unobserved())
    note = "mirrored recording, shown unmirrored" if src.mirrored else ""
    out.parent.mkdir(parents=True, exist_ok=True)
    frames = read_frames(src.video, mirrored=src.mirrored)
    with (
        VideoWriter(out, src.fps, lay.size) as writer,
        _tracker(src, model_path, restart_grid=True) as tracker,
        _progress(src.info.n_frames, progress, "review") as bar,
    ):
        for img in _frames(src, lay, timeline, frames, tracker, src.info.n_frames, note):
            writer.write(img)
            bar.update(1)
    return ReviewOutput(writer.path, writer.frames, src.fps, writer.codec)


def review_layout(src: ReviewSource) -> Layout:
    """The layout of review frames of ``src``: small videos are shown enlarged."""
    k = display_scale(src.info.width)
    return layout(src.info.width * k, src.info.height * k)


def clip_name(number: int, e: Event, prefix: str = "ep") -> str:
    """``ep03_0m32.4s_right_tonic.mp4`` (``prefix`` ``nm``: a near miss).

    The side and kind come from events.tsv, which anyone may have edited: only letters,
    digits, ``+`` and ``-`` of them go into the name (no ``/``, no ``..``).
    """
    m, s = divmod(e.onset, 60)
    what = e.kind if e.involves_eye and e.kind else "mouth-only"
    side, what = (re.sub(r"[^A-Za-z0-9+-]+", "-", str(t))[:24] for t in (e.side, what))
    return f"{prefix}{number:02d}_{int(m)}m{s:04.1f}s_{side}_{what}.mp4"


def review_episodes(
    result: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    video: str | os.PathLike | None = None,
    model_path: str | os.PathLike | None = None,
    progress: bool = False,
    context_s: float = CONTEXT_S,
    near: int | None = None,
) -> ReviewOutput:
    """Write one annotated clip per one-sided episode and an index page to ``out_dir``.

    Each clip spans the episode with ``context_s`` seconds of video before and after (within
    the recording); its timeline strip shows that window with the episode outlined. The
    index page (``index.html``, self-contained: no network, no script or style from
    elsewhere) plays each clip beside a plot of its signals, with a cursor that follows the
    video (:mod:`spasm_cv.review.page`).

    Parameters
    ----------
    result, video, model_path, progress : as for :func:`review_video`.
    out_dir : path-like
        The folder to write; it must not exist (written under a temporary name, then
        renamed into place).
    context_s : float
        Seconds of context before and after each episode.
    near : int, optional
        For ``review --serve``: also clips of up to ``near`` near misses
        (:func:`near_miss_events`: moments the detector rejected but came close), for a
        screening pass; they are listed in ``clips.json``, not on the index page.

    Notes
    -----
    ``clips.json`` lists every clip (file, window, role ``episode`` or ``near_miss``, the
    event's row in events.tsv) and the checksum of the events.tsv they were cut for.
    """
    from spasm_cv.review.page import index_page

    out_dir = Path(out_dir)
    _refuse_existing(out_dir)
    src = open_review(result, video)
    lay = review_layout(src)
    end = src.duration_s
    windows = [
        (n, e, max(0.0, e.onset - context_s), min(end, e.end + context_s), "ep")
        for n, e in enumerate(src.spasms, 1)
    ]
    windows += [
        (n, e, max(0.0, e.onset - context_s), min(end, e.end + context_s), "nm")
        for n, e in enumerate(near_miss_events(src, near) if near else [], 1)
    ]
    total = int(sum((b - a) * src.fps for _, _, a, b, _ in windows))
    clips: list[Clip] = []
    codec = ""
    with atomic_folder(out_dir) as done, _progress(total, progress, "review clips") as bar:
        tmp = done.tmp
        (tmp / "clips").mkdir()
        for n, e, a, b, prefix in windows:
            timeline = Timeline(lay, a, b, src.recording.events, src.unobserved(), highlight=e)
            frames = read_frames(src.video, mirrored=src.mirrored, start_s=a, end_s=b)
            name = clip_name(n, e, prefix)
            what = "episode" if prefix == "ep" else "near miss"
            note = f"clip of {what} {n}, {context_s:g} s either side"
            with (
                VideoWriter(tmp / "clips" / name, src.fps, lay.size) as writer,
                _tracker(src, model_path, restart_grid=False) as tracker,
            ):
                for img in _frames(src, lay, timeline, frames, tracker, src.info.n_frames, note):
                    writer.write(img)
                    bar.update(1)
            codec = writer.codec or codec
            clips.append(Clip(n, e, a, b, f"clips/{name}", writer.frames,
                              "episode" if prefix == "ep" else "near_miss"))  # fmt: skip
        episodes = [c for c in clips if c.role == "episode"]
        (tmp / "index.html").write_text(index_page(src, episodes, codec, context_s), "utf-8")
        if near is not None:
            (tmp / MANIFEST).write_text(manifest(src, clips, codec), "utf-8")
    return ReviewOutput(done.path, sum(c.frames for c in clips), src.fps, codec, tuple(clips))


MANIFEST = "clips.json"


def near_miss_events(src: ReviewSource, n: int) -> list[Event]:
    """Up to ``n`` near misses of ``src``'s recording: one-sided candidates the detector
    rejected with the highest confidence (:func:`~spasm_cv.events.episodes.near_misses`,
    detection run again on the saved signals with the recorded parameters), leaving out
    any that overlaps a one-sided event of events.tsv."""
    rec = src.recording
    signals = rec.track.to_signals(rec.summary.fps)
    detection = detect(signals, rec.summary.params.detection_params())
    found = [e for e in rec.events if e.is_one_sided]
    misses = near_misses(detection.activity, detection.fps, detection.params, n + len(found))
    clear = [
        m
        for m in misses
        if not any(e.side == m.side and e.onset < m.end and m.onset < e.end for e in found)
    ]
    return sorted(sorted(clear, key=lambda e: -e.confidence)[:n], key=lambda e: e.onset)


def manifest(src: ReviewSource, clips: Sequence[Clip], codec: str) -> str:
    """``clips.json``: the clips, their windows and roles, for ``review --serve``."""
    rows = {id(e): i for i, e in enumerate(src.recording.events, 1)}
    return (
        json.dumps(
            {
                "events_sha256": events_sha256(src.recording.path),
                "codec": codec,
                "clips": [
                    {
                        "number": c.number,
                        "role": c.role,
                        "file": c.file,
                        "start_s": c.start_s,
                        "end_s": c.end_s,
                        "frames": c.frames,
                        "event": f"e{rows[id(c.event)]}" if id(c.event) in rows else None,
                        "onset": c.event.onset,
                        "duration": c.event.duration,
                        "side": c.event.side,
                        "kind": c.event.kind,
                        "regions": c.event.regions,
                        "confidence": c.event.confidence,
                    }
                    for c in clips
                ],
            },
            indent=1,
        )
        + "\n"
    )
