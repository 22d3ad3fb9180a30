"""Issue 9, point 9 on the command line: renaming and deleting
organisations and collections (and what becomes of their objects and
keys), keys that expire, ISO 3166-1 country codes, --json on every list,
and the global form `tocsin --data DIR COMMAND`. Every change is audited."""
import datetime
import json
import re

from conftest import bundle, ind_ip, run, summary, write_json

from test_registry import table


def audit(data):
    return [json.loads(l) for l in (data / "audit.log").read_text().splitlines()]


def verify(data):
    assert "chain intact" in run("audit", "verify", "--data", data, check_rc=0).stdout


def test_global_data_option(tmp_path):
    d = tmp_path / "hub"
    run("--data", d, "init", check_rc=0)
    ident = run("--data", d, "org", "add", "Bank", "-s", "finance", "-c", "DE",
                check_rc=0).stdout.strip()
    assert ident.startswith("identity--")
    assert table(run(f"--data={d}", "org", "list", check_rc=0).stdout)[1][0] == "Bank"
    # the command's own --data wins over the global one
    other = tmp_path / "other"
    run("init", "--data", other, check_rc=0)
    assert len(table(run("--data", d, "org", "list", "--data", other, check_rc=0).stdout)) == 1
    # and the global one wins over $TOCSIN_DATA
    assert len(table(run("--data", d, "org", "list", env={"TOCSIN_DATA": str(other)},
                         check_rc=0).stdout)) == 2
    p = run("--data", check_rc=2)
    assert "needs an argument" in p.stderr
    p = run("--data", d, check_rc=2)
    assert "missing command" in p.stderr
    p = run("--bogus", "org", "list", check_rc=2)
    assert "unknown option" in p.stderr
    assert "--data DIR" in run("--help", check_rc=0).stdout


def test_country_codes(data):
    for cc in ("XX", "UK", "EU", "AA", "ZZ", "QZ", "D1"):
        p = run("org", "add", "Org " + cc, "-s", "other", "-c", cc, "--data", data, check_rc=2)
        assert f"'{cc}'" in p.stderr and "ISO 3166-1" in p.stderr, p.stderr
    for cc in ("de", "GB", "XK", "ZW", "AX"):
        run("org", "add", "Org " + cc, "-s", "other", "-c", cc, "--data", data, check_rc=0)
    rows = table(run("org", "list", "--data", data).stdout)
    assert [r[2] for r in rows[1:]] == ["DE", "GB", "XK", "ZW", "AX"]


def test_lists_have_json(data):
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data, check_rc=0)
    key = run("key", "create", "Bank", "--role", "reader", "--name", "soc", "--data", data,
              check_rc=0).stdout.strip()
    cid = run("collection", "add", "feed", "--read", "org:Bank", "--write", "none",
              "--title", "Feed", "--description", "d", "--api-root", "trusted",
              "--data", data, check_rc=0).stdout.strip()
    orgs = json.loads(run("org", "list", "--json", "--data", data, check_rc=0).stdout)
    assert orgs[0]["name"] == "Bank" and orgs[0]["deleted"] is None
    keys = json.loads(run("key", "list", "--json", "--data", data, check_rc=0).stdout)
    assert keys == [{"key_id": key.split("_")[1], "org": "Bank", "role": "reader",
                     "cred": "key", "name": "soc", "created": keys[0]["created"],
                     "revoked": None, "expires": None, "expired": False}]
    assert key not in json.dumps(keys)
    cols = json.loads(run("collection", "list", "--json", "--data", data, check_rc=0).stdout)
    assert [c["alias"] for c in cols] == ["default", "feed"]
    assert cols[1] == {"id": cid, "alias": "feed", "title": "Feed", "description": "d",
                       "read": "org:Bank", "write": "none", "api_root": "trusted"}
    assert cols[0]["api_root"] is None
    for what in ("org", "key", "collection"):
        run(what, "list", "-j", "--data", data, check_rc=0)
    run("key", "revoke", "x", "--json", "--data", data, check_rc=2)


