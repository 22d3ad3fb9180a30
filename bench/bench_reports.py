#!/usr/bin/env python3
"""bench_reports.py BUILD_DIR — citizen report intake (issue 13, point 5:
target >= 2,000 reports/s with triage grouping, per-client limits
holding), run by bench/run.sh.

A fresh data directory (`tocsin init`) and a tocsind with [reports]
rate_per_minute = 60 and rate_burst = BENCH_REPORTS_PER_CLIENT. Citizens
are loopback source addresses (127.20.0.0/14): BENCH_REPORTS_CLIENTS of
them, each on one keep-alive connection, send BENCH_REPORTS_PER_CLIENT
JSON reports (POST /api/v1/reports) — within their own limit — of scam
phone numbers drawn from BENCH_REPORTS_GROUPS values, in several written
forms ("8 999 ...", "+7 (999) ..."), so that every report is normalised
and grouped; BENCH_REPORTS_PROCS client processes share the citizens. The
figure is reports stored per second over the whole run, wall clock.

Meanwhile one flooding address sends BENCH_REPORTS_FLOOD reports as fast
as it can: the limit holds when it got at most rate_burst plus what its
rate refills during the run, the rest 429. Afterwards the triage queue
must hold exactly one group per distinct number, whose reports add up to
every report stored (tocsin report list --json).

Environment (defaults in brackets): BENCH_REPORTS_CLIENTS [2000],
BENCH_REPORTS_PER_CLIENT [10], BENCH_REPORTS_GROUPS [500],
BENCH_REPORTS_PROCS [4], BENCH_REPORTS_FLOOD [500].
Exit status: 0 when the run completed (whatever the verdict), 1 when it
failed, 2 on usage errors.
"""
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TARGET = 2000.0


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


CLIENTS = env_int("BENCH_REPORTS_CLIENTS", 2000)
PER_CLIENT = env_int("BENCH_REPORTS_PER_CLIENT", 10)
GROUPS = env_int("BENCH_REPORTS_GROUPS", 500)
PROCS = env_int("BENCH_REPORTS_PROCS", 4)
FLOOD = env_int("BENCH_REPORTS_FLOOD", 500)
RATE_PER_MINUTE = 60


def src_addr(k):
    return f"127.{20 + k // 62500}.{(k // 250) % 250}.{k % 250 + 1}"


def number(i, form):
    n = f"999{i:07d}"
    return [f"+7{n}", f"8 {n[:3]} {n[3:6]}-{n[6:8]}-{n[8:]}",
            f"+7 ({n[:3]}) {n[3:6]} {n[6:8]} {n[8:]}"][form % 3]


def request(body):
    b = body.encode()
    return (b"POST /api/v1/reports HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(b)).encode() + b"\r\n\r\n" + b)


def exchange(sock, req, buf):
    """Sends one request on a keep-alive socket, reads its whole answer.
    Returns (status, rest of the buffer). Cheaper than http.client: the
    clients' CPU must not be what is measured."""
    sock.sendall(req)
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head[9:12])
    n = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            n = int(line[15:])
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    return status, rest[n:]


def citizens(args):
    host, port, first, count, start_at = args
    reqs = []
    for k in range(first, first + count):
        reqs.append([request(json.dumps({"kind": "phone",
                                         "value": number((k * 7 + j * 131) % GROUPS, k + j),
                                         "text": f"robocall {k}/{j}",
                                         "contact": f"c{k}@example.org"}))
                     for j in range(PER_CLIENT)])
    while time.time() < start_at:
        time.sleep(0.001)
    ok = refused = other = 0
    for k, rs in zip(range(first, first + count), reqs):
        sock = socket.create_connection((host, port), timeout=30,
                                        source_address=(src_addr(k), 0))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        for r in rs:
            st, buf = exchange(sock, r, buf)
            if st == 201:
                ok += 1
            elif st == 429:
                refused += 1
            else:
                other += 1
        sock.close()
    return ok, refused, other


