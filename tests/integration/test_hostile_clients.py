"""A stranger without a key attacks tocsind's connections (issue: hold under
attack). Each test starts its own daemon with short deadlines, so the
bounded forms here finish in seconds; `make bench` runs the full sizes
(bench/http/hostile.py).

- Thousands of query parameters are answered at once and leak nothing.
- Control characters in the path are refused, not routed elsewhere.
- One address holding many idle connections cannot starve a client from
  another address; the refusals are logged and counted.
- Clients trickling header bytes are cut after header_timeout.
"""
import json
import os
import re
import socket
import threading
import time

import pytest

from conftest import Daemon, tocsin


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def raw_request(addr, data, source="127.0.0.1", timeout=5.0):
    """Sends data on a new connection; returns (status, headers+body text,
    seconds to the first byte of the answer)."""
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout,
                                 source_address=(source, 0))
    try:
        t0 = time.monotonic()
        s.sendall(data)
        chunks = []
        first = None
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if first is None:
                first = time.monotonic() - t0
            if not b:
                break
            chunks.append(b)
            text = b"".join(chunks)
            m = re.search(rb"Content-Length: (\d+)\r\n", text)
            head_end = text.find(b"\r\n\r\n")
            if m and head_end >= 0 and len(text) >= head_end + 4 + int(m.group(1)):
                break
        text = b"".join(chunks).decode("latin-1")
        m = re.match(r"HTTP/1\.1 (\d+)", text)
        return (int(m.group(1)) if m else None), text, first
    finally:
        s.close()


def get(addr, path, source="127.0.0.1"):
    return raw_request(addr, f"GET {path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n"
                       f"Accept: application/taxii+json;version=2.1\r\n\r\n".encode(), source)


def metric(addr, name, labels):
    status, text, _ = get(addr, "/metrics", source="127.0.0.9")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + "{" + labels + "}"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def daemon(tmp_path):
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    conf = tmp_path / "tocsind.conf"
    conf.write_text("[server]\nper_address_limit = 32\nheader_timeout = 2\n"
                    "connection_limit = 1024\n")
    dm = Daemon(d, config=conf)
    yield dm
    assert dm.stop() == 0, dm.log()[-3000:]


def test_thousands_of_query_parameters_are_answered_and_leak_nothing(daemon):
    query = "&".join(f"p{i}=1" for i in range(2000))
    req = f"GET /taxii2/?{query} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n".encode()
    status, text, first = raw_request(daemon.addr, req)
    # answered by tocsind (a TAXII error resource), not left hanging
    assert status == 401, text[:300]
    assert first is not None and first < 1.0
    assert '"http_status":"401"' in text
    pid = daemon.proc.pid
    for _ in range(100):
        raw_request(daemon.addr, req)
    before = rss_kib(pid)
    for _ in range(1000):
        raw_request(daemon.addr, req)
    grown = rss_kib(pid) - before
    # About 20 KB a request leaked before: 1000 requests would be ~20 MB.
    # Under AddressSanitizer freed memory is held in quarantine, so RSS
    # says nothing there; LeakSanitizer checks the daemon's exit instead.
    if not asan_build():
        assert grown < 4096, f"RSS grew {grown} KiB over 1000 requests"


@pytest.mark.parametrize("path", [
    "/taxii2/hub/collections/%00/objects/",
    "/taxii2/hub/collections/%0a/",
    "/taxii2/%1F/",
    "/taxii2/hub/collections/x%7f/objects/",
])
def test_control_characters_in_the_path_are_refused(daemon, path):
    status, text, _ = get(daemon.addr, path)
    assert status == 400, text[:300]
    assert "application/taxii+json;version=2.1" in text
    assert "control character" in text
    # the access log names the path as sent, not what it decoded to
    time.sleep(0.2)
    logged = [json.loads(l) for l in daemon.lines if '"msg":"request"' in l]
    assert any(l["path"] == path and l["status"] == 400 for l in logged)


def test_one_address_cannot_take_every_slot(daemon):
    host, port = daemon.addr.rsplit(":", 1)
    hostile = []
    try:
        for _ in range(600):
            try:
                s = socket.create_connection((host, int(port)), timeout=2)
            except OSError:
                continue
            hostile.append(s)
        # a client from another address is answered at once, every time
        for _ in range(10):
            status, _, first = get(daemon.addr, "/healthz", source="127.0.0.2")
            assert status == 200
            assert first < 1.0, f"answered after {first:.3f} s"
        assert metric(daemon.addr, "tocsin_connections_refused_total",
                      'limit="per_address_limit"') > 0
        assert any('"msg":"connection refused"' in l and '"per_address_limit"' in l
                   for l in daemon.lines)
    finally:
        for s in hostile:
            s.close()


