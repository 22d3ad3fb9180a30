"""The CrowdSec Local API endpoints bouncers read (docs/bouncers.md), against
the real tocsind: the answer's shape as crowdsec-firewall-bouncer parses it,
authentication by X-Api-Key for keys of role agent, startup against later
polls, resuming after a restart of tocsind, and policy (a bouncer never
gets another organisation's RED indicator)."""
import json
import re
import time
import uuid

import pytest
import requests

from conftest import Daemon, tocsin
from hubutil import TAXII, TLP2, basic, obj_indicator

GO_DURATION = re.compile(r"^(\d+h)?(\d+m)?\d+(\.\d+)?s$")


def go_seconds(d):
    """Seconds of a Go duration as crowdsec_duration writes it."""
    m = re.match(r"^(?:(\d+)h)?(?:(\d+)m)?(\d+(?:\.\d+)?)s$", d)
    assert m, d
    return int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60 + float(m.group(3))


class Env:
    def __init__(self, tmp):
        self.data = tmp / "var"
        tocsin("init", "--data", self.data)
        self.keys = {}
        for org, sector in (("orga", "finance"), ("orgb", "telecom")):
            tocsin("org", "add", org, "--sector", sector, "--country", "NO", "--data", self.data)
            self.keys[org] = tocsin("key", "create", org, "--role", "contributor",
                                    "--data", self.data).stdout.strip()
            self.keys[org + "_agent"] = tocsin("key", "create", org, "--role", "agent",
                                               "--data", self.data).stdout.strip()
        self.keys["orgb_reader"] = tocsin("key", "create", "orgb", "--role", "reader",
                                          "--data", self.data).stdout.strip()
        self.coll = tocsin("collection", "add", "open", "--read", "all", "--write", "all",
                           "--data", self.data).stdout.strip()
        self.conf = tmp / "tocsind.conf"
        self.conf.write_text("[bouncers]\npoll_max_decisions = 3\nno_expiry_hours = 1000\n")
        self.start()

    def start(self):
        self.daemon = Daemon(self.data, config=self.conf)
        self.base = f"http://{self.daemon.addr}"

    def publish(self, org, objects):
        r = requests.post(f"{self.base}/taxii2/hub/collections/{self.coll}/objects/",
                          data=json.dumps({"objects": objects}),
                          headers={"Authorization": basic(self.keys[org]), "Accept": TAXII,
                                   "Content-Type": TAXII}, timeout=30)
        assert r.status_code == 202, r.text
        assert r.json()["success_count"] == len(objects), r.text

    def stream(self, who, startup, **params):
        q = {"startup": "true" if startup else "false", **params}
        r = requests.get(f"{self.base}/v1/decisions/stream", params=q,
                         headers={"X-Api-Key": self.keys[who],
                                  "User-Agent": "crowdsec-firewall-bouncer/v0.0.25"},
                         timeout=30)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("application/json")
        return r.json()

    def live(self, who, **params):
        r = requests.get(f"{self.base}/v1/decisions", params=params,
                         headers={"X-Api-Key": self.keys[who]}, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self):
        return self.daemon.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = Env(tmp_path_factory.mktemp("crowdsec"))
    yield e
    rc = e.stop()
    assert rc == 0, e.daemon.log()[-4000:]


def ind(value, kind="ipv4-addr", **kw):
    return obj_indicator(f"[{kind}:value = '{value}']", f"cs-{value}-{uuid.uuid4()}", **kw)


def values(decisions):
    return sorted(d["value"] for d in decisions or [])


def drain(env, who):
    """Polls until a poll answers nothing; returns every decision seen."""
    new, deleted = [], []
    for _ in range(50):
        a = env.stream(who, False)
        if not a["new"] and not a["deleted"]:
            return new, deleted
        new += a["new"]
        deleted += a["deleted"]
    raise AssertionError("the stream never ran dry")


# --- authentication -------------------------------------------------------------

