"""The lookup API (issue 10 point 4): POST /api/v1/match and GET ?value=.

Values are answered one result each, in the order given: hit or miss, how
(exact, cidr, parent-domain, url-host, email-domain), the indicators behind
a hit (id, producer, confidence, TLP), allowlisted, and for a miss the
expired and revoked indicators that would have hit. Only what the caller may
see: an organisation asking about another organisation's TLP:RED indicator
gets byte for byte the answer for a value never published (no existence
oracle), expired and revoked details included. Limits and bad input get
clear JSON errors. `tocsin match --hub URL --key KEY` prints what `tocsin
match` prints on the hub's own data directory.
"""
import json
import os

import pytest
import requests

from conftest import TOCSIN, tocsin
from hubutil import TLP2, basic, obj_indicator

PATH = "/api/v1/match"
JSON = "application/json"


def post(hub, who, values=None, body=None, ctype=JSON, params=None):
    h = {"Authorization": basic(hub.keys[who])} if who else {}
    if ctype:
        h["Content-Type"] = ctype
    if body is None:
        body = json.dumps(values)
    return requests.post(hub.base + PATH, data=body, headers=h, params=params, timeout=60)


def results(hub, who, values, **kw):
    r = post(hub, who, values, **kw)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert r.headers["Content-Type"] == JSON
    res = r.json()["results"]
    assert len(res) == len(values)
    return res


def error_json(r, status):
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["Content-Type"].startswith(JSON), r.headers["Content-Type"]
    body = r.json()
    assert body["title"] and body["http_status"] == str(status), body
    return body


@pytest.fixture(scope="module")
def published(hub):
    """Indicators of every kind the tests ask about, published by organisations."""
    past = {"valid_from": "2020-01-01T00:00:00.000Z", "valid_until": "2021-01-01T00:00:00Z"}
    hub.post_ok("open", "bank", [
        obj_indicator("[ipv4-addr:value = '192.0.2.77']", "m-ip", confidence=85,
                      object_marking_refs=[TLP2["green"]]),
        obj_indicator("[ipv4-addr:value = '203.0.113.128/25']", "m-net"),
        obj_indicator("[domain-name:value = 'phish-match.example']", "m-dom"),
        obj_indicator("[x-tocsin-phone-number:value = '+79991230001']", "m-phone"),
        obj_indicator("[email-addr:value = 'mule@fraud-match.example']", "m-mail"),
        obj_indicator("[domain-name:value = 'mailer-match.example']", "m-maildom"),
        obj_indicator("[url:value = 'http://pay-match.example/login']", "m-url"),
        obj_indicator("[ipv4-addr:value = '8.8.8.8']", "m-allow"),
        obj_indicator("[domain-name:value = 'old-match.example']", "m-old", **past),
        obj_indicator("[domain-name:value = 'gone-match.example']", "m-gone"),
    ])
    # revoked: a new version of m-gone
    gone = obj_indicator("[domain-name:value = 'gone-match.example']", "m-gone",
                         modified="2024-02-01T00:00:00.000Z", revoked=True)
    hub.post_ok("open", "bank", [gone])
    # northbank's RED ones: telenord may see none of them
    hub.post_ok("open", "bank", [
        obj_indicator("[domain-name:value = 'red-match.example']", "m-red",
                      object_marking_refs=[TLP2["red"]]),
        obj_indicator("[domain-name:value = 'red-old-match.example']", "m-red-old",
                      object_marking_refs=[TLP2["red"]], **past),
        obj_indicator("[domain-name:value = 'red-gone-match.example']", "m-red-gone",
                      object_marking_refs=[TLP2["red"]]),
    ])
    hub.post_ok("open", "bank", [
        obj_indicator("[domain-name:value = 'red-gone-match.example']", "m-red-gone",
                      modified="2024-02-01T00:00:00.000Z", revoked=True,
                      object_marking_refs=[TLP2["red"]])])
    return hub


