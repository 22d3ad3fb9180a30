"""tocsin peer without a daemon: the key stays out of the output and the
audit log; the policy is checked and stored in its canonical form (RED
never, unknown keys named); a peer needs an existing organisation and a
pin; remove forgets it, and both changes are audited."""
import json

from conftest import run

KEY = "tcs_kabcdefghijk_secretsecretsecretsecretsecret"
PIN = "ed25519 " + "ab" * 32


def prepare(data):
    run("org", "add", "hub-b", "-s", "government", "-c", "de", "--data", data, check_rc=0)


def test_add_list_status_remove(data, tmp_path):
    prepare(data)
    kf = tmp_path / "key"
    kf.write_text(KEY + "\n")
    p = run("peer", "add", "b", "https://hub-b.example:8480", "--key-file", kf, "--pin", PIN,
            "--org", "hub-b", "--policy", "types=indicator;tlp=amber;strip=description",
            "--data", data, check_rc=0)
    assert p.stdout == "b\n"
    for args in (("list",), ("list", "--json"), ("status",), ("status", "b", "--json")):
        out = run("peer", *args, "--data", data, check_rc=0).stdout
        assert KEY not in out and "hub-b.example" in out
    st = json.loads(run("peer", "status", "b", "--json", "--data", data, check_rc=0).stdout)
    assert st["policy"] == "tlp=amber;types=indicator;strip=description;rate=0"
    assert st["cursor"] == "0" and st["org"] == "hub-b" and st["kind"] == "tocsin"
    assert st["lag_positions"] == 0 and st["objects_in"] == 0
    run("peer", "remove", "b", "--data", data, check_rc=0)
    assert run("peer", "list", "--json", "--data", data, check_rc=0).stdout.strip() == "[]"
    log = (data / "audit.log").read_text()
    assert KEY not in log
    acts = [json.loads(l)["action"] for l in log.splitlines()]
    assert acts.count("peer.add") == 1 and acts.count("peer.remove") == 1


def test_refusals_name_the_problem(data):
    prepare(data)
    base = ["peer", "add", "b", "https://hub-b.example", "--key", KEY, "--pin", PIN,
            "--org", "hub-b", "--data", data]
    p = run(*base, "--policy", "tlp=red")
    assert p.returncode != 0 and "never crosses a border" in p.stderr
    p = run(*base, "--policy", "colour=blue")
    assert p.returncode != 0 and "unknown key 'colour'" in p.stderr
    p = run("peer", "add", "c", "https://hub-c.example", "--key", KEY, "--pin", PIN,
            "--data", data)
    assert p.returncode != 0 and "no organisation 'c'" in p.stderr
    p = run("peer", "add", "b", "https://hub-b.example", "--key", KEY, "--org", "hub-b",
            "--data", data)
    assert p.returncode != 0 and "--pin" in p.stderr
    p = run("peer", "add", "b", "ftp://hub-b.example", "--key", KEY, "--pin", PIN,
            "--org", "hub-b", "--data", data)
    assert p.returncode != 0 and "https://" in p.stderr
    run(*base, check_rc=0)
    p = run(*base)
    assert p.returncode != 0 and "exists already" in p.stderr
    p = run("peer", "remove", "nope", "--data", data)
    assert p.returncode != 0 and "no peer 'nope'" in p.stderr
    p = run("peer", "status", "--key", KEY, "--data", data)
    assert p.returncode != 0 and "belong to 'peer add'" in p.stderr
