"""Authentication (TAXII 2.1 §1.6.9, PLAN3 "Authentication"): Basic with the
key as password (any user name), Bearer and Token; 401 with
WWW-Authenticate and a TAXII error resource without or with a bad
credential; a revoked key stops working after SIGHUP."""
import base64

import pytest

from conftest import tocsin
from hubutil import TAXII, basic, error_shape

PATHS = [
    "/taxii2/",
    "/taxii2/hub/",
    "/taxii2/hub/collections/",
    "COLL",
    "COLL/objects/",
    "COLL/manifest/",
    "COLL/objects/indicator--1d3c1b3a-4a5b-4c6d-8e7f-9a0b1c2d3e4f/",
    "COLL/objects/indicator--1d3c1b3a-4a5b-4c6d-8e7f-9a0b1c2d3e4f/versions/",
    "/taxii2/hub/status/6a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d/",
]


def url(hub, p):
    return hub.coll_url("open") + p[5:] if p.startswith("COLL") else hub.base + p


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("authz", [None, "Basic " + base64.b64encode(b"k:tcs_nope_nope").decode(),
                                   "Bearer tcs_kaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                   "Token garbage", "Basic !!!notbase64", "Basic " +
                                   base64.b64encode(b"no-colon").decode(), "Digest x=y"])
def test_401(hub, path, authz):
    h = {"Accept": TAXII}
    if authz:
        h["Authorization"] = authz
    r = hub.s.get(url(hub, path), headers=h, timeout=10)
    error_shape(r, 401)
    assert r.headers.get("WWW-Authenticate"), r.headers


def test_401_on_post_and_delete(hub):
    r = hub.s.post(hub.objects_url("open"), data='{"objects":[]}',
                   headers={"Accept": TAXII, "Content-Type": TAXII}, timeout=10)
    error_shape(r, 401)
    assert r.headers.get("WWW-Authenticate")
    r = hub.s.delete(url(hub, PATHS[6]), headers={"Accept": TAXII}, timeout=10)
    error_shape(r, 401)


def test_a_tampered_key_is_401(hub):
    k = hub.keys["bank"]
    bad = k[:-1] + ("A" if k[-1] != "A" else "B")
    error_shape(hub.get(hub.root, bad), 401)


@pytest.mark.parametrize("scheme", ["basic", "bearer", "token"])
def test_schemes_accepted(hub, scheme):
    r = hub.get(hub.root + "collections/", "bank", auth=scheme)
    assert r.status_code == 200, (scheme, r.status_code, r.text[:200])


@pytest.mark.parametrize("user", ["k", "", "anything at all", "kabcdefghijk"])
def test_basic_user_name_ignored(hub, user):
    h = {"Accept": TAXII, "Authorization": basic(hub.keys["cert"], user=user)}
    r = hub.s.get(hub.root, headers=h, timeout=10)
    assert r.status_code == 200, (user, r.status_code)


def test_revoked_key_after_sighup(fresh_hub):
    h = fresh_hub
    out = tocsin("key", "create", "searchly", "--role", "reader", "--data", h.data).stdout.strip()
    # not known until the daemon reloads
    h.daemon.proc.send_signal(__import__("signal").SIGHUP)
    import time
    for _ in range(50):
        if h.get(h.root, out).status_code == 200:
            break
        time.sleep(0.1)
    assert h.get(h.root, out).status_code == 200, "a new key works after SIGHUP"
    keyid = out.split("_")[1]
    tocsin("key", "revoke", keyid, "--data", h.data)
    h.daemon.proc.send_signal(__import__("signal").SIGHUP)
    for _ in range(50):
        if h.get(h.root, out).status_code == 401:
            break
        time.sleep(0.1)
    error_shape(h.get(h.root, out), 401)
    # `key list` never shows secrets
    lst = tocsin("key", "list", "--data", h.data).stdout
    for k in h.keys.values():
        assert k.split("_", 2)[2] not in lst
