"""The second stage: per-side activity to events (contractions, episodes, blinks).

Decisions here look at most ``merge_gap_s`` (plus a few frames) around each region, which is
what lets the streaming detector cut its buffer at quiet moments without changing results.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks

from spasm_cv.events.activity import Activity
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.runs import dilate, hysteresis, merge_close, regions, seeded_runs
from spasm_cv.events.table import OTHER, SIDES, Event


def _frames(seconds: float, fps: float) -> int:
    return max(int(round(seconds * fps)), 1)


def one_sided(activity: Activity, side: str, params: DetectionParams) -> np.ndarray:
    """Frames where ``side`` is closed clearly more than the other eye (both measured)."""
    c = np.nan_to_num(activity.closure[side], nan=0.0)
    o = np.nan_to_num(activity.closure[OTHER[side]], nan=np.inf)  # unmeasured other: unknown
    return (
        (c >= params.closure_on)
        & (c - o >= params.min_asymmetry)
        & (o <= params.other_open_ratio * c)
        & activity.measurable[side]
    )


def bilateral_mask(activity: Activity, params: DetectionParams) -> np.ndarray:
    """Frames where both eyes are closed together (blinks, squints), not one clearly more."""
    both = np.minimum(
        np.nan_to_num(activity.closure["right"], nan=0.0),
        np.nan_to_num(activity.closure["left"], nan=0.0),
    )
    even = ~(one_sided(activity, "right", params) | one_sided(activity, "left", params))
    # Blinks are large two-sided movements (Osaki 2019): shallow shared narrowing at the
    # shoulders of a one-sided closure does not make it a blink.
    seed = (both >= max(params.closure_on, params.blink_min_closure)) & even
    return seeded_runs((both >= params.closure_off) & even, seed)


def unilateral_mask(
    activity: Activity, side: str, bilateral: np.ndarray, fps: float, params: DetectionParams
) -> np.ndarray:
    """One-sided frames of ``side`` not at the edge of a two-sided closure (blink lag)."""
    near_blink = dilate(bilateral, int(round(params.blink_sync_s * fps)))
    return one_sided(activity, side, params) & ~near_blink


def mouth_pull(activity: Activity, side: str) -> np.ndarray:
    """How much this mouth corner is pulled up/out, beyond the other's pull (IOD units)."""
    own = activity.mouth[side]
    return np.minimum(own, own - activity.mouth[OTHER[side]])


def _episode_event(
    activity: Activity,
    side: str,
    start: int,
    stop: int,
    core: np.ndarray,
    pull: np.ndarray,
    fps: float,
    params: DetectionParams,
) -> Event:
    other = OTHER[side]
    c = np.nan_to_num(activity.closure[side][start:stop], nan=0.0)
    o = np.nan_to_num(activity.closure[other][start:stop], nan=0.0)
    cuts = _split_at_dips(c, params)
    n = len(cuts) - 1
    pieces = zip(cuts[:-1], cuts[1:], strict=True)
    held = [np.count_nonzero(c[a:b] >= params.closure_off) / fps for a, b in pieces]
    if max(held) >= params.tonic_min_s:
        kind = "tonic"
    elif n >= 2:
        kind = "clonic"
    else:
        kind = "twitch"
    mouth_asym = pull[start:stop]
    brow_asym = activity.brow[side][start:stop] - activity.brow[other][start:stop]
    mouth = (
        bool(np.nanmax(mouth_asym) >= params.mouth_on) if np.isfinite(mouth_asym).any() else None
    )
    brow = bool(np.nanmax(brow_asym) >= params.brow_on) if np.isfinite(brow_asym).any() else None
    margin = float(np.median((c - o)[core[start:stop]])) if core[start:stop].any() else 0.0
    confidence = 0.3 + 0.5 * min(margin / 0.6, 1.0) + 0.1 * bool(mouth) + 0.1 * bool(brow)
    t = activity.time
    return Event(
        onset=float(t[start]),
        duration=float(t[stop - 1] - t[start] + 1.0 / fps),
        trial_type="spasm",
        side=side,
        kind=kind,
        regions="eye+mouth" if mouth else "eye",
        n_contractions=n,
        peak_closure=float(np.clip(c.max(), 0.0, 1.0)),
        closure_duration=float(np.count_nonzero(c >= params.closure_on) / fps),
        brow_raised=brow,
        mouth_cocontraction=mouth,
        confidence=float(np.clip(confidence, 0.0, 1.0)),
    )


