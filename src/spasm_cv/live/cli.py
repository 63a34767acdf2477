"""``spasm-cv monitor``: watch a webcam (or stream, or file at real time) and keep a record.

Also a source of recordings for ``spasm-cv report``: the ``--db PATH [--from DATE --to
DATE]`` options (:func:`add_report_arguments`, :func:`report_recordings`; this module is the
:class:`~spasm_cv.report.cli.RecordingSource` the command line hands to ``report``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from spasm_cv._private import mode_text, readable_by_others
from spasm_cv._secrets import SecretUrl, read_secret_env, read_secret_file
from spasm_cv.cliargs import nonnegative_int, positive_float
from spasm_cv.errors import SpasmCvError

if TYPE_CHECKING:
    from spasm_cv.results.recording import Recording

DESCRIPTION = """\
Watch a face through a webcam, an RTSP/HTTP stream or a video file played at its real-time
rate, count one-sided (hemifacial) episodes as they happen, and store sessions, episodes and
per-minute aggregates in a local SQLite database. No video leaves the machine, and no video is
kept unless --save-clips is given.

Stop with Ctrl-C, SIGTERM, q/Esc in the window, or --duration."""

EPILOG = """\
source (one of):
  --camera INDEX     a webcam (default: the first of cameras 0, 1, 2 that opens)
  --source URL       rtsp://, http(s):// stream (FFmpeg)
  --source FILE      a video file, played at its own frame rate as if live (for testing)
  --source-env NAME  the URL (or file) from an environment variable, or
  --source-file PATH from a file only you may read: a password in the URL then stays out of
                     the process list. Everything spasm-cv shows or stores gives the URL
                     without user name and password (rtsp://***@host/path).
  A camera or stream that is unplugged or drops mid-session is retried with growing delays
  (0.5 s up to 10 s); the time without frames is stored as a gap, not as observed time.

database (--db, default $XDG_DATA_HOME/spasm-cv/spasm-cv.sqlite, else
~/.local/share/spasm-cv/spasm-cv.sqlite): tables sessions, events (the columns of events.tsv;
view 'episodes' = the spasm rows), minutes (per-minute observed seconds, episodes, blinks,
closed fraction per eye, frames, dropped frames, unavailable seconds) and gaps. Written while
the session runs (events at once, aggregates every 0.5 s, each commit synced to disk).
Clinician report from it: spasm-cv report --db PATH [--from DATE --to DATE].

privacy: the database (with its -wal and -shm files) and the clips are created readable by
you alone (files 0600, new folders 0700). An existing database or clip folder that others
can read is not changed: a warning says so (--private: refused).

If processing falls behind by more than --max-lag (0.5 s), the oldest frames are dropped and
counted (per minute, in the database).

exit status: 0 session ended normally, 1 the source failed mid-session (data kept),
2 bad input or the database could not be written (message 'spasm-cv: error: ...')."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``monitor`` subcommand."""
    p = subparsers.add_parser(
        "monitor",
        help="live monitoring from a webcam into a local database",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--camera", metavar="INDEX", type=nonnegative_int, help="webcam index (0, 1, ...)"
    )
    src.add_argument(
        "--source", metavar="URL_OR_FILE", type=_source_arg, help="stream URL or video file"
    )
    src.add_argument(
        "--source-env",
        metavar="NAME",
        help="read the stream URL (or file) from environment variable NAME: a password in it "
        "stays out of the process list",
    )
    src.add_argument(
        "--source-file",
        metavar="PATH",
        help="read the stream URL (or file) from the one line of PATH, a file only you may read "
        "(chmod 600; other files are refused)",
    )
    p.add_argument("--headless", action="store_true", help="no window; print a status line")
    p.add_argument("--db", metavar="PATH", help="SQLite database (default: see below)")
    p.add_argument(
        "--save-clips",
        metavar="DIR",
        help="save a short MP4 around each episode into DIR (off by default: no video is kept)",
    )
    p.add_argument(
        "--mirrored", action="store_true", help="the source is mirrored: swap image sides back"
    )
    p.add_argument("--duration", metavar="S", type=positive_float, help="stop after S seconds")
    p.add_argument(
        "--max-lag",
        metavar="S",
        type=positive_float,
        default=0.5,
        help="how far processing may fall behind before frames are dropped (default 0.5 s)",
    )
    p.add_argument("--model", metavar="PATH", help="face_landmarker.task (default: bundled)")
    p.add_argument(
        "--private",
        action="store_true",
        help="refuse an existing database or clip folder that other users can read (new ones "
        "are always owner-only)",
    )
    from spasm_cv.cliargs import add_params_arguments

    add_params_arguments(p)
    p.set_defaults(func=run)
    return p


def _source_arg(text: str) -> str | SecretUrl:
    """A stream URL is kept as a SecretUrl from the moment it is parsed; a file stays text."""
    return SecretUrl(text) if "://" in text and not text.startswith("file://") else text


def _source(args) -> str | SecretUrl | None:
    """The source the user gave: --source, or read from --source-env / --source-file."""
    if args.source_env is not None:
        return _source_arg(read_secret_env(args.source_env))
    if args.source_file is not None:
        return _source_arg(read_secret_file(args.source_file))
    if isinstance(args.source, SecretUrl) and args.source.has_credentials:
        print(
            "spasm-cv: warning: a password given with --source is visible to other users of "
            "this computer (process list, shell history); give the address with --source-env "
            "NAME or --source-file PATH instead",
            file=sys.stderr,
        )
    return args.source


def _check_private(db: Path, clips: Path | None, strict: bool) -> None:
    """Say so (or refuse, with --private) when an existing database or clip folder is open
    to other users. New ones are created owner-only; existing ones are never changed."""
    problems = []
    if db.exists():
        from spasm_cv.live.store import check_store_header

        check_store_header(db, allow_blank=True)  # another program's file: refused first
    if readable_by_others(db):
        problems.append(
            f"other users can read the database {db} (mode {mode_text(db)}): run `chmod 600 "
            f"{db} {db}-wal {db}-shm` to keep it private"
        )
    if clips is not None and readable_by_others(clips):
        problems.append(
            f"other users can list the clip folder {clips} (mode {mode_text(clips)}): the clips "
            f"are owner-only but their names (date, side, kind) show; run `chmod 700 {clips}` "
            "or choose a new folder"
        )
    for problem in problems:
        if strict:
            raise SpasmCvError(f"--private: {problem}")
        print(f"spasm-cv: warning: {problem}", file=sys.stderr)


@contextmanager
def _stop_on_signals(stop: threading.Event):
    """SIGINT/SIGTERM set ``stop`` (a second Ctrl-C interrupts at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _printer(tty: bool):
    from spasm_cv.live.preview import status_line

    width = [0]

    def show(status) -> None:
        line = status_line(status)
        if tty:
            pad = max(width[0] - len(line), 0)
            width[0] = len(line)
            print("\r" + line + " " * pad, end="", flush=True)
        else:
            print(line, flush=True)

    return show


def run(args) -> int:
    from spasm_cv._native import native_stderr_silenced_python_kept
    from spasm_cv.live.clips import ClipRecorder, ClipSettings
    from spasm_cv.live.devices import open_source
    from spasm_cv.live.monitor import MonitorSettings, run_monitor
    from spasm_cv.live.schema import default_db_path
    from spasm_cv.results.params import params_from_args

    tty = sys.stdout.isatty()
    settings = MonitorSettings(
        params=params_from_args(args.params, args.set_params),
        duration_s=args.duration,
        model_path=args.model,
        status_every_s=1.0 if tty else 10.0,
        max_lag_s=args.max_lag,
    )
    db = Path(args.db) if args.db else default_db_path()
    _check_private(db, Path(args.save_clips) if args.save_clips else None, args.private)
    wanted = _source(args)
    preview = None
    if not args.headless:
        from spasm_cv.live.preview import check_display

        check_display()  # before opening anything: a clear message instead of a Qt abort
    source = open_source(args.camera, wanted, mirrored=args.mirrored, max_lag_s=settings.max_lag_s)
    clips = ClipRecorder(ClipSettings(Path(args.save_clips))) if args.save_clips else None
    if not args.headless:
        from spasm_cv.live.preview import PreviewWindow

        preview = PreviewWindow(closure_on=settings.params.episodes.closure_on)
    stop = threading.Event()

    def started(session_id, clock) -> None:
        print(
            f"session {session_id}: monitoring {source.description} at {source.fps:g} fps -> "
            f"{db}" + (f"; clips in {args.save_clips}" if clips else "") + " (Ctrl-C to stop)",
            flush=True,
        )

    with source, _stop_on_signals(stop), native_stderr_silenced_python_kept():
        result = run_monitor(
            source,
            db,
            settings,
            preview=preview,
            clips=clips,
            on_status=_printer(tty) if args.headless else None,
            on_start=started,
            stop=stop,
        )
    if tty and args.headless:
        print()
    ep = result.episodes
    n_right = sum(e.side == "right" for e in ep)
    print(
        f"session {result.session_id} ended ({result.end_reason}): {result.duration_s:.1f} s, "
        f"face observed {result.observed_s:.1f} s, frames {result.frames}, dropped "
        f"{result.dropped_frames}, gaps {len(result.gaps)}; episodes {len(ep)} "
        f"(right {n_right}, left {len(ep) - n_right}); "
        f"blinks {sum(e.trial_type == 'blink' for e in result.events)}; stored in {db}",
        flush=True,
    )
    if clips is not None:
        for err in clips.errors:
            print(f"spasm-cv: warning: {err}", file=sys.stderr)
    if result.store_error:
        raise SpasmCvError(result.store_error)
    return 1 if result.end_reason.startswith("source failed") else 0


# ------------------------------------------------------------- spasm-cv report --db


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """``--db PATH --from DATE --to DATE`` on the ``report`` subcommand."""
    g = parser.add_argument_group("monitor sessions (spasm-cv monitor)")
    g.add_argument("--db", metavar="PATH", help="include the sessions stored in this database")
    g.add_argument(
        "--from",
        dest="date_from",
        metavar="DATE",
        type=_date,
        help="only sessions started on or after this local date (YYYY-MM-DD)",
    )
    g.add_argument(
        "--to",
        dest="date_to",
        metavar="DATE",
        type=_date,
        help="only sessions started on or before this local date (YYYY-MM-DD)",
    )


def report_recordings(args: argparse.Namespace) -> list[Recording]:
    """The monitor sessions ``report`` asked for (none without ``--db``)."""
    db, lo, hi = getattr(args, "db", None), args.date_from, args.date_to
    if db is None:
        if lo or hi:
            raise SpasmCvError("--from/--to select monitor sessions: give --db PATH as well")
        return []
    if lo and hi and lo > hi:
        raise SpasmCvError(f"--from {lo} is after --to {hi}")
    from spasm_cv.live.sessions import load_recordings

    recordings = load_recordings(db, lo, hi)
    if not recordings:
        span = f" from {lo or 'the first'} to {hi or 'the last'}" if lo or hi else ""
        raise SpasmCvError(f"no monitor session in {db}{span}")
    return recordings
