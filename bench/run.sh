#!/usr/bin/env bash
# bench/run.sh BUILD_DIR — runs every benchmark that is built in BUILD_DIR,
# one after the other, each bounded in time, and ends with one table:
# figure | measured | target | PASS/BELOW. Targets are DESIGN §8's.
#
# Sizes can be changed from the environment (defaults in brackets):
#   BENCH_INGEST_COUNT [1000000]   indicators ingested into SQLite
#   BENCH_INGEST_SECONDS [80]      ingest stops after this much work
#   BENCH_PATTERN_SECONDS [3]      seconds of pattern parsing
#   BENCH_PROV_ARGS [--count 200000 --threads 2]  arguments for bench/bench_prov
#                                  (provenance verification objects/s)
#   BENCH_MATCH_ARGS [--count 10000000]  arguments for bench/index/bench_match
#   BENCH_STORE_ARGS []            arguments for bench/store/bench_store
#   BENCH_TIMEOUT [150]            seconds after which one benchmark is stopped
#   BENCH_IMPORT_TIMEOUT_ALL [480] the same for `tocsin import` of a 1M bundle
#                                  (bench/bench_import.py; its first run writes
#                                  the bundle, ~650 MB, into BUILD_DIR/bench-data;
#                                  its own knobs are in that file)
#   BENCH_CRASH_TIMEOUT [900]      the same for the crash test (bench/crash/bench_crash.py:
#                                  BENCH_CRASH_TRIALS [100] SIGKILLs of tocsind while
#                                  clients POST; lost and unaudited objects)
#   BENCH_HOSTILE_PARAM_REQUESTS [5000]  requests of 2,000 query parameters
#                                  (bench/http/bench_hostile.py: idle and slow
#                                  connection floods, huge bodies; RSS, latency)
#   BENCH_STREAM_TIMEOUT [300]     the same for the stream benchmarks (publish -> event
#                                  latency with 1 and 1,000 clients: bench/http/bench_stream.py,
#                                  its knobs BENCH_STREAM_PUBLISHES [10000],
#                                  BENCH_STREAM_CLIENTS [1000], BENCH_STREAM_PUBLISHES_MANY [1000])
#   BENCH_EXPORT_TIMEOUT [900]     the same for GET /api/v1/export/rpz and /nft of
#                                  1M decisions (bench/bench_export.py; its first
#                                  run imports them into BUILD_DIR/bench-data)
#   BENCH_MATCH_TIMEOUT [300]      the same for the lookup API over HTTP
#                                  (bench/http/bench_match.py: batches of 10,000
#                                  values against 1M indicators, imported once
#                                  into BUILD_DIR/bench-data; its knobs are there)
#   BENCH_RPZ_TIMEOUT [900]        the same for RPZ over DNS (bench/bench_rpz.py:
#                                  publish -> a tuned BIND secondary answers NXDOMAIN,
#                                  BENCH_RPZ_COUNT [1000] publishes; AXFR of
#                                  BENCH_RPZ_AXFR_COUNT [100000] decisions)
#   BENCH_AGENT_TIMEOUT [600]     the same for tocsin-agent (bench/bench_agent.py: publish ack
#                                  -> element in the agent's nftables set, in a network
#                                  namespace; BENCH_AGENT_PUBLISHES [10000], initial load of
#                                  BENCH_AGENT_LOAD [1000000] decisions; needs root)
#   BENCH_REPORTS_TIMEOUT [300]   the same for citizen report intake (bench/bench_reports.py:
#                                  JSON reports from BENCH_REPORTS_CLIENTS [2000] loopback
#                                  addresses, grouped in the triage queue, while one address
#                                  floods past its limit; its knobs are there)
#   BENCH_FED_TIMEOUT [600]       the same for federation (bench/bench_federation.py: three
#                                  hubs; publish at A -> committed at C through B,
#                                  BENCH_FED_PUBLISHES [1000]; initial sync of
#                                  BENCH_FED_SYNC_COUNT [100000] objects, extrapolated to 1M)
#   BENCH_HTTP_TIMEOUT [480]       the same for the TAXII-over-HTTP benchmarks,
#                                  whose first run imports 1M indicators (cached
#                                  in BUILD_DIR/bench-data); their own knobs
#                                  are in bench/http/bench_taxii.py
# Exit status: 0 when every benchmark ran (whatever its verdict), 1 when
# one failed or timed out, 2 on usage errors.
set -uo pipefail

