"""The authorisation leak test (issue 3 item 5, policy.h): random objects of
every TLP level, posted by random producers into collections with different
rights, some naming random recipients, some with a second version of another
level; then for every principal the visible set is computed here, from the
rules in lib/policy/policy.h, independently of the hub, and every read path
(objects with each version filter, paging via next, object, versions,
manifest, and `tocsin export --for ORG`) must return exactly that set:
nothing more (a leak) and nothing less. Issue 8: markings also come as
granular markings (the most restrictive counts for the whole object), as
statement markings the hub knows (no restriction), and as markings it does
not know (RED); unmarked objects follow the hub's default_tlp, drawn from
the seed; match[version]=first|last select among the visible versions.

The seed is random per run unless TOCSIN_LEAK_SEED is set; every failure
message starts with it. Reproduce with TOCSIN_LEAK_SEED=<seed>."""
import json
import os
import random
import subprocess

import pytest

from conftest import (COLLECTIONS, ORGS, PRINCIPALS, TOCSIN, Daemon, build_data, tocsin)
from hubutil import TLP1, TLP2, TLP_LEVEL, Hub, obj_indicator, sid

SEED = int(os.environ.get("TOCSIN_LEAK_SEED", random.SystemRandom().randrange(1 << 32)))
N_OBJECTS = int(os.environ.get("TOCSIN_LEAK_OBJECTS", "160"))
WRITES = {"contributor", "coordinator", "admin", "peer"}
RANK = {"clear": 1, "green": 2, "amber": 3, "amber+strict": 4, "red": 5}
MARKINGS = ([("tlp2", k) for k in TLP2] + [("tlp1", k) for k in TLP1] + [("none", None)])
# issue 8: a statement marking posted before everything else (known: it
# restricts nothing) and one no one posts (unknown: RED)
STATEMENT = sid("marking-definition", f"statement-{SEED}")
UNKNOWN = sid("marking-definition", f"unknown-{SEED}")
DEFAULT_TLP = random.Random(SEED ^ 0x5eed).choice(list(RANK))


def msg(*a):
    return f"[TOCSIN_LEAK_SEED={SEED}] " + " ".join(map(str, a))


# -- the policy, re-stated from lib/policy/policy.h and registry.h ---------

def spec_admits(spec, org, role):
    sector, _, groups = ORGS[org]
    for term in spec.split(","):
        kind, _, name = term.partition(":")
        if not name:
            kind, name = "bare", kind
        if term == "all":
            return True
        if term == "none":
            continue
        if kind == "org" and name == org:
            return True
        if kind == "sector" and name == sector:
            return True
        if kind == "role" and name == role:
            return True
        if kind == "group" and name in groups:
            return True
        if kind == "bare" and name in (sector, role, org):
            return True
    return False


def rights(principal, alias):
    org, role = PRINCIPALS[principal]
    rd, wr = COLLECTIONS[alias]
    return spec_admits(rd, org, role), spec_admits(wr, org, role) and role in WRITES


def tlp_of(o):
    """stix_markings_tlp() and policy_effective_tlp(): object and granular
    markings, the most restrictive winning; a TLP id is its level, the
    known statement nothing, any other marking RED; unmarked: default_tlp."""
    refs = list(o.get("object_marking_refs", []))
    refs += [g["marking_ref"] for g in o.get("granular_markings", []) if "marking_ref" in g]
    lv = None
    for m in refs:
        l = None if m == STATEMENT else TLP_LEVEL.get(m, "red")
        if l and (lv is None or RANK[l] > RANK[lv]):
            lv = l
    return lv or DEFAULT_TLP


def recipients_of(o):
    ext = o.get("extensions", {}).get("extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05")
    return set(ext.get("recipients", [])) if ext else set()


def tlp_admits(reader_org, producer_org, o, identities, role=None):
    lv = tlp_of(o)
    if role == "peer":
        # another hub reads across a border (issue 12, docs/peers.md): nothing
        # its organisation sent is echoed back, AMBER only by a shared group
        # with the producer (not the hub's own), never AMBER+STRICT or RED
        if producer_org is not None and reader_org == producer_org:
            return False
        if lv in ("clear", "green"):
            return True
        if lv == "amber" and producer_org is not None:
            return bool(set(ORGS[reader_org][2]) & set(ORGS[producer_org][2]))
        return False
    if producer_org is not None and reader_org == producer_org:
        return True  # a producer always sees its own versions, RED included
    if lv in ("clear", "green"):
        return True
    if lv == "amber":
        if producer_org is None:  # the hub: every reader of the collection
            return True
        return reader_org == producer_org or bool(set(ORGS[reader_org][2]) & set(ORGS[producer_org][2]))
    named = identities[reader_org] in recipients_of(o)
    if lv == "amber+strict":
        return reader_org == producer_org or named
    return named  # red


