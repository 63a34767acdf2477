"""``spasm-cv import-review RESULT EDITED.eaf``: an ELAN file edited by a reviewer, read back
as review decisions (review.tsv) of the result folder it was exported from."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

DESCRIPTION = """\
Read an ELAN file that `spasm-cv export --format elan` wrote and a reviewer edited in ELAN,
and append what the reviewer did to the result folder's review.tsv (the detector's
events.tsv is not changed): an episode's annotation deleted is rejected; a value picked on
its _review tier (accepted, rejected, unsure) is that decision; an annotation moved to the
other side's tier, given another kind, moved in time, or dragged from a possible tier to a
spasm tier is accepted with the correction; an annotation added on a spasm_<side> tier is an
added episode. Untouched annotations decide nothing. Then `report --reviewed` and
`export --reviewed` count what the review confirmed."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``import-review`` on ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "import-review",
        help="read an ELAN file edited by a reviewer back as review decisions (review.tsv)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("result", metavar="RESULT", help="the result folder the .eaf was exported from")
    p.add_argument("eaf", metavar="EDITED.eaf", help="the ELAN file, edited")
    p.add_argument(
        "--reviewer",
        default="reviewer",
        metavar="NAME",
        help="who reviewed (written in review.tsv)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from spasm_cv.errors import SpasmCvError
    from spasm_cv.export.elan_review import review_decisions
    from spasm_cv.results.files import read_events
    from spasm_cv.results.review import (
        append_decisions,
        events_sha256,
        next_added_id,
        read_review,
    )

    folder = Path(args.result)
    if not (folder / "events.tsv").is_file():
        raise SpasmCvError(f"not a result folder (no events.tsv): {folder}")
    sha = events_sha256(folder)
    decisions = review_decisions(args.eaf, read_events(folder), sha)
    earlier = read_review(folder, sha)
    numbered = []
    for d in decisions:  # added episodes get ids after the review's earlier ones
        if d.decision == "added":
            d = replace(d, event=next_added_id([*earlier, *numbered]))
        numbered.append(replace(d, reviewer=args.reviewer))
    if numbered:
        append_decisions(folder, numbered)
    counts = Counter(d.decision for d in numbered)
    said = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing changed"
    print(f"import-review: {said} -> {folder / 'review.tsv'}")
    return 0
