"""Issue 10, point 5: `tocsin export --format F` for the decision formats:
what each writes from a data directory, the parts written into a
directory, what is left out said on stderr, expiry and allowlist edits
applied offline, and the options each format refuses."""
import base64
import json
import shutil
import subprocess

import pytest

from conftest import bundle, ind_domain, ind_ip, ind_url, indicator, run, write_json

FEED = [ind_ip("185.220.101.7"), ind_ip("185.220.102.0/24"), ind_domain("evil-c2.net"),
        ind_url("http://evil-c2.net/login.php"), ind_ip("8.8.8.8"),
        indicator("[ipv6-addr:value = '2a0b:f4c2::1']")]


@pytest.fixture
def hub(data, tmp_path):
    run("import", "--data", data, write_json(tmp_path / "f.json", bundle(FEED)), check_rc=0)
    return data


def export(data, *args, rc=0):
    return run("export", "--data", data, *args, check_rc=rc)


def test_rpz_zone_and_left_out_on_stderr(hub, tmp_path):
    out = tmp_path / "rpz.zone"
    p = export(hub, "--format", "rpz", "--rpz-zone", "block.example", "--rpz-action", "cname",
               "--rpz-cname", "garden.example.net", "-o", out)
    z = out.read_text()
    assert "evil-c2.net CNAME garden.example.net.\n*.evil-c2.net CNAME garden.example.net.\n" in z
    assert "32.7.101.220.185.rpz-ip CNAME garden.example.net." in z
    assert "128.1.zz.f4c2.2a0b.rpz-ip" in z
    assert "8.8.8.8" not in z
    assert "export rpz: wrote 4, left out: kind=1 (url=1)" in p.stderr
    # the allowlist's part is said as for every export
    assert "left out 1 allowlisted values" in p.stderr
    nc = shutil.which("named-checkzone") or shutil.which("named-checkzone", path="/usr/sbin")
    if not nc:
        pytest.skip("named-checkzone (bind9-utils) is not installed: scripts/deps.sh")
    c = subprocess.run([nc, "block.example", str(out)], capture_output=True, text=True)
    assert c.returncode == 0, c.stdout


def test_multi_part_formats_into_a_directory(hub, tmp_path):
    d = tmp_path / "suricata"
    export(hub, "--format", "suricata-dataset", "-o", d)
    assert sorted(f.name for f in d.iterdir()) == ["domains.lst", "ip.lst", "md5.lst",
                                                  "sha256.lst", "urls.lst"]
    assert base64.b64decode((d / "domains.lst").read_text()) == b"evil-c2.net"
    assert (d / "ip.lst").read_text().split() == ["185.220.101.7", "2a0b:f4c2::1"]
    d = tmp_path / "iprep"
    export(hub, "--format", "suricata-iprep", "-o", d)
    assert (d / "categories.txt").read_text().startswith("1,tocsin,")
    assert "185.220.102.0/24,1," in (d / "reputation.list").read_text()
    d = tmp_path / "misp"
    export(hub, "--format", "misp-feed", "-o", d)
    man = json.loads((d / "manifest.json").read_text())
    assert len(man) == 1
    ev = json.loads((d / (next(iter(man)) + ".json")).read_text())["Event"]
    assert {a["value"] for a in ev["Attribute"]} == {
        "185.220.101.7", "185.220.102.0/24", "evil-c2.net", "http://evil-c2.net/login.php",
        "2a0b:f4c2::1"}
    assert len((d / "hashes.csv").read_text().splitlines()) == 5
    # one part to standard output
    p = export(hub, "--format", "misp-feed", "--part", "hashes.csv")
    assert p.stdout == (d / "hashes.csv").read_text()


def test_offline_expiry_and_allowlist_edit(data, tmp_path):
    soon = indicator("[domain-name:value = 'gone.example']", valid_until="2024-06-01T00:00:00Z")
    run("import", "--data", data, write_json(tmp_path / "f.json",
                                             bundle([soon, ind_ip("185.220.101.8")])),
        check_rc=0)
    assert export(data, "--format", "plain").stdout == "185.220.101.8\n"
    run("allowlist", "add", "--data", data, "185.220.101.8", "--reason", "our relay",
        check_rc=0)
    p = export(data, "--format", "nft")
    assert "185.220.101.8" not in p.stdout
    run("allowlist", "remove", "--data", data, "185.220.101.8", check_rc=0)
    assert "185.220.101.8" in export(data, "--format", "nft").stdout


def test_plain_paging_and_cap(hub):
    full = export(hub, "--format", "plain").stdout.splitlines()
    assert len(full) == 5
    page = export(hub, "--format", "plain", "--offset", "2", "--limit", "2").stdout.splitlines()
    assert page == full[2:4]
    p = export(hub, "--format", "plain", "--max", "3")
    assert p.stdout.splitlines() == full[:3]
    assert "max=2" in p.stderr


def test_refusals(hub, tmp_path):
    p = export(hub, "--format", "misp-feed", rc=2)
    assert "--part PART, or -o DIR" in p.stderr
    p = export(hub, "--format", "rpz", "--include-allowlisted", rc=2)
    assert "--include-allowlisted" in p.stderr
    p = export(hub, "--format", "stix", "--min-confidence", "50", rc=2)
    assert "filter decisions" in p.stderr
    p = export(hub, "--format", "rpz", "--rpz-action", "drop", rc=2)
    p = export(hub, "--format", "suricata-dataset", "--part", "sha1", rc=2)
    assert "no part 'sha1'" in p.stderr
    p = export(hub, "--format", "nft", "--name", "bad name", rc=2)
    p = export(hub, "--format", "plain", "--max", "-1", rc=2)
    assert "not a whole number" in p.stderr
    out = tmp_path / "x.zone"
    export(hub, "--format", "rpz", "--rpz-action", "cname", "-o", out, rc=2)
    assert not out.exists(), "nothing is written when the options are refused"


def test_for_org_audits_amber_decisions(data, tmp_path):
    run("org", "add", "Bank", "--sector", "finance", "--country", "NO", "--data", data,
        check_rc=0)
    amber = indicator("[ipv4-addr:value = '185.220.109.9']", name="amber",
                      object_marking_refs=[
                          "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"])
    run("import", "--data", data, write_json(tmp_path / "f.json", bundle([amber])), check_rc=0)
    run("collection", "rights", "default", "--read", "all", "--write", "all", "--data", data,
        check_rc=0)
    # the hub's AMBER reaches every reader of the collection
    p = export(data, "--format", "rpz", "--for", "Bank")
    assert "9.109.220.185.rpz-ip" in p.stdout
    log = [json.loads(l) for l in (data / "audit.log").read_text().splitlines()]
    reads = [e for e in log if e["action"] == "read" and e.get("org") == "Bank"]
    assert reads and amber["id"] in reads[-1]["ids"]
