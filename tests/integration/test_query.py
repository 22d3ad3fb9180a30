"""Manifest, objects, object and versions with every filter (TAXII 2.1
§3.3-§3.5, §5.3, §5.4, §5.6, §5.8): sorting by date_added, match[id],
match[type], match[version] (first, last, all, timestamps compared as
instants), match[spec_version], added_after (strictly after), limit/more/next
and X-TAXII-Date-Added-First/Last. Uses the 'paging' collection only."""
import base64

import pytest

from hubutil import TAXII, TS_US, error_shape, obj_indicator, sid

V1 = "2024-01-01T00:00:00.000Z"
V2 = "2024-02-01T00:00:00.000Z"
V3 = "2024-03-01T12:30:45.000Z"
V3_NOFRAC = "2024-03-01T12:30:45Z"
V3_US = "2024-03-01T12:30:45.000000Z"


def ind(n, modified=V1):
    return obj_indicator(f"[ipv4-addr:value = '192.0.2.{n}']", f"q-ind-{n}", modified=modified)


def malware(n):
    return {"type": "malware", "spec_version": "2.1", "id": sid("malware", f"q-mal-{n}"),
            "created": V1, "modified": V1, "name": f"q-mal-{n}", "is_family": False}


def sco(n):
    return {"type": "domain-name", "spec_version": "2.1",
            "id": sid("domain-name", f"q-dom-{n}"), "value": f"q{n}.example"}


A = "q-ind-1"
BATCHES = [
    [ind(1), ind(2), ind(3), ind(4)],
    [ind(1, V2), malware(1)],
    [ind(1, V3), ind(2, V2), sco(1)],
    [ind(n) for n in range(10, 22)],
    [malware(2), ind(3, V3)],
]


@pytest.fixture(scope="module")
def q(hub):
    """Posts the batches (each its own request, so date_added grows) and
    returns the model: records (id, type, version) in posting order, and
    date_added per (id, version) as the full manifest reports it."""
    posted = []
    for b in BATCHES:
        hub.post_ok("paging", "bank", b)
        for o in b:
            posted.append((o["id"], o["type"], o.get("modified", o.get("created"))))
    man = hub.get(hub.manifest_url("paging"), "bank", {"match[version]": "all"})
    assert man.status_code == 200, man.text
    recs = man.json()["objects"]
    da = {}
    for r in recs:
        assert TS_US.match(r["date_added"]), r
        da[(r["id"], r["version"])] = r["date_added"]
    return {"posted": posted, "recs": recs, "da": da}


def version_of(o):
    return o.get("modified") or o.get("created")


def test_manifest_all_one_record_per_version(hub, q):
    recs = q["recs"]
    assert len(recs) == len(q["posted"])
    got = {(r["id"], r["version"]) for r in recs}
    # SCOs have no modified/created: the server picks a consistent version
    for oid, typ, ver in q["posted"]:
        if ver:
            assert (oid, ver) in got, (oid, ver)
        else:
            assert any(i == oid for i, _ in got), oid
    for r in recs:
        assert r["media_type"] == "application/stix+json;version=2.1", r
    das = [r["date_added"] for r in recs]
    assert das == sorted(das), "sorted by date_added, oldest first (§3.3)"
    # each POST is one batch: later batches are strictly later
    ind1 = [q["da"][(sid("indicator", A), v)] for v in (V1, V2, V3)]
    assert ind1[0] < ind1[1] < ind1[2]


def expect(q, version="last", types=None, ids=None, added_after=None):
    """The records a query should return, from the model, in manifest order."""
    recs = q["recs"]
    if added_after:
        recs = [r for r in recs if r["date_added"] > added_after]
    if types:
        recs = [r for r in recs if r["id"].split("--")[0] in types]
    if ids:
        recs = [r for r in recs if r["id"] in ids]
    sel = set()
    vals = version.split(",")
    byid = {}
    for r in q["recs"]:
        byid.setdefault(r["id"], []).append(r)
    for r in recs:
        allv = sorted(byid[r["id"]], key=lambda x: x["version"])
        if "all" in vals:
            sel.add((r["id"], r["version"]))
        if "last" in vals and r["version"] == allv[-1]["version"]:
            sel.add((r["id"], r["version"]))
        if "first" in vals and r["version"] == allv[0]["version"]:
            sel.add((r["id"], r["version"]))
        for v in vals:
            if v not in ("all", "first", "last") and r["version"][:19] == v[:19]:
                sel.add((r["id"], r["version"]))
    return [(r["id"], r["version"]) for r in recs if (r["id"], r["version"]) in sel]


