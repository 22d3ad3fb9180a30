#!/usr/bin/env python3
"""bench_import.py BUILD_DIR — `tocsin import` of one large STIX bundle, as a
user runs it (issue 8, point 14), run by bench/run.sh.

The bundle is written by tocsin-gen (--format bundle: one JSON document,
~650 bytes an object) into BUILD_DIR/bench-data/ and kept there, named by
a hash of the generator's first bytes, so later runs skip the generation.
Each run imports it into a fresh data directory on the same file system
(`tocsin init`, then `tocsin import DIR bundle.json`, the summary on a
pipe, so no progress bar) and reads the import's own resource use with
wait4(): wall time, user and system CPU (more CPU than wall means the
pipeline used both cores) and peak RSS (ru_maxrss). It prints the figure
in the form bench/run.sh reads, against DESIGN §8's target of 100,000
indicators/s, with the load average, because the machine is shared.

Environment (defaults in brackets): BENCH_IMPORT_COUNT [1000000] indicator
records for tocsin-gen (the bundle also holds ~5 % other objects),
BENCH_IMPORT_REPEAT [1] imports (each into a fresh directory; the best is
the figure), BENCH_IMPORT_TIMEOUT [300] seconds before one import is
stopped, BENCH_IMPORT_KEEP [] keep the data directory.
Exit status: 0 when every import completed (whatever the verdict), 1 when
one failed, 2 on usage errors.
"""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TARGET = 100_000  # indicators/s, DESIGN §8


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def log(*a):
    print(*a, flush=True)


def short(n):
    return "%dM" % (n // 1_000_000) if n % 1_000_000 == 0 else "%dk" % (n // 1000) if n % 1000 == 0 else str(n)


def bundle(gen, root, count):
    """The cached bundle of count indicators (made when missing)."""
    head = subprocess.run([gen, "--seed", "1", "--count", "1000", "--format", "bundle"],
                          capture_output=True, check=True).stdout
    tag = hashlib.sha256(head).hexdigest()[:12]
    path = os.path.join(root, "bundle-%s-g%s.json" % (short(count), tag))
    if os.path.exists(path):
        return path
    log("bench: writing %s (tocsin-gen --count %d --format bundle)" % (path, count))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        subprocess.run([gen, "--seed", "1", "--count", str(count), "--format", "bundle"], stdout=f,
                       check=True)
    os.rename(tmp, path)
    return path


def thread_cpu(pid):
    """{thread name: user+sys seconds} of the threads of pid (empty once it is gone)."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    st = f.read()
            except OSError:
                continue
            name = st[st.index("(") + 1:st.rindex(")")]
            fields = st[st.rindex(")") + 2:].split()
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / hz
    except OSError:
        pass
    return out


def import_once(tocsin, path, work, timeout):
    """Imports path into a fresh data directory; returns (wall s, user s,
    sys s, peak RSS bytes, summary line, {thread: CPU s} read shortly
    before the end)."""
    data = os.path.join(work, "data")
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([tocsin, "init", "--data", data], capture_output=True, check=True)
    with open(os.devnull, "rb") as null, open(os.path.join(work, "out"), "w+") as out, \
            open(os.path.join(work, "err"), "w+") as err:
        t = time.monotonic()
        p = subprocess.Popen([tocsin, "import", "--data", data, path], stdin=null, stdout=out,
                             stderr=err)
        deadline = t + timeout
        status = ru = None
        threads = {}
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            for k, v in thread_cpu(p.pid).items():   # threads may end before the process
                threads[k] = max(threads.get(k, 0.0), v)
            if time.monotonic() > deadline:
                p.send_signal(signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                p.returncode = -9
                raise RuntimeError("tocsin import stopped after %d s" % timeout)
            time.sleep(0.02)
        wall = time.monotonic() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        summary, errors = out.read(), err.read()
    if p.returncode != 0:
        raise RuntimeError("tocsin import: exit %d\n%s%s" % (p.returncode, summary, errors[-2000:]))
    return wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss * 1024, summary.strip(), threads


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: bench/bench_import.py BUILD_DIR", file=sys.stderr)
        return 2
    b = sys.argv[1]
    tocsin, gen = os.path.join(b, "cli", "tocsin"), os.path.join(b, "bench", "tocsin-gen")
    for x in (tocsin, gen):
        if not os.access(x, os.X_OK):
            print("bench: %s is not built" % x, file=sys.stderr)
            return 2
    count = env_int("BENCH_IMPORT_COUNT", 1_000_000)
    repeat = max(env_int("BENCH_IMPORT_REPEAT", 1), 1)
    timeout = env_int("BENCH_IMPORT_TIMEOUT", 300)
    root = os.path.join(b, "bench-data")
    os.makedirs(root, exist_ok=True)
    path = bundle(gen, root, count)
    size = os.path.getsize(path)
    work = tempfile.mkdtemp(prefix="tocsin-bench-import.", dir=root)
    best = None
    try:
        for i in range(repeat):
            load0 = os.getloadavg()
            wall, user, system, rss, summary, threads = import_once(tocsin, path, work, timeout)
            load1 = os.getloadavg()
            m = re.search(r"imported ([0-9]+), duplicates ([0-9]+), rejected ([0-9]+)", summary)
            objects = sum(int(x) for x in m.groups()) if m else 0
            log("bench: run %d: %s; %.2f s wall, %.2f s user + %.2f s system CPU (%.2f cores), "
                "peak RSS %.0f MB, load average %.2f before, %.2f after"
                % (i + 1, summary, wall, user, system, (user + system) / wall, rss / 2**20,
                   load0[0], load1[0]))
            if threads and objects:
                log("bench: CPU per object by thread (reader/parser/prepare = tocsin, "
                    "writer = hub-writer): %s"
                    % ", ".join("%s %.1f µs" % (k, v / objects * 1e6)
                                for k, v in sorted(threads.items(), key=lambda kv: -kv[1])))
            if m and int(m.group(3)):
                raise RuntimeError("the generated bundle had rejections: %s" % summary)
            if best is None or wall < best[0]:
                best = (wall, user, system, rss, objects, load1[0])
    except (RuntimeError, subprocess.CalledProcessError) as e:
        log("bench: %s" % e)
        return 1
    finally:
        if os.environ.get("BENCH_IMPORT_KEEP"):
            log("bench: data kept in %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    wall, user, system, rss, objects, load = best
    rate = count / wall
    log("tocsin import of a STIX bundle, 2 cores: %s indicators/s (%s indicators among %s objects, "
        "%s MB, in %.2f s; %.2f cores busy; peak RSS %.0f MB; load %.2f; target >= %s) %s"
        % (f"{rate:,.0f}", f"{count:,}", f"{objects:,}", f"{size / 1e6:,.0f}", wall,
           (user + system) / wall, rss / 2**20, load, f"{TARGET:,}",
           "PASS" if rate >= TARGET else "BELOW"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
