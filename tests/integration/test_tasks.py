"""Response tasks against the real tocsind (docs/coordination.md): a
coordinator assigns a task to the telecom sector and each operator sees
only its own, acknowledges and completes it; a decline needs a note; an
overdue task escalates to the coordinator and then to the sector's lead;
a compromised host inside an operator's network gives that operator (and
only it) a clean-up task; a routing rule turns a published scam-phone
indicator into a suspend-number task for each operator, not below its
confidence and not for an indicator the operators may not see; /metrics
shows the time to act."""
import json
import uuid
import socketserver
import threading
import time

import pytest
import requests

from conftest import Daemon, tocsin
from sseclient import Stream
from hubutil import TLP2, basic, obj_indicator, TAXII

ORGS = {
    "cert-ru": "cert",
    "tel-one": "telecom",
    "tel-two": "telecom",
    "bank-one": "finance",
    "isp-web": "internet",
}
KEYS = {
    "coord": ("cert-ru", "coordinator"),
    "tel1": ("tel-one", "contributor"),
    "tel2": ("tel-two", "contributor"),
    "tel2_agent": ("tel-two", "agent"),
    "bank": ("bank-one", "contributor"),
    "isp": ("isp-web", "contributor"),
}
ROUTES = """# test routes
route scam-phones kind=phone min_confidence=70 action=suspend-number to=sector:telecom deadline=4h
route cards kind=card action=freeze-account to=sector:finance
"""
WAIT = 10.0


