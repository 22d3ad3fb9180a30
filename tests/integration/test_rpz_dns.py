"""RPZ over DNS from tocsind (issue 11): BIND 9 and Unbound, the real
Debian programs, as RPZ secondaries of tocsind's zones; a phishing domain
published through TAXII resolves to NXDOMAIN through both, resolves again
once revoked, and every change after the first transfer travels by IXFR.
The server refuses what would make it a reflector or leak a zone: queries
from outside a zone's allow, transfers without TSIG, AXFR over UDP.

Skipped, with the reason, only when named, unbound or dig is not
installed (scripts/deps.sh installs them)."""
import base64
import json
import os
import re
import socket
import struct
import time

import pytest
import requests

from conftest import Daemon, tocsin
from dnsutil import (STUB_ADDR, Stub, dig, free_port, have, query, rcode_of, start_named,
                     start_unbound, tcp_ask, udp_ask, wait_for)
from hubutil import Hub, obj_indicator

pytestmark = pytest.mark.skipif(
    not have("named", "unbound", "dig"),
    reason="needs named (bind9), unbound and dig (bind9-dnsutils): run scripts/deps.sh")

TEST_DOMAIN = "test"
PHISH = "phish-bank.test"
BIND_ZONE = "rpz.tocsin.example"
UNBOUND_ZONE = "rpz-u.tocsin.example"
ACL_ZONE = "rpz-acl.tocsin.example"
SILENT_ZONE = "rpz-s.tocsin.example"
KEY = "xfr-key"
CHANGE_TIMEOUT = 10  # seconds a resolver may take to apply a change (measured: milliseconds)


def transfers(daemon, zone):
    out = []
    for line in daemon.lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == "rpz transfer" and rec.get("zone") == zone:
            out.append(rec)
    return out


@pytest.fixture(scope="module")
def rpz(tmp_path_factory):
    base = tmp_path_factory.mktemp("rpz")
    d = base / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "bank", "--sector", "finance", "--country", "NO", "--data", d)
    tocsin("org", "add", "telco", "--sector", "telecom", "--country", "NO", "--data", d)
    key = tocsin("key", "create", "bank", "--role", "contributor", "--name", "soc",
                 "--data", d).stdout.strip()
    coll = tocsin("collection", "add", "phish", "--read", "all", "--write", "all",
                  "--data", d).stdout.strip()
    secret = base64.b64encode(os.urandom(32)).decode()
    (base / "tsig.key").write_text(secret + "\n")
    dport, bport, uport, sport = free_port(), free_port(), free_port(), free_port()
    # a secondary that never answers NOTIFY (test_notify_is_retried...)
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    silent_port = silent.getsockname()[1]
    conf = base / "tocsind.conf"
    conf.write_text(f"""[dns]
listen = 127.0.0.1:{dport}
rate_limit = 50
tcp_idle_timeout = 2

[decisions]
block_min_confidence = 50

[rpz bind]
origin = {BIND_ZONE}
view = org:telco
kinds = domain ipv4 ipv6
tsig_key = {KEY}
tsig_secret_file = {base}/tsig.key
allow = 127.0.0.0/8
notify = 127.0.0.1:{bport}

[rpz unbound]
origin = {UNBOUND_ZONE}
view = operator
tsig_key = {KEY}
tsig_secret_file = {base}/tsig.key
allow = 127.0.0.0/8
allow_unsigned_transfer = 127.0.0.1/32
notify = 127.0.0.1:{uport}

[rpz silent]
origin = {SILENT_ZONE}
view = operator
tsig_key = {KEY}
tsig_secret_file = {base}/tsig.key
notify = 127.0.0.1:{silent_port}

[rpz acl]
origin = {ACL_ZONE}
view = operator
tsig_key = {KEY}
tsig_secret_file = {base}/tsig.key
allow = 10.0.0.0/8
""")
    stub = Stub(sport)
    daemon = Daemon(d, config=conf)
    named = start_named(base / "named", bport, dport, BIND_ZONE, KEY, secret, sport, TEST_DOMAIN)
    unbound = start_unbound(base / "unbound", uport, dport, UNBOUND_ZONE, sport, TEST_DOMAIN)
    hub = Hub(f"http://{daemon.addr}", {"soc": key}, {}, {"phish": coll}, {}, {}, {}, data=d,
              daemon=daemon)
    env = {"daemon": daemon, "hub": hub, "dport": dport, "bport": bport, "uport": uport,
           "secret": secret, "base": base, "silent": silent}
    try:
        # both secondaries have taken the zone (an AXFR each) and resolve
        ok = wait_for(lambda: transfers(daemon, "bind") and transfers(daemon, "unbound"), 30, 0.1)
        assert ok, ("no initial transfer:\n" + daemon.log()[-3000:] + "\nnamed:\n"
                    + (base / "named" / "named.log").read_text()[-3000:] + "\nunbound:\n"
                    + (base / "unbound" / "unbound.log").read_text()[-3000:])
        yield env
    finally:
        for p in (named, unbound):
            p.terminate()
            try:
                p.wait(timeout=10)
            except Exception:
                p.kill()
        stub.close()
        silent.close()
        rc = daemon.stop()
        assert rc == 0, daemon.log()[-3000:]


