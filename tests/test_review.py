"""``spasm-cv review``: an annotated copy of the analysed video, read back pixel by pixel, and
the episode clips' index page opened in real headless Chromium."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE_VIDEO
from test_report import CHROMIUM_FLAGS, page_requests

from spasm_cv.cli import main
from spasm_cv.results.files import read_events
from spasm_cv.review.overlay import BAND_RGB, SIDE_RGB, display_scale, layout
from spasm_cv.review.writer import H264_PYAV


def read_all(path: Path) -> tuple[list[np.ndarray], float, int]:
    """Every frame of a video (RGB), its frame rate and the container's frame count."""
    cap = cv2.VideoCapture(str(path))
    fps, count = cap.get(cv2.CAP_PROP_FPS), int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames, fps, count


def near(img: np.ndarray, rgb: tuple[int, int, int], tol: float = 60.0) -> np.ndarray:
    return np.linalg.norm(img.astype(float) - np.array(rgb, float), axis=-1) < tol


def crop(img: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = rect
    return img[y0:y1, x0:x1]


@pytest.fixture(scope="module")
def review(sample_result, tmp_path_factory):
    """``spasm-cv review`` of the bundled sample, run once: (output path, stdout)."""
    out = tmp_path_factory.mktemp("review") / "sample.review.mp4"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["review", str(sample_result), "--out", str(out)]) == 0
    return out, buf.getvalue()