def test_refuses_without_an_agent_key(env):
    url = f"{env.base}/v1/decisions/stream?startup=true"
    for headers in ({}, {"X-Api-Key": "tcs_nope_nope"}, {"X-Api-Key": env.keys["orgb"]},
                    {"X-Api-Key": env.keys["orgb_reader"]},
                    {"Authorization": basic(env.keys["orgb"])}):
        r = requests.get(url, headers=headers, timeout=10)
        assert r.status_code == 403, (headers, r.status_code, r.text)
        body = r.json()
        assert body["message"] == "access forbidden" and body["http_status"] == "403"
        assert "description" in body
    # the agent key is accepted in X-Api-Key, and as tocsind accepts keys elsewhere
    assert requests.get(url, headers={"X-Api-Key": env.keys["orgb_agent"]},
                        timeout=10).status_code == 200
    assert requests.get(url, headers={"Authorization": basic(env.keys["orgb_agent"])},
                        timeout=10).status_code == 200
    r = requests.post(url, headers={"X-Api-Key": env.keys["orgb_agent"]}, timeout=10)
    assert r.status_code == 405 and r.json()["http_status"] == "405"


def test_bad_query_is_a_json_400(env):
    for q in ("startup=maybe", "startup=true&scopes=" + ",".join(["ip"] * 40),
              "startup=%zz"):
        r = requests.get(f"{env.base}/v1/decisions/stream?{q}",
                         headers={"X-Api-Key": env.keys["orgb_agent"]}, timeout=10)
        assert r.status_code == 400, (q, r.text)
        assert r.json()["title"] == "bad request"
    r = requests.get(f"{env.base}/v1/decisions?ip=not-an-ip",
                     headers={"X-Api-Key": env.keys["orgb_agent"]}, timeout=10)
    assert r.status_code == 400 and "ip" in r.json()["description"]


# --- shape, startup and polls ------------------------------------------------------

def test_startup_then_delta(env):
    a4, a6, net = "45.33.32.10", "2a01:4f8:1:2::10", "45.33.40.0/24"
    until = "2030-01-01T00:00:00.000Z"
    env.publish("orga", [ind(a4, valid_until=until), ind(a6, kind="ipv6-addr"),
                         ind(net), ind("evil-startup.example", kind="domain-name")])
    first = env.stream("orgb_agent", True)
    assert set(first) == {"new", "deleted"} and first["deleted"] == []
    got = {d["value"]: d for d in first["new"]}
    assert {a4, a6, net} <= set(got)
    assert "evil-startup.example" not in got           # not for a firewall
    d4 = got[a4]
    assert d4["scope"] == "Ip" and got[a6]["scope"] == "Ip" and got[net]["scope"] == "Range"
    assert d4["type"] == "ban" and d4["origin"] == "tocsin" and d4["simulated"] is False
    assert isinstance(d4["id"], int) and 0 < d4["id"] < 2**53
    assert d4["scenario"].startswith("tocsin/open/indicator--")
    assert GO_DURATION.match(d4["duration"]), d4
    left = time.time() + go_seconds(d4["duration"])
    assert abs(left - 1893456000) < 120                # 2030-01-01, as until says
    assert d4["until"] == "2030-01-01T00:00:00Z"
    # no valid_until: the configured duration (no_expiry_hours = 1000)
    assert abs(go_seconds(got[a6]["duration"]) - 1000 * 3600) < 120

    # a later poll gives only what changed since
    drain(env, "orgb_agent")
    extra = ind("45.33.32.11")
    env.publish("orga", [extra])
    new, deleted = drain(env, "orgb_agent")
    assert values(new) == ["45.33.32.11"] and deleted == []
    new_id = new[0]["id"]
    # revoked: deleted, with the same id it was added with
    env.publish("orga", [dict(extra, modified="2024-02-01T00:00:00.000Z", revoked=True)])
    new, deleted = drain(env, "orgb_agent")
    assert new == [] and values(deleted) == ["45.33.32.11"]
    assert deleted[0]["id"] == new_id
    assert "45.33.32.11" not in values(env.stream("orgb_agent", True)["new"])


