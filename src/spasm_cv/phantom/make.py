"""The whole phantom: read the source, plan episodes, draw them, write video and truth.

1. First pass: a FaceTracker over the source gives per-frame key points, eye closures and
   pose; natural blinks are found and the eyelids of those that close an eye become
   donors.
2. Calibration: each donor (and each blink's best donor at partial opacities) is pasted over
   one eye of open frames and a fresh tracker measures the closure it then perceives
   (:mod:`spasm_cv.phantom.calibrate`).
3. The phantom's frames are the source looped forward-backward; episodes are planned where
   both eyes are open in the source, away from blinks, with peak closures the donors can
   give.
4. Each episode draws from one blink of the source (the best match for its peak and pose);
   each frame takes the rendition whose perceived closure is nearest the envelope's target,
   aligned on lid-independent points and blended over one eye; the same-side mouth corner
   is pulled up and out when the episode involves it.
5. Second pass: a fresh FaceTracker over the written video measures the closure MediaPipe
   perceives on each eye; it goes into the truth table.

Long module: the five steps share the source's frames and the tracker's per-frame results;
split, each would pass them all through.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.phantom.calibrate import calibrate, pick_targets
from spasm_cv.phantom.donors import (
    Rendition,
    choose_family,
    choose_rendition,
    find_donors,
    full_closure,
    partial_renditions,
    require_donors,
)
from spasm_cv.phantom.params import PhantomParams
from spasm_cv.phantom.render import render_frame
from spasm_cv.phantom.schedule import (
    Episode,
    allowed_intervals,
    closure_at,
    mouth_at,
    plan_episodes,
)
from spasm_cv.phantom.source import (
    FaceTrack,
    blink_runs,
    closures,
    open_baseline,
    runs,
    track_video,
)
from spasm_cv.phantom.truth import TruthRow, truth_rows, write_truth
from spasm_cv.signals.geometry import SIDES
from spasm_cv.video.reader import VideoInfo, read_frames
from spasm_cv.video.timing import probe_timing

CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}


@dataclass(frozen=True)
class Phantom:
    """What :func:`make_phantom` wrote and found."""

    video: Path
    truth: Path
    sidecar: Path
    episodes: list[Episode]
    rows: list[TruthRow]
    duration_s: float
    fps: float
    meta: dict


@dataclass
class SourceAnalysis:
    """The first pass over the source and what follows from it."""

    info: VideoInfo
    fps: float
    track: FaceTrack
    baseline: dict[str, float]
    closure: dict[str, np.ndarray]
    blinks: list[tuple[int, int]]  # runs of frames not open (blinks, squints), [start, stop)
    open_frames: np.ndarray  # (n,) bool: face, both eyes open, not in a blink
    frames: list[np.ndarray] | None  # the decoded frames when they fit in memory


def pingpong(n_src: int, n_out: int) -> np.ndarray:
    """Source frame index of each output frame: 0..n-1, n-2..1, 0.. (no repeated ends)."""
    k = np.arange(n_out)
    if n_src <= 1:
        return np.zeros(n_out, dtype=np.int64)
    period = 2 * (n_src - 1)
    k = k % period
    return np.where(k < n_src, k, period - k).astype(np.int64)


def analyse_source(path: str | os.PathLike, params: PhantomParams) -> SourceAnalysis:
    """First pass: landmarks, closures, blinks and open frames of the source video."""
    info, timing = probe_timing(path)
    info = replace(info, fps=timing.fps)  # stills, absurd rates: refused
    frame_bytes = max(info.width * info.height * 3, 1)
    keep: list[np.ndarray] | None = None
    if 0 < info.n_frames * frame_bytes <= params.source.max_cached_bytes:
        keep = []  # small enough to hold in memory (needed to loop it)
    track = track_video(path, info.width, info.height, mirrored=params.mirrored, keep=keep)
    n = len(track)
    if n == 0:
        raise SpasmCvError(f"no frame could be decoded from {path}")
    fps = info.fps
    if not fps > 0:
        fps = 1.0 / float(np.median(np.diff(track.time_s))) if n > 1 else 30.0
    if n / fps < params.source.min_input_s:
        raise SpasmCvError(
            f"input too short: {n / fps:.2f} s ({n} frames); a phantom needs at least "
            f"{params.source.min_input_s:g} s of source video"
        )
    if not track.face.any():
        raise SpasmCvError(f"no face found in {path}")
    baseline = {s: open_baseline(track.aperture[s], track.face) for s in SIDES}
    closure = closures(track.aperture, baseline)
    blinks = blink_runs(closure, params.source.open_max_closure)
    open_frames = track.face.copy()
    for s in SIDES:
        open_frames &= np.nan_to_num(closure[s], nan=1.0) < params.source.open_max_closure
    for a, b in blinks:
        open_frames[a:b] = False
    return SourceAnalysis(info, fps, track, baseline, closure, blinks, open_frames, keep)


def _frames_in_order(
    path: str | os.PathLike, src: SourceAnalysis, order: np.ndarray, mirrored: bool
) -> Iterator[np.ndarray]:
    """Source frames (RGB) in the order of ``order`` (indices into the source)."""
    if src.frames is not None:
        for i in order:
            yield src.frames[i]
        return
    want = iter(order)
    nxt = next(want, None)
    for frame in read_frames(path, mirrored=mirrored):
        while nxt is not None and nxt == frame.index:
            yield frame.rgb
            nxt = next(want, None)
        if nxt is None:
            return


def _load_frames(
    path: str | os.PathLike, src: SourceAnalysis, indices: set[int], mirrored: bool
) -> dict[int, np.ndarray]:
    if src.frames is not None:
        return {i: src.frames[i] for i in indices}
    out = {}
    for frame in read_frames(path, mirrored=mirrored):
        if frame.index in indices:
            out[frame.index] = frame.rgb
    return out


def _open_writer(path: Path, fps: float, width: int, height: int) -> cv2.VideoWriter:
    codec = CODECS.get(path.suffix.lower())
    if codec is None:
        raise SpasmCvError(f"unsupported output type {path.suffix or '(none)'}: use .mp4 (or .avi)")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (width, height))
    if not writer.isOpened():
        raise SpasmCvError(f"cannot write video {path} with codec {codec}")
    return writer


def _natural_blinks_out(
    src: SourceAnalysis, order: np.ndarray, fps: float, peak: float
) -> list[float]:
    """Onsets (s) in the phantom of the source's natural blinks (runs closing >= ``peak``)."""
    in_blink = np.zeros(len(src.track), dtype=bool)
    both = np.fmax(src.closure["right"], src.closure["left"])
    for a, b in src.blinks:
        if np.nanmax(both[a:b], initial=0.0) >= peak:
            in_blink[a:b] = True
    return [round(a / fps, 3) for a, _ in runs(in_blink[order])]


