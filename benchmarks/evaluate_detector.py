"""The detector on the real clips of ../shared/videos: real winks and real negatives.

    python benchmarks/evaluate_detector.py [--work DIR] [--force]

(The phantoms of every person, scored person by person with people held out, are
``person_heldout.py``'s.) MediaPipe runs once per video (signals are cached in
WORK/signals/<name>/, reused while the video is unchanged); detection is re-run from those
signals with the current ``DetectionParams`` every time, so the printed figures are those of
the code as it is. The shipped detector's thresholds were chosen on these people's phantoms:
these are not held-out figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spasm_cv._processes import available_cores
from spasm_cv.evaluation import EvaluationParams, evaluate_folders
from spasm_cv.evaluation.cli import format_table
from spasm_cv.events.detect import detect
from spasm_cv.pipeline import analyze_video
from spasm_cv.results.files import read_signals, read_summary, write_folder
from spasm_cv.results.recording import Recording
from spasm_cv.results.summary import Summary
from spasm_cv.video.segments import SegmentParams

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "videos"

# Real one-sided events from ../shared/videos/MANIFEST.tsv: (start frame, end frame, side).
REAL_WINKS = {
    "c2_wink_man_frontal_cv.mp4": dict(fps=25, mirrored=False, events=[(18, 22, "right")]),
    "c2_wink_man_selfie_ongo.mp4": dict(fps=30, mirrored=True, events=[(106, 112, "right")]),
    "c2_winks_frowns_woman_lp_d3.mp4": dict(
        fps=30, mirrored=False, events=[(9, 20, "left"), (35, 47, "right")]
    ),
    "c2_halfwink_man_glasses_1080p.mp4": dict(fps=30, mirrored=False, events=[(36, 50, "right")]),
}


def cached_signals(video: Path, work: Path, mirrored: bool = False, force: bool = False):
    """Signals of a video, from WORK's cache when the video and the landmarking are unchanged."""
    out = work / "signals" / video.stem
    st = video.stat()
    if not force and (out / "summary.json").exists():
        cached = read_summary(out)
        inp = cached["input"]
        if (
            inp["size_bytes"] == st.st_size
            and inp["mtime"] == st.st_mtime
            and cached["quality"].get("tracker_restart_s") == SegmentParams().segment_s
        ):
            return read_signals(out), inp
    result = analyze_video(video, out, mirrored=mirrored, jobs=available_cores())
    return read_signals(out), result.summary["input"]


def redetect(video: Path, work: Path, results: Path, mirrored=False, force=False) -> Path:
    signals, inp = cached_signals(video, work, mirrored, force)
    detection = detect(signals)
    summary = Summary.of_analysis(signals, detection, inp)
    out = results / video.stem
    return write_folder(out, Recording.from_analysis(signals, detection, summary, out))


def write_truth(path: Path, rows: list[tuple[float, float, str]], duration_s: float) -> None:
    lines = ["onset\tduration\tside\tkind\tclear"]
    lines += [f"{o:.3f}\t{d:.3f}\t{s}\tn/a\tyes" for o, d, s in rows]
    path.write_text("\n".join(lines) + "\n")
    path.with_suffix(".json").write_text(json.dumps({"duration_s": duration_s}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/spasm_eval"))
    ap.add_argument("--force", action="store_true", help="re-run MediaPipe on every video")
    args = ap.parse_args()
    params = EvaluationParams()

    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is absent")
        return 0
    truth_dir, results = args.work / "real_truth", args.work / "real_results"
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(p.name for p in SHARED.glob("*.mp4")):
        spec = REAL_WINKS.get(name, dict(fps=None, mirrored=False, events=[]))
        out = redetect(SHARED / name, args.work, results, spec["mirrored"])
        fps = spec["fps"] or read_summary(out)["fps"]
        rows = [(a / fps, (b - a + 1) / fps, side) for a, b, side in spec["events"]]
        write_truth(
            truth_dir / f"{Path(name).stem}.truth.tsv", rows, read_summary(out)["duration_s"]
        )
    print("\n== Real clips in ../shared/videos (c2: one-sided events, c3: negatives)")
    print(format_table(evaluate_folders(truth_dir, results, params)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
