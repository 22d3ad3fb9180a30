"""--help, help CMD, --version and usage errors of every command."""
import pytest

from conftest import run

OPTIONS = {
    "init": ["--data"],
    "import": ["--data", "--collection", "--format", "--as"],
    "validate": ["--format"],
    "match": ["--data", "--json", "--kind", "--stdin"],
    "show": ["--data", "--json"],
    "export": ["--data", "--format", "--kind", "--collection", "--output"],
    "stats": ["--data", "--json"],
    "org": ["--data", "--sector", "--country", "--groups", "--json"],
    "key": ["--data", "--role", "--name", "--cert"],
    "collection": ["--data", "--read", "--write", "--title", "--description", "--id"],
}


@pytest.mark.parametrize("cmd", sorted(OPTIONS))
def test_help_of_each_command(cmd):
    a = run(cmd, "--help", check_rc=0)
    b = run("help", cmd, check_rc=0)
    assert a.stdout == b.stdout
    assert a.stdout.startswith(f"usage: tocsin {cmd}")
    for opt in OPTIONS[cmd] + ["--help"]:
        assert opt in a.stdout, (cmd, opt)
    assert a.stderr == ""


def test_global_help_lists_every_command():
    p = run("--help", check_rc=0)
    for cmd in OPTIONS:
        assert f"  {cmd} " in p.stdout
    assert run("help", check_rc=0).stdout == p.stdout


def test_version():
    p = run("--version", check_rc=0)
    assert p.stdout.startswith("tocsin ")
    assert p.stdout.split()[1][0].isdigit()


def test_no_command_is_a_usage_error():
    p = run()
    assert p.returncode == 2
    assert "usage: tocsin" in p.stderr


def test_unknown_command():
    p = run("frobnicate")
    assert p.returncode == 2
    assert "tocsin: unknown command 'frobnicate'" in p.stderr
    assert run("help", "frobnicate").returncode == 2


@pytest.mark.parametrize("cmd", sorted(OPTIONS))
def test_unknown_option_prints_the_command_usage(cmd):
    p = run(cmd, "--no-such-option")
    assert p.returncode == 2
    assert p.stderr.startswith("tocsin: unknown option '--no-such-option'\n")
    assert f"usage: tocsin {cmd}" in p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("args", [
    ["import"],                          # no FILE
    ["validate"],                        # no FILE
    ["match"],                           # no VALUE
    ["import", "--format"],              # missing argument
    ["import", "--format", "xml", "f"],  # unknown format
    ["match", "--kind", "colour", "x"],  # unknown kind
    ["export"],                          # no --format
    ["export", "--format", "pdf"],
    ["stats", "extra"],
    ["init", "extra"],
])
def test_usage_errors_exit_2(args, tmp_path):
    p = run(*args, cwd=tmp_path)
    assert p.returncode == 2, p
    assert p.stderr.startswith("tocsin: ")
    assert "usage: tocsin" in p.stderr


def test_short_option_missing_argument(tmp_path):
    p = run("init", "-d", cwd=tmp_path)
    assert p.returncode == 2
    assert "needs an argument" in p.stderr
