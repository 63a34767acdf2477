"""Health data stays private (issue #17): stream passwords, owner-only files, de-identification.

1. A password in a stream URL never appears in what spasm-cv prints, stores or reports: the
   slow end-to-end test runs ``monitor`` on a real password-protected MJPEG stream served
   here on 127.0.0.1 (real FFmpeg, real MediaPipe) and searches stdout, stderr, the SQLite
   file with its WAL, every table, the clips' folder and the report for it.
2. The monitor's database (with WAL and SHM), clips and unsaved-row files are owner-only
   whatever the umask; ``--private`` makes results, reports and exports owner-only.
3. ``--deidentify`` writes no path, file name or date of the input: every output file is
   searched (compressed ones decompressed).
"""

from __future__ import annotations

import base64
import copy
import functools
import gzip
import json
import os
import pickle
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import zipfile
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_VIDEO, package_env, shared_video

from spasm_cv.batch.table import read_table
from spasm_cv.cli import main
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.detect import Detection, detect
from spasm_cv.events.simulate import SimEpisode, simulate_signals
from spasm_cv.events.table import Event
from spasm_cv.export import bids, elan
from spasm_cv.live.clips import ClipRecorder, ClipSettings
from spasm_cv.live.sources import CaptureSource
from spasm_cv.live.store import Batch, SessionInfo, Store
from spasm_cv.live.writer import StoreError, StoreWriter
from spasm_cv.pipeline import input_record
from spasm_cv.results.files import write_folder
from spasm_cv.results.recording import Recording
from spasm_cv.results.summary import Summary
from spasm_cv.signals.table import Signals
from spasm_cv.video.reader import VideoInfo

# New modules are imported in the tests that use them, so that the tests of the three defects
# of the issue run (and fail) on the code before it: test_unreachable_stream_error_shows_no_
# password, test_monitor_database_and_its_wal_and_shm_are_owner_only,
# test_deidentified_export_names_no_path_file_or_date.

PASSWORD = "s3cret-Pa55"
URL = f"rtsp://admin:{PASSWORD}@127.0.0.1:9/live"  # nothing listens on port 9


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask022():
    """The usual umask (files 0644), whatever the test runner's; restored afterwards."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt of Python code in this process to reach the network fails the test."""
    import socket

    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(real):
        def attempt(self, address):
            if self.family == getattr(socket, "AF_UNIX", None):
                return real(self, address)
            raise AssertionError(f"network connection attempted: {address}")

        return attempt

    def lookup(*args, **kwargs):
        raise AssertionError(f"name lookup attempted: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", guard(connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(connect_ex))
    monkeypatch.setattr(socket, "getaddrinfo", lookup)


# ====================================================================== 1. stream passwords


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (URL, "rtsp://***@127.0.0.1:9/live"),
        ("rtsp://admin@cam.local/live", "rtsp://***@cam.local/live"),
        ("rtsp://admin:p%40ss@10.0.0.5:554/h264", "rtsp://***@10.0.0.5:554/h264"),
        (
            "http://cam/video.cgi?user=admin&pwd=x1y2&res=hd",
            "http://cam/video.cgi?user=***&pwd=***&res=***",
        ),  # every value: any may be secret
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
    ],
)
def test_stream_urls_are_shown_without_credentials(url, shown):
    from spasm_cv._secrets import SecretUrl, redact_url

    assert redact_url(url) == shown
    secret = SecretUrl(url)
    assert secret.reveal() == url
    for text in (
        str(secret),
        repr(secret),
        f"{secret}",
        "%s" % (secret,),  # noqa: UP031 repr([secret]),
        repr({"source": secret}),
    ):
        assert shown in text
        assert ("admin" in text) == ("admin" in shown)
    assert pickle.loads(pickle.dumps(secret)).reveal() == url  # to worker processes, whole


def test_library_messages_are_scrubbed_of_known_secrets():
    from spasm_cv._secrets import SecretUrl, scrub

    SecretUrl(URL)  # seen once: its password is removed from any text from now on
    said = f"[rtsp @ 0x5] method DESCRIBE failed: 401 for {URL}; user admin:{PASSWORD}"
    clean = scrub(said)
    assert PASSWORD not in clean and "rtsp://***@127.0.0.1:9/live" in clean
    assert scrub("http://u:other-pass@h/x") == "http://***@h/x"  # any URL's credentials


