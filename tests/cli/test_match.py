"""tocsin match: hit, miss, cidr, parent-domain, allowlisted; text and --json."""
import json

import pytest

from conftest import bundle, ind_domain, ind_ip, ind_url, indicator, run, sid, write_json

IP = ind_ip("185.220.101.7")
NET = indicator("[ipv4-addr:value = '185.220.100.0/22']")
DOM = ind_domain("evil-c2.net")
URL = ind_url("http://evil-c2.net/login.php")
RESOLVER = ind_ip("8.8.8.8")           # a bad indicator: allowlisted
V6 = indicator("[ipv6-addr:value = '2001:67c:2e8::/48']")


@pytest.fixture
def hub(data, tmp_path):
    f = write_json(tmp_path / "feed.json", bundle([IP, NET, DOM, URL, RESOLVER, V6]))
    run("import", "--data", data, f, check_rc=0)
    return data


def lines(p):
    return p.stdout.splitlines()


def test_exact_hit_and_miss_text(hub):
    p = run("match", "--data", hub, "evil-c2.net", "93.184.215.14", check_rc=0)
    hit, miss = lines(p)
    assert hit == f"evil-c2.net  HIT exact {DOM['id']} TLP:GREEN (default) from hub"
    assert miss == "93.184.215.14  miss"
    assert p.stderr == ""


def test_cidr_reports_the_network(hub):
    p = run("match", "--data", hub, "185.220.102.1", check_rc=0)
    assert lines(p) == [f"185.220.102.1  HIT cidr 185.220.100.0/22 {NET['id']} TLP:GREEN (default) from hub"]


def test_exact_and_cidr_most_specific_first(hub):
    p = run("match", "--data", hub, "--json", "185.220.101.7", check_rc=0)
    r = json.loads(p.stdout)
    assert [(h["how"], h["indicator_id"]) for h in r["hits"]] == [
        ("exact", IP["id"]), ("cidr", NET["id"])]
    assert r["hits"][1]["matched"] == "185.220.100.0/22"


def test_parent_domain(hub):
    p = run("match", "--data", hub, "www.login.evil-c2.net", check_rc=0)
    assert lines(p) == [
        f"www.login.evil-c2.net  HIT parent-domain evil-c2.net {DOM['id']} TLP:GREEN (default) from hub"]
    # a name that only ends with the same letters is no subdomain
    p = run("match", "--data", hub, "notevil-c2.net", check_rc=0)
    assert lines(p) == ["notevil-c2.net  miss"]


def test_ipv6_network(hub):
    p = run("match", "--data", hub, "--json", "2001:67C:2E8:0:0::1", check_rc=0)
    r = json.loads(p.stdout)
    assert r["kind"] == "ipv6" and r["normalized"] == "2001:67c:2e8::1"
    assert r["hits"][0]["how"] == "cidr" and r["hits"][0]["indicator_id"] == V6["id"]


def test_url_is_normalised_before_matching(hub):
    p = run("match", "--data", hub, "--json", "HTTP://EVIL-C2.NET:80/./login.php#x", check_rc=0)
    r = json.loads(p.stdout)
    assert r["kind"] == "url" and r["normalized"] == "http://evil-c2.net/login.php"
    assert r["hit"] and r["hits"][0]["indicator_id"] == URL["id"]


def test_allowlisted_hit_is_reported_and_marked(hub):
    p = run("match", "--data", hub, "8.8.8.8", check_rc=0)
    (line,) = lines(p)
    assert line.startswith(f"8.8.8.8  HIT exact {RESOLVER['id']} TLP:GREEN (default) from hub [allowlisted: ")
    p = run("match", "--data", hub, "--json", "8.8.8.8", check_rc=0)
    r = json.loads(p.stdout)
    assert r["hit"] is True and r["allowlisted"] is True and r["allowlist_reason"]


def test_allowlisted_miss(hub):
    p = run("match", "--data", hub, "--json", "192.168.1.1", check_rc=0)
    r = json.loads(p.stdout)
    assert r["hit"] is False and r["allowlisted"] is True
    assert r["hits"] == []


def test_json_fields(hub):
    p = run("match", "--data", hub, "--json", "WWW.Evil-C2.net.", "93.184.215.14", check_rc=0)
    a, b = map(json.loads, lines(p))
    assert a == {
        "value": "WWW.Evil-C2.net.", "kind": "domain", "normalized": "www.evil-c2.net",
        "hit": True, "allowlisted": False, "allowlist_reason": None, "hits_total": 1,
        "hits": [{"indicator_id": DOM["id"], "how": "parent-domain", "via": "value",
                  "matched": "evil-c2.net", "collection": "default", "producer": "hub",
                  "key_id": None, "tlp": "green", "tlp_default": True}],
        "expired": [], "revoked": [],
    }
    assert b["hit"] is False and b["kind"] == "ipv4" and b["hits"] == []
    assert b["expired"] == [] and b["revoked"] == []


