"""Live monitoring (issue #6): sources, store, aggregates, clips, preview, end to end.

Fast tests use fakes (no MediaPipe). The slow ones run the real monitor on the bundled
phantom played at real time: ``monitor --source FILE`` goes through the live code path
(reader thread, bounded queue, streaming detector, store writer thread).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE_TRUTH, SAMPLE_VIDEO

from spasm_cv.errors import SpasmCvError
from spasm_cv.evaluation import EvaluationParams, evaluate_events, read_truth
from spasm_cv.evaluation.tables import EventTable
from spasm_cv.events.detect import detect
from spasm_cv.events.simulate import SimEpisode, simulate_signals
from spasm_cv.events.table import Event
from spasm_cv.live.clips import ClipRecorder, ClipSettings
from spasm_cv.live.devices import open_source
from spasm_cv.live.frames import FrameQueue, LiveFrame, ReconnectPolicy, SessionClock
from spasm_cv.live.minutes import MinuteAggregator
from spasm_cv.live.monitor import FrameView, MonitorSettings, MonitorStatus
from spasm_cv.live.schema import APPLICATION_ID, SCHEMA_VERSION, default_db_path
from spasm_cv.live.sessions import load_recordings
from spasm_cv.live.sources import CaptureSource
from spasm_cv.live.store import Batch, SessionInfo, Store
from spasm_cv.live.writer import StoreError, StoreWriter
from spasm_cv.results.observation import DEFAULT_THRESHOLDS
from spasm_cv.results.summary import Summary, coverage
from spasm_cv.signals.table import Signals

# Set to keep the preview screenshot (to look at it); otherwise it goes to tmp_path.
SCREENSHOT_DIR = (
    Path(os.environ["SPASM_CV_SCREENSHOTS"]) if "SPASM_CV_SCREENSHOTS" in os.environ else None
)


def _event(onset, side="right", trial_type="spasm", duration=0.3, kind="twitch") -> Event:
    return Event(
        onset,
        duration,
        trial_type,
        side,
        kind if trial_type == "spasm" else None,
        "eye",
        1,
        0.6,
        0.2,
        False,
        None,
        0.7,
    )


def _info(t0: float | None = None) -> SessionInfo:
    return SessionInfo(
        t0 or time.time(),
        "fake",
        "camera",
        30.0,
        640,
        480,
        False,
        {"params": {}},
        "test",
        "model",
        "sha",
    )


# ------------------------------------------------------------------------- sources


def test_frame_queue_keeps_newest_frames_and_counts_drops():
    q = FrameQueue(3)
    for i in range(5):
        q.put(LiveFrame(float(i), np.zeros((2, 2, 3), np.uint8)))
    frame, dropped, lost, done, _ = q.get(0.01)
    assert frame.time_s == 2.0 and dropped == 2 and lost is None and not done
    assert [q.get(0.01)[0].time_s for _ in range(2)] == [3.0, 4.0]
    q.finish()
    assert q.get(0.01)[3] is True


class PacedCamera:
    """A fake camera replaying frames at ``fps``; dead (``mode='fail'``: read fails, reopening
    fails) or silent (``mode='stall'``: read blocks) while ``outage`` (monotonic) lasts."""

    def __init__(self, frames, fps, outage, mode="fail"):
        self.frames, self.fps, self.outage, self.mode = frames, fps, outage, mode
        self.i, self.due = 0, time.monotonic()

    def _down(self) -> bool:
        return self.outage[0] <= time.monotonic() < self.outage[1]

    def read(self):
        if self._down():
            if self.mode == "fail":
                return False, None
            time.sleep(max(self.outage[1] - time.monotonic(), 0))
        time.sleep(max(self.due - time.monotonic(), 0))
        self.due = max(self.due + 1 / self.fps, time.monotonic() - 1 / self.fps)
        frame = self.frames[self.i % len(self.frames)]
        self.i += 1
        return True, frame

    def get(self, prop):
        return self.fps if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self):
        pass


def _fake_camera(frames, fps, outage, mode="fail", policy=None):
    state = {"i": 0}

    def opener():
        if mode == "fail" and outage[0] <= time.monotonic() < outage[1]:
            return None
        cam = PacedCamera(frames, fps, outage, mode)
        cam.i = state["i"]
        state["cam"] = cam
        return cam

    return CaptureSource(opener, "fake camera", "camera", policy=policy)


@pytest.mark.slow  # 2.5 s of wall-clock time
@pytest.mark.parametrize("mode", ["fail", "stall"])
def test_source_gap_is_recorded_and_reading_resumes(mode):
    frames = [np.full((48, 64, 3), 100, np.uint8)]
    outage = [np.inf, np.inf]
    policy = ReconnectPolicy(first_delay_s=0.2, stall_s=0.5)
    src = _fake_camera(frames, 30.0, outage, mode, policy).open()
    clock = SessionClock()
    outage[:] = [clock.t0_mono + 0.5, clock.t0_mono + 1.5]
    src.start(clock)
    gaps, times = [], []
    with src:
        while clock.now() < 2.5:
            d = src.read(0.05)
            gaps += d.gaps
            if d.frame is not None:
                times.append(d.frame.time_s)
    opened = [g for g in gaps if g.end_s is None]
    closed = [g for g in gaps if g.end_s is not None]
    assert len(opened) == 1 and len(closed) == 1
    g = closed[0]
    assert 0.45 <= g.start_s <= 0.6 and 1.45 <= g.end_s <= 2.2, g
    assert ("lost" in g.reason) if mode == "fail" else ("no frame" in g.reason)
    assert max(times) > 2.0  # frames came again after the gap
    assert not any(g.start_s < t < g.end_s for t in times)


def test_camera_absent_says_what_was_tried(capsys):
    with pytest.raises(SpasmCvError) as err:
        open_source(camera=9)
    msg = str(err.value)
    assert "camera 9" in msg and "--source" in msg
    from spasm_cv.cli import main

    assert main(["monitor", "--camera", "9", "--headless", "--db", os.devnull + "x"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spasm-cv: error: no camera could be opened")


def test_missing_source_file_is_a_user_error():
    with pytest.raises(SpasmCvError, match="no such file"):
        open_source(source="/nonexistent/video.mp4")


# --------------------------------------------------------------------------- store


def test_default_db_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "spasm-cv" / "spasm-cv.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_db_path() == Path.home() / ".local/share/spasm-cv/spasm-cv.sqlite"


def test_store_schema_wal_and_migration_checks(tmp_path):
    db = tmp_path / "a.sqlite"
    with Store(db) as store:
        sid = store.begin_session(_info())
        store.write(sid, time.time(), Batch.of(events=[_event(1.0), _event(2.0, "left")]))
        mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("SELECT count(*) FROM episodes").fetchone()[0] == 2
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(SpasmCvError, match="newer spasm-cv"):
        Store(db)
    other = tmp_path / "other.sqlite"
    c = sqlite3.connect(other)
    c.execute("CREATE TABLE t (x)")
    c.commit()
    c.close()
    with pytest.raises(SpasmCvError, match="not a spasm-cv monitor database"):
        Store(other)
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(SpasmCvError):
        Store(tmp_path / "junk.sqlite")


@pytest.mark.slow  # holds the database locked for seconds
def test_writer_keeps_data_while_database_is_locked(tmp_path):
    db = tmp_path / "locked.sqlite"
    store = Store(db)
    sid = store.begin_session(_info())
    writer = StoreWriter(store, sid, time.time(), retry_s=(0.1, 0.3))
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    writer.submit(Batch.of(events=[_event(1.0)]))
    deadline = time.monotonic() + 10
    while writer.error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writer.error and "locked" in writer.error
    writer.submit(Batch.of(events=[_event(2.0)]))  # more data while failing: kept too
    blocker.execute("ROLLBACK")
    writer.close(time.time(), "test")
    assert [e.onset for e in store.events(sid)] == [1.0, 2.0]
    store.close()


def test_writer_survives_disk_full_then_dumps_what_it_could_not_write(tmp_path):
    db = tmp_path / "full.sqlite"
    store = Store(db)
    sid = store.begin_session(_info())
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count={pages}")  # the 'disk' is full now
    writer = StoreWriter(store, sid, time.time(), retry_s=(0.1, 0.2), close_timeout_s=0.5)
    many = [_event(float(i)) for i in range(300)]
    writer.submit(Batch.of(events=many))
    deadline = time.monotonic() + 10
    while writer.error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "full" in writer.error
    with pytest.raises(StoreError) as err:
        writer.close(time.time(), "test", _info())
    dumps = list(tmp_path.glob("full.sqlite.unsaved-session*.json"))
    assert len(dumps) == 1 and str(dumps[0]) in str(err.value)
    saved = json.loads(dumps[0].read_text())
    assert len(saved["unsaved"]["events"]) == 300
    store.close()


def _close(a, b) -> bool:
    """Nested dicts/lists equal, floats within 1e-9 relative."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b


