"""Administrative writes reach the audit log (docs/audit.md): org, key and
collection changes, imports and exports for an organisation each append an
entry as "operator", never with a key's secret, and `tocsin audit verify`
holds after them."""
import json

from conftest import bundle, ind_ip, run, write_json

AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05"


def entries(data):
    path = data / "audit.log"
    if not path.exists():
        return []
    return [json.loads(l) for l in path.read_text().splitlines()]


def verify(data):
    p = run("audit", "verify", "--data", data, check_rc=0)
    assert "chain intact" in p.stdout, p.stdout
    return p


def test_registry_commands_are_audited(data):
    assert entries(data) == []
    run("org", "add", "Bank", "-s", "finance", "-c", "de", "-g", "fin", "--data", data,
        check_rc=0)
    run("org", "groups", "bank", "fin,eu", "--data", data, check_rc=0)
    key = run("key", "create", "Bank", "--role", "contributor", "--name", "soc",
              "--data", data, check_rc=0).stdout.strip()
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    col = run("collection", "add", "feed", "--read", "all", "--write", "org:Bank",
              "--data", data, check_rc=0).stdout.strip()
    run("collection", "rights", "feed", "--read", "sector:finance", "--write", "none",
        "--data", data, check_rc=0)
    run("key", "revoke", key_id, "--data", data, check_rc=0)

    e = entries(data)
    assert [x["action"] for x in e] == ["org.add", "org.groups", "key.create",
                                        "collection.add", "collection.rights", "key.revoke"]
    assert all(x["actor"] == "operator" for x in e)
    assert e[0]["org"] == "Bank" and "sector finance" in e[0]["detail"]
    assert e[1]["org"] == "Bank" and e[1]["detail"] == "groups eu,fin"
    assert e[2]["org"] == "Bank" and key_id in e[2]["detail"]
    assert "role contributor" in e[2]["detail"]
    assert e[3]["collection"] == col and "alias feed" in e[3]["detail"]
    assert e[4]["collection"] == col and "read sector:finance; write none" in e[4]["detail"]
    assert key_id in e[5]["detail"]
    # the secret is shown once, on stdout, and never written down
    log = (data / "audit.log").read_text()
    assert secret not in log and key not in log
    assert [x["n"] for x in e] == list(range(1, 7))
    verify(data)


def test_failed_change_is_not_audited(data):
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data, check_rc=0)
    run("org", "add", "BANK", "-s", "finance", "-c", "DE", "--data", data, check_rc=2)
    run("key", "create", "Nobody", "--role", "reader", "--data", data, check_rc=2)
    run("key", "revoke", "kaaaaaaaaaaa", "--data", data, check_rc=2)
    run("collection", "rights", "default", "--read", "org:nobody", "--write", "none",
        "--data", data, check_rc=2)
    assert [x["action"] for x in entries(data)] == ["org.add"]
    verify(data)


def test_damaged_log_stops_the_change(data):
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data, check_rc=0)
    log = data / "audit.log"
    log.write_text(log.read_text().replace('"Bank"', '"Bonk"'))
    p = run("org", "add", "Telco", "-s", "telecom", "-c", "DE", "--data", data, check_rc=2)
    assert "audit" in p.stderr
    rows = run("org", "list", "--data", data, check_rc=0).stdout
    assert "Telco" not in rows, "nothing changes when the log cannot be extended"


def test_import_is_audited_once_per_run(data, tmp_path):
    objs = [ind_ip(f"185.220.100.{i}") for i in range(1, 4)]
    bad = dict(ind_ip("185.220.100.9"), valid_until="2000-01-01T00:00:00Z")
    f1 = write_json(tmp_path / "a.json", bundle(objs))
    f2 = write_json(tmp_path / "b.json", bundle(objs[:1] + [bad]))
    run("import", "--data", data, f1, f2, check_rc=1)
    run("validate", f1, check_rc=0)  # no data directory, no entry
    e = entries(data)
    assert [x["action"] for x in e] == ["import"]
    assert e[0]["actor"] == "operator"
    assert e[0]["detail"].startswith("imported 3, duplicates 1, rejected 1; files ")
    assert "a.json" in e[0]["detail"] and "b.json" in e[0]["detail"]
    col = run("collection", "list", "--data", data, check_rc=0).stdout.splitlines()[1].split()[0]
    assert e[0]["collection"] == col
    # the log positions the import committed: what crash recovery counts
    assert e[0]["seqs"] == [[1, 3]]
    verify(data)