def test_kinds_hits_misses_and_order(published):
    hub = published
    values = ["192.0.2.77", "no such value!", "203.0.113.200", "a.b.phish-match.example",
              "+7 999 123-00-01", "mule@fraud-match.example", "boss@mailer-match.example",
              "http://pay-match.example/login", "https://www.phish-match.example/x?y=1",
              "185.53.9.78", "8.8.8.8", "never-published-match.example"]
    res = results(hub, "telco", values)
    ip, bad, net, dom, phone, mail, maildom, url, urlhost, miss, allow, never = res
    assert ip["hit"] is True and ip["how"] == "exact" and ip["kind"] == "ipv4"
    assert ip["normalized"] == "192.0.2.77" and ip["hits_total"] == 1
    h = ip["hits"][0]
    assert h["producer"] == "northbank" and h["confidence"] == 85 and h["tlp"] == "green"
    assert h["collection"] == "open" and h["indicator_id"].startswith("indicator--")
    assert bad["hit"] is False and bad["error"]
    assert net["how"] == "cidr" and net["hits"][0]["matched"] == "203.0.113.128/25"
    assert dom["how"] == "parent-domain" and dom["hits"][0]["matched"] == "phish-match.example"
    assert phone["hit"] and phone["kind"] == "phone" and phone["normalized"] == "+79991230001"
    assert mail["how"] == "exact" and mail["kind"] == "email"
    assert maildom["how"] == "email-domain" and maildom["hits"][0]["via"] == "email-domain"
    assert url["how"] == "exact" and url["kind"] == "url"
    assert urlhost["how"] == "url-host"
    assert urlhost["hits"][0]["matched"] == "phish-match.example"
    assert miss == {"kind": "ipv4", "normalized": "185.53.9.78", "hit": False,
                    "allowlisted": False, "hits_total": 0, "hits": [], "expired": [],
                    "revoked": []}
    assert allow["hit"] is True and allow["allowlisted"] is True and allow["allowlist_reason"]
    assert never["hit"] is False
    # the same values reversed give the same results reversed
    assert results(hub, "telco", values[::-1]) == res[::-1]


def test_expired_and_revoked(published):
    old, gone = results(published, "telco", ["old-match.example", "gone-match.example"])
    assert old["hit"] is False and len(old["expired"]) == 1 and old["revoked"] == []
    assert old["expired"][0]["valid_until"].startswith("2021-01-01T00:00:00")
    assert gone["hit"] is False and len(gone["revoked"]) == 1 and gone["expired"] == []


def test_red_of_another_org_is_as_never_published(published):
    hub = published
    values = ["red-match.example", "x.red-match.example", "red-old-match.example",
              "red-gone-match.example", "http://red-match.example/a"]
    never = ["nv1-match.example", "x.nv1-match.example", "nv2-old-match.example",
             "nv3-gone-match.example", "http://nv1-match.example/a"]
    assert [len(v) for v in values] == [len(v) for v in never]
    for who in ("telco", "inet", "bank2"):
        r1 = post(hub, who, values)
        r2 = post(hub, who, never)
        assert r1.status_code == r2.status_code == 200
        # byte for byte, once the value itself is masked
        masked = [json.dumps({k: v for k, v in a.items() if k != "normalized"}, sort_keys=True)
                  for a in r1.json()["results"]]
        masked2 = [json.dumps({k: v for k, v in a.items() if k != "normalized"}, sort_keys=True)
                   for a in r2.json()["results"]]
        assert masked == masked2, who
        assert len(r1.content) == len(r2.content)
        assert r1.headers["Content-Length"] == r2.headers["Content-Length"]
    # the producer's organisation sees them
    red, sub, old, gone, url = results(hub, "bank_reader", values)
    assert red["hit"] and sub["how"] == "parent-domain" and url["how"] == "url-host"
    assert red["hits"][0]["tlp"] == "red"
    assert old["expired"] and gone["revoked"]


