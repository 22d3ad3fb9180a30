"""Issue 9, point 8: the CLI escapes control characters in everything it
echoes from input, and collection titles are checked like organisation
names. No byte below 0x20 other than the line's newline, and no DEL,
reaches stdout or stderr, whatever the input holds."""
import json
import os
import subprocess

import pytest

from conftest import BIN, run

ESC = "\x1b[2J\x1b]0;pwned\x07"


def raw(*args, input=None, env=None):
    """Runs tocsin and returns (rc, stdout bytes, stderr bytes)."""
    e = dict(os.environ)
    e.pop("TOCSIN_DATA", None)
    if env:
        e.update(env)
    p = subprocess.run([BIN, *[a if isinstance(a, bytes) else str(a) for a in args]],
                       input=input, capture_output=True, env=e, timeout=120)
    return p.returncode, p.stdout, p.stderr


def assert_clean(*outs):
    for out in outs:
        for line in out.split(b"\n"):
            bad = [b for b in line if b < 0x20 or b == 0x7f]
            assert not bad, (bad, line)


def test_validate_binary_file(tmp_path):
    import random
    rnd = random.Random(9)
    for i in range(8):
        f = tmp_path / f"blob{i}.bin"
        f.write_bytes(bytes(rnd.getrandbits(8) for _ in range(3000)))
        rc, out, err = raw("validate", f)
        assert rc != 0
        assert_clean(out, err)
    f = tmp_path / "blob.json"
    f.write_bytes(bytes(range(256)) * 4 + ESC.encode() + b"\n\x00\x1b[31m\r\n")
    rc, out, err = raw("validate", f)
    assert rc != 0
    assert_clean(out, err)
    c = tmp_path / "kinds.csv"
    c.write_bytes(b"type,value\n\x1b[31m,1.2.3.4\n")
    rc, out, err = raw("validate", c)
    assert rc == 1
    assert_clean(out, err)
    assert b"'\\x1b[31m'" in err


def test_file_name_with_controls(tmp_path):
    f = tmp_path / "evil\x1b[31m\nname.json"
    f.write_bytes(b"\x1b[31m not json")
    for cmd in ("validate", "import"):
        rc, out, err = raw(cmd, f, "--data", tmp_path / "var") if cmd == "import" \
            else raw(cmd, f)
        assert rc != 0
        assert_clean(out, err)
    rc, out, err = raw("validate", f)
    assert b"\\x1b[31m\\nname.json" in err  # named, escaped, readable


def test_values_and_messages_quoting_input(tmp_path, data):
    objs = [
        {"type": "indicator" + ESC, "spec_version": "2.1", "id": "x\x1b"},
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "pattern": "[ipv4-addr:value = '1.2.3\x1b[31m.4']", "pattern_type": "stix" + ESC,
         "valid_from": "2024-01-01T00:00:00Z", "name": ESC},
    ]
    f = tmp_path / "b.json"
    f.write_text(json.dumps({"type": "bundle", "id": "bundle--" + "0" * 8 + "-0000-4000-8000-"
                             + "0" * 12, "objects": objs}))
    for args in (("validate", f), ("import", f, "--data", data)):
        rc, out, err = raw(*args)
        assert rc == 1, (out, err)
        assert_clean(out, err)
    j = tmp_path / "b.jsonl"
    j.write_text("\n".join(json.dumps(o) for o in objs) + "\n")
    rc, out, err = raw("validate", j)
    assert_clean(out, err)
    c = tmp_path / "v.csv"
    c.write_bytes(b"type,value\nipv4-addr,1.2.3.4\x1b[31m\ndomain-name,\x1b]0;x\x07a.com\n")
    rc, out, err = raw("import", c, "--data", data)
    assert_clean(out, err)


def test_match_values(data):
    rc, out, err = raw("match", "1.2.3.4\x1b[31m", "evil\x07.com", "--data", data)
    assert_clean(out, err)
    assert b"\\x1b" in out + err
    rc, out, err = raw("match", "--data", data, input=b"8.8.8.8\x1b[2J\nx\x00y\n\xff\xfe\n")
    assert_clean(out, err)


def test_admin_names_echoed(data):
    for args in (("org", "add", "Evil" + ESC, "-s", "other", "-c", "DE"),
                 ("org", "groups", "No\x1bbody", "x"),
                 ("org", "rename", "No\x1bbody", "x"),
                 ("org", "delete", "No\x1bbody"),
                 ("key", "create", "No\x1bbody", "--role", "reader"),
                 ("key", "revoke", "k\x1b[31m"),
                 ("collection", "rights", "no\x1b", "--read", "all", "--write", "all"),
                 ("collection", "add", "x", "--read", "org:" + ESC, "--write", "none"),
                 ("collection", "delete", "no\nsuch"),
                 ("show", "indicator--\x1b[31m"),
                 ("export", "--format", "plain", "--collection", "a\x1b"),
                 ("bogus\x1b[31m",)):
        rc, out, err = raw(*args, "--data", data)
        assert rc in (1, 2), (args, err)
        assert_clean(out, err)
        # these messages say where the control character is instead of quoting it
        if args[:2] not in (("org", "add"), ("collection", "add")):
            assert b"\\x1b" in err or b"\\n" in err, (args, err)


def test_collection_title_refused(data):
    """A title with a newline and an ESC sequence is refused, not stored."""
    for title in ("line\nbreak", "red\x1b[31m", "bell\x07", "c1\u009b31m"):
        rc, out, err = raw("collection", "add", "t", "--read", "all", "--write", "none",
                           "--title", title, "--data", data)
        assert rc == 2 and out == b""
        assert b"title" in err and b"control" in err
        assert_clean(out, err)
    rc, out, err = raw("collection", "add", "t", "--read", "all", "--write", "none",
                       "--description", "a\x1bb", "--data", data)
    assert rc == 2 and b"description" in err
    rc, out, err = raw("collection", "add", "t", "--read", "all", "--write", "none",
                       "--title", b"bad\xffutf8", "--data", data)
    assert rc == 2 and b"title" in err
    # nothing was stored; printable UTF-8 is kept as it is
    run("collection", "add", "t", "--read", "all", "--write", "none", "--title",
        "Zürich – 東京", "--data", data, check_rc=0)
    rc, out, err = raw("collection", "list", "--data", data)
    assert "Zürich – 東京".encode() in out
    assert [l for l in out.splitlines() if l.split()[1:2] == [b"t"]]
    rc, out, err = raw("collection", "rename", "t", "--title", "x\ny", "--data", data)
    assert rc == 2 and b"title" in err


def test_stored_raw_names_are_escaped_on_output(data):
    """A name that reached the registry raw (an older tocsin, a hand edit)
    is still printed escaped by every list."""
    import sqlite3
    run("org", "add", "Plain", "-s", "other", "-c", "DE", "--data", data, check_rc=0)
    db = sqlite3.connect(data / "registry.db")
    db.execute("UPDATE orgs SET name = ? WHERE name = 'Plain'", ("Pl\x1b[31main\nx",))
    db.commit()
    db.close()
    rc, out, err = raw("org", "list", "--data", data)
    assert rc == 0
    assert_clean(out, err)
    assert b"Pl\\x1b[31main\\nx" in out
    rc, out, err = raw("org", "list", "--json", "--data", data)
    assert_clean(out, err)
    assert json.loads(out)[0]["name"] == "Pl\x1b[31main\nx"
