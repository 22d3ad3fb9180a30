"""tocsin task, tocsin route test and tocsin org constituency|contact|lead
on a data directory: a sector assignment makes one task per organisation
of the sector and each sees only its own; only the assignee answers, a
decline needs a note, done is final; the events are timestamped and
attributed; the audit log records each change; constituency overlaps are
refused naming the other organisation; a rules file's mistakes name their
line; the dry run stores nothing."""
import json

from conftest import run


def orgs(data):
    for name, sector in (("CERT", "cert"), ("Tel One", "telecom"), ("Tel Two", "telecom"),
                         ("Bank", "finance")):
        run("org", "add", name, "-s", sector, "-c", "RU", "--data", data, check_rc=0)


def listing(data, org):
    p = run("task", "list", "--org", org, "--json", "--data", data, check_rc=0)
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_sector_assignment_and_answers(data):
    orgs(data)
    p = run("task", "assign", "suspend-number", "--sector", "telecom", "--observable",
            "8 (999) 123-45-67", "--deadline", "2h", "--by", "CERT", "--note", "scam",
            "--data", data, check_rc=0)
    assert len(p.stdout.splitlines()) == 2
    one, two = listing(data, "Tel One"), listing(data, "Tel Two")
    assert len(one) == len(two) == 1 and one[0]["id"] != two[0]["id"]
    assert one[0]["observables"] == [{"kind": "phone", "value": "+79991234567"}]
    assert listing(data, "Bank") == []
    assert len(listing(data, "CERT")) == 2
    a, b = one[0]["id"], two[0]["id"]
    # only the assignee answers
    p = run("task", "ack", a, "--as", "Tel Two", "--data", data, check_rc=2)
    assert f"no task {a}" in p.stderr
    run("task", "ack", a, "--as", "Tel One", "--data", data, check_rc=0)
    run("task", "done", a, "--as", "Tel One", "--note", "suspended", "--data", data, check_rc=0)
    p = run("task", "decline", a, "--as", "Tel One", "--note", "x", "--data", data, check_rc=2)
    assert "already done" in p.stderr
    p = run("task", "decline", b, "--as", "Tel Two", "--data", data, check_rc=2)
    assert "needs --note" in p.stderr
    run("task", "decline", b, "--as", "Tel Two", "--note", "not ours", "--data", data,
        check_rc=0)
    shown = json.loads(run("task", "show", a, "--json", "--data", data, check_rc=0).stdout)
    assert shown["state"] == "done" and shown["reply"] == "suspended"
    assert [(e["what"], e["org"]) for e in shown["events"]] == [
        ("assigned", "CERT"), ("acknowledged", "Tel One"), ("done", "Tel One")]
    assert shown["time_to_acknowledge_s"] >= 0 and shown["time_to_close_s"] >= 0
    stats = json.loads(run("task", "stats", "--json", "--data", data, check_rc=0).stdout)
    by = {s["org"]: s for s in stats}
    assert by["Tel One"]["done"] == 1 and by["Tel Two"]["declined"] == 1
    audit = (data / "audit.log").read_text()
    for action in ("task.assign", "task.ack", "task.done", "task.decline"):
        assert f'"action":"{action}"' in audit, action
    run("audit", "verify", "--data", data, check_rc=0)


def test_assign_usage_errors(data):
    orgs(data)
    base = ["task", "assign", "block", "--observable", "192.0.2.1", "--data", data]
    p = run(*base, "--org", "Bank", check_rc=2)
    assert "--deadline" in p.stderr
    p = run(*base, "--org", "Bank", "--sector", "finance", "--deadline", "1h", check_rc=2)
    assert "--org ORG or --sector SECTOR" in p.stderr
    p = run("task", "assign", "nuke", "--org", "Bank", "--observable", "1.2.3.4",
            "--deadline", "1h", "--data", data, check_rc=2)
    assert "unknown action" in p.stderr
    p = run(*base, "--org", "Nobody", "--deadline", "1h", check_rc=2)
    assert "no organisation" in p.stderr
    p = run(*base, "--org", "Bank", "--deadline", "yesterday", check_rc=2)
    assert "--deadline" in p.stderr
    p = run(*base, "--org", "Bank", "--deadline", "2020-01-01T00:00:00Z", check_rc=2)
    assert "later than now" in p.stderr
    p = run("task", "assign", "block", "--org", "Bank", "--observable", "01.2.3.4",
            "--deadline", "1h", "--data", data, check_rc=2)
    assert "observables[0]" in p.stderr
    assert listing(data, "Bank") == []