# -- the data -------------------------------------------------------------

def random_object(rng, n, identities, producer_org):
    kind, level = rng.choice(MARKINGS)
    markings = []
    if kind == "tlp2":
        markings.append(TLP2[level])
    elif kind == "tlp1":
        markings.append(TLP1[level])
    if rng.random() < 0.08:  # a second marking: the strictest applies
        markings.append(rng.choice(list(TLP2.values()) + list(TLP1.values())))
    if rng.random() < 0.1:  # a statement: restricts nothing
        markings.append(STATEMENT)
    if rng.random() < 0.04:  # a marking the hub does not know: RED
        markings.append(UNKNOWN)
    granular = None
    if rng.random() < 0.1:  # on one property only: counts for the whole object
        granular = [{"selectors": ["name"],
                     "marking_ref": rng.choice(list(TLP2.values()) + [STATEMENT])}]
    recipients = None
    if rng.random() < 0.6:
        pool = list(identities.values())
        recipients = rng.sample(pool, rng.randint(1, 3))
        if producer_org and rng.random() < 0.4:
            recipients.append(identities[producer_org])
    if rng.random() < 0.8:
        o = obj_indicator(f"[ipv4-addr:value = '10.{n // 250}.{n % 250}.{rng.randint(1, 254)}']",
                          f"leak-{SEED}-{n}", markings=markings, recipients=recipients)
        if granular:
            o["granular_markings"] = granular
    else:
        o = {"type": "malware", "spec_version": "2.1", "id": sid("malware", f"leak-{SEED}-{n}"),
             "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
             "name": f"leak-{n}", "is_family": False}
        if markings:
            o["object_marking_refs"] = markings
        if recipients is not None:
            o["extensions"] = {"extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05":
                               {"extension_type": "property-extension", "recipients": recipients}}
        if granular:
            o["granular_markings"] = granular
    return o


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    rng = random.Random(SEED)
    print(msg("seed"))
    d = tmp_path_factory.mktemp("leak") / "var"
    identities, keys, colls = build_data(d)
    conf = d.parent / "tocsind.conf"
    conf.write_text(f"[policy]\ndefault_tlp = {DEFAULT_TLP}\n")
    print(msg("default_tlp", DEFAULT_TLP))
    daemon = Daemon(d, config=conf)
    hub = Hub(f"http://{daemon.addr}", keys, identities, colls, ORGS, PRINCIPALS, COLLECTIONS,
              data=d, daemon=daemon)
    # versions: alias -> list of (object, producer_org or None)
    versions = {a: [] for a in COLLECTIONS}
    from conftest import SEEDED
    for alias, objs in SEEDED.items():
        versions[alias] += [(o, None) for o in objs]
    writers = {a: [p for p in PRINCIPALS if rights(p, a)[1]] for a in COLLECTIONS}
    # the statement marking, posted first by some writer (in any collection
    # it is known to the whole hub)
    alias = rng.choice([a for a in COLLECTIONS if writers[a]])
    who = rng.choice(writers[alias])
    statement = {"type": "marking-definition", "spec_version": "2.1", "id": STATEMENT,
                 "created": "2020-01-01T00:00:00.000Z", "definition_type": "statement",
                 "definition": {"statement": f"Copyright leak test {SEED}"}}
    hub.post_ok(alias, who, [statement])
    versions[alias].append((statement, PRINCIPALS[who][0]))
    batches = {}
    for n in range(N_OBJECTS):
        alias = rng.choice([a for a in COLLECTIONS if writers[a]])
        who = rng.choice(writers[alias])
        org = PRINCIPALS[who][0]
        o = random_object(rng, n, identities, org)
        batches.setdefault((alias, who), []).append(o)
        versions[alias].append((o, org))
        if rng.random() < 0.25:  # a later version by the same producer, another level
            o2 = json.loads(json.dumps(o))
            o2["modified"] = "2024-05-05T05:05:05.555Z"
            for k in ("object_marking_refs", "extensions", "granular_markings"):
                o2.pop(k, None)
            roll = random_object(rng, n, identities, org)  # another level and recipients
            for k in ("object_marking_refs", "extensions", "granular_markings"):
                if k in roll:
                    o2[k] = roll[k]
            batches.setdefault((alias, who, 2), []).append(o2)
            versions[alias].append((o2, org))
    # first versions before second versions
    for key in sorted(batches, key=lambda k: len(k)):
        alias, who = key[0], key[1]
        hub.post_ok(alias, who, batches[key])
    yield {"hub": hub, "versions": versions, "identities": identities}
    rc = daemon.stop()
    assert rc == 0, msg("tocsind exit status", rc, daemon.log()[-3000:])


