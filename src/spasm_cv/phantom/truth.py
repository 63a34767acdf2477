"""Truth of a phantom: per-episode rows (perceived closures included) and their files.

``<name>.truth.tsv`` is tab-separated with a header, times in seconds (3 decimals), sides the
patient's; ``<name>.truth.json`` beside it holds the phantom's length, source and settings.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.phantom.schedule import Episode

TRUTH_COLUMNS = {
    "onset": "episode start, seconds from the first frame of the phantom",
    "duration": "episode length, seconds (first closing to last reopening)",
    "side": "patient's anatomical side of the injected eye: left or right",
    "kind": "twitch (single, 0.15-0.35 s), clonic (train of 3-6 at 2-6 Hz) or tonic "
    "(sustained, 1-3 s)",
    "n_contractions": "number of lid contractions in the episode",
    "peak_closure": "target closure at the envelope's maximum, 1 - aperture / open baseline "
    "(about 0.8 is a natural blink's full closure as MediaPipe measures it)",
    "perceived_closure": "largest closure MediaPipe measures on the injected eye in the "
    "written phantom during the episode (fresh tracker; n/a: no face)",
    "perceived_closure_other": "same for the other eye",
    "mouth": "yes if the same-side mouth corner is pulled up and out with the eye",
    "clear": "yes if perceived_closure >= the clear threshold (0.5), else no (subtle)",
}


@dataclass(frozen=True)
class TruthRow:
    """One episode as written to the truth table."""

    onset_s: float
    duration_s: float
    side: str
    kind: str
    n_contractions: int
    peak_closure: float
    perceived_closure: float  # NaN: no face measured
    perceived_closure_other: float
    mouth: bool
    clear: bool

    def cells(self) -> list[str]:
        return [
            f"{self.onset_s:.3f}",
            f"{self.duration_s:.3f}",
            self.side,
            self.kind,
            str(self.n_contractions),
            f"{self.peak_closure:.3f}",
            _num(self.perceived_closure),
            _num(self.perceived_closure_other),
            "yes" if self.mouth else "no",
            "yes" if self.clear else "no",
        ]


def _num(x: float) -> str:
    return f"{x:.3f}" if math.isfinite(x) else "n/a"


def perceived(closure: np.ndarray, times: np.ndarray, start_s: float, stop_s: float) -> float:
    """Largest finite closure at ``start_s <= t <= stop_s``; NaN if none."""
    sel = (times >= start_s) & (times <= stop_s)
    seg = np.asarray(closure)[sel]
    seg = seg[np.isfinite(seg)]
    return float(seg.max()) if seg.size else float("nan")


def truth_rows(
    episodes: Sequence[Episode],
    peak: Sequence[float],
    closure: dict[str, np.ndarray] | None,
    times: np.ndarray,
    frame_s: float,
    clear_closure: float = 0.5,
) -> list[TruthRow]:
    """Rows for ``episodes`` given the second pass's per-frame ``closure`` per side.

    ``peak`` is each episode's largest target closure at the frame times. The perceived
    closure is looked for from the onset to one frame after the offset (the landmarker may
    lag a frame). ``closure`` None (no second pass) gives NaN perceived closures.
    """
    rows = []
    for ep, pk in zip(episodes, peak, strict=True):
        other = "left" if ep.side == "right" else "right"
        if closure is None:
            seen = seen_other = float("nan")
        else:
            stop = ep.offset_s + frame_s
            seen = perceived(closure[ep.side], times, ep.onset_s - 0.5 * frame_s, stop)
            seen_other = perceived(closure[other], times, ep.onset_s - 0.5 * frame_s, stop)
        rows.append(
            TruthRow(
                ep.onset_s,
                round(ep.duration_s, 3),
                ep.side,
                ep.kind,
                ep.n_contractions,
                float(pk),
                seen,
                seen_other,
                ep.mouth,
                bool(math.isfinite(seen) and seen >= clear_closure),
            )
        )
    return rows


def sidecar_path(truth_path: str | os.PathLike) -> Path:
    """``X.truth.json`` beside ``X.truth.tsv`` (the ``.tsv`` suffix becomes ``.json``)."""
    return Path(truth_path).with_suffix(".json")


def is_truth_table(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a truth table spasm-cv wrote (its header row is ours)."""
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n").split("\t") == list(TRUTH_COLUMNS)


def read_sidecar(path: str | os.PathLike) -> dict | None:
    """The JSON sidecar of a truth table spasm-cv wrote (None: absent or not ours)."""
    p = sidecar_path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    columns = doc.get("columns") if isinstance(doc, dict) else None
    if isinstance(columns, dict) and list(columns) == list(TRUTH_COLUMNS):
        return doc
    return None


def write_truth(path: str | os.PathLike, rows: Sequence[TruthRow], meta: dict) -> Path:
    """Write the TSV (header even with no rows) and its JSON sidecar; returns the JSON path.

    ``meta`` is written as the sidecar, with ``columns`` (column descriptions) added.
    """
    p = Path(path)
    lines = ["\t".join(TRUTH_COLUMNS)] + ["\t".join(r.cells()) for r in rows]
    doc = dict(meta)
    doc["columns"] = TRUTH_COLUMNS
    side = sidecar_path(p)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        side.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    except OSError as e:
        raise SpasmCvError(f"cannot write truth {p}: {e}") from None
    return side
