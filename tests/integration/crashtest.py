"""Crash safety, measured (issue 9, point 10): the logic shared by the
integration test (tests/integration/test_crash.py, a few trials in `make
check`) and the benchmark (bench/crash/bench_crash.py, 100 trials in `make
bench`).

One trial: a fresh data directory (tocsin init, one organisation, one
contributor key, one collection everyone may write), tocsind started on it,
WRITERS client threads POSTing envelopes of ENVELOPE new indicators each,
and tocsind killed with SIGKILL at a random moment while they post. A POST
counts as acknowledged only when the client received a whole 202 status
with status "complete" and the object among its successes. Then tocsind is
started again on the same directory (recovery runs at start) and the trial
checks what a user would:

- every acknowledged object is there (a TAXII GET walk of the collection);
- every object version in the store has an audit entry naming its id;
- `tocsin audit verify` passes (exit 0);
- SQLite's PRAGMA integrity_check says "ok" on tocsin.db and registry.db.

Only the standard library and requests are used (the integration suite's
Python has both)."""
import json
import os
import pathlib
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid

import requests

TAXII = "application/taxii+json;version=2.1"
T0 = "2024-01-01T00:00:00.000Z"


def _env():
    e = dict(os.environ)
    e.pop("TOCSIN_DATA", None)
    return e


