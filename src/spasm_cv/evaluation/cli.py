"""``spasm-cv evaluate``: score predicted events against phantom truth."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from spasm_cv.cliargs import nonnegative_float
from spasm_cv.errors import SpasmCvError
from spasm_cv.evaluation import (
    EvaluationParams,
    EvaluationReport,
    EvaluationResult,
    evaluate_files,
    evaluate_folders,
)
from spasm_cv.evaluation.reviewed import agreement, format_agreement

DESCRIPTION = """\
Score predicted spasm episodes (events.tsv) against known truth (<name>.truth.tsv).

Single video:  spasm-cv evaluate --truth X.truth.tsv --events RESULT_DIR_OR_events.tsv
Reviewed:      spasm-cv evaluate --truth RESULT_DIR/review.tsv --events RESULT_DIR
               (the detector against a reviewer: truth = accepted and added episodes;
               predictions = detected episodes the reviewer accepted or rejected)
Two reviewers: spasm-cv evaluate --reviews A/review.tsv B/review.tsv --events RESULT_DIR
Folders:       spasm-cv evaluate --truth TRUTH_DIR --events RESULTS_DIR
               (each TRUTH_DIR/<name>.truth.tsv is scored against RESULTS_DIR/<name>/events.tsv;
               a missing result is an error unless --missing empty)

Predicted episodes are the trial_type=spasm rows whose regions include the eye (--regions any:
all spasm rows); blinks are never episodes."""

EPILOG = """\
matching:
  A prediction may match a truth episode when the intervals overlap after widening the
  truth episode by --tolerance seconds on each side. Matching is one-to-one (optimal
  assignment: most pairs, then most overlap). A hit (TP) also needs the same side.
  A second prediction inside one matched truth episode is a split: unmatched, so a FP.

metrics (n/a where undefined):
  TP, FP, FN       hits; predictions not hit (splits included); truth episodes missed
  precision        TP/(TP+FP); n/a without predictions
  recall           TP/(TP+FN); n/a without truth episodes
  F1               2TP/(2TP+FP+FN); n/a only with neither truth nor predictions
  side accuracy    matching again ignoring side: fraction of pairs with the right side
  recall clear/subtle, by kind   recall on truth episodes by their clear flag / kind
  FP/h             false episodes per hour of observed time
  true/h, pred/h   episode rates; rate error = pred/h - true/h, relative = error / true/h
  onset error      median of predicted - truth onset over hits (s), and of its absolute value

observed time (per-hour denominator): observed_s in summary.json beside events.tsv, else
duration_s in the truth sidecar <name>.truth.json, else --hours. Folders are pooled by
summing counts over videos (micro average).

exit status: 0 success, 2 bad input (message 'spasm-cv: error: ...')."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``evaluate`` subcommand on ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "evaluate",
        help="score predicted events against phantom truth (precision, recall, F1, ...)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(p)
    return p