def test_key_expires(data):
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data, check_rc=0)
    k1 = run("key", "create", "Bank", "--role", "reader", "--expires", "90d", "--data", data,
             check_rc=0)
    assert "expires" in k1.stderr
    run("key", "create", "Bank", "--role", "reader", "--expires", "2099-01-01T00:00:00Z",
        "--data", data, check_rc=0)
    run("key", "create", "Bank", "--role", "reader", "--expires", "12h", "--data", data,
        check_rc=0)
    run("key", "create", "Bank", "--role", "reader", "--data", data, check_rc=0)
    rows = table(run("key", "list", "--data", data, check_rc=0).stdout)
    assert rows[0][-1] == "EXPIRES"
    now = datetime.datetime.now(datetime.timezone.utc)
    got = datetime.datetime.strptime(rows[1][7], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    assert abs((got - now) - datetime.timedelta(days=90)) < datetime.timedelta(minutes=5)
    assert rows[2][7] == "2099-01-01T00:00:00Z"
    assert rows[4][7] == "-"
    keys = json.loads(run("key", "list", "--json", "--data", data).stdout)
    assert keys[1]["expires"] == "2099-01-01T00:00:00Z" and keys[1]["expired"] is False
    assert keys[3]["expires"] is None
    for bad in ("2020-01-01T00:00:00Z", "0d", "-5d", "90", "90y", "d", "tomorrow", "99999d"):
        p = run("key", "create", "Bank", "--role", "reader", "--expires", bad, "--data", data,
                check_rc=2)
        assert "--expires" in p.stderr, (bad, p.stderr)
    assert len(table(run("key", "list", "--data", data).stdout)) == 5
    e = [x for x in audit(data) if x["action"] == "key.create"]
    assert "expires 2099-01-01T00:00:00Z" in e[1]["detail"]
    run("key", "list", "--expires", "1d", "--data", data, check_rc=2)


def test_org_rename(data, tmp_path):
    ident = run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data,
                check_rc=0).stdout.strip()
    run("collection", "add", "feed", "--read", "org:Bank,telecom", "--write", "bank",
        "--data", data, check_rc=0)
    obj = ind_ip("198.51.100.7")
    f = write_json(tmp_path / "f.json", bundle([obj]))
    assert summary(run("import", "--as", "Bank", "--collection", "feed", f, "--data", data,
                       check_rc=0).stdout) == (1, 0, 0)

    p = run("org", "rename", "bank", "Bank of Tocsin", "--data", data, check_rc=0)
    assert p.stdout.strip() == ident  # the identity is unchanged
    assert "unchanged" in p.stderr and "1 collection rights" in p.stderr
    orgs = json.loads(run("org", "list", "--json", "--data", data).stdout)
    assert [(o["name"], o["identity"]) for o in orgs] == [("Bank of Tocsin", ident)]
    # its objects are still its own, under its new name
    s = json.loads(run("show", "--json", obj["id"], "--data", data, check_rc=0).stdout)
    assert s["versions"][0]["producer"] == "Bank of Tocsin"
    assert s["versions"][0]["producer_identity"] == ident
    # the rights follow the rename
    rows = table(run("collection", "list", "--data", data).stdout)
    assert rows[2][3:5] == ["org:Bank of Tocsin,telecom", "org:Bank of Tocsin"]
    # the old name stays reserved (it derives the identity)
    p = run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data, check_rc=2)
    assert "reserved" in p.stderr and "Bank of Tocsin" in p.stderr
    # errors change nothing
    run("org", "add", "Telco", "-s", "telecom", "-c", "DE", "--data", data, check_rc=0)
    p = run("org", "rename", "telco", "bank of tocsin", "--data", data, check_rc=2)
    assert "already exists" in p.stderr
    run("org", "rename", "Nobody", "X", "--data", data, check_rc=2)
    run("org", "rename", "Telco", "--data", data, check_rc=2)
    run("org", "rename", "Telco", "a,b", "--data", data, check_rc=2)
    e = [x for x in audit(data) if x["action"] == "org.rename"]
    assert len(e) == 1 and e[0]["org"] == "Bank of Tocsin"
    assert "renamed from Bank" in e[0]["detail"] and ident in e[0]["detail"]
    verify(data)


