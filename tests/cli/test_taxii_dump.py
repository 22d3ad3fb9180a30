"""tocsin import --taxii-dump: moving a medallion server's data file in.

Collection ids are kept (checked through `tocsin export`), a second run
gives duplicates, object-level problems are reported with their place in
the file, and a malformed file is refused before anything is stored.
"""
import json
import re
from pathlib import Path

import pytest

from conftest import run, stats, summary

DUMPS = Path(__file__).resolve().parent.parent / "data" / "taxii-dump"

C_HV = "6c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e"
C_24 = "0f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c"
C_EMPTY = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"
C_HV2 = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"
C_M = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
C_R = "7f6e5d4c-3b2a-4190-8a7b-6c5d4e3f2a1b"


def collections(stdout):
    """{uuid: (verb, alias)} from the 'created/reused collection' lines."""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r"^(created|reused) collection ([0-9a-f-]{36}) (\S+) \(", line)
        if m:
            out[m.group(2)] = (m.group(1), m.group(3))
    return out


def export_ids(data, collection):
    p = run("export", "--data", data, "--format", "stix", "--collection", collection,
            check_rc=0)
    return {(o["id"], o.get("modified")) for o in json.loads(p.stdout)["objects"]}


def test_collections_keep_their_ids(data):
    p = run("import", "--data", data, "--taxii-dump", DUMPS / "medallion.json", check_rc=0)
    assert summary(p.stdout) == (11, 0, 0)
    assert "collections: created 4, reused 0" in p.stdout
    cols = collections(p.stdout)
    assert cols == {
        C_EMPTY: ("created", "finance-sector-empty"),
        C_HV2: ("created", "high-value-indicators"),
        C_HV: ("created", "high-value-indicators-2"),
        C_24: ("created", "indicators-from-the-past-24-hours"),
    }
    assert "tocsin collection rights" in p.stderr
    # the original ids name the collections; the aliases do too
    hv = export_ids(data, C_HV)
    assert ("malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", "2024-02-20T00:00:00.000Z") in hv
    assert ("identity--f431f809-377b-45e0-aa1c-6a4751cae5ff", "2024-01-10T09:00:00.000Z") in hv
    assert export_ids(data, "high-value-indicators-2") == hv
    # the indicator's latest version is the one exported from the 24-hours collection
    d24 = export_ids(data, C_24)
    assert ("indicator--2f6d5a3c-8b1e-4f7a-9c0d-3e4f5a6b7c8d", "2024-03-11T06:00:00.000Z") in d24
    assert ("indicator--2f6d5a3c-8b1e-4f7a-9c0d-3e4f5a6b7c8d", "2024-03-10T00:00:00.000Z") not in d24
    assert export_ids(data, C_EMPTY) == set()
    # every version is stored: IND1 has three
    assert stats(data)["versions"] == 11


def test_second_run_gives_duplicates(data):
    run("import", "--data", data, "--taxii-dump", DUMPS / "medallion.json", check_rc=0)
    p = run("import", "--data", data, "--taxii-dump", DUMPS / "medallion.json", check_rc=0)
    assert summary(p.stdout) == (0, 11, 0)
    assert "collections: created 0, reused 4" in p.stdout
    assert {v for v, _ in collections(p.stdout).values()} == {"reused"}
    assert "collection rights" not in p.stderr
    assert stats(data)["versions"] == 11


def test_newer_keyed_layout(data):
    p = run("import", "--data", data, "--taxii-dump", DUMPS / "medallion-keyed.json",
            check_rc=0)
    assert summary(p.stdout) == (4, 0, 0)
    assert set(collections(p.stdout)) == {C_M, "1e2d3c4b-5a69-4788-8a9b-0c1d2e3f4a5b"}
    got = export_ids(data, C_M)
    assert ("indicator--c0ffee00-1234-4abc-8def-0123456789ab", "2023-11-15T00:00:00.000Z") in got
    for line in export_lines(data, C_M):
        assert "__meta" not in line


def export_lines(data, collection):
    p = run("export", "--data", data, "--format", "stix", "--collection", collection,
            check_rc=0)
    return p.stdout.splitlines()


def test_rejected_objects_are_named_by_place(data):
    p = run("import", "--data", data, "--taxii-dump", DUMPS / "rejects.json", check_rc=1)
    # objects[3], a STIX 2.0 malware (no spec_version), is kept as 2.0
    assert summary(p.stdout) == (2, 0, 4)
    err = p.stderr
    for i in (0, 1, 2, 4):
        assert f"rejects.json: api1/collections/{C_R}/objects[{i}]: " in err, err
    assert f"objects[0]: not a JSON object" in err
    assert "objects[2]: modified: must not be earlier than created" in err
    assert "objects[3]" not in err
    assert "objects[5]" not in err


