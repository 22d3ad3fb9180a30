"""tocsin-agent end to end (docs/agent.md): three network namespaces made by
the test — `attacker`, `victim` and the host, where tocsind runs — wired
with veth pairs. The agent runs in the victim's namespace, follows the
hub over the victim's link and keeps its nftables table there. A TCP
connection from the attacker to a listener in the victim succeeds; an
organisation publishes an indicator for the attacker's address over TAXII;
the agent blocks it (the connection now fails) within a bounded time;
revocation, and separately expiry, restore it; an agent killed with
SIGKILL and restarted loses nothing published meanwhile; --dry-run counts
and does not drop.

Needs root (network namespaces, nftables), ip(8) and nft(8)
(scripts/deps.sh installs iproute2 and nftables)."""
import datetime
import json
import os
import signal
import subprocess
import time
import uuid

import pytest
import requests

from conftest import Daemon, tocsin
from hubutil import TAXII, basic, obj_indicator
import nsutil

AGENT = os.path.join(os.environ.get("TOCSIN_BUILD", ""), "agent", "tocsin-agent")
BLOCK_WITHIN = 5.0      # seconds from the publish's acknowledgement to the block
PORT = 8088


def _why_not():
    why = nsutil.why_not("nft")
    if why is None and not os.access(AGENT, os.X_OK):
        why = f"tocsin-agent is not built ({AGENT}; it needs libnftables-dev, libnftnl-dev)"
    return why


WHY_NOT = _why_not()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


sh = nsutil.sh


LISTENER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"hello\\n"); c.close()
"""

CONNECT = """
import socket, sys
s = socket.socket(); s.settimeout(float(sys.argv[4]))
s.bind((sys.argv[3], 0))
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print(s.recv(16).decode().strip())
except OSError as e:
    print("fail", e); sys.exit(1)
"""


class Bed:
    """Namespaces attacker and victim; tocsind on the host, the agent in victim."""

    def __init__(self, tmp):
        pid = os.getpid()
        n = pid % 250
        self.att, self.vic = f"tcsatk{pid}", f"tcsvic{pid}"
        self.hv_h, self.hv_v = f"tah{pid}"[:15], f"tav{pid}"[:15]   # host <-> victim
        self.av_a, self.av_v = f"taa{pid}"[:15], f"tab{pid}"[:15]   # attacker <-> victim
        self.host_ip, self.vic_hub_ip = f"10.232.{n}.1", f"10.232.{n}.2"
        # public addresses: private ones are on the hub's allowlist (never decisions)
        self.vic_ip = "45.33.40.1"
        self.att_ips = ["45.33.40.2", "45.33.40.3"]
        self.tmp = tmp
        self.agent = None
        self.daemon = None
        self.listener = None
        self.made = False
        try:
            self._setup(tmp)
        except BaseException:
            self.close()
            raise

    def _setup(self, tmp):
        self.made = True
        for ns in (self.att, self.vic):
            nsutil.add_ns(ns)
        nsutil.veth(self.hv_h, None, [f"{self.host_ip}/30"],
                    self.hv_v, self.vic, [f"{self.vic_hub_ip}/30"])
        nsutil.veth(self.av_a, self.att, [f"{ip}/24" for ip in self.att_ips],
                    self.av_v, self.vic, [f"{self.vic_ip}/24"])

        self.data = tmp / "var"
        tocsin("init", "--data", self.data)
        tocsin("org", "add", "orga", "--sector", "finance", "--country", "NO",
               "--data", self.data)
        tocsin("org", "add", "orgb", "--sector", "telecom", "--country", "NO",
               "--data", self.data)
        self.key = tocsin("key", "create", "orga", "--role", "contributor",
                          "--data", self.data).stdout.strip()
        self.agent_key = tocsin("key", "create", "orgb", "--role", "agent", "--name", "fw1",
                                "--data", self.data).stdout.strip()
        self.coll = tocsin("collection", "add", "open", "--read", "all", "--write", "all",
                           "--data", self.data).stdout.strip()
        self.daemon = Daemon(self.data, listen=f"{self.host_ip}:0")
        self.base = f"http://{self.daemon.addr}"
        self.state = tmp / "agent.state"
        self.plain = tmp / "blocklist.txt"
        self.conf = tmp / "agent.conf"
        self.write_conf()
        self.listener = subprocess.Popen(["ip", "netns", "exec", self.vic, "python3", "-c",
                                          LISTENER, str(PORT)], stdout=subprocess.PIPE,
                                         stdin=subprocess.DEVNULL, text=True)
        assert self.listener.stdout.readline().strip() == "ready"

    def write_conf(self, extra=""):
        self.conf.write_text(f"""# test_agent.py