def test_collection_rights_and_amber(published):
    """The one door decides per principal: collection read rights (le-only
    is law enforcement's) and AMBER (the producer's sharing groups)."""
    hub = published
    hub.post_ok("open", "bank", [
        obj_indicator("[domain-name:value = 'amber-match.example']", "m-amber",
                      object_marking_refs=[TLP2["amber"]])])

    def masked(who, values):
        r = post(hub, who, values)
        assert r.status_code == 200
        return [{k: v for k, v in x.items() if k != "normalized"} for x in r.json()["results"]]

    # seeded by the operator into le-only (conftest.SEEDED); same-length never-seen values
    hidden = ["198.51.100.30", "amber-match.example"]
    never = ["198.51.100.39", "ambex-match.example"]
    for who in ("telco", "inet", "bank"):
        got = masked(who, hidden)
        assert got[0] == masked(who, never)[0], who
    for who in ("telco", "inet"):
        assert masked(who, hidden)[1] == masked(who, never)[1], who
    assert masked("police", hidden)[0]["hit"] is True
    assert masked("bank2", hidden)[1]["hit"] is True      # southbank shares fin-isac
    assert masked("bank", hidden)[1]["hit"] is True       # its own


def test_get_form(published):
    hub = published
    h = {"Authorization": basic(hub.keys["telco"])}
    r = requests.get(hub.base + PATH, params=[("value", "192.0.2.77"), ("value", "+79991230001"),
                                              ("value", "192.0.2.78")], headers=h, timeout=30)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["hit"] for x in res] == [True, True, False]
    assert res == results(hub, "telco", ["192.0.2.77", "+79991230001", "192.0.2.78"])
    r = requests.get(hub.base + PATH, params=[("value", "203.0.113.201"), ("kind", "ipv4")],
                     headers=h, timeout=30)
    assert r.json()["results"][0]["how"] == "cidr"
    r = requests.get(hub.base + PATH, params=[("value", "x")] * 101, headers=h, timeout=30)
    assert "POST" in error_json(r, 413)["description"]
    error_json(requests.get(hub.base + PATH, headers=h, timeout=30), 400)
    error_json(requests.get(hub.base + PATH + "?valeu=1", headers=h, timeout=30), 400)
    # requests would re-quote a bad escape: send the request line as is
    import http.client
    c = http.client.HTTPConnection(hub.base.split("//")[1], timeout=30)
    c.request("GET", PATH + "?value=%zz", headers=h)
    resp = c.getresponse()
    assert resp.status == 400 and json.loads(resp.read())["http_status"] == "400"
    c.close()
    error_json(requests.get(hub.base + PATH + "?value=1.2.3.4&kind=nope", headers=h, timeout=30),
               400)


def test_text_plain_and_kind(published):
    hub = published
    r = post(hub, "telco", body="192.0.2.77\r\n\n  phish-match.example \n", ctype="text/plain")
    assert r.status_code == 200
    assert [x["hit"] for x in r.json()["results"]] == [True, True]
    r = post(hub, "telco", ["89991230001"], params={"kind": "phone"})
    assert r.json()["results"][0]["normalized"] == "+79991230001"
    assert r.json()["results"][0]["hit"] is True


def test_authentication(published):
    hub = published
    error_json(post(hub, None, ["192.0.2.77"]), 401)
    r = requests.post(hub.base + PATH, data="[]", headers={"Authorization": basic("tcs_nope")},
                      timeout=10)
    error_json(r, 401)
    r = requests.get(hub.base + PATH + "?value=192.0.2.77", timeout=10)
    error_json(r, 401)


def test_limits_and_bad_input(published):
    hub = published
    for body, what in (("{\"values\": []}", "not a JSON array"), ("[1, 2]", "not a string"),
                       ("[\"a\",", "element 1"), ("[\"a\"] [", "after the array"),
                       ("[\"\\ud800\"]", "surrogate")):
        assert what in error_json(post(hub, "telco", body=body), 400)["description"], body
    error_json(post(hub, "telco", body=b"\xff\xfe\n", ctype="text/plain"), 400)
    error_json(post(hub, "telco", body="[]", ctype="application/xml"), 415)
    assert results(hub, "telco", []) == []
    d = error_json(post(hub, "telco", ["1.2.3.4"] * 10001), 413)["description"]
    assert "10000" in d and "max_values" in d
    d = error_json(post(hub, "telco", ["a" * 3000 + ".example"]), 413)["description"]
    assert "2048" in d
    error_json(post(hub, "telco", body="x" * (9 << 20), ctype="text/plain"), 413)
    r = requests.delete(hub.base + PATH, headers={"Authorization": basic(hub.keys["telco"])},
                        timeout=10)
    error_json(r, 405)
    # exactly the limit is fine
    assert len(results(hub, "telco", ["192.0.2.77"] * 10000)) == 10000


