"""The clinical report: numbers on the page, suggested grades, comparisons, real Chromium.

The sample result is the bundled phantom video analysed once per session (else a clip from
../shared). Chromium tests render the page to PDF and PNG headless with a fresh profile and
a network log, and skip only where no ``chromium`` is installed (CI installs it).
"""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_video

from spasm_cv.cli import main
from spasm_cv.events.activity import Activity
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.table import Event
from spasm_cv.report import aggregate, plots, scales
from spasm_cv.report.aggregate import Treatment
from spasm_cv.report.cli import parse_treatment
from spasm_cv.report.html import build_html, render_report
from spasm_cv.results.files import read_events, read_signals_table, write_events
from spasm_cv.results.observation import DEFAULT_THRESHOLDS
from spasm_cv.results.pooled import pool
from spasm_cv.results.rates import rate_ratio
from spasm_cv.results.recording import Recording
from spasm_cv.results.summary import Summary, coverage
from spasm_cv.results.track import Minutes, Track

UTC = timezone.utc


# ---------------------------------------------------------------------------- fixtures


def analysed(tmp_path_factory, video: Path, name: str) -> Path:
    """Analyse ``video`` once per session (shared by test files through the base temp dir)."""
    from spasm_cv import analyze_video

    out = tmp_path_factory.getbasetemp() / f"analysed-{name}"
    if not (out / "summary.json").is_file():
        analyze_video(video, out, recorded_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC))
    return out