def test_slow_header_senders_are_cut(daemon):
    host, port = daemon.addr.rsplit(":", 1)
    slow = []
    stop = threading.Event()
    # 20 addresses x 15 connections: each address stays under the
    # per-address limit, so only the header deadline can free the slots
    for a in range(20):
        for _ in range(15):
            s = socket.create_connection((host, int(port)), timeout=2,
                                         source_address=(f"127.0.1.{a + 1}", 0))
            s.sendall(b"GET /taxii2/ HTTP/1.1\r\n")
            slow.append(s)

    def trickle():
        while not stop.is_set():
            for s in slow:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            stop.wait(0.5)

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        t_end = time.monotonic() + 4.0
        while time.monotonic() < t_end:
            status, _, first = get(daemon.addr, "/healthz", source="127.0.0.2")
            assert status == 200 and first < 1.0
            time.sleep(0.2)
        # the deadline (2 s) has passed: tocsind closed every slow one
        closed = 0
        for s in slow:
            s.settimeout(1.0)
            try:
                while s.recv(4096):
                    pass
                closed += 1
            except (ConnectionResetError, BrokenPipeError):
                closed += 1
            except socket.timeout:
                pass
        assert closed == len(slow), f"{len(slow) - closed} slow connections still open"
        assert metric(daemon.addr, "tocsin_connections_refused_total",
                      'limit="header_timeout"') >= len(slow)
    finally:
        stop.set()
        t.join()
        for s in slow:
            s.close()


def test_a_keep_alive_client_is_not_cut_while_it_sends_requests(daemon):
    host, port = daemon.addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    try:
        for _ in range(4):
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
            data = s.recv(4096)
            assert data.startswith(b"HTTP/1.1 200")
            time.sleep(1.0)  # less than header_timeout between requests
    finally:
        s.close()


def asan_build():
    with open(os.environ["TOCSIND"], "rb") as f:
        return b"__asan_init" in f.read()


@pytest.fixture
def member_daemon(tmp_path):
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "northbank", "--sector", "finance", "--country", "NO", "--data", d)
    key = tocsin("key", "create", "northbank", "--role", "contributor", "--data",
                 d).stdout.strip()
    tocsin("collection", "add", "open", "--read", "all", "--write", "all", "--data", d)
    conf = tmp_path / "tocsind.conf"
    conf.write_text("[server]\nbody_memory_limit = 160M\n[taxii]\nmax_content_length = 64M\n")
    dm = Daemon(d, config=conf)
    dm.key = key
    yield dm
    assert dm.stop() == 0, dm.log()[-3000:]


def post_raw(dm, body, timeout=30):
    import base64
    auth = base64.b64encode(f"k:{dm.key}".encode()).decode()
    head = (f"POST /taxii2/hub/collections/open/objects/ HTTP/1.1\r\nHost: hub\r\n"
            f"Authorization: Basic {auth}\r\nConnection: close\r\n"
            f"Accept: application/taxii+json;version=2.1\r\n"
            f"Content-Type: application/taxii+json;version=2.1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    t0 = time.monotonic()
    status, text, _ = raw_request(dm.addr, head + body, timeout=timeout)
    return status, text, time.monotonic() - t0


def hwm_and_rss_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out["VmHWM"], out["VmRSS"]


# 25 million integers: 50 MB of text that a whole-document parse turns into
# 1.4 GB of JSON values.
INTS = b"1," * 24_999_999 + b"1"
BODIES = {
    "integers-as-objects": b'{"objects":[' + INTS + b"]}",
    "integers-in-one-object": b'{"objects":[{"a":[' + INTS + b"]}]}",
    "not-an-envelope": b"[" + INTS + b"]",
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_huge_body_is_refused_fast_with_flat_memory(member_daemon, name):
    dm = member_daemon
    body = BODIES[name]
    status, text, secs = post_raw(dm, body)
    assert status in (400, 413, 422), text[:400]
    assert '"http_status"' in text
    assert secs < 5.0, f"answered after {secs:.1f} s"
    if not asan_build():
        hwm, _ = hwm_and_rss_kib(dm.proc.pid)
        assert hwm < 500 * 1024, f"peak RSS {hwm // 1024} MB"
        assert wait_rss_below(dm.proc.pid, 200 * 1024, 5.0)


def wait_rss_below(pid, kib, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if hwm_and_rss_kib(pid)[1] < kib:
            return True
        time.sleep(0.1)
    return hwm_and_rss_kib(pid)[1] < kib


def test_three_huge_bodies_at_once(member_daemon):
    dm = member_daemon
    results = []

    def one():
        results.append(post_raw(dm, BODIES["integers-as-objects"]))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # each is refused (400: no envelope of objects, or 503: the body
    # memory budget is taken by the others), none takes more than seconds
    assert all(r[0] in (400, 503) for r in results), [(r[0], r[1][:300]) for r in results]
    assert max(r[2] for r in results) < 10.0
    if not asan_build():
        hwm, _ = hwm_and_rss_kib(dm.proc.pid)
        assert hwm < 500 * 1024, f"peak RSS {hwm // 1024} MB"
        assert wait_rss_below(dm.proc.pid, 200 * 1024, 5.0)


def test_a_body_from_a_stranger_is_not_read(daemon):
    body = b'{"objects":[' + b"1," * 1_000_000 + b"1]}"
    head = (f"POST /taxii2/hub/collections/default/objects/ HTTP/1.1\r\nHost: hub\r\n"
            f"Authorization: Bearer tcs_nokey_nosecret\r\nConnection: close\r\n"
            f"Content-Type: application/taxii+json;version=2.1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    host, port = daemon.addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    try:
        s.sendall(head)  # the header alone: the answer must not wait for the body
        data = s.recv(4096)
        assert data.startswith(b"HTTP/1.1 401"), data[:200]
    finally:
        s.close()
