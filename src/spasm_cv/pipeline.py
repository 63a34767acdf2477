"""``analyze_video``: video -> landmarks -> signals -> events -> a recording's result folder."""

from __future__ import annotations

import os
import sys
import time as _time
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import ConfigDict, Field

from spasm_cv.errors import SpasmCvError, interrupt_reason
from spasm_cv.events.detect import Detection, detect
from spasm_cv.events.params import DetectionParams
from spasm_cv.landmarks.observe import observe
from spasm_cv.landmarks.tracker import FaceTracker
from spasm_cv.results.deidentify import Deidentify, folder_label, label
from spasm_cv.results.deidentify import deidentify as deidentify_recording
from spasm_cv.results.files import write_folder
from spasm_cv.results.outputs import ResultTarget
from spasm_cv.results.recording import Recording
from spasm_cv.results.result import Result
from spasm_cv.results.schemas import RecordedAt, Schema, check
from spasm_cv.results.summary import Summary
from spasm_cv.signals.table import Signals, SignalsBuilder
from spasm_cv.video.metadata import creation_time
from spasm_cv.video.reader import VideoInfo, prefetch, probe, read_frames_and_losses
from spasm_cv.video.segments import SegmentParams, plan_segments
from spasm_cv.video.timing import Timing, probe_timing


@dataclass
class Analysis:
    """What :func:`analyze_video` produced.

    Attributes
    ----------
    signals : Signals
        Per-frame signals.
    detection : Detection
        Events and per-frame activity.
    recording : Recording
        The result (events, signals table, typed summary, provenance), as reports read it.
    out_dir : Path or None
        Where the result folder was written (None with ``write=False``).

    Examples
    --------
    >>> a = analyze_video("sample_phantom.mp4", write=False)  # doctest: +SKIP
    >>> a.result.events  # DataFrame, as spasm_cv.load(folder).events  # doctest: +SKIP
    >>> a.result.signals.attrs["fps"]  # doctest: +SKIP
    25.0
    """

    signals: Signals
    detection: Detection
    recording: Recording
    out_dir: Path | None

    @cached_property
    def summary(self) -> dict:
        """summary.json's content (a plain dict)."""
        return self.recording.summary.to_dict()

    @cached_property
    def result(self) -> Result:
        """Events, episodes and signals as pandas DataFrames (as :func:`spasm_cv.load`)."""
        return Result(self.recording)


