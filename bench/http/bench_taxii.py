#!/usr/bin/env python3
"""bench_taxii.py BUILD_DIR — the TAXII-over-HTTP benchmarks (issue 3 item 9),
run by bench/run.sh. Each figure is printed in the form run.sh reads.

  1. GET objects/, pages of 100 at varied added_after offsets, from a
     collection of 1M indicators (target >= 5,000 requests/s); also the
     next-cursor walk (each connection follows `next` from its start).
  2. POST objects/, envelopes of 1,000 new objects from 8 concurrent
     clients, counted when acknowledged 202 (= durable) (target >= 50,000
     objects/s), into a fresh hub.
  3. GET latency p50/p99/p99.9 at 50 connections.

The 1M-object data directory takes ~45 s to import, so it is kept under
BUILD_DIR/bench-data/, named by a hash of the generator's output (the data
is rebuilt when tocsin-gen changes) and checked before use. POST bodies
are kept there too. Beside each run it prints the CPU time tocsind (per
thread name) and tocsin-load used, and the machine's busy cores, read from
/proc, so a reader sees where the time went on a shared machine.

Environment (defaults in brackets): BENCH_HTTP_OBJECTS [1000000],
BENCH_HTTP_SECONDS [12] per GET run, BENCH_HTTP_CONNS [16],
BENCH_HTTP_ENVELOPES [300] POST bodies of 1,000 objects,
BENCH_HTTP_PERF [] set to record `perf record -g` of tocsind during the
GET run (and the POST run) and print the top of its report,
BENCH_HTTP_ONLY [] `get` or `post` to run only that part,
BENCH_HTTP_TOCSIND [] another tocsind binary to measure (e.g. a saved one,
for before/after runs on the same data),
BENCH_HTTP_PERF_KEEP [] a file to keep the POST run's perf data in,
BENCH_HTTP_REPEAT [1] POST runs (each into a fresh hub): the machine is
shared, so compare the best of several.
Exit status: 0 when every run completed (whatever the verdicts), 1 when a
run failed, 2 on usage errors or when the hub could not be set up.
"""
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import urllib.request
from datetime import datetime, timezone

GET_TARGET = 5000        # requests/s, DESIGN §8
POST_TARGET = 50000      # objects/s, issue 3 item 9
PAGE = 100
ENVELOPE = 1000
OFFSETS = 256            # distinct added_after values requested in turn
START_TIMEOUT = 30       # seconds for tocsind to say it listens
ACCEPT = "application/taxii+json;version=2.1"


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def log(*a):
    print(*a, flush=True)


class Failed(Exception):
    pass


