"""tocsin report list|show|confirm|reject on a data directory (the triage
queue of citizen reports, docs/reports.md): usage errors, an empty queue,
decisions on groups, terminal escaping of what reporters typed, and that
contact details are shown only when asked for."""
import json
import sqlite3


def seed(data):
    """One group with two reports, as tocsind would have stored them."""
    db = sqlite3.connect(data / "reports.db")
    db.execute("INSERT INTO report_groups(okind, value, rkind, nreports, nreporters, ncontacts,"
               " first_us, last_us) VALUES('phone', '+79991234567', 'phone', 2, 2, 1, 1, 2)")
    gid = db.execute("SELECT id FROM report_groups").fetchone()[0]
    db.execute("INSERT INTO reports(receipt, group_id, rkind, received_us, text, has_contact, lang)"
               " VALUES(x'01', ?, 'phone', 1, 'called \x1b[31mred', 1, 'ru')", (gid,))
    rid = db.execute("SELECT max(id) FROM reports").fetchone()[0]
    db.execute("INSERT INTO contacts(report_id, contact) VALUES(?, 'me@example.org')", (rid,))
    db.execute("INSERT INTO reports(receipt, group_id, rkind, received_us, text, has_contact, lang)"
               " VALUES(x'02', ?, 'phone', 2, 'again', 0, 'en')", (gid,))
    db.commit()
    db.close()
    return gid


def test_report_commands(tocsin, tmp_path):
    data = tmp_path / "var"
    tocsin("init", "--data", data, check_rc=0)
    assert tocsin("report", "list", "--data", data, check_rc=0).stdout == ""
    tocsin("report", check_rc=2)
    tocsin("report", "frobnicate", "--data", data, check_rc=2)
    tocsin("report", "show", "x", "--data", data, check_rc=2)
    tocsin("report", "list", "--state", "pending", "--data", data, check_rc=2)
    tocsin("report", "show", "7", "--data", data, check_rc=1)
    tocsin("report", "list", "--data", tmp_path / "nothing", check_rc=2)
    gid = seed(data)
    out = tocsin("report", "list", "--data", data, check_rc=0).stdout
    assert out.startswith(f"{gid}\topen\tphone\t+79991234567\treports=2 reporters=2 contacts=1")
    show = tocsin("report", "show", str(gid), "--data", data, check_rc=0).stdout
    assert "\x1b" not in show and "called \\x1b[31mred" in show
    assert "me@example.org" not in show and "(contact given)" in show
    assert "allowlisted: no" in show and "indicators naming it: 0" in show
    show = tocsin("report", "show", str(gid), "--contacts", "--data", data, check_rc=0).stdout
    assert "contact: me@example.org" in show
    lines = tocsin("report", "show", str(gid), "--json", "--data", data,
                   check_rc=0).stdout.splitlines()
    first = json.loads(lines[0])
    assert first["reporters"] == 2 and first["state"] == "open"
    assert all("contact" not in json.loads(x) for x in lines[2:])
    out = tocsin("report", "reject", str(gid), "--note", "a bank's own number", "--data", data,
                 check_rc=0).stdout
    assert "rejected" in out
    g = json.loads(tocsin("report", "list", "--json", "--state", "rejected", "--data", data,
                          check_rc=0).stdout)
    assert g["note"] == "a bank's own number" and g["decided_by"] == "operator (cli)"
    tocsin("report", "confirm", str(gid), "--data", data, check_rc=0)
    audit = (data / "audit.log").read_text()
    assert "report.reject" in audit and "report.confirm" in audit
    assert "+79991234567" not in audit and "me@example.org" not in audit
