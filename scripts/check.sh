#!/usr/bin/env bash
# Runs every test suite: the normal build (unit, cli, integration, fuzz
# replay) and the sanitizer build (unit, fuzz replay, integration: tocsind under
# ASan+UBSan, whose exit status the suite checks), then prints one closing
# line with the totals and the count per suite.
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
run meson test -C "$asan" --print-errorlogs --num-processes 2 --suite unit --suite fuzz --suite integration

summary() {
    /usr/bin/python3 - "$@" <<'PY'
import json, sys
ok = bad = skip = 0
per = {}
for d in sys.argv[1:]:
    try:
        lines = open(d + "/meson-logs/testlog.json").read().splitlines()
    except OSError:
        continue
    for line in lines:
        t = json.loads(line)
        r = t["result"]
        # name is "project:suite / test"
        suite = t["name"].split(" / ")[0].split(":")[-1]
        c = per.setdefault(suite, [0, 0, 0])
        if r in ("OK", "EXPECTEDFAIL"):
            ok += 1
            c[0] += 1
        elif r == "SKIP":
            skip += 1
            c[2] += 1
        else:
            bad += 1
            c[1] += 1
for name in ("unit", "cli", "integration", "fuzz"):
    per.setdefault(name, [0, 0, 0])
detail = ", ".join(f"{k} {v[0]}/{v[0] + v[1]}" + (f" ({v[2]} skipped)" if v[2] else "")
                   for k, v in sorted(per.items()))
print(f"check: {ok} passed, {bad} failed, {skip} skipped; per suite: {detail}")
# the integration suite is one meson test; its pytest cases, from JUnit XML
import xml.etree.ElementTree as ET
for d in sys.argv[1:]:
    try:
        s = ET.parse(d + "/meson-logs/integration-junit.xml").getroot()
    except (OSError, ET.ParseError):
        continue
    s = s if s.tag == "testsuite" else s.find("testsuite")
    n, f, e, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    print(f"check: integration cases ({d}): {n - f - e - sk} passed, {f + e} failed, {sk} skipped or expected failures")
PY
}
summary "$build" "$asan"
exit $failed
