"""Issue 16: a partial recording never looks whole; SIGTERM stops a run as Ctrl-C does;
readers of the monitor's database do not write to it.

- summary.json says ``interrupted`` (and why); ``quality.truncated`` is only for files that
  really ended early; the terminal, the report's headline and its recordings table say so.
- a monitoring session whose process died (``ended_at`` NULL) is reported as ended
  abnormally at its last write.
- ``analyze`` and ``batch`` under SIGTERM write their partial result and exit 143, workers
  stopped, no leaked semaphores.
- ``report --db`` opens the database read-only and refuses a file that is not a spasm-cv
  store by its application id without touching it.
"""

from __future__ import annotations

import hashlib
import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest
from conftest import SAMPLE_VIDEO, cli, package_env
from fsfaults import assert_one_line_error, read_only, sim_result

from spasm_cv.cli import print_summary
from spasm_cv.live.minutes import MinuteAggregator
from spasm_cv.live.sessions import load_recordings
from spasm_cv.live.store import Batch, SessionInfo, Store
from spasm_cv.results.recording import Recording

# ------------------------------------------------------------------ summary, terminal


def test_an_interrupted_result_says_so_and_is_not_called_truncated(tmp_path):
    res = sim_result(tmp_path / "visit.partial", interrupted="Ctrl-C")
    s = json.loads((res / "summary.json").read_text())
    assert s["complete"] is False and s["interrupted"] == "Ctrl-C"
    assert s["quality"]["truncated"] is False  # stopped by the user, the file is whole
    whole = json.loads((sim_result(tmp_path / "whole") / "summary.json").read_text())
    assert whole["complete"] is True and whole["interrupted"] is None


def test_the_terminal_says_what_an_interrupted_run_covers(tmp_path):
    rec = Recording.from_folder(sim_result(tmp_path / "v.partial", interrupted="SIGTERM"))
    out = io.StringIO()
    print_summary(rec.summary, None, file=out)
    first = out.getvalue().splitlines()[0]
    assert "INTERRUPTED by SIGTERM after 20.0 s of about 120.0 s" in first
    assert "truncated" not in out.getvalue()


# ---------------------------------------------------------------------------- report


def _html(tmp_path, *args) -> str:
    out = tmp_path / f"r{len(list(tmp_path.glob('r*.html')))}.html"
    code, _, err = cli("report", *args, "--out", out)
    assert code == 0, err
    return out.read_text()


def test_the_report_flags_a_partial_recording_in_headline_and_table(tmp_path):
    part = sim_result(tmp_path / "visit.partial", name="visit.mp4", interrupted="Ctrl-C")
    page = _html(tmp_path, part)
    head, rest = page.split("<h2>Headline</h2>", 1)
    assert "partial: interrupted by Ctrl-C, after 20.0 s of about 120.0 s" in head
    headline = rest.split("<h2>", 1)[0]
    assert "Partial recording: visit.mp4" in headline
    table = page.split("<h2>Recordings</h2>", 1)[1].split("</table>", 1)[0]
    assert "partial: interrupted by Ctrl-C" in table
    whole = _html(tmp_path, sim_result(tmp_path / "whole"))
    body = whole.split("<body", 1)[1]
    assert "Partial recording" not in body and "partial:" not in body


def _session_db(db: Path, *, end: bool, seconds: int = 120) -> float:
    t0 = time.time() - 3600
    with Store(db) as store:
        sid = store.begin_session(
            SessionInfo(
                t0,
                "camera 0",
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
        )
        agg = MinuteAggregator(t0, 30.0)
        for i in range(30 * seconds):
            agg.frame(i / 30, True, 1, {"right": True, "left": True}, {"right": 0.0, "left": 0.0})
        store.write(sid, t0, Batch.of(minutes=agg.take_dirty()))
        if end:
            store.end_session(sid, t0 + seconds, "stopped")
    return t0


def test_a_killed_monitor_session_is_reported_as_ended_abnormally(tmp_path):
    db = tmp_path / "m.sqlite"
    _session_db(db, end=False)
    (rec,) = load_recordings(db)
    assert rec.summary.complete is False
    assert rec.summary.interrupted.startswith("ended abnormally at its last write")
    page = _html(tmp_path, "--db", db)
    head = page.split("<h2>Recordings</h2>", 1)[1]
    assert "ended abnormally at its last write" in page.split("<h2>Headline</h2>", 1)[1]
    assert "ended abnormally" in head.split("</table>", 1)[0]


# ---------------------------------------------------------- report --db reads only


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _siblings(p: Path) -> list[str]:
    return sorted(x.name for x in p.parent.iterdir())


def test_report_db_leaves_an_empty_file_untouched(tmp_path):
    db = tmp_path / "empty.sqlite"
    db.write_bytes(b"")
    code, _, err = cli("report", "--db", db, "--out", tmp_path / "r.html")
    assert_one_line_error(code, err, "not a spasm-cv monitor database")
    assert db.read_bytes() == b""
    assert _siblings(db) == ["empty.sqlite"]


def test_report_db_leaves_a_foreign_sqlite_file_byte_identical(tmp_path):
    db = tmp_path / "photos.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE albums (name TEXT)")
    conn.execute("INSERT INTO albums VALUES ('holidays')")
    conn.commit()
    conn.close()
    before = _digest(db)
    code, _, err = cli("report", "--db", db, "--out", tmp_path / "r.html")
    assert_one_line_error(code, err, "not a spasm-cv monitor database")
    assert _digest(db) == before
    assert _siblings(db) == ["photos.db"]  # no -wal, no -shm, no report
    header = db.read_bytes()[:100]
    assert header[18:20] == b"\x01\x01"  # still a rollback-journal file, never switched to WAL


