"""Issue 8, points 1 and 4: the allowlist on every export, publish-time
warnings, `tocsin allowlist`, and indicators that would block everything."""
import csv
import io
import json

import pytest

from conftest import bundle, ind_domain, ind_ip, indicator, run, summary, write_json

GOOD = ind_ip("185.220.101.7")
DNS = ind_ip("8.8.8.8")
GOOGLE = ind_domain("google.com")
PRIVATE = ind_ip("10.0.0.0/8")
INSIDE = ind_ip("10.1.0.0/16")
HOLDS = ind_ip("8.0.0.0/8")
MIXED = indicator("[domain-name:value = 'evil-c2.net'] OR [domain-name:value = 'mail.google.com']")
ALL = [GOOD, DNS, GOOGLE, PRIVATE, INSIDE, HOLDS, MIXED]


@pytest.fixture
def hub(data, tmp_path):
    p = run("import", "--data", data, write_json(tmp_path / "feed.json", bundle(ALL)), check_rc=0)
    return data, p


def export(data, *args, rc=0):
    return run("export", "--data", data, *args, check_rc=rc)


# ---- export ----

def test_plain_leaves_allowlisted_out_and_says_why(hub):
    data, _ = hub
    p = export(data, "--format", "plain")
    assert sorted(p.stdout.split()) == ["185.220.101.7", "evil-c2.net"]
    err = p.stderr
    assert "left out 6 allowlisted values" in err
    assert "2  Google Public DNS (built-in allowlist)" not in err  # 8.8.8.8 once, 8.0.0.0/8 apart
    assert "1  Google Public DNS (built-in allowlist)" in err
    assert "2  RFC 1918 private range (built-in allowlist)" in err
    assert "2  popular domain (built-in allowlist)" in err
    assert "1  holds allowlisted 8.8.4.4: Google Public DNS (built-in allowlist)" in err
    assert "--include-allowlisted" in err


def test_csv_and_stix_leave_allowlisted_out(hub):
    data, _ = hub
    rows = list(csv.reader(io.StringIO(export(data, "--format", "csv").stdout)))
    assert rows[0] == ["value", "kind", "indicator_id", "valid_until", "tlp", "producer",
                       "key_id"]
    assert sorted(r[0] for r in rows[1:]) == ["185.220.101.7", "evil-c2.net"]
    p = export(data, "--format", "stix")
    ids = {o["id"] for o in json.loads(p.stdout)["objects"]}
    assert ids == {GOOD["id"]}, "an indicator with any allowlisted value is left out whole"
    assert "left out 6 allowlisted indicators" in p.stderr


def test_include_allowlisted_keeps_them_marked(hub):
    data, _ = hub
    p = export(data, "--format", "plain", "--include-allowlisted")
    lines = p.stdout.splitlines()
    i = lines.index("8.8.8.8")
    assert lines[i - 1] == "# allowlisted: Google Public DNS (built-in allowlist)"
    assert "kept 6 allowlisted values, marked" in p.stderr
    rows = list(csv.DictReader(io.StringIO(
        export(data, "--format", "csv", "--include-allowlisted").stdout)))
    by = {r["value"]: r["allowlisted"] for r in rows}
    assert by["10.1.0.0/16"] == "RFC 1918 private range (built-in allowlist)"
    assert by["185.220.101.7"] == ""
    objs = json.loads(export(data, "--format", "stix", "--include-allowlisted").stdout)["objects"]
    by = {o["id"]: o for o in objs}
    assert len(objs) == len(ALL)
    assert "x_tocsin_allowlisted" not in by[GOOD["id"]]
    m = by[MIXED["id"]]["x_tocsin_allowlisted"]
    assert m == [{"value": "mail.google.com", "kind": "domain", "how": "covered",
                  "entry": "google.com", "reason": "popular domain",
                  "source": "built-in allowlist"}]
    assert by[HOLDS["id"]]["x_tocsin_allowlisted"][0]["how"] == "contains"


# ---- publish-time warnings ----

def test_import_warns_about_allowlisted_values(hub):
    _, p = hub
    assert summary(p.stdout) == (7, 0, 0)
    assert "warnings 6" in p.stdout
    assert ("warning: 8.8.8.8 is on the built-in allowlist (Google Public DNS): accepted, "
            "but never exported for blocking") in p.stderr
    assert "warning: 8.0.0.0/8 holds 8.8.4.4, on the built-in allowlist" in p.stderr
    assert "mail.google.com is on the built-in allowlist (popular domain)" in p.stderr
    assert "185.220.101.7" not in p.stderr


