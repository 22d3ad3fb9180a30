"""DELETE objects/{id}/ (TAXII 2.1 §5.7): the can_read/can_write table
((F,F) 404, (T,F) 403, (F,T) 403), policy (only the producer's organisation
or an admin deletes, policy.h), match[version], and afterwards the version
is 404 and absent from manifest, objects and versions."""

from hubutil import error_shape, obj_indicator, sid

V1 = "2024-01-01T00:00:00.000Z"
V2 = "2024-06-01T00:00:00.000Z"


def present(hub, alias, oid, who="bank"):
    objs, _ = hub.walk(hub.objects_url(alias), who, {"match[version]": "all", "match[id]": oid})
    man, _ = hub.walk(hub.manifest_url(alias), who, {"match[version]": "all"}, limit=1000)
    return ({o["modified"] for o in objs if o["id"] == oid},
            {m["version"] for m in man if m["id"] == oid})


def test_delete_table(hub):
    # (F,F): bank on le-only (seeded there by the operator)
    seed_le = sid("indicator", "seed-le-1")
    error_shape(hub.delete(hub.object_url("le-only", seed_le), "bank"), 404)
    # (T,F): readonly
    seed_ro = sid("indicator", "seed-ro-1")
    error_shape(hub.delete(hub.object_url("readonly", seed_ro), "bank"), 403)
    error_shape(hub.delete(hub.object_url("readonly", seed_ro), "bank_admin"), 403)
    # (F,T): writeonly
    seed_wo = sid("indicator", "seed-wo-1")
    error_shape(hub.delete(hub.object_url("writeonly", seed_wo), "bank"), 403)
    # (T,T) with a reader role: can_write is false, so (T,F)
    o = obj_indicator("[ipv4-addr:value = '198.18.0.1']", "del-reader")
    hub.post_ok("open", "bank", [o])
    error_shape(hub.delete(hub.object_url("open", o["id"]), "bank_reader"), 403)
    # the seeded objects are still there for the operator's collections
    r = hub.get(hub.object_url("readonly", seed_ro), "bank")
    assert r.status_code == 200


def test_delete_then_404_and_absent(hub):
    o = obj_indicator("[ipv4-addr:value = '198.18.0.2']", "del-own")
    hub.post_ok("open", "bank", [o])
    assert present(hub, "open", o["id"]) == ({V1}, {V1})
    r = hub.delete(hub.object_url("open", o["id"]), "bank")
    assert r.status_code == 200, r.text
    error_shape(hub.get(hub.object_url("open", o["id"]), "bank"), 404)
    error_shape(hub.get(hub.versions_url("open", o["id"]), "bank"), 404)
    assert present(hub, "open", o["id"]) == (set(), set())
    # deleting again: 404
    error_shape(hub.delete(hub.object_url("open", o["id"]), "bank"), 404)
    # nor does anybody else see it
    error_shape(hub.get(hub.object_url("open", o["id"]), "cert"), 404)


def test_delete_one_version(hub):
    o1 = obj_indicator("[ipv4-addr:value = '198.18.0.3']", "del-ver")
    o2 = dict(o1, modified=V2)
    hub.post_ok("open", "bank", [o1])
    hub.post_ok("open", "bank", [o2])
    r = hub.delete(hub.object_url("open", o1["id"]), "bank", {"match[version]": V1})
    assert r.status_code == 200, r.text
    assert present(hub, "open", o1["id"]) == ({V2}, {V2})
    assert hub.get(hub.versions_url("open", o1["id"]), "bank").json()["versions"] == [V2]
    g = hub.get(hub.object_url("open", o1["id"]), "bank", {"match[version]": V1})
    assert g.status_code == 404 or g.json().get("objects", []) == []


def test_delete_other_orgs_object_needs_admin(hub):
    o = obj_indicator("[ipv4-addr:value = '198.18.0.4']", "del-foreign")
    hub.post_ok("open", "bank", [o])
    # telco can read and write 'open' and see the (GREEN) object, but did not produce it
    r = hub.delete(hub.object_url("open", o["id"]), "telco")
    assert r.status_code in (403, 404), r.status_code
    error_shape(r, r.status_code)
    assert hub.get(hub.object_url("open", o["id"]), "telco").status_code == 200
    # nor another bank (same sector, same sharing group)
    r = hub.delete(hub.object_url("open", o["id"]), "bank2")
    assert r.status_code in (403, 404)
    # an admin of another organisation may
    r = hub.delete(hub.object_url("open", o["id"]), "cert_admin")
    assert r.status_code == 200, r.text
    error_shape(hub.get(hub.object_url("open", o["id"]), "bank"), 404)


def test_delete_unseen_red_is_404(hub):
    """A RED version the requester is not a recipient of does not exist for it."""
    o = obj_indicator("[ipv4-addr:value = '198.18.0.5']", "del-red",
                      markings=["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
                      recipients=[hub.identities["northbank"]])
    hub.post_ok("open", "bank", [o])
    error_shape(hub.delete(hub.object_url("open", o["id"]), "cert_admin"), 404)
    assert hub.get(hub.object_url("open", o["id"]), "bank").status_code == 200


def test_delete_unknown_object_404(hub):
    error_shape(hub.delete(hub.object_url("open", sid("indicator", "never-was")), "bank"), 404)


def test_delete_malformed_version_400(hub):
    o = obj_indicator("[ipv4-addr:value = '198.18.0.6']", "del-400")
    hub.post_ok("open", "bank", [o])
    error_shape(hub.delete(hub.object_url("open", o["id"]), "bank", {"match[version]": "bogus"}), 400)
    assert hub.get(hub.object_url("open", o["id"]), "bank").status_code == 200
