"""Several API roots (issue 8 point 9), against the real tocsind.

Roots come from the configuration file ([api_root NAME] sections), from
`tocsin collection add --api-root` and from a medallion migration that
had two API roots. Checked as a TAXII client sees it: discovery lists
every root (TAXII 2.1 §4.1), each root answers with its own title,
description and max_content_length (§4.2) and limits POST bodies by it
(§5.5: 413), a root's collections are not reachable under another root
(the same 404 as an unknown one), migrated rights hold — a collection a
client may see but not read answers 403 with a TAXII error (§5.3, §5.4,
§5.6, §5.8), one it may not see 404 — migrated status resources are
served under their root with their ids (§4.3), and a path without its
trailing '/' is redirected with 308 (§3.1), query kept.
"""
import json
import os
import pathlib
from urllib.parse import unquote, urlsplit

import pytest

from conftest import Daemon, tocsin
from hubutil import TAXII, Hub, error_shape, obj_indicator

SRC = pathlib.Path(os.environ.get("TOCSIN_SOURCE", pathlib.Path(__file__).parents[2]))
DUMP = SRC / "tests" / "data" / "taxii-dump" / "medallion-roots.json"

OPEN = "11111111-2222-4333-8444-555555555555"     # api1: can_read, can_write
DROPBOX = "22222222-3333-4444-8555-666666666666"  # api1: write only
NOTES = "33333333-4444-4555-8666-777777777777"    # trustgroup1: read only
ARCHIVE = "44444444-5555-4666-8777-888888888888"  # trustgroup1: neither
UNKNOWN = "7c7f7a5e-0000-4000-8000-000000000000"

CONF = """[taxii]
title = "Root test hub"
max_content_length = 1M
[api_root trusted]
title = "Trusted partners"
description = "Closed group"
max_content_length = 2048
[api_root api1]
description = "Described by the operator"
"""


@pytest.fixture(scope="module")
def rh(tmp_path_factory):
    d = tmp_path_factory.mktemp("roots") / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "bank", "--sector", "finance", "--country", "NO", "--data", d)
    keys = {
        "bank": tocsin("key", "create", "bank", "--role", "contributor", "--data", d)
        .stdout.strip(),
        "reader": tocsin("key", "create", "bank", "--role", "reader", "--data", d)
        .stdout.strip(),
    }
    colls = {
        "partners": tocsin("collection", "add", "partners", "--read", "all", "--write", "all",
                           "--api-root", "trusted", "--data", d).stdout.strip(),
        "main": tocsin("collection", "add", "main", "--read", "all", "--write", "all",
                       "--data", d).stdout.strip(),
    }
    p = tocsin("import", "--data", d, "--taxii-dump", DUMP)
    assert "api roots: created 2" in p.stdout, p.stdout
    conf = d.parent / "tocsind.conf"
    conf.write_text(CONF)
    daemon = Daemon(d, config=conf)
    h = Hub(f"http://{daemon.addr}", keys, {}, colls, {}, {}, {}, data=d, daemon=daemon)
    yield h
    assert daemon.stop() == 0, daemon.log()[-3000:]


def url(h, root, rest=""):
    return f"{h.base}/taxii2/{root}/{rest}"


def coll(h, root, cid, rest=""):
    return url(h, root, f"collections/{cid}/{rest}")


def test_discovery_lists_every_root(rh):
    r = rh.get(rh.base + "/taxii2/", "bank")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    d = r.json()
    assert d["title"] == "Root test hub"
    assert d["default"] == "/taxii2/hub/"
    # the default, then the configured roots in file order, then the ones the
    # registry knows (collection add --api-root, the migration)
    assert d["api_roots"] == ["/taxii2/hub/", "/taxii2/trusted/", "/taxii2/api1/",
                              "/taxii2/trustgroup1/"]
    assert d["default"] in d["api_roots"]


