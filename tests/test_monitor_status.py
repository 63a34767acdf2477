"""Issue 16: the monitor's status line tells the truth, and native log lines stay off its
stderr.

Before the fix the status line kept "attempt 1, waiting 0.5 s" through a 75 s outage,
showed 44 fps for a 25 fps file source (frames that queued up while the model started
looked like a burst of speed), a 10.0 s session said "face observed 10.1 s", and a MediaPipe
warning line reached monitor's stderr.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from conftest import SAMPLE_VIDEO, cli
from fsfaults import write_video

from spasm_cv.live.frames import LiveFrame, ReconnectPolicy, SessionClock
from spasm_cv.live.minutes import MinuteAggregator
from spasm_cv.live.monitor import MonitorSettings, MonitorStatus, SessionResult
from spasm_cv.live.preview import status_line
from spasm_cv.live.sources import CaptureSource, LiveSource


class DyingCamera:
    """Delivers ``n`` frames, then fails; reopening it fails from then on."""

    def __init__(self, n: int = 5):
        self.n = n

    def read(self):
        if self.n <= 0:
            return False, None
        self.n -= 1
        time.sleep(0.02)
        return True, np.full((48, 64, 3), 90, np.uint8)

    def get(self, prop):
        return 0.0

    def release(self):
        pass


@pytest.mark.slow  # an outage of 1.5 s of wall-clock time
def test_an_outage_shows_the_current_attempt_not_the_first():
    opened = []

    def opener():
        if opened:
            return None  # the camera stays unplugged
        opened.append(1)
        return DyingCamera()

    policy = ReconnectPolicy(first_delay_s=0.05, factor=1.5, max_delay_s=0.2, stall_s=5.0)
    src = CaptureSource(opener, "camera 9", "camera", policy=policy).open()
    clock = SessionClock()
    src.start(clock)
    with src:
        while clock.now() < 1.5:
            src.read(0.05)
        gap, now = src.open_gap, src.gap_status
    assert gap is not None  # what opened the gap: the loss or an early attempt (a race)
    first = gap.reason.split("attempt ")[1].split(",")[0] if "attempt " in gap.reason else None
    attempt = int(now.split("attempt ")[1].split(",")[0])
    assert attempt >= 5 and (first is None or int(first) < attempt), now  # where retries are
    line = status_line(MonitorStatus(t=gap.start_s + 75.0, gap=gap, gap_status=now))
    assert f"attempt {attempt}," in line and (first is None or f"attempt {first}," not in line)
    assert "NO FRAMES since 0:00:00 (0:01:15)" in line  # since when, and for how long


def test_observed_time_never_exceeds_the_session():
    fps = 25.0
    agg = MinuteAggregator(1_700_000_000.0, fps)
    times = np.arange(251) / fps  # frames up to 10.0 s, the session ending at 10.01 s
    for t in times:
        agg.frame(float(t), True, 1, {"right": True, "left": True}, {"right": 0, "left": 0})
    agg.finish(10.01)
    assert agg.totals.observed_s == pytest.approx(10.01)
    assert agg.totals.observed_s <= 10.01 + 1e-9


class BurstSource(LiveSource):
    """A 25 fps source of a real face whose first two seconds of frames arrive at once (as
    frames that queued up while the model was loading), then in real time."""

    kind = "file"

    def _open(self) -> None:
        cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
        ok, bgr = cap.read()
        cap.release()
        assert ok
        self.frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        self.fps, self.size = 25.0, (bgr.shape[1], bgr.shape[0])

    def _run(self, queue) -> None:
        frame = self.frame
        for i in range(100):
            t = i / self.fps
            if i >= 50 and self._stop.wait(max(0.0, t - self.clock.now())):
                return
            queue.put(LiveFrame(t, frame))
        queue.finish()


@pytest.mark.slow  # MediaPipe
def test_status_fps_is_the_sources_rate_and_observed_time_fits_the_session(tmp_path):
    from spasm_cv.live.monitor import run_monitor

    seen = []
    src = BurstSource("burst", max_lag_s=5.0).open()
    settings = MonitorSettings(status_every_s=0.0)
    with src:
        result = run_monitor(
            src, tmp_path / "m.sqlite", settings, on_status=lambda st: seen.append(st.fps)
        )
    rates = seen[10:]
    assert rates and max(rates) <= 25.0 * 1.05, max(rates)
    assert result.frames == 100
    assert result.observed_s <= result.duration_s + 1e-9


def test_native_log_lines_stay_off_monitors_stderr(tmp_path, capfd, monkeypatch):
    import os

    import spasm_cv.live.monitor as monitor

    def fake_run_monitor(source, db, settings, **kw):
        os.write(2, b"W0000 00:00:1 inference_feedback_manager.cc:114] Feedback manager\n")
        return SessionResult(1, str(db), "source ended", 1.0, 25, 0, 1.0, [], [])

    monkeypatch.setattr(monitor, "run_monitor", fake_run_monitor)
    video = write_video(tmp_path / "clip.mp4", n=25)
    code, out, err = cli("monitor", "--source", video, "--headless", "--db", tmp_path / "m.db")
    assert code == 0, err
    captured = capfd.readouterr()
    assert "W0000" not in captured.err and "W0000" not in err
    assert "session 1 ended" in out
