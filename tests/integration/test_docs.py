"""The docs promise only what exists, and name everything that does (issue 8
point 13): every configuration key tocsind knows is in tocsind(8) and
etc/tocsind.conf, every metric /metrics shows is in tocsind(8) and
docs/daemon.md, every tocsin command has its section in tocsin(1), SEE ALSO
names only pages that exist, and the README names no program that is not
built."""
import os
import re
import subprocess
from pathlib import Path

import requests

from conftest import TOCSIN, TOCSIND, Daemon, tocsin

SRC = Path(os.environ.get("TOCSIN_SOURCE", Path(__file__).resolve().parents[2]))
MAN1 = (SRC / "docs" / "man" / "tocsin.1").read_text()
MAN8 = (SRC / "docs" / "man" / "tocsind.8").read_text()
DAEMON_MD = (SRC / "docs" / "daemon.md").read_text()
CONF = (SRC / "etc" / "tocsind.conf").read_text()
README = (SRC / "README.md").read_text()


def unroff(text):
    """Man page text without the escapes that split words."""
    return text.replace("\\-", "-").replace("\\~", " ").replace("\\&", "")


def test_every_configuration_key_is_documented(tmp_path):
    data = tmp_path / "var"
    tocsin("init", "--data", data)
    p = subprocess.run([TOCSIND, "--check", "--data", str(data)], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    keys = set()
    for line in p.stdout.splitlines():
        m = re.match(r"^(?:# )?([a-z_0-9]+)(?: = | is not set)", line)
        if m:
            keys.add(m.group(1))
    assert len(keys) > 20, p.stdout
    man = unroff(MAN8)
    missing_man = sorted(k for k in keys if not re.search(rf"\b{k}\b", man))
    missing_conf = sorted(k for k in keys if not re.search(rf"^#? ?{k} =", CONF, re.M))
    assert not missing_man, f"keys not in tocsind(8): {missing_man}"
    assert not missing_conf, f"keys not in etc/tocsind.conf: {missing_conf}"


def test_every_metric_is_documented(tmp_path):
    data = tmp_path / "var"
    tocsin("init", "--data", data)
    d = Daemon(data)
    try:
        requests.get(f"http://{d.addr}/healthz", timeout=5)
        text = requests.get(f"http://{d.addr}/metrics", timeout=5).text
    finally:
        assert d.stop() == 0
    names = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    assert "tocsin_log_position" in names, text
    man = unroff(MAN8)
    assert not sorted(n for n in names if n not in man), "metrics not in tocsind(8)"
    assert not sorted(n for n in names if n not in DAEMON_MD), "metrics not in daemon.md"


def test_every_command_has_its_man_section():
    p = subprocess.run([TOCSIN, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    commands = set(re.findall(r"^  ([a-z]+)\s", p.stdout, re.M))
    assert {"init", "import", "export", "match"} <= commands, p.stdout
    sections = unroff(MAN1)
    missing = sorted(c for c in commands if f'.SS "tocsin {c}' not in sections)
    assert not missing, f"commands without a section in tocsin(1): {missing}"


def test_see_also_names_pages_that_exist():
    pages = {p.stem for p in (SRC / "docs" / "man").iterdir()}
    for man in (MAN1, MAN8):
        see = man.split(".SH SEE ALSO", 1)[1]
        for name in re.findall(r"^\.BR ([a-z\\-]+) \(\d\)", see, re.M):
            name = name.replace("\\-", "-")
            if name.startswith("tocsin"):
                assert name in pages, f"SEE ALSO names {name}, which has no page"


def test_readme_names_only_built_programs():
    # programs the README shows as commands to run must be built
    built = {"tocsin", "tocsind", "tocsin-gen", "tocsin-load", "tocsin-agent"}
    for m in re.finditer(r"^(tocsin[a-z-]*) ", README, re.M):
        assert m.group(1) in built, f"README shows {m.group(1)}, which is not built"
    assert "within a second" not in README.split("\n\n", 2)[1], \
        "the README's first paragraph promises blocks within a second"


def test_no_merge_conflict_markers_in_docs():
    """A merge left unresolved shows both sides to the reader."""
    pages = [SRC / "README.md", *sorted((SRC / "docs").rglob("*.md")),
             *sorted((SRC / "docs" / "man").iterdir()), SRC / "etc" / "tocsind.conf"]
    bad = []
    for p in pages:
        for n, line in enumerate(p.read_text().splitlines(), 1):
            if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "=======":
                bad.append(f"{p.relative_to(SRC)}:{n}")
    assert not bad, f"conflict markers: {bad}"
