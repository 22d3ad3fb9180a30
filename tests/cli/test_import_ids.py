"""Ids of imported indicators: nobody without the hub's id key can compute them (issue 9 point 5b).

The CSV and MISP importers used to derive an indicator's id from its value
alone (UUIDv5 in a namespace written in the source), so anyone could compute
the id of a hub's indicator for an address and ask the hub about it. They
now derive it under DATA/id.key: the same file imported again into the same
hub still finds its duplicates; another hub gives other ids.
"""
import json
import os
import shutil
import stat
import uuid
from pathlib import Path

from conftest import run, summary

SRC = Path(__file__).resolve().parents[2]
CSV = SRC / "tests" / "data" / "import" / "feed.csv"
EVENT = SRC / "tests" / "data" / "import" / "event.json"
# TOCSIN_UUID_NAMESPACE (lib/stix/stix_id.h): what ids were derived in before
OLD_NS = uuid.UUID("5c7d2b1e-3a4f-4e8b-9c61-2f0a7d9e4b13")


def ids_of(data):
    """The ids of every exported object, by type and name (allowlisted ones
    too: the feed holds documentation addresses)."""
    p = run("export", "--data", data, "--format", "stix", "--include-allowlisted",
            check_rc=0)
    # a card's name is its keyed hash, which differs from hub to hub
    return {(o["type"], o.get("name", "")): o["id"] for o in json.loads(p.stdout)["objects"]
            if o["type"] in ("indicator", "report") and not o.get("name", "").startswith("card ")}


def hub(tmp_path, name):
    d = tmp_path / name
    run("init", "--data", d, check_rc=0)
    return d


def test_same_csv_in_two_hubs_gets_other_ids_and_duplicates_at_home(tmp_path):
    a, b = hub(tmp_path, "a"), hub(tmp_path, "b")
    pa = run("import", "--data", a, "--format", "csv", CSV)
    pb = run("import", "--data", b, "--format", "csv", CSV)
    assert summary(pa.stdout) == summary(pb.stdout)
    imported = summary(pa.stdout)[0]
    assert imported >= 3, pa.stdout
    ia, ib = ids_of(a), ids_of(b)
    assert ia.keys() == ib.keys() and len(ia) >= 3
    for k in ia:
        assert ia[k] != ib[k], k
        # in the form of a random UUID (version 4), not a name-based one
        assert uuid.UUID(ia[k].split("--", 1)[1]).version == 4, ia[k]
    # not the value's old, computable id
    old = f"indicator--{uuid.uuid5(OLD_NS, 'ipv4:198.51.100.7')}"
    assert old not in ia.values() and old not in ib.values()
    # the same file into the same hub: all duplicates, nothing new
    again = run("import", "--data", a, "--format", "csv", CSV)
    assert summary(again.stdout) == (0, imported, summary(pa.stdout)[2]), again.stdout
    assert ids_of(a) == ia


def test_same_misp_event_in_two_hubs_gets_other_ids(tmp_path):
    a, b = hub(tmp_path, "a"), hub(tmp_path, "b")
    pa = run("import", "--data", a, "--format", "misp", EVENT)
    run("import", "--data", b, "--format", "misp", EVENT)
    ia, ib = ids_of(a), ids_of(b)
    assert any(t == "report" for t, _ in ia) and len(ia) >= 2
    assert all(ia[k] != ib[k] for k in ia)
    again = run("import", "--data", a, "--format", "misp", EVENT)
    assert summary(again.stdout)[:2] == (0, summary(pa.stdout)[0]), again.stdout


def test_id_key_made_by_init_and_for_an_older_hub(tmp_path):
    a = hub(tmp_path, "a")
    key = a / "id.key"
    assert key.stat().st_size == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    run("import", "--data", a, "--format", "csv", CSV)
    ia = ids_of(a)
    # the key is kept: a later run derives the same ids
    assert key.read_bytes() == before
    # a directory made before id.key existed gets one when opened
    old = tmp_path / "old"
    shutil.copytree(a, old)
    os.unlink(old / "id.key")
    run("stats", "--data", old, check_rc=0)
    assert (old / "id.key").stat().st_size == 32
    assert stat.S_IMODE((old / "id.key").stat().st_mode) == 0o600
    assert (old / "id.key").read_bytes() != before
    assert not [p for p in os.listdir(old) if p.endswith(".tmp")]
    # and its earlier imports stay; the file imported again gets new ids
    assert ids_of(old) == ia