# ---- tocsin allowlist ----

def test_allowlist_add_list_remove(data, tmp_path):
    p = run("allowlist", "add", "--data", data, "203.0.112.5", "--reason", "our mail relay",
            check_rc=0)
    assert "added 203.0.112.5" in p.stdout
    assert "203.0.112.5 # our mail relay" in (data / "allowlist.txt").read_text()
    p = run("allowlist", "list", "--data", data, check_rc=0)
    assert "203.0.112.5" in p.stdout and "our mail relay" in p.stdout
    assert "built-in" in p.stdout and "8.8.8.8" in p.stdout
    entries = json.loads(run("allowlist", "list", "--data", data, "--json", check_rc=0).stdout)
    local = [e for e in entries if not e["builtin"]]
    assert local == [{"kind": "ipv4", "value": "203.0.112.5", "reason": "our mail relay",
                      "exception": False, "builtin": False,
                      "source": str(data / "allowlist.txt")}]
    assert any(e["value"] == "8.8.8.8" and e["builtin"] for e in entries)

    # the new entry applies to imports and exports at once
    p = run("import", "--data", data,
            write_json(tmp_path / "f.json", bundle([ind_ip("203.0.112.5")])), check_rc=0)
    assert f"allowlist {data / 'allowlist.txt'} (our mail relay)" in p.stderr
    assert export(data, "--format", "plain").stdout == ""

    p = run("allowlist", "remove", "--data", data, "203.0.112.5", check_rc=0)
    assert "removed 203.0.112.5" in p.stdout
    assert "203.0.112.5" not in (data / "allowlist.txt").read_text()
    assert export(data, "--format", "plain").stdout == "203.0.112.5\n"

    # both changes are in the audit log, and the chain holds
    log = [json.loads(l) for l in (data / "audit.log").read_text().splitlines()]
    acts = [(e["action"], e.get("detail", "")) for e in log if e["action"].startswith("allowlist")]
    assert acts == [("allowlist.add", "203.0.112.5 (ipv4): our mail relay"),
                    ("allowlist.remove", "203.0.112.5 (ipv4): 1 local entry")]
    run("audit", "verify", "--data", data, check_rc=0)


def test_domain_above_a_listed_one(data, tmp_path):
    run("allowlist", "add", "--data", data, "portal.bank.example", "--reason", "bank portal",
        check_rc=0)
    p = run("import", "--data", data,
            write_json(tmp_path / "f.json", bundle([ind_domain("bank.example")])), check_rc=0)
    assert "warning: bank.example holds portal.bank.example, on the allowlist" in p.stderr
    p = export(data, "--format", "plain")
    assert p.stdout == ""
    assert "holds allowlisted portal.bank.example: bank portal" in p.stderr


def test_allowlist_bad_input(data):
    p = run("allowlist", "add", "--data", data, "01.2.3.4", "--reason", "x", check_rc=2)
    assert "01.2.3.4" in p.stderr and "ipv4" in p.stderr
    p = run("allowlist", "add", "--data", data, "5.6.7.8", check_rc=2)
    assert "--reason" in p.stderr
    p = run("allowlist", "add", "--data", data, "5.6.7.8", "--reason", "a\nb", check_rc=2)
    assert "one line" in p.stderr
    p = run("allowlist", "remove", "--data", data, "8.8.8.8", check_rc=2)
    assert "8.8.8.8 is a built-in entry (Google Public DNS)" in p.stderr
    assert "--except" in p.stderr
    p = run("allowlist", "remove", "--data", data, "5.6.7.8", check_rc=2)
    assert "not on the local allowlist" in p.stderr
    assert not (data / "allowlist.txt").exists()


def test_allowlist_except_unlists_a_builtin(data, tmp_path):
    run("allowlist", "add", "--data", data, "--except", "1.1.1.1",
        "--reason", "resolver abused in our drill", check_rc=0)
    p = run("import", "--data", data,
            write_json(tmp_path / "f.json", bundle([ind_ip("1.1.1.1")])), check_rc=0)
    assert "warning" not in p.stderr
    assert export(data, "--format", "plain").stdout == "1.1.1.1\n"
    entries = json.loads(run("allowlist", "list", "--data", data, "--json", check_rc=0).stdout)
    assert {"kind": "ipv4", "value": "1.1.1.1", "reason": "resolver abused in our drill",
            "exception": True, "builtin": False,
            "source": str(data / "allowlist.txt")} in entries


