"""spasm-cv: measure hemifacial spasm from face video.

Data flow: ``video -> landmarks -> signals -> events -> report``.

>>> import spasm_cv
>>> result = spasm_cv.analyze_video("sample_videos/sample_phantom.mp4")  # doctest: +SKIP
>>> result.summary["episodes"]["total"]["per_hour"]  # doctest: +SKIP
"""

__version__ = "0.1.0"

from spasm_cv.api import Result, load  # noqa: E402
from spasm_cv.events.detect import Detection, detect  # noqa: E402
from spasm_cv.events.params import DetectionParams  # noqa: E402
from spasm_cv.events.table import Event  # noqa: E402
from spasm_cv.pipeline import Analysis, analyze_video, extract_signals  # noqa: E402
from spasm_cv.report.aggregate import rate_ratio  # noqa: E402
from spasm_cv.report.summary import poisson_ci  # noqa: E402
from spasm_cv.results.files import read_signals  # noqa: E402
from spasm_cv.signals.table import Signals  # noqa: E402

__all__ = [
    "Analysis",
    "Detection",
    "DetectionParams",
    "Event",
    "Result",
    "Signals",
    "__version__",
    "analyze_video",
    "detect",
    "extract_signals",
    "load",
    "poisson_ci",
    "rate_ratio",
    "read_signals",
]
