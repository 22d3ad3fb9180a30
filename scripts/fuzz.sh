#!/usr/bin/env bash
# scripts/fuzz.sh FUZZ_BUILD_DIR SECONDS — `make fuzz`: runs every libFuzzer
# target in FUZZ_BUILD_DIR/tests/fuzz/fuzz_* for SECONDS each.
#
# Each target fuzz_<name> starts from a temporary copy of its seed corpus
# tests/fuzz/corpus/<name>/ (so the checked-in corpus only changes when a
# person adds a find on purpose). A crash, leak or sanitizer report leaves
# its input in FUZZ_BUILD_DIR/fuzz-artifacts/<name>/ and fails the run; the
# log of each target is kept beside it. Inputs left there by an earlier run
# are replayed first: those that pass now are deleted, the others fail the
# run again. Exit status: 0 no target failed,
# 1 some target crashed, 2 usage error or nothing to run.
set -uo pipefail

build=${1:-}
seconds=${2:-30}
if [[ -z $build || ! -d $build/tests/fuzz ]]; then
    echo "usage: scripts/fuzz.sh FUZZ_BUILD_DIR SECONDS" >&2
    echo "  FUZZ_BUILD_DIR: CC=clang meson setup -Dfuzzing=true -Db_sanitize=address,undefined ..." >&2
    exit 2
fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "fuzz: SECONDS must be a positive integer, not '$seconds'" >&2
    exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
artifacts=$(cd "$build" && pwd)/fuzz-artifacts
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

shopt -s nullglob
targets=()
for f in "$build"/tests/fuzz/fuzz_*; do
    [[ -f $f && -x $f ]] && targets+=("$f")
done
if ((${#targets[@]} == 0)); then
    echo "fuzz: no fuzz_* programs in $build/tests/fuzz (was it set up with -Dfuzzing=true?)" >&2
    exit 2
fi
# A replay build links the same names: check for libFuzzer's own flag.
if ! "${targets[0]}" -help=1 2>&1 | grep -q -- '-max_total_time'; then
    echo "fuzz: ${targets[0]} is not a libFuzzer binary (set up the build with -Dfuzzing=true)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tocsin-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"

declare -a results
crashed=0
echo "fuzz: ${#targets[@]} targets, ${seconds} s each; artifacts in $artifacts/"
for bin in "${targets[@]}"; do
    name=$(basename "$bin")
    name=${name#fuzz_}
    corpus=$work/$name
    mkdir -p "$corpus" "$artifacts/$name"
    seeds=0
    if [[ -d $src/tests/fuzz/corpus/$name ]]; then
        cp -r "$src/tests/fuzz/corpus/$name/." "$corpus/"
        seeds=$(find "$corpus" -type f | wc -l)
    fi
    log=$artifacts/$name/fuzz.log
    printf '%-20s %4d seeds ... ' "$name" "$seeds"
    # Inputs left by an earlier run: those that no longer fail were fixed.
    still=0
    for old in "$artifacts/$name"/{crash,leak,timeout,oom,slow-unit}-*; do
        if "$bin" -timeout=10 "$old" >/dev/null 2>&1; then
            rm -f "$old"
        else
            still=$((still + 1))
        fi
    done
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$name/" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    found=$(find "$artifacts/$name" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
        -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
    grown=$(find "$corpus" -type f | wc -l)
    if ((rc != 0 || found > 0)); then
        crashed=1
        line="FAILED (exit $rc): see $artifacts/$name/ ($found input(s), $still from an earlier run), log $log"
    else
        line="ok: ${execs:-?} runs, coverage ${cov:-?}, corpus $seeds -> $grown"
    fi
    echo "$line"
    results+=("$(printf '%-20s %s' "$name" "$line")")
done

echo
echo "fuzz summary (${seconds} s per target):"
printf '  %s\n' "${results[@]}"
if ((crashed)); then
    echo "fuzz: FAILED — reproduce with: $build/tests/fuzz/fuzz_<name> <crash file>;" \
        "add the fixed input to tests/fuzz/corpus/<name>/"
    exit 1
fi
echo "fuzz: no crashes"
