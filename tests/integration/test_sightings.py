"""Issue 13, point 4 against the real tocsind (docs/sightings.md):
false positives from two organisations hold an indicator out of decisions
(a remove event, reason held) and exports, the producer sees the
feedback, one organisation alone does not hold, a coordinator's rejection
releases the hold (add, reason released), a confirmation keeps it held;
sightings by sector are visible to the producer without naming or
counting the sightings it may not read."""
import json
import random
import time

import pytest
import requests

from conftest import COLLECTIONS, ORGS, PRINCIPALS, Daemon, build_data, tocsin
from hubutil import TLP2, Hub, obj_indicator, sid
from sseclient import Stream

T1 = "2026-12-01T00:00:00.000Z"


def make_hub(tmp_path, extra=""):
    """A hub of its own; heartbeats every second so that stream events are
    flushed at once (as in test_stream.py)."""
    d = tmp_path / "var"
    identities, keys, colls = build_data(d)
    conf = tmp_path / "tocsind.conf"
    conf.write_text("[stream]\nheartbeat = 1\n" + extra)
    daemon = Daemon(d, config=conf)
    h = Hub(f"http://{daemon.addr}", keys, identities, colls, ORGS, PRINCIPALS, COLLECTIONS,
            data=d, daemon=daemon)
    yield h
    assert daemon.stop() == 0, daemon.log()[-3000:]


@pytest.fixture
def fresh_hub(tmp_path):
    yield from make_hub(tmp_path)


def api(h, who, method, path, body=None):
    hd = {"Authorization": "Bearer " + h.keys[who], "Accept": "application/json"}
    if body is not None:
        hd["Content-Type"] = "application/json"
    return requests.request(method, h.base + path, headers=hd,
                            data=None if body is None else json.dumps(body), timeout=10)


def fp(h, who, ind_id, note="blocks our payment gateway"):
    return api(h, who, "POST", f"/api/v1/indicators/{ind_id}/false-positive", {"note": note})


def plain(h, who):
    r = api(h, who, "GET", "/api/v1/export/plain")
    assert r.status_code == 200, r.text
    return set(r.text.split())


def decisions_stream(h, who):
    s = Stream(h.daemon.addr, h.keys[who], "view=decisions&kind=ipv4")
    assert s.status == 200, (s.status, s.body)
    snap = set()
    while True:
        ev = s.next(10)
        assert ev is not None, "no snapshot-end"
        if ev.name == "snapshot-end":
            return s, snap
        snap.add(ev.json()["value"])


def new_ind(h, ip, who="telco"):
    a = obj_indicator(f"[ipv4-addr:value = '{ip}']", f"fp-{ip}-{random.random()}",
                      markings=[TLP2["green"]], confidence=80)
    h.post_ok("open", who, [a])
    return a