def run(args, data=None):
    """Runs a command (with TOCSIN_DATA=data); its stdout, or Failed."""
    env = dict(os.environ, TOCSIN_DATA=data) if data else None
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise Failed("%s: exit %d\n%s%s" % (" ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
    return p.stdout


def rfc3339(us):
    return datetime.fromtimestamp(us / 1e6, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cpu_ticks(pid):
    """{thread name: user+sys seconds} of every thread of pid."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    s = f.read()
            except OSError:
                continue
            name = s[s.index("(") + 1:s.rindex(")")]
            fields = s[s.rindex(")") + 2:].split()
            name = re.sub(r"[0-9]+$", "", name) or name   # request threads: one row
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / hz
    except OSError:
        pass
    return out


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v), idle


class Daemon:
    def __init__(self, tocsind, data, logdir, extra=None):
        self.log_path = os.path.join(logdir, "tocsind.log")
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen([tocsind, "--data", data, "--listen", "127.0.0.1:0", *(extra or [])],
                                  stdout=subprocess.DEVNULL, stderr=self.log)
        self.addr = None
        end = time.monotonic() + START_TIMEOUT
        while time.monotonic() < end and self.addr is None:
            if self.p.poll() is not None:
                raise Failed("tocsind exited with %d:\n%s" % (self.p.returncode, self.tail()))
            with open(self.log_path) as f:
                for line in f:
                    if '"msg":"listening"' in line.replace(" ", ""):
                        try:
                            self.addr = json.loads(line)["addr"]
                        except (ValueError, KeyError):
                            pass
                        break
            time.sleep(0.05)
        if self.addr is None:
            self.stop()
            raise Failed("tocsind did not log \"listening\" within %d s:\n%s" % (START_TIMEOUT, self.tail()))
        self.base = "http://" + self.addr

    def tail(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-15:])

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                log("bench: tocsind did not stop on SIGTERM within 20 s; killing it")
                self.p.kill()
                self.p.wait()
        self.log.close()


def get(url, key, timeout=30):
    req = urllib.request.Request(url, headers={"Accept": ACCEPT, "Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read()


class Hub:
    """A data directory with an organisation, a key and one collection."""

    def __init__(self, tocsin, data, role, read, write):
        self.data = data
        run([tocsin, "init"], data)
        run([tocsin, "org", "add", "bench", "--sector", "other", "--country", "EE"], data)
        self.key = run([tocsin, "key", "create", "bench", "--role", role, "--name", "bench"],
                       data).strip()
        run([tocsin, "collection", "rights", "default", "--read", read, "--write", write], data)
        self.collection = collection_id(tocsin, data)


def collection_id(tocsin, data):
    out = run([tocsin, "collection", "list"], data)
    for line in out.splitlines():
        if re.search(r"\bdefault\b", line):
            m = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", line)
            if m:
                return m.group(0)
    raise Failed("no 'default' collection id in `tocsin collection list`:\n" + out)


def gen_key(gen):
    """A short hash of what tocsin-gen writes: the cache is rebuilt when it changes."""
    out = subprocess.run([gen, "--seed", "1", "--count", "2000", "--format", "jsonl"],
                         capture_output=True, check=True).stdout
    return hashlib.sha256(out).hexdigest()[:12]


def get_data(b, count, key):
    """The cached 1M-object hub: (dir, meta). Builds it when missing."""
    cache = os.path.join(b["root"], "taxii-%d-g%s" % (count, key))
    meta_path = os.path.join(cache, "bench-meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            log("bench: reusing %s" % cache)
            return cache, json.load(f)
    tmp = cache + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    log("bench: building %s (%s indicators, tocsin import; once per generator version)" % (cache, f"{count:,}"))
    hub = Hub(b["tocsin"], tmp, "reader", "all", "none")
    feed = os.path.join(b["root"], "feed-%d.jsonl" % count)
    t = time.monotonic()
    run([b["gen"], "--seed", "1", "--count", count, "--format", "jsonl", "-o", feed])
    t_gen = time.monotonic() - t
    t0 = int(time.time() * 1e6)
    t = time.monotonic()
    run([b["tocsin"], "import", "--collection", "default", feed], tmp)
    t_imp = time.monotonic() - t
    t1 = int(time.time() * 1e6)
    os.unlink(feed)
    log("bench: generated in %.1f s, imported in %.1f s (%s indicators/s)" %
        (t_gen, t_imp, f"{count / t_imp:,.0f}"))
    meta = {"key": hub.key, "collection": hub.collection, "t0_us": t0, "t1_us": t1, "count": count}
    with open(os.path.join(tmp, "bench-meta.json"), "w") as f:
        json.dump(meta, f)
    os.rename(tmp, cache)
    return cache, meta


def envelopes(b, n, key):
    """A file of n POST bodies, one a line, each {"objects": [1,000 new objects]}."""
    # posted by the organisation "bench": its identity is what the hub
    # derives from its name (REG_ORG_NAMESPACE), and the hub refuses
    # objects created_by_ref any other organisation
    creator = "identity--%s" % uuid.uuid5(uuid.UUID("8d6f1c3a-2b7e-4f90-a5d4-3e1b9c7f0a62"),
                                          "bench")
    path = os.path.join(b["root"], "post-%dx%d-g%s-c.jsonl" % (n, ENVELOPE, key))
    if os.path.exists(path):
        return path
    tmp = path + ".tmp"
    # seed 2: none of these objects is in the GET hub either
    p = subprocess.Popen([b["gen"], "--seed", "2", "--count", str(n * ENVELOPE), "--format", "jsonl",
                          "--creator", creator],
                         stdout=subprocess.PIPE, text=True)
    made = 0
    with open(tmp, "w") as out:
        batch = []
        for line in p.stdout:
            line = line.strip()
            if not line:
                continue
            batch.append(line)
            if len(batch) == ENVELOPE:
                out.write('{"objects":[' + ",".join(batch) + "]}\n")
                batch = []
                made += 1
                if made == n:
                    break
    p.stdout.close()
    p.kill()
    p.wait()
    if made < n:
        raise Failed("tocsin-gen gave only %d envelopes of %d" % (made, ENVELOPE))
    os.rename(tmp, path)
    return path


def load(b, daemon, args, name_for_cpu):
    """Runs tocsin-load; prints its output and the CPU split; returns its stdout."""
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c0 = cpu_ticks(daemon.p.pid)
    m0 = machine_busy()
    t = time.monotonic()
    p = subprocess.run([b["load"], *map(str, args)], capture_output=True, text=True)
    wall = time.monotonic() - t
    m1 = machine_busy()
    c1 = cpu_ticks(daemon.p.pid)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stdout.write(p.stdout)
    if p.stderr:
        sys.stdout.write(p.stderr)
    d = {k: c1.get(k, 0) - c0.get(k, 0) for k in c1}
    served = sum(d.values())
    client = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    tot = m1[0] - m0[0]
    busy = (tot - (m1[1] - m0[1])) / tot * os.cpu_count() if tot else 0
    reqs = re.search(r"requests: ([0-9,]+) answered", p.stdout)
    n = int(reqs.group(1).replace(",", "")) if reqs else 0
    per = (" = %.0f µs of tocsind CPU per request (%s requests per tocsind CPU second)"
           % (served / n * 1e6, f"{n / served:,.0f}")) if n and served else ""
    objs = re.search(r"objects: ([0-9,]+) in accepted", p.stdout)
    if objs and "POST" in name_for_cpu:
        per += ", %.1f µs per object" % (served / int(objs.group(1).replace(",", "")) * 1e6)
    threads = ", ".join("%s %.2f" % (k, v) for k, v in sorted(d.items(), key=lambda kv: -kv[1]) if v >= 0.01)
    log("cpu (%s, %.1f s wall): tocsind %.2f s [%s]%s; tocsin-load %.2f s; machine %.2f of %d cores busy"
        % (name_for_cpu, wall, served, threads, per, client, busy, os.cpu_count()))
    if p.returncode != 0:
        raise Failed("tocsin-load exit %d (%s)\n%s" % (p.returncode, name_for_cpu, daemon.tail()))
    return p.stdout


def latency(out):
    m = re.search(r"latency: p50 ([0-9.]+) ms p90 ([0-9.]+) ms p99 ([0-9.]+) ms p99\.9 ([0-9.]+) ms max ([0-9.]+) ms", out)
    return [float(x) for x in m.groups()] if m else None


def bench_get(b, count, key, seconds, conns):
    data, meta = get_data(b, count, key)
    logdir = tempfile.mkdtemp(prefix="tocsin-bench-http.")
    d = Daemon(b["tocsind"], data, logdir)
    try:
        base = "%s/taxii2/hub/collections/%s/objects/" % (d.base, meta["collection"])
        # check the data: a first page full, and find where date_added runs
        st, hdr, body = get(base + "?limit=%d" % PAGE, meta["key"])
        env = json.loads(body)
        if len(env.get("objects", [])) != PAGE or not env.get("more"):
            raise Failed("first page has %d objects (more=%s), want %d: is the data dir complete?"
                         % (len(env.get("objects", [])), env.get("more"), PAGE))
        log("bench: page of %d = %s bytes; X-TAXII-Date-Added-First %s" %
            (PAGE, f"{len(body):,}", hdr.get("X-TAXII-Date-Added-First")))
        t0, t1 = meta["t0_us"], meta["t1_us"]
        paths = os.path.join(logdir, "paths.txt")
        rel = "/taxii2/hub/collections/%s/objects/" % meta["collection"]
        with open(paths, "w") as f:
            for i in range(OFFSETS):
                us = t0 + (t1 - t0) * 0.9 * i // OFFSETS   # the last 10 % may give short pages
                f.write("%s?limit=%d&added_after=%s\n" % (rel, PAGE, rfc3339(us)))
        st, hdr, body = get("%s?limit=%d&added_after=%s" % (base, PAGE, rfc3339(t0 + (t1 - t0) // 2)), meta["key"])
        mid = len(json.loads(body).get("objects", []))
        if mid != PAGE:
            raise Failed("a page from the middle of the collection has %d objects, want %d" % (mid, PAGE))
        hdrs = ["-H", "Accept: " + ACCEPT, "-H", "Authorization: Bearer " + meta["key"]]
        common = [*hdrs, "--paths", paths, "--accept", "200", "--objects", PAGE]
        log("== warm-up, 3 s")
        load(b, d, ["-q", "-c", conns, "-d", 3, *common, d.base + "/"], "warm-up")
        log("== GET pages of %d at %d added_after offsets, %d connections, %d s" % (PAGE, OFFSETS, conns, seconds))
        perf = None
        if os.environ.get("BENCH_HTTP_PERF") and shutil.which("perf"):
            perf_data = os.path.join(logdir, "perf.data")
            perf = subprocess.Popen(["perf", "record", "-g", "-o", perf_data, "-p", str(d.p.pid), "--",
                                     "sleep", str(max(seconds - 2, 2))],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load(b, d, ["-c", conns, "-d", seconds, *common, "--name",
                    "TAXII GET objects, page of 100, %s collection" % short(count),
                    "--target-rps", GET_TARGET, d.base + "/"], "GET")
        if perf:
            perf.wait()
            rep = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--no-children",
                                  "--sort", "dso", "--percent-limit", "2"],
                                 capture_output=True, text=True).stdout
            log("perf, tocsind during the GET run, by library:")
            log("\n".join(l for l in rep.splitlines() if l.strip() and not l.startswith("#"))[:3000])
            rep = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--no-children",
                                  "--sort", "sym", "--percent-limit", "1.5", "-g", "none"],
                                 capture_output=True, text=True).stdout
            log("perf, by function:")
            log("\n".join(l for l in rep.splitlines() if l.strip() and not l.startswith("#"))[:4000])
        log("== GET next-cursor walk from the same offsets, %d connections, %d s" % (conns, seconds // 2))
        load(b, d, ["-c", conns, "-d", max(seconds // 2, 3), *common, "--follow-next", "--name",
                    "TAXII GET next-cursor walk, page of 100", d.base + "/"], "walk")
        log("== GET latency at 50 connections, %d s" % seconds)
        out = load(b, d, ["-c", 50, "-d", seconds, *common, d.base + "/"], "50 connections")
        lat = latency(out)
        if lat:
            log("TAXII GET p99 latency at 50 connections: %.2f ms (p50 %.2f ms, p99.9 %.2f ms, max %.2f ms)"
                % (lat[2], lat[0], lat[3], lat[4]))
    finally:
        d.stop()
        shutil.rmtree(logdir, ignore_errors=True)


def bench_post(b, n_env, key):
    bodies = envelopes(b, n_env, key)
    work = tempfile.mkdtemp(prefix="tocsin-bench-post.", dir=b["root"])
    try:
        hub = Hub(b["tocsin"], os.path.join(work, "data"), "contributor", "all", "all")
        d = Daemon(b["tocsind"], hub.data, work)
        try:
            log("== POST envelopes of %d new objects, 8 clients, %d envelopes; load average %s"
                % (ENVELOPE, n_env, " ".join("%.2f" % x for x in os.getloadavg())))
            hdrs = ["-H", "Accept: " + ACCEPT, "-H", "Content-Type: " + ACCEPT,
                    "-H", "Authorization: Bearer " + hub.key]
            path = "/taxii2/hub/collections/%s/objects/" % hub.collection
            perf = perf_start(d, work, 8)
            load(b, d, ["-c", 8, "-d", 60, "--timeout", 120, *hdrs, "--bodies", bodies, "--accept", "202",
                        "--objects", ENVELOPE, "--name", "TAXII POST objects, 8 clients, envelopes of 1,000",
                        "--target-ops", POST_TARGET, d.base + path], "POST")
            perf_report(perf, "POST")
            log("tocsind peak RSS after the POST run: %s (VmHWM); load average %s"
                % (peak_rss(d.p.pid), " ".join("%.2f" % x for x in os.getloadavg())))
            try:
                st, hdr, body = get(d.base + "/healthz", hub.key)
                log("bench: after the POSTs /healthz says %s" % body.decode(errors="replace").strip())
            except OSError as e:
                log("bench: /healthz: %s" % e)
        finally:
            d.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def peak_rss(pid):
    """The process's peak resident set (VmHWM of /proc/PID/status), as text."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return "%.0f MB" % (int(line.split()[1]) / 1024)
    except OSError:
        pass
    return "unknown"


def perf_start(d, workdir, seconds):
    """With BENCH_HTTP_PERF set and perf installed: records tocsind for seconds."""
    if not (os.environ.get("BENCH_HTTP_PERF") and shutil.which("perf")):
        return None
    data = os.path.join(workdir, "perf-post.data")
    p = subprocess.Popen(["perf", "record", "-g", "-o", data, "-p", str(d.p.pid), "--",
                          "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, data


def perf_report(perf, what):
    if not perf:
        return
    p, data = perf
    p.wait()
    keep = os.environ.get("BENCH_HTTP_PERF_KEEP")
    if keep:
        shutil.copyfile(data, keep)
        log("bench: perf data kept in %s" % keep)
    for sort, lim, title in (("comm,dso", "2", "by thread and library"), ("sym", "1", "by function")):
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                              "--sort", sort, "--percent-limit", lim, "-g", "none"],
                             capture_output=True, text=True).stdout
        log("perf, tocsind during the %s run, %s:" % (what, title))
        log("\n".join(l for l in rep.splitlines() if l.strip() and not l.startswith("#"))[:4000])


def short(n):
    return "%dM" % (n // 1000000) if n % 1000000 == 0 else "%dk" % (n // 1000) if n % 1000 == 0 else str(n)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: bench/http/bench_taxii.py BUILD_DIR", file=sys.stderr)
        return 2
    build = sys.argv[1]
    b = {
        "gen": os.path.join(build, "bench", "tocsin-gen"),
        "load": os.path.join(build, "bench", "http", "tocsin-load"),
        "tocsin": os.path.join(build, "cli", "tocsin"),
        "tocsind": os.path.join(build, "daemon", "tocsind"),
        "root": os.path.abspath(os.environ.get("BENCH_HTTP_DATA", os.path.join(build, "bench-data"))),
    }
    if os.environ.get("BENCH_HTTP_TOCSIND", "").strip():
        b["tocsind"] = os.environ["BENCH_HTTP_TOCSIND"].strip()
    for k in ("gen", "load", "tocsin", "tocsind"):
        if not os.access(b[k], os.X_OK):
            print("bench: %s is not built" % b[k], file=sys.stderr)
            return 2
    count = env_int("BENCH_HTTP_OBJECTS", 1000000)
    seconds = env_int("BENCH_HTTP_SECONDS", 12)
    conns = env_int("BENCH_HTTP_CONNS", 16)
    n_env = env_int("BENCH_HTTP_ENVELOPES", 300)
    os.makedirs(b["root"], exist_ok=True)
    key = gen_key(b["gen"])
    repeat = max(env_int("BENCH_HTTP_REPEAT", 1), 1)
    rc = 0
    only = os.environ.get("BENCH_HTTP_ONLY", "").strip().lower()
    if only not in ("", "get", "post"):
        print("bench: BENCH_HTTP_ONLY must be get or post", file=sys.stderr)
        return 2
    for what, fn in (("GET", lambda: bench_get(b, count, key, seconds, conns)),
                     ("POST", lambda: [bench_post(b, n_env, key) for _ in range(repeat)])):
        if only and what.lower() != only:
            continue
        try:
            fn()
        except (Failed, OSError, ValueError) as e:
            log("bench: %s benchmark FAILED: %s" % (what, e))
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
