"""Discovery, API root, collections and collection (TAXII 2.1 §4.1, §4.2,
§5.1, §5.2): shapes, required fields, per-requester can_read/can_write, the
exact Content-Type and Accept negotiation (§1.6.8, §3.1)."""
import re
from urllib.parse import urljoin

import pytest

from hubutil import TAXII, STIX, error_shape

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_discovery_shape(hub):
    r = hub.get(hub.base + "/taxii2/", "bank")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == TAXII
    d = r.json()
    assert isinstance(d["title"], str) and d["title"]
    assert d["api_roots"], d
    for root in d["api_roots"]:
        # §4.1.1: absolute https URL, or relative with a single leading '/'
        assert root.startswith("https://") or (root.startswith("/") and not root.startswith("//")), root
        assert "?" not in root and "../" not in root
    assert d.get("default") in d["api_roots"]
    roots = [urljoin(hub.base + "/taxii2/", x) for x in d["api_roots"]]
    assert hub.root in roots, roots


def test_api_root_shape(hub):
    r = hub.get(hub.root, "bank_reader")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == TAXII
    a = r.json()
    assert a["title"]
    assert TAXII in a["versions"]
    assert isinstance(a["max_content_length"], int) and a["max_content_length"] > 0


def test_collections_shape_and_order(hub):
    r = hub.get(hub.root + "collections/", "bank")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == TAXII
    cs = r.json()["collections"]
    for c in cs:
        assert UUID.match(c["id"]), c
        assert c["title"]
        assert isinstance(c["can_read"], bool) and isinstance(c["can_write"], bool)
        assert STIX in c.get("media_types", [STIX])
    # §3.3: the same order on every request
    again = hub.get(hub.root + "collections/", "bank").json()["collections"]
    assert [c["id"] for c in cs] == [c["id"] for c in again]
    # a collection the bank may neither read nor write is not listed
    ids = {c["id"] for c in cs}
    assert hub.colls["le-only"] not in ids
    assert hub.colls["open"] in ids and hub.colls["finance"] in ids


EXPECTED_RIGHTS = {
    # principal: {alias: (can_read, can_write)}
    "bank": {"open": (True, True), "finance": (True, True), "readonly": (True, False),
             "writeonly": (False, True), "isac": (True, True), "roles": (True, True)},
    "bank_reader": {"open": (True, False), "finance": (True, False), "readonly": (True, False),
                    "isac": (True, False), "roles": (True, False)},
    "telco": {"open": (True, True), "readonly": (True, False), "writeonly": (False, True),
              "roles": (True, True)},
    "telco_agent": {"open": (True, False), "readonly": (True, False)},
    "cert": {"open": (True, True), "finance": (True, True), "isac": (True, True),
             "roles": (True, True), "writeonly": (False, True), "readonly": (True, False)},
    "cert_coord": {"open": (True, True), "finance": (True, True), "isac": (True, True),
                   "writeonly": (False, True), "readonly": (True, False)},
    "police": {"open": (True, True), "le-only": (True, True), "roles": (True, True),
               "writeonly": (False, True), "readonly": (True, False)},
    "police_reader": {"open": (True, False), "le-only": (True, False), "roles": (True, False),
                      "readonly": (True, False)},
    "inet": {"open": (True, True), "roles": (True, True), "writeonly": (False, True),
             "readonly": (True, False)},
}


@pytest.mark.parametrize("who", sorted(EXPECTED_RIGHTS))
def test_can_read_can_write_per_principal(hub, who):
    want = EXPECTED_RIGHTS[who]
    listed = {c["id"]: c for c in hub.get(hub.root + "collections/", who).json().get("collections", [])}
    for alias, cid in hub.colls.items():
        if alias == "paging":
            continue
        rw = want.get(alias, (False, False))
        r = hub.get(hub.coll_url(alias), who)
        if rw == (False, False):
            assert cid not in listed, (who, alias)
            error_shape(r, 404)
            continue
        assert cid in listed, (who, alias, "a collection with some right must be listed")
        assert r.status_code == 200, (who, alias, r.status_code, r.text)
        c = r.json()
        assert (c["can_read"], c["can_write"]) == rw, (who, alias, c)
        assert (listed[cid]["can_read"], listed[cid]["can_write"]) == rw, (who, alias)
        assert c["id"] == cid and c.get("alias") == alias
        assert c["title"] == f"{alias} collection"
        assert c.get("description") == f"test {alias}"


def test_collection_by_alias(hub):
    r = hub.get(hub.root + "collections/open/", "bank")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == hub.colls["open"]


def test_unknown_and_forbidden_collection_indistinguishable(hub):
    unknown = "0b5e1b0e-7a9c-4c1e-9d53-6f0e2b7d1a44"
    a = hub.get(hub.root + f"collections/{unknown}/", "bank")
    b = hub.get(hub.coll_url("le-only"), "bank")
    ea, eb = error_shape(a, 404), error_shape(b, 404)
    # same body once the id the client itself sent is blanked out
    norm = lambda e, i: {k: (v.replace(i, "X") if isinstance(v, str) else v) for k, v in e.items()}
    assert norm(ea, unknown) == norm(eb, hub.colls["le-only"])
    for sub in ("objects/", "manifest/"):
        a = hub.get(hub.root + f"collections/{unknown}/" + sub, "bank")
        b = hub.get(hub.coll_url("le-only") + sub, "bank")
        ea, eb = error_shape(a, 404), error_shape(b, 404)
        assert norm(ea, unknown) == norm(eb, hub.colls["le-only"])


ENDPOINTS = [
    lambda h: h.base + "/taxii2/",
    lambda h: h.root,
    lambda h: h.root + "collections/",
    lambda h: h.coll_url("open"),
    lambda h: h.manifest_url("open"),
    lambda h: h.objects_url("open"),
]


@pytest.mark.parametrize("ep", range(len(ENDPOINTS)))
@pytest.mark.parametrize("accept,status", [
    ("application/taxii+json;version=2.1", 200),
    ("application/taxii+json", 200),
    ("application/taxii+json; version=2.1", 200),
    ("application/taxii+json;version=2.0", 406),
    ("text/html", 406),
    (None, 406),
])
def test_accept_variants(hub, ep, accept, status):
    r = hub.get(ENDPOINTS[ep](hub), "bank", accept=accept)
    assert r.headers.get("Content-Type") == TAXII, (accept, r.headers.get("Content-Type"))
    if status == 200:
        assert r.status_code == 200, (accept, r.status_code, r.text[:300])
    else:
        error_shape(r, status)


def test_errors_are_taxii_json_never_html(hub):
    for url in (hub.base + "/taxii2/nope/", hub.root + "nope/", hub.root + "nope",
                hub.root + "collections/not-a-uuid-or-alias/"):
        r = hub.get(url, "bank")
        error_shape(r, 404)
        assert "<html" not in r.text.lower()
    # outside /taxii2/ the daemon answers a JSON error too (any JSON type)
    r = hub.get(hub.base + "/nope", "bank")
    assert r.status_code == 404 and "json" in r.headers["Content-Type"]
    assert r.json()["http_status"] == "404"


def test_healthz_and_metrics(hub):
    r = hub.s.get(hub.base + "/healthz", timeout=10)
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "ok" and isinstance(h["log_position"], int)
    r = hub.s.get(hub.base + "/metrics", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE" in r.text


def test_no_user_agent_is_fine(hub):
    r = hub.s.get(hub.root, headers={**hub.headers("bank"), "User-Agent": None}, timeout=10)
    assert r.status_code == 200, r.text
