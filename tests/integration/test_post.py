"""POST objects (TAXII 2.1 §5.5) and status (§4.3): 202 with a complete
status whose counts add up, duplicates succeed, invalid objects listed under
failures, 413/415/422/400, and status lookup."""
import json
import uuid
from urllib.parse import urljoin

import pytest

from hubutil import TAXII, TS_US, error_shape, obj_indicator

STATUS_ID = __import__("re").compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def check_status(st):
    """The status resource invariants taxii2client checks (§4.3.1)."""
    assert STATUS_ID.match(st["id"]), st
    assert st["status"] in ("complete", "pending")
    for k in ("total_count", "success_count", "failure_count", "pending_count"):
        assert isinstance(st[k], int), (k, st)
    assert st["total_count"] == st["success_count"] + st["failure_count"] + st["pending_count"], st
    for lst, cnt in (("successes", "success_count"), ("failures", "failure_count"),
                     ("pendings", "pending_count")):
        assert len(st.get(lst, [])) == st[cnt], (lst, st)
        if lst in st:
            assert st[lst], f"{lst}: empty lists are omitted (§2)"
        for d in st.get(lst, []):
            assert d["id"] and d["version"], d
    if "request_timestamp" in st:
        assert TS_US.match(st["request_timestamp"]), st


def test_post_complete_counts(hub):
    objs = [obj_indicator(f"[ipv4-addr:value = '203.0.113.{i}']", f"post-counts-{i}")
            for i in range(5)]
    r = hub.post("open", "bank", objs)
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"] == TAXII
    st = r.json()
    check_status(st)
    assert st["status"] == "complete"
    assert st["total_count"] == 5 and st["success_count"] == 5
    assert {d["id"] for d in st["successes"]} == {o["id"] for o in objs}
    assert {d["version"] for d in st["successes"]} == {"2024-01-01T00:00:00.000Z"}
    # the objects are there now (acknowledged only when durable)
    for o in objs:
        g = hub.get(hub.object_url("open", o["id"]), "telco")
        assert g.status_code == 200, g.text
        assert g.json()["objects"][0]["id"] == o["id"]


def test_post_duplicates_succeed(hub):
    objs = [obj_indicator("[domain-name:value = 'dup.example']", "post-dup")]
    first = hub.post_ok("open", "bank", objs)
    second = hub.post_ok("open", "bank", objs)
    assert first["id"] != second["id"]
    # an exact duplicate inside one envelope is fine too
    st = hub.post("open", "bank", objs + objs).json()
    check_status(st)
    assert st["failure_count"] == 0 and st["success_count"] == 2
    # still one version
    v = hub.get(hub.versions_url("open", objs[0]["id"]), "bank").json()
    assert v["versions"] == ["2024-01-01T00:00:00.000Z"]


def test_post_invalid_objects_listed_in_failures(hub):
    good = obj_indicator("[ipv4-addr:value = '203.0.113.99']", "post-good")
    no_pattern = obj_indicator("[ipv4-addr:value = '203.0.113.98']", "post-nopattern")
    del no_pattern["pattern"]
    bad_pattern = obj_indicator("[ipv4-addr:value = ", "post-badpattern")
    bad_time = obj_indicator("[ipv4-addr:value = '203.0.113.97']", "post-badtime",
                             modified="2023-01-01T00:00:00.000Z")  # modified < created
    r = hub.post("open", "bank", [good, no_pattern, bad_pattern, bad_time])
    assert r.status_code == 202, r.text
    st = r.json()
    check_status(st)
    assert st["success_count"] == 1 and st["failure_count"] == 3, st
    assert {d["id"] for d in st["failures"]} == {no_pattern["id"], bad_pattern["id"], bad_time["id"]}
    for d in st["failures"]:
        assert d.get("message"), d
    assert hub.get(hub.object_url("open", no_pattern["id"]), "bank").status_code == 404


def test_post_foreign_version_fails(hub):
    """STIX §3.6: only the producer versions an object; another
    organisation's new version is listed under failures."""
    o = obj_indicator("[ipv4-addr:value = '203.0.113.77']", "post-foreign")
    hub.post_ok("open", "bank", [o])
    o2 = dict(o, modified="2024-02-01T00:00:00.000Z", name="hijacked")
    st = hub.post("open", "telco", [o2]).json()
    check_status(st)
    assert st["failure_count"] == 1 and st["failures"][0]["id"] == o["id"], st
    v = hub.get(hub.versions_url("open", o["id"]), "bank").json()
    assert v["versions"] == [o["modified"]]
    # the producer may
    hub.post_ok("open", "bank", [o2])