def test_ids_are_stable(env):
    x = ind("45.33.32.40")
    env.publish("orga", [x])
    snap = {d["value"]: d["id"] for d in env.stream("orgb_agent", True)["new"]}
    env.publish("orga", [dict(x, modified="2024-02-01T00:00:00.000Z", revoked=True)])
    _, deleted = drain(env, "orgb_agent")
    assert {d["value"]: d["id"] for d in deleted}["45.33.32.40"] == snap["45.33.32.40"]


def test_poll_is_bounded_and_the_rest_follows(env):
    env.stream("orgb_agent", True)
    vals = [f"45.33.32.{100 + i}" for i in range(8)]
    env.publish("orga", [ind(v) for v in vals])
    seen = []
    polls = 0
    while True:
        a = env.stream("orgb_agent", False)
        polls += 1
        assert len(a["new"]) + len(a["deleted"]) <= 3     # poll_max_decisions
        if not a["new"] and not a["deleted"]:
            break
        seen += values(a["new"])
    assert sorted(seen) == sorted(vals) and polls >= 4    # none lost, none repeated


def test_add_then_remove_in_one_poll_is_only_deleted(env):
    env.stream("orgb_agent", True)
    x = ind("45.33.32.60")
    env.publish("orga", [x])
    env.publish("orga", [dict(x, modified="2024-02-01T00:00:00.000Z", revoked=True)])
    new, deleted = drain(env, "orgb_agent")
    assert "45.33.32.60" not in values(new) and values(deleted) == ["45.33.32.60"]


def test_scopes_and_filters(env):
    env.publish("orga", [ind("45.33.41.0/28"), ind("45.33.32.77")])
    only_ip = env.stream("orgb_agent", True, scopes="ip")
    assert {d["scope"] for d in only_ip["new"]} == {"Ip"}
    only_range = env.stream("orgb_agent", True, scopes="Range")
    assert {d["scope"] for d in only_range["new"]} == {"Range"}
    assert env.stream("orgb_agent", True, origins="crowdsec,cscli")["new"] == []
    assert env.stream("orgb_agent", True, origins="cscli,tocsin")["new"]
    assert env.stream("orgb_agent", True, scenarios_containing="ssh")["new"] == []
    assert env.stream("orgb_agent", True, scenarios_containing="open")["new"]
    assert env.stream("orgb_agent", True, scenarios_not_containing="tocsin")["new"] == []


def test_live_query(env):
    env.publish("orga", [ind("45.33.50.0/24"), ind("45.33.51.7")])
    hit = env.live("orgb_agent", ip="45.33.50.9")          # inside the network
    assert values(hit) == ["45.33.50.0/24"] and hit[0]["scope"] == "Range"
    assert values(env.live("orgb_agent", ip="45.33.51.7")) == ["45.33.51.7"]
    assert env.live("orgb_agent", ip="45.33.52.1") is None  # LAPI: null when nothing
    assert values(env.live("orgb_agent", range="45.33.50.0/25")) == ["45.33.50.0/24"]
    assert values(env.live("orgb_agent", range="45.33.48.0/20", contains="false")) == \
        ["45.33.50.0/24", "45.33.51.7"]
    assert values(env.live("orgb_agent", scope="ip", value="45.33.51.7")) == ["45.33.51.7"]
    assert env.live("orgb_agent", scope="username", value="bob") is None
    assert env.live("orgb_agent", ip="45.33.51.7", type="captcha") is None
    r = requests.head(f"{env.base}/v1/decisions?ip=45.33.51.7",
                      headers={"X-Api-Key": env.keys["orgb_agent"]}, timeout=10)
    assert r.status_code == 200


# --- policy ----------------------------------------------------------------------

