"""Citizen reports (docs/reports.md) against the real tocsind: the public
form and the JSON intake, their limits and honeypot, receipts and status
pages, the triage queue and its grouping, promotion into an indicator
that becomes a decision, and a reporter's contact details that appear in
no output a member, a peer or a log reader can reach."""
import http.client
import itertools
import json
import re
import time
import urllib.parse

import pytest
import requests

from conftest import Daemon, build_data, tocsin
from hubutil import basic

BURST = 8
THRESHOLD = 5
_src = itertools.count(2)


def new_src():
    """A loopback source address of its own: one citizen."""
    n = next(_src)
    return f"127.0.{n // 250 + 1}.{n % 250 + 2}"


class Reports:
    def __init__(self, daemon, keys, data):
        self.daemon = daemon
        self.host, port = daemon.addr.rsplit(":", 1)
        self.port = int(port)
        self.base = f"http://{daemon.addr}"
        self.keys = keys
        self.data = data

    def req(self, method, path, body=None, headers=None, src="127.0.0.1"):
        c = http.client.HTTPConnection(self.host, self.port, timeout=15, source_address=(src, 0))
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def form(self, fields, src, lang=None):
        body = urllib.parse.urlencode(fields)
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if lang:
            h["Accept-Language"] = lang
        return self.req("POST", "/report", body, h, src)

    def report(self, obj, src):
        st, h, b = self.req("POST", "/api/v1/reports", json.dumps(obj),
                            {"Content-Type": "application/json"}, src)
        return st, h, (json.loads(b) if b else None)

    def api(self, method, path, who, **kw):
        h = {"Authorization": basic(self.keys[who])} if who else {}
        return requests.request(method, self.base + path, headers=h, timeout=15, **kw)

    def triage(self, who="cert_coord", **params):
        r = self.api("GET", "/api/v1/reports/triage", who, params=params)
        assert r.status_code == 200, r.text
        return r.json()["groups"]

    def group_of(self, value):
        for g in self.triage(limit=10000):
            if g["value"] == value:
                return g
        return None

    def metric(self, name):
        text = requests.get(self.base + "/metrics", timeout=10).text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None


@pytest.fixture(scope="module")
def rep(tmp_path_factory):
    d = tmp_path_factory.mktemp("reports") / "var"
    _, keys, _ = build_data(d)
    conf = d.parent / "tocsind.conf"
    conf.write_text("[reports]\n"
                    f"promote_threshold = {THRESHOLD}\n"
                    "collection = open\n"
                    "confidence = 70\n"
                    "rate_per_minute = 60\n"
                    f"rate_burst = {BURST}\n"
                    "max_body = 8192\n")
    daemon = Daemon(d, config=conf)
    yield Reports(daemon, keys, d)
    assert daemon.stop() == 0


def receipt_of(page):
    m = re.search(r'id="receipt">([a-z2-7]{26})<', page)
    assert m, page
    return m.group(1)


# ---- the page ----

