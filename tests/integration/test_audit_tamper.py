"""The audit log of a real hub (issue 9, point 7): POSTs are audited with
the log positions they committed; a chain rebuilt by someone who can write
the files but not read hub.key is detected by `tocsin audit verify` and
refused by tocsind at start; an anchor taken from the running hub catches
a rewrite even by whoever holds the whole data directory."""
import hashlib
import json
import re
import subprocess

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import TOCSIND, Daemon, tocsin
from hubutil import obj_indicator, basic, TAXII

import requests


def make(tmp_path):
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "northbank", "--sector", "finance", "--country", "NO", "--data", d)
    key = tocsin("key", "create", "northbank", "--role", "contributor", "--data",
                 d).stdout.strip()
    coll = tocsin("collection", "add", "feed", "--read", "all", "--write", "all", "--data",
                  d).stdout.strip()
    return d, key, coll


def post(addr, key, coll, objs):
    r = requests.post(f"http://{addr}/taxii2/hub/collections/{coll}/objects/",
                      data=json.dumps({"objects": objs}),
                      headers={"Accept": TAXII, "Content-Type": TAXII,
                               "Authorization": basic(key)}, timeout=30)
    assert r.status_code == 202, r.text
    return r.json()


def rechain(lines, start, old, new):
    out, prev = [], "0" * 64
    for i, line in enumerate(lines, 1):
        if i >= start:
            if i == start:
                assert old in line
                line = line.replace(old, new, 1)
            line = re.sub(r'"prev":"[0-9a-f]{64}"', f'"prev":"{prev}"', line, count=1)
            body = line[:line.rindex(',"hash":"')] + "}"
            h = hashlib.sha256(body.encode()).hexdigest()
            line = body[:-1] + f',"hash":"{h}"}}'
        prev = json.loads(line)["hash"]
        out.append(line)
    return out, prev


def test_posts_are_audited_and_a_rewritten_chain_is_caught(tmp_path):
    d, key, coll = make(tmp_path)
    dm = Daemon(d)
    try:
        st = post(dm.addr, key, coll, [obj_indicator(f"[ipv4-addr:value = '203.0.113.{i}']",
                                                     f"tamper-{i}") for i in range(5)])
        assert st["success_count"] == 5
        anchor = tocsin("audit", "anchor", "--data", d).stdout
    finally:
        assert dm.stop() == 0
    lines = (d / "audit.log").read_text().splitlines()
    writes = [json.loads(l) for l in lines if '"action":"write"' in l]
    assert len(writes) == 1 and len(writes[0]["ids"]) == 5
    assert writes[0]["seqs"] == [[1, 5]]
    assert writes[0]["actor"] == key.split("_")[1]
    (tmp_path / "anchor.json").write_text(anchor)

    # someone who can write the files erases the POST's organisation from it
    n_write = next(i for i, l in enumerate(lines, 1) if '"action":"write"' in l)
    new, last = rechain(lines, n_write, '"org":"northbank"', '"org":"nobody"')
    (d / "audit.log").write_text("\n".join(new) + "\n")
    head = json.loads((d / "audit.head").read_text())
    head.update(n=len(new), hash=last)
    (d / "audit.head").write_text(json.dumps(head) + "\n")
    p = tocsin("audit", "verify", "--data", d, check=False)
    assert p.returncode == 1
    assert p.stdout.startswith(f"audit: entry 1: entries 1 to {len(new)} were rewritten "
                               "without the hub's key"), p.stdout
    # tocsind does not extend a log that was tampered with
    r = subprocess.run([TOCSIND, "--data", str(d), "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "audit" in r.stderr and "signature does not verify" in r.stderr

    # whoever holds the whole directory signs the rebuilt head with hub.key:
    # plain verify passes, the anchor kept elsewhere does not
    seed = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(
        (d / "hub.key").read_text().split()[1]))
    head["sig"] = seed.sign(f"tocsin audit entry {len(new)} hash {last}".encode()).hex()
    (d / "audit.head").write_text(json.dumps(head) + "\n")
    tocsin("audit", "verify", "--data", d)
    p = tocsin("audit", "verify", "--anchor", tmp_path / "anchor.json", "--data", d,
               check=False)
    assert p.returncode == 1
    assert re.match(r"audit: entry \d+: hash differs from the anchor's", p.stdout), p.stdout


def test_a_delete_records_the_position_of_its_tombstone(tmp_path):
    d, key, coll = make(tmp_path)
    dm = Daemon(d)
    try:
        o = obj_indicator("[ipv4-addr:value = '203.0.113.77']", "tamper-del")
        post(dm.addr, key, coll, [o])
        r = requests.delete(f"http://{dm.addr}/taxii2/hub/collections/{coll}/objects/{o['id']}/",
                            headers={"Accept": TAXII, "Authorization": basic(key)}, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        assert dm.stop() == 0
    es = [json.loads(l) for l in (d / "audit.log").read_text().splitlines()]
    w = [e for e in es if e["action"] == "write"]
    x = [e for e in es if e["action"] == "delete"]
    assert w[0]["seqs"] == [[1, 1]]
    assert x[0]["seqs"] == [[2, 2]] and x[0]["http_status"] == 200
    # a clean stop left nothing to recover: the next start says so
    dm = Daemon(d)
    assert dm.stop() == 0
    assert any("audit log complete" in l for l in dm.lines), dm.log()
    tocsin("audit", "verify", "--data", d)
