#!/usr/bin/env python3
"""Run a command and report the peak resident memory of it and of every process it starts.

Usage: scripts/peak-rss.py [--interval S] [--json FILE] -- COMMAND [ARGS...]

Every INTERVAL seconds (default 0.1) it walks the process tree under COMMAND through /proc
and reads each process's VmHWM (the kernel's own peak resident set size, which only grows, so
a sample taken before the process exits is its peak up to then; memory touched and released
between the last sample and the exit is missed). At the end it prints one line per process
(pid, peak MiB, command line), the largest peak, and the sum of the peaks, which bounds the
machine-wide peak from above (the processes need not peak at the same moment).

Standard library only; Linux only.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def children_of(pid):
    """Direct children of pid, from /proc/PID/task/*/children."""
    result = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    result.extend(int(child) for child in handle.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return result


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--json", help="also write the per-process peaks here")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    root = subprocess.Popen(command)
    peaks = {}  # pid -> (kib, cmdline)
    while root.poll() is None:
        stack = [root.pid]
        while stack:
            pid = stack.pop()
            kib = status_kib(pid, "VmHWM")
            if kib is not None:
                previous = peaks.get(pid)
                name = previous[1] if previous else command_line(pid)
                peaks[pid] = (max(kib, previous[0] if previous else 0), name)
            stack.extend(children_of(pid))
        time.sleep(args.interval)

    rows = sorted(peaks.items(), key=lambda item: -item[1][0])
    for pid, (kib, name) in rows:
        print(f"peak-rss pid {pid}: {kib / 1024:8.1f} MiB  {name[:120]}", file=sys.stderr)
    total = sum(kib for kib, _ in peaks.values())
    largest = max((kib for kib, _ in peaks.values()), default=0)
    print(f"peak-rss processes {len(peaks)}, largest {largest / 1024:.1f} MiB, sum of peaks {total / 1024:.1f} MiB",
          file=sys.stderr)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"processes": [{"pid": pid, "peak_mib": kib / 1024, "command": name}
                                     for pid, (kib, name) in rows],
                       "sum_mib": total / 1024, "largest_mib": largest / 1024}, handle, indent=1)
    return root.returncode


if __name__ == "__main__":
    sys.exit(main())
