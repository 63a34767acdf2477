"""``export --format bids``: a dataset the official BIDS validator accepts, read back with pandas.

The validator is ``bids-validator-deno`` (the package of the same name on PyPI runs offline;
it is in the ``test`` extra); its tests skip where it is not installed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE_RECORDED_AT
from helpers_monitor import write_session

from spasm_cv.cli import main
from spasm_cv.export.bids_dataset import write_dataset
from spasm_cv.results.files import read_events, read_signals_table
from spasm_cv.results.recording import Recording

VALIDATOR = shutil.which("bids-validator-deno")
# how BIDS TSV files read with pandas (README: "Reading the files with pandas")
BIDS_TSV = {"sep": "\t", "na_values": ["n/a"], "keep_default_na": False,
            "true_values": ["yes"], "false_values": ["no"]}  # fmt: skip


def validate(root: Path) -> list[dict]:
    """Issues of the official validator (errors and warnings) for the dataset at ``root``."""
    if VALIDATOR is None:
        pytest.skip("bids-validator-deno is not installed (pip install bids-validator-deno)")
    proc = subprocess.run(
        [VALIDATOR, str(root), "--format", "json", "--max-rows", "-1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout)["issues"]["issues"]


def errors(issues: list[dict]) -> list[str]:
    return [f"{i['code']} {i.get('location')} {i.get('issueMessage', '')[:200]}"
            for i in issues if i["severity"] == "error"]  # fmt: skip


def shifted(result: Path, where: Path, hours: float) -> Path:
    """A copy of a result folder recorded ``hours`` later (another recording of the day)."""
    copy = shutil.copytree(result, where)
    summary = json.loads((copy / "summary.json").read_text())
    start = datetime.fromisoformat(summary["recorded_at"]) + timedelta(hours=hours)
    summary["recorded_at"] = start.isoformat()
    (copy / "summary.json").write_text(json.dumps(summary))
    return copy


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def two_results(sample_result, tmp_path_factory) -> tuple[Path, Path]:
    """The sample at 09:30 and a copy recorded two hours earlier."""
    return sample_result, shifted(sample_result, tmp_path_factory.mktemp("r") / "early", -2)


def test_bids_dataset_is_valid_and_holds_events_and_signals(two_results, tmp_path, capsys):
    late, early = two_results
    root = tmp_path / "bids"
    args = ["export", str(late), str(early), "--format", "bids", "--out", str(root)]
    assert main([*args, "--subject", "07", "--session", "pre"]) == 0
    printed = capsys.readouterr().out.split()
    ses = root / "sub-07" / "ses-pre"
    beh = ses / "beh"
    assert sorted(p.name for p in beh.iterdir()) == sorted(
        f"sub-07_ses-pre_task-face_run-{n}_{kind}"
        for n in (1, 2)
        for kind in ("events.tsv", "events.json", "physio.tsv.gz", "physio.json")
    )
    assert str(beh / "sub-07_ses-pre_task-face_run-1_events.tsv") in printed

    issues = validate(root)
    assert errors(issues) == []
    codes = {i["code"] for i in issues}
    # nothing the privacy checks or the column checks warn about
    assert not codes & {
        "GZIP_HEADER_MTIME",
        "GZIP_HEADER_FILENAME",
        "TSV_ADDITIONAL_COLUMNS_UNDEFINED",
        "SIDECAR_KEY_REQUIRED",
    }

    # provenance: software, version, parameters
    description = json.loads((root / "dataset_description.json").read_text())
    summary = json.loads((late / "summary.json").read_text())
    (entry,) = description["GeneratedBy"]
    assert entry["Name"] == "spasm-cv"
    assert entry["Version"] == summary["software"]["version"]
    assert entry["Parameters"] == summary["params"]

    # runs are numbered by recording time, not by the order of the arguments
    scans = pd.read_csv(ses / "sub-07_ses-pre_scans.tsv", **BIDS_TSV)
    times = dict(zip(scans["filename"], scans["acq_time"], strict=True))
    assert times["beh/sub-07_ses-pre_task-face_run-1_events.tsv"] == "2026-01-05T07:30:00Z"
    assert times["beh/sub-07_ses-pre_task-face_run-2_events.tsv"] == "2026-01-05T09:30:00Z"
    assert SAMPLE_RECORDED_AT.strftime("%Y-%m-%dT%H:%M:%SZ") == "2026-01-05T09:30:00Z"

    # the events: the result's, every column described, TaskName given
    base = beh / "sub-07_ses-pre_task-face_run-2"
    events = pd.read_csv(f"{base}_events.tsv", **BIDS_TSV)
    native = read_events(late)
    assert events["onset"].tolist() == pytest.approx([e.onset for e in native], abs=1e-4)
    assert events["brow_raised"].dropna().isin([True, False]).all()
    sidecar = json.loads(Path(f"{base}_events.json").read_text())
    assert sidecar["TaskName"] == "face"
    assert all(sidecar[c]["Description"] for c in events.columns)

    # the signals: a headerless TSV named by the sidecar, one row per frame at the video's fps
    meta = json.loads(Path(f"{base}_physio.json").read_text())
    assert meta["SamplingFrequency"] == summary["fps"] and meta["StartTime"] == 0.0
    physio = pd.read_csv(f"{base}_physio.tsv.gz", header=None, names=meta["Columns"],
                         **BIDS_TSV)  # fmt: skip
    table = read_signals_table(late)
    assert list(physio.columns) == list(table)
    assert len(physio) == summary["frames"]
    assert physio["closure_right"].to_numpy() == pytest.approx(
        table["closure_right"], rel=1e-5, nan_ok=True
    )
    assert physio["measurable_right"].dtype == bool
    for column in meta["Columns"]:
        assert meta[column]["Description"], column
    with open(f"{base}_physio.tsv.gz", "rb") as f:
        head = f.read(10)
    assert head[3] & 0x08 == 0 and head[4:8] == b"\0\0\0\0"  # no file name, no time stamp
    assert gzip.decompress(Path(f"{base}_physio.tsv.gz").read_bytes()).count(b"\n") == len(physio)


def test_appending_adds_runs_and_changes_no_existing_file(two_results, tmp_path, capsys):
    late, early = two_results
    root = tmp_path / "bids"
    assert main(["export", str(late), "--format", "bids", "--out", str(root)]) == 0
    (root / "README.md").write_text("Our clinic's dataset.\n")  # the user's own files
    (root / "participants.tsv").write_text("participant_id\tage\nsub-01\t54\n")
    (root / "sourcedata").mkdir()
    (root / "sourcedata" / "notes.txt").write_text("user notes")
    before = digest(root)
    capsys.readouterr()

    # a second export, of an earlier recording: the next free run number
    assert main(["export", str(early), "--format", "bids", "--out", str(root)]) == 0
    after = digest(root)
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {"sub-01/sub-01_scans.tsv"}  # rows added, no file replaced
    assert "sub-01/beh/sub-01_task-face_run-2_events.tsv" in after
    scans = pd.read_csv(root / "sub-01" / "sub-01_scans.tsv", **BIDS_TSV)
    assert list(scans["acq_time"]) == ["2026-01-05T09:30:00Z"] * 2 + ["2026-01-05T07:30:00Z"] * 2
    participants = pd.read_csv(root / "participants.tsv", **BIDS_TSV)
    assert participants.to_dict("list") == {"participant_id": ["sub-01"], "age": [54]}

    # the same recording again: skipped, nothing written
    capsys.readouterr()
    assert main(["export", str(early), "--format", "bids", "--out", str(root)]) == 0
    assert "already in the dataset as sub-01_task-face_run-2" in capsys.readouterr().err
    assert digest(root) == after

    # another subject joins the dataset and participants.tsv
    assert main(["export", str(late), "--format", "bids", "--out", str(root),
                 "--subject", "02"]) == 0  # fmt: skip
    participants = pd.read_csv(root / "participants.tsv", **BIDS_TSV)
    assert list(participants["participant_id"]) == ["sub-01", "sub-02"]
    assert participants["age"].isna().tolist() == [False, True]
    assert errors(validate(root)) == []


def test_bids_refuses_a_folder_that_is_not_a_dataset(sample_result, tmp_path, capsys):
    (tmp_path / "thesis.docx").write_text("mine")
    assert main(["export", str(sample_result), "--format", "bids", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spasm-cv: error:") and "not a BIDS dataset" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"]
    assert main(["export", str(sample_result), "--format", "bids", "--out",
                 str(tmp_path / "x"), "--task", "rest-1"]) == 2  # fmt: skip
    assert "letters and digits" in capsys.readouterr().err


def test_bids_without_out_writes_a_new_bids_folder(sample_result, tmp_path, monkeypatch):
    # a new user's working folder holds their files: the dataset goes to ./bids, beside them
    (tmp_path / "thesis.docx").write_text("mine")
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(sample_result), "--format", "bids"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bids", "thesis.docx"]
    assert errors(validate(tmp_path / "bids")) == []


def test_bids_export_refuses_events_its_sidecar_does_not_describe(sample_result, tmp_path):
    from spasm_cv.errors import SpasmCvError
    from spasm_cv.export import bids_dataset

    rec = Recording.from_folder(sample_result)
    columns = dict(bids_dataset.EVENT_COLUMNS)
    del columns["regions"]
    bids_dataset.EVENT_COLUMNS = columns
    try:
        with pytest.raises(SpasmCvError, match="'regions' has no Description"):
            write_dataset([rec], tmp_path / "b")
    finally:
        from spasm_cv.results.files import EVENT_COLUMNS

        bids_dataset.EVENT_COLUMNS = EVENT_COLUMNS


def test_monitor_sessions_export_as_bids(sample_result, tmp_path, capsys):
    db = tmp_path / "m.sqlite"
    events = read_events(sample_result)
    write_session(db, events, datetime(2026, 1, 6, 8, 0, tzinfo=timezone.utc))
    early = [e for e in events if e.trial_type == "spasm"][:3]  # what the store keeps
    write_session(db, early, datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc))
    root = tmp_path / "bids"
    assert main(["export", "--db", str(db), "--format", "bids", "--out", str(root),
                 "--subject", "home"]) == 0  # fmt: skip
    beh = root / "sub-home" / "beh"
    assert sorted(p.name for p in beh.iterdir()) == [
        f"sub-home_task-face_run-{n}_events.{x}" for n in (1, 2) for x in ("json", "tsv")
    ]  # no per-frame signals are kept by the monitor
    run1 = pd.read_csv(beh / "sub-home_task-face_run-1_events.tsv", **BIDS_TSV)
    assert len(run1) == len(early) == 3  # the earlier session is run 1
    assert errors(validate(root)) == []