def _plain(value, short: bool | None = None):
    """Typed summary numbers as summary.json holds them (rates flagged ``short``: too little
    observed time for a rate, see spasm_cv.results.observation)."""
    if hasattr(value, "to_dict"):
        return value.to_dict(short)
    if isinstance(value, dict):
        return {k: _plain(v, short) for k, v in value.items()}
    return value


def test_stored_session_summary_equals_offline_summary(tmp_path):
    """Per-minute aggregates + stored events give the offline summary's numbers for the same
    frames."""
    fps = 30.0
    eps = tuple(
        SimEpisode(7.0 + 9 * i, "left" if i % 3 else "right", "twitch", 0.7) for i in range(10)
    )
    signals, _ = simulate_signals(100.0, fps, episodes=eps, blinks_per_min=15, seed=3)
    signals.meta["fps"] = fps
    keep = np.ones(len(signals), bool)
    keep[300:330] = False  # a hole of dropped frames: frame durations are capped
    signals = Signals(
        signals.time[keep],
        signals.face[keep],
        signals.n_faces[keep],
        {k: v[keep] for k, v in signals.columns.items()},
        signals.meta,
    )
    det = detect(signals)
    numbers = Summary.numbers(det.events, coverage(det.activity, fps))
    short = DEFAULT_THRESHOLDS.rates_insufficient(numbers["observed_s"])
    expected = {k: _plain(v, short) for k, v in numbers.items()}
    t0 = 1_700_000_030.0  # half a minute past a minute boundary
    agg = MinuteAggregator(t0, fps)
    a = det.activity
    for i in range(len(signals)):
        agg.frame(
            float(a.time[i]),
            bool(signals.face[i]),
            int(signals.n_faces[i]),
            {s: a.measurable[s][i] for s in ("right", "left")},
            {s: a.closure[s][i] for s in ("right", "left")},
        )
    agg.finish()
    for e in det.events:
        agg.event(e)
    db = tmp_path / "s.sqlite"
    with Store(db) as store:
        sid = store.begin_session(_info(t0))
        store.write(sid, t0, Batch.of(events=det.events, minutes=agg.take_dirty()))
        store.end_session(sid, t0 + 100, "test")
    (rec,) = load_recordings(db)
    got = rec.summary.to_dict()
    for key in (
        "observed_s",
        "episodes",
        "mouth_only",
        "blinks",
        "affected_side",
        "contractions",
        "longest_tonic_s",
    ):
        assert _close(got[key], expected[key]), key
    for s in ("right", "left"):
        assert got["closed_fraction"][s] == pytest.approx(expected["closed_fraction"][s])
        assert got["observed_s_by_side"][s] == pytest.approx(expected["observed_s_by_side"][s])
    assert set(expected) <= set(got)
    assert rec.source == "monitor" and rec.track is None and rec.events == det.events
    assert len(rec.minutes) == 3  # 100 s starting half a minute in
    assert rec.minutes.columns["episodes"].sum() == expected["episodes"]["total"]["count"]