def test_unreachable_stream_error_shows_no_password(tmp_path, capsys):
    """Defect 1 of the issue: the failure message printed the URL with its password."""
    db = tmp_path / "m.sqlite"
    code = main(["monitor", "--source", URL, "--headless", "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 2
    assert PASSWORD not in out + err and "admin" not in out + err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("spasm-cv: error: cannot open stream rtsp://***@127.0.0.1:9/live")
    assert "--source-env" in lines[0]  # the warning: the password is in the process list


def test_source_from_environment_or_owner_only_file(tmp_path, monkeypatch, capsys):
    from spasm_cv._secrets import read_secret_file

    db = str(tmp_path / "m.sqlite")

    def monitor(*args) -> tuple[int, str]:
        code = main(["monitor", *args, "--headless", "--db", db])
        out, err = capsys.readouterr()
        assert PASSWORD not in out + err
        return code, err.strip()

    monkeypatch.setenv("CAMERA_URL", URL)
    code, err = monitor("--source-env", "CAMERA_URL")
    assert code == 2 and err == (  # read from the variable; no warning about the process list
        "spasm-cv: error: cannot open stream rtsp://***@127.0.0.1:9/live (tried FFmpeg with "
        "a 5 s timeout): check the address and that the camera is on"
    )
    code, err = monitor("--source-env", "NO_SUCH_VARIABLE_17")
    assert code == 2 and "NO_SUCH_VARIABLE_17 is not set" in err

    secret = tmp_path / "camera.url"
    secret.write_text(f"# the living-room camera\n{URL}\n")
    secret.chmod(0o644)
    code, err = monitor("--source-file", str(secret))
    assert code == 2 and err == (
        f"spasm-cv: error: --source-file {secret} can be read or changed by other users (mode "
        f"0644): run `chmod 600 {secret}` (and change the camera's password if others may "
        "have read it)"
    )
    secret.chmod(0o600)
    code, err = monitor("--source-file", str(secret))
    assert code == 2 and "cannot open stream rtsp://***@127.0.0.1:9/live" in err
    assert read_secret_file(secret) == URL
    code, err = monitor("--source-file", str(tmp_path / "missing.url"))
    assert code == 2 and err.startswith("spasm-cv: error: --source-file: no such file")
    assert not Path(db).exists()  # nothing was written


def test_errors_inside_the_reader_thread_are_scrubbed():
    """OpenCV/FFmpeg errors may quote the address: what reaches the session is scrubbed."""
    from spasm_cv._secrets import SecretUrl

    url = SecretUrl(URL)

    class Failing:
        def read(self):
            raise cv2.error(f"OpenCV(4.x) cap_ffmpeg: cannot read {url.reveal()}")

        def release(self):
            pass

        def get(self, prop):
            return 25.0

    from spasm_cv.live.frames import SessionClock

    src = CaptureSource(Failing, f"stream {url}", "stream").open()
    src.start(SessionClock())
    with src:
        deadline = time.monotonic() + 5
        while (d := src.read(0.05)) and not d.finished and time.monotonic() < deadline:
            pass
    assert d.finished and "cannot read" in d.error
    assert PASSWORD not in d.error and "rtsp://***@127.0.0.1:9/live" in d.error
    assert PASSWORD not in repr(src.__dict__)


# ==================================================================== 2. owner-only files


def test_monitor_database_and_its_wal_and_shm_are_owner_only(tmp_path, umask022):
    """Defect 2 of the issue: the database was created with the umask (0644)."""
    db = tmp_path / "new" / "folder" / "monitor.sqlite"
    with Store(db) as store:
        sid = store.begin_session(
            SessionInfo(
                time.time(),
                "stream rtsp://***@127.0.0.1:9/live",
                "stream",
                25.0,
                640,
                480,
                False,
                {},
                "t",
                "m",
                "s",
            )
        )
        store.write(sid, time.time(), Batch.of(events=[_event(1.0)]))
        files = sorted(p.name for p in db.parent.iterdir())
        assert files == ["monitor.sqlite", "monitor.sqlite-shm", "monitor.sqlite-wal"]
        assert {p.name: mode(p) for p in db.parent.iterdir()} == dict.fromkeys(files, 0o600)
        assert PASSWORD.encode() not in (db.parent / "monitor.sqlite-wal").read_bytes()
    assert mode(db.parent) == mode(db.parent.parent) == 0o700  # the folders it made

    # an existing database keeps its mode: never changed behind the user's back
    old = tmp_path / "shared.sqlite"
    Store(old).close()
    old.chmod(0o640)
    Store(old).close()
    assert mode(old) == 0o640


def test_monitor_warns_about_or_refuses_an_open_database(tmp_path, capsys):
    db = tmp_path / "old.sqlite"
    Store(db).close()
    db.chmod(0o644)
    clips = tmp_path / "clips"
    clips.mkdir(mode=0o755)
    clips.chmod(0o755)
    args = ["monitor", "--camera", "9", "--headless", "--db", str(db), "--save-clips", str(clips)]
    assert main(args) == 2  # no camera 9: the warnings came first
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"spasm-cv: warning: other users can read the database {db} (mode 0644): run `chmod 600 "
        f"{db} {db}-wal {db}-shm` to keep it private"
    )
    assert err[1].startswith(f"spasm-cv: warning: other users can list the clip folder {clips}")
    assert err[2].startswith("spasm-cv: error: no camera could be opened")
    old = os.umask(0o022)
    try:
        assert main([*args, "--private"]) == 2
    finally:
        os.umask(old)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("spasm-cv: error: --private: other users can read the database")
    assert mode(db) == 0o644 and mode(clips) == 0o755  # still the user's choice


def _event(onset: float, duration: float = 0.5) -> Event:
    return Event(onset, duration, "spasm", "right", "twitch", "eye", 1, 0.6, 0.2, False, None, 0.7)


def test_clips_and_unsaved_rows_are_owner_only(tmp_path, umask022):
    rec = ClipRecorder(ClipSettings(tmp_path / "clips", pre_s=1.0, post_s=1.0, ring_s=5.0))
    rec.start(1, time.time(), 20.0, None)
    for i in range(20 * 5):
        rec.add(i / 20, np.full((48, 64, 3), i % 255, np.uint8))
        if i == 60:
            rec.request(_event(2.0))
        time.sleep(0.002)
    rec.close()
    (clip,) = rec.saved
    assert mode(tmp_path / "clips") == 0o700 and mode(clip) == 0o600

    db = tmp_path / "full.sqlite"  # a full disk: the rows go to a JSON file beside the database
    store = Store(db)
    sid = store.begin_session(
        SessionInfo(
            time.time(),
            "stream rtsp://***@127.0.0.1:9/live",
            "stream",
            25.0,
            640,
            480,
            False,
            {},
            "t",
            "m",
            "s",
        )
    )
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count={pages}")
    writer = StoreWriter(store, sid, time.time(), retry_s=(0.1, 0.2), close_timeout_s=0.5)
    writer.submit(Batch.of(events=[_event(float(i)) for i in range(300)]))
    with pytest.raises(StoreError):
        writer.close(time.time(), f"source failed: {URL}", None)
    store.close()
    (dump,) = tmp_path.glob("full.sqlite.unsaved-session*.json")
    assert mode(dump) == 0o600
    assert PASSWORD not in dump.read_text()


@functools.cache
def _simulated_visit() -> tuple[Signals, Detection]:
    """50 s with six episodes, detected: made once a run (callers copy them)."""
    eps = tuple(
        SimEpisode(
            5.0 + 7 * i,
            "right",
            ("twitch", "clonic", "tonic")[i % 3],
            0.7,
            n_contractions=3 if i % 3 == 1 else 1,
            hold_s=1.2 if i % 3 == 2 else 0.08,
        )
        for i in range(6)
    )
    signals, _ = simulate_signals(50.0, 30.0, episodes=eps, seed=7)
    signals.meta["fps"] = 30.0
    return signals, detect(signals)


def _synthetic_result(root: Path, recorded_at: datetime) -> tuple[Path, Path]:
    """A result folder made by the real writers from simulated signals (no MediaPipe), for a
    video whose path names a patient: ``<root>/Patients/Jane Doe/jane_doe_visit2.mp4``."""
    video = root / "Patients" / "Jane Doe" / "jane_doe_visit2.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\0" * 2048)  # only its name, size and time are read
    os.utime(video, (recorded_at.timestamp() + 60, recorded_at.timestamp() + 60))
    signals, det = copy.deepcopy(_simulated_visit())
    info = VideoInfo(str(video), 640, 480, 30.0, len(signals), 0, "avc1")
    summary = Summary.of_analysis(signals, det, input_record(video, info, False), 3.0, recorded_at)
    out = root / "results" / "jane_doe_visit2.spasm-cv"
    write_folder(out, Recording.from_analysis(signals, det, summary, out))
    return out, video