def cli(tocsin, *args, check=True):
    p = subprocess.run([tocsin, *map(str, args)], capture_output=True, text=True, env=_env(),
                       timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError(f"tocsin {' '.join(map(str, args))}: exit {p.returncode}\n"
                           f"{p.stdout}{p.stderr}")
    return p


class Daemon:
    """tocsind on a free port; its stderr lines are collected by a thread."""

    def __init__(self, tocsind, data):
        self.proc = subprocess.Popen([tocsind, "--data", str(data), "--listen", "127.0.0.1:0"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=_env())
        self.lines = []
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        self.addr = self._wait_listening()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            self.q.put(line)
        self.q.put(None)

    def _wait_listening(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=5)
                raise RuntimeError(f"tocsind exited {self.proc.returncode} before listening:\n"
                                   + "".join(self.lines))
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("msg") == "listening":
                return rec["addr"]
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("tocsind did not start listening in time:\n" + "".join(self.lines))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)
        self.t.join(timeout=5)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return "timeout"
        self.t.join(timeout=5)
        return self.proc.returncode


def make_hub(tocsin, data):
    """A hub as an operator makes one with plain commands. Returns (key,
    collection id)."""
    cli(tocsin, "init", "--data", data)
    cli(tocsin, "org", "add", "crashbank", "--sector", "finance", "--country", "NO",
        "--data", data)
    key = cli(tocsin, "key", "create", "crashbank", "--role", "contributor", "--name", "writer",
              "--data", data).stdout.strip()
    coll = cli(tocsin, "collection", "add", "crash", "--read", "all", "--write", "all",
               "--data", data).stdout.strip()
    return key, coll


def indicator(n, tag):
    oid = f"indicator--{uuid.uuid4()}"
    a, b = (n >> 8) & 255, n & 255
    return {"type": "indicator", "spec_version": "2.1", "id": oid, "created": T0,
            "modified": T0, "name": f"crash {tag} {n}",
            "pattern": f"[ipv4-addr:value = '10.{(n >> 16) & 255}.{a}.{b}']",
            "pattern_type": "stix", "valid_from": T0}


def _writer(url, key, envelope, stop, acked, errors, tag):
    s = requests.Session()
    h = {"Accept": TAXII, "Content-Type": TAXII, "Authorization": "Bearer " + key}
    n = 0
    while not stop.is_set():
        objs = []
        for _ in range(envelope):
            objs.append(indicator(n, tag))
            n += 1
        try:
            r = s.post(url, data=json.dumps({"objects": objs}), headers=h, timeout=30)
            body = r.json() if r.status_code == 202 else None
        except (requests.RequestException, ValueError):
            continue  # killed mid-request: nothing acknowledged
        if body is None:
            errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
            continue
        if body.get("status") != "complete":
            errors.append(f"status {body.get('status')}")
            continue
        for sd in body.get("successes", []):
            acked.add(sd["id"])


def walk_ids(addr, key, coll):
    """Every object id of the collection, by TAXII GET with next."""
    s = requests.Session()
    h = {"Accept": TAXII, "Authorization": "Bearer " + key}
    url = f"http://{addr}/taxii2/hub/collections/{coll}/objects/"
    ids, nxt = set(), None
    for _ in range(100000):
        params = {"limit": "1000"}
        if nxt:
            params["next"] = nxt
        r = s.get(url, params=params, headers=h, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"GET {url}: {r.status_code} {r.text[:300]}")
        body = r.json()
        ids.update(o["id"] for o in body.get("objects", []))
        if not body.get("more"):
            return ids
        nxt = body["next"]
    raise RuntimeError("the walk did not end")


def stored_ids(data):
    """Ids of every stored object version, read from tocsin.db."""
    con = sqlite3.connect(f"file:{data}/tocsin.db?mode=ro", uri=True, timeout=30)
    try:
        return [r[0] for r in con.execute(
            "SELECT o.stix_id FROM versions v JOIN objects o ON o.ref = v.ref")]
    finally:
        con.close()


def audited_ids(data):
    """Object ids named by the audit log's write entries."""
    ids = set()
    with open(pathlib.Path(data) / "audit.log", encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if e.get("action") in ("write", "import"):
                ids.update(i.split("@", 1)[0] for i in e.get("ids", []))
    return ids


def integrity(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


def trial(tocsin, tocsind, workdir, writers=4, envelope=300, kill_after=(0.3, 1.5), seed=None):
    """One trial; returns a dict of figures and the problems found (an
    empty list when the trial holds)."""
    rnd = random.Random(seed)
    data = pathlib.Path(workdir) / "var"
    key, coll = make_hub(tocsin, data)
    dm = Daemon(tocsind, data)
    url = f"http://{dm.addr}/taxii2/hub/collections/{coll}/objects/"
    stop, acked, errors = threading.Event(), set(), []
    ts = [threading.Thread(target=_writer, args=(url, key, envelope, stop, acked, errors,
                                                  f"w{i}"), daemon=True)
          for i in range(writers)]
    for t in ts:
        t.start()
    time.sleep(rnd.uniform(*kill_after))
    dm.kill()
    stop.set()
    for t in ts:
        t.join(timeout=60)
    acked_ids = set(acked)

    problems = []
    t0 = time.monotonic()
    dm = Daemon(tocsind, data)
    restart_s = time.monotonic() - t0
    try:
        present = walk_ids(dm.addr, key, coll)
    finally:
        rc = dm.stop()
    recovered = sum(1 for l in dm.lines if "audit recovered" in l)
    if rc != 0:
        problems.append(f"tocsind exited {rc} on SIGTERM after the restart")
    lost = acked_ids - present
    if lost:
        problems.append(f"{len(lost)} acknowledged objects missing, e.g. {sorted(lost)[:3]}")
    stored = stored_ids(data)
    audited = audited_ids(data)
    unaudited = [i for i in stored if i not in audited]
    if unaudited:
        problems.append(f"{len(unaudited)} stored object versions without an audit entry, "
                        f"e.g. {unaudited[:3]}")
    v = cli(tocsin, "audit", "verify", "--data", data, check=False)
    if v.returncode != 0:
        problems.append(f"tocsin audit verify: exit {v.returncode}: {v.stdout}{v.stderr}")
    for db in ("tocsin.db", "registry.db"):
        res = integrity(data / db)
        if res != ["ok"]:
            problems.append(f"{db}: integrity_check: {res[:5]}")
    problems += [f"a writer got {e}" for e in errors[:3]]
    return {"acked": len(acked_ids), "stored": len(stored), "lost": len(lost),
            "unaudited": len(unaudited), "restart_s": restart_s,
            "recovered_log_lines": recovered}, problems


def run(tocsin, tocsind, trials, writers=4, envelope=300, kill_after=(0.3, 1.5), seed=None,
        progress=None, keep=False):
    """Runs trials; returns the totals and every problem, each prefixed
    with its trial number."""
    tot = {"trials": 0, "acked": 0, "stored": 0, "lost": 0, "unaudited": 0,
           "restart_s_max": 0.0}
    problems = []
    rnd = random.Random(seed)
    for k in range(trials):
        work = tempfile.mkdtemp(prefix="tocsin-crash-")
        try:
            fig, probs = trial(tocsin, tocsind, work, writers, envelope, kill_after,
                               rnd.random())
        finally:
            if not keep:
                shutil.rmtree(work, ignore_errors=True)
        tot["trials"] += 1
        for f in ("acked", "stored", "lost", "unaudited"):
            tot[f] += fig[f]
        tot["restart_s_max"] = max(tot["restart_s_max"], fig["restart_s"])
        problems += [f"trial {k + 1}: {p}" for p in probs]
        if progress:
            progress(k + 1, fig, probs)
    return tot, problems
