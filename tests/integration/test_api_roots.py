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