def test_bouncer_never_gets_another_orgs_red(env):
    red = ind("45.33.32.200", markings=[TLP2["red"]])
    green = ind("45.33.32.201", markings=[TLP2["green"]])
    env.stream("orga_agent", True)
    env.stream("orgb_agent", True)
    env.publish("orga", [red, green])
    new_b, _ = drain(env, "orgb_agent")
    new_a, _ = drain(env, "orga_agent")
    assert "45.33.32.201" in values(new_b) and "45.33.32.200" not in values(new_b)
    assert "45.33.32.200" in values(new_a)                   # its producer's bouncer has it
    assert "45.33.32.200" not in values(env.stream("orgb_agent", True)["new"])
    assert env.live("orgb_agent", ip="45.33.32.200") is None
    assert values(env.live("orga_agent", ip="45.33.32.200")) == ["45.33.32.200"]
    # revoking it tells nothing to B either
    env.publish("orga", [dict(red, modified="2024-02-01T00:00:00.000Z", revoked=True)])
    _, del_b = drain(env, "orgb_agent")
    assert "45.33.32.200" not in values(del_b)


# --- restarts --------------------------------------------------------------------

def test_cursor_survives_a_restart(env):
    env.stream("orgb_agent", True)
    before = ind("45.33.32.150")
    env.publish("orga", [before])
    new, _ = drain(env, "orgb_agent")
    assert values(new) == ["45.33.32.150"]
    assert env.stop() == 0
    env.start()
    # nothing repeated after the restart
    assert env.stream("orgb_agent", False) == {"new": [], "deleted": []}
    # published while the bouncer was not polling: not lost
    after = ind("45.33.32.151")
    env.publish("orga", [after])
    assert env.stop() == 0
    env.start()
    new, _ = drain(env, "orgb_agent")
    assert values(new) == ["45.33.32.151"]


def test_startup_again_deletes_what_went_meanwhile(env):
    """A bouncer that starts again (after a kill that left its firewall
    as it was) is told in "deleted" what was removed since its last poll."""
    x, y = ind("45.33.34.1"), ind("45.33.34.2")
    env.publish("orga", [x, y])
    drain(env, "orgb_agent")
    env.publish("orga", [dict(x, modified="2024-02-01T00:00:00.000Z", revoked=True)])
    again = env.stream("orgb_agent", True)
    assert "45.33.34.1" in values(again["deleted"])
    assert "45.33.34.2" in values(again["new"]) and "45.33.34.2" not in values(again["deleted"])
    # and only once
    assert env.stream("orgb_agent", True)["deleted"] == []


def test_a_key_that_never_started_gets_everything(env):
    key = tocsin("key", "create", "orgb", "--role", "agent", "--data", env.data).stdout.strip()
    env.keys["orgb_agent2"] = key
    time.sleep(1.5)  # the registry reload
    a = env.stream("orgb_agent2", False)
    assert "45.33.32.151" in values(a["new"])


def test_startup_larger_than_the_limit_is_refused_not_cut(env):
    """A bouncer must never believe a cut snapshot is everything."""
    env.publish("orga", [ind(f"45.33.35.{i}") for i in range(1, 4)])
    assert len(env.stream("orgb_agent", True)["new"]) > 2
    saved = env.conf.read_text()
    assert env.stop() == 0
    env.conf.write_text(saved.replace("[bouncers]\n", "[bouncers]\nstartup_max_decisions = 2\n"))
    try:
        env.start()
        r = requests.get(f"{env.base}/v1/decisions/stream?startup=true",
                         headers={"X-Api-Key": env.keys["orgb_agent"]}, timeout=10)
        assert r.status_code == 503, r.text
        assert "startup_max_decisions" in r.json()["description"]
    finally:
        assert env.stop() == 0
        env.conf.write_text(saved)
        env.start()
    assert env.stream("orgb_agent", True)["new"]


