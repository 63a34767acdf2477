"""How much the data can say: no rate or grade from too little observed time, anywhere.

The thresholds (spasm_cv.results.observation) are checked where each consumer shows a
number: the terminal summary, summary.json (a flag per rate), the report's cards, tables,
grades and rate plots (rendered in real headless Chromium and read back: no bold rate or
grade), and the report's other fixes (``--treatment`` before folders, the monitor
report's Methods).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from test_report import (
    CHROMIUM_FLAGS,
    assert_numbers_match,
    page_requests,
    parse_page,
    run_chromium,
    synthetic_recording,
)

from spasm_cv.cli import build_parser, main, print_summary
from spasm_cv.events.activity import Activity
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.table import Event
from spasm_cv.report import plots, scales
from spasm_cv.report.aggregate import RateRow
from spasm_cv.report.html import build_html
from spasm_cv.results.files import read_events, read_signals_table, write_events, write_signals
from spasm_cv.results.observation import (
    DEFAULT_THRESHOLDS,
    INSUFFICIENT,
    ObservationThresholds,
    observation_record,
)
from spasm_cv.results.pooled import pool
from spasm_cv.results.recording import Recording
from spasm_cv.results.summary import Summary, coverage
from spasm_cv.results.track import Track

UTC = timezone.utc
SIDES = ("right", "left")


def _activity(seconds: float, fps: float = 25.0) -> Activity:
    n = max(int(round(seconds * fps)), 1)
    t = np.arange(n) / fps
    return Activity.of(t, {s: np.ones(n, bool) for s in SIDES})


def _tonic(onset: float, side: str = "right") -> Event:
    return Event(onset, 1.2, "spasm", side, "tonic", "eye", 1, 0.9, 1.1, False, False, 0.9)


def _summary(seconds: float, events: list[Event], fps: float = 25.0) -> Summary:
    return Summary(
        schema_version="1.0",
        software={"name": "spasm-cv", "version": "0.1.0"},
        model={"name": "face_landmarker float16 v1", "sha256": "0" * 64},
        input={"name": f"clip-{seconds:g}s.mp4"},
        complete=True,
        fps=fps,
        duration_s=seconds,
        frames=int(seconds * fps),
        quality={"multi_face_frames": 0, "truncated": False},
        params=DetectionParams().to_dict(),
        recorded_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC).isoformat(),
        observed_fraction=1.0,
        recorded_at_source="given",
        **Summary.numbers(events, coverage(_activity(seconds, fps), fps)),
    )


# ---------------------------------------------------------------------------- the rule


def test_thresholds_are_validated():
    t = ObservationThresholds()
    assert (t.rate_min_observed_s, t.grade_min_observed_s, t.grade_min_episodes) == (600, 1800, 5)
    for bad in (
        {"rate_min_observed_s": 0},
        {"rate_min_observed_s": -5.0},
        {"rate_min_observed_s": float("nan")},
        {"grade_min_observed_s": float("inf")},
        {"rate_min_observed_s": "600"},
        {"grade_min_episodes": 0},
        {"grade_min_episodes": 2.5},
        {"grade_min_episodes": True},
        {"rate_min_observed_s": 900.0, "grade_min_observed_s": 600.0},  # grade below rate
    ):
        with pytest.raises(ValueError):
            ObservationThresholds(**bad)
    assert t.rates_insufficient(599.9) and not t.rates_insufficient(600.0)
    assert t.frequency_grade_insufficient(1799.0) and not t.frequency_grade_insufficient(1800.0)
    assert t.pattern_grade_insufficient(3600.0, 4) and not t.pattern_grade_insufficient(3600.0, 5)
    assert t.rate_shortfall(1.3) == "1.3 s observed; a rate needs at least 10 min"


# ---------------------------------------------------------------------------- summary.json


def _rates(d: dict) -> list[dict]:
    """Every rate dict (with per_hour or per_minute) in a summary.json."""
    out = []
    if isinstance(d, dict):
        if "per_hour" in d or "per_minute" in d:
            out.append(d)
        for v in d.values():
            out += _rates(v)
    return out


def test_summary_json_flags_every_rate_of_a_short_recording():
    short = _summary(1.3, [_tonic(0.05)]).to_dict()
    rates = _rates(short)
    # total, sides, kinds, side x kind, mouth-only and possible per side, blinks
    assert len(rates) == 1 + 2 + 3 + 6 + 2 + 2 + 1
    assert all(r["insufficient_observation"] is True for r in rates)
    assert short["episodes"]["total"]["per_hour"] == pytest.approx(3600 / short["observed_s"])
    assert short["observation"] == {
        "rate_min_observed_s": 600.0,
        "grade_min_observed_s": 1800.0,
        "grade_min_episodes": 5,
        "insufficient_for_rates": True,
        "insufficient_for_grades": {"jankovic_frequency": True, "smc": True},
    }
    long = _summary(3600.0, [_tonic(60.0 * i) for i in range(6)]).to_dict()
    assert all(r["insufficient_observation"] is False for r in _rates(long))
    assert long["observation"]["insufficient_for_grades"] == {
        "jankovic_frequency": False,
        "smc": False,
    }
    # derived, never carried over from a file: a stale record is replaced on writing
    stale = dict(long, observation={"insufficient_for_rates": "stale"})
    assert Summary.from_dict(stale).to_dict()["observation"] == long["observation"]
    # the pooled numbers carry the same flags
    pooled = pool([_summary(1.3, [_tonic(0.05)]), _summary(30.0, [])]).to_dict()
    assert pooled["observation"]["insufficient_for_rates"]
    assert all(r["insufficient_observation"] for r in _rates(pooled))
    assert observation_record(1800.0, 5)["insufficient_for_grades"]["smc"] is False


def test_terminal_prints_counts_not_rates_below_the_threshold():
    out = io.StringIO()
    print_summary(_summary(1.3, [_tonic(0.05)]), None, file=out)
    text = out.getvalue()
    assert "/h" not in text and "/min" not in text and "CI" not in text
    assert f"{INSUFFICIENT} for rates and grades" in text
    assert "one-sided episodes: 1  (rate: insufficient observation)" in text
    out = io.StringIO()
    print_summary(_summary(3600.0, [_tonic(60.0 * i) for i in range(6)]), None, file=out)
    assert "6.0/h" in out.getvalue() and INSUFFICIENT not in out.getvalue()


def test_no_grade_from_too_little_observation():
    j = scales.jankovic_frequency(1, 1.3, 1.2, (69.0, 15195.4))
    assert j.grade is None and j.insufficient and j.meaning == INSUFFICIENT
    assert "1.3 s observed" in j.evidence and "30 min" in j.evidence
    s = scales.smc_grade(1, 0, 0, 1, 1.3, 1.1)  # the 1.3 s tonic episode: no "III"
    assert s.grade is None and s.insufficient
    s = scales.smc_grade(3, 0, 0, 3, 7200.0, 100.0)  # long enough, too few events
    assert s.grade is None and s.insufficient and "3 events" in s.evidence
    assert scales.smc_grade(10, 0, 0, 10, 7200.0, 500.0).grade == "III"
    lenient = ObservationThresholds(60.0, 60.0, 1)
    assert scales.jankovic_frequency(1, 100.0, 1.0, thresholds=lenient).grade == "2"


# ---------------------------------------------------------------------------- the report


def short_result(src: Path, dst: Path, start: float, end: float, when: datetime,
                 source: str = "given") -> Path:  # fmt: skip
    """A copy of a result folder cut to ``[start, end)`` s, its summary recomputed."""
    shutil.copytree(src, dst)
    table = read_signals_table(src)
    sel = (table["time"] >= start) & (table["time"] < end)
    table = {k: v[sel] for k, v in table.items()}
    table["time"] = table["time"] - start
    write_signals(dst / "signals.csv.gz", Track.from_table(table))
    events = [replace(e, onset=e.onset - start) for e in read_events(src)
              if start <= e.onset and e.end <= end]  # fmt: skip
    write_events(dst / "events.tsv", events)
    activity = Activity.of(
        table["time"],
        {s: table[f"measurable_{s}"] > 0 for s in SIDES},
        *({s: table[f"{c}_{s}"] for s in SIDES} for c in ("closure", "mouth_pull", "brow_lift")),
    )
    summary = Summary.from_dict(json.loads((src / "summary.json").read_text()))
    summary = replace(
        summary,
        recorded_at=when.isoformat(),
        recorded_at_source=source,
        duration_s=end - start,
        **Summary.numbers(events, coverage(activity, summary.fps)),
    )
    (dst / "summary.json").write_text(json.dumps(summary.to_dict()))
    return dst


BOLD_PROBE = """<script>
const out = [];
const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walk.nextNode()) {
  const n = walk.currentNode, el = n.parentElement, text = n.textContent.trim();
  if (!text || !/\\d/.test(text)) continue;
  const w = parseInt(getComputedStyle(el).fontWeight, 10);
  const key = el.closest('[data-key]');
  out.push([text, w, key ? key.dataset.key : '', !!el.closest('.grade')]);
}
const grades = [...document.querySelectorAll('.grade')].map(g =>
  [g.textContent.trim(), parseInt(getComputedStyle(g).fontWeight, 10)]);
