"""Helpers for tests of hostile inputs and file-system faults (no MediaPipe).

- :func:`sim_result`: a real result folder, written by the real writer, from simulated signals.
- :func:`read_only`: a folder nobody (root included) can write to for the duration: a
  read-only bind mount when running as root (CI runs as root, which ignores permission bits),
  permission bits otherwise; the test is skipped where neither works.
- :func:`tiny_disk`: a small tmpfs mounted on a folder (root only), to fill up.
- :func:`assert_one_line_error`: exactly one ``spasm-cv: error:`` line and no traceback.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from spasm_cv.events.detect import Detection, detect
from spasm_cv.events.simulate import SimEpisode, simulate_signals
from spasm_cv.results.files import write_folder
from spasm_cv.results.recording import Recording
from spasm_cv.results.summary import Summary
from spasm_cv.signals.table import Signals


def sim_result(
    folder: Path, name: str = "visit.mp4", interrupted: str | None = None, seconds: float = 20.0
) -> Path:
    """Write a result folder for a simulated recording of ``seconds`` with one episode."""
    signals, detection = copy.deepcopy(_simulated(seconds, interrupted))
    info = {
        "path": f"/videos/{name}",
        "name": name,
        "size_bytes": 1000,
        "mtime": 1.7e9,
        "fps": 30.0,
        "width": 640,
        "height": 480,
        "n_frames": int(seconds * 30) * (6 if interrupted else 1),
        "rotation_deg": 0,
        "codec": "mp4v",
        "mirrored": False,
    }
    summary = Summary.of_analysis(signals, detection, info)
    rec = Recording.from_analysis(signals, detection, summary, folder)
    return write_folder(folder, rec)


def sim_result_with_episodes(folder: Path, seconds: float = 80.0) -> Path:
    """A result folder of a simulated recording with six one-sided twitches (every 12 s from
    5 s; the 2nd, 3rd, 5th and 6th on the right)."""
    signals, detection = copy.deepcopy(_with_episodes(seconds))
    info = {"path": "/videos/visit.mp4", "name": "visit.mp4", "size_bytes": 1000,
            "mtime": 1.7e9, "fps": 30.0, "width": 640, "height": 480,
            "n_frames": int(seconds * 30), "rotation_deg": 0, "codec": "mp4v",
            "mirrored": False}  # fmt: skip
    summary = Summary.of_analysis(signals, detection, info)
    return write_folder(folder, Recording.from_analysis(signals, detection, summary, folder))


@functools.cache
def _with_episodes(seconds: float) -> tuple[Signals, Detection]:
    episodes = tuple(SimEpisode(5.0 + 12.0 * i, "right" if i % 3 else "left", "twitch", 0.85)
                     for i in range(6))  # fmt: skip
    signals, _ = simulate_signals(seconds, 30.0, episodes, seed=4)
    return signals, detect(signals)


@functools.cache
def _simulated(seconds: float, interrupted: str | None) -> tuple[Signals, Detection]:
    """The simulated recording and its detection: the same every time, so made once a run
    (callers copy them)."""
    signals, _ = simulate_signals(seconds, 30.0, (SimEpisode(5.0, "right", "twitch", 0.8),), seed=1)
    if interrupted:
        signals.meta["interrupted"] = interrupted
    return signals, detect(signals)


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """``folder`` cannot be written to (by anyone) within the block."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if not _mount("--bind", str(folder), str(folder)):
        pytest.skip("running as root without mount: cannot make a read-only folder")
    try:
        if not _mount("-o", "remount,bind,ro", str(folder)):
            pytest.skip("cannot remount read-only")
        yield folder
    finally:
        _unmount(folder)


def _unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)  # busy: detach


@contextlib.contextmanager
def tiny_disk(folder: Path, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of ``size`` on ``folder`` (root only; skipped elsewhere)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)):
        pytest.skip("cannot mount a small file system here")
    try:
        yield folder
    finally:
        _unmount(folder)


def fill(folder: Path) -> None:
    """Fill the file system of ``folder`` (a tiny disk) to the last byte."""
    with open(folder / "filler.bin", "wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 4096)
            f.flush()


def assert_one_line_error(code: int, err: str, *words: str) -> str:
    """Non-zero exit, one stderr line ``spasm-cv: error: ...`` (argparse: its usage error),
    holding ``words``; never a traceback or an internal error."""
    assert code != 0
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("usage:")]
    lines = [ln for ln in lines if not ln.startswith(" ")]  # argparse's usage continuation
    assert len(lines) == 1, err
    assert lines[0].startswith("spasm-cv") and "error:" in lines[0], err
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def write_video(path: Path, n: int = 10, fps: float = 25.0, size=(64, 48), fourcc="mp4v") -> Path:
    """A small synthetic video of ``n`` grey frames with a moving square."""
    w, h = size
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert vw.isOpened()
    for i in range(n):
        frame = np.full((h, w, 3), 90, np.uint8)
        frame[: h // 3, (i % w) : (i % w) + 3] = 230
        vw.write(frame)
    vw.release()
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content (to check nothing changed)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
