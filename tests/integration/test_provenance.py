"""Signed provenance (issue 12, points 1-2; docs/federation.md) on a real
hub: every object version it serves carries the provenance extension, which
`tocsin verify` and an independent Python check (RFC 8785 + RFC 6962 +
Ed25519 from the cryptography package) accept; an object changed after
signing and a proof replayed onto another object are refused; a member
cannot post an object that carries a provenance; a GOST hub works end to
end; after `tocsin hub-key rotate` what was signed before still verifies."""
import copy
import hashlib
import json
import subprocess

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from conftest import TOCSIN, Daemon, tocsin
from hubutil import TAXII, basic, obj_indicator
from sseclient import Stream

PROV = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c06"


def make(tmp_path, alg=None):
    d = tmp_path / "var"
    tocsin("init", "--data", d, *(["--hub-key-alg", alg] if alg else []))
    tocsin("org", "add", "northbank", "--sector", "finance", "--country", "NO", "--data", d)
    tocsin("org", "add", "telenord", "--sector", "telecom", "--country", "NO", "--data", d)
    key = tocsin("key", "create", "northbank", "--role", "contributor", "--data",
                 d).stdout.strip()
    key2 = tocsin("key", "create", "telenord", "--role", "contributor", "--data",
                  d).stdout.strip()
    coll = tocsin("collection", "add", "feed", "--read", "all", "--write", "all", "--data",
                  d).stdout.strip()
    return d, key, key2, coll


def hdr(key):
    return {"Accept": TAXII, "Content-Type": TAXII, "Authorization": basic(key)}


def post(addr, key, coll, objs):
    r = requests.post(f"http://{addr}/taxii2/hub/collections/{coll}/objects/",
                      data=json.dumps({"objects": objs}), headers=hdr(key), timeout=30)
    assert r.status_code == 202, r.text
    return r.json()


def served(addr, key, coll):
    r = requests.get(f"http://{addr}/taxii2/hub/collections/{coll}/objects/", headers=hdr(key),
                     timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["objects"]


def objects3():
    return [
        obj_indicator("[ipv4-addr:value = '203.0.113.7']", "prov-a"),
        obj_indicator("[domain-name:value = 'prov-b.example']", "prov-b"),
        # an object with another extension: the provenance is added beside it
        obj_indicator("[domain-name:value = 'prov-c.example']", "prov-c", extensions={
            "extension-definition--3f2c6a1e-1d2b-4c5d-8e9f-0a1b2c3d4e5f": {
                "extension_type": "property-extension", "source": "sensor 7"}}),
    ]


def run_verify(tmp_path, objs, name="env.json"):
    f = tmp_path / name
    f.write_text(json.dumps({"objects": objs}))
    return subprocess.run([TOCSIN, "verify", str(f)], capture_output=True, text=True, timeout=60)


# ---- an independent check, in Python -----------------------------------

def jcs(v):
    # RFC 8785 for what these tests send: ASCII member names, no fractions
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def py_verify(obj):
    """Returns the origin hub id when obj's provenance holds, else raises."""
    ext = obj["extensions"][PROV]
    bare = copy.deepcopy(obj)
    del bare["extensions"][PROV]
    if not bare["extensions"]:
        del bare["extensions"]
    r = hashlib.sha256(b"\x00" + jcs(bare)).digest()
    fn, sn = ext["leaf_index"], ext["leaf_count"] - 1
    for p in ext.get("proof", []):  # none for a batch of one
        p = bytes.fromhex(p)
        assert sn != 0
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r.hex() != ext["root"]:
        raise ValueError("wrong proof")
    alg, pk = ext["origin_hub"].split(":")
    assert alg == "ed25519"
    msg = jcs({"alg": alg, "leaf_count": ext["leaf_count"], "origin_hub": ext["origin_hub"],
               "root": ext["root"], "signed_at": ext["signed_at"]})
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(pk)).verify(
        bytes.fromhex(ext["signature"]), msg)
    return ext["origin_hub"]


