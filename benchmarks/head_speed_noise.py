"""How the eyes' difference on normal faces grows with head speed (no labels used).

    python benchmarks/make_phantom_set.py    # once
    python benchmarks/person_heldout.py      # once: landmarks of every video, cached
    python benchmarks/head_speed_noise.py [--set DIR] [--work DIR]

On each normal (uninjected) face of the development set: the frames where neither eye
closes, the absolute difference of the two eyes' closures, and the head's rotation speed
(the fastest of yaw, pitch and roll over 3-frame steps, as the candidates' feature). Per
person, the upper quartile of the difference in each speed band over that of the still
frames (under 10 deg/s); the median over faces is printed. A ratio above 1 is landmark
noise that grows with motion, which is why ``DecisionParams.head_speed_weight`` is
positive.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from person_heldout import load_signals, read_people

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))

from spasm_cv.events.activity import compute_activity  # noqa: E402
from spasm_cv.events.detect import nominal_fps  # noqa: E402
from spasm_cv.events.params import DetectionParams  # noqa: E402

BANDS = (0, 10, 20, 40, 60, 90, 150)  # deg/s


def head_speed(activity, fps: float) -> np.ndarray:
    """Per frame, the fastest of yaw, pitch and roll over 3-frame steps, deg/s."""
    speed = np.zeros(len(activity))
    for x in (activity.yaw, activity.pitch, activity.roll):
        x = np.nan_to_num(x)
        step = np.zeros(len(x))
        step[3:] = np.abs(x[3:] - x[:-3]) * fps / 3.0
        speed = np.maximum(speed, step)
    return speed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("/tmp/spasm_phantom_set"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/spasm_heldout"))
    args = ap.parse_args()
    if not (args.set / "people.tsv").is_file():
        print(f"skipped: no {args.set / 'people.tsv'} (run benchmarks/make_phantom_set.py)")
        return 0
    params = DetectionParams()
    ratios: dict[int, list[float]] = {lo: [] for lo in BANDS[:-1]}
    for video in read_people(args.set):
        signals = load_signals(args.work / "signals" / f"{video.name}.npz")
        if video.role != "negative" or signals is None:
            continue
        fps = nominal_fps(signals)
        a = compute_activity(signals.time, signals.columns, fps, params)
        right, left = a.closure["right"], a.closure["left"]
        calm = (
            np.isfinite(right)
            & np.isfinite(left)
            & (np.fmax(right, left) < params.candidates.candidate_on)
        )
        diff = np.abs(right - left)
        speed = head_speed(a, fps)
        still = calm & (speed < BANDS[1])
        if np.count_nonzero(still) < 30:
            continue
        ref = np.quantile(diff[still], 0.75)
        for lo, hi in zip(BANDS[:-1], BANDS[1:], strict=True):
            band = calm & (speed >= lo) & (speed < hi)
            if np.count_nonzero(band) >= 10:
                ratios[lo].append(float(np.quantile(diff[band], 0.75) / ref))
    print("head speed (deg/s)   faces   eye difference / still (median over faces)")
    for lo, hi in zip(BANDS[:-1], BANDS[1:], strict=True):
        r = ratios[lo]
        value = f"{np.median(r):.2f}" if r else "n/a"
        print(f"{lo:>6}-{hi:<10}   {len(r):>5}   {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