def test_stdin_streams_one_answer_per_line(hub):
    p = run("match", "--data", hub, "--stdin",
            input="evil-c2.net\n\n  93.184.215.14  \n# comment\nsub.evil-c2.net\n", check_rc=0)
    assert [l.split()[:2] for l in lines(p)] == [
        ["evil-c2.net", "HIT"], ["93.184.215.14", "miss"], ["sub.evil-c2.net", "HIT"]]


def test_value_that_is_no_observable(hub):
    p = run("match", "--data", hub, "evil-c2.net", "not a value!", "93.184.215.14")
    assert p.returncode == 1
    assert len(lines(p)) == 2, "the other values are still answered"
    assert p.stderr.startswith("tocsin: 'not a value!': ")


def test_kind_option(hub):
    p = run("match", "--data", hub, "--kind", "domain", "--json", "evil-c2.net", check_rc=0)
    assert json.loads(p.stdout)["kind"] == "domain"
    p = run("match", "--data", hub, "--kind", "ipv4", "evil-c2.net")
    assert p.returncode == 1 and p.stdout == ""


def test_expired_indicator_does_not_match(data, tmp_path):
    old = indicator("[domain-name:value = 'expired-c2.net']",
                    valid_until="2024-06-01T00:00:00.000Z")
    run("import", "--data", data, write_json(tmp_path / "f.json", bundle([old])), check_rc=0)
    p = run("match", "--data", data, "expired-c2.net", check_rc=0)
    # a miss, but said to be an expired indicator, not "never listed"
    assert lines(p) == [f"expired-c2.net  miss (expired: {old['id']} "
                        "valid_until 2024-06-01T00:00:00.000Z)"]
    p = run("match", "--data", data, "--json", "expired-c2.net", check_rc=0)
    r = json.loads(p.stdout)
    assert r["hit"] is False and r["hits"] == [] and r["revoked"] == []
    assert [(e["indicator_id"], e["valid_until"]) for e in r["expired"]] == [
        (old["id"], "2024-06-01T00:00:00.000Z")]
    # a URL under the expired domain says so too
    p = run("match", "--data", data, "http://www.expired-c2.net/", check_rc=0)
    assert lines(p) == [f"http://www.expired-c2.net/  miss (expired: {old['id']} "
                        "valid_until 2024-06-01T00:00:00.000Z)"]


def test_revoked_indicator_does_not_match(data, tmp_path):
    run("import", "--data", data, write_json(tmp_path / "a.json", bundle([DOM])), check_rc=0)
    rev = dict(DOM, modified="2024-03-01T00:00:00.000Z", revoked=True)
    run("import", "--data", data, write_json(tmp_path / "b.json", bundle([rev])), check_rc=0)
    p = run("match", "--data", data, "evil-c2.net", check_rc=0)
    assert lines(p) == [f"evil-c2.net  miss (revoked: {DOM['id']})"]
    p = run("match", "--data", data, "--json", "user@evil-c2.net", check_rc=0)
    r = json.loads(p.stdout)
    assert r["hit"] is False and r["expired"] == []
    assert [(e["indicator_id"], e["via"]) for e in r["revoked"]] == [
        (DOM["id"], "email-domain")]
    # a value never listed is a plain miss
    p = run("match", "--data", data, "never-listed.example", check_rc=0)
    assert lines(p) == ["never-listed.example  miss"]


def test_url_and_email_under_a_listed_domain(hub):
    p = run("match", "--data", hub, "http://a.evil-c2.net/x", "user@evil-c2.net",
            "USER@Mail.Evil-C2.net", "https://user:pw@evil-c2.net:8443/y?q=1", check_rc=0)
    assert lines(p) == [
        f"http://a.evil-c2.net/x  HIT parent-domain evil-c2.net {DOM['id']} TLP:GREEN (default) from hub",
        f"user@evil-c2.net  HIT parent-domain evil-c2.net {DOM['id']} TLP:GREEN (default) from hub",
        f"USER@Mail.Evil-C2.net  HIT parent-domain evil-c2.net {DOM['id']} TLP:GREEN (default) from hub",
        f"https://user:pw@evil-c2.net:8443/y?q=1  HIT parent-domain evil-c2.net {DOM['id']}"
        " TLP:GREEN (default) from hub",
    ]
    p = run("match", "--data", hub, "--json", "http://a.evil-c2.net/x", "user@evil-c2.net",
            check_rc=0)
    url, mail = [json.loads(l) for l in lines(p)]
    assert url["kind"] == "url" and url["hit"] is True
    assert [(h["how"], h["via"], h["matched"]) for h in url["hits"]] == [
        ("parent-domain", "url-host", "evil-c2.net")]
    assert [(h["how"], h["via"]) for h in mail["hits"]] == [("parent-domain", "email-domain")]
    # the listed URL itself: exact first, then its host's domain
    p = run("match", "--data", hub, "--json", "http://evil-c2.net/login.php", check_rc=0)
    r = json.loads(p.stdout)
    assert [(h["how"], h["via"], h["indicator_id"]) for h in r["hits"]] == [
        ("exact", "value", URL["id"]), ("parent-domain", "url-host", DOM["id"])]
    # only the same letters at the end is no subdomain
    p = run("match", "--data", hub, "http://notevil-c2.net/", "a@notevil-c2.net",
            check_rc=0)
    assert lines(p) == ["http://notevil-c2.net/  miss", "a@notevil-c2.net  miss"]


