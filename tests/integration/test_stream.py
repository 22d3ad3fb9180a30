"""GET /api/v1/stream (docs/feeds.md), against the real tocsind: live events
for POSTs and DELETEs, resuming from every position of a recorded run, the
policy door per principal (the leak test's rules, on the stream), a key
revoked mid-stream, a consumer that stops reading (cut, flat memory),
heartbeats, limits and errors, and `tocsin stream --state`."""
import json
import os
import random
import subprocess
import threading
import time

import pytest

from conftest import COLLECTIONS, ORGS, PRINCIPALS, TOCSIN, Daemon, build_data, tocsin
from hubutil import TLP2, Hub, obj_indicator, sid
from sseclient import Stream, StreamClosed

CLIENT_BUFFER = 256 * 1024


@pytest.fixture(scope="module")
def sh(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream") / "var"
    identities, keys, colls = build_data(d)
    conf = d.parent / "tocsind.conf"
    conf.write_text("[taxii]\nmax_content_length = 4M\n"
                    f"[stream]\nheartbeat = 1\nclient_buffer = {CLIENT_BUFFER}\n"
                    "max_clients = 40\nmax_clients_per_org = 12\n")
    daemon = Daemon(d, config=conf)
    h = Hub(f"http://{daemon.addr}", keys, identities, colls, ORGS, PRINCIPALS, COLLECTIONS,
            data=d, daemon=daemon)
    yield h
    rc = daemon.stop()
    assert rc == 0, f"tocsind exit status {rc} after SIGTERM; log:\n{daemon.log()[-4000:]}"


def stream(h, who, query="", **kw):
    s = Stream(h.daemon.addr, h.keys.get(who, who) if who else None, query, **kw)
    return s


def ok_stream(h, who, query="", **kw):
    s = stream(h, who, query, **kw)
    assert s.status == 200, (s.status, s.body)
    assert s.headers["content-type"].startswith("text/event-stream"), s.headers
    return s


def metric(h, name):
    r = h.s.get(h.base + "/metrics", timeout=10)
    for line in r.text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def ind(name, value=None, **kw):
    value = value or f"198.18.{random.randrange(256)}.{random.randrange(256)}"
    return obj_indicator(f"[ipv4-addr:value = '{value}']", name, **kw)


# -- errors and limits ---------------------------------------------------

def test_without_a_key_401(sh):
    s = stream(sh, None)
    assert s.status == 401
    assert s.headers["content-type"] == "application/json"
    assert "www-authenticate" in s.headers
    assert s.error()["http_status"] == "401"
    s = stream(sh, "tcs_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
    assert s.status == 401


@pytest.mark.parametrize("query,word", [
    ("view=all", "view"),
    ("colour=red", "colour"),
    ("last_event_id=abc", "position"),
    ("last_event_id=-1", "position"),
    ("min_confidence=101", "min_confidence"),
    ("tlp=purple", "tlp"),
    ("kind=banana", "kind"),
    ("collection=nonesuch", "collection"),
    ("view=stix&view=stix", "view"),
    ("type=%zz", "percent"),
])
def test_a_bad_parameter_is_400_json(sh, query, word):
    s = stream(sh, "bank", query)
    assert s.status == 400, (query, s.status, s.body)
    assert s.headers["content-type"] == "application/json"
    e = s.error()
    assert e["http_status"] == "400" and e["title"]
    assert word in e["description"], e


def test_a_collection_one_may_not_read_answers_as_unknown(sh):
    # le-only is readable by law enforcement only: to a bank it does not exist
    forbidden = stream(sh, "bank", "collection=le-only")
    unknown = stream(sh, "bank", "collection=no-such-collection")
    assert forbidden.status == unknown.status == 400
    assert forbidden.error()["description"] == unknown.error()["description"]
    ok_stream(sh, "police", "collection=le-only").close()


def test_only_get(sh):
    r = sh.s.post(sh.base + "/api/v1/stream", headers=sh.headers("bank", accept=None), timeout=10)
    assert r.status_code == 405
    assert r.json()["http_status"] == "405"


def test_per_org_limit_503(sh):
    # max_clients_per_org = 12 in the fixture's configuration
    opened = [ok_stream(sh, "telco") for _ in range(12)]
    try:
        s = stream(sh, "telco_agent")
        assert s.status == 503, s.status
        assert "max_clients_per_org" in s.error()["description"]
        assert s.headers.get("retry-after")
        # another organisation is not affected
        ok_stream(sh, "inet").close()
    finally:
        for s in opened:
            s.close()
    # the closed streams are counted out (their connections close within a heartbeat)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        s = stream(sh, "telco_agent")
        if s.status == 200:
            s.close()
            break
        s.close()
        time.sleep(0.2)
    else:
        raise AssertionError("the organisation's closed streams were never counted out")


def test_heartbeats_arrive(sh):
    s = ok_stream(sh, "bank")
    s.quiet(2.5)
    assert s.heartbeats >= 2, s.heartbeats
    s.close()


# -- the stix view -------------------------------------------------------

def test_live_versions_and_deletions(sh):
    s = ok_stream(sh, "bank", "collection=open")
    objs = [ind(f"live-{i}-{random.random()}") for i in range(3)]
    sh.post_ok("open", "bank", objs[:2])
    sh.post_ok("open", "bank", objs[2:])
    evs = s.events(3)
    assert [e.name for e in evs] == ["version"] * 3
    assert [e.json()["object"]["id"] for e in evs] == [o["id"] for o in objs]
    for e in evs:
        d = e.json()
        assert d["position"] == e.id and d["collection"] == "open"
    pos = [int(e.id) for e in evs]
    assert pos == sorted(pos) and len(set(pos)) == 3
    r = sh.delete(sh.object_url("open", objs[0]["id"]), "bank")
    assert r.status_code == 200, r.text
    (d,) = s.events(1)
    assert d.name == "delete", d
    dj = d.json()
    assert dj["id"] == objs[0]["id"] and dj["collection"] == "open"
    assert int(d.id) > pos[-1]
    # another collection does not reach this filter
    sh.post_ok("isac", "bank", [ind(f"other-{random.random()}")])
    assert s.quiet(1.2, names={"version", "delete"}) == []
    s.close()


def record_run(sh, n=12):
    """Publishes and deletes; returns (start, events) as a stream from start saw them."""
    start = json.loads(sh.s.get(sh.base + "/healthz", timeout=10).text)["log_position"]
    # the store may hold more than the writer told healthz (imports): read from a stream
    s = ok_stream(sh, "cert", "collection=open")
    objs = []
    for i in range(n):
        o = ind(f"rec-{i}-{random.random()}")
        objs.append(o)
        sh.post_ok("open", "bank", [o])
        if i % 4 == 3:
            r = sh.delete(sh.object_url("open", objs[i - 1]["id"]), "bank")
            assert r.status_code == 200
    want = n + n // 4
    evs = s.events(want, timeout=20)
    s.close()
    first = int(evs[0].id)
    return first - 1, evs


def test_resume_from_every_position_gives_exactly_the_rest(sh):
    start, evs = record_run(sh)
    ids = [e.id for e in evs]
    assert ids == sorted(ids, key=int)
    # a version deleted since the run is gone from the hub: a reader who
    # resumes before it gets its deletion, never the version again
    deleted = {e.json()["id"] for e in evs if e.name == "delete"}
    for i, after in enumerate([str(start)] + ids):
        # half with the header, half with the query parameter
        if i % 2:
            s = ok_stream(sh, "cert", "collection=open", headers={"Last-Event-ID": after})
        else:
            s = ok_stream(sh, "cert", f"collection=open&last_event_id={after}")
        rest = [e for e in evs[i:]
                if not (e.name == "version" and e.json()["object"]["id"] in deleted)]
        got = s.events(len(rest), timeout=10) if rest else []
        assert [(e.id, e.name, e.data) for e in got] == [(e.id, e.name, e.data) for e in rest], \
            f"after {after}"
        # and nothing else (heartbeats come every second)
        assert s.quiet(1.1, names={"version", "delete"}) == [], f"after {after}"
        s.close()


def test_last_event_id_zero_replays_the_whole_log(sh):
    s = ok_stream(sh, "cert_admin", "last_event_id=0&collection=readonly")
    evs = s.events(2)
    ids = {e.json()["object"]["id"] for e in evs}
    assert ids == {sid("indicator", "seed-ro-1"), sid("indicator", "seed-ro-2")}
    s.close()


# -- policy: the leak test's rules, on the stream ----------------------------

def test_no_stream_sees_what_policy_hides(sh):
    # every object here is marked, so the leak test's default_tlp plays no part
    from test_policy_leaks import rights, tlp_admits
    rng = random.Random(int(os.environ.get("TOCSIN_LEAK_SEED", "0")) or None)
    readers = ["bank", "bank_reader", "telco", "telco_agent", "inet", "cert", "police",
               "police_reader", "bank2"]
    writers = [p for p, (_, role) in PRINCIPALS.items()
               if role in ("contributor", "coordinator", "admin")]
    streams = {r: ok_stream(sh, r) for r in readers}
    posted = []
    for i in range(60):
        w = rng.choice(writers)
        colls = [a for a in COLLECTIONS if rights(w, a)[1]]
        alias = rng.choice(colls)
        level = rng.choice(list(TLP2))
        recips = []
        if level in ("amber+strict", "red") and rng.random() < 0.5:
            recips = [sh.identities[rng.choice(list(ORGS))]]
        o = ind(f"leak-{i}-{rng.random()}", markings=[TLP2[level]],
                recipients=recips if recips else None)
        sh.post_ok(alias, w, [o])
        posted.append((w, alias, o))
    producer_of = {p: org for p, (org, _) in PRINCIPALS.items()}
    for r, s in streams.items():
        org = PRINCIPALS[r][0]
        want = [o["id"] for (w, alias, o) in posted
                if rights(r, alias)[0] and tlp_admits(org, producer_of[w], o, sh.identities)]
        got = [e.json()["object"]["id"] for e in s.events(len(want), timeout=20,
                                                          names={"version"})] if want else []
        assert got == want, f"{r}: missing {set(want) - set(got)}, extra {set(got) - set(want)}"
        extra = s.quiet(0.6, names={"version", "delete"})
        assert extra == [], f"{r} saw more than policy allows: {extra}"
        s.close()


# -- revocation ----------------------------------------------------------

def test_a_revoked_key_ends_its_stream_within_1_5_s(sh):
    key = tocsin("key", "create", "searchly", "--role", "reader", "--data", sh.data).stdout.strip()
    deadline = time.monotonic() + 5
    while True:
        s = stream(sh, key)
        if s.status == 200:
            break
        assert time.monotonic() < deadline, "the new key was never accepted"
        time.sleep(0.1)
    tocsin("key", "revoke", key.split("_")[1], "--data", sh.data)
    t0 = time.monotonic()
    last = None
    with pytest.raises(StreamClosed):
        while time.monotonic() - t0 < 5:
            ev = s.next(0.2)
            last = ev or last
    took = time.monotonic() - t0
    assert took < 1.5, f"the stream ended {took:.2f} s after the revocation"
    assert last is not None and last.name == "end", last
    assert "revoked" in last.json()["reason"]
    assert stream(sh, key).status == 401


# -- slow consumers --------------------------------------------------------

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def big_indicator(i, size):
    return ind(f"big-{i}-{random.random()}", description="x" * size)


def test_a_consumer_that_stops_reading_is_cut_and_memory_stays_flat(sh):
    """The store's page caches grow with the data whoever reads it, so the
    slow client's run is compared with the same traffic to a client that
    reads: a consumer that stops reading must cost no more memory."""
    pid = sh.daemon.proc.pid
    cut0 = metric(sh, "tocsin_stream_clients_cut_total")
    base = rss_kib(pid)
    fast = ok_stream(sh, "inet", "collection=open")
    got = []
    reader = threading.Thread(target=lambda: got.extend(
        fast.events(600, timeout=60, names={"version"})))
    reader.start()
    for i in range(120):  # ~24 MB of events
        sh.post_ok("open", "inet", [big_indicator(f"w{i}-{j}", 40_000) for j in range(5)])
    reader.join(60)
    assert len(got) == 600, "a client that reads was cut or lost events"
    fast.close()
    grown_fast = rss_kib(pid) - base
    base = rss_kib(pid)
    slow = ok_stream(sh, "inet", "collection=open", rcvbuf=8192)
    first = int(json.loads(sh.s.get(sh.base + "/healthz", timeout=10).text)["log_position"])
    # the same ~24 MB while the client reads nothing
    worst_buffered = 0
    for i in range(120):
        sh.post_ok("open", "inet", [big_indicator(f"s{i}-{j}", 40_000) for j in range(5)])
        if i % 10 == 9:
            worst_buffered = max(worst_buffered, metric(sh, "tocsin_stream_buffered_bytes"))
    grown_slow = rss_kib(pid) - base
    assert grown_slow < grown_fast + 4 * 1024, \
        f"tocsind grew by {grown_slow // 1024} MB with a slow client, {grown_fast // 1024} MB " \
        "with one that reads"
    # one event (~41 kB) may pass the limit, and the last word
    assert worst_buffered <= CLIENT_BUFFER + 48 * 1024, worst_buffered
    assert metric(sh, "tocsin_stream_clients_cut_total") >= cut0 + 1
    assert any('"stream client cut"' in l for l in sh.daemon.lines)
    # the client reads at last: the events that fitted, then the cut with
    # its position: the last event it got
    got = []
    with pytest.raises(StreamClosed):
        while True:
            ev = slow.next(5)
            assert ev is not None, "the cut stream neither ended nor sent"
            got.append(ev)
    assert got[-1].name == "cut", got[-1]
    versions = [e for e in got if e.name == "version"]
    assert versions and int(versions[0].id) > first - 1
    assert got[-1].json()["position"] == versions[-1].id == got[-1].id
    assert len(versions) < 600
    # resuming from the cut position gives the rest, nothing lost
    s = ok_stream(sh, "inet", f"collection=open&last_event_id={got[-1].id}")
    rest = s.events(600 - len(versions), timeout=60, names={"version"})
    assert int(rest[0].id) > int(versions[-1].id)
    s.close()


# -- the CLI -------------------------------------------------------------

def cli_stream(sh, *args, timeout=20):
    e = dict(os.environ)
    e.pop("TOCSIN_KEY", None)
    return subprocess.run([TOCSIN, "stream", "--hub", sh.base, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=e)


def test_cli_stream_resumes_from_its_state_file(sh, tmp_path):
    state = tmp_path / "pos"
    objs = [ind(f"cli-{i}-{random.random()}") for i in range(5)]
    start = json.loads(sh.s.get(sh.base + "/healthz", timeout=10).text)["log_position"]
    sh.post_ok("roles", "bank", objs)
    p = cli_stream(sh, "--key", sh.keys["bank_reader"], "--collection", "roles", "--state", state,
                   "--after", start, "--max-events", 2)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert [l["data"]["object"]["id"] for l in lines] == [o["id"] for o in objs[:2]]
    assert state.read_text().strip() == lines[-1]["id"]
    # the next run resumes after the saved position, --after no longer applies
    p = cli_stream(sh, "--key", sh.keys["bank_reader"], "--collection", "roles", "--state", state,
                   "--after", start, "--max-events", 3)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert [l["data"]["object"]["id"] for l in lines] == [o["id"] for o in objs[2:]]
    assert [l["event"] for l in lines] == ["version"] * 3
    # the SSE format, and a live event after the start
    done = {}

    def run():
        done["p"] = cli_stream(sh, "--key", sh.keys["bank_reader"], "--collection", "roles",
                               "--state", state, "--format", "sse", "--max-events", 1)
    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.8)
    o = ind(f"cli-live-{random.random()}")
    sh.post_ok("roles", "bank", [o])
    t.join(20)
    p = done["p"]
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("id: ") and "\nevent: version\ndata: {" in p.stdout, p.stdout
    assert o["id"] in p.stdout


def test_cli_stream_stops_on_a_bad_key(sh):
    p = cli_stream(sh, "--key", "tcs_aaaaaaaaaaaaaaaa_bbbb", "--max-events", 1)
    assert p.returncode == 2
    assert "401" in p.stderr


def test_cli_stream_reconnects_when_the_hub_restarts(tmp_path):
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "northbank", "--sector", "finance", "--country", "NO", "--data", d)
    key = tocsin("key", "create", "northbank", "--role", "contributor", "--data",
                 d).stdout.strip()
    cid = tocsin("collection", "add", "open", "--read", "all", "--write", "all", "--data",
                 d).stdout.strip()
    dm = Daemon(d, listen="127.0.0.1:0")
    port = dm.addr.rsplit(":", 1)[1]
    h = Hub(f"http://{dm.addr}", {"k": key}, {}, {"open": cid}, {}, {}, {}, data=d, daemon=dm)
    state = tmp_path / "pos"
    out = tmp_path / "out"
    e = dict(os.environ, TOCSIN_KEY=key)
    with open(out, "w") as f:
        cli = subprocess.Popen([TOCSIN, "stream", "--hub", h.base, "--state", state,
                                "--after", "0", "--max-events", "4"], stdout=f,
                               stderr=subprocess.PIPE, text=True, env=e)
    try:
        h.post_ok("open", "k",
                  [ind(f"r-{i}-{random.random()}") for i in range(2)])
        deadline = time.monotonic() + 10
        while len(out.read_text().splitlines()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert dm.stop() == 0
        dm = Daemon(d, listen=f"127.0.0.1:{port}")
        h.daemon = dm
        h.post_ok("open", "k",
                  [ind(f"r2-{i}-{random.random()}") for i in range(2)])
        cli.wait(timeout=30)
        assert cli.returncode == 0, cli.stderr.read()
        lines = [json.loads(l) for l in out.read_text().splitlines()]
        ids = [int(l["id"]) for l in lines]
        assert len(ids) == 4 and ids == sorted(set(ids)), ids
    finally:
        if cli.poll() is None:
            cli.kill()
        assert dm.stop() == 0


# -- the decisions view ----------------------------------------------------

def decisions_stream(sh, who, query=""):
    """Opens view=decisions without a position; returns (stream, snapshot adds, position)."""
    s = ok_stream(sh, who, "view=decisions" + ("&" + query if query else ""))
    snap = []
    while True:
        ev = s.next(10)
        assert ev is not None, "no snapshot-end"
        if ev.name == "snapshot-end":
            assert ev.id == ev.json()["position"]
            return s, snap, ev.id
        assert ev.name == "add" and ev.id is None, ev
        snap.append(ev.json())


def test_decisions_snapshot_then_live_adds_and_removes(sh):
    a = ind(f"dec-a-{random.random()}", "185.220.101.71")
    sh.post_ok("open", "bank", [a])
    s, snap, pos = decisions_stream(sh, "cert", "collection=open&kind=ipv4")
    values = {d["value"] for d in snap}
    assert "185.220.101.71" in values
    assert all(d["kind"] == "ipv4" for d in snap)
    (d,) = [d for d in snap if d["value"] == "185.220.101.71"]
    assert a["id"] in [i["id"] for i in d["indicators"]]
    # live: a new indicator is an add after the snapshot's position
    b = ind(f"dec-b-{random.random()}", "185.220.101.72")
    sh.post_ok("open", "bank", [b])
    (ev,) = s.events(1, names={"add", "remove"})
    assert ev.name == "add" and ev.json()["value"] == "185.220.101.72"
    assert int(ev.id) > int(pos)
    # revoking b removes its decision
    b2 = dict(b, modified="2024-06-01T00:00:00.000Z", revoked=True)
    sh.post_ok("open", "bank", [b2])
    (ev,) = s.events(1, names={"add", "remove"})
    assert ev.name == "remove", ev
    assert ev.json()["value"] == "185.220.101.72" and ev.json()["reason"] == "revoked"
    # deleting a removes its decision
    r = sh.delete(sh.object_url("open", a["id"]), "bank")
    assert r.status_code == 200, r.text
    (ev,) = s.events(1, names={"add", "remove"})
    assert ev.name == "remove" and ev.json()["value"] == "185.220.101.71"
    assert ev.json()["reason"] == "deleted"
    last = ev.id
    s.close()
    # resuming after the snapshot's position gives exactly the three events
    s = ok_stream(sh, "cert", "view=decisions&collection=open&kind=ipv4",
                  headers={"Last-Event-ID": pos})
    evs = s.events(3, names={"add", "remove"})
    assert [(e.name, e.json()["value"]) for e in evs] == [
        ("add", "185.220.101.72"), ("remove", "185.220.101.72"), ("remove", "185.220.101.71")]
    assert evs[-1].id == last
    assert s.quiet(1.1, names={"add", "remove"}) == []
    s.close()
    # and a new snapshot no longer holds either value
    s, snap, _ = decisions_stream(sh, "cert", "collection=open&kind=ipv4")
    assert not {"185.220.101.71", "185.220.101.72"} & {d["value"] for d in snap}
    s.close()


def test_decisions_removed_at_expiry_with_no_request(sh):
    """valid_until passes: the hub's clock removes the decision (reason
    expired) within a second, though nobody writes or asks."""
    until = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 2)) + ".000Z"
    a = ind(f"dec-exp-{random.random()}", "185.220.101.81", valid_until=until)
    s, _, _ = decisions_stream(sh, "cert", "collection=open&kind=ipv4")
    sh.post_ok("open", "bank", [a])
    (ev,) = s.events(1, names={"add", "remove"})
    assert ev.name == "add" and ev.json()["value"] == "185.220.101.81"
    assert ev.json()["until"] == until
    t0 = time.time()
    (ev,) = s.events(1, names={"add", "remove"}, timeout=6)
    assert ev.name == "remove" and ev.json()["value"] == "185.220.101.81"
    assert ev.json()["reason"] == "expired"
    assert time.time() - t0 < 4.5
    s.close()