document.title = JSON.stringify({numbers: out, grades: grades});
</script>"""


def bold_numbers(chromium: str, page: Path, tmp: Path) -> dict:
    """The page's numbers as Chromium renders them: text, weight, data-key, in a grade."""
    probe = page.with_name("probe-" + page.name)
    probe.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text()).replace(
            "</body>", BOLD_PROBE + "</body>"
        )
    )
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'probe-profile'}", "--dump-dom",
         "--virtual-time-budget=3000", probe.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    title = re.search(r"<title>(.*?)</title>", dom, re.S)[1]
    return json.loads(title.replace("&quot;", '"').replace("&amp;", "&"))


def is_rate_key(key: str) -> bool:
    return any(k in key for k in ("per_hour", "per_minute", "ci95"))


def test_long_recordings_show_bold_rates_and_grades(chromium, tmp_path):
    """The probe below sees bold rates and grades where there is enough observation."""
    start = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    recs = [
        synthetic_recording("s1", start, [60.0 * i for i in range(40)], minutes=60),
        synthetic_recording("s2", start + timedelta(days=1), [90.0 * i for i in range(20)],
                            minutes=40, kind="tonic"),
    ]  # fmt: skip
    page = tmp_path / "long.html"
    page.write_text(build_html(recs, "long", tz=UTC))
    seen = bold_numbers(chromium, page, tmp_path)
    assert any(w >= 600 and is_rate_key(k) for _, w, k, _ in seen["numbers"])
    assert all(w >= 600 and INSUFFICIENT not in t for t, w in seen["grades"])
    assert f">{INSUFFICIENT}<" not in page.read_text()


