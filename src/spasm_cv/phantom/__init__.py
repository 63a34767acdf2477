"""Phantom videos: real face videos with one-sided spasm episodes of known truth composited in.

``make_phantom(source, out_video, truth, PhantomParams(...))`` writes the phantom and its
truth table (see :mod:`spasm_cv.phantom.truth`); ``spasm-cv phantom`` is its command line.
"""

from spasm_cv.phantom.make import Phantom, make_phantom, pingpong
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
