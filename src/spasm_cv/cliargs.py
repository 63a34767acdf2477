"""argparse value types shared by the subcommands (errors become one-line usage messages)."""

from __future__ import annotations

import argparse
import math


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def positive_int(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def probability(text: str) -> float:
    value = nonnegative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be within 0-1, got {text!r}")
    return value


def whole_number(text: str) -> int:
    """A whole number, negative allowed (e.g. ``--date-shift -1000``)."""
    return _whole(text)


def add_private_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--private``: what the command writes is readable by its owner only."""
    parser.add_argument(
        "--private",
        action="store_true",
        help=f"make {what} readable by you alone (files 0600, folders 0700), whatever the "
        "umask (default: the umask decides)",
    )


def add_deidentify_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--deidentify [--date-shift DAYS]``: no names, paths or dates in what is written."""
    g = parser.add_argument_group("de-identification (to share data)")
    g.add_argument(
        "--deidentify",
        action="store_true",
        help=f"write {what} without file names, paths or dates: recordings get neutral labels "
        "(rec01, ...) and no wall-clock time",
    )
    g.add_argument(
        "--date-shift",
        type=whole_number,
        metavar="DAYS",
        help="with --deidentify: keep dates and times of day, all moved by DAYS days (e.g. "
        "-1000; the same number for every recording of a person keeps the intervals; it is "
        "written nowhere). Default: no dates at all",
    )


def add_params_arguments(parser: argparse.ArgumentParser) -> None:
    """``--params FILE.toml`` and repeatable ``--set name=value`` (detection parameters).

    The command turns them into ``DetectionParams`` with
    :func:`spasm_cv.results.params.params_from_args`.
    """
    g = parser.add_argument_group("detection parameters")
    g.add_argument(
        "--params",
        metavar="FILE.toml",
        help="detection parameters from a TOML file (name = value, one per line; names as "
        "in summary.json's params)",
    )
    g.add_argument(
        "--set",
        dest="set_params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one detection parameter, e.g. --set closure_on=0.4 (repeatable; "
        "overrides --params)",
    )


COUNTS = ("sure", "possible", "reviewed")


def add_count_option(parser: argparse.ArgumentParser) -> None:
    """``--count sure|possible|reviewed`` (``--reviewed`` for short): whether
    ``possible_spasm`` events (one-sided eye episodes the detector could not be sure of) are
    counted as episodes, or only what a reviewer confirmed (review.tsv: accepted and added
    episodes); read by :func:`counting`."""
    parser.add_argument(
        "--count",
        choices=COUNTS,
        default="sure",
        help="sure (default): count the episodes the detector is sure of, list the possible "
        "ones apart; possible: count the possible ones too; reviewed: count what a reviewer "
        "confirmed in the result folder's review.tsv (accepted and added episodes)",
    )
    parser.add_argument(
        "--reviewed", dest="count", action="store_const", const="reviewed",
        help="the same as --count reviewed",
    )  # fmt: skip


def counting(recordings: list, count: str) -> list:
    """``recordings`` (``Recording``) as ``--count`` asks (:meth:`Recording.counted`)."""
    return [r.counted(count) for r in recordings]