def prepare_renditions(
    source: str | os.PathLike, src: SourceAnalysis, sides: tuple[str, ...], params: PhantomParams
) -> tuple[dict[str, list[Rendition]], dict[int, np.ndarray]]:
    """Donors of each side, calibrated (see :mod:`spasm_cv.phantom.calibrate`).

    Returns the renditions per side and the source frames they and the calibration use.
    """
    donors = {
        s: find_donors(src.closure, src.track.pose, src.blinks, s, params.source) for s in sides
    }
    require_donors(donors, src.closure, params.source)
    targets = pick_targets(src.open_frames)
    if not targets:
        raise SpasmCvError("no frame with both eyes open in the source to paste an eye onto")
    cp = params.composite
    needed = {d.frame for ds in donors.values() for d in ds} | set(targets)
    frames = _load_frames(source, src, needed, params.mirrored)
    renditions = {}
    for s in sides:
        whole = calibrate(
            [Rendition(d, 1.0) for d in donors[s]],
            s,
            targets,
            frames,
            src.track,
            src.baseline,
            src.fps,
            cp,
        )
        partial = calibrate(
            partial_renditions(whole, cp.partial_strengths),
            s,
            targets,
            frames,
            src.track,
            src.baseline,
            src.fps,
            cp,
        )
        renditions[s] = whole + partial
        best = full_closure(renditions[s])
        if best < params.source.min_perceived_closure:
            raise SpasmCvError(
                f"the {s} eyelids of this clip's blinks are not seen closed when pasted over "
                f"one eye (best perceived closure {best:.2f}); use a clip with a clearer, "
                "frontal blink"
            )
    return renditions, frames