class Arguments(Schema):
    """The arguments of :func:`analyze_video` and :func:`extract_signals` the command line
    checks by its own types: a bool is a bool (``mirrored="no"`` is refused, not true),
    ``recorded_at`` an aware datetime within the years ``--recorded-at`` takes."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    mirrored: bool = False
    progress: bool = False
    write: bool = True
    replace_result: bool = True
    jobs: Annotated[int, Field(ge=1, le=4096)] = 1
    recorded_at: RecordedAt | None = None
    params: DetectionParams | None = None
    deidentify: Deidentify | None = None


def check_arguments(function: str, **arguments) -> Arguments:
    """``arguments`` of ``function`` checked (:class:`Arguments`): SpasmCvError otherwise."""
    return check(Arguments, arguments, function)


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

    Parameters
    ----------
    video : str or path
        A video file.
    mirrored : bool
        The video is mirrored: sides are swapped back.
    model_path : str or path, optional
        A ``face_landmarker.task`` (default: the bundled model).
    progress : bool
        Show a progress bar on stderr.
    info : VideoInfo, optional
        The video's probe, if already made.
    jobs : int
        Worker processes (1: serial); the signals are the same for every value.
    segments : SegmentParams, optional
        The tracker's restart grid (default every 10 s).

    Returns
    -------
    Signals
        One row per frame: time (s), face found, faces counted, raw per-side
        measurements, and ``lost`` (``corrupt``: a frame lost to damaged data, decoding went
        on past it; ``frozen``: a frozen image; neither is observed); ``meta`` holds fps,
        size, mirroring and ``interrupted``.

    Notes
    -----
    The tracker restarts at fixed segment boundaries (``segments``, default every 10 s; see
    :mod:`spasm_cv.video.segments`). ``jobs`` > 1 landmarks the segments in that many worker
    processes and stitches them: the result is identical to the serial one. Workers are
    spawned: a script calling this with ``jobs`` > 1 needs the ``if __name__ == "__main__":``
    guard. On KeyboardInterrupt the signals measured so far are returned with
    ``meta["interrupted"] = True`` (nothing measured is lost; with ``jobs`` > 1, what was
    measured from the start up to the first unfinished segment); with SIGTERM
    (:class:`~spasm_cv.errors.Terminated`) ``meta["interrupted"]`` is ``"SIGTERM"``, with
    Ctrl-C ``"Ctrl-C"``.

    Examples
    --------
    Landmarking takes about half the video's duration, so this is not run as a doctest:

    >>> signals = extract_signals("sample_phantom.mp4", jobs=2)  # doctest: +SKIP
    >>> detection = spasm_cv.detect(signals)  # doctest: +SKIP
    """
    check_arguments("extract_signals", mirrored=mirrored, progress=progress, jobs=jobs)
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
        from spasm_cv.landmarks.parallel import extract_parallel

        with _progress(info.n_frames, progress, f"analyze ({jobs} jobs)") as bar:
            return extract_parallel(
                video, plan, meta, jobs=jobs, mirrored=mirrored, model_path=model_path, bar=bar
            )
    builder = SignalsBuilder(info.width, info.height, meta)
    with (
        FaceTracker(model_path, segments=params, fps=info.fps) as tracker,
        _progress(info.n_frames, progress, "analyze") as bar,
    ):
        frames = prefetch(read_frames_and_losses(video, mirrored=mirrored, fps=info.fps))
        try:
            for o in observe(frames, tracker):
                builder.add(o.time_s, o.face, o.size, o.lost)
                bar.update(1)
        except KeyboardInterrupt as exc:
            builder.meta["interrupted"] = interrupt_reason(exc)
        finally:
            frames.close()  # the decoding thread stops before the tracker closes
    return builder.build()


