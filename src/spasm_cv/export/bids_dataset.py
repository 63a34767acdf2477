"""A BIDS dataset of analysed recordings: new, or appended to an existing one.

Layout (BIDS ``beh`` datatype: behaviour without neural recordings)::

    dataset_description.json      Name, BIDSVersion, DatasetType, GeneratedBy (software,
                                  version, model, detection parameters)
    README.md                     what the dataset holds (written only if there is no README)
    participants.tsv              participant_id (a row added for a new subject)
    sub-<S>/[ses-<X>/]
        sub-<S>[_ses-<X>]_scans.tsv         filename, acq_time (UTC) per run
        beh/sub-<S>[_ses-<X>]_task-<T>_run-<n>_events.tsv/.json    the events
        beh/sub-<S>[_ses-<X>]_task-<T>_run-<n>_physio.tsv.gz/.json per-frame signals

Runs are numbered by recording time (the earliest first); a recording appended to an
existing dataset takes the next free run number, so no existing file is renamed or replaced.
A recording already in the dataset (the same events at the same ``acq_time``) is skipped.
One export writes into a dataset at a time (:mod:`spasm_cv.export.bids_lock`; a second one
meanwhile is refused). Files of the dataset that spasm-cv did not write are never changed,
except that rows are added to ``participants.tsv`` and ``scans.tsv`` and an entry to
``GeneratedBy``; every file is written atomically (:mod:`spasm_cv.results.atomic`).

The writer needs nothing but the :class:`~spasm_cv.results.recording.Recording`: its
events, signals, summary (fps, parameters, software) and start. It writes no file name or
path of the source, so a de-identified recording gives a de-identified dataset.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS
from spasm_cv.export.bids import bids_name, validate_events
from spasm_cv.export.bids_lock import LOCK_FILE, dataset_lock
from spasm_cv.export.bids_tsv import acq_time, append_rows, read_tsv
from spasm_cv.export.physio import physio_sidecar, write_physio
from spasm_cv.results.atomic import write_text_atomic
from spasm_cv.results.files import EVENT_COLUMNS, format_cell, read_track
from spasm_cv.results.recording import Recording

BIDS_VERSION = "1.10.0"
DATATYPE = "beh"
DEFAULT_TASK_DESCRIPTION = (
    "Face video of the patient at rest (no instruction recorded by spasm-cv), analysed for "
    "one-sided (hemifacial) contractions of the eyelid and mouth corner."
)
_DESCRIPTION = (
    "Face video -> MediaPipe Face Landmarker -> per-side eyelid, mouth-corner and brow "
    "signals -> one-sided contraction episodes and blinks."
)
_README = """\
# Face video measurements (spasm-cv)

This BIDS dataset was written by spasm-cv {version}: one run per analysed recording of a
face, in the `beh` datatype.

- `*_events.tsv` / `.json`: detected events (one-sided spasm episodes, blinks, bilateral
  closures), one row each, every column described in the sidecar.
- `*_physio.tsv.gz` / `.json`: the per-frame signals (eyelid closure, mouth-corner pull,
  brow lift, head pose, ...), one row per video frame at the sidecar's
  `SamplingFrequency`; columns and units are in the sidecar.
- `sub-*/**/*_scans.tsv`: when each run was recorded (`acq_time`, UTC).

