"""``analyze_video``: video -> landmarks -> signals -> events -> result folder."""

from __future__ import annotations

import os
import sys
import time as _time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from spasm_cv import __version__
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.detect import Detection, detect
from spasm_cv.events.params import DetectionParams
from spasm_cv.landmarks.model import MODEL_SHA256, MODEL_VERSION
from spasm_cv.landmarks.tracker import FOLLOWED_FACE, FaceTracker
from spasm_cv.report.summary import SCHEMA_VERSION, summarize
from spasm_cv.results.files import write_result
from spasm_cv.signals.table import Signals, SignalsBuilder
from spasm_cv.video.reader import VideoInfo, prefetch, probe, read_frames
from spasm_cv.video.segments import SegmentParams, plan_segments


@dataclass
class Analysis:
    """What ``analyze_video`` produced: signals, detection, summary and where it was written."""

    signals: Signals
    detection: Detection
    summary: dict
    out_dir: Path | None


def _progress(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(
        total=total or None,
        unit="frame",
        desc=desc,
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
    )


def extract_signals(
    video: str | os.PathLike,
    *,
    mirrored: bool = False,
    model_path: str | os.PathLike | None = None,
    progress: bool = False,
    info: VideoInfo | None = None,
    jobs: int = 1,
    segments: SegmentParams | None = None,
) -> Signals:
    """Run the face landmarker over a video and return per-frame signals.

    The tracker restarts at fixed segment boundaries (``segments``, default every 10 s; see
    :mod:`spasm_cv.video.segments`). ``jobs`` > 1 landmarks the segments in that many worker
    processes and stitches them: the result is identical to the serial one. Workers are
    spawned: a script calling this with ``jobs`` > 1 needs the ``if __name__ == "__main__":``
    guard. On KeyboardInterrupt the signals measured so far are returned with
    ``meta["interrupted"] = True`` (nothing measured is lost; with ``jobs`` > 1, what was
    measured from the start up to the first unfinished segment).
    """
    info = info or probe(video)
    meta = {
        "fps": info.fps or None,
        "width": info.width,
        "height": info.height,
        "n_frames_expected": info.n_frames,
        "rotation_deg": info.rotation_deg,
        "mirrored": mirrored,
    }
    params = segments or SegmentParams()
    meta["tracker_restart_s"] = params.segment_s
    plan = plan_segments(info.duration_s, info.fps, params)
    if jobs > 1 and len(plan) > 1:
        from spasm_cv.parallel import extract_parallel

        with _progress(info.n_frames, progress, f"analyze ({jobs} jobs)") as bar:
            return extract_parallel(
                video, plan, meta, jobs=jobs, mirrored=mirrored, model_path=model_path, bar=bar
            )
    builder = SignalsBuilder(info.width, info.height, meta)
    with (
        FaceTracker(model_path, segments=params, fps=info.fps) as tracker,
        _progress(info.n_frames, progress, "analyze") as bar,
    ):
        try:
            for frame in prefetch(read_frames(video, mirrored=mirrored)):
                size = (frame.rgb.shape[1], frame.rgb.shape[0])
                builder.add(frame.time_s, tracker.detect(frame.rgb, frame.time_s), size)
                bar.update(1)
        except KeyboardInterrupt:
            builder.meta["interrupted"] = True
    return builder.build()


def input_record(video: str | os.PathLike, info: VideoInfo, mirrored: bool) -> dict:
    p = Path(video)
    st = p.stat()
    return {
        "path": str(p.resolve()),
        "name": p.name,
        "size_bytes": st.st_size,
        "mtime": st.st_mtime,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "n_frames": info.n_frames,
        "rotation_deg": info.rotation_deg,
        "codec": info.codec,
        "mirrored": mirrored,
    }


def build_summary(
    signals: Signals,
    detection: Detection,
    input_info: dict,
    elapsed_s: float | None = None,
    recorded_at: datetime | None = None,
) -> dict:
    """summary.json: provenance, quality and the event numbers of :func:`summarize`."""
    n = len(signals)
    duration = float(signals.time[-1] + 1.0 / detection.fps) if n else 0.0
    face_frames = int(signals.face.sum())
    summary = {
        "schema_version": SCHEMA_VERSION,
        "software": {"name": "spasm-cv", "version": __version__},
        "model": {"name": MODEL_VERSION, "sha256": MODEL_SHA256},
        "input": input_info,
        "complete": not signals.meta.get("interrupted", False),
        "fps": detection.fps,
        "duration_s": duration,
        "frames": n,
        "quality": {
            "face_frames": face_frames,
            "no_face_frames": n - face_frames,
            "multi_face_frames": int((signals.n_faces > 1).sum()),
            "followed_face": FOLLOWED_FACE,
            "tracker_restart_s": signals.meta.get("tracker_restart_s"),
            "truncated": bool(input_info.get("n_frames") and n < 0.98 * input_info["n_frames"] - 1),
        },
        "params": detection.params.to_dict(),
    }
    if recorded_at is None and input_info.get("mtime"):
        # best guess for a file: it was last written when the recording ended
        recorded_at = datetime.fromtimestamp(input_info["mtime"] - duration, timezone.utc)
    summary["recorded_at"] = recorded_at.isoformat() if recorded_at else None
    summary.update(summarize(detection.events, detection.activity, detection.fps))
    summary["observed_fraction"] = summary["observed_s"] / duration if duration > 0 else 0.0
    if elapsed_s is not None:
        summary["processing"] = {
            "elapsed_s": elapsed_s,
            "times_real_time": duration / elapsed_s if elapsed_s > 0 else None,
        }
    return summary


def default_out_dir(video: str | os.PathLike) -> Path:
    return Path.cwd() / f"{Path(video).stem}.spasm-cv"


def analyze_video(
    video: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    mirrored: bool = False,
    params: DetectionParams | None = None,
    model_path: str | os.PathLike | None = None,
    progress: bool = False,
    write: bool = True,
    recorded_at: datetime | None = None,
    jobs: int = 1,
) -> Analysis:
    """Analyse a recorded video end to end and (by default) write its result folder.

    Parameters
    ----------
    video : path of a video file OpenCV can decode.
    out_dir : result folder (default ``./<video stem>.spasm-cv``). An interrupted run writes
        what it measured to ``<out_dir>.partial`` instead, never to ``out_dir``.
    mirrored : the video is mirrored (e.g. a phone selfie): sides are swapped back.
    recorded_at : wall-clock start of the recording (default: guessed from the file's
        modification time); reports use it to place recordings in time.
    jobs : worker processes landmarking time segments in parallel (1: serial); see
        :func:`extract_signals`.
    """
    start = _time.perf_counter()
    info = probe(video)
    signals = extract_signals(
        video, mirrored=mirrored, model_path=model_path, progress=progress, info=info, jobs=jobs
    )
    if len(signals) == 0:
        raise SpasmCvError(f"no frame could be decoded from {video}")
    if not signals.face.any() and not signals.meta.get("interrupted"):
        raise SpasmCvError(f"no face found in any of the {len(signals)} frames of {video}")
    detection = detect(signals, params)
    summary = build_summary(
        signals,
        detection,
        input_record(video, info, mirrored),
        _time.perf_counter() - start,
        recorded_at,
    )
    target = None
    if write:
        target = Path(out_dir) if out_dir is not None else default_out_dir(video)
        if not summary["complete"]:
            target = target.with_name(target.name + ".partial")
        write_result(target, signals, detection.activity, detection.events, summary)
    return Analysis(signals, detection, summary, target)
