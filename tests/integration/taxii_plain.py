"""A plain TAXII 2.1 server that is not tocsin, for the federation tests
(docs/peers.md, "Plain TAXII 2.1 peers"): discovery, one API root, one
collection, GET objects with added_after / limit / match[version] and the
X-TAXII-Date-Added-First/Last headers (TAXII 2.1 §3.4, §5.4), POST of an
envelope. Objects live in memory; every request needs the Bearer token."""
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TAXII = "application/taxii+json;version=2.1"


def ts(us):
    return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def parse_ts(s):
    d = datetime.strptime(s.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")
    return int(d.replace(tzinfo=timezone.utc).timestamp() * 1e6)


class PlainTaxii:
    def __init__(self, token):
        self.token = token
        self.coll = str(uuid.uuid4())
        self.objects = []          # (date_added_us, obj)
        self.posted = []
        self.mu = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", TAXII)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _auth(self):
                if self.headers.get("Authorization") != "Bearer " + outer.token:
                    self._send(401, {"title": "unauthorized", "http_status": "401"})
                    return False
                return True

            def do_GET(self):
                if not self._auth():
                    return
                u = urlparse(self.path)
                q = parse_qs(u.query)
                if u.path == "/taxii2/":
                    return self._send(200, {"title": "plain", "api_roots": ["/api1/"]})
                if u.path == f"/api1/collections/{outer.coll}/objects/":
                    after = parse_ts(q["added_after"][0]) if "added_after" in q else -1
                    limit = int(q.get("limit", ["100"])[0])
                    with outer.mu:
                        rows = sorted(r for r in outer.objects if r[0] > after)
                    page = rows[:limit]
                    hdr = {}
                    if page:
                        hdr = {"X-TAXII-Date-Added-First": ts(page[0][0]),
                               "X-TAXII-Date-Added-Last": ts(page[-1][0])}
                    return self._send(200, {"more": len(rows) > limit,
                                            "objects": [o for _, o in page]}, hdr)
                self._send(404, {"title": "not found", "http_status": "404"})

            def do_POST(self):
                if not self._auth():
                    return
                u = urlparse(self.path)
                n = int(self.headers.get("Content-Length", "0"))
                env = json.loads(self.rfile.read(n))
                if u.path != f"/api1/collections/{outer.coll}/objects/":
                    return self._send(404, {"title": "not found", "http_status": "404"})
                with outer.mu:
                    outer.posted += env.get("objects", [])
                self._send(202, {"id": str(uuid.uuid4()), "status": "complete",
                                 "success_count": len(env.get("objects", [])),
                                 "failure_count": 0, "pending_count": 0})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.t = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.t.start()

    def add(self, objs):
        with self.mu:
            for o in objs:
                us = int(time.time() * 1e6)
                while any(r[0] >= us for r in self.objects):
                    us += 1
                self.objects.append((us, o))

    def stop(self):
        self.httpd.shutdown()
