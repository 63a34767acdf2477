"""Read truth and predicted events files, find the observed time, pair files in folders.

Every problem with an input file raises :class:`~spasm_cv.errors.SpasmCvError` with a
one-line message naming the file.

Files
-----
- Truth ``<name>.truth.tsv`` (phantom generator): tab-separated with a header. Required
  columns ``onset duration side`` (seconds, seconds, ``left``/``right``); optional ``kind``,
  ``clear`` (``yes``/``no``, missing: all clear) and others, which are ignored. Zero rows is a
  negative video. The sidecar ``<name>.truth.json`` holds ``duration_s``.
- Predicted ``events.tsv`` (BIDS-style, ``n/a`` for missing): required columns ``onset duration
  trial_type side``; ``regions`` and ``kind`` are read when present. Beside it,
  ``summary.json`` holds ``observed_s``.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.evaluation.match import EPISODE_SIDES, Episodes, RegionScope, spasm_mask

TRUTH_SUFFIX = ".truth.tsv"
TRUTH_REQUIRED = ("onset", "duration", "side")
EVENTS_REQUIRED = ("onset", "duration", "trial_type", "side")
_MISSING = ("n/a", "")
_YES = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}


def read_tsv(path: str | Path, required: tuple[str, ...]) -> dict[str, list[str]]:
    """Read a tab-separated file with a header into columns of stripped strings.

    Raises
    ------
    SpasmCvError
        Missing or unreadable file, no header, missing or duplicate columns, ragged rows.
    """
    p = Path(path)
    if not p.is_file():
        raise SpasmCvError(f"file not found: {p}" if not p.exists() else f"not a file: {p}")
    try:
        with p.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SpasmCvError(f"cannot read {p}: {e}") from None
    rows = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not rows:
        raise SpasmCvError(f"{p}: empty file (expected a tab-separated header)")
    header = [c.strip().lower() for c in rows[0][1]]
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise SpasmCvError(f"{p}: duplicate columns: {', '.join(dup)}")
    missing = [c for c in required if c not in header]
    if missing:
        raise SpasmCvError(
            f"{p}: missing columns: {', '.join(missing)} (found: {', '.join(header)}; "
            "is it tab-separated?)"
        )
    cols: dict[str, list[str]] = {c: [] for c in header}
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise SpasmCvError(f"{p}, line {line}: {len(row)} fields, header has {len(header)}")
        for c, v in zip(header, row, strict=True):
            cols[c].append(v.strip())
    return cols


def _floats(p: Path, cols: dict[str, list[str]], name: str, default: float | None) -> np.ndarray:
    out = np.empty(len(cols[name]))
    for i, v in enumerate(cols[name]):
        if v.lower() in _MISSING and default is not None:
            out[i] = default
            continue
        try:
            out[i] = float(v)
        except ValueError:
            raise SpasmCvError(f"{p}, row {i + 1}: {name} is not a number: {v!r}") from None
        if not math.isfinite(out[i]) or (name == "duration" and out[i] < 0):
            raise SpasmCvError(f"{p}, row {i + 1}: bad {name}: {v!r}")
    return out


def _sides(p: Path, values: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    sides = np.array([v.lower() for v in values], dtype=object)
    check = np.arange(sides.size) if rows is None else np.nonzero(rows)[0]
    for i in check:
        if sides[i] not in EPISODE_SIDES:
            raise SpasmCvError(
                f"{p}, row {i + 1}: side must be left, right or both, got {values[i]!r}"
            )
    return sides


def read_truth(path: str | Path) -> Episodes:
    """Read a truth TSV into :class:`Episodes` (``kind`` and ``clear`` when present).

    A missing ``clear`` column, or ``n/a``, means clear; ``duration`` ``n/a`` means 0 s.
    """
    p = Path(path)
    cols = read_tsv(p, TRUTH_REQUIRED)
    onset = _floats(p, cols, "onset", None)
    duration = _floats(p, cols, "duration", 0.0)
    side = _sides(p, cols["side"])
    kind = np.array(
        [k.lower() or "n/a" for k in cols.get("kind", ["n/a"] * onset.size)], dtype=object
    )
    clear = np.ones(onset.size, dtype=bool)
    for i, v in enumerate(cols.get("clear", [])):
        if v.lower() in _MISSING:
            continue
        if v.lower() not in _YES:
            raise SpasmCvError(f"{p}, row {i + 1}: clear must be yes or no, got {v!r}")
        clear[i] = _YES[v.lower()]
    return Episodes(onset, duration, side, kind, clear)


@dataclass(frozen=True)
class EventTable:
    """Rows of a predicted ``events.tsv`` (all trial types); times in seconds."""

    onset: np.ndarray
    duration: np.ndarray
    trial_type: np.ndarray
    side: np.ndarray
    kind: np.ndarray
    regions: np.ndarray

    def __len__(self) -> int:
        return int(self.onset.size)

    def episodes(self, regions: RegionScope = "eye") -> Episodes:
        """The predicted spasm episodes (see :func:`~spasm_cv.evaluation.match.spasm_mask`)."""
        m = spasm_mask(self.trial_type, self.regions, regions)
        return Episodes(self.onset[m], self.duration[m], self.side[m], self.kind[m])


def read_event_table(path: str | Path) -> EventTable:
    """Read a predicted ``events.tsv``. Sides are checked on spasm rows only."""
    p = Path(path)
    cols = read_tsv(p, EVENTS_REQUIRED)
    n = len(cols["onset"])
    trial_type = np.array([t.lower() for t in cols["trial_type"]], dtype=object)
    return EventTable(
        onset=_floats(p, cols, "onset", None),
        duration=_floats(p, cols, "duration", 0.0),
        trial_type=trial_type,
        side=_sides(p, cols["side"], trial_type == "spasm"),
        kind=np.array([k.lower() or "n/a" for k in cols.get("kind", ["n/a"] * n)], dtype=object),
        regions=np.array(
            [r.lower() or "n/a" for r in cols.get("regions", ["n/a"] * n)], dtype=object
        ),
    )


def _json_number(path: Path, key: str) -> float | None:
    """``key`` of a JSON object file as a float; None if the file or the key is absent."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SpasmCvError(f"cannot read {path}: {e}") from None
    if not isinstance(data, dict) or data.get(key) is None:
        return None
    value = data[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value >= 0)
    ):
        raise SpasmCvError(f"{path}: {key} must be a number >= 0, got {value!r}")
    return float(value)


