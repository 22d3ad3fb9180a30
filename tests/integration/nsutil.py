"""Network namespaces for the tests of enforcement points (tocsin-agent,
CrowdSec's bouncer) and the agent's benchmark: whether they can run here,
namespaces and veth pairs made and removed, and a look at one element of
an nftables set straight through netlink.

`nft get element` and `nft list set` read the whole set first (libnftables'
cache): with a million elements that takes most of a minute, so a test or
benchmark that asks "is X in the set yet?" many times asks the kernel
itself with NFT_MSG_GETSETELEM for that one key (`has_element`, or
`ELEMENT_WAITER` run inside the namespace)."""
import os
import shutil
import subprocess


def sh(*args, check=True, timeout=30):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p


def why_not(*tools):
    """None when network namespaces can be made here and tools are
    installed; else the reason to skip."""
    if os.geteuid() != 0:
        return "needs root: network namespaces and nftables"
    for tool in ("ip",) + tools:
        if not shutil.which(tool):
            return f"{tool} is not installed (scripts/deps.sh installs it)"
    probe = f"tcsprobe{os.getpid()}"
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if p.returncode != 0:
        return f"cannot create a network namespace here: {p.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def add_ns(name):
    """A namespace with its loopback up."""
    sh("ip", "netns", "add", name)
    sh("ip", "-n", name, "link", "set", "lo", "up")


def veth(a_if, a_ns, a_addrs, b_if, b_ns, b_addrs):
    """A veth pair a_if (in namespace a_ns, None: the host's) <-> b_if (in
    b_ns), each end given its addresses ("ADDR/LEN") and brought up."""
    create = ["ip"] + (["-n", a_ns] if a_ns else []) + ["link", "add", a_if, "type", "veth",
                                                       "peer", "name", b_if, "netns", b_ns]
    sh(*create)
    for ns, ifname, addrs in ((a_ns, a_if, a_addrs), (b_ns, b_if, b_addrs)):
        pre = ["ip"] + (["-n", ns] if ns else [])
        for a in addrs:
            sh(*pre, "addr", "add", a, "dev", ifname)
        sh(*pre, "link", "set", ifname, "up")


def remove(namespaces=(), links=()):
    """Deletes namespaces and host links, whatever is left of them."""
    for ns in namespaces:
        sh("ip", "netns", "del", ns, check=False)
    for link in links:
        sh("ip", "link", "del", link, check=False)


# One element of a set, asked of the kernel by netlink (NFT_MSG_GETSETELEM
# without NLM_F_DUMP: a lookup of that key, not a listing). Run inside the
# namespace: argv TABLE SET ADDRESS [TIMEOUT_S]; with a timeout it polls
# every 0.5 ms and prints CLOCK_MONOTONIC when the element is there (exit
# 0) or exits 1 at the timeout; without, exit 0 present, 1 absent. ADDRESS
# "-": reads addresses from stdin, one a line, and answers each with the
# time it was there, or "lost" after TIMEOUT_S.
ELEMENT_WAITER = r"""
import socket, struct, sys, time
table, name, addr = sys.argv[1], sys.argv[2], sys.argv[3]
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else None

def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)

NESTED = 0x8000
body = b""

def ask_for(a):
    global body
    key = socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)
    body = (struct.pack("=BBH", 1, 0, 0)            # nfgenmsg: NFPROTO_INET, v0, res_id
            + attr(1, table.encode() + b"\0")     # NFTA_SET_ELEM_LIST_TABLE
            + attr(2, name.encode() + b"\0")      # NFTA_SET_ELEM_LIST_SET
            + attr(3 | NESTED, attr(1 | NESTED, attr(1 | NESTED, attr(1, key)))))

s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)   # NETLINK_NETFILTER
s.bind((0, 0))
seq = 0

def present():
    global seq
    seq += 1
    # (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM, NLM_F_REQUEST | NLM_F_ACK
    s.send(struct.pack("=IHHII", 16 + len(body), (10 << 8) | 13, 1 | 4, seq, 0) + body)
    found = False
    while True:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            ln, typ, _, sq, _ = struct.unpack_from("=IHHII", data, off)
            if typ == 2:                               # NLMSG_ERROR: the end (0) or ENOENT
                if sq == seq:
                    return found
            elif sq == seq and typ == (10 << 8) | 12:  # NFT_MSG_NEWSETELEM: the element
                found = True
            off += (ln + 3) & ~3

def wait(a):
    ask_for(a)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if present():
            return time.monotonic()
        time.sleep(0.0005)
    return None

if timeout is None:
    ask_for(addr)
    sys.exit(0 if present() else 1)
print("ready", flush=True)
if addr != "-":
    t = wait(addr)
    if t is not None:
        print(f"{t:.6f}", flush=True)
    sys.exit(0 if t is not None else 1)
for line in sys.stdin:
    t = wait(line.strip())
    print("lost" if t is None else f"{t:.6f}", flush=True)
"""


def has_element(ns, table, set_name, addr):
    """Whether the set holds addr now (one netlink lookup in namespace ns)."""
    p = sh("ip", "netns", "exec", ns, "python3", "-c", ELEMENT_WAITER, table, set_name, addr,
           check=False)
    return p.returncode == 0


def element_waiter(ns, table, set_name, addr, timeout):
    """A process polling in namespace ns until addr is in the set, returned
    once it polls; its stdout's next line is the CLOCK_MONOTONIC time it saw
    it (the same clock as time.monotonic()), empty if not within timeout.
    addr "-": one address a line on its stdin, one answer a line ("lost")."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", ELEMENT_WAITER, table,
                          set_name, addr, str(timeout)], stdout=subprocess.PIPE,
                         stdin=subprocess.PIPE if addr == "-" else subprocess.DEVNULL,
                         text=True, bufsize=1)
    assert p.stdout.readline().strip() == "ready"
    return p
