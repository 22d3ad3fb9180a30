"""Payment card numbers never in clear (issue 8 point 2, docs/extensions.md).

A card number posted in an indicator pattern is stored only as its keyed
hash; an x-tocsin-payment-card SCO in clear is refused. Neither the data
directory (store, WAL, audit log, anything else) nor any output of the CLI
(import summary and messages, export in every format, stats, match) may
hold the digits.
"""
import json
import os
import re

from conftest import bundle, indicator, run, sid, summary, write_json

PAN = "4111111111111111"
PAN_SPACED = "4111 1111 1111 1111"
PAN2 = "5500000000000004"
CARD_EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c03"


def digit_forms():
    """Every way the two numbers were written, and the bare digits."""
    return [PAN, PAN_SPACED, "4111-1111-1111-1111", PAN2, "5500 0000 0000 0004"]


def assert_no_digits(text, where):
    for d in digit_forms():
        assert d not in text, f"{where} holds a card number: {d}"
    # also any 13-19 digit run at all
    # hashes and signatures (keyed card hashes, provenance roots, proofs,
    # signatures) are 64 hex digits or more, where 13 decimal digits in a
    # row happen by chance; a card number is at most 19 digits
    hashes = re.sub(r"hmac-sha256:[0-9a-f]{64}|[0-9a-f]{64,}", "", text)
    assert not re.search(r"\d{13,19}", hashes), where


def assert_dir_clean(data):
    for root, _dirs, files in os.walk(data):
        for name in files:
            raw = open(os.path.join(root, name), "rb").read()
            for d in digit_forms():
                assert d.encode() not in raw, f"{name} holds {d}"


def card_objects():
    return [
        indicator(f"[x-tocsin-payment-card:value = '{PAN_SPACED}'] OR "
                  f"[x-tocsin-payment-card:value IN ('{PAN2}')]", name="stolen cards"),
        # refused: a card SCO in clear
        {"type": "x-tocsin-payment-card", "spec_version": "2.1",
         "id": "x-tocsin-payment-card--9d0abaef-e0c7-56ff-a809-f3adbff4267d", "value": PAN,
         "extensions": {CARD_EXT: {"extension_type": "new-sco"}}},
        # refused: a prefix search would publish the number's start
        indicator(f"[x-tocsin-payment-card:value LIKE '{PAN}%']", name="prefix"),
    ]


def test_card_number_hashed_and_never_in_clear(data, tmp_path):
    f = write_json(tmp_path / "cards.json", bundle(card_objects()))
    p = run("import", "--data", data, f)
    assert summary(p.stdout) == (1, 0, 2), (p.stdout, p.stderr)
    assert "a card number in clear is refused" in p.stderr
    assert "may be compared only with =, != or IN" in p.stderr
    outputs = [p.stdout, p.stderr]

    exp = run("export", "--data", data, "--format", "stix", check_rc=0)
    objs = json.loads(exp.stdout)["objects"]
    ind = [o for o in objs if o["type"] == "indicator"]
    assert len(ind) == 1
    assert re.fullmatch(r"\[x-tocsin-payment-card:value = 'hmac-sha256:[0-9a-f]{64}'\] OR "
                        r"\[x-tocsin-payment-card:value IN \('hmac-sha256:[0-9a-f]{64}'\)\]",
                        ind[0]["pattern"]), ind[0]["pattern"]
    outputs.append(exp.stdout + exp.stderr)
    for fmt in ("csv", "plain"):
        e = run("export", "--data", data, "--format", fmt, check_rc=0)
        assert "hmac-sha256:" in e.stdout
        outputs.append(e.stdout + e.stderr)
    s = run("stats", "--data", data, "--json", check_rc=0)
    outputs.append(s.stdout + s.stderr)
    # the number still finds the indicator, by its hash (match echoes the
    # caller's own query, so its output is not checked for the digits)
    m = run("match", "--data", data, PAN_SPACED, PAN2)
    assert m.stdout.count("HIT") == 2, m.stdout
    for i, o in enumerate(outputs):
        assert_no_digits(o, f"output {i}")
    assert_dir_clean(data)


def test_no_card_key_refuses_card_numbers(data, tmp_path):
    os.unlink(data / "card.key")
    objs = [indicator(f"[x-tocsin-payment-card:value = '{PAN}']", name="card"),
            indicator("[ipv4-addr:value = '192.0.2.44']", name="ip")]
    p = run("import", "--data", data, write_json(tmp_path / "b.json", bundle(objs)))
    assert summary(p.stdout) == (1, 0, 1), (p.stdout, p.stderr)
    assert "card.key" in p.stderr and "tocsin init" in p.stderr
    assert_no_digits(p.stdout + p.stderr, "import without key")
    assert_dir_clean(data)


def test_misplaced_card_numbers_are_not_quoted(data, tmp_path):
    """A card number in the wrong column or field is refused without being
    echoed: kind column, header, wallet chain, domain label."""
    csv = tmp_path / "swapped.csv"
    csv.write_text("value,kind\n"
                   f"card,{PAN}\n"
                   f"{PAN}:abc,wallet\n"
                   f"xn--{PAN}.example,domain\n")
    p = run("import", "--data", data, "--format", "csv", csv)
    assert summary(p.stdout) == (0, 0, 3), (p.stdout, p.stderr)
    assert "not quoted" in p.stderr
    assert_no_digits(p.stdout + p.stderr, "csv import")
    hdr = tmp_path / "header.csv"
    hdr.write_text(f"value,{PAN_SPACED}\n1.2.3.4,x\n")
    p = run("import", "--data", data, "--format", "csv", hdr)
    assert p.returncode != 0
    assert "unknown column" in p.stderr
    assert_no_digits(p.stdout + p.stderr, "csv header")
    assert_dir_clean(data)