# ---- indicators that would block everything ----

@pytest.mark.parametrize("pattern,says", [
    ("[ipv4-addr:value = '0.0.0.0/0']", "'0.0.0.0/0' would block every IPv4 address"),
    ("[ipv6-addr:value = '::/0']", "'::/0' would block every IPv6 address"),
    ("[ipv4-addr:value = '2.0.0.0/7']", "'2.0.0.0/7' is wider than /8 (widest_prefix_v4)"),
    ("[ipv6-addr:value = '2001::/16']", "is wider than /32 (widest_prefix_v6)"),
    ("[domain-name:value = 'com']", "'com' is a top-level domain"),
    ("[domain-name:value = 'co.uk']", "'co.uk' is a public suffix"),
    ("[domain-name:value = 'evil-c2.net'] OR [ipv4-addr:value = '0.0.0.0/0']",
     "'0.0.0.0/0' would block every IPv4 address"),
])
def test_import_refuses_what_would_block_everything(data, tmp_path, pattern, says):
    f = write_json(tmp_path / "f.json", bundle([indicator(pattern), GOOD]))
    p = run("import", "--data", data, f, check_rc=1)
    assert summary(p.stdout) == (1, 0, 1)
    assert says in p.stderr
    assert "pattern: " in p.stderr
    p = run("validate", f, check_rc=1)
    assert says in p.stdout + p.stderr


def test_sco_with_a_wide_network_is_an_observation(data, tmp_path):
    sco = {"type": "ipv4-addr", "spec_version": "2.1",
           "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "0.0.0.0/0"}
    p = run("import", "--data", data, write_json(tmp_path / "f.json", bundle([sco])), check_rc=0)
    assert summary(p.stdout) == (1, 0, 0)


def test_configured_prefix_limit(data, tmp_path):
    conf = tmp_path / "tocsind.conf"
    conf.write_text("[ingest]\nwidest_prefix_v4 = 16\n")
    f = write_json(tmp_path / "f.json", bundle([ind_ip("45.0.0.0/8")]))
    p = run("import", "--data", data, "--config", conf, f, check_rc=1)
    assert "'45.0.0.0/8' is wider than /16 (widest_prefix_v4)" in p.stderr
    p = run("import", "--data", data, f, check_rc=0, env={"TOCSIN_CONFIG": ""})
    assert summary(p.stdout) == (1, 0, 0)
    bad = tmp_path / "bad.conf"
    bad.write_text("[ingest]\nwidest_prefix_v4 = 0\n")
    p = run("import", "--data", data, "--config", bad, f, check_rc=2)
    assert "bad.conf:2: widest_prefix_v4: must be 1..32" in p.stderr


def test_marked_stix_export_matches_official_schemas(hub):
    """The x_tocsin_allowlisted marking keeps each indicator valid STIX 2.1."""
    from test_export import schema_dir
    d = schema_dir()
    if d is None or not (d / "common" / "bundle.json").is_file():
        pytest.skip("STIX 2.1 JSON schemas not found: set TOCSIN_STIX_SCHEMAS")
    import jsonschema
    store = {}
    for f in d.rglob("*.json"):
        s = json.loads(f.read_text())
        if "$id" in s:
            store[s["$id"]] = s

    def validator(rel):
        s = json.loads((d / rel).read_text())
        cls = jsonschema.validators.validator_for(s)
        return cls(s, resolver=jsonschema.RefResolver(base_uri=s["$id"], referrer=s, store=store))

    data, _ = hub
    b = json.loads(export(data, "--format", "stix", "--include-allowlisted").stdout)
    assert [e.message for e in validator("common/bundle.json").iter_errors(b)] == []
    ind = validator("sdos/indicator.json")
    marked = [o for o in b["objects"] if "x_tocsin_allowlisted" in o]
    assert len(marked) == 6
    for o in b["objects"]:
        assert [f"{list(e.path)}: {e.message}" for e in ind.iter_errors(o)] == [], o["id"]
    # the schemas do bite on a custom property name STIX forbids
    assert list(ind.iter_errors(dict(marked[0], **{"X-Bad": 1})))