def visible(world, principal, alias):
    """(id, version) pairs principal may see in alias."""
    org, role = PRINCIPALS[principal]
    if not rights(principal, alias)[0]:
        return set()
    return {(o["id"], version(o)) for o, prod in world["versions"][alias]
            if tlp_admits(org, prod, o, world["identities"], role)}


def version(o):
    """The version TAXII reports: modified, else created."""
    return o.get("modified", o.get("created"))


def all_versions(world, alias):
    byid = {}
    for o, _ in world["versions"][alias]:
        byid.setdefault(o["id"], set()).add(version(o))
    return byid


def pick(pairs, byid, which, first_select):
    """match[version]=first|last. first_select: choose among all versions,
    then hide (select-then-filter); else among the visible ones."""
    out = set()
    vis_by = {}
    for i, v in pairs:
        vis_by.setdefault(i, set()).add(v)
    for i, vs in vis_by.items():
        pool = byid[i] if first_select else vs
        v = max(pool) if which == "last" else min(pool)
        if v in vs:
            out.add((i, v))
    return out


def pairs(objs):
    return {(o["id"], version(o)) for o in objs}


PRINCIPAL_NAMES = sorted(PRINCIPALS)


@pytest.mark.parametrize("principal", PRINCIPAL_NAMES)
def test_list_paths(world, principal):
    hub = world["hub"]
    for alias in COLLECTIONS:
        want = visible(world, principal, alias)
        can_read = rights(principal, alias)[0]
        u, m = hub.objects_url(alias), hub.manifest_url(alias)
        if not can_read:
            for url in (u, m):
                r = hub.get(url, principal)
                assert r.status_code in (403, 404), msg(principal, alias, url, r.status_code)
            continue
        r = hub.get(u, principal, {"match[version]": "all"})
        assert r.status_code == 200, msg(principal, alias, r.status_code, r.text[:200])
        got = pairs(r.json().get("objects", []))
        assert not got - want, msg("LEAK objects all", principal, alias, sorted(got - want))
        assert not want - got, msg("missing objects all", principal, alias, sorted(want - got))
        r = hub.get(m, principal, {"match[version]": "all"})
        got = {(x["id"], x["version"]) for x in r.json().get("objects", [])}
        assert not got - want, msg("LEAK manifest", principal, alias, sorted(got - want))
        assert not want - got, msg("missing manifest", principal, alias, sorted(want - got))
        byid = all_versions(world, alias)
        for which in ("last", "first"):
            for url, key in ((u, lambda x: (x["id"], version(x))), (m, lambda x: (x["id"], x["version"]))):
                params = {"match[version]": which} if which == "first" else {}
                r = hub.get(url, principal, params)
                got = {key(x) for x in r.json().get("objects", [])}
                assert not got - want, msg("LEAK", which, principal, alias, url, sorted(got - want))
                # issue 8: among the versions the principal may see (a hidden
                # newest version leaves the newest visible one, not nothing)
                exp = pick(want, byid, which, False)
                assert got == exp, msg(which, principal, alias, url, "got", sorted(got),
                                       "want (filter-then-select)", sorted(exp),
                                       "leak", sorted(got - exp), "missing", sorted(exp - got))
        # exact versions and types select among the visible versions only
        for ver in ("2024-01-01T00:00:00.000Z", "2024-05-05T05:05:05.555Z", "2024-05-05T05:05:05.555000Z"):
            r = hub.get(u, principal, {"match[version]": ver})
            got = pairs(r.json().get("objects", []))
            exp = {(i, v) for i, v in want if v[:23] == ver[:23]}
            assert got == exp, msg("match[version]", ver, principal, alias, "leak", sorted(got - exp),
                                   "missing", sorted(exp - got))
        r = hub.get(m, principal, {"match[type]": "malware", "match[version]": "all"})
        got = {(x["id"], x["version"]) for x in r.json().get("objects", [])}
        exp = {(i, v) for i, v in want if i.startswith("malware--")}
        assert got == exp, msg("match[type]", principal, alias, sorted(got ^ exp))
        # paging via next, small pages
        items, pages = hub.walk(u, principal, {"match[version]": "all"}, limit=3)
        got = pairs(items)
        assert len(items) == len(got), msg("a version twice across pages", principal, alias)
        assert got == want, msg("paged objects", principal, alias, "leak", sorted(got - want),
                                "missing", sorted(want - got))
        items, _ = hub.walk(m, principal, {"match[version]": "all"}, limit=4)
        got = {(x["id"], x["version"]) for x in items}
        assert got == want, msg("paged manifest", principal, alias, "leak", sorted(got - want))
        # filters do not open anything: match[id] of every object in the collection
        ids = sorted(byid)
        if ids:
            r = hub.get(u, principal, {"match[id]": ",".join(ids[:40]), "match[version]": "all"})
            got = pairs(r.json().get("objects", []))
            assert got <= want, msg("LEAK match[id]", principal, alias, sorted(got - want))


