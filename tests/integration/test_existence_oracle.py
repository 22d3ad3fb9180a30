"""Issue 9 point 5: a POST's answer does not depend on objects the poster cannot see.

Organisation A (northbank) holds a TLP:RED indicator and a TLP:RED SCO that
organisation B (telenord) may not see. B posts (1) the indicator's id with the
same modified, (2) its id with a later modified — a new version of an object
another organisation produced — and (3) an SCO whose deterministic id (STIX
2.1 §2.9) is that of A's hidden SCO. Each answer must be byte for byte the
answer to posting an id the hub has never seen, once status ids, object ids
and timestamps are masked; B's copies are not kept. A GET of the hidden ids is
the 404 of an unknown id.
"""
import json
import re
import uuid

from hubutil import TLP2, error_shape, obj_indicator

SCO_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TS_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
LATER = "2024-05-01T00:00:00.000Z"


def masked(r):
    """What the poster sees of an answer, ids and timestamps masked."""
    body = TS_RE.sub("<ts>", UUID_RE.sub("<uuid>", r.text))
    hdrs = {k: v for k, v in r.headers.items() if k.lower() not in ("date",)}
    return r.status_code, hdrs.get("Content-Type"), len(body), body


def sco(value, **extra):
    o = {"type": "ipv4-addr", "spec_version": "2.1",
         "id": f"ipv4-addr--{uuid.uuid5(SCO_NS, json.dumps({'value': value}, separators=(',', ':')))}",
         "value": value}
    o.update(extra)
    return o


def test_post_tells_nothing_of_hidden_objects(fresh_hub):
    # a hub of its own: SCOs (no modified) would upset tests that walk the
    # session hub's collections, and the audit count below is exact
    hub = fresh_hub
    tag = uuid.uuid4().hex[:8]
    red = [TLP2["red"]]
    # A's hidden objects
    x = obj_indicator(f"[ipv4-addr:value = '203.0.113.7']", f"oracle-x-{tag}", markings=red)
    last = int(tag[:2], 16)  # a fresh address per run of the session hub
    s_hidden = sco(f"203.0.113.{last}", object_marking_refs=red)
    hub.post_ok("open", "bank", [x, s_hidden])
    # B sees none of them
    assert hub.get(hub.object_url("open", x["id"]), "telco").status_code == 404

    def post(o):
        return masked(hub.post("open", "telco", [o]))

    # (1) the same id and modified (the same content) vs a never-seen id
    never1 = obj_indicator(f"[ipv4-addr:value = '203.0.113.7']", f"oracle-n1-{tag}",
                           markings=red)
    assert post(dict(x)) == post(never1)
    # ... and with other content (a conflict for whoever sees A's)
    x_other = dict(x, description="B's copy")
    never1b = dict(obj_indicator(f"[ipv4-addr:value = '203.0.113.7']", f"oracle-n1b-{tag}",
                                 markings=red), description="B's copy")
    assert post(x_other) == post(never1b)
    # (2) a later version of A's object vs a never-seen id at that version
    never2 = obj_indicator(f"[ipv4-addr:value = '203.0.113.7']", f"oracle-n2-{tag}",
                           markings=red, modified=LATER)
    answer = post(dict(x, modified=LATER))
    assert answer == post(never2)
    assert '"failure_count":0' in answer[3] or '"failure_count": 0' in answer[3], answer
    # (3) an SCO whose deterministic id is that of A's hidden SCO, vs a fresh one
    fresh = sco(f"203.0.113.{(last + 1) % 256}")
    assert post(sco(s_hidden["value"])) == post(fresh)

    # nothing of B's was kept: A still holds exactly its own versions
    r = hub.get(hub.versions_url("open", x["id"]), "bank")
    assert r.status_code == 200 and r.json()["versions"] == [x["modified"]], r.text
    r = hub.get(hub.object_url("open", x["id"]), "bank", {"match[version]": "all"})
    assert [o.get("description") for o in r.json()["objects"]] == [None]
    r = hub.get(hub.object_url("open", s_hidden["id"]), "bank")
    assert [o.get("object_marking_refs") for o in r.json()["objects"]] == [red]

    # GET of a hidden id is the 404 of an unknown one
    unknown_i = obj_indicator("[ipv4-addr:value = '203.0.113.8']", f"oracle-none-{tag}")["id"]
    unknown_s = sco("198.51.100.254")["id"]
    for hidden, unknown in ((x["id"], unknown_i), (s_hidden["id"], unknown_s)):
        for url in (hub.object_url, hub.versions_url):
            a = hub.get(url("open", hidden), "telco")
            b = hub.get(url("open", unknown), "telco")
            error_shape(a, 404)
            assert masked(a) == masked(b), (a.text, b.text)
        a = hub.get(hub.objects_url("open"), "telco", {"match[id]": hidden})
        b = hub.get(hub.objects_url("open"), "telco", {"match[id]": unknown})
        assert masked(a) == masked(b), (a.text, b.text)

    # the operator's audit log records what B was not told
    entries = [json.loads(l) for l in (hub.data / "audit.log").read_text().splitlines()]
    not_kept = [e for e in entries if e.get("action") == "write"
                and "not kept (a stored version the poster may not see)" in e.get("detail", "")]
    assert len(not_kept) == 4, [e.get("detail") for e in entries[-8:]]
