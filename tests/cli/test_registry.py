"""`tocsin org`, `tocsin key` and `tocsin collection` end to end: the fixed
output formats other tools read (an identity, a key text, a UUID, tables),
errors and exit codes, and that only a key's hash reaches registry.db."""
import base64
import hashlib
import re
import sqlite3
import uuid

from conftest import run

IDENTITY = re.compile(r"^identity--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$")
KEY = re.compile(r"^tcs_(k[a-z2-7]{11})_([A-Za-z0-9_-]{43})\n$")
ORG_NS = uuid.UUID("8d6f1c3a-2b7e-4f90-a5d4-3e1b9c7f0a62")


def table(stdout):
    """Splits an aligned table into rows of cells (two or more spaces apart)."""
    lines = stdout.splitlines()
    return [re.split(r"\s{2,}", l.rstrip()) for l in lines]


def test_org_add_prints_identity(data):
    p = run("org", "add", "ACME Bank", "--sector", "finance", "--country", "de",
            "--groups", "EU-Fin,shared", "--data", data, check_rc=0)
    assert IDENTITY.match(p.stdout), p.stdout
    # identity--UUIDv5(tocsin org namespace, lower-cased name)
    assert p.stdout.strip() == f"identity--{uuid.uuid5(ORG_NS, 'acme bank')}"
    run("org", "add", "Telco", "-s", "telecom", "-c", "FR", "--data", data, check_rc=0)
    rows = table(run("org", "list", "--data", data, check_rc=0).stdout)
    assert rows[0] == ["NAME", "SECTOR", "COUNTRY", "GROUPS", "IDENTITY"]
    assert rows[1] == ["ACME Bank", "finance", "DE", "eu-fin,shared", p.stdout.strip()]
    assert rows[2][:4] == ["Telco", "telecom", "FR", "-"]


def test_org_list_json(data):
    """Issue 8: `org list --json` gives every organisation's name and identity
    (and the rest of what the table shows) to tools."""
    import json
    bank = run("org", "add", "ACME Bank", "-s", "finance", "-c", "de", "-g", "b,a",
               "--data", data, check_rc=0).stdout.strip()
    run("org", "add", "Telco \"Q\"", "-s", "telecom", "-c", "FR", "--data", data, check_rc=0)
    p = run("org", "list", "--json", "--data", data, check_rc=0)
    orgs = json.loads(p.stdout)
    assert [o["name"] for o in orgs] == ["ACME Bank", 'Telco "Q"']
    assert orgs[0]["identity"] == bank
    assert orgs[0]["sector"] == "finance" and orgs[0]["country"] == "DE"
    assert orgs[0]["groups"] == ["a", "b"] and orgs[1]["groups"] == []
    assert orgs[1]["identity"] == "identity--" + str(uuid.uuid5(ORG_NS, "telco \"q\""))
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", orgs[0]["created"]), orgs[0]
    # an empty registry is an empty list, still JSON
    empty = data.parent / "empty"
    run("init", "--data", empty, check_rc=0)
    assert json.loads(run("org", "list", "-j", "--data", empty, check_rc=0).stdout) == []
    # --json belongs to list
    p = run("org", "add", "X", "-s", "cert", "-c", "DE", "--json", "--data", data, check_rc=2)
    assert "--json" in p.stderr


def test_org_errors(data):
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data, check_rc=0)
    p = run("org", "add", "BANK", "-s", "finance", "-c", "DE", "--data", data, check_rc=2)
    assert "already exists" in p.stderr and p.stdout == ""
    p = run("org", "add", "X", "-s", "banking", "-c", "DE", "--data", data, check_rc=2)
    assert "unknown sector 'banking'" in p.stderr and "law-enforcement" in p.stderr
    p = run("org", "add", "X", "-s", "cert", "-c", "DEU", "--data", data, check_rc=2)
    assert "country" in p.stderr
    p = run("org", "add", "X", "-c", "DE", "--data", data, check_rc=2)
    assert "--sector" in p.stderr
    p = run("org", "add", "a,b", "-s", "cert", "-c", "DE", "--data", data, check_rc=2)
    assert "','" in p.stderr
    p = run("org", "add", "X", "-s", "cert", "-c", "DE", "-g", "bad group", "--data", data,
            check_rc=2)
    assert "group" in p.stderr
    many = ",".join(f"g{i}" for i in range(33))
    p = run("org", "add", "X", "-s", "cert", "-c", "DE", "-g", many, "--data", data, check_rc=2)
    assert "more than 32" in p.stderr
    run("org", "frobnicate", "--data", data, check_rc=2)
    run("org", "--data", data, check_rc=2)
    p = run("org", "list", "--data", data.parent / "nowhere", check_rc=2)
    assert "not a tocsin data directory" in p.stderr


