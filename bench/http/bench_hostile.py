#!/usr/bin/env python3
"""bench/http/bench_hostile.py BUILD_DIR — a stranger attacks tocsind, at full
size (issue 9, points 1-3; tests/integration/test_hostile_clients.py runs the
bounded forms in make check).

  1. 2,000 idle connections from one address (127.0.0.1), then 1,100 that
     send a header byte every 5 s: a normal client from another address
     (127.0.0.2) asks /healthz every 0.2 s meanwhile; its worst answer time
     must stay under 1 s (target), every time.
  2. Requests with a query of 2,000 parameters, BENCH_HOSTILE_PARAM_REQUESTS
     (5,000) of them: the daemon's RSS growth.
  3. A 50 MB body of 25 million integers, once and three at once: answer
     time (target 5 s), peak RSS (target 500 MB), RSS a few seconds after
     (target 200 MB).

tocsind runs with its default limits (per_address_limit 64, header_timeout
10 s, body_memory_limit 256M) and max_content_length raised to 64M so that
the 50 MB bodies are read. Prints the figures in bench/run.sh's form; exit 0
when it ran, 2 on usage errors."""
import base64
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


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


def ask(host, port, path="/healthz", source="127.0.0.2", timeout=5.0):
    """Seconds to a complete answer, and the status (None on failure)."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0))
    except OSError:
        return time.monotonic() - t0, None
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
        return time.monotonic() - t0, status
    except OSError:
        return time.monotonic() - t0, None
    finally:
        s.close()


def probe(host, port, seconds):
    """A normal client's answer times over seconds."""
    times, bad = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t, st = ask(host, port)
        times.append(t)
        bad += st != 200
        time.sleep(0.2)
    return times, bad


def flood_idle(host, port, n):
    socks = []
    for _ in range(n):
        try:
            socks.append(socket.create_connection((host, port), timeout=2))
        except OSError:
            pass
    return socks


def flood_slow(host, port, n, stop):
    socks = flood_idle(host, port, n)
    for s in socks:
        try:
            s.sendall(b"GET /taxii2/ HTTP/1.1\r\n")
        except OSError:
            pass
    while not stop.wait(5.0):
        for s in socks:
            try:
                s.sendall(b"X")
            except OSError:
                pass
    return socks


def post(host, port, key, body, timeout=60):
    auth = base64.b64encode(f"k:{key}".encode()).decode()
    head = (f"POST /taxii2/hub/collections/open/objects/ HTTP/1.1\r\nHost: hub\r\n"
            f"Authorization: Basic {auth}\r\nConnection: close\r\n"
            f"Accept: application/taxii+json;version=2.1\r\n"
            f"Content-Type: application/taxii+json;version=2.1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    t0 = time.monotonic()
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(head + body)
        data = s.recv(4096)
        return time.monotonic() - t0, int(data.split(b" ", 2)[1]) if data else None
    except OSError:
        return time.monotonic() - t0, None
    finally:
        s.close()


def line(fig, value, unit, op, target):
    ok = value <= target if op == "<=" else value >= target
    print(f"{fig}: {value:,.2f} {unit} (target {op} {target}) {'PASS' if ok else 'BELOW'}",
          flush=True)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: bench/http/bench_hostile.py BUILD_DIR", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    tocsin, tocsind = f"{build}/cli/tocsin", f"{build}/daemon/tocsind"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    nparam = int(os.environ.get("BENCH_HOSTILE_PARAM_REQUESTS", "5000"))
    tmp = tempfile.mkdtemp(prefix="tocsin-hostile.")
    data, conf = f"{tmp}/var", f"{tmp}/tocsind.conf"
    run = lambda *a: subprocess.run([tocsin, *a, "--data", data], check=True,
                                    capture_output=True, text=True).stdout
    run("init")
    run("org", "add", "northbank", "--sector", "finance", "--country", "NO")
    key = run("key", "create", "northbank", "--role", "contributor").strip()
    run("collection", "add", "open", "--read", "all", "--write", "all")
    with open(conf, "w") as f:
        f.write("[taxii]\nmax_content_length = 64M\n[log]\naccess = false\n")
    p, host, port = start(tocsind, data, conf)
    try:
        # 1. connections
        idle = flood_idle(host, port, 2000)
        times, bad = probe(host, port, 5.0)
        print(f"idle flood: {len(idle)} of 2000 connections from one address accepted "
              f"or queued; normal client: {len(times)} requests, {bad} failed, worst "
              f"{max(times) * 1000:.0f} ms")
        line("normal client worst answer, 2000 idle connections from one address",
             max(times) if not bad else 99.0, "s", "<=", 1.0)
        for s in idle:
            s.close()
        stop = threading.Event()
        holder = []
        t = threading.Thread(target=lambda: holder.append(flood_slow(host, port, 1100, stop)),
                             daemon=True)
        t.start()
        time.sleep(1.0)
        times, bad = probe(host, port, 15.0)  # past header_timeout (10 s)
        stop.set()
        t.join()
        print(f"slow flood: 1100 connections trickling a header byte every 5 s; normal "
              f"client: {len(times)} requests, {bad} failed, worst {max(times) * 1000:.0f} ms")
        line("normal client worst answer, 1100 slow connections from one address",
             max(times) if not bad else 99.0, "s", "<=", 1.0)
        for s in holder[0] if holder else []:
            s.close()
        time.sleep(0.5)

        # 2. query parameters
        q = "&".join(f"p{i}=1" for i in range(2000))
        for _ in range(200):
            ask(host, port, f"/taxii2/?{q}", source="127.0.0.3")
        before = rss_kib(p.pid)
        t0 = time.monotonic()
        worst = 0.0
        for _ in range(nparam):
            t1, st = ask(host, port, f"/taxii2/?{q}", source="127.0.0.3")
            worst = max(worst, t1)
        grown = (rss_kib(p.pid) - before) / 1024
        print(f"query of 2000 parameters: {nparam} requests in {time.monotonic() - t0:.1f} s, "
              f"worst answer {worst * 1000:.0f} ms, RSS grew {grown:.1f} MB")
        line(f"RSS growth over {nparam} requests of 2000 parameters", grown, "MB", "<=", 5.0)

        # 3. bodies
        body = b'{"objects":[' + b"1," * 24_999_999 + b"1]}"
        secs, st = post(host, port, key, body)
        print(f"50 MB body of 25M integers: status {st} after {secs:.2f} s")
        line("50 MB body of 25M integers answered", secs, "s", "<=", 5.0)
        res = []
        th = [threading.Thread(target=lambda: res.append(post(host, port, key, body)))
              for _ in range(3)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        print("three at once: " + ", ".join(f"status {st} after {s:.2f} s" for s, st in res))
        line("three 50 MB bodies at once, slowest answered", max(s for s, _ in res), "s", "<=",
             5.0)
        peak = rss_kib(p.pid, "VmHWM") / 1024
        line("tocsind peak RSS over the whole run", peak, "MB", "<=", 500.0)
        time.sleep(3.0)
        line("tocsind RSS 3 s after the bodies", rss_kib(p.pid) / 1024, "MB", "<=", 200.0)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
        subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