def wait_until(f, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if f():
            return True
        time.sleep(0.1)
    return False


def test_false_positives_from_two_banks_hold_an_indicator_out_of_exports(fresh_hub):
    h = fresh_hub
    a = new_ind(h, "185.220.102.41")
    s, snap = decisions_stream(h, "cert")
    assert "185.220.102.41" in snap
    assert "185.220.102.41" in plain(h, "cert")

    # one bank alone does not hold
    r = fp(h, "bank", a["id"])
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "open" and r.json()["organisations"] == 1
    time.sleep(1.0)
    assert "185.220.102.41" in plain(h, "cert")
    # the same bank again is still one organisation
    r = fp(h, "bank_reader", a["id"], "again")
    assert r.json()["organisations"] == 1 and r.json()["held"] is False, r.text

    # a second bank: held
    r = fp(h, "bank2", a["id"], "our customers' VPN")
    assert r.status_code == 200 and r.json()["state"] == "held", r.text
    (ev,) = s.events(1, names={"add", "remove"}, timeout=5)
    assert ev.name == "remove" and ev.json()["reason"] == "held", ev
    assert ev.json()["value"] == "185.220.102.41"
    assert "185.220.102.41" not in plain(h, "cert")
    assert "185.220.102.41" not in plain(h, "telco")
    # the object exports leave the held indicator out too, and say so
    r = api(h, "cert", "GET", "/api/v1/export/stix")
    assert r.status_code == 200 and a["id"] not in r.text, r.text[:300]
    assert "held=1" in r.headers.get("X-Tocsin-Left-Out", ""), r.headers
    assert a["id"] not in api(h, "cert", "GET", "/api/v1/export/csv").text
    _, snap2 = decisions_stream(h, "bank")
    assert "185.220.102.41" not in snap2

    # the producer is told: state, sectors and notes, not who reported
    r = api(h, "telco", "GET", f"/api/v1/indicators/{a['id']}/feedback")
    assert r.status_code == 200, r.text
    fb = r.json()
    assert fb["state"] == "held" and fb["held"] is True and fb["organisations"] == 2
    assert sorted(x["sector"] for x in fb["false_positives"]) == ["finance", "finance"]
    assert "our customers' VPN" in [x["note"] for x in fb["false_positives"]]
    assert "northbank" not in r.text and "southbank" not in r.text
    # others than the producer (and coordinators) get no feedback
    assert api(h, "bank", "GET", f"/api/v1/indicators/{a['id']}/feedback").status_code == 403
    assert api(h, "cert_coord", "GET",
               f"/api/v1/indicators/{a['id']}/feedback").status_code == 200

    # the coordinator's list and its rejection release the hold
    out = tocsin("fp", "list", "--data", h.data).stdout
    assert a["id"] in out and "held" in out, out
    out = tocsin("fp", "show", a["id"], "--data", h.data).stdout
    assert "northbank" in out and "southbank" in out and "our customers' VPN" in out, out
    tocsin("fp", "review", a["id"], "--reject", "--note", "a real C2", "--data", h.data)
    (ev,) = s.events(1, names={"add", "remove"}, timeout=5)
    assert ev.name == "add" and ev.json()["reason"] == "released", ev
    assert "185.220.102.41" in plain(h, "cert")
    assert a["id"] in api(h, "cert", "GET", "/api/v1/export/stix").text
    fb = api(h, "telco", "GET", f"/api/v1/indicators/{a['id']}/feedback").json()
    assert fb["state"] == "rejected" and fb["review"]["note"] == "a real C2", fb
    s.close()


def test_a_confirmed_false_positive_stays_held(fresh_hub):
    h = fresh_hub
    a = new_ind(h, "185.220.102.42")
    assert fp(h, "bank", a["id"]).status_code == 200
    # a coordinator may confirm one organisation's report
    tocsin("fp", "review", a["id"], "--confirm", "--data", h.data)
    assert wait_until(lambda: "185.220.102.42" not in plain(h, "cert"))
    fb = api(h, "telco", "GET", f"/api/v1/indicators/{a['id']}/feedback").json()
    assert fb["state"] == "confirmed" and fb["held"] is True, fb
    # a new version of the indicator is held too
    a2 = dict(a, modified="2025-01-01T00:00:00.000Z", confidence=90)
    h.post_ok("open", "telco", [a2])
    time.sleep(0.5)
    assert "185.220.102.42" not in plain(h, "cert")
    # and it survives a restart: the hold comes from the registry
    assert "185.220.102.42" not in plain(h, "telco")


def test_false_positive_refusals(fresh_hub):
    h = fresh_hub
    a = new_ind(h, "185.220.102.43")
    # the producer revokes instead
    assert fp(h, "telco", a["id"]).status_code == 409
    # an agent key is no member's voice
    assert fp(h, "telco_agent", a["id"]).status_code == 403
    # an indicator the caller may not read is not found, like an unknown one
    red = obj_indicator("[ipv4-addr:value = '185.220.102.44']", "fp-red", markings=[TLP2["red"]])
    h.post_ok("open", "telco", [red])
    r = fp(h, "bank", red["id"])
    unknown = fp(h, "bank", sid("indicator", "nothing-here"))
    assert r.status_code == unknown.status_code == 404
    assert r.json()["description"] == unknown.json()["description"]
    r = api(h, "bank", "POST", f"/api/v1/indicators/{a['id']}/false-positive", body=[1])
    assert r.status_code == 400 and r.json()["http_status"] == "400"
    r = api(h, "bank", "GET", f"/api/v1/indicators/{a['id']}/false-positive")
    assert r.status_code == 405
    r = api(h, "bank", "GET", "/api/v1/indicators/not-an-id/sightings")
    assert r.status_code == 400


def sighting(ind_id, name, count, last_seen, markings):
    return {"type": "sighting", "spec_version": "2.1", "id": sid("sighting", name),
            "created": T1, "modified": T1, "sighting_of_ref": ind_id, "count": count,
            "first_seen": T1, "last_seen": last_seen, "object_marking_refs": markings}


def test_sightings_by_sector_visible_to_the_producer_without_hidden_orgs(fresh_hub):
    h = fresh_hub
    a = new_ind(h, "185.220.102.50")
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    h.post_ok("open", "bank", [sighting(a["id"], "s-bank", 5, now, [TLP2["green"]])])
    h.post_ok("open", "bank2", [sighting(a["id"], "s-bank2", 2, T1, [TLP2["green"]])])
    h.post_ok("open", "inet", [sighting(a["id"], "s-inet", 1, now, [TLP2["green"]])])
    # RED with no recipients: only its producer may read it
    h.post_ok("open", "police", [sighting(a["id"], "s-police", 9, now, [TLP2["red"]])])
    r = api(h, "telco", "GET", f"/api/v1/indicators/{a['id']}/sightings")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["sightings"] == 3 and got["truncated"] is False, got
    fin = got["by_sector"]["finance"]
    assert fin["sightings"] == 2 and fin["count"] == 7 and fin["last_24h"] == 1, fin
    assert sorted(fin["organisations"]) == ["northbank", "southbank"]
    assert got["by_sector"]["internet"]["count"] == 1
    assert "law-enforcement" not in got["by_sector"] and "kripos" not in r.text
    # the police see their own sighting too
    got = api(h, "police", "GET", f"/api/v1/indicators/{a['id']}/sightings").json()
    assert got["sightings"] == 4 and got["by_sector"]["law-enforcement"]["count"] == 9
    # the CLI on the data directory: the operator's view
    out = tocsin("sightings", a["id"], "--data", h.data).stdout
    assert "finance" in out and "law-enforcement" in out, out


@pytest.fixture
def rule_hub(tmp_path):
    yield from make_hub(tmp_path, "[decisions]\nblock_min_confidence = 60\nsighting_boost = 20\n"
                        "sighting_boost_orgs = 2\nconfidence_half_life = 30\n")


def snapshot(h, who, value):
    s = Stream(h.daemon.addr, h.keys[who], "view=decisions&kind=ipv4")
    try:
        while True:
            ev = s.next(10)
            assert ev is not None, "no snapshot-end:\n" + h.daemon.log()[-3000:]
            if ev.name == "snapshot-end":
                return None
            if ev.json()["value"] == value:
                return ev.json()
    finally:
        s.close()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


def test_confidence_follows_sightings_and_age(rule_hub):
    h = rule_hub
    now = time.time()
    a = obj_indicator("[ipv4-addr:value = '185.220.102.60']", "conf-a", created=iso(now - 60),
                      modified=iso(now - 60), confidence=50, markings=[TLP2["green"]])
    h.post_ok("open", "telco", [a])
    d = snapshot(h, "cert", "185.220.102.60")
    assert d["confidence"] == 50 and d["action"] == "alert", d
    # the producer's own sighting does not count; one bank: +20
    h.post_ok("open", "telco", [sighting(a["id"], "c-own", 1, iso(now), [TLP2["green"]])])
    h.post_ok("open", "bank", [sighting(a["id"], "c-bank", 1, iso(now), [TLP2["green"]])])
    d = snapshot(h, "cert", "185.220.102.60")
    assert d["confidence"] == 70 and d["action"] == "block", d
    # at most sighting_boost_orgs (2) organisations count: 50 + 40
    h.post_ok("open", "bank2", [sighting(a["id"], "c-bank2", 1, iso(now), [TLP2["green"]])])
    h.post_ok("open", "inet", [sighting(a["id"], "c-inet", 1, iso(now), [TLP2["green"]])])
    d = snapshot(h, "cert", "185.220.102.60")
    assert d["confidence"] == 90, d
    # an indicator last modified two half-lives ago: 80 -> 20, alert
    old = obj_indicator("[ipv4-addr:value = '185.220.102.61']", "conf-old",
                        created=iso(now - 60 * 86400), modified=iso(now - 60 * 86400),
                        confidence=80, markings=[TLP2["green"]])
    h.post_ok("open", "telco", [old])
    d = snapshot(h, "cert", "185.220.102.61")
    assert d["confidence"] in (19, 20) and d["action"] == "alert", d
    # a fresh sighting by another organisation resets its age and raises it
    h.post_ok("open", "bank", [sighting(old["id"], "c-old", 3, iso(now), [TLP2["green"]])])
    d = snapshot(h, "cert", "185.220.102.61")
    assert d["confidence"] == 100 and d["action"] == "block", d
    # min_confidence filters on the effective confidence (export)
    r = api(h, "cert", "GET", "/api/v1/export/plain?min_confidence=95")
    assert "185.220.102.61" in r.text.split() and "185.220.102.60" not in r.text.split()
