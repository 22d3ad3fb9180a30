#!/usr/bin/env bash
# scripts/run.sh BUILD_DIR — `make run`: a demo national hub in ./var, served
# by tocsind on 127.0.0.1:8480 in the foreground.
#
# The first run (no DATA/demo-hub.done yet):
#   1. tocsin init            creates ./var (or $TOCSIN_DATA)
#   2. five organisations     a bank, a telecom operator, an internet company,
#                             the national CERT and a law-enforcement agency,
#                             with sharing groups (TLP:AMBER travels inside them)
#   3. one contributor key    each; printed once in a table and kept in
#                             DATA/demo-keys.txt (mode 0600)
#   4. collections            national (everyone reads and writes), finance
#                             (the finance sector and the CERT), le-only (law
#                             enforcement only)
#   5. a generated feed       $TOCSIN_DEMO_COUNT (default 3000) indicators with
#                             a mix of TLP levels, POSTed to `national` over
#                             TAXII with the CERT's key, so the CERT is their
#                             producer and TLP:AMBER reaches its sharing groups
# Every run then prints ready-to-paste curl commands with a real key and runs
# tocsind in the foreground (Ctrl-C stops it). Running it again reuses ./var.
# Environment: TOCSIN_DATA (data directory), TOCSIN_LISTEN (default
# 127.0.0.1:8480), TOCSIN_DEMO_COUNT.
set -euo pipefail

build=${1:-build}
tocsin=$build/cli/tocsin
tocsind=$build/daemon/tocsind
gen=$build/bench/tocsin-gen
data=${TOCSIN_DATA:-./var}
listen=${TOCSIN_LISTEN:-127.0.0.1:8480}
feed_count=${TOCSIN_DEMO_COUNT:-3000}
keys_file=$data/demo-keys.txt
colls_file=$data/demo-collections.txt
done_mark=$data/demo-hub.done
taxii='application/taxii+json;version=2.1'

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
[[ -x $tocsind ]] || die "$tocsind is not built (run 'make build' first)"
[[ -x $gen ]] || die "$gen is not built (run 'make build' first)"
py=/usr/bin/python3
[[ -x $py ]] || py=$(command -v python3) || die "python3 is needed to post the demo feed"

# name|sector|country|groups — the demo organisations.
orgs=(
    "northbank|finance|NO|finance-isac"
    "telenord|telecom|NO|telecom-isac"
    "searchly|internet|NO|telecom-isac"
    "cert-no|cert|NO|finance-isac,telecom-isac"
    "kripos|law-enforcement|NO|le-net"
)
# alias|read|write|title
collections=(
    "national|all|all|National threat feed"
    "finance|sector:finance,org:cert-no|sector:finance,org:cert-no|Finance sector"
    "le-only|sector:law-enforcement|sector:law-enforcement|Law enforcement only"
)

# Starts tocsind in the background; sets daemon_pid and base_url.
start_background() {
    local log=$data/tocsind-setup.log
    "$tocsind" --data "$data" --listen "$listen" 2>"$log" &
    daemon_pid=$!
    local addr=""
    for _ in $(seq 1 100); do
        addr=$(sed -n 's/.*"msg":"listening".*"addr":"\([^"]*\)".*/\1/p' "$log" | head -n 1)
        [[ -n $addr ]] && break
        kill -0 "$daemon_pid" 2>/dev/null || { cat "$log" >&2; die "tocsind exited during setup"; }
        sleep 0.1
    done
    [[ -n $addr ]] || { kill "$daemon_pid"; die "tocsind did not start (see $log)"; }
    base_url=http://$addr
}

stop_background() {
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" || die "tocsind exited with status $? on SIGTERM"
}

if [[ -f $done_mark ]]; then
    say "reusing the demo hub in $data (delete $data to start from scratch)"
else
    say "1. data directory $data"
    if [[ -f $data/tocsin.db ]]; then
        echo "reusing $data"
    else
        "$tocsin" init --data "$data"
    fi

    say "2. organisations"
    for o in "${orgs[@]}"; do
        IFS='|' read -r name sector cc groups <<<"$o"
        if "$tocsin" org list --data "$data" | awk -v n="$name" '$1 == n { f = 1 } END { exit !f }'; then
            echo "$name exists"
        else
            printf '%-10s %-16s %s  %s\n' "$name" "$sector" \
                "$("$tocsin" org add "$name" --sector "$sector" --country "$cc" \
                    --groups "$groups" --data "$data")" "groups: $groups"
        fi
    done

    say "3. keys (shown once; kept in $keys_file, mode 0600)"
    (
        umask 077
        : >"$keys_file.tmp"
        for o in "${orgs[@]}"; do
            IFS='|' read -r name _ <<<"$o"
            key=$("$tocsin" key create "$name" --role contributor --name "demo $name" \
                --data "$data" 2>"$data/key-create.err") || { cat "$data/key-create.err" >&2; exit 1; }
            printf '%s contributor %s\n' "$name" "$key" >>"$keys_file.tmp"
        done
        mv "$keys_file.tmp" "$keys_file"
        rm -f "$data/key-create.err"
    )
    chmod 600 "$keys_file"
    printf '  %-10s %-12s %s\n' ORGANISATION ROLE KEY
    while read -r name role key; do
        printf '  %-10s %-12s %s\n' "$name" "$role" "$key"
    done <"$keys_file"

    say "4. collections"
    : >"$colls_file"
    for c in "${collections[@]}"; do
        IFS='|' read -r alias rd wr title <<<"$c"
        # an interrupted first run may have made it already
        id=$("$tocsin" collection list --data "$data" | awk -v a="$alias" '$2 == a { print $1 }')
        if [[ -z $id ]]; then
            id=$("$tocsin" collection add "$alias" --read "$rd" --write "$wr" --title "$title" \
                --data "$data")
        fi
        printf '%s %s\n' "$alias" "$id" >>"$colls_file"
        printf '  %-9s %s  read: %s  write: %s\n' "$alias" "$id" "$rd" "$wr"
    done

    say "5. demo feed: $feed_count indicators POSTed to 'national' as cert-no"
    feed=$data/demo-feed.jsonl
    # the CERT posts its own feed: created_by_ref must be its own identity
    cert_identity=$("$tocsin" org list --json --data "$data" |
        "$py" -c 'import json,sys; print(next(o["identity"] for o in json.load(sys.stdin) if o["name"] == "cert-no"))')
    "$gen" --seed 1 --count "$feed_count" --format jsonl --creator "$cert_identity" -o "$feed.tmp" --stats
    mv "$feed.tmp" "$feed"
    start_background
    cert_key=$(awk '$1 == "cert-no" { print $3 }' "$keys_file")
    national=$(awk '$1 == "national" { print $2 }' "$colls_file")
    if ! "$py" - "$feed" "$base_url/taxii2/hub/collections/$national/objects/" "$cert_key" <<'PY'
