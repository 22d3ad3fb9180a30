"""tocsin audit verify: a chain written by the documented rule (docs/audit.md)
verifies, and each kind of tampering is reported with the first bad entry.
The hand-written chains stand for a hub made before it had a key (no
hub.pub); a rebuilt chain on a hub with its key, and anchors, follow."""
import hashlib
import json
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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
    for k in ("hub.key", "hub.pub"):
        (data / k).unlink(missing_ok=True)
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
    assert "anchor" in tocsin("audit", "anchor", "--help", check_rc=0).stdout


def signed_hub(tocsin, data, n_orgs=4, first=0):
    """A hub made by plain commands: tocsin init (the data fixture) and a few
    audited changes. Returns the log's lines."""
    for i in range(first, first + n_orgs):
        tocsin("org", "add", f"org{i}", "-s", "finance", "-c", "NO", "--data", data, check_rc=0)
    return (data / "audit.log").read_text().splitlines()


def rechain(lines, start):
    """What someone who can write the files does: alters entry `start`
    (1-based) and recomputes every hash and prev from there. Returns the
    new lines and the last hash."""
    out, prev = [], "0" * 64
    for i, line in enumerate(lines, 1):
        if i >= start:
            if i == start:
                line = line.replace('"org":"org', '"org":"ORG', 1)
            line = re.sub(r'"prev":"[0-9a-f]{64}"', f'"prev":"{prev}"', line, count=1)
            body = line[:line.rindex(',"hash":"')] + "}"
            h = hashlib.sha256(body.encode()).hexdigest()
            line = body[:-1] + f',"hash":"{h}"}}'
        prev = json.loads(line)["hash"]
        out.append(line)
    return out, prev


def sign(seed_hex, n, h):
    k = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    return k.sign(f"tocsin audit entry {n} hash {h}".encode()).hex()


def test_tocsin_init_makes_the_hub_key(tocsin, data):
    key = (data / "hub.key").read_text()
    pub = (data / "hub.pub").read_text()
    assert re.fullmatch(r"ed25519 [0-9a-f]{64}\n", key)
    assert re.fullmatch(r"ed25519 [0-9a-f]{64}\n", pub)
    assert (data / "hub.key").stat().st_mode & 0o777 == 0o600
    # hub.pub is the key's public half
    seed = bytes.fromhex(key.split()[1])
    from cryptography.hazmat.primitives import serialization
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert pub.split()[1] == raw.hex()


def test_a_chain_rebuilt_without_the_key_is_detected(tocsin, data):
    lines = signed_hub(tocsin, data)
    assert tocsin("audit", "verify", "--data", data, check_rc=0).stdout == \
        f"audit: {len(lines)} entries, chain intact\n"
    head = json.loads((data / "audit.head").read_text())
    assert len(head["sig"]) == 128
    new, last = rechain(lines, 2)
    (data / "audit.log").write_text("\n".join(new) + "\n")
    # a consistent head, without a signature (the writer has no key) ...
    (data / "audit.head").write_text(json.dumps({"n": len(new), "hash": last}) + "\n")
    p = tocsin("audit", "verify", "--data", data, check_rc=1)
    assert p.stdout.startswith("audit: entry 1: audit.head is not signed"), p.stdout
    # ... or with the old one
    head2 = dict(head, n=len(new), hash=last)
    (data / "audit.head").write_text(json.dumps(head2) + "\n")
    p = tocsin("audit", "verify", "--data", data, check_rc=1)
    assert p.stdout.startswith(f"audit: entry 1: entries 1 to {len(new)} were rewritten "
                               "without the hub's key"), p.stdout
    # and the daemon or a command would not extend it
    p = tocsin("org", "add", "late", "-s", "finance", "-c", "NO", "--data", data, check_rc=2)
    assert "signature does not verify" in p.stderr


def test_anchor_catches_a_rewrite_by_whoever_holds_the_whole_directory(tocsin, data, tmp_path):
    lines = signed_hub(tocsin, data)
    a = tocsin("audit", "anchor", "--data", data, check_rc=0).stdout
    anchor = json.loads(a)
    assert set(anchor) == {"hub_key", "n", "hash", "sig"}
    assert anchor["n"] == len(lines)
    assert anchor["hub_key"] == (data / "hub.pub").read_text().strip()
    af = tmp_path / "anchor.json"
    af.write_text(a)
    signed_hub(tocsin, data, 1, first=10)  # the log goes on
    p = tocsin("audit", "verify", "--anchor", af, "--data", data, check_rc=0)
    assert p.stdout == f"audit: {len(lines) + 1} entries, chain intact, anchor entry " \
        f"{len(lines)} holds\n"

    # Someone with the whole data directory: rebuilds the chain and signs
    # the head with hub.key. Plain verify cannot know (docs/audit.md) ...
    lines = (data / "audit.log").read_text().splitlines()
    new, last = rechain(lines, 3)
    (data / "audit.log").write_text("\n".join(new) + "\n")
    head = json.loads((data / "audit.head").read_text())
    seed = (data / "hub.key").read_text().split()[1]
    head.update(n=len(new), hash=last, sig=sign(seed, len(new), last))
    (data / "audit.head").write_text(json.dumps(head) + "\n")
    tocsin("audit", "verify", "--data", data, check_rc=0)
    # ... the anchor kept elsewhere can
    p = tocsin("audit", "verify", "--anchor", af, "--data", data, check_rc=1)
    assert p.stdout.startswith(f"audit: entry {anchor['n']}: hash differs from the anchor's"), \
        p.stdout

    # a new key instead of hub.key: the anchor names the key change
    k = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives import serialization
    raw = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    (data / "hub.pub").write_text(f"ed25519 {raw.hex()}\n")
    p = tocsin("audit", "verify", "--anchor", af, "--data", data, check_rc=1)
    assert "not the anchor's key" in p.stdout and "the hub key was replaced" in p.stdout


def test_an_altered_anchor_is_refused(tocsin, data, tmp_path):
    signed_hub(tocsin, data, 2)
    anchor = json.loads(tocsin("audit", "anchor", "--data", data, check_rc=0).stdout)
    anchor["n"] -= 1
    af = tmp_path / "anchor.json"
    af.write_text(json.dumps(anchor))
    p = tocsin("audit", "verify", "--anchor", af, "--data", data, check_rc=1)
    assert "signature does not verify" in p.stderr
    af.write_text("not json")
    p = tocsin("audit", "verify", "--anchor", af, "--data", data, check_rc=1)
    assert "not an anchor" in p.stderr
