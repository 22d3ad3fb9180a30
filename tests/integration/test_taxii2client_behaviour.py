"""What the reference client, taxii2client 2.3.0, checks (TAXII-STIX.md
§1.8). The package is not installable here, so this module re-implements
its checks and request habits and drives the hub the way it would:
Accept and Content-Type headers, the content-type token check with spaces
removed, the required fields of each resource, the collection id in its
URL, as_pages() sending limit with every next and lowering its page size,
and status polling at urljoin(collection_url, "../../status/<id>") + "/"."""
import json
import time
from urllib.parse import urljoin

import pytest
import requests

from hubutil import TAXII, basic, obj_indicator

UA = "taxii2-client/2.3.0"


class ClientError(Exception):
    pass


def valid_content_type(content_type, accept=TAXII):
    """taxii2client: every token of the Accept value must be in the response
    Content-Type, compared with spaces removed; the type must be TAXII."""
    ct = content_type.replace(" ", "").split(";")
    acc = accept.replace(" ", "").split(";")
    return ct[0] == "application/taxii+json" and all(t in ct for t in acc)


class Conn:
    def __init__(self, key, user="ignored"):
        self.s = requests.Session()
        self.s.auth = ("ignored", key)   # HTTP Basic, as Server(url, user=, password=)
        self.s.headers["User-Agent"] = UA

    def get(self, url, params=None):
        r = self.s.get(url, params=params, headers={"Accept": TAXII}, timeout=30)
        r.raise_for_status()
        if not valid_content_type(r.headers.get("Content-Type", "")):
            raise ClientError(f"Unexpected Response. Got Content-Type: '{r.headers.get('Content-Type')}'")
        return r.json(), r

    def post(self, url, body):
        r = self.s.post(url, data=body, headers={"Accept": TAXII, "Content-Type": TAXII}, timeout=60)
        r.raise_for_status()
        if not valid_content_type(r.headers.get("Content-Type", "")):
            raise ClientError("Unexpected Response Content-Type")
        return r.json()


def need(d, *fields, what):
    for f in fields:
        if f not in d:
            raise ClientError(f"No '{f}' in {what} Response")


def check_status(st):
    need(st, "id", "status", "total_count", "success_count", "failure_count", "pending_count",
         what="Status")
    if st["total_count"] != st["success_count"] + st["failure_count"] + st["pending_count"]:
        raise ClientError("status counts do not add up")
    for lst, cnt in (("successes", "success_count"), ("failures", "failure_count"),
                     ("pendings", "pending_count")):
        if len(st.get(lst, [])) != st[cnt]:
            raise ClientError(f"{lst} length differs from {cnt}")


class Server:
    def __init__(self, url, conn):
        d, _ = conn.get(url)
        need(d, "title", what="Discovery")
        self.title = d["title"]
        self.api_roots = [ApiRoot(urljoin(url, u), conn) for u in d.get("api_roots", [])]
        self.default = ApiRoot(urljoin(url, d["default"]), conn) if d.get("default") else None


class ApiRoot:
    def __init__(self, url, conn):
        if not url.endswith("/"):
            url += "/"
        self.url, self.conn = url, conn
        d, _ = conn.get(url)
        need(d, "title", "versions", "max_content_length", what="API Root")
        self.max_content_length = d["max_content_length"]

    def collections(self):
        d, _ = self.conn.get(self.url + "collections/")
        return [Collection(self.url + "collections/" + c["id"] + "/", self.conn, c)
                for c in d.get("collections", [])]


class Collection:
    def __init__(self, url, conn, info=None):
        self.url, self.conn = url, conn
        if info is None:
            info, _ = conn.get(url)
        need(info, "id", "title", "can_read", "can_write", what="Collection")
        if info["id"] not in url:
            raise ClientError("The collection '{}' does not match the url for queries '{}'"
                              .format(info["id"], url))
        self.id, self.can_read, self.can_write = info["id"], info["can_read"], info["can_write"]

    def _read(self):
        if not self.can_read:
            raise ClientError(f"Collection '{self.id}' does not allow reading.")

    def get_objects(self, **params):
        self._read()
        return self.conn.get(self.url + "objects/", self._q(params))

    def get_manifest(self, **params):
        self._read()
        return self.conn.get(self.url + "manifest/", self._q(params))

    @staticmethod
    def _q(params):
        q = {}
        for k, v in params.items():
            if k in ("limit", "next", "added_after"):
                q[k] = v
            else:
                q[f"match[{k}]"] = ",".join(v) if isinstance(v, (list, tuple)) else v
        return q

    def add_objects(self, envelope, wait_for_completion=True, poll_interval=1, timeout=60):
        if not self.can_write:
            raise ClientError(f"Collection '{self.id}' does not allow writing.")
        st = self.conn.post(self.url + "objects/", json.dumps(envelope))
        check_status(st)
        status_url = urljoin(self.url, "../../status/{}".format(st["id"])) + "/"
        end = time.monotonic() + timeout
        while wait_for_completion and st["status"] != "complete" and time.monotonic() < end:
            time.sleep(poll_interval)
            st, _ = self.conn.get(status_url)
            check_status(st)
        # the client refreshes once more by the same URL
        again, _ = self.conn.get(status_url)
        check_status(again)
        assert again["id"] == st["id"]
        return st