def test_private_option_makes_outputs_owner_only(tmp_path, umask022, capsys):
    result, _ = _synthetic_result(tmp_path, datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc))
    assert main(["report", str(result), "--out", str(tmp_path / "open.html")]) == 0
    assert mode(tmp_path / "open.html") == 0o644  # the umask decides by default
    assert main(["export", str(result), "--format", "csv", "--out", str(tmp_path / "c")]) == 0
    assert {mode(p) for p in (tmp_path / "c").iterdir()} == {0o644}

    assert main(["report", str(result), "--out", str(tmp_path / "r" / "r.html"), "--private"]) == 0
    assert os.umask(0o022) == 0o022  # main() gave the umask back
    assert mode(tmp_path / "r" / "r.html") == 0o600 and mode(tmp_path / "r") == 0o700
    for fmt in ("csv", "json", "elan", "bids"):
        out = tmp_path / f"private-{fmt}"
        assert main(["export", str(result), "--format", fmt, "--out", str(out), "--private"]) == 0
        assert mode(out) == 0o700
        inside = list(out.rglob("*"))
        assert {mode(p) for p in inside if p.is_file()} == {0o600}, fmt
        assert {mode(p) for p in inside if p.is_dir()} <= {0o700}, fmt
    capsys.readouterr()