def test_review_video_has_every_frame_and_shows_the_episodes(sample_result, review):
    out, said = review
    assert H264_PYAV in said  # which codec was used is said
    frames, fps, count = read_all(out)
    src, src_fps, src_count = read_all(SAMPLE_VIDEO)
    assert fps == src_fps and count == src_count == len(frames) == len(src)
    k = display_scale(src[0].shape[1])
    assert k == 2  # the 360-pixel sample is shown enlarged
    h, w = src[0].shape[0] * k, src[0].shape[1] * k
    lay = layout(w, h)
    assert frames[0].shape[1::-1] == lay.size
    episodes = [e for e in read_events(sample_result) if e.is_episode]
    tonic = max(episodes, key=lambda e: e.duration)
    events = read_events(sample_result)
    quiet = next(
        i for i in range(len(frames))
        if all(abs(i / fps - (e.onset + e.end) / 2) > e.duration / 2 + 0.5 for e in events)
    )  # fmt: skip
    for e in (tonic, *episodes[:3]):
        i = int(round((e.onset + e.end) / 2 * fps))
        box = crop(frames[i], lay.event_box)
        assert near(box, SIDE_RGB[e.side]).mean() > 0.6, (e, i)  # the event, in its colour
        assert not near(crop(frames[quiet], lay.event_box), SIDE_RGB[e.side]).any()
    band_quiet = crop(frames[quiet], lay.event_box)
    assert near(band_quiet, BAND_RGB, 40).mean() > 0.8  # no event: the band's own grey
    i = int(round((tonic.onset + tonic.end) / 2 * fps))
    # both eyes' contours drawn on the face, in their sides' colours
    for side in ("right", "left"):
        drawn = near(frames[i][:h, :w], SIDE_RGB[side], 70).sum()
        before = near(cv2.resize(src[i], (w, h)), SIDE_RGB[side], 70).sum()
        assert drawn > before + 30, (side, drawn, before)
    # the right eye's closure bar is fuller during the tonic episode than at rest
    bar = lay.bars["right"]
    assert near(crop(frames[i], bar), SIDE_RGB["right"]).sum() > 2 * max(
        near(crop(frames[quiet], bar), SIDE_RGB["right"]).sum(), 1
    )
    # the timeline's cursor (white) moves with time
    strip = lay.strip

    def cursor_x(img):
        white = near(crop(img, strip), (255, 255, 255), 60).any(axis=0)
        return np.flatnonzero(white).mean()

    assert cursor_x(frames[len(frames) // 4]) < cursor_x(frames[3 * len(frames) // 4])


def test_review_never_overwrites(sample_result, review, tmp_path, capsys):
    out, _ = review
    before = (out.stat().st_size, out.stat().st_mtime_ns)
    rc = main(["review", str(sample_result), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "already exists" in err and err.count("\n") == 1
    assert (out.stat().st_size, out.stat().st_mtime_ns) == before
    mine = tmp_path / "mine"
    mine.mkdir()
    rc = main(["review", str(sample_result), "--episodes-only", "--out", str(mine)])
    assert rc == 2 and "already exists" in capsys.readouterr().err
    assert list(mine.iterdir()) == []


def test_review_of_a_moved_or_wrong_video_is_a_clear_error(sample_result, tmp_path, capsys):
    moved = shutil.copytree(sample_result, tmp_path / "moved")
    summary = json.loads((moved / "summary.json").read_text())
    summary["input"]["path"] = str(tmp_path / "gone.mp4")
    (moved / "summary.json").write_text(json.dumps(summary))
    rc = main(["review", str(moved), "--out", str(tmp_path / "a.mp4")])
    err = capsys.readouterr().err
    assert rc == 2 and "--video" in err and err.count("\n") == 1
    other = tmp_path / "other.mp4"
    other.write_bytes(SAMPLE_VIDEO.read_bytes()[:50_000])
    rc = main(["review", str(moved), "--video", str(other), "--out", str(tmp_path / "a.mp4")])
    err = capsys.readouterr().err
    assert rc == 2 and "not the video analysed" in err
    rc = main(["review", str(tmp_path / "nowhere"), "--out", str(tmp_path / "a.mp4")])
    assert rc == 2 and "result folder not found" in capsys.readouterr().err
    assert not (tmp_path / "a.mp4").exists()
    assert not list(tmp_path.glob(".a*"))  # no temporary file left behind


def test_episode_clips_and_their_index_page(sample_result, tmp_path, capsys):
    out = tmp_path / "episodes"
    assert main(["review", str(sample_result), "--episodes-only", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    spasms = sorted((e for e in read_events(sample_result) if e.trial_type == "spasm"),
                    key=lambda e: e.onset)  # fmt: skip
    clips = sorted((out / "clips").glob("*.mp4"))
    assert len(clips) == len(spasms) and f"{len(spasms)} clips" in said
    fps = cv2.VideoCapture(str(SAMPLE_VIDEO)).get(cv2.CAP_PROP_FPS)
    for clip, e in zip(clips, spasms, strict=True):
        frames, clip_fps, count = read_all(clip)
        assert clip_fps == fps and count == len(frames)
        expected = (min(e.end + 1.0, 60.0) - max(e.onset - 1.0, 0.0)) * fps
        assert abs(len(frames) - expected) <= 2, clip.name
        assert e.side in clip.name
    page = out / "index.html"
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//|ftp:)""", text, re.I)
    assert text.count("<video") == len(spasms) and text.count("data:image/svg+xml") == len(spasms)

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (CI installs Debian's chromium)")
    netlog = tmp_path / "net.json"
    probe = out / "probe.html"  # beside index.html, so the clips' relative paths resolve
    # the page's CSP runs its own script only (by hash): the probe goes in a copy without it
    no_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text, count=1)
    probe.write_text(no_csp.replace(
        "</body>",
        "<script>setTimeout(() => { document.title = JSON.stringify({"
        "videos: [...document.querySelectorAll('video')].map(v => [v.readyState, "
        "v.videoWidth, v.duration, v.error && v.error.code]),"
        "images: [...document.images].map(i => i.naturalWidth)}); }, 2500);</script></body>",
    ))  # fmt: skip
    dom = subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         f"--log-net-log={netlog}", "--dump-dom", "--virtual-time-budget=8000", probe.as_uri()],
        check=True, capture_output=True, text=True, timeout=180,
    ).stdout  # fmt: skip
    seen = json.loads(re.search(r"<title>(.*?)</title>", dom, re.S)[1].replace("&quot;", '"'))
    cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    width = layout(w * display_scale(w), h * display_scale(w))
    assert all(ready >= 1 and w == width.size[0] and dur > 1.0 and err is None
               for ready, w, dur, err in seen["videos"]), seen  # fmt: skip
    assert len(seen["videos"]) == len(spasms) and all(w > 300 for w in seen["images"])
    assert page_requests(netlog) == []
