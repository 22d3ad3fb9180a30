"""Issue 8, points 1 and 4 over HTTP: a POST of an allowlisted value is a
success with a warning in its status message; an indicator that would
block everything is a failure with the reason; the prefix limits are
tocsind configuration keys; an edited allowlist applies without a
restart."""
import json
import signal
import subprocess
import time

import pytest

from conftest import TOCSIND, Daemon, tocsin
from hubutil import obj_indicator


def post(h, objs):
    r = h.post("open", "bank", objs)
    assert r.status_code == 202, r.text
    return r.json()


def detail(st, oid, lst):
    return {d["id"]: d for d in st.get(lst, [])}[oid]


def test_allowlisted_value_is_accepted_with_a_warning(hub):
    dns = obj_indicator("[ipv4-addr:value = '8.8.8.8']", "al-dns")
    holds = obj_indicator("[ipv4-addr:value = '8.0.0.0/8']", "al-holds")
    good = obj_indicator("[ipv4-addr:value = '185.220.101.77']", "al-good")
    st = hub.post_ok("open", "bank", [dns, holds, good])
    assert st["success_count"] == 3 and st["failure_count"] == 0, st
    m = detail(st, dns["id"], "successes")["message"]
    assert m == ("objects[0]: warning: 8.8.8.8 is on the built-in allowlist (Google Public "
                 "DNS): accepted, but never exported for blocking")
    m = detail(st, holds["id"], "successes")["message"]
    assert "8.0.0.0/8 holds 8.8.4.4, on the built-in allowlist (Google Public DNS)" in m
    assert "message" not in detail(st, good["id"], "successes")
    # a duplicate says both
    st = hub.post_ok("open", "bank", [dns])
    m = st["successes"][0]["message"]
    assert m.startswith("duplicate: already stored; objects[0]: warning: 8.8.8.8"), m


@pytest.mark.parametrize("pattern,says", [
    ("[ipv4-addr:value = '0.0.0.0/0']", "'0.0.0.0/0' would block every IPv4 address"),
    ("[ipv6-addr:value = '::/0']", "'::/0' would block every IPv6 address"),
    ("[ipv4-addr:value = '0.0.0.0/1']", "'0.0.0.0/1' is wider than /8 (widest_prefix_v4)"),
    ("[domain-name:value = 'ru']", "'ru' is a top-level domain"),
    ("[domain-name:value = 'com.ru']", "'com.ru' is a public suffix"),
    ("[domain-name:value = 'x-bad.example'] OR [ipv6-addr:value = '::/0']",
     "'::/0' would block every IPv6 address"),
])
def test_block_everything_is_refused(hub, pattern, says):
    bad = obj_indicator(pattern, "al-wide-" + pattern)
    good = obj_indicator("[domain-name:value = 'al-fine.example']", "al-fine")
    st = post(hub, [bad, good])
    assert st["success_count"] == 1 and st["failure_count"] == 1, st
    m = detail(st, bad["id"], "failures")["message"]
    assert m.startswith("objects[0]: pattern: ") and says in m, m
    assert hub.get(hub.object_url("open", bad["id"]), "bank").status_code == 404


def test_sco_naming_everything_is_an_observation(fresh_hub):
    # a hub of its own: an SCO has no "modified", which the shared hub's
    # paging tests compare
    sco = {"type": "ipv4-addr", "spec_version": "2.1",
           "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "0.0.0.0/0"}
    st = fresh_hub.post_ok("open", "bank", [sco])
    assert st["success_count"] == 1, st


def test_prefix_limits_are_configuration_keys(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text("[ingest]\nwidest_prefix_v4 = 16\nwidest_prefix_v6 = 48\n")
    data = tmp_path / "var"
    tocsin("init", "--data", data)
    p = subprocess.run([TOCSIND, "--check", "--data", data, "--config", conf],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    assert "[ingest]\nwidest_prefix_v4 = 16\nwidest_prefix_v6 = 48\n" in p.stdout
    p = subprocess.run([TOCSIND, "--check", "--data", data], capture_output=True, text=True,
                       timeout=10)
    assert "widest_prefix_v4 = 8\nwidest_prefix_v6 = 32\n" in p.stdout
    conf.write_text("[ingest]\nwidest_prefix_v6 = 0\n")
    p = subprocess.run([TOCSIND, "--check", "--config", conf], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode != 0 and "t.conf:2: widest_prefix_v6: must be 1..128" in p.stderr


def test_configured_limit_applies_to_post(fresh_hub, tmp_path):
    fresh_hub.daemon.stop()
    conf = tmp_path / "t.conf"
    conf.write_text("[ingest]\nwidest_prefix_v4 = 16\n")
    d = Daemon(fresh_hub.data, config=conf)
    fresh_hub.base = f"http://{d.addr}"
    fresh_hub.root = fresh_hub.base + "/taxii2/hub/"
    fresh_hub.daemon = d
    wide = obj_indicator("[ipv4-addr:value = '45.0.0.0/8']", "al-conf-wide")
    ok = obj_indicator("[ipv4-addr:value = '45.1.0.0/16']", "al-conf-ok")
    st = post(fresh_hub, [wide, ok])
    assert st["failure_count"] == 1, st
    assert "'45.0.0.0/8' is wider than /16 (widest_prefix_v4)" in st["failures"][0]["message"]


def wait_log(daemon, msg, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for line in list(daemon.lines):
            try:
                if json.loads(line).get("msg") == msg:
                    return json.loads(line)
            except ValueError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"no log line {msg!r}:\n" + daemon.log()[-3000:])


def test_allowlist_changes_apply_without_restart(fresh_hub):
    h = fresh_hub
    a = obj_indicator("[domain-name:value = 'partner-portal.example']", "al-partner")
    st = h.post_ok("open", "bank", [a])
    assert "message" not in st["successes"][0], st
    tocsin("allowlist", "add", "--data", h.data, "partner-portal.example",
           "--reason", "our partner's portal")
    time.sleep(1.1)  # looked at, at a write, once a second
    a2 = obj_indicator("[url:value = 'https://partner-portal.example/']", "al-partner-2")
    st = h.post_ok("open", "bank", [a2])
    m = st["successes"][0]["message"]
    assert (f"is on the allowlist {h.data}/allowlist.txt (our partner's portal)") in m, m
    wait_log(h.daemon, "allowlist reloaded")

    # SIGHUP applies at once
    h.daemon.lines.clear()
    tocsin("allowlist", "add", "--data", h.data, "185.220.101.0/24", "--reason", "lab")
    h.daemon.proc.send_signal(signal.SIGHUP)
    wait_log(h.daemon, "allowlist reloaded")
    b = obj_indicator("[ipv4-addr:value = '185.220.101.9']", "al-lab")
    st = h.post_ok("open", "bank", [b])
    assert "(lab)" in st["successes"][0]["message"], st
