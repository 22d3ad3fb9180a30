"""Issue 8 points 5, 6 and 12 (show) on the command line: `tocsin import --as
ORG` produces objects as that organisation under its POST's rules, imports
refuse objects that name an organisation's identity they may not use, warn
when what they stored no organisation can read, and `tocsin show ID` prints
one object with its versions, producer, markings and collections."""
import json

from conftest import T0, bundle, ind_ip, run, summary, write_json

AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05"


def orgs(data):
    ids = {}
    for name, sector, groups in (("Bank", "finance", "fin"), ("Telco", "telecom", None)):
        args = ["org", "add", name, "-s", sector, "-c", "DE", "--data", data]
        if groups:
            args += ["-g", groups]
        ids[name] = run(*args, check_rc=0).stdout.strip()
    return ids


def audit(data):
    return [json.loads(l) for l in (data / "audit.log").read_text().splitlines()]


def test_import_as_org(data, tmp_path):
    ids = orgs(data)
    own = dict(ind_ip("185.220.101.1"), created_by_ref=ids["Bank"])
    plain = ind_ip("185.220.101.2")
    forged = dict(ind_ip("185.220.101.3"), created_by_ref=ids["Telco"])
    unknown = dict(ind_ip("185.220.101.4"),
                   created_by_ref="identity--00000000-0000-4000-8000-0000000000ee")
    f = write_json(tmp_path / "f.json", bundle([own, plain, forged, unknown]))
    p = run("import", "--as", "bank", "--data", data, f, check_rc=1)
    assert summary(p.stdout) == (2, 0, 2)
    assert "created_by_ref" in p.stderr and "'Telco'" in p.stderr, p.stderr
    assert "not the identity of 'Bank'" in p.stderr, p.stderr
    # produced by Bank: show says so, for every version
    s = json.loads(run("show", "--json", own["id"], "--data", data, check_rc=0).stdout)
    assert [v["producer"] for v in s["versions"]] == ["Bank"]
    assert s["versions"][0]["producer_identity"] == ids["Bank"]
    assert s["versions"][0]["key_id"] is None  # no key: the operator's CLI
    # the audit entry names the organisation
    e = [x for x in audit(data) if x["action"] == "import"]
    assert e[-1]["org"] == "Bank" and "imported 2" in e[-1]["detail"], e[-1]
    # only Bank versions Bank's object (STIX §3.6), as over TAXII
    v2 = dict(own, modified="2024-02-01T00:00:00.000Z", created_by_ref=ids["Telco"])
    p = run("import", "--as", "Telco", "--data", data,
            write_json(tmp_path / "g.json", bundle([dict(v2, created_by_ref=ids["Telco"])])),
            check_rc=1)
    assert "rejected 1" in p.stdout
    v2.pop("created_by_ref")
    p = run("import", "--as", "Telco", "--data", data, write_json(tmp_path / "h.json",
            bundle([v2])), check_rc=1)
    assert "only its producer may add versions" in p.stderr, p.stderr
    # an unknown organisation is a usage error, nothing stored
    p = run("import", "--as", "Nobody", "--data", data, f, check_rc=2)
    assert "no organisation 'Nobody'" in p.stderr


def test_import_without_as_may_not_name_an_organisation(data, tmp_path):
    ids = orgs(data)
    named = dict(ind_ip("185.220.101.5"), created_by_ref=ids["Bank"])
    feed = dict(ind_ip("185.220.101.6"),
                created_by_ref="identity--00000000-0000-4000-8000-0000000000ff")
    p = run("import", "--data", data, write_json(tmp_path / "f.json", bundle([named, feed])),
            check_rc=1)
    assert summary(p.stdout) == (1, 0, 1)
    assert "--as 'Bank'" in p.stderr, p.stderr
    s = json.loads(run("show", "--json", feed["id"], "--data", data, check_rc=0).stdout)
    assert s["versions"][0]["producer"] == "hub"


