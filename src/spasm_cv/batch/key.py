"""The key of a de-identified batch: which video each neutral label stands for.

``batch --deidentify --key FILE`` names result folders ``rec001``, ``rec002``, ... instead of
after the videos. The key (a TSV: ``label``, ``video``, ``size_bytes``, ``mtime``,
``mirrored``) is the only place that links a label to its video: it is written owner-only
(``0600``), outside the output folder, and read again to resume: a video keeps its label, and
is skipped when its result folder is complete and the file is unchanged since it was analysed.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from spasm_cv.batch.plan import MTIME_TOLERANCE_S, BatchItem
from spasm_cv.errors import SpasmCvError
from spasm_cv.results.atomic import atomic_file
from spasm_cv.results.deidentify import label
from spasm_cv.results.files import SUMMARY_FILE
from spasm_cv.results.summary import Summary

KEY_COLUMNS = ("label", "video", "size_bytes", "mtime", "mirrored")
LABEL_WIDTH = 3


@dataclass(frozen=True)
class KeyRow:
    """One video of the key: its label and the file it was (or is to be) analysed from."""

    label: str
    video: str  # absolute path
    size_bytes: int
    mtime: float
    mirrored: bool

    @classmethod
    def of(cls, name: str, video: Path, mirrored: bool) -> KeyRow:
        """The row of ``video`` as the file is now (size -1 if it cannot be read)."""
        try:
            st = video.stat()
        except OSError:
            return cls(name, str(video.resolve()), -1, 0.0, mirrored)
        return cls(name, str(video.resolve()), st.st_size, st.st_mtime, mirrored)

    def same_file(self, other: KeyRow) -> bool:
        return (
            self.size_bytes == other.size_bytes
            and abs(self.mtime - other.mtime) <= MTIME_TOLERANCE_S
            and self.mirrored == other.mirrored
        )


def check_key_path(key: str | os.PathLike, out: str | os.PathLike) -> Path:
    """The key's path; refused inside the output folder (which is meant to be shared)."""
    k, o = Path(key).resolve(), Path(out).resolve()
    if k == o or o in k.parents:
        raise SpasmCvError(
            f"--key {key} is inside --out {out}: keep the key (it names the videos) outside the "
            "folder you share"
        )
    if k.is_dir():
        raise SpasmCvError(f"--key {key} is a folder: give a file name")
    if not k.parent.is_dir():
        raise SpasmCvError(
            f"--key {key}: folder {Path(key).parent} does not exist: create it, or give "
            "another place for the key"
        )
    return Path(key)


def read_key(path: str | os.PathLike) -> dict[str, KeyRow]:
    """The key's rows by video path ({} if the file does not exist yet)."""
    p = Path(path)
    if not p.exists():
        return {}
    try:
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        out = {}
        for r in rows:
            row = KeyRow(
                r["label"],
                r["video"],
                int(r["size_bytes"]),
                float(r["mtime"]),
                r["mirrored"] == "yes",
            )
            out[row.video] = row
        return out
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, TypeError, ValueError) as exc:
        raise SpasmCvError(f"--key {p} is not a spasm-cv batch key: {type(exc).__name__}") from None


def relabel(
    items: list[BatchItem], key: dict[str, KeyRow], out: str | os.PathLike
) -> list[BatchItem]:
    """The batch's videos under their labels: from the key, else the next free ``recNNN``."""
    used = {row.label for row in key.values()}
    n = 0
    relabelled = []
    for item in items:
        known = key.get(str(item.video.resolve()))
        if known is not None:
            name = known.label
        else:
            n += 1
            while label(n, LABEL_WIDTH) in used:
                n += 1
            name = label(n, LABEL_WIDTH)
            used.add(name)
        relabelled.append(BatchItem(name, item.video, Path(out) / name))
    return relabelled


def done(item: BatchItem, row: KeyRow | None, mirrored: bool) -> Summary | None:
    """The summary of a complete result analysed from this very file, or None."""
    if row is None:
        return None
    try:
        if not row.same_file(KeyRow.of(item.name, item.video, mirrored)):
            return None
        summary = Summary.from_dict(json.loads((item.out_dir / SUMMARY_FILE).read_text()))
        return summary if summary.complete else None
    except (OSError, ValueError, KeyError, TypeError, SpasmCvError):
        return None


def write_key(path: str | os.PathLike, rows: list[KeyRow]) -> Path:
    """Write the key atomically, owner-only (``0600``), rows sorted by label."""
    p = Path(path)
    with (
        atomic_file(p, private=True, replace=True) as tmp,
        open(tmp, "w", newline="", encoding="utf-8") as f,
    ):
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(KEY_COLUMNS)
        for r in sorted(rows, key=lambda r: r.label):
            w.writerow(
                [r.label, r.video, r.size_bytes, repr(r.mtime), "yes" if r.mirrored else "no"]
            )
    return p
