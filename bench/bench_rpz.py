#!/usr/bin/env python3
"""bench_rpz.py BUILD_DIR — time to protect through DNS (issue 11): from a
publish acknowledged by tocsind (TAXII POST answered 202) to a tuned BIND 9
secondary of tocsind's RPZ zone answering NXDOMAIN for the published
domain; then the AXFR of a large zone. Run by bench/run.sh.

Set-up: a fresh data directory, tocsind with one [rpz] zone (TSIG,
NOTIFY to BIND), BIND (Debian bind9, `named -g`) as the zone's secondary
with RPZ on and tuned as the issue's comparison was (min-update-interval
0, no serial-query rate limit), authoritative itself for the test domain
(a wildcard A record, recursive-only no) so that nothing but RPZ decides
the answer. Each round POSTs one indicator for a new domain, then asks
BIND (raw UDP queries, one every BENCH_RPZ_POLL_MS) until NXDOMAIN; the
figure is p50/p99 over the rounds, against DESIGN §8's p99 <= 50 ms.

Then BENCH_RPZ_AXFR_COUNT domain indicators are imported with the CLI,
tocsind is restarted (the zone loads from a snapshot), and one AXFR with
TSIG is timed (dig, output discarded), and BIND's transfer of it.

Environment (defaults in brackets): BENCH_RPZ_COUNT [1000] publishes,
BENCH_RPZ_POLL_MS [1], BENCH_RPZ_TIMEOUT_MS [5000] a round's bound (a
round past it counts as lost), BENCH_RPZ_AXFR_COUNT [100000] (0: skip).
Exit status: 0 when the benchmark ran (whatever the verdict), 1 when it
could not, 2 on usage errors.
"""
import base64
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import requests

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
from dnsutil import free_port, have, prog, query, rcode_of  # noqa: E402

TARGET_P99_MS = 50.0
ZONE = "rpz.bench.example"
DOMAIN = "bench.test"
KEY = "bench-key"


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def log(*a):
    print(*a, flush=True)


def run(*args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True, **kw)