def as_pages(func, per_request, **kw):
    """taxii2client.v21.as_pages: limit goes with every request, next too;
    when the server returns fewer than asked while more=true, the page size
    drops to what the server gave."""
    sent = []
    env, r = func(limit=per_request, **kw)
    sent.append(r.request.url)
    yield env
    got = len(env.get("objects", []))
    if env.get("more", False) and got != per_request:
        per_request = got
    while env.get("more", False):
        env, r = func(limit=per_request, next=env.get("next", ""), **kw)
        sent.append(r.request.url)
        assert "limit=" in r.request.url and "next=" in r.request.url
        yield env


@pytest.fixture(scope="module")
def client(hub):
    conn = Conn(hub.keys["cert"])
    server = Server(hub.base + "/taxii2/", conn)
    return hub, conn, server


def test_server_and_api_root(client):
    hub, conn, server = client
    assert server.title
    assert server.default is not None
    assert any(a.url == hub.root for a in server.api_roots)


def test_collections_pass_client_checks(client):
    hub, conn, server = client
    root = next(a for a in server.api_roots if a.url == hub.root)
    cols = root.collections()
    assert cols
    for c in cols:
        Collection(c.url, conn)  # fetched alone it passes the checks as well
    ids = {c.id for c in cols}
    assert hub.colls["open"] in ids


def test_content_type_token_check(client):
    hub, conn, server = client
    for u in (hub.base + "/taxii2/", hub.root, hub.root + "collections/", hub.coll_url("open"),
              hub.objects_url("open"), hub.manifest_url("open")):
        r = conn.s.get(u, headers={"Accept": TAXII}, timeout=10)
        assert r.status_code == 200
        assert valid_content_type(r.headers["Content-Type"]), (u, r.headers["Content-Type"])
    assert not valid_content_type("application/taxii+json")  # what the client would refuse


def test_add_objects_and_poll_status(client):
    hub, conn, server = client
    col = Collection(hub.coll_url("open"), conn)
    assert col.can_write
    objs = [obj_indicator(f"[ipv4-addr:value = '100.64.7.{i}']", f"t2c-{i}") for i in range(4)]
    st = col.add_objects({"objects": objs})
    assert st["status"] == "complete" and st["success_count"] == 4


def test_as_pages_walk(client):
    hub, conn, server = client
    col = Collection(hub.coll_url("open"), conn)
    objs = [obj_indicator(f"[ipv4-addr:value = '100.64.8.{i}']", f"t2c-page-{i}") for i in range(9)]
    col.add_objects({"objects": objs})
    full, _ = hub.walk(hub.objects_url("open"), "cert", {"match[version]": "all"}, limit=1000)
    got = []
    for env in as_pages(col.get_objects, per_request=4, version="all"):
        got += env.get("objects", [])
    assert [(o["id"], o.get("modified")) for o in got] == \
        [(o["id"], o.get("modified")) for o in full]
    got = []
    for env in as_pages(col.get_manifest, per_request=5, version="all"):
        got += env.get("objects", [])
    assert len(got) == len(full)


def test_as_pages_with_a_page_size_over_the_cap(client):
    """A per_request larger than the server's cap: the client shrinks its
    page size to what the server returned and still gets everything."""
    hub, conn, server = client
    col = Collection(hub.coll_url("open"), conn)
    from conftest import MAX_PAGE
    for i in range(0, 2 * MAX_PAGE, 50):  # enough objects for more than one capped page
        col.add_objects({"objects": [obj_indicator(f"[ipv4-addr:value = '100.65.{j // 200}.{j % 200}']",
                                                   f"t2c-cap-{j}") for j in range(i, i + 50)]})
    full, _ = hub.walk(hub.objects_url("open"), "cert", {"match[version]": "all"}, limit=MAX_PAGE)
    assert len(full) > MAX_PAGE
    first, _ = col.get_objects(version="all", limit=100000)
    assert len(first["objects"]) == MAX_PAGE and first["more"] is True, "the server's cap"
    got = []
    for env in as_pages(col.get_objects, per_request=100000, version="all"):
        got += env.get("objects", [])
    assert [(o["id"], o["modified"]) for o in got] == [(o["id"], o["modified"]) for o in full]


def test_reader_cannot_write_client_side(hub):
    conn = Conn(hub.keys["bank_reader"])
    col = Collection(hub.coll_url("open"), conn)
    assert col.can_read and not col.can_write
    with pytest.raises(ClientError):
        col.add_objects({"objects": []})


def test_406_for_20_client(hub):
    r = requests.get(hub.root, headers={"Accept": "application/taxii+json;version=2.0",
                                        "Authorization": basic(hub.keys["cert"]), "User-Agent": UA},
                     timeout=10)
    with pytest.raises(requests.HTTPError):
        r.raise_for_status()
    assert r.status_code == 406
