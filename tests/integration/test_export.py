"""Issue 10, point 5: GET /api/v1/export/{format} on the real tocsind.

Every format is fetched as a principal and handed to the program that
consumes it where this machine has it (named-checkzone; nft -c -f and
ipset restore inside a network namespace the test makes), and otherwise
read by a parser written here from the format's documentation (Suricata
datasets and IP reputation, Zeek intel, MISP feed). Policy (an
organisation sees only the decisions it may see), the allowlist, expiry
and revocation, ETag / If-None-Match, paging and the per-device cap, and
the same output through `tocsin export --for ORG`.
"""
import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import TOCSIN
from hubutil import TLP2, obj_indicator

EXPORT = "/api/v1/export/"
FORMATS = ["plain", "csv", "stix", "rpz", "nft", "ipset", "suricata-dataset/domains",
           "suricata-dataset/urls", "suricata-dataset/md5", "suricata-dataset/sha256",
           "suricata-dataset/ip", "suricata-iprep/categories", "suricata-iprep/reputation",
           "zeek", "misp-feed/manifest.json", "misp-feed/hashes.csv"]

OPEN = [  # bank publishes these in "open": everyone may see them
    ("[ipv4-addr:value = '185.220.101.7']", "x-ip"),
    ("[ipv4-addr:value = '185.220.102.0/24']", "x-net"),
    ("[ipv4-addr:value = '185.220.102.9']", "x-inside"),        # inside the /24
    ("[ipv6-addr:value = '2a0b:f4c2::1']", "x-ip6"),
    ("[ipv6-addr:value = '2a0b:f4c3::/48']", "x-net6"),
    ("[domain-name:value = 'evil-c2.net']", "x-dom"),
    ("[url:value = 'http://evil-c2.net/login.php']", "x-url"),
    ("[email-addr:value = 'boss@evil-c2.net']", "x-mail"),
    ("[file:hashes.MD5 = '0cc175b9c0f1b6a831c399e269772661']", "x-md5"),
    ("[file:hashes.'SHA-256' = "
     "'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb']", "x-sha"),
    ("[x-tocsin-phone-number:value = '+79991234567']", "x-phone"),
    ("[ipv4-addr:value = '8.8.8.8']", "x-allow"),                # allowlisted
]


def url(hub, fmt, **q):
    u = hub.base + EXPORT + fmt
    if q:
        u += "?" + "&".join(f"{k}={v}" for k, v in q.items())
    return u


def get(hub, fmt, who="cert", headers=None, **q):
    h = hub.headers(who, accept=None)
    h.update(headers or {})
    return hub.s.get(url(hub, fmt, **q), headers=h, timeout=60)


def ok(hub, fmt, who="cert", **q):
    r = get(hub, fmt, who, **q)
    assert r.status_code == 200, (fmt, r.status_code, r.text[:400])
    return r


@pytest.fixture
def xhub(fresh_hub):
    h = fresh_hub
    h.post_ok("open", "bank", [obj_indicator(p, n, confidence=80) for p, n in OPEN])
    # finance: sector finance and cert-no only; AMBER: bank's groups only
    h.post_ok("finance", "bank", [obj_indicator("[domain-name:value = 'fin-only.example']",
                                                "x-fin")])
    h.post_ok("open", "bank", [obj_indicator("[ipv4-addr:value = '185.220.103.3']", "x-amber",
                                             markings=[TLP2["amber"]])])
    return h


# ---- the consumers ----

