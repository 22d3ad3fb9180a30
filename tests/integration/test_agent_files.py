"""tocsin-agent without nftables, over TLS: the hub's certificate checked
against a CA file and its public key pinned ([hub] ca_file,
pinned_public_key: libcurl's CURLOPT_PINNEDPUBLICKEY), and the file
backends — an RPZ zone BIND's named-checkzone accepts, a Suricata dataset,
a Zeek intel file, a plain list and an ipset restore file — written by
rename from the decisions and rewritten on revocation. A wrong pin is
refused: nothing is written and `status` says why. Needs certtool
(gnutls-bin); named-checkzone (bind9-utils) for the zone check."""
import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
import requests

from conftest import Daemon, tocsin
from hubutil import TAXII, basic, obj_indicator

AGENT = os.path.join(os.environ.get("TOCSIN_BUILD", ""), "agent", "tocsin-agent")
WITHIN = 5.0

pytestmark = pytest.mark.skipif(not os.access(AGENT, os.X_OK),
                                 reason=f"tocsin-agent is not built ({AGENT}; it needs "
                                        "libnftables-dev)")


def pin_of(cert):
    out = subprocess.run(["certtool", "-i", "--infile", str(cert)], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"pin-sha256:([A-Za-z0-9+/=]+)", out)
    assert m, out
    return "sha256//" + m.group(1)


@pytest.fixture
def tls_bed(tmp_path):
    from test_daemon_basics import CERTTOOL, make_pki
    if not CERTTOOL:
        pytest.skip("certtool (gnutls-bin) is not installed: scripts/deps.sh")
    pki = make_pki(tmp_path / "pki")
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "orga", "--sector", "finance", "--country", "NO", "--data", d)
    tocsin("org", "add", "orgb", "--sector", "telecom", "--country", "NO", "--data", d)
    key = tocsin("key", "create", "orga", "--role", "contributor", "--data", d).stdout.strip()
    akey = tocsin("key", "create", "orgb", "--role", "agent", "--data", d).stdout.strip()
    coll = tocsin("collection", "add", "open", "--read", "all", "--write", "all",
                  "--data", d).stdout.strip()
    conf = tmp_path / "tls.conf"
    conf.write_text(f"[server]\ntls_listen = 127.0.0.1:0\n"
                    f"tls_cert = {pki / 'server.pem'}\ntls_key = {pki / 'server.key'}\n")
    dm = Daemon(d, config=conf)
    deadline = time.monotonic() + 10
    while not any('"listening"' in ln and '"tls":true' in ln for ln in dm.lines):
        assert time.monotonic() < deadline, dm.log()
        time.sleep(0.05)
    tls_addr = next(json.loads(ln)["addr"] for ln in dm.lines
                    if '"listening"' in ln and '"tls":true' in ln)
    bed = {"pki": pki, "data": d, "key": key, "akey": akey, "coll": coll, "daemon": dm,
           "plain": f"http://{dm.addr}", "tls": f"https://{tls_addr}", "tmp": tmp_path,
           "procs": []}
    yield bed
    for p in bed["procs"]:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=20)
    assert dm.stop() == 0


def publish(bed, objs):
    r = requests.post(f"{bed['plain']}/taxii2/hub/collections/{bed['coll']}/objects/",
                      data=json.dumps({"objects": objs}),
                      headers={"Authorization": basic(bed["key"]), "Accept": TAXII,
                               "Content-Type": TAXII}, timeout=30)
    assert r.status_code == 202 and r.json()["success_count"] == len(objs), r.text


def write_conf(bed, pin):
    t = bed["tmp"]
    conf = t / "agent.conf"
    conf.write_text(f"""[hub]
url = {bed['tls']}
key = {bed['akey']}
ca_file = {bed['pki'] / 'ca.pem'}
pinned_public_key = {pin}
[filter]
kind = ipv4 domain url
[agent]
state_file = {t / 'agent.state'}
state_interval_ms = 100
receipt_interval_ms = 100
[nftables]
enabled = no
[file rpz]
format = rpz
path = {t / 'rpz.zone'}
debounce_ms = 50
reload = echo reloaded >> {t / 'reloads'}
[file suricata]
format = suricata-dataset
part = domains
path = {t / 'domains.lst'}
debounce_ms = 50
[file zeek]
format = zeek
path = {t / 'intel.dat'}
debounce_ms = 50
[file plain]
format = plain
path = {t / 'plain.txt'}
debounce_ms = 50
[file ipset]
format = ipset
path = {t / 'ipset.restore'}
debounce_ms = 50
""")
    return conf


