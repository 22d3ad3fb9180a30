"""tocsin export --for ORG: the export shows an organisation exactly what the
hub's policy lets it see (collection read rights and TLP, docs/policy.md).

Objects imported with the CLI are produced by the hub itself (producer 0):
their AMBER versions reach every reader of the collection (the operator chose
the audience by its read rights), AMBER+STRICT and RED ones only the named
recipients."""
import json

import pytest

from conftest import bundle, ind_ip, run, write_json

EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05"
TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    "red1": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",  # TLP 1.0
}


def have_org_command():
    return run("help", "org").returncode == 0


pytestmark = pytest.mark.skipif(not have_org_command(),
                                reason="needs `tocsin org` (registry commands)")


def marked(ip, tlp, recipients=None):
    o = ind_ip(ip)
    if tlp:
        o["object_marking_refs"] = [TLP[tlp]]
    if recipients is not None:
        o["extensions"] = {EXT: {"extension_type": "property-extension",
                                 "recipients": recipients}}
    return o


@pytest.fixture
def hub(data, tmp_path):
    ids = {}
    for name, sector, groups in (("Bank", "finance", "fin-isac"),
                                 ("Telco", "telecom", "national"),
                                 ("Other", "internet", None)):
        args = ["org", "add", name, "--sector", sector, "--country", "DE"]
        if groups:
            args += ["--groups", groups]
        p = run(*args, "--data", data, check_rc=0)
        ids[name] = p.stdout.strip()
        assert ids[name].startswith("identity--")
    objs = {
        "unmarked": marked("185.220.100.1", None),
        "clear": marked("185.220.100.2", "clear"),
        "green": marked("185.220.100.3", "green"),
        "amber": marked("185.220.100.4", "amber", [ids["Bank"]]),
        "strict-bank": marked("185.220.100.5", "amber+strict", [ids["Bank"]]),
        "red-telco": marked("185.220.100.6", "red", [ids["Telco"]]),
        "red1-bank-telco": marked("185.220.100.7", "red1", [ids["Bank"], ids["Telco"]]),
        "red-nobody": marked("185.220.100.8", "red"),
    }
    run("import", "--data", data, write_json(tmp_path / "f.json", bundle(list(objs.values()))),
        check_rc=0)
    return data, {k: o["id"] for k, o in objs.items()}


def exported(data, *args):
    p = run("export", "--data", data, "--format", "stix", *args, check_rc=0)
    return {o["id"] for o in json.loads(p.stdout)["objects"]}


def names(ids, keys):
    return {ids[k] for k in keys}


def test_no_rights_no_objects(hub):
    data, ids = hub
    # tocsin init makes the default collection readable by all: TLP decides
    assert ids["green"] in exported(data, "--for", "Bank")
    run("collection", "rights", "default", "--read", "none", "--write", "none", "--data", data,
        check_rc=0)
    assert exported(data, "--for", "Bank") == set()
    assert exported(data) == set(ids.values()), "the operator sees everything"


def test_tlp_per_organisation(hub):
    data, ids = hub
    run("collection", "rights", "default", "--read", "all", "--write", "all", "--data", data,
        check_rc=0)
    everyone = ["unmarked", "clear", "green", "amber"]  # the hub's AMBER: every reader
    assert exported(data, "--for", "Bank") == names(ids, everyone + ["strict-bank",
                                                                      "red1-bank-telco"])
    assert exported(data, "--for", "telco") == names(ids, everyone + ["red-telco",
                                                                      "red1-bank-telco"])
    assert exported(data, "--for", "Other") == names(ids, everyone)
    assert exported(data) == set(ids.values())


def test_collection_read_rights(hub):
    data, ids = hub
    run("collection", "rights", "default", "--read", "group:fin-isac", "--write", "none",
        "--data", data, check_rc=0)
    assert ids["green"] in exported(data, "--for", "Bank")
    assert exported(data, "--for", "Telco") == set()


def test_plain_and_csv_follow_policy(hub):
    data, ids = hub
    run("collection", "rights", "default", "--read", "all", "--write", "all", "--data", data,
        check_rc=0)
    p = run("export", "--data", data, "--format", "plain", "--for", "Other", check_rc=0)
    assert sorted(p.stdout.split()) == ["185.220.100.1", "185.220.100.2", "185.220.100.3",
                                        "185.220.100.4"]
    p = run("export", "--data", data, "--format", "csv", "--for", "Telco", check_rc=0)
    assert "185.220.100.6" in p.stdout and "185.220.100.5" not in p.stdout


def test_unknown_org(hub, tmp_path):
    data, _ = hub
    out = tmp_path / "out.txt"
    p = run("export", "--data", data, "--format", "plain", "--for", "Nobody", "-o", out,
            check_rc=2)
    assert "Nobody" in p.stderr
    assert not out.exists(), "nothing is written for an unknown organisation"