[hub]
url = {self.base}
key = {self.agent_key}
idle_timeout = 30
[filter]
kind = ipv4 ipv6
[agent]
state_file = {self.state}
state_interval_ms = 100
[nftables]
table = tocsin
hooks = input forward
[file plain]
format = plain
path = {self.plain}
debounce_ms = 100
{extra}""")

    def start_agent(self, *args):
        self.out = open(self.tmp / "agent.out", "a")
        self.agent = subprocess.Popen(["ip", "netns", "exec", self.vic, AGENT, "-c",
                                       str(self.conf), *args], stdin=subprocess.DEVNULL,
                                      stdout=self.out, stderr=subprocess.STDOUT)
        self.wait(lambda: self.elements() is not None, 20, "the agent's nftables table")

    def kill_agent(self, sig=signal.SIGTERM):
        if self.agent and self.agent.poll() is None:
            self.agent.send_signal(sig)
            try:
                self.agent.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
        rc = self.agent.returncode if self.agent else None
        self.agent = None
        self.out.close()
        return rc

    def elements(self, name="ipv4_addr"):
        """The elements of one of the agent's sets, None without the table."""
        p = sh("ip", "netns", "exec", self.vic, "nft", "-j", "list", "set", "inet", "tocsin",
               name, check=False)
        if p.returncode != 0:
            return None
        out = set()
        for item in json.loads(p.stdout)["nftables"]:
            for e in item.get("set", {}).get("elem", []):
                v = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
                out.add(v if isinstance(v, str) else json.dumps(v))
        return out

    def packets(self):
        """Packets counted by the agent's ipv4 rules in its input chain."""
        p = sh("ip", "netns", "exec", self.vic, "nft", "-j", "list", "chain", "inet", "tocsin",
               "input")
        total = 0
        for item in json.loads(p.stdout)["nftables"]:
            for e in item.get("rule", {}).get("expr", []):
                if "counter" in e:
                    total += e["counter"]["packets"]
        return total

    def connects(self, src=0, timeout=1.0):
        p = sh("ip", "netns", "exec", self.att, "python3", "-c", CONNECT, self.vic_ip,
               str(PORT), self.att_ips[src], str(timeout), check=False, timeout=timeout + 20)
        return p.returncode == 0 and p.stdout.strip() == "hello"

    def publish(self, objects):
        r = requests.post(f"{self.base}/taxii2/hub/collections/{self.coll}/objects/",
                          data=json.dumps({"objects": objects}),
                          headers={"Authorization": basic(self.key), "Accept": TAXII,
                                   "Content-Type": TAXII}, timeout=30)
        assert r.status_code == 202 and r.json()["success_count"] == len(objects), r.text
        return time.monotonic()

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return time.monotonic()
            if self.agent and self.agent.poll() is not None:
                raise AssertionError(f"the agent exited {self.agent.returncode}: " + self.log())
            time.sleep(0.02)
        raise AssertionError(f"{what}: not within {timeout} s; agent log:\n{self.log()}")

    def log(self):
        p = self.tmp / "agent.out"
        return p.read_text()[-4000:] if p.exists() else ""

    def close(self):
        if self.agent:
            self.kill_agent()
        if self.listener:
            self.listener.kill()
            self.listener.wait()
        rc = self.daemon.stop() if self.daemon else 0
        if self.made:
            nsutil.remove([self.att, self.vic], [self.hv_h])
        return rc


@pytest.fixture
def bed(tmp_path):
    b = Bed(tmp_path)
    yield b
    rc = b.close()
    assert rc == 0, b.daemon.log()[-4000:]


def ind(value, **kw):
    return obj_indicator(f"[ipv4-addr:value = '{value}']", f"agent-{value}-{uuid.uuid4()}",
                         **kw)


def revoked(o):
    return dict(o, modified="2024-02-01T00:00:00.000Z", revoked=True)