def start(bed, conf):
    out = open(bed["tmp"] / "agent.out", "a")
    p = subprocess.Popen([AGENT, "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT)
    bed["procs"].append(p)
    return p


def wait(pred, what, bed, timeout=WITHIN):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {timeout} s\n"
                         + (bed["tmp"] / "agent.out").read_text()[-3000:])


def read(p):
    return p.read_text() if p.exists() else ""


def test_pinned_tls_and_every_file_format(tls_bed):
    bed = tls_bed
    t = bed["tmp"]
    conf = write_conf(bed, pin_of(bed["pki"] / "server.pem"))
    assert subprocess.run([AGENT, "-c", str(conf), "--check"]).returncode == 0
    start(bed, conf)
    dom = obj_indicator("[domain-name:value = 'phish-agent.example']", f"d-{uuid.uuid4()}")
    ip = obj_indicator("[ipv4-addr:value = '45.33.41.7']", f"i-{uuid.uuid4()}")
    publish(bed, [dom, ip])
    wait(lambda: "45.33.41.7" in read(t / "plain.txt").split() and
         "phish-agent.example" in read(t / "plain.txt").split(), "both in the plain list", bed)
    wait(lambda: "phish-agent.example" in read(t / "rpz.zone"), "the domain in the zone", bed)
    zone = read(t / "rpz.zone")
    assert "phish-agent.example.rpz.tocsin." in zone or "phish-agent.example" in zone
    if shutil.which("named-checkzone"):
        p = subprocess.run(["named-checkzone", "rpz.tocsin", str(t / "rpz.zone")],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr + zone
    wait(lambda: "phish-agent.example" in read(t / "intel.dat"), "the domain in Zeek intel", bed)
    assert "Intel::DOMAIN" in read(t / "intel.dat") and "Intel::ADDR" in read(t / "intel.dat")
    import base64
    wait(lambda: base64.b64encode(b"phish-agent.example").decode() in read(t / "domains.lst"),
         "the domain (base64) in the Suricata dataset", bed)
    wait(lambda: "45.33.41.7" in read(t / "ipset.restore"), "the address in the ipset file",
         bed)
    assert "add " in read(t / "ipset.restore") and "swap" in read(t / "ipset.restore")
    assert read(t / "reloads").count("reloaded") >= 1
    assert not any(p.name.endswith(".tmp") for p in t.iterdir())
    # revocation rewrites them
    publish(bed, [dict(dom, modified="2024-02-01T00:00:00.000Z", revoked=True)])
    wait(lambda: "phish-agent.example" not in read(t / "plain.txt").split(),
         "the revoked domain gone from the plain list", bed)
    wait(lambda: "phish-agent.example" not in read(t / "rpz.zone"), "gone from the zone", bed)
    assert "45.33.41.7" in read(t / "plain.txt").split()
    # status over the pinned TLS connection: position and lag, no error
    def status():
        p = subprocess.run([AGENT, "-c", str(conf), "status", "--json"], capture_output=True,
                           text=True, timeout=30)
        return json.loads(p.stdout)
    # the state file is saved every state_interval_ms (100)
    wait(lambda: status()["by_kind"]["domain"] == 0, "the state without the domain", bed)
    st = status()
    assert st["hub_position"] is not None and st["last_error"] is None, st
    assert st["by_kind"]["ipv4"] == 1 and st["lag"] == 0, st


def test_a_wrong_pin_is_refused(tls_bed):
    bed = tls_bed
    t = bed["tmp"]
    conf = write_conf(bed, "sha256//" + "A" * 43 + "=")
    publish(bed, [obj_indicator("[ipv4-addr:value = '45.33.41.8']", f"i-{uuid.uuid4()}")])
    start(bed, conf)
    wait(lambda: "pinned" in read(t / "agent.out").lower() or
         "public key" in read(t / "agent.out").lower(), "the pin refusal in the log", bed)
    assert "45.33.41.8" not in read(t / "plain.txt")
    def status():
        return subprocess.run([AGENT, "-c", str(conf), "status"], capture_output=True,
                              text=True, timeout=30).stdout
    # the last error reaches the state file within state_interval_ms
    wait(lambda: "public key" in status().lower() or "pinned" in status().lower(),
         "the pin refusal as the last error in status", bed)
    assert "hub position  unknown" in status()


def test_example_configuration_checks(tmp_path):
    """etc/tocsin-agent.conf is a configuration the agent accepts (with its
    key file present); a mistake is reported with its file and line."""
    src = os.path.join(os.environ.get("TOCSIN_SOURCE", ""), "etc", "tocsin-agent.conf")
    keyf = tmp_path / "agent.key"
    keyf.write_text("tcs_example_key\n")
    conf = tmp_path / "agent.conf"
    conf.write_text(open(src).read().replace("/etc/tocsin/agent.key", str(keyf)))
    p = subprocess.run([AGENT, "-c", str(conf), "--check"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    conf.write_text(conf.read_text().replace("hooks = input forward", "hooks = input sideways"))
    p = subprocess.run([AGENT, "-c", str(conf), "--check"], capture_output=True, text=True)
    assert p.returncode == 2 and "sideways" in p.stderr, p.stderr
    conf.write_text("[hub]\nurl = http://h\nkey = k\nbogus = 1\n")
    p = subprocess.run([AGENT, "-c", str(conf), "--check"], capture_output=True, text=True)
    assert p.returncode == 2 and f"{conf}:4:" in p.stderr, p.stderr
