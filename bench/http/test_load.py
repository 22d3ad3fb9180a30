#!/usr/bin/env python3
"""test_load.py TOCSIN_LOAD — runs the load generator against a tiny
HTTP/1.1 server (http.server, keep-alive) and checks what a user of the
benchmarks relies on: requests are counted exactly, connections are kept
alive, chunked and Content-Length bodies are framed, a non-2xx answer fails
the run loudly, every body of --bodies is sent exactly once, paths are used
in turn, next cursors are followed, runs are bounded. Exits 1 on a failure.
"""
import collections
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

LOAD = sys.argv[1]
seen = collections.Counter()      # path -> requests
peers = set()                     # client (addr, port): one per connection
bodies = collections.Counter()    # POST body -> times received
lock = threading.Lock()
PAGES = 5
CURSOR = "c/{}+=&x"               # needs percent-encoding in a query string


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes

    def log_message(self, *args):
        pass

    def send(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        with lock:
            seen[u.path] += 1
            peers.add(self.client_address)
        if u.path == "/cl":
            self.send(200, b'{"ok":true}')
        elif u.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif u.path == "/fail":
            self.send(500, b'{"title":"deliberate failure"}')
        elif u.path == "/close":
            self.close_connection = True
            self.send(200, b"bye", [("Connection", "close")])
        elif u.path == "/walk":
            page = 0
            if "next" in q:
                m = re.fullmatch(r"c/(\d+)\+=&x", q["next"][0])
                if not m:
                    self.send(400, b'{"title":"bad cursor"}')
                    return
                page = int(m.group(1))
            with lock:
                seen["walk-page-%d" % page] += 1
            env = {"objects": [{"id": "x--%d" % page, "note": "\"next\": \"decoy\""}]}
            if page + 1 < PAGES:
                env["more"] = True
                env["next"] = CURSOR.format(page + 1)
            self.send(200, json.dumps(env).encode())
        else:
            self.send(404, b'{"title":"no such path"}')

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        with lock:
            bodies[data] += 1
            peers.add(self.client_address)
        self.send(202, b'{"status":"complete"}')


failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def run(*args, timeout=30):
    t = time.monotonic()
    p = subprocess.run([LOAD, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t


def reset():
    with lock:
        seen.clear()
        peers.clear()
        bodies.clear()


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    tmp = tempfile.mkdtemp(prefix="tocsin-load-test.")

    # fixed count, keep-alive: 4 connections carry all 200 requests
    reset()
    rc, out, err, _ = run("-n", "200", "-c", "4", base + "/cl")
    check(rc == 0, "GET /cl: exit %d: %s" % (rc, err))
    check("200 answered, 200 accepted" in out and "200×200" in out, "GET /cl counts: " + out)
    check(seen["/cl"] == 200, "server saw %d requests, want 200" % seen["/cl"])
    check(len(peers) == 4, "server saw %d connections, want 4 (keep-alive)" % len(peers))
    check(re.search(r"latency: p50 [0-9.]+ ms p90 [0-9.]+ ms p99 [0-9.]+ ms p99\.9 [0-9.]+ ms max", out),
          "latency line: " + out)

    # two threads share the connections
    reset()
    rc, out, err, _ = run("-n", "300", "-c", "6", "-t", "2", base + "/cl")
    check(rc == 0 and seen["/cl"] == 300 and len(peers) == 6, "threads: %d %s %s" % (rc, seen, err))

    # chunked bodies
    reset()
    rc, out, err, _ = run("-n", "50", "-c", "2", base + "/chunked")
    check(rc == 0 and "50×200" not in out and "200×50" in out, "chunked: %d %s %s" % (rc, out, err))

    # a non-2xx status fails the run and shows the body
    reset()
    rc, out, err, _ = run("-n", "10", "-c", "1", base + "/fail")
    check(rc == 1, "GET /fail must exit 1, got %d" % rc)
    check("unexpected status 500" in err and "deliberate failure" in err, "failure report: " + err)
    check("500×10" in out, "status count: " + out)
    rc, out, err, _ = run("-n", "10", "-c", "1", "--accept", "200,500", base + "/fail")
    check(rc == 0, "--accept 500 must exit 0, got %d: %s" % (rc, err))
    rc, out, err, _ = run("-n", "5", "-c", "1", base + "/nothing")
    check(rc == 1 and "404×5" in out, "404 must fail: %d %s" % (rc, out))

    # the server closes after each response: the tool reconnects
    reset()
    rc, out, err, _ = run("-n", "20", "-c", "2", base + "/close")
    check(rc == 0 and seen["/close"] == 20, "Connection: close: %d %s %s" % (rc, seen, err))

    # POST: each body once; the run ends when they are used up
    reset()
    path = os.path.join(tmp, "bodies.jsonl")
    with open(path, "w") as f:
        for i in range(30):
            f.write('{"objects":[{"n":%d}]}\n' % i)
    rc, out, err, secs = run("--bodies", path, "--objects", "10", "-c", "3", "-d", "20",
                             base + "/objects/")
    check(rc == 0, "POST: exit %d %s" % (rc, err))
    check(len(bodies) == 30 and set(bodies.values()) == {1}, "bodies not each sent once: %s" % bodies)
    check("objects: 300 in accepted requests" in out and "202×30" in out, "POST counts: " + out)
    check(secs < 10, "POST run did not end when the bodies ran out (%.1f s)" % secs)
    one = os.path.join(tmp, "one.json")
    with open(one, "w") as f:
        f.write('{"same": true}\n')
    reset()
    rc, out, err, _ = run("--body", one, "-n", "7", base + "/objects/")
    check(rc == 0 and bodies[b'{"same": true}\n'] == 7, "--body: %d %s" % (rc, bodies))

    # paths in turn
    reset()
    plist = os.path.join(tmp, "paths.txt")
    with open(plist, "w") as f:
        f.write("/cl\n/chunked\n\n/cl?x=1\n")
    rc, out, err, _ = run("--paths", plist, "-n", "30", "-c", "1", base + "/")
    check(rc == 0 and seen["/cl"] == 20 and seen["/chunked"] == 10, "paths: %d %s" % (rc, seen))

    # next cursors: one connection walks 5 pages, then starts again
    reset()
    rc, out, err, _ = run("--follow-next", "-n", "12", "-c", "1", base + "/walk?limit=1")
    check(rc == 0, "walk: exit %d %s" % (rc, err))
    pages = [seen["walk-page-%d" % i] for i in range(PAGES)]
    check(pages == [3, 3, 2, 2, 2], "walk pages %s, want [3, 3, 2, 2, 2]" % pages)
    check("next-cursor walk: 9 pages reached through next, 2 walks to the end" in out, "walk: " + out)

    # duration bound, and the verdict line bench/run.sh reads
    rc, out, err, secs = run("-d", "1", "-c", "2", "--name", "toy GET", "--target-rps", "1",
                             "--target-p99-ms", "1000", base + "/cl")
    check(rc == 0 and 0.9 < secs < 5, "duration 1 s took %.1f s (exit %d)" % (secs, rc))
    check(re.search(r"^toy GET: [0-9,]+ requests/s \(target >= 1\) PASS$", out, re.M),
          "verdict line: " + out)
    check(re.search(r"^toy GET p99 latency: [0-9.]+ ms .*target <= 1000 ms\) PASS$", out, re.M),
          "p99 verdict line: " + out)

    # usage errors and a dead port
    for bad in (["-c", "0", base], ["-n", "x", base], ["ftp://x/"], [base, "--bogus"],
                ["--body", one, "--bodies", path, base]):
        rc, _, err, _ = run(*bad)
        check(rc == 2, "%s: want exit 2, got %d" % (bad, rc))
    srv.shutdown()
    srv.server_close()
    rc, _, err, _ = run("-n", "1", base + "/cl")
    check(rc == 1 and "connect" in err, "dead server: exit %d %s" % (rc, err))

    if failures:
        print("%d failures" % failures, file=sys.stderr)
        return 1
    print("test_load: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
