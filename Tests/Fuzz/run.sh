#!/usr/bin/env bash
# Builds the libFuzzer targets of Tests/Fuzz (swiftc -sanitize=fuzzer,address) and runs each
# for SECONDS (default 600), niced, with a seed corpus. Not part of `swift test` or CI.
#
#   Tests/Fuzz/run.sh [SECONDS] [wire|scenario|all]
#
# Output: Tests/Fuzz/.work/<target>/{corpus,crashes,log.txt}; the last lines of each log give
# the executions (#N ... DONE) and any crash (a crash-* file under crashes/).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
which="${2:-all}"
root="$(cd ../.. && pwd)"
scratch="$PWD/.build"

nice swift build -c release --scratch-path "$scratch" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
  -Xcc -fsanitize=fuzzer-no-link,address
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"

run() {
  local target="$1" seeds="$2"
  local work="$PWD/.work/$target"
  mkdir -p "$work/corpus" "$work/crashes"
  cp -n "$seeds"/* "$work/corpus/" 2>/dev/null || true
  echo "fuzzing $target for $seconds s (log: $work/log.txt)"
  # -rss_limit_mb: the 1 MiB message limit keeps inputs small; -timeout flags a hang.
  nice "$bin/$target" "$work/corpus" -artifact_prefix="$work/crashes/" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$work/log.txt" 2>&1 || true
  tail -n 25 "$work/log.txt" | grep -E "Done|DONE|stat::number_of_executed_units|crash|ERROR|SUMMARY" || true
  echo "crashes: $(find "$work/crashes" -type f | wc -l)"
}

if [[ "$which" == all || "$which" == wire ]]; then
  seeds="$PWD/.work/seeds-wire"
  python3 "$PWD/make_wire_seeds.py" "$seeds"
  run FuzzWireDecoder "$seeds"
fi
if [[ "$which" == all || "$which" == scenario ]]; then
  seeds="$PWD/.work/seeds-scenario"
  mkdir -p "$seeds"
  find "$root/scenarios" -name '*.yaml' -exec cp {} "$seeds/" \;
  run FuzzScenarioParser "$seeds"
fi
