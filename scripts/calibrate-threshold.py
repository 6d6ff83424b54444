#!/usr/bin/env python3
"""Pick detection thresholds from attack-free calibration runs, before the evaluated runs.

Usage: scripts/calibrate-threshold.py [--target-fpr 0.01] [--per-detector [--smoothing 0.5]] RUN_DIR...

Pools the fused suspicion score (`detection.scores` in metrics.jsonl) of every honest
client-round (clients not listed in the round's `attacking`) of the given run folders, and
prints their count, quantiles and maximum, and the threshold for a false-positive rate of
--target-fpr on them: their (1 - target) quantile (linear interpolation), rounded up to 0.01
(--target-fpr 0: above the maximum). Run it on seeds that the evaluation does not use
(scenarios/sweeps/training-audit-calibration.yaml), so the threshold is not tuned on the runs it
is then judged on.

--per-detector also prints `detector_thresholds` for `defense.detection_policy`: per detector
(`detection.detector_scores`), each client's scores smoothed over rounds with the policy's EMA
(--smoothing, the policy's default 0.5), and the (1 - target / m) quantile of the honest
client-rounds, rounded up to 0.01, where m counts the detectors whose honest scores are not all
0 (the others, such as a verification that never fails on honest clients, get none): a union
bound keeps the share of honest client-rounds above some detector's threshold at about the
target. The fusion smooths the max of the mapped scores rather than each detector's own, which
can only put a score higher, so the realised rate may exceed the target slightly: measure it.

Exits with status 1 when no run holds a detection score. Standard library only.
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


def rows(run):
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
                yield json.loads(line)
            except json.JSONDecodeError as error:
                sys.exit(f"calibrate-threshold: {path} line {number} is not JSON: {error}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--per-detector", action="store_true")
    parser.add_argument("--smoothing", type=float, default=0.5)
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    if not 0 <= args.target_fpr < 1:
        sys.exit(f"calibrate-threshold: --target-fpr must be in [0, 1), got {args.target_fpr}")
    if not 0 <= args.smoothing < 1:
        sys.exit(f"calibrate-threshold: --smoothing must be in [0, 1), got {args.smoothing}")
    scores = []
    per_detector = {}
    for run in args.runs:
        smoothed = {}
        for row in rows(run):
            detection = row.get("detection") or {}
            attacking = {str(client) for client in row.get("attacking") or []}
            for client, score in (detection.get("scores") or {}).items():
                if client not in attacking and score is not None:
                    scores.append(float(score))
            if not args.per_detector:
                continue
            own = detection.get("detector_scores")
            if own is None:
                sys.exit(f"calibrate-threshold: {run}/metrics.jsonl has no detection.detector_scores (written by an older fedarena)")
            for detector, by_client in own.items():
                for client, score in by_client.items():
                    value = float(score or 0)
                    key = (detector, client)
                    smoothed[key] = value if key not in smoothed else args.smoothing * smoothed[key] + (1 - args.smoothing) * value
                    if client not in attacking:
                        per_detector.setdefault(detector, []).append(smoothed[key])
    if not scores:
        sys.exit("calibrate-threshold: no detection scores in the given runs")

    def threshold(values, target):
        cut = max(values) if target == 0 else quantile(values, 1 - target)
        return round(math.floor(cut * 100) / 100 + 0.01, 2)

    result = {
        "honest_client_rounds": len(scores),
        "median": round(quantile(scores, 0.5), 4),
        "q95": round(quantile(scores, 0.95), 4),
        "q99": round(quantile(scores, 0.99), 4),
        "max": round(max(scores), 4),
        "target_fpr": args.target_fpr,
        "threshold": threshold(scores, args.target_fpr),
    }
    if args.per_detector:
        varying = sorted(d for d, values in per_detector.items() if max(values) > 0)
        result["detector_thresholds"] = {d: threshold(per_detector[d], args.target_fpr / len(varying)) for d in varying}  # {} when none varies
        result["detector_max"] = {d: round(max(per_detector[d]), 4) for d in varying}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
