"""Per-frame, per-side activity from signals: the causal first stage of the detector.

Every value at frame i depends only on frames <= i (see :mod:`spasm_cv.events.baseline`), so
the streaming detector computes it incrementally and gets the offline result exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from spasm_cv.events.baseline import CausalQuantile
from spasm_cv.events.params import ActivityParams, DetectionParams
from spasm_cv.signals.geometry import SIDES

# Raw columns the core reads (the rest of Signals is for people and reports).
CORE_COLUMNS = tuple(
    f"{n}_{s}"
    for s in SIDES
    for n in ("eye_aperture", "mouth_x", "mouth_y", "brow_y", "cheek_y", "eye_texture")
) + ("yaw", "pitch", "roll", "mouth_open")


@dataclass
class Activity:
    """Per-frame arrays; the per-side ones are dicts with one entry per side.

    ``measurable``: face found, head pose lets this side be measured, the eye is not covered
    (``occluded``), and its baselines have at least ``warmup_s`` of earlier measured frames.
    ``occluded``: the eye region shows far less image detail than usual, for this eye and
    against the other eye (a hand or an object over it; see
    :mod:`spasm_cv.landmarks.texture`): the landmarks there are guesses.
    ``warming_up``: the side was in view but its baselines had less than ``warmup_s`` of
    history yet.
    ``closure``: 1 - aperture / open-eye baseline (NaN where not measurable): how much this
    eye closed, relative to its own open level.
    ``drop``: open-eye baseline - aperture, in inter-ocular units (IOD): the same closing in
    absolute size, so that a naturally narrow eye does not magnify noise.
    ``mouth``: mouth-corner pull up and outwards from its rolling median, IOD units.
    ``brow``: brow height above its rolling median, IOD units.
    ``cheek``: cheek height above the eye line, IOD units (raw: only its changes around an
    event are read, so it needs no baseline).
    ``asymmetry``: this person's usual difference between the two eyes' closures: the upper
    quartile of ``|closure_right - closure_left|`` over the last ``baseline_window_s`` of
    frames where both eyes were measured and neither was closing (closure below
    ``candidate_on``): a face that moves its eyes unevenly when it talks, or a small face
    whose landmarks are noisy, has a large one; its spasms do not count. NaN until
    ``asymmetry_history_s`` of such frames were seen.
    ``yaw``, ``pitch``, ``roll``: head pose, degrees. ``mouth_open``: inner-lip gap, IOD.
    """

    time: np.ndarray
    measurable: dict[str, np.ndarray]
    occluded: dict[str, np.ndarray]
    warming_up: dict[str, np.ndarray]
    closure: dict[str, np.ndarray]
    drop: dict[str, np.ndarray]
    mouth: dict[str, np.ndarray]
    brow: dict[str, np.ndarray]
    cheek: dict[str, np.ndarray]
    asymmetry: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    mouth_open: np.ndarray

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def of(
        cls,
        time: np.ndarray,
        measurable: dict[str, np.ndarray],
        closure: dict[str, np.ndarray] | None = None,
        mouth: dict[str, np.ndarray] | None = None,
        brow: dict[str, np.ndarray] | None = None,
    ) -> Activity:
        """An activity from what a result folder keeps (signals.csv.gz's ``measurable_*``,
        ``closure_*``, ``mouth_pull_*``, ``brow_lift_*``): enough to count observed and
        eye-closed time. Whatever is not given reads as still (0) or unknown (NaN).

        Examples
        --------
        >>> import numpy as np
        >>> a = Activity.of(np.arange(3) / 10, {"right": np.ones(3, bool),
        ...                                     "left": np.ones(3, bool)})
        >>> len(a), float(a.closure["left"][0])
        (3, 0.0)
        """
        t = np.asarray(time, dtype=np.float64)
        n = len(t)

        def per_side(given, fill):
            return {s: np.asarray(given[s]) if given else np.full(n, fill) for s in SIDES}

        nan = np.full(n, np.nan)
        return cls(
            time=t,
            measurable={s: np.asarray(measurable[s], dtype=bool) for s in SIDES},
            occluded=per_side(None, False),
            warming_up=per_side(None, False),
            closure=per_side(closure, 0.0),
            drop=per_side(None, np.nan),
            mouth=per_side(mouth, 0.0),
            brow=per_side(brow, 0.0),
            cheek=per_side(None, np.nan),
            asymmetry=nan,
            yaw=nan,
            pitch=nan,
            roll=nan,
            mouth_open=nan,
        )

    def _map(self, fn) -> Activity:
        values = {}
        for f in fields(self):
            v = getattr(self, f.name)
            values[f.name] = {s: fn(x) for s, x in v.items()} if isinstance(v, dict) else fn(v)
        return Activity(**values)

    def slice(self, start: int, stop: int | None = None) -> Activity:
        """Frames ``start`` to ``stop`` (exclusive) of every array."""
        sl = slice(start, stop)
        return self._map(lambda x: x[sl])

    @classmethod
    def concatenate(cls, parts: list[Activity]) -> Activity:
        """The frames of ``parts`` one after the other."""
        values = {}
        for f in fields(cls):
            first = getattr(parts[0], f.name)
            if isinstance(first, dict):
                values[f.name] = {
                    s: np.concatenate([getattr(p, f.name)[s] for p in parts]) for s in first
                }
            else:
                values[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
        return cls(**values)


def measurable_sides(
    aperture: dict[str, np.ndarray], yaw: np.ndarray, pitch: np.ndarray, params: ActivityParams
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
        p = params.activity
        window = max(int(round(p.baseline_window_s * fps)), 1)
        self._baselines = {
            (name, s): CausalQuantile(window, q)
            for s in SIDES
            for name, q in (
                ("eye_aperture", p.baseline_quantile),
                ("mouth_x", 0.5),
                ("mouth_y", 0.5),
                ("brow_y", 0.5),
            )
        }
        self._asymmetry = CausalQuantile(window, 0.75)
        self._asymmetry_history = max(int(round(p.asymmetry_history_s * fps)), 1)
        self._calm = 0  # calm frames seen so far
        long_window = max(int(round(p.occlusion_window_s * fps)), 1)
        self._texture = {s: CausalQuantile(long_window, 0.8) for s in SIDES}
        self._warmup = max(int(round(p.warmup_s * fps)), 0)
        self._measured = {s: 0 for s in SIDES}  # measured frames of each side so far

    def update(self, time: np.ndarray, columns: dict[str, np.ndarray]) -> Activity:
        """Activity of the next frames; ``columns`` holds at least ``CORE_COLUMNS``."""
        params = self.params
        n = len(time)

        def col(name: str) -> np.ndarray:
            # columns added after a recording was made read as unmeasured
            v = columns.get(name)
            return np.full(n, np.nan) if v is None else np.asarray(v, dtype=np.float64)

        yaw_raw, pitch_raw = col("yaw"), col("pitch")
        yaw = np.nan_to_num(yaw_raw, nan=0.0)
        pitch = np.nan_to_num(pitch_raw, nan=0.0)
        aperture = {s: col(f"eye_aperture_{s}") for s in SIDES}
        measurable = measurable_sides(aperture, yaw, pitch, params.activity)
        occluded = self._occlusion({s: col(f"eye_texture_{s}") for s in SIDES})
        for s in SIDES:
            measurable[s] = measurable[s] & ~occluded[s]
        warming_up = {}
        for s in SIDES:  # a side is measured once its baseline has warmup_s of history
            seen = self._measured[s] + np.cumsum(measurable[s]) - measurable[s]
            self._measured[s] += int(np.count_nonzero(measurable[s]))
            warming_up[s] = measurable[s] & (seen < self._warmup)
            measurable[s] = measurable[s] & ~warming_up[s]
        closure, drop, mouth, brow = {}, {}, {}, {}
        for s in SIDES:
            m = measurable[s]

            def rel(
                name: str, side: str = s, mask: np.ndarray = m
            ) -> tuple[np.ndarray, np.ndarray]:
                x = np.where(mask, col(f"{name}_{side}"), np.nan)
                return x, self._baselines[(name, side)].update(x)

            ap, base = rel("eye_aperture")
            with np.errstate(invalid="ignore", divide="ignore"):
                closure[s] = np.clip(1.0 - ap / base, -1.0, 1.0)
            drop[s] = base - ap
            (mx, bx), (my, by) = rel("mouth_x"), rel("mouth_y")
            mouth[s] = (mx - bx) + (my - by)
            brow_y, brow_base = rel("brow_y")
            brow[s] = brow_y - brow_base
        # the eyes' usual difference is learnt where neither eye is closing, so frequent
        # spasms (or blinks) do not raise it and hide themselves
        both = measurable["right"] & measurable["left"]
        with np.errstate(invalid="ignore"):
            calm = both & (
                np.fmax(closure["right"], closure["left"]) < params.candidates.candidate_on
            )
        diff = np.where(calm, np.abs(closure["right"] - closure["left"]), np.nan)
        return Activity(
            time=np.asarray(time, dtype=np.float64),
            measurable=measurable,
            occluded=occluded,
            warming_up=warming_up,
            closure=closure,
            drop=drop,
            mouth=mouth,
            brow=brow,
            cheek={s: np.where(measurable[s], col(f"cheek_y_{s}"), np.nan) for s in SIDES},
            asymmetry=self._usual_asymmetry(diff),
            yaw=yaw_raw,
            pitch=pitch_raw,
            roll=col("roll"),
            mouth_open=col("mouth_open"),
        )

    def _usual_asymmetry(self, diff: np.ndarray) -> np.ndarray:
        """The upper quartile of the calm frames' eye difference; NaN until there have been
        ``asymmetry_history_s`` of calm frames (too few to know this face)."""
        usual = self._asymmetry.update(diff)
        calm = np.isfinite(diff)
        seen = self._calm + np.cumsum(calm)
        self._calm += int(np.count_nonzero(calm))
        return np.where(seen >= self._asymmetry_history, usual, np.nan)

    def _occlusion(self, texture: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Frames where each eye is covered.

        Each eye's image detail is compared with its own usual level (the upper quintile
        over the last ``occlusion_window_s``, so a cover lasting less than most of that
        window does not become the usual); an eye is covered where its share of its usual
        level falls below ``occlusion_texture_ratio`` times the other eye's share (a hand
        over one eye; dimmer light lowers both shares alike), or below half that ratio
        whatever the other eye does (both eyes covered).
        """
        ratio = self.params.activity.occlusion_texture_ratio
        share = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for s in SIDES:
                share[s] = texture[s] / self._texture[s].update(texture[s])
            return {
                s: (share[s] < ratio * share[o]) | (share[s] < 0.5 * ratio)
                for s, o in (("right", "left"), ("left", "right"))
            }


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