def test_metrics(published):
    def counters():
        text = requests.get(published.base + "/metrics", timeout=10).text
        assert 'route="match"' in text
        v = dict(line.split(" ") for line in text.splitlines()
                 if line.startswith("tocsin_match_"))
        return int(v["tocsin_match_values_total"]), int(v["tocsin_match_hits_total"])
    v0, h0 = counters()
    results(published, "telco", ["192.0.2.77", "185.53.9.79", "phish-match.example"])
    assert counters() == (v0 + 3, h0 + 2)


# ---- tocsin match --hub ----

def local(hub, *args, stdin=None):
    return tocsin("match", "--data", hub.data, *args, input=stdin, check=False)


def remote(hub, who, *args, stdin=None, env_key=False):
    e = dict(os.environ)
    e.pop("TOCSIN_DATA", None)
    cmd = [TOCSIN, "match", "--hub", hub.base, *args]
    if env_key:
        e["TOCSIN_KEY"] = hub.keys[who]
    else:
        cmd += ["--key", hub.keys[who]]
    import subprocess
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=e, timeout=60)


def test_cli_remote_prints_what_local_prints(published):
    hub = published
    values = ["192.0.2.77", "a.b.phish-match.example", "203.0.113.200", "+79991230001",
              "old-match.example", "gone-match.example", "8.8.8.8", "192.0.2.78",
              "https://www.phish-match.example/x"]
    loc = local(hub, *values)
    rem = remote(hub, "bank_reader", *values)
    assert rem.returncode == loc.returncode == 0, (rem.stderr, loc.stderr)
    assert rem.stdout == loc.stdout
    assert len(rem.stdout.splitlines()) == len(values)
    # --json, --kind and --stdin
    loc = local(hub, "--json", "--stdin", stdin="192.0.2.77\nold-match.example\n")
    rem = remote(hub, "bank_reader", "--json", "--stdin", stdin="192.0.2.77\nold-match.example\n")
    assert [json.loads(x) for x in rem.stdout.splitlines()] == \
        [json.loads(x) for x in loc.stdout.splitlines()]
    rem = remote(hub, "bank_reader", "--kind", "phone", "89991230001", env_key=True)
    assert rem.returncode == 0 and " HIT exact " in rem.stdout, rem.stderr


def test_cli_remote_bad_value_and_policy(published):
    hub = published
    rem = remote(hub, "telco", "192.0.2.77", "not a value!", "red-match.example")
    loc = local(hub, "192.0.2.77", "not a value!", "red-match.example")
    assert rem.returncode == loc.returncode == 1
    assert "not a value!" in rem.stderr
    lines = rem.stdout.splitlines()
    assert lines[0] == loc.stdout.splitlines()[0]
    assert lines[1] == "red-match.example  miss"   # telenord does not see northbank's RED
    bad = remote(hub, "telco", "192.0.2.77", "--hub", "http://127.0.0.1:1")
    assert bad.returncode == 2 and "127.0.0.1:1" in bad.stderr
    e = dict(os.environ)
    e.pop("TOCSIN_KEY", None)
    import subprocess
    nokey = subprocess.run([TOCSIN, "match", "--hub", hub.base, "1.2.3.4"], capture_output=True,
                           text=True, env=e, timeout=30)
    assert nokey.returncode == 2 and "key" in nokey.stderr
    wrong = subprocess.run([TOCSIN, "match", "--hub", hub.base, "--key", "tcs_wrong", "1.2.3.4"],
                           capture_output=True, text=True, env=e, timeout=30)
    assert wrong.returncode == 2 and "401" in wrong.stderr
