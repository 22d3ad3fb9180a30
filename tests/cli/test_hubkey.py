"""tocsin init --hub-key-alg, tocsin hub-key show|rotate and tocsin verify
(docs/federation.md) as an operator uses them: the files, the id and the
fingerprint, usage errors that say what is expected, rotation keeping the
old key listed, and verify on an import's STIX export, on a changed copy,
on standard input and on something that is not STIX."""
import json

from conftest import bundle, ind_domain, run, write_json

PROV = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c06"


def test_init_chooses_the_algorithm(tmp_path):
    d = tmp_path / "g"
    run("init", "--hub-key-alg", "gost2012-256", "--data", d, check_rc=0)
    pub = (d / "hub.pub").read_text()
    assert pub.startswith("gost2012-256 ") and len(pub.split()[1]) == 128, pub
    assert (d / "hub.key").stat().st_mode & 0o777 == 0o600
    show = run("hub-key", "show", "--data", d, check_rc=0).stdout
    assert "algorithm:   gost2012-256" in show
    assert "fingerprint: SHA256:" in show
    p = run("init", "--hub-key-alg", "rsa", "--data", tmp_path / "r", check_rc=2)
    assert "--hub-key-alg rsa: expected ed25519 or gost2012-256" in p.stderr
    assert not (tmp_path / "r").exists()


def test_show_json_and_rotate(data):
    before = json.loads(run("hub-key", "show", "--json", "--data", data, check_rc=0).stdout)
    assert before["alg"] == "ed25519" and before["previous"] == []
    assert before["id"] == "ed25519:" + before["public_key"]
    assert (data / "hub.pub").read_text() == f"ed25519 {before['public_key']}\n"
    p = run("hub-key", "rotate", "--data", data, check_rc=0)
    assert before["id"] in p.stdout and "restart tocsind" in p.stdout
    after = json.loads(run("hub-key", "show", "--json", "--data", data, check_rc=0).stdout)
    assert after["alg"] == "ed25519" and after["id"] != before["id"]
    assert after["previous"] == [before["id"]]
    assert (data / "hub.pub.history").read_text() == f"ed25519 {before['public_key']}\n"
    p = run("hub-key", "rotate", "--alg", "dsa", "--data", data, check_rc=2)
    assert "expected ed25519 or gost2012-256" in p.stderr
    p = run("hub-key", "frobnicate", "--data", data, check_rc=2)
    assert "expected 'show' or 'rotate'" in p.stderr
    run("hub-key", "show", "--alg", "ed25519", "--data", data, check_rc=2)


def test_verify_an_export_and_a_changed_copy(data, tmp_path):
    f = write_json(tmp_path / "in.json", bundle([ind_domain("verify-a.example"),
                                                 ind_domain("verify-c.example")]))
    run("import", "--data", data, f, check_rc=0)
    out = run("export", "--format", "stix", "--data", data, check_rc=0).stdout
    objs = [o for o in json.loads(out)["objects"] if PROV in o.get("extensions", {})]
    assert len(objs) == 2, out
    hub_id = json.loads(run("hub-key", "show", "--json", "--data", data, check_rc=0).stdout)["id"]
    good = write_json(tmp_path / "good.json", {"objects": objs})
    p = run("verify", good, check_rc=0)
    assert p.stdout.count(f"verified, origin {hub_id} (leaf ") == 2, p.stdout
    assert p.stdout.endswith("verify: 2 of 2 objects verified\n")
    # standard input, one object, --json
    p = run("verify", "--json", "-", input=json.dumps(objs[0]), check_rc=0)
    line = json.loads(p.stdout)
    assert line == {"id": objs[0]["id"], "verified": True, "origin_hub": hub_id}
    # a changed copy
    bad = dict(objs[1], pattern=objs[1]["pattern"].replace("verify-a", "verify-b")
               .replace("verify-c", "verify-b"))
    p = run("verify", write_json(tmp_path / "bad.json", {"objects": [bad]}), check_rc=1)
    assert f"{bad['id']}: NOT VERIFIED: provenance: wrong proof" in p.stdout, p.stdout
    p = run("verify", "--json", write_json(tmp_path / "bad2.json", {"objects": [bad]}),
            check_rc=1)
    assert json.loads(p.stdout)["fault"] == "wrong proof"
    # not STIX at all, a missing file
    p = run("verify", write_json(tmp_path / "x.json", [1, 2]), check_rc=2)
    assert "neither a bundle, a TAXII envelope nor a STIX object" in p.stderr
    run("verify", tmp_path / "missing.json", check_rc=2)
