"""``spasm-cv phantom``: write a phantom video with known one-sided spasm episodes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spasm_cv.cliargs import (
    add_private_option,
    nonnegative_float,
    positive_float,
    probability,
)
from spasm_cv.errors import SpasmCvError
from spasm_cv.phantom.params import KINDS, SIDE_CHOICES, PhantomParams, ScheduleParams
from spasm_cv.phantom.truth import is_truth_table, read_sidecar, sidecar_path
from spasm_cv.results.outputs import check_output_file

DESCRIPTION = """\
Take a real face video and write a new one with one-sided (hemifacial) spasm episodes of
known time, side, kind and strength composited in, plus a truth table.

The closed eyelid is the same person's, taken from a natural blink of the clip (so the clip
needs at least one full blink), aligned on points around the eye that do not move with the
lid, and blended over one eye. Episodes are placed where both eyes are open in the source,
at least 0.3 s from natural blinks and 1.5 s apart. A second pass of the face landmarker
over the written video measures the closure it perceives on each eye."""

EPILOG = """\
episode kinds:
  twitch   single contraction, 0.15-0.35 s
  clonic   train of 3-6 contractions at 2-6 Hz
  tonic    sustained closure, 1-3 s
  closing 50-80 ms, opening 1.3-2x slower; peak closure drawn between 0.35 and the
  strongest closure the clip's blinks give when pasted over one eye.

sides are the patient's anatomical sides (unmirrored image: the patient's right eye is on
the image's left). --side both: each episode draws its side at random.

outputs:
  VIDEO        at the input's frame rate and size (.mp4, mp4v codec); inputs shorter
               than --seconds are looped forward-backward.
  TRUTH.tsv    onset duration side kind n_contractions peak_closure perceived_closure
               perceived_closure_other mouth clear (seconds, 3 decimals)
  TRUTH.json   sidecar: source, seed, parameters, duration_s, fps, column descriptions,
               natural blinks left in the phantom.
  --rate 0 writes the loop without episodes (a negative with an empty truth table).

The same input, options and seed give the same truth and the same frames.

exit status: 0 success, 2 bad input (message 'spasm-cv: error: ...')."""


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip().lower() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if not kinds or bad:
        raise argparse.ArgumentTypeError(
            f"kinds must be a comma-separated subset of {','.join(KINDS)}, got {text!r}"
        )
    return tuple(dict.fromkeys(kinds))


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``phantom`` subcommand on ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "phantom",
        help="write a phantom video with known one-sided spasm episodes and its truth",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(p)
    return p


def configure_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``phantom`` arguments to an existing parser."""
    sp = ScheduleParams()
    p.add_argument(
        "input", type=Path, metavar="INPUT", help="face video with at least one natural full blink"
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="VIDEO",
        help="phantom video to write (.mp4); an existing file is replaced only if "
        "it is the phantom of the truth table at --truth",
    )
    p.add_argument(
        "--truth",
        required=True,
        type=Path,
        metavar="TRUTH.tsv",
        help="truth table to write; its JSON sidecar goes beside it",
    )
    p.add_argument(
        "--side",
        choices=SIDE_CHOICES,
        default=sp.side,
        help="patient's side of the episodes; 'both': drawn per episode (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument(
        "--seconds",
        type=positive_float,
        default=None,
        metavar="S",
        help="phantom length in seconds (default: the input's; longer inputs are "
        "cut, shorter ones looped forward-backward)",
    )
    p.add_argument(
        "--rate",
        type=nonnegative_float,
        default=sp.rate_per_min,
        metavar="PER_MIN",
        help="episodes per minute asked for (default %(default)s; fewer when they "
        "do not fit; 0: no episode)",
    )
    p.add_argument(
        "--kinds",
        type=_kinds,
        default=sp.kinds,
        metavar="K1,K2",
        help=f"episode kinds to draw from (default {','.join(KINDS)})",
    )
    p.add_argument(
        "--mouth-prob",
        type=probability,
        default=sp.mouth_prob,
        metavar="P",
        help="probability that an episode pulls the same-side mouth corner up and "
        "out (default %(default)s)",
    )
    p.add_argument(
        "--mirrored",
        action="store_true",
        help="the input is selfie-mirrored (the phantom is written mirrored too; "
        "analyse it with --mirrored)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_private_option(p, "the phantom video and its truth table")
    p.set_defaults(func=run)
    return p


def params_from_args(args: argparse.Namespace) -> PhantomParams:
    """The :class:`PhantomParams` the command-line options ask for."""
    schedule = ScheduleParams(
        side=args.side, rate_per_min=args.rate, kinds=tuple(args.kinds), mouth_prob=args.mouth_prob
    )
    return PhantomParams(
        seed=args.seed, seconds=args.seconds, mirrored=args.mirrored, schedule=schedule
    )


def _summary(phantom) -> str:
    rows = phantom.rows
    if not rows:
        return f"no episode (negative), {phantom.duration_s:.1f} s"
    clear = sum(r.clear for r in rows)
    return (
        f"{len(rows)} episode(s) over {phantom.duration_s:.1f} s, {clear} clear "
        f"(perceived closure >= 0.5)"
    )


def check_outputs(args: argparse.Namespace) -> None:
    """Before any work: the video, the truth table and its sidecar may be written there.

    An existing file is replaced only when spasm-cv wrote it: a truth table or sidecar by
    their header, the phantom video when the truth sidecar at ``--truth`` names it.
    """
    if args.truth.suffix.lower() != ".tsv":
        raise SpasmCvError(f"--truth must end in .tsv, got {args.truth}")
    inputs = (args.input,)
    sidecar = read_sidecar(args.truth)

    def our_video(p: Path) -> bool:
        return sidecar is not None and sidecar.get("video") == p.name

    if args.out.resolve() == args.truth.resolve():
        raise SpasmCvError("--out and --truth name the same file")
    check_output_file(args.out, ours=our_video, inputs=inputs, what="--out")
    check_output_file(args.truth, ours=is_truth_table, inputs=inputs, what="--truth")
    check_output_file(
        sidecar_path(args.truth),
        ours=lambda p: read_sidecar(args.truth) is not None,
        inputs=inputs,
        what="--truth sidecar",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``spasm-cv phantom``; returns the exit code (2 on bad input, message on stderr)."""
    from spasm_cv.phantom.make import make_phantom  # here: registering `phantom` loads no cv2

    try:
        check_outputs(args)
        phantom = make_phantom(
            args.input, args.out, args.truth, params_from_args(args), progress=not args.quiet
        )
    except SpasmCvError as e:
        print(f"spasm-cv: error: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(_summary(phantom))
        for r in phantom.rows:
            print("  " + "\t".join(r.cells()))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m spasm_cv.phantom.cli``)."""
    parser = argparse.ArgumentParser(prog="spasm-cv")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(argv)
    if args.private:
        from spasm_cv._private import use_owner_only_umask

        use_owner_only_umask()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