def test_org_delete(data, tmp_path):
    ident = run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data,
                check_rc=0).stdout.strip()
    run("org", "add", "Telco", "-s", "telecom", "-c", "DE", "--data", data, check_rc=0)
    for _ in range(2):
        run("key", "create", "Bank", "--role", "contributor", "--data", data, check_rc=0)
    run("key", "create", "Telco", "--role", "reader", "--data", data, check_rc=0)
    obj = ind_ip("198.51.100.8")
    f = write_json(tmp_path / "f.json", bundle([obj]))
    run("import", "--as", "Bank", f, "--data", data, check_rc=0)

    p = run("org", "delete", "bank", "--data", data, check_rc=0)
    assert "2 keys revoked" in p.stdout and "1 objects stay" in p.stdout, p.stdout
    assert "reserved" in p.stdout
    # its keys are revoked, the other organisation's are not
    rows = table(run("key", "list", "--data", data).stdout)
    assert [(r[1], r[6] != "-") for r in rows[1:]] == [("Bank", True), ("Bank", True),
                                                       ("Telco", False)]
    # its objects stay, attributed to it
    s = json.loads(run("show", "--json", obj["id"], "--data", data, check_rc=0).stdout)
    assert s["versions"][0]["producer"] == "Bank"
    assert s["versions"][0]["producer_identity"] == ident
    # listed only with --all
    assert [r[0] for r in table(run("org", "list", "--data", data).stdout)[1:]] == ["Telco"]
    rows = table(run("org", "list", "--all", "--data", data).stdout)
    assert rows[0][-1] == "DELETED" and rows[1][0] == "Bank"
    assert re.match(r"\d{4}-\d\d-\d\dT", rows[1][5])
    orgs = json.loads(run("org", "list", "--json", "--all", "--data", data).stdout)
    assert orgs[0]["deleted"] and orgs[1]["deleted"] is None
    assert len(json.loads(run("org", "list", "--json", "--data", data).stdout)) == 1
    # nobody can take its name or identity; it gets no keys, groups or rights
    p = run("org", "add", "BANK", "-s", "finance", "-c", "DE", "--data", data, check_rc=2)
    assert "deleted" in p.stderr
    run("key", "create", "Bank", "--role", "reader", "--data", data, check_rc=2)
    run("org", "groups", "Bank", "x", "--data", data, check_rc=2)
    p = run("collection", "add", "c", "--read", "org:Bank", "--write", "none", "--data", data,
            check_rc=2)
    p = run("org", "delete", "Bank", "--data", data, check_rc=2)
    assert "already deleted" in p.stderr
    run("org", "delete", "Nobody", "--data", data, check_rc=2)
    e = [x for x in audit(data) if x["action"] == "org.delete"]
    assert len(e) == 1 and e[0]["org"] == "Bank" and "2 keys revoked" in e[0]["detail"]
    verify(data)


