"""Phantom videos: real face videos with one-sided spasm episodes of known truth composited in.

``make_phantom(source, out_video, truth, PhantomParams(...))`` writes the phantom and its
truth table (see :mod:`spasm_cv.phantom.truth`); ``spasm-cv phantom`` is its command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spasm_cv.phantom.params import (
    KINDS,
    CompositeParams,
    PhantomParams,
    ScheduleParams,
    SourceParams,
)
from spasm_cv.phantom.schedule import Contraction, Episode, envelope, plan_episodes
from spasm_cv.phantom.truth import TRUTH_COLUMNS, TruthRow

__all__ = [
    "KINDS",
    "CompositeParams",
    "Contraction",
    "Episode",
    "Phantom",
    "PhantomParams",
    "ScheduleParams",
    "SourceParams",
    "TRUTH_COLUMNS",
    "TruthRow",
    "envelope",
    "make_phantom",
    "pingpong",
    "plan_episodes",
]


def __getattr__(name: str):
    # the video-writing names on first use: `spasm-cv report` registers `phantom` on the
    # command line, and importing this package must not load OpenCV
    if name not in ("Phantom", "make_phantom", "pingpong"):
        raise AttributeError(f"module 'spasm_cv.phantom' has no attribute {name!r}")
    from spasm_cv.phantom import make

    value = getattr(make, name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from spasm_cv.phantom.make import Phantom, make_phantom, pingpong
