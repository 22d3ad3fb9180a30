"""Helpers for the federation tests and benchmark: hubs as separate tocsind
processes, each with its own data directory, an organisation 'alice' that
publishes, a reader 'rita', and the peer organisations and keys that link
them (docs/peers.md)."""
import json
import os
import pathlib
import time
import uuid

import requests

from conftest import Daemon, tocsin
from hubutil import STIX, TAXII, TLP2, obj_indicator

T0 = "2024-01-01T00:00:00.000Z"
PROV_EXT = "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c06"


def hubs_sign():
    """Whether this build's hubs sign what they commit (issue 12 point 2:
    the hub stores a peer's verified provenance through
    hub_item.peer_provenance). Until they do, a peer's objects carry no
    provenance and the tests run with [peers] require_provenance = false."""
    src = pathlib.Path(os.environ.get("TOCSIN_SOURCE", ".")) / "lib" / "hub" / "hub.h"
    return src.exists() and "peer_provenance" in src.read_text()


class FedHub:
    """One hub: data directory, daemon, keys."""

    def __init__(self, root, name, groups=("eu",), config=None, require_prov=None):
        self.name = name
        self.data = pathlib.Path(root) / name
        if config is None:
            req = hubs_sign() if require_prov is None else require_prov
            config = pathlib.Path(root) / f"{name}.conf"
            config.write_text("[peers]\nrequire_provenance = %s\n" % ("true" if req else "false"))
        self.config = config
        tocsin("init", "--data", self.data)
        tocsin("org", "add", "alice-" + name, "--sector", "finance", "--country", "FR",
               "--groups", ",".join(groups), "--data", self.data)
        tocsin("org", "add", "rita-" + name, "--sector", "cert", "--country", "FR",
               "--groups", ",".join(groups), "--data", self.data)
        self.alice = tocsin("key", "create", "alice-" + name, "--role", "contributor",
                            "--data", self.data).stdout.strip()
        self.rita = tocsin("key", "create", "rita-" + name, "--role", "reader",
                           "--data", self.data).stdout.strip()
        tocsin("collection", "rights", "default", "--read", "all", "--write", "all",
               "--data", self.data)
        self.pub = (self.data / "hub.pub").read_text().strip()
        colls = json.loads(tocsin("collection", "list", "--json", "--data", self.data).stdout)
        self.coll = next(c for c in colls if c["alias"] == "default")["id"]
        self.d = None

    def start(self, listen="127.0.0.1:0"):
        self.d = Daemon(self.data, config=self.config, listen=listen)
        self.base = "http://" + self.d.addr
        return self

    def kill9(self):
        self.d.proc.kill()
        self.d.proc.wait()

    def stop(self):
        if self.d and self.d.proc.poll() is None:
            self.d.stop()

    # ---- peering ----
    def issue_peer_key(self, other, groups=()):
        """An organisation standing for hub `other` here, and a key of role
        peer for it: what `other` reads this hub with."""
        args = ["org", "add", "hub-" + other.name, "--sector", "government", "--country", "DE",
                "--data", self.data]
        if groups:
            args += ["--groups", ",".join(groups)]
        tocsin(*args)
        return tocsin("key", "create", "hub-" + other.name, "--role", "peer", "--data",
                      self.data).stdout.strip()

    def pull_from(self, other, policy=None, groups=()):
        """This hub replicates from `other` (which issues the key)."""
        key = other.issue_peer_key(self) if not other.has_org("hub-" + self.name) \
            else other.peer_key_for(self)
        if not self.has_org("hub-" + other.name):
            args = ["org", "add", "hub-" + other.name, "--sector", "government", "--country",
                    "DE", "--data", self.data]
            if groups:
                args += ["--groups", ",".join(groups)]
            tocsin(*args)
        elif groups:
            tocsin("org", "groups", "hub-" + other.name, ",".join(groups), "--data", self.data)
        args = ["peer", "add", other.name, other.base, "--key", key, "--pin", other.pub,
                "--org", "hub-" + other.name, "--data", self.data]
        if policy:
            args += ["--policy", policy]
        tocsin(*args)

    def has_org(self, name):
        orgs = json.loads(tocsin("org", "list", "--json", "--data", self.data).stdout)
        return any(o["name"] == name for o in orgs)

    def peer_key_for(self, other):
        return tocsin("key", "create", "hub-" + other.name, "--role", "peer", "--data",
                      self.data).stdout.strip()

    # ---- TAXII ----
    def objects_url(self):
        return f"{self.base}/taxii2/hub/collections/{self.coll}/objects/"

    def post(self, objs, key=None):
        r = requests.post(self.objects_url(), data=json.dumps({"objects": objs}),
                          headers={"Authorization": "Bearer " + (key or self.alice),
                                   "Content-Type": TAXII, "Accept": TAXII}, timeout=30)
        assert r.status_code == 202, r.text
        st = r.json()
        assert st["success_count"] == len(objs), st
        return st

    def versions(self, oid, key=None):
        r = requests.get(f"{self.objects_url()}{oid}/versions/",
                         headers={"Authorization": "Bearer " + (key or self.rita),
                                  "Accept": TAXII}, timeout=30)
        if r.status_code == 404:
            return []
        assert r.status_code == 200, r.text
        return r.json().get("versions", [])

    def get(self, oid, key=None):
        r = requests.get(f"{self.objects_url()}{oid}/",
                         params={"match[version]": "all"},
                         headers={"Authorization": "Bearer " + (key or self.rita),
                                  "Accept": TAXII}, timeout=30)
        if r.status_code == 404:
            return []
        assert r.status_code == 200, r.text
        return r.json().get("objects", [])

    def all_ids(self, key=None):
        ids, params = [], {"match[version]": "all", "limit": 1000}
        while True:
            r = requests.get(self.objects_url(), params=params,
                             headers={"Authorization": "Bearer " + (key or self.rita),
                                      "Accept": TAXII}, timeout=60)
            assert r.status_code == 200, r.text
            j = r.json()
            ids += [(o["id"], o.get("modified")) for o in j.get("objects", [])]
            if not j.get("more"):
                return ids
            params["next"] = j["next"]

    def delete(self, oid, key=None):
        r = requests.delete(f"{self.objects_url()}{oid}/",
                            params={"match[version]": "all"},
                            headers={"Authorization": "Bearer " + (key or self.alice),
                                     "Accept": TAXII}, timeout=30)
        assert r.status_code == 200, r.text

    def peer_status(self, name):
        return json.loads(tocsin("peer", "status", name, "--json", "--data",
                                 self.data).stdout)

    def metrics(self):
        return requests.get(self.base + "/metrics", timeout=10).text


def indicator(name, tlp="green", **kw):
    ip = ".".join(str(b) for b in uuid.uuid5(uuid.NAMESPACE_DNS, name).bytes[:4])
    return obj_indicator(f"[ipv4-addr:value = '{ip}']", name,
                         markings=[TLP2[tlp]] if tlp else None, **kw)


def wait_for(pred, timeout=20.0, step=0.02, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")