@pytest.fixture(scope="module")
def sample_report(sample_result, tmp_path_factory) -> Path:
    """The sample result's report, rendered once for the tests that only read it."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    return render_report([Recording.from_folder(sample_result)], out, title="Sample phantom")


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def run_chromium(exe: str, page: Path, tmp: Path, *args: str) -> Path:
    """Run headless Chromium on ``page`` with a fresh profile; returns its network log."""
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    netlog = profile.with_suffix(".netlog.json")
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}"]
    subprocess.run(
        [*cmd, *args, page.resolve().as_uri()], check=True, capture_output=True, timeout=120
    )
    return netlog


def page_requests(netlog: Path) -> list[str]:
    """Network URLs the page asked for (the browser's own update/sign-in calls excluded).

    A request from page content carries the page's origin as initiator (``null`` for a file)
    and the file's site in its network isolation key; the browser's own requests have
    ``initiator: "not an origin"``.
    """
    log = json.loads(netlog.read_text())
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for e in log["events"]:
        p = e.get("params") or {}
        if names.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        from_page = p.get("initiator") != "not an origin" or "file://" in p.get(
            "network_isolation_key", ""
        )
        if from_page and re.match(r"(https?|wss?|ftp)://", p["url"]):
            urls.append(p["url"])
    return urls


def pdf_pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


class _Page(HTMLParser):
    """Tagged numbers (data-key), figures (data-plot) and grades of a report page."""

    def __init__(self):
        super().__init__()
        self.numbers: list[tuple[str, float, str]] = []
        self.figures: dict[str, str] = {}
        self.grades: list[str] = []
        self.sheets = 0
        self._open: tuple[str, float] | None = None
        self._figure: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-key" in a and "data-scale" in a:
            self._open = (a["data-key"], float(a["data-scale"]))
        if tag == "figure":
            self._figure = a.get("data-plot")
        if tag == "img" and self._figure:
            self.figures[self._figure] = a["src"]
        if "data-grade" in a:
            self.grades.append(a["data-grade"])
        if tag == "section" and a.get("class") == "sheet":
            self.sheets += 1

    def handle_data(self, data):
        if self._open:
            self.numbers.append((*self._open, data))
            self._open = None


def parse_page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def lookup(d, key: str):
    for part in key.split("."):
        d = d[int(part)] if isinstance(d, list) else d[part]
    return d


def assert_numbers_match(page: _Page, summary: dict) -> set[str]:
    """Every tagged number equals its summary value to the digits shown; returns the keys."""
    keys = set()
    for key, scale, text in page.numbers:
        value = lookup(summary, key)
        decimals = len(text.split(".")[1]) if "." in text else 0
        assert float(text) == pytest.approx(value * scale, abs=0.5 * 10**-decimals + 1e-9), key
        keys.add(key)
    return keys


def svg_of(data_uri: str) -> ET.Element:
    prefix = "data:image/svg+xml;base64,"
    assert data_uri.startswith(prefix)
    return ET.fromstring(base64.b64decode(data_uri[len(prefix) :]))


def drawn_paths(svg: ET.Element) -> int:
    """Path elements with real geometry (lines, bars, glyphs) in an SVG."""
    return sum(1 for el in svg.iter() if el.tag.endswith("path") and len(el.get("d", "")) > 20)


# ---------------------------------------------------------------------------- the sample


HEADLINE_KEYS = {
    "observed_s",
    "blinks.per_minute",
    "closed_fraction.right",
    "closed_fraction.left",
    "episodes.total.per_hour",
    *(f"episodes.by_side.{s}.{f}" for s in ("right", "left") for f in ("per_hour", "count")),
    *(f"episodes.by_side.{s}.ci95.{i}" for s in ("right", "left") for i in (0, 1)),
    *(f"episodes.by_kind.{k}.per_hour" for k in ("twitch", "clonic", "tonic")),
    *(
        f"episodes.by_side_and_kind.{s}.{k}.per_hour"
        for s in ("right", "left")
        for k in ("twitch", "clonic", "tonic")
    ),
}


# below the observed time a rate needs (the 60 s sample): counts, no rate
COUNT_KEYS = {
    "observed_s",
    "closed_fraction.right",
    "closed_fraction.left",
    "episodes.total.count",
    *(f"episodes.by_side.{s}.count" for s in ("right", "left")),
    *(f"episodes.by_kind.{k}.count" for k in ("twitch", "clonic", "tonic")),
    *(
        f"episodes.by_side_and_kind.{s}.{k}.count"
        for s in ("right", "left")
        for k in ("twitch", "clonic", "tonic")
    ),
}


def test_headline_numbers_equal_summary(sample_result, sample_report):
    text = sample_report.read_text()
    page = parse_page(text)
    summary = json.loads((sample_result / "summary.json").read_text())
    keys = assert_numbers_match(page, summary)
    if summary["observation"]["insufficient_for_rates"]:
        assert keys >= COUNT_KEYS
        assert not [k for k in keys if "per_hour" in k or "per_minute" in k or "ci95" in k]
        assert "insufficient observation" in text
    else:
        assert keys >= HEADLINE_KEYS
    if summary["longest_tonic_s"] is not None:
        assert "longest_tonic_s" in keys
    side = summary["affected_side"]
    shown = re.search(r'data-key="affected_side">([^<]+)<', text)[1]
    total = summary["episodes"]["total"]["count"]
    assert shown == (side.capitalize() if side else "undetermined" if total else "none")
    assert len(page.grades) == 2  # Jankovic and SMC, each with its rule
    assert text.count("<b>Rule:</b>") == 2


def test_page_references_nothing_outside(sample_report):
    text = sample_report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//|ftp:)""", text, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:|//)", text, re.I)
    assert "<script" not in text and "<link" not in text
    for uri in re.findall(r'src="([^"]+)"', text):
        assert uri.startswith("data:image/svg+xml;base64,")


def test_report_renders_in_chromium(sample_result, sample_report, chromium, tmp_path):
    rec = Recording.from_folder(sample_result)
    html = shutil.copy(sample_report, tmp_path / "report.html")
    page = parse_page(html.read_text())

    # every plot is there and has drawn content
    n_episodes = rec.summary.episodes.total.count
    expected = {"overview-1"} | ({"zoom", "time-of-day", "durations"} if n_episodes else set())
    assert set(page.figures) == expected
    for name, uri in page.figures.items():
        assert drawn_paths(svg_of(uri)) > 30, name

    pdf = tmp_path / "report.pdf"
    log_pdf = run_chromium(
        chromium, html, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer"
    )
    png = tmp_path / "report.png"
    log_png = run_chromium(
        chromium, html, tmp_path, f"--screenshot={png}", "--window-size=840,3400"
    )
    assert page_requests(log_pdf) == [] and page_requests(log_png) == []

    # one printed page per sheet: summary, signals, patterns (no sheet overflows)
    assert page.sheets == 3
    assert pdf_pages(pdf) == 3

    import matplotlib.image

    img = matplotlib.image.imread(png)
    assert img.shape[1] == 840
    ink = img[..., :3].mean(axis=2) < 0.5
    assert ink.mean() > 0.01  # text and plots were painted

    # the images decode in the browser (a copy of the page with a probe script)
    probe = tmp_path / "probe.html"
    probe.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html.read_text()).replace(
            "</body>",
            "<script>document.title = JSON.stringify([...document.images].map("
            "i => [i.closest('figure').dataset.plot, i.naturalWidth, i.naturalHeight]));"
            "</script></body>",
        )
    )
    dom = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'probe-profile'}",
            "--dump-dom",
            "--virtual-time-budget=3000",
            probe.as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    sizes = json.loads(re.search(r"<title>(.*?)</title>", dom, re.S)[1].replace("&quot;", '"'))
    assert {name for name, _, _ in sizes} == expected
    assert all(w > 300 and h > 50 for _, w, h in sizes)