def test_org_groups(data):
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "-g", "a", "--data", data, check_rc=0)
    run("org", "groups", "bank", "zeta,Alpha", "--data", data, check_rc=0)
    assert table(run("org", "list", "--data", data).stdout)[1][3] == "alpha,zeta"
    run("org", "groups", "Bank", "", "--data", data, check_rc=0)
    assert table(run("org", "list", "--data", data).stdout)[1][3] == "-"
    p = run("org", "groups", "Nobody", "x", "--data", data, check_rc=2)
    assert "no organisation 'Nobody'" in p.stderr


def test_key_create_list_revoke(data):
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data, check_rc=0)
    p = run("key", "create", "bank", "--role", "contributor", "--name", "alice", "--data", data,
            check_rc=0)
    m = KEY.match(p.stdout)
    assert m, p.stdout
    key_id, secret = m.group(1), m.group(2)
    assert "shown once" in p.stderr and secret not in p.stderr
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32

    rows = table(run("key", "list", "--data", data, check_rc=0).stdout)
    assert rows[0] == ["KEY ID", "ORG", "ROLE", "CRED", "NAME", "CREATED", "REVOKED", "EXPIRES"]
    assert rows[1][:5] == [key_id, "Bank", "contributor", "key", "alice"]
    assert rows[1][6] == "-"
    out = run("key", "list", "--data", data).stdout
    assert secret not in out

    # only SHA-256 of the whole key text is stored
    key = p.stdout.strip()
    db = sqlite3.connect(data / "registry.db")
    (h,) = db.execute("SELECT hash FROM principals WHERE key_id = ?", (key_id,)).fetchone()
    db.close()
    assert h == hashlib.sha256(key.encode()).digest()
    for f in data.glob("registry.db*"):
        assert secret.encode() not in f.read_bytes()

    p = run("key", "revoke", key_id, "--data", data, check_rc=0)
    assert p.stdout == f"revoked {key_id}\n"
    rows = table(run("key", "list", "--data", data).stdout)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rows[1][6])
    run("key", "revoke", key_id, "--data", data, check_rc=0)  # twice is fine
    p = run("key", "revoke", "knosuchkey00", "--data", data, check_rc=2)
    assert "no key" in p.stderr


def test_key_errors(data):
    p = run("key", "create", "Nobody", "--role", "reader", "--data", data, check_rc=2)
    assert "no organisation 'Nobody'" in p.stderr and p.stdout == ""
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "--data", data, check_rc=0)
    p = run("key", "create", "Bank", "--role", "root", "--data", data, check_rc=2)
    assert "unknown role 'root'" in p.stderr and "coordinator" in p.stderr
    p = run("key", "create", "Bank", "--data", data, check_rc=2)
    assert "--role" in p.stderr
    run("key", "list", "--role", "reader", "--data", data, check_rc=2)


def test_key_cert(data, tmp_path):
    run("org", "add", "Peer Hub", "-s", "cert", "-c", "NL", "--data", data, check_rc=0)
    der = b"\x30\x82\x01\x00" + bytes(range(256))
    b64 = base64.b64encode(der).decode()
    pem = tmp_path / "peer.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n" +
                   "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) +
                   "\n-----END CERTIFICATE-----\n")
    p = run("key", "create", "peer hub", "--role", "peer", "--cert", pem, "--data", data,
            check_rc=0)
    assert re.match(r"^k[a-z2-7]{11}\n$", p.stdout), p.stdout
    key_id = p.stdout.strip()
    db = sqlite3.connect(data / "registry.db")
    (h,) = db.execute("SELECT hash FROM principals WHERE key_id = ?", (key_id,)).fetchone()
    db.close()
    assert h == hashlib.sha256(der).digest()
    assert table(run("key", "list", "--data", data).stdout)[1][3] == "cert"
    # the same certificate twice, in DER this time
    derf = tmp_path / "peer.der"
    derf.write_bytes(der)
    p = run("key", "create", "Peer Hub", "-r", "peer", "--cert", derf, "--data", data,
            check_rc=2)
    assert "already mapped" in p.stderr
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    p = run("key", "create", "Peer Hub", "-r", "peer", "--cert", bad, "--data", data, check_rc=2)
    assert "certificate" in p.stderr
    run("key", "create", "Peer Hub", "-r", "peer", "--cert", tmp_path / "none.pem",
        "--data", data, check_rc=2)