TSV conventions (BIDS): `n/a` for a missing value, `yes`/`no` for booleans.
The software, its version and the detection parameters are in `dataset_description.json`
(`GeneratedBy`) and in each `*_events.json`.
"""


@dataclass
class BidsExport:
    """What :func:`write_dataset` did.

    Attributes
    ----------
    root : Path
        The dataset folder.
    written : list of Path
        Files created or extended, in the order written.
    runs : list of tuple
        ``(recording name, BIDS base name)`` of each run written.
    skipped : list of tuple
        ``(recording name, BIDS base name)`` of recordings already in the dataset.
    """

    root: Path
    written: list[Path] = field(default_factory=list)
    runs: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def generated_by(recording: Recording) -> dict:
    """The ``GeneratedBy`` entry of a recording: software, version, model and parameters.

    Parameters
    ----------
    recording : Recording
        An analysed recording.

    Returns
    -------
    dict
        ``Name``, ``Version``, ``Description`` (the model and the detection parameters in
        words, as BIDS has no field for parameters) and ``Parameters`` (name -> value).

    Examples
    --------
    >>> import spasm_cv
    >>> entry = generated_by(spasm_cv.load("sample_phantom.spasm-cv").recording)
    >>> entry["Name"], entry["Parameters"]["closure_on"]
    ('spasm-cv', 0.3)
    """
    s = recording.summary
    params = s.params.to_dict()
    model = s.model.get("name") or "unknown model"
    text = f"{_DESCRIPTION} Model: {model}. Detection parameters: " + ", ".join(
        f"{k}={v}" for k, v in params.items()
    )
    return {
        "Name": "spasm-cv",
        "Version": str(s.software.get("version") or "unknown"),
        "Description": text + ".",
        "Parameters": params,
    }


def write_dataset(
    recordings: Sequence[Recording],
    root: str | os.PathLike,
    *,
    subject: str = "01",
    session: str | None = None,
    task: str = "face",
    task_description: str = DEFAULT_TASK_DESCRIPTION,
    name: str = "spasm-cv face video measurements",
) -> BidsExport:
    """Write recordings as runs of one subject (and session) into a BIDS dataset.

    Parameters
    ----------
    recordings : sequence of Recording
        Analysed recordings (result folders, analyses in memory or monitor sessions); the
        per-frame signals of a result folder are read if the recording lacks them.
    root : str or path
        The dataset folder: new, empty, or an existing BIDS dataset to append to.
    subject, session, task : str
        BIDS labels (letters and digits); ``session`` None: no session level.
    task_description : str
        The sidecar's ``TaskDescription``.
    name : str
        ``Name`` in a new dataset_description.json.

    Returns
    -------
    BidsExport
        The files written, the runs and the recordings skipped (already in the dataset).

    Raises
    ------
    SpasmCvError
        A label is not alphanumeric, ``root`` holds files but is not a BIDS dataset, an
        existing dataset file is unreadable, or an events table is not described by its
        sidecar.

    Examples
    --------
    >>> import spasm_cv
    >>> done = write_dataset([spasm_cv.load("sample_phantom.spasm-cv").recording], "bids",
    ...                      subject="01", session="pre")
    >>> for path in done.written:
    ...     print(path.relative_to("bids").as_posix())
    dataset_description.json
    README.md
    sub-01/ses-pre/beh/sub-01_ses-pre_task-face_run-1_events.tsv
    sub-01/ses-pre/beh/sub-01_ses-pre_task-face_run-1_events.json
    sub-01/ses-pre/beh/sub-01_ses-pre_task-face_run-1_physio.tsv.gz
    sub-01/ses-pre/beh/sub-01_ses-pre_task-face_run-1_physio.json
    sub-01/ses-pre/sub-01_ses-pre_scans.tsv
    participants.tsv
    """
    bids_name(subject, task, session)  # checks the labels
    if not recordings:
        raise SpasmCvError("no recordings to write into a BIDS dataset")
    out = BidsExport(Path(root))
    root = out.root
    if root.exists() and not root.is_dir():
        raise SpasmCvError(f"BIDS dataset folder is a file: {root}")
    root.mkdir(parents=True, exist_ok=True)
    _check_root(root)  # before the lock file is made: a folder that is no dataset gets none
    with dataset_lock(root):
        _write_runs(recordings, root, subject, session, task, task_description, name, out)
    return out


def _write_runs(
    recordings: Sequence[Recording],
    root: Path,
    subject: str,
    session: str | None,
    task: str,
    task_description: str,
    name: str,
    out: BidsExport,
) -> None:
    """:func:`write_dataset`'s work, with the dataset locked."""
    _dataset_description(root, recordings, name, out)
    if not any(root.glob("README*")):
        readme = root / "README.md"
        version = recordings[0].summary.software.get("version") if recordings else "?"
        out.written.append(write_text_atomic(readme, _README.format(version=version)))
    session_dir = root / f"sub-{subject}" / (f"ses-{session}" if session else "")
    beh = session_dir / DATATYPE
    prefix = bids_name(subject, task, session)
    scans_name = f"sub-{subject}" + (f"_ses-{session}" if session else "") + "_scans.tsv"
    scans_path = session_dir / scans_name
    scans = read_tsv(scans_path)
    taken = _existing_runs(beh, prefix)
    next_run = max(taken, default=0) + 1
    order = sorted(recordings, key=lambda r: (r.start is None, r.start or 0, r.name))
    new_scans = []
    for rec in order:
        events_text = _events_tsv(rec)
        when = acq_time(rec.start)
        same = _same_run(beh, prefix, taken, events_text, when, scans)
        if same is not None:
            out.skipped.append((rec.name, same))
            continue
        base = f"{prefix}_run-{next_run}"
        next_run += 1
        beh.mkdir(parents=True, exist_ok=True)
        files = _write_run(rec, beh, base, events_text, task, task_description)
        out.written += files
        out.runs.append((rec.name, base))
        for f in files:
            if f.name.endswith((".tsv", ".tsv.gz")):
                new_scans.append({"filename": f"{DATATYPE}/{f.name}", "acq_time": when})
    if new_scans:
        out.written.append(append_rows(scans_path, ["filename", "acq_time"], new_scans))
        participants = root / "participants.tsv"
        rows = read_tsv(participants)
        if not any(r.get("participant_id") == f"sub-{subject}" for r in rows):
            row = {"participant_id": f"sub-{subject}"}
            out.written.append(append_rows(participants, ["participant_id"], [row]))


