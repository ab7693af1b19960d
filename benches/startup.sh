#!/usr/bin/env bash
# Launch to first frame, in a generated repository of 100k files (committed,
# so git has a 100k-entry index) and, as the baseline in the same run, in a
# repository of one file. Nothing on tandem's start path should grow with the
# repository, so the two figures should be about equal.
#
# usage: benches/startup.sh [FILES] [RUNS]     from the project root
set -euo pipefail
FILES=${1:-100000}
RUNS=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
cargo build --release --quiet
BIN=$(realpath target/release/tandem)
BIG=${TANDEM_BENCH_DIR:-/tmp/tandem-bench}/repo-$FILES
SMALL=${TANDEM_BENCH_DIR:-/tmp/tandem-bench}/repo-1

make_repo() {  # DIR COUNT
  [ -f "$1/.git/bench-complete" ] && return
  rm -rf "$1" && mkdir -p "$1"
  python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"src/m{i // 10000}/d{(i // 100) % 100}")
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.rs"), "w") as f:
        f.write(f"pub fn f{i}() -> u64 {{ {i} }}\n")
PY
  git -C "$1" init -q
  git -C "$1" add -A
  git -C "$1" -c user.name=bench -c user.email=bench@example.com commit -qm "generated" --no-verify
  touch "$1/.git/bench-complete"
}

echo "preparing repositories (the first run takes a minute)..." >&2
make_repo "$SMALL" 1
make_repo "$BIG" "$FILES"
echo "baseline, 1 file:"
python3 "$HERE/first_frame.py" "$BIN" "$SMALL" --runs "$RUNS"
echo "$FILES files:"
python3 "$HERE/first_frame.py" "$BIN" "$BIG" --runs "$RUNS"