def flooder(args):
    host, port, start_at = args
    reqs = [request(json.dumps({"kind": "phone", "value": f"+7998{i:07d}"})) for i in range(FLOOD)]
    while time.time() < start_at:
        time.sleep(0.001)
    sock = socket.create_connection((host, port), timeout=30, source_address=("127.19.0.1", 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ok = refused = 0
    buf = b""
    t0 = time.monotonic()
    for r in reqs:
        st, buf = exchange(sock, r, buf)
        ok += st == 201
        refused += st == 429
    sock.close()
    return ok, refused, time.monotonic() - t0


def proc_cpu(pid):
    """utime + stime of pid, seconds (every thread)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    if len(sys.argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    build = sys.argv[1]
    tocsin = os.path.join(build, "cli", "tocsin")
    tocsind = os.path.join(build, "daemon", "tocsind")
    tmp = tempfile.mkdtemp(prefix="tocsin-bench-reports.")
    daemon = None
    try:
        data = os.path.join(tmp, "var")
        subprocess.run([tocsin, "init", "--data", data], check=True, capture_output=True)
        conf = os.path.join(tmp, "tocsind.conf")
        with open(conf, "w") as f:
            f.write("[server]\nper_address_limit = 4\n"
                    f"[reports]\nrate_per_minute = {RATE_PER_MINUTE}\n"
                    f"rate_burst = {PER_CLIENT}\nrate_clients = 65536\n")
        errf = open(os.path.join(tmp, "tocsind.log"), "w+")
        daemon = subprocess.Popen([tocsind, "--data", data, "--listen", "127.0.0.1:0",
                                   "--config", conf], stderr=errf, stdout=subprocess.DEVNULL)
        addr = None
        for _ in range(200):
            errf.seek(0)
            for line in errf:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("msg") == "listening":
                    addr = rec["addr"]
            if addr:
                break
            time.sleep(0.05)
        if not addr:
            print("tocsind did not start", file=sys.stderr)
            return 1
        host, port = addr.rsplit(":", 1)
        port = int(port)
        cpu0 = proc_cpu(daemon.pid)
        start_at = time.time() + 0.5
        per = (CLIENTS + PROCS - 1) // PROCS
        jobs = [(host, port, p * per, min(per, CLIENTS - p * per), start_at)
                for p in range(PROCS) if CLIENTS - p * per > 0]
        with multiprocessing.Pool(len(jobs) + 1) as pool:
            fl = pool.apply_async(flooder, ((host, port, start_at),))
            t0 = time.time()
            res = pool.map(citizens, jobs)
            wall = time.time() - max(t0, start_at)
            f_ok, f_refused, f_secs = fl.get()
        cpu = proc_cpu(daemon.pid) - cpu0
        ok = sum(r[0] for r in res)
        refused = sum(r[1] for r in res)
        other = sum(r[2] for r in res)
        rate = ok / wall if wall > 0 else 0.0
        allowed = PER_CLIENT + int(RATE_PER_MINUTE * f_secs / 60) + 1
        held = f_ok <= allowed and f_refused == FLOOD - f_ok
        out = subprocess.run([tocsin, "report", "list", "--json", "--limit", "10000",
                              "--data", data], check=True, capture_output=True, text=True).stdout
        groups = [json.loads(x) for x in out.splitlines()]
        phone_groups = [g for g in groups if g["value"].startswith("+7999")]
        grouped_reports = sum(g["reports"] for g in phone_groups)
        distinct = len({(k * 7 + j * 131) % GROUPS for k in range(CLIENTS) for j in range(PER_CLIENT)})
        grouping_ok = len(phone_groups) == distinct and grouped_reports == ok
        print(f"citizens: {CLIENTS} addresses x {PER_CLIENT} reports in {PROCS} processes; "
              f"stored {ok}, refused {refused}, other {other}, in {wall:.2f} s")
        per = cpu / (ok + FLOOD) * 1e6 if ok else 0
        print(f"tocsind CPU: {cpu:.2f} s for {ok + FLOOD} requests, {per:.0f} us a request "
              f"(one core would take {1e6 / per if per else 0:,.0f} reports/s); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (the machine is shared)")
        print(f"triage: {len(phone_groups)} groups (expected {distinct}), {grouped_reports} "
              f"reports grouped (expected {ok}): {'ok' if grouping_ok else 'WRONG'}")
        print(f"flooding address: {f_ok} of {FLOOD} accepted in {f_secs:.2f} s "
              f"(limit allows <= {allowed}), {f_refused} refused 429: "
              f"{'limit held' if held else 'LIMIT BROKEN'}")
        verdict = "PASS" if rate >= TARGET and held and grouping_ok and not other and not refused \
            else "BELOW"
        print(f"citizen report intake: {rate:,.0f} reports/s with triage grouping, per-client "
              f"limits held: {'yes' if held else 'no'} (target >= {TARGET:,.0f}) {verdict}")
        return 0
    finally:
        if daemon and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
