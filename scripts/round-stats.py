#!/usr/bin/env python3
"""Summarise run folders' metrics.jsonl: median seconds per round, pipeline seconds and bytes.

Usage: scripts/round-stats.py [--skip N] RUN_DIR...

Per run: rounds, median `seconds` (TRAIN sent to model evaluated), median `aggregate_seconds`
(the round pipeline: validation, detection, aggregation), median `wait_seconds`, mean
`update_bytes` per round, final accuracy and model_sha256 from summary.json. --skip drops the
first N rounds (default 1: round 1 includes the clients' start-up). Standard library only.
"""

import argparse
import json
import statistics
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip", type=int, default=1)
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    print("| run | rounds | s/round | pipeline s | wait s | update MB/round | accuracy | model_sha256 |")
    print("|---|---|---|---|---|---|---|---|")
    for run in args.runs:
        with open(f"{run}/metrics.jsonl") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        with open(f"{run}/summary.json") as handle:
            summary = json.load(handle)
        kept = rows[args.skip:] or rows
        seconds = statistics.median(row["seconds"] for row in kept)
        pipeline = statistics.median(row["aggregate_seconds"] for row in kept)
        wait = statistics.median(row["wait_seconds"] for row in kept)
        sizes = [row.get("update_bytes") for row in rows if row.get("update_bytes") is not None]
        size = f"{statistics.mean(sizes) / 1e6:.3f}" if sizes else "-"
        print(f"| {run} | {len(rows)} | {seconds:.3f} | {pipeline:.3f} | {wait:.3f} | {size} | "
              f"{summary['final_accuracy']:.4f} | {summary['model_sha256'][:12]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