def test_each_root_has_its_information(rh):
    info = {}
    for root in ("hub", "trusted", "api1", "trustgroup1"):
        r = rh.get(url(rh, root), "bank")
        assert r.status_code == 200, (root, r.text)
        info[root] = r.json()
        assert info[root]["versions"] == ["application/taxii+json;version=2.1"]
    assert info["hub"]["title"] == "Root test hub"
    assert info["hub"]["max_content_length"] == 1024 * 1024
    assert info["trusted"] == {"title": "Trusted partners", "description": "Closed group",
                               "versions": ["application/taxii+json;version=2.1"],
                               "max_content_length": 2048}
    # from the migrated file, the description overridden by the configuration
    assert info["api1"]["title"] == "General feeds"
    assert info["api1"]["description"] == "Described by the operator"
    assert info["api1"]["max_content_length"] == 4096
    assert info["trustgroup1"]["title"] == "Malware Research Group"
    # the file's 9765625 is above what this daemon reads: not advertised
    assert info["trustgroup1"]["max_content_length"] == 1024 * 1024
    error_shape(rh.get(url(rh, "nosuch"), "bank"), 404)


def ids(r):
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json().get("collections", [])]


def test_collections_belong_to_one_root(rh):
    assert ids(rh.get(url(rh, "hub", "collections/"), "bank")) == [
        c for c in ids(rh.get(url(rh, "hub", "collections/"), "bank"))]
    hub_ids = ids(rh.get(url(rh, "hub", "collections/"), "bank"))
    assert rh.colls["main"] in hub_ids
    assert rh.colls["partners"] not in hub_ids and OPEN not in hub_ids
    assert ids(rh.get(url(rh, "trusted", "collections/"), "bank")) == [rh.colls["partners"]]
    assert ids(rh.get(url(rh, "api1", "collections/"), "bank")) == [OPEN, DROPBOX]
    assert ids(rh.get(url(rh, "trustgroup1", "collections/"), "bank")) == [NOTES]

    unknown = error_shape(rh.get(coll(rh, "hub", UNKNOWN), "bank"), 404)
    for root, cid in (("hub", rh.colls["partners"]), ("hub", OPEN), ("trusted", NOTES),
                      ("api1", rh.colls["main"]), ("hub", "partners")):
        for rest in ("", "objects/", "manifest/"):
            body = error_shape(rh.get(coll(rh, root, cid, rest), "bank"), 404)
            if rest == "":
                assert body == unknown, (root, cid)
    assert rh.get(coll(rh, "trusted", rh.colls["partners"]), "bank").status_code == 200
    assert rh.get(coll(rh, "trusted", "partners"), "bank").status_code == 200


def test_post_limited_by_the_roots_max_content_length(rh):
    objs = [obj_indicator(f"[ipv4-addr:value = '203.0.113.{i}']", f"roots-big-{i}")
            for i in range(12)]
    body = json.dumps({"objects": objs})
    assert 2048 < len(body) < 1024 * 1024
    b = error_shape(rh.post(coll(rh, "trusted", rh.colls["partners"], "objects/"), "bank",
                            body=body), 413)
    assert "2048" in b.get("description", "")
    # the same body is fine in a root with a larger limit
    r = rh.post(coll(rh, "hub", rh.colls["main"], "objects/"), "bank", body=body)
    assert r.status_code == 202, r.text
    small = json.dumps({"objects": objs[:1]})
    r = rh.post(coll(rh, "trusted", rh.colls["partners"], "objects/"), "bank", body=small)
    assert r.status_code == 202, r.text
    st = r.json()["id"]
    # its status under its own root only
    assert rh.get(url(rh, "trusted", f"status/{st}/"), "bank").status_code == 200
    error_shape(rh.get(url(rh, "hub", f"status/{st}/"), "bank"), 404)


