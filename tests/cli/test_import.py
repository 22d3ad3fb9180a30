"""tocsin import: every input format, counts, exit codes, partial failure."""
import json
import re

from conftest import (T0, bundle, ind_domain, ind_ip, ind_url, indicator, run, sid, stats,
                      summary, write_json, write_jsonl)


def three():
    return [ind_ip("185.220.101.7"), ind_domain("evil-c2.net"),
            ind_url("http://evil-c2.net/login.php")]


def test_bundle_then_reimport_counts_duplicates(data, tmp_path):
    f = write_json(tmp_path / "feed.json", bundle(three()))
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (3, 0, 0)
    assert p.stderr == ""
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (0, 3, 0), "duplicates are accepted, not stored again"
    s = stats(data)
    assert s["versions"] == 3 and s["indicators"] == 3


def test_new_version_is_stored(data, tmp_path):
    o = ind_domain("evil-c2.net")
    run("import", "--data", data, write_json(tmp_path / "a.json", bundle([o])), check_rc=0)
    o2 = dict(o, modified="2024-02-01T00:00:00.000Z")
    p = run("import", "--data", data, write_json(tmp_path / "b.json", bundle([o2])),
            check_rc=0)
    assert summary(p.stdout) == (1, 0, 0)
    s = stats(data)
    assert (s["versions"], s["objects"]) == (2, 1)


def test_taxii_envelope(data, tmp_path):
    f = write_json(tmp_path / "env.json", {"more": False, "objects": three()})
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (3, 0, 0)


def test_json_lines(data, tmp_path):
    f = write_jsonl(tmp_path / "feed.jsonl", three())
    p = run("import", "--data", data, "--format", "jsonl", f, check_rc=0)
    assert summary(p.stdout) == (3, 0, 0)


def test_json_lines_autodetected_with_bad_line(data, tmp_path):
    f = tmp_path / "feed.jsonl"
    objs = three()
    f.write_text(json.dumps(objs[0]) + "\n" + "{not json\n" + json.dumps(objs[1]) + "\n"
                 + json.dumps(objs[2]) + "\n")
    p = run("import", "--data", data, f)
    assert p.returncode == 1, p
    assert summary(p.stdout) == (3, 0, 1)
    assert "feed.jsonl:2" in p.stderr
    assert stats(data)["versions"] == 3


def test_stdin(data, tmp_path):
    p = run("import", "--data", data, "-", input=json.dumps(bundle(three())), check_rc=0)
    assert summary(p.stdout) == (3, 0, 0)


def test_csv_values_and_kinds(data, tmp_path):
    f = tmp_path / "feed.csv"
    f.write_text("185.220.101.8,ipv4\nevil-c2.org,domain\n"
                 "44d88612fea8a8f36de82e1278abb02f,md5\n")
    p = run("import", "--data", data, "--format", "csv", f, check_rc=0)
    assert summary(p.stdout) == (3, 0, 0)
    p = run("match", "--data", data, "185.220.101.8", "evil-c2.org",
            "44D88612FEA8A8F36DE82E1278ABB02F", check_rc=0)
    assert [l.split()[1] for l in p.stdout.splitlines()] == ["HIT", "HIT", "HIT"]
    # the same CSV again yields the same objects: duplicates, not versions
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (0, 3, 0)


def test_csv_bad_row_is_rejected_with_its_line(data, tmp_path):
    f = tmp_path / "feed.csv"
    f.write_text("185.220.101.8,ipv4\n999.1.1.1,ipv4\nevil-c2.org,domain\n")
    p = run("import", "--data", data, f)
    assert p.returncode == 1
    assert summary(p.stdout) == (2, 0, 1)
    assert "feed.csv:2" in p.stderr


def test_plain_list_of_values(data, tmp_path):
    f = tmp_path / "list.txt"
    f.write_text("185.220.101.9\nwww.evil-c2.com\nhttp://evil-c2.com/x\n")
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (3, 0, 0)


def test_misp_event(data, tmp_path):
    ev = {"Event": {
        "uuid": "5f1c6b1e-0a8c-4a4e-8d6e-2b1f3c4d5e6f",
        "info": "phishing campaign",
        "date": "2024-01-01",
        "timestamp": "1704067200",
        "Attribute": [
            {"uuid": "5f1c6b1e-0a8c-4a4e-8d6e-2b1f3c4d5e70", "type": "ip-dst",
             "category": "Network activity", "value": "185.220.101.10", "to_ids": True,
             "timestamp": "1704067200"},
            {"uuid": "5f1c6b1e-0a8c-4a4e-8d6e-2b1f3c4d5e71", "type": "domain",
             "category": "Network activity", "value": "misp-evil.net", "to_ids": True,
             "timestamp": "1704067200"},
        ],
    }}
    f = write_json(tmp_path / "event.json", ev)
    p = run("import", "--data", data, "--format", "misp", f, check_rc=0)
    imported, dups, rejected = summary(p.stdout)
    assert imported >= 2 and rejected == 0
    p = run("match", "--data", data, "185.220.101.10", "misp-evil.net", check_rc=0)
    assert [l.split()[1] for l in p.stdout.splitlines()] == ["HIT", "HIT"]