def test_blocks_then_revocation_restores(bed):
    bed.start_agent()
    assert bed.connects(), "the attacker cannot reach the victim before any block"
    x = ind(bed.att_ips[0])
    t0 = bed.publish([x])
    t1 = bed.wait(lambda: bed.att_ips[0] in bed.elements(), BLOCK_WITHIN,
                  "the attacker's address in the agent's set")
    print(f"publish acknowledged -> in the agent's set: {(t1 - t0) * 1000:.1f} ms")
    assert not bed.connects(), "the attacker still connects after the block"
    assert bed.connects(src=1), "the attacker's other, unlisted address is blocked too"
    assert bed.packets() > 0
    # the plain file backend holds it too, written by rename
    bed.wait(lambda: bed.plain.exists() and bed.att_ips[0] in bed.plain.read_text().split(),
             BLOCK_WITHIN, "the address in the plain list")
    bed.publish([revoked(x)])
    bed.wait(lambda: bed.att_ips[0] not in bed.elements(), BLOCK_WITHIN,
             "the revoked address gone from the set")
    assert bed.connects(), "revocation did not restore the connection"
    bed.wait(lambda: bed.att_ips[0] not in bed.plain.read_text().split(), BLOCK_WITHIN,
             "the revoked address gone from the plain list")
    # status reads the state file and the hub's position
    p = sh("ip", "netns", "exec", bed.vic, AGENT, "-c", str(bed.conf), "status", "--json")
    st = json.loads(p.stdout)
    assert st["position"] > 0 and st["hub_position"] is not None and st["lag"] >= 0, st
    assert st["nftables"]["table"] == "tocsin", st
    # the agent leaves the rest of the ruleset alone: a table of someone else survives
    sh("ip", "netns", "exec", bed.vic, "nft", "add", "table", "inet", "other")
    bed.kill_agent()
    bed.start_agent()
    assert sh("ip", "netns", "exec", bed.vic, "nft", "list", "table", "inet", "other")


