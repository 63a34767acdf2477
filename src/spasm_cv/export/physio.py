"""Per-frame signals as a BIDS continuous recording (``_physio.tsv.gz`` + ``_physio.json``).

BIDS continuous recordings have no header line: the sidecar names the columns (``Columns``)
and gives ``SamplingFrequency`` (the video's nominal frame rate) and ``StartTime`` (s, the
first frame's time relative to the events' zero). Every column is described in the sidecar
(``Description``, ``Units``): the columns of signals.csv.gz are described here by name, and a
column this module does not know (a new measurement) by the pattern of its name, so new
signals flow through with a generic description.

Values follow the TSV conventions of the whole BIDS export: ``n/a`` for missing, ``yes``/
``no`` for booleans (``measurable_*``), numbers with 6 significant digits. The gzip header
carries no file name and no time stamp (the validator's privacy checks).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from spasm_cv.events.table import SIDES
from spasm_cv.results.atomic import published
from spasm_cv.results.files import open_gzip_text
from spasm_cv.results.frames import BOOLEAN_SIGNALS

IOD = "IOD (distance between the outer eye corners)"

_EXACT: dict[str, dict[str, str]] = {
    "time": {"Description": "Time of the video frame from the start of the video.", "Units": "s"},
    "quality": {
        "Description": "Frame quality: ok, or flags joined by '+': no_face (no face found), "
        "pose_<side> (that side turned away beyond max_yaw_deg/max_pitch_deg), multi_face "
        "(several faces in view; the largest is followed), corrupt (the frame's data is "
        "damaged: not decoded, not observed), frozen (a frozen image: not observed), and any "
        "newer flags "
        "(e.g. occluded_<side>, warmup_<side>).",
    },
    "n_faces": {"Description": "Faces the detector counted in the frame (checked once a second)."},
    "yaw": {"Description": "Head yaw (turn left/right) from the face mesh.", "Units": "deg"},
    "pitch": {"Description": "Head pitch (nod up/down) from the face mesh.", "Units": "deg"},
    "roll": {"Description": "Head roll (tilt) from the face mesh.", "Units": "deg"},
}

# name pattern (with <side>) -> (description, units or None)
_SIDED: dict[str, tuple[str, str | None]] = {
    "measurable": ("The <side> side could be measured (face found, head pose within range): "
                   "yes/no.", None),
    "closure": ("<side> eyelid closure relative to that eye's own open baseline: 0 open as "
                "usual, 1 shut.", "fraction of baseline aperture"),
    "mouth_pull": ("<side> mouth corner pulled up/outwards relative to its rolling median.",
                   IOD),
    "brow_lift": ("<side> brow raised relative to its rolling median.", IOD),
    "eye_aperture": ("<side> eyelid aperture: mean of three upper-to-lower lid distances.", IOD),
    "mouth_x": ("<side> mouth corner, horizontal position in the face-fixed frame.", IOD),
    "mouth_y": ("<side> mouth corner, vertical position in the face-fixed frame.", IOD),
    "brow_y": ("<side> brow, vertical position in the face-fixed frame.", IOD),
    "cheek_y": ("<side> cheek, vertical position in the face-fixed frame.", IOD),
}  # fmt: skip
_SIDE = re.compile(rf"^(?P<name>.+)_(?P<side>{'|'.join(SIDES)})$")


def describe_column(column: str) -> dict[str, str]:
    """The physio sidecar's entry for a per-frame column (``Description``, maybe ``Units``).

    Parameters
    ----------
    column : str
        A column of signals.csv.gz.

    Returns
    -------
    dict
        ``{"Description": ..., "Units": ...}``; a column not known by name gets a generic
        description from the pattern of its name (``bs_*``: a MediaPipe blendshape score,
        ``*_<side>``: a per-side measurement).

    Examples
    --------
    >>> describe_column("closure_right")["Units"]
    'fraction of baseline aperture'
    >>> describe_column("bs_eyeBlink_left")["Description"]
    "MediaPipe Face Landmarker blendshape score 'eyeBlink' of the patient's left side, 0-1."
    """
    if column in _EXACT:
        return dict(_EXACT[column])
    m = _SIDE.match(column)
    if column.startswith("bs_"):
        name, side = (m["name"][3:], m["side"]) if m else (column[3:], None)
        where = f" of the patient's {side} side" if side else ""
        return {
            "Description": f"MediaPipe Face Landmarker blendshape score {name!r}{where}, 0-1.",
            "Units": "arbitrary",
        }
    if m and m["name"] in _SIDED:
        text, units = _SIDED[m["name"]]
        entry = {"Description": text.replace("<side>", f"Patient's {m['side']}")}
        if units:
            entry["Units"] = units
        return entry
    where = f" (patient's {m['side']} side)" if m else ""
    return {"Description": f"Per-frame measurement {column!r}{where}; see the spasm-cv README."}


def physio_sidecar(table: Mapping[str, np.ndarray], fps: float) -> dict:
    """The ``_physio.json`` of a signals table: rate, start, columns and their meaning.

    Parameters
    ----------
    table : mapping of str to array
        Per-frame columns (``time`` first or anywhere), as in signals.csv.gz.
    fps : float
        The video's nominal frame rate (Hz).

    Returns
    -------
    dict
        ``SamplingFrequency``, ``StartTime``, ``Columns`` and one entry per column.

    Examples
    --------
    >>> import numpy as np
    >>> meta = physio_sidecar({"time": np.array([0.0, 0.04]), "yaw": np.zeros(2)}, 25.0)
    >>> meta["SamplingFrequency"], meta["StartTime"], meta["Columns"]
    (25.0, 0.0, ['time', 'yaw'])
    """
    columns = list(table)
    start = float(table["time"][0]) if len(table["time"]) else 0.0
    meta: dict = {"SamplingFrequency": float(fps), "StartTime": start, "Columns": columns}
    for c in columns:
        meta[c] = describe_column(c)
    return meta


def _cell(value, boolean: bool) -> str:
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "n/a"
        if boolean:
            return "yes" if value else "no"
        return f"{value:.6g}"
    if isinstance(value, (bool, np.bool_)) or boolean:
        return "yes" if value else "no"
    return str(value) if str(value) != "" else "n/a"


def write_physio(path: str | Path, table: Mapping[str, np.ndarray]) -> Path:
    """Write the per-frame columns as a headerless, gzipped BIDS TSV (atomically).

    Parameters
    ----------
    path : str or path
        The ``..._physio.tsv.gz`` to write.
    table : mapping of str to array
        Per-frame columns, written in their order (the sidecar's ``Columns``).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import gzip, numpy as np
    >>> path = write_physio("x_physio.tsv.gz", {"time": np.array([0.0, 0.04]),
    ...                     "measurable_right": np.array([1, 0]), "yaw": np.array([1.5, np.nan])})
    >>> print(gzip.decompress(path.read_bytes()).decode(), end="")
    0	yes	1.5
    0.04	no	n/a
    """
    names = list(table)
    cols = [np.asarray(table[c]) for c in names]
    flags = [c in BOOLEAN_SIGNALS for c in names]
    buf = io.StringIO()
    for i in range(len(cols[0]) if cols else 0):
        buf.write("\t".join(_cell(col[i], b) for col, b in zip(cols, flags, strict=True)))
        buf.write("\n")
    out = Path(path)
    # no file name and time 0 in the gzip header: nothing about where or when it was made
    with published(out) as done, open_gzip_text(done.tmp) as gz:
        gz.write(buf.getvalue())
    return done.path
