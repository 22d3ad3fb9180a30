"""Integration tests: the real tocsind, over HTTP, as TAXII clients see it.

The binaries are $TOCSIN and $TOCSIND (set by tests/integration/meson.build).
When tocsind is not built yet the whole suite exits 77, which meson counts as
a skip. The session fixture `hub` builds one data directory with five
organisations of different sectors and sharing groups, principals of several
roles, collections with different read/write SPECs and a few objects the
operator imported with the CLI, then starts tocsind on a free port of
127.0.0.1 and learns the port from its first {"msg":"listening"} log line.
At the end it sends SIGTERM and asserts exit status 0.
"""
import json
import os
import sys
import pathlib
import queue
import signal
import subprocess
import threading
import time

import pytest

from hubutil import Hub, obj_indicator

TOCSIN = os.environ.get("TOCSIN", "")
TOCSIND = os.environ.get("TOCSIND", "")

# Organisations: name -> (sector, country, groups). Sharing groups overlap so
# that AMBER (producer's groups) differs from sector and collection rights.
ORGS = {
    "northbank": ("finance", "NO", ["fin-isac"]),
    "telenord": ("telecom", "NO", ["telco-isac"]),
    "searchly": ("internet", "NO", []),
    "cert-no": ("cert", "NO", ["fin-isac", "telco-isac"]),
    "kripos": ("law-enforcement", "NO", ["le-net"]),
    "southbank": ("finance", "SE", ["fin-isac"]),
}

# Principals: label -> (org, role).
PRINCIPALS = {
    "bank": ("northbank", "contributor"),
    "bank_reader": ("northbank", "reader"),
    "bank_admin": ("northbank", "admin"),
    "telco": ("telenord", "contributor"),
    "telco_agent": ("telenord", "agent"),
    "inet": ("searchly", "contributor"),
    "cert": ("cert-no", "contributor"),
    "cert_coord": ("cert-no", "coordinator"),
    "cert_admin": ("cert-no", "admin"),
    "police": ("kripos", "contributor"),
    "police_reader": ("kripos", "reader"),
    "bank2": ("southbank", "contributor"),
    "peer": ("cert-no", "peer"),
}

# Collections: alias -> (read SPEC, write SPEC).
COLLECTIONS = {
    "open": ("all", "all"),
    "finance": ("sector:finance,org:cert-no", "sector:finance,org:cert-no"),
    "le-only": ("sector:law-enforcement", "sector:law-enforcement"),
    "readonly": ("all", "none"),
    "writeonly": ("none", "all"),
    "isac": ("group:fin-isac", "group:fin-isac"),
    "roles": ("role:reader,role:contributor", "role:contributor"),
    "paging": ("all", "all"),
}

# Objects the operator imports with the CLI before the daemon starts.
SEEDED = {
    "readonly": [obj_indicator("[ipv4-addr:value = '198.51.100.10']", "seed-ro-1"),
                 obj_indicator("[ipv4-addr:value = '198.51.100.11']", "seed-ro-2")],
    "writeonly": [obj_indicator("[ipv4-addr:value = '198.51.100.20']", "seed-wo-1")],
    "le-only": [obj_indicator("[ipv4-addr:value = '198.51.100.30']", "seed-le-1")],
}

MAX_CONTENT = 1024 * 1024
MAX_PAGE = 40  # small, so that clients meet the cap (as_pages lowers its page size)


def pytest_configure(config):
    if not TOCSIN or not os.access(TOCSIN, os.X_OK):
        raise pytest.UsageError("TOCSIN must name the built tocsin binary")
    if not TOCSIND or not os.access(TOCSIND, os.X_OK):
        print(f"integration: tocsind is not built ({TOCSIND or '$TOCSIND unset'}); skipping")
        pytest.exit("tocsind not built", returncode=77)


def tocsin(*args, input=None, check=True, timeout=120):
    """Runs the CLI; returns the CompletedProcess (text mode)."""
    e = dict(os.environ)
    e.pop("TOCSIN_DATA", None)
    p = subprocess.run([TOCSIN, *map(str, args)], input=input, capture_output=True, text=True,
                       env=e, timeout=timeout)
    if check:
        assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
    return p