def test_short_recordings_get_no_bold_rate_or_grade(sample_result, chromium, tmp_path, capsys):
    """The issue's report: three recordings, 73 s observed, one of them a 1.3 s tonic clip.

    The treatment comes before the folders (``--treatment DATE:LABEL RESULT...``).
    """
    base = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
    tonic = next(e for e in read_events(sample_result) if e.kind == "tonic")
    folders = [
        short_result(sample_result, tmp_path / "v1", 0.0, 60.0, base, "file_mtime"),
        short_result(sample_result, tmp_path / "v2", tonic.onset - 0.05, tonic.end + 0.05,
                     base + timedelta(days=14)),
        short_result(sample_result, tmp_path / "v3", 0.0, 12.0, base + timedelta(days=28)),
    ]  # fmt: skip
    short = Recording.from_folder(folders[1])
    assert short.summary.observed_s < 2.0 and len(short.episodes) == 1
    out = tmp_path / "short.html"
    rc = main(["report", "--treatment", "2026-02-09:BoNT-A", *map(str, folders),
               "--out", str(out)])  # fmt: skip
    assert rc == 0 and "3 recordings" in capsys.readouterr().out
    text = out.read_text()
    page = parse_page(text)
    pooled = pool([Recording.from_folder(f).summary for f in folders])
    keys = assert_numbers_match(page, pooled.to_dict())  # counts are still numbers
    assert "episodes.total.count" in keys
    assert not any(is_rate_key(k) for k in keys)  # no rate anywhere as a number
    assert page.grades == ["—", "—"]
    assert text.count(f">{INSUFFICIENT}<") >= 4  # two cards, two grades
    assert "Before BoNT-A" in text and "After BoNT-A" in text  # the treatment was a treatment
    assert "n/a (insufficient observation)" in text  # no rate ratio between short periods
    assert text.count('data-short="1"') == 3  # every recording marked short in the table
    assert "Dates guessed" in text  # v1's date is a guess: the before/after split may be wrong
    # the daily plot is not scaled by the 1.3 s clip (2769/h): see test_rate_plot_...
    seen = bold_numbers(chromium, out, tmp_path)
    bold = [(t, k) for t, w, k, _ in seen["numbers"] if w >= 600]
    assert not [b for b in bold if is_rate_key(b[1])], bold
    assert not re.search(r"\d+(\.\d+)?\s*/\s*(h|min)\b", " ".join(t for t, _ in bold)), bold
    assert seen["grades"] == [[INSUFFICIENT, 400], [INSUFFICIENT, 400]]
    pdf = f"--print-to-pdf={tmp_path / 'x.pdf'}"
    assert page_requests(run_chromium(chromium, out, tmp_path, pdf)) == []


