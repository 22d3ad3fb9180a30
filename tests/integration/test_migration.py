"""Moving from the OASIS reference server (issue 3 item 6): after
`tocsin import --taxii-dump` of a medallion data file, tocsind serves each
collection under its old id with each version's old date_added, so a
client's added_after cursor taken from medallion continues where it was.
Each collection stays under its medallion API root (/taxii2/api2/,
/taxii2/trustgroup1/), as a client that moves only the host expects."""
import json
import os
import pathlib

import pytest

from conftest import Daemon, tocsin
from hubutil import TLP_LEVEL, Hub

SRC = pathlib.Path(os.environ.get("TOCSIN_SOURCE", pathlib.Path(__file__).parents[2]))
DUMP = SRC / "tests" / "data" / "taxii-dump" / "medallion.json"


def level(o):
    lv = [TLP_LEVEL[m] for m in o.get("object_marking_refs", []) if m in TLP_LEVEL]
    order = ["clear", "green", "amber", "amber+strict", "red"]
    return max(lv, key=order.index) if lv else "green"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    if not DUMP.exists():
        pytest.skip(f"{DUMP} is not there (helper dump)")
    h = tocsin("import", "--help", check=False)
    if "--taxii-dump" not in h.stdout + h.stderr:
        pytest.skip("tocsin import --taxii-dump is not there yet (helper dump)")
    d = tmp_path_factory.mktemp("mig") / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "reader-org", "--sector", "other", "--country", "NO", "--data", d)
    key = tocsin("key", "create", "reader-org", "--role", "reader", "--data", d).stdout.strip()
    tocsin("import", "--data", d, "--taxii-dump", DUMP)
    dump = json.loads(DUMP.read_text())
    colls = {}
    for name, root in dump.items():
        if name.startswith("/"):
            continue
        for c in root.get("collections", []):
            tocsin("collection", "rights", c["id"], "--read", "all", "--write", "none", "--data", d)
            colls[c["id"]] = dict(c, api_root=name)
    daemon = Daemon(d)
    hub = Hub(f"http://{daemon.addr}", {"r": key}, {}, {i: i for i in colls}, {}, {}, {},
              data=d, daemon=daemon)
    yield hub, colls
    assert daemon.stop() == 0


def expected(c):
    """(id, version) -> date_added of the records a reader may see (the
    hub imported them: its AMBER reaches every reader of the collection,
    AMBER+STRICT and RED only named recipients)."""
    objs = {(o["id"], o.get("modified") or o.get("created")): o for o in c.get("objects", [])}
    out = {}
    for m in c.get("manifest", []):
        o = objs.get((m["id"], m["version"]))
        if o is None or level(o) in ("clear", "green", "amber"):
            out[(m["id"], m["version"])] = m["date_added"]
    return out


def manifest_url(hub, c):
    """The collection's manifest under its own API root."""
    return f"{hub.base}/taxii2/{c['api_root']}/collections/{c['id']}/manifest/"


def test_ids_and_date_added_preserved(migrated):
    hub, colls = migrated
    for root in {c["api_root"] for c in colls.values()}:
        listed = {c["id"] for c in hub.get(f"{hub.base}/taxii2/{root}/collections/", "r")
                  .json()["collections"]}
        assert listed == {cid for cid, c in colls.items() if c["api_root"] == root}
    assert sum(len(expected(c)) for c in colls.values()) >= 5, "the sample dump has records"
    for cid, c in colls.items():
        items, _ = hub.walk(manifest_url(hub, c), "r", {"match[version]": "all"}, limit=1000)
        got = {(m["id"], m["version"]): m["date_added"] for m in items}
        assert got == expected(c), (cid, got, expected(c))


def test_medallion_cursor_continues(migrated):
    hub, colls = migrated
    for cid, c in colls.items():
        exp = expected(c)
        for ts in sorted(set(exp.values())):
            r = hub.get(manifest_url(hub, c), "r", {"added_after": ts, "match[version]": "all"})
            got = {(m["id"], m["version"]) for m in r.json().get("objects", [])}
            assert got == {k for k, v in exp.items() if v > ts}, (cid, ts)