@pytest.mark.parametrize("name,msg", [
    ("bad-top-array.json", "top level must be an object"),
    ("bad-collection-id.json", "api1/collections[0]: id: not a UUID"),
    ("bad-manifest-date.json", "/manifest[0]: date_added: not a timestamp"),
    ("bad-dup-collection.json", "also in API root 'api1'"),
    ("bad-not-json.json", "line 1"),
    ("bad-objects.json", "objects: not an array"),
])
def test_malformed_file_imports_nothing(data, name, msg):
    before = stats(data)
    p = run("import", "--data", data, "--taxii-dump", DUMPS / name, check_rc=2)
    assert msg in p.stderr and name in p.stderr, p.stderr
    assert "nothing imported" in p.stderr
    assert "imported " not in p.stdout
    after = stats(data)
    assert (after["versions"], after["collections"]) == (before["versions"],
                                                         before["collections"])


def test_usage_errors(data, tmp_path):
    f = DUMPS / "medallion.json"
    run("import", "--data", data, "--taxii-dump", f, "--collection", "default", check_rc=2)
    run("import", "--data", data, "--taxii-dump", f, "--format", "stix", check_rc=2)
    run("import", "--data", data, "--taxii-dump", f, f, check_rc=2)
    p = run("import", "--data", data, "--taxii-dump", tmp_path / "missing.json", check_rc=2)
    assert "missing.json" in p.stderr
    p = run("import", "--data", tmp_path / "nohub", "--taxii-dump", f, check_rc=2)
    assert stats(data)["versions"] == 0


def test_api_roots_and_rights_kept(data):
    """Each collection stays in its API root, with medallion's rights
    (answered alike to every user) as `all`/`none`; statuses are kept."""
    p = run("import", "--data", data, "--taxii-dump", DUMPS / "medallion-roots.json",
            check_rc=0)
    assert "api roots: created 2, kept 0; rights from the file: 4 collections; statuses: 2" \
        in p.stdout
    rows = [re.split(r"\s{2,}", l.rstrip())
            for l in run("collection", "list", "--data", data, check_rc=0).stdout.splitlines()]
    got = {r[0]: (r[3], r[4], r[5]) for r in rows[1:]}
    assert got["11111111-2222-4333-8444-555555555555"] == ("all", "all", "api1")
    assert got["22222222-3333-4444-8555-666666666666"] == ("none", "all", "api1")
    assert got["33333333-4444-4555-8666-777777777777"] == ("all", "none", "trustgroup1")
    assert got["44444444-5555-4666-8777-888888888888"] == ("none", "none", "trustgroup1")
    # a second run keeps what the operator changed since
    run("collection", "rights", "11111111-2222-4333-8444-555555555555", "--read", "none",
        "--write", "none", "--data", data, check_rc=0)
    p = run("import", "--data", data, "--taxii-dump", DUMPS / "medallion-roots.json",
            check_rc=0)
    assert "api roots: created 0, kept 2; rights from the file: 0 collections" in p.stdout
    rows = [re.split(r"\s{2,}", l.rstrip())
            for l in run("collection", "list", "--data", data, check_rc=0).stdout.splitlines()]
    got = {r[0]: (r[3], r[4], r[5]) for r in rows[1:]}
    assert got["11111111-2222-4333-8444-555555555555"] == ("none", "none", "api1")


def test_bad_root_name_imports_nothing(data):
    p = run("import", "--data", data, "--taxii-dump", DUMPS / "bad-root-name.json", check_rc=2)
    assert "not usable as an API root name" in p.stderr


@pytest.mark.parametrize("field,value", [
    ("title", "High\nValue \u001b[31mIndicators"),
    ("description", "IOCs\u0007 from members"),
    ("root_title", "Trust \u001b]0;x\u0007group"),
])
def test_control_characters_refuse_the_file(data, tmp_path, field, value):
    """Issue 9 point 8: titles and descriptions are checked like
    organisation names; a file that holds a control character in one is
    refused with the place (nothing is stored, nothing is changed
    silently), and the message shows the place escaped."""
    d = json.loads((DUMPS / "medallion.json").read_text())
    if field == "root_title":
        d["trustgroup1"]["information"]["title"] = value
        place = "trustgroup1/information"
    else:
        d["trustgroup1"]["collections"][0][field] = value
        place = "trustgroup1/collections[0]"
    f = tmp_path / "ctl.json"
    f.write_text(json.dumps(d))
    before = stats(data)
    p = run("import", "--data", data, "--taxii-dump", f, check_rc=2)
    assert place in p.stderr and "control character" in p.stderr, p.stderr
    assert "nothing imported" in p.stderr
    assert "\x1b" not in p.stderr and "\x07" not in p.stderr
    assert stats(data)["collections"] == before["collections"]
