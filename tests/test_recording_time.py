"""When a recording was made, and where that came from (summary.json ``recorded_at_source``).

Test videos are written here with PyAV: two seconds of the bundled sample (a real face),
once with the MP4 ``creation_time`` tag a phone writes and once without it, as a copied or
re-encoded file would be.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import SAMPLE_VIDEO

from spasm_cv.cli import main
from spasm_cv.results.recording import Recording
from spasm_cv.video.metadata import creation_time, parse_tag

UTC = timezone.utc
TAGGED_AT = datetime(2025, 6, 1, 10, 20, 30, tzinfo=UTC)


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 25, tag: str | None = None):
    """An H.264 MP4 of ``frames`` (RGB), with ``creation_time`` = ``tag`` when given."""
    with av.open(str(path), "w") as out:
        if tag is not None:
            out.metadata["creation_time"] = tag
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def sample_frames(seconds: float) -> list[np.ndarray]:
    if not SAMPLE_VIDEO.is_file():
        pytest.skip("bundled sample video missing")
    with av.open(str(SAMPLE_VIDEO)) as src:
        frames = []
        for f in src.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24"))
            if len(frames) >= seconds * 25:
                break
    return frames


def test_creation_time_tag_is_read_and_checked(tmp_path):
    gray = [np.full((64, 64, 3), 128, np.uint8)] * 5
    tagged = write_clip(tmp_path / "tagged.mp4", gray, tag="2025-06-01T10:20:30.000000Z")
    assert creation_time(tagged) == TAGGED_AT
    assert creation_time(write_clip(tmp_path / "plain.mp4", gray)) is None
    unset = write_clip(tmp_path / "unset.mp4", gray, tag="1904-01-01T00:00:00.000000Z")
    assert creation_time(unset) is None  # a camera without a set clock
    (tmp_path / "notes.txt").write_text("not a video")
    assert creation_time(tmp_path / "notes.txt") is None
    assert creation_time(tmp_path / "missing.mp4") is None
    # Apple's local start time with its offset; the MP4 convention (UTC without zone)
    assert parse_tag("2025-06-01T12:20:30+0200") == TAGGED_AT
    assert parse_tag("2025-06-01 10:20:30") == TAGGED_AT
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    assert parse_tag(future) is None and parse_tag("garbage") is None and parse_tag("") is None


@pytest.mark.slow  # MediaPipe on two seconds of video, twice
def test_recording_time_comes_from_the_container_else_the_file(tmp_path, capsys):
    frames = sample_frames(2.0)
    tagged = write_clip(tmp_path / "phone.mp4", frames, tag="2025-06-01T10:20:30.000000Z")
    copied = write_clip(tmp_path / "copied.mp4", frames)  # no tag, as a re-encoded copy
    mtime = datetime(2025, 6, 20, 15, 0, 0, tzinfo=UTC).timestamp()
    os.utime(copied, (mtime, mtime))

    assert main(["analyze", str(tagged), "--out", str(tmp_path / "phone"), "--jobs", "1"]) == 0
    said = capsys.readouterr().out
    assert "from the video's creation time" in said and "GUESSED" not in said
    phone = json.loads((tmp_path / "phone" / "summary.json").read_text())
    assert phone["recorded_at_source"] == "container"
    assert datetime.fromisoformat(phone["recorded_at"]) == TAGGED_AT

    assert main(["analyze", str(copied), "--out", str(tmp_path / "copied"), "--jobs", "1"]) == 0
    said = capsys.readouterr().out
    assert "GUESSED from the file's modification time" in said
    copy = json.loads((tmp_path / "copied" / "summary.json").read_text())
    assert copy["recorded_at_source"] == "file_mtime"
    started = datetime.fromisoformat(copy["recorded_at"])
    assert started == datetime.fromtimestamp(mtime - copy["duration_s"], UTC)

    given = tmp_path / "given"
    args = ["analyze", str(copied), "--out", str(given), "--jobs", "1"]
    assert main([*args, "--recorded-at", "2025-06-02T08:00+00:00"]) == 0
    assert json.loads((given / "summary.json").read_text())["recorded_at_source"] == "given"
    assert Recording.from_folder(given).summary.recorded_at_guessed is False

    # a before/after comparison resting on the guessed date says so
    out = tmp_path / "cycle.html"
    rc = main(["report", "--treatment", "2025-06-10:BoNT-A", str(tmp_path / "phone"),
               str(tmp_path / "copied"), "--out", str(out)])  # fmt: skip
    assert rc == 0
    text = out.read_text()
    assert "Dates guessed:" in text and "copied.mp4" in text.split("Dates guessed:")[1][:400]
    assert text.count('class="guessed"') == 1  # only the copied file's date is marked
    # both dates known: no warning
    out2 = tmp_path / "known.html"
    rc = main(["report", "--treatment", "2025-06-01T20:00:BoNT-A", str(tmp_path / "phone"),
               str(given), "--out", str(out2)])  # fmt: skip
    assert rc == 0 and "Dates guessed" not in out2.read_text()
