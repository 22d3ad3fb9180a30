#!/usr/bin/env python3
"""bench_match.py BUILD_DIR — the lookup API over HTTP (issue 10 point 4,
DESIGN §8 "match over HTTP, batched": >= 1,000,000 values/s in batches of
10,000 over loopback on 2 cores), run by bench/run.sh.

A hub of BENCH_MATCH_INDICATORS indicators (1M by default) of the kinds
antifraud systems ask about — phone numbers, bank accounts (IBAN), card
hashes, URLs, e-mail addresses, IPv4 addresses, domains — is built once with
`tocsin import` of a CSV and kept under BUILD_DIR/bench-data/. The request
bodies are JSON arrays of 10,000 values of the same kinds, BENCH_MATCH_HITS
percent of them (10 by default) values of indicators picked at random, the
rest values no indicator names (a few of the misses are subdomains, URL
paths and e-mail addresses under indicator domains, which hit). tocsin-load
POSTs them in turn over BENCH_MATCH_CONNS keep-alive connections for
BENCH_MATCH_SECONDS and reports values/s. Before the run one body's answer
is checked: one result per value, in order, and hits where hits were put.
Beside the figure it prints the CPU split between tocsind and the client.

Environment (defaults in brackets): BENCH_MATCH_INDICATORS [1000000],
BENCH_MATCH_BODIES [64], BENCH_MATCH_BATCH [10000], BENCH_MATCH_HITS [10]
(percent), BENCH_MATCH_CONNS [4], BENCH_MATCH_SECONDS [10],
BENCH_MATCH_TOCSIND [] another tocsind binary to measure.
Exit status: 0 when the run completed (whatever the verdict), 1 when it
failed, 2 on usage errors or when the hub could not be set up.
"""
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_taxii import Daemon, Failed, env_int, load, log, run  # noqa: E402

TARGET = 1_000_000       # values/s, DESIGN §8
DATA_VERSION = 1         # bump when the generated data changes


def iban_de(n):
    """A German IBAN with valid check digits (ISO 13616: mod 97)."""
    bban = "%08d%010d" % (37040044, n % 10**10)
    num = int(bban + "131400")          # D=13, E=14, then "00"
    return "DE%02d%s" % (98 - num % 97, bban)


def value(kind, i):
    """The i-th value of kind; indicators use i < N, misses i >= N."""
    if kind == "phone":
        return "+79%09d" % (i % 10**9)
    if kind == "bank-account":
        return iban_de(i)
    if kind == "card":
        return "hmac-sha256:%064x" % (i * 0x9E3779B97F4A7C15 % (1 << 256))
    if kind == "url":
        return "http://shop%d.pay-secure.top/login?id=%d" % (i, i)
    if kind == "email":
        return "mule%d@m%d.fraudmail.ru" % (i, i % 5000)
    if kind == "ipv4":
        return "45.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    return "d%d.phish-%d.xyz" % (i, i % 100)


# kind -> share of indicators and of queries (percent)
MIX = [("phone", 25), ("bank-account", 10), ("card", 15), ("url", 15), ("email", 15),
       ("ipv4", 10), ("domain", 10)]


def kind_of(i):
    r = (i * 2654435761) % 100
    for k, p in MIX:
        if r < p:
            return k
        r -= p
    return "domain"


def get_data(b, count):
    cache = os.path.join(b["root"], "match-%d-v%d" % (count, DATA_VERSION))
    meta_path = os.path.join(cache, "bench-meta.json")
    if os.path.exists(meta_path):
        log("bench: reusing %s" % cache)
        with open(meta_path) as f:
            return cache, json.load(f)
    tmp = cache + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    log("bench: building %s (%s indicators, tocsin import; once)" % (cache, f"{count:,}"))
    run([b["tocsin"], "init"], tmp)
    run([b["tocsin"], "org", "add", "antifraud", "--sector", "finance", "--country", "EE"], tmp)
    key = run([b["tocsin"], "key", "create", "antifraud", "--role", "reader", "--name", "bench"],
              tmp).strip()
    csv = os.path.join(b["root"], "match-%d.csv" % count)
    with open(csv, "w") as f:
        f.write("value,kind,confidence\n")
        for i in range(count):
            k = kind_of(i)
            f.write("%s,%s,%d\n" % (value(k, i), k, 50 + i % 50))
    t = time.monotonic()
    run([b["tocsin"], "import", "--collection", "default", csv], tmp)
    t_imp = time.monotonic() - t
    os.unlink(csv)
    log("bench: imported in %.1f s (%s indicators/s)" % (t_imp, f"{count / t_imp:,.0f}"))
    meta = {"key": key, "count": count}
    with open(os.path.join(tmp, "bench-meta.json"), "w") as f:
        json.dump(meta, f)
    os.rename(tmp, cache)
    return cache, meta