# ---- tests --------------------------------------------------------------

def test_served_objects_carry_a_provenance_that_verifies(tmp_path):
    d, key, _, coll = make(tmp_path)
    daemon = Daemon(d)
    try:
        post(daemon.addr, key, coll, objects3())
        objs = served(daemon.addr, key, coll)
        assert len(objs) == 3
        show = json.loads(tocsin("hub-key", "show", "--json", "--data", d).stdout)
        disc = requests.get(f"http://{daemon.addr}/taxii2/", headers=hdr(key), timeout=30).json()
        assert disc["x_tocsin_hub"] == {"alg": "ed25519", "public_key": show["public_key"],
                                        "id": show["id"]}
        for o in objs:
            ext = o["extensions"][PROV]
            assert ext["origin_hub"] == show["id"]
            assert ext["leaf_count"] == 3 and "hops" not in ext  # STIX lists are never empty
            assert py_verify(o) == show["id"]
        # the other extension is still there, untouched
        c = next(o for o in objs if o["name"] == "prov-c")
        assert len(c["extensions"]) == 2
        # one signature for the batch
        assert len({o["extensions"][PROV]["signature"] for o in objs}) == 1
        p = run_verify(tmp_path, objs)
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stdout.count(": verified, origin " + show["id"]) == 3
        assert "verify: 3 of 3 objects verified" in p.stdout
        # the stream's STIX view carries the same versions, provenance included
        s = Stream(daemon.addr, key, "view=stix&last_event_id=0")
        assert s.status == 200, s.body
        evs = [e for e in s.events(3, timeout=10, names={"version"})]
        s.close()
        assert sorted((e.json()["object"] for e in evs), key=lambda o: o["id"]) == \
            sorted(objs, key=lambda o: o["id"])
        # the single-object endpoint serves the same
        one = requests.get(f"http://{daemon.addr}/taxii2/hub/collections/{coll}/objects/"
                           f"{objs[0]['id']}/", headers=hdr(key), timeout=30).json()["objects"][0]
        assert one == objs[0]
        # the same object posted again, without the extension, is a duplicate
        st = post(daemon.addr, key, coll, objects3()[:1])
        assert st["success_count"] == 1 and st["failure_count"] == 0, st
        assert len(served(daemon.addr, key, coll)) == 3
    finally:
        assert daemon.stop() == 0


def test_tampered_and_replayed_objects_are_refused(tmp_path):
    d, key, _, coll = make(tmp_path)
    daemon = Daemon(d)
    try:
        post(daemon.addr, key, coll, objects3())
        objs = served(daemon.addr, key, coll)
    finally:
        assert daemon.stop() == 0
    a, b = objs[0], objs[1]
    tampered = copy.deepcopy(a)
    tampered["pattern"] = "[ipv4-addr:value = '203.0.113.8']"
    replayed = copy.deepcopy(a)
    replayed["extensions"][PROV] = copy.deepcopy(b["extensions"][PROV])
    forged = copy.deepcopy(a)
    forged["extensions"][PROV]["signed_at"] = "2030-01-01T00:00:00.000000Z"
    for bad, why in ((tampered, "wrong proof"), (replayed, "wrong proof"),
                     (forged, "bad signature")):
        p = run_verify(tmp_path, [bad, b])
        assert p.returncode == 1, p.stdout
        assert f"{bad['id']}: NOT VERIFIED: provenance: {why}" in p.stdout, p.stdout
        assert f"{b['id']}: verified" in p.stdout
        with pytest.raises((ValueError, InvalidSignature)):
            py_verify(bad)
    # without the extension at all
    bare = copy.deepcopy(a)
    del bare["extensions"]
    p = run_verify(tmp_path, [bare])
    assert p.returncode == 1 and "provenance: missing" in p.stdout, p.stdout


