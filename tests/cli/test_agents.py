"""tocsin agents without a daemon: every key of role agent is listed with
its organisation, and one whose agent never sent a receipt shows none;
keys of other roles are not agents; a bad data directory is a usage
error."""
import json

from conftest import run


def test_lists_agent_keys_without_receipts(data):
    run("org", "add", "Telco", "-s", "telecom", "-c", "no", "--data", data, check_rc=0)
    run("key", "create", "telco", "--role", "agent", "--name", "fw1", "--data", data, check_rc=0)
    run("key", "create", "telco", "--role", "reader", "--name", "soc", "--data", data,
        check_rc=0)
    p = run("agents", "--json", "--data", data, check_rc=0)
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["name"] for r in rows] == ["fw1"], rows
    r = rows[0]
    assert r["org"] == "Telco" and r["applied_position"] is None and r["lag_positions"] is None
    assert r["revoked"] is False
    p = run("agents", "--data", data, check_rc=0)
    head, line = p.stdout.splitlines()
    assert head.split()[:3] == ["KEY", "ORG", "APPLIED"]
    assert line.split()[1:] == ["Telco", "-", "-", "-", "-"], line


def test_not_a_data_directory(tmp_path):
    p = run("agents", "--data", tmp_path / "nothing", check_rc=2)
    assert "not a tocsin data directory" in p.stderr
