"""Sheet 2 of the report: per-frame signal overviews and close-ups of typical episodes (only
when some recording has per-frame signals)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from spasm_cv._html import Markup, html, join
from spasm_cv.events.table import Event
from spasm_cv.report import plots
from spasm_cv.report.html.context import MAX_OVERVIEWS, MAX_ZOOMS, Context, time_order
from spasm_cv.report.html.format import figure, mmss, note
from spasm_cv.results.recording import Recording


def signals_sheet(ctx: Context) -> tuple[str, Markup]:
    """Sheet 2 (its name and HTML)."""
    with_signals = [r for r in ctx.recordings if r.track is not None]
    shown = with_signals[-MAX_OVERVIEWS:]
    parts = [
        Markup("<h2>Eyelid and mouth signals per side, episodes shaded</h2>"),
        note(
            Markup(
                "Eyelid closure: 0 as open as that eye's own recent baseline, 1 shut. "
                "Mouth-corner pull is in <b>IOD</b>, inter-ocular distances (between the outer "
                "eye corners): the face's own size, so it does not change with the distance to "
                "the camera; 0 is the corner's recent resting position, positive a pull up and "
                "out."
            ),
            "sub",
        ),
    ]
    if len(with_signals) > len(shown):
        parts.append(
            note(
                f"Overviews of the {len(shown)} most recent of {len(with_signals)} recordings "
                "with per-frame signals; report a recording alone to see its own.",
                "sub",
            )
        )
    height = 2.6 if len(shown) == 1 else 1.7
    for i, rec in enumerate(shown, 1):
        n = len(rec.episodes)
        caption = (
            f"{n} one-sided eye episode{'s' * (n != 1)} shaded (orange: right, blue: left; "
            "lighter, mouth panel only: mouth-only events)."
            if n
            else "No one-sided episode was detected in this recording: nothing is shaded."
        )
        parts.append(
            figure(
                f"overview-{i}",
                plots.plot_signal_overview(rec.track, rec.events, height_in=height),
                f"signals of {rec.name}",
                html("<b>{}</b>, {}: {}{}", rec.name, ctx.clock(rec), caption, ctx.counted_note()),
            )
        )
    zooms = typical_episodes(ctx, with_signals)
    parts.append(Markup("<h2>Close-up of typical episodes</h2>"))
    if zooms:
        parts.append(
            figure(
                "zoom",
                plots.plot_episode_zooms(zooms),
                "close-ups of typical episodes",
                "Per kind, the episode of median duration (affected side first). Shaded: this "
                "episode in its side's colour, other episodes lighter, blinks and two-sided "
                "closures grey.",
            )
        )
    else:
        parts.append(
            note(
                "No one-sided eye episode in recordings with per-frame signals: "
                "no close-up to show."
            )
        )
    return "Signals", join(parts, "\n")


def typical_episodes(ctx: Context, recordings: Sequence[Recording]) -> list[plots.Zoom]:
    """Up to ``MAX_ZOOMS`` episodes to show: per kind, the one of median duration.

    Kinds are taken in order of frequency, then further examples (next closest to the
    median) from the most frequent kinds; the affected side is preferred.
    """
    side = ctx.pooled.affected_side
    by_kind: dict[str, list[tuple[Recording, Event]]] = {}
    for r in recordings:
        for e in r.episodes:
            by_kind.setdefault(e.kind or "twitch", []).append((r, e))
    ranked = {}
    for kind, items in by_kind.items():
        preferred = [x for x in items if x[1].side == side] or items
        med = statistics.median(e.duration for _, e in preferred)
        ranked[kind] = sorted(preferred, key=lambda x: (abs(x[1].duration - med), x[1].onset))
    order = sorted(ranked, key=lambda k: -len(ranked[k]))
    picks: list[tuple[Recording, Event]] = []
    depth = 0
    while len(picks) < MAX_ZOOMS and any(depth < len(ranked[k]) for k in order):
        for k in order:
            if depth < len(ranked[k]) and len(picks) < MAX_ZOOMS:
                picks.append(ranked[k][depth])
        depth += 1
    picks.sort(key=lambda x: (time_order(x[0]), x[1].onset))
    return [
        plots.Zoom(
            r.track,
            r.events,
            e,
            f"{e.kind or 'episode'}, {e.side}, {e.duration:.1f} s, {e.regions}\n"
            + (f"{r.name[:28]} " if ctx.multi else "")
            + f"at {mmss(e.onset)}",
        )
        for r, e in picks
    ]