def test_migrated_rights(rh):
    cols = {c["id"]: c for c in rh.get(url(rh, "api1", "collections/"), "bank")
            .json()["collections"]}
    assert (cols[OPEN]["can_read"], cols[OPEN]["can_write"]) == (True, True)
    # medallion's can_read false, can_write true: listed, not readable
    assert (cols[DROPBOX]["can_read"], cols[DROPBOX]["can_write"]) == (False, True)
    assert rh.get(coll(rh, "api1", DROPBOX), "bank").json()["can_read"] is False
    oid = "indicator--2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
    for rest in ("objects/", "manifest/", f"objects/{oid}/", f"objects/{oid}/versions/"):
        error_shape(rh.get(coll(rh, "api1", DROPBOX, rest), "bank"), 403)
    # a reader cannot write, so the drop box is not shared with it at all
    error_shape(rh.get(coll(rh, "api1", DROPBOX, "objects/"), "reader"), 404)
    assert DROPBOX not in ids(rh.get(url(rh, "api1", "collections/"), "reader"))
    # can_read true, can_write false
    notes = rh.get(coll(rh, "trustgroup1", NOTES), "bank").json()
    assert (notes["can_read"], notes["can_write"]) == (True, False)
    r = rh.get(coll(rh, "trustgroup1", NOTES, "objects/"), "bank")
    assert r.status_code == 200
    assert [o["id"] for o in r.json()["objects"]] == [
        "malware--3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a"]
    assert r.headers["X-TAXII-Date-Added-First"] == "2024-05-03T09:30:00.100000Z"
    error_shape(rh.post(coll(rh, "trustgroup1", NOTES, "objects/"), "bank",
                        [obj_indicator("[ipv4-addr:value = '203.0.113.99']", "notes-w")]), 403)
    # neither: the 404 of an unknown collection
    assert error_shape(rh.get(coll(rh, "trustgroup1", ARCHIVE), "bank"), 404) == \
        error_shape(rh.get(coll(rh, "trustgroup1", UNKNOWN), "bank"), 404)
    # the migrated objects in their collection, with medallion's date_added
    r = rh.get(coll(rh, "api1", OPEN, "manifest/"), "bank")
    assert r.json()["objects"][0]["date_added"] == "2024-05-01T08:00:01.000000Z"


def test_migrated_statuses(rh):
    dump = json.loads(DUMP.read_text())
    want1 = dump["api1"]["status"][0]
    want2 = dump["trustgroup1"]["status"]["6b2a7d3f-4c5e-4f6a-9b7c-8d9e0f1a2b3c"]
    r = rh.get(url(rh, "api1", f"status/{want1['id']}/"), "bank")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    assert r.json() == want1
    r = rh.get(url(rh, "trustgroup1", f"status/{want2['id']}/"), "bank")
    assert r.status_code == 200 and r.json() == want2
    # under another root: unknown
    error_shape(rh.get(url(rh, "hub", f"status/{want1['id']}/"), "bank"), 404)
    error_shape(rh.get(url(rh, "api1", f"status/{want2['id']}/"), "bank"), 404)


@pytest.mark.parametrize("path", [
    "/taxii2",
    "/taxii2/hub",
    "/taxii2/trusted",
    "/taxii2/hub/collections",
    "/taxii2/hub/collections/{main}",
    "/taxii2/hub/collections/{main}/objects",
    "/taxii2/hub/collections/{main}/manifest",
    "/taxii2/hub/collections/{main}/objects/indicator--00000000-0000-4000-8000-000000000001",
    "/taxii2/hub/collections/{main}/objects/indicator--00000000-0000-4000-8000-000000000001"
    "/versions",
    "/taxii2/hub/status/6a7a0b7e-0000-4000-8000-000000000000",
])
def test_missing_trailing_slash_is_308(rh, path):
    path = path.format(main=rh.colls["main"])
    for query in ("", "?limit=2&match[type]=indicator"):
        r = rh.s.get(rh.base + path + query, headers=rh.headers("bank"), timeout=30,
                     allow_redirects=False)
        assert r.status_code == 308, (path, r.status_code, r.text[:200])
        loc = r.headers["Location"]
        assert loc.startswith("/") or urlsplit(loc).netloc == urlsplit(rh.base).netloc
        assert urlsplit(loc).path == path + "/"
        # the query as sent (requests percent-encodes the brackets itself)
        assert unquote("?" + urlsplit(loc).query if urlsplit(loc).query else "") == query
    # a client that follows redirects gets the resource
    r = rh.s.get(rh.base + path, headers=rh.headers("bank"), timeout=30)
    assert r.status_code in (200, 404), r.status_code
    assert r.headers["Content-Type"] == TAXII


def test_post_without_slash_keeps_method_and_body(rh):
    objs = [obj_indicator("[ipv4-addr:value = '203.0.113.200']", "roots-308-post")]
    u = coll(rh, "hub", rh.colls["main"], "objects")
    r = rh.post(u, "bank", objs)  # requests re-sends the POST and its body on a 308
    assert r.status_code == 202, (r.status_code, r.text)
    assert r.json()["success_count"] == 1
    assert r.history and r.history[0].status_code == 308


