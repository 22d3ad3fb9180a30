#!/usr/bin/env python3
"""bench/http/bench_coord.py BUILD_DIR — what routing rules and constituencies
cost the hub's ingest (issue 13: < 5 %).

The same POST run as bench_taxii.py (envelopes of 1,000 new indicators from
tocsin-gen, 8 concurrent clients, counted when acknowledged 202 = durable)
into a fresh hub, in turns:

  off  no rules, constituency_tasks = false: the coordination worker
       follows the log but skips every version by kind without parsing it;
  on   rules on every kind tocsin-gen makes (ipv4, ipv6, domain, url,
       hashes...) and 2,000 constituency entries, so that every committed
       indicator is parsed, its observables extracted, matched against every
       rule and looked up in the constituencies; the rules name an
       organisation that does not exist, so no task is written: what is
       measured is the evaluation.

For each turn: accepted objects/s, and from /metrics the worker's own time
(tocsin_coord_eval_seconds_total) and how far it got (tocsin_coord_position
against the versions posted) once the load ends. The cost is (off - on) / off of the
throughput, best of BENCH_COORD_REPEAT [3] runs each (the machine is
shared), and the worker's evaluation time as a share of the run's wall time.
Environment: BENCH_HTTP_ENVELOPES [100], BENCH_COORD_REPEAT [3].
Exit status: 0 when every run completed, 1 when one failed, 2 on usage errors.
"""
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_taxii as bt  # noqa: E402

KINDS = "ipv4,ipv6,domain,url,email,md5,sha1,sha256,sha512,phone,bank-account,card,wallet,asn"
RULES = ("route every-kind kind=%s action=investigate to=org:nobody-here deadline=1h\n"
         "route phones kind=phone min_confidence=50 action=suspend-number to=org:nobody-here\n"
         % KINDS)
CONSTITUENCIES = 2000


def metric(base, name):
    with urllib.request.urlopen(base + "/metrics", timeout=30) as r:
        text = r.read().decode()
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def run_once(b, bodies, on):
    work = tempfile.mkdtemp(prefix="tocsin-bench-coord.", dir=b["root"])
    try:
        hub = bt.Hub(b["tocsin"], os.path.join(work, "data"), "contributor", "all", "all")
        conf = os.path.join(work, "tocsind.conf")
        with open(conf, "w") as f:
            if on:
                rules = os.path.join(work, "routes")
                with open(rules, "w") as r:
                    r.write(RULES)
                f.write("[coord]\nroutes = %s\n" % rules)
            else:
                f.write("[coord]\nconstituency_tasks = false\n")
        if on:
            # networks 10.N.M.0/24 and domains cN.example, in batches
            nets = ["10.%d.%d.0/24" % (i // 256, i % 256) for i in range(CONSTITUENCIES // 2)]
            doms = ["c%d.example" % i for i in range(CONSTITUENCIES // 2)]
            for chunk in range(0, len(nets), 250):
                bt.run([b["tocsin"], "org", "constituency", "add", "bench",
                        *nets[chunk:chunk + 250], *doms[chunk:chunk + 250]], hub.data)
        d = bt.Daemon(b["tocsind"], hub.data, work, ["--config", conf])
        try:
            hdrs = ["-H", "Accept: " + bt.ACCEPT, "-H", "Content-Type: " + bt.ACCEPT,
                    "-H", "Authorization: Bearer " + hub.key]
            path = "/taxii2/hub/collections/%s/objects/" % hub.collection
            t = time.monotonic()
            out = bt.load(b, d, ["-c", 8, "-d", 60, "--timeout", 120, *hdrs, "--bodies", bodies,
                                 "--accept", "202", "--objects", bt.ENVELOPE,
                                 "--name", "POST with rules %s" % ("on" if on else "off"),
                                 d.base + path], "POST")
            wall = time.monotonic() - t
            m = re.search(r"objects: ([0-9,]+) in accepted", out)
            objs = int(m.group(1).replace(",", "")) if m else 0
            # let the worker finish, then read its figures
            end = time.monotonic() + 60
            while time.monotonic() < end:
                seen = (metric(d.base, "tocsin_coord_objects_total") or 0) + \
                    (metric(d.base, "tocsin_coord_skipped_total") or 0)
                if seen >= objs:
                    break
                time.sleep(0.2)
            lag_s = time.monotonic() - t - wall
            ev = metric(d.base, "tocsin_coord_eval_seconds_total") or 0.0
            n = metric(d.base, "tocsin_coord_objects_total") or 0
            return objs / wall if wall else 0, wall, ev, n, lag_s
        finally:
            d.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: bench/http/bench_coord.py BUILD_DIR", file=sys.stderr)
        return 2
    build = sys.argv[1]
    b = {
        "gen": os.path.join(build, "bench", "tocsin-gen"),
        "load": os.path.join(build, "bench", "http", "tocsin-load"),
        "tocsin": os.path.join(build, "cli", "tocsin"),
        "tocsind": os.path.join(build, "daemon", "tocsind"),
        "root": os.path.abspath(os.environ.get("BENCH_HTTP_DATA",
                                               os.path.join(build, "bench-data"))),
    }
    for k in ("gen", "load", "tocsin", "tocsind"):
        if not os.access(b[k], os.X_OK):
            print("bench: %s is not built" % b[k], file=sys.stderr)
            return 2
    os.makedirs(b["root"], exist_ok=True)
    n_env = bt.env_int("BENCH_HTTP_ENVELOPES", 100)
    repeat = max(bt.env_int("BENCH_COORD_REPEAT", 3), 1)
    bodies = bt.envelopes(b, n_env, bt.gen_key(b["gen"]))
    best = {False: None, True: None}
    try:
        for i in range(repeat):
            for on in (False, True):
                r = run_once(b, bodies, on)
                bt.log("bench: rules %s run %d: %s objects/s over %.1f s; worker evaluated %d "
                       "indicators in %.3f s; caught up %.1f s after the load"
                       % ("on" if on else "off", i + 1, f"{r[0]:,.0f}", r[1], r[3], r[2], r[4]))
                if best[on] is None or r[0] > best[on][0]:
                    best[on] = r
    except (bt.Failed, OSError, ValueError) as e:
        bt.log("bench: FAILED: %s" % e)
        return 1
    off, on = best[False], best[True]
    cost = (off[0] - on[0]) / off[0] * 100 if off[0] else 0.0
    share = on[2] / on[1] * 100 if on[1] else 0.0
    per = on[2] / on[3] * 1e6 if on[3] else 0.0
    print("routing rules on every committed indicator: ingest %s objects/s off, %s on: "
          "%.1f %% cost (target < 5 %%)" % (f"{off[0]:,.0f}", f"{on[0]:,.0f}", cost))
    print("worker evaluation time: %.3f s for %d indicators (%.1f µs each), %.1f %% of the "
          "run's wall time" % (on[2], on[3], per, share))
    return 0


if __name__ == "__main__":
    sys.exit(main())