class Tocsind:
    """tocsind on a fresh port; a thread keeps reading its log (a full
    pipe would stop it) and collects the lines."""

    def __init__(self, build, data, conf):
        self.p = subprocess.Popen([build / "daemon" / "tocsind", "--data", data, "--config", conf,
                                   "--listen", "127.0.0.1:0"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        rec = self.wait_for("listening", 120)
        if not rec:
            raise RuntimeError("tocsind did not start:\n" + "".join(self.lines))
        self.addr = rec["addr"]

    def _read(self):
        for line in self.p.stderr:
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)
            self.cv.notify_all()

    def wait_for(self, msg, timeout=600):
        end = time.monotonic() + timeout
        i = 0
        with self.cv:
            while time.monotonic() < end:
                while i < len(self.lines):
                    line = self.lines[i]
                    i += 1
                    if line is None:
                        return None
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("msg") == msg:
                        return rec
                self.cv.wait(timeout=0.5)
        return None

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def named_conf(d, port, primary_port, secret):
    (d / "bench.db").write_text(f"""$TTL 60
@ IN SOA localhost. hostmaster.localhost. 1 60 10 86400 60
@ IN NS localhost.
* IN A 192.0.2.1
""")
    (d / "named.conf").write_text(f"""
options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-query {{ 127.0.0.1; }};
    allow-recursion {{ 127.0.0.1; }};
    dnssec-validation no;
    empty-zones-enable no;
    notify no;
    serial-query-rate 10000;
    response-policy {{ zone "{ZONE}"; }} min-update-interval 0 recursive-only no
        qname-wait-recurse no;
}};
controls {{ }};
key "{KEY}" {{ algorithm hmac-sha256; secret "{secret}"; }};
zone "{ZONE}" {{
    type secondary;
    primaries port {primary_port} {{ 127.0.0.1 key "{KEY}"; }};
    file "{d}/rpz.db";
    allow-notify {{ 127.0.0.1; }};
    request-ixfr yes;
    max-journal-size 64M;
}};
zone "{DOMAIN}" {{ type primary; file "{d}/bench.db"; }};
""")
    return d / "named.conf"


def ask(sock, port, name, qid):
    sock.sendto(query(name, "A", qid=qid, rd=True), ("127.0.0.1", port))
    try:
        while True:
            data, _ = sock.recvfrom(4096)
            if struct.unpack("!H", data[:2])[0] == qid:
                return rcode_of(data)
    except socket.timeout:
        return None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = pathlib.Path(sys.argv[1]).resolve()
    if not have("named", "dig"):
        log("bench_rpz: named or dig is not installed (scripts/deps.sh installs bind9, "
            "bind9-dnsutils); skipped")
        return 1
    count = env_int("BENCH_RPZ_COUNT", 1000)
    poll = env_int("BENCH_RPZ_POLL_MS", 1) / 1000
    bound = env_int("BENCH_RPZ_TIMEOUT_MS", 5000) / 1000
    axfr_count = env_int("BENCH_RPZ_AXFR_COUNT", 100000)
    tocsin = build / "cli" / "tocsin"
    root = pathlib.Path(tempfile.mkdtemp(prefix="tocsin-bench-rpz."))
    data = root / "var"
    run(tocsin, "init", "--data", data)
    run(tocsin, "org", "add", "bank", "--sector", "finance", "--country", "NO", "--data", data)
    key = run(tocsin, "key", "create", "bank", "--role", "contributor",
              "--data", data).stdout.strip()
    coll = run(tocsin, "collection", "add", "feed", "--read", "all", "--write", "all",
               "--data", data).stdout.strip()
    secret = base64.b64encode(os.urandom(32)).decode()
    (root / "tsig.key").write_text(secret + "\n")
    dport, bport = free_port(), free_port()
    conf = root / "tocsind.conf"
    conf.write_text(f"""[dns]
listen = 127.0.0.1:{dport}
[rpz bench]
origin = {ZONE}
view = operator
tsig_key = {KEY}
tsig_secret_file = {root}/tsig.key
allow = 127.0.0.0/8
notify = 127.0.0.1:{bport}
[log]
access = false
""")
    nd = root / "named"
    nd.mkdir()
    t = Tocsind(build, data, conf)
    named = subprocess.Popen([prog("named"), "-g", "-n", "1", "-c", str(named_conf(nd, bport, dport,
                                                                               secret))],
                             stdout=open(nd / "named.log", "w"), stderr=subprocess.STDOUT)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.5)
    lat, lost = [], 0
    try:
        # BIND has the zone and answers for the test domain
        end = time.monotonic() + 30
        while time.monotonic() < end and ask(sock, bport, "warm." + DOMAIN, 1) != "NOERROR":
            time.sleep(0.05)
        while time.monotonic() < end and "transferred serial" not in (nd / "named.log").read_text():
            time.sleep(0.05)
        s = requests.Session()
        url = f"http://{t.addr}/taxii2/hub/collections/{coll}/objects/"
        hdr = {"Content-Type": "application/taxii+json;version=2.1",
               "Accept": "application/taxii+json;version=2.1",
               "Authorization": "Basic " + base64.b64encode(f"k:{key}".encode()).decode()}
        sock.settimeout(max(poll, 0.001) * 5)
        for i in range(count):
            name = f"p{i}.{DOMAIN}"
            obj = {"type": "indicator", "spec_version": "2.1",
                   "id": "indicator--%08x-0000-4000-8000-%012x" % (i, os.getpid()),
                   "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                   "pattern": f"[domain-name:value = '{name}']", "pattern_type": "stix",
                   "valid_from": "2026-01-01T00:00:00.000Z"}
            r = s.post(url, data=json.dumps({"objects": [obj]}), headers=hdr, timeout=30)
            t0 = time.monotonic()
            if r.status_code != 202 or r.json().get("success_count") != 1:
                log("bench_rpz: POST failed:", r.status_code, r.text[:300])
                return 1
            ok = False
            qid = 2
            while time.monotonic() - t0 < bound:
                qid = (qid + 1) & 0xFFFF
                if ask(sock, bport, name, qid) == "NXDOMAIN":
                    ok = True
                    break
                time.sleep(poll)
            if ok:
                lat.append((time.monotonic() - t0) * 1000)
            else:
                lost += 1
        xfrs = [json.loads(x) for x in list(t.lines) if x and '"rpz transfer"' in x]
        log(f"publishes: {count}, answered NXDOMAIN: {len(lat)}, lost (over "
            f"{bound * 1000:.0f} ms): {lost}")
        if lat:
            p50, p99, mx = pct(lat, 50), pct(lat, 99), max(lat)
            log(f"publish -> BIND NXDOMAIN via RPZ p50: {p50:.1f} ms")
            verdict = "PASS" if p99 <= TARGET_P99_MS and not lost else "BELOW"
            log(f"publish -> BIND NXDOMAIN via RPZ p99: {p99:.1f} ms (target <= "
                f"{TARGET_P99_MS:.0f} ms, {count} publishes, max {mx:.1f} ms, lost {lost}) "
                f"{verdict}")
        log(f"transfers logged by tocsind: "
            + ", ".join(f"{k} {sum(1 for x in xfrs if x.get('type') == k)}"
                        for k in ("axfr", "ixfr", "ixfr-full")))
    finally:
        named.terminate()
        named.wait(timeout=30)
        t.stop()

    if axfr_count:
        bundle = root / "axfr.json"
        with open(bundle, "w") as f:
            f.write('{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001",'
                    '"objects":[')
            for i in range(axfr_count):
                f.write("%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                        "%08x-1111-4000-8000-000000000000\","
                        "\"created\":\"2026-01-01T00:00:00.000Z\","
                        "\"modified\":\"2026-01-01T00:00:00.000Z\",\"pattern\":\"[domain-name:value"
                        " = 'a%d.axfr.test']\",\"pattern_type\":\"stix\",\"valid_from\":"
                        "\"2026-01-01T00:00:00.000Z\"}" % ("," if i else "", i, i))
            f.write("]}")
        t0 = time.monotonic()
        run(tocsin, "import", "--data", data, "--collection", "feed", bundle)
        log(f"imported {axfr_count} domain indicators in {time.monotonic() - t0:.1f} s")
        t0 = time.monotonic()
        t = Tocsind(build, data, conf)
        loaded = t.wait_for("rpz zone loaded")
        log(f"zone loaded from a snapshot: {loaded.get('triggers') if loaded else '?'} triggers "
            f"in {time.monotonic() - t0:.1f} s (tocsind start included)")
        try:
            # BIND takes the whole zone by AXFR and loads it
            nd2 = root / "named2"
            nd2.mkdir()
            t0 = time.monotonic()
            named = subprocess.Popen([prog("named"), "-g", "-n", "1", "-c",
                                      str(named_conf(nd2, bport, dport, secret))],
                                     stdout=open(nd2 / "named.log", "w"), stderr=subprocess.STDOUT)
            end = time.monotonic() + 600
            while time.monotonic() < end:
                text = (nd2 / "named.log").read_text()
                if "rpz: %s: reload done" % ZONE in text and "transferred serial" in text:
                    break
                time.sleep(0.1)
            log(f"BIND: AXFR and RPZ load of {axfr_count} decisions: "
                f"{time.monotonic() - t0:.1f} s (named start included)")
            # another AXFR (dig) while publishes go on: they still reach BIND
            # by IXFR, the AXFR being written by a thread of its own
            t0 = time.monotonic()
            dig = subprocess.Popen([prog("dig"), "@127.0.0.1", "-p", str(dport), ZONE, "AXFR", "-y",
                                    f"hmac-sha256:{KEY}:{secret}", "+onesoa", "+nocmd",
                                    "+nostats"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
            during = []
            s = requests.Session()
            sock.settimeout(max(poll, 0.001) * 5)
            time.sleep(0.5)
            for i in range(env_int("BENCH_RPZ_DURING", 20)):
                name = f"d{i}.{DOMAIN}"
                obj = {"type": "indicator", "spec_version": "2.1",
                       "id": "indicator--%08x-2222-4000-8000-%012x" % (i, os.getpid()),
                       "created": "2026-01-01T00:00:00.000Z",
                       "modified": "2026-01-01T00:00:00.000Z",
                       "pattern": f"[domain-name:value = '{name}']", "pattern_type": "stix",
                       "valid_from": "2026-01-01T00:00:00.000Z"}
                r = s.post(f"http://{t.addr}/taxii2/hub/collections/{coll}/objects/",
                           data=json.dumps({"objects": [obj]}), headers=hdr, timeout=30)
                p0 = time.monotonic()
                # tocsind's own zone has the trigger (the DNS thread applied it
                # and sent NOTIFY) while its transfer thread writes the AXFR
                while time.monotonic() - p0 < bound:
                    sock.sendto(query(f"{name}.{ZONE}", "A", qid=7000 + i),
                                ("127.0.0.1", dport))
                    try:
                        data, _ = sock.recvfrom(4096)
                        if rcode_of(data) == "NOERROR":
                            during.append((time.monotonic() - p0) * 1000)
                            break
                    except socket.timeout:
                        pass
                    time.sleep(poll)
            last = f"d{env_int('BENCH_RPZ_DURING', 20) - 1}.{DOMAIN}"
            b0 = time.monotonic()
            bind_ok = False
            while time.monotonic() - b0 < 120:
                if ask(sock, bport, last, 9999) == "NXDOMAIN":
                    bind_ok = True
                    break
                time.sleep(0.01)
            bind_wait = time.monotonic() - b0
            busy = dig.poll() is None
            out = dig.communicate(timeout=600)[0]
            el = time.monotonic() - t0
            rrs = out.count(b"\n")
            log(f"AXFR of {axfr_count} decisions ({rrs} RRs, TSIG, dig): {el:.2f} s")
            if during:
                log(f"publish -> tocsind's zone has it, during that AXFR: {len(during)} of "
                    f"{env_int('BENCH_RPZ_DURING', 20)}, p50 {pct(during, 50):.1f} ms, max "
                    f"{max(during):.1f} ms (the AXFR {'still' if busy else 'no longer'} running "
                    "after the last)")
            log(f"BIND with the {axfr_count}-decision zone answered NXDOMAIN for the last of "
                f"them {bind_wait:.1f} s later{'' if bind_ok else ' (not within 120 s)'}: BIND "
                "rebuilds its RPZ summary after every transfer, in time growing with the zone")
            named.terminate()
            named.wait(timeout=60)
        finally:
            t.stop()
    if not os.environ.get("BENCH_RPZ_KEEP"):
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