def headers_match(r, recs):
    first, last = r.headers.get("X-TAXII-Date-Added-First"), r.headers.get("X-TAXII-Date-Added-Last")
    if not recs:
        return
    assert first and TS_US.match(first), first
    assert last and TS_US.match(last), last
    assert first == recs[0]["date_added"] and last == recs[-1]["date_added"], (first, last)


QUERIES = [
    {},
    {"match[version]": "last"},
    {"match[version]": "first"},
    {"match[version]": "all"},
    {"match[version]": "first,last"},
    {"match[version]": V2},
    {"match[version]": V3_NOFRAC},
    {"match[version]": V3_US},
    {"match[version]": f"first,{V3}"},
    {"match[type]": "malware"},
    {"match[type]": "indicator,domain-name", "match[version]": "all"},
    {"match[id]": sid("indicator", A)},
    {"match[id]": sid("indicator", A) + "," + sid("malware", "q-mal-1"), "match[version]": "all"},
    {"match[id]": sid("indicator", A), "match[type]": "malware"},
    {"match[spec_version]": "2.1"},
    {"match[spec_version]": "2.1", "match[version]": "all"},
]


def model_for(q, params, extra_after=None):
    return expect(q, version=params.get("match[version]", "last"),
                  types=params["match[type]"].split(",") if "match[type]" in params else None,
                  ids=params["match[id]"].split(",") if "match[id]" in params else None,
                  added_after=params.get("added_after"))


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "none")
def test_manifest_filters(hub, q, params):
    r = hub.get(hub.manifest_url("paging"), "bank", params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == TAXII
    recs = r.json().get("objects", [])
    got = [(x["id"], x["version"]) for x in recs]
    want = model_for(q, params)
    assert sorted(got) == sorted(want), (params, got, want)
    das = [x["date_added"] for x in recs]
    assert das == sorted(das)
    headers_match(r, recs)


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "none")
def test_objects_filters(hub, q, params):
    r = hub.get(hub.objects_url("paging"), "bank", params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == TAXII
    body = r.json()
    objs = body.get("objects", [])
    if not objs:
        assert "objects" not in body, "an empty envelope is {} (§5.4)"
    got = [(o["id"], version_of(o) or q_sco_version(q, o["id"])) for o in objs]
    want = model_for(q, params)
    assert sorted(got) == sorted(want), (params, got, want)
    # same order and same date_added headers as the manifest of the same query
    man = hub.get(hub.manifest_url("paging"), "bank", params).json().get("objects", [])
    assert [o["id"] for o in objs] == [m["id"] for m in man]
    headers_match(r, man)


def q_sco_version(q, oid):
    vs = [r["version"] for r in q["recs"] if r["id"] == oid]
    assert len(vs) == 1
    return vs[0]


def test_spec_version_20_is_empty(hub, q):
    for u in (hub.objects_url("paging"), hub.manifest_url("paging")):
        r = hub.get(u, "bank", {"match[spec_version]": "2.0"})
        assert r.status_code == 200, r.text
        assert r.json().get("objects", []) == []


def test_stix_types_never_error(hub, q):
    r = hub.get(hub.objects_url("paging"), "bank",
                {"match[type]": "x509-certificate,grouping,language-content,marking-definition"})
    assert r.status_code == 200, r.text
    assert r.json().get("objects", []) == []


def test_object_endpoint_versions(hub, q):
    oid = sid("indicator", A)
    u = hub.object_url("paging", oid)
    cases = {None: [V3], "last": [V3], "first": [V1], "all": [V1, V2, V3],
             V2: [V2], V3_NOFRAC: [V3], f"first,{V3}": [V1, V3]}
    for mv, want in cases.items():
        r = hub.get(u, "bank", {"match[version]": mv} if mv else None)
        assert r.status_code == 200, (mv, r.text)
        got = [o["modified"] for o in r.json()["objects"]]
        assert sorted(got) == want, (mv, got)
        assert all(o["id"] == oid for o in r.json()["objects"])
        recs = [{"date_added": q["da"][(oid, v)]} for v in sorted(got, key=lambda v: q["da"][(oid, v)])]
        headers_match(r, recs)
    # a version that does not exist: 404
    r = hub.get(u, "bank", {"match[version]": "2030-01-01T00:00:00.000Z"})
    assert r.status_code in (200, 404)
    if r.status_code == 200:
        assert r.json().get("objects", []) == []
    error_shape(hub.get(hub.object_url("paging", sid("indicator", "nope")), "bank"), 404)


def test_versions_endpoint(hub, q):
    oid = sid("indicator", A)
    r = hub.get(hub.versions_url("paging", oid), "bank")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == TAXII
    assert r.json()["versions"] == [V1, V2, V3]
    headers_match(r, [{"date_added": q["da"][(oid, V1)]}, {"date_added": q["da"][(oid, V3)]}])
    r = hub.get(hub.versions_url("paging", oid), "bank", {"match[spec_version]": "2.1"})
    assert r.json()["versions"] == [V1, V2, V3]
    error_shape(hub.get(hub.versions_url("paging", sid("indicator", "nope")), "bank"), 404)


def test_added_after_strictly_after(hub, q):
    recs = q["recs"]
    for k in (0, 3, len(recs) // 2, len(recs) - 1):
        ts = recs[k]["date_added"]
        p = {"added_after": ts, "match[version]": "all"}
        r = hub.get(hub.manifest_url("paging"), "bank", p)
        assert r.status_code == 200, r.text
        got = [(x["id"], x["version"]) for x in r.json().get("objects", [])]
        want = [(x["id"], x["version"]) for x in recs if x["date_added"] > ts]
        assert sorted(got) == sorted(want), (ts, len(got), len(want))
        assert all(x["date_added"] > ts for x in r.json().get("objects", []))
        r = hub.get(hub.objects_url("paging"), "bank", p)
        assert len(r.json().get("objects", [])) == len(want)
    # STIX times do not matter: a date before everything gives everything
    r = hub.get(hub.manifest_url("paging"), "bank",
                {"added_after": "2000-01-01T00:00:00Z", "match[version]": "all"})
    assert len(r.json()["objects"]) == len(recs)
    # the last one's own date_added: nothing newer
    r = hub.get(hub.manifest_url("paging"), "bank",
                {"added_after": recs[-1]["date_added"], "match[version]": "all"})
    assert r.status_code == 200 and r.json().get("objects", []) == []
    # versions endpoint honours it too
    oid = sid("indicator", A)
    r = hub.get(hub.versions_url("paging", oid), "bank", {"added_after": q["da"][(oid, V1)]})
    assert r.json()["versions"] == [V2, V3]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 100])
