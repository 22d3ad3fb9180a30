"""Sources: feeds tocsind pulls on a schedule (docs/sources.md), against the
real daemon and a real HTTP server started here.

The feed server is Python's http.server on 127.0.0.1 in a thread, with ETag
and Last-Modified support (a conditional GET of an unchanged file is a 304)
and a log of every request with its headers. It serves feeds shaped like
the well-known public ones: a URL list (URLhaus's plain text), an IP
blocklist with comments (Spamhaus DROP's "net ; SBL..." and Feodo's
"# comments"), a CSV with a header line (URLhaus/ThreatFox CSV), a MISP
feed directory (manifest.json and one JSON file per event, as CIRCL's OSINT
feed) and a TAXII 2.1 collection (objects pages honouring added_after, with
X-TAXII-Date-Added-Last). tocsind is allowed plain HTTP to loopback
([sources] allow_http, allow_private); each source is pulled at once when
added and again when `tocsin source run NAME --wait` asks.

What a member would notice is checked through the hub's own interfaces:
the lookup API (/api/v1/match: producer, TLP, confidence, expired), the
decisions stream's snapshot, TAXII reads, `tocsin source status --json`
and /metrics.
"""
import email.utils
import hashlib
import http.server
import json
import threading
import time
import uuid

import pytest
import requests

from conftest import Daemon, tocsin
from hubutil import TLP2, basic

TAXII = "application/taxii+json;version=2.1"

URLS_V1 = """################################################################
# abuse.ch URLhaus Database Dump (plain text)                   #
# Last updated: 2026-12-06 10:00:00 (UTC)                       #
################################################################
http://malware-one.example/bin.exe
https://phish-two.example/login.php
hxxp://defanged-three[.]example/payload
"""
URLS_V2 = URLS_V1.replace("https://phish-two.example/login.php\n", "")

DROP = """; Spamhaus DROP List 2026/12/06 - (c) 2026 The Spamhaus Project
; Last-Modified: Sun, 06 Dec 2026 10:00:00 GMT
45.9.148.0/24 ; SBL000001
185.220.101.7 ; SBL000002
# Feodo-style comment line
91.92.109.77   # trailing hash comment
not-an-address ; SBL000003
"""

CSV = """# ThreatFox-like export
"first_seen_utc","ioc_value","ioc_type","threat_type","malware"
"2026-12-01 10:00:00","c2.botnet-four.example","domain","botnet_cc","Mirai"
"2026-12-01 11:00:00","185.220.101.99","ip","botnet_cc","Mozi"
"2026-12-01 12:00:00","44d88612fea8a8f36de82e1278abb02f","md5_hash","payload","EICAR"
"""

MISP_EVENT = str(uuid.UUID("5f1a7c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"))
MISP_ATTR1 = str(uuid.UUID("6a2b8d2f-2b3c-4d4e-9fa0-1b2c3d4e5f60"))
MISP_ATTR2 = str(uuid.UUID("7b3c9e30-3c4d-4e5f-a0b1-2c3d4e5f6071"))