def test_a_client_certificate_of_role_agent(tmp_path):
    """A bouncer configured with cert_path/key_path (TLS client
    certificate) instead of an API key."""
    import http.client
    from test_daemon_basics import CERTTOOL, client_ctx, make_pki
    if not CERTTOOL:
        pytest.skip("certtool (gnutls-bin) is not installed: scripts/deps.sh")
    pki = make_pki(tmp_path / "pki")
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "tlsbank", "--sector", "finance", "--country", "NO", "--data", d)
    tocsin("key", "create", "tlsbank", "--role", "agent", "--cert", pki / "client.pem",
           "--data", d)
    conf = tmp_path / "tls.conf"
    conf.write_text(f"[server]\ntls_listen = 127.0.0.1:0\n"
                    f"tls_cert = {pki / 'server.pem'}\ntls_key = {pki / 'server.key'}\n"
                    f"client_ca = {pki / 'ca.pem'}\n")
    dm = Daemon(d, config=conf)
    try:
        deadline = time.monotonic() + 10
        while not any('"listening"' in l and '"tls":true' in l for l in dm.lines):
            assert time.monotonic() < deadline, dm.log()
            time.sleep(0.05)
        host, port = next(json.loads(l)["addr"] for l in dm.lines
                          if '"listening"' in l and '"tls":true' in l).rsplit(":", 1)

        def get(cert):
            c = http.client.HTTPSConnection(host, int(port), context=client_ctx(pki, cert),
                                            timeout=10)
            c.request("GET", "/v1/decisions/stream?startup=true")
            r = c.getresponse()
            return r.status, json.loads(r.read())
        st, body = get("client")
        assert st == 200 and body == {"new": [], "deleted": []}
        st, body = get(None)
        assert st == 403 and body["message"] == "access forbidden"
    finally:
        assert dm.stop() == 0


def test_polls_are_counted_under_their_route(env):
    env.publish("orga", [ind("45.33.39.1")])
    env.stream("orgb_agent", True)
    env.live("orgb_agent", ip="45.33.32.1")
    text = requests.get(f"{env.base}/metrics", timeout=10).text
    assert re.search(r'tocsin_http_requests_total\{route="bouncer_stream",method="GET",'
                     r'status="200"\} [1-9]', text), text
    assert 'route="bouncer_decisions"' in text
    # where each bouncer is, how far behind, since when
    kid = env.keys["orgb_agent"].split("_")[1]
    m = re.search(rf'^tocsin_bouncer_position{{key="{kid}",org="orgb"}} (\d+)$', text, re.M)
    assert m and int(m.group(1)) > 0, text
    assert re.search(rf'^tocsin_bouncer_lag_positions{{key="{kid}",org="orgb"}} \d+$', text,
                     re.M)
    m = re.search(rf'^tocsin_bouncer_last_poll_seconds{{key="{kid}",org="orgb"}} ([\d.]+)$',
                  text, re.M)
    assert m and float(m.group(1)) < 5
    assert "tocsin_bouncers_untracked_total 0" in text


def test_live_answers_follow_changes(env):
    """The live query is answered from a per-organisation cache: it follows
    publications, revocations and a change of rights at once."""
    x = ind("45.33.38.1")
    assert env.live("orgb_agent", ip="45.33.38.1") is None
    env.publish("orga", [x])
    assert values(env.live("orgb_agent", ip="45.33.38.1")) == ["45.33.38.1"]
    env.publish("orga", [ind("45.33.38.0/24")])
    assert values(env.live("orgb_agent", ip="45.33.38.1")) == ["45.33.38.0/24", "45.33.38.1"]
    env.publish("orga", [dict(x, modified="2024-02-01T00:00:00.000Z", revoked=True)])
    assert values(env.live("orgb_agent", ip="45.33.38.1")) == ["45.33.38.0/24"]
    # another agent key of the same organisation sees the same
    env.keys["orgb_agent3"] = tocsin("key", "create", "orgb", "--role", "agent",
                                     "--data", env.data).stdout.strip()
    time.sleep(1.5)  # the registry reload
    assert values(env.live("orgb_agent3", ip="45.33.38.77")) == ["45.33.38.0/24"]
    # the collection no longer readable by orgb: nothing, at once
    tocsin("collection", "rights", "open", "--read", "org:orga", "--write", "all",
           "--data", env.data)
    try:
        deadline = time.monotonic() + 5
        while env.live("orgb_agent", ip="45.33.38.1") is not None:
            assert time.monotonic() < deadline, "the rights change was not followed"
            time.sleep(0.1)
        assert values(env.live("orga_agent", ip="45.33.38.1")) == ["45.33.38.0/24"]
    finally:
        tocsin("collection", "rights", "open", "--read", "all", "--write", "all",
               "--data", env.data)
        time.sleep(1.5)