class Daemon:
    """A running tocsind; its stderr lines are collected by a thread."""

    def __init__(self, data, config=None, listen="127.0.0.1:0"):
        args = [TOCSIND, "--data", str(data), "--listen", listen]
        if config:
            args += ["--config", str(config)]
        self.args = args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        self.addr = self._wait_listening()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            self.q.put(line)
        self.q.put(None)

    def _wait_listening(self, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=5)
                raise RuntimeError(f"tocsind exited {self.proc.returncode} before listening:\n"
                                   + "".join(self.lines))
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("msg") == "listening":
                assert rec.get("tls") in (False, None), rec
                return rec["addr"]
        self.proc.kill()
        raise RuntimeError("tocsind did not log {\"msg\":\"listening\"} in time:\n"
                           + "".join(self.lines))

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return "timeout"
        self.t.join(timeout=5)
        if self.proc.returncode != 0:
            # shown by pytest with the failure that the status causes
            sys.stderr.write(f"tocsind exited {self.proc.returncode}; its log ends:\n"
                             + self.log()[-4000:])
        return self.proc.returncode

    def log(self):
        return "".join(self.lines)


def build_data(d):
    """tocsin init, orgs, keys, collections, seeded objects. Returns the
    hub description (identities, keys, collection ids)."""
    tocsin("init", "--data", d)
    identities = {}
    for name, (sector, cc, groups) in ORGS.items():
        args = ["org", "add", name, "--sector", sector, "--country", cc, "--data", d]
        if groups:
            args += ["--groups", ",".join(groups)]
        out = tocsin(*args).stdout
        ident = out.strip()
        assert ident.startswith("identity--") and out.endswith("\n"), out
        identities[name] = ident
    keys = {}
    for label, (org, role) in PRINCIPALS.items():
        out = tocsin("key", "create", org, "--role", role, "--name", label, "--data", d).stdout
        key = out.strip()
        assert key.startswith("tcs_") and out == key + "\n", out
        keys[label] = key
    colls = {}
    for alias, (rd, wr) in COLLECTIONS.items():
        out = tocsin("collection", "add", alias, "--read", rd, "--write", wr,
                     "--title", f"{alias} collection", "--description", f"test {alias}",
                     "--data", d).stdout
        cid = out.strip()
        assert len(cid) == 36 and cid.count("-") == 4, out
        colls[alias] = cid
    for alias, objs in SEEDED.items():
        f = pathlib.Path(d) / f"seed-{alias}.json"
        f.write_text(json.dumps({"type": "bundle", "id": "bundle--" + "0" * 8 + "-0000-4000-8000-"
                                 + "0" * 12, "objects": objs}))
        tocsin("import", "--data", d, "--collection", alias, f)
    return identities, keys, colls


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    d = tmp_path_factory.mktemp("hub") / "var"
    identities, keys, colls = build_data(d)
    conf = d.parent / "tocsind.conf"
    conf.write_text(f"# integration tests\n[taxii]\nmax_content_length = {MAX_CONTENT}\n"
                    f"max_page = {MAX_PAGE}\n")
    daemon = Daemon(d, config=conf)
    h = Hub(f"http://{daemon.addr}", keys, identities, colls, ORGS, PRINCIPALS, COLLECTIONS,
            data=d, daemon=daemon)
    yield h
    rc = daemon.stop()
    assert rc == 0, f"tocsind exit status {rc} after SIGTERM; log:\n{daemon.log()[-4000:]}"


@pytest.fixture
def fresh_hub(tmp_path):
    """A data directory of its own, for tests that restart or count."""
    d = tmp_path / "var"
    identities, keys, colls = build_data(d)
    daemon = Daemon(d)
    h = Hub(f"http://{daemon.addr}", keys, identities, colls, ORGS, PRINCIPALS, COLLECTIONS,
            data=d, daemon=daemon)
    yield h
    rc = daemon.stop()
    assert rc == 0, f"tocsind exit status {rc} after SIGTERM; log:\n{daemon.log()[-4000:]}"
