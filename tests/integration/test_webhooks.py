"""Webhooks against the real tocsind and a real HTTPS receiver (docs/webhooks.md).

The receiver is Python's http.server over TLS on 127.0.0.1, with a
certificate from a CA made here with certtool (gnutls-bin); tocsind trusts
that CA through [webhooks] ca_file and is allowed loopback receivers with
allow_private = true. Each test has a path of its own on the receiver and a
plan of answers for it (200, 500, a slow answer, a redirect). The receiver
records every request as it arrives (headers and raw body), and the tests
check what a receiver's owner would: every batch is signed with the
subscription's secret over the timestamp and the raw body, no event is
lost through failures, timeouts, dead-letter and a daemon killed
mid-delivery, a retried batch carries the same X-Tocsin-Delivery id and
the same events, a redirect is not followed, an organisation never
receives what policy hides from it, and /metrics shows the lag.
"""
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import TOCSIN, Daemon, tocsin
from hubutil import TLP2, basic, obj_indicator

CERTTOOL = shutil.which("certtool")
TAXII = "application/taxii+json;version=2.1"
SECRET_A = "secret-of-org-a-0123456789"
SECRET_B = "secret-of-org-b-0123456789"
MAX_ATTEMPTS = 3
BATCH = 5
TIMEOUT_MS = 3000


def certtool(*args):
    subprocess.run([CERTTOOL, *map(str, args)], check=True, capture_output=True, timeout=60)


def make_pki(d):
    d.mkdir()
    for name, text in (("ca", "cn = webhook test ca\nca\ncert_signing_key\n"),
                       ("server", "cn = localhost\ndns_name = localhost\n"
                                  "ip_address = 127.0.0.1\ntls_www_server\n")):
        certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", d / f"{name}.key")
        (d / f"{name}.tmpl").write_text(text + "expiration_days = 2\n")
        if name == "ca":
            certtool("--generate-self-signed", "--load-privkey", d / "ca.key", "--template",
                     d / "ca.tmpl", "--outfile", d / "ca.pem")
        else:
            certtool("--generate-certificate", "--load-privkey", d / f"{name}.key",
                     "--load-ca-certificate", d / "ca.pem", "--load-ca-privkey", d / "ca.key",
                     "--template", d / f"{name}.tmpl", "--outfile", d / f"{name}.pem")
    return d