def test_decisions_removed_when_allowlisted_and_back_when_not(sh):
    """tocsin allowlist add removes the value's decision (allowlisted) from
    a running hub's streams within about a second; remove brings it back."""
    a = ind(f"dec-allow-{random.random()}", "185.220.101.91")
    sh.post_ok("open", "bank", [a])
    s, snap, _ = decisions_stream(sh, "cert", "collection=open&kind=ipv4")
    assert "185.220.101.91" in {d["value"] for d in snap}
    tocsin("allowlist", "add", "185.220.101.91", "--reason", "a partner's gateway",
           "--data", str(sh.data))
    (ev,) = s.events(1, names={"add", "remove"}, timeout=5)
    assert ev.name == "remove" and ev.json()["reason"] == "allowlisted", ev
    tocsin("allowlist", "remove", "185.220.101.91", "--data", str(sh.data))
    (ev,) = s.events(1, names={"add", "remove"}, timeout=5)
    assert ev.name == "add" and ev.json()["reason"] == "unallowlisted", ev
    assert ev.json()["value"] == "185.220.101.91"
    s.close()


def test_decisions_follow_policy(sh):
    # a RED indicator of northbank with no recipients: telenord may not see it,
    # in the snapshot or live; cert-no (not named) neither; northbank does
    red = ind(f"dec-red-{random.random()}", "185.220.101.81", markings=[TLP2["red"]])
    sh.post_ok("open", "bank", [red])
    streams = {w: decisions_stream(sh, w, "collection=open") for w in ("telco", "cert", "bank")}
    for w, (_, snap, _) in streams.items():
        seen = "185.220.101.81" in {d["value"] for d in snap}
        assert seen == (w == "bank"), f"{w} snapshot: {seen}"
    red2 = ind(f"dec-red2-{random.random()}", "185.220.101.82", markings=[TLP2["red"]])
    green = ind(f"dec-green-{random.random()}", "185.220.101.83", markings=[TLP2["green"]])
    sh.post_ok("open", "bank", [red2, green])
    for w, (s, _, _) in streams.items():
        want = ["185.220.101.82", "185.220.101.83"] if w == "bank" else ["185.220.101.83"]
        got = [e.json()["value"] for e in s.events(len(want), names={"add", "remove"})]
        assert got == want, (w, got)
        assert s.quiet(0.6, names={"add", "remove"}) == [], w
        s.close()


