"""Landmarking one video on all cores: time segments in worker processes, then stitched.

Each worker process (``spawn`` start method) landmarks one segment at a time with its own
:class:`FaceTracker`, opened and closed in a ``with`` block, decoding in a background
thread so that decoding overlaps with inference. The main process only collects the
segments' signals and draws the progress bar; detection runs once on the stitched signals.

The tracker restarts at every segment boundary in a serial run too (see
:mod:`spasm_cv.video.segments`), each segment runs the same observation loop
(:func:`spasm_cv.landmarks.observe.observe`), and seeking is frame-accurate (see
:func:`spasm_cv.video.reader.read_frames`), so the stitched signals, and therefore the
events, are identical to a serial run's.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from spasm_cv._native import silence_native_stderr
from spasm_cv._processes import exit_with_parent
from spasm_cv.errors import Terminated, interrupt_reason
from spasm_cv.signals.table import Signals, SignalsBuilder
from spasm_cv.video.segments import Segment

if TYPE_CHECKING:
    from spasm_cv.video.reader import Frame

PROGRESS_EVERY = 15  # frames between a worker's progress messages

# set in each worker process by _init_worker
_progress: multiprocessing.Queue | None = None
_stop = None


def _init_worker(progress, stop, parent: int) -> None:
    global _progress, _stop
    _progress, _stop = progress, stop
    # Ctrl-C reaches the whole process group (and SIGTERM may, from a service manager): the
    # main process decides, then sets ``stop``; a worker whose main process died exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    silence_native_stderr()
    exit_with_parent(parent)


def segment_signals(
    video: str,
    segment: Segment,
    meta: dict,
    mirrored: bool = False,
    model_path: str | None = None,
) -> Signals:
    """Signals of the frames of one segment, landmarked by a tracker started on its first.

    Runs in a worker process. Stops early (``meta["interrupted"]``) when the main process
    sets the stop event. ``meta["ended_early"]``: the video ended (or could no longer be
    decoded) before the segment's end, as a serial decode would have stopped there too.
    """
    from spasm_cv.landmarks.observe import observe
    from spasm_cv.landmarks.tracker import FaceTracker
    from spasm_cv.video.frozen import FrozenCheck
    from spasm_cv.video.reader import LostFrame, prefetch, read_frames_and_losses

    builder = SignalsBuilder(meta["width"], meta["height"], meta)
    builder.meta["ended_early"] = not segment.last
    frozen = FrozenCheck()

    def kept(frames: Iterable[Frame | LostFrame]) -> Iterator[Frame | LostFrame]:
        """The segment's own frames; stops at its end or when the main process says so.
        The frames before the segment only go to the frozen check, as in a serial run."""
        for frame in frames:
            if _stop is not None and _stop.is_set():
                builder.meta["interrupted"] = True
                return
            if segment.after(frame.time_s):
                builder.meta["ended_early"] = False
                return
            if segment.keeps(frame.time_s):
                yield frame
            elif not isinstance(frame, LostFrame):
                frozen.frozen(frame.rgb, frame.time_s)

    pending = 0
    start = max(segment.start_s - frozen.params.history_s, 0.0)
    # each worker opens the video itself: a decoder cannot cross a process boundary, and
    # each segment is decoded from its own seek point (the main process opened the file
    # only for its header and first frames' times, and never decodes with jobs > 1)
    frames = read_frames_and_losses(video, mirrored=mirrored, start_s=start, fps=segment.fps)
    with FaceTracker(model_path, segments=segment.params, fps=segment.fps) as tracker:
        for o in observe(kept(prefetch(frames)), tracker, frozen):
            builder.add(o.time_s, o.face, o.size, o.lost)
            pending += 1
            if pending >= PROGRESS_EVERY and _progress is not None:
                _progress.put(pending)
                pending = 0
    if pending and _progress is not None:
        _progress.put(pending)
    return builder.build()


def stitch(parts: list[Signals | None], reason: str | bool = True) -> Signals:
    """The segments' signals end to end, in time order.

    Stops after the first part that is missing or was interrupted, so that the result is
    contiguous (``meta["interrupted"]`` then set to ``reason``) and nothing after a gap is
    kept; and
    after a part in which the video ended early (truncated or damaged: a serial decode stops
    there). Raises KeyboardInterrupt when the first part is missing (nothing to keep).
    """
    kept: list[Signals] = []
    interrupted = False
    for part in parts:
        if part is None:
            interrupted = True
            break
        kept.append(part)
        if part.meta.get("interrupted"):
            interrupted = True
            break
        if part.meta.get("ended_early"):
            break
    if not kept:
        # interrupted before the first segment measured anything
        raise Terminated if reason == "SIGTERM" else KeyboardInterrupt
    out = Signals.concatenate(kept)
    out.meta.pop("interrupted", None)
    out.meta.pop("ended_early", None)
    if interrupted:
        out.meta["interrupted"] = reason
    return out


def extract_parallel(
    video: str | os.PathLike,
    segments: list[Segment],
    meta: dict,
    *,
    jobs: int,
    mirrored: bool = False,
    model_path: str | os.PathLike | None = None,
    bar=None,
) -> Signals:
    """Landmark ``segments`` of ``video`` in ``jobs`` worker processes and stitch them.

    ``bar`` (a tqdm bar, optional) advances by the frames the segments keep. On
    KeyboardInterrupt the workers stop, and what was measured from the start of the video
    up to the first unfinished segment's last frame is returned (``meta["interrupted"]``).
    """
    ctx = multiprocessing.get_context("spawn")
    progress, stop = ctx.Queue(), ctx.Event()
    model = str(model_path) if model_path is not None else None
    parts: list[Signals | None] = [None] * len(segments)
    reason: str | bool = True
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(segments)),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(progress, stop, os.getpid()),
    ) as pool:
        futures: dict[Future, int] = {
            pool.submit(segment_signals, str(Path(video)), seg, meta, mirrored, model): k
            for k, seg in enumerate(segments)
        }
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(progress, bar)
                for fut in done:
                    parts[futures[fut]] = fut.result()
        except KeyboardInterrupt as exc:
            reason = interrupt_reason(exc)
            stop.set()
            for fut in pending:
                fut.cancel()
            for fut, k in futures.items():
                if not fut.cancelled():
                    try:
                        parts[k] = fut.result()
                    except Exception:  # noqa: BLE001 - keep what the others measured
                        parts[k] = None
        except BaseException:  # a segment failed: stop the others at once, then report
            stop.set()
            for fut in pending:
                fut.cancel()
            raise
        finally:
            _drain(progress, bar)
    return stitch(parts, reason)


def _drain(progress, bar) -> None:
    while True:
        try:
            n = progress.get_nowait()
        except (queue.Empty, OSError, ValueError):
            return
        if bar is not None:
            bar.update(n)
