#!/usr/bin/env bash
# A long fault run of a standalone coordinator and its client processes (not part of CI).
#
#   deploy/faults/fault-run.sh [SECONDS] [WORK_DIR]
#
# Runs `fedarena coordinator --out RUN --auto-resume` (CURVE, keys made per fault run) and
# clients.processes `fedarena client` processes on loopback, each under a supervisor loop that
# restarts it when it exits (as Kubernetes restartPolicy or Slurm --requeue would). For SECONDS
# (default 1800) it SIGKILLs a random client process every 2-6 s and the coordinator every
# 20-50 s; a run that finishes is followed by the next one in a new folder. Then the faults
# stop, the last run is let finish, and every run folder is checked:
#   - metrics.jsonl holds rounds 1..R exactly once each, R = training.rounds (no round lost
#     or recorded twice across the coordinator kills);
#   - every round was applied, or its line says why it was degraded;
#   - `fedarena verify-ledger` accepts the ledger, and summary.json counts R rounds.
# Prints the counts (client kills, coordinator kills, runs, rounds, degraded rounds) and exits
# 0 only if every check passed. Environment: FEDARENA (the binary; default
# .build/debug/fedarena of this checkout), FEDARENA_DATA (Fashion-MNIST folder).
# Start it niced: `nice -n 10 deploy/faults/fault-run.sh 1800`.
set -euo pipefail

duration="${1:-1800}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${2:-$(mktemp -d /tmp/fedarena-faults.XXXXXX)}"
fedarena="${FEDARENA:-$root/.build/debug/fedarena}"
processes=4
export OPENBLAS_NUM_THREADS=1

[[ -x "$fedarena" ]] || { echo "fault-run: no fedarena binary at $fedarena (swift build --product fedarena, or set FEDARENA)" >&2; exit 2; }
mkdir -p "$work/logs"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="tcp://127.0.0.1:$port"

cat >"$work/scenario.yaml" <<'YAML'
name: fault-run
seed: 7
dataset: { name: fashion-mnist, partition: { kind: iid }, train_subset: 4000, test_subset: 1000, root_samples: 100 }
model: { kind: mlp, hidden: [32] }
training: { rounds: 30, local_epochs: 1, batch_size: 32, lr: 0.1 }
clients: { count: 8, per_round: 8, processes: 4, quorum: 0.25 }
defense:
  aggregator: { kind: trimmed-mean, beta: 0.1 }
transport: { endpoint: "tcp://127.0.0.1:0", round_timeout_s: 4, connect_timeout_s: 120 }
YAML
rounds=30
rm -rf "$work/keys"
"$fedarena" keys generate "$work/keys" --clients "$processes" >"$work/logs/keys.txt"

client_kills=0
client_starts=0
coordinator_kills=0
coordinator_starts=0
fresh_restarts=0
run_index=1
coordinator_pid=""
declare -a client_pids

run_dir() { echo "$work/run-$1"; }

start_coordinator() {
  local mode="--auto-resume"
  local folder
  folder="$(run_dir "$run_index")"
  # Killed after the first metrics line but before the first checkpoint: nothing to resume,
  # and --auto-resume refuses the folder; start that run again (the lines are not kept).
  if [[ -f "$folder/metrics.jsonl" && ! -f "$folder/checkpoint.json" && ! -f "$folder/summary.json" ]]; then
    mode="--overwrite"
    fresh_restarts=$((fresh_restarts + 1))
  fi
  "$fedarena" coordinator "$work/scenario.yaml" --bind "$endpoint" --out "$folder" "$mode" \
    --keys "$work/keys" --log-format text >>"$work/logs/coordinator-$run_index.txt" 2>&1 &
  coordinator_pid=$!
  coordinator_starts=$((coordinator_starts + 1))
}

start_client() {
  local index="$1"
  "$fedarena" client --connect "$endpoint" --process-index "$index" --keys "$work/keys" \
    --coordinator-timeout 60 --log-format text >>"$work/logs/client-$index.txt" 2>&1 &
  client_pids[index]=$!
  client_starts=$((client_starts + 1))
}

alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  for pid in "${client_pids[@]}" "$coordinator_pid"; do
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Restarts whatever exited: the coordinator (the next run after a finished one) and clients.
supervise() {
  if ! alive "$coordinator_pid"; then
    local status=0
    if [[ -n "$coordinator_pid" ]]; then { wait "$coordinator_pid"; } 2>/dev/null || status=$?; fi
    if [[ -n "$coordinator_pid" && $status -eq 0 && -f "$(run_dir "$run_index")/summary.json" ]]; then
      echo "$(date -u +%T) run $run_index finished"
      if [[ "${stopping:-0}" == 1 ]]; then return 1; fi
      run_index=$((run_index + 1))
    fi
    start_coordinator
  fi
  for ((index = 0; index < processes; index++)); do
    local pid="${client_pids[index]:-}"
    if ! alive "$pid"; then
      if [[ -n "$pid" ]]; then { wait "$pid"; } 2>/dev/null || true; fi
      start_client "$index"
    fi
  done
  return 0
}

echo "fault run: $duration s in $work (endpoint $endpoint, binary $fedarena)"
start=$SECONDS
next_client_kill=$((SECONDS + 2 + RANDOM % 5))
next_coordinator_kill=$((SECONDS + 20 + RANDOM % 31))
supervise
while ((SECONDS - start < duration)); do
  sleep 0.5
  supervise
  if ((SECONDS >= next_client_kill)); then
    victim=$((RANDOM % processes))
    if alive "${client_pids[victim]}"; then
      kill -KILL "${client_pids[victim]}" && client_kills=$((client_kills + 1))
    fi
    next_client_kill=$((SECONDS + 2 + RANDOM % 5))
  fi
  if ((SECONDS >= next_coordinator_kill)); then
    if alive "$coordinator_pid"; then
      kill -KILL "$coordinator_pid" && coordinator_kills=$((coordinator_kills + 1))
      echo "$(date -u +%T) coordinator killed (run $run_index)"
    fi
    next_coordinator_kill=$((SECONDS + 20 + RANDOM % 31))
  fi
done

echo "$(date -u +%T) faults stop; letting run $run_index finish"
stopping=1
finish_deadline=$((SECONDS + 1200))
while ((SECONDS < finish_deadline)); do
  sleep 1
  supervise || break
done

# Checks every run folder; prints one line per run and the totals.
failed=0
total_rounds=0
total_degraded=0
total_dropped=0
for ((run = 1; run <= run_index; run++)); do
  folder="$(run_dir "$run")"
  if ! line="$(python3 - "$folder" "$rounds" <<'PY'
import json, sys
folder, rounds = sys.argv[1], int(sys.argv[2])
lines = [json.loads(text) for text in open(folder + "/metrics.jsonl") if text.strip()]
numbers = [line["round"] for line in lines]
problems = []
if numbers != list(range(1, rounds + 1)):
    missing = sorted(set(range(1, rounds + 1)) - set(numbers))
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    problems.append(f"rounds missing {missing}, recorded twice {twice}")
unexplained = [line["round"] for line in lines if not line.get("applied") and not line.get("degraded")]
if unexplained:
    problems.append(f"rounds neither applied nor recorded as degraded: {unexplained}")
degraded = sum(1 for line in lines if line.get("degraded"))
dropped = sum(1 for line in lines if line.get("dropped"))
summary = json.load(open(folder + "/summary.json"))
if summary.get("rounds_completed") != rounds:
    problems.append(f"summary.json rounds_completed {summary.get('rounds_completed')}")
print(f"{len(lines)} {degraded} {dropped} {summary.get('model_sha256')} {'; '.join(problems) or 'ok'}")
sys.exit(1 if problems else 0)
PY
  )"; then
    failed=1
  fi
  read -r count degraded dropped sha verdict <<<"$line"
  if "$fedarena" verify-ledger "$folder" >"$work/logs/verify-$run.txt" 2>&1; then ledger=verifies; else ledger="DOES NOT VERIFY"; failed=1; fi
  echo "run $run: $count rounds, $degraded degraded, $dropped with dropouts, ledger $ledger, model_sha256 $sha: $verdict"
  total_rounds=$((total_rounds + count))
  total_degraded=$((total_degraded + degraded))
  total_dropped=$((total_dropped + dropped))
done

{
  echo "seconds: $duration"
  echo "client kills: $client_kills (client starts: $client_starts)"
  echo "coordinator kills: $coordinator_kills (coordinator starts: $coordinator_starts, runs started again without a checkpoint: $fresh_restarts)"
  echo "runs: $run_index, rounds recorded: $total_rounds, degraded rounds: $total_degraded, rounds with dropouts: $total_dropped"
  echo "result: $([[ $failed == 0 ]] && echo PASS || echo FAIL)"
} | tee "$work/fault-summary.txt"
exit "$failed"