def test_constituency_contact_lead(data):
    orgs(data)
    p = run("org", "constituency", "add", "Tel One", "192.0.2.0/24", "AS64500", "Tel.Example.",
            "--data", data, check_rc=0)
    assert p.stdout.split() == ["192.0.2.0/24", "AS64500", "tel.example"]
    p = run("org", "constituency", "add", "Tel Two", "192.0.2.128/25", "--data", data,
            check_rc=2)
    assert "overlaps 192.0.2.0/24, in the constituency of Tel One" in p.stderr
    p = run("org", "constituency", "add", "Tel Two", "www.tel.example", "--data", data,
            check_rc=2)
    assert "Tel One" in p.stderr
    p = run("org", "constituency", "add", "Tel Two", "10.0.0.1/8", "--data", data, check_rc=2)
    assert "host bits" in p.stderr
    rows = run("org", "constituency", "list", "--data", data, check_rc=0).stdout.splitlines()
    assert len(rows) == 3 and all(r.split()[-2:] == ["Tel", "One"] for r in rows)
    run("org", "constituency", "remove", "Tel One", "AS64500", "--data", data, check_rc=0)
    run("org", "constituency", "add", "Tel Two", "as64500", "--data", data, check_rc=0)
    p = run("org", "contact", "add", "Bank", "not-an-address", "--data", data, check_rc=2)
    assert "not an e-mail address" in p.stderr
    run("org", "contact", "add", "Bank", "soc@bank.example", "--data", data, check_rc=0)
    p = run("org", "contact", "list", "Bank", "--data", data, check_rc=0)
    assert p.stdout == "soc@bank.example\n"
    assert run("org", "lead", "telecom", "--data", data, check_rc=0).stdout == "(none)\n"
    run("org", "lead", "telecom", "Tel One", "--data", data, check_rc=0)
    assert run("org", "lead", "telecom", "--data", data, check_rc=0).stdout == "Tel One\n"


def test_route_dry_run(data, tmp_path):
    orgs(data)
    run("org", "constituency", "add", "Tel Two", "198.51.100.0/24", "--data", data, check_rc=0)
    rules = tmp_path / "routes"
    rules.write_text("route scam kind=phone min_confidence=70 action=suspend-number "
                     "to=sector:telecom deadline=4h\n")
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + "1" * 8 +
         "-1111-4111-8111-" + "1" * 12, "created": "2024-01-01T00:00:00Z",
         "modified": "2024-01-01T00:00:00Z", "valid_from": "2024-01-01T00:00:00Z",
         "pattern_type": "stix", "confidence": 80,
         "pattern": "[x-tocsin-phone-number:value = '+79990001122'] OR "
                    "[ipv4-addr:value = '198.51.100.9']"}]}))
    p = run("route", "test", f, "--rules", rules, "--data", data, check_rc=0)
    assert "route:scam -> suspend-number to sector:telecom (deadline 14400s)" in p.stdout
    assert "constituency -> clean-up to org:Tel Two" in p.stdout
    assert p.stdout.endswith("2 task(s) would be proposed\n")
    assert listing(data, "Tel Two") == []
    rules.write_text("# ok\nroute scam kind=phone action=suspend-number to=sector:telcos\n")
    p = run("route", "test", f, "--rules", rules, "--data", data, check_rc=2)
    assert f"{rules}:2:" in p.stderr
