"""Shared fixtures of the CLI tests: run the built `tocsin` as a user would.

The binary is $TOCSIN_BIN (set by tests/cli/meson.build). Every test gets
its own data directory under tmp_path; nothing outside the repository is
needed except by the one schema test, which skips when the schemas are
absent.
"""
import json
import os
import subprocess
import uuid

import pytest

BIN = os.environ.get("TOCSIN_BIN", "")
NS = uuid.UUID("7b3b2c9e-1f0e-4e55-9a57-3c1f2f6e0a11")
T0 = "2024-01-01T00:00:00.000Z"


def pytest_configure(config):
    if not BIN or not os.access(BIN, os.X_OK):
        raise pytest.UsageError("TOCSIN_BIN must name the built tocsin binary")


def run(*args, input=None, env=None, cwd=None, check_rc=None):
    """Runs tocsin with args; returns the CompletedProcess (text mode)."""
    e = dict(os.environ)
    e.pop("TOCSIN_DATA", None)
    if env:
        e.update(env)
    p = subprocess.run([BIN, *map(str, args)], input=input, capture_output=True,
                       text=True, env=e, cwd=cwd, timeout=120)
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stdout, p.stderr)
    return p


@pytest.fixture
def tocsin():
    return run


@pytest.fixture
def data(tmp_path):
    """An initialised data directory."""
    d = tmp_path / "var"
    run("init", "--data", d, check_rc=0)
    return d


def sid(kind, name):
    """A deterministic STIX id of type kind for name."""
    return f"{kind}--{uuid.uuid5(NS, name)}"


def indicator(pattern, name=None, valid_from=T0, valid_until=None, modified=T0, **extra):
    o = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", name or pattern),
        "created": T0,
        "modified": modified,
        "name": name or pattern,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": valid_from,
    }
    if valid_until:
        o["valid_until"] = valid_until
    o.update(extra)
    return o


def ind_ip(ip):
    return indicator(f"[ipv4-addr:value = '{ip}']")


def ind_domain(dom):
    return indicator(f"[domain-name:value = '{dom}']")


def ind_url(url):
    return indicator(f"[url:value = '{url}']")


def bundle(objs):
    return {"type": "bundle", "id": sid("bundle", json.dumps([o["id"] for o in objs])),
            "objects": objs}


def write_json(path, doc):
    path.write_text(json.dumps(doc, indent=1))
    return path


def write_jsonl(path, objs):
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    return path


def summary(stdout):
    """Parses 'imported N, duplicates M, rejected K' into a tuple."""
    line = [l for l in stdout.splitlines() if l.startswith("imported ")]
    assert line, stdout
    parts = dict(p.strip().split(" ") for p in line[-1].split(","))
    return int(parts["imported"]), int(parts["duplicates"]), int(parts["rejected"])


def stats(data_dir):
    p = run("stats", "--data", data_dir, "--json", check_rc=0)
    return json.loads(p.stdout)