# ------------------------------------------------------------------------- helpers


def _check_root(root: Path) -> None:
    description = root / "dataset_description.json"
    entries = (p for p in root.iterdir() if p.name != LOCK_FILE)
    if any(entries) and not description.is_file():
        raise SpasmCvError(
            f"{root} holds files but is not a BIDS dataset (no dataset_description.json): "
            "give a new or empty folder, or an existing BIDS dataset to add to"
        )


def _dataset_description(
    root: Path, recordings: Sequence[Recording], name: str, out: BidsExport
) -> None:
    path = root / "dataset_description.json"
    entries = []
    for rec in recordings:
        entry = generated_by(rec)
        if entry not in entries:
            entries.append(entry)
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SpasmCvError(f"cannot read {path}: {exc}") from None
        if not isinstance(doc, dict):
            raise SpasmCvError(f"{path} is not a JSON object")
        have = doc.get("GeneratedBy") if isinstance(doc.get("GeneratedBy"), list) else []
        missing = [e for e in entries if e not in have]
        if not missing:
            return
        doc["GeneratedBy"] = [*have, *missing]  # every other key is kept as it was
    else:
        doc = {
            "Name": name,
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "GeneratedBy": entries,
        }
    out.written.append(write_text_atomic(path, json.dumps(doc, indent=2) + "\n", replace=True))


def _events_tsv(rec: Recording) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(EVENT_FIELDS)
    for e in sorted(rec.events, key=lambda e: (e.onset, e.duration)):
        w.writerow([format_cell(getattr(e, c)) for c in EVENT_FIELDS])
    return buf.getvalue()


def _events_sidecar(rec: Recording, task: str, task_description: str) -> dict:
    s = rec.summary
    return {
        "TaskName": task,
        "TaskDescription": task_description,
        **EVENT_COLUMNS,
        "SoftwareVersions": f"spasm-cv {s.software.get('version')}",
        "GeneratedBy": [generated_by(rec)],
    }