def test_warns_when_nobody_can_read(data, tmp_path):
    ids = orgs(data)
    green = ind_ip("185.220.101.10")
    # the default collection is readable by all after init: no warning
    p = run("import", "--data", data, write_json(tmp_path / "a.json", bundle([green])),
            check_rc=0)
    assert "warning" not in p.stderr, p.stderr
    # RED from the hub naming nobody: nobody reads it
    red = dict(ind_ip("185.220.101.11"), object_marking_refs=[RED])
    red_named = dict(ind_ip("185.220.101.12"), object_marking_refs=[RED],
                     extensions={EXT: {"extension_type": "property-extension",
                                       "recipients": [ids["Telco"]]}})
    amber = dict(ind_ip("185.220.101.13"), object_marking_refs=[AMBER])
    p = run("import", "--data", data,
            write_json(tmp_path / "b.json", bundle([red, red_named, amber])), check_rc=0)
    assert "warning: 1 imported objects can be read by no organisation" in p.stderr, p.stderr
    assert "TLP:RED" in p.stderr
    # a collection nobody may read: everything is unreadable, and said so
    run("collection", "add", "vault", "--read", "none", "--write", "none", "--data", data,
        check_rc=0)
    p = run("import", "--data", data, "--collection", "vault",
            write_json(tmp_path / "c.json", bundle([ind_ip("185.220.101.14"),
                                                    ind_ip("185.220.101.15")])), check_rc=0)
    assert "warning: 2 imported objects" in p.stderr, p.stderr
    assert "collection 'vault' is readable by nobody" in p.stderr
    assert "tocsin collection rights vault" in p.stderr
    # the producer reads its own RED: no warning with --as
    red_own = dict(ind_ip("185.220.101.16"), object_marking_refs=[RED])
    p = run("import", "--as", "Bank", "--data", data,
            write_json(tmp_path / "d.json", bundle([red_own])), check_rc=0)
    assert "warning" not in p.stderr, p.stderr
    out = json.loads(run("export", "--format", "stix", "--for", "Bank", "--data", data,
                         check_rc=0).stdout)
    assert red_own["id"] in {o["id"] for o in out["objects"]}


def test_show(data, tmp_path):
    ids = orgs(data)
    o = dict(ind_ip("185.220.101.20"), object_marking_refs=[AMBER])
    o2 = dict(o, modified="2024-03-01T00:00:00.000Z", revoked=True)
    run("import", "--as", "Bank", "--data", data, write_json(tmp_path / "a.json", bundle([o])),
        check_rc=0)
    run("collection", "add", "second", "--read", "all", "--write", "none", "--data", data,
        check_rc=0)
    run("import", "--as", "Bank", "--data", data, write_json(tmp_path / "b.json", bundle([o2])),
        check_rc=0)
    run("import", "--collection", "second", "--data", data,
        write_json(tmp_path / "c.json", bundle([ind_ip("185.220.101.20")])), check_rc=0)
    s = json.loads(run("show", "-j", o["id"], "--data", data, check_rc=0).stdout)
    assert s["id"] == o["id"] and s["type"] == "indicator"
    # the same id in the second collection, from the hub, unmarked
    assert s["collections"] == ["default", "second"]
    assert s["markings"] == [AMBER]  # of the current version (greatest modified)
    vs = s["versions"]
    assert [(v["collection"], v["version"]) for v in vs] == [
        ("default", T0), ("default", "2024-03-01T00:00:00.000Z"), ("second", T0)]
    assert [v["revoked"] for v in vs] == [False, True, False]
    assert [v["tlp"] for v in vs[:2]] == ["amber", "amber"]
    assert vs[0]["seq"] < vs[1]["seq"] < vs[2]["seq"]
    assert [v["producer"] for v in vs] == ["Bank", "Bank", "hub"]
    assert vs[0]["producer_identity"] == ids["Bank"] and "producer_identity" not in vs[2]
    assert [v["unmarked"] for v in vs] == [False, False, True]
    assert vs[2]["tlp"]  # the effective level, never blank
    assert vs[0]["date_added"].endswith("Z")
    # text: the same facts, one line a version
    p = run("show", o["id"], "--data", data, check_rc=0)
    assert "indicator" in p.stdout and "default, second" in p.stdout
    assert f"{AMBER} (TLP:amber)" in p.stdout
    lines = [l for l in p.stdout.splitlines() if l.strip().startswith("2024-")]
    assert len(lines) == 3, p.stdout
    assert "Bank" in lines[0] and " no " in lines[0] and " yes " in lines[1], p.stdout
    assert "hub" in lines[2] and "*" in lines[2], p.stdout
    # unknown id: exit 1, said on stderr; no id: usage
    p = run("show", "indicator--00000000-0000-4000-8000-000000000000", "--data", data,
            check_rc=1)
    assert "no object" in p.stderr and p.stdout == ""
    run("show", "--data", data, check_rc=2)
    run("show", "not-an-id", "--data", data, check_rc=2)


