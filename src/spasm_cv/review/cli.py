"""``spasm-cv review RESULT [--out review.mp4] [--episodes-only]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spasm_cv.cliargs import add_private_option

DESCRIPTION = """\
Write an annotated copy of an analysed video, to check what was detected: the eye contours
of both eyes, a closure bar per eye, the current event (side, kind, regions, confidence) and
a timeline strip of the recording. With --episodes-only, one short clip per one-sided
episode (with a second of video either side) and an index page (index.html, no network)
that plays each clip beside its signal plot.

The video is read again from where the analysis found it (summary.json), or from --video;
the face tracker runs again for the eye contours, everything else comes from the result
folder. Nothing existing is overwritten."""

EPILOG = """\
examples:
  spasm-cv review visit.spasm-cv                       # ./<video>.review.mp4
  spasm-cv review visit.spasm-cv --episodes-only --out visit-episodes
  spasm-cv review visit.spasm-cv --video /media/usb/visit.mp4   # the video has moved"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``review`` subcommand on ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "review",
        help="annotated video (or one clip per episode) to check the detections",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("result", metavar="RESULT", help="result folder written by `spasm-cv analyze`")
    p.add_argument(
        "--out",
        metavar="PATH",
        help="MP4 to write (default: ./<video>.review.mp4), or with --episodes-only the "
        "folder to write (default: ./<video>.episodes); must not exist",
    )
    p.add_argument(
        "--episodes-only",
        action="store_true",
        help="one clip per one-sided episode plus index.html, instead of the whole video",
    )
    p.add_argument(
        "--serve",
        action="store_true",
        help="review in the browser: accept, reject or correct each episode, add missed ones "
        "(saved in the result folder's review.tsv); clips are cut into --out first, or reused "
        "from an earlier --serve there",
    )
    p.add_argument(
        "--near",
        type=int,
        default=10,
        metavar="N",
        help="with --serve: clips of the N near misses to screen (default 10)",
    )
    p.add_argument(
        "--reviewer",
        default="reviewer",
        metavar="NAME",
        help="with --serve: who decides (written in review.tsv)",
    )
    p.add_argument("--port", type=int, default=None, help="with --serve: the port (default: free)")
    p.add_argument(
        "--no-browser",
        action="store_true",
        help="with --serve: print the address instead of opening a browser",
    )
    p.add_argument("--video", metavar="FILE", help="the analysed video, if it has moved")
    p.add_argument("--model", metavar="PATH", help="face_landmarker.task (default: bundled)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary line")
    add_private_option(p, "the video, the clips and the index page")
    p.set_defaults(func=run)
    return p


def default_out(result: str, episodes_only: bool, video_name: str | None) -> Path:
    """``./<video stem>.review.mp4`` or ``./<video stem>.episodes``."""
    stem = Path(video_name).stem if video_name else Path(result).name.removesuffix(".spasm-cv")
    return Path.cwd() / (f"{stem}.episodes" if episodes_only else f"{stem}.review.mp4")


def run(args: argparse.Namespace) -> int:
    from spasm_cv.errors import SpasmCvError
    from spasm_cv.results.files import read_summary
    from spasm_cv.review.render import review_episodes, review_video

    out = args.out
    if out is None:
        try:
            name = read_summary(args.result).get("input", {}).get("name")
        except SpasmCvError:  # reported properly by open_review below
            name = None
        out = default_out(args.result, args.episodes_only or args.serve, name)
    progress = not args.quiet and sys.stderr.isatty()
    if args.serve:
        return serve_review(args, Path(out), progress)
    make = review_episodes if args.episodes_only else review_video
    done = make(args.result, out, video=args.video, model_path=args.model, progress=progress)
    if not args.quiet:
        if args.episodes_only:
            print(
                f"review: {done.path / 'index.html'} ({len(done.clips)} clip"
                f"{'s' * (len(done.clips) != 1)}, {done.frames} frames at {done.fps:g} fps, "
                f"{done.codec or 'no clip written'})"
            )
        else:
            print(f"review: {done.path} ({done.frames} frames at {done.fps:g} fps, {done.codec})")
    return 0


def serve_review(args: argparse.Namespace, out: Path, progress: bool) -> int:
    """``review --serve``: cut the clips (episodes and near misses) unless an earlier
    ``--serve`` left them in ``out``, then serve the review page until Ctrl+C."""
    from spasm_cv._server import new_token, serve
    from spasm_cv.errors import SpasmCvError
    from spasm_cv.review.render import MANIFEST, review_episodes
    from spasm_cv.review.server import ReviewApp

    if args.near < 0:
        raise SpasmCvError("--near must be 0 or more")
    if not (out / MANIFEST).is_file():
        review_episodes(args.result, out, video=args.video, model_path=args.model,
                        progress=progress, near=args.near)  # fmt: skip
    app = ReviewApp(args.result, out, reviewer=args.reviewer)
    token = new_token()
    serve(app.app(token), token, port=args.port, open_browser=not args.no_browser,
          what="review")  # fmt: skip
    return 0
