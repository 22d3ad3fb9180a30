"""Issue 13, point 4 on the data directory: `tocsin fp report|list|show|
review` (two organisations hold, a rejection releases, only later reports
count, the audit log records each change) and `tocsin sightings ID` (by
the sector of the organisation that posted each sighting); usage errors."""
import json

from conftest import bundle, ind_ip, run, sid, write_json

IND = ind_ip("185.220.101.7")
T1 = "2026-12-01T00:00:00.000Z"


def prepare(data, tmp_path):
    run("org", "add", "northbank", "--sector", "finance", "--country", "NO", "--data", data,
        check_rc=0)
    run("org", "add", "southbank", "--sector", "finance", "--country", "SE", "--data", data,
        check_rc=0)
    run("org", "add", "telenord", "--sector", "telecom", "--country", "NO", "--data", data,
        check_rc=0)
    run("import", "--data", data, "--as", "telenord",
        write_json(tmp_path / "i.json", bundle([IND])), check_rc=0)


def fp(data, *args, rc=0):
    return run("fp", *args, "--data", data, check_rc=rc)


def test_two_organisations_hold_and_a_rejection_releases(data, tmp_path):
    prepare(data, tmp_path)
    p = fp(data, "report", IND["id"], "--org", "northbank", "--note", "our gateway")
    assert "state: open (1 organisation;" in p.stdout, p.stdout
    p = fp(data, "report", IND["id"], "--org", "southbank")
    assert "state: held (2 organisations;" in p.stdout, p.stdout
    lst = json.loads(fp(data, "list", "--json").stdout)
    assert lst == [{"indicator": IND["id"], "state": "held", "held": True, "organisations": 2,
                    "last_report": lst[0]["last_report"]}]
    out = fp(data, "show", IND["id"]).stdout
    assert "northbank (finance)" in out and "southbank (finance)" in out
    assert "our gateway" in out
    # held: the CLI's exports leave it out too, decisions and objects
    for fmt in ("plain", "stix", "csv"):
        p = run("export", "--data", data, "--format", fmt, check_rc=0)
        assert "185.220.101.7" not in p.stdout and IND["id"] not in p.stdout, (fmt, p.stdout)
    out = fp(data, "review", IND["id"], "--reject", "--note", "real C2").stdout
    assert "state: rejected (0 organisations;" in out and "real C2" in out, out
    out = fp(data, "show", IND["id"]).stdout
    assert out.count("[before the rejection]") == 2, out
    p = run("export", "--data", data, "--format", "stix", check_rc=0)
    assert IND["id"] in p.stdout
    # the audit log has every change
    log = (data / "audit.log").read_text()
    assert '"fp.report"' in log and '"fp.reject"' in log and IND["id"] in log


def test_confirm_and_refusals(data, tmp_path):
    prepare(data, tmp_path)
    p = fp(data, "review", IND["id"], "--confirm", rc=1)
    assert "no false-positive report" in p.stderr
    fp(data, "report", IND["id"], "--org", "northbank")
    assert "state: confirmed" in fp(data, "review", IND["id"], "--confirm").stdout
    assert "no such organisation" in fp(data, "report", IND["id"], "--org", "nobody",
                                        rc=2).stderr
    assert "not an indicator id" in fp(data, "report", "malware--" + IND["id"][11:], "--org",
                                       "northbank", rc=2).stderr
    assert "--confirm and --reject" in fp(data, "review", IND["id"], rc=2).stderr
    assert "needs --org" in fp(data, "report", IND["id"], rc=2).stderr
    assert "unknown subcommand" in fp(data, "frob", rc=2).stderr
    assert fp(data, "show", sid("indicator", "never"), rc=1).returncode == 1


def test_sightings_by_sector(data, tmp_path):
    prepare(data, tmp_path)
    def sighting(name, count):
        return {"type": "sighting", "spec_version": "2.1", "id": sid("sighting", name),
                "created": T1, "modified": T1, "sighting_of_ref": IND["id"], "count": count,
                "first_seen": T1, "last_seen": T1}
    run("import", "--data", data, "--as", "northbank",
        write_json(tmp_path / "s1.json", bundle([sighting("a", 4)])), check_rc=0)
    run("import", "--data", data, "--as", "southbank",
        write_json(tmp_path / "s2.json", bundle([sighting("b", 1)])), check_rc=0)
    got = json.loads(run("sightings", IND["id"], "--json", "--data", data, check_rc=0).stdout)
    assert got["sightings"] == 2
    fin = got["by_sector"]["finance"]
    assert fin["sightings"] == 2 and fin["count"] == 5
    assert sorted(fin["organisations"]) == ["northbank", "southbank"]
    out = run("sightings", IND["id"], "--data", data, check_rc=0).stdout
    assert out.startswith(f"{IND['id']}: 2 sightings\n") and "finance" in out
    none = json.loads(run("sightings", sid("indicator", "x"), "--json", "--data", data,
                          check_rc=0).stdout)
    assert none["sightings"] == 0 and none["by_sector"] == {}
