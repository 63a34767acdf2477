"""Per-frame, per-side activity from signals: the causal first stage of the detector.

Every value at frame i depends only on frames <= i (see :mod:`spasm_cv.events.baseline`), so
the streaming detector computes it incrementally and gets the offline result exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spasm_cv.events.baseline import CausalQuantile
from spasm_cv.events.params import DetectionParams
from spasm_cv.signals.geometry import SIDES

# Raw columns the core reads (the rest of Signals is for people and reports).
CORE_COLUMNS = tuple(
    f"{n}_{s}" for s in SIDES for n in ("eye_aperture", "mouth_x", "mouth_y", "brow_y")
) + ("yaw", "pitch")


@dataclass
class Activity:
    """Per-frame arrays, one entry per side in each dict (``right``, ``left``).

    ``measurable``: face found and head pose lets this side be measured.
    ``closure``: 1 - aperture / open-eye baseline (NaN where not measurable).
    ``mouth``: mouth-corner pull up and outwards from its rolling median, IOD units.
    ``brow``: brow height above its rolling median, IOD units.
    """

    time: np.ndarray
    measurable: dict[str, np.ndarray]
    closure: dict[str, np.ndarray]
    mouth: dict[str, np.ndarray]
    brow: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.time)

    def slice(self, start: int, stop: int | None = None) -> Activity:
        sl = slice(start, stop)
        return Activity(
            self.time[sl],
            {s: v[sl] for s, v in self.measurable.items()},
            {s: v[sl] for s, v in self.closure.items()},
            {s: v[sl] for s, v in self.mouth.items()},
            {s: v[sl] for s, v in self.brow.items()},
        )

    @classmethod
    def concatenate(cls, parts: list[Activity]) -> Activity:
        def cat(attr):
            return {s: np.concatenate([getattr(p, attr)[s] for p in parts]) for s in SIDES}

        return cls(
            np.concatenate([p.time for p in parts]),
            cat("measurable"),
            cat("closure"),
            cat("mouth"),
            cat("brow"),
        )


def measurable_sides(
    aperture: dict[str, np.ndarray], yaw: np.ndarray, pitch: np.ndarray, params: DetectionParams
) -> dict[str, np.ndarray]:
    """Frames where each side can be measured: face found, pose within limits.

    Yaw > 0 turns the patient's left eye away from the camera, yaw < 0 the right eye.
    """
    pitch_ok = np.abs(pitch) <= params.max_pitch_deg
    away = {"left": yaw, "right": -yaw}
    return {s: np.isfinite(aperture[s]) & pitch_ok & (away[s] <= params.max_yaw_deg) for s in SIDES}


class ActivityStage:
    """The causal stage, fed chunk by chunk: baselines and normalised per-side activity.

    ``fps`` is the nominal frame rate (frames per second); it sets window lengths in frames.
    """

    def __init__(self, fps: float, params: DetectionParams):
        self.params = params
        window = max(int(round(params.baseline_window_s * fps)), 1)
        self._baselines = {
            (name, s): CausalQuantile(window, q)
            for s in SIDES
            for name, q in (
                ("eye_aperture", params.baseline_quantile),
                ("mouth_x", 0.5),
                ("mouth_y", 0.5),
                ("brow_y", 0.5),
            )
        }

    def update(self, time: np.ndarray, columns: dict[str, np.ndarray]) -> Activity:
        """Activity of the next frames; ``columns`` holds at least ``CORE_COLUMNS``."""
        params = self.params
        yaw = np.nan_to_num(columns["yaw"], nan=0.0)
        pitch = np.nan_to_num(columns["pitch"], nan=0.0)
        aperture = {s: np.asarray(columns[f"eye_aperture_{s}"], dtype=np.float64) for s in SIDES}
        measurable = measurable_sides(aperture, yaw, pitch, params)
        closure, mouth, brow = {}, {}, {}
        for s in SIDES:
            m = measurable[s]

            def rel(
                name: str, side: str = s, mask: np.ndarray = m
            ) -> tuple[np.ndarray, np.ndarray]:
                x = np.where(mask, columns[f"{name}_{side}"], np.nan)
                return x, self._baselines[(name, side)].update(x)

            ap, base = rel("eye_aperture")
            with np.errstate(invalid="ignore", divide="ignore"):
                closure[s] = np.clip(1.0 - ap / base, -1.0, 1.0)
            (mx, bx), (my, by) = rel("mouth_x"), rel("mouth_y")
            mouth[s] = (mx - bx) + (my - by)
            brow_y, brow_base = rel("brow_y")
            brow[s] = brow_y - brow_base
        return Activity(np.asarray(time, dtype=np.float64), measurable, closure, mouth, brow)


def compute_activity(
    time: np.ndarray, columns: dict[str, np.ndarray], fps: float, params: DetectionParams
) -> Activity:
    """The causal stage over a whole recording (see :class:`ActivityStage`).

    Parameters
    ----------
    time : (n,) seconds.
    columns : raw signals (at least ``CORE_COLUMNS``), NaN where no face.
    fps : nominal frame rate, frames per second.
    """
    return ActivityStage(fps, params).update(time, columns)
