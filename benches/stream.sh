#!/usr/bin/env bash
# Streaming figures with the shared peerbench driver: a scripted answer from
# a loopback server into the release binary in tmux, measured as the
# terminal sees it. Prints each run's JSON and the medians.
#
# usage: benches/stream.sh [RUNS]     from the project root
#   needs tmux and python3; peerbench lives in ../shared/peerbench
set -euo pipefail
RUNS=${1:-5}
PEERBENCH=${PEERBENCH:-../shared/peerbench}
cargo build --release --quiet
run() {  # LABEL ARGS...
  local label=$1; shift
  local out=()
  for _ in $(seq "$RUNS"); do
    out+=("$("$PEERBENCH/run.sh" "$@" | tail -n 1)")
    # The driver's `script` wrapper outlives the tmux session it kills and
    # keeps tandem's terminal open; end it, so runs do not pile up.
    pkill -f "script -qfc env OPENAI_BASE_URL=http://127.0.0.1:${PORT:-18080}/" || true
    echo "$label ${out[-1]}" >&2
  done
  printf '%s\n' "${out[@]}" | python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
keys = ["answer_s", "stream_cpu_s", "stream_bytes", "rss_peak_kb", "idle_cpu_pct"]
med = {k: statistics.median(r[k] for r in rows if k in r) for k in keys if any(k in r for r in rows)}
print(sys.argv[1], json.dumps(med))' "$label"
}
run "1500 tokens at 100/s, 120x40:" 1500 100 120 40
run "1500 tokens at 100/s, 80x24: " 1500 100 80 24
run "3000 tokens at full speed:   " 3000 0 120 40
