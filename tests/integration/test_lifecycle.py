"""The write path and the daemon's life as clients notice them: concurrent
POSTs (group commit) are all acknowledged and durable, the log position
advances, and objects and status resources survive a restart (status kept
≥ 24 h, TAXII §4.3)."""
import threading

from conftest import Daemon
from hubutil import Hub, obj_indicator


def test_concurrent_posts_all_durable(fresh_hub):
    h = fresh_hub
    pos0 = h.s.get(h.base + "/healthz", timeout=10).json()["log_position"]
    writers = ["bank", "telco", "inet", "cert", "police", "bank2", "cert_coord", "peer"]
    results, errors = {}, []

    def work(who):
        try:
            hub = Hub(h.base, h.keys, h.identities, h.colls, h.orgs, h.principals, h.coll_specs)
            for j in range(5):
                objs = [obj_indicator(f"[ipv4-addr:value = '172.16.{writers.index(who)}.{j * 10 + k}']",
                                      f"conc-{who}-{j}-{k}") for k in range(10)]
                st = hub.post_ok("open", who, objs)
                results.setdefault(who, []).append(st["id"])
        except Exception as e:  # reported below
            errors.append((who, repr(e)))

    ts = [threading.Thread(target=work, args=(w,)) for w in writers]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not errors, errors
    items, _ = h.walk(h.manifest_url("open"), "cert", {"match[version]": "all"}, limit=1000)
    assert len(items) == len(writers) * 5 * 10
    assert len({(i["id"], i["version"]) for i in items}) == len(items)
    pos1 = h.s.get(h.base + "/healthz", timeout=10).json()["log_position"]
    assert pos1 > pos0, (pos0, pos1)
    # every status id answers, each once
    ids = [s for v in results.values() for s in v]
    assert len(set(ids)) == len(ids) == len(writers) * 5


def test_objects_and_status_survive_restart(fresh_hub):
    h = fresh_hub
    objs = [obj_indicator("[domain-name:value = 'restart.example']", "restart-1")]
    st = h.post_ok("open", "bank", objs)
    assert h.daemon.stop() == 0
    d2 = Daemon(h.data)
    try:
        h2 = Hub(f"http://{d2.addr}", h.keys, h.identities, h.colls, h.orgs, h.principals,
                 h.coll_specs)
        r = h2.get(h2.object_url("open", objs[0]["id"]), "telco")
        assert r.status_code == 200, r.text
        r = h2.get(h2.root + f"status/{st['id']}/", "bank")
        assert r.status_code == 200, r.text
        assert r.json()["success_count"] == 1
    finally:
        rc = d2.stop()
        assert rc == 0, d2.log()