def test_collection_rename(data):
    cid = run("collection", "add", "feed", "--read", "all", "--write", "none", "--title",
              "Feed", "--data", data, check_rc=0).stdout.strip()
    p = run("collection", "rename", "feed", "intel", "--title", "Intel feed", "--data", data,
            check_rc=0)
    assert p.stdout.strip() == cid
    rows = table(run("collection", "list", "--data", data).stdout)
    assert rows[2][:5] == [cid, "intel", "Intel feed", "all", "none"]
    run("collection", "rename", "intel", "--description", "what it holds", "--data", data,
        check_rc=0)
    cols = json.loads(run("collection", "list", "--json", "--data", data).stdout)
    assert cols[1]["description"] == "what it holds" and cols[1]["title"] == "Intel feed"
    # the default collection keeps its alias; its title may change
    p = run("collection", "rename", "default", "other", "--data", data, check_rc=2)
    assert "default" in p.stderr
    run("collection", "rename", "default", "--title", "Everything", "--data", data,
        check_rc=0)
    assert table(run("collection", "list", "--data", data).stdout)[1][2] == "Everything"
    run("collection", "rename", "intel", "default", "--data", data, check_rc=2)
    run("collection", "rename", "nosuch", "x", "--data", data, check_rc=2)
    run("collection", "rename", "intel", "--data", data, check_rc=2)
    run("collection", "rename", "intel", "Bad Alias", "--data", data, check_rc=2)
    e = [x for x in audit(data) if x["action"] == "collection.rename"]
    assert len(e) == 3 and e[0]["collection"] == cid
    assert "alias feed renamed intel" in e[0]["detail"]
    verify(data)


def test_collection_delete(data, tmp_path):
    cid = run("collection", "add", "feed", "--read", "all", "--write", "none", "--data", data,
              check_rc=0).stdout.strip()
    empty = run("collection", "add", "empty", "--read", "all", "--write", "none", "--data",
                data, check_rc=0).stdout.strip()
    objs = [ind_ip("198.51.100.9"), ind_ip("198.51.100.10")]
    v2 = dict(objs[0], modified="2024-02-01T00:00:00.000Z")
    f = write_json(tmp_path / "f.json", bundle(objs + [v2]))
    assert summary(run("import", "--collection", "feed", f, "--data", data,
                       check_rc=0).stdout)[0] == 3
    assert "HIT" in run("match", "198.51.100.9", "--data", data).stdout

    # not empty: refused, nothing changed
    p = run("collection", "delete", "feed", "--data", data, check_rc=2)
    assert "2 objects" in p.stderr and "--force" in p.stderr
    assert len(table(run("collection", "list", "--data", data).stdout)) == 4
    run("show", objs[0]["id"], "--data", data, check_rc=0)

    p = run("collection", "delete", "feed", "--force", "--data", data, check_rc=0)
    assert "2 objects, 3 versions deleted as tombstones" in p.stdout, p.stdout
    rows = table(run("collection", "list", "--data", data).stdout)
    assert [r[1] for r in rows[1:]] == ["default", "empty"]
    assert json.loads(run("collection", "list", "--json", "--data", data).stdout)[1]["id"] \
        == empty
    # its objects are gone from every reader; the indicators match no more
    assert "no object" in run("show", objs[0]["id"], "--data", data, check_rc=1).stderr
    assert "miss" in run("match", "198.51.100.9", "--data", data).stdout
    # deleted: no rights to set, no second delete; the alias is free again
    run("collection", "rights", "feed", "--read", "all", "--write", "all", "--data", data,
        check_rc=2)
    run("collection", "delete", "feed", "--data", data, check_rc=2)
    run("collection", "delete", cid, "--data", data, check_rc=2)
    p = run("import", "--collection", cid, f, "--data", data, check_rc=2)
    assert "deleted" in p.stderr
    new = run("collection", "add", "feed", "--read", "all", "--write", "none", "--data", data,
              check_rc=0).stdout.strip()
    assert new != cid
    # empty: no --force needed; the default collection is never deleted
    run("collection", "delete", "empty", "--data", data, check_rc=0)
    p = run("collection", "delete", "default", "--force", "--data", data, check_rc=2)
    assert "default" in p.stderr
    e = [x for x in audit(data) if x["action"] == "collection.delete"]
    assert [x["collection"] for x in e] == [cid, empty]
    assert "2 objects, 3 versions" in e[0]["detail"]
    verify(data)