def test_report_reads_sessions_from_the_database(tmp_path):
    from spasm_cv.cli import main

    db = tmp_path / "r.sqlite"
    t0 = time.time() - 3600
    with Store(db) as store:
        sid = store.begin_session(_info(t0))
        agg = MinuteAggregator(t0, 30.0)
        for i in range(30 * 120):
            agg.frame(i / 30, True, 1, {"right": True, "left": True}, {"right": 0.0, "left": 0.0})
        evs = [_event(10.0), _event(50.0), _event(70.0, "left")]
        for e in evs:
            agg.event(e)
        store.write(sid, t0, Batch.of(events=evs, minutes=agg.take_dirty()))
        store.end_session(sid, t0 + 120, "test")
    out = tmp_path / "report.html"
    assert main(["report", "--db", str(db), "--out", str(out)]) == 0
    assert out.is_file() and out.stat().st_size > 1000
    assert (
        main(
            [
                "report",
                "--db",
                str(db),
                "--from",
                "2001-01-01",
                "--to",
                "2001-01-02",
                "--out",
                str(out),
            ]
        )
        == 2
    )  # no session on those days: one-line error
    assert main(["report", "--from", "2001-01-01", "--out", str(out)]) == 2  # --db missing


# -------------------------------------------------------------------------- clips


