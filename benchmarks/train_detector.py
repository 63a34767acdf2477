"""Fit the episode rule's confidence model on every person of the development phantom set.

    pip install ".[train]"                       # scikit-learn, for fitting only
    python benchmarks/make_phantom_set.py         # once: phantoms of every person
    python benchmarks/person_heldout.py           # figures on held-out people
    python benchmarks/train_detector.py [--set DIR] [--work DIR] [--out PATH]

Data: every candidate one-sided contraction (``spasm_cv.events.candidates``) in the
phantoms, training phantoms and uninjected loops of every person of ``people.tsv``; a
candidate is positive when it matches a placed episode (same side, within 0.25 s). The
decision itself is a rule with fixed thresholds (``spasm_cv.events.decide``); what is fitted
here is its confidence: a logistic score, calibrated on people left out of its fit
(person-wise cross-fitting, see ``detector_training.py``). The figures to quote are
``person_heldout.py``'s, which refits this without each fold's people; the model written
here, fitted on everyone, is what ships.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))

from detector_training import (  # noqa: E402
    RULE_GRID,
    candidate_table,
    choose_rule,
    fit_confidence,
)
from person_heldout import cache_all, read_people  # noqa: E402

from spasm_cv.evaluation.tables import read_truth  # noqa: E402
from spasm_cv.events.candidates import FEATURES  # noqa: E402
from spasm_cv.events.decide import DEFAULT_MODEL  # noqa: E402
from spasm_cv.events.params import DetectionParams  # noqa: E402

OUT = REPO / "src" / "spasm_cv" / "events" / "models" / DEFAULT_MODEL


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("/tmp/spasm_phantom_set"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/spasm_heldout"))
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if not (args.set / "people.tsv").is_file():
        print(f"no {args.set / 'people.tsv'}: run benchmarks/make_phantom_set.py first")
        return 2
    videos = [v for v in read_people(args.set) if v.path.is_file()]
    signals = cache_all(videos, args.work, args.jobs)
    tables = [candidate_table(signals[v.name], read_truth(v.truth)) for v in videos]
    hours = sum(len(signals[v.name]) / signals[v.name].fps / 3600.0 for v in videos)
    people = sorted({v.person for v in videos})
    n_pos = int(sum(t.y.sum() for t in tables))
    n_all = int(sum(len(t.y) for t in tables))
    name = DEFAULT_MODEL.removesuffix(".json")
    description = (
        f"confidence of the episode rule: a logistic score over the {len(FEATURES)} "
        "candidate features, calibrated (isotonic) on people left out of the score's fit; "
        f"fitted on {n_all} candidates ({n_pos} placed episodes) from {len(videos)} videos "
        f"({hours:.2f} h) of {len(people)} people of ../shared/videos (phantoms with "
        "one-sided episodes composited from each person's own closed eyelid, and the same "
        "faces without episodes)"
    )
    scored_hours = sum(
        len(signals[v.name]) / signals[v.name].fps / 3600.0 for v in videos if v.role != "training"
    )
    groups = [v.person for v in videos]
    rule = choose_rule(tables, groups, [v.role != "training" for v in videos], scored_hours)
    chosen = {k: rule.to_dict()[k] for k in RULE_GRID}
    defaults = {k: DetectionParams().to_dict()[k] for k in RULE_GRID}
    print(f"rule thresholds chosen on everyone: {chosen}")
    if chosen != defaults:
        print(f"note: DetectionParams defaults are {defaults}: update them to ship these")
    model = fit_confidence(tables, groups, name, description, rule)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_dict(), indent=1) + "\n")
    print(f"wrote {args.out}")
    print(description)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
