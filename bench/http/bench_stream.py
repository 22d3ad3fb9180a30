#!/usr/bin/env python3
"""bench/http/bench_stream.py BUILD_DIR — publish -> event latency through
GET /api/v1/stream (issue 10, DESIGN §8), run by bench/run.sh.

  1. One stream client (view=stix); BENCH_STREAM_PUBLISHES (10,000) POSTs of
     one indicator each, one after the other on a kept-alive connection.
     For each: the time from the POST's acknowledgement (202: durable) to
     the moment the client has read the event (0 when the event came
     first: the writer wakes the streams before it answers the POST), and
     from the POST's first byte. Target p99 <= 5 ms (ack -> event), none
     lost.
  2. BENCH_STREAM_CLIENTS (1,000) concurrent stream clients and
     BENCH_STREAM_PUBLISHES_MANY (1,000) POSTs at BENCH_STREAM_RATE (50)
     per second: the same over every (client, event) pair (target p99 <=
     50 ms, none lost), and tocsind's RSS.

The clients are BUILD_DIR/bench/http/tocsin-stream-load (C, one epoll
thread for every stream socket, one publishing connection), on the same
machine as tocsind: they share its cores. An event not read within 10 s
of the last publish is lost. Prints the figures in run.sh's form; exit 0
when it ran, 1 when a run failed, 2 on usage errors.
"""
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

P99_ONE = 5.0     # ms, one client
P99_MANY = 50.0   # ms, 1,000 clients
RESULT = re.compile(r"ack->event p50 ([0-9.]+) p99 ([0-9.]+) max ([0-9.]+) ms; send->event "
                    r"p50 ([0-9.]+) p99 ([0-9.]+) max ([0-9.]+) ms; lost (\d+) of (\d+)")


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def start(tocsind, data, conf):
    p = subprocess.Popen([tocsind, "--data", data, "--config", conf, "--listen", "127.0.0.1:0"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        rec = json.loads(line)
        if rec.get("msg") == "listening":
            host, port = rec["addr"].rsplit(":", 1)
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, host, int(port)
    raise RuntimeError("tocsind did not start")


def cpu_s(pid):
    """User + system CPU seconds the process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def line(fig, value, unit, op, target):
    ok = value <= target if op == "<=" else value >= target
    print(f"{fig}: {value:,.2f} {unit} (target {op} {target}) {'PASS' if ok else 'BELOW'}",
          flush=True)


def load(tool, host, port, key, coll, clients, publishes, rate, first, pid=None):
    """Runs tocsin-stream-load; returns (ack p50, p99, max, send p50, p99, max, lost, want,
    the daemon's largest RSS meanwhile in KiB)."""
    p = subprocess.Popen([tool, host, str(port), key, coll, str(clients), str(publishes),
                          str(rate), str(first)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    rss = 0
    while p.poll() is None:
        if pid:
            rss = max(rss, rss_kib(pid))
        time.sleep(0.2)
    out, err = p.communicate()
    m = RESULT.search(out)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"tocsin-stream-load exit {p.returncode}: {out}{err}")
    v = [float(x) for x in m.groups()]
    return v[:6] + [int(v[6]), int(v[7]), rss]


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: bench/http/bench_stream.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    tocsin, tocsind = f"{build}/cli/tocsin", f"{build}/daemon/tocsind"
    tool = f"{build}/bench/http/tocsin-stream-load"
    if not os.access(tool, os.X_OK):
        print(f"bench_stream: {tool} is not built", file=sys.stderr)
        return 2
    n_one = env_int("BENCH_STREAM_PUBLISHES", 10000)
    n_clients = env_int("BENCH_STREAM_CLIENTS", 1000)
    n_many = env_int("BENCH_STREAM_PUBLISHES_MANY", 1000)
    rate = env_int("BENCH_STREAM_RATE", 50)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
    tmp = tempfile.mkdtemp(prefix="tocsin-stream.")
    data, conf = f"{tmp}/var", f"{tmp}/tocsind.conf"

    def run(*a):
        return subprocess.run([tocsin, *a, "--data", data], check=True, capture_output=True,
                              text=True).stdout
    run("init")
    run("org", "add", "northbank", "--sector", "finance", "--country", "NO")
    key = run("key", "create", "northbank", "--role", "contributor").strip()
    coll = run("collection", "add", "open", "--read", "all", "--write", "all").strip()
    lim = n_clients + 200
    with open(conf, "w") as f:
        f.write(f"[server]\nconnection_limit = {lim}\nper_address_limit = {lim}\n"
                f"[stream]\nmax_clients = {lim}\nmax_clients_per_org = {lim}\n"
                "[log]\naccess = false\n")
    p, host, port = start(tocsind, data, conf)
    status = 0
    try:
        t0 = time.monotonic()
        r = load(tool, host, port, key, coll, 1, n_one, 0, 0)
        print(f"one client: {n_one} publishes in {time.monotonic() - t0:.1f} s; ack->event "
              f"p50 {r[0]:.2f} ms p99 {r[1]:.2f} ms max {r[2]:.2f} ms; send->event p50 "
              f"{r[3]:.2f} ms p99 {r[4]:.2f} ms max {r[5]:.2f} ms; lost {r[6]} of {r[7]}",
              flush=True)
        line("publish -> stream event p99, one client", r[1], "ms", "<=", P99_ONE)
        line("stream events lost, one client", float(r[6]), "events", "<=", 0)
        rss0 = rss_kib(p.pid)
        t0 = time.monotonic()
        c0 = cpu_s(p.pid)
        r = load(tool, host, port, key, coll, n_clients, n_many, rate, n_one, p.pid)
        cpu = cpu_s(p.pid) - c0
        hwm = rss_kib(p.pid, "VmHWM")
        print(f"{n_clients} clients: {n_many} publishes at {rate}/s in "
              f"{time.monotonic() - t0:.1f} s; ack->event p50 {r[0]:.2f} ms p99 {r[1]:.2f} ms "
              f"max {r[2]:.2f} ms; send->event p50 {r[3]:.2f} ms p99 {r[4]:.2f} ms max "
              f"{r[5]:.2f} ms; lost {r[6]} of {r[7]}; tocsind RSS {r[8] // 1024} MB with the "
              f"clients ({rss0 // 1024} MB before, peak {hwm // 1024} MB); tocsind CPU {cpu:.1f} s, "
              f"{cpu * 1000 / n_many:.1f} ms per event to {n_clients} clients", flush=True)
        line(f"publish -> stream event p99, {n_clients} clients", r[1], "ms", "<=", P99_MANY)
        line(f"stream events lost, {n_clients} clients", float(r[6]), "events", "<=", 0)
        print(f"tocsind RSS with {n_clients} stream clients: {r[8] // 1024:,} MB", flush=True)
    except Exception as e:  # a failed run is reported, the daemon still stopped
        print(f"bench_stream: {e}", file=sys.stderr)
        status = 1
    finally:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