def configure_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``evaluate`` options to an existing parser."""
    p.add_argument(
        "--truth",
        type=Path,
        metavar="TRUTH",
        help="a <name>.truth.tsv file, or a folder of them; or a reviewer's "
        "review.tsv (the detector against the reviewer)",
    )
    p.add_argument(
        "--reviews",
        nargs=2,
        type=Path,
        metavar=("FIRST", "SECOND"),
        help="two reviewers' review.tsv of the --events result: Cohen's kappa and "
        "their disagreements",
    )
    p.add_argument(
        "--events",
        required=True,
        type=Path,
        metavar="EVENTS",
        help="events.tsv or its result folder; with a truth folder, the folder of result folders",
    )
    p.add_argument(
        "--tolerance",
        type=nonnegative_float,
        default=EvaluationParams.tolerance_s,
        metavar="S",
        help="widening of truth episodes on each side, seconds (default %(default)s)",
    )
    p.add_argument(
        "--regions",
        choices=("eye", "any"),
        default=EvaluationParams.regions,
        help="spasm rows scored: those involving the eye (default) or all",
    )
    p.add_argument(
        "--hours",
        type=nonnegative_float,
        default=None,
        metavar="H",
        help="observed hours per video when neither summary.json nor the truth sidecar gives it",
    )
    p.add_argument(
        "--missing",
        choices=("error", "empty"),
        default="error",
        help="folder mode, a video without events.tsv: error (default) or count "
        "it as an empty prediction with a warning",
    )
    p.add_argument(
        "--json", type=Path, default=None, metavar="OUT.json", help="also write the results as JSON"
    )
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="what to print on stdout (default table)",
    )
    p.set_defaults(func=run)
    return p


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "n/a" if x is None else format(x, spec)


def _frac(x: float | None, num: int, den: int) -> str:
    return f"{_fmt(x)} ({num}/{den})"


def _summary_lines(r: EvaluationResult) -> list[str]:
    kinds = ", ".join(
        f"{k} {_frac(v, r.tp_by_kind.get(k, 0), r.truth_by_kind[k])}"
        for k, v in r.recall_by_kind.items()
    )
    rel = r.rate_relative_error
    return [
        f"  episodes: truth {r.n_truth}, predicted {r.n_predicted}; TP {r.tp}, FP {r.fp} "
        f"(splits {r.splits}), FN {r.fn} (merges {r.merges})",
        f"  precision {_fmt(r.precision)}  recall {_fmt(r.recall)}  F1 {_fmt(r.f1)}",
        f"  side accuracy {_frac(r.side_accuracy, r.n_side_correct, r.n_time_matched)} "
        "time-matched pairs",
        f"  recall clear {_frac(r.recall_clear, r.tp_clear, r.n_truth_clear)}, "
        f"subtle {_frac(r.recall_subtle, r.tp_subtle, r.n_truth_subtle)}",
        f"  recall by kind: {kinds or 'n/a'}",
        f"  observed {_fmt(r.observed_h, '.3f')} h; false episodes per hour "
        f"{_fmt(r.false_per_hour, '.2f')}",
        f"  episodes per hour: true {_fmt(r.true_per_hour, '.2f')}, predicted "
        f"{_fmt(r.predicted_per_hour, '.2f')}, error {_fmt(r.rate_error_per_hour, '+.2f')} "
        f"({'n/a' if rel is None else format(100 * rel, '+.1f') + ' %'})",
        f"  onset error of hits: median {_fmt(r.median_onset_error_s, '+.3f')} s, "
        f"median |error| {_fmt(r.median_abs_onset_error_s, '.3f')} s",
    ]


def format_table(report: EvaluationReport) -> str:
    """Human-readable per-video table and pooled summary."""
    header = (
        "video",
        "truth",
        "pred",
        "TP",
        "FP",
        "FN",
        "split",
        "prec",
        "recall",
        "F1",
        "side",
        "FP/h",
        "true/h",
        "pred/h",
    )
    rows = []
    entries = [
        (v.name + (" (missing)" if v.events_path is None else ""), v.result) for v in report.videos
    ]
    if len(report.videos) > 1:
        entries.append(("TOTAL (micro)", report.total))
    for name, r in entries:
        rows.append(
            (
                name,
                str(r.n_truth),
                str(r.n_predicted),
                str(r.tp),
                str(r.fp),
                str(r.fn),
                str(r.splits),
                _fmt(r.precision),
                _fmt(r.recall),
                _fmt(r.f1),
                _fmt(r.side_accuracy),
                _fmt(r.false_per_hour, ".2f"),
                _fmt(r.true_per_hour, ".2f"),
                _fmt(r.predicted_per_hour, ".2f"),
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    p = report.params
    n = len(report.videos)
    title = f"total over {n} videos (counts summed)" if n > 1 else "summary"
    out += ["", f"{title} - tolerance {p.tolerance_s:g} s, regions {p.regions}"]
    out += _summary_lines(report.total)
    return "\n".join(out)


def _evaluate(args: argparse.Namespace) -> EvaluationReport:
    params = EvaluationParams(tolerance_s=args.tolerance, regions=args.regions)
    truth, events = Path(args.truth), Path(args.events)
    if truth.is_dir():
        if not events.is_dir():
            raise SpasmCvError(f"--truth is a folder, so --events must be a folder: {events}")
        report = evaluate_folders(truth, events, params, args.hours, args.missing)
        for v in report.videos:
            if v.events_path is None:
                print(
                    f"spasm-cv: warning: no result for {v.name} "
                    f"({events / v.name / 'events.tsv'} missing); counted as an empty "
                    "prediction",
                    file=sys.stderr,
                )
        return report
    if not truth.exists():
        raise SpasmCvError(f"truth file not found: {truth}")
    video = evaluate_files(truth, events, params, args.hours)
    return EvaluationReport.from_videos([video], params)


def run(args: argparse.Namespace) -> int:
    """Run ``spasm-cv evaluate``; returns the exit code (2 on bad input, message on stderr)."""
    try:
        if args.reviews:
            print(format_agreement(agreement(*args.reviews, args.events, args.tolerance)))
            return 0
        if args.truth is None:
            raise SpasmCvError("give --truth (or --reviews FIRST SECOND)")
        report = _evaluate(args)
        doc = json.dumps(report.to_dict(), indent=2, allow_nan=False)
        if args.json is not None:
            try:
                Path(args.json).write_text(doc + "\n", encoding="utf-8")
            except OSError as e:
                raise SpasmCvError(f"cannot write {args.json}: {e}") from None
        print(doc if args.format == "json" else format_table(report))
    except SpasmCvError as e:
        print(f"spasm-cv: error: {e}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m spasm_cv.evaluation.cli``)."""
    parser = argparse.ArgumentParser(
        prog="spasm-cv evaluate",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