def eye_episodes(
    activity: Activity, bilateral: np.ndarray, fps: float, params: DetectionParams
) -> list[Event]:
    """One-sided eyelid contraction episodes on both sides."""
    events = []
    min_core = _frames(params.min_unilateral_s, fps)
    for side in SIDES:
        core = unilateral_mask(activity, side, bilateral, fps, params)
        closed = hysteresis(activity.closure[side], params.closure_on, params.closure_off)
        runs = regions(closed)
        keep = np.array(
            [np.count_nonzero(core[a:b]) >= min_core for a, b in runs], dtype=bool
        ).reshape(-1)
        runs = runs[keep]
        pull = mouth_pull(activity, side)
        for group in merge_close(runs, _frames(params.merge_gap_s, fps)):
            start, stop = runs[group[0]][0], runs[group[-1]][1]
            events.append(_episode_event(activity, side, start, stop, core, pull, fps, params))
    return events


def mouth_episodes(
    activity: Activity, eye_events: list[Event], fps: float, params: DetectionParams
) -> list[Event]:
    """One-sided mouth-corner pulls with no eyelid closure on that side (``regions=mouth``)."""
    events = []
    t = activity.time
    for side in SIDES:
        other = OTHER[side]
        asym = mouth_pull(activity, side)
        both = activity.measurable[side] & activity.measurable[other]
        lone = both & (activity.mouth[other] < params.mouth_only_ratio * activity.mouth[side])
        pulled = hysteresis(np.where(lone, asym, np.nan), params.mouth_only_on, params.mouth_on)
        for a, b in regions(pulled):
            if (b - a) / fps < params.mouth_only_min_s:
                continue
            c = np.nan_to_num(activity.closure[side][a:b], nan=0.0)
            if c.max() >= params.closure_on:
                continue  # the eye closed too: that is an eye episode's business
            onset, end = float(t[a]), float(t[b - 1] + 1.0 / fps)
            if any(e.side == side and e.onset < end and onset < e.end for e in eye_events):
                continue
            peak = float(np.nanmax(asym[a:b]))
            events.append(
                Event(
                    onset=onset,
                    duration=end - onset,
                    trial_type="spasm",
                    side=side,
                    kind="tonic" if (b - a) / fps >= params.tonic_min_s else "twitch",
                    regions="mouth",
                    n_contractions=1,
                    peak_closure=float(np.clip(c.max(), 0.0, 1.0)),
                    closure_duration=0.0,
                    brow_raised=None,
                    mouth_cocontraction=True,
                    confidence=float(np.clip(0.2 + 2.0 * peak, 0.0, 0.6)),
                )
            )
    return events


def _split_at_dips(x: np.ndarray, params: DetectionParams) -> list[int]:
    """Cut points (indices into ``x``, first 0 and last len(x)) at the deepest dip between
    successive prominent peaks: one piece per contraction."""
    padded = np.concatenate([[-1.0], x, [-1.0]])
    peaks, _ = find_peaks(
        padded, height=params.closure_on, prominence=params.contraction_prominence
    )
    peaks = peaks - 1
    cuts = [0] + [a + int(np.argmin(x[a:b])) for a, b in zip(peaks[:-1], peaks[1:], strict=True)]
    return cuts + [len(x)]


def blink_events(
    activity: Activity, bilateral: np.ndarray, fps: float, params: DetectionParams
) -> list[Event]:
    """Two-sided closures: blinks (short) and ``bilateral_closure`` (squints, eyes shut).

    Blinks in quick succession whose closure does not fall back below ``closure_off`` in
    between are split at the dip between them.
    """
    events = []
    t = activity.time
    both = np.minimum(
        np.nan_to_num(activity.closure["right"], nan=0.0),
        np.nan_to_num(activity.closure["left"], nan=0.0),
    )
    min_pair = _frames(2 * params.min_unilateral_s + 0.2, fps)  # shorter: one blink
    for a0, b0 in regions(bilateral):
        cuts = _split_at_dips(both[a0:b0], params) if b0 - a0 > min_pair else [0, b0 - a0]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            a, b = a0 + a, a0 + b
            duration = float(t[b - 1] - t[a] + 1.0 / fps)
            events.append(
                Event(
                    onset=float(t[a]),
                    duration=duration,
                    trial_type="blink" if duration <= params.blink_max_s else "bilateral_closure",
                    side="both",
                    kind=None,
                    regions="eye",
                    n_contractions=1,
                    peak_closure=float(np.clip(both[a:b].max(), 0.0, 1.0)),
                    closure_duration=float(np.count_nonzero(both[a:b] >= params.closure_on) / fps),
                    brow_raised=None,
                    mouth_cocontraction=None,
                    confidence=1.0,
                )
            )
    return events


def find_events(activity: Activity, fps: float, params: DetectionParams) -> list[Event]:
    """All events of an activity table, sorted by onset."""
    if len(activity) == 0:
        return []
    bilateral = bilateral_mask(activity, params)
    eye = eye_episodes(activity, bilateral, fps, params)
    events = (
        eye
        + mouth_episodes(activity, eye, fps, params)
        + blink_events(activity, bilateral, fps, params)
    )
    return sorted(events, key=lambda e: (e.onset, e.trial_type, e.side))