class Receiver:
    """An HTTPS receiver: per path, a plan of answers consumed one per request
    ("ok", "500", ("sleep", s), ("redirect", path)); when the plan is empty
    it answers `default`. Every request is recorded when it arrives."""

    def __init__(self, pki):
        self.lock = threading.Lock()
        self.requests = []        # (path, headers dict, body bytes, arrival time)
        self.plans = {}
        self.default = {}
        self.arrived = threading.Condition(self.lock)
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with rec.lock:
                    rec.requests.append((self.path, {k.lower(): v for k, v in
                                                     self.headers.items()}, body, time.time()))
                    plan = rec.plans.get(self.path) or []
                    action = plan.pop(0) if plan else rec.default.get(self.path, "ok")
                    rec.arrived.notify_all()
                if isinstance(action, tuple) and action[0] == "sleep":
                    time.sleep(action[1])
                    action = "ok"
                try:
                    if action == "big":
                        big = b"x" * (1024 * 1024)
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(big)))
                        self.end_headers()
                        self.wfile.write(big)
                        return
                    if isinstance(action, tuple) and action[0] == "redirect":
                        self.send_response(302)
                        self.send_header("Location", action[1])
                    elif action == "500":
                        self.send_response(500)
                    else:
                        self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(pki / "server.pem"), str(pki / "server.key"))
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def url(self, path, host="127.0.0.1"):
        return f"https://{host}:{self.port}{path}"

    def of(self, path):
        with self.lock:
            return [r for r in self.requests if r[0] == path]

    def events(self, path):
        """Events of every request to path, in arrival order (duplicates kept)."""
        out = []
        for _, _, body, _ in self.of(path):
            out += json.loads(body)["events"]
        return out

    def wait(self, pred, timeout=20, what="condition"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.pki = make_pki(tmp / "pki")
        self.rx = Receiver(self.pki)
        self.data = tmp / "var"
        tocsin("init", "--data", self.data)
        self.keys = {}
        for org, sector in (("orga", "finance"), ("orgb", "telecom")):
            tocsin("org", "add", org, "--sector", sector, "--country", "NO", "--data", self.data)
            self.keys[org] = tocsin("key", "create", org, "--role", "contributor",
                                    "--data", self.data).stdout.strip()
        self.coll = tocsin("collection", "add", "open", "--read", "all", "--write", "all",
                           "--data", self.data).stdout.strip()
        self.other = tocsin("collection", "add", "other", "--read", "all", "--write", "all",
                            "--data", self.data).stdout.strip()
        self.conf = tmp / "tocsind.conf"
        self.conf.write_text(
            "[webhooks]\nallow_private = true\n"
            f"ca_file = {self.pki / 'ca.pem'}\n"
            f"max_attempts = {MAX_ATTEMPTS}\nbatch_max_events = {BATCH}\n"
            "backoff_initial_ms = 200\nbackoff_max_ms = 800\n"
            f"connect_timeout_ms = 1000\ntimeout_ms = {TIMEOUT_MS}\nworkers = 2\n")
        self.start()

    def start(self):
        self.daemon = Daemon(self.data, config=self.conf)
        self.base = f"http://{self.daemon.addr}"

    def publish(self, org, objects, coll=None):
        r = requests.post(f"{self.base}/taxii2/hub/collections/{coll or self.coll}/objects/",
                          data=json.dumps({"objects": objects}),
                          headers={"Authorization": basic(self.keys[org]), "Accept": TAXII,
                                   "Content-Type": TAXII}, timeout=30)
        assert r.status_code == 202, r.text
        assert r.json()["success_count"] == len(objects), r.text

    def add(self, org, path, secret, *extra, config=True):
        args = ["webhook", "add", org, self.rx.url(path), "--secret", secret,
                "--data", self.data, *extra]
        if config:
            args += ["--config", self.conf]
        return tocsin(*args).stdout.strip()

    def status(self, wid):
        return json.loads(tocsin("webhook", "status", wid, "--json", "--data",
                                 self.data).stdout)

    def metrics(self):
        return requests.get(f"{self.base}/metrics", timeout=10).text

    def stop(self):
        rc = self.daemon.stop()
        self.rx.close()
        return rc


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not CERTTOOL:
        pytest.skip("certtool (gnutls-bin) is not installed: scripts/deps.sh")
    e = Env(tmp_path_factory.mktemp("webhooks"))
    yield e
    rc = e.stop()
    assert rc == 0, e.daemon.log()[-4000:]


def indicators(tag, n, **kw):
    return [obj_indicator(f"[ipv4-addr:value = '198.51.100.{i % 250}']",
                          f"{tag}-{i}-{uuid.uuid4()}", **kw) for i in range(n)]


def verify(req, secret):
    """Checks a request as a receiver must; returns its parsed body."""
    _, h, body, arrived = req
    assert h["content-type"] == "application/json"
    ts = h["x-tocsin-timestamp"]
    assert abs(int(ts) - arrived) < 120
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h["x-tocsin-signature"], "sha256=" + mac), "bad signature"
    return json.loads(body)


def pos_key(p):
    seq, _, sub = p.partition(".")
    return (int(seq), int(sub) if sub else 2**32 - 1)


def object_ids(events):
    return [e["object"]["id"] for e in events if "object" in e]


# --- delivery ----------------------------------------------------------------

def test_events_arrive_signed_in_batches(env):
    wid = env.add("orga", "/signed", SECRET_A)
    objs = indicators("signed", 12)
    env.publish("orga", objs[:7])
    env.publish("orga", objs[7:])
    path = "/signed"
    env.rx.wait(lambda: len(object_ids(env.rx.events(path))) >= 12, what="12 events")
    seen = []
    for req in env.rx.of(path):
        body = verify(req, SECRET_A)
        assert body["subscription"] == wid
        evs = body["events"]
        assert 1 <= len(evs) <= BATCH
        first, last = evs[0]["position"], evs[-1]["position"]
        assert req[1]["x-tocsin-delivery"] == f"{wid}-{first}-{last}"
        seen += evs
    # each object once, in log order, positions strictly increasing
    assert sorted(object_ids(seen)) == sorted(o["id"] for o in objs)
    ps = [pos_key(e["position"]) for e in seen]
    assert ps == sorted(ps) and len(set(ps)) == len(ps)
    # a signature under another secret does not verify
    with pytest.raises(AssertionError):
        verify(env.rx.of(path)[0], SECRET_B)
    env.rx.wait(lambda: env.status(wid)["cursor"] == seen[-1]["position"], what="cursor")
    st = env.status(wid)
    assert st["state"] == "active" and st["attempts"] == 0 and st["deliveries"] >= 3
    tocsin("webhook", "remove", wid, "--data", env.data)