def test_url_with_an_address_in_a_listed_network(hub):
    p = run("match", "--data", hub, "http://185.220.102.1:8080/x", check_rc=0)
    assert lines(p) == [
        f"http://185.220.102.1:8080/x  HIT cidr 185.220.100.0/22 {NET['id']} TLP:GREEN (default) from hub"]




# -- issue 8: the effective TLP of every hit, never blank --------------------

TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def test_hit_shows_marked_and_default_tlp(data, tmp_path):
    amber = indicator("[domain-name:value = 'amber.example']", object_marking_refs=[TLP2_AMBER])
    gran = indicator("[domain-name:value = 'granular.example']", granular_markings=[
        {"selectors": ["pattern"], "marking_ref": TLP2_RED}])
    plain = ind_domain("plain.example")
    f = write_json(tmp_path / "m.json", bundle([amber, gran, plain]))
    run("import", "--data", data, f, check_rc=0)
    p = run("match", "--data", data, "amber.example", "granular.example", "plain.example",
            check_rc=0)
    assert lines(p) == [f"amber.example  HIT exact {amber['id']} TLP:AMBER from hub",
                        f"granular.example  HIT exact {gran['id']} TLP:RED from hub",
                        f"plain.example  HIT exact {plain['id']} TLP:GREEN (default) from hub"]
    p = run("match", "--data", data, "--json", "amber.example", "plain.example", check_rc=0)
    a, b = (json.loads(x) for x in lines(p))
    assert (a["hits"][0]["tlp"], a["hits"][0]["tlp_default"]) == ("amber", False)
    assert (b["hits"][0]["tlp"], b["hits"][0]["tlp_default"]) == ("green", True)


def test_hit_follows_the_hubs_default_tlp(data, tmp_path):
    """tocsind records its default_tlp in the data directory at start (the
    store's settings row default_tlp); the CLI judges by the same value."""
    import sqlite3
    plain = ind_domain("dflt.example")
    f = write_json(tmp_path / "d.json", bundle([plain]))
    run("import", "--data", data, f, check_rc=0)
    db = sqlite3.connect(f"{data}/tocsin.db")
    with db:
        db.execute("INSERT OR REPLACE INTO settings(key, value) VALUES('default_tlp', 'amber')")
    db.close()
    p = run("match", "--data", data, "dflt.example", check_rc=0)
    assert lines(p) == [f"dflt.example  HIT exact {plain['id']} TLP:AMBER (default) from hub"]


def test_file_reads_values_like_stdin(hub, tmp_path):
    f = tmp_path / "values.txt"
    f.write_text("# suspects\nevil-c2.net\n\n93.184.215.14\n")
    p = run("match", "--data", hub, "--file", f, check_rc=0)
    q = run("match", "--data", hub, "--stdin", input=f.read_text(), check_rc=0)
    assert p.stdout == q.stdout and len(lines(p)) == 2
    p = run("match", "--data", hub, "--file", tmp_path / "missing.txt", check_rc=2)
    assert "missing.txt" in p.stderr


def test_hub_usage_errors(hub):
    # --hub and --data name two different sources
    p = run("match", "--hub", "http://127.0.0.1:1", "--data", hub, "--key", "k", "1.2.3.4",
            check_rc=2)
    assert "exclude" in p.stderr
    # no key, neither --key nor $TOCSIN_KEY
    p = run("match", "--hub", "http://127.0.0.1:1", "1.2.3.4", env={"TOCSIN_KEY": ""}, check_rc=2)
    assert "--key" in p.stderr and "TOCSIN_KEY" in p.stderr
    # a hub that is not there is an error naming it, not a miss
    p = run("match", "--hub", "http://127.0.0.1:1", "--key", "tcs_x", "1.2.3.4", check_rc=2)
    assert "127.0.0.1:1" in p.stderr and p.stdout == ""
    p = run("match", "--stdin", "--file", "x", check_rc=2)
    assert "exclude" in p.stderr
