"""The second stage: per-side activity to events (contractions, episodes, blinks).

Decisions here look at most ``merge_gap_s`` (plus a few frames) around each region, which is
what lets the streaming detector cut its buffer at quiet moments without changing results.
"""

from __future__ import annotations

import numpy as np

from spasm_cv.events.activity import Activity
from spasm_cv.events.candidates import (
    Candidate,
    candidate_features,
    context_of,
    find_candidates,
    split_at_dips,
)
from spasm_cv.events.decide import Decider, load_model, unsure
from spasm_cv.events.params import DetectionParams, EpisodeParams
from spasm_cv.events.runs import hysteresis, regions, seeded_runs
from spasm_cv.events.table import OTHER, POSSIBLE, SIDES, SPASM, Event


def _frames(seconds: float, fps: float) -> int:
    return max(int(round(seconds * fps)), 1)


def one_sided(activity: Activity, side: str, params: EpisodeParams) -> np.ndarray:
    """Frames where ``side`` is closed clearly more than the other eye (both measured)."""
    c = np.nan_to_num(activity.closure[side], nan=0.0)
    o = np.nan_to_num(activity.closure[OTHER[side]], nan=np.inf)  # unmeasured other: unknown
    return (
        (c >= params.closure_on)
        & (c - o >= params.min_asymmetry)
        & (o <= params.other_open_ratio * c)
        & activity.measurable[side]
    )


def bilateral_mask(activity: Activity, params: EpisodeParams) -> np.ndarray:
    """Frames where both eyes are closed together (blinks, squints), not one clearly more.

    A run of such frames must somewhere have both eyes at least ``blink_min_closure`` (and
    ``closure_on``) closed: conjugate blinks are large movements, while the one-sided
    movements of hemifacial spasm are smaller and slower than blinks [1]_.

    References
    ----------
    .. [1] Osaki et al. Analysis of blink activity and anomalous eyelid movements in patients
       with hemifacial spasm. Graefe's Archive for Clinical and Experimental Ophthalmology
       (2019). doi:10.1007/s00417-019-04567-w
    """
    both = np.minimum(
        np.nan_to_num(activity.closure["right"], nan=0.0),
        np.nan_to_num(activity.closure["left"], nan=0.0),
    )
    even = ~(one_sided(activity, "right", params) | one_sided(activity, "left", params))
    # Blinks are large two-sided movements (Osaki 2019): shallow shared narrowing at the
    # shoulders of a one-sided closure does not make it a blink.
    seed = (both >= max(params.closure_on, params.blink_min_closure)) & even
    return seeded_runs((both >= params.closure_off) & even, seed)


def mouth_pull(activity: Activity, side: str) -> np.ndarray:
    """How much this mouth corner is pulled up/out, beyond the other's pull (IOD units)."""
    own = activity.mouth[side]
    return np.minimum(own, own - activity.mouth[OTHER[side]])


def _episode_event(
    activity: Activity,
    cand: Candidate,
    pull: np.ndarray,
    probability: float,
    fps: float,
    params: DetectionParams,
    trial_type: str = SPASM,
) -> Event:
    side, start, stop = cand.side, cand.start, cand.stop
    other = OTHER[side]
    c = np.nan_to_num(activity.closure[side][start:stop], nan=0.0)
    cuts = split_at_dips(c, params)
    ep = params.episodes
    n = len(cuts) - 1
    pieces = zip(cuts[:-1], cuts[1:], strict=True)
    held = [np.count_nonzero(c[a:b] >= ep.closure_off) / fps for a, b in pieces]
    if max(held) >= ep.tonic_min_s:
        kind = "tonic"
    elif n >= 2:
        kind = "clonic"
    else:
        kind = "twitch"
    mouth_asym = pull[start:stop]
    brow_asym = activity.brow[side][start:stop] - activity.brow[other][start:stop]
    mouth = bool(np.nanmax(mouth_asym) >= ep.mouth_on) if np.isfinite(mouth_asym).any() else None
    brow = bool(np.nanmax(brow_asym) >= ep.brow_on) if np.isfinite(brow_asym).any() else None
    t = activity.time
    return Event(
        onset=float(t[start]),
        duration=float(t[stop - 1] - t[start] + 1.0 / fps),
        trial_type=trial_type,
        side=side,
        kind=kind,
        regions="eye+mouth" if mouth else "eye",
        n_contractions=max(n, 1),
        peak_closure=float(np.clip(c.max(), 0.0, 1.0)),
        closure_duration=float(np.count_nonzero(c >= ep.closure_on) / fps),
        brow_raised=brow,
        mouth_cocontraction=mouth,
        confidence=float(np.clip(probability, 0.0, 1.0)),
        context=context_of(activity, start, stop, fps, params.context),
    )


