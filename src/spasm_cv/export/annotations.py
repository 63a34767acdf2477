"""Events as MNE-Python annotations (``pip install "spasm-cv[mne]"``).

:func:`to_mne_annotations` turns a recording's events into :class:`mne.Annotations`: onsets
in seconds from the recording's start, ``orig_time`` the recording's wall-clock start (UTC),
descriptions as MNE's ``/``-separated tags (``spasm/right/clonic``, ``blink/both``) so that
``epochs["spasm/right"]`` selects every right-sided eye episode, and every other events.tsv
column in the annotations' ``extras``.

A one-sided mouth-corner pull with no eye closure (events.tsv ``trial_type`` ``spasm``,
``regions`` ``mouth``) is ``mouth_only/<side>[/kind]``, without the ``spasm`` tag: MNE selects
by tags (``epochs["spasm/right"]`` takes every description holding both ``spasm`` and
``right``, whatever else it holds), so ``spasm/right/mouth`` would still be averaged with the
eye episodes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS, FIELD_TYPES, Event
from spasm_cv.results.recording import Recording

if TYPE_CHECKING:
    import mne

_IN_DESCRIPTION = ("onset", "duration", "trial_type", "side", "kind")


MOUTH_ONLY = "mouth_only"  # the first tag of a mouth-only event (not an eye episode)


def description(e: Event) -> str:
    """An event's MNE description: ``trial_type/side[/kind]``, ``mouth_only/side[/kind]``
    for a mouth-only event.

    Parameters
    ----------
    e : Event
        A detected event.

    Returns
    -------
    str
        E.g. ``spasm/right/clonic``, ``blink/both``, ``mouth_only/left/twitch``.

    Examples
    --------
    >>> import spasm_cv
    >>> e = spasm_cv.load("sample_phantom.spasm-cv").recording.episodes[0]
    >>> description(e)
    'spasm/right/clonic'
    """
    first = MOUTH_ONLY if e.is_mouth_only else e.trial_type
    return "/".join(p for p in (first, e.side, e.kind) if p)


def as_recording(result) -> Recording:
    """The :class:`Recording` of a result, whatever form it comes in.

    Parameters
    ----------
    result : Recording, Result, Analysis, str or path
        A recording itself, what :func:`spasm_cv.load` or :func:`spasm_cv.analyze_video`
        returned (their ``.recording``), or a result folder (read without its signals).

    Returns
    -------
    Recording
        The recording.

    Raises
    ------
    TypeError
        ``result`` is none of these.

    Examples
    --------
    >>> as_recording("sample_phantom.spasm-cv").summary.fps
    25.0
    """
    if isinstance(result, Recording):
        return result
    rec = getattr(result, "recording", None)
    if isinstance(rec, Recording):
        return rec
    if isinstance(result, (str, os.PathLike)):
        return Recording.from_folder(result, with_signals=False)
    raise TypeError(
        f"expected a Recording, a Result (spasm_cv.load), an Analysis (analyze_video) or a "
        f"result folder, got {type(result).__name__}"
    )


def to_mne_annotations(result) -> mne.Annotations:
    """A recording's events as :class:`mne.Annotations`.

    Parameters
    ----------
    result : Result, Analysis, Recording, str or path
        What :func:`spasm_cv.load` or :func:`spasm_cv.analyze_video` returned, a
        :class:`~spasm_cv.results.recording.Recording` (e.g. from :func:`spasm_cv.load_db`'s
        sessions), or a result folder.

    Returns
    -------
    mne.Annotations
        One annotation per event, sorted by onset (s from the recording's start), with
        ``orig_time`` the recording's start (UTC; None if unknown), descriptions
        ``trial_type/side[/kind]`` (mouth-only events ``mouth_only/side[/kind]``, so that
        ``"spasm/right"`` selects eye episodes only) and the other events.tsv columns in
        ``extras`` (as in
        events.tsv: booleans ``yes``/``no``/``n/a``, a missing number NaN).

    Raises
    ------
    SpasmCvError
        MNE-Python is not installed (``pip install "spasm-cv[mne]"``).

    Examples
    --------
    >>> import spasm_cv
    >>> annotations = spasm_cv.to_mne_annotations(spasm_cv.load("sample_phantom.spasm-cv"))
    >>> annotations.orig_time.isoformat()
    '2026-01-05T09:30:00+00:00'
    >>> sorted(set(annotations.description))
    ['blink/both', 'spasm/right/clonic', 'spasm/right/tonic', 'spasm/right/twitch']
    >>> round(float(annotations.onset[1]), 3), annotations.extras[1]["regions"]
    (3.4, 'eye')
    """
    try:
        import mne
    except ImportError:
        raise SpasmCvError(
            'MNE-Python is not installed: pip install "spasm-cv[mne]" (or mne)'
        ) from None
    rec = as_recording(result)
    events = sorted(rec.events, key=lambda e: (e.onset, e.duration))
    extras = [
        {c: _extra(c, getattr(e, c)) for c in EVENT_FIELDS if c not in _IN_DESCRIPTION}
        for e in events
    ]
    return mne.Annotations(
        onset=[float(e.onset) for e in events],
        duration=[float(e.duration) for e in events],
        description=[description(e) for e in events],
        orig_time=rec.start,
        extras=extras,
    )


def _extra(column: str, value):
    """An events.tsv value for MNE's extras, one type per column (MNE saves them as text):
    booleans ``yes``/``no``/``n/a`` as in events.tsv, missing numbers NaN, missing text n/a."""
    kind = FIELD_TYPES[column]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if kind == "bool":
        return "n/a" if value is None else ("yes" if value else "no")
    if kind == "float":
        return float("nan") if value is None else float(value)
    if kind == "str":
        return "n/a" if value is None else str(value)
    return value