def _write_run(
    rec: Recording, beh: Path, base: str, events_text: str, task: str, task_description: str
) -> list[Path]:
    sidecar = _events_sidecar(rec, task, task_description)
    columns = {k: v for k, v in sidecar.items() if k in EVENT_COLUMNS}
    rows = list(csv.DictReader(io.StringIO(events_text), delimiter="\t"))
    problems = validate_events(list(EVENT_FIELDS), rows, columns)
    if problems:
        shown = "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" * (len(problems) > 5))
        raise SpasmCvError(f"events of {rec.name} are not valid BIDS: {shown}")
    written = []
    for path in (beh / f"{base}_events.tsv", beh / f"{base}_events.json"):
        if path.exists():  # run numbers are new: only a race could get here
            raise SpasmCvError(f"{path} exists already: not overwritten")
    written.append(write_text_atomic(beh / f"{base}_events.tsv", events_text))
    written.append(
        write_text_atomic(beh / f"{base}_events.json", json.dumps(sidecar, indent=2) + "\n")
    )
    fps = rec.summary.fps
    if rec.track is None and rec.source == "analyze" and rec.path:
        rec.track = read_track(rec.path)  # a result folder read without it
    if rec.track is not None and fps and len(rec.track):
        table = rec.track.to_table()  # the columns of signals.csv.gz, as BIDS physio
        written.append(write_physio(beh / f"{base}_physio.tsv.gz", table))
        meta = {"TaskName": task, "PhysioType": "generic", **physio_sidecar(table, fps)}
        written.append(
            write_text_atomic(beh / f"{base}_physio.json", json.dumps(meta, indent=2) + "\n")
        )
    return written


def _existing_runs(beh: Path, prefix: str) -> set[int]:
    pattern = re.compile(rf"^{re.escape(prefix)}_run-(\d+)_")
    runs = set()
    if beh.is_dir():
        for p in beh.iterdir():
            m = pattern.match(p.name)
            if m:
                runs.add(int(m.group(1)))
    return runs


def _same_run(
    beh: Path, prefix: str, runs: set[int], events_text: str, when: str, scans: list[dict]
) -> str | None:
    """The base name of an existing run holding these very events at the same time."""
    times = {r.get("filename"): r.get("acq_time") for r in scans}
    for run in sorted(runs):
        base = f"{prefix}_run-{run}"
        tsv = beh / f"{base}_events.tsv"
        try:
            same = tsv.read_text(encoding="utf-8") == events_text
        except (OSError, UnicodeDecodeError):
            continue
        if same and times.get(f"{DATATYPE}/{tsv.name}", "n/a") == when:
            return base
    return None


def to_bids(
    results: Sequence,
    root: str | os.PathLike,
    *,
    subject: str = "01",
    session: str | None = None,
    task: str = "face",
) -> BidsExport:
    """Write analysed recordings into a BIDS dataset (new, or appended to an existing one).

    Parameters
    ----------
    results : sequence of Result, Analysis, Recording, str or path
        What :func:`spasm_cv.load` or :func:`spasm_cv.analyze_video` returned, recordings, or
        result folders; their per-frame signals are written too where they have them.
    root : str or path
        The dataset folder: new, empty, or an existing BIDS dataset to add runs to.
    subject, session, task : str
        BIDS labels (letters and digits); ``session`` None: no session level.

    Returns
    -------
    BidsExport
        ``written`` (files created or extended), ``runs`` and ``skipped`` (recordings already
        in the dataset).

    Raises
    ------
    SpasmCvError
        A label is not alphanumeric, or ``root`` holds files but is not a BIDS dataset.

    Examples
    --------
    >>> import spasm_cv
    >>> done = spasm_cv.to_bids(["sample_phantom.spasm-cv"], "dataset", subject="P01")
    >>> done.runs
    [('sample_phantom.mp4', 'sub-P01_task-face_run-1')]
    >>> spasm_cv.to_bids(["sample_phantom.spasm-cv"], "dataset", subject="P01").skipped
    [('sample_phantom.mp4', 'sub-P01_task-face_run-1')]
    """
    from spasm_cv.export.annotations import as_recording

    recordings = [as_recording(r) for r in results]
    return write_dataset(recordings, root, subject=subject, session=session, task=task)
