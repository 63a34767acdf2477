"""Bad input: one-line errors and non-zero exits, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import cli, package_env, shared_video


def spasm_cv(*args, cwd=None):
    """``python -m spasm_cv ARGS`` in a new process (``cli`` runs it in this one)."""
    return subprocess.run(
        [sys.executable, "-m", "spasm_cv", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=package_env(),
        timeout=300,
    )


def assert_one_line_error(proc, *words):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("spasm-cv: error:")
    for w in words:
        assert w in lines[0]


def write_video(path, frames, fps=25.0):
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()
    return path


def test_missing_path(tmp_path):
    assert_one_line_error(cli("analyze", tmp_path / "nope.mp4"), "not found")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    assert_one_line_error(cli("analyze", p), "empty")


def test_text_file_renamed(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is not a video\n" * 100)
    assert_one_line_error(cli("analyze", p), "cannot decode")


@pytest.mark.slow  # MediaPipe (what decodes is analysed)
def test_truncated_mp4(tmp_path):
    src = shared_video("c3_grid_woman_brbk7n.mp4").read_bytes()
    p = tmp_path / "truncated.mp4"
    p.write_bytes(src[: len(src) // 3])
    proc = spasm_cv("analyze", p, "--out", tmp_path / "res")
    # either refused with one line, or analysed as far as it decodes and flagged
    if proc.returncode != 0:
        assert_one_line_error(proc)
    else:
        s = json.loads((tmp_path / "res" / "summary.json").read_text())
        assert s["quality"]["truncated"] is True


@pytest.mark.slow  # MediaPipe
def test_video_without_a_face(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(30)]
    p = write_video(tmp_path / "noise.mp4", frames)
    assert_one_line_error(spasm_cv("analyze", p, "--out", tmp_path / "r"), "no face")
    assert not (tmp_path / "r").exists()


def test_wrong_argument():
    proc = cli("analyze", "--no-such-flag")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.slow  # a new Python process; the errors above are checked in this one
def test_the_command_in_a_new_process_says_what_it_says_in_this_one(tmp_path):
    proc = spasm_cv("analyze", "nope.mp4", cwd=tmp_path)
    assert_one_line_error(proc, "not found")
    assert cli("analyze", "nope.mp4", cwd=tmp_path) == (proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.slow  # MediaPipe
def test_face_leaving_for_a_while(tmp_path):
    cap = cv2.VideoCapture(str(shared_video("c3_grid_man_bbaf2n.mp4")))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    blank = np.full_like(frames[0], 90)
    p = write_video(tmp_path / "away.mp4", frames[:40] + [blank] * 50 + frames[40:])
    proc = spasm_cv("analyze", p, "--out", tmp_path / "r")
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["quality"]["no_face_frames"] == pytest.approx(50, abs=3)
    assert s["observed_s"] == pytest.approx(75 / 25, abs=0.2)
    assert s["duration_s"] == pytest.approx(125 / 25, abs=0.1)
    assert "observed 3.0 s (60 %)" in proc.stdout
