"""Helpers shared by the integration tests: a Hub handle that sends TAXII
requests with a principal's key, STIX object builders and the TLP marking
ids (TAXII-STIX.md §2)."""
import base64
import json
import re
import uuid
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
TS_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
NS = uuid.UUID("5e0f1c1a-9d7e-4a6b-8c3d-2f1e0a9b8c7d")
T0 = "2024-01-01T00:00:00.000Z"
POLICY_EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05"

TLP2 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1 = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
# marking id -> the TLP 2.0 level policy applies (TLP 1.0 WHITE = CLEAR).
TLP_LEVEL = {v: k for k, v in TLP2.items()}
TLP_LEVEL.update({TLP1["white"]: "clear", TLP1["green"]: "green", TLP1["amber"]: "amber",
                  TLP1["red"]: "red"})


PROV_EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c06"


def strip_prov(o):
    """o as its producer posted it: without the provenance the hub signs
    into every version it serves (docs/federation.md)."""
    o = dict(o)
    ext = dict(o.get("extensions", {}))
    ext.pop(PROV_EXT, None)
    if ext:
        o["extensions"] = ext
    else:
        o.pop("extensions", None)
    return o


def sid(kind, name):
    return f"{kind}--{uuid.uuid5(NS, name)}"


def obj_indicator(pattern, name, modified=T0, created=T0, markings=None, recipients=None,
                  **extra):
    o = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", name),
        "created": created,
        "modified": modified,
        "name": name,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": created,
    }
    if markings:
        o["object_marking_refs"] = list(markings)
    if recipients is not None:
        o["extensions"] = {POLICY_EXT: {"extension_type": "property-extension",
                                        "recipients": list(recipients)}}
    o.update(extra)
    return o


def basic(key, user="k"):
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


class Hub:
    def __init__(self, base, keys, identities, colls, orgs, principals, coll_specs, data=None,
                 daemon=None):
        self.base = base
        self.keys = keys
        self.identities = identities
        self.colls = colls
        self.orgs = orgs
        self.principals = principals
        self.coll_specs = coll_specs
        self.data = data
        self.daemon = daemon
        self.root = base + "/taxii2/hub/"
        self.s = requests.Session()
        # a kept-alive connection the hub closed as idle (header_timeout)
        # just as a request went out is retried, as HTTP clients do for
        # idempotent requests (RFC 9110 §9.2.2); never a POST
        retry = Retry(total=2, connect=2, read=2, status=0, redirect=0,
                      allowed_methods=frozenset({"GET", "HEAD"}), raise_on_status=False)
        self.s.mount("http://", HTTPAdapter(max_retries=retry))
        self.s.mount("https://", HTTPAdapter(max_retries=retry))

    # URLs
    def coll_url(self, alias):
        return f"{self.root}collections/{self.colls[alias]}/"

    def objects_url(self, alias):
        return self.coll_url(alias) + "objects/"

    def object_url(self, alias, oid):
        return self.coll_url(alias) + f"objects/{oid}/"

    def manifest_url(self, alias):
        return self.coll_url(alias) + "manifest/"

    def versions_url(self, alias, oid):
        return self.coll_url(alias) + f"objects/{oid}/versions/"

    # requests
    def headers(self, who, accept=TAXII, auth="basic", extra=None):
        h = {}
        if accept is not None:
            h["Accept"] = accept
        if who is not None:
            key = self.keys.get(who, who)
            if auth == "basic":
                h["Authorization"] = basic(key)
            elif auth == "bearer":
                h["Authorization"] = "Bearer " + key
            elif auth == "token":
                h["Authorization"] = "Token " + key
        if extra:
            h.update(extra)
        return h

    def get(self, url, who, params=None, **kw):
        if isinstance(params, dict):
            params = urlencode(params, safe=",:[]")
        return self.s.get(url if not params else url + "?" + params,
                          headers=self.headers(who, **kw), timeout=30)

    def delete(self, url, who, params=None, **kw):
        if isinstance(params, dict):
            params = urlencode(params, safe=",:[]")
        return self.s.delete(url if not params else url + "?" + params,
                             headers=self.headers(who, **kw), timeout=30)

    def post(self, alias, who, objects=None, body=None, content_type=TAXII, **kw):
        if body is None:
            body = json.dumps({"objects": objects})
        h = self.headers(who, **kw)
        if content_type is not None:
            h["Content-Type"] = content_type
        url = alias if alias.startswith("http") else self.objects_url(alias)
        return self.s.post(url, data=body, headers=h, timeout=60)

    def post_ok(self, alias, who, objects):
        """POSTs and asserts every object succeeded; returns the status."""
        r = self.post(alias, who, objects)
        assert r.status_code == 202, (r.status_code, r.text)
        st = r.json()
        assert st["status"] == "complete", st
        assert st["failure_count"] == 0, st
        assert st["success_count"] == len(objects), st
        return st

    def walk(self, url, who, params=None, limit=None, endpoint_key="objects"):
        """Follows next to the end; returns (items, pages)."""
        items, pages = [], []
        p = dict(params or {})
        if limit:
            p["limit"] = str(limit)
        nxt = None
        for _ in range(10000):
            q = dict(p)
            if nxt:
                q["next"] = nxt
            r = self.get(url, who, q)
            assert r.status_code == 200, (r.status_code, r.text)
            body = r.json()
            pages.append((r, body))
            items += body.get(endpoint_key, [])
            if not body.get("more"):
                break
            nxt = body.get("next")
            assert nxt, f"more=true without next: {body}"
        return items, pages


def error_shape(r, status):
    """Asserts r is a TAXII error resource with status; returns the body."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers.get("Content-Type") == TAXII, r.headers.get("Content-Type")
    body = r.json()
    assert isinstance(body.get("title"), str) and body["title"], body
    assert body.get("http_status") == str(status), body
    return body
