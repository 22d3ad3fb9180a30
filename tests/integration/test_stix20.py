"""STIX 2.0 content from peers (issue 8 point 8): an object without
spec_version is validated by the STIX 2.0 rules, stored and served as sent
(never converted), and match[spec_version] selects by spec version
(TAXII 2.1 §3.4)."""
import json

from hubutil import T0, obj_indicator, sid


def ind20(name, ip):
    return {"type": "indicator", "id": sid("indicator", name), "created": T0, "modified": T0,
            "labels": ["malicious-activity"], "name": name,
            "pattern": f"[ipv4-addr:value = '{ip}']", "valid_from": T0}


def test_stix20_indicator_round_trip_and_spec_version_filter(hub):
    o = ind20("stix20-a", "198.51.100.200")
    nolabels = dict(ind20("stix20-b", "198.51.100.201"))
    del nolabels["labels"]
    o21 = obj_indicator("[ipv4-addr:value = '198.51.100.202']", "stix20-c")
    r = hub.post("open", "bank", [o, nolabels, o21])
    assert r.status_code == 202, r.text
    st = r.json()
    assert st["success_count"] == 2, st
    fail = st["failures"][0]
    assert fail["id"] == nolabels["id"] and "labels: required property missing" in fail["message"]

    g = hub.get(hub.object_url("open", o["id"]), "bank")
    assert g.status_code == 200, g.text
    got = g.json()["objects"]
    assert got == [o], got
    assert "spec_version" not in got[0]
    # served byte for byte as sent (the compact form of what was posted)
    assert json.dumps(o, separators=(",", ":")) in g.text

    ids = f"{o['id']},{o21['id']}"
    def listed(spec=None):
        params = {"match[id]": ids}
        if spec:
            params["match[spec_version]"] = spec
        r = hub.get(hub.objects_url("open"), "bank", params)
        assert r.status_code == 200, r.text
        return sorted(x["id"] for x in r.json().get("objects", []))
    assert listed() == sorted([o["id"], o21["id"]])
    assert listed("2.1") == [o21["id"]]
    assert listed("2.0") == [o["id"]]
    assert listed("2.0,2.1") == sorted([o["id"], o21["id"]])
    m = hub.get(hub.manifest_url("open"), "bank", {"match[id]": o["id"]}).json()
    assert m["objects"][0]["media_type"] == "application/stix+json;version=2.0", m


def test_an_object_with_20_and_21_versions(hub):
    """TAXII 2.1 §3.4.2: without match[spec_version] the latest spec version
    each object has; with it, first and last among the versions of the spec
    versions asked for (an object's 2.0 version is its last 2.0 version
    even when a 2.1 version followed)."""
    v1 = ind20("stix20-upgraded", "185.220.107.1")
    v2 = dict(v1, spec_version="2.1", pattern_type="stix", modified="2024-02-01T00:00:00.000Z")
    del v2["labels"]
    assert hub.post("open", "bank", [v1]).json()["success_count"] == 1
    assert hub.post("open", "bank", [v2]).json()["success_count"] == 1

    def versions(spec=None, which=None):
        params = {"match[id]": v1["id"]}
        if spec:
            params["match[spec_version]"] = spec
        if which:
            params["match[version]"] = which
        r = hub.get(hub.objects_url("open"), "bank", params)
        assert r.status_code == 200, r.text
        return [x["modified"] for x in r.json().get("objects", [])]
    assert versions() == [v2["modified"]]
    assert versions("2.1") == [v2["modified"]]
    assert versions("2.0") == [v1["modified"]]
    assert versions("2.0,2.1") == [v2["modified"]]
    assert versions("2.0,2.1", "first") == [v1["modified"]]
    assert versions(None, "all") == [v1["modified"], v2["modified"]]
