"""Helpers for the DNS tests: free ports, raw DNS messages (for what dig
will not send: AXFR over UDP), a tiny authoritative stub for the test
domain the resolvers look up, and starting BIND 9 and Unbound as RPZ
secondaries of tocsind."""
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

QTYPE = {"A": 1, "NS": 2, "SOA": 6, "AXFR": 252, "IXFR": 251}
RCODE = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
         9: "NOTAUTH"}
STUB_ADDR = "192.0.2.55"  # what the stub answers for every name of the test domain


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            continue
        t.close()
        u.close()
        return port
    raise RuntimeError("no free port")


def qname_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(name, qtype, qid=0x1234, rd=False):
    flags = 0x0100 if rd else 0
    return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + qname_wire(name) + \
        struct.pack("!HH", QTYPE[qtype], 1)


def rcode_of(msg):
    return RCODE.get(struct.unpack("!H", msg[2:4])[0] & 0xF, "?")


def udp_ask(port, msg, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(msg, ("127.0.0.1", port))
        data, _ = s.recvfrom(65535)
        return data
    except socket.timeout:
        return None
    finally:
        s.close()


def tcp_ask(port, msg, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(struct.pack("!H", len(msg)) + msg)
        hdr = b""
        while len(hdr) < 2:
            chunk = s.recv(2 - len(hdr))
            if not chunk:
                return None
            hdr += chunk
        n = struct.unpack("!H", hdr)[0]
        body = b""
        while len(body) < n:
            chunk = s.recv(n - len(body))
            if not chunk:
                return None
            body += chunk
        return body
    finally:
        s.close()


class Stub:
    """An authoritative stub on UDP and TCP: every A question gets
    STUB_ADDR (TTL 1), anything else an empty NOERROR. The resolvers
    forward the test domain to it, so a name resolves unless RPZ says
    otherwise."""

    def __init__(self, port):
        self.port = port
        self.stop = False
        self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.u.bind(("127.0.0.1", port))
        self.u.settimeout(0.2)
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    @staticmethod
    def answer(msg):
        if len(msg) < 12:
            return None
        qid, flags, qd = struct.unpack("!HHH", msg[:6])
        if qd != 1:
            return None
        i = 12
        while i < len(msg) and msg[i]:
            i += msg[i] + 1
        qend = i + 5
        if qend > len(msg):
            return None
        question = msg[12:qend]
        qtype = struct.unpack("!H", msg[i + 1:i + 3])[0]
        an = 1 if qtype == 1 else 0
        out = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100), 1, an, 0, 0) + question
        if an:
            out += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, 4) + socket.inet_aton(STUB_ADDR)
        return out

    def _serve(self):
        while not self.stop:
            try:
                msg, peer = self.u.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            a = self.answer(msg)
            if a:
                self.u.sendto(a, peer)

    def close(self):
        self.stop = True
        self.t.join(timeout=2)
        self.u.close()


def dig(port, name, qtype="A", extra=(), timeout=5):
    """Runs dig against 127.0.0.1:port; returns (status, stdout)."""
    p = subprocess.run([prog("dig"), "@127.0.0.1", "-p", str(port), name, qtype, "+tries=1",
                        "+time=2", *extra], capture_output=True, text=True, timeout=timeout + 10)
    status = None
    for line in p.stdout.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
    return status, p.stdout


def wait_for(pred, timeout, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def prog(name):
    """The path of a program, looked for in /usr/sbin too (not in every PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin") or name


def have(*progs):
    return all(os.path.isabs(prog(p)) for p in progs)


def start_named(workdir, port, primary_port, zone, key_name, secret, stub_port, test_domain):
    """BIND 9 as a caching resolver with zone as an RPZ secondary of
    127.0.0.1:primary_port, transfers signed with key_name, tuned to apply
    a change at once (min-update-interval 0)."""
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "named.conf"
    conf.write_text(f"""
options {{
    directory "{workdir}";
    pid-file "{workdir}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-query {{ 127.0.0.1; }};
    allow-recursion {{ 127.0.0.1; }};
    dnssec-validation no;
    empty-zones-enable no;
    notify no;
    max-cache-ttl 1;
    max-ncache-ttl 1;
    response-policy {{ zone "{zone}"; }} min-update-interval 0 qname-wait-recurse no;
}};
controls {{ }};
key "{key_name}" {{ algorithm hmac-sha256; secret "{secret}"; }};
zone "{zone}" {{
    type secondary;
    primaries port {primary_port} {{ 127.0.0.1 key "{key_name}"; }};
    file "{workdir}/rpz.db";
    allow-notify {{ 127.0.0.1; }};
    request-ixfr yes;
}};
zone "{test_domain}" {{
    type forward;
    forward only;
    forwarders {{ 127.0.0.1 port {stub_port}; }};
}};
""")
    log = open(workdir / "named.log", "w")
    p = subprocess.Popen([prog("named"), "-g", "-c", str(conf), "-n", "1"], stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return p


def start_unbound(workdir, port, primary_port, zone, stub_port, test_domain):
    """Unbound as a resolver with zone as an RPZ zone transferred from
    127.0.0.1:primary_port (Debian 12's Unbound 1.17 has no TSIG)."""
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "unbound.conf"
    conf.write_text(f"""
server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    username: ""
    chroot: ""
    directory: "{workdir}"
    pidfile: "{workdir}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 2
    num-threads: 1
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "respip iterator"
    domain-insecure: "{test_domain}"
    local-zone: "{test_domain}." nodefault
    cache-max-ttl: 1
    cache-max-negative-ttl: 1
forward-zone:
    name: "{test_domain}"
    forward-addr: 127.0.0.1@{stub_port}
rpz:
    name: "{zone}"
    primary: 127.0.0.1@{primary_port}
    zonefile: "{workdir}/rpz.db"
    rpz-log: yes
""")
    log = open(workdir / "unbound.log", "w")
    p = subprocess.Popen([prog("unbound"), "-d", "-c", str(conf)], stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return p