def test_other_paths_without_slash_stay_404(rh):
    for path in ("/taxii2/nosuch", "/taxii2/hub/collections/x/y", "/taxii2/hub/nothing"):
        r = rh.s.get(rh.base + path, headers=rh.headers("bank"), timeout=30,
                     allow_redirects=False)
        error_shape(r, 404)
    # no redirect is given before authentication
    r = rh.s.get(rh.base + "/taxii2/hub", headers={"Accept": TAXII}, timeout=30,
                 allow_redirects=False)
    error_shape(r, 401)


# ---- every resource, field by field (TAXII 2.1 §3.6.1, §3.7, §4.1.1,
# §4.2.1, §4.3.1, §5.1.1, §5.2.1, §5.3.1, §5.8.1) ----

TS = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"  # TAXII timestamp: µs, UTC
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
STIX_ID = r"^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

# property -> (type, required); "next" on manifest and versions is the
# opaque cursor §3.4 lists as their URL parameter (taxii2client's as_pages
# reads it from every paged resource)
SHAPES = {
    "discovery": {"title": (str, True), "description": (str, False), "contact": (str, False),
                  "default": (str, False), "api_roots": (list, False)},
    "api-root": {"title": (str, True), "description": (str, False), "versions": (list, True),
                 "max_content_length": (int, True)},
    "collections": {"collections": (list, False)},
    "collection": {"id": (str, True), "title": (str, True), "description": (str, False),
                   "alias": (str, False), "can_read": (bool, True), "can_write": (bool, True),
                   "media_types": (list, False)},
    "manifest": {"more": (bool, False), "next": (str, False), "objects": (list, False)},
    "manifest-record": {"id": (str, True), "date_added": (str, True), "version": (str, True),
                        "media_type": (str, False)},
    "envelope": {"more": (bool, False), "next": (str, False), "objects": (list, False)},
    "versions": {"more": (bool, False), "next": (str, False), "versions": (list, False)},
    "status": {"id": (str, True), "status": (str, True), "request_timestamp": (str, False),
               "total_count": (int, True), "success_count": (int, True),
               "successes": (list, False), "failure_count": (int, True),
               "failures": (list, False), "pending_count": (int, True),
               "pendings": (list, False)},
    "status-details": {"id": (str, True), "version": (str, True), "message": (str, False)},
    "error": {"title": (str, True), "description": (str, False), "error_id": (str, False),
              "error_code": (str, False), "http_status": (str, False),
              "external_details": (str, False), "details": (dict, False)},
}


def shape(kind, body):
    import re
    spec = SHAPES[kind]
    assert isinstance(body, dict), (kind, body)
    # tocsin's own additions are custom properties with the x_tocsin_ prefix
    # (the manifest's producer and key, docs/daemon.md), which clients ignore
    extra = {k for k in set(body) - set(spec) if not k.startswith("x_tocsin_")}
    assert not extra, f"{kind}: properties the specification does not define: {extra}"
    for k, (t, req) in spec.items():
        if req:
            assert k in body, f"{kind}: required {k} missing: {body}"
        if k in body:
            v = body[k]
            assert isinstance(v, t) and not (t is int and isinstance(v, bool)), (kind, k, v)
            if t is list:
                assert v, f"{kind}: {k}: an empty list must be omitted (§1.3)"
    if kind == "manifest-record":
        assert re.match(TS, body["date_added"]) and re.match(STIX_ID, body["id"]), body
    if kind == "status":
        assert re.match(UUID, body["id"]) and body["status"] in ("complete", "pending")
        assert body["total_count"] == (body["success_count"] + body["failure_count"]
                                       + body["pending_count"])
        for lst, n in (("successes", "success_count"), ("failures", "failure_count"),
                       ("pendings", "pending_count")):
            assert len(body.get(lst, [])) == body[n], (lst, body)
            for sd in body.get(lst, []):
                shape("status-details", sd)
        if "request_timestamp" in body:
            assert re.match(TS, body["request_timestamp"]), body
    if kind == "collection":
        assert re.match(UUID, body["id"]), body
    return body


