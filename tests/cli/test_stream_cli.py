"""`tocsin stream` without a hub: usage errors, a bad state file, and a hub
that is not there (it retries, and says so, until stopped). The stream
itself is tested against the real daemon in tests/integration/test_stream.py."""
import os
import signal
import subprocess
import time

import pytest

from conftest import BIN


@pytest.mark.parametrize("args,word", [
    ([], "--hub"),
    (["--hub", "ftp://x", "--key", "k"], "--hub"),
    (["--hub", "http://127.0.0.1:1"], "key"),
    (["--hub", "http://127.0.0.1:1", "--key", "k", "--view", "all"], "--view"),
    (["--hub", "http://127.0.0.1:1", "--key", "k", "--format", "xml"], "--format"),
    (["--hub", "http://127.0.0.1:1", "--key", "k", "--after", "-3"], "--after"),
    (["--hub", "http://127.0.0.1:1", "--key", "k", "--max-events", "0"], "--max-events"),
    (["--hub", "http://127.0.0.1:1", "--key", "k", "extra"], "unexpected"),
])
def test_usage_errors(tocsin, args, word):
    e = {"TOCSIN_KEY": ""}
    p = tocsin("stream", *args, env=e)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert word in p.stderr and "usage: tocsin stream" in p.stderr


def test_a_state_file_without_a_position_is_refused(tocsin, tmp_path):
    f = tmp_path / "pos"
    f.write_text("not a position\n")
    p = tocsin("stream", "--hub", "http://127.0.0.1:1", "--key", "k", "--state", f)
    assert p.returncode == 2
    assert "does not hold a position" in p.stderr


def test_an_absent_hub_is_retried(tmp_path):
    p = subprocess.Popen([BIN, "stream", "--hub", "http://127.0.0.1:1", "--key", "k"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.2)
    assert p.poll() is None, "it gave up instead of retrying"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    assert out == ""
    assert err.count("reconnecting") >= 2, err


def test_help(tocsin):
    p = tocsin("stream", "--help")
    assert p.returncode == 0
    assert "--state FILE" in p.stdout and "Last" not in p.stdout.split("\n")[0]
