#!/usr/bin/env bash
# Fuzzing msgstore's C ABI with libFuzzer on the stable toolchain, then a valgrind replay of
# the committed corpus.
#
#   bash fuzz/run.sh                     # CI: each target FUZZ_SECONDS (25) s, then valgrind
#   FUZZ_SECONDS=600 bash fuzz/run.sh    # long run: 10 minutes per target
#   bash fuzz/run.sh minimize            # fold the new inputs of earlier runs into the corpus
#
# Environment: FUZZ_SECONDS (per target), FUZZ_TARGETS (a subset, space-separated),
# FUZZ_JOBS (targets fuzzed at once; default: the number of CPUs), FUZZ_VALGRIND=0 (skip the
# replay; CI must not). Exits non-zero on any crash, hang, leak, failed check or valgrind error.
#
# Crashes: libFuzzer leaves the input in fuzz/artifacts/TARGET/ (crash-*, timeout-*, oom-*).
# Reproduce with `fuzz/target/<host>/release/replay TARGET FILE`; once fixed, commit the file
# as fuzz/corpus/TARGET/regress-<what> so every later run replays it (under valgrind too).
# New inputs a run finds go to fuzz/artifacts/new/TARGET/; `minimize` merges them into the
# committed corpus with libFuzzer's -set_cover_merge=1 (only inputs that add coverage stay).
#
# Build: the fuzz crate is compiled with the flags cargo-fuzz passes (sancov module pass,
# inline 8-bit counters, PC table, compare tracing, --cfg fuzzing) plus debug assertions and
# overflow checks, by plain `cargo build` — no cargo-fuzz install. The crate keeps cargo-fuzz's
# layout, so `cargo fuzz run TARGET -s none` should work too (not tested: it is not installed
# here).
set -euo pipefail
cd "$(dirname "$0")"

FUZZ_SECONDS=${FUZZ_SECONDS:-25}
FUZZ_TARGETS=${FUZZ_TARGETS:-"propdata message entry_ids store_file tables named streams"}
FUZZ_VALGRIND=${FUZZ_VALGRIND:-1}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
MODE=${1:-run}

# Longest input per target: room for the op-driven targets' longest runs of operations
# (libFuzzer starts short and grows them); store files a few pages (the seeds are
# 4.5–7.5 KiB).
max_len() {
  case "$1" in
    propdata) echo 2048 ;;
    message) echo 4096 ;;
    entry_ids) echo 2048 ;;
    store_file) echo 16384 ;;
    tables) echo 4096 ;;
    named) echo 4096 ;;
    streams) echo 4096 ;;
    *) echo 4096 ;;
  esac
}

host=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cdebug-assertions -Coverflow-checks"
# --target keeps RUSTFLAGS off build scripts (cbindgen, SQLite's cc build) and proc macros.
echo "==== fuzz: build ($host)"
cargo build --release --locked --target "$host" --bins
bin="target/$host/release"

for t in $FUZZ_TARGETS; do
  [[ -x "$bin/$t" ]] || { echo "fuzz: unknown target $t" >&2; exit 2; }
  mkdir -p "corpus/$t" "artifacts/$t" "artifacts/new/$t"
done

