"""Throughput of ``analyze`` (serial and ``--jobs N``) and ``batch`` against the machine's limit.

For a 640x480 and a 1280x720 30 fps clip of ``--seconds`` (default 60) it prints frames per
second and multiple of real time for serial and parallel ``analyze``, their peak memory,
and the ratio to the measured limit:

    limit fps = cores / (landmarker alone per frame, on pre-decoded frames + decode per frame)

then ``batch`` throughput in video-hours per hour over ``--batch-videos`` copies of the
640x480 clip. The clips are made in ``--work`` (default /tmp/spasm_throughput) by looping
a shared face clip forward-backward (``../shared/videos`` beside the repository; skipped
with a message when absent), resized and written with OpenCV's mp4v codec.

Each run is a fresh ``python -m spasm_cv`` process. Peak memory: the largest sum of the
resident memory of the run's process tree, sampled every 50 ms (workers included).
The load average is printed: on a shared machine other processes lower every figure.

    python benchmarks/throughput.py [--seconds 60] [--jobs N] [--sizes 640x480] [--no-batch]
"""

from __future__ import annotations

import argparse
import difflib
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIDEOS = REPO.parent / "shared" / "videos"
SOURCE = "c2_winks_frowns_woman_lp_d3.mp4"
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))
FPS = 30.0


def make_clip(src: Path, dst: Path, size: tuple[int, int], seconds: float) -> Path:
    import cv2

    if dst.is_file():
        return dst
    cap = cv2.VideoCapture(str(src))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(f, size, interpolation=cv2.INTER_AREA))
    cap.release()
    loop = frames + frames[-2:0:-1]
    tmp = dst.with_name(dst.stem + ".tmp" + dst.suffix)
    out = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), FPS, size)
    for i in range(int(round(seconds * FPS))):
        out.write(loop[i % len(loop)])
    out.release()
    tmp.rename(dst)
    return dst


def measure_limit(clip: Path, cores: int, n_landmark: int = 150) -> dict:
    """Decode per frame (whole clip) and landmarker alone per frame (pre-decoded frames)."""
    from spasm_cv.landmarks.tracker import FaceTracker
    from spasm_cv.video.reader import read_frames

    t0, c0 = time.perf_counter(), time.process_time()
    frames = []
    n = 0
    for f in read_frames(clip):
        if len(frames) < n_landmark:
            frames.append(f)
        n += 1
    decode_s, decode_cpu = (time.perf_counter() - t0) / n, (time.process_time() - c0) / n
    with FaceTracker(segments=None) as tracker:  # no restarts: the landmarker alone
        for f in frames[:10]:  # warm-up: graph set-up
            tracker.detect(f.rgb, f.time_s)
        t0, c0 = time.perf_counter(), time.process_time()
        for k in range(2):
            for f in frames[10:]:
                tracker.detect(f.rgb, f.time_s + 100.0 * (k + 1))
        m = 2 * (len(frames) - 10)
        landmark_s, landmark_cpu = (time.perf_counter() - t0) / m, (time.process_time() - c0) / m
    return {
        "frames": n,
        "decode_ms": 1e3 * decode_s,
        "landmark_ms": 1e3 * landmark_s,
        "limit_fps": cores / (decode_s + landmark_s),
        "limit_cpu_ms": 1e3 * (decode_cpu + landmark_cpu),
    }


def compare_events(serial_dir: Path, parallel_dir: Path) -> str:
    """Whether two result folders hold the same events (they should: see
    :mod:`spasm_cv.video.segments`), and where they differ if not."""
    from spasm_cv.results.files import read_events

    a, b = read_events(serial_dir), read_events(parallel_dir)
    if a == b:
        return f"identical ({len(a)} events)"
    fmt = [
        [f"{e.onset:.3f}s {e.duration:.3f}s {e.trial_type} {e.side} {e.kind}" for e in x]
        for x in (a, b)
    ]
    diff = [d for d in difflib.ndiff(*fmt) if d[:1] in "+-"]
    return f"DIFFERENT: {len(a)} vs {len(b)} events; serial -, parallel +: {'; '.join(diff)}"


