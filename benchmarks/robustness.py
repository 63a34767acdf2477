"""Accuracy on the phantom set seen through worse cameras and light.

The hidden test faces come from other cameras and lighting than ``../shared/videos``. This
re-records every phantom video of ``--set`` through a few plausible degradations, analyses
it, and scores it against the unchanged truth with ``evaluate``'s criteria:

- ``dim``: a dark room: brightness x0.35 (in linear light), sensor noise (sigma 4 levels);
- ``small``: a face half as large (frames downscaled by 2; a camera farther away);
- ``15fps``: every other frame dropped (webcams halve their rate in low light);
- ``blur``: a soft, out-of-focus lens (Gaussian, sigma 1.5 px);
- ``tilt``: the camera rolled by 12 degrees;
- ``webcam``: a dim-room webcam: ``dim``'s darkness with more sensor noise (sigma 6 levels),
  every frame JPEG-compressed at quality 30;
- ``night``: a night camera's look: grey, contrast halved around the mean, noisy (sigma 8),
  soft (Gaussian, sigma 1.2 px).

Nothing is tuned on these results; they show where detection degrades. Every person is
scored by the shipped thresholds with the confidence fitted without their fold's people (on
the clean videos), as ``person_heldout.py``'s default; landmarks of each degraded video are
cached in WORK/<condition>/.

    python benchmarks/make_phantom_set.py      # once
    python benchmarks/person_heldout.py        # once: the clean videos' signals
    python benchmarks/robustness.py [--set DIR] [--work DIR] [--only dim,15fps] [--persons]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))


# brightness x0.35 in linear light, as a lookup table over the 256 levels
_DARKER = (255.0 * ((np.arange(256) / 255.0) ** 2.2 * 0.35) ** (1 / 2.2)).astype(np.float32)


def _darker(f: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Brightness x0.35 in linear light, with sensor noise (``noise`` levels, SD)."""
    grain = rng.standard_normal(f.shape, dtype=np.float32) * np.float32(noise)
    return np.clip(_DARKER[f] + grain, 0, 255)


def _dim(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _darker(f, rng, 4.0).astype(np.uint8)


def _small(f: np.ndarray, rng) -> np.ndarray:
    h, w = f.shape[:2]
    return cv2.resize(f, (w // 2 // 2 * 2, h // 2 // 2 * 2), interpolation=cv2.INTER_AREA)


def _blur(f: np.ndarray, rng) -> np.ndarray:
    return cv2.GaussianBlur(f, (0, 0), 1.5)


def _tilt(f: np.ndarray, rng) -> np.ndarray:
    h, w = f.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 12.0, 1.0)
    return cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def _webcam(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dark = _darker(f, rng, 6.0).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", dark, [cv2.IMWRITE_JPEG_QUALITY, 30])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR) if ok else dark


def _night(f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    grey = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grain = rng.standard_normal(grey.shape, dtype=np.float32) * np.float32(8.0)
    flat = grey.mean() + 0.5 * (grey - grey.mean()) + grain
    soft = cv2.GaussianBlur(np.clip(flat, 0, 255).astype(np.uint8), (0, 0), 1.2)
    return cv2.cvtColor(soft, cv2.COLOR_GRAY2BGR)


# name -> (frame transform, keep every k-th frame)
DEGRADATIONS = {
    "dim": (_dim, 1),
    "small": (_small, 1),
    "15fps": (None, 2),
    "blur": (_blur, 1),
    "tilt": (_tilt, 1),
    "webcam": (_webcam, 1),
    "night": (_night, 1),
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
    from person_heldout import (
        by_person,
        cache_all,
        format_person_table,
        read_people,
        run_fixed,
        summary_lines,
    )

    from spasm_cv.evaluation.match import EvaluationParams
    from spasm_cv.evaluation.persons import assign_folds

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("/tmp/spasm_phantom_set"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/spasm_robustness"))
    ap.add_argument(
        "--clean",
        type=Path,
        default=Path("/tmp/spasm_heldout"),
        help="person_heldout.py's work folder (signals of the clean videos)",
    )
    ap.add_argument("--only", default=",".join(DEGRADATIONS), help="comma-separated names")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--persons",
        action="store_true",
        help="also print each condition's per-person table (worst first)",
    )
    args = ap.parse_args()
    if not (args.set / "people.tsv").is_file():
        print(f"skipped: no {args.set / 'people.tsv'} (run benchmarks/make_phantom_set.py)")
        return 0
    videos = [v for v in read_people(args.set) if v.path.is_file()]
    scored = [v for v in videos if v.role != "training"]
    clean = cache_all(videos, args.clean, args.jobs)
    folds = assign_folds([v.person for v in videos], 5, 0)
    params = EvaluationParams(regions="any")
    print(
        f"{len(scored)} videos of {len({v.person for v in scored})} people from {args.set}, "
        f"scored by the model fitted without each person's fold; tolerance "
        f"{params.tolerance_s} s"
    )
    for name in args.only.split(","):
        t0 = time.perf_counter()
        d = args.work / name
        (d / "videos").mkdir(parents=True, exist_ok=True)
        with ProcessPoolExecutor(args.jobs) as pool:  # re-encoding is one core per video
            paths = list(
                pool.map(
                    degrade,
                    [v.path for v in scored],
                    [d / "videos" / v.path.name for v in scored],
                    [name] * len(scored),
                )
            )
        degraded = [replace(v, path=path) for v, path in zip(scored, paths, strict=True)]
        signals = cache_all(degraded, d, args.jobs)
        results = run_fixed(videos, clean, folds, params, scoring=signals)
        rows = by_person(
            results,
            {v.name: v.person for v in scored},
            folds,
            {v.name: v.role == "phantom" for v in scored},
        )
        print(f"== {name} ({time.perf_counter() - t0:.0f} s)")
        if args.persons:
            print(format_person_table(rows))
        print("\n".join(summary_lines(rows)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