def test_report_db_reads_a_store_in_a_read_only_folder(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    db = folder / "spasm-cv.sqlite"
    _session_db(db, end=True)
    before = _digest(db)
    with read_only(folder):
        code, _, err = cli("report", "--db", db, "--out", tmp_path / "r.html")
    assert code == 0, err
    assert _digest(db) == before
    assert (tmp_path / "r.html").is_file()


# ------------------------------------------------------------------------ SIGTERM


def _spawn(*args, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "spasm_cv", *map(str, args)],
        cwd=cwd,
        env=package_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _children(pid: int) -> list[int]:
    """Pids of the processes whose parent is ``pid`` (Linux /proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _looped(src: Path, dst: Path, times: int) -> None:
    """Write ``src`` played ``times`` over into ``dst`` by copying packets (no re-encoding).

    A recording long enough that no machine finishes it before the signal arrives.
    """
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ins = inp.streams.video[0]
        add = getattr(out, "add_stream_from_template", None)
        outs = add(ins) if add else out.add_stream(template=ins)
        span = 0
        for k in range(times):
            inp.seek(0)
            end = 0
            for pkt in inp.demux(ins):
                if pkt.dts is None:  # the demuxer's flush packet
                    continue
                end = max(end, pkt.pts + (pkt.duration or 0))
                pkt.pts += k * span
                pkt.dts += k * span
                pkt.stream = outs
                out.mux(pkt)
            span = span or end


def _sigterm_once_working(
    proc: subprocess.Popen, pattern: str, folder: Path, after_s: float
) -> tuple[str, str, list[int]]:
    """SIGTERM ``proc`` ``after_s`` seconds after ``pattern`` appears in ``folder`` (its
    work has started); its stdout, stderr and the worker processes it had then."""
    try:
        _wait_for(pattern, folder, proc)
        time.sleep(after_s)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return out, err, workers


def _wait_for(pattern: str, folder: Path, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not list(folder.glob(pattern)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"no {pattern} in {folder}"
        time.sleep(0.1)


@pytest.mark.slow  # MediaPipe
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigterm_during_analyze_writes_the_partial_result(tmp_path, jobs):
    video = tmp_path / "visit.mp4"
    _looped(SAMPLE_VIDEO, video, 4)  # 4 min
    proc = _spawn("analyze", video, "--out", tmp_path / "res", "--jobs", jobs, cwd=tmp_path)
    # once the destination is ready, long enough for a first 10 s segment to be landmarked on
    # a slow machine (with 2 jobs, what workers had not finished is not kept), far short of
    # 4 min on a fast one
    out, err, _ = _sigterm_once_working(proc, ".res.tmp-*", tmp_path, 8.0 if jobs == 1 else 12.0)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "leaked" not in err and "internal error" not in err, err
    s = json.loads((tmp_path / "res.partial" / "summary.json").read_text())
    assert s["complete"] is False and s["interrupted"] == "SIGTERM"
    assert 0 < s["duration_s"] < 200 and s["quality"]["truncated"] is False
    assert "INTERRUPTED by SIGTERM" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res.partial", "visit.mp4"]


@pytest.mark.slow  # MediaPipe
def test_sigterm_during_batch_keeps_what_was_measured(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        _looped(SAMPLE_VIDEO, videos / name, 2)  # 2 min each: none is done when the signal comes
    out = tmp_path / "out"
    proc = _spawn("batch", videos, "--out", out, "--jobs", 2, cwd=tmp_path)
    stdout, err, workers = _sigterm_once_working(proc, ".*.tmp-*", out, 8.0)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "leaked" not in err, err
    partial = sorted(out.glob("*.partial"))
    assert partial, stdout + err
    for p in partial:
        assert json.loads((p / "summary.json").read_text())["interrupted"] == "SIGTERM"
    rows = (out / "batch.tsv").read_text()
    assert "interrupted (SIGTERM)" in rows
    assert workers
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)  # workers stopped


def test_an_interrupt_while_a_frame_is_added_leaves_whole_frames(monkeypatch):
    """SIGTERM or Ctrl-C lands between Python steps, also inside ``SignalsBuilder.add``: the
    frames already added must build, none of them half (it was an internal error, and the
    partial result was lost, when the interrupt came while a frame's row was computed)."""
    import spasm_cv.signals.table as table

    real, calls = table.signals_row, []

    def interrupted_on_the_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(table, "signals_row", interrupted_on_the_third)
    builder = table.SignalsBuilder(640, 480, {"fps": 30.0})
    with pytest.raises(KeyboardInterrupt):
        for i in range(5):
            builder.add(i / 30.0, None)
    signals = builder.build()
    assert len(builder) == len(signals) == 2
    assert all(len(v) == 2 for v in signals.columns.values())
    assert signals.time.tolist() == [0.0, 1 / 30.0]
