"""Live monitor under a 30 fps 640x480 source: dropped frames, episode-to-database delay, memory.

The source is the bundled phantom (25 fps, 360x288, one-sided episodes), converted once to a
30 fps 640x480 video (frames resized and padded, every fifth frame repeated) and played at
real time in a loop through the monitor's file source, headless, with the default settings
(at most 0.5 s of lag before frames are dropped).

Measured:
- frames processed and dropped (targets: sustained 30 fps, no dropped frame);
- delay from an episode's end to its row being visible in the database, seen by a second
  connection polling every 20 ms (target: median <= 1 s); also ``stored_at - end``;
- resident memory every 10 s (target: flat over 20 minutes): first, last, and the slope of a
  line fitted after the first two minutes.

    python benchmarks/live_monitor.py [--minutes 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from spasm_cv._resources import data_path
from spasm_cv.live.monitor import MonitorSettings, run_monitor
from spasm_cv.live.sources import FileSource
from spasm_cv.video.reader import read_frames

SIZE, FPS = (640, 480), 30.0


def make_source_video(path: Path) -> Path:
    """The bundled phantom as a 30 fps 640x480 mp4 (cached)."""
    if path.is_file():
        return path
    sample = data_path("sample_videos", "sample_phantom.mp4")
    tmp = path.with_suffix(".tmp.mp4")
    out = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    for i, f in enumerate(read_frames(sample)):
        h, w = f.rgb.shape[:2]
        scale = min(SIZE[0] / w, SIZE[1] / h)
        img = cv2.resize(cv2.cvtColor(f.rgb, cv2.COLOR_RGB2BGR), (int(w * scale), int(h * scale)))
        canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        y, x = (SIZE[1] - img.shape[0]) // 2, (SIZE[0] - img.shape[1]) // 2
        canvas[y : y + img.shape[0], x : x + img.shape[1]] = img
        for _ in range(2 if i % 5 == 4 else 1):  # 25 -> 30 fps
            out.write(canvas)
    out.release()
    tmp.replace(path)
    return path


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Watcher(threading.Thread):
    """Polls the database from its own connection; notes when each event row appears."""

    def __init__(self, db: Path, period_s: float = 0.02):
        super().__init__(daemon=True)
        self.db, self.period_s = db, period_s
        self.seen: dict[tuple, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        conn = None
        while not self.stop.is_set():
            try:
                conn = conn or sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
                rows = conn.execute(
                    "SELECT onset, duration, trial_type, side, stored_at FROM events"
                ).fetchall()
                now = time.time()
                for onset, duration, trial_type, side, stored in rows:
                    self.seen.setdefault((onset, duration, trial_type, side, stored), now)
            except sqlite3.Error:
                pass
            self.stop.wait(self.period_s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "spasm-cv-bench")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    video = make_source_video(args.cache / "phantom_640x480_30fps.mp4")
    db = args.cache / f"bench-{os.getpid()}.sqlite"
    seconds = args.minutes * 60
    source = FileSource(video, repeat=int(seconds // 60) + 2).open()
    memory: list[tuple[float, float]] = []
    state = {}

    def on_start(session_id, clock):
        state["clock"] = clock
        watcher.start()

    def on_status(status):
        memory.append((status.t, rss_mb()))
        if len(memory) % 6 == 1:
            print(
                f"  {status.t / 60:5.1f} min  {status.frames} frames  dropped {status.dropped}"
                f"  {status.fps:.1f} fps  rss {memory[-1][1]:.0f} MB"
                f"  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )

    watcher = Watcher(db)
    load0 = os.getloadavg()
    print(f"source {video.name}: {SIZE[0]}x{SIZE[1]} at {FPS:g} fps for {args.minutes:g} min")
    settings = MonitorSettings(duration_s=seconds, status_every_s=10.0)
    cpu0 = _cpu_s()
    with source:
        result = run_monitor(source, db, settings, on_status=on_status, on_start=on_start)
    cpu = _cpu_s() - cpu0
    time.sleep(0.2)
    watcher.stop.set()
    watcher.join()
    t0 = state["clock"].t0_wall
    seen_delay, stored_delay = [], []
    for (onset, duration, trial_type, _side, stored), seen in watcher.seen.items():
        if trial_type != "spasm":
            continue
        end_wall = t0 + onset + duration
        seen_delay.append(seen - end_wall)
        stored_delay.append(datetime.fromisoformat(stored).timestamp() - end_wall)
    # flush() at the stop reports the last events at once: not a live delay
    seen_delay = [d for d in seen_delay if d >= 0]
    mem = np.array(memory)
    late = mem[mem[:, 0] >= 120] if len(mem) else mem
    slope = float(np.polyfit(late[:, 0] / 600, late[:, 1], 1)[0]) if len(late) >= 3 else None
    figures = {
        "minutes": args.minutes,
        "frames": result.frames,
        "expected_frames": int(result.duration_s * FPS),
        "fps": result.frames / result.duration_s,
        "dropped_frames": result.dropped_frames,
        "cpu_ms_per_frame": 1000 * cpu / max(result.frames, 1),
        "cpu_cores_used": cpu / result.duration_s,
        "episodes": len(result.episodes),
        "delay_seen_s": {
            "n": len(seen_delay),
            "median": float(np.median(seen_delay)) if seen_delay else None,
            "p90": float(np.percentile(seen_delay, 90)) if seen_delay else None,
            "max": float(np.max(seen_delay)) if seen_delay else None,
        },
        "delay_stored_at_median_s": float(np.median(stored_delay)) if stored_delay else None,
        "rss_mb": {
            "first": float(mem[0, 1]) if len(mem) else None,
            "last": float(mem[-1, 1]) if len(mem) else None,
            "max": float(mem[:, 1].max()) if len(mem) else None,
            "slope_after_2min_mb_per_10min": slope,
        },
        "load_average": {"start": load0[0], "end": os.getloadavg()[0]},
        "cpus": os.cpu_count(),
    }
    d = figures["delay_seen_s"]
    print(
        f"frames       {result.frames} processed of ~{figures['expected_frames']} "
        f"({figures['fps']:.2f} fps), dropped {result.dropped_frames}"
    )
    print(
        f"cpu          {figures['cpu_ms_per_frame']:.1f} ms per frame (all threads), "
        f"{figures['cpu_cores_used']:.2f} cores on average"
    )
    if d["n"]:
        print(
            f"delay        episode end -> row visible: median {d['median']:.3f} s, "
            f"p90 {d['p90']:.3f} s, max {d['max']:.3f} s over {d['n']} episodes "
            f"(stored_at: median {figures['delay_stored_at_median_s']:.3f} s)"
        )
    r = figures["rss_mb"]
    if r["first"] is not None:
        slope_text = "n/a" if slope is None else f"{slope:+.1f} MB per 10 min after 2 min"
        print(
            f"memory       rss {r['first']:.0f} MB at start, {r['last']:.0f} MB at end, "
            f"max {r['max']:.0f} MB; {slope_text}"
        )
    print(
        f"load average {load0[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end "
        f"({os.cpu_count()} CPUs)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    for p in db.parent.glob(db.name + "*"):
        p.unlink()


if __name__ == "__main__":
    main()