def taxii_json(r, status=200):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == TAXII, r.headers.get("Content-Type")
    return r.json()


def test_every_resource_field_by_field(rh):
    import re
    shape("discovery", taxii_json(rh.get(rh.base + "/taxii2/", "bank")))
    for root in ("hub", "trusted", "api1", "trustgroup1"):
        b = shape("api-root", taxii_json(rh.get(url(rh, root), "bank")))
        assert "application/taxii+json;version=2.1" in b["versions"]
        assert b["max_content_length"] > 0
        cs = shape("collections", taxii_json(rh.get(url(rh, root, "collections/"), "bank")))
        for c in cs.get("collections", []):
            shape("collection", c)
            assert shape("collection", taxii_json(rh.get(coll(rh, root, c["id"]), "bank"))) == c
    # a page with more, then the last one
    cid = rh.colls["main"]
    objs = [obj_indicator(f"[ipv4-addr:value = '198.18.0.{i}']", f"shape-{i}") for i in range(3)]
    st = shape("status", taxii_json(rh.post(coll(rh, "hub", cid, "objects/"), "bank", objs), 202))
    shape("status", taxii_json(rh.get(url(rh, "hub", f"status/{st['id']}/"), "bank")))
    # a status with a failure and a duplicate
    bad = dict(objs[0], id="indicator--00000000-0000-4000-8000-0000000000ff", valid_until="2000-01-01T00:00:00Z")
    st = shape("status", taxii_json(rh.post(coll(rh, "hub", cid, "objects/"), "bank",
                                            [objs[0], bad]), 202))
    assert st["failure_count"] == 1 and st["success_count"] == 1
    for ep, kind in (("manifest/", "manifest"), ("objects/", "envelope")):
        r = rh.get(coll(rh, "hub", cid, ep), "bank", {"limit": "1"})
        b = shape(kind, taxii_json(r))
        assert b["more"] is True and b.get("next")
        for k in ("X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
            assert re.match(TS, r.headers[k]), (k, r.headers.get(k))
        if kind == "manifest":
            for m in b["objects"]:
                shape("manifest-record", m)
        items, pages = rh.walk(coll(rh, "hub", cid, ep), "bank", limit=2)
        for _, pb in pages:
            shape(kind, pb)
    oid = objs[0]["id"]
    r = rh.get(coll(rh, "hub", cid, f"objects/{oid}/versions/"), "bank")
    shape("versions", taxii_json(r))
    assert "X-TAXII-Date-Added-First" in r.headers
    shape("envelope", taxii_json(rh.get(coll(rh, "hub", cid, f"objects/{oid}/"), "bank")))
    # nothing matches: the empty envelope {} (§5.4), no date headers
    r = rh.get(coll(rh, "hub", cid, "objects/"), "bank", {"match[type]": "malware"})
    assert shape("envelope", taxii_json(r)) == {}
    # errors everywhere: the error resource, the TAXII media type, http_status = status
    for r, code in (
        (rh.get(rh.base + "/taxii2/", None), 401),
        (rh.get(url(rh, "nosuch"), "bank"), 404),
        (rh.get(coll(rh, "api1", DROPBOX, "objects/"), "bank"), 403),
        (rh.get(coll(rh, "hub", cid, "objects/"), "bank", {"limit": "x"}), 400),
        (rh.get(url(rh, "hub"), "bank", accept="application/json"), 406),
        (rh.post(coll(rh, "hub", cid, "objects/"), "bank", objs, content_type="text/plain"), 415),
        (rh.post(coll(rh, "hub", cid, "objects/"), "bank", body="{}"), 422),
        # §4.3.1: a status names objects by STIX id; one it cannot name is a 422
        (rh.post(coll(rh, "hub", cid, "objects/"), "bank",
                 [objs[0], {k: v for k, v in objs[1].items() if k != "id"}]), 422),
        (rh.post(coll(rh, "hub", cid, "objects/"), "bank",
                 [dict(objs[1], id="indicator--not-a-uuid")]), 422),
        (rh.s.put(coll(rh, "hub", cid, "objects/"), headers=rh.headers("bank"), timeout=30), 405),
    ):
        b = shape("error", taxii_json(r, code))
        assert b["http_status"] == str(code)