def input_record(
    video: str | os.PathLike, info: VideoInfo, mirrored: bool, timing: Timing | None = None
) -> dict:
    """summary.json's ``input``: which file, its size and time, what the container says
    (``timing``: the frame rate used and where it came from)."""
    p = Path(video)
    st = p.stat()
    record = {
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
    if timing is not None:
        record["timing"] = timing.to_dict()
    return record


def default_out_dir(video: str | os.PathLike) -> Path:
    """``./<video stem>.spasm-cv``."""
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
    deidentify: Deidentify | None = None,
    replace_result: bool = True,
    on_warning=None,
) -> Analysis:
    """Analyse a recorded video end to end and (by default) write its result folder.

    Parameters
    ----------
    video : str or path
        A video file FFmpeg/OpenCV can decode.
    out_dir : str or path, optional
        The result folder (default ``./<video stem>.spasm-cv``). An interrupted run writes
        what it measured to ``<out_dir>.partial`` instead, never to ``out_dir``. It is
        checked before any work (see :mod:`spasm_cv.results.outputs`): a file, the input, or
        a folder that is not a spasm-cv result is refused (SpasmCvError); a ``.partial``
        beside it that spasm-cv wrote is removed once the complete result is in place.
    mirrored : bool
        The video is mirrored (e.g. a phone selfie): sides are swapped back. Arguments are
        checked as the command line checks them (:class:`Arguments`): a bool must be a
        bool, ``recorded_at`` an aware datetime of a plausible year.
    params : DetectionParams, optional
        Detection parameters (default ``DetectionParams()``); recorded in summary.json.
    model_path : str or path, optional
        A ``face_landmarker.task`` (default: the bundled model, checked by its SHA-256).
    progress : bool
        Show a progress bar on stderr.
    write : bool
        Write the result folder (False: analyse in memory only; ``out_dir`` is None).
    recorded_at : datetime, optional
        Wall-clock start of the recording (timezone-aware, years 1970 to next year);
        reports, MNE annotations (``orig_time``) and BIDS ``acq_time`` use it. Default: the
        container's creation time (``recorded_at_source`` ``container`` in summary.json),
        else the file's modification time minus the duration (``file_mtime``: a guess, a
        copy changes it); a value given here is ``given``.
    jobs : int
        Worker processes landmarking 10 s segments in parallel (1: serial); the results are
        the same for every value (see :func:`extract_signals`).
    deidentify : Deidentify, optional
        Write (and return) the recording without the video's path, file name, size and
        dates (:mod:`spasm_cv.results.deidentify`); its label is the result folder's name,
        so ``out_dir`` must be given.
    replace_result : bool
        An earlier spasm-cv result folder at ``out_dir`` may be replaced (the command line
        asks for ``--force``); files a user added to it are kept.
    on_warning : callable, optional
        Called with each one-line warning (e.g. a frame rate too low to resolve blinks, or
        repaired from the frame times); they are also in summary.json (``input.timing``).

    Returns
    -------
    Analysis
        The signals, the detection, the :class:`~spasm_cv.results.recording.Recording`, the
        result folder, and ``.result``: events, episodes and time-indexed signals as pandas
        DataFrames (the same as :func:`spasm_cv.load` gives for the folder).

    Raises
    ------
    SpasmCvError
        An argument of the wrong type or range, a file that is not a video, a still image,
        an implausible frame rate, no face, or an output location that cannot or must not
        be written (before any work).

    Examples
    --------
    Landmarking the 60 s bundled sample takes about 30 s, so this example is not run as a
    doctest (tests/test_sample.py runs the same analysis):

    >>> import spasm_cv
    >>> a = spasm_cv.analyze_video("sample_phantom.mp4", write=False)  # doctest: +SKIP
    >>> a.result.episodes[["onset", "side", "kind"]].head(2)  # doctest: +SKIP
       onset   side    kind
    0   3.44  right  clonic
    1  10.00  right  twitch
    >>> a.result.signals["closure_right"].max()  # doctest: +SKIP
    """
    check_arguments(
        "analyze_video",
        mirrored=mirrored,
        progress=progress,
        write=write,
        replace_result=replace_result,
        jobs=jobs,
        recorded_at=recorded_at,
        params=params,
        deidentify=deidentify,
    )
    if deidentify is not None and write and out_dir is None:
        raise SpasmCvError(
            "de-identified results need --out DIR: the default folder is named after the video"
        )
    start = _time.perf_counter()
    # opens of the video per analysis (tests/test_timing.py counts them): OpenCV reads the
    # header and the first frames' times (probe_timing), then decodes from the start
    # (extract_signals; each worker its own segment with jobs > 1); PyAV reads the container's
    # creation time (OpenCV gives no tags) and goes on where OpenCV stopped (past damage)
    info, timing = probe_timing(video)
    info = replace(info, fps=timing.fps)
    target = None
    if write:
        path = Path(out_dir) if out_dir is not None else default_out_dir(video)
        target = ResultTarget(
            path,
            inputs=(video,),
            replace=replace_result,
            expected_frames=info.n_frames,
            what="--out" if out_dir is not None else "result folder",
        ).prepare()
    if on_warning is not None:
        for w in timing.warnings:
            on_warning(w)
    try:
        signals = extract_signals(
            video,
            mirrored=mirrored,
            model_path=model_path,
            progress=progress,
            info=info,
            jobs=jobs,
        )
        if len(signals) == 0:
            raise SpasmCvError(f"no frame could be decoded from {video}")
        if not signals.face.any() and not signals.meta.get("interrupted"):
            raise SpasmCvError(f"no face found in any of the {len(signals)} frames of {video}")
        detection = detect(signals, params)
        summary = Summary.of_analysis(
            signals,
            detection,
            input_record(video, info, mirrored, timing),
            _time.perf_counter() - start,
            recorded_at,
            container_time=creation_time(video) if recorded_at is None else None,
        )
        partial = not summary.complete  # decided here only: an interrupted run's result
        out = None if target is None else target.final(partial)
        recording = Recording.from_analysis(signals, detection, summary, out)
        if deidentify is not None:
            name = folder_label(out_dir) if out_dir is not None else label(1)
            recording = deidentify_recording(recording, name, deidentify)
        if target is not None:
            out = write_folder(out, recording, target=target, partial=partial)
    finally:
        if target is not None:  # made here, closed here (write_folder leaves it open)
            target.close()
    return Analysis(signals, detection, recording, out)
