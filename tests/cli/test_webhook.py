"""tocsin webhook without a daemon: the secret stays out of argv, output and
the audit log; usage errors name what is wrong; the filter is stored as the
feed reads it (collections by id) and a bad one is refused; replay --from
sets the cursor."""
import json

from conftest import run

SECRET = "a-secret-of-32-characters-length"


def prepare(data, tmp_path):
    run("org", "add", "Bank", "-s", "finance", "-c", "no", "--data", data, check_rc=0)
    conf = tmp_path / "tocsind.conf"
    conf.write_text("[webhooks]\nallow_private = true\n")
    return conf


def test_secret_file_and_audit(data, tmp_path):
    conf = prepare(data, tmp_path)
    sf = tmp_path / "secret"
    sf.write_text(SECRET + "\n")
    p = run("webhook", "add", "bank", "https://127.0.0.1:9/hook", "--secret-file", sf,
            "--config", conf, "--data", data, check_rc=0)
    wid = p.stdout.strip()
    assert wid.startswith("w") and len(wid) == 12
    # from standard input too
    p = run("webhook", "add", "bank", "https://127.0.0.1:9/other", "--secret-file", "-",
            "--config", conf, "--data", data, input=SECRET + "\n", check_rc=0)
    wid2 = p.stdout.strip()
    for args in (("list",), ("list", "--json"), ("status",), ("status", wid, "--json")):
        out = run("webhook", *args, "--data", data, check_rc=0).stdout
        assert SECRET not in out and wid in out
    log = (data / "audit.log").read_text()
    assert SECRET not in log
    acts = [json.loads(l)["action"] for l in log.splitlines()]
    assert acts.count("webhook.add") == 2
    run("webhook", "replay", wid, "--from", "0", "--data", data, check_rc=0)
    st = json.loads(run("webhook", "status", wid, "--json", "--data", data, check_rc=0).stdout)
    assert st["cursor"] == "0" and st["state"] == "active"
    run("webhook", "remove", wid2, "--data", data, check_rc=0)
    acts = [json.loads(l)["action"] for l in (data / "audit.log").read_text().splitlines()]
    assert "webhook.replay" in acts and "webhook.remove" in acts
    run("audit", "verify", "--data", data, check_rc=0)


def test_filter_stored_as_the_feed_reads_it(data, tmp_path):
    conf = prepare(data, tmp_path)
    run("collection", "add", "banks", "--read", "all", "--write", "all", "--data", data,
        check_rc=0)
    cid = json.loads(run("collection", "list", "--json", "--data", data,
                         check_rc=0).stdout)
    cid = [c["id"] for c in cid if c["alias"] == "banks"][0]
    wid = run("webhook", "add", "bank", "https://127.0.0.1:9/", "--secret", SECRET,
              "--collection", "banks", "--kind", "domain", "--kind", "ipv4",
              "--min-confidence", "70", "--tlp", "AMBER+STRICT", "--type", "indicator",
              "--from", "5", "--config", conf, "--data", data, check_rc=0).stdout.strip()
    st = json.loads(run("webhook", "status", wid, "--json", "--data", data,
                        check_rc=0).stdout)
    assert st["filter"] == (f"collection={cid}&type=indicator&kind=domain&kind=ipv4"
                            "&min_confidence=70&tlp=amber%2Bstrict")
    assert st["cursor"] == "5" and st["view"] == "stix"


def test_usage_errors(data, tmp_path):
    conf = prepare(data, tmp_path)
    url = "https://127.0.0.1:9/"
    cases = [
        (("add", "bank", url), "--secret"),
        (("add", "bank", url, "--secret", "x" * 10), "at least 16"),
        (("add", "bank", url, "--secret", SECRET, "--secret-file", "-"), "one of"),
        (("add", "bank", url, "--secret", SECRET, "--view", "all"), "stix or decisions"),
        (("add", "bank", url, "--secret", SECRET, "--collection", "nope"), "nope"),
        (("add", "bank", url, "--secret", SECRET, "--kind", "colour"), "colour"),
        (("add", "bank", url, "--secret", SECRET, "--min-confidence", "101"), "0 to 100"),
        (("add", "bank", url, "--secret", SECRET, "--tlp", "purple"), "--tlp"),
        (("add", "bank", url, "--secret", SECRET, "--from", "1.5"), "log position"),
        (("add", "nobody", url, "--secret", SECRET), "nobody"),
        (("add", "bank"), "ORG and URL"),
        (("list", "--secret", SECRET), "belong to 'webhook add'"),
        (("remove",), "one ID"),
        (("replay", "wnothere"), "no webhook subscription"),
        (("status", "wnothere"), "no webhook subscription"),
        (("frobnicate",), "unknown subcommand"),
        ((), "subcommand"),
    ]
    for args, want in cases:
        p = run("webhook", *args, "--config", conf, "--data", data) if args[:1] == ("add",) \
            else run("webhook", *args, "--data", data)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert want in p.stderr, (args, p.stderr)
        assert p.stdout == "", (args, p.stdout)
    out = run("webhook", "list", "--json", "--data", data, check_rc=0).stdout
    assert json.loads(out) == []
