"""tocsin audit verify: a chain written by the documented rule (docs/audit.md)
verifies, and each kind of tampering is reported with the first bad entry."""
import hashlib
import json

ZERO = "0" * 64


def chain(n):
    """n entry lines built exactly as docs/audit.md describes, and the head."""
    lines, prev = [], ZERO
    for i in range(1, n + 1):
        body = json.dumps({"n": i, "ts": f"2024-01-01T00:00:00.{i:06d}Z", "prev": prev,
                           "action": "write", "actor": "kabcdefghijk", "detail": f"e{i}"},
                          separators=(",", ":"))
        h = hashlib.sha256(body.encode()).hexdigest()
        lines.append(body[:-1] + f',"hash":"{h}"}}\n')
        prev = h
    return lines, {"n": n, "hash": prev}


def write(data, lines, head):
    (data / "audit.log").write_text("".join(lines))
    (data / "audit.head").write_text(json.dumps(head, separators=(",", ":")) + "\n")


def test_no_log_yet(tocsin, data):
    p = tocsin("audit", "verify", "--data", data, check_rc=0)
    assert "0 entries" in p.stdout


def test_intact(tocsin, data):
    write(data, *chain(5))
    p = tocsin("audit", "verify", "--data", data, check_rc=0)
    assert p.stdout == "audit: 5 entries, chain intact\n"


def test_altered_entry(tocsin, data):
    lines, head = chain(5)
    lines[2] = lines[2].replace('"e3"', '"e9"')
    write(data, lines, head)
    p = tocsin("audit", "verify", "--data", data, check_rc=1)
    assert p.stdout.startswith("audit: entry 3: hash does not match")


def test_removed_entry(tocsin, data):
    lines, head = chain(5)
    del lines[1]
    write(data, lines, head)
    p = tocsin("audit", "verify", "--data", data, check_rc=1)
    assert p.stdout.startswith("audit: entry 2: missing")


def test_cut_off_end(tocsin, data):
    lines, head = chain(5)
    write(data, lines[:3], head)
    p = tocsin("audit", "verify", "--data", data, check_rc=1)
    assert p.stdout.startswith("audit: entry 4: missing")


def test_usage(tocsin, data):
    tocsin("audit", "--data", data, check_rc=2)
    tocsin("audit", "check", check_rc=2)
    assert "verify" in tocsin("audit", "verify", "--help", check_rc=0).stdout
