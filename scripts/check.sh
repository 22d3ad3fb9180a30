#!/usr/bin/env bash
# Runs every test suite: the normal build (unit, cli, fuzz replay) and the
# sanitizer build (unit, fuzz replay), then prints one closing line.
set -uo pipefail
build=${1:-build}
asan=${2:-build-asan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
run() {
    echo "== $*"
    if ! "$@"; then
        failed=1
    fi
}
run meson test -C "$build" --print-errorlogs --num-processes 2
run meson test -C "$asan" --print-errorlogs --num-processes 2 --suite unit --suite fuzz

summary() {
    /usr/bin/python3 - "$@" <<'PY'
import json, sys
ok = bad = skip = 0
for d in sys.argv[1:]:
    try:
        lines = open(d + "/meson-logs/testlog.json").read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            ok += 1
        elif r == "SKIP":
            skip += 1
        else:
            bad += 1
print(f"check: {ok} passed, {bad} failed, {skip} skipped")
PY
}
summary "$build" "$asan"
exit $failed