def test_clip_written_around_an_episode(tmp_path):
    rec = ClipRecorder(ClipSettings(tmp_path / "clips", pre_s=1.0, post_s=1.0, ring_s=5.0))
    rec.start(1, time.time(), 20.0, None)
    for i in range(20 * 6):
        t = i / 20
        rec.add(t, np.full((48, 64, 3), i % 255, np.uint8))
        if i == 60:  # the monitor learns of an episode at 2.0-2.5 s ~1 s after it ends
            rec.request(_event(2.0, duration=0.5))
        time.sleep(0.002)
    rec.close()
    (clip,) = rec.saved
    cap = cv2.VideoCapture(str(clip))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    assert abs(n - 20 * 2.5) <= 2  # 1 s before, 0.5 s episode, 1 s after
    assert [p.name for p in (tmp_path / "clips").iterdir()] == [clip.name]  # no temp files


# -------------------------------------------------------------------------- preview


def test_render_draws_mesh_counter_and_traces():
    from spasm_cv.live.preview import Traces, render, status_line

    rng = np.random.default_rng(0)
    landmarks = np.column_stack(
        [rng.uniform(0.3, 0.7, 478), rng.uniform(0.3, 0.7, 478), np.zeros(478)]
    ).astype(np.float32)
    traces = Traces(10.0)
    for i in range(100):
        traces.add(i / 10, {"right": 0.5 * (i % 20 > 15), "left": 0.05})
    st = MonitorStatus(
        t=75.0,
        frames=100,
        fps=30.0,
        face=True,
        episodes={"right": 3, "left": 1},
        rolling_count=4,
        rolling_observed_s=120.0,
    )
    img = render(
        FrameView(10.0, np.zeros((240, 320, 3), np.uint8), landmarks, {"right": 0.5, "left": 0.0}),
        st,
        traces,
    )
    assert img.shape == (480 + 150, 640, 3)
    red = np.all(img == (80, 80, 235), axis=2).sum()
    blue = np.all(img == (235, 170, 60), axis=2).sum()
    assert red > 100 and blue > 100
    line = status_line(st)
    assert "episodes 4 (R 3, L 1)" in line and "120.0/h" in line


# ---------------------------------------------------------- end to end (MediaPipe)


def _sample() -> Path:
    if not SAMPLE_VIDEO.is_file():
        pytest.skip("bundled sample phantom missing")
    return SAMPLE_VIDEO