def test_expiry_restores(bed):
    bed.start_agent()
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=4))
    x = ind(bed.att_ips[0], valid_until=until.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    bed.publish([x])
    bed.wait(lambda: bed.att_ips[0] in bed.elements(), BLOCK_WITHIN, "the address in the set")
    assert not bed.connects()
    bed.wait(lambda: bed.att_ips[0] not in bed.elements(), 4 + BLOCK_WITHIN,
             "the expired address gone from the set")
    assert bed.connects(), "expiry did not restore the connection"


def test_sigkill_and_restart_loses_nothing(bed):
    bed.start_agent()
    a, b = ind(bed.att_ips[0]), ind(bed.att_ips[1])
    bed.publish([a])
    bed.wait(lambda: bed.att_ips[0] in bed.elements(), BLOCK_WITHIN, "the first address")
    time.sleep(0.3)  # the state file is saved every state_interval_ms (100)
    bed.kill_agent(signal.SIGKILL)
    # during the outage: the first is revoked, the second published
    bed.publish([revoked(a)])
    bed.publish([b])
    state_before = bed.state.read_text()
    bed.start_agent()
    bed.wait(lambda: bed.elements() == {bed.att_ips[1]}, BLOCK_WITHIN,
             "the set as the hub has it after the restart")
    assert bed.connects(src=0) and not bed.connects(src=1)
    # it resumed from its position: no snapshot was taken
    assert "resuming after position" in bed.log()
    assert "taking the hub's snapshot" not in bed.log().split("resuming after position")[-1]
    assert state_before.startswith("tocsin-agent-state 1\n")


def test_dry_run_counts_does_not_drop(bed):
    bed.start_agent("--dry-run")
    x = ind(bed.att_ips[0])
    bed.publish([x])
    bed.wait(lambda: bed.att_ips[0] in bed.elements(), BLOCK_WITHIN, "the address in the set")
    before = bed.packets()
    assert bed.connects(), "--dry-run dropped the connection"
    assert bed.packets() > before, "--dry-run did not count the attacker's packets"


def test_snapshot_when_no_state(bed):
    """Without a state file the agent takes the snapshot of what is already
    decided, then follows live."""
    bed.publish([ind(bed.att_ips[0])])
    bed.start_agent()
    bed.wait(lambda: bed.att_ips[0] in bed.elements(), BLOCK_WITHIN,
             "the address published before the agent started")
    assert "taking the hub's snapshot" in bed.log()
    assert not bed.connects()


def test_receipts_show_protection_lag(bed):
    """The agent reports what it applied; `tocsin agents` and /metrics show
    each agent key's applied position and lag; only agent keys may report,
    and never beyond the hub's log."""
    bed.start_agent()
    bed.publish([ind(bed.att_ips[0])])
    bed.wait(lambda: bed.att_ips[0] in bed.elements(), BLOCK_WITHIN, "the address in the set")
    log_pos = requests.get(f"{bed.base}/healthz", timeout=10).json()["log_position"]
    key_id = None

    def caught_up():
        nonlocal key_id
        rows = [json.loads(line) for line in
                tocsin("agents", "--json", "--data", bed.data).stdout.splitlines()]
        mine = [r for r in rows if r["name"] == "fw1"]
        assert len(mine) == 1 and mine[0]["org"] == "orgb", rows
        key_id = mine[0]["key"]
        return mine[0]["applied_position"] is not None and \
            mine[0]["applied_position"] >= log_pos and mine[0]["lag_positions"] == 0
    bed.wait(caught_up, 5, "the agent's receipt at the hub's position")
    table = tocsin("agents", "--data", bed.data).stdout
    assert key_id in table and "orgb" in table, table
    m = requests.get(f"{bed.base}/metrics", timeout=10).text
    line = [x for x in m.splitlines()
            if x.startswith(f'tocsin_agent_applied_position{{key="{key_id}",org="orgb"}}')]
    assert line and int(line[0].split()[-1]) >= log_pos, m[-2000:]
    assert f'tocsin_agent_lag_positions{{key="{key_id}",org="orgb"}} 0' in m
    # a contributor key may not send receipts; nobody may claim the future
    url = f"{bed.base}/api/v1/agents/receipt"
    r = requests.post(url, json={"position": "1"}, headers={"Authorization": basic(bed.key)},
                      timeout=10)
    assert r.status_code == 403 and r.json()["http_status"] == "403", r.text
    r = requests.post(url, json={"position": str(log_pos + 1000)},
                      headers={"Authorization": basic(bed.agent_key)}, timeout=10)
    assert r.status_code == 400 and "beyond" in r.json()["description"], r.text
    r = requests.post(url, data="{", headers={"Authorization": basic(bed.agent_key)},
                      timeout=10)
    assert r.status_code == 400, r.text
    # a stale receipt never moves the agent back
    r = requests.post(url, json={"position": "1"},
                      headers={"Authorization": basic(bed.agent_key)}, timeout=10)
    assert r.status_code == 200, r.text
    rows = [json.loads(line) for line in
            tocsin("agents", "--json", "--data", bed.data).stdout.splitlines()]
    assert [r for r in rows if r["key"] == key_id][0]["applied_position"] >= log_pos


def test_networks_and_addresses(bed):
    """Networks go to the interval set ipv4_net, addresses to the hash set
    ipv4_addr. nftables refuses overlapping intervals: a network inside a
    listed network is held out of the kernel (the larger one blocks it) and
    put in when the larger one goes; a restart with both in the state
    works."""
    bed.start_agent()
    one = ind(bed.att_ips[0])
    bed.publish([one])
    bed.wait(lambda: bed.att_ips[0] in bed.elements(), BLOCK_WITHIN, "the address")
    assert bed.connects(src=1)
    net = obj_indicator("[ipv4-addr:value = '45.33.40.0/28']", f"agent-net-{uuid.uuid4()}")
    bed.publish([net])
    p28 = json.dumps({"prefix": {"addr": "45.33.40.0", "len": 28}})
    p29 = json.dumps({"prefix": {"addr": "45.33.40.8", "len": 29}})
    bed.wait(lambda: bed.elements("ipv4_net") == {p28}, BLOCK_WITHIN, "the network in ipv4_net")
    assert bed.elements() == {bed.att_ips[0]}
    assert not bed.connects(src=0) and not bed.connects(src=1)
    inner = obj_indicator("[ipv4-addr:value = '45.33.40.8/29']", f"agent-in-{uuid.uuid4()}")
    bed.publish([inner])
    time.sleep(0.3)
    assert bed.elements("ipv4_net") == {p28}, "a network inside a listed one was put in"
    bed.kill_agent()
    bed.start_agent()  # the state holds all three: the load must not overlap
    assert bed.elements("ipv4_net") == {p28} and bed.elements() == {bed.att_ips[0]}
    bed.publish([revoked(net)])
    bed.wait(lambda: bed.elements("ipv4_net") == {p29}, BLOCK_WITHIN,
             "the inner network in the set once the outer one is revoked")
    assert bed.connects(src=1) and not bed.connects(src=0)
    assert "overlap" not in bed.log() and "reloaded whole" not in bed.log(), bed.log()


def test_ipv6(bed):
    """IPv6 addresses go to the ipv6_addr set and leave it on revocation."""
    bed.start_agent()

    def v6():
        p = sh("ip", "netns", "exec", bed.vic, "nft", "-j", "list", "set", "inet", "tocsin",
               "ipv6_addr")
        out = set()
        for item in json.loads(p.stdout)["nftables"]:
            for e in item.get("set", {}).get("elem", []):
                v = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
                out.add(v if isinstance(v, str) else json.dumps(v))
        return out
    y = obj_indicator("[ipv6-addr:value = '2a01:4f8:40::2']", f"agent6-{uuid.uuid4()}")
    bed.publish([y])
    bed.wait(lambda: "2a01:4f8:40::2" in v6(), BLOCK_WITHIN, "the IPv6 address in ipv6_addr")
    assert bed.elements() == set()
    bed.publish([revoked(y)])
    bed.wait(lambda: v6() == set(), BLOCK_WITHIN, "the revoked IPv6 address gone")


def _stream_clients(base):
    for ln in requests.get(f"{base}/metrics", timeout=10).text.splitlines():
        if ln.startswith("tocsin_stream_clients "):
            return float(ln.split()[1])
    raise AssertionError("tocsin_stream_clients not in /metrics")


LOAD_N = 600000  # decisions already on the hub when the agent first starts (seconds to load)


def test_publish_during_initial_load_is_not_delayed_nor_undone(bed, tmp_path):
    """While an empty agent loads a large snapshot, a decision published
    meanwhile is in force before the load has ended (the agent follows the
    live events on a second connection), and a decision of the snapshot
    revoked meanwhile stays removed when the load ends (a live event wins
    over an older snapshot entry). Both are in the state file after."""
    values = [f"45.{34 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}" for i in range(LOAD_N)]
    listing = tmp_path / "load.txt"
    listing.write_text("\n".join(values) + "\n")
    # published through the daemon, the one to revoke: its revocation must
    # name the same indicator
    gone = ind(bed.att_ips[1])
    bed.publish([gone])
    # imported with the daemon stopped, as a hub is filled: its /healthz
    # position, which the agent's live connection starts from, is the log's
    assert bed.daemon.stop() == 0
    # (a minute or more under the sanitizers)
    tocsin("import", "--data", bed.data, "--collection", "open", str(listing), timeout=600)
    bed.daemon = Daemon(bed.data, listen=f"{bed.host_ip}:0")
    bed.base = f"http://{bed.daemon.addr}"
    bed.write_conf()
    pos = requests.get(f"{bed.base}/healthz", timeout=10).json()["log_position"]
    assert pos >= LOAD_N, pos
    before = _stream_clients(bed.base)
    # asked of the kernel by netlink, every 0.5 ms (nft would list the
    # whole set first, which takes seconds); started before the agent, so
    # that the whole load is left for the publish
    waiter = nsutil.element_waiter(bed.vic, "tocsin", "ipv4_addr", bed.att_ips[0], 60)
    bed.start_agent()
    # the live connection is open beside the snapshot's
    bed.wait(lambda: _stream_clients(bed.base) >= before + 2, 20,
             "the agent's two stream connections")
    assert "snapshot applied" not in bed.log(), "the load ended before the test could publish: " + bed.log()
    t0 = bed.publish([ind(bed.att_ips[0])])
    bed.publish([revoked(gone)])
    seen = waiter.communicate(timeout=60)[0].strip()
    loading = "snapshot applied" not in bed.log()
    assert seen, "the decision published during the load never came: " + bed.log()
    took = float(seen) - t0
    print(f"published during the load -> in the set: {took * 1000:.1f} ms "
          f"(load still running: {loading})")
    assert took <= BLOCK_WITHIN
    assert loading, "the decision published during the load waited for the load's end"
    bed.wait(lambda: "snapshot applied" in bed.log(), 120, "the end of the load")
    # a listing made while the kernel still rehashes a set that just grew
    # may miss elements: the same answer twice
    got, prev = bed.elements(), None
    for _ in range(5):
        if got == prev:
            break
        prev, got = got, bed.elements()
    assert bed.att_ips[0] in got, "the live decision was undone by the load"
    assert bed.att_ips[1] not in got, "the snapshot's older entry undid the live revocation"
    assert len(got & set(values)) == LOAD_N
    assert not bed.connects(src=0) and bed.connects(src=1)
    # after the load one connection is left
    # (the hub notices the dropped one at its next write: a heartbeat at most)
    bed.wait(lambda: _stream_clients(bed.base) == before + 1, 40, "one stream connection")
    # the state file, written in the background, holds the same
    bed.wait(lambda: bed.state.exists() and "\nend\t" in bed.state.read_text(), 30,
             "the state file after the load")
    bed.kill_agent()
    st = bed.state.read_text()
    assert f"\t{bed.att_ips[0]}\n" in st and f"\t{bed.att_ips[1]}\n" not in st
