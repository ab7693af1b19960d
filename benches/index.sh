#!/usr/bin/env bash
# Repository index benchmark; needs no network.
#
# Builds examples/index_bench in release mode, makes two Rust corpora (>= 50k and >= 500k
# lines) from the dependency sources cargo already downloaded (~/.cargo/registry/src),
# duplicating directories when there is not enough source, then prints per corpus:
# files, lines, cold wall time on 2 threads, bare 1-thread parse time and their ratio,
# warm-from-cache time and ratio, one-file update + map time, and peak RSS.
# Cold and bare runs are repeated ROUNDS times (default 5), interleaved, and medians
# are shown: a shared machine drifts by tens of percent from one minute to the next.
#
# Usage: benches/index.sh [small_lines] [large_lines]   (defaults 50000 500000)
set -euo pipefail
cd "$(dirname "$0")/.."

SMALL=${1:-50000}
LARGE=${2:-500000}
THREADS=2
ROUNDS=${ROUNDS:-5}
WORK=${TMPDIR:-/tmp}/tandem-index-bench
REGISTRY=${CARGO_HOME:-$HOME/.cargo}/registry/src

cargo build --release --offline --example index_bench 2>/dev/null || cargo build --release --example index_bench
BIN=$PWD/target/release/examples/index_bench
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (GNU time) for peak RSS" >&2; exit 1; }

# The corpora are Rust only: the peers' figures this is compared with are for Rust
# repositories, and crates also ship C, JavaScript and Python files of their own.
count_lines() {
    find "$1" -type f -name '*.rs' -print0 | xargs -0 -r cat | wc -l
}

# make_corpus DIR MIN_LINES: copies crates' Rust sources until MIN_LINES, then duplicates copies.
make_corpus() {
    local dir=$1 min=$2 lines=0 crate n dest
    rm -rf "$dir"
    mkdir -p "$dir/src"
    for crate in "$REGISTRY"/*/*/; do
        [[ -d $crate ]] || continue
        # -sys crates are mostly generated FFI bindings (aws-lc-sys ships a dozen
        # 950 KB files), unlike the repositories people open.
        [[ $(basename "$crate") == *-sys-* ]] && continue
        n=$(count_lines "$crate")
        ((n > 0)) || continue
        dest=$dir/src/$(basename "$crate")
        mkdir -p "$dest"
        (cd "$crate" && find . -type f -name '*.rs' -print0 | tar --null -T - -cf -) | tar -C "$dest" -xf -
        lines=$((lines + n))
        ((lines >= min)) && break
    done
    ((lines > 0)) || { echo "no crate sources under $REGISTRY (run cargo fetch once)" >&2; exit 1; }
    local copy=1 base=$lines
    while ((lines < min)); do
        cp -r "$dir/src" "$dir/copy$copy"
        lines=$((lines + base))
        copy=$((copy + 1))
    done
}

field() { sed -n "s/^$1: //p" "$2" | head -n1; }

run() {
    local name=$1 dir=$2 out=$WORK/$1.out rss=$WORK/$1.rss
    "$BIN" "$dir" "$THREADS" --rounds "$ROUNDS" >"$out"
    # Peak memory of a cold build + map alone (the full run also holds a second index).
    /usr/bin/time -v "$BIN" "$dir" "$THREADS" --cold-only >/dev/null 2>"$rss"
    local kb
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$rss")
    echo "== $name corpus ($dir)"
    printf '  files %s, lines %s\n' "$(field files "$out")" "$(field lines "$out")"
    printf '  cold (index + map, %s threads): %s ms   (median of %s: %s)\n' "$THREADS" "$(field cold_ms "$out")" \
        "$ROUNDS" "$(field cold_rounds_ms "$out")"
    printf '    phases: %s\n' "$(field cold_phases_ms "$out")"
    printf '  bare parse (1 thread): %s ms   (%s)\n' "$(field bare_parse_1t_ms "$out")" "$(field bare_parse_1t_rounds_ms "$out")"
    printf '  cold/bare: %s   (median of the rounds'"'"' ratios; target <= 0.75)\n' "$(field cold_over_bare "$out")"
    printf '  bare parse (%s threads): %s ms   speedup %s (what the machine gives a perfect split)\n' \
        "$THREADS" "$(field "bare_parse_${THREADS}t_ms" "$out")" "$(field bare_speedup "$out")"
    printf '  warm from cache: %s ms   warm/cold: %s   (target <= 0.10)\n' \
        "$(field warm_ms "$out")" "$(field warm_over_cold "$out")"
    printf '  map at 2048 tokens: %s\n' "$(field map_2048_ms "$out")"
    printf '  one-file update + map: %s   (target <= 20 ms)\n' "$(field update_one_plus_map_ms "$out")"
    printf '  peak RSS (cold build + map): %s MB   (target <= 150 MB at 600k lines)\n' "$((kb / 1024))"
}

mkdir -p "$WORK"
make_corpus "$WORK/small" "$SMALL"
make_corpus "$WORK/large" "$LARGE"
run small "$WORK/small"
run large "$WORK/large"