@pytest.fixture(scope="module")
def offline_sample(sample_analysis):
    """``analyze`` of the bundled phantom (offline reference)."""
    _sample()
    return sample_analysis


def _monitor_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "spasm_cv", "monitor", *map(str, args)]


def _db_events(db: Path) -> list[Event]:
    with Store(db, create=False) as store:
        (s,) = store.sessions()
        return store.events(s["id"])


def _episodes(events) -> EventTable:
    def col(name):
        return np.array([getattr(e, name) or "n/a" for e in events], dtype=object)

    return EventTable(
        np.array([e.onset for e in events]),
        np.array([e.duration for e in events]),
        col("trial_type"),
        col("side"),
        col("kind"),
        col("regions"),
    )


def _within(truth, end_s):
    return truth.subset(truth.offset < end_s)


@pytest.mark.slow
def test_monitor_file_at_real_time_matches_truth_and_offline_analysis(tmp_path, offline_sample):
    """``monitor --source FILE --headless --duration 30``: stored episodes vs truth and vs
    ``analyze`` of the same video.

    Equality needs every frame processed: ``--max-lag 30`` lets processing lag (on a busy
    machine) instead of dropping frames; frames still queued at the stop are not processed.
    """
    db = tmp_path / "e2e.sqlite"
    t_start = time.monotonic()
    proc = subprocess.run(
        _monitor_cmd(
            "--source", _sample(), "--headless", "--duration", 30, "--db", db, "--max-lag", 30
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.monotonic() - t_start
    assert proc.returncode == 0, proc.stderr
    assert "ended (duration)" in proc.stdout
    with Store(db, create=False) as store:
        (session,) = store.sessions()
        stored = store.events(session["id"])
        minutes = store.minutes(session["id"])
    assert session["dropped_frames"] == 0, "frames were dropped: equality cannot hold"
    n = session["frames"]
    assert 20 * 25 <= n <= 30.5 * 25 and wall < 60
    # exactly the offline detector on the same frames (same code, same fps, same times)
    sig = offline_sample.signals
    reference = detect(sig.slice(0, n))
    assert stored == reference.events
    # and offline `analyze` of the whole video gives the same episodes, away from the cut
    cut = sig.time[n - 1] - 2.0
    assert [e for e in stored if e.end < cut] == [
        e for e in offline_sample.detection.events if e.end < cut
    ]
    # truth, by evaluate's criteria, over the part of the video monitored
    truth = _within(read_truth(SAMPLE_TRUTH), cut)
    params = EvaluationParams()
    live = evaluate_events(truth, _episodes(stored).episodes("eye"), 30.0, params)
    offline = evaluate_events(
        truth,
        _episodes([e for e in offline_sample.detection.events if e.end < cut + 2]).episodes("eye"),
        30.0,
        params,
    )
    assert (live.tp, live.fp, live.fn) == (offline.tp, offline.fp, offline.fn)
    assert live.fp == 0 and live.tp >= len(truth) - 1
    # per-minute aggregates cover the session
    assert sum(m.frames for m in minutes) == n
    assert sum(m.observed_s for m in minutes) == pytest.approx(
        coverage(reference.activity, reference.fps).observed_s, rel=1e-6
    )
    assert sum(m.episodes for m in minutes) == sum(
        e.trial_type == "spasm" and e.involves_eye for e in stored
    )


@pytest.mark.slow
def test_sigkill_mid_session_keeps_database_and_finished_episodes(tmp_path, offline_sample):
    db = tmp_path / "killed.sqlite"
    truth = read_truth(SAMPLE_TRUTH)
    kill_at = float(truth.offset[1]) + 1.5  # 1.5 s after the second episode ended
    proc = subprocess.Popen(
        _monitor_cmd("--source", _sample(), "--headless", "--duration", 60, "--db", db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t0 = _wait_for_session(db, proc)
        time.sleep(max(t0 + kill_at - time.time(), 0))
        killed_at = time.time() - t0
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ended_at, last = conn.execute("SELECT ended_at, last_write_at FROM sessions").fetchone()
    conn.close()
    assert ended_at is None and last is not None
    stored = [e for e in _db_events(db) if e.trial_type == "spasm" and e.involves_eye]
    must = [
        e
        for e in offline_sample.detection.events
        if e.trial_type == "spasm" and e.involves_eye and e.end < killed_at - 1.0
    ]
    assert len(must) >= 2
    for e in must:  # stored, the same episode (exactly so when no frame was dropped)
        assert any(s.side == e.side and s.onset < e.end and e.onset < s.end for s in stored), e
    (rec,) = load_recordings(db)  # a killed session is still reportable
    assert rec.summary.complete is False
    assert rec.summary.observed_s > killed_at - 3


def _wait_for_session(db: Path, proc, timeout_s: float = 60.0) -> float:
    """Unix time of session time 0, once the monitor has stored its session row."""
    from datetime import datetime

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                row = c.execute("SELECT started_at FROM sessions").fetchone()
        except sqlite3.Error:
            row = None
        if row:
            return datetime.fromisoformat(row[0]).timestamp()
    raise AssertionError("the monitor did not start a session")


@pytest.mark.slow
def test_sigterm_closes_the_session_cleanly_with_clips(tmp_path):
    """SIGTERM 6.5 s in (after the first episode, 3.4-4.1 s): clean end, its clip saved."""
    db, clips = tmp_path / "term.sqlite", tmp_path / "clips"
    proc = subprocess.Popen(
        _monitor_cmd("--source", _sample(), "--headless", "--db", db, "--save-clips", clips),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t0 = _wait_for_session(db, proc)
        time.sleep(max(t0 + 6.5 - time.time(), 0))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "ended (stopped)" in out and "Traceback" not in err
    with Store(db, create=False) as store:
        (s,) = store.sessions()
        minutes = store.minutes(s["id"])
        rows = [r for r in store.event_rows(s["id"]) if r["trial_type"] == "spasm"]
    assert s["ended_at"] is not None and s["end_reason"] == "stopped"
    assert sum(m.frames for m in minutes) == s["frames"] > 5 * 25
    assert rows and all(r["clip"] for r in rows), rows
    assert sorted(p.name for p in clips.iterdir()) == sorted(Path(r["clip"]).name for r in rows)
    cap = cv2.VideoCapture(rows[0]["clip"])
    n = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    cap.release()
    assert n >= 25 * 4  # 3 s before the episode, the episode, and on to the stop


@pytest.mark.slow
def test_source_failing_mid_session_records_gap_and_continues(tmp_path):
    """A camera that stops delivering frames at 4 s and comes back at 6.5 s."""
    from spasm_cv.live.monitor import run_monitor
    from spasm_cv.video.reader import read_frames

    frames = [
        cv2.cvtColor(f.rgb, cv2.COLOR_RGB2BGR)
        for f, _ in zip(read_frames(_sample()), range(75), strict=False)
    ]
    outage = [np.inf, np.inf]
    src = _fake_camera(frames, 25.0, outage).open()

    def started(session_id, clock):
        outage[:] = [clock.t0_mono + 4.0, clock.t0_mono + 6.5]

    db = tmp_path / "gap.sqlite"
    with src:
        result = run_monitor(src, db, MonitorSettings(duration_s=10.0), on_start=started)
    assert result.end_reason == "duration"
    (gap,) = result.gaps
    assert 3.9 <= gap.start_s <= 4.2 and 6.4 <= gap.end_s <= 8.5, gap
    with Store(db, create=False) as store:
        (stored_gap,) = store.gaps(result.session_id)
        minutes = store.minutes(result.session_id)
    assert stored_gap == gap
    assert sum(m.unavailable_s for m in minutes) == pytest.approx(gap.duration_s)
    assert result.observed_s < 10.0 - gap.duration_s + 0.2
    assert result.frames > 25 * (10.0 - gap.duration_s) * 0.8  # it went on after the gap


@pytest.mark.slow
def test_headless_never_opens_a_window(tmp_path, monkeypatch, capsys):
    from spasm_cv.cli import main

    def forbidden(*a, **k):
        raise AssertionError("a window was opened in --headless mode")

    for name in ("namedWindow", "imshow", "waitKey"):
        monkeypatch.setattr(cv2, name, forbidden)
    monkeypatch.delenv("DISPLAY", raising=False)
    db = tmp_path / "h.sqlite"
    code = main(
        ["monitor", "--source", str(_sample()), "--headless", "--duration", "3", "--db", str(db)]
    )
    assert code == 0, capsys.readouterr()
    assert "ended (duration)" in capsys.readouterr().out


# ------------------------------------------------------------------ Xvfb screenshot


class _XImage(ctypes.Structure):
    _fields_ = (
        [(n, ctypes.c_int) for n in ("width", "height", "xoffset", "format")]
        + [("data", ctypes.c_void_p)]
        + [
            (n, ctypes.c_int)
            for n in (
                "byte_order",
                "bitmap_unit",
                "bitmap_bit_order",
                "bitmap_pad",
                "depth",
                "bytes_per_line",
                "bits_per_pixel",
            )
        ]
    )


def x_screenshot(display: str) -> np.ndarray:
    """The whole X screen as BGR (libX11 through ctypes: XGetImage of the root window)."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XGetImage.restype = ctypes.POINTER(_XImage)
    x11.XGetImage.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_ulong,
        ctypes.c_int,
    ]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    d = x11.XOpenDisplay(display.encode())
    assert d, f"cannot open display {display}"
    try:
        w, h = x11.XDisplayWidth(d, 0), x11.XDisplayHeight(d, 0)
        img = x11.XGetImage(d, x11.XDefaultRootWindow(d), 0, 0, w, h, 0xFFFFFFFF, 2).contents
        assert img.bits_per_pixel == 32
        raw = ctypes.string_at(img.data, img.bytes_per_line * img.height)
        a = np.frombuffer(raw, np.uint8).reshape(img.height, img.bytes_per_line // 4, 4)
        return np.ascontiguousarray(a[:, :w, :3])  # little-endian BGRX
    finally:
        x11.XCloseDisplay(d)


@pytest.fixture
def xvfb():
    exe = shutil.which("Xvfb")
    if exe is None or ctypes.util.find_library("X11") is None:
        pytest.skip("Xvfb (Debian package xvfb) or libX11 not installed")
    for n in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    display = f":{n}"
    proc = subprocess.Popen(
        [exe, display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_preview_window_renders_overlay_under_xvfb(tmp_path, xvfb):
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb"}
    db = tmp_path / "p.sqlite"
    proc = subprocess.Popen(
        _monitor_cmd("--source", _sample(), "--duration", 9, "--db", db),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shots = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(1.0)
            shot = x_screenshot(xvfb)
            if shot.any():
                shots.append(shot)
                if len(shots) >= 7:  # 6 s in: traces drawn, the first episode counted
                    break
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert shots, "no window appeared on the X display"
    shot = shots[-1]
    target = SCREENSHOT_DIR or tmp_path
    target.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(target / "preview_xvfb.png"), shot)

    def count(bgr):
        return int(np.all(np.abs(shot.astype(int) - bgr) <= 2, axis=2).sum())

    assert count((80, 80, 235)) > 150  # right-eye mesh and trace (red)
    assert count((235, 170, 60)) > 150  # left-eye mesh and trace (blue)
    assert count((120, 220, 120)) > 50  # mouth contour (green)
    assert count((255, 255, 255)) > 200  # the counter text


def test_threads_do_not_outlive_a_closed_source():
    frames = [np.zeros((8, 8, 3), np.uint8)]
    src = _fake_camera(frames, 30.0, [np.inf, np.inf]).open()
    src.start(SessionClock())
    src.read(0.1)
    src.close()
    assert not any(t.name == "spasm-cv-source" and t.is_alive() for t in threading.enumerate())