def test_a_decisions_snapshot_larger_than_the_buffer_is_paced_not_cut(sh):
    n = 2500  # ~1 MB of add events against a 256 KiB buffer
    objs = [ind(f"bulk-{i}-{random.random()}", f"45.142.{i // 250}.{i % 250 + 1}")
            for i in range(n)]
    for k in range(0, n, 500):
        sh.post_ok("isac", "bank", objs[k:k + 500])
    cut0 = metric(sh, "tocsin_stream_clients_cut_total")
    s = ok_stream(sh, "bank", "view=decisions&collection=isac")
    vals = set()
    while True:
        ev = s.next(10)
        assert ev is not None
        if ev.name == "snapshot-end":
            break
        assert ev.name == "add", ev
        vals.add(ev.json()["value"])
    assert {o["pattern"].split("'")[1] for o in objs} <= vals
    assert metric(sh, "tocsin_stream_clients_cut_total") == cut0
    s.close()


# -- client certificates ---------------------------------------------------

def test_a_client_certificate_opens_a_stream_and_its_revocation_ends_it(tmp_path):
    from test_daemon_basics import CERTTOOL, client_ctx, make_pki
    if not CERTTOOL:
        pytest.skip("certtool (gnutls-bin) is not installed: scripts/deps.sh")
    pki = make_pki(tmp_path / "pki")
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "tlsbank", "--sector", "finance", "--country", "NO", "--data", d)
    cid = tocsin("collection", "add", "open", "--read", "all", "--write", "all", "--data",
                 d).stdout.strip()
    key = tocsin("key", "create", "tlsbank", "--role", "contributor", "--data", d).stdout.strip()
    cert_id = tocsin("key", "create", "tlsbank", "--role", "reader", "--cert",
                     pki / "client.pem", "--data", d).stdout.strip()
    conf = tmp_path / "tls.conf"
    conf.write_text(f"[server]\ntls_listen = 127.0.0.1:0\n"
                    f"tls_cert = {pki / 'server.pem'}\ntls_key = {pki / 'server.key'}\n"
                    f"client_ca = {pki / 'ca.pem'}\n[stream]\nheartbeat = 1\n")
    dm = Daemon(d, config=conf)
    try:
        deadline = time.monotonic() + 10
        while not any('"listening"' in l and '"tls":true' in l for l in dm.lines):
            assert time.monotonic() < deadline, dm.log()
            time.sleep(0.05)
        tls_addr = next(json.loads(l)["addr"] for l in dm.lines
                        if '"listening"' in l and '"tls":true' in l)
        h = Hub(f"http://{dm.addr}", {"k": key}, {}, {"open": cid}, {}, {}, {}, data=d,
                daemon=dm)
        # a certificate from a CA the hub does not trust: 401
        s = Stream(tls_addr, None, ssl_ctx=client_ctx(pki, "rclient"))
        assert s.status == 401
        s = Stream(tls_addr, None, ssl_ctx=client_ctx(pki, "client"))
        assert s.status == 200, s.body
        o = ind(f"tls-{random.random()}")
        h.post_ok("open", "k", [o])
        (ev,) = s.events(1, names={"version"})
        assert ev.json()["object"]["id"] == o["id"]
        tocsin("key", "revoke", cert_id, "--data", d)
        t0 = time.monotonic()
        with pytest.raises(StreamClosed):
            while time.monotonic() - t0 < 5:
                s.next(0.2)
        assert time.monotonic() - t0 < 1.5
    finally:
        assert dm.stop() == 0
