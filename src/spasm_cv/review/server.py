"""``spasm-cv review RESULT --serve``: decide about each episode on its clip, in the browser.

The page shows every one-sided eye episode's clip beside its signal plot, with what a
reviewer decides about it: accept (``a``), reject (``r``), unsure (``u``), a corrected side
or kind, a note; ``n`` adds a missed episode at the clip's current time. A *screening pass*
follows: clips of the near misses (moments the detector rejected but came close, most
confident first), where ``a`` adds the near miss as a missed episode. Decisions are appended
to the result folder's review.tsv (:mod:`spasm_cv.results.review`) as they are made; the
detector's events.tsv is never changed. Arrows move between clips, space plays.

The server is :mod:`spasm_cv._server`'s: loopback only, a token per start, the Host checked,
changes by POST with the token, a strict Content-Security-Policy (the page's script and
style are files of this server, nothing inline, nothing from elsewhere).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from spasm_cv._html import render
from spasm_cv._server import guarded
from spasm_cv._version import __version__
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import KINDS, SIDES, SPASM, Event
from spasm_cv.results.recording import Recording
from spasm_cv.results.review import (
    DECISIONS,
    MAX_NOTE,
    Decision,
    append_decisions,
    decision_for,
    events_sha256,
    latest,
    next_added_id,
    read_review,
    reviewable,
)
from spasm_cv.review.plots import episode_plot
from spasm_cv.review.render import MANIFEST

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "templates" / "serve.html"
STATIC = {"review.js": "text/javascript", "review.css": "text/css"}
CLIP_FILE = re.compile(r"clips/[A-Za-z0-9][A-Za-z0-9._+-]*\.mp4")  # as render.clip_name makes


@dataclass(frozen=True)
class ServedClip:
    """A clip on the page: its role, file, window and the event it shows."""

    number: int
    role: str  # "episode" or "near_miss"
    file: str
    start_s: float
    end_s: float
    event: str | None  # e<N> for an episode (its row in events.tsv)
    onset: float
    duration: float
    side: str
    kind: str | None
    regions: str
    confidence: float


class ReviewApp:
    """The state behind the page: the result folder, its clips and its decisions."""

    def __init__(self, result: str | os.PathLike, clips_dir: str | os.PathLike,
                 reviewer: str = "reviewer"):  # fmt: skip
        self.result, self.clips_dir = Path(result), Path(clips_dir)
        self.reviewer = reviewer
        self.recording = Recording.from_folder(self.result)
        self.sha = events_sha256(self.result)
        try:
            data = json.loads((self.clips_dir / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SpasmCvError(
                f"{self.clips_dir}: no clips made by review --serve ({exc})"
            ) from None
        if data.get("events_sha256") != self.sha:
            raise SpasmCvError(f"{self.clips_dir} was cut for another events.tsv: make the "
                               "clips again (a new --out)")  # fmt: skip
        fields = ServedClip.__dataclass_fields__
        try:
            self.clips = [ServedClip(**{k: c[k] for k in fields}) for c in data["clips"]]
        except (KeyError, TypeError):
            raise SpasmCvError(
                f"{self.clips_dir / MANIFEST}: damaged; cut the clips again"
            ) from None
        if not all(CLIP_FILE.fullmatch(str(c.file)) for c in self.clips):
            raise SpasmCvError(f"{self.clips_dir / MANIFEST}: a clip outside clips/; not served")
        self.files = {c.file for c in self.clips}
        self.events = dict(reviewable(self.recording.events))
        read_review(self.result, self.sha)  # a review of another events.tsv: refused now

    # -- state ---------------------------------------------------------------------------

    def state(self) -> dict:
        """The last decision per episode (``event`` id) and what the reviewer added."""
        last = latest(read_review(self.result, self.sha))
        return {"decisions": {k: asdict(d) for k, d in last.items()},
                "detected": len(self.events)}  # fmt: skip

    def decide(self, data: dict) -> Decision:
        """Append a decision about a detected episode (``event``, ``decision``, maybe
        ``corrected_side``, ``corrected_kind``, ``note``)."""
        key, decision = _text(data, "event"), _text(data, "decision")
        if key not in self.events:
            raise SpasmCvError(f"no episode {key!r} to decide about")
        if decision not in DECISIONS or decision == "added":
            raise SpasmCvError(f"decision must be accepted, rejected or unsure, not {decision!r}")
        e = self.events[key]
        side, kind = _choice(data, "corrected_side", SIDES), _choice(data, "corrected_kind", KINDS)
        d = decision_for(key, e, decision, note=_note(data), reviewer=self.reviewer,
                         corrected_side=side if side != e.side else None,
                         corrected_kind=kind if kind != e.kind else None)  # fmt: skip
        append_decisions(self.result, [d])
        return d

    def add(self, data: dict) -> Decision:
        """Append a missed episode (``onset``, ``duration`` in s, ``side``, ``kind``,
        ``note``); ``event`` of an earlier addition with ``decision`` ``rejected`` takes it
        back."""
        end = float(self.recording.summary.duration_s or 0.0)
        if data.get("decision") == "rejected":
            key = _text(data, "event")
            last = latest(read_review(self.result, self.sha))
            if key not in last or last[key].decision != "added":
                raise SpasmCvError(f"no added episode {key!r} to take back")
            d = Decision(**{**asdict(last[key]), "decision": "rejected", "decided_at": "",
                            "reviewer": self.reviewer, "note": _note(data)})  # fmt: skip
            append_decisions(self.result, [d])
            return d
        onset, duration = _number(data, "onset"), _number(data, "duration")
        if not (0.0 <= onset <= end and 0.0 < duration <= 600.0):
            raise SpasmCvError(f"an added episode must lie within the recording (0-{end:g} s)")
        side = _choice(data, "side", SIDES)
        if side is None:
            raise SpasmCvError("an added episode needs its side (right or left)")
        d = Decision(event=next_added_id(read_review(self.result, self.sha)), decision="added",
                     onset=onset, duration=duration, side=side,
                     kind=_choice(data, "kind", KINDS) or "twitch", note=_note(data),
                     reviewer=self.reviewer)  # fmt: skip
        append_decisions(self.result, [d])
        return d

    # -- HTTP ----------------------------------------------------------------------------

    def app(self, token: str):
        """The Starlette app (behind :func:`spasm_cv._server.guarded`)."""

        async def page(request: Request) -> Response:
            return HTMLResponse(self.page(token))

        async def static(request: Request) -> Response:
            name = request.path_params["name"]
            if name not in STATIC:
                return Response("not found", status_code=404)
            return Response((HERE / "static" / name).read_bytes(), media_type=STATIC[name])

        async def clip(request: Request) -> Response:
            file = "clips/" + request.path_params["name"]
            if file not in self.files:  # only the clips listed: no path from the request
                return Response("not found", status_code=404)
            return FileResponse(self.clips_dir / file, media_type="video/mp4")

        async def state(request: Request) -> Response:
            return JSONResponse(self.state())

        def change(handler):
            async def endpoint(request: Request) -> Response:
                if request.headers.get("content-type", "").split(";")[0] != "application/json":
                    return JSONResponse({"error": "send JSON"}, status_code=415)
                try:
                    data = await request.json()
                    if not isinstance(data, dict):
                        raise ValueError("not an object")
                    d = handler(data)
                except (SpasmCvError, ValueError, TypeError) as exc:
                    return JSONResponse({"error": str(exc)[:300]}, status_code=400)
                state = self.state()  # what was written: with its time and checksum
                return JSONResponse({"saved": state["decisions"].get(d.event), **state})

            return endpoint

        routes = [
            Route("/", page),
            Route("/static/{name}", static),
            Route("/clips/{name}", clip),
            Route("/api/state", state),
            Route("/api/decide", change(self.decide), methods=["POST"]),
            Route("/api/add", change(self.add), methods=["POST"]),
        ]
        return guarded(routes, token)

    @cached_property
    def plots(self) -> dict[str, str]:
        """Each clip's signal plot by its file, drawn once (not at every page load)."""
        return {c.file: self.plot(c) for c in self.clips} if self.recording.track else {}

    def plot(self, c: ServedClip) -> str:
        """The clip's signal plot (a ``data:`` URI), its event shaded."""
        rec = self.recording
        shown = self.events.get(c.event or "") or Event(
            c.onset,
            c.duration,
            SPASM,
            c.side,
            c.kind,
            c.regions,
            1,
            0.0,
            0.0,
            None,
            None,
            c.confidence,
        )
        closure_on = rec.summary.params.detection_params().episodes.closure_on
        return episode_plot(rec.track, rec.events, shown, c.start_s, c.end_s, closure_on)

    def page(self, token: str) -> str:
        """The page's HTML (autoescaped template; the token goes to the page's script)."""
        summary = self.recording.summary
        return render(
            TEMPLATE,
            token=token,
            version=__version__,
            name=self.recording.name,
            duration=f"{summary.duration_s or 0.0:.2f}",
            episodes=[c for c in self.clips if c.role == "episode" and c.event in self.events],
            near=[c for c in self.clips if c.role == "near_miss"],
            sides=SIDES,
            kinds=KINDS,
            max_note=MAX_NOTE,
            plots=self.plots,
        )


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise SpasmCvError(f"{key}: missing")
    return value


def _number(data: dict, key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpasmCvError(f"{key}: not a number")
    return float(value)


def _choice(data: dict, key: str, allowed: tuple[str, ...]) -> str | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if value not in allowed:
        raise SpasmCvError(f"{key}: one of {', '.join(allowed)}")
    return value


def _note(data: dict) -> str:
    note = data.get("note") or ""
    if not isinstance(note, str):
        raise SpasmCvError("note: not text")
    return " ".join(note.split())[:MAX_NOTE]  # one line: no tab or newline reaches the TSV