def misp_event(attrs, ts="1764583200"):
    return {"Event": {
        "uuid": MISP_EVENT, "info": "OSINT - test campaign", "date": "2026-12-01",
        "timestamp": ts, "published": True, "threat_level_id": "2",
        "Orgc": {"name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
        "Tag": [{"name": "tlp:white"}],
        "Attribute": attrs,
    }}


MISP_ATTRS = [
    {"uuid": MISP_ATTR1, "type": "domain", "category": "Network activity", "to_ids": True,
     "value": "misp-domain.example", "timestamp": "1764583200"},
    {"uuid": MISP_ATTR2, "type": "ip-dst", "category": "Network activity", "to_ids": True,
     "value": "91.92.109.200", "timestamp": "1764583200"},
]


def taxii_indicator(n, added):
    return {"type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'taxii-{n}')}",
            "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
            "name": f"taxii {n}", "pattern": f"[domain-name:value = 'taxii-{n}.example']",
            "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00.000Z"}, added


class FeedServer:
    """Serves files from self.files: path -> bytes; ETag/Last-Modified per
    content; a TAXII objects endpoint at /taxii/objects/."""

    def __init__(self):
        self.files = {}
        self.mtimes = {}
        self.requests = []        # (path, headers dict)
        self.taxii = []           # (obj, date_added text), in date_added order
        self.status_override = {}
        self.taxii_auth = None    # the Authorization the TAXII endpoint wants
        owner = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                path, _, query = self.path.partition("?")
                owner.requests.append((path, {k.lower(): v for k, v in self.headers.items()},
                                       query))
                if path in owner.status_override:
                    code = owner.status_override[path]
                    self.send_response(code)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path == "/taxii/objects/":
                    if owner.taxii_auth and self.headers.get("Authorization") != owner.taxii_auth:
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    return owner.taxii_page(self, query)
                body = owner.files.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                lm = email.utils.formatdate(owner.mtimes[path], usegmt=True)
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (inm and inm == etag) or (not inm and ims and ims == lm):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", lm)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def put(self, path, text):
        self.files[path] = text.encode() if isinstance(text, str) else text
        self.mtimes[path] = time.time() - 10 + len(self.mtimes)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def of(self, path):
        return [(h, q) for p, h, q in self.requests if p == path]

    def taxii_page(self, handler, query):
        from urllib.parse import parse_qs
        q = parse_qs(query)
        after = q.get("added_after", [""])[0]
        limit = int(q.get("limit", ["100"])[0])
        rows = [(o, t) for o, t in self.taxii if not after or t > after]
        page, more = rows[:min(limit, 2)], len(rows) > 2  # pages of 2: paging is exercised
        body = json.dumps({"more": more, "objects": [o for o, _ in page]}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", TAXII)
        if page:
            handler.send_header("X-TAXII-Date-Added-First", page[0][1])
            handler.send_header("X-TAXII-Date-Added-Last", page[-1][1])
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Env:
    def __init__(self, tmp):
        self.data = tmp / "var"
        tocsin("init", "--data", self.data)
        self.ident = tocsin("org", "add", "abusefeeds", "--sector", "cert", "--country", "CH",
                            "--data", self.data).stdout.strip()
        tocsin("org", "add", "bank", "--sector", "finance", "--country", "NO",
               "--data", self.data)
        self.key = tocsin("key", "create", "bank", "--role", "reader", "--data",
                          self.data).stdout.strip()
        self.coll = tocsin("collection", "add", "feeds", "--read", "all", "--write", "none",
                           "--data", self.data).stdout.strip()
        self.conf = tmp / "tocsind.conf"
        self.conf.write_text("[sources]\nallow_http = true\nallow_private = true\n"
                             "timeout_ms = 5000\n")
        self.feeds = FeedServer()
        self.daemon = Daemon(self.data, config=self.conf)
        self.base = f"http://{self.daemon.addr}"

    def add(self, name, path, fmt, *extra, check=True):
        return tocsin("source", "add", name, self.feeds.url(path), "--format", fmt,
                      "--org", "abusefeeds", "--collection", "feeds", "--every", "1h",
                      *extra, "--config", self.conf, "--data", self.data, check=check)

    def status(self, name):
        return json.loads(tocsin("source", "status", name, "--json", "--data",
                                 self.data).stdout)

    def wait_run(self, name, timeout=20):
        """Waits for the first scheduled pull of a new source."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st = self.status(name)
            if st.get("result"):
                return st
            time.sleep(0.1)
        raise AssertionError(f"{name}: no pull in {timeout} s:\n{self.daemon.log()[-3000:]}")

    def run(self, name, check=True):
        p = tocsin("source", "run", name, "--wait", "20", "--data", self.data, check=check)
        return p, self.status(name)

    def match(self, *values):
        r = requests.post(f"{self.base}/api/v1/match", json=list(values),
                          headers={"Authorization": basic(self.key)}, timeout=10)
        assert r.status_code == 200, r.text
        return {v: res for v, res in zip(values, r.json()["results"])}

    def decisions(self):
        """The values the member's enforcement points block now: the hub's
        decisions through GET /api/v1/export/plain (lib/feed, judged for
        the member as the decisions stream is)."""
        r = requests.get(f"{self.base}/api/v1/export/plain",
                         headers={"Authorization": basic(self.key)}, timeout=10)
        assert r.status_code == 200, r.text
        return set(r.text.split())

    def restart(self):
        assert self.daemon.stop() == 0, self.daemon.log()[-3000:]
        self.daemon = Daemon(self.data, config=self.conf)
        self.base = f"http://{self.daemon.addr}"

    def stop(self):
        rc = self.daemon.stop()
        self.feeds.close()
        assert rc == 0, self.daemon.log()[-3000:]


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    yield e
    e.stop()


def wait_for(pred, timeout=10, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_url_list_becomes_indicators_and_decisions(env):
    env.feeds.put("/urlhaus/text/", URLS_V1)
    env.add("urlhaus", "/urlhaus/text/", "url-list", "--tlp", "green", "--confidence", "70")
    st = env.wait_run("urlhaus")
    assert st["result"] == "ok", st
    assert st["entries"] == 3 and st["added"] == 3 and st["rejected"] == 0, st
    urls = ["http://malware-one.example/bin.exe", "https://phish-two.example/login.php",
            "http://defanged-three.example/payload"]
    m = env.match(*urls)
    for u in urls:
        assert m[u]["hit"], m[u]
        h = m[u]["hits"][0]
        assert h["producer"] == "abusefeeds" and h["tlp"] == "green", h
        assert h["confidence"] == 70 and h["collection"] == "feeds", h
    assert set(urls) <= env.decisions()
    # the objects carry the source's identity as their author
    r = requests.get(f"{env.base}/taxii2/hub/collections/{env.coll}/objects/",
                     headers={"Authorization": basic(env.key), "Accept": TAXII}, timeout=10)
    assert r.status_code == 200, r.text
    objs = r.json()["objects"]
    assert len(objs) == 3, objs
    for o in objs:
        assert o["created_by_ref"] == env.ident, o
        assert o["object_marking_refs"] == [TLP2["green"]], o


def test_unchanged_feed_is_a_304_and_changes_nothing(env):
    env.feeds.put("/urls.txt", URLS_V1)
    env.add("urls", "/urls.txt", "url-list")
    env.wait_run("urls")
    pos0 = json.loads(tocsin("stats", "--json", "--data", env.data).stdout)["log_position"]
    assert pos0 > 0
    n0 = len(env.feeds.of("/urls.txt"))
    p, st = env.run("urls")
    assert st["result"] == "unchanged", st
    hdrs, _ = env.feeds.of("/urls.txt")[n0]
    assert hdrs.get("if-none-match", "").startswith('"'), hdrs
    assert "if-modified-since" in hdrs, hdrs
    assert st["entries"] == 3, st
    # the same content served afresh (no ETag match), after a restart:
    # re-pulled, nothing re-versioned (the entries are kept in the registry)
    env.restart()
    env.feeds.put("/urls.txt", URLS_V1 + "\n# a new comment only\n")
    p, st = env.run("urls")
    assert st["result"] == "ok" and st["added"] == 0 and st["expired"] == 0, st
    assert st["entries"] == 3, st
    pos1 = json.loads(tocsin("stats", "--json", "--data", env.data).stdout)["log_position"]
    assert pos1 == pos0, "an unchanged list wrote to the log"


def test_entry_dropped_from_feed_expires_and_its_decision_goes(env):
    env.feeds.put("/urls.txt", URLS_V1)
    env.add("urls", "/urls.txt", "url-list", "--confidence", "80")
    env.wait_run("urls")
    gone = "https://phish-two.example/login.php"
    kept = "http://malware-one.example/bin.exe"
    assert gone in env.decisions()
    env.feeds.put("/urls.txt", URLS_V2)
    p, st = env.run("urls")
    assert st["result"] == "ok" and st["expired"] == 1 and st["entries"] == 2, st
    m = env.match(gone, kept)
    assert not m[gone]["hit"], m[gone]
    assert len(m[gone]["expired"]) == 1, m[gone]
    assert m[gone]["expired"][0]["producer"] == "abusefeeds", m[gone]
    assert m[kept]["hit"], m[kept]
    wait_for(lambda: gone not in env.decisions(), what="the decision removed")
    assert kept in env.decisions()
    # listed again: a new version, current again
    env.feeds.put("/urls.txt", URLS_V1)
    p, st = env.run("urls")
    assert st["added"] == 1 and st["entries"] == 3, st
    assert env.match(gone)[gone]["hit"]


def test_ip_blocklist_with_comments(env):
    env.feeds.put("/drop.txt", DROP)
    env.add("drop", "/drop.txt", "ip-blocklist", "--tlp", "clear", "--confidence", "90")
    st = env.wait_run("drop")
    assert st["result"] == "ok", st
    assert st["entries"] == 3 and st["rejected"] == 1, st
    assert "line 7" in st["warnings"], st
    m = env.match("45.9.148.5", "185.220.101.7", "91.92.109.77")
    for v, r in m.items():
        assert r["hit"] and r["hits"][0]["producer"] == "abusefeeds", (v, r)
        assert r["hits"][0]["tlp"] == "clear" and r["hits"][0]["confidence"] == 90, r
    assert m["45.9.148.5"]["how"] == "cidr", m
    assert {"45.9.148.0/24", "185.220.101.7", "91.92.109.77"} <= env.decisions()


def test_csv_with_header_and_column_mapping(env):
    env.feeds.put("/threatfox.csv", CSV)
    env.add("threatfox", "/threatfox.csv", "csv", "--column", "value=ioc_value",
            "--column", "type=ioc_type", "--confidence", "60")
    st = env.wait_run("threatfox")
    assert st["result"] == "ok" and st["entries"] == 3 and st["rejected"] == 0, st
    m = env.match("c2.botnet-four.example", "185.220.101.99", "44d88612fea8a8f36de82e1278abb02f")
    for v, r in m.items():
        assert r["hit"], (v, r)
        assert r["hits"][0]["confidence"] == 60, r
    assert m["44d88612fea8a8f36de82e1278abb02f"]["kind"] == "md5"


def test_misp_feed(env):
    env.feeds.put("/misp/manifest.json", json.dumps({MISP_EVENT: {
        "info": "OSINT - test campaign", "timestamp": "1764583200", "Orgc": {"name": "CIRCL"}}}))
    env.feeds.put(f"/misp/{MISP_EVENT}.json", json.dumps(misp_event(MISP_ATTRS)))
    env.add("circl", "/misp/", "misp-feed", "--confidence", "50")
    st = env.wait_run("circl")
    # the event's report and its two attributes' indicators
    assert st["result"] == "ok" and st["entries"] == 3, (st, env.daemon.log()[-2000:])
    m = env.match("misp-domain.example", "91.92.109.200")
    for v, r in m.items():
        assert r["hit"], (v, r)
        assert r["hits"][0]["producer"] == "abusefeeds", r
        assert r["hits"][0]["tlp"] == "clear", r  # the event's tlp:white, kept
    # the event loses an attribute: it expires; an unchanged manifest is a 304
    p, st = env.run("circl")
    assert st["result"] == "unchanged", st
    env.feeds.put(f"/misp/{MISP_EVENT}.json",
                  json.dumps(misp_event(MISP_ATTRS[:1], ts="1764590000")))
    env.feeds.put("/misp/manifest.json", json.dumps({MISP_EVENT: {
        "info": "OSINT - test campaign", "timestamp": "1764590000"}}))
    p, st = env.run("circl")
    assert st["result"] == "ok" and st["expired"] == 1 and st["entries"] == 2, st
    m = env.match("misp-domain.example", "91.92.109.200")
    assert m["misp-domain.example"]["hit"] and not m["91.92.109.200"]["hit"], m


def test_taxii_collection_pulled_with_added_after(env, tmp_path):
    for n in range(5):
        env.feeds.taxii.append(taxii_indicator(n, f"2026-12-01T00:00:0{n}.000000Z"))
    env.feeds.taxii_auth = "Bearer partner-token-0123456789"
    hdr = tmp_path / "partner.hdr"
    hdr.write_text("Authorization: Bearer partner-token-0123456789\n")
    env.add("peer-taxii", "/taxii/objects/", "taxii", "--tlp", "green",
            "--auth-header-file", hdr)
    st = env.wait_run("peer-taxii")
    assert st["result"] == "ok" and st["added"] == 5, st
    reqs = env.feeds.of("/taxii/objects/")
    assert reqs[0][0]["accept"] == TAXII
    assert "added_after" not in reqs[0][1] and "added_after=2026-12-01T00%3A00%3A01" not in reqs[0][1]
    assert any("added_after=2026-12-01T00:00:01.000000Z" in q for _, q in reqs), reqs
    n0 = len(reqs)
    env.feeds.taxii.append(taxii_indicator(9, "2026-12-02T00:00:00.000000Z"))
    p, st = env.run("peer-taxii")
    assert st["result"] == "ok" and st["added"] == 1, st
    later = env.feeds.of("/taxii/objects/")[n0:]
    assert "added_after=2026-12-01T00:00:04.000000Z" in later[0][1], later
    m = env.match("taxii-0.example", "taxii-9.example")
    for v, r in m.items():
        assert r["hit"] and r["hits"][0]["tlp"] == "green", (v, r)
        assert r["hits"][0]["producer"] == "abusefeeds", r
    # the header went with every request, and nowhere else
    assert all(h.get("authorization") == env.feeds.taxii_auth
               for h, _ in env.feeds.of("/taxii/objects/"))
    assert "partner-token" not in env.daemon.log()
    assert "partner-token" not in (env.data / "audit.log").read_text()
    # a wrong token is a clear error
    env.feeds.taxii_auth = "Bearer rotated"
    p, st = env.run("peer-taxii", check=False)
    assert st["result"] == "error" and "HTTP 401" in st["last_error"], st


def test_malformed_feed_is_an_error_and_loses_nothing(env):
    env.feeds.put("/urls.txt", URLS_V1)
    env.add("urls", "/urls.txt", "url-list")
    env.wait_run("urls")
    # an HTML error page served as 200, then an empty answer, then a 500
    env.feeds.put("/urls.txt", "<html><body>Service temporarily unavailable</body></html>")
    p, st = env.run("urls", check=False)
    assert p.returncode != 0
    assert st["result"] == "error" and "HTML" in st["last_error"], st
    env.feeds.put("/urls.txt", "# nothing listed today\n")
    p, st = env.run("urls", check=False)
    assert st["result"] == "error" and "lists nothing" in st["last_error"], st
    env.feeds.status_override["/urls.txt"] = 500
    p, st = env.run("urls", check=False)
    assert st["result"] == "error" and "HTTP 500" in st["last_error"], st
    assert st["errors"] == 3 and st["entries"] == 3, st
    m = env.match("http://malware-one.example/bin.exe", "https://phish-two.example/login.php")
    assert all(r["hit"] for r in m.values()), m
    # metrics per source
    r = requests.get(f"{env.base}/metrics", timeout=10)
    assert 'tocsin_source_errors_total{source="urls"} 3' in r.text, r.text[-2000:]
    assert 'tocsin_source_entries{source="urls"} 3' in r.text
    assert 'tocsin_source_last_success_timestamp_seconds{source="urls"}' in r.text


def test_allowlisted_and_too_broad_values_are_warnings(env):
    env.feeds.put("/bad.txt", "8.8.8.8\n0.0.0.0/0\n185.220.101.9\n")
    env.add("bad", "/bad.txt", "plain")
    st = env.wait_run("bad")
    assert st["result"] == "ok", st
    assert st["rejected"] >= 1 and "0.0.0.0/0" in st["warnings"], st
    assert "allowlist" in st["warnings"], st
    assert env.match("185.220.101.9")["185.220.101.9"]["hit"]
    dec = env.decisions()
    assert "185.220.101.9" in dec and "8.8.8.8" not in dec and "0.0.0.0/0" not in dec, dec


def test_status_list_and_remove(env):
    env.feeds.put("/urls.txt", URLS_V1)
    env.add("urls", "/urls.txt", "url-list", "--every", "15m")
    env.wait_run("urls")
    out = tocsin("source", "list", "--data", env.data).stdout
    assert "urls" in out and "url-list" in out and "abusefeeds" in out, out
    st = env.status("urls")
    assert st["every_s"] == 900 and st["next_run"] and st["last_success"], st
    assert st["runs"] == 1 and st["errors"] == 0, st
    text = tocsin("source", "status", "urls", "--data", env.data).stdout
    assert "last success" in text and "3 listed" in text, text
    tocsin("source", "remove", "urls", "--data", env.data)
    assert json.loads(tocsin("source", "list", "--json", "--data", env.data).stdout) == []
    # what it wrote stays
    assert env.match("http://malware-one.example/bin.exe")[
        "http://malware-one.example/bin.exe"]["hit"]
    audit = (env.data / "audit.log").read_text()
    assert '"source.pull"' in audit and '"source.add"' in audit and '"source.remove"' in audit


def test_source_of_an_organisation_added_a_moment_ago(env):
    """tocsin org add, then source add at once, while tocsind runs: the
    pull waits for the registry snapshot to hold the organisation."""
    env.feeds.put("/late.txt", "185.220.101.77\n")
    tocsin("org", "add", "latefeeds", "--sector", "cert", "--country", "DE", "--data", env.data)
    tocsin("source", "add", "late", env.feeds.url("/late.txt"), "--format", "plain",
           "--org", "latefeeds", "--collection", "feeds", "--config", env.conf,
           "--data", env.data)
    st = env.wait_run("late")
    assert st["result"] == "ok" and st["errors"] == 0, st
    hit = env.match("185.220.101.77")["185.220.101.77"]
    assert hit["hit"] and hit["hits"][0]["producer"] == "latefeeds", hit