def test_failing_receiver_is_retried_with_backoff(env):
    path = "/fails"
    env.rx.plans[path] = ["500", "500"]
    wid = env.add("orga", path, SECRET_A)
    objs = indicators("fails", 3)
    env.publish("orga", objs)
    env.rx.wait(lambda: len(env.rx.of(path)) >= 3, what="three attempts")
    env.rx.wait(lambda: env.status(wid)["deliveries"] >= 1, what="the delivery")
    reqs = env.rx.of(path)[:3]
    # the same batch every time: same id, same events
    assert len({r[1]["x-tocsin-delivery"] for r in reqs}) == 1
    assert len({json.dumps(json.loads(r[2])["events"]) for r in reqs}) == 1
    for r in reqs:
        verify(r, SECRET_A)
    # backoff: initial 200 ms jittered to [100, 200] ms, then [200, 400] ms
    gaps = [reqs[i + 1][3] - reqs[i][3] for i in range(2)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19, gaps
    assert sorted(object_ids(env.rx.events(path))[-3:]) == sorted(o["id"] for o in objs)
    st = env.status(wid)
    assert st["state"] == "active" and st["attempts"] == 0
    tocsin("webhook", "remove", wid, "--data", env.data)


def test_slow_receiver_times_out_and_is_retried(env):
    path = "/slow"
    env.rx.plans[path] = [("sleep", TIMEOUT_MS / 1000 + 1.0)]
    wid = env.add("orga", path, SECRET_A)
    objs = indicators("slow", 2)
    env.publish("orga", objs)
    env.rx.wait(lambda: env.status(wid)["deliveries"] >= 1, timeout=30, what="the delivery")
    reqs = env.rx.of(path)
    assert len(reqs) >= 2
    assert reqs[0][1]["x-tocsin-delivery"] == reqs[1][1]["x-tocsin-delivery"]
    assert reqs[0][2] == reqs[1][2]
    assert set(o["id"] for o in objs) <= set(object_ids(env.rx.events(path)))
    tocsin("webhook", "remove", wid, "--data", env.data)


def test_dead_letter_then_replay(env):
    path = "/dead"
    env.rx.default[path] = "500"
    wid = env.add("orga", path, SECRET_A)
    objs = indicators("dead", 2)
    env.publish("orga", objs)
    env.rx.wait(lambda: env.status(wid)["state"] == "dead", timeout=30, what="dead-letter")
    st = env.status(wid)
    assert st["attempts"] == MAX_ATTEMPTS
    assert "HTTP 500" in st["last_error"]
    assert st["lag_positions"] >= 1
    text = tocsin("webhook", "status", wid, "--data", env.data).stdout
    assert "dead" in text and "webhook replay" in text
    assert "tocsin_webhook_dead_subscriptions 1" in env.metrics()
    n = len(env.rx.of(path))
    assert n == MAX_ATTEMPTS
    time.sleep(1.0)
    assert len(env.rx.of(path)) == n, "a dead subscription is not retried"
    # the receiver is repaired; the operator replays
    env.rx.default[path] = "ok"
    out = tocsin("webhook", "replay", wid, "--data", env.data).stdout
    assert "active" in out
    env.rx.wait(lambda: env.status(wid)["deliveries"] >= 1, what="the replayed delivery")
    assert set(o["id"] for o in objs) <= set(object_ids(env.rx.events(path)))
    st = env.status(wid)
    assert st["state"] == "active" and st["attempts"] == 0
    assert "tocsin_webhook_dead_subscriptions 0" in env.metrics()
    # replay --from an earlier position delivers again from there
    first = json.loads(env.rx.of(path)[-1][2])["events"][0]["position"]
    before = len(env.rx.of(path))
    seq = str(pos_key(first)[0] - 1)
    tocsin("webhook", "replay", wid, "--from", seq, "--data", env.data)
    env.rx.wait(lambda: len(env.rx.of(path)) > before, what="the re-delivery")
    again = json.loads(env.rx.of(path)[before][2])["events"]
    assert again[0]["position"] == first
    tocsin("webhook", "remove", wid, "--data", env.data)


def test_redirect_is_not_followed(env):
    path = "/moved"
    env.rx.default[path] = ("redirect", env.rx.url("/target"))
    wid = env.add("orga", path, SECRET_A)
    env.publish("orga", indicators("moved", 1))
    env.rx.wait(lambda: env.status(wid)["attempts"] >= 1, what="a failed attempt")
    st = env.status(wid)
    assert "redirect" in st["last_error"] and st["deliveries"] == 0
    assert env.rx.of("/target") == []
    tocsin("webhook", "remove", wid, "--data", env.data)
    time.sleep(0.5)
    assert env.rx.of("/target") == []


def test_answer_size_is_bounded(env):
    """A receiver that answers 200 with a megabyte has not acknowledged:
    tocsind reads at most response_max_bytes (64k by default)."""
    path = "/big"
    env.rx.default[path] = "big"
    wid = env.add("orga", path, SECRET_A)
    env.publish("orga", indicators("big", 1))
    env.rx.wait(lambda: env.status(wid)["attempts"] >= 1, what="a failed attempt")
    st = env.status(wid)
    assert "larger than 65536 bytes" in st["last_error"] and st["deliveries"] == 0
    tocsin("webhook", "remove", wid, "--data", env.data)


def test_org_never_receives_what_policy_hides(env):
    pa, pb = "/policy-a", "/policy-b"
    wa = env.add("orga", pa, SECRET_A)
    wb = env.add("orgb", pb, SECRET_B)
    red = obj_indicator("[ipv4-addr:value = '203.0.113.66']", f"red-{uuid.uuid4()}",
                        markings=[TLP2["red"]])
    green = obj_indicator("[ipv4-addr:value = '203.0.113.67']", f"green-{uuid.uuid4()}",
                          markings=[TLP2["green"]])
    env.publish("orga", [red])
    env.publish("orga", [green])
    env.rx.wait(lambda: green["id"] in object_ids(env.rx.events(pb)), what="green at B")
    env.rx.wait(lambda: green["id"] in object_ids(env.rx.events(pa)), what="green at A")
    assert red["id"] not in object_ids(env.rx.events(pb))
    assert all(b"203.0.113.66" not in r[2] for r in env.rx.of(pb))
    # A produced it, and sees it
    assert red["id"] in object_ids(env.rx.events(pa))
    for r in env.rx.of(pb):
        verify(r, SECRET_B)
    # B's cursor moved past the skipped position: nothing is pending
    env.rx.wait(lambda: env.status(wb)["lag_positions"] == 0, what="B caught up")
    tocsin("webhook", "remove", wa, "--data", env.data)
    tocsin("webhook", "remove", wb, "--data", env.data)


def test_filter_collection(env):
    path = "/filtered"
    wid = env.add("orga", path, SECRET_A, "--collection", "other")
    a = indicators("open-coll", 1)
    b = indicators("other-coll", 1)
    env.publish("orga", a)
    env.publish("orga", b, coll=env.other)
    env.rx.wait(lambda: b[0]["id"] in object_ids(env.rx.events(path)), what="other's object")
    assert a[0]["id"] not in object_ids(env.rx.events(path))
    tocsin("webhook", "remove", wid, "--data", env.data)


def test_lag_in_metrics(env):
    path = "/lagging"
    env.rx.default[path] = "500"
    wid = env.add("orga", path, SECRET_A)
    env.publish("orga", indicators("lag", 3))
    env.rx.wait(lambda: len(env.rx.of(path)) >= 1, what="an attempt")
    time.sleep(0.3)
    m = env.metrics()
    line = [l for l in m.splitlines()
            if l.startswith(f'tocsin_webhook_lag_positions{{subscription="{wid}"')]
    assert line and int(line[0].split()[-1]) >= 1, m
    secs = [l for l in m.splitlines()
            if l.startswith(f'tocsin_webhook_lag_seconds{{subscription="{wid}"')]
    assert secs and float(secs[0].split()[-1]) > 0.2, m
    fails = [l for l in m.splitlines()
             if l.startswith(f'tocsin_webhook_failures_total{{subscription="{wid}"')]
    assert fails and int(fails[0].split()[-1]) >= 1
    env.rx.default[path] = "ok"
    env.rx.wait(lambda: env.status(wid)["deliveries"] >= 1, timeout=30, what="the delivery")

    def caught_up():
        for l in env.metrics().splitlines():
            if l.startswith(f'tocsin_webhook_lag_positions{{subscription="{wid}"'):
                return l.split()[-1] == "0"
        return False
    env.rx.wait(caught_up, what="lag 0")
    m = env.metrics()
    assert f'tocsin_webhook_deliveries_total{{subscription="{wid}",org="orga"}} 1' in m
    tocsin("webhook", "remove", wid, "--data", env.data)
    env.rx.wait(lambda: wid not in env.metrics(), what="the removed subscription to go")


def test_restart_mid_delivery_loses_nothing(env):
    """tocsind is killed while a batch is at the receiver (answer not yet
    given): after the restart the same batch comes again under the same
    delivery id, and every event arrives."""
    path = "/restart"
    # the answer would come after the delivery's timeout: the kill lands
    # while the batch is in flight, however slow this machine is
    env.rx.plans[path] = [("sleep", TIMEOUT_MS / 1000 + 2)]
    wid = env.add("orga", path, SECRET_A)
    objs = indicators("restart", 12)
    env.publish("orga", objs)
    env.rx.wait(lambda: len(env.rx.of(path)) >= 1, what="a delivery in flight")
    assert time.time() - env.rx.of(path)[0][3] < TIMEOUT_MS / 1000, "the machine is too slow"
    env.daemon.proc.send_signal(signal.SIGKILL)
    env.daemon.proc.wait(timeout=10)
    st = env.status(wid)
    assert st["pending_batch_end"] != ""
    first = env.rx.of(path)[0]
    env.start()
    env.rx.wait(lambda: set(o["id"] for o in objs) <= set(object_ids(env.rx.events(path))),
                timeout=30, what="every event after the restart")
    reqs = env.rx.of(path)
    dup = [r for r in reqs[1:] if r[1]["x-tocsin-delivery"] == first[1]["x-tocsin-delivery"]]
    assert dup, "the batch in flight is delivered again"
    assert dup[0][2] == first[2], "with the same events"
    # apart from that duplicate batch, each event once
    ids = object_ids(env.rx.events(path))
    first_ids = set(object_ids(json.loads(first[2])["events"]))
    for o in objs:
        assert ids.count(o["id"]) == (2 if o["id"] in first_ids else 1), o["id"]
    for r in reqs:
        verify(r, SECRET_A)
    tocsin("webhook", "remove", wid, "--data", env.data)


# --- URL checks ---------------------------------------------------------------

@pytest.mark.parametrize("url,why", [
    ("http://example.org/hook", "https"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://localhost/hook", "loopback"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("ftp://example.org/hook", "https"),
    ("https://user:pw@example.org/hook", "password"),
])
def test_url_refused_by_default(env, url, why):
    p = tocsin("webhook", "add", "orga", url, "--secret", SECRET_A, "--data", env.data,
               check=False)
    assert p.returncode == 2, p
    assert why in p.stderr, p.stderr
    assert p.stdout == ""


def test_url_allowed_only_as_configured(env, tmp_path):
    # the test's configuration allows private addresses, never metadata
    p = tocsin("webhook", "add", "orga", "https://169.254.169.254/", "--secret", SECRET_A,
               "--config", env.conf, "--data", env.data, check=False)
    assert p.returncode == 2 and "metadata" in p.stderr
    p = tocsin("webhook", "add", "orga", "http://127.0.0.1:9/", "--secret", SECRET_A,
               "--config", env.conf, "--data", env.data, check=False)
    assert p.returncode == 2 and "allow_http" in p.stderr
    loose = tmp_path / "loose.conf"
    loose.write_text("[webhooks]\nallow_http = true\nallow_private = true\n")
    wid = tocsin("webhook", "add", "orga", "http://localhost:9/", "--secret", SECRET_A,
                 "--config", loose, "--data", env.data).stdout.strip()
    # tocsind's own configuration refuses http:// at delivery
    env.publish("orga", indicators("http", 1))
    env.rx.wait(lambda: env.status(wid)["attempts"] >= 1, what="a refused attempt")
    assert "https" in env.status(wid)["last_error"]
    tocsin("webhook", "remove", wid, "--data", env.data)
    # short secrets and unknown organisations are refused
    p = tocsin("webhook", "add", "orga", env.rx.url("/x"), "--secret", "short",
               "--config", env.conf, "--data", env.data, check=False)
    assert p.returncode == 2 and "secret" in p.stderr
    p = tocsin("webhook", "add", "nobody", env.rx.url("/x"), "--secret", SECRET_A,
               "--config", env.conf, "--data", env.data, check=False)
    assert p.returncode == 2 and "nobody" in p.stderr


def test_list_and_remove(env):
    wid = env.add("orgb", "/listed", SECRET_B, "--kind", "ipv4-addr", "--min-confidence", "50",
                  "--tlp", "amber", "--view", "decisions")
    rows = json.loads(tocsin("webhook", "list", "--json", "--data", env.data).stdout)
    row = [r for r in rows if r["id"] == wid][0]
    assert row["org"] == "orgb" and row["view"] == "decisions"
    assert "min_confidence=50" in row["filter"] and "tlp=amber" in row["filter"]
    assert SECRET_B not in json.dumps(rows)
    table = tocsin("webhook", "list", "--data", env.data).stdout
    assert wid in table and SECRET_B not in table
    tocsin("webhook", "remove", wid, "--data", env.data)
    p = tocsin("webhook", "remove", wid, "--data", env.data, check=False)
    assert p.returncode == 2 and "no webhook subscription" in p.stderr
    p = tocsin("webhook", "status", wid, "--data", env.data, check=False)
    assert p.returncode == 2


def test_decisions_view_adds_and_removes(env):
    """A decisions subscription gets an add for a published indicator's
    value (its kind filter keeps only addresses), and a remove when the
    indicator is revoked."""
    path = "/decisions"
    wid = env.add("orgb", path, SECRET_B, "--view", "decisions", "--kind", "ipv4-addr")
    name = f"dec-{uuid.uuid4()}"
    ind = obj_indicator("[ipv4-addr:value = '45.33.32.156']", name, markings=[TLP2["green"]])
    dom = obj_indicator("[domain-name:value = 'phish-login-example.com']", f"d-{name}",
                        markings=[TLP2["green"]])
    env.publish("orga", [ind, dom])

    def adds():
        return [e for e in env.rx.events(path) if e.get("value") == "45.33.32.156"]
    env.rx.wait(lambda: adds(), what="the add")
    add = adds()[0]
    assert add["kind"] == "ipv4" and add["action"] == "block"
    assert [i["id"] for i in add["indicators"]] == [ind["id"]]
    assert all(e.get("kind") == "ipv4" for e in env.rx.events(path))
    revoked = dict(ind, modified="2024-02-01T00:00:00.000Z", revoked=True)
    env.publish("orga", [revoked])
    env.rx.wait(lambda: any(e.get("value") == "45.33.32.156" and e.get("reason") == "revoked"
                            for e in env.rx.events(path)), what="the remove")
    for r in env.rx.of(path):
        body = verify(r, SECRET_B)
        assert body["subscription"] == wid
    tocsin("webhook", "remove", wid, "--data", env.data)


def test_address_checked_again_at_delivery(tmp_path):
    """A subscription added under a configuration that allowed loopback is
    refused by a tocsind that does not: the check runs before every
    delivery, on the addresses the name resolves to."""
    if not CERTTOOL:
        pytest.skip("certtool (gnutls-bin) is not installed: scripts/deps.sh")
    pki = make_pki(tmp_path / "pki")
    rx = Receiver(pki)
    data = tmp_path / "var"
    tocsin("init", "--data", data)
    tocsin("org", "add", "orga", "--sector", "finance", "--country", "NO", "--data", data)
    key = tocsin("key", "create", "orga", "--role", "contributor", "--data", data).stdout.strip()
    coll = tocsin("collection", "add", "open", "--read", "all", "--write", "all",
                  "--data", data).stdout.strip()
    loose = tmp_path / "loose.conf"
    loose.write_text("[webhooks]\nallow_private = true\n")
    wid = tocsin("webhook", "add", "orga", rx.url("/hook", host="localhost"), "--secret",
                 SECRET_A, "--config", loose, "--data", data).stdout.strip()
    strict = tmp_path / "strict.conf"
    strict.write_text(f"[webhooks]\nca_file = {pki / 'ca.pem'}\nbackoff_initial_ms = 100\n"
                      "backoff_max_ms = 200\n")
    d = Daemon(data, config=strict)
    try:
        r = requests.post(f"http://{d.addr}/taxii2/hub/collections/{coll}/objects/",
                          data=json.dumps({"objects": indicators("strict", 1)}),
                          headers={"Authorization": basic(key), "Accept": TAXII,
                                   "Content-Type": TAXII}, timeout=30)
        assert r.status_code == 202

        def status():
            return json.loads(tocsin("webhook", "status", wid, "--json", "--data",
                                     data).stdout)
        rx.wait(lambda: status()["attempts"] >= 2, what="refused attempts")
        st = status()
        assert "loopback" in st["last_error"] and "localhost" in st["last_error"]
        assert st["deliveries"] == 0
        assert rx.of("/hook") == []
    finally:
        assert d.stop() == 0
        rx.close()
