"""Command line: ``spasm-cv analyze | phantom | evaluate | monitor | report | export | batch |
review``.

Errors the user can act on print one line (``spasm-cv: error: ...``) and exit 2; an
unexpected failure prints one line too, with ``--debug`` for the traceback. Neither ever shows
a stream password (:func:`~spasm_cv._secrets.scrub`). ``--private`` (on the subcommands that
write) makes everything the command writes owner-only (umask ``077`` while it runs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from spasm_cv._private import use_owner_only_umask
from spasm_cv._resources import data_path
from spasm_cv._secrets import scrub
from spasm_cv._version import __version__
from spasm_cv.errors import SpasmCvError
from spasm_cv.results.observation import DEFAULT_THRESHOLDS, INSUFFICIENT

if TYPE_CHECKING:
    from spasm_cv.results.rates import Rate
    from spasm_cv.results.summary import Summary

SAMPLE_VIDEO = ("sample_videos", "sample_phantom.mp4")


RECORDED_AT_WORDS = {
    "given": "as given",
    "container": "from the video's creation time",
    "file_mtime": "GUESSED from the file's modification time; give --recorded-at",
    "clock": "monitor clock",
}


def _fmt_rate(r: Rate, short: bool = False) -> str:
    if r.per_hour is None:
        return f"{r.count} (no observed time)"
    if short:
        return f"{r.count:d}  (rate: {INSUFFICIENT})"
    lo, hi = r.ci95
    return f"{r.count:d}  ->  {r.per_hour:.1f}/h  (95% CI {lo:.1f}-{hi:.1f})"


def _why(summary: Summary) -> str:
    """`` by Ctrl-C after 28.3 s of about 360.0 s`` (what an interrupted run covers)."""
    why = f" by {summary.interrupted}" if summary.interrupted else ""
    n, fps = summary.input.get("n_frames"), summary.input.get("fps")
    if n and fps and summary.duration_s is not None:
        why += f" after {summary.duration_s:.1f} s of about {n / fps:.1f} s"
    return why


def print_summary(summary: Summary, out_dir: Path | None, file=None) -> None:
    """A short human summary of one analysis (on ``file``, default the current stdout).

    Below the observed time a rate needs
    (:data:`~spasm_cv.results.observation.DEFAULT_THRESHOLDS`) counts are printed without
    rates, with a note saying why.
    """
    from spasm_cv.results.rates import context_phrase

    ep = summary.episodes
    dur, obs = summary.duration_s, summary.observed_s
    short = summary.insufficient_observation
    lines = [
        f"{summary.input['name']}: {dur:.1f} s, face observed {obs:.1f} s "
        f"({100 * summary.observed_fraction:.0f} %)"
        + ("" if summary.complete else f"  [INTERRUPTED{_why(summary)}: partial result]"),
    ]
    if summary.recorded_at:
        source = RECORDED_AT_WORDS.get(summary.recorded_at_source or "", "source unknown")
        when = datetime.fromisoformat(summary.recorded_at).isoformat(" ", "seconds")
        lines.append(f"  recorded at {when} ({source})")
    if short and obs > 0:
        lines.append(
            f"  note: {INSUFFICIENT} for rates and grades "
            f"({DEFAULT_THRESHOLDS.rate_shortfall(obs)}): counts only"
        )
    lines += [
        f"  one-sided episodes: {_fmt_rate(ep.total, short)}",
        f"    right: {_fmt_rate(ep.by_side['right'], short)}",
        f"    left:  {_fmt_rate(ep.by_side['left'], short)}",
        "    kinds: "
        + ", ".join(f"{k} {v.count}" for k, v in ep.by_kind.items())
        + f"; with mouth {ep.with_mouth}; contractions {summary.contractions}",
    ]
    if ep.by_context and ep.total.count:
        lines.append(f"    context: {context_phrase(ep.by_context, ep.total.count)}")
    mouth_only = sum(v.count for v in summary.mouth_only.values())
    if mouth_only:
        lines.append(f"  mouth-only one-sided events (not counted above): {mouth_only}")
    possible = sum(v.count for v in (summary.possible or {}).values())
    if possible:
        by_side = ", ".join(f"{s} {r.count}" for s, r in summary.possible.items() if r.count)
        lines.append(
            f"  possible episodes, not sure enough to count (review them; "
            f"--count possible counts them): {possible} ({by_side})"
        )
    bpm = summary.blinks.per_minute
    lines.append(
        f"  blinks: {summary.blinks.count}"
        + (f" ({bpm:.1f}/min)" if bpm is not None and not short else "")
    )
    if summary.affected_side:
        lines.append(f"  side with most episodes: {summary.affected_side}")
    q = summary.quality
    if q["multi_face_frames"]:
        lines.append(f"  note: several faces in {q['multi_face_frames']} frames; followed one")
    if q.get("low_frame_rate"):
        lines.append(
            f"  note: {summary.fps:.3g} fps is too low to resolve blinks and twitches; short "
            "events may be missed or mistyped"
        )
    if q.get("corrupt_frames"):
        lines.append(
            f"  note: {q['corrupt_s']:.1f} s of video lost to damaged data ({q['corrupt_frames']} "
            "frames could not be decoded); not counted as observed"
        )
    if q.get("frozen_frames"):
        lines.append(
            f"  note: the image was frozen for {q['frozen_s']:.1f} s ({q['frozen_frames']} "
            "frames: a still picture or a stalled camera); not counted as observed"
        )
    if q["truncated"]:
        lines.append(
            "  note: the video ended early (truncated or damaged); results cover what was decoded"
        )
    if out_dir is not None:
        lines.append(f"  results: {out_dir}")
    print("\n".join(lines), file=file)


def _add_analyze(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a recorded video (default: the bundled sample)",
        description="Detect one-sided contraction episodes in a recorded face video and write "
        "events.tsv, events.json, signals.csv.gz and summary.json.",
    )
    p.add_argument("video", nargs="?", help="video file (default: the bundled sample video)")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="result folder (default: ./<video>.spasm-cv); a new or empty folder, or an "
        "earlier result with --force",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an earlier spasm-cv result at --out (files you added there are kept; "
        "anything that is not a spasm-cv result is never replaced)",
    )
    p.add_argument(
        "--mirrored",
        action="store_true",
        help="the video is mirrored (phone selfie): swap image sides back",
    )
    p.add_argument(
        "--recorded-at",
        metavar="ISO",
        type=_iso_datetime,
        help="when the recording started, e.g. 2026-11-27T09:30 (default: the video's "
        "creation_time tag, else the file's modification time; summary.json says which)",
    )
    p.add_argument("--model", metavar="PATH", help="face_landmarker.task (default: bundled)")
    from spasm_cv._processes import available_cores
    from spasm_cv.cliargs import add_deidentify_options, add_private_option, positive_int

    p.add_argument(
        "--jobs",
        type=positive_int,
        default=available_cores(),
        metavar="N",
        help="worker processes landmarking 10 s segments of the video in parallel (default: "
        "all cores, here %(default)s; 1: serial; the results are the same for every N)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    add_private_option(p, "the result folder")
    add_deidentify_options(p, "the result folder (needs --out)")
    p.add_argument(
        "--json", action="store_true", help="print summary.json on stdout instead of the summary"
    )
    from spasm_cv.cliargs import add_params_arguments

    add_params_arguments(p)
    p.set_defaults(func=_run_analyze)


def _iso_datetime(text: str) -> datetime:
    from spasm_cv.results.schemas import plausible_time

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {text!r}") from None
    try:
        plausible_time(value, "recording time")  # the Python API's range too
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value if value.tzinfo else value.astimezone()  # naive: local time


def warn(message: str) -> None:
    """Print a one-line ``spasm-cv: warning: ...`` on stderr."""
    print(f"spasm-cv: warning: {message}", file=sys.stderr, flush=True)


def _run_analyze(args) -> int:
    from spasm_cv._processes import capped_jobs
    from spasm_cv.pipeline import analyze_video
    from spasm_cv.results.deidentify import from_args
    from spasm_cv.results.params import params_from_args

    params = params_from_args(args.params, args.set_params)
    deidentify = from_args(args)
    if deidentify is not None and args.out is None:
        raise SpasmCvError(
            "--deidentify needs --out DIR: the default folder is named after the video"
        )
    video = args.video or str(data_path(*SAMPLE_VIDEO))
    if args.video is None and not Path(video).exists():
        raise SpasmCvError(f"bundled sample video missing: {video}")
    result = analyze_video(
        video,
        args.out,
        mirrored=args.mirrored,
        params=params,
        model_path=args.model,
        recorded_at=args.recorded_at,
        progress=not args.quiet and sys.stderr.isatty(),
        jobs=capped_jobs(args.jobs),
        deidentify=deidentify,
        replace_result=args.force,
        on_warning=warn,
    )
    summary = result.recording.summary
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    elif not args.quiet:
        print_summary(summary, result.out_dir)
    if not summary.complete:
        print(
            f"spasm-cv: interrupted{_why(summary)}: partial result in {result.out_dir}",
            file=sys.stderr,
        )
        return 143 if summary.interrupted == "SIGTERM" else 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``spasm-cv`` parser: ``analyze`` here, each other subcommand from its own package.

    This is the one place that knows every subcommand; it also hands the monitor's session
    store to ``report`` as a source of recordings (``report --db``).
    """
    from spasm_cv.batch import cli as batch_cli
    from spasm_cv.evaluation import cli as evaluation_cli
    from spasm_cv.export import cli as export_cli
    from spasm_cv.export import import_review
    from spasm_cv.live import cli as live_cli
    from spasm_cv.phantom import cli as phantom_cli
    from spasm_cv.report import cli as report_cli
    from spasm_cv.review import cli as review_cli

    parser = argparse.ArgumentParser(
        prog="spasm-cv",
        description="Measure hemifacial spasm from face video.",
    )
    parser.add_argument("--version", action="version", version=f"spasm-cv {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_analyze(sub)
    phantom_cli.add_parser(sub)
    evaluation_cli.add_parser(sub)
    live_cli.add_parser(sub)
    report_cli.add_parser(sub, sources=(live_cli,))  # report --db: monitor sessions
    export_cli.add_parser(sub, sources=(live_cli,))  # export --db: monitor sessions
    import_review.add_parser(sub)
    batch_cli.add_parser(sub)
    review_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lead = [a for a in argv[:1] if a == "--debug"]  # the one option before a subcommand
    rest = argv[len(lead) :]
    if not rest or rest[0].startswith("-") and rest[0] not in ("-h", "--help", "--version"):
        argv = [*lead, "analyze", *rest]  # `spasm-cv` alone analyses the sample
    from spasm_cv._processes import sigterm_as_interrupt
    from spasm_cv.errors import interrupt_exit_code, interrupt_reason

    umask = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "private", False):
            umask = use_owner_only_umask()  # everything this command writes: owner-only
        with sigterm_as_interrupt():  # SIGTERM stops a run as Ctrl-C does
            code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed stdout shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            return _stdout_closed()
        raise exc from None
    except SpasmCvError as exc:
        print(f"spasm-cv: error: {scrub(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"spasm-cv: interrupted ({interrupt_reason(exc)})", file=sys.stderr)
        return interrupt_exit_code(exc)
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback by default
        if "--debug" in argv:  # the traceback, without any stream password it may quote
            print(scrub(traceback.format_exc()), end="", file=sys.stderr)
            return 1
        print(
            f"spasm-cv: internal error: {type(exc).__name__}: {scrub(str(exc))} "
            "(rerun with --debug)",
            file=sys.stderr,
        )
        return 1
    finally:
        if umask is not None:  # main() called from a program (a test): its umask back
            os.umask(umask)


def _stdout_closed() -> int:
    """The reader of stdout went away (``spasm-cv ... | head -1``): end quietly.

    Whatever is still buffered for stdout is dropped (stdout is pointed at /dev/null, so that
    Python's final flush does not fail again); the exit status is that of a process ended by
    SIGPIPE, as other command-line tools give.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. a StringIO in tests)
        pass
    return 128 + 13