# ==================================================================== 3. de-identification


def _texts(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` as text (gzip and zip members decompressed), and every
    file and folder name, for searching."""
    out = {}
    for p in sorted(folder.rglob("*")):
        out[f"name of {p.relative_to(folder)}"] = p.name
        if not p.is_file():
            continue
        data = p.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if data[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(p) as z:
                data = b"\n".join(z.read(n) for n in z.namelist())
        out[str(p.relative_to(folder))] = data.decode("utf-8", errors="replace")
    return out


def _identifying(video: Path, recorded_at: datetime) -> list[str]:
    """What must not be in a de-identified output of ``video`` recorded at ``recorded_at``."""
    words = ["jane", "doe", "visit2", "patients", str(video.parent.parent.parent).lower()]
    days = {recorded_at.astimezone(timezone.utc).date(), recorded_at.date()}
    days.add(datetime.fromtimestamp(video.stat().st_mtime, timezone.utc).date())
    return words + [d.isoformat() for d in days] + [d.strftime("%Y%m%d") for d in days]


def _assert_clean(folder: Path, forbidden: list[str]) -> None:
    texts = _texts(folder)
    assert texts
    # whole words: "doe" is a leak, "does" is not
    leaks = [
        (where, f)
        for where, text in texts.items()
        for f in forbidden
        if re.search(rf"(?<![a-z0-9]){re.escape(f)}(?![a-z0-9])", text.lower())
    ]
    assert not leaks, leaks[:5]


def test_deidentified_export_names_no_path_file_or_date(tmp_path, capsys, no_network):
    """Defect 3 of the issue: summary.json and every export carried the video's path and name.
    Each export format of a result folder of ``jane_doe_visit2.mp4`` is searched."""
    recorded = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)
    result, video = _synthetic_result(tmp_path, recorded)
    forbidden = _identifying(video, recorded)
    assert "jane_doe_visit2" in (result / "summary.json").read_text()  # the input, as written
    for fmt in ("csv", "json", "elan", "bids"):
        out = tmp_path / "shared" / fmt
        assert (
            main(
                [
                    "export",
                    str(result),
                    str(result),
                    "--format",
                    fmt,
                    "--out",
                    str(out),
                    "--deidentify",
                ]
            )
            == 0
        )
        assert "jane" not in capsys.readouterr().out.lower()
    _assert_clean(tmp_path / "shared", forbidden)

    # the field's readers read them, numbers intact, labelled rec01/rec02 in the order given
    shared = tmp_path / "shared"
    recs = pd.read_csv(shared / "csv" / "recordings.csv")
    assert list(recs["recording"]) == ["rec01", "rec02"] and recs["path"].isna().all()
    assert recs["start"].isna().all()
    episodes = pd.read_csv(shared / "csv" / "events.csv")  # every event of both recordings
    assert len(episodes) == 2 * len(Recording.from_folder(result).events)
    assert episodes["clock_onset"].isna().all()
    doc = json.loads((shared / "json" / "rec01.json").read_text())
    assert doc["start"] is None and doc["summary"]["recorded_at"] is None
    assert doc["summary"]["input"] == {
        "fps": 30.0,
        "width": 640,
        "height": 480,
        "n_frames": 1500,
        "rotation_deg": 0,
        "codec": "avc1",
        "mirrored": False,
        "name": "rec01",
        "deidentified": {"dates": "removed"},
    }
    events, media = elan.read_eaf(shared / "elan" / "rec01.eaf")
    assert media == {} and len(events) == len(Recording.from_folder(result).events)
    beh = shared / "bids" / "sub-01" / "beh"  # a BIDS dataset: runs by recording time
    assert {p.name for p in beh.iterdir()} >= {
        "sub-01_task-face_run-1_events.json",
        "sub-01_task-face_run-1_events.tsv",
        "sub-01_task-face_run-2_events.json",
        "sub-01_task-face_run-2_events.tsv",
    }
    assert bids.check_result(result) == []


def test_date_shift_keeps_times_of_day_and_intervals(tmp_path, capsys):
    first = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)
    a, video = _synthetic_result(tmp_path / "a", first)
    b, _ = _synthetic_result(tmp_path / "b", first + timedelta(days=30, hours=2))
    out = tmp_path / "shared"
    assert (
        main(
            [
                "export",
                str(a),
                str(b),
                "--format",
                "csv",
                "--out",
                str(out),
                "--deidentify",
                "--date-shift",
                "-1000",
            ]
        )
        == 0
    )
    rows = pd.read_csv(out / "recordings.csv")
    starts = [datetime.fromisoformat(s) for s in rows["start"]]
    assert starts[0] == first - timedelta(days=1000)
    assert starts[1] - starts[0] == timedelta(days=30, hours=2)
    _assert_clean(out, _identifying(video, first))
    assert "-1000" not in (out / "recordings.csv").read_text()  # the shift is written nowhere
    assert main(["export", str(a), "--format", "csv", "--out", str(out), "--date-shift", "3"]) == 2
    assert "--date-shift goes with --deidentify" in capsys.readouterr().err


def test_report_says_whether_it_was_deidentified(tmp_path, capsys, no_network):
    from spasm_cv.results.deidentify import Deidentify, deidentify, is_deidentified

    recorded = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)
    result, video = _synthetic_result(tmp_path, recorded)
    plain = tmp_path / "plain.html"
    assert main(["report", str(result), "--out", str(plain)]) == 0
    assert "de-identified" not in plain.read_text() and "jane_doe_visit2" in plain.read_text()

    # a result folder written de-identified (what analyze --deidentify writes)
    rec = deidentify(Recording.from_folder(result), "s01", Deidentify(date_shift_days=-400))
    assert is_deidentified(rec) and rec.start == recorded - timedelta(days=400)
    folder = write_folder(tmp_path / "deid" / "r", rec)
    assert main(["report", str(folder), "--out", str(tmp_path / "deid" / "r.html")]) == 0
    text = (tmp_path / "deid" / "r.html").read_text()
    assert (
        "<b>The recordings were de-identified</b>: labelled without file names or paths, "
        "their dates shifted by a number of days not stated here (times of day kept)." in text
    )
    assert (recorded - timedelta(days=400)).strftime("%Y-%m-%d") in text

    # report --deidentify: the page itself, from an ordinary result folder
    out = tmp_path / "page"
    assert (
        main(
            [
                "report",
                str(result),
                "--out",
                str(out / "r.html"),
                "--deidentify",
                "--treatment",
                "2026-03-01:BoNT-A",
            ]
        )
        == 2
    )
    assert "--date-shift" in capsys.readouterr().err
    assert main(["report", str(result), "--out", str(out / "r.html"), "--deidentify"]) == 0
    text = (out / "r.html").read_text()
    assert "their dates and times removed" in text and "time unknown" in text
    _assert_clean(out, _identifying(video, recorded))


def test_deidentify_refuses_a_label_made_of_a_path(tmp_path):
    from spasm_cv.results.deidentify import deidentify

    result, _ = _synthetic_result(tmp_path, datetime(2026, 3, 4, tzinfo=timezone.utc))
    with pytest.raises(SpasmCvError, match="letters and digits"):
        deidentify(Recording.from_folder(result), "jane_doe/visit2")


@pytest.mark.slow  # MediaPipe
def test_analyze_deidentify_writes_a_shareable_result_folder(
    tmp_path, umask022, capsys, no_network
):
    """``analyze --deidentify --private`` of the sample saved under a patient's name (and no
    network connection on the way)."""
    video = tmp_path / "Patients" / "Jane Doe" / "jane_doe_visit2.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(SAMPLE_VIDEO.read_bytes())
    recorded = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)
    os.utime(video, (recorded.timestamp() + 60, recorded.timestamp() + 60))
    out = tmp_path / "study" / "s01.spasm-cv"
    assert (
        main(
            [
                "analyze",
                str(video),
                "--out",
                str(out),
                "--deidentify",
                "--private",
                "--recorded-at",
                recorded.isoformat(),
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith("s01: ")  # the label, not the file name
    _assert_clean(tmp_path / "study", _identifying(video, recorded))
    assert mode(out) == 0o700 and {mode(p) for p in out.iterdir()} == {0o600}
    rec = Recording.from_folder(out)
    assert rec.name == "s01" and rec.start is None and rec.summary.episodes.total.count >= 7
    assert main(["analyze", str(video), "--deidentify"]) == 2  # the default folder names it
    assert "needs --out" in capsys.readouterr().err


@pytest.mark.slow  # MediaPipe
def test_batch_deidentify_labels_folders_and_keeps_the_key_apart(tmp_path, capsys):
    videos = tmp_path / "Patients"
    videos.mkdir()
    for name in ("jane_doe_visit1.mp4", "john_roe_visit1.mp4"):
        (videos / name).write_bytes(shared_video("c3_grid_man_bbaf2n.mp4").read_bytes())
    out, key = tmp_path / "shared", tmp_path / "private" / "key.tsv"
    key.parent.mkdir()
    args = ["batch", str(videos), "--out", str(out), "--jobs", "1", "--quiet", "--deidentify"]
    assert main([*args, "--key", str(out / "key.tsv")]) == 2
    assert "outside the folder you share" in capsys.readouterr().err
    assert main([*args, "--key", str(key)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["batch.tsv", "rec001", "rec002"]
    texts = "\n".join(_texts(out).values()).lower()
    for word in ("jane", "john", "doe", "roe", "visit1", "patients", str(tmp_path).lower()):
        assert word not in texts, word
    assert mode(key) == 0o600
    rows = key.read_text().splitlines()
    assert rows[0].split("\t") == ["label", "video", "size_bytes", "mtime", "mirrored"]
    assert [r.split("\t")[:2] for r in rows[1:]] == [
        ["rec001", str((videos / "jane_doe_visit1.mp4").resolve())],
        ["rec002", str((videos / "john_roe_visit1.mp4").resolve())],
    ]
    # a third video later: the first two keep their labels and are not analysed again
    (videos / "aaa_first.mp4").write_bytes(shared_video("c3_grid_man_bbaf2n.mp4").read_bytes())
    assert main([*args, "--key", str(key)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["batch.tsv", "rec001", "rec002", "rec003"]
    table = (out / "batch.tsv").read_text()
    assert "aaa_first" not in table and table.count("\tn/a\trec00") == 3
    elapsed = {r["name"]: float(r["elapsed_s"]) for r in read_table(out / "batch.tsv")}
    assert elapsed["rec001"] == elapsed["rec002"] == 0.0 < elapsed["rec003"]  # resumed


# ================================================================ 1+2. monitor end to end


class _Camera:
    """A password-protected MJPEG camera on 127.0.0.1 (HTTP basic auth), 25 fps.

    Serves the bundled sample's frames in real time; the first connection drops after
    ``drop_after`` frames (a lost stream, reconnected by the monitor), the next goes on.
    """

    def __init__(self, frames: list[bytes], drop_after: int):
        self.frames, self.drop_after, self.next = frames, drop_after, 0
        self.auth = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        self.connections = 0
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                by_query = f"loginpas={PASSWORD}" in self.path  # a camera's own query login
                if self.headers.get("Authorization") != camera.auth and not by_query:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.end_headers()
                    return
                camera.connections += 1
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                sent, due = 0, time.monotonic()
                try:
                    while camera.next < len(camera.frames):
                        if camera.connections == 1 and sent == camera.drop_after:
                            return  # the stream drops
                        jpeg = camera.frames[camera.next]
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\n"
                            b"Content-Length: %d\r\n\r\n" % len(jpeg) + jpeg + b"\r\n"
                        )
                        camera.next += 1
                        sent += 1
                        due += 1 / 25
                        time.sleep(max(due - time.monotonic(), 0))
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://admin:{PASSWORD}@127.0.0.1:{self.server.server_port}/cam.mjpg"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def camera():
    if not SAMPLE_VIDEO.is_file():
        pytest.skip("bundled sample video missing")
    from spasm_cv.video.reader import read_frames

    frames = []
    for f, _ in zip(read_frames(SAMPLE_VIDEO), range(25 * 16), strict=False):
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(f.rgb, cv2.COLOR_RGB2BGR))
        frames.append(jpeg.tobytes())
    cam = _Camera(frames, drop_after=25 * 9)
    yield cam
    cam.close()


def _all_rows(db: Path) -> str:
    """Every value of every table and view of a SQLite file, as one text."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        names = [
            r[0]
            for r in c.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        ]
        return "\n".join(repr(c.execute(f'SELECT * FROM "{n}"').fetchall()) for n in names)


@pytest.mark.slow  # MediaPipe, 13 s at real time
def test_monitor_of_a_password_protected_stream_keeps_the_password_and_the_data_private(
    tmp_path, camera
):
    """``monitor --source http://admin:PASSWORD@... --save-clips`` under umask 022, then
    ``report --db``: the password is nowhere (stdout, stderr, every table, the WAL while the
    session runs, the files after, the report), and the database, its WAL/SHM and the clips
    are owner-only in owner-only folders."""
    db, clips, report = tmp_path / "data" / "m.sqlite", tmp_path / "clips", tmp_path / "r.html"
    cmd = [
        sys.executable,
        "-m",
        "spasm_cv",
        "monitor",
        "--source",
        camera.url,
        "--headless",
        "--duration",
        "13",
        "--db",
        str(db),
        "--save-clips",
        str(clips),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=package_env(),
        umask=0o022,
    )
    wal = Path(f"{db}-wal")
    seen_wal = b""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if wal.exists() and camera.next > 25 * 6:  # rows written: look at them in the WAL
                seen_wal = wal.read_bytes()
                modes = {p.name: mode(p) for p in db.parent.iterdir()}
                break
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert seen_wal, "the session's rows were never seen in the WAL"
    assert PASSWORD.encode() not in seen_wal and b"admin" not in seen_wal
    assert modes == {"m.sqlite": 0o600, "m.sqlite-wal": 0o600, "m.sqlite-shm": 0o600}

    redacted = f"http://***@127.0.0.1:{camera.server.server_port}/cam.mjpg"
    assert PASSWORD not in out + err and "admin" not in out + err
    assert f"monitoring stream {redacted}" in out and "--source-env" in err
    assert camera.connections >= 2  # the stream dropped and was reopened
    rows = _all_rows(db)
    assert PASSWORD not in rows and "admin" not in rows
    assert f"'stream {redacted}'" in rows  # the session's source
    assert rows.count(f"stream {redacted}") >= 2  # and the gap's reason
    for p in tmp_path.rglob("*"):  # the database (checkpointed), clips, everything
        if p.is_file():
            assert PASSWORD.encode() not in p.read_bytes(), p

    assert mode(db.parent) == 0o700 and mode(db) == 0o600
    saved = list(clips.iterdir())
    assert saved and mode(clips) == 0o700 and {mode(p) for p in saved} == {0o600}

    result = subprocess.run(
        [sys.executable, "-m", "spasm_cv", "report", "--db", str(db), "--out", str(report)],
        capture_output=True,
        text=True,
        env=package_env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    page = report.read_text()
    assert PASSWORD not in page + result.stdout + result.stderr and "admin" not in page
    assert redacted in page


QUERY_SECRET = "q-Secret-77"


def test_stream_error_shows_no_query_or_fragment_value(tmp_path, capsys):
    """Issue 22, item 13: ``?auth_token=`` and ``#token=`` values were printed in the
    "cannot open stream" error (only user:password and a few key names were redacted)."""
    url = f"http://127.0.0.1:9/v.mjpg?auth_token={QUERY_SECRET}&res=hd#token={QUERY_SECRET}x"
    code = main(["monitor", "--source", url, "--headless", "--db", str(tmp_path / "m.sqlite")])
    out, err = capsys.readouterr()
    assert code == 2
    assert QUERY_SECRET not in out + err
    assert "cannot open stream http://127.0.0.1:9/v.mjpg?auth_token=***&res=***#token=***" in err


@pytest.mark.slow  # MediaPipe, 5 s at real time
def test_monitor_of_a_stream_with_a_password_in_its_query_keeps_it_private(tmp_path, camera):
    """Issue 22, item 13: ``--source http://.../cam.mjpg?loginpas=PASSWORD`` (a camera that
    logs in by query) showed the password in the status line, stored it in
    ``sessions.source`` and gave it to ``report --db`` and ``export --db``. Real stream, real
    monitor; the password is searched in every output."""
    db, report, export = tmp_path / "m.sqlite", tmp_path / "r.html", tmp_path / "export"
    url = f"http://127.0.0.1:{camera.server.server_port}/cam.mjpg?loginpas={PASSWORD}&ch=1"
    cmd = [
        sys.executable,
        "-m",
        "spasm_cv",
        "monitor",
        "--source",
        url,
        "--headless",
        "--duration",
        "5",
        "--db",
        str(db),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, env=package_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    assert camera.connections >= 1  # it did log in with the password
    redacted = f"http://127.0.0.1:{camera.server.server_port}/cam.mjpg?loginpas=***&ch=***"
    assert f"monitoring stream {redacted}" in run.stdout
    rows = _all_rows(db)
    assert f"'stream {redacted}'" in rows  # sessions.source: the redacted form only
    texts = [run.stdout, run.stderr, rows]
    for args in (
        ["report", "--db", str(db), "--out", str(report)],
        ["export", "--db", str(db), "--format", "json", "--out", str(export)],
        ["export", "--db", str(db), "--format", "csv", "--out", str(export)],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "spasm_cv", *args],
            capture_output=True,
            text=True,
            env=package_env(),
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        texts += [done.stdout, done.stderr]
    assert redacted.replace("&", "&amp;") in report.read_text()
    assert not [t for t in texts if PASSWORD in t]
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert PASSWORD.encode() not in p.read_bytes(), p


def test_report_of_a_database_from_before_shows_no_password(tmp_path):
    """A database written by an older version holds the address as given: reading it for a
    report removes the password."""
    from spasm_cv.live.sessions import load_recordings
    from spasm_cv.report.html import build_html

    db = tmp_path / "old.sqlite"
    with Store(db) as store:
        sid = store.begin_session(
            SessionInfo(time.time() - 120, "x", "stream", 25.0, 640, 480, False, {}, "t", "m", "s")
        )
        store.write(sid, time.time() - 120, Batch.of(events=[_event(1.0)]))
        store.end_session(sid, time.time(), "source failed")
        store.conn.execute(
            "UPDATE sessions SET source=?, end_reason=?",
            (f"stream {URL}", f"source failed: stream {URL} lost"),
        )
        store.conn.execute(
            "INSERT INTO gaps VALUES (?,?,?,?,?,?)",
            (
                sid,
                5.0,
                6.0,
                "2026-03-01T09:30:05.000+00:00",
                "2026-03-01T09:30:06.000+00:00",
                f"stream {URL} lost; reconnecting",
            ),
        )
    (rec,) = load_recordings(db)
    assert rec.name == "monitor session 1 (stream rtsp://***@127.0.0.1:9/live)"
    assert PASSWORD not in repr(rec.meta) + repr(rec.summary.to_dict())
    assert PASSWORD not in build_html([rec])