@pytest.mark.parametrize("ep,params", [
    ("objects", {}), ("objects", {"match[version]": "all"}), ("manifest", {"match[version]": "all"}),
    ("manifest", {"match[type]": "indicator"}),
])
def test_next_walk_equals_full_listing(hub, q, limit, ep, params):
    u = hub.objects_url("paging") if ep == "objects" else hub.manifest_url("paging")
    full = hub.get(u, "bank", params).json().get("objects", [])
    items, pages = hub.walk(u, "bank", params, limit=limit)
    key = (lambda o: (o["id"], version_of(o))) if ep == "objects" else (lambda o: (o["id"], o["version"]))
    assert [key(o) for o in items] == [key(o) for o in full]
    for r, body in pages:
        n = len(body.get("objects", []))
        assert n <= limit, "never more than asked (§3.4)"
        if body.get("more"):
            assert body.get("next")
    assert not pages[-1][1].get("more")
    if len(full) > limit:
        assert len(pages) > 1 and pages[0][1]["more"] is True


def test_versions_and_object_paging(hub, q):
    oid = sid("indicator", A)
    vs, pages = hub.walk(hub.versions_url("paging", oid), "bank", limit=1, endpoint_key="versions")
    assert vs == [V1, V2, V3] and len(pages) == 3
    objs, pages = hub.walk(hub.object_url("paging", oid), "bank", {"match[version]": "all"}, limit=2)
    assert [o["modified"] for o in objs] == [V1, V2, V3]


def test_limit_more_than_total(hub, q):
    r = hub.get(hub.manifest_url("paging"), "bank", {"limit": "100000", "match[version]": "all"})
    assert r.status_code == 200
    body = r.json()
    assert len(body["objects"]) == len(q["recs"])
    assert not body.get("more")


