"""tocsin validate: the import checks without a data directory."""
from conftest import bundle, ind_domain, ind_ip, indicator, run, write_json, write_jsonl


def test_valid_file(tmp_path):
    f = write_json(tmp_path / "ok.json", bundle([ind_ip("185.220.101.7"),
                                                  ind_domain("evil-c2.net")]))
    p = run("validate", f, cwd=tmp_path, check_rc=0)
    assert p.stdout.strip() == "valid 2, invalid 0"
    assert not (tmp_path / "var").exists(), "validate needs and makes no data directory"


def test_invalid_objects_are_listed(tmp_path):
    bad_time = indicator("[domain-name:value = 'x.evil-c2.net']",
                         valid_until="2020-01-01T00:00:00.000Z")
    bad_value = ind_ip("185.220.101.300")
    no_pattern = ind_domain("y.evil-c2.net")
    del no_pattern["pattern"]
    f = write_jsonl(tmp_path / "f.jsonl", [ind_ip("185.220.101.7"), bad_time, bad_value,
                                           no_pattern])
    p = run("validate", f, cwd=tmp_path)
    assert p.returncode == 1
    assert p.stdout.strip() == "valid 1, invalid 3"
    err = p.stderr.splitlines()
    assert len(err) == 3, err
    assert "f.jsonl:2" in err[0] and "valid_until" in err[0]
    assert "f.jsonl:3" in err[1] and "185.220.101.300" in err[1], \
        "pattern values are normalised too"
    assert "f.jsonl:4" in err[2] and "pattern" in err[2]


def test_payment_card_checked_without_a_hub_key(tmp_path):
    card = indicator("[x-tocsin-payment-card:value = '4111111111111111']")
    bad = indicator("[x-tocsin-payment-card:value = '4111111111111112']")
    f = write_jsonl(tmp_path / "cards.jsonl", [card, bad])
    p = run("validate", f, cwd=tmp_path)
    assert p.stdout.strip() == "valid 1, invalid 1", p.stderr
    assert p.returncode == 1


def test_stdin_and_csv(tmp_path):
    p = run("validate", "-", input="185.220.101.7\nnot a value at all\n", cwd=tmp_path)
    assert p.returncode == 1
    assert p.stdout.strip() == "valid 1, invalid 1"
    assert "stdin:2" in p.stderr


def test_unparsable_document(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text('{"type": "bundle", "objects": [')
    p = run("validate", f, cwd=tmp_path)
    assert p.returncode == 1
    assert "broken.json" in p.stderr


def test_missing_file_is_fatal(tmp_path):
    p = run("validate", tmp_path / "nope.json")
    assert p.returncode == 2
    assert p.stderr.startswith("tocsin: ") and "nope.json" in p.stderr


def test_validate_takes_no_data_option(tmp_path):
    assert run("validate", "--data", tmp_path, "x").returncode == 2
