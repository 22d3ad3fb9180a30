"""Issue 8 points 3, 4 and 7 against the real daemon, as organisations meet
them: markings the hub does not know, granular TLP:RED, TLP ids written in
upper case; the newest version a reader may see when a newer one is hidden
(two organisations, version 2 RED, version 1 GREEN, paged); the same id and
modified with other content, answered as a conflict only to a poster who
may see the stored copy."""
import json

import pytest

from conftest import COLLECTIONS, ORGS, PRINCIPALS, Daemon, build_data, tocsin
from hubutil import TLP2, Hub, obj_indicator, sid


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A hub of this module's own: its objects (a marking definition, RED
    versions over GREEN ones) must not change what the shared hub's tests
    count."""
    d = tmp_path_factory.mktemp("issue8") / "var"
    identities, keys, colls = build_data(d)
    daemon = Daemon(d)
    h = Hub(f"http://{daemon.addr}", keys, identities, colls, ORGS, PRINCIPALS, COLLECTIONS,
            data=d, daemon=daemon)
    yield h
    rc = daemon.stop()
    assert rc == 0, f"tocsind exit status {rc}; log:\n{daemon.log()[-4000:]}"

RED_UPPER = TLP2["red"].upper().replace("MARKING-DEFINITION", "marking-definition")
UNKNOWN = sid("marking-definition", "issue8-unknown")
STATEMENT = sid("marking-definition", "issue8-statement")


def statement(mid):
    return {"type": "marking-definition", "spec_version": "2.1", "id": mid,
            "created": "2020-01-01T00:00:00.000Z", "definition_type": "statement",
            "definition": {"statement": "Copyright issue 8"}}


def ids_seen(hub, who, alias, params=None):
    r = hub.get(hub.objects_url(alias), who, params or {"match[version]": "all"})
    assert r.status_code == 200, r.text
    return {(o["id"], o.get("modified")) for o in r.json().get("objects", [])}


# ---- point 3: markings --------------------------------------------------

def test_unknown_marking_counts_as_red(hub):
    o = obj_indicator("[ipv4-addr:value = '192.0.2.81']", "i8-unknown", markings=[UNKNOWN])
    hub.post_ok("open", "bank", [o])
    assert (o["id"], o["modified"]) not in ids_seen(hub, "telco", "open")
    # RED semantics: a named recipient sees it
    o2 = obj_indicator("[ipv4-addr:value = '192.0.2.82']", "i8-unknown-named", markings=[UNKNOWN],
                       recipients=[hub.identities["telenord"]])
    hub.post_ok("open", "bank", [o2])
    assert (o2["id"], o2["modified"]) in ids_seen(hub, "telco", "open")
    assert (o2["id"], o2["modified"]) not in ids_seen(hub, "inet", "open")


def test_known_statement_marking_restricts_nothing(hub):
    hub.post_ok("open", "cert", [statement(STATEMENT)])
    o = obj_indicator("[ipv4-addr:value = '192.0.2.83']", "i8-statement", markings=[STATEMENT])
    hub.post_ok("open", "bank", [o])
    # unmarked: the default (green) applies, every reader of the collection sees it
    assert (o["id"], o["modified"]) in ids_seen(hub, "inet", "open")


def test_granular_red_hides_the_whole_object(hub):
    o = obj_indicator("[ipv4-addr:value = '192.0.2.84']", "i8-granular",
                      markings=[TLP2["green"]],
                      granular_markings=[{"selectors": ["pattern"], "marking_ref": TLP2["red"]}])
    hub.post_ok("open", "bank", [o])
    for who in ("telco", "inet"):
        assert (o["id"], o["modified"]) not in ids_seen(hub, who, "open"), who
    # the producer's organisation always reads its own versions, RED included
    assert (o["id"], o["modified"]) in ids_seen(hub, "bank_reader", "open")
    r = hub.get(hub.object_url("open", o["id"]), "telco")
    assert r.status_code == 404, r.text


def test_upper_case_tlp_id_is_refused_with_the_reason(hub):
    o = obj_indicator("[ipv4-addr:value = '192.0.2.85']", "i8-upper", markings=[RED_UPPER])
    r = hub.post("open", "bank", [o])
    assert r.status_code == 202, r.text
    st = r.json()
    assert st["failure_count"] == 1, st
    assert "lower case" in st["failures"][0]["message"], st
    # nothing was stored for anyone to read as unmarked
    assert (o["id"], o["modified"]) not in ids_seen(hub, "telco", "open")


def test_upper_case_ids_in_urls_and_filters(hub):
    o = obj_indicator("[ipv4-addr:value = '192.0.2.86']", "i8-url")
    hub.post_ok("open", "bank", [o])
    up = o["id"].split("--")[0] + "--" + o["id"].split("--")[1].upper()
    r = hub.get(hub.object_url("open", up), "bank")
    assert r.status_code == 404, r.text
    r = hub.get(hub.objects_url("open"), "bank", {"match[id]": up})
    assert r.status_code == 400, r.text
    assert "match[id]" in r.text


# ---- point 4: the newest version a reader may see ----------------------

def test_newest_visible_version_when_the_newest_is_red(hub):
    """Two organisations: northbank posts v1 GREEN and v2 RED (naming only
    itself); telenord must get v1 from objects/, object/ and manifest (last
    and first), northbank v2; paging stays exact."""
    me = hub.identities["northbank"]
    objs = []
    for i in range(7):
        v1 = obj_indicator(f"[ipv4-addr:value = '192.0.2.{100 + i}']", f"i8-v-{i}",
                           markings=[TLP2["green"]])
        v2 = dict(v1, modified="2024-06-01T00:00:00.000Z", object_marking_refs=[TLP2["red"]])
        v2["extensions"] = {"extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05":
                            {"extension_type": "property-extension", "recipients": [me]}}
        objs.append((v1, v2))
    hub.post_ok("paging", "bank", [v1 for v1, _ in objs])
    hub.post_ok("paging", "bank", [v2 for _, v2 in objs])
    ids = {v1["id"] for v1, _ in objs}
    for who, want in (("telco", "2024-01-01T00:00:00.000Z"), ("bank", "2024-06-01T00:00:00.000Z")):
        r = hub.get(hub.objects_url("paging"), who, {"match[id]": ",".join(sorted(ids))})
        got = {o["id"]: o["modified"] for o in r.json().get("objects", [])}
        assert got == {i: want for i in ids}, (who, got)
        # the same through small pages: no duplicate, no gap
        items, pages = hub.walk(hub.objects_url("paging"), who,
                                {"match[id]": ",".join(sorted(ids))}, limit=2)
        assert len(items) == len(ids), (who, [o["id"] for o in items])
        assert {o["id"]: o["modified"] for o in items} == {i: want for i in ids}, who
        assert len(pages) >= 4
        for _, body in pages:
            assert len(body.get("objects", [])) <= 2
        # manifest, and one object's endpoint
        items, _ = hub.walk(hub.manifest_url("paging"), who,
                            {"match[id]": ",".join(sorted(ids))}, limit=3)
        assert {x["id"]: x["version"] for x in items} == {i: want for i in ids}, who
        one = sorted(ids)[0]
        r = hub.get(hub.object_url("paging", one), who)
        assert r.status_code == 200, r.text
        assert [o["modified"] for o in r.json()["objects"]] == [want], who
    # first: the oldest visible (v1 for both)
    r = hub.get(hub.objects_url("paging"), "telco",
                {"match[id]": ",".join(sorted(ids)), "match[version]": "first"})
    assert {o["modified"] for o in r.json()["objects"]} == {"2024-01-01T00:00:00.000Z"}


def test_oldest_visible_version_when_the_first_is_red(hub):
    me = hub.identities["northbank"]
    v1 = obj_indicator("[ipv4-addr:value = '192.0.2.120']", "i8-first-red",
                       markings=[TLP2["red"]])
    v1["extensions"] = {"extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05":
                        {"extension_type": "property-extension", "recipients": [me]}}
    v2 = obj_indicator("[ipv4-addr:value = '192.0.2.120']", "i8-first-red",
                       modified="2024-03-01T00:00:00.000Z", markings=[TLP2["green"]])
    hub.post_ok("paging", "bank", [v1])
    hub.post_ok("paging", "bank", [v2])
    r = hub.get(hub.objects_url("paging"), "telco",
                {"match[id]": v1["id"], "match[version]": "first"})
    assert [o["modified"] for o in r.json()["objects"]] == ["2024-03-01T00:00:00.000Z"]
    r = hub.get(hub.objects_url("paging"), "bank",
                {"match[id]": v1["id"], "match[version]": "first"})
    assert [o["modified"] for o in r.json()["objects"]] == ["2024-01-01T00:00:00.000Z"]


# ---- point 7: conflicts ---------------------------------------------------

def test_same_id_and_modified_other_content_is_a_conflict(hub):
    o = obj_indicator("[ipv4-addr:value = '192.0.2.130']", "i8-conflict")
    hub.post_ok("open", "bank", [o])
    # the same object, keys in another order: a duplicate, still a success
    body = json.dumps({"objects": [dict(reversed(list(o.items())))]})
    r = hub.post("open", "bank", body=body)
    st = r.json()
    assert st["success_count"] == 1 and st["failure_count"] == 0, st
    assert "duplicate" in st["successes"][0].get("message", ""), st
    # other content under the same id and modified: a failure with the reason
    changed = dict(o, description="changed")
    r = hub.post("open", "bank", [changed])
    st = r.json()
    assert st["failure_count"] == 1 and st["success_count"] == 0, st
    assert st["failures"][0]["message"].endswith(
        "conflict: a different version with the same id and modified is already stored"), st
    # the stored version is unchanged
    r = hub.get(hub.object_url("open", o["id"]), "bank")
    assert "description" not in r.json()["objects"][0]


def test_conflict_with_a_hidden_copy_tells_nothing(hub):
    """telenord may not see northbank's RED object: reposting its id and
    modified, with other content or the same, must be answered as for a
    new object (issue 9 point 5), and the stored object stays as it was."""
    o = obj_indicator("[ipv4-addr:value = '185.220.105.131']", "i8-hidden", markings=[TLP2["red"]],
                      recipients=[hub.identities["northbank"]])
    hub.post_ok("open", "bank", [o])
    fresh = obj_indicator("[ipv4-addr:value = '185.220.105.132']", "i8-hidden-fresh")
    answers = []
    for obj in (dict(o, description="guess"), o, fresh):
        r = hub.post("open", "telco", [obj])
        st = r.json()
        answers.append((st["success_count"], st["failure_count"],
                        [d.get("message") for d in st.get("successes", [])]))
    assert answers[0] == answers[2] and answers[1] == answers[2], answers
    r = hub.get(hub.object_url("open", o["id"]), "bank")
    assert [x.get("description") for x in r.json()["objects"]] == [None]
    # the operator's audit log says what really happened
    entries = [json.loads(l) for l in (hub.data / "audit.log").read_text().splitlines()]
    writes = [e for e in entries if e.get("action") == "write" and "not kept" in e.get("detail", "")]
    assert len(writes) == 2, [e.get("detail") for e in entries[-5:]]
    assert all("1 not kept (a stored version the poster may not see)" in e["detail"]
               for e in writes)


def test_cli_import_conflict_is_a_rejection(hub, tmp_path):
    o = obj_indicator("[ipv4-addr:value = '192.0.2.140']", "i8-cli-conflict")
    f = tmp_path / "a.json"
    f.write_text(json.dumps({"type": "bundle", "id": sid("bundle", "i8a"), "objects": [o]}))
    r = tocsin("import", "--data", hub.data, "--collection", "readonly", f, check=False)
    assert r.returncode == 0, r.stderr
    f.write_text(json.dumps({"type": "bundle", "id": sid("bundle", "i8b"),
                             "objects": [dict(o, description="other")]}))
    r = tocsin("import", "--data", hub.data, "--collection", "readonly", f, check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "conflict: a different version with the same id and modified is already stored" \
        in r.stderr


# ---- default_tlp: the daemon's configuration, and the CLI agrees -----------

def test_default_tlp_from_the_configuration(tmp_path):
    d = tmp_path / "var"
    identities, keys, colls = build_data(d)
    conf = tmp_path / "tocsind.conf"
    conf.write_text("[policy]\ndefault_tlp = amber\n")
    daemon = Daemon(d, config=conf)
    try:
        h = Hub(f"http://{daemon.addr}", keys, identities, colls, ORGS, PRINCIPALS, COLLECTIONS,
                data=d, daemon=daemon)
        o = obj_indicator("[domain-name:value = 'dflt-amber.example']", "i8-dflt")
        h.post_ok("open", "bank", [o])
        # unmarked = AMBER: northbank's sharing group (southbank) sees it, telenord not
        assert (o["id"], o["modified"]) in ids_seen(h, "bank2", "open")
        assert (o["id"], o["modified"]) not in ids_seen(h, "telco", "open")
        # the CLI judges with the daemon's default
        r = tocsin("match", "--data", d, "dflt-amber.example")
        assert f"{o['id']} TLP:AMBER (default) from " in r.stdout, r.stdout
        r = tocsin("export", "--data", d, "--for", "telenord", "--format", "stix")
        assert o["id"] not in r.stdout
        r = tocsin("export", "--data", d, "--for", "southbank", "--format", "stix")
        assert o["id"] in r.stdout
    finally:
        assert daemon.stop() == 0
