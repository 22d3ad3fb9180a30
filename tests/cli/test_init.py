"""tocsin init, and what every command says about a missing data directory."""
import os
import stat

from conftest import run


def test_init_creates_private_directory(tmp_path):
    d = tmp_path / "hub"
    p = run("init", "--data", d, check_rc=0)
    assert str(d) in p.stdout
    assert (d / "tocsin.db").exists()
    key = d / "card.key"
    assert key.stat().st_size == 32
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_init_refuses_existing_directory(data):
    key = (data / "card.key").read_bytes()
    p = run("init", "--data", data)
    assert p.returncode == 2
    assert p.stderr.startswith("tocsin: ")
    assert "already" in p.stderr
    assert (data / "card.key").read_bytes() == key, "the card key must survive"


def test_init_default_is_var_in_cwd(tmp_path):
    run("init", cwd=tmp_path, check_rc=0)
    assert (tmp_path / "var" / "tocsin.db").exists()
    run("stats", cwd=tmp_path, check_rc=0)


def test_init_honours_TOCSIN_DATA(tmp_path):
    d = tmp_path / "fromenv"
    run("init", env={"TOCSIN_DATA": str(d)}, cwd=tmp_path, check_rc=0)
    assert (d / "tocsin.db").exists()
    assert not (tmp_path / "var").exists()
    p = run("stats", "--json", env={"TOCSIN_DATA": str(d)}, cwd=tmp_path, check_rc=0)
    assert '"log_position":0' in p.stdout


def test_data_option_beats_TOCSIN_DATA(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run("init", "--data", a, env={"TOCSIN_DATA": str(b)}, check_rc=0)
    assert a.exists() and not b.exists()


def test_uninitialised_directory_is_a_fatal_error(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("evil-c2.net\n")
    for args in (["import", f], ["match", "evil-c2.net"], ["stats"],
                 ["export", "--format", "plain"]):
        p = run(*args, cwd=tmp_path)
        assert p.returncode == 2, (args, p.stderr)
        assert ("tocsin: ./var is not a tocsin data directory (run 'tocsin init')"
                in p.stderr), p.stderr
    assert not (tmp_path / "var").exists(), "no command but init creates the directory"
