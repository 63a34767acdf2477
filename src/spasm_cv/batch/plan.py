"""Which videos a batch covers, where each one's result folder goes, and which are done.

A result folder is done when its ``summary.json`` says the analysis was complete and
describes the same input: same size in bytes, same modification time, same ``mirrored``,
and was made with the same detection parameters (a parameter it does not list counts as
that parameter's default).
Result folders are written under a temporary name and renamed into place
(:func:`spasm_cv.results.files.write_folder`), so a half-written one has no
``summary.json`` under the final name and is never taken as done.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.results.files import SUMMARY_FILE
from spasm_cv.results.summary import Summary

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".3gp", ".mts"}
)
MTIME_TOLERANCE_S = 1e-3


@dataclass(frozen=True)
class BatchItem:
    """One video of a batch and its result folder (``<out>/<name>``)."""

    name: str
    video: Path
    out_dir: Path


def find_videos(source: str | os.PathLike) -> tuple[list[Path], Path | None]:
    """The videos of a folder (recursively, sorted) or of a list file, and their root.

    A list file holds one path per line (relative paths from the list's folder; blank
    lines and lines starting with ``#`` are skipped; a TSV/CSV row's first field is used).
    The root (the folder; None for a list) names result folders after relative paths.
    """
    src = Path(source)
    if src.is_dir():
        videos = sorted(
            p
            for p in src.rglob("*")
            if p.suffix.lower() in VIDEO_SUFFIXES
            and p.is_file()
            and not any(
                part.startswith(".") or part.endswith(".spasm-cv")
                for part in p.relative_to(src).parts
            )
        )
        if not videos:
            raise SpasmCvError(
                f"no video files in {src} (looked for {', '.join(sorted(VIDEO_SUFFIXES))})"
            )
        return videos, src
    if not src.exists():
        raise SpasmCvError(f"batch input not found: {src}")
    if src.suffix.lower() in VIDEO_SUFFIXES:
        return [src], None
    try:
        lines = src.read_text().splitlines()
    except (UnicodeDecodeError, OSError) as exc:
        raise SpasmCvError(f"cannot read the list of videos {src}: {exc}") from None
    videos = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        field = text.split("\t")[0] if "\t" in text else text
        if src.suffix.lower() == ".csv":
            field = field.split(",")[0]
        p = Path(field.strip())
        videos.append(p if p.is_absolute() else src.parent / p)
    if not videos:
        raise SpasmCvError(f"the list {src} names no video")
    return videos, None


def result_names(videos: list[Path], root: Path | None) -> list[str]:
    """A distinct result folder name per video: its stem, made longer only on a clash."""

    def key(p: Path, level: int) -> str:
        if level == 0:
            return p.stem
        rel = p.relative_to(root) if root is not None else Path(*p.resolve().parts[-2:])
        if level == 1:
            return "__".join(rel.with_suffix("").parts)
        return "__".join(rel.parts)

    names = [key(p, 0) for p in videos]
    for level in (1, 2):
        clash = {n for n in names if names.count(n) > 1}
        names = [key(p, level) if n in clash else n for p, n in zip(videos, names, strict=True)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpasmCvError(f"the batch names the same video twice: {', '.join(dupes)}")
    return names


def plan_batch(source: str | os.PathLike, out: str | os.PathLike) -> list[BatchItem]:
    """Every video of ``source`` with its result folder under ``out``."""
    videos, root = find_videos(source)
    out = Path(out)
    return [
        BatchItem(n, v, out / n) for n, v in zip(result_names(videos, root), videos, strict=True)
    ]


def same_params(recorded: dict, wanted: dict | None) -> bool:
    """Whether a summary's ``params`` are ``wanted`` (None: the defaults).

    A parameter missing from ``recorded`` (a summary of an older version) counts as its
    default; one ``recorded`` has but the current parameters lack is ignored.
    """
    from spasm_cv.events.params import DetectionParams

    defaults = DetectionParams().to_dict()
    wanted = {**defaults, **(wanted or {})}
    return all(recorded.get(k, defaults[k]) == v for k, v in wanted.items())


def read_done(
    item: BatchItem, mirrored: bool = False, params: dict | None = None
) -> Summary | None:
    """The summary of a complete result for this very input and these detection parameters
    (``params``: name -> value, None for the defaults), or None (to be analysed)."""
    summary_path = item.out_dir / SUMMARY_FILE
    try:
        raw = json.loads(summary_path.read_text())
        st = item.video.stat()
        record = raw["input"]
        same = (
            raw.get("complete") is True
            and record["size_bytes"] == st.st_size
            and abs(float(record["mtime"]) - st.st_mtime) <= MTIME_TOLERANCE_S
            and bool(record.get("mirrored", False)) == mirrored
            and same_params(raw.get("params") or {}, params)
        )
        return Summary.from_dict(raw) if same else None
    except (OSError, ValueError, KeyError, TypeError, SpasmCvError):
        return None
