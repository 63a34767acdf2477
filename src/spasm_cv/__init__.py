"""spasm-cv: measure hemifacial spasm from face video.

Data flow: ``video -> landmarks -> signals -> events -> results -> report / export`` (see
ARCHITECTURE.md for the layers).

>>> import spasm_cv
>>> result = spasm_cv.load("sample_phantom.spasm-cv")  # a result folder of `spasm-cv analyze`
>>> result.summary["episodes"]["total"]["per_hour"]
480.0
>>> result.episodes.shape[0], result.signals.attrs["fps"]
(8, 25.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spasm_cv._version import __version__

# Public names, imported on first use: worker processes and the command line load only the
# stages they run (scipy alone takes a second to import).
_EXPORTS = {
    "Result": "spasm_cv.api",
    "load": "spasm_cv.api",
    "Detection": "spasm_cv.events.detect",
    "detect": "spasm_cv.events.detect",
    "DetectionParams": "spasm_cv.events.params",
    "Event": "spasm_cv.events.table",
    "Analysis": "spasm_cv.pipeline",
    "analyze_video": "spasm_cv.pipeline",
    "extract_signals": "spasm_cv.pipeline",
    "rate_ratio": "spasm_cv.results.rates",
    "poisson_ci": "spasm_cv.results.rates",
    "Recording": "spasm_cv.results.recording",
    "Deidentify": "spasm_cv.results.deidentify",
    "Summary": "spasm_cv.results.summary",
    "read_signals": "spasm_cv.results.files",
    "Signals": "spasm_cv.signals.table",
    "to_mne_annotations": "spasm_cv.export.annotations",
    "to_bids": "spasm_cv.export.bids_dataset",
    "load_db": "spasm_cv.live.dataframes",
}

__all__ = [
    "Analysis",
    "Deidentify",
    "Detection",
    "DetectionParams",
    "Event",
    "Recording",
    "Result",
    "Signals",
    "Summary",
    "__version__",
    "analyze_video",
    "detect",
    "extract_signals",
    "load",
    "load_db",
    "poisson_ci",
    "rate_ratio",
    "read_signals",
    "to_bids",
    "to_mne_annotations",
]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'spasm_cv' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:
    from spasm_cv.api import Result, load
    from spasm_cv.events.detect import Detection, detect
    from spasm_cv.events.params import DetectionParams
    from spasm_cv.events.table import Event
    from spasm_cv.export.annotations import to_mne_annotations
    from spasm_cv.export.bids_dataset import to_bids
    from spasm_cv.live.dataframes import load_db
    from spasm_cv.pipeline import Analysis, analyze_video, extract_signals
    from spasm_cv.results.files import read_signals
    from spasm_cv.results.rates import poisson_ci, rate_ratio
    from spasm_cv.results.recording import Recording
    from spasm_cv.results.summary import Summary
    from spasm_cv.signals.table import Signals
