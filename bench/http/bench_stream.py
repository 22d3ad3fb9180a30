#!/usr/bin/env python3
"""bench/http/bench_stream.py BUILD_DIR — publish -> event latency through
GET /api/v1/stream (issue 10, DESIGN §8), run by bench/run.sh.

  1. One stream client (view=stix); BENCH_STREAM_PUBLISHES (10,000) POSTs of
     one indicator each, one after the other on a kept-alive connection.
     For each: the time from the POST's acknowledgement (202: durable) to
     the moment the client has read the event, and from the POST's first
     byte. Target p99 <= 5 ms (ack -> event), none lost.
  2. BENCH_STREAM_CLIENTS (1,000) concurrent stream clients and
     BENCH_STREAM_PUBLISHES_MANY (1,000) POSTs at BENCH_STREAM_RATE (50)
     per second: the same measure over every (client, event) pair (target
     p99 <= 50 ms, none lost), and tocsind's RSS.

The clients are Python: each process (BENCH_STREAM_PROCS, 4) reads its
share of the sockets with epoll, decodes the chunked framing and takes one
clock reading per recv(); the time a client process needs to get to a
socket is counted in the latency (so the figures are an upper bound), and
the client processes share the machine's cores with tocsind. An event an
acknowledged POST should have produced and no client saw within 10 s is
lost. Prints the figures in run.sh's form; exit 0 when it ran, 1 when a
run failed, 2 on usage errors.
"""
import http.client
import json
import multiprocessing as mp
import os
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

P99_ONE = 5.0     # ms, one client
P99_MANY = 50.0   # ms, 1,000 clients
NAME = re.compile(rb'"name":"bench-(\d+)"')
T0 = "2024-01-01T00:00:00.000Z"


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