def first_next(hub, u, who="bank", params=None):
    p = dict(params or {}, limit="2")
    body = hub.get(u, who, p).json()
    assert body.get("more") and body.get("next"), body
    return body["next"]


def test_next_from_another_principal_rejected(hub, q):
    u = hub.objects_url("paging")
    nxt = first_next(hub, u)
    # same organisation, another principal; and another organisation
    for who in ("bank_reader", "telco", "cert"):
        r = hub.get(u, who, {"limit": "2", "next": nxt})
        assert r.status_code in (400, 404), (who, r.status_code)
        error_shape(r, r.status_code)


def test_next_for_another_query_or_endpoint_rejected(hub, q):
    u = hub.objects_url("paging")
    nxt = first_next(hub, u)
    error_shape(hub.get(u, "bank", {"limit": "2", "next": nxt, "match[type]": "malware"}), 400)
    error_shape(hub.get(hub.manifest_url("paging"), "bank", {"limit": "2", "next": nxt}), 400)
    # the same query works
    assert hub.get(u, "bank", {"limit": "2", "next": nxt}).status_code == 200


def flip(s, i):
    c = s[i]
    return s[:i] + ("A" if c != "A" else "B") + s[i + 1:]


def test_tampered_next_400(hub, q):
    u = hub.objects_url("paging")
    nxt = first_next(hub, u)
    for bad in (flip(nxt, 0), flip(nxt, len(nxt) // 2), flip(nxt, len(nxt) - 1), nxt[:-4],
                nxt + "AAAA", "x", base64.urlsafe_b64encode(b"\x00" * 64).decode().rstrip("=")):
        r = hub.get(u, "bank", {"limit": "2", "next": bad})
        error_shape(r, 400)


BAD_PARAMS = [
    {"added_after": "yesterday"},
    {"added_after": "2024-13-01T00:00:00Z"},
    {"added_after": "2024-01-01T00:00:00+01:00"},
    {"added_after": ""},
    "added_after=2024-01-01T00:00:00Z&added_after=2024-01-02T00:00:00Z",
    {"limit": "0"},
    {"limit": "-1"},
    {"limit": "ten"},
    {"limit": "1.5"},
    {"limit": ""},
    "limit=1&limit=2",
    {"match[version]": "newest"},
    {"match[version]": "all,first"},
    {"match[version]": "first,first"},
    {"match[version]": ""},
    {"match[version]": "2024-01-01"},
    {"match[id]": "not-a-stix-id"},
    {"match[id]": ""},
    "match[id]=indicator--1d3c1b3a-4a5b-4c6d-8e7f-9a0b1c2d3e4f&match[id]=indicator--1d3c1b3a-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    {"match[type]": ""},
    {"match[type]": "Indicator!"},
    {"match[spec_version]": ""},
    {"next": "%%%"},
    "limit=%zz",
]


def _pid(p):
    return p if isinstance(p, str) else ",".join(f"{k}={v}" for k, v in p.items())


def _applies(ep, params):
    """§5.6 filters: match[version], match[spec_version]; §5.8: none of
    match[id|type|version] (an endpoint MAY ignore filters it does not define)."""
    keys = set(params) if isinstance(params, dict) else \
        {kv.split("=")[0] for kv in params.split("&")}
    if ep == "object":
        return not keys & {"match[id]", "match[type]"}
    if ep == "versions":
        return not keys & {"match[id]", "match[type]", "match[version]"}
    return True


BAD_CASES = [(ep, p) for ep in ("objects", "manifest", "object", "versions") for p in BAD_PARAMS
             if _applies(ep, p)]


@pytest.mark.parametrize("ep,params", BAD_CASES, ids=[f"{e}-{_pid(p)}" for e, p in BAD_CASES])
def test_malformed_params_400(hub, q, ep, params):
    oid = sid("indicator", A)
    u = {"objects": hub.objects_url("paging"), "manifest": hub.manifest_url("paging"),
         "object": hub.object_url("paging", oid), "versions": hub.versions_url("paging", oid)}[ep]
    r = hub.get(u, "bank", params)
    error_shape(r, 400)


@pytest.mark.parametrize("limit", ["99999999999999999999999", "9007199254740993", "2147483648"])
def test_huge_limit_is_capped_or_400_never_500(hub, q, limit):
    r = hub.get(hub.objects_url("paging"), "bank", {"limit": limit})
    assert r.status_code in (200, 400), r.status_code
    assert r.headers["Content-Type"] == TAXII