@pytest.mark.parametrize("ctype", ["application/json", "text/plain",
                                   "application/taxii+json;version=2.0",
                                   "application/stix+json;version=2.1"])
def test_post_wrong_content_type_415(hub, ctype):
    o = obj_indicator("[ipv4-addr:value = '203.0.113.55']", "post-415")
    r = hub.post("open", "bank", [o], content_type=ctype)
    error_shape(r, 415)


def test_post_missing_content_type_415(hub):
    o = obj_indicator("[ipv4-addr:value = '203.0.113.56']", "post-415b")
    r = hub.post("open", "bank", [o], content_type=None)
    assert r.status_code in (400, 415), r.status_code
    error_shape(r, r.status_code)


def test_post_bare_content_type_accepted(hub):
    o = obj_indicator("[ipv4-addr:value = '203.0.113.57']", "post-bare-ct")
    r = hub.post("open", "bank", [o], content_type="application/taxii+json")
    assert r.status_code == 202, r.text


def test_post_over_max_content_length_413(hub):
    mcl = hub.get(hub.root, "bank").json()["max_content_length"]
    assert mcl <= 256 * 1024 * 1024, mcl
    filler = "x" * (mcl + 1 - len('{"objects":[],"x_pad":""}'))
    body = json.dumps({"objects": [], "x_pad": filler}, separators=(",", ":"))
    assert len(body) == mcl + 1
    r = hub.post("open", "bank", body=body)
    error_shape(r, 413)
    # exactly at the limit is not a 413 (§4.2.1)
    body = json.dumps({"objects": [], "x_pad": filler[:-1]}, separators=(",", ":"))
    assert len(body) == mcl
    r = hub.post("open", "bank", body=body)
    assert r.status_code != 413, r.text[:300]


@pytest.mark.parametrize("body", [
    '{"type":"bundle","id":"bundle--6d1f3b0a-0c2e-4c62-9d4e-3f2a1b0c9d8e","objects":[]}',
    '[]',
    '"objects"',
    '{"objects": {}}',
    '{"objects": "x"}',
    '{"objects": [1, 2]}',
    '{"objects": [',
    'not json',
    '',
])
def test_post_non_envelope_422(hub, body):
    r = hub.post("open", "bank", body=body)
    assert r.status_code in (400, 422), (body, r.status_code, r.text[:200])
    error_shape(r, r.status_code)


def test_post_needs_can_write(hub):
    o = obj_indicator("[ipv4-addr:value = '203.0.113.58']", "post-nowrite")
    # reader role on a collection it can read: 403 (or 404) — never 202
    r = hub.post("open", "bank_reader", [o])
    assert r.status_code in (403, 404), r.status_code
    error_shape(r, r.status_code)
    r = hub.post("readonly", "bank", [o])
    assert r.status_code in (403, 404)
    error_shape(r, r.status_code)
    # a collection the principal does not see at all: 404
    error_shape(hub.post("le-only", "bank", [o]), 404)
    # write-only collection: accepted
    r = hub.post("writeonly", "bank", [o])
    assert r.status_code == 202, r.text


def test_status_get_and_unknown(hub):
    o = obj_indicator("[ipv4-addr:value = '203.0.113.59']", "post-status")
    st = hub.post_ok("open", "bank", [o])
    r = hub.get(hub.root + f"status/{st['id']}/", "bank")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == TAXII
    got = r.json()
    check_status(got)
    assert got["id"] == st["id"] and got["status"] == "complete"
    assert got["success_count"] == 1
    error_shape(hub.get(hub.root + f"status/{uuid.uuid4()}/", "bank"), 404)
    r = hub.get(hub.root + "status/not-a-uuid/", "bank")
    assert r.status_code in (400, 404), r.status_code
    error_shape(r, r.status_code)


def test_status_of_another_org_not_shown(hub):
    o = obj_indicator("[ipv4-addr:value = '203.0.113.60']", "post-status-private")
    st = hub.post_ok("open", "bank", [o])
    # another organisation learns nothing about the bank's submission
    r = hub.get(hub.root + f"status/{st['id']}/", "telco")
    assert r.status_code in (403, 404), (r.status_code, r.text[:200])
    error_shape(r, r.status_code)


def test_status_url_resolution_like_taxii2client(hub):
    coll_url = hub.coll_url("open")
    o = obj_indicator("[ipv4-addr:value = '203.0.113.61']", "post-status-url")
    st = hub.post_ok("open", "bank", [o])
    url = urljoin(coll_url, "../../status/{}".format(st["id"])) + "/"
    assert url == hub.root + f"status/{st['id']}/"
    r = hub.get(url, "bank")
    assert r.status_code == 200 and r.json()["id"] == st["id"]
