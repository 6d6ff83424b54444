#!/usr/bin/env python3
"""Pick a detection threshold from attack-free calibration runs, before the evaluated runs.

Usage: scripts/calibrate-threshold.py [--target-fpr 0.01] RUN_DIR...

Pools the fused suspicion score (`detection.scores` in metrics.jsonl) of every honest
client-round (clients not listed in the round's `attacking`) of the given run folders, and
prints their count, quantiles and maximum, and the threshold for a false-positive rate of
--target-fpr on them: their (1 - target) quantile (linear interpolation), rounded up to 0.01
(--target-fpr 0: above the maximum). Run it on seeds that the evaluation does not use
(scenarios/sweeps/training-audit-calibration.yaml), so the threshold is not tuned on the runs it
is then judged on. Exits with status 1 when no run holds a detection score. Standard library only.
"""

import argparse
import json
import math
import sys


def quantile(values, q):
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    scores = []
    for run in args.runs:
        path = f"{run}/metrics.jsonl"
        try:
            handle = open(path)
        except OSError as error:
            sys.exit(f"calibrate-threshold: cannot read {path}: {error}")
        with handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    sys.exit(f"calibrate-threshold: {path} line {number} is not JSON: {error}")
                detection = row.get("detection") or {}
                attacking = {str(client) for client in row.get("attacking") or []}
                for client, score in (detection.get("scores") or {}).items():
                    if client not in attacking and score is not None:
                        scores.append(float(score))
    if not scores:
        sys.exit("calibrate-threshold: no detection scores in the given runs")
    if not 0 <= args.target_fpr < 1:
        sys.exit(f"calibrate-threshold: --target-fpr must be in [0, 1), got {args.target_fpr}")
    cut = max(scores) if args.target_fpr == 0 else quantile(scores, 1 - args.target_fpr)
    threshold = math.floor(cut * 100) / 100 + 0.01
    print(json.dumps({
        "honest_client_rounds": len(scores),
        "median": round(quantile(scores, 0.5), 4),
        "q95": round(quantile(scores, 0.95), 4),
        "q99": round(quantile(scores, 0.99), 4),
        "max": round(max(scores), 4),
        "target_fpr": args.target_fpr,
        "threshold": round(threshold, 2),
    }))


if __name__ == "__main__":
    main()