def truth_sidecar(truth_path: str | Path) -> Path:
    """``X.truth.json`` beside ``X.truth.tsv`` (any ``.tsv`` becomes ``.json``)."""
    p = Path(truth_path)
    return p.with_suffix(".json")


def read_truth_duration(truth_path: str | Path) -> float | None:
    """``duration_s`` (seconds) from the truth sidecar, None if absent."""
    return _json_number(truth_sidecar(truth_path), "duration_s")


def read_observed_s(events_path: str | Path) -> float | None:
    """``observed_s`` (seconds) from ``summary.json`` beside ``events.tsv``, None if absent."""
    return _json_number(Path(events_path).parent / "summary.json", "observed_s")


def resolve_events_path(path: str | Path) -> Path:
    """An ``events.tsv`` path, or a result folder holding one."""
    p = Path(path)
    if p.is_dir():
        p = p / "events.tsv"
    if not p.is_file():
        raise SpasmCvError(f"events file not found: {p}")
    return p


def video_name(truth_path: str | Path) -> str:
    """``<name>`` of ``<name>.truth.tsv`` (else the file's stem)."""
    name = Path(truth_path).name
    return name[: -len(TRUTH_SUFFIX)] if name.endswith(TRUTH_SUFFIX) else Path(name).stem


@dataclass(frozen=True)
class VideoPair:
    """A truth file and its predicted events (None when the result folder lacks one)."""

    name: str
    truth: Path
    events: Path | None


def pair_folders(truth_dir: str | Path, results_dir: str | Path) -> list[VideoPair]:
    """Pair each ``TRUTH_DIR/<name>.truth.tsv`` with ``RESULTS_DIR/<name>/events.tsv``.

    Result folders without a truth file are ignored. Raises SpasmCvError if either folder is
    missing or no truth file is found.
    """
    tdir, rdir = Path(truth_dir), Path(results_dir)
    for d, what in ((tdir, "truth"), (rdir, "results")):
        if not d.is_dir():
            raise SpasmCvError(f"{what} folder not found: {d}")
    truths = sorted(p for p in tdir.glob(f"*{TRUTH_SUFFIX}") if p.is_file())
    if not truths:
        raise SpasmCvError(f"no *{TRUTH_SUFFIX} files in {tdir}")
    pairs = []
    for t in truths:
        name = video_name(t)
        events = rdir / name / "events.tsv"
        pairs.append(VideoPair(name, t, events if events.is_file() else None))
    return pairs