def resolves(port, name):
    st, out = dig(port, name, "A", ["+recurse"])
    return st, out


def test_soa_serial_is_the_log_position_and_lookups_answer(rpz):
    st, out = dig(rpz["dport"], BIND_ZONE, "SOA", ["+norec"])
    assert st == "NOERROR", out
    m = re.search(r"SOA\s+localhost\. hostmaster\.localhost\. (\d+) ", out)
    assert m, out
    # a name that is no trigger: NXDOMAIN from the zone itself, with the SOA
    st, out = dig(rpz["dport"], "nothing-here." + BIND_ZONE, "A", ["+norec"])
    assert st == "NXDOMAIN", out
    # a name outside every zone: REFUSED (no recursion, no other zone)
    st, out = dig(rpz["dport"], "example.org", "A", ["+norec"])
    assert st == "REFUSED", out


def test_refused_outside_acl_without_tsig_and_over_udp(rpz):
    port = rpz["dport"]
    # [rpz acl] allows 10.0.0.0/8 only: 127.0.0.1 is refused, SOA included
    st, out = dig(port, ACL_ZONE, "SOA", ["+norec"])
    assert st == "REFUSED", out
    # a transfer without TSIG (TCP) is refused ...
    ans = tcp_ask(port, query(BIND_ZONE, "AXFR"))
    assert ans is not None and rcode_of(ans) == "REFUSED"
    _, out = dig(port, BIND_ZONE, "AXFR")
    assert "Transfer failed" in out, out
    # ... and with a wrong key too
    wrong = base64.b64encode(b"w" * 32).decode()
    _, out = dig(port, BIND_ZONE, "AXFR", ["-y", f"hmac-sha256:{KEY}:{wrong}"])
    assert "IN\tCNAME" not in out and ("Transfer failed" in out or "tsig verify failure" in out
                                       or "NOTAUTH" in out), out
    # with the key: the whole zone, signed
    _, out = dig(port, BIND_ZONE, "AXFR", ["-y", f"hmac-sha256:{KEY}:{rpz['secret']}"])
    assert "XFR size" in out and "TSIG" in out, out
    # AXFR over UDP: refused, never a zone in a datagram
    ans = udp_ask(port, query(BIND_ZONE, "AXFR"))
    assert ans is not None and rcode_of(ans) == "REFUSED"
    assert len(ans) < 512
    m = requests.get(f"http://{rpz['daemon'].addr}/metrics", timeout=10).text
    for reason in ("acl", "tsig", "udp_transfer", "zone"):
        v = re.search(r'tocsin_dns_refused_total\{reason="%s"\} (\d+)' % reason, m)
        assert v and int(v.group(1)) >= 1, (reason, m)