def eye_episodes(
    activity: Activity,
    bilateral: np.ndarray,
    fps: float,
    params: DetectionParams,
    decider: Decider,
) -> list[Event]:
    """One-sided eyelid contraction episodes on both sides.

    Every candidate (:func:`~spasm_cv.events.candidates.find_candidates`) is described by its
    features; ``decider`` (default the packaged rule, :mod:`spasm_cv.events.decide`) says
    which are episodes and how confident that is. An episode the detector cannot be sure of
    (:func:`~spasm_cv.events.decide.unsure`) is a ``possible_spasm``.
    """
    candidates, x, accepted, confidence = _judged(activity, bilateral, fps, params, decider)
    if not candidates:
        return []
    possible = unsure(x, params.decide)
    pulls = {s: mouth_pull(activity, s) for s in SIDES}
    return [
        _episode_event(
            activity, cand, pulls[cand.side], float(p), fps, params, POSSIBLE if maybe else SPASM
        )
        for cand, ok, p, maybe in zip(candidates, accepted, confidence, possible, strict=True)
        if ok
    ]


def _judged(
    activity: Activity, bilateral: np.ndarray, fps: float, params: DetectionParams, decider: Decider
) -> tuple[list[Candidate], np.ndarray, np.ndarray, np.ndarray]:
    """The one-sided candidates, their features, and the decider's verdict and confidence."""
    candidates = find_candidates(activity, bilateral, fps, params.candidates)
    if not candidates:
        return [], np.zeros((0, 0)), np.zeros(0, bool), np.zeros(0)
    x = np.stack([candidate_features(activity, c, fps, params) for c in candidates])
    accepted, confidence = decider.decide(x, params.decide)
    return candidates, x, accepted, confidence


# How much looser than detection the screening pass looks for one-sided moments: a missed
# episode is most often one too shallow or too short to become a candidate at all.
SCREENING_LOOSENING = {"candidate_on": 0.6, "candidate_off": 0.6, "candidate_asymmetry": 0.5,
                       "min_unilateral_s": 0.5}  # fmt: skip


def near_misses(
    activity: Activity,
    fps: float,
    params: DetectionParams,
    n: int,
    decider: Decider | None = None,
) -> list[Event]:
    """The ``n`` one-sided moments the detector did not report that came closest, as events
    in time order: where a reviewer looks for missed episodes (a screening pass) without
    watching the whole video.

    Candidates are looked for with looser thresholds than detection's
    (:data:`SCREENING_LOOSENING`: shallower, less one-sided, shorter); those the detector
    would not report (not candidates at its own thresholds, or rejected) are ranked by the
    decider's confidence.

    Parameters
    ----------
    activity : Activity
        The recording's activity (:func:`~spasm_cv.events.detect.detect` gives it).
    fps : float
        Nominal frame rate (frames per second).
    params : DetectionParams
        The parameters of the detection.
    n : int
        How many near misses at most.
    decider : Decider, optional
        Default: the packaged rule.

    Returns
    -------
    list of Event
        ``spasm`` events (never written to events.tsv) whose ``confidence`` is the decider's
        for the rejected candidate.

    Examples
    --------
    >>> from spasm_cv.events.detect import detect
    >>> from spasm_cv.events.simulate import simulate_signals
    >>> signals, _ = simulate_signals(duration_s=60.0, rest_asymmetry=0.05, seed=1)
    >>> d = detect(signals)
    >>> misses = near_misses(d.activity, d.fps, d.params, n=3)
    >>> len(misses) <= 3 and all(e.onset <= f.onset for e, f in zip(misses, misses[1:]))
    True
    """
    decider = decider or load_model()
    bilateral = bilateral_mask(activity, params.episodes)
    reported = [(c.side, c.start, c.stop) for c, ok in
                zip(*_judged(activity, bilateral, fps, params, decider)[::2], strict=True)
                if ok]  # fmt: skip
    flat = params.to_dict()
    loose = params.with_values(**{k: flat[k] * f for k, f in SCREENING_LOOSENING.items()})
    candidates, _, _, confidence = _judged(activity, bilateral, fps, loose, decider)
    rejected = [
        (float(p), i)
        for i, (c, p) in enumerate(zip(candidates, confidence, strict=True))
        if not any(s == c.side and a < c.stop and c.start < b for s, a, b in reported)
    ]
    top = sorted(rejected, key=lambda r: (-r[0], r[1]))[: max(0, n)]
    pulls = {s: mouth_pull(activity, s) for s in SIDES}
    events = [_episode_event(activity, candidates[i], pulls[candidates[i].side], p, fps, params)
              for p, i in top]  # fmt: skip
    return sorted(events, key=lambda e: e.onset)