def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def tool(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


@pytest.fixture(scope="module")
def netns():
    """A network namespace of this test (nft and ipset touch nothing of
    the host's); skipped only where one cannot be made (not root)."""
    ip = tool("ip")
    if os.geteuid() != 0 or not ip:
        pytest.skip("a network namespace needs root and iproute2")
    name = f"tocsin-it-{os.getpid()}"
    p = run([ip, "netns", "add", name])
    if p.returncode:
        pytest.skip(f"ip netns add: {p.stderr.strip()}")
    yield [ip, "netns", "exec", name]
    run([ip, "netns", "delete", name])


def test_rpz_loads_in_named_checkzone(xhub, tmp_path):
    r = ok(xhub, "rpz", zone="rpz.example.org", action="nodata")
    assert r.headers["Content-Type"] == "text/dns"
    z = r.text
    pos = r.headers["X-Tocsin-Position"]
    assert f"@ SOA localhost. hostmaster.rpz.example.org. {int(pos) % 2**32} " in z
    assert "\nevil-c2.net CNAME *.\n*.evil-c2.net CNAME *.\n" in z
    assert "\n32.7.101.220.185.rpz-ip CNAME *.\n" in z
    assert "\n24.0.102.220.185.rpz-ip CNAME *.\n" in z
    assert "\n128.1.zz.f4c2.2a0b.rpz-ip CNAME *.\n" in z
    assert "\n48.zz.f4c3.2a0b.rpz-ip CNAME *.\n" in z
    assert "8.8.8.8" not in z and "8.8.8.8.rpz-ip" not in z
    # url, email, md5, sha256, phone have no trigger: left out, said so
    left = r.headers["X-Tocsin-Left-Out"]
    assert "kind=5" in left and "url=1" in left, left
    f = tmp_path / "rpz.zone"
    f.write_text(z)
    nc = tool("named-checkzone")
    if not nc:
        pytest.skip("named-checkzone (bind9-utils) is not installed: scripts/deps.sh")
    p = run([nc, "rpz.example.org", str(f)])
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"loaded serial {int(pos) % 2**32}" in p.stdout


def test_nft_script_loads(xhub, tmp_path, netns):
    r = ok(xhub, "nft", name="tocsin_it")
    s = r.text
    assert "add table inet tocsin_it\n" in s
    assert "flags interval,timeout;" in s
    assert "185.220.102.9" not in s, "an address inside a listed network is left out"
    assert "covered=1" in r.headers["X-Tocsin-Left-Out"]
    f = tmp_path / "x.nft"
    f.write_text(s)
    nft = tool("nft")
    if not nft:
        pytest.skip("nft (nftables) is not installed: scripts/deps.sh")
    p = run(netns + [nft, "-c", "-f", str(f)])
    assert p.returncode == 0, p.stderr
    # applied twice (a re-poll): the sets are replaced, not doubled
    for _ in range(2):
        p = run(netns + [nft, "-f", str(f)])
        assert p.returncode == 0, p.stderr
    p = run(netns + [nft, "list", "set", "inet", "tocsin_it", "v4"])
    assert "185.220.101.7" in p.stdout and "185.220.102.0/24" in p.stdout
    p = run(netns + [nft, "list", "set", "inet", "tocsin_it", "v6"])
    assert "2a0b:f4c2::1" in p.stdout and "2a0b:f4c3::/48" in p.stdout
    run(netns + [nft, "delete", "table", "inet", "tocsin_it"])


def test_ipset_restore(xhub, tmp_path, netns):
    r = ok(xhub, "ipset", name="tit")
    f = tmp_path / "x.ipset"
    f.write_text(r.text)
    ipset = tool("ipset")
    if not ipset:
        pytest.skip("ipset is not installed: scripts/deps.sh")
    for _ in range(2):
        p = run(netns + [ipset, "restore"], input=r.text)
        assert p.returncode == 0, p.stderr
    p = run(netns + [ipset, "list", "tit-v4"])
    assert "Number of entries: 4" in p.stdout, p.stdout  # 185.220.102.9 kept: hash:net allows it
    p = run(netns + [ipset, "list", "tit-v6"])
    assert "2a0b:f4c3::/48" in p.stdout
    run(netns + [ipset, "destroy", "tit-v4"])
    run(netns + [ipset, "destroy", "tit-v6"])


def test_suricata_datasets_and_iprep(xhub):
    # Suricata "Datasets": type string sets hold base64 a line
    doms = [base64.b64decode(l).decode() for l in
            ok(xhub, "suricata-dataset/domains").text.splitlines()]
    assert sorted(doms) == ["evil-c2.net", "fin-only.example"]
    urls = [base64.b64decode(l).decode() for l in
            ok(xhub, "suricata-dataset/urls").text.splitlines()]
    assert urls == ["http://evil-c2.net/login.php"]
    assert ok(xhub, "suricata-dataset/md5").text == "0cc175b9c0f1b6a831c399e269772661\n"
    ips = ok(xhub, "suricata-dataset/ip").text.splitlines()
    assert sorted(ips) == ["185.220.101.7", "185.220.102.9", "185.220.103.3", "2a0b:f4c2::1"]
    # "IP Reputation Format": categories "<id>,<short name>,<description>",
    # reputation "<ip>,<category>,<score 1..127>"
    cats = list(csv.reader(io.StringIO(ok(xhub, "suricata-iprep/categories").text)))
    assert len(cats) == 1 and 1 <= int(cats[0][0]) <= 60 and cats[0][1] == "tocsin"
    rep = list(csv.reader(io.StringIO(ok(xhub, "suricata-iprep/reputation").text)))
    assert {r[0] for r in rep} == {"185.220.101.7", "185.220.102.0/24", "185.220.102.9",
                                   "185.220.103.3", "2a0b:f4c2::1", "2a0b:f4c3::/48"}
    for ip, cat, score in rep:
        assert cat == cats[0][0] and 1 <= int(score) <= 127


def test_zeek_intel(xhub):
    text = ok(xhub, "zeek").text
    lines = [l for l in text.splitlines() if not l.startswith("#") or l.startswith("#fields")]
    head = lines[0].split("\t")
    assert head == ["#fields", "indicator", "indicator_type", "meta.source", "meta.desc"]
    rows = {}
    for l in lines[1:]:
        cols = l.split("\t")
        assert len(cols) == len(head) - 1, l
        rows[cols[0]] = cols[1]
    assert rows["185.220.102.0/24"] == "Intel::SUBNET"
    assert rows["2a0b:f4c2::1"] == "Intel::ADDR"
    assert rows["evil-c2.net/login.php"] == "Intel::URL"
    assert rows["boss@evil-c2.net"] == "Intel::EMAIL"
    assert rows["0cc175b9c0f1b6a831c399e269772661"] == "Intel::FILE_HASH"
    assert "8.8.8.8" not in rows and "+79991234567" not in rows


def test_misp_feed(xhub):
    """MISP's feed fetcher: manifest.json names the events, each is
    <uuid>.json {"Event": {...}}, hashes.csv holds md5(value),event."""
    man = ok(xhub, "misp-feed/manifest.json").json()
    hashes = set(ok(xhub, "misp-feed/hashes.csv").text.splitlines())
    seen = set()
    for ev_uuid, meta in man.items():
        uuid.UUID(ev_uuid)
        for k in ("Orgc", "Tag", "info", "date", "analysis", "threat_level_id", "timestamp"):
            assert k in meta, (k, meta)
        assert meta["Orgc"]["name"] == "northbank"
        ev = ok(xhub, f"misp-feed/{ev_uuid}.json").json()["Event"]
        assert ev["uuid"] == ev_uuid and ev["info"] == meta["info"]
        for a in ev["Attribute"]:
            h = hashlib.md5(a["value"].encode()).hexdigest()
            assert f"{h},{ev_uuid}" in hashes
            seen.add(f"{h},{ev_uuid}")
            assert a["to_ids"] is True and a["type"] and a["category"]
    assert seen == hashes, "every line of hashes.csv is an attribute"
    assert len(man) == 2, "northbank's green and amber events"
    r = get(xhub, "misp-feed/00000000-0000-4000-8000-000000000000.json")
    assert r.status_code == 404 and r.json()["http_status"] == "404"


def test_plain_csv_stix(xhub):
    r = ok(xhub, "plain")
    assert r.headers["Content-Type"].startswith("text/plain")
    vals = r.text.splitlines()
    assert "185.220.101.7" in vals and "+79991234567" in vals and "8.8.8.8" not in vals
    rows = list(csv.DictReader(io.StringIO(ok(xhub, "csv").text)))
    assert {r["value"] for r in rows} >= {"185.220.101.7", "evil-c2.net"}
    assert "8.8.8.8" not in {r["value"] for r in rows}
    b = ok(xhub, "stix").json()
    assert b["type"] == "bundle"


# ---- policy, allowlist, expiry, revocation ----

def test_each_org_sees_only_its_decisions(xhub):
    bank = set(ok(xhub, "plain", who="bank").text.split())
    telco = set(ok(xhub, "plain", who="telco").text.split())
    assert {"fin-only.example", "185.220.103.3"} <= bank
    assert "fin-only.example" not in telco, "finance is not telenord's to read"
    assert "185.220.103.3" not in telco, "AMBER: not in northbank's sharing groups"
    assert "evil-c2.net" in telco
    for fmt in ("rpz", "zeek", "suricata-dataset/domains", "misp-feed/hashes.csv"):
        t = ok(xhub, fmt, who="telco").text
        assert "fin-only" not in t and "185.220.103.3" not in t and "3.103.220.185" not in t
        enc = base64.b64encode(b"fin-only.example").decode()
        assert enc not in t
    # the MISP events telco may see say nothing of amber
    man = ok(xhub, "misp-feed/manifest.json", who="telco").json()
    assert all("amber" not in m["info"] for m in man.values())


def test_revocation_and_expiry_remove_values(xhub):
    soon = (datetime.now(timezone.utc) + timedelta(seconds=2)).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    exp = obj_indicator("[domain-name:value = 'soon-gone.example']", "x-exp",
                        valid_until=soon)
    rev = obj_indicator("[domain-name:value = 'revoke-me.example']", "x-rev")
    xhub.post_ok("open", "bank", [exp, rev])
    z = ok(xhub, "rpz").text
    assert "\nsoon-gone.example CNAME ." in z and "\nrevoke-me.example CNAME ." in z
    rev2 = dict(rev, modified="2024-01-02T00:00:00.000Z", revoked=True)
    xhub.post_ok("open", "bank", [rev2])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        z = ok(xhub, "rpz").text
        if "soon-gone" not in z:
            break
        time.sleep(0.3)
    assert "revoke-me.example" not in z, "revoked: gone at once"
    assert "soon-gone.example" not in z, "expired at valid_until: gone without a request"


def test_allowlisted_value_never_exported(xhub):
    for fmt in FORMATS:
        t = ok(xhub, fmt).text
        assert "8.8.8.8" not in t and "8.8.8.8.rpz-ip" not in t, fmt


# ---- HTTP ----

def test_etag_and_304(xhub):
    r = ok(xhub, "rpz")
    tag = r.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    r2 = get(xhub, "rpz", headers={"If-None-Match": tag})
    assert r2.status_code == 304 and r2.content == b""
    assert r2.headers["ETag"] == tag
    # another principal, another query: another tag
    assert ok(xhub, "rpz", who="telco").headers["ETag"] != tag
    assert ok(xhub, "rpz", action="nodata").headers["ETag"] != tag
    # a publish moves the log: the next poll gets the new zone
    xhub.post_ok("open", "bank", [obj_indicator("[domain-name:value = 'new-one.example']",
                                                "x-new")])
    r3 = get(xhub, "rpz", headers={"If-None-Match": tag})
    assert r3.status_code == 200 and "new-one.example" in r3.text
    assert r3.headers["ETag"] != tag


def test_plain_paging_and_device_cap(xhub):
    full = ok(xhub, "plain").text.splitlines()
    total = int(ok(xhub, "plain").headers["X-Tocsin-Total"])
    assert total == len(full)
    pages = []
    for off in range(0, total, 3):
        r = ok(xhub, "plain", offset=off, limit=3)
        assert int(r.headers["X-Tocsin-Total"]) == total
        pages += r.text.splitlines()
    assert pages == full
    r = ok(xhub, "plain", max=4)
    assert r.text.splitlines() == full[:4]
    assert f"max={total - 4}" in r.headers["X-Tocsin-Left-Out"]
    # an EDL of one kind, as Palo Alto's IP lists want
    r = ok(xhub, "plain", kind="ipv4")
    assert all(v[0].isdigit() for v in r.text.split())
    # its URL lists: host and path, no scheme
    assert ok(xhub, "plain", kind="url", strip_scheme="1").text == "evil-c2.net/login.php\n"
    assert ok(xhub, "plain", kind="url").text == "http://evil-c2.net/login.php\n"
    assert get(xhub, "plain", strip_scheme="yes").status_code == 400


def test_errors_are_json(xhub):
    r = xhub.s.get(url(xhub, "rpz"), timeout=30)
    assert r.status_code == 401 and r.json()["http_status"] == "401"
    assert "WWW-Authenticate" in r.headers
    for path, status in [("nosuch", 404), ("misp-feed", 404), ("rpz/part", 404),
                         ("suricata-dataset/sha1", 404)]:
        r = get(xhub, path)
        assert r.status_code == status, (path, r.status_code)
        assert r.headers["Content-Type"] == "application/json"
        assert r.json()["http_status"] == str(status)
    assert "suricata-dataset/domains" in get(xhub, "suricata-dataset").json()["description"]
    for q, status in [({"offset": "-1"}, 400), ({"kind": "nosuch"}, 400),
                      ({"collection": "nosuch"}, 404), ({"bogus": "1"}, 400)]:
        r = get(xhub, "plain", **q)
        assert r.status_code == status, (q, r.text)
        assert r.json()["http_status"] == str(status)
    assert get(xhub, "rpz", action="drop").status_code == 400
    assert get(xhub, "rpz", action="cname").status_code == 400  # no garden
    r = xhub.s.post(url(xhub, "rpz"), headers=xhub.headers("cert", accept=None), timeout=30)
    assert r.status_code == 405


def test_filters(xhub):
    t = ok(xhub, "plain", collection="finance", who="bank").text.split()
    assert t == ["fin-only.example"]
    t = ok(xhub, "plain", kind="domain").text.split()
    assert set(t) == {"evil-c2.net", "fin-only.example"}
    assert ok(xhub, "plain", min_confidence="90").text == ""
    assert "evil-c2.net" in ok(xhub, "plain", min_confidence="80").text
    t = ok(xhub, "plain", tlp="green", who="bank").text
    assert "185.220.103.3" not in t and "evil-c2.net" in t


def test_cli_gives_the_same(xhub, tmp_path):
    """tocsin export --format F --for ORG is what ORG's key gets."""
    for fmt in ("plain", "rpz", "zeek", "suricata-iprep/reputation"):
        r = ok(xhub, fmt, who="telco")
        f, _, part = fmt.partition("/")
        args = [TOCSIN, "export", "--data", str(xhub.data), "--format", f, "--for", "telenord"]
        if part:
            args += ["--part", part]
        p = run(args)
        assert p.returncode == 0, p.stderr
        strip = lambda t: [l for l in t.splitlines() if "log position" not in l and "SOA" not in l]
        assert strip(p.stdout) == strip(r.text), fmt
    out = tmp_path / "misp"
    p = run([TOCSIN, "export", "--data", str(xhub.data), "--format", "misp-feed", "-o", str(out)])
    assert p.returncode == 0, p.stderr
    man = json.loads((out / "manifest.json").read_text())
    for ev in man:
        assert json.loads((out / f"{ev}.json").read_text())["Event"]["uuid"] == ev
    assert (out / "hashes.csv").read_text()
