"""The operator's daemon: registry changes apply by themselves, one daemon per
data directory, --check and -h, metrics that count the CLI's imports, and
a data directory no one else can read."""
import json
import os
import stat
import subprocess
import time

import pytest
import requests

from conftest import TOCSIN, TOCSIND, Daemon, tocsin
from hubutil import TAXII, basic, obj_indicator


@pytest.fixture
def hub_dir(tmp_path):
    d = tmp_path / "var"
    tocsin("init", "--data", d)
    tocsin("org", "add", "northbank", "--sector", "finance", "--country", "NO", "--data", d)
    return d


def discovery(addr, key):
    return requests.get(f"http://{addr}/taxii2/", headers={"Accept": TAXII,
                                                          "Authorization": basic(key)},
                        timeout=5)


def wait_for(pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_a_new_key_and_a_revocation_apply_within_a_second(hub_dir):
    dm = Daemon(hub_dir)
    try:
        key = tocsin("key", "create", "northbank", "--role", "contributor", "--data",
                     hub_dir).stdout.strip()
        t0 = time.monotonic()
        assert wait_for(lambda: discovery(dm.addr, key).status_code == 200, 1.0), \
            "a key created with the CLI was not accepted within 1 s (no SIGHUP sent)"
        key_id = key.split("_")[1]  # tcs_<key id>_<secret>
        tocsin("key", "revoke", key_id, "--data", hub_dir)
        assert wait_for(lambda: discovery(dm.addr, key).status_code == 401, 1.0), \
            "a revoked key was still accepted 1 s after the revocation"
        assert time.monotonic() - t0 < 10
        assert any('registry changed: reloaded' in l for l in dm.lines)
    finally:
        assert dm.stop() == 0


def test_a_second_daemon_on_the_same_directory_exits_naming_the_first(hub_dir):
    dm = Daemon(hub_dir)
    try:
        t0 = time.monotonic()
        p = subprocess.run([TOCSIND, "--data", str(hub_dir), "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=10)
        assert time.monotonic() - t0 < 5
        assert p.returncode != 0
        assert f"pid {dm.proc.pid}" in p.stderr, p.stderr
        # the first one still serves
        assert requests.get(f"http://{dm.addr}/healthz", timeout=5).status_code == 200
    finally:
        assert dm.stop() == 0
    # once the first stopped, a new one starts on the directory
    dm2 = Daemon(hub_dir)
    assert dm2.stop() == 0


def test_check_fails_on_a_missing_data_directory(tmp_path):
    p = subprocess.run([TOCSIND, "--check", "--data", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode != 0
    assert "nope" in p.stderr and "tocsin init" in p.stderr, p.stderr
    (tmp_path / "empty").mkdir()
    p = subprocess.run([TOCSIND, "--check", "--data", str(tmp_path / "empty")],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode != 0 and "not a tocsin data directory" in p.stderr


def test_short_help_prints_usage():
    p = subprocess.run([TOCSIND, "-h"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    assert p.stdout.startswith("usage: tocsind")


def log_position(addr):
    text = requests.get(f"http://{addr}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("tocsin_log_position "):
            return int(line.split()[1])
    raise AssertionError("no tocsin_log_position")


def test_metrics_count_what_the_cli_imported(hub_dir, tmp_path):
    dm = Daemon(hub_dir)
    try:
        before = log_position(dm.addr)
        f = tmp_path / "feed.json"
        objs = [obj_indicator(f"[ipv4-addr:value = '203.0.113.{i}']", f"cli-{i}")
                for i in range(5)]
        f.write_text(json.dumps({"type": "bundle", "id": "bundle--" + "1" * 8 +
                                 "-1111-4111-8111-" + "1" * 12, "objects": objs}))
        tocsin("import", "--data", hub_dir, f)
        assert log_position(dm.addr) == before + 5
    finally:
        assert dm.stop() == 0


def modes(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        out[dirpath] = stat.S_IMODE(os.stat(dirpath).st_mode)
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[p] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def test_every_data_file_is_the_owners_alone_whatever_the_umask(tmp_path):
    d = tmp_path / "var"
    old = os.umask(0o022)
    try:
        tocsin("init", "--data", d)
        tocsin("org", "add", "northbank", "--sector", "finance", "--country", "NO",
               "--data", d)
        key = tocsin("key", "create", "northbank", "--role", "contributor", "--data",
                     d).stdout.strip()
        tocsin("collection", "add", "open", "--read", "all", "--write", "all", "--data", d)
        dm = Daemon(d)
        try:
            body = {"objects": [obj_indicator("[ipv4-addr:value = '203.0.113.9']", "m")]}
            r = requests.post(f"http://{dm.addr}/taxii2/hub/collections/open/objects/",
                              headers={"Accept": TAXII, "Content-Type": TAXII,
                                       "Authorization": basic(key)},
                              data=json.dumps(body), timeout=10)
            assert r.status_code == 202, r.text
            seen = modes(d)  # while running: -wal and -shm exist
        finally:
            assert dm.stop() == 0
    finally:
        os.umask(old)
    assert any(p.endswith("-wal") for p in seen), seen
    bad = {p: oct(m) for p, m in seen.items()
           if m != (0o700 if os.path.isdir(p) else 0o600)}
    assert not bad, bad


def test_tocsind_tightens_a_data_directory_left_readable(hub_dir):
    for p in hub_dir.iterdir():
        os.chmod(p, 0o644)
    os.chmod(hub_dir, 0o755)
    dm = Daemon(hub_dir)
    try:
        seen = modes(hub_dir)
    finally:
        assert dm.stop() == 0
    bad = {p: oct(m) for p, m in seen.items()
           if m != (0o700 if os.path.isdir(p) else 0o600)}
    assert not bad, bad
    assert any("tightened the mode" in l for l in dm.lines)