import base64, json, sys, urllib.request

feed, url, key = sys.argv[1:4]
objs = [json.loads(line) for line in open(feed, encoding="utf-8")]
auth = "Basic " + base64.b64encode(("demo:" + key).encode()).decode()
ok = failed = 0
for i in range(0, len(objs), 500):
    body = json.dumps({"objects": objs[i:i + 500]}).encode()
    rq = urllib.request.Request(url, data=body, method="POST", headers={
        "Accept": "application/taxii+json;version=2.1",
        "Content-Type": "application/taxii+json;version=2.1",
        "Authorization": auth})
    with urllib.request.urlopen(rq, timeout=120) as r:
        st = json.load(r)
    ok += st["success_count"]
    failed += st["failure_count"]
    for f in st.get("failures", [])[:3]:
        print(f"  failed: {f['id']}: {f.get('message', '')}", file=sys.stderr)
levels = {}
names = {"94868c89": "CLEAR", "bab4a63c": "GREEN", "55d920b0": "AMBER", "939a9414": "AMBER+STRICT",
         "e828b379": "RED"}
for o in objs:
    m = (o.get("object_marking_refs") or ["none"])[0]
    lv = names.get(m.split("--")[-1][:8], "unmarked")
    levels[lv] = levels.get(lv, 0) + 1
print(f"  posted {len(objs)} objects: {ok} stored, {failed} failed; TLP: "
      + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))
sys.exit(1 if ok == 0 else 0)
PY
    then
        stop_background
        die "posting the demo feed failed"
    fi
    stop_background
    touch "$done_mark"
fi

[[ -s $keys_file ]] || die "$keys_file is missing: delete $data and run again"
[[ -s $colls_file ]] || die "$colls_file is missing: delete $data and run again"
bank_key=$(awk '$1 == "northbank" { print $3 }' "$keys_file")
national=$(awk '$1 == "national" { print $2 }' "$colls_file")
host=$listen
[[ $host == 0.0.0.0:* ]] && host=127.0.0.1:${host#*:}
root=http://$host/taxii2/hub

say "try it (as northbank; the other keys are in $keys_file)"
cat <<EOF
  KEY=$bank_key
  A='Accept: $taxii'
  # discovery, the API root, the collections this key may see
  curl -s -u "demo:\$KEY" -H "\$A" http://$host/taxii2/
  curl -s -u "demo:\$KEY" -H "\$A" $root/collections/
  # a page of 5 objects of the national feed (follow "next" for the rest);
  # -g stops curl from reading match[...] as a glob
  curl -s -u "demo:\$KEY" -H "\$A" "$root/collections/$national/objects/?limit=5"
  curl -s -g -u "demo:\$KEY" -H "\$A" "$root/collections/$national/manifest/?limit=5&match[type]=indicator"
  # POST an envelope (202 and a status resource), then read the status by its id
  curl -s -u "demo:\$KEY" -H "\$A" -H 'Content-Type: $taxii' \\
    --data '{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"demo","pattern":"[ipv4-addr:value = '"'"'203.0.113.7'"'"']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00.000Z"}]}' \\
    $root/collections/$national/objects/
  curl -s -u "demo:\$KEY" -H "\$A" $root/status/STATUS_ID/
  # Bearer works too; health and metrics need no key
  curl -s -H "Authorization: Bearer \$KEY" -H "\$A" $root/
  curl -s http://$host/healthz; curl -s http://$host/metrics | head
  # the decisions (what to block) this key's organisation may see: live as
  # Server-Sent Events, as an RPZ zone, and looked up (docs/decisions.md)
  curl -sN -u "demo:\$KEY" "http://$host/api/v1/stream?view=decisions"
  curl -s -u "demo:\$KEY" http://$host/api/v1/export/rpz | head
  curl -s -u "demo:\$KEY" -H 'Content-Type: application/json' \\
    --data '["185.220.101.7","8.8.8.8"]' http://$host/api/v1/match
EOF
say "tocsind on $listen (Ctrl-C stops it; 'make run' again reuses $data)"
exec "$tocsind" --data "$data" --listen "$listen"