@pytest.mark.parametrize("principal", PRINCIPAL_NAMES)
def test_object_and_versions_paths(world, principal):
    hub = world["hub"]
    for alias in COLLECTIONS:
        want = visible(world, principal, alias)
        byid = all_versions(world, alias)
        for oid, vers in byid.items():
            vis = sorted(v for i, v in want if i == oid)
            r = hub.get(hub.object_url(alias, oid), principal, {"match[version]": "all"})
            rv = hub.get(hub.versions_url(alias, oid), principal)
            if not vis:
                assert r.status_code in (403, 404), msg("LEAK object", principal, alias, oid,
                                                        r.status_code, r.text[:300])
                assert rv.status_code in (403, 404), msg("LEAK versions", principal, alias, oid,
                                                         rv.status_code, rv.text[:300])
                continue
            assert r.status_code == 200, msg("object", principal, alias, oid, r.status_code)
            got = sorted(version(o) for o in r.json()["objects"])
            assert got == vis, msg("object versions", principal, alias, oid, got, vis)
            assert all(o["id"] == oid for o in r.json()["objects"])
            assert rv.status_code == 200, msg("versions", principal, alias, oid, rv.status_code)
            assert sorted(rv.json()["versions"]) == vis, msg("versions", principal, alias, oid,
                                                             rv.json(), vis)
            # default (last) on the object endpoint: never a hidden version
            r = hub.get(hub.object_url(alias, oid), principal)
            got = {version(o) for o in r.json().get("objects", [])} if r.status_code == 200 else set()
            assert got <= set(vis), msg("LEAK object last", principal, alias, oid, got, vis)
            # issue 8: and the newest one it may see, not nothing
            assert got == {max(vis)}, msg("object last", principal, alias, oid, got, vis)


def test_every_tlp_level_was_exercised(world):
    seen = {tlp_of(o) for vs in world["versions"].values() for o, _ in vs}
    marks = {m for vs in world["versions"].values() for o, _ in vs
             for m in o.get("object_marking_refs", [])}
    assert seen == set(RANK), msg(seen)
    if N_OBJECTS >= 100:
        assert set(TLP1.values()) <= marks, msg("TLP 1.0 markings not all drawn")


def test_cli_export_for_org(world):
    hub = world["hub"]
    h = subprocess.run([TOCSIN, "export", "--help"], capture_output=True, text=True)
    if "--for" not in h.stdout + h.stderr:
        pytest.skip("tocsin export --for ORG is not there yet (helper policy)")
    for org in ORGS:
        # what any principal of org may see in any collection: the upper bound
        allowed = set()
        for p, (o, _) in PRINCIPALS.items():
            if o == org:
                for alias in COLLECTIONS:
                    allowed |= {i for i, _ in visible(world, p, alias)}
        known = {o["id"] for vs in world["versions"].values() for o, _ in vs}
        r = tocsin("export", "--data", hub.data, "--for", org, "--format", "stix", check=False)
        assert r.returncode == 0, msg(org, r.returncode, r.stderr)
        doc = json.loads(r.stdout)
        objs = doc.get("objects", []) if isinstance(doc, dict) else doc
        got = {o["id"] for o in objs if o.get("id") in known}
        assert got <= allowed, msg("LEAK export --for", org, sorted(got - allowed))