def test_udp_rate_limited_per_source(rpz):
    port = rpz["dport"]
    # 200 queries at once from one address: [dns] rate_limit = 50 a second,
    # a burst of as many; the rest get no answer at all
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    t0 = time.monotonic()
    for i in range(200):
        s.sendto(query(BIND_ZONE, "SOA", qid=i), ("127.0.0.1", port))
    answered = 0
    try:
        while True:
            s.recvfrom(4096)
            answered += 1
    except socket.timeout:
        pass
    s.close()
    elapsed = time.monotonic() - t0
    assert 40 <= answered <= 50 + 50 * elapsed + 5, (answered, elapsed)
    m = requests.get(f"http://{rpz['daemon'].addr}/metrics", timeout=10).text
    v = re.search(r"tocsin_dns_rate_limited_total (\d+)", m)
    assert v and int(v.group(1)) >= 50, m


def test_publish_blocks_and_revoke_unblocks_through_bind_and_unbound(rpz):
    hub, daemon = rpz["hub"], rpz["daemon"]
    bport, uport = rpz["bport"], rpz["uport"]
    # before: the domain resolves through both resolvers (the stub answers)
    for port in (bport, uport):
        st = wait_for(lambda: resolves(port, PHISH)[0] == "NOERROR", 15, 0.2)
        assert st, resolves(port, PHISH)[1]
        assert STUB_ADDR in resolves(port, PHISH)[1]
    first = {z: len(transfers(daemon, z)) for z in ("bind", "unbound")}

    ind = obj_indicator(f"[domain-name:value = '{PHISH}']", "rpz-phish",
                        modified="2026-01-01T00:00:00.000Z", confidence=90)
    hub.post_ok("phish", "soc", [ind])
    for port in (bport, uport):
        ok = wait_for(lambda: resolves(port, PHISH)[0] == "NXDOMAIN", CHANGE_TIMEOUT, 0.01)
        assert ok, (port, resolves(port, PHISH)[1], daemon.log()[-2000:])
        # the trigger's "*." twin blocks the subdomains too
        assert resolves(port, "login." + PHISH)[0] == "NXDOMAIN"

    revoked = dict(ind, modified="2026-01-02T00:00:00.000Z", revoked=True)
    hub.post_ok("phish", "soc", [revoked])
    for port in (bport, uport):
        ok = wait_for(lambda: resolves(port, PHISH)[0] == "NOERROR", CHANGE_TIMEOUT, 0.01)
        assert ok, (port, resolves(port, PHISH)[1], daemon.log()[-2000:])

    # IXFR, not AXFR, carried each change after the first transfer
    for zone in ("bind", "unbound"):
        later = transfers(daemon, zone)[first[zone]:]
        kinds = [t["type"] for t in later if t["rrs"] > 1]
        assert kinds and all(k == "ixfr" for k in kinds), (zone, later)
        assert sum(1 for t in later if t["type"] == "ixfr" and t["rrs"] > 1) >= 2, later
        assert all(t["complete"] for t in later), later
    m = requests.get(f"http://{daemon.addr}/metrics", timeout=10).text
    assert int(re.search(r"tocsin_dns_notifies_total (\d+)", m).group(1)) >= 4, m
    assert int(re.search(r'tocsin_dns_transfers_total\{type="ixfr"\} (\d+)', m).group(1)) >= 4