def bodies(count, n, batch, hits_pct):
    """n JSON bodies of batch values; also the expected hit flags of the first."""
    rnd = random.Random(7)
    out, first_hits = [], None
    miss_i = count
    for _ in range(n):
        vals, flags = [], []
        for _ in range(batch):
            if rnd.randrange(100) < hits_pct:
                i = rnd.randrange(count)
                vals.append(value(kind_of(i), i))
                flags.append(True)
            else:
                miss_i += 1
                vals.append(value(kind_of(miss_i), miss_i))
                flags.append(None)   # a miss, unless under an indicator domain
        out.append(json.dumps(vals, separators=(",", ":")))
        if first_hits is None:
            first_hits = flags
    return out, first_hits


def check(base, key, body, flags):
    req = urllib.request.Request(base + "/api/v1/match", data=body.encode(), method="POST",
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        res = json.loads(r.read())["results"]
    vals = json.loads(body)
    if len(res) != len(vals):
        raise Failed("%d results for %d values" % (len(res), len(vals)))
    for v, f, x in zip(vals, flags, res):
        if "error" in x:
            raise Failed("%s: %s" % (v, x["error"]))
        if f and not x["hit"]:
            raise Failed("%s: expected a hit, got %s" % (v, x))
    nhit = sum(1 for x in res if x["hit"])
    log("bench: checked one body: %d values, %d hits, in order" % (len(res), nhit))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    b = {
        "root": os.path.join(build, "bench-data"),
        "load": os.path.join(build, "bench", "http", "tocsin-load"),
        "tocsin": os.path.join(build, "cli", "tocsin"),
        "tocsind": os.environ.get("BENCH_MATCH_TOCSIND") or os.path.join(build, "daemon", "tocsind"),
    }
    for k in ("load", "tocsin", "tocsind"):
        if not os.access(b[k], os.X_OK):
            print("bench_match: %s not built (%s)" % (k, b[k]), file=sys.stderr)
            return 2
    count = env_int("BENCH_MATCH_INDICATORS", 1_000_000)
    nbodies = env_int("BENCH_MATCH_BODIES", 64)
    batch = env_int("BENCH_MATCH_BATCH", 10000)
    hits = env_int("BENCH_MATCH_HITS", 10)
    conns = env_int("BENCH_MATCH_CONNS", 4)
    seconds = env_int("BENCH_MATCH_SECONDS", 10)
    try:
        data, meta = get_data(b, count)
    except Failed as e:
        print("bench_match: cannot build the hub: %s" % e, file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="tocsin-bench-match.")
    daemon = None
    try:
        bl, flags = bodies(count, nbodies, batch, hits)
        path = os.path.join(work, "bodies.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(bl) + "\n")
        conf = os.path.join(work, "tocsind.conf")
        with open(conf, "w") as f:
            f.write("[log]\naccess = false\n[match]\nmax_values = %d\n" % max(batch, 1))
        t = time.monotonic()
        daemon = Daemon(b["tocsind"], data, work, extra=["--config", conf])
        log("bench: tocsind up in %.1f s (index of %s indicators built at start)"
            % (time.monotonic() - t, f"{count:,}"))
        check(daemon.base, meta["key"], bl[0], flags)
        # warm up: every body once, so the indicator cache holds what the
        # bodies hit (as it would on a hub that has been answering a while)
        load(b, daemon, ["-c", conns, "-n", nbodies, "--bodies", path, "--cycle", "-q",
                         "-H", "Authorization: Bearer " + meta["key"],
                         "-H", "Content-Type: application/json",
                         daemon.base + "/api/v1/match"], "match warm-up")
        out = load(b, daemon, ["-c", conns, "-d", seconds, "--bodies", path, "--cycle",
                               "--objects", batch, "--unit", "values",
                               "--name", "match over HTTP, batched %s, %s indicators"
                               % (f"{batch:,}", f"{count:,}"),
                               "--target-ops", TARGET,
                               "-H", "Authorization: Bearer " + meta["key"],
                               "-H", "Content-Type: application/json",
                               daemon.base + "/api/v1/match"], "match POST")
        if not re.search(r"values/s", out):
            raise Failed("no values/s figure in tocsin-load's output")
    except Failed as e:
        print("bench_match: %s" % e, file=sys.stderr)
        return 1
    finally:
        if daemon:
            daemon.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