def test_rate_plot_is_not_rescaled_by_a_short_recording():
    long_days = [RateRow(datetime(2026, 3, d).date(), 3600.0, {"right": 10 + d, "left": 0})
                 for d in range(1, 5)]  # fmt: skip
    short_day = RateRow(datetime(2026, 3, 6).date(), 1.3, {"right": 1, "left": 0})  # 2769/h
    fig = plots.plot_daily_rates([*long_days, short_day], [])
    ax = fig.axes[0]
    top = ax.get_ylim()[1]
    assert 14 * 1.5 <= top < 100  # scaled by the reliable days (at most 14/h), not by 2769/h
    arrows = [ln for ln in ax.lines if ln.get_marker() == "^" and len(ln.get_xdata())]
    assert len(arrows) == 1 and arrows[0].get_ydata()[0] == pytest.approx(top)  # marked
    assert any(t.get_text() == "2769/h" for t in ax.texts)
    hollow = [c for c in ax.containers if c.lines[0].get_markerfacecolor() == "white"]
    assert hollow  # the short day is drawn hollow
    fig = plots.plot_rate_by_hour_of_day(
        [RateRow(9, 3600.0, {"right": 12, "left": 0}), RateRow(10, 1.3, {"right": 1, "left": 0})]
    )
    assert fig.axes[0].get_ylim()[1] < 100


def test_treatments_and_folders_in_any_order(tmp_path):
    p = build_parser()
    for argv in (
        ["report", "--treatment", "2026-03-02:BoNT-A", "v1", "v2"],
        ["report", "v1", "--treatment", "2026-03-02:BoNT-A", "v2"],
        ["report", "v1", "v2", "--treatment", "2026-03-02:BoNT-A"],
    ):
        args = p.parse_args(argv)
        assert [*args.results, *getattr(args, "results_after_treatments", [])] == ["v1", "v2"]
        assert [t.label for t in args.treatment] == ["BoNT-A"]
    args = p.parse_args(["report", "--treatment", "2026-03-02:A", "2026-05-02:B 25 U", "v1"])
    assert [t.label for t in args.treatment] == ["A", "B 25 U"]
    assert args.results_after_treatments == ["v1"]
    dated = tmp_path / "2026-03-02"  # a folder named like a date is a folder
    dated.mkdir()
    args = p.parse_args(["report", "--treatment", "2026-01-02:A", str(dated)])
    assert args.results_after_treatments == [str(dated)] and len(args.treatment) == 1
    with pytest.raises(SystemExit):  # a date that is not one is an error, not a folder
        p.parse_args(["report", "--treatment", "2026-01-02:A", "2026-13-45:B"])


def test_monitor_report_methods_do_not_mention_files(tmp_path):
    start = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    recs = [synthetic_recording("s1", start, [60.0 * i for i in range(30)], minutes=60)]
    methods = re.search(r'<p class="methods">(.*?)</p>', build_html(recs, "m", tz=UTC), re.S)[1]
    assert "summary.json" not in methods and "ELAN" not in methods
    assert "monitoring computer's clock" in methods and "--save-clips" in methods
    assert "10 min" in methods and "30 min" in methods  # the thresholds are stated


def test_thresholds_reach_the_report():
    start = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    rec = synthetic_recording("s1", start, [60.0 * i for i in range(8)], minutes=15)
    page = build_html([rec], "x", tz=UTC)
    assert INSUFFICIENT not in page.split("Suggested clinical")[0]
    grades = parse_page(page).grades
    assert grades == ["—", "—"]  # 15 min: rates yes, grades no
    strict = ObservationThresholds(rate_min_observed_s=3600.0, grade_min_observed_s=3600.0)
    text = build_html([rec], "x", tz=UTC, thresholds=strict)
    assert f">{INSUFFICIENT}<" in text.split("Suggested clinical")[0]
    assert DEFAULT_THRESHOLDS.rate_min_observed_s == 600.0