def test_match_names_the_producer(data, tmp_path):
    orgs(data)
    bank = ind_ip("185.220.101.30")
    hub = ind_ip("185.220.101.31")
    run("import", "--as", "Bank", "--data", data, write_json(tmp_path / "a.json",
        bundle([bank])), check_rc=0)
    run("import", "--data", data, write_json(tmp_path / "b.json", bundle([hub])), check_rc=0)
    p = run("match", "--data", data, "185.220.101.30", "185.220.101.31", check_rc=0)
    a, b = p.stdout.splitlines()
    assert a == f"185.220.101.30  HIT exact {bank['id']} TLP:GREEN (default) from Bank", a
    assert b == f"185.220.101.31  HIT exact {hub['id']} TLP:GREEN (default) from hub", b
    r = json.loads(run("match", "--json", "--data", data, "185.220.101.30", check_rc=0).stdout)
    assert r["hits"][0]["producer"] == "Bank" and r["hits"][0]["key_id"] is None


def test_exports_name_the_producer(data, tmp_path):
    ids = orgs(data)
    bank = dict(ind_ip("185.220.101.40"), created_by_ref=ids["Bank"])
    hub = ind_ip("185.220.101.41")
    run("import", "--as", "Bank", "--data", data, write_json(tmp_path / "a.json",
        bundle([bank])), check_rc=0)
    run("import", "--data", data, write_json(tmp_path / "b.json", bundle([hub])), check_rc=0)
    p = run("export", "--format", "csv", "--data", data, check_rc=0)
    rows = [l.split(",") for l in p.stdout.splitlines()]
    assert rows[0] == ["value", "kind", "indicator_id", "valid_until", "tlp", "producer",
                       "key_id"]
    by_value = {r[0]: r for r in rows[1:]}
    assert by_value["185.220.101.40"][5:] == ["Bank", ""]
    assert by_value["185.220.101.41"][5:] == ["hub", ""]
    # STIX: the objects as stored, then the identity of each producing
    # organisation, so created_by_ref resolves inside the bundle
    out = json.loads(run("export", "--format", "stix", "--data", data, check_rc=0).stdout)
    idents = [o for o in out["objects"] if o["type"] == "identity"]
    assert [(o["id"], o["name"], o["identity_class"]) for o in idents] == [
        (ids["Bank"], "Bank", "organization")]
    assert idents[0]["sectors"] == ["financial-services"]
    # (each version with the hub's signed provenance, docs/federation.md)
    PROV = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c06"
    posted = []
    for o in out["objects"]:
        o = dict(o)
        ext = {k: v for k, v in o.pop("extensions", {}).items() if k != PROV}
        if ext:
            o["extensions"] = ext
        posted.append(o)
    assert bank in posted and hub in posted
    # the export reads back: the attribution columns are not data
    p = run("import", "--data", data, "--format", "csv", "-", input=run(
        "export", "--format", "csv", "--data", data, check_rc=0).stdout, check_rc=0)