build=${1:-}
if [[ -z $build || ! -d $build ]]; then
    echo "usage: bench/run.sh BUILD_DIR   (a release build: make bench does it)" >&2
    exit 2
fi
ingest_count=${BENCH_INGEST_COUNT:-1000000}
ingest_seconds=${BENCH_INGEST_SECONDS:-80}
pattern_seconds=${BENCH_PATTERN_SECONDS:-3}
limit=${BENCH_TIMEOUT:-150}

if [[ -f $build/meson-info/intro-buildoptions.json ]] &&
    grep -q '"name": "buildtype", "value": "debug"' "$build/meson-info/intro-buildoptions.json"; then
    echo "bench: warning: $build is a debug build; figures will be low (use make bench)" >&2
fi

log=$(mktemp "${TMPDIR:-/tmp}/tocsin-bench.XXXXXX")
trap 'rm -f "$log"' EXIT
failed=0

# run NAME BINARY ARGS... — runs one benchmark, shows its output, keeps it for the table
run() {
    local name=$1 bin=$2
    shift 2
    if [[ ! -x $bin ]]; then
        echo "== $name: not built ($bin), skipped"
        echo "SKIP $name" >>"$log"
        return
    fi
    echo "== $name: $bin $*"
    local start=$SECONDS out rc
    out=$(timeout "$limit" "$bin" "$@" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    printf '%s\n' "$out" >>"$log"
    if ((rc == 124)); then
        echo "== $name: stopped after ${limit} s"
        echo "FAILED $name (timeout)" >>"$log"
        failed=1
    elif ((rc != 0)); then
        echo "== $name: exit status $rc"
        echo "FAILED $name (exit $rc)" >>"$log"
        failed=1
    else
        echo "== $name: $((SECONDS - start)) s"
    fi
    echo
}

# shellcheck disable=SC2086 # the *_ARGS variables are word lists on purpose
{
    run ingest "$build/bench/bench_ingest" --count "$ingest_count" --seconds "$ingest_seconds"
    if [[ -x $build/cli/tocsin && -x $build/bench/tocsin-gen ]]; then
        limit=${BENCH_IMPORT_TIMEOUT_ALL:-480} run "tocsin import" "$(dirname "$0")/bench_import.py" "$build"
    else
        echo "== tocsin import: tocsin or tocsin-gen not built, skipped"
        echo "SKIP tocsin import" >>"$log"
    fi
    run "pattern parse" "$build/bench/bench_pattern" --seconds "$pattern_seconds"
    run "provenance verification" "$build/bench/bench_prov" ${BENCH_PROV_ARGS:---count 200000 --threads 2}
    run match "$build/bench/index/bench_match" ${BENCH_MATCH_ARGS:---count 10000000}
    run "store append" "$build/bench/store/bench_store" ${BENCH_STORE_ARGS:-}
    if [[ -x $build/daemon/tocsind && -x $build/cli/tocsin ]]; then
        limit=${BENCH_HTTP_TIMEOUT:-480} run "TAXII over HTTP" "$(dirname "$0")/http/bench_taxii.py" "$build"
        limit=${BENCH_CRASH_TIMEOUT:-900} run "crash test" "$(dirname "$0")/crash/bench_crash.py" "$build"
        run "hostile clients" "$(dirname "$0")/http/bench_hostile.py" "$build"
        limit=${BENCH_STREAM_TIMEOUT:-300} run "stream" "$(dirname "$0")/http/bench_stream.py" "$build"
        limit=${BENCH_EXPORT_TIMEOUT:-900} run "export" "$(dirname "$0")/bench_export.py" "$build"
        limit=${BENCH_MATCH_TIMEOUT:-300} run "lookup API over HTTP" "$(dirname "$0")/http/bench_match.py" "$build"
        limit=${BENCH_REPORTS_TIMEOUT:-300} run "citizen reports" "$(dirname "$0")/bench_reports.py" "$build"
        limit=${BENCH_RPZ_TIMEOUT:-900} run "RPZ over DNS" "$(dirname "$0")/bench_rpz.py" "$build"
        limit=${BENCH_FED_TIMEOUT:-600} run "federation" "$(dirname "$0")/bench_federation.py" "$build"
        if [[ -x $build/agent/tocsin-agent ]]; then
            limit=${BENCH_AGENT_TIMEOUT:-600} run "tocsin-agent" "$(dirname "$0")/bench_agent.py" "$build"
        else
            echo "== tocsin-agent: not built (libnftables-dev), skipped"
            echo "SKIP tocsin-agent" >>"$log"
        fi
    else
        echo "== TAXII over HTTP: tocsind not built, skipped"
        echo "SKIP TAXII over HTTP" >>"$log"
    fi
}

# The table. A benchmark line in the common form
#   "<figure>: <number> <unit> (target >= N) PASS|BELOW"
# is taken as it is; the known figures without a verdict get DESIGN's target.
/usr/bin/python3 - "$log" <<'PY'
import re, sys

lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
num = r"([0-9][0-9,]*(?:\.[0-9]+)?)([kKM]?)"
# "<figure>: <number>[kM] <unit>[, more] ... (... target >= <number>[kM] ...) PASS|BELOW"
verdict = re.compile(r"^(?P<fig>[^:]+): " + num + r" (?P<unit>[^,(\[]*)[^(]*\((?:[^)]*?)target (?P<op>>=|<=|≥|≤) "
                     + num + r"[^)]*\) (?P<v>PASS|BELOW)\s*$")
# figure name, regex on a line, unit, target, op  (DESIGN §8; pattern parse has none)
known = [
    ("pattern parse", re.compile(r"^pattern parse: " + num + r" patterns/s"), "patterns/s", None, ">="),
    ("store append", re.compile(r"^store append: " + num + r" versions/s"), "versions/s", 200_000, ">="),
    ("TAXII GET next-cursor walk, page of 100",
     re.compile(r"^TAXII GET next-cursor walk, page of 100: " + num + r" requests/s"), "requests/s", None, ">="),
    ("TAXII GET p99 latency at 50 connections",
     re.compile(r"^TAXII GET p99 latency at 50 connections: " + num + r" ms"), "ms", None, "<="),
]

# clearer names in the table for the figures the benchmarks print tersely
rename = {
    "match": "match lookups, in process, 10M indicators",
    "memory": "index memory (bench_match)",
    "index memory": "index memory (after ingest)",
}

def val(s, mul=""):
    return float(s.replace(",", "")) * {"": 1, "k": 1e3, "K": 1e3, "M": 1e6}[mul]

def fmt(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"

rows, seen = [], set()
for line in lines:
    m = verdict.match(line)
    if m:
        fig = m.group("fig").strip()
        fig = rename.get(fig, fig)
        if fig in seen:
            continue
        seen.add(fig)
        op = {"≥": ">=", "≤": "<="}.get(m.group("op"), m.group("op"))
        measured = f"{fmt(val(m.group(2), m.group(3)))} {m.group('unit').split(' by ')[0].strip()}"
        rss = re.search(r"peak RSS ([0-9,]+ MB)", line)
        if rss:
            measured += f", peak RSS {rss.group(1)}"
        rows.append((fig, measured, f"{op} {fmt(val(m.group(6), m.group(7)))}", m.group("v")))
        continue
    for fig, rx, unit, target, op in known:
        m = rx.search(line)
        if m and fig not in seen:
            seen.add(fig)
            x = val(m.group(1), m.group(2))
            if target is None:
                rows.append((fig, f"{fmt(x)} {unit}", "—", "—"))
            else:
                ok = x >= target if op == ">=" else x <= target
                rows.append((fig, f"{fmt(x)} {unit}", f"{op} {fmt(target)}", "PASS" if ok else "BELOW"))
# the daemon's peak RSS, printed after the POST run, goes beside its figure
for line in lines:
    m = re.match(r"^tocsind peak RSS after the POST run: ([0-9,]+ MB)", line)
    for i, r in enumerate(rows):
        if m and r[0].startswith("TAXII POST") and "RSS" not in r[1]:
            rows[i] = (r[0], f"{r[1]}, tocsind peak RSS {m.group(1)}", r[2], r[3])
            break
for line in lines:
    if line.startswith("SKIP ") or line.startswith("FAILED "):
        what, name = line.split(" ", 1)
        rows.append((name, "not built" if what == "SKIP" else name.split("(", 1)[-1].rstrip(")"),
                     "", "SKIPPED" if what == "SKIP" else "FAILED"))

head = ("figure", "measured", "target", "verdict")
w = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |")
print("|" + "|".join("-" * (w[i] + 2) for i in range(4)) + "|")
for r in rows:
    print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")
PY
exit $failed
