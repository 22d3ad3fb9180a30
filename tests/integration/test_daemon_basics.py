"""tocsind as an operator meets it: options, --check, /healthz, /metrics,
error resources, 413, signals, and the TLS listener (versions, ciphers,
client certificates).

Self-contained: each test makes its own data directory with `tocsin init`
and starts its own tocsind. TLS tests make a throwaway CA, server and
client certificate with certtool (gnutls-bin) in tmp_path; nothing secret
is kept in the repository.
"""
import json
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

TOCSIN = os.environ.get("TOCSIN", "")
TOCSIND = os.environ.get("TOCSIND", "")
TAXII = "application/taxii+json;version=2.1"


def init_data(tmp_path):
    d = tmp_path / "var"
    p = subprocess.run([TOCSIN, "init", "--data", str(d)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return d


class Tocsind:
    """A tocsind started with args; stderr goes to a file we read."""

    def __init__(self, tmp_path, *args):
        self.logpath = tmp_path / f"tocsind-{time.monotonic_ns()}.log"
        self.logf = open(self.logpath, "w")
        self.proc = subprocess.Popen([TOCSIND, *map(str, args)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.logf)
        self.addrs = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for rec in self.records():
                if rec.get("msg") == "listening":
                    self.addrs[rec["tls"]] = rec["addr"]
            if self.addrs or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        assert self.addrs, f"tocsind did not listen; log:\n{self.log()}"
        time.sleep(0.05)
        for rec in self.records():  # a second listener may log just after the first
            if rec.get("msg") == "listening":
                self.addrs[rec["tls"]] = rec["addr"]

    def log(self):
        return self.logpath.read_text()

    def records(self):
        out = []
        for line in self.log().splitlines():
            line = line.strip()
            if line:
                out.append(json.loads(line))  # every line is one JSON object
        return out

    def url(self, path, tls=False):
        return f"{'https' if tls else 'http'}://{self.addrs[tls]}{path}"

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=40)
        self.logf.close()
        return rc

    def __del__(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def get(url, headers=None, data=None, method=None, context=None):
    """Returns (status, headers, body bytes), for errors too."""
    rq = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(rq, timeout=20, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# --- options and --check -------------------------------------------------

def test_help_and_version():
    p = subprocess.run([TOCSIND, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "--tls-listen" in p.stdout and "SIGHUP" in p.stdout
    p = subprocess.run([TOCSIND, "--version"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and p.stdout.startswith("tocsind ")
    p = subprocess.run([TOCSIND, "--bogus"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2


def test_check_prints_effective_configuration(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text("[taxii]\ntitle = \"My hub\"\nmax_page = 50\n")
    data = init_data(tmp_path)
    p = subprocess.run([TOCSIND, "--check", "--data", data, "--config", conf, "--listen",
                        "127.0.0.1:9999"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    assert "listen = 127.0.0.1:9999\n" in p.stdout      # the option overrides the file
    assert "title = \"My hub\"\n" in p.stdout
    assert "max_page = 50\n" in p.stdout
    assert "batch_max_objects = 10000\n" in p.stdout    # defaults are printed too
    # the printed configuration is itself a valid configuration
    again = tmp_path / "printed.conf"
    again.write_text(p.stdout)
    q = subprocess.run([TOCSIND, "--check", "--data", data, "--config", again],
                       capture_output=True, text=True, timeout=10)
    assert q.returncode == 0, q.stderr
    assert q.stdout.split("\n", 1)[1] == p.stdout.split("\n", 1)[1]


@pytest.mark.parametrize("text,message", [
    ("[server]\nthreads = 1000\n", "t.conf:2: threads: must be 0..256"),
    ("\n[server]\nport = 1\n", "t.conf:3: unknown key \"port\" in [server]"),
    ("[taxii]\nmax_content_length = 10\n", "t.conf:2: max_content_length: must be 1024..1073741824"),
    ("[server]\ntls_listen = 127.0.0.1:0\n",
     "t.conf:2: tls_listen needs tls_cert and tls_key in [server]"),
])
def test_check_reports_file_and_line(tmp_path, text, message):
    conf = tmp_path / "t.conf"
    conf.write_text(text)
    p = subprocess.run([TOCSIND, "--check", "--config", conf], capture_output=True, text=True,
                       timeout=10, cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().endswith(message), p.stderr


def test_bad_listen_option():
    p = subprocess.run([TOCSIND, "--check", "--listen", "localhost:80"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 2
    assert p.stderr.startswith("--listen: listen: \"localhost:80\": not a numeric IPv4 address")


# --- HTTP ------------------------------------------------------------------

def test_http_basics_and_signals(tmp_path):
    data = init_data(tmp_path)
    conf = tmp_path / "t.conf"
    conf.write_text("[taxii]\nmax_content_length = 4096\n")
    d = Tocsind(tmp_path, "--data", data, "--listen", "127.0.0.1:0", "--config", conf)
    assert d.addrs[False].startswith("127.0.0.1:")

    st, h, body = get(d.url("/healthz"))
    assert st == 200 and h["Content-Type"] == "application/json"
    health = json.loads(body)
    assert health["status"] == "ok" and isinstance(health["log_position"], int)

    st, h, body = get(d.url("/no/such/thing"))
    assert st == 404 and h["Content-Type"] == "application/json"
    # a TAXII client that mistypes a path gets the TAXII media type
    assert get(d.url("/nope"), headers={"Accept": TAXII})[1]["Content-Type"] == TAXII
    assert json.loads(body) == {"title": "not found",
                                "description": "tocsind serves /taxii2/, /api/v1/stream, /api/v1/export/, /api/v1/match, /api/v1/agents/receipt, /api/v1/tasks, /healthz and /metrics",
                                "http_status": "404"}

    # a wrong credential is refused by the daemon itself, as a TAXII error
    st, h, body = get(d.url("/taxii2/"), headers={"Authorization": "Bearer tcs_nope_nope"})
    assert st == 401 and h["Content-Type"] == TAXII
    assert "Basic" in h["WWW-Authenticate"] and "Bearer" in h["WWW-Authenticate"]
    assert json.loads(body)["http_status"] == "401"
    st, h, body = get(d.url("/taxii2/"), headers={"Authorization": "Digest x"})
    assert st == 401 and "unsupported authorization scheme" in json.loads(body)["description"]

    # max_content_length: refused from the Content-Length, before reading the body
    st, h, body = get(d.url("/taxii2/hub/collections/x/objects/"), data=b"x" * 5000,
                      method="POST", headers={"Content-Type": TAXII})
    assert st == 413 and h["Content-Type"] == TAXII
    assert json.loads(body)["http_status"] == "413"

    st, h, body = get(d.url("/metrics"))
    assert st == 200 and h["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert 'tocsin_http_requests_total{route="healthz",method="GET",status="200"} 1' in text
    assert 'tocsin_http_requests_total{route="other",method="GET",status="404"} 2' in text
    assert 'tocsin_http_requests_total{route="objects",method="POST",status="413"} 1' in text
    assert 'tocsin_http_request_duration_seconds_count{route="healthz"} 1' in text
    for name in ("tocsin_log_position", "tocsin_index_entries", "tocsin_objects_ingested_total",
                 "tocsin_writer_batches_total"):
        assert f"\n{name} " in text

    # one access line per request, with the fields PLAN3 names
    access = [r for r in d.records() if r.get("msg") == "request"]
    assert len(access) >= 5  # the /metrics line may still be on its way
    assert {"method", "path", "status", "bytes", "us", "key"} <= set(access[0])
    # request threads log as each request completes: lines of requests sent
    # one after the other may be written in another order
    hz = [a for a in access if a["path"] == "/healthz"]
    assert hz and hz[0]["status"] == 200, access

    d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while not any(r.get("msg") == "reloaded" for r in d.records()):
        assert time.monotonic() < deadline, d.log()
        time.sleep(0.05)
    assert get(d.url("/healthz"))[0] == 200  # still serving after the reload

    assert d.stop() == 0
    msgs = [r["msg"] for r in d.records()]
    assert msgs[0] == "starting" and msgs[-1] == "stopped" and "shutting down" in msgs


def test_metrics_require_auth(tmp_path):
    data = init_data(tmp_path)
    conf = tmp_path / "t.conf"
    conf.write_text("[metrics]\nrequire_auth = true\n")
    d = Tocsind(tmp_path, "--data", data, "--listen", "127.0.0.1:0", "--config", conf)
    st, h, body = get(d.url("/metrics"))
    assert st == 401 and "WWW-Authenticate" in h
    assert get(d.url("/healthz"))[0] == 200   # health stays open
    assert d.stop(signal.SIGINT) == 0


def test_refuses_a_busy_port(tmp_path):
    data = init_data(tmp_path)
    d = Tocsind(tmp_path, "--data", data, "--listen", "127.0.0.1:0")
    other = init_data(tmp_path / "other")
    p = subprocess.run([TOCSIND, "--data", other, "--listen", d.addrs[False]],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 1
    assert "cannot listen" in p.stderr
    assert d.stop() == 0


# --- TLS -------------------------------------------------------------------

CERTTOOL = shutil.which("certtool")
GNUTLS_CLI = shutil.which("gnutls-cli")


def certtool(*args):
    subprocess.run([CERTTOOL, *map(str, args)], check=True, capture_output=True, timeout=60)


def make_pki(dir):
    """A CA, a server certificate for 127.0.0.1 and a client certificate; and a
    second CA with its own client, which the hub must not trust."""
    dir.mkdir()
    def key(name):
        certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", dir / f"{name}.key")
    def tmpl(name, text):
        (dir / f"{name}.tmpl").write_text(text + "expiration_days = 2\n")
    for ca in ("ca", "rogue"):
        key(ca)
        tmpl(ca, f"cn = {ca}\nca\ncert_signing_key\n")
        certtool("--generate-self-signed", "--load-privkey", dir / f"{ca}.key", "--template",
                 dir / f"{ca}.tmpl", "--outfile", dir / f"{ca}.pem")
    for name, ca, text in (("server", "ca", "cn = localhost\nip_address = 127.0.0.1\ntls_www_server\n"),
                           ("client", "ca", "cn = client\ntls_www_client\n"),
                           ("rclient", "rogue", "cn = rogue client\ntls_www_client\n")):
        key(name)
        tmpl(name, text)
        certtool("--generate-certificate", "--load-privkey", dir / f"{name}.key",
                 "--load-ca-certificate", dir / f"{ca}.pem", "--load-ca-privkey",
                 dir / f"{ca}.key", "--template", dir / f"{name}.tmpl", "--outfile",
                 dir / f"{name}.pem")
    return dir


@pytest.fixture
def tls_hub(tmp_path):
    if not CERTTOOL:
        pytest.skip("certtool (gnutls-bin) is not installed: scripts/deps.sh")
    pki = make_pki(tmp_path / "pki")
    data = init_data(tmp_path)
    conf = tmp_path / "tls.conf"
    conf.write_text(f"[server]\nlisten = 127.0.0.1:0\ntls_listen = 127.0.0.1:0\n"
                    f"tls_cert = {pki / 'server.pem'}\ntls_key = {pki / 'server.key'}\n"
                    f"client_ca = {pki / 'ca.pem'}\n")
    d = Tocsind(tmp_path, "--data", data, "--config", conf)
    assert True in d.addrs and False in d.addrs, d.log()
    yield d, pki, data
    assert d.stop() == 0


def client_ctx(pki, cert=None):
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if cert:
        ctx.load_cert_chain(str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))
    return ctx


def test_tls_serves_and_verifies(tls_hub):
    d, pki, _ = tls_hub
    st, h, body = get(d.url("/healthz", tls=True), context=client_ctx(pki))
    assert st == 200 and json.loads(body)["status"] == "ok"
    # TLS 1.2 with an AEAD suite works
    ctx = client_ctx(pki)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    assert get(d.url("/healthz", tls=True), context=ctx)[0] == 200
    # a certificate from a CA the hub does not trust is refused, as a TAXII error
    st, h, body = get(d.url("/taxii2/", tls=True), context=client_ctx(pki, "rclient"))
    assert st == 401 and h["Content-Type"] == TAXII
    assert "not signed by a trusted CA" in json.loads(body)["description"]
    # a trusted certificate that no principal is mapped to is refused too
    st, h, body = get(d.url("/taxii2/", tls=True), context=client_ctx(pki, "client"))
    assert st == 401 and "not mapped" in json.loads(body)["description"]


def gnutls_handshake(addr, priority, pki):
    host, port = addr.rsplit(":", 1)
    p = subprocess.run([GNUTLS_CLI, "--priority", priority, "--x509cafile", str(pki / "ca.pem"),
                        "-p", port, host], input="", capture_output=True, text=True, timeout=20)
    return p


@pytest.mark.skipif(not GNUTLS_CLI, reason="gnutls-cli (gnutls-bin) is not installed")
def test_tls_refuses_old_versions_and_non_aead(tls_hub):
    d, pki, _ = tls_hub
    ok = gnutls_handshake(d.addrs[True], "NORMAL:-VERS-ALL:+VERS-TLS1.2", pki)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "GCM" in ok.stdout or "CHACHA20" in ok.stdout
    old = gnutls_handshake(d.addrs[True], "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0", pki)
    assert old.returncode != 0
    cbc = gnutls_handshake(d.addrs[True],
                           "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:"
                           "-MAC-ALL:+SHA1:+SHA256", pki)
    assert cbc.returncode != 0


def test_mtls_principal(tls_hub):
    d, pki, data = tls_hub
    org = subprocess.run([TOCSIN, "org", "add", "tlsbank", "--sector", "finance", "--country",
                          "NO", "--data", data], capture_output=True, text=True, timeout=60)
    if org.returncode != 0:
        pytest.skip(f"tocsin org add not available: {org.stderr.strip()}")
    key = subprocess.run([TOCSIN, "key", "create", "tlsbank", "--role", "reader", "--cert",
                          pki / "client.pem", "--data", data], capture_output=True, text=True,
                         timeout=60)
    assert key.returncode == 0, key.stderr
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while True:
        st, h, body = get(d.url("/taxii2/", tls=True), context=client_ctx(pki, "client"),
                          headers={"Accept": TAXII})
        if st == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert st == 200, body
    assert h["Content-Type"] == TAXII
    deadline = time.monotonic() + 10
    while True:  # the access line is written just after the answer is sent
        lines = [r for r in d.records() if r.get("msg") == "request" and r.get("tls")
                 and r.get("status") == 200 and r.get("path") == "/taxii2/"]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert lines, d.log()
    assert lines[-1]["key"].startswith("cert:") and len(lines[-1]["key"]) == 5 + 64