def test_rejection_names_file_place_and_reason(data, tmp_path):
    objs = three()
    objs.insert(1, indicator("[domain-name:value = 'late.example.net']",
                             valid_until="2023-01-01T00:00:00.000Z"))
    f = write_json(tmp_path / "feed.json", bundle(objs))
    p = run("import", "--data", data, f)
    assert p.returncode == 1
    assert summary(p.stdout) == (3, 0, 1)
    lines = [l for l in p.stderr.splitlines() if "objects[1]" in l]
    assert len(lines) == 1, p.stderr
    assert re.search(r"feed\.json: objects\[1\]\.valid_until: .*valid_from", lines[0]), lines
    assert stats(data)["versions"] == 3, "the valid objects are committed"


def test_bad_pattern_value_is_rejected(data, tmp_path):
    f = write_json(tmp_path / "feed.json",
                   bundle([ind_ip("185.220.101.7"), ind_ip("300.1.2.3")]))
    p = run("import", "--data", data, f)
    assert p.returncode == 1
    assert summary(p.stdout) == (1, 0, 1)
    assert "300.1.2.3" in p.stderr


def test_malformed_file_among_good_ones(data, tmp_path):
    a = write_json(tmp_path / "a.json", bundle([ind_ip("185.220.101.7")]))
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bundle", "objects": [ {"type": "indicator",')
    c = write_jsonl(tmp_path / "c.jsonl", [ind_domain("evil-c2.net")])
    p = run("import", "--data", data, a, bad, c)
    assert p.returncode == 1
    imported, _, rejected = summary(p.stdout)
    assert imported == 2 and rejected >= 1
    assert "bad.json" in p.stderr
    s = stats(data)
    assert s["versions"] == 2


def test_bad_object_across_batches_keeps_store_consistent(data, tmp_path):
    # more than one batch (10,000), a bad object just after the first batch
    n = 12000
    objs = [indicator(f"[ipv4-addr:value = '100.{64 + i // 65536 % 64}.{i // 256 % 256}.{i % 256}']",
                      name=f"n{i}") for i in range(n)]
    objs[10001]["valid_until"] = "2000-01-01T00:00:00.000Z"
    objs[5]["pattern"] = "[ipv4-addr:value = "
    f = write_jsonl(tmp_path / "big.jsonl", objs)
    p = run("import", "--data", data, f)
    assert p.returncode == 1, p.stderr
    assert summary(p.stdout) == (n - 2, 0, 2)
    assert "big.jsonl:10002" in p.stderr and "big.jsonl:6" in p.stderr
    s = stats(data)
    assert s["versions"] == n - 2
    assert s["indicators"] == n - 2


def test_missing_file_stores_nothing(data, tmp_path):
    a = write_json(tmp_path / "a.json", bundle(three()))
    p = run("import", "--data", data, a, tmp_path / "nope.json")
    assert p.returncode == 2
    assert "tocsin: " in p.stderr and "nope.json" in p.stderr
    assert stats(data)["versions"] == 0


def test_collection_option(data, tmp_path):
    f = write_json(tmp_path / "feed.json", bundle(three()))
    run("import", "--data", data, "--collection", "default", f, check_rc=0)
    p = run("import", "--data", data, "--collection", "nosuch", f)
    assert p.returncode == 2
    assert "nosuch" in p.stderr


def test_summary_goes_to_stdout_only(data, tmp_path):
    f = write_json(tmp_path / "feed.json", bundle(three()))
    p = run("import", "--data", data, f, check_rc=0)
    assert p.stdout.strip() == "imported 3, duplicates 0, rejected 0"
    assert "\r" not in p.stderr, "no progress bar when stderr is not a terminal"


def test_progress_bar_only_on_a_terminal_for_large_input(data, tmp_path):
    import os
    import pty
    import subprocess
    from conftest import BIN
    objs = [indicator(f"[domain-name:value = 'p{i}.evil-c2.net']", description="x" * 400)
            for i in range(2500)]
    f = write_jsonl(tmp_path / "large.jsonl", objs)
    assert f.stat().st_size > 1024 * 1024
    master, slave = pty.openpty()
    try:
        p = subprocess.run([BIN, "import", "--data", str(data), str(f)], stdout=subprocess.PIPE,
                           stderr=slave, text=True, timeout=120)
        os.close(slave)
        slave = -1
        err = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert p.returncode == 0
    assert p.stdout == "imported 2500, duplicates 0, rejected 0\n", "stdout stays clean"
    assert b"large.jsonl [" in err and b"%" in err, err[:200]
    assert err.endswith(b"\r\x1b[K"), "the bar is erased at the end"


