#!/usr/bin/env bash
# scripts/run.sh BUILD_DIR — `make run`: a hub in ./var with a demo feed.
#
# Until the daemon exists this shows the offline path end to end:
#   1. tocsin init        creates ./var (or $TOCSIN_DATA) if it is not there
#   2. tocsin-gen         writes a 100,000-indicator synthetic STIX feed to
#                         var/demo-feed.jsonl if it is not there
#   3. tocsin import      stores and indexes it (once: var/demo-feed.imported)
#   4. tocsin match       looks up values picked from the feed: hits (an
#                         exact IP, a name under a feed domain, an address
#                         inside a feed network...), misses, and 8.8.8.8,
#                         which the default allowlist protects
#   5. tocsin stats       what the data directory holds
# Running it again reuses ./var and the feed. Exit status: 0 when every
# step worked, 1 otherwise.
set -euo pipefail

build=${1:-build}
tocsin=$build/cli/tocsin
gen=$build/bench/tocsin-gen
data=${TOCSIN_DATA:-./var}
feed=$data/demo-feed.jsonl
feed_count=${TOCSIN_DEMO_COUNT:-100000}

if [[ -t 1 ]]; then
    say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    say() { printf '\n== %s\n' "$*"; }
fi
die() {
    echo "run: $*" >&2
    exit 1
}

[[ -x $tocsin ]] || die "$tocsin is not built (run 'make build' first)"
[[ -x $gen ]] || die "$gen is not built (run 'make build' first)"
command -v python3 >/dev/null || die "python3 is needed to pick demo values from the feed"

say "1. data directory $data"
if [[ -f $data/tocsin.db ]]; then
    echo "reusing $data (delete it to start from scratch)"
else
    "$tocsin" init --data "$data"
fi

say "2. demo feed $feed"
if [[ -s $feed ]]; then
    echo "reusing $feed ($(wc -l <"$feed") objects)"
else
    "$gen" --seed 1 --count "$feed_count" --format jsonl -o "$feed.tmp" --stats
    mv "$feed.tmp" "$feed"
    rm -f "$data/demo-feed.imported"
fi

say "3. import"
if [[ -f $data/demo-feed.imported ]]; then
    echo "already imported ($data/demo-feed.imported); 'tocsin import --data $data $feed' again would report duplicates"
else
    start=$(date +%s.%N)
    set +e
    "$tocsin" import --data "$data" "$feed"
    rc=$?
    set -e
    end=$(date +%s.%N)
    ((rc <= 1)) || die "import failed (exit $rc)"
    ((rc == 0)) || echo "run: some objects were rejected (see above); the others are stored" >&2
    python3 -c "import sys; print(f'imported in {float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$start" "$end"
    touch "$data/demo-feed.imported"
fi

say "4. match"
# Values from the feed: the current version of each indicator, not revoked,
# without valid_until (so none has expired), single-value patterns only.
mapfile -t picks < <(python3 - "$feed" <<'PY'
import ipaddress, json, re, sys

latest = {}
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o.get("type") != "indicator":
        continue
    old = latest.get(o["id"])
    if old is None or o["modified"] > old["modified"]:
        latest[o["id"]] = o

single = re.compile(r"^\[([a-z0-9-]+:[A-Za-z0-9.'-]+) = '([^']*)'\]$")
by_path, nets, exact = {}, [], set()
for o in latest.values():
    m = single.match(o["pattern"])
    if not m:
        continue
    path, value = m.groups()
    exact.add(value)
    if path == "ipv4-addr:value" and "/" in value:
        nets.append(ipaddress.ip_network(value))
    if o.get("revoked") or "valid_until" in o:
        continue
    by_path.setdefault(path, []).append(value)

def first(path, ok=lambda v: True):
    for v in by_path.get(path, []):
        if ok(v):
            return v
    return None

def covered(ip):
    a = ipaddress.ip_address(ip)
    return any(a in n for n in nets)

out = []
ip = first("ipv4-addr:value", lambda v: "/" not in v and not v.startswith(("198.51.100.", "203.0.113.")))
if ip:
    out.append((ip, "HIT exact: an IPv4 indicator of the feed"))
dom = first("domain-name:value", lambda v: v.isascii() and v.count(".") == 1)
if dom:
    out.append(("shop." + dom, f"HIT parent-domain: the feed names {dom}"))
net = first("ipv4-addr:value", lambda v: v.endswith("/24"))
if net:
    n = ipaddress.ip_network(net)
    out.append((str(n.network_address + 77), f"HIT cidr: inside the feed network {net}"))
url = first("url:value", lambda v: v.startswith("https://") and v.isascii())
if url:
    host_end = url.index("/", 8)
    out.append(("HTTPS://" + url[8:host_end].upper() + url[host_end:],
                "HIT exact after URL normalisation (scheme and host case)"))
phone = first("x-tocsin-phone-number:value", lambda v: v.startswith("+79"))
if phone:
    out.append((phone, "HIT exact: a fraud phone number"))
iban = first("x-tocsin-bank-account:value")
if iban:
    out.append((iban, "HIT exact: a money-mule IBAN"))
# misses: values the feed does not name, checked against it
for cand in ("81.19.72.33", "46.17.100.9", "95.213.4.4", "5.255.255.77"):
    if cand not in exact and not covered(cand):
        out.append((cand, "miss: an address no indicator names"))
        break
out.append(("quiet-harbour-4711.com", "miss: a name no indicator names"))
out.append(("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "miss: the SHA-256 of the empty file"))
out.append(("8.8.8.8", "allowlisted: a public resolver; a hit would be reported, never enforced"))
for v, why in out:
    print(f"{v}\t{why}")
PY
)
((${#picks[@]} > 0)) || die "could not pick values from $feed"
values=()
width=0
for p in "${picks[@]}"; do
    values+=("${p%%$'\t'*}")
    ((${#values[-1]} > width)) && width=${#values[-1]}
done
for p in "${picks[@]}"; do
    printf '  %-*s  expect %s\n' "$width" "${p%%$'\t'*}" "${p#*$'\t'}"
done
echo
echo "\$ tocsin match --data $data ${values[*]}"
set +e
"$tocsin" match --data "$data" "${values[@]}"
rc=$?
set -e
((rc == 0)) || die "match failed (exit $rc)"

say "5. stats"
"$tocsin" stats --data "$data"

cat <<EOF

Done. The hub's data lives in $data (store, card key, optional allowlist.txt);
'make run' again reuses it. Try next:
  # look values up, one answer a line (--json for machines)
  $tocsin match --data $data 1.2.3.4 login.evil.example
  $tocsin match --data $data --json --stdin < values.txt
  # more data: another seed gives other indicators
  $gen --seed 2 --count 10000 -o more.jsonl
  $tocsin import --data $data more.jsonl
  # blocklists for firewalls and resolvers
  $tocsin export --help
  # the performance figures (docs/benchmarks.md), every test
  make bench
  make check
EOF