def test_import_recovers_versions_a_crash_left_unaudited(data, tmp_path):
    """A store holding versions no entry names (the process that committed
    them was killed before it wrote its entry): the next command that
    commits enters them as recovered, once, and the chain holds."""
    import sqlite3
    f1 = write_json(tmp_path / "a.json", bundle([ind_ip(f"198.51.100.{i}")
                                                 for i in range(1, 4)]))
    run("import", "--data", data, f1, check_rc=0)
    # As a kill -9 after the commit: the import's entry never written.
    # (Rebuild the log without it: the head starts over at a checkpoint
    # before the store's three versions.)
    for name in ("audit.log", "audit.head"):
        (data / name).unlink()
    con = sqlite3.connect(data / "tocsin.db")
    assert con.execute("SELECT count(*) FROM versions").fetchone()[0] == 3
    con.close()
    f2 = write_json(tmp_path / "b.json", bundle([ind_ip("198.51.100.7")]))
    p = run("import", "--data", data, f2, check_rc=0)
    assert "3 versions and 0 deletions committed before a crash but not audited" in p.stderr
    e = entries(data)
    assert [x["action"] for x in e] == ["write", "import"]
    assert e[0]["recovered"] is True and e[0]["seqs"] == [[1, 3]]
    assert len(e[0]["ids"]) == 3 and all("@" in i for i in e[0]["ids"])
    assert e[1]["seqs"] == [[4, 4]]
    p = run("import", "--data", data, f2, check_rc=0)  # nothing more to recover
    assert "recovered" not in p.stderr
    assert [x["action"] for x in entries(data)] == ["write", "import", "import"]
    verify(data)


def test_export_for_audits_amber_and_red_reads(data, tmp_path):
    bank = run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data,
               check_rc=0).stdout.strip()
    run("org", "add", "Other", "-s", "internet", "-c", "DE", "--data", data, check_rc=0)
    green = ind_ip("185.220.100.1")
    red = dict(ind_ip("185.220.100.2"), object_marking_refs=[RED],
               extensions={EXT: {"extension_type": "property-extension",
                                 "recipients": [bank]}})
    amber = dict(ind_ip("185.220.100.3"), object_marking_refs=[AMBER])  # the hub's: every reader
    run("import", "--data", data, write_json(tmp_path / "f.json", bundle([green, red, amber])),
        check_rc=0)
    run("collection", "rights", "default", "--read", "all", "--write", "none", "--data", data,
        check_rc=0)
    before = len(entries(data))

    out = json.loads(run("export", "--data", data, "--format", "stix", "--for", "bank",
                         check_rc=0).stdout)
    assert {o["id"] for o in out["objects"]} == {green["id"], red["id"], amber["id"]}
    run("export", "--data", data, "--format", "stix", "--for", "Other", check_rc=0)
    run("export", "--data", data, "--format", "stix", check_rc=0)  # the operator's own view

    e = entries(data)[before:]
    assert [x["action"] for x in e] == ["read", "read"]
    assert e[0]["org"] == "Bank" and e[0]["actor"] == "operator"
    assert sorted(e[0]["ids"]) == sorted([f"{red['id']}@{red['modified']}",
                                          f"{amber['id']}@{amber['modified']}"])
    assert e[1]["org"] == "Other" and e[1]["ids"] == [f"{amber['id']}@{amber['modified']}"]
    verify(data)