# ---- issue 8 point 11: what the importers say about what they read ----

def notes(stdout):
    """The 'notes:' line after the summary, or ''."""
    line = [l for l in stdout.splitlines() if l.startswith("notes: ")]
    return line[-1] if line else ""


def test_generator_csv_imports_cleanly(data, tmp_path):
    import os
    import subprocess
    gen = os.path.join(os.environ["TOCSIN_BUILD"], "bench", "tocsin-gen")
    f = tmp_path / "gen.csv"
    subprocess.run([gen, "--seed", "7", "--count", "300", "--format", "csv", "-o", str(f)],
                   check=True)
    header = f.read_text().splitlines()[0]
    assert header.startswith("kind,value,")
    p = run("import", "--data", data, f, check_rc=0)
    # the header line is recognised: neither imported nor rejected
    assert summary(p.stdout) == (300, 0, 0), p.stderr
    assert "rejected" not in p.stderr and "gen.csv:1:" not in p.stderr
    # the generator's name and confidence columns are kept
    first = f.read_text().splitlines()[1].split(",")
    kind, value, name = first[0], first[1], first[2]
    p = run("match", "--data", data, "--kind", kind if kind != "wallet" else "wallet", value,
            check_rc=0)
    assert " HIT " in p.stdout or " miss (expired" in p.stdout, p.stdout


def test_csv_header_in_any_order_is_not_a_rejection(data, tmp_path):
    f = tmp_path / "feed.csv"
    f.write_text("tlp,value,kind\namber,185.220.101.9,ipv4\ngreen,header-order.example,domain\n")
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (2, 0, 0)
    assert p.stderr == ""
    # the names other tools give the columns
    f.write_text("indicator,type,comment\n185.220.101.10,ipv4,seen in logs\n")
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (1, 0, 0)
    assert p.stderr == ""


def test_expired_rows_are_imported_and_reported(data, tmp_path):
    f = tmp_path / "feed.csv"
    f.write_text("value,kind,valid_from,valid_until\n"
                 "old-c2.example,domain,2023-01-01,2024-01-01\n"
                 "new-c2.example,domain,2023-01-01,2099-01-01\n")
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (2, 0, 0)
    assert notes(p.stdout) == "notes: 1 expired (imported; they do not match)"
    assert re.search(r"feed\.csv:2: note: expired: valid_until 2024-01-01T00:00:00\.000Z",
                     p.stderr, re.M), p.stderr
    p = run("match", "--data", data, "old-c2.example", "new-c2.example", check_rc=0)
    old, new = p.stdout.splitlines()
    assert old.startswith("old-c2.example  miss (expired: indicator--")
    assert new.startswith("new-c2.example  HIT exact")


def test_defanged_values_are_refanged_and_said(data, tmp_path):
    f = tmp_path / "feed.csv"
    f.write_text("hxxp://phish[.]example/login\nbad(dot)example\nmule[@]fraud[.]example\n"
                 "185.220.101[.]44\nclean.example\n")
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (5, 0, 0)
    assert notes(p.stdout) == "notes: 4 re-fanged (defanged values restored)"
    assert "feed.csv:1: note: defanged value re-fanged to 'http://phish.example/login'" \
        in p.stderr
    assert "feed.csv:5" not in p.stderr
    p = run("match", "--data", data, "http://phish.example/login", "bad.example",
            "mule@fraud.example", "185.220.101.44", check_rc=0)
    assert [l.split()[1] for l in p.stdout.splitlines()] == ["HIT"] * 4


def misp_attr(uuid_tail, type_, value, to_ids=True, **extra):
    return dict({"uuid": f"6c1c6b1e-0a8c-4a4e-8d6e-2b1f3c4d{uuid_tail}", "type": type_,
                 "category": "Network activity", "value": value, "to_ids": to_ids,
                 "timestamp": "1704067200"}, **extra)


