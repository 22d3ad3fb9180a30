"""`tocsin import --as ORG` answers as ORG's POST would: never by objects ORG cannot see (issue 9 point 5)."""
import json

from conftest import bundle, ind_ip, run, summary, write_json

RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def audit(data):
    return [json.loads(l) for l in (data / "audit.log").read_text().splitlines()]


def test_import_as_tells_nothing_of_a_hidden_red_indicator(data, tmp_path):
    for name, sector in (("Bank", "finance"), ("Telco", "telecom")):
        run("org", "add", name, "-s", sector, "-c", "DE", "--data", data, check_rc=0)
    red = dict(ind_ip("185.220.106.77"), object_marking_refs=[RED])
    run("import", "--as", "Bank", "--data", data, write_json(tmp_path / "a.json", bundle([red])),
        check_rc=0)

    def as_telco(objs, name):
        p = run("import", "--as", "Telco", "--data", data,
                write_json(tmp_path / name, bundle(objs)))
        return p.returncode, summary(p.stdout), p.stderr

    never = ind_ip("185.220.106.78")
    fresh = as_telco([never], "n.json")
    # the same id and modified, and a later version: answered as a new object
    same = as_telco([red], "s.json")
    later = as_telco([dict(red, modified="2024-06-01T00:00:00.000Z")], "l.json")
    assert fresh == (0, (1, 0, 0), "")
    assert same == fresh and later == fresh, (same, later)
    # nothing of Telco's was kept: the hub holds Bank's one version
    s = json.loads(run("show", "-j", red["id"], "--data", data, check_rc=0).stdout)
    assert [(v["producer"], v["version"]) for v in s["versions"]] == [("Bank", red["modified"])]
    # the operator's audit says so
    e = [x for x in audit(data) if x["action"] == "import" and x.get("org") == "Telco"]
    assert [x["detail"].split(";")[0] for x in e] == [
        "imported 1, duplicates 0, rejected 0",
        "imported 0, duplicates 0, rejected 0, 1 not kept (a stored version Telco may not see)",
        "imported 0, duplicates 0, rejected 0, 1 not kept (a stored version Telco may not see)"]
    # once Telco may see the object, the producer rule is stated
    run("import", "--as", "Bank", "--data", data,
        write_json(tmp_path / "g.json", bundle([dict(ind_ip("185.220.106.77"),
                                                     modified="2024-03-01T00:00:00.000Z")])),
        check_rc=0)
    code, counts, err = as_telco([dict(red, modified="2024-07-01T00:00:00.000Z")], "m.json")
    assert (code, counts) == (1, (0, 0, 1))
    assert "another organisation produced this object" in err, err
