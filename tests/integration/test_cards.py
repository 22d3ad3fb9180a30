"""Payment card numbers over TAXII (issue 8 point 2, docs/extensions.md).

A card number POSTed in an indicator pattern is stored as its keyed hash;
the status says the object was changed; GET returns the rewritten object.
No status message, GET response, /metrics text, tocsind log line or file of
the data directory (store, WAL, audit log, registry) holds the digits.
"""
import os
import re

from hubutil import obj_indicator

PAN = "4111111111111111"
FORMS = [PAN, "4111 1111 1111 1111", "4111-1111-1111-1111", "5500000000000004"]
CARD_EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c03"
KEYED = re.compile(r"hmac-sha256:[0-9a-f]{64}")
# hashes and signatures (a card's keyed hash, provenance roots, proofs and
# signatures): 64 hex digits or more, where 13 decimal digits in a row
# happen by chance; a card number is at most 19 digits
HEX = re.compile(r"[0-9a-f]{64,}")


def clean(text, where):
    for f in FORMS:
        assert f not in text, f"{where} holds {f}"
    assert not re.search(r"\d{13,19}", HEX.sub("", KEYED.sub("", text))), where


def test_card_number_post_hashed_everywhere(fresh_hub):
    hub = fresh_hub
    ind = obj_indicator("[x-tocsin-payment-card:value = '4111 1111 1111 1111'] OR "
                        "[x-tocsin-payment-card:value = '5500000000000004']", "cards-post")
    sco = {"type": "x-tocsin-payment-card", "spec_version": "2.1",
           "id": "x-tocsin-payment-card--9d0abaef-e0c7-56ff-a809-f3adbff4267d", "value": PAN,
           "extensions": {CARD_EXT: {"extension_type": "new-sco"}}}
    bad = obj_indicator(f"[x-tocsin-payment-card:value MATCHES '^{PAN}$']", "cards-bad")
    garbled = obj_indicator(f"[x-tocsin-payment-card:value = '{PAN}' '{PAN}']", "cards-garbled")
    r = hub.post("open", "bank", [ind, sco, bad, garbled])
    assert r.status_code == 202, r.text
    st = r.json()
    assert st["success_count"] == 1 and st["failure_count"] == 3, st
    ok = st["successes"][0]
    assert ok["id"] == ind["id"]
    assert "replaced by their keyed hash" in ok["message"], ok
    msgs = {f["id"]: f["message"] for f in st["failures"]}
    assert "a card number in clear is refused" in msgs[sco["id"]]
    assert "may be compared only with =, != or IN" in msgs[bad["id"]]
    assert "not quoted" in msgs[garbled["id"]]
    texts = [("POST status", r.text)]

    # the same status later, the object and its versions, the manifest
    texts.append(("status", hub.get(hub.root + f"status/{st['id']}/", "bank").text))
    g = hub.get(hub.object_url("open", ind["id"]), "bank")
    assert g.status_code == 200, g.text
    got = g.json()["objects"][0]
    assert re.fullmatch(r"\[x-tocsin-payment-card:value = 'hmac-sha256:[0-9a-f]{64}'\] OR "
                        r"\[x-tocsin-payment-card:value = 'hmac-sha256:[0-9a-f]{64}'\]",
                        got["pattern"]), got["pattern"]
    assert got["id"] == ind["id"] and got["modified"] == ind["modified"]
    texts.append(("GET object", g.text))
    texts.append(("GET objects", hub.get(hub.objects_url("open"), "bank").text))
    texts.append(("GET versions", hub.get(hub.versions_url("open", ind["id"]), "bank").text))
    texts.append(("manifest", hub.get(hub.manifest_url("open"), "bank").text))
    # posting the same object again is a duplicate of the stored, hashed one
    r2 = hub.post("open", "bank", [ind])
    assert r2.json()["success_count"] == 1, r2.text
    assert r2.json()["successes"][0]["message"].startswith("duplicate"), r2.text
    texts.append(("second POST", r2.text))
    texts.append(("metrics", hub.s.get(hub.base + "/metrics", timeout=30).text))
    for where, t in texts:
        clean(t, where)

    rc = hub.daemon.stop()
    assert rc == 0
    clean(hub.daemon.log(), "tocsind log")
    for root, _dirs, files in os.walk(hub.data):
        for name in files:
            raw = open(os.path.join(root, name), "rb").read()
            for f in FORMS:
                assert f.encode() not in raw, f"{name} holds {f}"