if [[ "$MODE" == minimize ]]; then
  for t in $FUZZ_TARGETS; do
    merged=$(mktemp -d)
    # A greedy set cover over edges (hit counts ignored) keeps the committed corpus to tens
    # or a few hundred files; long runs regrow the rest from it.
    "$bin/$t" -set_cover_merge=1 -use_counters=0 -timeout=10 -max_len="$(max_len "$t")" \
      "$merged" "corpus/$t" "artifacts/new/$t" 2>"artifacts/$t/merge.log" || {
      echo "fuzz: merge of $t failed (artifacts/$t/merge.log)" >&2
      exit 1
    }
    # Regression inputs are kept whatever their coverage.
    find "corpus/$t" -maxdepth 1 -type f ! -name 'regress-*' -delete
    for f in "$merged"/*; do
      [[ -f "$f" ]] || continue
      dup=0
      for r in "corpus/$t"/regress-*; do
        [[ -f "$r" ]] && cmp -s "$f" "$r" && dup=1
      done
      ((dup)) || cp "$f" "corpus/$t/"
    done
    rm -rf "$merged" "artifacts/new/$t"
    echo "fuzz: $t corpus: $(find "corpus/$t" -type f | wc -l) files"
  done
  exit 0
fi
[[ "$MODE" == run ]] || { echo "usage: fuzz/run.sh [run|minimize]" >&2; exit 2; }

# One target: fuzz for FUZZ_SECONDS from the committed corpus (read-only: new inputs go to
# artifacts/new/TARGET), then summarise.
fuzz_one() {
  local t=$1 log="artifacts/$t/fuzz.log" rc=0
  touch "artifacts/$t/.start"
  "$bin/$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -max_len="$(max_len "$t")" -artifact_prefix="artifacts/$t/" \
    "artifacts/new/$t" "corpus/$t" >"$log" 2>&1 || rc=$?
  local execs cov new=0 f
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  # New inputs of this run (libFuzzer also copies committed ones there as it loads them).
  while IFS= read -r f; do
    [[ -e "corpus/$t/$(basename "$f")" ]] || new=$((new + 1))
  done < <(find "artifacts/new/$t" -type f -newer "artifacts/$t/.start")
  printf '%-10s %10s executions in %ss, corpus %d committed + %d new, %s\n' "$t" \
    "${execs:-?}" "$FUZZ_SECONDS" "$(find "corpus/$t" -type f | wc -l)" "$new" \
    "${cov:-cov: ?}" >"artifacts/$t/summary"
  if ((rc != 0)); then
    {
      echo "fuzz: $t FAILED (libFuzzer exit $rc); the end of artifacts/$t/fuzz.log:"
      grep -v -E '^#[0-9]+|NEW_FUNC' "$log" | tail -40 || true
      echo "fuzz: the input(s) that failed, kept for a regression test:"
      find "artifacts/$t" -maxdepth 1 -type f -newer "artifacts/$t/.start" \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) |
        sed 's|^|  fuzz/|' || true
      echo "fuzz: reproduce with: fuzz/$bin/replay $t FILE"
    } >>"artifacts/$t/summary"
    return 1
  fi
}

echo "==== fuzz: $FUZZ_SECONDS s per target, $FUZZ_JOBS at a time: $FUZZ_TARGETS"
failed=0
pids=()
names=()
for t in $FUZZ_TARGETS; do
  rm -f "artifacts/$t/summary"
  fuzz_one "$t" &
  pids+=($!)
  names+=("$t")
  if ((${#pids[@]} >= FUZZ_JOBS)); then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
for t in "${names[@]}"; do cat "artifacts/$t/summary"; done
if ((failed)); then
  echo "fuzz: FAILED: a target crashed, hung or failed a check (inputs in fuzz/artifacts/)"
  exit 1
fi

if [[ "$FUZZ_VALGRIND" == 0 ]]; then
  echo "==== fuzz: valgrind replay skipped (FUZZ_VALGRIND=0)"
  exit 0
fi
command -v valgrind >/dev/null || {
  echo "fuzz: valgrind is not installed (apt-get install valgrind, or FUZZ_VALGRIND=0)" >&2
  exit 1
}
echo "==== fuzz: valgrind replay of the committed corpus"
for t in $FUZZ_TARGETS; do
  start=$SECONDS
  if ! valgrind -q --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    "$bin/replay" "$t" "corpus/$t" >"artifacts/$t/valgrind.log" 2>&1; then
    echo "fuzz: valgrind replay of $t FAILED:"
    tail -60 "artifacts/$t/valgrind.log"
    exit 1
  fi
  echo "valgrind   $t: $(tail -1 "artifacts/$t/valgrind.log") ($((SECONDS - start)) s)"
done
echo "fuzz: all targets passed"