def mouth_episodes(
    activity: Activity, eye_events: list[Event], fps: float, params: DetectionParams
) -> list[Event]:
    """One-sided mouth-corner pulls with no eyelid closure on that side (``regions=mouth``)."""
    events = []
    t = activity.time
    ep = params.episodes
    for side in SIDES:
        other = OTHER[side]
        asym = mouth_pull(activity, side)
        both = activity.measurable[side] & activity.measurable[other]
        lone = both & (activity.mouth[other] < ep.mouth_only_ratio * activity.mouth[side])
        pulled = hysteresis(np.where(lone, asym, np.nan), ep.mouth_only_on, ep.mouth_on)
        for a, b in regions(pulled):
            if (b - a) / fps < ep.mouth_only_min_s:
                continue
            c = np.nan_to_num(activity.closure[side][a:b], nan=0.0)
            if c.max() >= ep.closure_on:
                continue  # the eye closed too: that is an eye episode's business
            onset, end = float(t[a]), float(t[b - 1] + 1.0 / fps)
            if any(e.side == side and e.onset < end and onset < e.end for e in eye_events):
                continue
            peak = float(np.nanmax(asym[a:b]))
            events.append(
                Event(
                    onset=onset,
                    duration=end - onset,
                    trial_type=SPASM,
                    side=side,
                    kind="tonic" if (b - a) / fps >= ep.tonic_min_s else "twitch",
                    regions="mouth",
                    n_contractions=1,
                    peak_closure=float(np.clip(c.max(), 0.0, 1.0)),
                    closure_duration=0.0,
                    brow_raised=None,
                    mouth_cocontraction=True,
                    confidence=float(np.clip(0.2 + 2.0 * peak, 0.0, 0.6)),
                    context=context_of(activity, a, b, fps, params.context),
                )
            )
    return events


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
    ep = params.episodes
    min_pair = _frames(2 * params.candidates.min_unilateral_s + 0.2, fps)  # shorter: one blink
    for a0, b0 in regions(bilateral):
        cuts = split_at_dips(both[a0:b0], params) if b0 - a0 > min_pair else [0, b0 - a0]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            a, b = a0 + a, a0 + b
            duration = float(t[b - 1] - t[a] + 1.0 / fps)
            events.append(
                Event(
                    onset=float(t[a]),
                    duration=duration,
                    trial_type="blink" if duration <= ep.blink_max_s else "bilateral_closure",
                    side="both",
                    kind=None,
                    regions="eye",
                    n_contractions=1,
                    peak_closure=float(np.clip(both[a:b].max(), 0.0, 1.0)),
                    closure_duration=float(np.count_nonzero(both[a:b] >= ep.closure_on) / fps),
                    brow_raised=None,
                    mouth_cocontraction=None,
                    confidence=1.0,
                )
            )
    return events


def find_events(
    activity: Activity, fps: float, params: DetectionParams, decider: Decider | None = None
) -> list[Event]:
    """All events of an activity table, sorted by onset (``decider``: default the packaged
    rule, see :mod:`spasm_cv.events.decide`)."""
    if len(activity) == 0:
        return []
    decider = decider or load_model()
    bilateral = bilateral_mask(activity, params.episodes)
    eye = eye_episodes(activity, bilateral, fps, params, decider)
    events = (
        eye
        + mouth_episodes(activity, eye, fps, params)
        + blink_events(activity, bilateral, fps, params)
    )
    return sorted(events, key=lambda e: (e.onset, e.trial_type, e.side))