def test_check_prints_every_rpz_key_but_never_the_secret(tmp_path):
    """`tocsind --check` validates and prints an [rpz] zone's every key
    (each documented in tocsind(8) and etc/tocsind.conf), never the TSIG
    secret; a zone without its required keys is a configuration error."""
    from conftest import TOCSIND
    import subprocess
    from pathlib import Path
    src = Path(os.environ.get("TOCSIN_SOURCE", Path(__file__).resolve().parents[2]))
    data = tmp_path / "var"
    tocsin("init", "--data", data)
    secret = base64.b64encode(b"s" * 32).decode()
    (tmp_path / "k").write_text(secret + "\n")
    conf = tmp_path / "c.conf"
    conf.write_text(f"[dns]\nlisten = 127.0.0.1:0\n[rpz z]\norigin = z.example\nview = operator\n"
                    f"tsig_key = k\ntsig_secret_file = {tmp_path}/k\n")
    p = subprocess.run([TOCSIND, "--check", "--data", str(data), "--config", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    assert secret not in p.stdout
    section = p.stdout.split("[rpz z]\n", 1)[1]
    keys = re.findall(r"^(?:# )?([a-z_]+)(?: = | is not set)", section, re.M)
    assert len(keys) >= 16, section
    man = (src / "docs" / "man" / "tocsind.8").read_text().replace("\\-", "-")
    etc = (src / "etc" / "tocsind.conf").read_text()
    assert not [k for k in keys if not re.search(rf"\b{k}\b", man)], keys
    assert not [k for k in keys if not re.search(rf"^#? ?{k} =", etc, re.M)], keys
    conf.write_text("[dns]\nlisten = 127.0.0.1:0\n[rpz z]\norigin = z.example\n")
    p = subprocess.run([TOCSIND, "--check", "--data", str(data), "--config", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "[rpz z] (line 3): view is required" in p.stderr, p.stderr


def test_a_zone_carries_only_what_its_view_may_see(rpz):
    """[rpz bind] has view = org:telco: a TLP:RED indicator of the bank
    (no recipients) is not in it, while the operator's zone carries it;
    a GREEN one is in both. Read by AXFR from tocsind itself."""
    from hubutil import TLP2
    hub, port, secret = rpz["hub"], rpz["dport"], rpz["secret"]
    red = obj_indicator("[domain-name:value = 'red-only.test']", "rpz-red",
                        markings=[TLP2["red"]], confidence=80)
    green = obj_indicator("[domain-name:value = 'green-too.test']", "rpz-green",
                          markings=[TLP2["green"]], confidence=80)
    hub.post_ok("phish", "soc", [red, green])

    def zone(name):
        _, out = dig(port, name, "AXFR", ["-y", f"hmac-sha256:{KEY}:{secret}"])
        return out

    assert wait_for(lambda: "green-too.test." + UNBOUND_ZONE in zone(UNBOUND_ZONE)
                    and "green-too.test." + BIND_ZONE in zone(BIND_ZONE), 10, 0.05)
    assert "red-only.test." + UNBOUND_ZONE in zone(UNBOUND_ZONE)
    assert "red-only" not in zone(BIND_ZONE)
    # nor does a lookup in telco's zone reveal it
    st, out = dig(port, "red-only.test." + BIND_ZONE, "CNAME", ["+norec"])
    assert st == "NXDOMAIN", out


def test_notify_is_retried_until_the_secondary_answers(rpz):
    """RFC 1996 §3.6: a NOTIFY nobody answers is sent again (same id, after
    1 s, then 2 s...); once the secondary answers, no more come."""
    silent, hub = rpz["silent"], rpz["hub"]
    silent.settimeout(0.05)
    try:  # what earlier changes sent
        while True:
            silent.recvfrom(4096)
    except socket.timeout:
        pass
    hub.post_ok("phish", "soc", [obj_indicator("[domain-name:value = 'notify-retry.test']",
                                               "rpz-notify-retry", confidence=80)])
    # a resend of an earlier change's NOTIFY may still come once (the new
    # change supersedes it); ours is the id that comes twice
    seen = {}
    second = peer = None
    end = time.monotonic() + 6
    silent.settimeout(0.2)
    while time.monotonic() < end and second is None:
        try:
            msg, frm = silent.recvfrom(4096)
        except socket.timeout:
            continue
        assert (struct.unpack("!H", msg[2:4])[0] >> 11) & 0xF == 4  # opcode NOTIFY
        if msg[:2] in seen:
            waited = time.monotonic() - seen[msg[:2]]
            second, peer = msg, frm
        else:
            seen[msg[:2]] = time.monotonic()
    assert second is not None, "no NOTIFY was sent again"
    assert 0.5 < waited < 3, waited
    # answer it: QR set, the same id and question
    answer = second[:2] + struct.pack("!H", 0x8000 | (4 << 11) | 0x0400) + second[4:6] + \
        b"\0\0\0\0\0\0" + second[12:second.index(b"\0", 12) + 5]
    silent.sendto(answer, peer)
    silent.settimeout(3.5)
    with pytest.raises(socket.timeout):
        silent.recvfrom(4096)


def test_tcp_connections_cannot_be_held_idle_or_by_trickling(rpz):
    """[dns] tcp_idle_timeout = 2: a silent connection is closed, and so is
    one that sends a byte now and then without completing a message."""
    port = rpz["dport"]
    for trickle in (False, True):
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        t0 = time.monotonic()
        closed = False
        c.settimeout(0.4)
        sent = 0
        while time.monotonic() - t0 < 8 and not closed:
            if trickle:
                try:
                    c.send(b"\x00" if sent == 0 else b"\x01")
                    sent += 1
                except OSError:
                    closed = True
                    break
            try:
                closed = c.recv(1) == b""
            except socket.timeout:
                pass
            except OSError:
                closed = True
        took = time.monotonic() - t0
        c.close()
        assert closed and took < 4.5, (trickle, closed, took)


def test_an_expired_decision_leaves_the_zone(rpz):
    """valid_until passes: the hub's clock removes the decision, and the
    zone follows (a lookup in tocsind's zone: CNAME, then NXDOMAIN)."""
    import datetime
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3))
    ind = obj_indicator("[domain-name:value = 'short-lived.test']", "rpz-expiring", confidence=80,
                        valid_until=until.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    rpz["hub"].post_ok("phish", "soc", [ind])
    name = "short-lived.test." + UNBOUND_ZONE
    assert wait_for(lambda: dig(rpz["dport"], name, "CNAME", ["+norec"])[0] == "NOERROR", 5,
                    0.05)
    assert wait_for(lambda: dig(rpz["dport"], name, "CNAME", ["+norec"])[0] == "NXDOMAIN", 10,
                    0.1), dig(rpz["dport"], name, "CNAME", ["+norec"])[1]


def test_an_alert_decision_blocks_nothing(rpz):
    """[decisions] block_min_confidence = 50: an indicator of confidence 30
    makes an "alert" decision, which no zone carries; raised to 80, it
    blocks."""
    hub, port = rpz["hub"], rpz["dport"]
    low = obj_indicator("[domain-name:value = 'maybe-bad.test']", "rpz-alert", confidence=30)
    hub.post_ok("phish", "soc", [low])
    marker = obj_indicator("[domain-name:value = 'after-alert.test']", "rpz-alert-marker",
                           confidence=80)
    hub.post_ok("phish", "soc", [marker])
    name = "maybe-bad.test." + UNBOUND_ZONE
    # once the later publish is in the zone, the earlier one was judged too
    assert wait_for(lambda: dig(port, "after-alert.test." + UNBOUND_ZONE, "CNAME",
                                ["+norec"])[0] == "NOERROR", 5, 0.05)
    assert dig(port, name, "CNAME", ["+norec"])[0] == "NXDOMAIN"
    hub.post_ok("phish", "soc", [dict(low, modified="2026-02-01T00:00:00.000Z", confidence=80)])
    assert wait_for(lambda: dig(port, name, "CNAME", ["+norec"])[0] == "NOERROR", 5, 0.05)
