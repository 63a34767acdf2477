"""A corpus of hostile but realistic inputs, generated in a temporary folder (issue 16).

Each case runs the real command line in this process and must end in exactly one line
``spasm-cv: error: ...`` (exit 2), or in a result that records the problem as a quality
flag: never a traceback, never an ``internal error``, and never a file of the user's
changed. The whole file runs in well under a minute (the few cases that reach MediaPipe
use tiny frames or two seconds of video).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE_VIDEO, cli
from fsfaults import assert_one_line_error, sim_result, snapshot, write_video

Make = Callable[[Path], Path]


def _bytes(data: bytes, name: str = "clip.mp4") -> Make:
    def make(d: Path) -> Path:
        p = d / name
        p.write_bytes(data)
        return p

    return make


def _video(**kw) -> Make:
    name = kw.pop("name", "clip.mp4")
    return lambda d: write_video(d / name, **kw)


def _cut(fraction: float) -> Make:
    def make(d: Path) -> Path:
        data = write_video(d / "whole.mp4", n=50).read_bytes()
        (d / "whole.mp4").unlink()
        p = d / "cut.mp4"
        p.write_bytes(data[: int(len(data) * fraction)])
        return p

    return make


def _image(suffix: str, name: str | None = None) -> Make:
    def make(d: Path) -> Path:
        img = d / f"still{suffix}"
        assert cv2.imwrite(str(img), np.full((48, 64, 3), 120, np.uint8))
        if name:
            img = img.rename(d / name)
        return img

    return make


def _folder(name: str) -> Make:
    def make(d: Path) -> Path:
        (d / name).mkdir()
        return d / name

    return make


def _fifo(d: Path) -> Path:
    os.mkfifo(d / "pipe.mp4")
    return d / "pipe.mp4"


def _broken_link(d: Path) -> Path:
    (d / "link.mp4").symlink_to(d / "gone.mp4")
    return d / "link.mp4"


rng = np.random.default_rng(16)
VIDEO_CASES: dict[str, tuple[Make, str]] = {
    "zero bytes": (_bytes(b""), "empty"),
    "text renamed .mp4": (_bytes(b"this is not a video\n" * 200), "cannot decode"),
    "random bytes": (_bytes(rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes()), "decode"),
    "first 1 kB of a video": (_cut(0.02), "decode"),
    "two thirds of a video (index lost)": (_cut(0.66), "decode"),
    "jpeg": (_image(".jpg"), "still image"),
    "png": (_image(".png"), "still image"),
    "jpeg renamed .mp4": (_image(".jpg", "holiday.mp4"), "still image"),
    "png renamed .avi": (_image(".png", "holiday.avi"), "still image"),
    "one-frame video": (_video(n=1), "still image"),
    "0.25 fps container": (_video(n=12, fps=0.25), "implausible frame rate"),
    "2 fps container": (_video(n=12, fps=2.0), "implausible frame rate"),
    "1000 fps container": (_video(n=12, fps=1000.0), "implausible frame rate"),
    "5000 fps container": (_video(n=12, fps=5000.0), "implausible frame rate"),
    "2x2 pixels": (_video(n=8, size=(2, 2), fourcc="MJPG", name="tiny.avi"), "too small"),
    "1x400 pixels": (_video(n=8, size=(1, 400), fourcc="MJPG", name="line.avi"), "too small"),
    "17x13 pixels": (_video(n=8, size=(17, 13), fourcc="MJPG", name="odd.avi"), "too small"),
    "a folder": (_folder("videos"), "folder"),
    "a folder named .mp4": (_folder("x.mp4"), "folder"),
    "a named pipe": (_fifo, "not a regular file"),
    "a broken link": (_broken_link, "not found"),
    "missing": (lambda d: d / "nope.mp4", "not found"),
}


@pytest.mark.parametrize("case", VIDEO_CASES, ids=list(VIDEO_CASES))
def test_bad_video_gives_one_line_and_writes_nothing(case, tmp_path):
    make, words = VIDEO_CASES[case]
    src = tmp_path / "in"
    src.mkdir()
    video = make(src)
    before = snapshot(src)
    code, out, err = cli("analyze", video, "--out", tmp_path / "res")
    assert code == 2, err
    assert_one_line_error(code, err, words)
    assert snapshot(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no result, no temp folder


def test_unreadable_video_says_permission_denied(tmp_path, monkeypatch):
    video = write_video(tmp_path / "clip.mp4", n=10)
    if os.geteuid() == 0:  # root reads everything: make the open fail as it would for a user
        import spasm_cv.video.reader as reader

        def denied(path, *a, **k):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(reader, "open", denied, raising=False)
    else:
        video.chmod(0)
    code, _, err = cli("analyze", video, "--out", tmp_path / "r")
    assert_one_line_error(code, err, "permission denied", str(video))


ARG_CASES = {
    "far future --recorded-at": (["--recorded-at", "9999-12-31T23:59"], "plausible"),
    "year 1 --recorded-at": (["--recorded-at", "0001-01-01"], "plausible"),
    "not a date": (["--recorded-at", "yesterday"], "ISO"),
    "--jobs 0": (["--jobs", "0"], "at least 1"),
    "--jobs x": (["--jobs", "x"], "whole number"),
    "empty --out": (["--out", ""], "not a folder name"),
    "--out /proc": (["--out", "/proc/spasm-cv-test"], "/proc/spasm-cv-test"),
    "--out /dev/null": (["--out", "/dev/null"], "/dev/null"),
}


@pytest.mark.parametrize("case", ARG_CASES, ids=list(ARG_CASES))
def test_bad_arguments_give_one_line(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args, words = ARG_CASES[case]
    video = write_video(tmp_path / "clip.mp4", n=10)
    code, _, err = cli("analyze", video, *args)
    assert code == 2
    line = assert_one_line_error(code, err, words)
    assert "_iso_datetime" not in line and "OverflowError" not in line


def _result_with(change: Callable[[Path], None]) -> Make:
    def make(d: Path) -> Path:
        res = sim_result(d / "visit")
        change(res)
        return res

    return make


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda res: (res / name).write_bytes(data)


RESULT_CASES = {
    "not a result folder": (_folder("holiday"), "summary"),
    "a file": (_bytes(b"x", "notes.txt"), "not a result folder"),
    "missing": (lambda d: d / "nope", "not found"),
    "garbage summary.json": (_result_with(_write("summary.json", b"{nope")), "corrupt"),
    "someone else's summary.json": (_result_with(_write("summary.json", b'{"a": 1}')), "summary"),
    "summary.json a list": (_result_with(_write("summary.json", b"[1, 2]")), "summary"),
    "no events.tsv": (_result_with(lambda r: (r / "events.tsv").unlink()), "events"),
    "garbage events.tsv": (_result_with(_write("events.tsv", b"onset\tx\nfoo\t1\n")), "events"),
    "truncated signals.csv.gz": (
        _result_with(
            lambda r: (r / "signals.csv.gz").write_bytes((r / "signals.csv.gz").read_bytes()[:300])
        ),
        "corrupt",
    ),
    "signals.csv.gz not gzip": (_result_with(_write("signals.csv.gz", b"plain")), "corrupt"),
}


@pytest.mark.parametrize("command", ["report", "export"])
@pytest.mark.parametrize("case", RESULT_CASES, ids=list(RESULT_CASES))
def test_bad_result_folders_give_one_line(case, command, tmp_path):
    make, words = RESULT_CASES[case]
    src = tmp_path / "in"
    src.mkdir()
    res = make(src)
    before = snapshot(src)
    extra = ["--format", "csv"] if command == "export" else []
    code, _, err = cli(command, res, *extra, "--out", tmp_path / "out")
    assert code == 2, err
    assert_one_line_error(code, err, words)
    assert snapshot(src) == before


def _sqlite(d: Path) -> Path:
    p = d / "photos.db"
    with sqlite3.connect(p) as c:
        c.execute("CREATE TABLE t (x)")
    return p


DB_CASES = {
    "zero bytes": (_bytes(b"", "m.sqlite"), "empty file"),
    "text file": (_bytes(b"hello\n" * 50, "m.sqlite"), "not a spasm-cv monitor database"),
    "another program's SQLite": (_sqlite, "not a spasm-cv monitor database"),
    "a folder": (_folder("db"), "folder"),
    "missing": (lambda d: d / "none.sqlite", "no monitor database"),
}


@pytest.mark.parametrize("case", DB_CASES, ids=list(DB_CASES))
def test_report_db_on_bad_files_gives_one_line_and_touches_nothing(case, tmp_path):
    make, words = DB_CASES[case]
    src = tmp_path / "in"
    src.mkdir()
    db = make(src)
    before = snapshot(src)
    code, _, err = cli("report", "--db", db, "--out", tmp_path / "r.html")
    assert_one_line_error(code, err, words)
    assert snapshot(src) == before
    assert sorted(p.name for p in src.iterdir()) == sorted(before) + (
        ["db"] if case == "a folder" else []
    )


def test_monitor_refuses_another_programs_database_untouched(tmp_path):
    video = write_video(tmp_path / "clip.mp4", n=25)
    db = _sqlite(tmp_path)
    before = db.read_bytes()
    code, _, err = cli("monitor", "--source", video, "--headless", "--db", db, "--duration", 1)
    assert_one_line_error(code, err, "not a spasm-cv monitor database")
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "photos.db"]


@pytest.mark.parametrize("case", ["text renamed .mp4", "jpeg", "0.25 fps container", "missing"])
def test_monitor_and_phantom_refuse_bad_sources_in_one_line(case, tmp_path):
    make, _ = VIDEO_CASES[case]
    src = tmp_path / "in"
    src.mkdir()
    video = make(src)
    code, _, err = cli("monitor", "--source", video, "--headless", "--db", tmp_path / "m.sqlite")
    assert_one_line_error(code, err)
    code, _, err = cli(
        "phantom", video, "--out", tmp_path / "p.mp4", "--truth", tmp_path / "p.truth.tsv"
    )
    assert_one_line_error(code, err)


def test_batch_of_bad_videos_records_each_and_goes_on(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for i, case in enumerate(
        ["zero bytes", "text renamed .mp4", "0.25 fps container", "jpeg renamed .mp4"]
    ):
        d = tmp_path / f"m{i}"
        d.mkdir()
        shutil.move(VIDEO_CASES[case][0](d), videos / f"v{i}.mp4")
    code, out, err = cli("batch", videos, "--out", tmp_path / "out", "--quiet")
    assert code == 1 and "Traceback" not in err, err
    rows = (tmp_path / "out" / "batch.tsv").read_text().splitlines()[1:]
    assert len(rows) == 4 and all("\terror\t" in r for r in rows)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["batch.tsv"]


# ----------------------------------------------- inputs that reach MediaPipe (fast)


def _sample_frames(n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
    frames = []
    while len(frames) < n:
        ok, f = cap.read()
        assert ok
        frames.append(f)
    cap.release()
    return frames


@pytest.mark.slow  # MediaPipe on tiny frames
@pytest.mark.parametrize("size", [(33, 47), (641, 37), (37, 641)])
def test_odd_sizes_without_a_face_are_one_line(size, tmp_path):
    video = write_video(tmp_path / "odd.avi", n=8, size=size, fourcc="MJPG")
    code, _, err = cli("analyze", video, "--out", tmp_path / "r")
    assert_one_line_error(code, err)
    assert not (tmp_path / "r").exists()


@pytest.mark.slow  # MediaPipe on 2 s of a real face
def test_a_truncated_video_is_analysed_as_far_as_it_decodes_and_flagged(tmp_path):
    frames = _sample_frames(50)
    h, w = frames[0].shape[:2]
    whole = tmp_path / "whole.avi"
    vw = cv2.VideoWriter(str(whole), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()
    cut = tmp_path / "cut.avi"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.6)])
    code, out, err = cli("analyze", cut, "--out", tmp_path / "r")
    assert code == 0, err
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["quality"]["truncated"] is True and s["complete"] is True
    assert s["interrupted"] is None
    assert "truncated" in out
    with gzip.open(tmp_path / "r" / "signals.csv.gz", "rt") as f:
        assert 10 < sum(1 for _ in f) - 1 < 50
