#!/usr/bin/env python3
"""bench_export.py BUILD_DIR — GET /api/v1/export/rpz and /nft of 1,000,000
decisions from a running tocsind (issue 10, point 5: target <= 2 s each),
run by bench/run.sh.

The data directory is built once and kept under BUILD_DIR/bench-data/
(named by the count and this file's generator version): `tocsin init`, an
organisation and a reader key, then `tocsin import` of a CSV
(value,kind,valid_until) of BENCH_EXPORT_COUNT values — 85 % IPv4
addresses, 5 % IPv4 /24 networks apart from them, 10 % IPv6 addresses,
half of them with a valid_until in 2030 (nft and ipset then write
timeouts) — so that every value is a decision and both formats carry all
of them. tocsind is started on it; each format is fetched
BENCH_EXPORT_REPEAT times (the first warms the page cache) with an
Authorization header, reading the whole body; the figure is the median
wall time, first byte of the request to last byte of the answer, with the
size, the CPU time tocsind spent on it (from /proc: what the export costs
whatever else runs) and the load average (the machine is shared). A GET with the ETag
(If-None-Match, 304) is timed too: the cheap re-poll.

Environment (defaults in brackets): BENCH_EXPORT_COUNT [1000000],
BENCH_EXPORT_REPEAT [3], BENCH_EXPORT_KEEP [] keep a fresh copy.
Exit status: 0 when every export ran (whatever the verdict), 1 when one
failed, 2 on usage errors.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

TARGET_S = 2.0
GEN_VERSION = 1  # bump when the data below changes: the cache is rebuilt


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def log(*a):
    print(*a, flush=True)


class Failed(Exception):
    pass


def run(args, data=None):
    env = dict(os.environ)
    if data:
        env["TOCSIN_DATA"] = data
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env)
    if p.returncode:
        raise Failed("%s: exit %d\n%s" % (" ".join(map(str, args)), p.returncode, p.stderr[-2000:]))
    return p.stdout


def values(count):
    """count distinct decisions: IPv4 addresses, /24 networks, IPv6."""
    n_net = count * 5 // 100
    n_v6 = count * 10 // 100
    n_v4 = count - n_net - n_v6
    for i in range(n_v4):  # 185.0.0.0/8 upwards, .1-.250
        a = 185 * 2**24 + (i // 250) * 256 + 1 + i % 250
        yield "%d.%d.%d.%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255), "ipv4"
    for i in range(n_net):  # 176.0.0.0/8 upwards, apart from the addresses
        a = 176 * 2**24 + i * 256
        yield "%d.%d.%d.0/24" % (a >> 24, a >> 16 & 255, a >> 8 & 255), "ipv4"
    for i in range(n_v6):
        yield "2a0b:%x:%x::1" % (0x1000 + i // 65536, i % 65536), "ipv6"


def get_data(build, count):
    root = os.path.join(build, "bench-data")
    cache = os.path.join(root, "export-%d-v%d" % (count, GEN_VERSION))
    meta_path = os.path.join(cache, "bench-meta.json")
    if os.path.exists(meta_path):
        log("bench: reusing %s" % cache)
        with open(meta_path) as f:
            return cache, json.load(f)
    tocsin = os.path.join(build, "cli", "tocsin")
    tmp = cache + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    log("bench: building %s (%s decisions; once)" % (cache, f"{count:,}"))
    run([tocsin, "init"], tmp)
    run([tocsin, "org", "add", "bench", "--sector", "other", "--country", "EE"], tmp)
    key = run([tocsin, "key", "create", "bench", "--role", "reader", "--name", "bench"], tmp).strip()
    run([tocsin, "collection", "rights", "default", "--read", "all", "--write", "none"], tmp)
    feed = os.path.join(root, "export-feed-%d.csv" % count)
    t = time.monotonic()
    with open(feed, "w") as f:
        for i, (v, k) in enumerate(values(count)):
            f.write("%s,%s,%s\n" % (v, k, "2030-01-01T00:00:00Z" if i % 2 else ""))
    t_gen = time.monotonic() - t
    t = time.monotonic()
    out = run([tocsin, "import", "--collection", "default", "--format", "csv", feed], tmp)
    t_imp = time.monotonic() - t
    os.unlink(feed)
    log("bench: generated in %.1f s, imported in %.1f s: %s" % (t_gen, t_imp, out.strip()))
    meta = {"key": key, "count": count}
    with open(os.path.join(tmp, "bench-meta.json"), "w") as f:
        json.dump(meta, f)
    os.rename(tmp, cache)
    return cache, meta


class Daemon:
    def __init__(self, tocsind, data, logdir):
        self.log_path = os.path.join(logdir, "tocsind-export.log")
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen([tocsind, "--data", data, "--listen", "127.0.0.1:0"],
                                  stdout=subprocess.DEVNULL, stderr=self.log)
        self.addr = None
        end = time.monotonic() + 60
        while time.monotonic() < end and self.addr is None:
            if self.p.poll() is not None:
                raise Failed("tocsind exited with %d" % self.p.returncode)
            with open(self.log_path) as f:
                for line in f:
                    if '"msg":"listening"' in line.replace(" ", ""):
                        self.addr = json.loads(line)["addr"]
                        break
            time.sleep(0.05)
        if self.addr is None:
            self.stop()
            raise Failed("tocsind did not log \"listening\" in time")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def cpu_s(pid):
    """User + system CPU seconds of process pid so far (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def fetch(url, key, etag=None):
    h = {"Authorization": "Bearer " + key}
    if etag:
        h["If-None-Match"] = etag
    req = urllib.request.Request(url, headers=h)
    t = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            body = r.read()
            status, headers = r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        body, status, headers = e.read(), e.code, dict(e.headers)
    return time.monotonic() - t, status, headers, body


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: bench_export.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    count = env_int("BENCH_EXPORT_COUNT", 1_000_000)
    repeat = max(1, env_int("BENCH_EXPORT_REPEAT", 3))
    tocsind = os.path.join(build, "daemon", "tocsind")
    try:
        data, meta = get_data(build, count)
        daemon = Daemon(tocsind, data, os.path.join(build, "bench-data"))
    except Failed as e:
        log("bench: %s" % e)
        return 1
    failed = 0
    # tocsind loads its index at start: measure once it is idle
    end = time.monotonic() + 120
    prev = cpu_s(daemon.p.pid)
    while time.monotonic() < end:
        time.sleep(0.5)
        cur = cpu_s(daemon.p.pid)
        if cur - prev < 0.05:
            break
        prev = cur
    try:
        for fmt, unit in (("rpz", "rpz-ip triggers"), ("nft", "set elements")):
            url = "http://%s/api/v1/export/%s" % (daemon.addr, fmt)
            times, cpus, size, etag, lines = [], [], 0, None, 0
            for _ in range(repeat):
                c0 = cpu_s(daemon.p.pid)
                dt, status, headers, body = fetch(url, meta["key"])
                cpus.append(cpu_s(daemon.p.pid) - c0)
                if status != 200:
                    raise Failed("%s: HTTP %d %s" % (url, status, body[:300]))
                times.append(dt)
                size, etag = len(body), headers.get("ETag")
                lines = body.count(b"\n")
            written = body.count(b".rpz-ip CNAME") if fmt == "rpz" else \
                body.count(b", ") + body.count(b"add element")
            dt304, st304, _, _ = fetch(url, meta["key"], etag)
            med = statistics.median(times)
            load = os.getloadavg()[0]
            log("export %s of %s decisions: %s %s, %.1f MB, %d lines; runs %s s; "
                "tocsind CPU %s s; 304 re-poll %.1f ms (HTTP %d); load %.2f" %
                (fmt, f"{count:,}", f"{written:,}", unit, size / 1e6, lines,
                 ", ".join("%.2f" % t for t in times), ", ".join("%.2f" % c for c in cpus),
                 dt304 * 1000, st304, load))
            verdict = "PASS" if med <= TARGET_S else "BELOW"
            log("export of %s decisions as %s over HTTP: %.2f s (median of %d; target <= %g s) %s" %
                (f"{count:,}", fmt, med, repeat, TARGET_S, verdict))
    except Failed as e:
        log("bench: %s" % e)
        failed = 1
    finally:
        daemon.stop()
    return failed


if __name__ == "__main__":
    sys.exit(main())
