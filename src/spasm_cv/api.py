"""``spasm_cv.load``: a result folder as pandas DataFrames, for analysis in Python.

>>> import spasm_cv
>>> result = spasm_cv.load("sample_phantom.spasm-cv")
>>> result.episodes.groupby(["side", "kind"]).size().to_dict()
{('right', 'clonic'): 2, ('right', 'tonic'): 1, ('right', 'twitch'): 5}
>>> result.signals[["closure_right", "closure_left"]].plot()  # doctest: +SKIP
"""

from __future__ import annotations

import os

from spasm_cv.results.recording import Recording
from spasm_cv.results.result import Result

__all__ = ["Result", "load"]


def load(
    result_dir: str | os.PathLike, min_confidence: float | None = None, count: str = "sure"
) -> Result:
    """Load a result folder as pandas DataFrames.

    Parameters
    ----------
    result_dir : str or path
        A result folder written by ``spasm-cv analyze`` (or ``analyze_video``).
    min_confidence : float, optional
        Keep only the one-sided events with at least this ``confidence`` (0-1; on people
        the detector was not tuned on, episodes at 0.8 or more were real at least 95 % of
        the time); counts and rates are recomputed over the same observed time.
    count : {"sure", "possible"}
        ``possible`` also counts the ``possible_spasm`` events (one-sided eye episodes the
        detector could not be sure of: the other eye moved too, or the eye was barely open)
        as episodes; by default they are listed in the events but not counted.

    Returns
    -------
    Result
        Its events, episodes and (read on first use) signals as DataFrames, its summary and
        headline numbers. ``analyze_video(...).result`` gives the same without a folder.

    Raises
    ------
    SpasmCvError
        The folder is missing or damaged (one clear line).

    Examples
    --------
    >>> import spasm_cv
    >>> result = spasm_cv.load("sample_phantom.spasm-cv")
    >>> result.events.dtypes[["onset", "kind", "brow_raised"]].astype(str).tolist()
    ['float64', 'string', 'boolean']
    >>> result.signals.index.name, result.signals.attrs["fps"]
    ('time', 25.0)
    >>> result.summary["episodes"]["by_side"]["right"]["count"]
    8
    """
    rec = Recording.from_folder(result_dir, with_signals=False).counted(count)
    return Result(rec if min_confidence is None else rec.with_min_confidence(min_confidence))
