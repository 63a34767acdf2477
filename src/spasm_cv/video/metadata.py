"""When a video was recorded, as its container says: the ``creation_time`` tag.

Phones and cameras write the time a recording was made into the container (MP4/MOV
``creation_time``; Apple devices also ``com.apple.quicktime.creationdate``, local time with
its offset). OpenCV does not expose container tags, so they are read with PyAV (the FFmpeg
bindings; one header read, a few milliseconds) or, where PyAV is missing, with ``ffprobe``
when it is on the PATH. A file copied, synced or downloaded keeps this tag, while its
modification time changes: the tag is the better guess of the two, and a value given by the
user beats both (see :meth:`spasm_cv.results.summary.Summary.of_analysis`).

The time is taken as the start of the recording. Some cameras write the time the file was
closed instead; the difference is at most the recording's length. Tags that are unset
(cameras without a set clock write 1904-01-01 or 1970-01-01) or in the future are ignored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

# tags in order of preference: Apple's local start time with offset, then the MP4 tag
CREATION_TAGS = ("com.apple.quicktime.creationdate", "creation_time")
EARLIEST_YEAR = 2000  # before this a tag is an unset camera clock, not a recording time


def creation_time(path: str | os.PathLike) -> datetime | None:
    """The container's recording time of ``path`` (aware, UTC), or None if it has none.

    Parameters
    ----------
    path : path-like
        A video file.

    Returns
    -------
    datetime or None
        The creation time from the container's tags (format first, then the streams'),
        None when there is none, it is unset or in the future, or no reader is available.
        Never raises for a file that cannot be read: the caller falls back to another source.
    """
    tags = _tags_pyav(path)
    if tags is None:
        tags = _tags_ffprobe(path)
    for tag_set in tags or ():
        for name in CREATION_TAGS:
            when = parse_tag(tag_set.get(name))
            if when is not None:
                return when
    return None


def parse_tag(value: str | None) -> datetime | None:
    """A creation-time tag as an aware UTC datetime; None if absent, unset or implausible.

    Accepts ISO 8601 with ``Z`` or an offset (``2026-03-02T09:30:00.000000Z``,
    ``2026-03-02T10:30:00+0100``); a time without zone is taken as UTC (the MP4 convention).
    """
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":  # +0100 -> +01:00
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    if when.year < EARLIEST_YEAR or when > datetime.now(timezone.utc) + timedelta(days=1):
        return None
    return when.astimezone(timezone.utc)


def _tags_pyav(path: str | os.PathLike) -> list[dict] | None:
    """The format's and the streams' tags via PyAV; None if PyAV is not installed.

    An opening of its own: the frames are decoded by OpenCV, which exposes no tags, and
    the analysis asks only when no time was given (the header alone is read)."""
    try:
        import av
        import av.error
    except ImportError:
        return None
    try:
        with av.open(os.fspath(path), metadata_errors="ignore") as container:
            return [dict(container.metadata)] + [dict(s.metadata) for s in container.streams]
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError):
        return []


def _tags_ffprobe(path: str | os.PathLike) -> list[dict] | None:
    """The same tags via ``ffprobe`` (no network, a local file); None if it is missing."""
    exe = shutil.which("ffprobe")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "-v", "quiet", "-print_format", "json", "-show_format", "-show_streams",
             os.fspath(path)],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
        doc = json.loads(out)
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError):
        return []
    fmt = doc.get("format", {}).get("tags", {})
    return [fmt] + [s.get("tags", {}) for s in doc.get("streams", [])]
