"""Sheet 1, the methods paragraph: what was measured and how, with the parameters used."""

from __future__ import annotations

from spasm_cv._html import Markup, html
from spasm_cv.report.html.context import Context, tz_name
from spasm_cv.report.html.format import duration
from spasm_cv.results.observation import time_words

# markup written here; the values filled in are escaped (Markup.format)
METHODS = Markup(
    "<b>Methods.</b> Face landmarks and blendshapes were tracked in every video frame with the "
    "MediaPipe Face Landmarker ({models}; sha256 {sha}…) by spasm-cv {versions} ({sources}). "
    "Each eye's closure was 1 − aperture / own open-eye baseline (the "
    "{baseline_quantile} quantile of its aperture over the preceding {baseline_window_s} s). An "
    "episode needed one eye's closure to exceed the other's by ≥ {min_excess} + "
    "{asymmetry_factor} × the person's usual difference (learnt from their own face) and "
    "the other eye's absolute narrowing to stay ≤ {max_drop_ratio} of it (thresholds chosen "
    "on held-out people); contractions less than {merge_gap_s} s apart formed one episode "
    "(twitch: one contraction; clonic: a train; tonic: held ≥ {tonic_min_s} s). A covered "
    "eye was not observed. Both eyes closing together for ≤ {blink_max_s} s were blinks. A "
    "mouth-corner co-contraction was a same-side pull ≥ {mouth_on} inter-ocular distances more "
    "than the other side's; the brow counted as raised at ≥ {brow_on}. Frames with head yaw > "
    "{max_yaw_deg}° or pitch > {max_pitch_deg}°, or without a face, were not observed. Rates are "
    "per hour of observed time (both sides measurable; {observed} in {n_recordings}) with exact "
    "Poisson (Garwood) 95 % intervals; rate ratios use the exact conditional binomial interval. "
    "A rate is shown only from {rate_min} of observed time, and grades are suggested only from "
    "{grade_min} (the SMC grade also needs {grade_episodes} one-sided events); below that the "
    "page says “insufficient observation”. Eye-closed time is closure ≥ 0.5. Clock "
    "times are local ({tz}); {times}"
)
TIMES = {  # markup
    "analyze": "recording times were given at analysis, read from the video's creation time, "
    "or, failing both, guessed from the file's modification time (summary.json "
    "<code>recorded_at_source</code>; guessed times are marked ≈).",
    "monitor": "session times are the monitoring computer's clock.",
}
REVIEW = {  # markup
    "analyze": "close-ups, <code>spasm-cv review</code> for the annotated video, ELAN export",
    "monitor": "close-ups; clips kept with <code>spasm-cv monitor --save-clips</code>",
}
SOURCES = {"analyze": "recorded videos", "monitor": "live monitoring sessions"}
DISCLAIMER = Markup(
    "Grades above are suggestions computed from video measurements with the rules shown; they "
    "are not a diagnosis. A detector cannot always tell a voluntary wink or one-sided smile from "
    "a spasm: review the episodes ({review}) before relying on them."
)


def deidentified(ctx: Context) -> Markup:
    """Whether the recordings were de-identified, and what became of their dates ('' if not)."""
    recs = ctx.deidentified
    if not recs:
        return Markup("")
    dates = {r.summary.input["deidentified"].get("dates") for r in recs}
    which = (
        "The recordings were"
        if len(recs) == len(ctx.recordings)
        else (f"{len(recs)} of the {len(ctx.recordings)} recordings were")
    )
    said = {
        "removed": "their dates and times removed",
        "shifted": "their dates shifted by a number of days not stated here (times of day kept)",
    }
    when = " and ".join(said[d] for d in sorted(dates) if d in said) or "their dates removed"
    return html(" <b>{} de-identified</b>: labelled without file names or paths, {}.", which, when)


def methods(ctx: Context) -> Markup:
    """The methods paragraph (parameters of the first recording; a note if they differed)."""
    first = ctx.recordings[0].summary
    params = first.params
    values = params.texts()
    n = len(ctx.recordings)
    t = ctx.thresholds
    kinds = sorted({r.source for r in ctx.recordings})
    values.update(
        models=", ".join(sorted({r.summary.model.get("name", "?") for r in ctx.recordings})),
        sha=str(first.model.get("sha256", "?"))[:12],
        versions=", ".join(
            sorted({r.summary.software.get("version", "?") for r in ctx.recordings})
        ),
        sources=", ".join(sorted({SOURCES.get(r.source, r.source) for r in ctx.recordings})),
        observed=duration(ctx.pooled.observed_s),
        n_recordings=f"{n} recording{'s' * (n != 1)}",
        tz=tz_name(ctx),
        rate_min=time_words(t.rate_min_observed_s),
        grade_min=time_words(t.grade_min_observed_s),
        grade_episodes=str(t.grade_min_episodes),
    )
    text = METHODS.format(**values, times=Markup(" ".join(TIMES.get(k, "") for k in kinds)))
    text += deidentified(ctx)
    if any(r.summary.extra.get("count") == "possible" for r in ctx.recordings):
        text += Markup(
            " <b>Possible episodes (those the detector could not be sure of) are counted on "
            "this page</b> (--count possible)."
        )
    if ctx.review is not None:
        text += html(
            " <b>Episodes counted on this page are those a reviewer confirmed</b> (--reviewed: "
            "accepted in the result folder's review.tsv, with the reviewer's side and kind, and "
            "episodes the reviewer added; rejected ones are left out, unsure and not reviewed "
            "ones are listed as possible, not counted): {}.",
            ctx.reviewed_text(),
        )
    cut = {r.summary.extra.get("min_confidence") for r in ctx.recordings} - {None}
    if cut:
        text += html(
            " <b>Only one-sided events with confidence ≥ {} are counted on this page</b> (the "
            "others remain in the result folders).",
            ", ".join(f"{c:g}" for c in sorted(cut)),
        )
    if any(r.summary.params != params for r in ctx.recordings):
        text += Markup(
            " <b>Detection parameters differed between recordings;</b> the values above are "
            "those of the first."
        )
    disclaimer = DISCLAIMER.format(review=Markup("; ".join(REVIEW.get(k, "") for k in kinds)))
    return html('<h2>Methods</h2><p class="methods">{} {}</p>', text, disclaimer)
