#!/usr/bin/env bash
# Map-quality benchmark: does the repo map list the other files a real change touched?
# Not part of CI (it needs repositories with history and, for the baseline, PyPI).
#
# For each git directory given, examples/map_quality picks the newest first-parent,
# non-merge commits that modified 2–6 .rs files, indexes each parent tree, asks for
# the map with the most-changed file in focus and the commit subject as the user's
# words, and counts how many of the other modified files the map lists. Then
# benches/aider_map.py runs Aider's RepoMap on the same commits for the baseline.
#
# Repositories: any full clone works, bare is fine, e.g.
#   git clone --bare https://github.com/BurntSushi/ripgrep
# (the figures in README.md are for ripgrep, serde-rs/serde and clap-rs/clap).
# Nothing from them is committed here; trees are written to temporary directories
# and removed.
#
# Aider is installed (aider-chat from PyPI) into target/bench-venv on first use.
#
# Usage: benches/map_quality.sh [--commits N] [--budgets 1024,4096] [--no-aider]
#                               [--full-history] [--table-only] GITDIR...
# Per-commit results go to target/map-quality/<repo>.{tandem,aider}.jsonl;
# --table-only prints the table from those files without running anything.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMITS=100
BUDGETS=1024,4096
AIDER=1
RUN=1
EXTRA=()
DIRS=()
while (($#)); do
    case $1 in
        --commits) COMMITS=$2; shift 2 ;;
        --budgets) BUDGETS=$2; shift 2 ;;
        --no-aider) AIDER=0; shift ;;
        --full-history) EXTRA+=(--full-history); shift ;;
        --table-only) RUN=0; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) DIRS+=("$1"); shift ;;
    esac
done
((${#DIRS[@]})) || { echo "usage: $0 [--commits N] [--budgets LIST] [--no-aider] [--full-history] GITDIR..." >&2; exit 2; }

OUT=$PWD/target/map-quality
VENV=$PWD/target/bench-venv
AIDER_VERSION=0.86.2
mkdir -p "$OUT"

if ((RUN)); then
    cargo build --release --offline --example map_quality 2>/dev/null || cargo build --release --example map_quality
    BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/map_quality
    if ((AIDER)) && ! "$VENV/bin/python" -c 'import aider.repomap' 2>/dev/null; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q "aider-chat==$AIDER_VERSION"
    fi
fi

# repo name from a git dir: /x/BurntSushi+ripgrep/repo -> ripgrep, /x/serde.git -> serde
repo_name() {
    local d=${1%/}
    d=${d%/.git}
    d=${d%/repo}
    d=$(basename "$d")
    d=${d##*+}
    echo "${d%.git}"
}

NAMES=()
for dir in "${DIRS[@]}"; do
    name=$(repo_name "$dir")
    NAMES+=("$name")
    ((RUN)) || continue
    echo "== $name: tandem" >&2
    start=$SECONDS
    "$BIN" "$dir" --commits "$COMMITS" --budgets "$BUDGETS" --out "$OUT/$name.tandem.jsonl" "${EXTRA[@]}" \
        | tee "$OUT/$name.tandem.txt"
    echo "$((SECONDS - start))" >"$OUT/$name.tandem.seconds"
    if ((AIDER)); then
        echo "== $name: aider" >&2
        start=$SECONDS
        "$VENV/bin/python" benches/aider_map.py "$dir" "$OUT/$name.tandem.jsonl" --out "$OUT/$name.aider.jsonl" \
            | tee "$OUT/$name.aider.txt"
        echo "$((SECONDS - start))" >"$OUT/$name.aider.seconds"
    fi
done

python3 - "$OUT" "$AIDER" "${NAMES[@]}" <<'EOF'
import json, os, sys

out, aider, names = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]

def load(path):
    if not os.path.exists(path):
        return {}
    return {r["sha"]: r for r in map(json.loads, open(path)) if r}

def share(rows, budget):
    hits = others = 0
    per = []
    for r in rows:
        b = next(x for x in r["budgets"] if x["tokens"] == budget)
        hits += len(b["hits"])
        others += len(r["others"])
        per.append(len(b["hits"]) / len(r["others"]))
    return (hits / others if others else 0.0), (sum(per) / len(per) if per else 0.0)

def cell(micro, macro):
    return f"{micro:6.1%} ({macro:5.1%})"

def secs(name, tool):
    p = os.path.join(out, f"{name}.{tool}.seconds")
    return open(p).read().strip() + "s" if os.path.exists(p) else "-"

print()
print(f"{'repo':<10} {'commits':>7} {'budget':>6}  {'tandem':<15} {'aider':<15} {'ratio':>5}   seconds tandem/aider")
pooled_t, pooled_a = [], []
budgets = None
for name in names:
    t = load(os.path.join(out, f"{name}.tandem.jsonl"))
    a = load(os.path.join(out, f"{name}.aider.jsonl")) if aider else {}
    shas = [s for s in t if not aider or s in a]
    rows_t, rows_a = [t[s] for s in shas], [a[s] for s in shas if s in a]
    pooled_t += rows_t
    pooled_a += rows_a
    budgets = [b["tokens"] for b in rows_t[0]["budgets"]] if rows_t else []
    for b in budgets:
        tm, tM = share(rows_t, b)
        line = f"{name:<10} {len(shas):>7} {b:>6}  {cell(tm, tM)}"
        if rows_a:
            am, aM = share(rows_a, b)
            ratio = f"{tm / am:5.2f}" if am else "    -"
            line += f" {cell(am, aM)} {ratio}"
        else:
            line += f" {'-':<15} {'-':>5}"
        print(line + f"   {secs(name, 'tandem')}/{secs(name, 'aider')}")
if len(names) > 1 and budgets:
    for b in budgets:
        tm, tM = share(pooled_t, b)
        line = f"{'all':<10} {len(pooled_t):>7} {b:>6}  {cell(tm, tM)}"
        if pooled_a:
            am, aM = share(pooled_a, b)
            line += f" {cell(am, aM)} {tm / am if am else 0:5.2f}"
        print(line)
print("\nshare = other changed files listed / all other changed files (pooled); in brackets: per-commit mean")
EOF
