"""Candidate one-sided contractions and what each one looked like (its features).

The first look is generous: any run of frames where one eye closes by ``candidate_on`` and
clearly more than the other, away from the edges of a two-sided blink. Whether a candidate
is a spasm is then decided from its features (:mod:`spasm_cv.events.decide`), which
describe it in terms that hold for any face:

- how much the eye closed relative to its own open level *and* in absolute size (inter-ocular
  units), so a naturally narrow eye does not magnify noise;
- how much the other eye closed with it, in both terms: one eye narrowing while the other
  narrows as much in absolute size is an expression, not a one-sided contraction;
- how far the difference between the eyes exceeds this person's usual difference
  (``Activity.asymmetry``, learnt causally from their own face);
- the dynamics: how fast the lid closes and reopens, how long it is held, how many times;
- the context: head motion, speech (lips moving), a smile (both mouth corners up), and the
  same-side mouth corner and brow (synkinesis, the "other Babinski sign");
- how still the other eye stayed: in a one-sided contraction it does not move, while in
  speech, an expression or a turning head (or with jittering landmarks) both lids move.

MediaPipe's blendshape scores are not among them: they are coupled between the eyes (a real
wink scored 0.54 against 0.55), so geometry alone says which eye closed.

Every feature of a candidate reads only frames within ``context_s`` of it, which is what
keeps the streaming detector exactly equal to the offline one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from spasm_cv.events.activity import Activity
from spasm_cv.events.params import CandidateParams, ContextParams, DetectionParams
from spasm_cv.events.runs import dilate, merge_close, regions, seeded_runs
from spasm_cv.events.table import OTHER, SIDES

# Names of the features, in the order of :func:`candidate_features`' vector.
FEATURES = (
    "peak_closure",  # 0-1, relative to the eye's own open level, at its most closed
    # one-sided frame (the "peak", where the features below are read)
    "other_closure",  # the other eye's closure at that moment
    "margin",  # median difference of the two closures over the one-sided frames
    "peak_drop",  # the eye's aperture drop at its peak, IOD
    "other_drop_ratio",  # other eye's absolute drop / this eye's, at the peak (-1..2)
    "typical_drop_ratio",  # the same, median over the frames closed at least candidate_on
    "usual_asymmetry",  # this person's usual difference between the eyes (0-1 closure)
    "asymmetry_z",  # closure difference at the peak / this person's usual difference
    "duration_s",  # first to last frame of the candidate
    "held_s",  # time closed at least closure_on
    "n_contractions",  # prominent closure peaks
    "close_speed",  # fastest closing, closure units per second
    "open_speed",  # fastest reopening, closure units per second
    "one_sided_share",  # share of the candidate's frames that were clearly one-sided
    "head_motion_deg",  # largest range of yaw, pitch or roll around the candidate
    "head_speed_deg_s",  # fastest head rotation around the candidate, degrees per second
    "speech",  # spread (SD) of the lip gap around the candidate, IOD
    "smile",  # both mouth corners pulled up/out together (the lesser of the two), IOD
    "mouth_pull",  # same-side corner pulled beyond the other, IOD
    "brow_lift",  # same-side brow raised beyond the other, IOD
    "cheeks_up",  # both cheeks rose together (a smile or a squint), IOD: the lesser rise
    "brows_down",  # both brows lowered together (a squint or a frown), IOD: the lesser drop
    "baseline_iod",  # the eye's open aperture, IOD
    "baseline_log_ratio",  # log of this eye's open aperture over the other's
    "other_sd",  # SD of the other eye's closure over the candidate (its blinks left out)
)


@dataclass(frozen=True)
class Candidate:
    """A run of frames ``[start, stop)`` where ``side`` may have contracted on its own.

    ``one_sided`` counts the frames that were clearly one-sided.
    """

    side: str
    start: int
    stop: int
    one_sided: int


def _frames(seconds: float, fps: float) -> int:
    return max(int(round(seconds * fps)), 1)


def closure_difference(activity: Activity, side: str) -> tuple[np.ndarray, np.ndarray]:
    """This eye's closure and its excess over the other's (NaN as 0 and as unknown)."""
    c = np.nan_to_num(activity.closure[side], nan=0.0)
    o = np.nan_to_num(activity.closure[OTHER[side]], nan=np.inf)  # unmeasured other: unknown
    return c, c - o


def loosely_one_sided(activity: Activity, side: str, params: CandidateParams) -> np.ndarray:
    """Frames where ``side`` is closed at least ``candidate_on`` and ``candidate_asymmetry``
    more than the other eye (both measured), and where, in absolute size, the other eye's
    aperture dropped by at most ``candidate_drop_ratio`` of this eye's drop.

    The second test is what keeps a naturally narrow eye from looking one-sided: in a smile
    or a squint both eyes narrow by about the same absolute amount, which is a larger share
    of the narrower eye's open level.
    """
    c, excess = closure_difference(activity, side)
    drop = np.nan_to_num(activity.drop[side], nan=0.0)
    other_drop = np.nan_to_num(activity.drop[OTHER[side]], nan=np.inf)
    return (
        (c >= params.candidate_on)
        & (excess >= params.candidate_asymmetry)
        & (other_drop <= params.candidate_drop_ratio * drop)
        & activity.measurable[side]
    )


def find_candidates(
    activity: Activity, bilateral: np.ndarray, fps: float, params: CandidateParams
) -> list[Candidate]:
    """Candidate contractions of both eyes, in order of side then time.

    A contraction is a run of closure above ``candidate_off``, and above the other eye's by
    half ``candidate_asymmetry``, that reaches ``candidate_on``, outside two-sided closures
    and the ``blink_sync_s`` around them (``bilateral``: the eyes
    of a blink close a frame or two apart). Contractions less than ``merge_gap_s`` apart are
    grouped; a group is a candidate when at least ``min_unilateral_s`` of it is one-sided
    and it is not cut off by the end of the recording (still more than half closed there).
    """
    near_blink = dilate(bilateral, int(round(params.blink_sync_s * fps)))
    # at least two frames, whatever the frame rate: in one frame the eyes of a blink can
    # simply be caught a frame apart (at 15 fps, one frame is 67 ms of lag)
    min_core = max(_frames(params.min_unilateral_s, fps), 2)
    out = []
    for side in SIDES:
        core = loosely_one_sided(activity, side, params) & ~near_blink
        # a two-sided closure (and its edges) ends a run: a twitch next to a blink is
        # described by its own frames, not by the blink's
        closure, excess = closure_difference(activity, side)
        # a contraction lasts while this eye stays closed and more closed than the other: a
        # slow narrowing of both eyes (light, fatigue, a squint) does not join two of them
        low = (closure >= params.candidate_off) & (excess >= 0.5 * params.candidate_asymmetry)
        closed = seeded_runs(low & ~near_blink, closure >= params.candidate_on)
        runs = regions(closed)
        counts = np.array([np.count_nonzero(core[a:b]) for a, b in runs], dtype=int)
        # contractions are grouped first, so a clonic train whose weaker contractions are
        # not one-sided on their own stays one candidate
        for group in merge_close(runs, _frames(params.merge_gap_s, fps)):
            start, stop = int(runs[group[0]][0]), int(runs[group[-1]][1])
            n_core = int(counts[group].sum())
            # a contraction still closing at the last frame is cut off by the end of the
            # recording: whether the other eye followed (a blink) cannot be known; one that
            # had half reopened is complete enough
            cut = stop == len(activity) and closure[stop - 1] > 0.5 * closure[start:stop].max()
            if n_core >= min_core and not cut:
                out.append(Candidate(side, start, stop, n_core))
    return out


def split_at_dips(x: np.ndarray, params: DetectionParams) -> list[int]:
    """Cut points (indices into ``x``, first 0 and last len(x)) at the deepest dip between
    successive prominent peaks (at least ``closure_on``, by ``contraction_prominence``): one
    piece per contraction."""
    # rounded to 1e-6 first: on a held plateau, float jitter makes several maxima of exactly
    # the same height, each "prominent" down to the edges; a flat top is one peak
    padded = np.concatenate([[-1.0], np.round(x, 6), [-1.0]])
    peaks, _ = find_peaks(
        padded,
        height=params.episodes.closure_on,
        prominence=params.candidates.contraction_prominence,
    )
    peaks = peaks - 1
    # two maxima are two contractions only where the lid reopens between them by
    # contraction_prominence below the lower one: a held plateau's float jitter (0.99999 and
    # 0.999991 alternating, which rounding does not always even out) makes maxima whose
    # prominence reaches the plateau's edges, yet the lid never reopened
    kept: list[int] = []
    for p in peaks:
        if kept:
            dip = float(np.min(x[kept[-1] : p + 1]))
            if dip > min(x[kept[-1]], x[p]) - params.candidates.contraction_prominence:
                if x[p] > x[kept[-1]]:
                    kept[-1] = int(p)  # the same contraction: its higher maximum
                continue
        kept.append(int(p))
    cuts = [0] + [a + int(np.argmin(x[a:b])) for a, b in zip(kept[:-1], kept[1:], strict=True)]
    return cuts + [len(x)]


def _max(x: np.ndarray, default: float = 0.0) -> float:
    return float(np.nanmax(x)) if np.isfinite(x).any() else default


def _range(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.max() - x.min()) if x.size else 0.0


def _window(activity: Activity, start: int, stop: int, fps: float, params: ContextParams) -> slice:
    w = _frames(params.context_s, fps)
    return slice(max(start - w, 0), min(stop + w, len(activity)))


def _head_motion(a: Activity, win: slice) -> float:
    return max(_range(a.yaw[win]), _range(a.pitch[win]), _range(a.roll[win]))


def _lip_sd(a: Activity, win: slice) -> float:
    gap = a.mouth_open[win]
    return float(np.nanstd(gap)) if np.isfinite(gap).any() else 0.0


def _smile(a: Activity, start: int, stop: int) -> float:
    return _max(np.minimum(a.mouth["right"][start:stop], a.mouth["left"][start:stop]))


def _head_speed(a: Activity, win: slice, fps: float) -> float:
    """Fastest rotation (degrees per second) of yaw, pitch or roll over 3-frame steps."""
    best = 0.0
    for x in (a.yaw[win], a.pitch[win], a.roll[win]):
        x = x[np.isfinite(x)]
        if x.size > 3:
            best = max(best, float(np.max(np.abs(x[3:] - x[:-3]))) * fps / 3.0)
    return best


def _both_moved(
    series: dict[str, np.ndarray], start: int, stop: int, lead: int, sign: float
) -> float:
    """How far both sides moved together (``sign`` +1 up, -1 down) during ``[start, stop)``
    from their median over the ``lead`` frames before: the lesser of the two moves."""
    moved = []
    for x in series.values():
        before, during = x[max(start - lead, 0) : start], x[start:stop]
        if not (np.isfinite(before).any() and np.isfinite(during).any()):
            return 0.0
        ref = float(np.nanmedian(before))
        moved.append(float(np.nanmax(sign * (during - ref))))
    return min(moved)


def context_of(activity: Activity, start: int, stop: int, fps: float, params: ContextParams) -> str:
    """What the face was doing around frames ``[start, stop)``: any of ``talking``,
    ``smiling``, ``head_moving`` joined by ``+``, or ``none`` (see ``ContextParams``)."""
    win = _window(activity, start, stop, fps, params)
    found = [
        name
        for name, on in (
            ("talking", _lip_sd(activity, win) >= params.talking_lip_sd),
            ("smiling", _smile(activity, start, stop) >= params.smiling_iod),
            ("head_moving", _head_motion(activity, win) >= params.head_moving_deg),
        )
        if on
    ]
    return "+".join(found) or "none"


def candidate_features(
    activity: Activity, cand: Candidate, fps: float, params: DetectionParams
) -> np.ndarray:
    """The :data:`FEATURES` of one candidate, as a float vector (no NaN)."""
    a, side, other = activity, cand.side, OTHER[cand.side]
    i0, i1 = cand.start, cand.stop
    c = np.nan_to_num(a.closure[side][i0:i1], nan=0.0)
    co = np.nan_to_num(a.closure[other][i0:i1], nan=0.0)
    d = np.nan_to_num(a.drop[side][i0:i1], nan=0.0)
    do = np.nan_to_num(a.drop[other][i0:i1], nan=0.0)
    cp = params.candidates
    core = (
        (c >= cp.candidate_on)
        & (c - co >= cp.candidate_asymmetry)
        & (do <= cp.candidate_drop_ratio * d)
    )
    closed = c >= cp.candidate_on
    # the moment that stands for the candidate: its most closed one-sided frame
    k = int(np.argmax(np.where(core, c, -np.inf))) if core.any() else int(np.argmax(c))
    margin = float(np.median((c - co)[core])) if core.any() else float(c[k] - co[k])
    usual = a.asymmetry[i0]  # NaN: this face is not known well enough yet
    usual = cp.unknown_asymmetry if not np.isfinite(usual) else max(usual, cp.min_asymmetry_scale)
    win = _window(a, i0, i1, fps, params.context)
    lead_frames = _frames(params.context.context_s, fps)
    lead = max(i0 - 3, 0)  # the closing starts a few frames before the closure threshold
    speed = np.diff(np.nan_to_num(a.closure[side][lead : min(i1 + 3, len(a))], nan=0.0)) * fps
    pull = a.mouth[side][i0:i1] - a.mouth[other][i0:i1]
    # how much the other eye moved, its own blinks (closing at least blink_min_closure, and
    # blink_sync_s either side) left out: the other eye blinks during a long tonic spasm
    blinking = dilate(co >= params.episodes.blink_min_closure, _frames(cp.blink_sync_s, fps))
    other_still = co[~blinking]
    base = d[k] / c[k] if c[k] > 0.05 else np.nan
    base_o = do[k] / co[k] if abs(co[k]) > 0.05 else np.nan
    if not np.isfinite(base_o):
        base_o = base
    values = {
        "peak_closure": c[k],
        "other_closure": co[k],
        "margin": margin,
        "peak_drop": d[k],
        "other_drop_ratio": float(np.clip(do[k] / max(d[k], 1e-3), -1.0, 2.0)),
        "typical_drop_ratio": float(
            np.median(np.clip(do[closed] / np.maximum(d[closed], 1e-3), -1.0, 2.0))
        )
        if closed.any()
        else 1.0,
        "usual_asymmetry": usual,
        "asymmetry_z": (c[k] - co[k]) / usual,
        "duration_s": (i1 - i0) / fps,
        "held_s": np.count_nonzero(c >= params.episodes.closure_on) / fps,
        "n_contractions": len(split_at_dips(c, params)) - 1,
        "close_speed": _max(speed),
        "open_speed": _max(-speed),
        "one_sided_share": np.count_nonzero(core) / len(c),
        "head_motion_deg": _head_motion(a, win),
        "head_speed_deg_s": _head_speed(a, win, fps),
        "speech": _lip_sd(a, win),
        "smile": _smile(a, i0, i1),
        "mouth_pull": _max(np.minimum(a.mouth[side][i0:i1], pull)),
        "brow_lift": _max(a.brow[side][i0:i1] - a.brow[other][i0:i1]),
        "cheeks_up": _both_moved(a.cheek, i0, i1, lead_frames, 1.0),
        "brows_down": _both_moved(a.brow, i0, i1, lead_frames, -1.0),
        "baseline_iod": float(np.nan_to_num(base)),
        "baseline_log_ratio": float(np.nan_to_num(np.log(base / base_o)))
        if base > 0 and base_o > 0
        else 0.0,
        "other_sd": float(np.std(other_still)) if other_still.size > 1 else 0.0,
    }
    return np.array([float(values[f]) for f in FEATURES])