def test_network_check_catches_a_remote_resource(chromium, tmp_path):
    """The network assertion above can fail: a page with remote resources is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<img src="http://example.invalid/a.png"><link rel=stylesheet '
        'href="https://example.invalid/b.css">'
    )
    log = run_chromium(chromium, bad, tmp_path, f"--print-to-pdf={tmp_path / 'bad.pdf'}")
    assert sorted(page_requests(log)) == [
        "http://example.invalid/a.png",
        "https://example.invalid/b.css",
    ]


# ---------------------------------------------------------------------------- several recordings


def rewrite_result(src: Path, dst: Path, recorded_at: datetime, keep=lambda e: True) -> Path:
    """A copy of a result folder recorded at another time, keeping only some events.

    The summary's event numbers are recomputed from the kept events and the frame signals.
    """
    shutil.copytree(src, dst)
    events = [e for e in read_events(src) if keep(e)]
    write_events(dst / "events.tsv", events)
    table = read_signals_table(src)
    sides = ("right", "left")
    activity = Activity.of(
        table["time"],
        {s: table[f"measurable_{s}"] > 0 for s in sides},
        {s: table[f"closure_{s}"] for s in sides},
        {s: table[f"mouth_pull_{s}"] for s in sides},
        {s: table[f"brow_lift_{s}"] for s in sides},
    )
    summary = Summary.from_dict(json.loads((src / "summary.json").read_text()))
    summary = replace(
        summary,
        recorded_at=recorded_at.isoformat(),
        **Summary.numbers(events, coverage(activity, summary.fps)),
    )
    (dst / "summary.json").write_text(json.dumps(summary.to_dict()))
    return dst


def test_three_visits_with_treatment_show_before_and_after(sample_result, tmp_path, capsys):
    base = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
    visits = [
        rewrite_result(sample_result, tmp_path / "v1", base),
        rewrite_result(sample_result, tmp_path / "v2", base + timedelta(days=14),
                       keep=lambda e: e.trial_type != "spasm"),
        rewrite_result(sample_result, tmp_path / "v3", base + timedelta(days=28),
                       keep=lambda e: e.trial_type != "spasm" or e.kind == "tonic"),
    ]  # fmt: skip
    out = tmp_path / "cycle.html"
    args = ["report", *map(str, visits), "--out", str(out), "--title", "Pt 7"]
    rc = main([*args, "--treatment", "2026-02-09:BoNT-A 20 U", "2026-05-09:BoNT-A 25 U"])
    assert rc == 0 and "3 recordings" in capsys.readouterr().out
    text = out.read_text()
    page = parse_page(text)
    assert "Before and after treatment" in text
    rows = re.findall(
        r"<tr><td>((?:Before|After)[^<]*)</td><td class='l'>([^<]*)</td><td>(\d+)</td>", text
    )
    assert [(label, int(n)) for label, _, n in rows] == [
        ("Before BoNT-A 20 U", 1),
        ("After BoNT-A 20 U, before BoNT-A 25 U", 2),
    ]
    assert "After BoNT-A 25 U</td><td class='l'>—</td>" in text  # a later period, no recording
    assert "(day 7–21 after)" in rows[1][1]

    recs = [Recording.from_folder(v) for v in visits]
    pooled = pool([r.summary for r in recs])
    side = pooled.affected_side or "total"
    before = recs[0].episodes
    after = recs[1].episodes + recs[2].episodes
    n0 = len(before) if side == "total" else sum(e.side == side for e in before)
    n1 = len(after) if side == "total" else sum(e.side == side for e in after)
    obs = recs[0].summary.observed_s
    ratio = rate_ratio(n1, 2 * obs, n0, obs)
    if ratio is not None and obs >= DEFAULT_THRESHOLDS.rate_min_observed_s:
        est, lo, hi = ratio
        assert f"×{est:.2f} ({lo:.2f}–" in text  # the change after treatment, with its interval
    elif ratio is not None:  # minute-long visits: no rate, so no ratio (test_observation.py)
        assert "n/a (insufficient observation)" in text
    if n0:
        assert drawn_paths(svg_of(page.figures["daily"])) > 20
    # the headline numbers are the pooled ones
    assert_numbers_match(page, pooled.to_dict())
    assert pooled.observed_s == pytest.approx(3 * obs)

    # printed, every sheet still fits its page (the comparison sits on page 1)
    exe = shutil.which("chromium")
    if exe:
        pdf = tmp_path / "cycle.pdf"
        log = run_chromium(exe, out, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
        assert page_requests(log) == []
        assert pdf_pages(pdf) == page.sheets == 3


# ---------------------------------------------------------------------------- monitor-like input


def synthetic_recording(
    name: str,
    start: datetime,
    episode_onsets: list[float],
    minutes: int,
    side: str = "right",
    kind: str = "clonic",
) -> Recording:
    """A recording as the monitor store gives it: summary, events, per-minute rows, no signals."""
    fps = 10.0
    n = int(minutes * 60 * fps)
    t = np.arange(n) / fps
    ones, zeros = np.ones(n, bool), np.zeros(n)
    activity = Activity.of(
        t,
        {"right": ones, "left": ones},
        {"right": zeros, "left": zeros},
        {"right": zeros, "left": zeros},
        {"right": zeros, "left": zeros},
    )
    events = [
        Event(o, 2.0, "spasm", side, kind, "eye+mouth", 3, 0.9, 1.5, True, True, 0.9)
        for o in episode_onsets
    ]
    summary = Summary(
        schema_version="1.0",
        software={"name": "spasm-cv", "version": "0.1.0"},
        model={"name": "face_landmarker float16 v1", "sha256": "0" * 64},
        input={"name": name},
        complete=True,
        fps=fps,
        duration_s=n / fps,
        frames=n,
        quality={},
        params=DetectionParams().to_dict(),
        recorded_at=start.isoformat(),
        observed_fraction=1.0,
        **Summary.numbers(events, coverage(activity, fps)),
    )
    per_minute = Minutes(
        start=np.array([start + timedelta(minutes=i) for i in range(minutes)]),
        observed_s=np.full(minutes, 60.0),
        columns={
            "episodes": np.array(
                [sum(60 * i <= o < 60 * (i + 1) for o in episode_onsets) for i in range(minutes)]
            )
        },
    )
    return Recording(name, summary, events, start=start, minutes=per_minute, source="monitor")


def test_recordings_without_signals_use_minutes(tmp_path):
    start = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    recs = [
        synthetic_recording("s1", start, [30, 600, 1800, 2400], minutes=60),
        synthetic_recording("s2", start + timedelta(days=1, hours=3), [100, 200], minutes=30),
    ]
    hours = aggregate.by_hour_of_day(recs, UTC)
    assert {r.key: r.observed_s for r in hours} == {8: 1800.0, 9: 1800.0, 11: 1800.0}
    assert {r.key: r.counts["right"] for r in hours} == {8: 2, 9: 2, 11: 2}
    days = aggregate.by_day(recs, UTC)
    assert [(d.key, d.counts["right"], d.observed_s) for d in days] == [
        (date(2026, 3, 1), 4, 3600.0),
        (date(2026, 3, 2), 2, 1800.0),
    ]
    undated = replace(synthetic_recording("s0", start, [5.0], minutes=10), start=None, minutes=None)
    text = build_html([*recs, undated], "monitor", tz=UTC)
    page = parse_page(text)
    assert "1 recording(s) without a recording time are left out here" in text
    assert page.sheets == 2  # no signals sheet
    assert {"time-of-day", "durations", "daily"} <= set(page.figures)
    assert not any(f.startswith(("overview", "zoom")) for f in page.figures)
    assert "live monitoring sessions" in text
    assert_numbers_match(page, pool([r.summary for r in [*recs, undated]]).to_dict())


def test_observed_time_per_hour_from_signals_matches_summary(sample_result):
    rec = Recording.from_folder(sample_result)
    per_hour = aggregate.observed_by_hour(rec, UTC)
    assert sum(per_hour.values()) == pytest.approx(rec.summary.observed_s, rel=1e-6)


# ---------------------------------------------------------------------------- no episodes


@pytest.mark.slow  # MediaPipe
def test_recording_without_episodes_says_so(tmp_path_factory, tmp_path):
    result = analysed(tmp_path_factory, shared_video("c3_grid_oldwoman_lwbsza.mp4"), "noblink")
    rec = Recording.from_folder(result)
    assert rec.summary.episodes.total.count == 0
    text = render_report([rec], tmp_path / "r.html").read_text()
    page = parse_page(text)
    assert "No one-sided eye episode was detected" in text
    assert "nothing is shaded" in text and "no close-up to show" in text
    assert set(page.figures) == {"overview-1"}  # no empty rate or duration plot
    # Jankovic: 0 from 30 min on, else insufficient observation; SMC not applicable
    assert page.grades == ["0" if rec.summary.observed_s >= 1800 else "—", "—"]
    assert_numbers_match(page, rec.summary.to_dict())


# ---------------------------------------------------------------------------- bad input


def test_missing_or_corrupt_result_is_a_clear_error(sample_result, tmp_path, capsys):
    def report(*folders) -> tuple[int, str]:
        rc = main(["report", *map(str, folders), "--out", str(tmp_path / "x.html")])
        return rc, capsys.readouterr().err

    rc, err = report(tmp_path / "nowhere")
    assert rc == 2 and "result folder not found" in err
    (tmp_path / "empty").mkdir()
    rc, err = report(tmp_path / "empty")
    assert rc == 2 and "no summary" in err
    bad = shutil.copytree(sample_result, tmp_path / "bad-summary")
    (bad / "summary.json").write_text('{"schema_version": "1.0", "episo')
    rc, err = report(bad)
    assert rc == 2 and "corrupt summary" in err
    bad = shutil.copytree(sample_result, tmp_path / "bad-signals")
    (bad / "signals.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    rc, err = report(bad)
    assert rc == 2 and "corrupt signals file" in err and "signals.csv.gz" in err
    bad = shutil.copytree(sample_result, tmp_path / "no-events")
    (bad / "events.tsv").unlink()
    rc, err = report(bad)
    assert rc == 2 and "no events file" in err
    rc, err = report()
    assert rc == 2 and "no recordings" in err
    assert err.count("\n") == 1  # one line, no traceback
    assert not (tmp_path / "x.html").exists()


def test_treatment_argument():
    t = parse_treatment("2026-03-02:BoNT-A 20 U")
    assert (t.label, t.day_only, t.day) == ("BoNT-A 20 U", True, date(2026, 3, 2))
    assert t.effective - t.when == timedelta(days=1)  # that day's recordings count as before
    t = parse_treatment("2026-03-02T10:30:MVD")
    assert (t.label, t.day_only, t.when.hour, t.when.minute) == ("MVD", False, 10, 30)
    assert parse_treatment("2026-03-02").label == "treatment"
    import argparse

    for bad in ("March 2:x", "2026-13-40:x", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_treatment(bad)


# ---------------------------------------------------------------------------- pure parts


def test_overview_of_a_long_recording_keeps_spikes_and_stays_small():
    n = 30 * 60 * 30  # half an hour at 30 fps
    t = np.arange(n) / 30.0
    closure = np.zeros(n)
    closure[40_000] = 0.9  # one frame: must survive downsampling
    closure[50_000:50_100] = np.nan  # a gap
    tt, yy = plots.envelope(t, closure, 1000)
    assert len(tt) == len(yy) == 2000 and np.nanmax(yy) == 0.9 and np.isnan(yy).any()
    track = Track.from_table(
        {
            "time": t,
            "quality": np.full(n, "ok"),
            "closure_right": closure,
            "closure_left": closure * 0,
            "mouth_pull_right": np.zeros(n),
            "mouth_pull_left": np.zeros(n),
            "measurable_right": np.ones(n),
            "measurable_left": np.ones(n),
        }
    )
    events = [Event(60.0 * i, 1.0, "spasm", "right", "twitch", "eye", 1, 0.8, 0.5, False, False,
                    0.8) for i in range(30)]  # fmt: skip
    svg = plots.to_svg(plots.plot_signal_overview(track, events))
    assert len(svg) < 400_000  # bounded by the envelope, not by the frame count
    assert ET.fromstring(svg).tag.endswith("svg")


def test_jankovic_frequency_rules():
    j = scales.jankovic_frequency
    assert j(0, 7200, 0).grade == "0"
    assert j(1, 7200, 1.0).grade == "1"  # 0.5 per hour
    assert j(30, 3600, 60).grade == "2"
    assert j(300, 3600, 0.6 * 3600).grade == "3"
    assert j(300, 3600, 0.95 * 3600).grade == "4"
    s = j(2, 3600, 2, ci95=(0.24, 7.2))
    assert s.grade == "2" and "1 and 2" in s.caveat  # the interval straddles once an hour
    assert j(5, 0, 0).grade is None


def test_smc_grade_rules():
    g = scales.smc_grade
    assert g(10, 0, 0, 0, 3600, 5).grade == "I"
    assert g(10, 3, 0, 0, 3600, 5).grade == "II"
    assert g(10, 0, 3, 0, 3600, 5).grade == "II"  # mouth-only events count as spread
    assert g(10, 0, 0, 6, 3600, 5).grade == "III"  # 6 tonic per hour
    assert g(10, 0, 0, 1, 3600, 0.06 * 3600).grade == "III"  # eye shut 6 % of the time
    assert g(10, 0, 0, 1, 3600, 5).grade == "I"  # one brief tonic: not frequent
    assert g(0, 0, 0, 0, 3600, 0).grade is None


def test_rate_ratio_and_union():
    est, lo, hi = rate_ratio(10, 3600, 10, 3600)
    assert est == 1.0 and lo < 1.0 < hi
    est, lo, hi = rate_ratio(2, 3600, 20, 3600)
    assert est == pytest.approx(0.1) and hi < 1.0  # a clear drop
    assert rate_ratio(0, 3600, 0, 3600) is None
    assert math.isinf(rate_ratio(3, 3600, 0, 3600)[0])
    assert aggregate.union_seconds([(0, 2), (1, 3), (5, 6)]) == 4.0


def test_periods_split_at_treatments():
    def rec(day: int) -> Recording:
        return Recording(f"d{day}", {}, [], start=datetime(2026, 1, day, 12, tzinfo=UTC))

    t1 = Treatment(datetime(2026, 1, 10, tzinfo=UTC), "A", day_only=True)
    t2 = Treatment(datetime(2026, 1, 20, 9, tzinfo=UTC), "B")
    ps = aggregate.periods(
        [rec(d) for d in (5, 10, 11, 20, 25)] + [Recording("x", {}, [])], [t2, t1]
    )
    assert [(p.label, [r.name for r in p.recordings]) for p in ps] == [
        ("Before A", ["d5", "d10"]),  # the day of a date-only treatment counts as before
        ("After A, before B", ["d11"]),
        ("After B", ["d20", "d25"]),
    ]
