"""Accuracy on the phantom set seen through worse cameras and light.

The hidden test faces come from other cameras and lighting than ``../shared/videos``. This
re-records every phantom video of ``--set`` through a few plausible degradations, analyses
it, and scores it against the unchanged truth with ``evaluate``'s criteria:

- ``dim``: a dark room: brightness x0.35 (in linear light), sensor noise (sigma 4 levels);
- ``small``: a face half as large (frames downscaled by 2; a camera farther away);
- ``15fps``: every other frame dropped (webcams halve their rate in low light);
- ``blur``: a soft, out-of-focus lens (Gaussian, sigma 1.5 px);
- ``tilt``: the camera rolled by 12 degrees.

Nothing is tuned on these results; they show where detection degrades.

    python benchmarks/make_phantom_set.py      # once
    python benchmarks/robustness.py [--set DIR] [--work DIR] [--only dim,15fps]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))


def _dim(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    lin = (f / 255.0) ** 2.2 * 0.35
    out = 255.0 * lin ** (1 / 2.2) + rng.normal(0.0, 4.0, f.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def _small(f: np.ndarray, rng) -> np.ndarray:
    h, w = f.shape[:2]
    return cv2.resize(f, (w // 2 // 2 * 2, h // 2 // 2 * 2), interpolation=cv2.INTER_AREA)


def _blur(f: np.ndarray, rng) -> np.ndarray:
    return cv2.GaussianBlur(f, (0, 0), 1.5)


def _tilt(f: np.ndarray, rng) -> np.ndarray:
    h, w = f.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 12.0, 1.0)
    return cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REFLECT)


# name -> (frame transform, keep every k-th frame)
DEGRADATIONS = {
    "dim": (_dim, 1),
    "small": (_small, 1),
    "15fps": (None, 2),
    "blur": (_blur, 1),
    "tilt": (_tilt, 1),
}


def degrade(src: Path, dst: Path, name: str) -> Path:
    """``src`` re-recorded through degradation ``name`` (cached in ``dst``)."""
    if dst.is_file():
        return dst
    transform, step = DEGRADATIONS[name]
    rng = np.random.default_rng(0)
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    out, i = None, 0
    tmp = dst.with_name(dst.stem + ".tmp.mp4")
    while True:
        ok, f = cap.read()
        if not ok:
            break
        if i % step == 0:
            g = transform(f, rng) if transform else f
            if out is None:
                size = (g.shape[1], g.shape[0])
                out = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps / step, size)
            out.write(g)
        i += 1
    cap.release()
    out.release()
    tmp.replace(dst)
    return dst


def main() -> int:
    from spasm_cv._processes import available_cores
    from spasm_cv.evaluation import EvaluationParams, evaluate_folders
    from spasm_cv.pipeline import analyze_video

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("/tmp/spasm_phantom_set"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/spasm_robustness"))
    ap.add_argument("--only", default=",".join(DEGRADATIONS), help="comma-separated names")
    args = ap.parse_args()
    videos = sorted(args.set.glob("*.mp4"))
    if not videos:
        print(f"skipped: no videos in {args.set} (run benchmarks/make_phantom_set.py)")
        return 0
    params = EvaluationParams()
    print(f"{len(videos)} phantom videos from {args.set}; tolerance {params.tolerance_s} s")
    print(f"{'condition':10s} {'truth':>5s} {'TP':>4s} {'FP':>4s} {'FN':>4s} {'prec':>6s} "
          f"{'recall':>6s} {'F1':>6s} {'side':>6s} {'FP/h':>6s} {'rate err':>8s}")
    for name in args.only.split(","):
        t0 = time.perf_counter()
        d = args.work / name
        (d / "videos").mkdir(parents=True, exist_ok=True)
        for v in videos:
            clip = degrade(v, d / "videos" / v.name, name)
            out = d / "results" / v.stem
            if not (out / "summary.json").is_file():
                analyze_video(clip, out, jobs=available_cores())
        r = evaluate_folders(args.set, d / "results", params).total

        def f(x, fmt=".3f"):
            return "n/a" if x is None else format(x, fmt)

        print(f"{name:10s} {r.n_truth:5d} {r.tp:4d} {r.fp:4d} {r.fn:4d} {f(r.precision):>6s} "
              f"{f(r.recall):>6s} {f(r.f1):>6s} {f(r.side_accuracy):>6s} "
              f"{f(r.false_per_hour, '.1f'):>6s} {f(r.rate_relative_error, '+.1%'):>8s}  "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