def indicator(n):
    a = n % 250 + 1
    b = (n // 250) % 250 + 1
    c = (n // 62500) % 250 + 1
    return {"type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}", "created": T0, "modified": T0,
            "name": f"bench-{n}", "pattern": f"[ipv4-addr:value = '10.{c}.{b}.{a}']",
            "pattern_type": "stix", "valid_from": T0}


def open_stream(host, port, key):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall((f"GET /api/v1/stream?view=stix HTTP/1.1\r\nHost: hub\r\n"
               f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        if not b:
            raise RuntimeError("stream closed before its header")
        head += b
    h, _, rest = head.partition(b"\r\n\r\n")
    if not h.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("stream refused: " + h.split(b"\r\n")[0].decode())
    s.setblocking(False)
    return s, rest


class Conn:
    """One stream socket: dechunks and finds the bench names in complete events."""
    __slots__ = ("sock", "raw", "data", "seen")

    def __init__(self, sock, rest):
        self.sock, self.raw, self.data, self.seen = sock, rest, b"", {}

    def feed(self, now):
        raw = self.raw
        while True:
            i = raw.find(b"\r\n")
            if i < 0:
                break
            size = int(raw[:i].split(b";")[0], 16)
            if size == 0 or len(raw) < i + 4 + size:
                break
            self.data += raw[i + 2:i + 2 + size]
            raw = raw[i + 4 + size:]
        self.raw = raw
        j = self.data.rfind(b"\n\n")
        if j >= 0:
            for m in NAME.finditer(self.data, 0, j):
                self.seen[int(m.group(1))] = now
            self.data = self.data[j + 2:]


def reader(host, port, key, n, ready, stop, out):
    """A process holding n stream clients; sends back {name: [arrival,...]}."""
    conns = []
    for _ in range(n):
        s, rest = open_stream(host, port, key)
        conns.append(Conn(s, rest))
    sel = selectors.EpollSelector()
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
    ready.release()
    while not stop.is_set():
        for k, _ in sel.select(0.1):
            c = k.data
            try:
                b = c.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            now = time.monotonic()
            if not b:
                sel.unregister(c.sock)
                continue
            c.raw += b
            c.feed(now)
    arrivals = {}
    for c in conns:
        for name, t in c.seen.items():
            arrivals.setdefault(name, []).append(t)
        c.sock.close()
    out.send(arrivals)
    out.close()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def line(fig, value, unit, op, target):
    ok = value <= target if op == "<=" else value >= target
    print(f"{fig}: {value:,.2f} {unit} (target {op} {target}) {'PASS' if ok else 'BELOW'}",
          flush=True)


def run_phase(host, port, key, clients, procs, publishes, rate, first):
    """Opens the clients, publishes, returns (ack->event ms list, send->event
    ms list, lost pairs, expected pairs, rss samples)."""
    ctx = mp.get_context("fork")
    ready = ctx.Semaphore(0)
    stop = ctx.Event()
    pipes, ps = [], []
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    per = [x for x in per if x]
    for n in per:
        a, b = ctx.Pipe(False)
        p = ctx.Process(target=reader, args=(host, port, key, n, ready, stop, b))
        p.start()
        pipes.append(a)
        ps.append(p)
    for _ in per:
        if not ready.acquire(timeout=120):
            raise RuntimeError("the stream clients did not connect")
    time.sleep(0.3)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    hdr = {"Authorization": f"Bearer {key}", "Accept": "application/taxii+json;version=2.1",
           "Content-Type": "application/taxii+json;version=2.1"}
    sent, acked = {}, {}
    period = 1.0 / rate if rate else 0.0
    t_next = time.monotonic()
    for i in range(first, first + publishes):
        body = json.dumps({"objects": [indicator(i)]})
        if period:
            delay = t_next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t_next += period
        t0 = time.monotonic()
        conn.request("POST", "/taxii2/hub/collections/open/objects/", body, hdr)
        r = conn.getresponse()
        txt = r.read()
        t1 = time.monotonic()
        if r.status != 202 or b'"success_count":1' not in txt:
            raise RuntimeError(f"POST {i}: {r.status} {txt[:300]!r}")
        sent[i], acked[i] = t0, t1
    conn.close()
    time.sleep(2.0)
    stop.set()
    arrivals = {}
    for a in pipes:
        for name, ts in a.recv().items():
            arrivals.setdefault(name, []).extend(ts)
    for p in ps:
        p.join(30)
    ack_ms, send_ms, lost = [], [], 0
    for i in sent:
        ts = arrivals.get(i, [])
        lost += clients - len(ts)
        for t in ts:
            ack_ms.append(max(0.0, t - acked[i]) * 1000)
            send_ms.append((t - sent[i]) * 1000)
    return ack_ms, send_ms, lost, clients * len(sent)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: bench/http/bench_stream.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    tocsin, tocsind = f"{build}/cli/tocsin", f"{build}/daemon/tocsind"
    n_one = env_int("BENCH_STREAM_PUBLISHES", 10000)
    n_clients = env_int("BENCH_STREAM_CLIENTS", 1000)
    n_many = env_int("BENCH_STREAM_PUBLISHES_MANY", 1000)
    rate = env_int("BENCH_STREAM_RATE", 50)
    procs = env_int("BENCH_STREAM_PROCS", 4)
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
    run("collection", "add", "open", "--read", "all", "--write", "all")
    lim = n_clients + 200
    with open(conf, "w") as f:
        f.write(f"[server]\nconnection_limit = {lim}\nper_address_limit = {lim}\n"
                f"[stream]\nmax_clients = {lim}\nmax_clients_per_org = {lim}\n"
                "[log]\naccess = false\n")
    p, host, port = start(tocsind, data, conf)
    status = 0
    try:
        t0 = time.monotonic()
        ack, snd, lost, want = run_phase(host, port, key, 1, 1, n_one, 0, 0)
        secs = time.monotonic() - t0
        print(f"one client: {n_one} publishes in {secs:.1f} s; ack->event p50 "
              f"{pct(ack, 50):.2f} ms p99 {pct(ack, 99):.2f} ms max {max(ack):.2f} ms; "
              f"send->event p50 {pct(snd, 50):.2f} ms p99 {pct(snd, 99):.2f} ms; "
              f"lost {lost} of {want}", flush=True)
        line("publish -> stream event p99, one client", pct(ack, 99), "ms", "<=", P99_ONE)
        line("stream events lost, one client", float(lost), "events", "<=", 0)
        rss0 = rss_kib(p.pid)
        t0 = time.monotonic()
        ack, snd, lost, want = run_phase(host, port, key, n_clients, procs, n_many, rate, n_one)
        secs = time.monotonic() - t0
        rss, hwm = rss_kib(p.pid), rss_kib(p.pid, "VmHWM")
        print(f"{n_clients} clients: {n_many} publishes at {rate}/s in {secs:.1f} s; "
              f"ack->event p50 {pct(ack, 50):.2f} ms p99 {pct(ack, 99):.2f} ms max "
              f"{max(ack) if ack else float('nan'):.2f} ms; send->event p50 {pct(snd, 50):.2f} ms "
              f"p99 {pct(snd, 99):.2f} ms; lost {lost} of {want}; tocsind RSS {rss // 1024} MB "
              f"(before the clients {rss0 // 1024} MB, peak {hwm // 1024} MB)", flush=True)
        line(f"publish -> stream event p99, {n_clients} clients", pct(ack, 99), "ms", "<=",
             P99_MANY)
        line(f"stream events lost, {n_clients} clients", float(lost), "events", "<=", 0)
        print(f"tocsind RSS with {n_clients} stream clients: {rss // 1024:,} MB", flush=True)
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