def _tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc), kB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/statm") as f:
                rss[int(d)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def timed_run(args: list[str]) -> tuple[float, float, float]:
    """Run ``python -m spasm_cv ARGS``: wall seconds, CPU seconds of the whole process tree
    (user + system, workers included) and peak tree memory in MB."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "spasm_cv", *args], env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"spasm-cv {' '.join(args)} failed with exit code {proc.returncode}")
    return wall, cpu, peak / 1024


def main() -> None:
    from spasm_cv._processes import available_cores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--jobs", type=int, default=available_cores())
    ap.add_argument("--work", type=Path, default=Path("/tmp/spasm_throughput"))
    ap.add_argument("--batch-videos", type=int, default=4)
    ap.add_argument("--no-batch", action="store_true")
    ap.add_argument("--sizes", default="640x480,1280x720", help="frame sizes, e.g. 640x480")
    args = ap.parse_args()
    src = VIDEOS / SOURCE
    if not src.is_file():
        print(f"skipped: {src} not available (../shared/videos is absent here)")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    cores = available_cores()
    print(f"cores {cores}, jobs {args.jobs}, load average {os.getloadavg()[0]:.1f} at start")
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    for w, h in sizes:
        clip = make_clip(
            src, args.work / f"clip_{w}x{h}_{args.seconds:g}s.mp4", (w, h), args.seconds
        )
        lim = measure_limit(clip, cores)
        duration = lim["frames"] / FPS
        print(f"\n{w}x{h}, {lim['frames']} frames ({duration:.0f} s at {FPS:g} fps)")
        print(
            f"  limit        decode {lim['decode_ms']:.1f} ms + landmarker {lim['landmark_ms']:.1f}"
            f" ms per frame on one core -> {lim['limit_fps']:.0f} fps on {cores} cores"
            f" = {lim['limit_fps'] / FPS:.2f}x real time (CPU {lim['limit_cpu_ms']:.1f} ms/frame)"
        )
        outs = []
        for label, jobs in (("serial", 1), ("parallel", args.jobs)):
            out = args.work / f"out_{w}x{h}_{jobs}"
            outs.append(out)
            wall, cpu, peak = timed_run(
                ["analyze", str(clip), "--out", str(out), "--jobs", str(jobs), "--quiet"]
            )
            fps = lim["frames"] / wall
            cpu_ms = 1e3 * cpu / lim["frames"]
            print(
                f"  {label:8s}     {fps:6.1f} fps  {duration / wall:5.2f}x real time"
                f"  {fps / lim['limit_fps']:5.0%} of the limit  peak memory {peak:,.0f} MB"
                f"  (jobs {jobs}, {wall:.1f} s; CPU {cpu_ms:.1f} ms/frame of which "
                f"{lim['limit_cpu_ms'] / cpu_ms:.0%} landmarking + decoding; "
                f"load {os.getloadavg()[0]:.1f})"
            )
        print(f"  events       parallel vs serial: {compare_events(*outs)}")
    if args.no_batch:
        return
    clip = make_clip(
        src, args.work / f"clip_640x480_{args.seconds:g}s.mp4", (640, 480), args.seconds
    )
    folder = args.work / "batch_in"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for k in range(args.batch_videos):
        os.link(clip, folder / f"video{k:02d}.mp4")
    out = args.work / "batch_out"
    shutil.rmtree(out, ignore_errors=True)
    wall, cpu, peak = timed_run(
        ["batch", str(folder), "--out", str(out), "--jobs", str(args.jobs), "--quiet"]
    )
    hours = args.batch_videos * args.seconds / 3600.0
    print(
        f"\nbatch        {args.batch_videos} x {args.seconds:g} s 640x480: "
        f"{hours / (wall / 3600):.2f} video-h/h ({wall:.1f} s, CPU {cpu:.0f} s, "
        f"peak memory {peak:,.0f} MB)"
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