def test_collection_add_list_rights(data):
    run("org", "add", "Bank", "-s", "finance", "-c", "DE", "-g", "eu", "--data", data,
        check_rc=0)
    p = run("collection", "add", "intel", "--read", "finance,group:eu", "--write",
            "role:contributor", "--title", "Intel feed", "--data", data, check_rc=0)
    cid = p.stdout.strip()
    assert p.stdout == f"{uuid.UUID(cid)}\n"
    fixed = "8a1d0b1c-9f6e-4e2a-b7c3-5d4e3f2a1b0c"
    p = run("collection", "add", "fixed", "--read", "all", "--write", "none", "--id", fixed,
            "--data", data, check_rc=0)
    assert p.stdout == fixed + "\n"

    rows = table(run("collection", "list", "--data", data, check_rc=0).stdout)
    assert rows[0] == ["ID", "ALIAS", "TITLE", "READ", "WRITE", "API ROOT"]
    by_alias = {r[1]: r for r in rows[1:]}
    assert by_alias["default"][3:5] == ["all", "none"]  # tocsin init: read all, write none
    assert by_alias["intel"] == [cid, "intel", "Intel feed", "finance,group:eu",
                                 "role:contributor", "(default)"]
    assert by_alias["fixed"][0] == fixed and by_alias["fixed"][2] == "fixed"
    assert [r[1] for r in rows[1:]] == ["default", "intel", "fixed"]

    run("collection", "rights", "default", "--read", "all", "--write", "Bank", "--data", data,
        check_rc=0)
    rows = table(run("collection", "list", "--data", data).stdout)
    assert rows[1][3:5] == ["all", "Bank"]
    # the store sees the collection too
    s = run("stats", "--data", data, check_rc=0)
    assert s.returncode == 0


def test_collection_api_root(data):
    """A collection belongs to one API root: --api-root NAME, else the
    daemon's default root."""
    p = run("collection", "add", "partners", "--read", "all", "--write", "none",
            "--api-root", "trusted", "--data", data, check_rc=0)
    cid = p.stdout.strip()
    rows = table(run("collection", "list", "--data", data, check_rc=0).stdout)
    by_alias = {r[1]: r for r in rows[1:]}
    assert by_alias["partners"][0] == cid
    assert by_alias["partners"][5] == "trusted"
    assert by_alias["default"][5] == "(default)"
    # a name that cannot be a URL segment of /taxii2/NAME/ creates nothing
    for bad in ("Trusted", "a/b", "-x", "x" * 64):
        p = run("collection", "add", "other", "--read", "all", "--write", "none",
                "--api-root", bad, "--data", data, check_rc=2)
        assert "--api-root" in p.stderr and p.stdout == ""
    rows = table(run("collection", "list", "--data", data).stdout)
    assert [r[1] for r in rows[1:]] == ["default", "partners"]
    p = run("collection", "rights", "partners", "--read", "all", "--write", "all",
            "--api-root", "x", "--data", data, check_rc=2)
    assert "--api-root" in p.stderr


def test_collection_errors(data):
    p = run("collection", "add", "x", "--read", "nobody", "--write", "all", "--data", data,
            check_rc=2)
    assert "--read" in p.stderr and "'nobody'" in p.stderr
    p = run("collection", "add", "x", "--read", "all", "--write", "role:root", "--data", data,
            check_rc=2)
    assert "--write" in p.stderr
    # nothing was created by the failed adds
    rows = table(run("collection", "list", "--data", data).stdout)
    assert [r[1] for r in rows[1:]] == ["default"]
    p = run("collection", "add", "x", "--read", "all", "--data", data, check_rc=2)
    assert "--write" in p.stderr
    p = run("collection", "add", "default", "--read", "all", "--write", "all", "--data", data,
            check_rc=2)
    assert p.stdout == ""
    p = run("collection", "rights", "nosuch", "--read", "all", "--write", "all", "--data", data,
            check_rc=2)
    assert "no collection 'nosuch'" in p.stderr
    p = run("collection", "add", "y", "--read", "all", "--write", "all", "--id", "not-a-uuid",
            "--data", data, check_rc=2)
    assert p.stdout == ""


def test_help(tocsin):
    for cmd in ("org", "key", "collection"):
        p = run(cmd, "--help", check_rc=0)
        assert p.stdout.startswith(f"usage: tocsin {cmd} ")
        p = run(cmd, "list", "--help", check_rc=0)
        assert f"tocsin {cmd} list" in p.stdout
    p = run("--help", check_rc=0)
    for cmd in ("org", "key", "collection"):
        assert f"  {cmd} " in p.stdout


def test_data_env(tmp_path):
    d = tmp_path / "envdata"
    run("init", "--data", d, check_rc=0)
    assert (d / "registry.db").exists()
    p = run("org", "add", "Env Org", "-s", "other", "-c", "SE", env={"TOCSIN_DATA": str(d)},
            check_rc=0)
    assert IDENTITY.match(p.stdout)
    rows = table(run("org", "list", "--data", d).stdout)
    assert rows[1][0] == "Env Org"
