"""tocsin export: STIX (checked against the official STIX 2.1 schemas), CSV, plain."""
import csv
import io
import json
import os
import pathlib

import pytest

from conftest import bundle, ind_domain, ind_ip, ind_url, indicator, run, write_json

IP = ind_ip("185.220.101.7")
DOM = ind_domain("evil-c2.net")
URL = ind_url("http://evil-c2.net/login.php")
EXPIRED = indicator("[domain-name:value = 'expired-c2.net']",
                    valid_until="2024-06-01T00:00:00.000Z")
REVOKED = dict(ind_domain("revoked-c2.net"), revoked=True)
ALL = [IP, DOM, URL, EXPIRED, REVOKED]
CURRENT = {o["id"] for o in (IP, DOM, URL)}


@pytest.fixture
def hub(data, tmp_path):
    run("import", "--data", data, write_json(tmp_path / "feed.json", bundle(ALL)), check_rc=0)
    return data


def export(hub, *args, rc=0):
    return run("export", "--data", hub, *args, check_rc=rc)


def test_stix_bundle_of_current_indicators(hub):
    b = json.loads(export(hub, "--format", "stix").stdout)
    assert b["type"] == "bundle" and b["id"].startswith("bundle--")
    assert {o["id"] for o in b["objects"]} == CURRENT
    by_id = {o["id"]: o for o in b["objects"]}
    assert by_id[DOM["id"]]["pattern"] == DOM["pattern"], "objects are exported as stored"


def test_stix_kind_filter(hub):
    b = json.loads(export(hub, "--format", "stix", "--kind", "domain").stdout)
    assert {o["id"] for o in b["objects"]} == {DOM["id"]}


def test_stix_export_reimports_as_duplicates(hub, tmp_path):
    out = tmp_path / "out.json"
    export(hub, "--format", "stix", "-o", out)
    p = run("import", "--data", hub, out, check_rc=0)
    assert p.stdout.strip() == "imported 0, duplicates 3, rejected 0"
    assert run("validate", out, check_rc=0).stdout.strip() == "valid 3, invalid 0"


def schema_dir():
    env = os.environ.get("TOCSIN_STIX_SCHEMAS")
    if env:
        return pathlib.Path(env)
    src = os.environ.get("TOCSIN_SOURCE")
    if src:
        return pathlib.Path(src) / ".." / "shared" / "reference" / "stix2-json-schemas"
    return None


def test_stix_export_matches_official_schemas(hub):
    d = schema_dir()
    if d is None or not (d / "common" / "bundle.json").is_file():
        pytest.skip("STIX 2.1 JSON schemas not found: set TOCSIN_STIX_SCHEMAS "
                    "(or keep ../shared/reference/stix2-json-schemas beside the repository)")
    import jsonschema
    store = {}
    for f in d.rglob("*.json"):
        s = json.loads(f.read_text())
        if "$id" in s:
            store[s["$id"]] = s

    def validator(rel):
        s = json.loads((d / rel).read_text())
        cls = jsonschema.validators.validator_for(s)
        resolver = jsonschema.RefResolver(base_uri=s["$id"], referrer=s, store=store)
        return cls(s, resolver=resolver)

    b = json.loads(export(hub, "--format", "stix").stdout)
    errors = [e.message for e in validator("common/bundle.json").iter_errors(b)]
    assert errors == []
    # the bundle schema lets unknown objects through: check each by its type too
    ind = validator("sdos/indicator.json")
    for o in b["objects"]:
        assert o["type"] == "indicator"
        errors = [f"{list(e.path)}: {e.message}" for e in ind.iter_errors(o)]
        assert errors == [], o["id"]
    # and the schemas do bite: a broken copy is refused
    broken = dict(b["objects"][0], valid_from="yesterday")
    assert list(ind.iter_errors(broken))


def test_csv(hub):
    p = export(hub, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    got = {(r["value"], r["kind"], r["indicator_id"]) for r in rows}
    assert got == {("185.220.101.7", "ipv4", IP["id"]), ("evil-c2.net", "domain", DOM["id"]),
                   ("http://evil-c2.net/login.php", "url", URL["id"])}
    assert list(rows[0]) == ["value", "kind", "indicator_id", "valid_until", "tlp", "producer",
                            "key_id"]
    # issue 8: the effective level, never blank (these are unmarked: green)
    assert {r["tlp"] for r in rows} == {"green"}


def test_csv_tlp_follows_markings_and_default(data, tmp_path):
    import sqlite3
    red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    gran = ind_domain("gran.example")
    gran["granular_markings"] = [{"selectors": ["pattern"], "marking_ref": red}]
    plain = ind_domain("plain.example")
    f = write_json(tmp_path / "t.json", bundle([gran, plain]))
    run("import", "--data", data, f, check_rc=0)
    db = sqlite3.connect(f"{data}/tocsin.db")
    with db:  # what tocsind does at start with default_tlp = amber+strict
        db.execute("INSERT OR REPLACE INTO settings(key, value) "
                   "VALUES('default_tlp', 'amber+strict')")
    db.close()
    p = run("export", "--data", data, "--format", "csv", check_rc=0)
    rows = {r["value"]: r["tlp"] for r in csv.DictReader(io.StringIO(p.stdout))}
    assert rows == {"gran.example": "red", "plain.example": "amber+strict"}


def test_plain_with_kind_and_output_file(hub, tmp_path):
    p = export(hub, "--format", "plain")
    assert sorted(p.stdout.splitlines()) == sorted(
        ["185.220.101.7", "evil-c2.net", "http://evil-c2.net/login.php"])
    out = tmp_path / "blocked.txt"
    out.write_text("old contents\n")
    p = export(hub, "--format", "plain", "--kind", "domain", "-o", out)
    assert p.stdout == ""
    assert out.read_text() == "evil-c2.net\n"
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith("blocked.txt")] == \
        ["blocked.txt"], "no temporary file left behind"


def test_collection_filter(hub, tmp_path):
    p = export(hub, "--format", "plain", "--collection", "default")
    assert len(p.stdout.splitlines()) == 3
    p = run("export", "--data", hub, "--format", "plain", "--collection", "nosuch")
    assert p.returncode == 2 and "nosuch" in p.stderr


def test_unwritable_output_is_fatal(hub, tmp_path):
    p = run("export", "--data", hub, "--format", "plain", "-o", tmp_path / "no" / "dir" / "x")
    assert p.returncode == 2
    assert p.stderr.startswith("tocsin: ")


def test_empty_store(data):
    b = json.loads(run("export", "--data", data, "--format", "stix", check_rc=0).stdout)
    assert b["type"] == "bundle" and b.get("objects", []) == []
    assert run("export", "--data", data, "--format", "plain", check_rc=0).stdout == ""
