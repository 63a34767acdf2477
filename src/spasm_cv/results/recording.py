"""``Recording``: one recording's result, whoever made it and whoever reads it.

A recording holds its events, its per-frame :class:`~spasm_cv.results.track.Track`
(recorded videos) or per-minute :class:`~spasm_cv.results.track.Minutes` (monitoring
sessions), its :class:`~spasm_cv.results.summary.Summary` and where it came from. It is made

- from an analysis in memory (:meth:`Recording.from_analysis`, what ``analyze_video`` returns),
- from a result folder on disk (:meth:`Recording.from_folder`, what reports, exports and
  ``spasm_cv.load`` read),
- from a stored monitoring session (:meth:`Recording.from_session`, built by the monitor's
  session reader from its database rows).

Reports, exports and the Python API read recordings only through this type.
"""

from __future__ import annotations

import csv
import gzip
import os
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from spasm_cv.cliargs import COUNTS
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import KINDS, SIDES, SPASM, Event
from spasm_cv.results.files import EVENTS_FILE, SUMMARY_FILE, read_events, read_summary, read_track
from spasm_cv.results.review import (
    Decision,
    ReviewTally,
    read_review,
    review_labels,
    reviewed_events,
)
from spasm_cv.results.summary import Coverage, Summary
from spasm_cv.results.track import Minutes, Track

if TYPE_CHECKING:
    from spasm_cv.events.detect import Detection
    from spasm_cv.signals.table import Signals

SOURCES = ("analyze", "monitor")  # what made a recording: a recorded video, a monitor session
# summary.extra keys of a copy whose events are recounted (not events.tsv's as detected)
RECOUNTS = frozenset({"count", "min_confidence", "reviewed"})


