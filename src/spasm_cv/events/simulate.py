"""Simulated per-side face signals with known episodes, for tests and demonstrations.

The signals follow the units of :mod:`spasm_cv.signals.geometry` (IOD units), so they go
through the same detector as real ones. Truth is exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spasm_cv.signals.geometry import SIDES
from spasm_cv.signals.table import SIGNAL_COLUMNS, Signals


@dataclass(frozen=True)
class SimEpisode:
    """One simulated one-sided episode. Times in seconds; ``amplitude`` is peak closure 0-1."""

    onset: float
    side: str
    kind: str  # twitch | clonic | tonic
    amplitude: float
    n_contractions: int = 1
    hold_s: float = 0.08  # time at peak closure of each contraction
    period_s: float = 0.25  # clonic: time from one contraction to the next
    mouth: bool = False

    @property
    def duration(self) -> float:
        rise, fall = 0.06, 0.10
        if self.kind == "clonic":
            return (self.n_contractions - 1) * self.period_s + rise + self.hold_s + fall
        return rise + self.hold_s + fall


def _bump(t: np.ndarray, onset: float, hold: float, rise: float = 0.06, fall: float = 0.10):
    """0-1 raised-cosine contraction: closes in ``rise`` s, holds, reopens in ``fall`` s."""
    x = np.zeros_like(t)
    up = (t >= onset) & (t < onset + rise)
    x[up] = 0.5 - 0.5 * np.cos(np.pi * (t[up] - onset) / rise)
    top = (t >= onset + rise) & (t < onset + rise + hold)
    x[top] = 1.0
    t2 = onset + rise + hold
    down = (t >= t2) & (t < t2 + fall)
    x[down] = 0.5 + 0.5 * np.cos(np.pi * (t[down] - t2) / fall)
    return x


def _add_max(target: np.ndarray, t: np.ndarray, start: float, stop: float, make) -> None:
    """``target = max(target, make(t))`` on the samples between ``start`` and ``stop`` only
    (``t`` is sorted), so long simulations stay linear in their length."""
    a, b = np.searchsorted(t, [start, stop])
    target[a:b] = np.maximum(target[a:b], make(t[a:b]))


def episode_envelope(t: np.ndarray, ep: SimEpisode) -> np.ndarray:
    """Closure (0-1) of the episode's eye over time ``t``."""
    if ep.kind == "clonic":
        env = np.zeros_like(t)
        for k in range(ep.n_contractions):
            env = np.maximum(env, _bump(t, ep.onset + k * ep.period_s, ep.hold_s))
        return ep.amplitude * env
    return ep.amplitude * _bump(t, ep.onset, ep.hold_s)


def simulate_signals(
    duration_s: float = 60.0,
    fps: float = 30.0,
    episodes: tuple[SimEpisode, ...] = (),
    blinks_per_min: float = 15.0,
    noise: float = 0.02,
    drift: float = 0.05,
    head_turns: int = 0,
    rest_asymmetry: float = 0.0,
    blinks_clear_of_episodes: bool = True,
    seed: int = 0,
) -> tuple[Signals, list[tuple[float, float]]]:
    """Per-side signals of a face with the given episodes, blinks, noise, drift, head turns.

    Parameters
    ----------
    noise : relative frame-to-frame noise of the eyelid aperture (fraction of baseline).
    drift : slow relative change of apertures over the recording (lighting, fatigue).
    head_turns : number of head turns to +-20 deg yaw lasting ~2 s each.
    rest_asymmetry : the right eye rests this fraction narrower than the left (HFS side).
    blinks_clear_of_episodes : keep blinks 0.5 s away from episodes (unambiguous truth).

    Returns
    -------
    (signals, blinks) : the Signals and the (onset, duration) of each simulated blink.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fps))
    t = np.arange(n) / fps
    slow = 1.0 + drift * np.sin(2 * np.pi * t / max(duration_s, 1.0) + rng.uniform(0, 2 * np.pi))
    yaw = np.zeros(n)
    for _ in range(head_turns):
        c, amp = rng.uniform(2, max(duration_s - 2, 2.1)), rng.choice([-20.0, 20.0])
        yaw += amp * np.exp(-0.5 * ((t - c) / 0.7) ** 2)
    closure = {s: np.zeros(n) for s in SIDES}
    mouth = {s: np.zeros(n) for s in SIDES}
    blinks = []
    k = rng.poisson(blinks_per_min * duration_s / 60.0)
    for onset in np.sort(rng.uniform(0.5, max(duration_s - 1.0, 0.6), k)):
        if blinks_clear_of_episodes and any(
            ep.onset - 0.8 < onset < ep.onset + ep.duration + 0.5 for ep in episodes
        ):
            continue
        hold = rng.uniform(0.03, 0.12)
        amp = rng.uniform(0.75, 1.0)
        lag = rng.integers(0, 2) / fps  # eyes close within a frame of each other
        first = rng.choice(SIDES)
        for s in SIDES:
            a, start = amp * rng.uniform(0.9, 1.0), onset + (lag if s != first else 0)
            _add_max(
                closure[s],
                t,
                start,
                start + 0.2 + hold,
                lambda tt, a=a, start=start, hold=hold: a * _bump(tt, start, hold),
            )
        blinks.append((float(onset), 0.06 + hold + 0.10 + lag))
    for ep in episodes:
        _add_max(
            closure[ep.side],
            t,
            ep.onset,
            ep.onset + ep.duration,
            lambda tt, ep=ep: episode_envelope(tt, ep),
        )
        if ep.mouth:
            _add_max(
                mouth[ep.side],
                t,
                ep.onset,
                ep.onset + ep.duration,
                lambda tt, ep=ep: 0.12 * episode_envelope(tt, ep) / max(ep.amplitude, 1e-6),
            )
    cols = {c: np.zeros(n) for c in SIGNAL_COLUMNS}
    base = {"right": 0.30 * (1 - rest_asymmetry), "left": 0.30}
    for s in SIDES:
        away = yaw if s == "left" else -yaw
        pose = 1.0 - 0.002 * np.clip(away, 0, None)  # the far eye looks a little narrower
        jitter = 1.0 + noise * rng.standard_normal(n)
        cols[f"eye_aperture_{s}"] = base[s] * slow * pose * jitter * (1.0 - closure[s])
        cols[f"mouth_x_{s}"] = 0.45 + mouth[s] * 0.5 + 0.004 * rng.standard_normal(n)
        cols[f"mouth_y_{s}"] = -0.75 + mouth[s] * 0.5 + 0.004 * rng.standard_normal(n)
        cols[f"brow_y_{s}"] = 0.25 + 0.003 * rng.standard_normal(n)
        cols[f"cheek_y_{s}"] = -0.3 + 0.003 * rng.standard_normal(n)
        cols[f"bs_eyeBlink_{s}"] = np.clip(closure[s], 0, 1)
    cols["yaw"] = yaw
    cols["pitch"] = 2.0 * rng.standard_normal(n)
    cols["roll"] = np.zeros(n)
    signals = Signals(t, np.ones(n, bool), np.ones(n, np.int16), cols, {"fps": fps})
    return signals, blinks