def test_form_page_language_csp_and_labels(rep):
    st, h, b = rep.req("GET", "/report", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    page = b.decode()
    assert st == 200 and h["content-type"].startswith("text/html")
    assert '<html lang="ru">' in page and "Сообщить" in page
    csp = h["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "script" not in csp
    assert h["x-frame-options"] == "DENY"
    # no script, no other origin
    assert "<script" not in page and "http://" not in page.replace("https://bank-login", "")
    assert not re.search(r'(src|href)="(https?:)?//', page)
    # every visible input has a label; the radio buttons are in a fieldset with a legend
    ids = re.findall(r'<(?:input|textarea)[^>]* id="([^"]+)"', page)
    assert {"value", "text", "contact", "kind-phone"} <= set(ids)
    for i in ids:
        assert f'<label for="{i}">' in page, i
    assert "<fieldset" in page and "<legend>" in page
    # the visible switch, and English on request
    assert 'href="/report?lang=en"' in page and 'href="/report?lang=ru"' in page
    st, _, b = rep.req("GET", "/report?lang=en", headers={"Accept-Language": "ru"})
    assert st == 200 and '<html lang="en">' in b.decode() and "Report a phishing" in b.decode()
    st, h, b = rep.req("GET", "/report", headers={"Accept-Language": "de, en;q=0.3"})
    assert '<html lang="en">' in b.decode()
    st, h, b = rep.req("GET", "/report/style.css")
    assert st == 200 and h["content-type"].startswith("text/css") and b"outline" in b


def test_form_intake_receipt_and_status(rep):
    src = new_src()
    st, h, b = rep.form({"kind": "phishing", "value": "https://Bank-Login.example/Secure",
                         "text": "SMS said my account is blocked", "lang": "en"}, src)
    page = b.decode()
    assert st == 200, page
    receipt = receipt_of(page)
    assert f'href="/report/status/{receipt}?lang=en"' in page
    st, h, b = rep.req("GET", f"/report/status/{receipt}", src=new_src())
    page = b.decode()
    assert st == 200 and 'data-state="open"' in page and "Under review" in page
    assert "content-security-policy" in h
    # the status page tells this report's state only: not the value, not
    # the text, not how many others reported it
    assert "bank-login" not in page.lower() and "blocked" not in page
    st, _, b = rep.req("GET", f"/api/v1/reports/status/{receipt}", src=new_src())
    assert st == 200 and json.loads(b) == {"kind": "phishing", "received": json.loads(b)["received"],
                                           "state": "open"}
    # the access log names the route, never the receipt
    assert '"path":"/report/status/"' in rep.daemon.log()
    assert receipt not in rep.daemon.log()
    # an unknown or malformed receipt is a plain "not found", in the page's language
    st, _, b = rep.req("GET", "/report/status/" + "a" * 26 + "?lang=ru", src=new_src())
    assert st == 404 and "квитанции" in b.decode()
    st, _, _ = rep.req("GET", "/report/status/../../etc", src=new_src())
    assert st == 404
    g = rep.group_of("https://bank-login.example/Secure")
    assert g and g["kind"] == "url" and g["reports"] == 1 and g["reporters"] == 1


def test_form_errors_are_tied_to_fields(rep):
    st, h, b = rep.form({"kind": "phone", "value": "not a number", "lang": "en"}, new_src())
    page = b.decode()
    assert st == 400 and h["content-type"].startswith("text/html")
    assert 'role="alert"' in page and 'href="#value"' in page
    m = re.search(r'<input[^>]* id="value"[^>]*>', page)
    assert m and 'aria-invalid="true"' in m.group(0)
    assert 'aria-describedby="value-hint value-error"' in m.group(0)
    assert 'id="value-error"' in page and 'value="not a number"' in page
    # a value with markup comes back escaped
    st, _, b = rep.form({"kind": "email", "value": '"><b>x', "lang": "en"}, new_src())
    assert st == 400 and "<b>x" not in b.decode() and "&quot;&gt;&lt;b&gt;x" in b.decode()
    # nothing chosen, nothing typed
    st, _, b = rep.form({"lang": "ru"}, new_src())
    assert st == 400 and "нужно заполнить" in b.decode()


def test_json_intake_and_its_errors(rep):
    st, _, j = rep.report({"kind": "email", "value": "Payroll@Scam-Mail.example",
                           "text": "asked for my password"}, new_src())
    assert st == 201 and re.fullmatch(r"[a-z2-7]{26}", j["receipt"]) and j["state"] == "open"
    assert j["status"] == f"/report/status/{j['receipt']}"
    st, _, j = rep.report({"kind": "fax", "value": "x"}, new_src())
    assert st == 400 and j["fields"]["kind"] and j["http_status"] == "400"
    st, _, j = rep.report({"kind": "phone", "value": "12"}, new_src())
    assert st == 400 and "value" in j["fields"]
    st, _, j = rep.report({"kind": "phone", "value": "+79991112233", "extra": 1}, new_src())
    assert st == 400 and "body" in j["fields"]
    st, _, b = rep.req("POST", "/api/v1/reports", "{not json", {"Content-Type": "application/json"},
                       new_src())
    assert st == 400 and json.loads(b)["title"] == "invalid report"
    st, _, j = rep.report({"kind": "phone", "value": "+79991112233", "text": "x" * 5000},
                          new_src())
    assert st == 400 and j["fields"]["text"] == "is too long"
    # a card number in the free text is refused, and never echoed
    st, _, j = rep.report({"kind": "phone", "value": "+79991112233",
                           "text": "card 4111 1111 1111 1111"}, new_src())
    assert st == 400 and "text" in j["fields"] and "4111" not in json.dumps(j)
    # nor in a body that does not parse
    st, _, b = rep.req("POST", "/api/v1/reports", '{"kind":"card","value":4111111111111111',
                       {"Content-Type": "application/json"}, new_src())
    assert st == 400 and b"4111" not in b
    # public suffixes are no site
    st, _, j = rep.report({"kind": "phishing", "value": "co.uk"}, new_src())
    assert st == 400 and "value" in j["fields"]


def test_size_limit_before_any_login(rep):
    before = rep.metric('tocsin_reports_refused_total{reason="size"}')
    st, h, b = rep.req("POST", "/api/v1/reports", "x" * 9000,
                       {"Content-Type": "application/json"}, new_src())
    assert st == 413 and json.loads(b)["http_status"] == "413"
    assert rep.metric('tocsin_reports_refused_total{reason="size"}') == before + 1
    # the other API routes still refuse a body from nobody
    st, _, _ = rep.req("POST", "/api/v1/match", '["1.2.3.4"]', {"Content-Type": "application/json"})
    assert st == 401


def test_honeypot_keeps_nothing(rep):
    before = rep.metric('tocsin_reports_refused_total{reason="honeypot"}')
    st, _, b = rep.form({"kind": "phone", "value": "+79990000001", "website": "http://spam",
                         "lang": "en"}, new_src())
    assert st == 200  # answered as a person would be
    receipt = receipt_of(b.decode())
    st, _, _ = rep.req("GET", f"/api/v1/reports/status/{receipt}", src=new_src())
    assert st == 404
    assert rep.group_of("+79990000001") is None
    assert rep.metric('tocsin_reports_refused_total{reason="honeypot"}') == before + 1


def test_rate_limit_per_client(rep):
    src = new_src()
    codes = []
    for i in range(BURST + 4):
        st, h, _ = rep.report({"kind": "phone", "value": f"+7999300{i:04d}"}, src)
        codes.append(st)
        if st == 429:
            assert h["retry-after"] == "60"
    assert codes[:BURST] == [201] * BURST and codes[BURST:] == [429] * 4
    st, h, b = rep.form({"kind": "phone", "value": "+79993009999", "lang": "en"}, src)
    assert st == 429 and "Too many reports" in b.decode()
    # another citizen is not held back
    st, _, _ = rep.report({"kind": "phone", "value": "+79993008888"}, new_src())
    assert st == 201


def test_card_is_hashed_at_once(rep):
    pan = "4111 1111 1111 1111"
    st, _, j = rep.report({"kind": "card", "value": pan, "text": "they charged me"}, new_src())
    assert st == 201
    groups = [g for g in rep.triage(limit=10000) if g["kind"] == "card"]
    assert groups and all(g["value"].startswith("hmac-sha256:") for g in groups)
    # the digits are nowhere: not in the report store, not in the log
    raw = b"".join(p.read_bytes() for p in rep.data.glob("reports.db*"))
    assert b"4111111111111111" not in raw and b"4111 1111" not in raw
    assert "4111111111111111" not in rep.daemon.log()
    # the form never shows a card number back
    st, _, b = rep.form({"kind": "card", "value": "4111 1111 1111 1112", "lang": "en"},
                        new_src())
    assert st == 400 and "4111" not in b.decode()


def test_grouping_counts_independent_reporters(rep):
    a, b = new_src(), new_src()
    for value, src in [("8 (999) 555-11-22", a), ("+7 999 555 11 22", a), ("+79995551122", b)]:
        st, _, _ = rep.report({"kind": "phone", "value": value,
                               "contact": f"c{src}@example.org"}, src)
        assert st == 201
    g = rep.group_of("+79995551122")
    assert g["reports"] == 3 and g["reporters"] == 2 and g["contacts"] == 2
    assert g["state"] == "open" and g["allowlisted"] is False and g["indicators_total"] == 0
    r = rep.api("GET", f"/api/v1/reports/triage/{g['id']}", "cert_coord")
    assert r.status_code == 200
    j = r.json()
    assert len(j["report_list"]) == 3 and all(x["has_contact"] for x in j["report_list"])
    assert "example.org" not in r.text


def test_triage_shows_allowlist_and_existing_indicators(rep):
    st, _, _ = rep.report({"kind": "phishing", "value": "google.com"}, new_src())
    assert st == 201
    g = rep.group_of("google.com")
    assert g["allowlisted"] is True
    # an indicator the coordinator may see that names the value
    ind = {"type": "indicator", "spec_version": "2.1",
           "id": "indicator--3a0e8c1e-1f7a-4c8e-9a55-6c1d1f0e7b01",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "pattern": "[domain-name:value = 'known-bad.example']", "pattern_type": "stix",
           "valid_from": "2024-01-01T00:00:00.000Z"}
    colls = requests.get(rep.base + "/taxii2/hub/collections/", headers={
        "Authorization": basic(rep.keys["cert"]),
        "Accept": "application/taxii+json;version=2.1"}, timeout=10).json()["collections"]
    open_id = [c["id"] for c in colls if c["title"] == "open collection"][0]
    r = requests.post(f"{rep.base}/taxii2/hub/collections/{open_id}/objects/",
                      headers={"Authorization": basic(rep.keys["cert"]),
                               "Content-Type": "application/taxii+json;version=2.1",
                               "Accept": "application/taxii+json;version=2.1"},
                      data=json.dumps({"objects": [ind]}), timeout=10)
    assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
    st, _, _ = rep.report({"kind": "phishing", "value": "known-bad.example"}, new_src())
    assert st == 201
    g = rep.group_of("known-bad.example")
    assert g["indicators_total"] == 1 and g["indicators"] == [ind["id"]]


def test_triage_needs_a_coordinator(rep):
    assert rep.api("GET", "/api/v1/reports/triage", None).status_code == 401
    r = rep.api("GET", "/api/v1/reports/triage", "bank_reader")
    assert r.status_code == 403 and r.json()["http_status"] == "403"
    assert rep.api("POST", "/api/v1/reports/triage/1/confirm", "bank").status_code == 403
    assert rep.api("GET", "/api/v1/reports/triage", "cert_admin").status_code == 200
    assert rep.api("GET", "/api/v1/reports/triage/999999", "cert_coord").status_code == 404


def wait_for(pred, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def read_stream(rep, path, who, until, timeout=5):
    """The stream's text until `until` appears (or timeout)."""
    r = rep.api("GET", path, who, stream=True)
    assert r.status_code == 200, r.text
    text = b""
    deadline = time.monotonic() + timeout
    try:
        for chunk in r.iter_content(None):
            text += chunk
            if until.encode() in text or time.monotonic() > deadline:
                break
    finally:
        r.close()
    return text.decode(errors="replace")


def plain_export(rep, who, kind):
    r = rep.api("GET", f"/api/v1/export/plain?kind={kind}", who)
    assert r.status_code == 200, r.text
    return r.text


def test_five_citizens_promote_a_scam_number_into_a_decision(rep):
    number = "+79997770011"
    receipts = []
    for i in range(THRESHOLD):
        if i == THRESHOLD - 1:
            assert rep.group_of(number)["state"] == "open"
        st, _, j = rep.report({"kind": "phone", "value": "8 999 777-00-11",
                               "text": f"robocall {i}"}, new_src())
        assert st == 201
        receipts.append(j["receipt"])
    g = wait_for(lambda: (lambda g: g if g and g["state"] == "promoted" else None)(
        rep.group_of(number)))
    assert g and g["reporters"] == THRESHOLD and g["indicator"].startswith("indicator--")
    assert g["decided_by"] == "promote_threshold"
    # a later report of the same number says it is published already
    st, _, j = rep.report({"kind": "phone", "value": number}, new_src())
    assert st == 201 and j["state"] == "promoted"
    # the receipt says so, each only about its own report
    st, _, b = rep.req("GET", f"/api/v1/reports/status/{receipts[0]}", src=new_src())
    assert json.loads(b)["state"] == "promoted"
    # a decision any member sees, like any indicator's
    assert number in wait_for(lambda: plain_export(rep, "telco", "phone"))
    text = read_stream(rep, "/api/v1/stream?view=decisions", "telco", "snapshot-end")
    assert "snapshot-end" in text and number in text
    # its write is audited, with its log position, as the hub's
    audit = [json.loads(x) for x in (rep.data / "audit.log").read_text().splitlines() if x]
    w = [e for e in audit if e.get("action") == "write" and g["indicator"] in e.get("ids", [])]
    assert w and w[0]["org"] == "citizen reports" and w[0].get("seqs"), w
    assert f"({THRESHOLD} reports, {THRESHOLD} reporters)" in w[0]["detail"]
    # the indicator is the hub-owned organisation's, with the configured confidence
    out = tocsin("org", "list", "--data", rep.data).stdout
    assert "citizen reports" in out
    r = rep.api("GET", f"/api/v1/match?value={urllib.parse.quote(number)}", "telco")
    hit = r.json()["results"][0]
    assert hit["hits"] and hit["hits"][0]["indicator_id"] == g["indicator"]


def test_coordinator_confirms_and_rejects(rep):
    st, _, _ = rep.report({"kind": "phishing", "value": "http://confirm-me.example/login"},
                          new_src())
    st, _, _ = rep.report({"kind": "phishing", "value": "reject-me.example"}, new_src())
    g1 = rep.group_of("http://confirm-me.example/login")
    g2 = rep.group_of("reject-me.example")
    r = rep.api("POST", f"/api/v1/reports/triage/{g1['id']}/confirm", "cert_coord",
                json={"note": "fake bank page, checked"})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["state"] == "promoted" and j["indicator"].startswith("indicator--")
    assert j["decided_by"].startswith("cert-no/")
    r = rep.api("POST", f"/api/v1/reports/triage/{g2['id']}/reject", "cert_coord")
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    # both decisions are audited, with the key that made them and counts only
    audit = [json.loads(x) for x in (rep.data / "audit.log").read_text().splitlines() if x]
    acts = [(e.get("action"), e.get("actor"), e.get("detail")) for e in audit
            if str(e.get("action", "")).startswith("report.")]
    assert ("report.confirm", rep.keys["cert_coord"].split("_")[1],
            f"report group {g1['id']} (1 reports, 1 reporters)") in acts, acts
    assert any(a[0] == "report.reject" for a in acts)
    # promoted is final
    r = rep.api("POST", f"/api/v1/reports/triage/{g1['id']}/reject", "cert_coord")
    assert r.status_code == 409
    assert "http://confirm-me.example/login" in wait_for(lambda: plain_export(rep, "bank", "url"))
    assert "reject-me.example" not in plain_export(rep, "bank", "domain")
    # the CLI sees the same queue, and confirms for the daemon to publish
    st, _, _ = rep.report({"kind": "email", "value": "cli-confirm@scam.example"}, new_src())
    g3 = rep.group_of("cli-confirm@scam.example")
    out = tocsin("report", "list", "--state", "open", "--data", rep.data).stdout
    assert "cli-confirm@scam.example" in out
    tocsin("report", "confirm", str(g3["id"]), "--note", "seen in a campaign", "--data", rep.data)
    g3 = wait_for(lambda: (lambda g: g if g["state"] == "promoted" else None)(
        rep.group_of("cli-confirm@scam.example")))
    assert g3 and g3["indicator"]
    p = tocsin("report", "confirm", "99999", "--data", rep.data, check=False)
    assert p.returncode == 1


def test_contact_details_never_leave_the_hub(rep):
    contact = "witness-7f3a9c@contact-secret.example"
    phone_contact = "+7 912 000-12-34"
    number = "+79996660099"
    for i in range(THRESHOLD):
        st, _, _ = rep.report({"kind": "phone", "value": number, "text": "called me",
                               "contact": contact if i % 2 else phone_contact}, new_src())
        assert st == 201
    st, _, _ = rep.form({"kind": "phone", "value": number, "contact": contact, "lang": "ru"},
                        new_src())
    assert st == 200
    g = wait_for(lambda: (lambda g: g if g and g["state"] == "promoted" else None)(
        rep.group_of(number)))
    assert g
    needles = [contact, "contact-secret", "912 000", "79120001234", "witness-7f3a9c"]
    outputs = {}
    # TAXII: every collection every principal may read (peer included)
    for who in ("cert_admin", "peer", "telco", "bank"):
        h = {"Authorization": basic(rep.keys[who]), "Accept": "application/taxii+json;version=2.1"}
        colls = requests.get(rep.base + "/taxii2/hub/collections/", headers=h,
                             timeout=10).json().get("collections", [])
        for c in colls:
            r = requests.get(f"{rep.base}/taxii2/hub/collections/{c['id']}/objects/",
                             headers=h, timeout=10)
            outputs[f"taxii {who} {c['title']}"] = r.text
    for fmt in ("plain", "csv", "stix", "rpz", "misp-feed/manifest.json"):
        outputs["export " + fmt] = rep.api("GET", f"/api/v1/export/{fmt}", "cert_admin").text
    outputs["match"] = rep.api("GET", f"/api/v1/match?value={urllib.parse.quote(number)}",
                               "telco").text
    outputs["triage"] = rep.api("GET", "/api/v1/reports/triage?limit=10000", "cert_coord").text
    outputs["triage group"] = rep.api("GET", f"/api/v1/reports/triage/{g['id']}",
                                      "cert_coord").text
    outputs["metrics"] = requests.get(rep.base + "/metrics", timeout=10).text
    outputs["stream"] = read_stream(rep, "/api/v1/stream?view=stix&last_event_id=0",
                                    "cert_admin", g["indicator"])
    outputs["stream decisions"] = read_stream(rep, "/api/v1/stream?view=decisions", "telco",
                                              "snapshot-end")
    outputs["daemon log"] = rep.daemon.log()
    outputs["audit"] = (rep.data / "audit.log").read_text(errors="replace")
    outputs["CLI export"] = tocsin("export", "--data", rep.data, "--format", "stix").stdout
    assert g["indicator"] in outputs["CLI export"]
    for f in ("tocsin.db", "registry.db"):
        for p in rep.data.glob(f + "*"):
            outputs[p.name] = p.read_bytes().decode(errors="replace")
    assert g["indicator"] in outputs["stream"] or g["indicator"] in outputs["export stix"]
    for name, out in outputs.items():
        for n in needles:
            assert n not in out, f"{n!r} leaked into {name}"
    # they are kept, apart, for the hub's staff
    out = tocsin("report", "show", str(g["id"]), "--contacts", "--data", rep.data).stdout
    assert contact in out
    out = tocsin("report", "show", str(g["id"]), "--data", rep.data).stdout
    assert contact not in out and "(contact given)" in out


def test_reports_can_be_turned_off(tmp_path):
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    conf = tmp_path / "tocsind.conf"
    conf.write_text("[reports]\nenabled = false\n")
    daemon = Daemon(d, config=conf)
    try:
        base = f"http://{daemon.addr}"
        r = requests.get(base + "/report", timeout=5)
        assert r.status_code == 404 and r.json()["http_status"] == "404"
        r = requests.post(base + "/api/v1/reports", json={"kind": "phone", "value": "+79991234567"},
                          timeout=5)
        assert r.status_code == 404
        assert not (d / "reports.db").exists()
    finally:
        assert daemon.stop() == 0
