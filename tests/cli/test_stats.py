"""tocsin stats: counts that follow what was imported."""
import json

from conftest import bundle, ind_domain, ind_ip, run, write_json


def test_empty(data):
    s = json.loads(run("stats", "--data", data, "--json", check_rc=0).stdout)
    assert s["log_position"] == 0 and s["versions"] == 0 and s["objects"] == 0
    assert s["collections"] == 1, "init creates the default collection"
    assert s["index"]["entries"] == 0
    assert s["allowlist_entries"] > 0, "the shipped allowlist is loaded"


def test_after_import(data, tmp_path):
    f = write_json(tmp_path / "f.json", bundle([ind_ip("185.220.101.7"), ind_ip("185.220.101.8"),
                                                ind_domain("evil-c2.net")]))
    run("import", "--data", data, f, check_rc=0)
    s = json.loads(run("stats", "--data", data, "--json", check_rc=0).stdout)
    # each indicator's value is a decision event with its own position
    assert (s["log_position"], s["versions"], s["objects"], s["indicators"]) == (6, 3, 3, 3)
    assert s["observables"]["ipv4"] == 2 and s["observables"]["domain"] == 1
    assert s["index"]["entries"] == 3
    assert s["index"]["memory_bytes"] > 0
    t = run("stats", "--data", data, check_rc=0).stdout
    assert "indicators         3" in t
    assert "ipv4" in t and "index entries      3" in t
