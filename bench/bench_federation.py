#!/usr/bin/python3
"""bench/bench_federation.py BUILD_DIR — federation between hubs (issue 12,
docs/peers.md), three tocsind processes on loopback:

 1. publish at A -> readable at C through B: BENCH_FED_PUBLISHES [1000]
    single-object POSTs at A, one after the other; for each, the time from
    just before the POST to the moment C's own event stream (view=stix,
    what C committed) delivers it. p50/p99 against DESIGN §8's 100 ms.
 2. initial sync A -> B: BENCH_FED_SYNC_COUNT [100000] indicators imported
    at A with `tocsin import`, then B is given A as a peer; the time until
    B's cursor reaches A's log end, in objects/s, and the time that rate
    gives for 1,000,000 objects against the 30 s target (an extrapolation:
    the bounded N keeps the run short; say so beside the figure).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests


def line(fig, value, unit, op, target, note=""):
    ok = value <= target if op == "<=" else value >= target
    print(f"{fig}: {value:,.2f} {unit} (target {op} {target}) {'PASS' if ok else 'BELOW'}"
          f"{note}", flush=True)


def main():
    if len(sys.argv) != 2:
        print("usage: bench/bench_federation.py BUILD_DIR", file=sys.stderr)
        return 2
    build = pathlib.Path(sys.argv[1]).resolve()
    os.environ["TOCSIN"] = str(build / "cli" / "tocsin")
    os.environ["TOCSIND"] = str(build / "daemon" / "tocsind")
    src = pathlib.Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(src / "tests" / "integration"))
    from conftest import tocsin  # noqa: E402
    from fedutil import FedHub, indicator  # noqa: E402

    n_pub = int(os.environ.get("BENCH_FED_PUBLISHES", "1000"))
    n_sync = int(os.environ.get("BENCH_FED_SYNC_COUNT", "100000"))
    tmp = tempfile.mkdtemp(prefix="tocsin-bench-fed.")
    hubs = []
    try:
        a = FedHub(tmp, "a").start()
        b = FedHub(tmp, "b").start()
        c = FedHub(tmp, "c").start()
        hubs += [a, b, c]
        b.pull_from(a)
        c.pull_from(b)

        # C's stream: what C committed, as it commits it
        seen = {}
        ready = threading.Event()

        def follow():
            r = requests.get(c.base + "/api/v1/stream", params={"view": "stix"},
                             headers={"Authorization": "Bearer " + c.rita,
                                      "Accept": "text/event-stream"}, stream=True, timeout=600)
            ready.set()
            for raw in r.iter_lines(chunk_size=1):
                if raw.startswith(b"data: "):
                    d = json.loads(raw[6:])
                    oid = (d.get("object") or {}).get("id")
                    if oid:
                        seen[oid] = time.monotonic()

        th = threading.Thread(target=follow, daemon=True)
        th.start()
        ready.wait(10)
        # warm-up: the chain is up
        w = indicator("bench-warm")
        a.post([w])
        end = time.monotonic() + 30
        while w["id"] not in seen and time.monotonic() < end:
            time.sleep(0.01)
        if w["id"] not in seen:
            raise RuntimeError("the chain A-B-C did not come up in 30 s")
        lat, lost = [], 0
        s = requests.Session()
        hdr = {"Authorization": "Bearer " + a.alice,
               "Content-Type": "application/taxii+json;version=2.1",
               "Accept": "application/taxii+json;version=2.1"}
        for i in range(n_pub):
            o = indicator(f"bench-pub-{i}-{uuid.uuid4()}")
            t0 = time.monotonic()
            r = s.post(a.objects_url(), data=json.dumps({"objects": [o]}), headers=hdr,
                       timeout=30)
            assert r.status_code == 202, r.text
            end = t0 + 5
            while o["id"] not in seen and time.monotonic() < end:
                time.sleep(0.0002)
            if o["id"] in seen:
                lat.append((seen[o["id"]] - t0) * 1000)
            else:
                lost += 1
        lat.sort()
        k = len(lat)
        if k:
            print(f"{n_pub} publishes at A: POST -> committed at C (C's stream) "
                  f"p50 {lat[k // 2]:.2f} ms, p99 {lat[min(k - 1, int(k * 0.99))]:.2f} ms, "
                  f"max {lat[-1]:.2f} ms, lost {lost}", flush=True)
            line("federation publish A->C via B p99", lat[min(k - 1, int(k * 0.99))], "ms",
                 "<=", 100)

        # initial sync of n_sync objects A -> a fresh hub D
        objs = [indicator(f"bench-sync-{i}") for i in range(n_sync)]
        bundle = pathlib.Path(tmp) / "sync.json"
        bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                      "objects": objs}))
        tocsin("import", "--data", a.data, "--collection", "default", bundle)
        d = FedHub(tmp, "d").start()
        hubs.append(d)
        t0 = time.monotonic()
        d.pull_from(a)
        total = n_sync + n_pub + 1
        while True:
            st = d.peer_status("a")
            if st["objects_in"] >= total and st["lag_positions"] == 0:
                break
            if time.monotonic() - t0 > 600:
                raise RuntimeError(f"initial sync incomplete after 600 s: {st}")
            time.sleep(0.05)
        dt = time.monotonic() - t0
        rate = st["objects_in"] / dt
        print(f"initial sync A -> D: {st['objects_in']:,} objects in {dt:.2f} s "
              f"({rate:,.0f} objects/s)", flush=True)
        line("federation initial sync, 1M objects (extrapolated)", 1_000_000 / rate, "s", "<=",
             30, note=f" (measured over {st['objects_in']:,} objects)")
    finally:
        for h in hubs:
            try:
                h.stop()
            except Exception:  # noqa: BLE001
                pass
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
