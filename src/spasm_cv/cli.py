"""Command line: ``spasm-cv analyze | phantom | evaluate | monitor | report | export | batch``.

Errors the user can act on print one line (``spasm-cv: error: ...``) and exit 2; an
unexpected failure prints one line too, with ``--debug`` for the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from spasm_cv._resources import data_path
from spasm_cv._version import __version__
from spasm_cv.errors import SpasmCvError

if TYPE_CHECKING:
    from spasm_cv.results.rates import Rate
    from spasm_cv.results.summary import Summary

SAMPLE_VIDEO = ("sample_videos", "sample_phantom.mp4")


def _fmt_rate(r: Rate) -> str:
    if r.per_hour is None:
        return f"{r.count} (no observed time)"
    lo, hi = r.ci95
    return f"{r.count:d}  ->  {r.per_hour:.1f}/h  (95% CI {lo:.1f}-{hi:.1f})"


def print_summary(summary: Summary, out_dir: Path | None, file=None) -> None:
    """A short human summary of one analysis (on ``file``, default the current stdout)."""
    ep = summary.episodes
    dur, obs = summary.duration_s, summary.observed_s
    lines = [
        f"{summary.input['name']}: {dur:.1f} s, face observed {obs:.1f} s "
        f"({100 * summary.observed_fraction:.0f} %)"
        + ("" if summary.complete else "  [INTERRUPTED: partial result]"),
        f"  one-sided episodes: {_fmt_rate(ep.total)}",
        f"    right: {_fmt_rate(ep.by_side['right'])}",
        f"    left:  {_fmt_rate(ep.by_side['left'])}",
        "    kinds: "
        + ", ".join(f"{k} {v.count}" for k, v in ep.by_kind.items())
        + f"; with mouth {ep.with_mouth}; contractions {summary.contractions}",
    ]
    mouth_only = sum(v.count for v in summary.mouth_only.values())
    if mouth_only:
        lines.append(f"  mouth-only one-sided events (not counted above): {mouth_only}")
    bpm = summary.blinks.per_minute
    lines.append(
        f"  blinks: {summary.blinks.count}" + (f" ({bpm:.1f}/min)" if bpm is not None else "")
    )
    if summary.affected_side:
        lines.append(f"  side with most episodes: {summary.affected_side}")
    q = summary.quality
    if q["multi_face_frames"]:
        lines.append(f"  note: several faces in {q['multi_face_frames']} frames; followed one")
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
    p.add_argument("--out", metavar="DIR", help="result folder (default: ./<video>.spasm-cv)")
    p.add_argument(
        "--mirrored",
        action="store_true",
        help="the video is mirrored (phone selfie): swap image sides back",
    )
    p.add_argument(
        "--recorded-at",
        metavar="ISO",
        type=_iso_datetime,
        help="when the recording started, e.g. 2026-11-27T09:30 (default: from the file's "
        "modification time)",
    )
    p.add_argument("--model", metavar="PATH", help="face_landmarker.task (default: bundled)")
    from spasm_cv._processes import available_cores
    from spasm_cv.cliargs import positive_int

    p.add_argument(
        "--jobs",
        type=positive_int,
        default=available_cores(),
        metavar="N",
        help="worker processes landmarking 10 s segments of the video in parallel (default: "
        "all cores, here %(default)s; 1: serial; the results are the same for every N)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument(
        "--json", action="store_true", help="print summary.json on stdout instead of the summary"
    )
    from spasm_cv.cliargs import add_params_arguments

    add_params_arguments(p)
    p.set_defaults(func=_run_analyze)


def _iso_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {text!r}") from None
    return value if value.tzinfo else value.astimezone()  # naive: local time


def _run_analyze(args) -> int:
    from spasm_cv.pipeline import analyze_video
    from spasm_cv.results.params import params_from_args

    params = params_from_args(args.params, args.set_params)
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
        jobs=args.jobs,
    )
    if args.json:
        print(json.dumps(result.recording.summary.to_dict(), indent=2))
    elif not args.quiet:
        print_summary(result.recording.summary, result.out_dir)
    return 130 if not result.recording.summary.complete else 0


def build_parser() -> argparse.ArgumentParser:
    """The ``spasm-cv`` parser: ``analyze`` here, each other subcommand from its own package.

    This is the one place that knows every subcommand; it also hands the monitor's session
    store to ``report`` as a source of recordings (``report --db``).
    """
    from spasm_cv.batch import cli as batch_cli
    from spasm_cv.evaluation import cli as evaluation_cli
    from spasm_cv.export import cli as export_cli
    from spasm_cv.live import cli as live_cli
    from spasm_cv.phantom import cli as phantom_cli
    from spasm_cv.report import cli as report_cli

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
    batch_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["analyze", *argv]  # `spasm-cv` alone analyses the sample
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
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
        print(f"spasm-cv: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spasm-cv: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback by default
        if "--debug" in argv:
            raise
        print(
            f"spasm-cv: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            file=sys.stderr,
        )
        return 1


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