def test_a_member_cannot_post_another_hubs_provenance(tmp_path):
    """Only replication stores another hub's provenance; the hub's own, on an
    object posted back, is dropped (the version is a duplicate)."""
    d, key, key2, coll = make(tmp_path)
    daemon = Daemon(d)
    try:
        post(daemon.addr, key, coll, objects3()[:1])
        signed = served(daemon.addr, key, coll)[0]
        # telenord posts an object signed by another hub
        foreign = copy.deepcopy(signed)
        foreign["id"] = "indicator--1b1e4a9e-5d7c-4f0e-9a51-3c2d1e0f9a8b"
        foreign["extensions"][PROV]["origin_hub"] = "ed25519:" + "11" * 32
        st = post(daemon.addr, key2, coll, [foreign])
        assert st["failure_count"] == 1, st
        msg = st["failures"][0]["message"]
        assert "provenance extension" in msg and "only replication" in msg, msg
        # this hub's own signed object, posted back as it was served: a duplicate
        st = post(daemon.addr, key, coll, [signed])
        assert st["success_count"] == 1 and st["failure_count"] == 0, st
        assert served(daemon.addr, key, coll) == [signed]
    finally:
        assert daemon.stop() == 0


def test_a_gost_hub_signs_and_verifies_end_to_end(tmp_path):
    d, key, _, coll = make(tmp_path, alg="gost2012-256")
    daemon = Daemon(d)
    try:
        post(daemon.addr, key, coll, objects3())
        objs = served(daemon.addr, key, coll)
        disc = requests.get(f"http://{daemon.addr}/taxii2/", headers=hdr(key), timeout=30).json()
    finally:
        assert daemon.stop() == 0
    show = json.loads(tocsin("hub-key", "show", "--json", "--data", d).stdout)
    assert show["alg"] == "gost2012-256" and len(show["public_key"]) == 128
    assert disc["x_tocsin_hub"]["id"] == show["id"]
    assert all(o["extensions"][PROV]["origin_hub"] == show["id"] for o in objs)
    p = run_verify(tmp_path, objs)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("verified, origin gost2012-256:") == 3
    bad = copy.deepcopy(objs[0])
    bad["name"] = "changed"
    p = run_verify(tmp_path, [bad])
    assert p.returncode == 1 and "wrong proof" in p.stdout, p.stdout
    # the audit log's head is signed with the GOST key and verifies
    assert "chain intact" in tocsin("audit", "verify", "--data", d).stdout


def test_after_rotation_old_signatures_still_verify(tmp_path):
    d, key, _, coll = make(tmp_path)
    daemon = Daemon(d)
    try:
        post(daemon.addr, key, coll, objects3()[:1])
    finally:
        assert daemon.stop() == 0
    old = json.loads(tocsin("hub-key", "show", "--json", "--data", d).stdout)["id"]
    out = tocsin("hub-key", "rotate", "--alg", "gost2012-256", "--data", d).stdout
    assert old in out
    new = json.loads(tocsin("hub-key", "show", "--json", "--data", d).stdout)
    assert new["previous"] == [old] and new["alg"] == "gost2012-256"
    daemon = Daemon(d)  # the audit head signed with the old key is accepted
    try:
        post(daemon.addr, key, coll, objects3()[1:2])
        objs = served(daemon.addr, key, coll)
    finally:
        assert daemon.stop() == 0
    origins = sorted(o["extensions"][PROV]["origin_hub"] for o in objs)
    assert origins == sorted([old, new["id"]])
    # each was a batch of one: its leaf is the root, and STIX lists are never empty
    assert all(o["extensions"][PROV]["leaf_count"] == 1 and "proof" not in o["extensions"][PROV]
               for o in objs), objs
    p = run_verify(tmp_path, objs)
    assert p.returncode == 0, p.stdout
    assert "chain intact" in tocsin("audit", "verify", "--data", d).stdout
