"""Simulated per-side face signals with known episodes, for tests and demonstrations.

The signals follow the units of :mod:`spasm_cv.signals.geometry` (IOD units) and imitate
what MediaPipe measures on real faces, so they go through the same detector as real ones:

- an open eye of about 0.10 IOD (``base_aperture``), the right one narrower by
  ``rest_asymmetry`` (the affected side often rests narrower: its eye aspect ratio was
  below healthy controls' in Gameiro 2024 [1]_);
- MediaPipe's coupling between the eyes: when one eye closes on its own, the other reads
  ``coupling`` of that closure, and the blendshape eyeBlink scores of both eyes move;
- blinks (both eyes, within a frame), slow drift, head turns that narrow the far eye;
- the person's own expressions (``expressions_per_min``): smiles and squints that narrow
  both eyes by about the same *absolute* amount (IOD) for a second or more, so that a
  naturally narrower eye looks more closed *relative to its own* open level, and
  ``lopsided`` makes one eye narrow more than the other, as some faces do;
- ``talking``: the lips open and close at syllable rate.

Truth is exact by construction.

References
----------
.. [1] Gameiro GR, Yabumoto C, Osaki MH, Monteiro LG, Schor P, Osaki TH. Objective
   demonstration of eyelid spasm relief with smartphone and custom software in hemifacial
   spasm patients. International Ophthalmology (2024). doi:10.1007/s10792-024-03070-4
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spasm_cv.signals.geometry import SIDES
from spasm_cv.signals.table import SIGNAL_COLUMNS, Signals

EYE_TEXTURE = 90.0  # image detail of an eye region in view (landmarks.texture units)


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


def _busy(
    onset: float, end: float, episodes: tuple[SimEpisode, ...], before: float, after: float
) -> bool:
    return any(
        ep.onset - before < end and onset < ep.onset + ep.duration + after for ep in episodes
    )


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
    *,
    base_aperture: float = 0.10,
    coupling: float = 0.2,
    expressions_per_min: float = 0.0,
    expression_depth: float = 0.035,
    lopsided: float = 0.0,
    talking: bool = False,
) -> tuple[Signals, list[tuple[float, float]]]:
    """Per-side signals of a face with the given episodes, blinks, expressions and motion.

    Parameters
    ----------
    duration_s, fps : length (s) and frame rate (frames per second).
    episodes : one-sided episodes to place (their truth is exact).
    blinks_per_min : natural two-sided blinks per minute.
    noise : relative frame-to-frame noise of the eyelid aperture (fraction of baseline).
    drift : slow relative change of apertures over the recording (lighting, fatigue).
    head_turns : number of head turns to +-20 deg yaw lasting ~2 s each.
    rest_asymmetry : the right eye rests this fraction narrower than the left.
    blinks_clear_of_episodes : keep blinks and expressions 0.5 s away from episodes.
    seed : random seed; the same arguments always give the same signals.
    base_aperture : open aperture of the left eye, IOD.
    coupling : fraction of a one-sided closure the other eye reads (MediaPipe).
    expressions_per_min : smiles and squints per minute: both eyes narrow by about
        ``expression_depth`` IOD (absolute) for 0.8-3 s, both mouth corners rise.
    expression_depth : absolute narrowing of an expression, IOD.
    lopsided : in expressions the right eye narrows ``1 + lopsided`` times as much as the
        left (a face's own natural asymmetry; negative: the left narrows more).
    talking : the lips open and close at 3-6 Hz throughout, with small eyelid jitter.

    Returns
    -------
    (signals, blinks) : the Signals and the (onset, duration) of each simulated blink.

    Examples
    --------
    >>> signals, blinks = simulate_signals(10.0, episodes=(SimEpisode(4.0, "right", "twitch",
    ...                                                               0.8),), seed=1)
    >>> len(signals), bool(signals.columns["eye_aperture_left"].mean() > 0.05)
    (300, True)
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fps))
    t = np.arange(n) / fps
    slow = 1.0 + drift * np.sin(2 * np.pi * t / max(duration_s, 1.0) + rng.uniform(0, 2 * np.pi))
    yaw = np.zeros(n)
    for _ in range(head_turns):
        c, amp = rng.uniform(2, max(duration_s - 2, 2.1)), rng.choice([-20.0, 20.0])
        yaw += amp * np.exp(-0.5 * ((t - c) / 0.7) ** 2)
    # turns that overlap must not add up beyond +-20 deg (past max_yaw_deg an eye is not
    # measured at all, and an episode there is not one the detector can be asked to find)
    np.clip(yaw, -20.0, 20.0, out=yaw)
    closure = {s: np.zeros(n) for s in SIDES}  # what each eye really does
    own = {s: np.zeros(n) for s in SIDES}  # one-sided closures (episodes) only
    mouth = {s: np.zeros(n) for s in SIDES}
    narrowing = {s: np.zeros(n) for s in SIDES}  # expressions, absolute IOD
    smile = np.zeros(n)
    blinks = []
    k = rng.poisson(blinks_per_min * duration_s / 60.0)
    for onset in np.sort(rng.uniform(0.5, max(duration_s - 1.0, 0.6), k)):
        if blinks_clear_of_episodes and _busy(onset, onset + 0.3, episodes, 0.8, 0.5):
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
    k = rng.poisson(expressions_per_min * duration_s / 60.0)
    for onset in np.sort(rng.uniform(0.5, max(duration_s - 3.0, 0.6), k)):
        length = rng.uniform(0.8, 3.0)
        if blinks_clear_of_episodes and _busy(onset, onset + length, episodes, 0.5, 0.5):
            continue
        depth = expression_depth * rng.uniform(0.6, 1.0)
        ramp = min(0.3, length / 3)
        env = _bump(t, onset, length - 2 * ramp, rise=ramp, fall=ramp)
        narrowing["right"] = np.maximum(narrowing["right"], depth * (1 + lopsided) * env)
        narrowing["left"] = np.maximum(narrowing["left"], depth * env)
        smile = np.maximum(smile, 0.05 * rng.uniform(0.5, 1.0) * env)
    for ep in episodes:
        _add_max(
            own[ep.side],
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
    # what MediaPipe reads: a one-sided closure pulls the other eye along a little
    seen = {s: np.maximum(closure[s], own[s]) for s in SIDES}
    for s, o in (("right", "left"), ("left", "right")):
        seen[s] = np.maximum(seen[s], coupling * own[o])
    cols = {c: np.zeros(n) for c in SIGNAL_COLUMNS}
    base = {"right": base_aperture * (1 - rest_asymmetry), "left": base_aperture}
    jitter_talk = 0.004 * rng.standard_normal(n) if talking else np.zeros(n)
    for s in SIDES:
        away = yaw if s == "left" else -yaw
        pose = 1.0 - 0.002 * np.clip(away, 0, None)  # the far eye looks a little narrower
        jitter = 1.0 + noise * rng.standard_normal(n)
        open_level = base[s] * slow * pose * jitter - narrowing[s] - jitter_talk
        cols[f"eye_aperture_{s}"] = np.clip(open_level, 0.2 * base[s], None) * (1.0 - seen[s])
        lift = mouth[s] + smile
        cols[f"mouth_x_{s}"] = 0.45 + lift * 0.5 + 0.004 * rng.standard_normal(n)
        cols[f"mouth_y_{s}"] = -0.75 + lift * 0.5 + 0.004 * rng.standard_normal(n)
        cols[f"brow_y_{s}"] = 0.25 + 0.003 * rng.standard_normal(n)
        cols[f"cheek_y_{s}"] = -0.3 + 0.003 * rng.standard_normal(n) + narrowing[s]
        rel = 1.0 - cols[f"eye_aperture_{s}"] / (base[s] * slow)
        cols[f"bs_eyeSquint_{s}"] = np.clip(0.25 + 6.0 * narrowing[s], 0, 1)
        cols[f"eye_texture_{s}"] = (
            EYE_TEXTURE
            * (1.0 - 0.2 * np.clip(seen[s], 0, 1))
            * (1.0 + 0.03 * rng.standard_normal(n))
        )
        cols[f"bs_eyeBlink_{s}"] = np.clip(rel, 0, 1)
    # blendshape eyeBlink: each eye's score follows its own closure, pulled by the other's
    both = {s: cols[f"bs_eyeBlink_{s}"].copy() for s in SIDES}
    for s, o in (("right", "left"), ("left", "right")):
        cols[f"bs_eyeBlink_{s}"] = np.clip(0.05 + 0.6 * both[s] + 0.3 * both[o], 0, 1)
    if talking:
        phase = np.cumsum(rng.uniform(3.0, 6.0, n)) / fps
        cols["mouth_open"] = 0.05 * np.clip(np.sin(2 * np.pi * phase), 0, None)
    cols["yaw"] = yaw
    cols["pitch"] = 2.0 * np.sin(2 * np.pi * t / 7.0 + rng.uniform(0, 2 * np.pi)) + (
        0.3 * rng.standard_normal(n)
    )  # slow nodding and landmark jitter, degrees
    cols["roll"] = np.zeros(n)
    signals = Signals(t, np.ones(n, bool), np.ones(n, np.int16), cols, {"fps": fps})
    return signals, blinks