def test_misp_composite_types_split_and_to_ids_false_reported(data, tmp_path):
    ev = {"Event": {
        "uuid": "6c1c6b1e-0a8c-4a4e-8d6e-2b1f3c4d5e6f", "info": "composite",
        "date": "2024-01-01", "timestamp": "1704067200",
        "Orgc": {"name": "CERT-Example", "uuid": "6c1c6b1e-0a8c-4a4e-8d6e-2b1f3c4d0000"},
        "Tag": [{"name": "tlp:green"}, {"name": "campaign:phish-wave"}],
        "Attribute": [
            misp_attr("5e70", "domain|ip", "split-c2.example|185.220.101.61"),
            misp_attr("5e71", "ip-dst|port", "185.220.101.62|8443"),
            misp_attr("5e72", "hostname|port", "panel.split-c2.example|8080"),
            misp_attr("5e73", "filename|sha256", "x.exe|" + "ab" * 32),
            misp_attr("5e74", "ip-src", "185.220.101.63", to_ids=False),
        ],
    }}
    f = write_json(tmp_path / "event.json", ev)
    p = run("import", "--data", data, f, check_rc=0)
    # 2 + 1 + 1 + 1 indicators and the report
    assert summary(p.stdout) == (6, 0, 0), p.stderr
    assert notes(p.stdout) == \
        "notes: 1 MISP attributes with to_ids false (not imported: not for detection)"
    assert re.search(r"event\.json: Event\.Attribute\[4\]: note: ip-src attribute with "
                     r"to_ids false", p.stderr, re.M), p.stderr
    p = run("match", "--data", data, "split-c2.example", "185.220.101.61", "185.220.101.62",
            "panel.split-c2.example", "ab" * 32, "185.220.101.63", check_rc=0)
    assert [l.split()[1] for l in p.stdout.splitlines()] == ["HIT"] * 5 + ["miss"]


def test_misp_unwrapped_event(data, tmp_path):
    ev = {"uuid": "6c1c6b1e-0a8c-4a4e-8d6e-2b1f3c4d5e6f", "info": "no wrapper",
          "timestamp": "1704067200",
          "Attribute": [misp_attr("5e80", "domain", "unwrapped.example")]}
    f = write_json(tmp_path / "event.json", ev)
    p = run("import", "--data", data, f, check_rc=0)
    assert summary(p.stdout) == (2, 0, 0), p.stderr
    p = run("match", "--data", data, "unwrapped.example", check_rc=0)
    assert p.stdout.split()[1] == "HIT"


def test_misp_malformed_is_rejected_with_its_place(data, tmp_path):
    ev = {"Event": {
        "uuid": "6c1c6b1e-0a8c-4a4e-8d6e-2b1f3c4d5e6f", "info": "bad", "timestamp": "1704067200",
        "Attribute": [
            misp_attr("5e90", "domain", "fine.example"),
            misp_attr("5e91", "domain", "badtime.example", timestamp="2024-01-01 10:00"),
            misp_attr("5e92", "ip-dst", 3232235777),
        ],
    }}
    f = write_json(tmp_path / "event.json", ev)
    p = run("import", "--data", data, f)
    assert p.returncode == 1, p
    assert summary(p.stdout) == (2, 0, 2)
    assert "event.json: Event.Attribute[1].timestamp: not a Unix time" in p.stderr
    assert "event.json: Event.Attribute[2].value: not a string" in p.stderr
    # never coerced: the bad-time attribute is not stored at all
    p = run("match", "--data", data, "badtime.example", check_rc=0)
    assert p.stdout.strip() == "badtime.example  miss"

    # an Attribute object where the list belongs: the whole event refused
    ev["Event"]["Attribute"] = misp_attr("5e93", "domain", "single.example")
    f = write_json(tmp_path / "event2.json", ev)
    p = run("import", "--data", data, f)
    assert p.returncode == 1
    assert summary(p.stdout) == (0, 0, 1)
    assert "event2.json: Event.Attribute: not a list" in p.stderr
    ev["Event"]["Attribute"] = []
    ev["Event"]["timestamp"] = "yesterday"
    f = write_json(tmp_path / "event3.json", ev)
    p = run("import", "--data", data, f)
    assert "event3.json: Event.timestamp: not a Unix time" in p.stderr


# -- issue 8 --------------------------------------------------------------

def test_same_id_and_modified_other_content_is_rejected(data, tmp_path):
    o = ind_domain("conflict.example")
    run("import", "--data", data, write_json(tmp_path / "a.json", bundle([o])), check_rc=0)
    # key order alone: the same version, a duplicate
    same = dict(reversed(list(o.items())))
    p = run("import", "--data", data, write_json(tmp_path / "b.json", bundle([same])),
            check_rc=0)
    assert summary(p.stdout) == (0, 1, 0)
    changed = dict(o, description="other content")
    p = run("import", "--data", data, write_json(tmp_path / "c.json", bundle([changed])))
    assert p.returncode == 1
    assert summary(p.stdout) == (0, 0, 1)
    assert "c.json: objects[0]: conflict: a different version with the same id and modified " \
        "is already stored" in p.stderr, p.stderr
    assert stats(data)["versions"] == 1


def test_upper_case_ids_are_rejected(data, tmp_path):
    o = ind_domain("upper.example")
    o["object_marking_refs"] = ["marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1"]
    p = run("import", "--data", data, write_json(tmp_path / "u.json", bundle([o])))
    assert p.returncode == 1
    assert "object_marking_refs[0]: not a valid STIX identifier: the UUID must be in lower case" \
        in p.stderr, p.stderr
    assert stats(data)["versions"] == 0
