"""Debian's crowdsec-custom-bouncer (0.0.15), a second bouncer on the same
Local API (go-cs-bouncer), pointed at tocsind: it runs its script with
`add VALUE SECONDS SCENARIO JSON` for a published address or network and
`del ...` on revocation, and sends its configured filters (origins,
scenarios_containing) as query parameters tocsind honours
(docs/bouncers.md). No root needed: the script only records its calls."""
import json
import os
import subprocess
import time
import uuid

import pytest
import requests

from conftest import Daemon, tocsin
from hubutil import TAXII, basic, obj_indicator

BOUNCER = "/usr/bin/crowdsec-custom-bouncer"
WITHIN = 10.0

pytestmark = pytest.mark.skipif(
    not os.access(BOUNCER, os.X_OK),
    reason="crowdsec-custom-bouncer is not installed (scripts/deps.sh installs it)")


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.data = tmp / "var"
        tocsin("init", "--data", self.data)
        tocsin("org", "add", "orga", "--sector", "finance", "--country", "NO",
               "--data", self.data)
        self.key = tocsin("key", "create", "orga", "--role", "contributor",
                          "--data", self.data).stdout.strip()
        self.coll = tocsin("collection", "add", "open", "--read", "all", "--write", "all",
                           "--data", self.data).stdout.strip()
        self.daemon = Daemon(self.data)
        self.base = f"http://{self.daemon.addr}"
        self.bouncers = []

    def start_bouncer(self, name, extra=""):
        agent = tocsin("key", "create", "orga", "--role", "agent", "--name", name,
                       "--data", self.data).stdout.strip()
        calls = self.tmp / f"{name}.calls"
        calls.touch()
        script = self.tmp / f"{name}.sh"
        script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{calls}'\n")
        script.chmod(0o755)
        cfg = self.tmp / f"{name}.yaml"
        cfg.write_text(f"""bin_path: {script}
feed_via_stdin: false
total_retries: 0
{extra or "scenarios_containing: []"}
piddir: {self.tmp}/
update_frequency: 50ms
cache_retention_duration: 10s
daemonize: false
log_mode: file
log_dir: {self.tmp}/
log_level: info
api_url: {self.base}/
api_key: {agent}
prometheus:
  enabled: false
  listen_addr: 127.0.0.1
  listen_port: 60602
""")
        time.sleep(1.2)  # tocsind loads the new key from the registry
        p = subprocess.Popen([BOUNCER, "-c", str(cfg)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.bouncers.append(p)
        return calls

    def publish(self, objects):
        r = requests.post(f"{self.base}/taxii2/hub/collections/{self.coll}/objects/",
                          data=json.dumps({"objects": objects}),
                          headers={"Authorization": basic(self.key), "Accept": TAXII,
                                   "Content-Type": TAXII}, timeout=30)
        assert r.status_code == 202 and r.json()["success_count"] == len(objects), r.text

    def close(self):
        for p in self.bouncers:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return self.daemon.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = Env(tmp_path_factory.mktemp("custom-bouncer"))
    yield e
    assert e.close() == 0, e.daemon.log()[-4000:]


def calls_of(path):
    out = []
    for line in path.read_text().splitlines():
        verb, value, seconds, scenario, js = line.split(" ", 4)
        out.append((verb, value, int(seconds), scenario, json.loads(js)))
    return out


def wait_for(pred, what):
    end = time.monotonic() + WITHIN
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {WITHIN} s")


def ind(pattern, **kw):
    return obj_indicator(pattern, f"custom-{uuid.uuid4()}", **kw)


def test_add_and_del_through_the_script(env):
    calls = env.start_bouncer("plain")
    a = ind("[ipv4-addr:value = '45.33.37.1']", valid_until="2030-01-01T00:00:00.000Z")
    net = ind("[ipv6-addr:value = '2a01:4f8:37::/48']")
    env.publish([a, net, ind("[domain-name:value = 'custom-bouncer.example']")])
    wait_for(lambda: {c[1] for c in calls_of(calls) if c[0] == "add"} >=
             {"45.33.37.1", "2a01:4f8:37::/48"}, "both adds")
    adds = {c[1]: c for c in calls_of(calls) if c[0] == "add"}
    assert abs(adds["45.33.37.1"][2] - (1893456000 - time.time())) < 120
    assert adds["45.33.37.1"][4]["scope"] == "Ip"
    assert adds["2a01:4f8:37::/48"][4]["scope"] == "Range"
    assert adds["45.33.37.1"][3] == f"tocsin/open/{a['id']}"
    assert "custom-bouncer.example" not in adds
    env.publish([dict(a, modified="2024-02-01T00:00:00.000Z", revoked=True)])
    wait_for(lambda: any(c[0] == "del" and c[1] == "45.33.37.1" for c in calls_of(calls)),
             "the del")
    time.sleep(0.3)
    assert [c[1] for c in calls_of(calls)].count("45.33.37.1") == 2   # one add, one del


def test_the_bouncers_own_filters(env):
    none = env.start_bouncer("crowdsec-only", "origins:\n  - crowdsec\n  - cscli")
    mine = env.start_bouncer("open-only", "scenarios_containing:\n  - open")
    x = ind("[ipv4-addr:value = '45.33.37.9']")
    env.publish([x])
    wait_for(lambda: any(c[1] == "45.33.37.9" for c in calls_of(mine)), "the add")
    time.sleep(0.5)
    assert not any(c[1] == "45.33.37.9" for c in calls_of(none))