def episode_families(
    episodes: list[Episode],
    renditions: dict[str, list[Rendition]],
    pose: np.ndarray,
    fps: float,
    n_out: int,
    weight_per_deg: float,
) -> dict[str, np.ndarray]:
    """Per side and output frame, the donor blink to draw from (-1: none).

    ``pose`` is the source pose (yaw, pitch, roll) of each output frame.
    """
    family = {s: np.full(n_out, -1, dtype=np.int64) for s in renditions}
    for ep in episodes:
        k0 = max(int(np.floor(ep.onset_s * fps)), 0)
        k1 = min(int(np.ceil(ep.offset_s * fps)) + 1, n_out)
        mid = pose[(k0 + k1) // 2] if k1 > k0 else pose[min(k0, n_out - 1)]
        family[ep.side][k0:k1] = choose_family(
            renditions[ep.side], ep.peak_closure, mid, weight_per_deg
        )
    return family


def write_phantom_video(
    path: Path,
    source: str | os.PathLike,
    src: SourceAnalysis,
    order: np.ndarray,
    target: dict[str, np.ndarray],
    pull: dict[str, np.ndarray],
    family: dict[str, np.ndarray],
    renditions: dict[str, list[Rendition]],
    donor_frames: dict[int, np.ndarray],
    params: PhantomParams,
) -> None:
    """Draw and write every phantom frame (``order``: source frame of each output frame)."""
    track = src.track
    writer = _open_writer(path, src.fps, track.width, track.height)
    try:
        for k, rgb in enumerate(_frames_in_order(source, src, order, params.mirrored)):
            i = order[k]
            eyes, mouth = {}, {}
            if track.face[i]:
                for s, rs in renditions.items():
                    if target[s][k] >= params.composite.min_target_closure:
                        fam = int(family[s][k])
                        eyes[s] = choose_rendition(rs, target[s][k], fam if fam >= 0 else None)
                    mouth[s] = float(pull[s][k])
            frame = render_frame(
                rgb, track.points[i], eyes, donor_frames, track.points, mouth, params.composite
            )
            bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
            writer.write(cv2.flip(bgr, 1) if params.mirrored else bgr)
    finally:
        writer.release()


def perceive(
    path: Path, src: SourceAnalysis, quiet: np.ndarray, mirrored: bool
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Second pass: per-frame closure of each eye in the written phantom.

    The baseline of each eye is its median aperture over the ``quiet`` frames (no episode,
    no natural blink). Returns the closures and the baselines.
    """
    check = track_video(path, src.track.width, src.track.height, mirrored=mirrored)
    if len(check) != quiet.size:
        raise SpasmCvError(
            f"the written video {path} reads back {len(check)} frames, expected {quiet.size}"
        )
    baseline = {s: open_baseline(check.aperture[s], quiet) for s in SIDES}
    return closures(check.aperture, baseline), baseline


def make_phantom(
    source: str | os.PathLike,
    out_video: str | os.PathLike,
    truth: str | os.PathLike,
    params: PhantomParams = PhantomParams(),  # noqa: B008 (frozen, immutable)
    *,
    progress: bool = False,
) -> Phantom:
    """Write a phantom video with one-sided spasm episodes, and its truth table.

    Parameters
    ----------
    source : a face video with at least one natural full blink (its closed eyelids are
        the donors).
    out_video : the phantom (.mp4, mp4v codec), at the source's frame rate and size.
    truth : the truth TSV; the JSON sidecar is written beside it (``.tsv`` -> ``.json``).
    params : see :class:`PhantomParams`. ``schedule.rate_per_min = 0`` writes the loop
        without episodes (a negative) and needs no blink.
    progress : print one line per stage on stdout.

    Raises
    ------
    SpasmCvError
        Unreadable video, no face, input too short, no natural blink to take a closed
        eyelid from, or no room for an episode.
    """
    out_path, truth_path = Path(out_video), Path(truth)
    if out_path.exists() and out_path.resolve() == Path(source).resolve():
        raise SpasmCvError("the phantom would overwrite its source; choose another --out")
    if out_path.suffix.lower() not in CODECS:
        raise SpasmCvError(f"unsupported output type {out_path.suffix or '(none)'}: use .mp4")
    say = print if progress else (lambda *a, **k: None)
    say(f"first pass over {source} ...")
    src = analyse_source(source, params)
    fps, n_src = src.fps, len(src.track)
    n_out = n_src if params.seconds is None else max(int(round(params.seconds * fps)), 1)
    order = pingpong(n_src, n_out)
    if n_out > n_src and src.frames is None:
        raise SpasmCvError(
            f"input too large to loop in memory ({n_src} frames of "
            f"{src.track.width}x{src.track.height}); ask for --seconds <= {n_src / fps:.1f}"
        )
    out_times = np.arange(n_out) / fps
    duration_s = n_out / fps

    sp = params.schedule
    sides = SIDES if sp.side == "both" else (sp.side,)
    renditions: dict[str, list[Rendition]] = {}
    donor_frames: dict[int, np.ndarray] = {}
    episodes: list[Episode] = []
    if sp.rate_per_min > 0:
        say("calibrating donor eyelids ...")
        renditions, donor_frames = prepare_renditions(source, src, sides, params)
        allowed = allowed_intervals(
            out_times, src.open_frames[order], params.source.blink_margin_s, 1.0 / fps
        )
        episodes = plan_episodes(
            params.seed,
            duration_s,
            allowed,
            {s: full_closure(r) for s, r in renditions.items()},
            sp,
        )
        if not episodes:
            longest = max((b - a for a, b in allowed), default=0.0)
            raise SpasmCvError(
                f"input too short to place any episode: the longest stretch with both eyes "
                f"open, {params.source.blink_margin_s:g} s away from blinks, is "
                f"{longest:.2f} s of {duration_s:.2f} s; use a longer clip or --seconds"
            )
    say(f"{len(episodes)} episode(s) planned over {duration_s:.1f} s")

    target = {s: closure_at(episodes, s, out_times) for s in SIDES}
    pull = {s: mouth_at(episodes, s, out_times) for s in SIDES}
    family = episode_families(
        episodes, renditions, src.track.pose[order], fps, n_out, params.source.pose_weight_per_deg
    )
    write_phantom_video(
        out_path, source, src, order, target, pull, family, renditions, donor_frames, params
    )

    peaks = [
        float(target[e.side][(out_times >= e.onset_s) & (out_times <= e.offset_s)].max(initial=0.0))
        for e in episodes
    ]
    seen, seen_baseline = None, {}
    if episodes:
        say(f"second pass over {out_path} ...")
        quiet = src.open_frames[order] & (np.maximum(target["right"], target["left"]) == 0)
        seen, seen_baseline = perceive(out_path, src, quiet, params.mirrored)
    rows = truth_rows(episodes, peaks, seen, out_times, 1.0 / fps, params.clear_closure)

    meta = {
        "source": str(source),
        "source_name": Path(source).name,
        "video": out_path.name,  # the phantom this truth belongs to (lets a rerun replace it)
        "seed": params.seed,
        "params": asdict(params),
        "duration_s": round(duration_s, 3),
        "fps": fps,
        "n_frames": n_out,
        "width": src.track.width,
        "height": src.track.height,
        "mirrored": params.mirrored,
        "loop": "forward-backward (ping-pong) over the source frames" if n_out > n_src else "none",
        "source_duration_s": round(n_src / fps, 3),
        "n_episodes": len(episodes),
        "closure_definition": "1 - eye_aperture / open baseline of that eye, eye_aperture "
        "from spasm_cv.signals.geometry.side_measures",
        "open_baseline_source": {s: _finite(v) for s, v in src.baseline.items()},
        "open_baseline_phantom": {s: _finite(v) for s, v in seen_baseline.items()},
        "full_closure": {s: _finite(full_closure(r)) for s, r in renditions.items()},
        "n_donor_frames": {s: len({r.donor.frame for r in rs}) for s, rs in renditions.items()},
        "natural_blinks_s": _natural_blinks_out(src, order, fps, params.source.blink_peak),
    }
    sidecar = write_truth(truth_path, rows, meta)
    say(f"wrote {out_path} and {truth_path}")
    return Phantom(out_path, truth_path, sidecar, episodes, rows, duration_s, fps, meta)


def _finite(x: float) -> float | None:
    return round(float(x), 4) if np.isfinite(x) else None