@dataclass
class Recording:
    """An analysed recording.

    Attributes
    ----------
    name : str
        The video's file name, or ``monitor session N (source)``.
    summary : Summary
        Its numbers and provenance (summary.json).
    events : list of Event
        Every event, times in seconds from the start of the recording.
    start : datetime or None
        Wall-clock start (UTC) when known: given at analysis or guessed from the file's
        modification time (result folders), the session clock (monitor sessions).
    track : Track or None
        Per-frame data (what signals.csv.gz holds), for recorded videos; None for monitor
        sessions and for folders read without it.
    minutes : Minutes or None
        Per-minute aggregates of monitor sessions.
    source : str
        ``analyze`` (a recorded video) or ``monitor`` (a monitoring session).
    path : str or None
        Its result folder, or the monitor's database.
    meta : dict
        Source-specific details (monitor sessions: ``session_id``, ``gaps``).
    """

    name: str
    summary: Summary
    events: list[Event]
    start: datetime | None = None
    track: Track | None = None
    minutes: Minutes | None = None
    source: str = "analyze"
    path: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def episodes(self) -> list[Event]:
        """The one-sided eye episodes (what the headline numbers count)."""
        return [e for e in self.events if e.is_episode]

    @property
    def mouth_only(self) -> list[Event]:
        """One-sided mouth-only events (counted apart)."""
        return [e for e in self.events if e.is_mouth_only]

    def with_min_confidence(self, min_confidence: float) -> Recording:
        """This recording keeping only the one-sided events with ``confidence`` at least
        ``min_confidence`` (two-sided events are kept), its counts and rates recomputed over
        the same observed time; ``summary.extra["min_confidence"]`` says so.

        Examples
        --------
        >>> import spasm_cv
        >>> rec = spasm_cv.load("sample_phantom.spasm-cv").recording
        >>> sure = rec.with_min_confidence(0.8)
        >>> len(sure.episodes) <= len(rec.episodes), sure.summary.extra["min_confidence"]
        (True, 0.8)
        """
        number = isinstance(min_confidence, (int, float)) and not isinstance(min_confidence, bool)
        if not number or not 0.0 <= min_confidence <= 1.0:
            raise SpasmCvError(f"min_confidence must be within 0-1, got {min_confidence!r}")
        kept = [e for e in self.events if not e.is_one_sided or e.confidence >= min_confidence]
        return self._recounted(kept, min_confidence=min_confidence)

    @property
    def possible(self) -> list[Event]:
        """The ``possible_spasm`` events: one-sided eye episodes the detector could not be
        sure of (listed for review, not counted unless asked: :meth:`counting_possible`)."""
        return [e for e in self.events if e.is_possible]

    def counted(self, count: str = "sure") -> Recording:
        """This recording as ``count`` asks: ``sure`` (itself: possible episodes listed, not
        counted), ``possible`` (:meth:`counting_possible`) or ``reviewed``
        (:meth:`reviewed`)."""
        if count not in COUNTS:
            raise SpasmCvError(f"count must be one of {', '.join(COUNTS)}, got {count!r}")
        if count == "reviewed":
            return self.reviewed()
        return self.counting_possible() if count == "possible" else self

    def decisions(self) -> list[Decision]:
        """The review decisions of this recording's result folder (its review.tsv; none
        without one); SpasmCvError if the review was made for another events.tsv."""
        if self.source != "analyze" or self.path is None:
            return []
        return read_review(self.path)

    def reviewed(self, decisions: list[Decision] | None = None) -> Recording:
        """This recording counted as its review says: accepted and added episodes count
        (with the reviewer's side and kind), rejected ones are dropped, unsure and not
        reviewed ones are listed as possible (not counted); counts and rates over the same
        observed time. ``summary.extra["reviewed"]`` holds the tally (detected, accepted,
        rejected, unsure, added, not reviewed). ``decisions``: the folder's review.tsv by
        default.

        Examples
        --------
        >>> import spasm_cv
        >>> rec = spasm_cv.load("sample_phantom.spasm-cv").recording
        >>> reviewed = rec.reviewed([])  # nothing reviewed yet: nothing confirmed
        >>> len(reviewed.episodes), reviewed.summary.extra["reviewed"]["not_reviewed"] > 0
        (0, True)
        """
        if self.source != "analyze":
            raise SpasmCvError(f"{self.name}: only result folders of analyze can be reviewed")
        events, labels, tally = reviewed_events(
            self._as_detected(), self.decisions() if decisions is None else decisions
        )
        rec = self._recounted(events, reviewed=tally.to_dict())
        return replace(rec, meta={**rec.meta, "review": labels})

    def review_tally(self) -> ReviewTally | None:
        """How this recording's episodes were reviewed (None: no review.tsv, or one made for
        another events.tsv, which only ``reviewed()`` refuses aloud)."""
        done = self.summary.extra.get("reviewed")
        if done is not None:
            return ReviewTally.from_dict(done)
        try:
            decisions = self.decisions()
        except SpasmCvError:
            return None
        return reviewed_events(self._as_detected(), decisions)[2] if decisions else None

    def review_labels(self) -> dict:
        """Per one-sided eye event, keyed by ``(onset, side)``: its review state
        (accepted, rejected, unsure, added, not reviewed; a review of another events.tsv
        counts as none)."""
        if "review" not in self.meta:
            try:
                decisions = self.decisions()
            except SpasmCvError:
                decisions = []
            self.meta["review"] = review_labels(self._as_detected(), decisions)
        return self.meta["review"]

    @property
    def recounted(self) -> bool:
        """Its events are not events.tsv's as detected: recounted by ``--count possible``,
        ``--min-confidence`` or ``--reviewed``."""
        return bool(RECOUNTS & set(self.summary.extra))

    def _as_detected(self) -> list[Event]:
        """The events as events.tsv holds them (what review ids ``e<N>`` number), whatever
        this recording counts."""
        folder = self.source == "analyze" and self.path
        if folder and self.recounted and (Path(self.path) / EVENTS_FILE).is_file():
            return read_events(self.path)
        return self.events

    def counting_possible(self) -> Recording:
        """This recording with its possible episodes counted as episodes (``--count
        possible``), counts and rates recomputed over the same observed time;
        ``summary.extra["count"]`` says so.

        Examples
        --------
        >>> import spasm_cv
        >>> rec = spasm_cv.load("sample_phantom.spasm-cv").recording
        >>> every = rec.counting_possible()
        >>> len(every.episodes) == len(rec.episodes) + len(rec.possible), every.possible
        (True, [])
        """
        events = [replace(e, trial_type=SPASM) if e.is_possible else e for e in self.events]
        return self._recounted(events, count="possible")

    def _recounted(self, events: list[Event], **extra) -> Recording:
        """This recording with other events, counted over the same observed time."""
        s = self.summary
        cover = Coverage(s.observed_s, dict(s.observed_s_by_side), dict(s.closed_fraction or {}))
        summary = replace(s, **Summary.numbers(events, cover), extra={**s.extra, **extra})
        return replace(self, events=events, summary=summary)

    # -- constructors --------------------------------------------------------------

    @classmethod
    def from_analysis(
        cls,
        signals: Signals,
        detection: Detection,
        summary: Summary,
        out_dir: str | os.PathLike | None = None,
    ) -> Recording:
        """A recording analysed in memory (``signals`` at full precision, not yet rounded
        as signals.csv.gz writes them)."""
        return cls(
            name=summary.name or (Path(out_dir).name if out_dir else "recording"),
            summary=summary,
            events=list(detection.events),
            start=_parse_start(summary.recorded_at),
            track=Track.from_analysis(signals, detection.activity),
            source="analyze",
            path=str(out_dir) if out_dir is not None else None,
        )

    @classmethod
    def from_folder(cls, path: str | os.PathLike, with_signals: bool = True) -> Recording:
        """Read a result folder of ``spasm-cv analyze``; any damage is a one-line SpasmCvError.

        ``with_signals=False`` leaves signals.csv.gz unread (``track`` None).
        """
        p = Path(path)
        if not p.exists():
            raise SpasmCvError(f"result folder not found: {p}")
        if not p.is_dir():
            raise SpasmCvError(
                f"not a result folder (expected the folder `spasm-cv analyze` wrote): {p}"
            )
        try:
            raw = read_summary(p)
            if not isinstance(raw, dict) or "schema_version" not in raw or "episodes" not in raw:
                raise SpasmCvError(f"{p / SUMMARY_FILE} is not a spasm-cv summary")
            summary = Summary.from_dict(raw, str(p / SUMMARY_FILE))
            events = read_events(p)
            _check_within(events, summary.duration_s, p / EVENTS_FILE)
            return cls(
                name=summary.name or p.name,
                summary=summary,
                events=events,
                start=_parse_start(summary.recorded_at),
                track=read_track(p) if with_signals else None,
                source="analyze",
                path=str(p),
            )
        except SpasmCvError as exc:
            message = str(exc)  # naming a file of the folder already, else the folder
            raise SpasmCvError(
                message if str(p) in message else f"cannot use {p}: {message}"
            ) from None
        except (
            OSError,
            EOFError,
            ValueError,
            KeyError,
            IndexError,
            TypeError,
            csv.Error,
            zlib.error,
            gzip.BadGzipFile,
        ) as exc:
            raise SpasmCvError(f"corrupt result folder {p}: {type(exc).__name__}: {exc}") from None

    @classmethod
    def from_session(
        cls,
        *,
        session_id: int,
        source: str,
        start: datetime,
        summary: Summary,
        events: list[Event],
        minutes: Minutes,
        db_path: str | os.PathLike,
        gaps: list[dict],
    ) -> Recording:
        """A stored monitoring session (see :func:`spasm_cv.live.sessions.load_recordings`)."""
        return cls(
            name=f"monitor session {session_id} ({source})",
            summary=summary,
            events=events,
            start=start,
            track=None,
            minutes=minutes,
            source="monitor",
            path=str(Path(db_path)),
            meta={"session_id": session_id, "gaps": gaps},
        )

    # -- views ---------------------------------------------------------------------

    def headline(self) -> dict:
        """The headline numbers as one flat dict (a row of ``export --format csv``)."""
        s = self.summary
        ep = s.episodes
        row = {
            "recording": self.name,
            "path": self.path,
            "source": self.source,
            "start": self.start.isoformat() if self.start else None,
            "duration_s": s.duration_s,
            "observed_s": s.observed_s,
            "insufficient_observation": s.insufficient_observation,
            "affected_side": s.affected_side,
        }

        def put(prefix: str, r) -> None:
            row[f"{prefix}_count"] = r.count
            row[f"{prefix}_per_hour"] = r.per_hour
            row[f"{prefix}_ci95_low"], row[f"{prefix}_ci95_high"] = r.ci95

        put("episodes", ep.total)
        for side in SIDES:
            put(f"episodes_{side}", ep.by_side[side])
        for k in KINDS:
            put(f"episodes_{k}", ep.by_kind[k])
        for side in SIDES:
            for k in KINDS:
                put(f"episodes_{side}_{k}", ep.by_side_and_kind[side][k])
        for side in SIDES:
            put(f"mouth_only_{side}", s.mouth_only[side])
        row["episodes_with_mouth"] = ep.with_mouth
        row["episodes_with_brow_raised"] = ep.with_brow_raised
        row["blinks_count"] = s.blinks.count
        row["blinks_per_minute"] = s.blinks.per_minute
        for side in SIDES:
            row[f"closed_fraction_{side}"] = (s.closed_fraction or {}).get(side)
        row["longest_tonic_s"] = s.longest_tonic_s
        tally = self.review_tally()
        row["review_detected"] = tally.detected if tally else None
        row["review_confirmed"] = tally.confirmed if tally else None
        row["review_added"] = tally.added if tally else None
        row["review_not_reviewed"] = tally.not_reviewed if tally else None
        row["software_version"] = s.software.get("version")
        row["model"] = s.model.get("name")
        return row


def _check_within(events: list[Event], duration_s: float | None, where: Path) -> None:
    """Events end within the recording (summary.json's ``duration_s``, with a frame's slack)."""
    if duration_s is None:
        return
    late = next((e for e in events if e.end > duration_s + 0.01 * duration_s + 2.0), None)
    if late is not None:
        raise SpasmCvError(
            f"{where}: event at {late.onset:g} s ends after the recording ({duration_s:g} s)"
        )


def _parse_start(recorded_at: str | None) -> datetime | None:
    return datetime.fromisoformat(recorded_at).astimezone(timezone.utc) if recorded_at else None