class SmtpSink(socketserver.ThreadingTCPServer):
    """A minimal SMTP server (RFC 5321: EHLO, MAIL, RCPT, DATA, QUIT) that
    keeps every message it is given, with its envelope."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), SmtpHandler)


class SmtpHandler(socketserver.StreamRequestHandler):
    def say(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.say("220 sink ESMTP")
        mail_from, rcpts = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode(errors="replace").strip()
            up = cmd.upper()
            if up.startswith("EHLO") or up.startswith("HELO"):
                self.say("250 sink")
            elif up.startswith("MAIL FROM:"):
                mail_from, rcpts = cmd[10:].strip(), []
                self.say("250 ok")
            elif up.startswith("RCPT TO:"):
                rcpts.append(cmd[8:].strip().strip("<>"))
                self.say("250 ok")
            elif up == "DATA":
                self.say("354 go on")
                body = []
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    body.append(l.decode(errors="replace"))
                with self.server.lock:
                    self.server.messages.append({"from": mail_from, "to": list(rcpts),
                                                 "data": "".join(body)})
                self.say("250 queued")
            elif up == "QUIT":
                self.say("221 bye")
                return
            else:
                self.say("250 ok")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    d = tmp_path_factory.mktemp("tasks") / "var"
    tocsin("init", "--data", d)
    for name, sector in ORGS.items():
        tocsin("org", "add", name, "--sector", sector, "--country", "RU", "--data", d)
    keys = {}
    for label, (org, role) in KEYS.items():
        keys[label] = tocsin("key", "create", org, "--role", role, "--name", label,
                             "--data", d).stdout.strip()
    tocsin("collection", "add", "open", "--read", "all", "--write", "all", "--data", d)
    tocsin("collection", "add", "tasks", "--read", "all", "--write", "none", "--data", d)
    tocsin("org", "constituency", "add", "tel-one", "192.0.2.0/24", "AS64500", "--data", d)
    tocsin("org", "constituency", "add", "tel-two", "198.51.100.0/24", "--data", d)
    tocsin("org", "constituency", "add", "isp-web", "shop-hosting.example", "--data", d)
    tocsin("org", "lead", "telecom", "tel-one", "--data", d)
    tocsin("org", "contact", "add", "tel-one", "soc@tel-one.example", "--data", d)
    tocsin("org", "contact", "add", "tel-two", "noc@tel-two.example", "abuse@tel-two.example",
           "--data", d)
    tocsin("org", "contact", "add", "cert-ru", "duty@cert.example", "--data", d)
    sink = SmtpSink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    routes = d.parent / "routes"
    routes.write_text(ROUTES)
    conf = d.parent / "tocsind.conf"
    conf.write_text(f"[coord]\nroutes = {routes}\nescalate_lead_after = 1\n"
                    f"tasks_collection = tasks\n"
                    f"smtp_url = smtp://127.0.0.1:{sink.server_address[1]}\n"
                    f"mail_from = hub@tocsin.example\n")
    daemon = Daemon(d, config=conf)
    h = {"base": f"http://{daemon.addr}", "keys": keys, "data": d, "daemon": daemon,
         "sink": sink}
    yield h
    assert daemon.stop() == 0, daemon.log()[-4000:]
    sink.shutdown()


def api(h, method, who, path, body=None, params=None):
    r = requests.request(method, h["base"] + "/api/v1/tasks" + path, params=params,
                         headers={"Authorization": basic(h["keys"][who])},
                         data=None if body is None else json.dumps(body), timeout=10)
    assert r.headers["Content-Type"].startswith("application/json"), r.text
    return r


def inbox(h, who, **params):
    r = api(h, "GET", who, "", params=params)
    assert r.status_code == 200, r.text
    return r.json()["tasks"]


def publish(h, who, objs):
    r = requests.post(h["base"] + "/taxii2/hub/collections/open/objects/",
                      headers={"Authorization": basic(h["keys"][who]), "Content-Type": TAXII,
                               "Accept": TAXII},
                      data=json.dumps({"objects": objs}), timeout=10)
    assert r.status_code == 202 and r.json()["success_count"] == len(objs), r.text


def wait_for(fn, what):
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"not within {WAIT}s: {what}")


def mine(h, who, source=None, value=None):
    out = []
    for t in inbox(h, who):
        if source and t["source"] != source:
            continue
        if value and value not in [o["value"] for o in t["observables"]]:
            continue
        out.append(t)
    return out


def test_sector_assignment_each_operator_sees_only_its_task(hub):
    r = api(hub, "POST", "coord", "", {
        "action": "suspend-number", "sector": "telecom", "within": 3600,
        "observables": ["+7 999 111-22-33"], "note": "scam calls reported by citizens"})
    assert r.status_code == 201, r.text
    made = r.json()["tasks"]
    assert sorted(t["org"] for t in made) == ["tel-one", "tel-two"]
    assert all(t["observables"] == [{"kind": "phone", "value": "+79991112233"}] for t in made)
    assert all(t["state"] == "assigned" and t["coordinator"] == "cert-ru" for t in made)
    ids = {t["org"]: t["id"] for t in made}

    one = [t for t in inbox(hub, "tel1") if t["source"] == "manual"]
    two = [t for t in inbox(hub, "tel2") if t["source"] == "manual"]
    assert [t["id"] for t in one] == [ids["tel-one"]]
    assert [t["id"] for t in two] == [ids["tel-two"]]
    assert inbox(hub, "bank") == []
    # the coordinator sees both
    assert {ids["tel-one"], ids["tel-two"]} <= {t["id"] for t in inbox(hub, "coord")}
    # another's task does not exist for an operator, to read or to answer
    assert api(hub, "GET", "tel2", f"/{ids['tel-one']}").status_code == 404
    assert api(hub, "POST", "tel2", f"/{ids['tel-one']}/ack").status_code == 404
    # the coordinator may not answer for the assignee; an agent key may not answer
    assert api(hub, "POST", "coord", f"/{ids['tel-one']}/ack").status_code == 403
    assert api(hub, "POST", "tel2_agent", f"/{ids['tel-two']}/ack").status_code == 403

    r = api(hub, "POST", "tel1", f"/{ids['tel-one']}/ack")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged", r.text
    assert r.json()["time_to_acknowledge_s"] >= 0
    r = api(hub, "POST", "tel1", f"/{ids['tel-one']}/done", {"note": "number suspended"})
    assert r.status_code == 200 and r.json()["state"] == "done", r.text
    assert r.json()["reply"] == "number suspended"
    # final
    assert api(hub, "POST", "tel1", f"/{ids['tel-one']}/ack").status_code == 409

    # a decline needs a note
    r = api(hub, "POST", "tel2", f"/{ids['tel-two']}/decline")
    assert r.status_code == 409 and "note" in r.json()["description"], r.text
    r = api(hub, "POST", "tel2", f"/{ids['tel-two']}/decline", {"note": "not our subscriber"})
    assert r.status_code == 200 and r.json()["state"] == "declined", r.text

    r = api(hub, "GET", "tel1", f"/{ids['tel-one']}")
    assert r.status_code == 200
    ev = r.json()["events"]
    assert [e["what"] for e in ev] == ["assigned", "acknowledged", "done"]
    assert [e["org"] for e in ev] == ["cert-ru", "tel-one", "tel-one"]
    assert all(e["at"].endswith("Z") for e in ev)

    # each change through the inbox is audited under the key that made it
    audit = (hub["data"] / "audit.log").read_text()
    assert '"action":"task.assign"' in audit and '"action":"task.decline"' in audit
    assert f'task {ids["tel-one"]} done' in audit
    # the CLI sees the same, on the data directory
    out = tocsin("task", "show", str(ids["tel-two"]), "--json", "--data", hub["data"]).stdout
    shown = json.loads(out)
    assert shown["state"] == "declined" and shown["reply"] == "not our subscriber"


def test_only_coordinators_assign_and_bad_requests_are_refused(hub):
    body = {"action": "block", "org": "tel-one", "within": 60, "observables": ["192.0.2.9"]}
    r = api(hub, "POST", "tel1", "", body)
    assert r.status_code == 403, r.text
    assert api(hub, "POST", "coord", "", dict(body, action="nuke")).status_code == 400
    assert api(hub, "POST", "coord", "", dict(body, org="nobody")).status_code == 404
    assert api(hub, "POST", "coord", "", dict(body, observables=["01.2.3.4"])).status_code == 400
    r = api(hub, "POST", "coord", "", dict(body, sector="telecom"))
    assert r.status_code == 400, r.text
    r = requests.get(hub["base"] + "/api/v1/tasks", timeout=5)
    assert r.status_code == 401 and r.json()["http_status"] == "401"


def test_overdue_task_escalates_to_coordinator_then_sector_lead(hub):
    r = api(hub, "POST", "coord", "", {
        "action": "block", "org": "tel-two", "within": 1, "observables": ["203.0.113.5"]})
    assert r.status_code == 201, r.text
    tid = r.json()["tasks"][0]["id"]
    # tel-one (the lead) does not see it before the escalation
    assert tid not in [t["id"] for t in inbox(hub, "tel1")]

    def level(n):
        t = api(hub, "GET", "coord", f"/{tid}").json()
        return t if t["escalation"] >= n else None
    t = wait_for(lambda: level(1), "escalation to the coordinator")
    assert t["overdue"] is True
    t = wait_for(lambda: level(2), "escalation to the sector's lead")
    assert t["escalated_to"] == "tel-one"
    steps = [e for e in t["events"] if e["what"] == "escalated"]
    assert [e["org"] for e in steps] == ["cert-ru", "tel-one"]
    # now the lead sees it, and only the assignee still answers it
    assert tid in [t["id"] for t in inbox(hub, "tel1")]
    assert api(hub, "POST", "tel1", f"/{tid}/ack").status_code == 404
    assert api(hub, "POST", "tel2", f"/{tid}/ack").status_code == 200


def test_compromised_host_in_operator_network_gives_that_operator_a_cleanup_task(hub):
    publish(hub, "isp", [obj_indicator("[ipv4-addr:value = '192.0.2.77']", "bot-77")])
    t = wait_for(lambda: mine(hub, "tel1", "constituency", "192.0.2.77"), "clean-up task")
    assert len(t) == 1 and t[0]["action"] == "clean-up" and t[0]["org"] == "tel-one"
    assert t[0]["coordinator"] == ""
    # nobody else got one
    time.sleep(1.5)
    for who in ("tel2", "bank", "isp"):
        assert mine(hub, who, "constituency", "192.0.2.77") == [], who
    # the same indicator again makes no second task
    publish(hub, "isp", [obj_indicator("[ipv4-addr:value = '192.0.2.77']", "bot-77b")])
    time.sleep(1.5)
    assert len(mine(hub, "tel1", "constituency", "192.0.2.77")) == 1
    # a phishing site under a hoster's domain: a takedown for the hoster
    publish(hub, "bank", [obj_indicator("[url:value = 'https://login.shop-hosting.example/b']",
                                        "phish-1")])
    t = wait_for(lambda: mine(hub, "isp", "constituency"), "takedown task")
    assert t[0]["action"] == "takedown"


def test_routing_rule_makes_suspend_number_tasks_for_the_telecom_sector(hub):
    phone = "+79995550001"
    publish(hub, "bank", [obj_indicator(f"[x-tocsin-phone-number:value = '{phone}']",
                                        "scam-phone-1", confidence=90)])
    t1 = wait_for(lambda: mine(hub, "tel1", "route:scam-phones", phone), "tel-one's task")
    t2 = wait_for(lambda: mine(hub, "tel2", "route:scam-phones", phone), "tel-two's task")
    assert t1[0]["action"] == t2[0]["action"] == "suspend-number"
    assert t1[0]["id"] != t2[0]["id"]
    assert mine(hub, "bank", "route:scam-phones") == []
    # below the rule's confidence: none
    low = "+79995550002"
    publish(hub, "bank", [obj_indicator(f"[x-tocsin-phone-number:value = '{low}']",
                                        "scam-phone-2", confidence=50)])
    # TLP:RED for nobody in telecom: the operators must not learn of it
    red = "+79995550003"
    publish(hub, "bank", [obj_indicator(f"[x-tocsin-phone-number:value = '{red}']",
                                        "scam-phone-3", confidence=95,
                                        markings=[TLP2["red"]])])
    # a later one proves the worker went past both
    later = "+79995550004"
    publish(hub, "bank", [obj_indicator(f"[x-tocsin-phone-number:value = '{later}']",
                                        "scam-phone-4", confidence=99)])
    wait_for(lambda: mine(hub, "tel2", "route:scam-phones", later), "the later task")
    for who in ("tel1", "tel2"):
        assert mine(hub, who, "route:scam-phones", low) == []
        assert mine(hub, who, "route:scam-phones", red) == []
    # the operator completes it
    r = api(hub, "POST", "tel2", f"/{t2[0]['id']}/ack")
    assert r.status_code == 200
    r = api(hub, "POST", "tel2", f"/{t2[0]['id']}/done", {"note": "suspended"})
    assert r.status_code == 200 and r.json()["state"] == "done"


def test_dry_run_says_what_the_rules_would_do(hub, tmp_path):
    f = tmp_path / "b.json"
    f.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
        obj_indicator("[x-tocsin-phone-number:value = '+79995550009']", "dry-1", confidence=80),
        obj_indicator("[ipv4-addr:value = '198.51.100.4']", "dry-2")]}))
    routes = hub["data"].parent / "routes"
    out = tocsin("route", "test", f, "--rules", routes, "--json", "--data", hub["data"]).stdout
    got = [json.loads(line) for line in out.splitlines()]
    assert {(g["source"], g["action"], g["to"]) for g in got} == {
        ("route:scam-phones", "suspend-number", "sector:telecom"),
        ("constituency", "clean-up", "org:tel-two")}
    # nothing was stored
    assert mine(hub, "tel2", None, "198.51.100.4") == []
    bad = hub["data"].parent / "bad-routes"
    bad.write_text("route x kind=phone action=nuke to=sector:telecom\n")
    p = tocsin("route", "test", f, "--rules", bad, "--data", hub["data"], check=False)
    assert p.returncode == 2 and f"{bad}:1: unknown action" in p.stderr


def test_metrics_show_time_to_act(hub):
    r = requests.get(hub["base"] + "/metrics", timeout=5)
    assert r.status_code == 200
    text = r.text
    assert 'tocsin_tasks{org="tel-one",state="done"}' in text
    assert 'tocsin_task_acknowledge_seconds_count{org="tel-one"}' in text
    assert "tocsin_coord_objects_total" in text
    stats = json.loads(tocsin("task", "stats", "--json", "--data", hub["data"]).stdout)
    one = next(s for s in stats if s["org"] == "tel-one")
    assert one["done"] >= 1 and one["mean_time_to_acknowledge_s"] is not None


def mails(h, to, needle):
    with h["sink"].lock:
        return [m for m in h["sink"].messages if to in m["to"] and needle in m["data"]]


def test_email_notifications_reach_the_organisations_contacts(hub):
    r = api(hub, "POST", "coord", "", {
        "action": "takedown", "org": "tel-two", "within": 3600,
        "observables": ["phish.example.net"], "note": "phishing site"})
    assert r.status_code == 201, r.text
    tid = r.json()["tasks"][0]["id"]
    subject = f"Subject: [tocsin] task {tid} assigned: takedown (tel-two)"
    got = wait_for(lambda: mails(hub, "noc@tel-two.example", subject), "the assignee's mail")
    m = got[0]
    assert sorted(m["to"]) == ["abuse@tel-two.example", "noc@tel-two.example"]
    assert m["from"] == "<hub@tocsin.example>"
    assert "phish.example.net" in m["data"] and "phishing site" in m["data"]
    # nobody else was told of it
    with hub["sink"].lock:
        others = [x for x in hub["sink"].messages if subject in x["data"] and x is not m]
    assert others == []
    # the answer goes to the coordinator's contacts
    assert api(hub, "POST", "tel2", f"/{tid}/decline", {"note": "not hosted here"}).status_code \
        == 200
    got = wait_for(lambda: mails(hub, "duty@cert.example", f"task {tid} declined"),
                   "the coordinator's mail")
    assert "not hosted here" in got[0]["data"]


INCIDENT_EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c07"


def incident(name, ext, type_="incident"):
    o = {"type": type_, "spec_version": "2.1", "id": f"{type_}--{uuid.uuid5(uuid.NAMESPACE_URL, name)}",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "name": name, "extensions": {INCIDENT_EXT: dict({"extension_type": "property-extension"},
                                                         **ext)}}
    if type_ == "indicator":
        o.update(pattern="[ipv4-addr:value = '192.0.2.1']", pattern_type="stix",
                 valid_from="2024-01-01T00:00:00Z")
    return o


def post_status(h, who, objs):
    r = requests.post(h["base"] + "/taxii2/hub/collections/open/objects/",
                      headers={"Authorization": basic(h["keys"][who]), "Content-Type": TAXII,
                               "Accept": TAXII},
                      data=json.dumps({"objects": objs}), timeout=10)
    assert r.status_code == 202, r.text
    return r.json()


def test_incident_extension_is_validated_on_post(hub):
    good = incident("smishing wave", {
        "severity": "high", "status": "investigating",
        "affected_sectors": ["telecom", "finance"],
        "timeline": [{"at": "2024-01-01T08:00:00Z", "event": "first reports"}]})
    st = post_status(hub, "coord", [good])
    assert st["success_count"] == 1, st
    bad = [
        ({"severity": "urgent", "status": "open"}, "severity: must be low, medium, high"),
        ({"severity": "low"}, "status: must be open"),
        ({"severity": "low", "status": "open", "affected_sectors": ["banks"]},
         "affected_sectors[0]: must be a sector"),
        ({"severity": "low", "status": "open", "timeline": [{"at": "yesterday", "event": "x"}]},
         "timeline[0]: at: must be a timestamp"),
        ({"severity": "low", "status": "open", "affected_organization_refs": ["indicator--"
          + str(uuid.uuid4())]}, "affected_organization_refs[0]: must be an identity id"),
    ]
    for i, (ext, msg) in enumerate(bad):
        st = post_status(hub, "coord", [incident(f"bad-{i}", ext)])
        assert st["success_count"] == 0 and msg in json.dumps(st), (msg, st)
    st = post_status(hub, "coord", [incident("on-indicator", {"severity": "low", "status": "open"},
                                             "indicator")])
    assert st["success_count"] == 0 and "for incidents only" in json.dumps(st), st


def test_card_indicator_routes_freeze_account_to_finance_without_the_number(hub):
    publish(hub, "isp", [obj_indicator("[x-tocsin-payment-card:value = '4111 1111 1111 1111']",
                                       "stolen-card-1")])
    t = wait_for(lambda: mine(hub, "bank", "route:cards"), "the bank's task")
    assert t[0]["action"] == "freeze-account"
    value = t[0]["observables"][0]["value"]
    assert t[0]["observables"][0]["kind"] == "card" and value.startswith("hmac-sha256:")
    assert "4111111111111111" not in json.dumps(t)
    for who in ("tel1", "tel2", "isp"):
        assert mine(hub, who, "route:cards") == [], who


def task_versions(ev):
    return [e.json()["object"] for e in ev if e.name == "version"
            and e.json()["object"]["type"] == "x-tocsin-task"]


def test_task_changes_reach_the_assignee_through_the_stream_and_taxii(hub):
    one = Stream(hub["daemon"].addr, hub["keys"]["tel1"], "collection=tasks")
    two = Stream(hub["daemon"].addr, hub["keys"]["tel2"], "collection=tasks")
    bank = Stream(hub["daemon"].addr, hub["keys"]["bank"], "collection=tasks")
    assert one.status == two.status == bank.status == 200
    r = api(hub, "POST", "coord", "", {"action": "block", "org": "tel-one", "within": 3600,
                                       "observables": ["203.0.113.99"], "note": "c2 server"})
    assert r.status_code == 201, r.text
    tid = r.json()["tasks"][0]["id"]
    got = []
    end = time.monotonic() + WAIT
    while time.monotonic() < end and not any(o["task_number"] == tid for o in got):
        ev = one.next(timeout=1.0)
        if ev:
            got += task_versions([ev])
    mine_v = [o for o in got if o["task_number"] == tid]
    assert mine_v and mine_v[0]["state"] == "assigned" and mine_v[0]["action"] == "block"
    assert mine_v[0]["observables"] == [{"kind": "ipv4", "value": "203.0.113.99"}]
    assert api(hub, "POST", "tel1", f"/{tid}/ack").status_code == 200
    v2 = []
    end = time.monotonic() + WAIT
    while time.monotonic() < end and not v2:
        ev = one.next(timeout=1.0)
        if ev:
            v2 = [o for o in task_versions([ev])
                  if o["task_number"] == tid and o["state"] == "acknowledged"]
    assert v2 and v2[0]["id"] == mine_v[0]["id"] and v2[0]["modified"] > mine_v[0]["modified"]
    # neither another operator nor a bank hears of tel-one's task
    for s in (two, bank):
        seen = [o for o in task_versions(s.quiet(1.5)) if o["task_number"] == tid]
        assert seen == []
    for s in (one, two, bank):
        s.close()
    # TAXII: the same door
    def taxii(who):
        r = requests.get(hub["base"] + "/taxii2/hub/collections/tasks/objects/",
                         headers={"Authorization": basic(hub["keys"][who]), "Accept": TAXII},
                         timeout=10)
        assert r.status_code == 200, r.text
        return [o for o in r.json().get("objects", []) if o.get("task_number") == tid]
    assert taxii("tel1") and taxii("coord") and not taxii("tel2") and not taxii("bank")
